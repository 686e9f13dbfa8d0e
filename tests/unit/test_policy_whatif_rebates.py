"""Issue #19: what-if beyond quotes. "replay ... rebate accruals and settlements (amount per partner and tier),
KPIs" under a draft, "with examples that link to the original decisions" (records).

Clauses and definitions the expectations come from:
- PA-7.2 (tenants/northwind/contracts/): "the rate of the highest threshold reached applies to all Qualifying
  Revenue of the Quarter [...] USD 100,000.00 to 249,999.99 | 1.0%" (tenant.yaml RBT-VOLUME-T1, eligible tiers
  silver, gold, platinum).
- docs/kpis.md: "Net realized margin by partner tier: (Σ net amount − Σ cost of goods − Σ rebates) / Σ net amount
  [...] settled amounts for settled periods, accruals for open ones"; "Threshold attainment per program: for each
  threshold (each level of a rebate program with volume thresholds) ... how many partners reached it".
- PA-7.3: "Silver, Gold and Platinum Partners earn a growth rebate of 2.0% of incremental Qualifying Revenue [...]
  The baseline is the Partner's Qualifying Revenue for the same Quarter of the previous Program Year".
A silver partner (approved since 2025-01-10, so its baseline is its 2025-Q2 revenue: none) invoiced 125,000.00 in
2026-05 at a cost of 90,000.00. Under the policy in force its Q2 volume rebate is 1.0% = 1,250.00 and its growth
rebate 2.0% × 125,000.00 = 2,500.00: 3,750.00 in all; net realized margin 125,000.00 − 90,000.00 − 3,750.00 =
31,250.00. The clock is injected.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from memory_store import memory_runtime
from rebate_runs import settle_approved  # SOP-7.2: prepared, then approved by a second finance member
from revgov.domain import kpis as core
from revgov.domain.access import Principal, Role
from revgov.domain.errors import RuleViolation
from revgov.ports import Changes, Put
from revgov.services import audit, policy_drafts, rebates
from revgov.services.analytics.rollups import ROLLUPS, rollup_key
from revgov.services.policy_whatif_rebates import whatif_rebates

FINANCE = Principal("northwind", Role.FINANCE, "key_FINANCE0000000000000000000")
CHANNEL_OPS = Principal("northwind", Role.CHANNEL_OPS, "key_CHANNELOPS000000000000000")


@pytest.fixture
def silver() -> tuple[Any, str, str]:
    """A silver partner's 125,000.00 of May 2026 projected for rebates, and the KPI rollups of that sale."""
    rt, _ = memory_runtime("2026-11-10T10:00:00.000Z")
    partner_id = rt.ids.new("ptr")
    invoice_id = f"inv_{partner_id[4:]}"
    cert = {"cert_id": "cert-network-core", "earned_at": "2025-01-01", "expires_at": "2027-12-31"}
    rt.store.commit("northwind", Changes(puts=[Put("PARTNER", partner_id, {
        "partner_id": partner_id, "partner_type": "reseller", "status": "active", "tier": "silver",
        "certifications": {"cert-network-core": cert}, "activated_at": "2025-01-10T00:00:00Z", "history": []})]))
    rebates.project(rt, "northwind", [{
        "line_id": f"{invoice_id}.1", "invoice_id": invoice_id, "partner_id": partner_id,
        "period": "2026-05", "service_period": {"start": "2026-05-04", "end": "2026-05-04"}, "kind": "shipment",
        "family": "networking", "sku": "NW-SW-24P", "quantity": "100", "net_amount": "125000.00",
        "cost": "90000.00", "currency": "USD", "event_id": rt.ids.new("evt")}])
    sale = core.sales_delta(Decimal("125000.00"), Decimal("90000.00"), partner_id, new_line=True)
    rt.store.commit("northwind", Changes(puts=[
        Put(ROLLUPS, rollup_key("2026-05", scope), core.apply(core.empty("2026-05", scope), sale, per_partner=True))
        for scope in (core.ALL, "tier:silver")]))
    return rt, partner_id, invoice_id


def _draft(rt: Any, operations: list[dict[str, Any]]) -> str:
    draft = policy_drafts.create_draft(rt, CHANNEL_OPS, {"reason": "rebates"})
    policy_drafts.patch_policy(rt, CHANNEL_OPS, draft["draft_id"], {"operations": operations})
    return str(draft["draft_id"])


RATE_1_5 = [{"op": "test", "path": "/rebates/programs/0/tiers/1/id", "value": "RBT-VOLUME-T1"},
            {"op": "replace", "path": "/rebates/programs/0/tiers/1/percent", "value": "1.5"}]
THRESHOLD_150K = [{"op": "test", "path": "/rebates/programs/0/tiers/1/id", "value": "RBT-VOLUME-T1"},
                  {"op": "replace", "path": "/rebates/programs/0/tiers/1/from", "value": "150000.00"}]


def _volume(report: dict[str, Any]) -> dict[str, Any]:
    return next(r for r in report["changed"] if r["program_id"] == "RBT-VOLUME")


