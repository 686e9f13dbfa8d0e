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
from revgov import schemas
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


def _against_line_1(ledger: Ledger, invoice: dict[str, Any], kind: str, day: str, **data: Any) -> None:
    """An ERP credit note or return against line 1 of `invoice`, occurred at 16:00 on `day`, billed an hour later."""
    ledger.clock.set(f"{day}T17:00:00Z")
    body = {"partner_id": P1, "invoice_id": invoice["invoice_id"], "line_no": 1, **data}
    assert ledger.bill(kind, body, occurred_at=f"{day}T16:00:00Z")["status"] == "processed"


def _credit(ledger: Ledger, invoice: dict[str, Any], reason: str, amount: str) -> None:
    _against_line_1(ledger, invoice, "credit_note.issued", "2026-11-05", credit_note_ref=f"CN-SEED-{reason}",
                    reason=reason, amount=amount, issued_on="2026-11-05")  # fmt: skip


def _kpis(ledger: Ledger, period: str, **scope: str) -> dict[str, Any]:
    """The KPIs as GET /v1/kpis answers them, checked against its declared schema (Decimal strings of the declared
    scale, null ratios of empty periods)."""
    answer = analytics.kpis(ledger.rt, FINANCE, period, partner_id=scope.get("partner_id"), tier=scope.get("tier"))
    assert schemas.problems("api/responses/kpis.schema.json", answer) == []
    return answer


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
    _against_line_1(ledger, october, "return.received", "2026-11-03", rma_ref="RMA-SEED-1", quantity=1,
                    returned_on="2026-11-03")  # fmt: skip
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


def _agreement(partner_id: str, tier: str, status: str, started: str, year_end: str, renewals: list[str],
               notice_for: str | None) -> dict[str, Any]:
    notice = None if notice_for is None else {
        "party": "partner", "given_at": "2026-09-01T10:00:00.000Z", "effective_at": notice_for}
    return {"partner_id": partner_id, "legal_name": partner_id, "partner_type": "reseller", "status": status,
            "tier": tier, "activated_at": f"{started}T00:00:00.000Z",
            "term": {"started_on": started, "year_end": year_end, "renewals": renewals, "renewal_due_for": None,
                     "non_renewal": notice}}  # fmt: skip


def test_renewal_probability_is_the_observed_rate_and_zero_under_a_notice():
    # Seed: "Partner health | Threshold attainment and renewal probability | Highlights future revenue concentration
    # risk". PA-13.1: the Agreement "renews automatically for successive Program Years unless either party gives
    # notice of non-renewal at least 60 days before the end of the current Program Year".
    # By hand, on 2026-11-15: A (platinum) renewed at 2024-12-31 and 2025-12-31, no notice; B (registered) renewed at
    # 2025-12-31, notice for 2026-12-31; C ended at 2025-12-31 by a notice after renewing at 2024-12-31. Year ends
    # passed: 4 renewed, 1 ended -> rate 80.00 %. For 2026-12-31: A 0.8, B 0 -> 40.00 %; platinum alone 80.00 %;
    # the passed year end 2025-12-31 (period 2025-Q4): A and B renewed, C ended -> 66.67 % observed.
    from memory_store import memory_runtime
    from revgov.ports import Changes
    from revgov.services import partner_repository

    rt, _ = memory_runtime("2026-11-15T12:00:00Z")
    a, b, c = ("ptr_01JBNWPARTNER00000000000A", "ptr_01JBNWPARTNER00000000000B", "ptr_01JBNWPARTNER00000000000C")
    records = [
        _agreement(a, "platinum", "active", "2024-03-01", "2026-12-31", ["2024-12-31", "2025-12-31"], None),
        _agreement(b, "registered", "active", "2025-02-01", "2026-12-31", ["2025-12-31"], "2026-12-31"),
        _agreement(c, "gold", "terminated", "2024-05-01", "2025-12-31", ["2024-12-31"], "2025-12-31"),
    ]
    rt.store.commit("northwind", Changes(puts=[partner_repository.put(r, version=None) for r in records]))

    def renewal(period: str, **scope: str) -> dict[str, Any]:
        return analytics.kpis(rt, FINANCE, period, partner_id=scope.get("partner_id"),
                              tier=scope.get("tier"))["renewal_probability"]  # fmt: skip

    coming = renewal("2026-Q4")
    assert (coming["year_end"], coming["source"], coming["clause"]) == ("2026-12-31", "forecast", "PA-13.1")
    assert coming["history"] == {"year_ends": 5, "renewed": 4, "ended": 1}
    assert coming["renewal_rate_percent"] == "80.00"
    assert (coming["agreements"], coming["notice_given"], coming["renewal_probability_percent"]) == (2, 1, "40.00")
    assert renewal("2026-11", tier="platinum")["renewal_probability_percent"] == "80.00"
    assert renewal("2026-Q4", partner_id=b)["renewal_probability_percent"] == "0.00"
    passed = renewal("2025-Q4")
    assert (passed["source"], passed["renewed"], passed["ended"]) == ("observed", 2, 1)
    assert passed["renewal_probability_percent"] == "66.67"
    partner_key = Principal("northwind", Role.PARTNER, "key_a", a)
    assert "withheld" in analytics.kpis(rt, partner_key, "2026-Q4", partner_id=None, tier=None)["renewal_probability"]


