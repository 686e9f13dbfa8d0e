"""Issue #19: what-if of invoices under a draft's billing rules other than usage rates: the price list (what proration
charges), cancellation credits, milestone billing and the credit-note limit, with the KPIs the change moves.

The clauses (tenants/northwind/contracts/):
- PA-10.3: "A subscription activated during a service period is charged pro rata by day from the activation date to
  the end of the period, both days included: monthly price multiplied by the number of remaining days and divided by
  the number of days in the month." SOP-2.3: "rounded once to two places, half to even".
- PA-10.4: "the Partner receives a credit for the unused full days: monthly price multiplied by the number of full
  days after the effective date of cancellation to the end of the period, divided by the number of days in the month."
- PA-10.6: "Unless the statement of work provides otherwise, milestones are: 30% on project kickoff, 40% on completion
  of deployment and 30% on final acceptance. [...] Milestone percentages in a statement of work must total 100%."
- SOP-2.5: "Credit notes above USD 10,000.00 require approval by a member of the finance queue other than the
  preparer."
The proof that the what-if replays as billing bills: the same ERP events billed one by one by the product's billing
handler (services.billing.bill_erp_event) into a tenant whose policy in force IS the draft give, partner by partner
and line by line, the what-if's `after`; and, billed under the policy in force, its `before` (seeded random events
and drafts below). The clock is injected; no test reads today's date.
"""

from __future__ import annotations

import copy
import random
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from memory_store import Ledger
from revgov import schemas
from revgov.domain.access import Principal, Role
from revgov.domain.contracts import parse_contract
from revgov.domain.errors import RuleViolation
from revgov.domain.tenants import policy_version
from revgov.ports import Changes
from revgov.services import audit, billing, policy_drafts, subscription_billing, tenant_repository
from revgov.services.policy_whatif_billing import whatif_billing

FINANCE = Principal("northwind", Role.FINANCE, "key_FINANCE0000000000000000000")
CHANNEL_OPS = Principal("northwind", Role.CHANNEL_OPS, "key_CHANNELOPS000000000000000")
P1 = "ptr_01JBNWPARTNER0000000000001"  # platinum
P2 = "ptr_01JBNWPARTNER0000000000002"
D = Decimal
MGMT = "/billing/price_list/4"  # NW-NET-MGMT, 99.00 a month (tenants/northwind/tenant.yaml)


def _op(path: str, value: Any, op: str = "replace") -> dict[str, Any]:
    return {"op": op, "path": path, "value": value}


SCHEDULE_20_50_30 = [_op("/billing/milestones/schedule", {"kickoff": 20, "deployment": 50, "acceptance": 30})]
MGMT_AT_124 = [{"op": "test", "path": f"{MGMT}/sku", "value": "NW-NET-MGMT"}, _op(f"{MGMT}/list_price", "124.00")]
LIMIT_50 = [_op("/billing/credit_notes/approval_above", "50.00")]


def _events() -> list[tuple[str, str, dict[str, Any]]]:
    """October 2026 for two partners: an activation, a cancellation credit, a shipment, two milestones."""
    return [
        ("subscription.activated", "2026-10-10T09:00:00Z", {
            "partner_id": P1, "subscription_id": "SUB-1", "sku": "NW-NET-MGMT", "quantity": 2,
            "activated_on": "2026-10-10", "order_ref": "SO-S1"}),
        ("shipment.confirmed", "2026-10-12T09:00:00Z", {
            "partner_id": P2, "order_ref": "SO-1", "shipped_on": "2026-10-12",
            "lines": [{"sku": "NW-SW-24P", "quantity": 2, "discount_percent": "5"}]}),
        ("service.completed", "2026-10-14T09:00:00Z", {
            "partner_id": P1, "sow_ref": "SOW-1", "service": "deployment", "family": "security",
            "milestone": "kickoff", "sow_value": "12500.00", "accepted_on": "2026-10-14"}),
        ("service.completed", "2026-10-21T09:00:00Z", {
            "partner_id": P1, "sow_ref": "SOW-1", "service": "deployment", "family": "security",
            "milestone": "deployment", "sow_value": "12500.00", "accepted_on": "2026-10-21"}),
        ("subscription.cancelled", "2026-10-20T17:00:00Z", {
            "partner_id": P1, "subscription_id": "SUB-1", "effective_on": "2026-10-20"}),
    ]


