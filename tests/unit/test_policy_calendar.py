"""Issue #19: the contracts' change calendar on policy changes, the notice a catalog import gives of a price change, the
platform registry following an activation, and a contract amendment taking effect with the policy change that
implements it. In-memory engine, injected clock: no test depends on today's date.

Clauses the expectations come from:
- SOP-7.3 (tenants/northwind/contracts/billing-sop.md): "Changes to the tenant policy (tiers, discount caps, rebate
  programs, rate tables and routing) take effect only on the first day of a Billing Month and are not made during the
  last 5 business days of a Quarter or before the rebate run for the Quarter is approved."
- COP-7.2 (tenants/contoso/contracts/operations-sop.md): "Policy changes are not made in the last 5 business days of a
  Quarter or before the rebate run is approved, and take effect on the first day of a Billing Month."
- PA-1.3: "'Business day' means Monday to Friday excluding public holidays published in the Partner Portal for the
  Program Year" (northwind's list has 2026-12-25), and "a day runs from 00:00:00 to 23:59:59 UTC".
- PA-6.1: "The Distributor may change the price list with 30 days' notice in the Partner Portal; price increases do
  not apply to quotes issued and accepted before the effective date."
- CPA-6.1: "Contoso gives 30 days' notice of price changes in the Partner Portal."
Neither calendar clause gives an emergency path, and neither notice clause excepts decreases.
"""

from __future__ import annotations

from typing import Any

import pytest

from clause_amendment import amend_figure
from memory_store import memory_runtime
from rebate_runs import second_finance
from revgov.domain.access import Principal, Role
from revgov.domain.errors import RuleViolation
from revgov.services import audit, catalog, policy_drafts, rebates
from revgov.services.tenants import load_tenant


def _staff(tenant: str, role: str, key: str | None = None) -> Principal:
    return Principal(tenant, Role(role), key or f"key_{role.upper():0<26}"[:30])


def _who(tenant: str) -> tuple[Principal, Principal, Principal, Principal]:
    return tuple(_staff(tenant, r) for r in ("channel_ops", "finance", "legal", "admin"))  # type: ignore[return-value]


CLAUSE = {"northwind": "SOP-7.3", "contoso": "COP-7.2"}
MARGIN_FLOOR = {"northwind": ("12", "16"), "contoso": ("10", "14")}
MARGIN_CLAUSE = {"northwind": "PA-6.3", "contoso": "CPA-6.3"}


def _draft(rt: Any, tenant: str, *, amend: bool = True) -> str:
    ops = _who(tenant)[0]
    before, after = MARGIN_FLOOR[tenant]
    draft = policy_drafts.create_draft(rt, ops, {"reason": "margin floor"})
    policy_drafts.patch_policy(rt, ops, draft["draft_id"], {"operations": [
        {"op": "test", "path": "/pricing/margin_floor/percent", "value": before},
        {"op": "replace", "path": "/pricing/margin_floor/percent", "value": after},
        {"op": "replace", "path": "/rebates/margin_floor/percent", "value": after}]})  # both rules cite the clause
    if amend:  # the clause wins: the draft carries it amended (PA-6.3 / CPA-6.3 state the floor)
        amend_figure(rt, tenant, draft["draft_id"], MARGIN_CLAUSE[tenant], before, after)
    return str(draft["draft_id"])


def _refused(call: Any, clause: str) -> RuleViolation:
    with pytest.raises(RuleViolation) as refused:
        call()
    # policy_changes.takes_effect ("take effect only on the first day") or policy_change_calendar ("not made ...")
    assert refused.value.extra["clause"] == clause
    assert refused.value.extra["rule_id"] in ("POLICY-CHANGE-MONTH-START", "POLICY-CHANGE-FREEZE")
    assert clause in refused.value.detail
    return refused.value


