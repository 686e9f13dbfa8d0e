"""The seed's KPI table, checked by hand on small datasets pushed through the billing handler (docs/seed-coverage.md).

The seed (/work/shared/seeds, "Operational intelligence" KPI table):
  | Revenue quality | Net realized margin by partner tier | Shows whether channel growth is profitable | ...
  | Billing efficiency | Invoice cycle time after fulfillment or activation | Indicates process friction and cash flow
    delay | Automate event triggers and exception routing |
  | Support economics | Support hours per revenue dollar | Reveals unprofitable partner segments | ...

PA-1.2: "'Invoiced Revenue' means the amounts invoiced by the Distributor to the Partner for Products and Services,
excluding value added tax, sales tax, freight, insurance, duties and pass-through fees."
PA-7.8: "Settlement is made by credit note"; SOP-2.5: "Every credit note states its reason code (billing error,
return, cancellation, dispute outcome, rebate settlement, goodwill)."
SOP-2.1: "at 48 hours it raises an invoice_sla_breach exception. The breach is recorded even if the line is posted
afterwards, and counts in the invoice timeliness KPI." (COP-2.1: "counted in the invoice timeliness KPI even if the
line is posted later".)

NW-SW-24P lists at 1,250.00 with a unit cost of 900.00 (PA-6.1 price list). The use cases run on the in-memory store
with a fixed clock: nothing depends on today's date.
"""

from __future__ import annotations

from typing import Any

from memory_store import Ledger
from revgov.domain.access import Principal, Role
from revgov.services import analytics, billing

P1 = "ptr_01JBNWPARTNER0000000000001"  # platinum
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")


def _fold_published(ledger: Ledger) -> None:
    """What the kpi-rollups rule delivers to `update_kpis`: every event billing published so far, once."""
    for envelope in ledger.rt.publisher.published:
        event = {"source": envelope["source"], "detail-type": envelope["detail_type"], "detail": envelope["detail"]}
        analytics.record_fact(ledger.rt, event)
    ledger.rt.publisher.published.clear()