def test_a_higher_rate_pays_more_per_partner_and_tier_lowers_the_net_margin_kpi_and_links_the_records(silver):
    rt, partner_id, invoice_id = silver
    draft_id = _draft(rt, RATE_1_5)
    before = audit.verify_chain(rt, "northwind")["records"]
    report = whatif_rebates(rt, FINANCE, draft_id, {"period": "2026-Q2"})
    volume = _volume(report)
    assert (volume["before"]["payable"], volume["after"]["payable"]) == ("1250.00", "1875.00")
    assert report["by_partner"] == [{"partner_id": partner_id, "segment": "silver", "before": "3750.00",
                                     "after": "4375.00", "change": "625.00"}]  # the growth rebate unchanged
    assert report["by_segment"]["silver"] == {"before": "3750.00", "after": "4375.00", "change": "625.00"}
    assert report["unchanged"] == 1  # RBT-GROWTH
    # the original records: the line and invoice the amount counts, and the period's accrual (not settled yet)
    assert volume["examples"] == [{"line_id": f"{invoice_id}.1", "invoice_id": invoice_id,
                                   "invoice": f"/v1/invoices/{invoice_id}", "counted_before": True,
                                   "counted_after": True}]
    assert volume["recorded"]["source"] == "accrued"
    assert volume["recorded"]["links"] == [f"/v1/rebates/accruals?period=2026-Q2&partner_id={partner_id}"]
    kpis = report["kpis"]
    assert kpis["rebate_periods"] == ["2026-04", "2026-05", "2026-06", "2026-Q2"]  # monthly commissions too
    margin_before, margin_after = (kpis[k]["net_realized_margin"] for k in ("before", "after"))
    assert (margin_before["rebates_deducted"], margin_before["net_margin"]) == ("3750.00", "31250.00")
    assert (margin_after["rebates_deducted"], margin_after["net_margin"]) == ("4375.00", "30625.00")
    assert kpis["net_margin_change"] == "-625.00" and kpis["net_margin_change_by_tier"]["silver"] == "-625.00"
    assert margin_after["net_margin_percent"] == "24.50"  # 30,625 / 125,000
    assert audit.verify_chain(rt, "northwind")["records"] == before  # nothing written


def test_a_higher_threshold_drops_the_partner_to_no_rebate_and_changes_threshold_attainment(silver):
    """PA-7.2's first paying level moved from 100,000.00 to 150,000.00: 125,000.00 no longer reaches it."""
    rt, _, _ = silver
    report = whatif_rebates(rt, FINANCE, _draft(rt, THRESHOLD_150K), {"period": "2026-Q2"})
    volume = _volume(report)
    assert (volume["before"]["payable"], volume["after"]["payable"]) == ("1250.00", "0.00")
    assert volume["before"]["tier_reached"]["rule_id"] == "RBT-VOLUME-T1"
    assert volume["after"]["tier_reached"]["rule_id"] == "RBT-VOLUME-T0"
    kpis = report["kpis"]
    assert kpis["after"]["net_realized_margin"]["net_margin"] == "32500.00"  # 125,000 − 90,000 − 2,500 (growth)

    def level(side: str, threshold: str) -> dict[str, Any]:
        return next(row for row in kpis[side]["threshold_attainment"]
                    if row["program_id"] == "RBT-VOLUME" and row["threshold"] == threshold)

    assert (level("before", "100000.00")["reached"], level("after", "150000.00")["reached"]) == (1, 0)


def test_a_settled_period_links_the_settlement_that_paid_it(silver):
    rt, _, _ = silver
    status, settled = settle_approved(rt, FINANCE, {"period": "2026-Q2"})
    assert status == 201
    report = whatif_rebates(rt, FINANCE, _draft(rt, RATE_1_5), {"period": "2026-Q2", "examples": 0})
    volume = _volume(report)
    assert volume["recorded"] == {"source": "settled", "payable": "1250.00",
                                  "links": [f"/v1/rebates/settlements/{settled['settlement_id']}"]}
    assert volume["examples"] == []


def test_a_draft_that_changes_no_rebate_rule_changes_nothing(silver):
    rt, _, _ = silver
    report = whatif_rebates(rt, FINANCE, _draft(rt, [
        {"op": "replace", "path": "/pricing/margin_floor/percent", "value": "14"}]), {"period": "2026-Q2"})
    assert report["changed"] == [] and report["payable"]["change"] == "0.00"
    assert report["kpis"]["net_margin_change"] == "0.00"


@pytest.mark.parametrize("period", ["2026-Q5", "2026-13", "26-Q1", ""])
def test_a_bad_period_is_refused(silver, period):
    rt, _, _ = silver
    with pytest.raises(RuleViolation):
        whatif_rebates(rt, FINANCE, _draft(rt, RATE_1_5), {"period": period})