# --- take effect only on the first day of a Billing Month -----------------------------------------------------------
@pytest.mark.parametrize("tenant", ["northwind", "contoso"])
def test_a_change_takes_effect_only_on_the_first_day_of_a_billing_month(tenant):
    rt, clock = memory_runtime("2026-11-10T10:00:00.000Z", tenant=tenant)
    ops, finance, legal, _ = _who(tenant)
    draft = _draft(rt, tenant)
    for bad in ("2026-12-02T00:00:00.000Z", "2026-11-30T23:59:59.000Z", "2027-01-15T00:00:00.000Z"):
        refused = _refused(lambda b=bad: policy_drafts.propose(rt, ops, draft, {"effective_at": b}), CLAUSE[tenant])
        assert [e.path for e in refused.errors] == ["/effective_at"]
    # at once is 2026-11-10: not the first day of a Billing Month either
    _refused(lambda: policy_drafts.propose(rt, ops, draft, {}), CLAUSE[tenant])
    assert policy_drafts.get_draft(rt, finance, draft)["status"] == "draft"  # nothing changed
    assert not [r for r in rt.store.iter_audit_records(tenant) if r["action"] == "policy.proposed"]
    assert not [e for e in rt.publisher.published if e["detail_type"] == "policy.proposed"]

    # the first moment of the first day ("a day runs from 00:00:00 to 23:59:59 UTC")
    policy_drafts.propose(rt, ops, draft, {"effective_at": "2026-12-01T00:00:00.000Z"})
    policy_drafts.approve(rt, finance, draft, {})
    assert policy_drafts.approve(rt, legal, draft, {})["status"] == "approved"
    clock.set("2026-12-01T00:05:00.000Z")
    assert policy_drafts.activate_due(rt, tenant) == [draft]
    assert load_tenant(rt, tenant)[0].policy_version == policy_drafts.get_draft(rt, finance, draft)["policy_version"]
    assert audit.verify_chain(rt, tenant)["valid"] is True


def test_at_once_is_allowed_on_the_first_day_of_a_billing_month_only():
    rt, clock = memory_runtime("2026-12-01T08:00:00.000Z")
    ops, finance, legal, _ = _who("northwind")
    draft = _draft(rt, "northwind")
    policy_drafts.propose(rt, ops, draft, {})  # at once, on 2026-12-01
    policy_drafts.approve(rt, finance, draft, {})
    clock.set("2026-12-02T08:00:00.000Z")  # legal approves a day later: at once would now be the 2nd
    _refused(lambda: policy_drafts.approve(rt, legal, draft, {}), "SOP-7.3")
    assert policy_drafts.get_draft(rt, finance, draft)["status"] == "proposed"
    refused = [r for r in rt.store.iter_audit_records("northwind") if r["action"] == "policy.approval_refused"]
    assert refused[-1]["inputs"]["refusal"] == "change_calendar" and refused[-1]["clauses"] == ["SOP-7.3"]


def test_a_change_whose_first_day_passed_unactivated_never_takes_effect_on_a_later_day():
    rt, clock = memory_runtime("2026-11-10T10:00:00.000Z")
    ops, finance, legal, admin = _who("northwind")
    before = load_tenant(rt, "northwind")[0].policy_version
    late = _draft(rt, "northwind")
    policy_drafts.propose(rt, ops, late, {"effective_at": "2026-12-01T00:00:00.000Z"})
    policy_drafts.approve(rt, finance, late, {})
    clock.set("2026-12-02T09:00:00.000Z")  # the last approval comes after the first day
    _refused(lambda: policy_drafts.approve(rt, legal, late, {}), "SOP-7.3")
    assert policy_drafts.get_draft(rt, finance, late)["status"] == "proposed"

    rt, clock = memory_runtime("2026-11-10T10:00:00.000Z")
    missed = _draft(rt, "northwind")
    policy_drafts.propose(rt, ops, missed, {"effective_at": "2026-12-01T00:00:00.000Z"})
    policy_drafts.approve(rt, finance, missed, {})
    policy_drafts.approve(rt, legal, missed, {})
    clock.set("2026-12-02T00:00:00.000Z")  # the schedule did not run on the 1st
    assert policy_drafts.activate_due(rt, "northwind") == []
    _refused(lambda: policy_drafts.activate(rt, admin, missed), "SOP-7.3")
    assert load_tenant(rt, "northwind")[0].policy_version == before
    assert policy_drafts.get_draft(rt, finance, missed)["status"] == "approved"