def _ship_two_switches_in_october(ledger: Ledger) -> dict[str, Any]:
    ledger.clock.set("2026-10-05T12:00:00Z")
    data = {"partner_id": P1, "order_ref": "SO-SEED-1", "shipped_on": "2026-10-05",
            "lines": [{"sku": "NW-SW-24P", "quantity": 2}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", data, occurred_at="2026-10-05T10:00:00Z")["status"] == "processed"
    ledger.clock.set("2026-11-01T09:00:00Z")
    october = ledger.invoice(P1, "2026-10")
    billing.finalize_invoice(ledger.rt, FINANCE, october["invoice_id"])
    return october


def _credit(ledger: Ledger, invoice: dict[str, Any], reason: str, amount: str) -> None:
    ledger.clock.set("2026-11-05T17:00:00Z")
    data = {"partner_id": P1, "credit_note_ref": f"CN-SEED-{reason}", "invoice_id": invoice["invoice_id"],
            "line_no": 1, "reason": reason, "amount": amount, "issued_on": "2026-11-05"}  # fmt: skip
    assert ledger.bill("credit_note.issued", data, occurred_at="2026-11-05T16:00:00Z")["status"] == "processed"


def _kpis(ledger: Ledger, period: str, **scope: str) -> dict[str, Any]:
    return analytics.kpis(ledger.rt, FINANCE, period, partner_id=scope.get("partner_id"), tier=scope.get("tier"))


def test_a_rebate_settlement_credit_note_is_not_revenue_nor_a_second_rebate_deduction():
    # The rebate is deducted once, as `rebates_deducted` (docs/kpis.md); the credit note that pays it (PA-7.8) is not
    # an amount invoiced "for Products and Services" (PA-1.2), so it moves neither revenue nor the margin base, and
    # support hours per revenue dollar keep the revenue of what was sold. By hand: Q4 revenue 2 x 1,250.00 =
    # 2,500.00, cost 2 x 900.00 = 1,800.00, net margin 700.00 = 28.00 %; November's revenue 0.00.
    ledger = Ledger("2026-10-05T10:00:00Z")
    october = _ship_two_switches_in_october(ledger)
    _credit(ledger, october, "rebate_settlement", "100.00")
    _fold_published(ledger)
    november = _kpis(ledger, "2026-11")
    assert november["net_realized_margin"]["revenue"] == "0.00"
    assert november["support_hours_per_revenue_dollar"]["revenue"] == "0.00"
    quarter = _kpis(ledger, "2026-Q4")["net_realized_margin"]
    assert (quarter["revenue"], quarter["margin_base_revenue"], quarter["cost"]) == ("2500.00", "2500.00", "1800.00")
    assert (quarter["net_margin"], quarter["net_margin_percent"]) == ("700.00", "28.00")
    (platinum,) = [row for row in quarter["by_tier"] if row["tier"] == "platinum"]
    assert (platinum["revenue"], platinum["net_margin"]) == ("2500.00", "700.00")


def test_a_goodwill_credit_on_a_costed_line_lowers_the_net_realized_margin():
    # "Net realized margin": a credit note gives back revenue that was realized on a line that carried a cost, so it
    # counts negative in the margin base too (docs/kpis.md: "credits count negative"), with no cost taken back (no
    # unit comes back). By hand: Q4 revenue 2,500.00 - 100.00 = 2,400.00, margin base 2,400.00, cost 1,800.00,
    # net margin 600.00 = 25.00 %; November alone: -100.00 revenue and margin.
    ledger = Ledger("2026-10-05T10:00:00Z")
    october = _ship_two_switches_in_october(ledger)
    _credit(ledger, october, "goodwill", "100.00")
    _fold_published(ledger)
    quarter = _kpis(ledger, "2026-Q4")["net_realized_margin"]
    assert (quarter["revenue"], quarter["margin_base_revenue"], quarter["cost"]) == ("2400.00", "2400.00", "1800.00")
    assert (quarter["net_margin"], quarter["net_margin_percent"]) == ("600.00", "25.00")
    november = _kpis(ledger, "2026-11", partner_id=P1)["net_realized_margin"]
    assert (november["revenue"], november["margin_base_revenue"], november["net_margin"]) == (
        "-100.00", "-100.00", "-100.00")


def test_a_return_takes_its_units_cost_back_with_its_revenue():
    # PA-1.2 net of credit notes; a return brings the goods back, so the margin loses the unit's revenue and cost:
    # 1 of 2 switches returned leaves Q4 revenue 1,250.00, cost 900.00, net margin 350.00 = 28.00 %.
    ledger = Ledger("2026-10-05T10:00:00Z")
    october = _ship_two_switches_in_october(ledger)
    ledger.clock.set("2026-11-03T17:00:00Z")
    data = {"partner_id": P1, "rma_ref": "RMA-SEED-1", "invoice_id": october["invoice_id"], "line_no": 1,
            "quantity": 1, "returned_on": "2026-11-03"}  # fmt: skip
    assert ledger.bill("return.received", data, occurred_at="2026-11-03T16:00:00Z")["status"] == "processed"
    _fold_published(ledger)
    quarter = _kpis(ledger, "2026-Q4")["net_realized_margin"]
    assert (quarter["revenue"], quarter["margin_base_revenue"], quarter["cost"]) == ("1250.00", "1250.00", "900.00")
    assert (quarter["net_margin"], quarter["net_margin_percent"]) == ("350.00", "28.00")


def test_an_invoice_sla_breach_counts_in_the_invoice_timeliness_kpi_of_its_month():
    # SOP-2.1: "The breach is recorded even if the line is posted afterwards, and counts in the invoice timeliness
    # KPI." A shipment that occurred 2026-10-05T10:00Z and was posted 50 hours later is one breach of October (its
    # cycle time is counted from the ERP intake's record, which the stack test drives: tests/stack/test_kpis_api.py).
    ledger = Ledger("2026-10-07T12:00:00Z")
    data = {"partner_id": P1, "order_ref": "SO-SEED-LATE", "shipped_on": "2026-10-05",
            "lines": [{"sku": "NW-SW-24P", "quantity": 1}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", data, occurred_at="2026-10-05T10:00:00Z")["status"] == "processed"
    assert [e["category"] for e in ledger.exceptions()] == ["invoice_sla_breach"]
    _fold_published(ledger)
    cycle = _kpis(ledger, "2026-10")["invoice_cycle_time"]
    assert cycle["sla_breaches"] == 1
    assert _kpis(ledger, "2026-09")["invoice_cycle_time"]["sla_breaches"] == 0


def test_an_invoice_dispute_is_a_policy_exception_of_the_month_it_is_filed():
    # Seed: "Compliance posture | Policy exceptions per 100 transactions | Measures governance discipline". SOP-4.1's
    # exception routing matrix lists "invoice_dispute | finance | 24" and "rebate_dispute | finance | 40" as exception
    # categories, and SOP-6.1 (1): "the dispute is logged as an invoice_dispute exception". By hand, Q4: 1 shipment
    # billed (1 transaction), 1 dispute filed in November = 1 exception, 100.00 per 100 transactions.
    from revgov.services import invoice_disputes

    ledger = Ledger("2026-10-05T10:00:00Z")
    october = _ship_two_switches_in_october(ledger)
    ledger.clock.set("2026-11-10T08:00:00Z")
    partner = Principal("northwind", Role.PARTNER, "key_p1", P1)
    invoice_disputes.file_dispute(ledger.rt, partner, october["invoice_id"],
                                  {"line_no": 1, "amount": "1250.00", "reason": "1 shipped, 2 billed"})  # fmt: skip
    _fold_published(ledger)
    quarter = _kpis(ledger, "2026-Q4")["policy_exceptions_per_100_transactions"]
    assert (quarter["exceptions"], quarter["transactions"], quarter["per_100_transactions"]) == (1, 1, "100.00")
    assert _kpis(ledger, "2026-11")["policy_exceptions_per_100_transactions"]["exceptions"] == 1
    assert _kpis(ledger, "2026-10")["policy_exceptions_per_100_transactions"]["exceptions"] == 0


def test_the_kpi_rule_delivers_filed_disputes_to_the_kpi_handler():
    # The dispute's approval opening reaches `update_kpis` through the kpi-rollups rule (events/rules.json).
    import json

    from revgov.adapters.sqlite_bus import matches
    from support import ROOT

    rules = {r["name"]: r for r in json.loads((ROOT / "events" / "rules.json").read_text())["rules"]}
    assert rules["kpi-rollups"]["handler"] == "update_kpis"
    assert matches(rules["kpi-rollups"]["pattern"], {"source": "revgov.approvals", "detail-type": "approval.opened"})