def test_a_draft_without_rebate_programs_pays_nothing_and_the_kpis_deduct_nothing(silver):
    rt, partner_id, _ = silver
    report = whatif_rebates(rt, FINANCE, _draft(rt, [{"op": "remove", "path": "/rebates"}]), {"period": "2026-Q2"})
    assert report["payable"] == {"before": "3750.00", "after": "0.00", "change": "-3750.00"}
    assert {(r["program_id"], r["after"]["payable"], r["after"]["tier_reached"]) for r in report["changed"]} == {
        ("RBT-VOLUME", "0.00", None), ("RBT-GROWTH", "0.00", None)}
    assert report["kpis"]["after"]["net_realized_margin"]["rebates_deducted"] == "0.00"
    levels = report["kpis"]["after"]["threshold_attainment"]  # tier commitments only: no rebate program levels
    assert levels and {row["source"] for row in levels} == {"tier_commitment"}
    assert report["by_partner"][0]["partner_id"] == partner_id


# --- PA-7.1 MDF-funded purchases and PA-8.1's referral window: the what-if answers what settling answers -------------
def _settled_and_whatif(ledger: Any, period: str, at: str, operations: list[dict[str, Any]]) -> tuple[dict, dict]:
    """The period settled (prepared and approved), then the what-if of a draft: per program the settled payable and
    the what-if's before/after rows of partner P1."""
    ledger.clock.set(at)
    _, settled = settle_approved(ledger.rt, FINANCE, {"period": period})
    statement = rebates.get_settlement(ledger.rt, FINANCE, settled["settlement_id"], P1)["statement"]
    paid = {line["program_id"]: line["amount"] for line in statement["lines"]}
    report = whatif_rebates(ledger.rt, FINANCE, _draft(ledger.rt, operations), {"period": period, "examples": 0})
    rows = {r["program_id"]: r for r in report["changed"] if r["partner_id"] == P1}
    return paid, rows


P1 = "ptr_01JBNWPARTNER0000000000001"  # a Platinum partner of the ERP samples (tests/scenarios/billing)


def test_the_whatif_of_the_referral_window_equals_settling_and_shows_what_removing_it_would_pay():
    # PA-8.1: "5.0% of the Distributor's Invoiced Revenue from that Customer ... during the 12 months following the
    # first invoice". CUST-REF-1 first invoiced 2026-09-02; its 2027-08 invoice issued 2027-09-03, the first day
    # outside; CUST-NEW first invoiced on that invoice: settled 100 x 1,250.00 x 5% = 6,250.00. Without the window
    # (a draft removing it) both earn: 12,500.00
    from test_rebates_mdf_and_referral_window import _issue_and_pay, _ship, accepted

    from memory_store import Ledger

    ledger = Ledger("2026-08-05T12:00:00Z")
    lines = [{"sku": "NW-SW-24P", "quantity": 100}]
    _ship(ledger, P1, "2026-08-05", lines, "SO-REF-1", channel="referral", customer_id="CUST-REF-1",
          **accepted("2026-08-05"))
    _issue_and_pay(ledger, P1, "2026-08", "2026-09-02")
    _ship(ledger, P1, "2027-08-05", lines, "SO-REF-2", channel="referral", customer_id="CUST-REF-1",
          **accepted("2027-08-05"))
    _ship(ledger, P1, "2027-08-06", lines, "SO-REF-3", channel="referral", customer_id="CUST-NEW",
          **accepted("2027-08-06"))
    _issue_and_pay(ledger, P1, "2027-08", "2027-09-03")
    remove = [{"op": "test", "path": "/rebates/programs/3/id", "value": "RBT-REFERRAL"},
              {"op": "remove", "path": "/rebates/programs/3/first_invoice_window"}]  # fmt: skip
    # PA-8.2: the commission is earned in the month the customer paid (2027-09-03): September's run
    paid, rows = _settled_and_whatif(ledger, "2027-09", "2027-10-20T10:00:00Z", remove)
    assert paid["RBT-REFERRAL"] == "6250.00"
    assert rows["RBT-REFERRAL"]["before"]["payable"] == paid["RBT-REFERRAL"]
    assert rows["RBT-REFERRAL"]["after"]["payable"] == "12500.00"


def test_the_whatif_of_the_mdf_rule_equals_settling_and_shows_what_removing_it_would_pay():
    # PA-7.1: no rebate on "MDF-funded purchases". 240 MDF-funded switches (300,000.00) and 100 others (125,000.00):
    # settled volume 1.0% x 125,000.00 = 1,250.00; a draft without the rule: 2.0% x 425,000.00 = 8,500.00
    from test_rebates_mdf_and_referral_window import _ship

    from memory_store import Ledger

    ledger = Ledger("2026-08-05T12:00:00Z")
    _ship(ledger, P1, "2026-08-05", [{"sku": "NW-SW-24P", "quantity": 240, "mdf_funded": True},
                                     {"sku": "NW-SW-24P", "quantity": 100}], "SO-MDF")  # fmt: skip
    paid, rows = _settled_and_whatif(ledger, "2026-Q3", "2026-10-03T10:00:00Z",
                                     [{"op": "remove", "path": "/rebates/mdf_funded"}])  # fmt: skip
    assert paid["RBT-VOLUME"] == "1250.00"
    assert rows["RBT-VOLUME"]["before"]["payable"] == paid["RBT-VOLUME"]
    assert rows["RBT-VOLUME"]["after"]["payable"] == "8500.00"