# --- not made during the last 5 business days of a Quarter ----------------------------------------------------------
@pytest.mark.parametrize("tenant", ["northwind", "contoso"])
def test_no_change_is_made_in_the_last_5_business_days_of_a_quarter(tenant):
    # Q4 2026 ends Thursday 31 December; business days back: 31, 30, 29, 28 and (25 December a holiday in both
    # tenants' calendars, 26-27 a weekend) Thursday 24 December: the freeze starts at 2026-12-24T00:00:00Z.
    rt, clock = memory_runtime("2026-12-23T23:59:59.000Z", tenant=tenant)
    ops, finance, legal, _ = _who(tenant)
    january = {"effective_at": "2027-01-01T00:00:00.000Z"}
    proposed = _draft(rt, tenant)
    policy_drafts.propose(rt, ops, proposed, january)  # the last second before the freeze
    other = _draft(rt, tenant)
    clock.set("2026-12-24T00:00:00.000Z")
    refused = _refused(lambda: policy_drafts.propose(rt, ops, other, january), CLAUSE[tenant])
    assert "2026-12-24" in refused.detail
    _refused(lambda: policy_drafts.approve(rt, finance, proposed, {}), CLAUSE[tenant])  # approving makes it too
    clock.set("2026-12-31T23:59:59.000Z")
    _refused(lambda: policy_drafts.approve(rt, legal, proposed, {}), CLAUSE[tenant])
    assert policy_drafts.get_draft(rt, finance, proposed)["approvals"] == []
    assert policy_drafts.get_draft(rt, finance, other)["status"] == "draft"


# --- nor before the rebate run for the Quarter is approved ----------------------------------------------------------
def test_no_change_is_made_after_a_quarter_ends_until_its_rebate_run_is_approved():
    rt, clock = memory_runtime("2026-09-01T10:00:00.000Z")  # the tenant existed in 2026-Q3
    ops, finance, _, _ = _who("northwind")
    clock.set("2026-10-05T10:00:00.000Z")
    draft = _draft(rt, "northwind")
    november = {"effective_at": "2026-11-01T00:00:00.000Z"}
    refused = _refused(lambda: policy_drafts.propose(rt, ops, draft, november), "SOP-7.3")
    assert "2026-Q3" in refused.detail
    status, prepared = rebates.settle(rt, finance, {"period": "2026-Q3"})  # the rebate run for 2026-Q3, prepared
    assert status == 201 and prepared["status"] == "prepared"
    # a prepared run is not an approved one: SOP-7.2 has it "approved by a second member of the finance queue"
    refused = _refused(lambda: policy_drafts.propose(rt, ops, draft, november), "SOP-7.3")
    assert "2026-Q3" in refused.detail
    rebates.approve_settlement(rt, second_finance("northwind"), prepared["settlement_id"], {})
    assert policy_drafts.propose(rt, ops, draft, november)["status"] == "proposed"


def test_a_tenant_that_started_after_the_quarter_ended_has_no_rebate_run_to_wait_for():
    rt, _ = memory_runtime("2026-10-05T10:00:00.000Z")
    ops = _who("northwind")[0]
    assert policy_drafts.propose(rt, ops, _draft(rt, "northwind"),
                                 {"effective_at": "2026-11-01T00:00:00.000Z"})["status"] == "proposed"


# --- PA-6.1 / CPA-6.1: 30 days' notice of a price change ------------------------------------------------------------
def _row(sku: str, price: str, cost: str, family: str, currency: str, **dates: str) -> dict[str, str]:
    return {"sku": sku, "name": sku, "family": family, "billing": "shipment", "list_price": price,
            "unit_cost": cost, "currency": currency, **dates}


SKU = {"northwind": ("NW-SW-24P", "1250.00", "900.00", "networking", "USD", "PA-6.1")}


