"""An entitled partner's included service is never invoiced at list price; a partner not entitled buys it as a Service
(reviewer finding 1, docs/clause-audit.md). In-memory engine, fixed clock, `service.completed` events.

PA-9.3: "Gold and Platinum Partners are entitled to premium onboarding for each new Customer deployment above
USD 50,000.00 in List Price: a named onboarding manager, a kickoff workshop, a 60-day deployment plan and weekly status
reviews until go-live. Premium onboarding is not available to Registered or Silver Partners and may not be sold to them
as an included service; it may be purchased as a Service at list price."
CPA-9.3: "Advanced and Elite Partners receive premium onboarding for new End Customer deployments above EUR 40,000.00
in List Price [...] Authorized Partners may buy onboarding as a Service."
PA-9.4: "Platinum Partners are entitled to managed support"; CPA-9.4: "Elite Partners receive managed support".
SOP-5.3 / COP-5.3: out-of-scope work is "raised as an out_of_scope_service exception"; "Work starts only after the
Partner accepts the change order in writing".

What the invoice shows for an included milestone: a 0.00 line that states the list amount, a 100 % entitlement
credit and the entitlement rule and clause it rests on (PA-10.1 / CPA-10.1: every line identifies its event, service
period and order reference), so an auditor sees the service was delivered and why it was not charged.
"""

from __future__ import annotations

from typing import Any

import pytest

from memory_store import Ledger
from revgov.ports import Changes, Put
from revgov.tenant_files import load_tenant_file
from support import ROOT

PARTNER = {"northwind": "ptr_01JBNWENT1TTED000000000001", "contoso": "ptr_01JBCTENT1TTED000000000001"}


def _ledger(tenant: str, tier: str, at: str = "2026-06-15T12:00:00Z", **extra: Any) -> Ledger:
    ledger = Ledger(at, tenant=tenant)
    policy = load_tenant_file(ROOT / "tenants" / tenant / "tenant.yaml")["policy"]
    every = {c for t in policy["partner_tiers"] for c in t["requirements"]["certifications"]}
    certs = {c: {"cert_id": c, "holder": "E. Titled", "earned_at": "2025-01-01", "expires_at": "2029-12-31"}
             for c in every}  # fmt: skip
    partner = {"partner_id": PARTNER[tenant], "legal_name": "Entitled Co", "partner_type": "reseller",
               "status": "active", "tier": tier, "country": "DE", "activated_at": "2025-01-01T00:00:00Z",
               "certifications": certs, **extra}  # fmt: skip
    ledger.rt.store.commit(tenant, Changes(puts=[Put("PARTNER", PARTNER[tenant], partner)]))
    return ledger


def _complete(ledger: Ledger, service: str, sow: str, *, value: str | None = "50000.01", new: bool | None = True,
              change_order: str | None = None, on: str = "2026-06-15") -> dict[str, Any]:
    data: dict[str, Any] = {"partner_id": PARTNER[ledger.tenant_id], "sow_ref": sow, "service": service,
                            "family": "security", "milestone": "kickoff", "sow_value": "8000.00", "accepted_on": on}
    if value is not None:
        data["deployment_list_value"] = value
    if new is not None:
        data["new_deployment"] = new
    if change_order:
        data["change_order_ref"] = change_order
    answer = ledger.bill("service.completed", data, occurred_at=f"{on}T11:00:00Z")
    assert answer["status"] == "processed", answer
    return answer


def _lines(ledger: Ledger, sow: str, period: str = "2026-06") -> list[dict[str, Any]]:
    try:
        invoice = ledger.invoice(PARTNER[ledger.tenant_id], period)
    except AssertionError:
        return []
    return [ln for ln in invoice["lines"] if ln["order_ref"] == sow]


def _out_of_scope(ledger: Ledger) -> list[dict[str, Any]]:
    return [e for e in ledger.exceptions() if e["category"] == "out_of_scope_service"]


def _assert_included(line: dict[str, Any], rule_id: str, clause: str, list_amount: str) -> None:
    assert line["kind"] == "milestone" and line["amount"] == "0.00", line
    assert line["detail"]["list_amount"] == list_amount
    assert line["detail"]["entitlement_credit"] == list_amount
    assert line["detail"]["included_under"] == {"rule_id": rule_id, "clause": clause}
    assert (rule_id, clause) in zip(line["rule_ids"], line["clauses"], strict=True)
    assert clause in line["description"]