def _billed(events: list[tuple[str, str, dict[str, Any]]], policy: dict[str, Any] | None = None) -> Ledger:
    """The events billed one by one by the billing handler, under `policy` as the policy in force (the tenant's own
    when None)."""
    ledger = Ledger("2026-10-01T00:10:00Z")
    if policy is not None:
        tenant, version = tenant_repository.load(ledger.rt.store, "northwind")
        changed = replace(tenant, config={**tenant.config, "policy": policy}, policy_version=policy_version(policy))
        ledger.rt.store.commit("northwind", Changes(puts=[tenant_repository.profile_put(changed, version=version)]))
    for n, (detail_type, at, data) in enumerate(events):
        ledger.clock.set(at)
        if detail_type == "billing.run":  # the monthly billing run: every active subscription's month in advance
            subscription_billing.run(ledger.rt, "northwind")
            continue
        answer = ledger.bill(detail_type, data, occurred_at=at, erp_id=f"ERP-{n:04d}")
        assert answer["status"] == "processed", answer
    ledger.clock.set("2027-01-10T10:00:00Z")
    return ledger


def _draft(ledger: Ledger, operations: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    draft = policy_drafts.create_draft(ledger.rt, CHANNEL_OPS, {"reason": "billing"})
    edited = policy_drafts.patch_policy(ledger.rt, CHANNEL_OPS, draft["draft_id"], {"operations": operations})
    return str(draft["draft_id"]), edited["policy"]


def _lines(ledger: Ledger, partner_id: str, months: tuple[str, ...] = ("2026-10",)) -> list[dict[str, Any]]:
    lines = []
    for month in months:
        pointer = ledger.rt.store.get("northwind", billing.INVOICE_KEYS, f"{partner_id}#{month}")
        if pointer is not None:
            lines += billing.invoice_lines(ledger.rt, "northwind", pointer.data["invoice_id"])
    return lines


def _total(ledger: Ledger, partner_id: str, months: tuple[str, ...] = ("2026-10",)) -> str:
    return f"{sum((D(x['amount']) for x in _lines(ledger, partner_id, months)), D('0.00')):.2f}"


def _examples(report: dict[str, Any], kind: str) -> list[tuple[str, str, str]]:
    return [(x["invoiced"], x["before"]["amount"], x["after"]["amount"]) for x in report["by_kind"][kind]["examples"]]


def test_the_milestone_schedule_the_price_list_and_the_credit_limit_as_the_clauses_compute_them():
    ledger = _billed(_events())
    draft_id, _ = _draft(ledger, [*SCHEDULE_20_50_30, *MGMT_AT_124, *LIMIT_50])
    chain = audit.verify_chain(ledger.rt, "northwind")["records"]
    report = whatif_billing(ledger.rt, FINANCE, draft_id, {"period": "2026-10", "examples": 5})
    schemas.validate("api/responses/policy-billing-whatif.schema.json", report)
    # PA-10.6: 30% and 40% of 12,500.00 as in force; the draft's 20% and 50%.
    assert _examples(report, "milestone") == [("3750.00", "3750.00", "2500.00"), ("5000.00", "5000.00", "6250.00")]
    # PA-10.3: 2 x 99.00 x 22 / 31 = 140.52 for 10-31 October; at 124.00 a month, 2 x 124.00 x 22 / 31 = 176.00.
    assert _examples(report, "activation") == [("140.52", "140.52", "176.00")]
    # PA-10.4: 2 x 99.00 x 11 / 31 = 70.26 for 21-31 October (the effective day is not credited); under the draft
    # the subscription, activated in the window, costs 2 x 124.00 a month: 248.00 x 11 / 31 = 88.00, above the
    # draft's 50.00 limit, so it waits for finance (SOP-2.5) and is not on the invoice.
    (credit,) = report["by_kind"]["cancellation"]["examples"]
    assert (credit["invoiced"], credit["before"]["status"], credit["after"]["status"]) == (
        "-70.26", "billed", "awaiting_approval")
    assert credit["after"]["amount"] == "0.00" and "SOP-2.5" in credit["after"]["reason"]
    assert report["credit_notes"] == {"limit_before": "10000.00", "limit_after": "50.00",
                                      "awaiting_before": {"count": 0, "amount": "0.00"},
                                      "awaiting_after": {"count": 1, "amount": "-88.00"}}
    # the shipment is priced as before: 2 x 1,250.00 less 5% = 2,375.00
    assert report["by_kind"]["shipment"] == {**report["by_kind"]["shipment"], "lines": 1, "changed": 0}
    p1 = next(p for p in report["by_partner"] if p["partner_id"] == P1)
    # 140.52 + 3,750.00 + 5,000.00 - 70.26 = 8,820.26; 176.00 + 2,500.00 + 6,250.00 = 8,926.00
    assert (p1["segment"], p1["before"], p1["after"], p1["change"]) == ("platinum", "8820.26", "8926.00", "105.74")
    assert report["not_as_invoiced"]["count"] == 0  # the policy in force bills every line as it was billed
    links = credit["invoice"], credit["line_id"], credit["erp_event_ids"]
    assert links[0] == f"/v1/invoices/{credit['invoice_id']}" and links[1].startswith(credit["invoice_id"])
    assert links[2] == ["ERP-0004"]
    assert audit.verify_chain(ledger.rt, "northwind")["records"] == chain  # nothing written


def test_the_figures_equal_billing_each_event_one_by_one_under_the_draft():
    events = _events()
    ledger = _billed(events)
    draft_id, draft_policy = _draft(ledger, [*SCHEDULE_20_50_30, *MGMT_AT_124, *LIMIT_50])
    report = whatif_billing(ledger.rt, FINANCE, draft_id, {"period": "2026-10"})
    under_draft = _billed(events, draft_policy)
    for row in report["by_partner"]:
        assert row["before"] == _total(ledger, row["partner_id"])
        assert row["after"] == _total(under_draft, row["partner_id"])


def _random_events(rng: random.Random) -> list[tuple[str, str, dict[str, Any]]]:
    events: list[tuple[str, str, dict[str, Any]]] = []
    for n in range(rng.randint(3, 7)):
        partner = rng.choice([P1, P2])
        day = rng.randint(2, 26)
        at = f"2026-10-{day:02d}T09:{n:02d}:00Z"
        kind = rng.choice(["activation", "shipment", "milestone"])
        if kind == "activation":
            sku = rng.choice(["NW-NET-MGMT", "NW-CLOUD-PLATFORM", "NW-SEC-SUITE"])
            events.append(("subscription.activated", at, {
                "partner_id": partner, "subscription_id": f"SUB-{n}", "sku": sku, "quantity": rng.randint(1, 40),
                "activated_on": f"2026-10-{day:02d}", "order_ref": f"SO-S{n}"}))
            if rng.random() < 0.6:  # cancelled in October, or in November after its month was charged in advance
                month, end = rng.choice([(10, rng.randint(day, 31)), (11, rng.randint(1, 30))])
                events.append(("subscription.cancelled", f"2026-{month}-{end:02d}T23:{n:02d}:00Z", {
                    "partner_id": partner, "subscription_id": f"SUB-{n}",
                    "effective_on": f"2026-{month}-{end:02d}"}))
        elif kind == "shipment":
            events.append(("shipment.confirmed", at, {
                "partner_id": partner, "order_ref": f"SO-{n}", "shipped_on": f"2026-10-{day:02d}",
                "lines": [{"sku": rng.choice(["NW-SW-24P", "NW-FW-200"]), "quantity": rng.randint(1, 9),
                           "discount_percent": str(rng.randint(0, 12))}]}))
        else:
            for m, milestone in enumerate(rng.sample(["kickoff", "deployment", "acceptance"], rng.randint(1, 3))):
                events.append(("service.completed", f"2026-10-{day:02d}T10:{n:02d}:{m:02d}Z", {
                    "partner_id": partner, "sow_ref": f"SOW-{n}", "service": "deployment", "family": "security",
                    "milestone": milestone, "sow_value": f"{rng.randint(1000, 90000)}.00",
                    "accepted_on": f"2026-10-{day:02d}"}))
    runs = [("billing.run", f"2026-{m}-01T00:05:00Z", {}) for m in (11, 12)]
    return sorted([*events, *runs], key=lambda e: e[1])


def _random_draft(rng: random.Random) -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = []
    if rng.random() < 0.7:
        first = rng.randint(1, 60)
        second = rng.randint(1, 99 - first)
        ops.append(_op("/billing/milestones/schedule",
                       {"kickoff": first, "deployment": second, "acceptance": 100 - first - second}))
    for index in (4, 5, 6, 0, 2):  # subscriptions and shipment items of the price list
        if rng.random() < 0.4:
            price = f"{rng.randint(50, 4000)}.{rng.randint(0, 99):02d}"
            ops.append(_op(f"/billing/price_list/{index}/list_price", price))
    if rng.random() < 0.6:
        ops.append(_op("/billing/credit_notes/approval_above", f"{rng.choice([0, 20, 100, 400, 20000])}.00"))
    return ops or SCHEDULE_20_50_30


@pytest.mark.parametrize("seed", range(12))
def test_random_drafts_equal_billing_each_event_one_by_one(seed):
    rng = random.Random(seed)
    events = _random_events(rng)
    ledger = _billed(events)
    draft_id, draft_policy = _draft(ledger, _random_draft(rng))
    report = whatif_billing(ledger.rt, FINANCE, draft_id, {"period": "2026-Q4", "examples": 50})
    under_draft = _billed(events, draft_policy)
    assert report["not_as_invoiced"]["count"] == 0
    for partner in (P1, P2):
        row = next((r for r in report["by_partner"] if r["partner_id"] == partner),
                   {"before": "0.00", "after": "0.00"})
        assert (row["before"], row["after"]) == (_total(ledger, partner, Q4), _total(under_draft, partner, Q4)), seed
    # kind by kind: what each billing function bills under each policy
    for kind, billed_as in KINDS.items():
        assert _report_total(report, kind, "before") == _kind_total(ledger, billed_as), (seed, kind)
        assert _report_total(report, kind, "after") == _kind_total(under_draft, billed_as), (seed, kind)


Q4 = ("2026-10", "2026-11", "2026-12")
KINDS = {"shipment": ("shipment",), "milestone": ("milestone",), "cancellation": ("credit",),
         "activation+advance_charge": ("subscription",)}


def _kind_total(ledger: Ledger, kinds: tuple[str, ...]) -> str:
    lines = [x for p in (P1, P2) for x in _lines(ledger, p, Q4) if x["kind"] in kinds]
    return f"{sum((D(x['amount']) for x in lines), D('0.00')):.2f}"


def _report_total(report: dict[str, Any], kinds: str, side: str) -> str:
    return f"{sum((D(report['by_kind'][k][side]) for k in kinds.split('+')), D('0.00')):.2f}"


def test_a_credit_held_above_the_limit_in_force_posts_under_a_draft_with_a_higher_limit():
    # SOP-2.5: a credit note "above USD 10,000.00" waits for finance. 40 x 310.00 = 12,400.00 a month activated on
    # 1 October and cancelled with effect from the end of 2 October: 12,400.00 x 29 / 31 = 11,600.00 (PA-10.4) is held
    # under the policy in force; with the limit at 20,000.00 it posts at once.
    events = [
        ("subscription.activated", "2026-10-01T09:00:00Z", {
            "partner_id": P2, "subscription_id": "SUB-BIG", "sku": "NW-CLOUD-PLATFORM", "quantity": 40,
            "activated_on": "2026-10-01", "order_ref": "SO-BIG"}),
        ("subscription.cancelled", "2026-10-02T18:00:00Z", {
            "partner_id": P2, "subscription_id": "SUB-BIG", "effective_on": "2026-10-02"})]
    ledger = _billed(events)
    draft_id, draft_policy = _draft(ledger, [_op("/billing/credit_notes/approval_above", "20000.00")])
    report = whatif_billing(ledger.rt, FINANCE, draft_id, {"period": "2026-10"})
    (held,) = report["by_kind"]["held_credit"]["examples"]
    assert (held["line_id"], held["invoiced"], held["before"]["status"], held["after"]) == (
        None, "0.00", "awaiting_approval", {"amount": "-11600.00", "status": "billed", "reason": None, "rule_ids": []})
    assert held["hold_id"].startswith("cnh_")
    assert report["credit_notes"]["awaiting_before"] == {"count": 1, "amount": "-11600.00"}
    under_draft = _billed(events, draft_policy)
    (row,) = report["by_partner"]
    assert (row["before"], row["after"]) == (_total(ledger, P2), _total(under_draft, P2)) == ("12400.00", "800.00")


def _counted_in_kpis(ledger: Ledger) -> None:
    """The KPI handler folds the posted lines into the month's rollups, as the kpi-rollups rule does."""
    from revgov.services import analytics

    for event in ledger.rt.publisher.published:  # type: ignore[attr-defined]
        if event["detail_type"] == "invoice.lines_posted":
            analytics.record_fact(ledger.rt, {"id": event.get("id"), "source": event["source"],
                                              "detail-type": event["detail_type"], "detail": event["detail"]})


def test_the_kpis_move_by_the_replayed_lines_in_the_partners_tier():
    # docs/kpis.md: net realized margin = (net amount - cost of goods - rebates) / net amount, over lines that carry a
    # cost; lines without a cost of goods (milestones) count in revenue only. `before` is what GET /v1/kpis counts.
    # The draft moves the milestones by -1,250.00 + 1,250.00 = 0.00 of revenue (no cost: margin unchanged); the
    # activation month by 176.00 - 140.52 = 35.48 (its cost, the licence's unit cost, unchanged); and the credit,
    # held under the draft, takes its -70.26 and its cost out.
    from revgov.services.analytics import reads

    ledger = _billed(_events())
    _counted_in_kpis(ledger)
    draft_id, _ = _draft(ledger, [*SCHEDULE_20_50_30, *MGMT_AT_124, *LIMIT_50])
    report = whatif_billing(ledger.rt, FINANCE, draft_id, {"period": "2026-10"})
    kpis = report["kpis"]
    counted = reads.kpis(ledger.rt, FINANCE, "2026-10", partner_id=None, tier=None)["net_realized_margin"]
    # the what-if reports the tenant's figure and the tiers'; GET /v1/kpis's `direct_sales` (the Distributor's direct
    # invoices, PA-8.1 / PA-8.2; none in this period) is a breakdown it does not repeat
    assert counted["direct_sales"]["revenue"] == "0.00"
    assert kpis["before"] == {k: v for k, v in counted.items() if k not in ("rebates", "baseline", "direct_sales")}
    # 8,820.26 (P1) + 2,375.00 (P2: 2 x 1,250.00 less 5%) invoiced in October
    assert kpis["before"]["revenue"] == "11195.26" and kpis["after"]["revenue"] == "11301.00"
    assert kpis["revenue_change"] == report["amount"]["change"] == "105.74"
    assert kpis["by_tier"]["platinum"]["revenue_change"] == "105.74"
    assert all(v["revenue_change"] == "0.00" for t, v in kpis["by_tier"].items() if t != "platinum")
    credit_cost = D(next(x for x in _lines(ledger, P1) if x["kind"] == "credit")["cost"])
    expected = D("35.48") + D("70.26") + credit_cost  # margin = revenue with a cost - cost
    assert D(kpis["net_margin_change"]) == expected
    assert D(kpis["after"]["net_margin"]) - D(kpis["before"]["net_margin"]) == expected


def test_a_draft_whose_schedule_lacks_a_milestone_does_not_bill_it():
    # PA-10.6 through the billing function: a milestone not in the schedule is a rating failure, not billed.
    ledger = _billed(_events())
    draft_id, _ = _draft(ledger, [_op("/billing/milestones/schedule", {"kickoff": 30, "go_live": 70})])
    report = whatif_billing(ledger.rt, FINANCE, draft_id, {"period": "2026-10"})
    milestones = report["by_kind"]["milestone"]
    assert (milestones["lines"], milestones["changed"], milestones["before"], milestones["after"]) == (
        2, 1, "8750.00", "3750.00")  # kickoff 30% as before; deployment is not in the draft's schedule
    (deployment,) = milestones["examples"]
    assert (deployment["before"]["status"], deployment["after"]["status"]) == ("billed", "not_billed")
    assert "milestone deployment is not in the schedule" in deployment["after"]["reason"]


@pytest.mark.parametrize("period", ["2026-13", "2026-Q5", "20２６-10", "26-10", "", "2026-10-01"])
def test_a_bad_period_is_refused_naming_it(period):
    ledger = _billed(_events()[:1])
    draft_id, _ = _draft(ledger, SCHEDULE_20_50_30)
    with pytest.raises(RuleViolation) as refused:
        whatif_billing(ledger.rt, FINANCE, draft_id, {"period": period})
    assert [e.path for e in refused.value.errors] == ["/period"]


def test_a_quarter_reads_its_three_months_and_an_empty_one_answers_zero():
    ledger = _billed(_events())
    draft_id, _ = _draft(ledger, SCHEDULE_20_50_30)
    quarter = whatif_billing(ledger.rt, FINANCE, draft_id, {"period": "2026-Q4"})
    month = whatif_billing(ledger.rt, FINANCE, draft_id, {"period": "2026-10"})
    assert (quarter["amount"], quarter["lines"]) == (month["amount"], month["lines"])
    empty = whatif_billing(ledger.rt, FINANCE, draft_id, {"period": "2026-Q1"})
    assert (empty["amount"], empty["lines"], empty["by_partner"]) == (
        {"before": "0.00", "after": "0.00", "change": "0.00"}, 0, [])
    schemas.validate("api/responses/policy-billing-whatif.schema.json", empty)


def test_the_events_are_left_as_billed():
    ledger = _billed(_events())
    before = copy.deepcopy(_lines(ledger, P1))
    draft_id, _ = _draft(ledger, [*SCHEDULE_20_50_30, *LIMIT_50])
    whatif_billing(ledger.rt, FINANCE, draft_id, {"period": "2026-10"})
    assert _lines(ledger, P1) == before


# --- shadow mode for billing: posted lines billed again under a shadowed draft, without effect ----------------------
def test_shadow_mode_bills_each_posted_line_again_under_a_proposed_draft_and_changes_nothing():
    """The lines the ERP events post (PA-10.3, PA-10.4, PA-10.6 above) are billed again under a proposed draft in
    shadow mode after their own commit; the records sum to what the billing what-if of the month says."""
    from revgov.services import contracts, policy_shadow

    ledger = Ledger("2026-10-01T00:10:00Z")
    draft_id, _ = _draft(ledger, SCHEDULE_20_50_30)
    # a rule and its clause say the same thing (the clause wins): the draft carries PA-10.6 amended to 20 / 50 / 30
    # (a draft carries one document's amendment, so SOP-2.5's credit-note limit is not moved here: the what-if is)
    stored = ledger.rt.store.get("northwind", contracts.CURRENT, "PA").data["markdown"]  # type: ignore[union-attr]
    (pa_10_6,) = [c for c in parse_contract(stored).clauses if c.clause_id == "PA-10.6"]
    amended = pa_10_6.text.replace("30% on project kickoff, 40% on completion",
                                   "20% on project kickoff, 50% on completion")
    assert amended != pa_10_6.text
    policy_drafts.attach_amendment(ledger.rt, Principal("northwind", Role.ADMIN, "key_ADMIN0000000000000000000000"),
                                   draft_id, {"document": "PA", "reason": "milestones 20 / 50 / 30", "clauses": [
                                       {"clause_id": "PA-10.6", "title": pa_10_6.title, "text": amended}]})
    policy_drafts.propose(ledger.rt, CHANNEL_OPS, draft_id, {"effective_at": "2026-11-01T00:00:00Z"})
    policy_shadow.set_shadow(ledger.rt, CHANNEL_OPS, draft_id, {"enabled": True})
    for n, (detail_type, at, data) in enumerate(_events()):
        ledger.clock.set(at)
        assert ledger.bill(detail_type, data, occurred_at=at, erp_id=f"ERP-{n:04d}")["status"] == "processed"
    posted = [{"source": e["source"], "detail-type": e["detail_type"], "detail": e["detail"]}
              for e in ledger.rt.publisher.published if e["detail_type"] == "invoice.lines_posted"]  # type: ignore
    invoices = {p: _lines(ledger, p) for p in (P1, P2)}
    assert [policy_shadow.shadow_event(ledger.rt, e)["status"] for e in posted] == ["evaluated"] * len(posted)
    for event in posted:  # redelivered: the same records
        policy_shadow.shadow_event(ledger.rt, event)
    assert {p: _lines(ledger, p) for p in (P1, P2)} == invoices  # without effect
    billed = policy_shadow.report(ledger.rt, FINANCE, draft_id, differences_only=True, limit=50, cursor=None)
    schemas.validate("api/responses/policy-shadow.schema.json", billed)
    shadow = billed["billing"]
    # five lines; the two milestones (PA-10.6 at 20% / 50%) differ
    assert (shadow["evaluated"], shadow["differing"]) == (5, 2)
    assert sorted((x["kind"], x["before"]["amount"], x["after"]["amount"], x["after"]["status"])
                  for x in shadow["items"]) == [
        ("milestone", "3750.00", "2500.00", "billed"), ("milestone", "5000.00", "6250.00", "billed")]
    whatif = whatif_billing(ledger.rt, FINANCE, draft_id, {"period": "2026-10"})
    assert (shadow["amount"], shadow["by_partner"]) == (whatif["amount"], whatif["by_partner"])
    with pytest.raises(RuleViolation):
        policy_shadow.shadow_event(ledger.rt, {"source": "revgov.billing", "detail-type": "invoice.lines_posted",
                                               "detail": {"tenant_id": "northwind"}})


def test_posted_lines_are_routed_to_the_shadow_handler_and_the_quote_checks_still_are():
    import json

    from revgov.adapters.sqlite_bus import matches
    from support import ROOT

    rules = {r["name"]: r for r in json.loads((ROOT / "events" / "rules.json").read_text())["rules"]}
    for source, detail_type in (("revgov.billing", "invoice.lines_posted"), ("revgov.pricing", "quote.checked")):
        assert matches(rules["policy-shadow"]["pattern"], {"source": source, "detail-type": detail_type})
    assert not matches(rules["policy-shadow"]["pattern"], {"source": "revgov.billing", "detail-type": "invoice.paid"})
    assert rules["policy-shadow"]["handler"] == "shadow_policy_drafts"