def _listed(tenant: str) -> tuple[str, str, str, str, str, str]:
    if tenant in SKU:
        return SKU[tenant]
    rt, _ = memory_runtime("2026-11-10T10:00:00.000Z", tenant=tenant)
    first = load_tenant(rt, tenant)[0].policy["billing"]["price_list"][0]
    return first["sku"], first["list_price"], first["unit_cost"], first["family"], "EUR", "CPA-6.1"


@pytest.mark.parametrize("tenant", ["northwind", "contoso"])
def test_a_price_change_sooner_than_30_days_is_refused_naming_each_row_and_nothing_is_imported(tenant):
    sku, price, cost, family, currency, clause = _listed(tenant)
    rt, _ = memory_runtime("2026-11-10T10:00:00.000Z", tenant=tenant)
    admin = _who(tenant)[3]
    higher, lower = f"{float(price) + 50:.2f}", f"{float(price) - 50:.2f}"
    rows = [
        _row(sku, price, cost, family, currency, effective_to="2026-12-09"),  # 2026-11-10 + 29 days
        _row(sku, higher, cost, family, currency, effective_from="2026-12-09"),
    ]
    with pytest.raises(RuleViolation) as refused:
        catalog.import_catalog(rt, admin, rows, source="increase.csv")
    assert refused.value.extra == {"rule_id": "PRC-PRICE-CHANGE-NOTICE", "clause": clause}
    assert [e.path for e in refused.value.errors] == ["/rows/1/list_price"]
    assert "increase" in refused.value.errors[0].message and "2026-12-10" in refused.value.errors[0].message
    # a decrease needs the same notice ("change the price list" / "price changes"), a past day's price too
    for bad in ([_row(sku, lower, cost, family, currency, effective_from="2026-11-20")],
                [_row(sku, lower, cost, family, currency)]):
        with pytest.raises(RuleViolation) as refused:
            catalog.import_catalog(rt, admin, bad, source="decrease.csv")
        assert [e.path for e in refused.value.errors] == ["/rows/0/list_price"]
        assert "decrease" in refused.value.errors[0].message
    assert catalog.catalog_versions(rt, tenant)["current"] == 0  # nothing imported
    assert not [r for r in rt.store.iter_audit_records(tenant) if r["action"] == "catalog.imported"]

    # exactly 30 days' notice; a new SKU and a Line Cost change need none
    done = catalog.import_catalog(rt, admin, [
        _row(sku, price, f"{float(cost) + 1:.2f}", family, currency, effective_to="2026-12-10"),
        _row(sku, higher, cost, family, currency, effective_from="2026-12-10"),
        _row(f"{sku}-NEW", "10.00", "5.00", family, currency, effective_from="2026-11-11"),
    ], source="ok.csv")
    assert done["seq"] == 1
    policy = load_tenant(rt, tenant)[0].policy
    assert catalog.price_on(rt, tenant, policy, sku, "2026-12-09")["list_price"] == price
    assert catalog.price_on(rt, tenant, policy, sku, "2026-12-10")["list_price"] == higher


# --- the platform registry follows an activation (policy.activated, rule tenant-registry) ---------------------------
def _bus_event(published: dict[str, Any]) -> dict[str, Any]:
    return {"source": published["source"], "detail-type": published["detail_type"], "detail": published["detail"]}