def test_cpa_9_3_an_advanced_partners_premium_onboarding_is_included_not_billed():
    """The reviewer's case: a contoso Advanced partner was billed for premium onboarding. CPA-9.3 "Advanced and Elite
    Partners receive premium onboarding for new End Customer deployments above EUR 40,000.00": the kickoff (20 % of
    EUR 8,000.00 = 1,600.00 at list, CPA-10.5) is a 0.00 line crediting it in full under ENT-ADV-ONBOARD."""
    ledger = _ledger("contoso", "advanced")
    _complete(ledger, "premium_onboarding", "SOW-CT-ONB", value="40000.01")
    (line,) = _lines(ledger, "SOW-CT-ONB")
    _assert_included(line, "ENT-ADV-ONBOARD", "CPA-9.3", "1600.00")
    assert _out_of_scope(ledger) == []
    assert ledger.invoice(PARTNER["contoso"], "2026-06")["totals"]["net"] == "0.00"


@pytest.mark.parametrize(("tenant", "tier", "floor", "rule_id", "clause"),
                         [("northwind", "gold", "50000.00", "ENT-GLD-ONBOARD", "PA-9.3"),
                          ("northwind", "platinum", "50000.00", "ENT-PLT-ONBOARD", "PA-9.3"),
                          ("contoso", "advanced", "40000.00", "ENT-ADV-ONBOARD", "CPA-9.3"),
                          ("contoso", "elite", "40000.00", "ENT-ELT-ONBOARD", "CPA-9.3")])
def test_pa_9_3_the_threshold_is_strictly_above_the_list_price_floor(tenant, tier, floor, rule_id, clause):
    """PA-9.3 "above USD 50,000.00 in List Price" (CPA-9.3 "above EUR 40,000.00"): a cent above it is included, the
    floor itself is not (an out_of_scope_service exception, not billed without a change order, SOP-5.3), and with an
    accepted change order it is bought "as a Service at list price" (30 % of 8,000.00 = 2,400.00 in northwind,
    PA-10.6; 20 % = 1,600.00 in contoso, CPA-10.5)."""
    at_list = "2400.00" if tenant == "northwind" else "1600.00"
    ledger = _ledger(tenant, tier)
    cent_above = f"{floor[:-1]}1"
    _complete(ledger, "premium_onboarding", "SOW-ABOVE", value=cent_above)
    (included,) = _lines(ledger, "SOW-ABOVE")
    _assert_included(included, rule_id, clause, at_list)
    at_floor = _complete(ledger, "premium_onboarding", "SOW-AT", value=floor)
    assert "not billed" in at_floor["reason"] and _lines(ledger, "SOW-AT") == []
    (raised,) = _out_of_scope(ledger)
    assert raised["context"]["service"] == "premium_onboarding"
    _complete(ledger, "premium_onboarding", "SOW-AT-CO", value=floor, change_order="CO-1")
    (bought,) = _lines(ledger, "SOW-AT-CO")
    assert bought["amount"] == at_list and "included_under" not in bought["detail"]


@pytest.mark.parametrize(("tenant", "tier"), [("northwind", "registered"), ("northwind", "silver"),
                                              ("contoso", "authorized")])
def test_pa_9_3_a_partner_not_entitled_buys_premium_onboarding_at_list_price(tenant, tier):
    """PA-9.3 "not available to Registered or Silver Partners and may not be sold to them as an included service; it
    may be purchased as a Service at list price" (CPA-9.3 "Authorized Partners may buy onboarding as a Service"): even
    for a new deployment far above the floor, no included line; an exception without a change order, the list price
    with one."""
    at_list = "2400.00" if tenant == "northwind" else "1600.00"
    ledger = _ledger(tenant, tier)
    unordered = _complete(ledger, "premium_onboarding", "SOW-NO-CO", value="900000.00")
    assert "not billed" in unordered["reason"] and _lines(ledger, "SOW-NO-CO") == []
    assert len(_out_of_scope(ledger)) == 1
    _complete(ledger, "premium_onboarding", "SOW-CO", value="900000.00", change_order="CO-2")
    (bought,) = _lines(ledger, "SOW-CO")
    assert bought["amount"] == at_list and "included_under" not in bought["detail"]


@pytest.mark.parametrize("new", [False, None])
def test_pa_9_3_only_a_new_customer_deployment_is_included(new):
    """PA-9.3 "for each new Customer deployment": onboarding of a deployment the ERP does not report as new
    (`new_deployment` false or not stated) is not included, whatever its value: out of scope, SOP-5.3."""
    ledger = _ledger("northwind", "gold")
    answer = _complete(ledger, "premium_onboarding", "SOW-OLD", value="90000.00", new=new)
    assert "not billed" in answer["reason"] and _lines(ledger, "SOW-OLD") == []
    (raised,) = _out_of_scope(ledger)
    assert "included only for a new Customer deployment (PA-9.3)" in raised["context"]["message"]