def test_renewal_probability_is_null_without_any_year_end_to_learn_from():
    # No Program Year end has passed for any partner: no base rate, so no probability is guessed (docs/kpis.md).
    from memory_store import memory_runtime
    from revgov.ports import Changes
    from revgov.services import partner_repository

    rt, _ = memory_runtime("2026-11-15T12:00:00Z")
    first = _agreement("ptr_01JBNWPARTNER00000000000D", "gold", "active", "2026-03-01", "2026-12-31", [], None)
    rt.store.commit("northwind", Changes(puts=[partner_repository.put(first, version=None)]))
    coming = analytics.kpis(rt, FINANCE, "2026-12", partner_id=None, tier=None)["renewal_probability"]
    assert (coming["agreements"], coming["renewal_rate_percent"], coming["renewal_probability_percent"]) == (
        1, None, None)


def test_kpi_revenue_is_the_invoices_net_never_its_vat():
    # CPA-1.2: "'Invoiced Revenue' means amounts invoiced by Contoso to the Partner for Products and Services, excluding
    # VAT and other indirect taxes". A Dutch partner (Contoso is established in NL, 21 % VAT, CPA-10.1) buys one
    # CT-DEV-DOCK: the invoice's net is 210.00 and its gross 254.10; the KPI revenue is 210.00.
    from revgov.ports import Changes, Put

    ledger = Ledger("2026-10-01T08:00:00Z", tenant="contoso")
    partner = "ptr_01JBCTAVD4TR0000000SEED0NE"
    certs = {c: {"cert_id": c, "holder": "A. Auditor", "earned_at": "2025-01-01", "expires_at": "2029-12-31"}
             for c in ("cert-collab-associate", "cert-secops-analyst", "cert-data-engineer", "cert-devices-field")}
    record = {"partner_id": partner, "legal_name": "Seed BV", "partner_type": "reseller", "status": "active",
              "tier": "elite", "country": "NL", "activated_at": "2025-01-01T00:00:00Z", "certifications": certs}
    ledger.rt.store.commit("contoso", Changes(puts=[Put("PARTNER", partner, record)]))
    ledger.clock.set("2026-10-05T10:00:00Z")
    # CPA-10.2 "devices are billed on delivery" (reviewer finding 2): the ERP reports the delivery, the day shipped
    data = {"partner_id": partner, "order_ref": "SO-SEED-NL", "shipped_on": "2026-10-05", "delivered_on": "2026-10-05",
            "lines": [{"sku": "CT-DEV-DOCK", "quantity": 1}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", data, occurred_at="2026-10-05T09:00:00Z")["status"] == "processed"
    assert ledger.invoice(partner, "2026-10")["totals"] == {"net": "210.00", "tax": "44.10", "gross": "254.10"}
    _fold_published(ledger)
    finance = Principal("contoso", Role.FINANCE, "key_fin")
    k = analytics.kpis(ledger.rt, finance, "2026-10", partner_id=partner, tier=None)
    assert k["net_realized_margin"]["revenue"] == k["support_hours_per_revenue_dollar"]["revenue"] == "210.00"