def test_the_tenant_registry_takes_the_policy_version_an_activation_gave_idempotently():
    """SOP-7.3: "Every change creates a new policy version": the platform's registry (GET /v1/tenants) names the version
    in force. The activation's tenant-scoped commit cannot write the registry; `policy.activated` brings it there."""
    from revgov.domain.access import PLATFORM
    from revgov.services import tenant_registry
    from revgov.services.tenant_repository import REGISTRY

    rt, clock = memory_runtime("2026-12-01T08:00:00.000Z")
    ops, finance, legal, _ = _who("northwind")
    first = load_tenant(rt, "northwind")[0].policy_version
    draft = _draft(rt, "northwind")
    policy_drafts.propose(rt, ops, draft, {})
    policy_drafts.approve(rt, finance, draft, {})
    active = policy_drafts.approve(rt, legal, draft, {})
    assert active["status"] == "active"
    registry = rt.store.get(PLATFORM, REGISTRY, "northwind")
    assert registry is not None and registry.data["policy_version"] == first  # the defect: stale until the event

    [activated] = [e for e in rt.publisher.published if e["detail_type"] == "policy.activated"]
    assert tenant_registry.sync_from_event(rt, _bus_event(activated))["status"] == "updated"
    registry = rt.store.get(PLATFORM, REGISTRY, "northwind")
    assert registry is not None and registry.data["policy_version"] == active["policy_version"]
    assert registry.data["policy_version"] == load_tenant(rt, "northwind")[0].policy_version
    assert tenant_registry.sync_from_event(rt, _bus_event(activated))["status"] == "unchanged"  # redelivered

    # a rollback activates the first version again; the first event arriving late never puts an old version back
    back = policy_drafts.create_draft(rt, ops, {"from_version": first})
    amend_figure(rt, "northwind", back["draft_id"], "PA-6.3", "16", "12")  # PA-6.3 says 16% now: back to 12% too
    policy_drafts.propose(rt, ops, back["draft_id"], {})
    policy_drafts.approve(rt, finance, back["draft_id"], {})
    policy_drafts.approve(rt, legal, back["draft_id"], {})
    late = _bus_event(activated)
    assert tenant_registry.sync_from_event(rt, late)["policy_version"] == first
    assert tenant_registry.sync_from_event(rt, late)["status"] == "unchanged"
    clock.advance(hours=1)

    for bad in ({**late, "detail-type": "policy.proposed"}, {**late, "detail": {"tenant_id": 7}},
                {**late, "detail": {"tenant_id": PLATFORM}}, {"source": "revgov.policy"}):
        with pytest.raises(RuleViolation):
            tenant_registry.sync_from_event(rt, bad)
    # an offboarded tenant (no profile, no registry entry) is never put back in the registry
    assert tenant_registry.sync(rt, "no-such-tenant")["status"] == "skipped"
    assert rt.store.get(PLATFORM, REGISTRY, "no-such-tenant") is None


# --- a contract amendment approved together with the policy change that implements it ------------------------------
PA_6_3_AT_16 = {"clause_id": "PA-6.3", "title": "Margin floor",
                "text": "The Net Price of each quote line must preserve a gross margin of at least 16% over Line Cost."}


def _pa(rt: Any) -> dict[str, Any]:
    from revgov.services import contracts

    return contracts.get_contract(rt, _who("northwind")[1], "PA")["contract"]


def test_an_amendment_and_the_policy_change_implementing_it_take_effect_together_in_one_audited_commit():
    rt, _ = memory_runtime("2026-12-01T08:00:00.000Z")  # SOP-7.3: at once on the first day of a Billing Month
    ops, finance, legal, _ = _who("northwind")
    drafting_legal = _staff("northwind", "legal", "key_LEGALDRAFTER00000000000000")
    before = _pa(rt)
    draft = _draft(rt, "northwind", amend=False)  # the amendment is this test's own
    carried = policy_drafts.attach_amendment(rt, drafting_legal, draft, {
        "document": "PA", "reason": "amendment no. 2: 16% margin floor", "clauses": [PA_6_3_AT_16]})
    assert carried["amendment"]["base_revision"] == before["revision"] and carried["amendment"]["clauses"] == ["PA-6.3"]
    assert policy_drafts.diff_draft(rt, finance, draft)["amendment"]["document"] == "PA"
    policy_drafts.propose(rt, ops, draft, {})
    assert _pa(rt)["revision"] == before["revision"]  # proposed: the contract has not moved
    with pytest.raises(Exception, match="segregation of duties"):  # attaching the amendment made it its hand
        policy_drafts.approve(rt, drafting_legal, draft, {})
    policy_drafts.approve(rt, finance, draft, {})
    assert _pa(rt)["revision"] == before["revision"]  # one approval: nothing took effect
    active = policy_drafts.approve(rt, legal, draft, {})
    assert active["status"] == "active"
    after = _pa(rt)
    assert after["revision"] == active["activation"]["amendment"]["revision"] == before["revision"] + 1
    assert "at least 16% over Line Cost" in after["markdown"] and after["sha256"] == carried["amendment"]["sha256"]
    assert load_tenant(rt, "northwind")[0].policy["pricing"]["margin_floor"]["percent"] == "16"
    records = list(rt.store.iter_audit_records("northwind"))
    amended = [r for r in records if r["action"] == "contract.amended"]
    activated = [r for r in records if r["action"] == "policy.activated"]
    assert len(amended) == len(activated) == 1
    assert amended[0]["inputs"]["draft_id"] == draft and amended[0]["inputs"]["policy_version"] == \
        active["policy_version"] and amended[0]["seq"] == activated[0]["seq"] + 1  # the same commit, in order
    changed = [e for e in rt.publisher.published if e["detail_type"] == "contract.changed"]
    assert [e["detail"]["revision"] for e in changed] == [after["revision"]]
    assert audit.verify_chain(rt, "northwind")["valid"] is True