def test_pa_9_3_the_tier_held_on_the_acceptance_day_decides():
    """PA-3.4 Gold partners "receive premium onboarding for new Customer deployments"; PA-3.6 "Upgrades take effect
    on the first day of the Billing Month following approval": a Silver partner upgraded to Gold from 1 July is not
    entitled for a milestone accepted on 30 June, and is on 1 July."""
    upgrade = [{"from_tier": "silver", "tier": "gold", "effective_on": "2026-07-01"}]
    ledger = _ledger("northwind", "silver", at="2026-07-01T12:00:00Z", tier_changes=upgrade)
    june = _complete(ledger, "premium_onboarding", "SOW-JUNE", on="2026-06-30")
    assert "not billed" in june["reason"]
    _complete(ledger, "premium_onboarding", "SOW-JULY", on="2026-07-01")
    (july,) = _lines(ledger, "SOW-JULY", "2026-07")
    _assert_included(july, "ENT-GLD-ONBOARD", "PA-9.3", "2400.00")


@pytest.mark.parametrize(("tenant", "tier", "rule_id", "clause", "at_list"),
                         [("northwind", "platinum", "ENT-PLT-MANAGED", "PA-9.4", "2400.00"),
                          ("contoso", "elite", "ENT-ELT-MANAGED", "CPA-9.4", "1600.00")])
def test_pa_9_4_an_entitled_partners_managed_support_is_included(tenant, tier, rule_id, clause, at_list):
    """PA-9.4 "Platinum Partners are entitled to managed support" (CPA-9.4 "Elite Partners receive managed support"):
    included, a 0.00 line; a Gold partner (PA-3.4 lists no managed support) is out of scope without a change order."""
    ledger = _ledger(tenant, tier)
    _complete(ledger, "managed_support", "SOW-MS", value=None, new=None)
    (line,) = _lines(ledger, "SOW-MS")
    _assert_included(line, rule_id, clause, at_list)
    other = _ledger(tenant, "gold" if tenant == "northwind" else "advanced")
    assert "not billed" in _complete(other, "managed_support", "SOW-MS", value=None, new=None)["reason"]


def test_an_included_milestone_still_counts_against_its_statement_of_work():
    """PA-10.6 "Milestone percentages in a statement of work must total 100%": an included kickoff is recorded on
    its statement of work, so the same kickoff sent again is not posted a second time."""
    ledger = _ledger("northwind", "gold")
    _complete(ledger, "premium_onboarding", "SOW-TWICE")
    again = _complete(ledger, "premium_onboarding", "SOW-TWICE")
    assert "already billed" in again["reason"]
    assert len(_lines(ledger, "SOW-TWICE")) == 1


@pytest.mark.parametrize("bad", ["yes", 1, None])
def test_a_new_deployment_that_is_not_a_boolean_is_refused_naming_the_field(bad):
    """Bad input (COMMON: RFC 9457 naming the field): the ERP's `new_deployment` is a boolean; anything else is a
    400 at the webhook naming `/data/new_deployment`, and nothing is billed."""
    from revgov import schemas

    body = {"id": "ERP-BAD-NEW", "type": "service.completed", "occurred_at": "2026-06-15T11:00:00Z",
            "data": {"partner_id": PARTNER["northwind"], "sow_ref": "SOW-BAD", "service": "premium_onboarding",
                     "family": "security", "milestone": "kickoff", "sow_value": "8000.00",
                     "accepted_on": "2026-06-15", "deployment_list_value": "60000.00", "new_deployment": bad}}
    paths = [e.path for e in schemas.problems("events/erp-event.schema.json", body)]
    assert "/data/new_deployment" in paths, paths
    ledger = _ledger("northwind", "gold")
    with pytest.raises(Exception, match="does not match"):
        ledger.bill("service.completed", body["data"], occurred_at="2026-06-15T11:00:00Z")
    assert _lines(ledger, "SOW-BAD") == []


def test_pa_9_3_an_entitled_partner_is_not_charged_even_under_a_change_order():
    """PA-9.3 "entitled to premium onboarding": a change order does not turn the partner's own entitlement into a
    purchase at list price; the milestone is still the included 0.00 line (the change order ref kept on it)."""
    ledger = _ledger("northwind", "gold")
    _complete(ledger, "premium_onboarding", "SOW-CO-ENTITLED", change_order="CO-9")
    (line,) = _lines(ledger, "SOW-CO-ENTITLED")
    _assert_included(line, "ENT-GLD-ONBOARD", "PA-9.3", "2400.00")
    assert line["detail"]["change_order_ref"] == "CO-9"
