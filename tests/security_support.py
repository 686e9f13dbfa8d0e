"""Helpers for the security and fault suites: tenants with a key per role and partner, and real objects in them.

A `Party` is a throwaway tenant made from one of the demo tenants' configurations (northwind's or contoso's policy,
currency and contracts) with its plan's rate limit raised, so the suites can send thousands of requests. Its keys are
real API keys minted through the API; its partners are onboarded through the same use cases as the demo seed; its
objects (decisions, approvals, deals, invoices, exceptions, events, keys, subscriptions, settlements, disputes, audit
records) are made through the API or the ERP webhook, as a user would make them.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import clock_support
from billing_support import ErpSender, ship_to_of, wait_until
from rebate_runs import settle_over_http
from revgov.domain.access import Principal, Role
from revgov.local.demo_partners import demo_application, onboard
from revgov.ports import Changes, Put
from revgov.tenant_files import load_tenant_file
from support import ROOT, Api

STAFF_ROLES = ("admin", "finance", "channel_ops", "legal", "customer_success", "sales", "viewer")
UNTHROTTLED = {"requests_per_minute": 100000, "requests_per_minute_per_key": 100000}
TYPED_ID = re.compile(r"\b([a-z]{2,4})_[0-9A-HJKMNP-TV-Z]{26}\b")
ARTIFACTS = ROOT / "tests" / "artifacts"


def random_id(prefix: str) -> str:
    """A well-formed id of `prefix` (of its first alternative when a route takes several, `dec|aud`) that no object
    has."""
    prefix = prefix.split("|", 1)[0]
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    n = uuid.uuid4().int
    return f"{prefix}_01" + "".join(alphabet[(n >> (5 * i)) & 31] for i in range(24))


@dataclass
class Party:
    """One tenant as its users see it: a key per role, active partners with their own keys, and the ERP."""

    tenant_id: str
    source: str
    policy: dict[str, Any]
    by_role: dict[str, Api]
    key_ids: dict[str, str]
    partners: list[str]  # active partners, each with a key in partner_keys
    partner_keys: dict[str, Api]
    erp: ErpSender
    rt: Any
    objects: dict[str, list[str]] = field(default_factory=dict)  # id prefix -> ids of real objects of this tenant

    @property
    def admin(self) -> Api:
        return self.by_role["admin"]

    def principal(self, role: str) -> Principal:
        return Principal(self.tenant_id, Role(role), self.key_ids[role])

    def keep(self, prefix: str, object_id: str | None) -> None:
        if object_id:
            self.objects.setdefault(prefix, []).append(object_id)


def without_change_calendar(config: dict[str, Any]) -> None:
    """For `make_party(edit=...)`: the stack runs on the machine's clock, so a test that proposes a policy change at
    once cannot meet SOP-7.3 / COP-7.2 ("take effect only on the first day of a Billing Month", "not made during the
    last 5 business days of a Quarter") on every day: its party has neither rule. The calendar itself is tested with
    an injected clock (tests/unit/test_policy_calendar.py) and over HTTP on dates that break it whatever today is."""
    del config["policy"]["policy_change_calendar"]
    del config["policy"]["policy_changes"]["takes_effect"]


def make_party(api: Api, operator: Api, stack: Any, source: str, *, plan: dict[str, int] | None = None,
               edit: Callable[[dict[str, Any]], None] | None = None) -> Party:
    """A fresh tenant with `source`'s configuration (northwind or contoso; `edit` may change it first), its keys and
    two active partners."""
    config = load_tenant_file(Path(ROOT / "tenants" / source / "tenant.yaml"))
    if edit is not None:
        edit(config)
    config["tenant_id"] = f"{source[:4]}-{uuid.uuid4().hex[:10]}"
    config["plan"] = {**config["plan"], **(plan or UNTHROTTLED)}
    created = operator.post("/v1/tenants", config)
    assert created.status_code == 201, created.text[:500]
    body = created.json()
    admin = api.as_key(body["admin_key"]["key"])
    by_role, key_ids = {"admin": admin}, {"admin": body["admin_key"]["key_id"]}
    for role in STAFF_ROLES[1:]:
        minted = admin.post("/v1/keys", {"role": role, "label": f"{role} key"})
        assert minted.status_code == 201, minted.text
        by_role[role], key_ids[role] = api.as_key(minted.json()["key"]), minted.json()["key_id"]
    party = Party(
        config["tenant_id"],
        source,
        config["policy"],
        by_role,
        key_ids,
        [],
        {},
        ErpSender(api.base_url, config["tenant_id"], body["webhook_secret"], ship_to=ship_to_of(config)),
        stack.runtime,
    )
    for prefix, role in (("key", "admin"), ("key", "viewer")):
        party.keep(prefix, key_ids[role])
    tiers = sorted(config["policy"]["partner_tiers"], key=lambda t: t["rank"])
    for n in range(2):
        partner_id = _onboard(party, f"Active Reseller {n}", "reseller", tiers[min(1, len(tiers) - 1)], "active")
        minted = admin.post("/v1/keys", {"role": "partner", "partner_id": partner_id, "label": f"portal {n}"})
        assert minted.status_code == 201, minted.text
        party.partners.append(partner_id)
        party.partner_keys[partner_id] = api.as_key(minted.json()["key"])
        party.keep("ptr", partner_id)
        party.keep("key", minted.json()["key_id"])
    return party


def _onboard(party: Party, name: str, partner_type: str, tier: dict[str, Any], goal: str) -> str:
    application = demo_application(name, partner_type, tier)
    partner = onboard(
        party.rt,
        party.policy,
        application,
        goal,
        sales=party.principal("sales"),
        approver=party.principal("channel_ops"),
    )
    return str(partner["partner_id"])


def offboard(operator: Api, party: Party) -> None:
    rt = party.rt
    rt.flush_outbox(party.tenant_id)  # what a test's injected bus outage left behind
    wait_until(lambda: not rt.store.lookup(party.tenant_id, "EVENT#received", limit=1).items, 30, what="handlers")
    operator.delete(f"/v1/tenants/{party.tenant_id}")


# --- real objects of every kind ------------------------------------------------------------------------------------
def _price_list(policy: dict[str, Any], billing: str) -> list[dict[str, Any]]:
    return [p for p in policy.get("billing", {}).get("price_list", []) if p.get("billing") == billing]


def quote_for(party: Party, partner_id: str, *, discount: str = "35.00") -> dict[str, Any]:
    """A one-line quote for a shipped product of the tenant's price list, discounted enough to need approval."""
    item = _price_list(party.policy, "shipment")[0]
    return {
        "partner_id": partner_id,
        "quote_ref": f"Q-{uuid.uuid4().hex[:8]}",
        "customer": {"id": f"CUST-{uuid.uuid4().hex[:8]}", "name": "Probe Customer"},
        "lines": [
            {
                "line_id": "1",
                "sku": item["sku"],
                "quantity": 3,
                "discount_percent": discount,
            }
        ],
        "promotions": [],
        "terms": {"payment_days": 30},
    }


def shipment(party: Party, partner_id: str) -> dict[str, Any]:
    item = _price_list(party.policy, "shipment")[0]
    today = clock_support.today().isoformat()
    return party.erp.located({  # with the party's ERP's ship-to (PA-10.1), also when sent by another client
        "id": f"ERP-{uuid.uuid4().hex[:16]}",
        "type": "shipment.confirmed",
        "occurred_at": clock_support.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "data": {
            "partner_id": partner_id,
            "order_ref": f"SO-{uuid.uuid4().hex[:8]}",
            "shipped_on": today,
            # delivered the same day: contoso's devices are billed on delivery (CPA-10.2 "devices are billed on
            # delivery"); a device shipment without it waits for its delivery and bills nothing
            "delivered_on": today,
            "lines": [{"sku": item["sku"], "quantity": 2}],
        },
    })


def populate(party: Party, api: Api) -> dict[str, list[str]]:
    """Make one real object of every kind the API names by id, through the API; returns what could not be made."""
    missing: dict[str, list[str]] = {}
    sales, finance, admin = party.by_role["sales"], party.by_role["finance"], party.admin
    own = party.partners[0]

    checked = sales.post("/v1/pricing/check", quote_for(party, own))
    if checked.status_code == 200:
        party.keep("dec", checked.json()["decision_id"])
        for approval in checked.json()["approvals"]:
            party.keep("apr", approval["approval_id"])
    else:
        missing.setdefault("dec", []).append(checked.text[:300])
    drafted = admin.post("/v1/policy/drafts", {"reason": "a policy draft of the tenant's own (issue 19)"})
    if drafted.status_code == 201:
        party.keep("pdr", drafted.json()["draft_id"])
    else:
        missing.setdefault("pdr", []).append(drafted.text[:300])
    # a pending partner's activation approval
    tiers = sorted(party.policy["partner_tiers"], key=lambda t: t["rank"])
    pending = _onboard(party, "Pending Reseller", "reseller", tiers[0], "pending_approval")
    party.keep("ptr", pending)
    for item in admin.get("/v1/approvals", limit=200).json()["items"]:
        party.keep("apr", item["case_id"])

    families = sorted(
        {c["product_family"] for c in party.policy.get("certifications", [])}
        | set(party.policy["deal_registration"]["eligibility"].get("certification_exempt_families", []))
    )
    for family in families:
        deal = sales.post(
            "/v1/deals",
            {
                "partner_id": own,
                "customer": {"id": f"CUST-{uuid.uuid4().hex[:8]}", "name": "Deal Customer", "contact": "Dana Ortiz"},
                "family": family,
                "estimated_value": "50000.00",
                "expected_close": (clock_support.today() + timedelta(days=45)).isoformat(),
            },
        )
        if deal.status_code == 201:
            party.keep("dl", deal.json()["deal_id"])
            party.keep("apr", deal.json()["approval_id"])
            break
    else:
        missing.setdefault("dl", []).append("no family the partner may register")

    # ERP events: a shipment bills the partner's invoice; one for an unknown partner opens an exception
    good, orphan = shipment(party, own), shipment(party, random_id("ptr"))
    sent = party.erp.post({"events": [good, orphan]})
    assert sent.status_code == 202, sent.text
    event_ids = [r["event_id"] for r in sent.json()["results"]]
    for event_id in event_ids:
        party.keep("evt", event_id)
    wait_until(
        lambda: all(admin.get(f"/v1/events/{e}").json().get("status") not in (None, "received") for e in event_ids),
        30,
        what=event_ids,
    )
    wait_until(lambda: bool(finance.get("/v1/invoices", limit=1).json()["items"]), 30, what="an invoice")
    wait_until(lambda: bool(admin.get("/v1/exceptions", limit=1).json()["items"]), 30, what="an exception")
    for invoice in finance.get("/v1/invoices", limit=200).json()["items"]:
        party.keep("inv", invoice["invoice_id"])
    for exception in admin.get("/v1/exceptions", limit=200).json()["items"]:
        party.keep("exc", exception["case_id"])

    subscribed = admin.post(
        "/v1/subscriptions", {"url": "http://127.0.0.1:9/revgov-probe", "event_types": ["tenant.offboarded"]}
    )
    if subscribed.status_code == 201:
        party.keep("sub", subscribed.json()["subscription_id"])
    else:
        missing.setdefault("sub", []).append(subscribed.text[:300])

    # PA-14.2: the partner's review of its own entitlement check; a legal hold legal placed on it (docs/retention.md)
    reviewed = party.partner_keys[own].post("/v1/review-requests", {
        "kind": "entitlement_check", "entitlement": "premium_onboarding", "reason": "a review of the partner's own"})
    if reviewed.status_code == 201:
        party.keep("rvw", reviewed.json()["review_id"])
    else:
        missing.setdefault("rvw", []).append(reviewed.text[:300])
    held = party.by_role["legal"].post("/v1/retention/legal-holds", {
        "partner_id": own, "matter": "dispute", "reason": "a hold of the tenant's own"})
    if held.status_code == 201:
        party.keep("lgh", held.json()["hold_id"])
    else:
        missing.setdefault("lgh", []).append(held.text[:300])

    _partner_exception(party, own, missing)
    _partner_audit(party, own, missing)
    _security_incident(party, own, missing)
    _mdf_activity(party, own, missing)
    _sandbox(party, own, missing)

    period = _last_quarter()
    _sell_in(party, own, period)
    # SOP-7.2 / COP-7.2: prepared by finance, "approved by a second member of the finance queue", then issued
    second = admin.post("/v1/keys", {"role": "finance", "label": "finance (second member)"})
    assert second.status_code == 201, second.text
    party.keep("key", second.json()["key_id"])
    settled = settle_over_http(finance, api.as_key(second.json()["key"]), {"period": period})
    if settled.status_code in (200, 201):
        settlement = settled.json()
        party.keep("set", settlement.get("settlement_id"))
        _dispute(party, own, settlement["settlement_id"], missing)
    else:
        missing.setdefault("set", []).append(settled.text[:300])
    _invoice_dispute(party, own, missing)
    _late_payment_charge(party, own)

    for record in admin.get("/v1/audit", limit=200).json()["items"]:
        party.keep("aud", record.get("record_id"))
    for kind in ("inv", "exc", "apr", "dec", "dl", "evt", "sub", "set", "dsp", "ivd", "aud", "lpc", "pau", "arp", "sin",
                 "rvw", "mdfa", "sbx"):
        if not party.objects.get(kind):
            missing.setdefault(kind, []).append("none made")
    return missing


def _sell_in(party: Party, partner_id: str, period: str) -> None:
    """A shipment dated inside `period`, sent through the signed ERP webhook, billed and accrued as a rebate."""
    year, quarter = int(period[:4]), int(period[-1])
    shipped = date(year, 3 * quarter - 1, 15)  # the middle month of the quarter
    # PA-2.2: no incentive accrues before activation, so the partner selling then was activated before it
    stored = party.rt.store.get(party.tenant_id, "PARTNER", partner_id)
    assert stored is not None, partner_id
    activated = {**stored.data, "activated_at": f"{year - 1}-12-01T09:00:00Z"}
    party.rt.store.commit(party.tenant_id, Changes(puts=[Put("PARTNER", partner_id, activated)]))
    event = shipment(party, partner_id)
    event["occurred_at"] = f"{shipped.isoformat()}T10:00:00Z"
    event["data"]["shipped_on"] = shipped.isoformat()
    # delivered the day it shipped: a SPIFF counted from delivery (CPA-7.5) pays only delivered units
    event["data"]["delivered_on"] = shipped.isoformat()
    sent = party.erp.post({"events": [event]})
    assert sent.status_code == 202, sent.text
    event_id = sent.json()["results"][0]["event_id"]
    party.keep("evt", event_id)
    finance = party.by_role["finance"]

    def accrued() -> bool:
        return bool(finance.get("/v1/rebates/accruals", partner_id=partner_id, period=period).json().get("items"))

    wait_until(lambda: party.admin.get(f"/v1/events/{event_id}").json().get("status") == "processed", 30, what=event_id)
    wait_until(accrued, 30, what=f"an accrual of {partner_id} for {period}")
    for invoice in finance.get("/v1/invoices", limit=200).json()["items"]:  # the period's invoice is new
        if invoice["invoice_id"] not in party.objects.get("inv", []):
            party.keep("inv", invoice["invoice_id"])


def _invoice_dispute(party: Party, partner_id: str, missing: dict[str, list[str]]) -> None:
    """The partner's invoice of an ended month, issued (by the settlement run before, PA-1.2, or by finance here),
    and the partner disputes its first line (SOP-6.1)."""
    finance, partner = party.by_role["finance"], party.partner_keys[partner_id]
    this_month = clock_support.today().isoformat()[:7]
    ended = [
        i
        for status in ("finalized", "draft")
        for i in partner.get("/v1/invoices", status=status, limit=200).json().get("items", [])
        if i["period"] < this_month
    ]
    if not ended:
        missing.setdefault("ivd", []).append(f"no invoice of an ended month for {partner_id}")
        return
    invoice_id = ended[0]["invoice_id"]
    issued = finance.get(f"/v1/invoices/{invoice_id}")
    if issued.status_code == 200 and issued.json()["status"] == "draft":
        issued = finance.post(f"/v1/invoices/{invoice_id}/finalize")
    filed = partner.post(f"/v1/invoices/{invoice_id}/disputes", {"line_no": 1, "amount": "1.00", "reason": "probe"})
    if issued.status_code == 200 and filed.status_code == 201:
        party.keep("ivd", filed.json()["dispute_id"])
        party.keep("apr", filed.json()["approval_id"])
    else:
        missing.setdefault("ivd", []).append(f"{issued.text[:200]} {filed.text[:200]}")


def _late_payment_charge(party: Party, partner_id: str) -> None:
    """A late-payment charge of the partner (PA-10.8 / CPA-10.7), stored as the charge service keeps one (the contract's
    example with this tenant's ids), so the isolation suites read one by id; preparing and approving one is
    tests/unit/test_overdue_charges.py and tests/stack/test_overdue_api.py (a real one needs an invoice 30+ days
    overdue, which a stack cannot wait for)."""
    from revgov.services.billing import overdue_charges

    example = json.loads((ROOT / "schemas/api/responses/late-payment-charge.schema.json").read_text())["examples"][0]
    invoice_id = next(iter(party.objects.get("inv", [])), example["invoice_id"])
    charge = {**example, "charge_id": party.rt.ids.new("lpc"), "invoice_id": invoice_id, "partner_id": partner_id,
              "accrual": {**example["accrual"], "invoice_id": invoice_id}}  # fmt: skip
    party.rt.store.commit(party.tenant_id, Changes(puts=[Put(overdue_charges.CHARGES, charge["charge_id"], charge)]))
    party.keep("lpc", charge["charge_id"])


def _partner_exception(party: Party, partner_id: str, missing: dict[str, list[str]]) -> None:
    """An exception of the partner (its shipment of a SKU the price list does not have is not billable), on which
    the staff ask the partner, so the partner's own key could reply to it (POST /v1/exceptions/{id}/partner-reply)."""
    admin, known = party.admin, set(party.objects.get("exc", []))
    event = shipment(party, partner_id)
    event["data"]["lines"][0]["sku"] = "PROBE-NO-SUCH-SKU"
    sent = party.erp.post({"events": [event]})
    assert sent.status_code == 202, sent.text

    def opened() -> list[str]:
        items = admin.get("/v1/exceptions", limit=200).json()["items"]
        return [i["case_id"] for i in items if i["case_id"] not in known and i.get("partner_id") == partner_id]

    wait_until(lambda: bool(opened()), 30, what=f"an exception of {partner_id}")
    case_id = opened()[0]
    queue = admin.get(f"/v1/exceptions/{case_id}").json()["queue"]  # only the case's own queue asks the partner
    asked = party.by_role[queue].post(f"/v1/exceptions/{case_id}/ask-partner",
                                      {"question": "Which SKU did you mean to order?"})
    if asked.status_code == 200:
        party.keep("exc", case_id)
    else:
        missing.setdefault("exc", []).append(asked.text[:300])


def _partner_audit(party: Party, partner_id: str, missing: dict[str, list[str]]) -> None:
    """PA-12.1 / CPA-12.1: finance schedules an audit of the partner on the contract's notice (the earliest start the
    rule allows), and the repayment a close of it would prepare, stored as the audit service keeps one (the
    contract's example with this tenant's ids): a finding waits for the audit's first day, weeks ahead, which a stack
    cannot wait for. Recording, closing and approving one is tests/unit/test_partner_audits.py."""
    from revgov.domain import partner_audits as audit_rules
    from revgov.domain.calendar import BusinessCalendar
    from revgov.domain.time import instant
    from revgov.services import partner_audits

    rule = audit_rules.AuditRule.of(party.policy)
    if rule is None:
        missing.setdefault("pau", []).append("the tenant's policy has no partner audit rule")
        return
    starts = rule.earliest_start(instant(party.rt.clock.now_iso()), BusinessCalendar.from_policy(party.policy))
    scheduled = party.by_role["finance"].post(f"/v1/partners/{partner_id}/audits",
                                              {"starts_on": starts.isoformat(), "auditor": "Probe Auditors LLP"})
    if scheduled.status_code != 201:
        missing.setdefault("pau", []).append(scheduled.text[:300])
        return
    audit_id = scheduled.json()["audit_id"]
    party.keep("pau", audit_id)
    example = json.loads((ROOT / "schemas/api/responses/audit-repayment.schema.json").read_text())["examples"][0]
    repayment = {**example, "repayment_id": party.rt.ids.new("arp"), "audit_id": audit_id, "partner_id": partner_id,
                 "status": "pending_approval", "decision": None}  # fmt: skip
    party.rt.store.commit(party.tenant_id, Changes(puts=[
        Put(partner_audits.REPAYMENTS, repayment["repayment_id"], repayment)]))
    party.keep("arp", repayment["repayment_id"])


def _security_incident(party: Party, partner_id: str, missing: dict[str, list[str]]) -> None:
    """PA-11.2 / CPA-11.2: the partner reports an incident it became aware of an hour ago, with its own key."""
    aware = (clock_support.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    reported = party.partner_keys[partner_id].post("/v1/security-incidents",
                                                   {"became_aware_at": aware, "summary": "a probe's laptop stolen"})
    if reported.status_code == 201:
        party.keep("sin", reported.json()["incident_id"])
    else:
        missing.setdefault("sin", []).append(reported.text[:300])


def _mdf_activity(party: Party, partner_id: str, missing: dict[str, list[str]]) -> None:
    """PA-9.5 / CPA-9.5: the partner asks for an MDF activity in ten days, and Channel Operations pre-approves it."""
    today = clock_support.today()
    path = f"/v1/partners/{partner_id}/mdf/activities"
    asked = party.partner_keys[partner_id].post(path, {
        "title": "Probe roadshow", "starts_on": (today + timedelta(days=10)).isoformat(),
        "ends_on": (today + timedelta(days=12)).isoformat(), "planned_amount": "100.00"})
    if asked.status_code != 201:
        missing.setdefault("mdfa", []).append(asked.text[:300])
        return
    activity_id = asked.json()["activity_id"]
    approved = party.by_role["channel_ops"].post(f"{path}/{activity_id}/approve", {"reason": "in plan"})
    if approved.status_code == 200:
        party.keep("mdfa", activity_id)
    else:
        missing.setdefault("mdfa", []).append(approved.text[:300])


def _sandbox(party: Party, partner_id: str, missing: dict[str, list[str]]) -> None:
    """CPA-9.7: Channel Operations issues the partner a sandbox of its tier's allowance."""
    issued = party.by_role["channel_ops"].post(f"/v1/partners/{partner_id}/sandboxes")
    if issued.status_code == 201:
        party.keep("sbx", issued.json()["issued"]["sandbox_id"])
    else:
        missing.setdefault("sbx", []).append(issued.text[:300])


def _dispute(party: Party, partner_id: str, settlement_id: str, missing: dict[str, list[str]]) -> None:
    """The partner disputes a line of its statement, with its own key, as a reseller's portal would."""
    partner = party.partner_keys[partner_id]
    statement = partner.get(f"/v1/rebates/settlements/{settlement_id}").json().get("statement") or {}
    lines = statement.get("lines", [])
    if not lines:
        missing.setdefault("dsp", []).append(f"no statement line for {partner_id} in {settlement_id}")
        return
    filed = partner.post(
        "/v1/rebates/disputes",
        {
            "settlement_id": settlement_id,
            "partner_id": partner_id,
            "program_id": lines[0]["program_id"],
            "amount": "100.00",
            "reason": "an order of the quarter is missing from the statement",
            "evidence": [{"kind": "order", "reference": "SO-PROBE-1"}],
        },
    )
    if filed.status_code == 201:
        party.keep("dsp", filed.json()["dispute_id"])
    else:
        missing.setdefault("dsp", []).append(filed.text[:300])


def _last_quarter() -> str:
    today = clock_support.today()
    quarter = (today.month - 1) // 3  # the running quarter's index, 0-based; the last one ended before it
    year = today.year if quarter else today.year - 1
    return f"{year}-Q{quarter if quarter else 4}"


def write_figures(name: str, figures: dict[str, Any]) -> None:
    """Figures for SECURITY.md: tests/artifacts/<name>-<worker>.json (each xdist worker writes its own)."""
    import os

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    (ARTIFACTS / f"{name}-{worker}.json").write_text(json.dumps(figures, indent=2, sort_keys=True))