def test_a_linked_amendment_never_takes_effect_alone_and_bad_amendments_change_nothing():
    from revgov.domain.errors import Conflict, NotFound
    from revgov.services import contracts

    rt, _ = memory_runtime("2026-12-01T08:00:00.000Z")
    ops, finance, legal, admin = _who("northwind")
    drafting_legal = _staff("northwind", "legal", "key_LEGALDRAFTER00000000000000")
    before = _pa(rt)
    draft = _draft(rt, "northwind", amend=False)  # the amendment is this test's own
    amend = {"document": "PA", "reason": "amendment no. 2", "clauses": [PA_6_3_AT_16]}
    for bad, error in (({**amend, "document": "ZZ"}, NotFound),
                       ({**amend, "clauses": [{**PA_6_3_AT_16, "clause_id": "SOP-1.1"}]}, RuleViolation),
                       ({**amend, "clauses": [{**PA_6_3_AT_16, "text": "x\n### PA-9.9 Smuggled\ny"}]}, Exception),
                       ({**amend, "expected_revision": 1}, Conflict)):
        with pytest.raises(error):
            policy_drafts.attach_amendment(rt, drafting_legal, draft, bad)
    same = _pa(rt)["markdown"].split("### PA-6.3 Margin floor\n")[1].split("\n")[0]
    with pytest.raises(RuleViolation, match="changes nothing"):
        policy_drafts.attach_amendment(rt, drafting_legal, draft,
                                       {**amend, "clauses": [{**PA_6_3_AT_16, "text": same}]})
    with pytest.raises(NotFound):
        policy_drafts.detach_amendment(rt, drafting_legal, draft)
    assert policy_drafts.get_draft(rt, finance, draft)["revision"] == 2  # nothing changed

    policy_drafts.attach_amendment(rt, drafting_legal, draft, amend)
    policy_drafts.propose(rt, ops, draft, {})
    with pytest.raises(Conflict, match="only a draft is edited"):
        policy_drafts.attach_amendment(rt, drafting_legal, draft, amend)
    policy_drafts.approve(rt, finance, draft, {})
    # the document moves by another route meanwhile: the pair cannot take effect, neither half does
    contracts.amend_contract(rt, admin, "PA", {"reason": "other amendment", "clauses": [
        {"clause_id": "PA-6.1", "title": "Price lists and quote validity", "text": "Quotes are valid for 30 days."}]})
    moved = _pa(rt)
    with pytest.raises(Conflict, match="together or not at all"):
        policy_drafts.approve(rt, legal, draft, {})
    assert load_tenant(rt, "northwind")[0].policy["pricing"]["margin_floor"]["percent"] == "12"
    assert _pa(rt)["revision"] == moved["revision"] == before["revision"] + 1
    assert "at least 16%" not in _pa(rt)["markdown"]
    assert not [r for r in rt.store.iter_audit_records("northwind") if r["action"] == "policy.activated"]

    # a rejected draft's amendment never takes effect either
    other = _draft(rt, "northwind")
    policy_drafts.attach_amendment(rt, drafting_legal, other, amend)
    policy_drafts.propose(rt, ops, other, {})
    policy_drafts.reject(rt, legal, other, {"note": "not this amendment"})
    assert "at least 16%" not in _pa(rt)["markdown"]


# --- shadow mode: a proposed draft evaluated on live quote checks, without effect ----------------------------------
def test_shadow_mode_records_what_a_proposed_draft_would_decide_on_live_checks_and_changes_nothing():
    """PA-6.3: "No quote line may be priced with a Line Margin below 12% without Finance approval": 15% off 1,250.00
    over a 900.00 cost leaves 15.3%, allowed today, and needs finance under the draft's 16% floor."""
    import json

    from revgov.ports import Changes, Put
    from revgov.services import decisions, policy_shadow, pricing
    from support import ROOT

    rt, clock = memory_runtime("2026-11-10T10:00:00.000Z")
    partners = json.loads((ROOT / "tests" / "scenarios" / "billing" / "erp-samples.json").read_text())["partners"]
    rt.store.commit("northwind", Changes(puts=[Put("PARTNER", p["partner_id"], p) for p in partners]))
    ops, finance, _, _ = _who("northwind")
    sales = _staff("northwind", "sales")

    def quote(discount: str) -> dict[str, Any]:
        return pricing.check(rt, sales, {"partner_id": "ptr_01JBNWPARTNER0000000000001",
                                         "customer": {"id": "CUST-1", "name": "Lakeside"},
                                         "lines": [{"line_id": "1", "sku": "NW-SW-24P", "quantity": 2,
                                                    "discount_percent": discount}]})

    def deliver() -> list[dict[str, Any]]:
        events = [_bus_event(e) for e in rt.publisher.published if e["detail_type"] == "quote.checked"]
        return [policy_shadow.shadow_quote(rt, e) for e in events]

    draft = _draft(rt, "northwind")
    with pytest.raises(Exception, match="only a proposed or approved draft"):
        policy_shadow.set_shadow(rt, ops, draft, {"enabled": True})
    policy_drafts.propose(rt, ops, draft, {"effective_at": "2026-12-01T00:00:00.000Z"})
    started = policy_shadow.set_shadow(rt, ops, draft, {"enabled": True})
    assert started["shadowing"] is True and started["evaluated"] == 0
    assert policy_shadow.set_shadow(rt, ops, draft, {"enabled": True})["shadowing"] is True  # idempotent
    allowed, low = quote("15"), quote("4")
    assert allowed["outcome"] == "allow"  # the live decision is the policy in force's
    deliver()
    deliver()  # redelivered: the same records
    report = policy_shadow.report(rt, finance, draft, differences_only=True, limit=50, cursor=None)
    assert (report["evaluated"], report["differing"]) == (2, 1)
    [row] = report["items"]
    assert row["decision_id"] == allowed["decision_id"] and row["differs"] is True
    assert (row["before"]["outcome"], row["after"]["outcome"]) == ("allow", "approval_required")
    assert "finance" in row["after"]["queues"]
    assert report["summary"]["outcome_changes"][0]["examples"] == [allowed["decision_id"]]
    every = policy_shadow.report(rt, finance, draft, differences_only=False, limit=50, cursor=None)["items"]
    assert {r["decision_id"] for r in every} == {allowed["decision_id"], low["decision_id"]}
    stored, _ = decisions.load(rt, finance, allowed["decision_id"])
    assert stored["outcome"] == "allow" and stored["approvals"] == []  # without effect
    audited = [r["action"] for r in rt.store.iter_audit_records("northwind") if r["subject"] == draft]
    assert audited.count("policy.shadow_started") == 1

    policy_shadow.set_shadow(rt, ops, draft, {"enabled": False})
    quote("15")
    deliver()
    assert policy_shadow.report(rt, finance, draft, differences_only=True, limit=50, cursor=None)["evaluated"] == 2
    for bad in ({"source": "revgov.pricing", "detail-type": "quote.checked", "detail": {"tenant_id": "northwind"}},
                {"source": "revgov.billing", "detail-type": "quote.checked", "detail": {}}):
        with pytest.raises(RuleViolation):
            policy_shadow.shadow_quote(rt, bad)
    clock.advance(hours=1)
