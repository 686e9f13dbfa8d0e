"""Overdue invoices, the credit hold and late-payment interest, computed by hand from the clauses.

PA-10.8 (northwind): "Overdue amounts bear interest at 1.0% per month or the maximum lawful rate, if lower. Where any
amount is more than 30 days overdue, new orders are placed on credit hold".
CPA-10.7 (contoso): "Late payments bear statutory interest for commercial transactions (the reference rate plus 8
percentage points) and a fixed compensation of EUR 40.00 per overdue invoice. Amounts overdue more than 30 days
place new orders on credit hold".
PA-6.7: "Standard payment terms are net 30 days from the invoice date. Gold and Platinum Partners may request net 45
days as a standard term". The invoice date is the day it is issued (finalized).
SOP-6.1: "late payment interest does not accrue on the disputed amount while the dispute is open."
PA-1.3: "rounded once, at line level, to two decimal places using round-half-to-even".

The reading (docs/billing.md): simple interest for each overdue day, from the day after the due day through the day
paid (or asked about); a monthly rate spread over the days of that calendar month, an annual rate over the days of
that calendar year; the reference rate of the day's half-year. Every expected figure below was worked out by hand
before the code was written.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from memory_store import Ledger
from revgov.domain.billing import overdue as core
from revgov.domain.rebates.withholding import Withholding
from revgov.services.billing.overdue import owing_beyond
from revgov.tenant_files import load_tenant_file
from support import ROOT

NW = load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml")["policy"]
CT = load_tenant_file(ROOT / "tenants" / "contoso" / "tenant.yaml")["policy"]
NW_LATE = core.LatePayment.of(NW)
CT_LATE = core.LatePayment.of(CT)
P1 = "ptr_01JBNWPARTNER0000000000001"


def invoice(total: str, issued: str, paid: str | None = None, invoice_id: str = "inv_A") -> dict[str, object]:
    return {"invoice_id": invoice_id, "partner_id": P1, "status": "finalized", "total": total,
            "finalized_at": f"{issued}T06:00:00Z", "paid_on": paid, "period": issued[:7]}  # fmt: skip


def test_the_shipped_policies_state_the_clauses():
    assert NW_LATE is not None and CT_LATE is not None
    assert (NW_LATE.rule.clause, NW_LATE.credit_hold_days, NW_LATE.basis, NW_LATE.percent) == (
        "PA-10.8", 30, "monthly_percent", Decimal("1.0"))  # fmt: skip
    assert (CT_LATE.rule.clause, CT_LATE.credit_hold_days, CT_LATE.basis, CT_LATE.percent) == (
        "CPA-10.7", 30, "reference_rate_plus", Decimal("8"))  # fmt: skip
    assert CT_LATE.fixed_compensation == Decimal("40.00") and NW_LATE.fixed_compensation == 0


def test_pa_10_8_one_percent_per_month_spread_over_the_days_of_each_month():
    # 10,000.00 issued 2026-03-31, net 30: due 2026-04-30. On 2026-06-15 it is overdue May 1..31 (31 of 31 days)
    # and June 1..15 (15 of 30): 10,000.00 x 1% x (31/31 + 15/30) = 100.00 + 50.00 = 150.00.
    assert NW_LATE is not None
    accrual = core.accrue(NW_LATE, invoice("10000.00", "2026-03-31"), 30, date(2026, 6, 15))
    assert accrual.due_on == date(2026, 4, 30) and accrual.days == 46
    assert accrual.interest == Decimal("150.00") and accrual.compensation == Decimal("0")
    assert accrual.periods[0] == {"period": "2026-05", "rate_percent": "1.0", "days": 31, "amount": "100.00"}
    assert [(p["period"], p["days"], p["amount"]) for p in accrual.periods] == [
        ("2026-05", 31, "100.00"), ("2026-06", 15, "50.00")]  # fmt: skip


def test_pa_10_8_interest_stops_on_the_day_paid():
    # Paid 2026-05-20: May 1..20, 20 of 31 days: 10,000.00 x 1% x 20/31 = 64.5161... = 64.52.
    assert NW_LATE is not None
    paid = invoice("10000.00", "2026-03-31", paid="2026-05-20")
    accrual = core.accrue(NW_LATE, paid, 30, date(2026, 6, 15))
    assert (accrual.days, accrual.interest) == (20, Decimal("64.52"))
    assert core.days_overdue(paid, 30, date(2026, 6, 15)) == 0  # paid: no longer overdue


def test_pa_6_7_net_45_moves_the_due_day():
    # Gold/Platinum on net 45: due 2026-05-15. On 2026-06-15: May 16..31 (16 of 31) and June 1..15 (15 of 30):
    # 10,000.00 x 1% x (16/31 + 15/30) = 51.6129... + 50 = 101.6129... = 101.61.
    assert NW_LATE is not None
    accrual = core.accrue(NW_LATE, invoice("10000.00", "2026-03-31"), 45, date(2026, 6, 15))
    assert (accrual.due_on, accrual.days, accrual.interest) == (date(2026, 5, 15), 31, Decimal("101.61"))


def test_pa_1_3_the_interest_is_rounded_once_half_to_even():
    # 2,125.00 issued 2026-05-01, due 2026-05-31; on 2026-06-03: 3 of June's 30 days: 2,125.00 x 1% x 3/30 = 2.125
    # exactly, half to even: 2.12 (half up would say 2.13).
    assert NW_LATE is not None
    accrual = core.accrue(NW_LATE, invoice("2125.00", "2026-05-01"), 30, date(2026, 6, 3))
    assert accrual.interest == Decimal("2.12")


def test_not_due_yet_bears_nothing():
    assert NW_LATE is not None
    accrual = core.accrue(NW_LATE, invoice("10000.00", "2026-03-31"), 30, date(2026, 4, 30))  # the due day itself
    assert (accrual.days, accrual.interest, accrual.first_day) == (0, Decimal("0"), None)


def test_sop_6_1_no_interest_on_the_disputed_amount_while_the_dispute_is_open():
    # 10,000.00 due 2026-04-30; 2,000.00 of it disputed on 2026-05-01, rejected on 2026-05-16 (open May 1..15).
    # On 2026-05-31: (8,000.00 x 15 + 10,000.00 x 16) / 31 x 1% = 2,800 / 31 = 90.3225... = 90.32.
    assert NW_LATE is not None
    span = core.DisputedSpan(Decimal("2000.00"), date(2026, 5, 1), date(2026, 5, 16))
    accrual = core.accrue(NW_LATE, invoice("10000.00", "2026-03-31"), 30, date(2026, 5, 31), [span])
    assert accrual.interest == Decimal("90.32")
    # still open (or upheld: never owed): 8,000.00 x 1% x 31/31 = 80.00
    still_open = core.DisputedSpan(Decimal("2000.00"), date(2026, 5, 1))
    assert core.accrue(NW_LATE, invoice("10000.00", "2026-03-31"), 30, date(2026, 5, 31), [still_open]).interest == (
        Decimal("80.00"))  # fmt: skip


def test_cpa_10_7_reference_rate_plus_8_points_a_year_and_40_eur_per_invoice():
    # 5,000.00 issued 2026-04-01, due 2026-05-01; on 2026-05-31: 30 days of 2026-H1 at 2.15 + 8 = 10.15% a year:
    # 5,000.00 x 10.15% x 30/365 = 15,225/365 = 41.7123... = 41.71; and EUR 40.00 for the overdue invoice.
    assert CT_LATE is not None
    accrual = core.accrue(CT_LATE, invoice("5000.00", "2026-04-01"), 30, date(2026, 5, 31))
    assert (accrual.days, accrual.interest, accrual.compensation) == (30, Decimal("41.71"), Decimal("40.00"))
    assert accrual.periods[0]["rate_percent"] == "10.15"


def test_cpa_10_7_each_half_year_has_its_own_reference_rate():
    # With 2026-H2 at 2.00: due 2026-06-20; on 2026-07-10: June 21..30 at 10.15%, July 1..10 at 10.00%:
    # 5,000.00 x (0.1015 x 10 + 0.10 x 10) / 365 = 10,075/365 = 27.6027... = 27.60.
    assert CT_LATE is not None
    late = core.LatePayment(CT_LATE.rule, 30, "reference_rate_plus", Decimal("8"),
                            {"2026-H1": Decimal("2.15"), "2026-H2": Decimal("2.00")}, Decimal("40.00"))  # fmt: skip
    accrual = core.accrue(late, invoice("5000.00", "2026-05-21"), 30, date(2026, 7, 10))
    assert accrual.interest == Decimal("27.60")
    assert [(p["period"], p["rate_percent"], p["days"]) for p in accrual.periods] == [
        ("2026-H1", "10.15", 10), ("2026-H2", "10.00", 10)]  # fmt: skip


def test_a_missing_reference_rate_is_never_guessed():
    assert CT_LATE is not None
    accrual = core.accrue(CT_LATE, invoice("5000.00", "2026-05-21"), 30, date(2026, 7, 10))
    assert accrual.interest is None and accrual.missing == ("2026-H2",)
    assert accrual.as_dict()["missing_reference_rates"] == ["2026-H2"]


@pytest.mark.parametrize(("on", "held"), [(date(2026, 5, 30), False), (date(2026, 5, 31), True)])
def test_pa_10_8_credit_hold_when_more_than_30_days_overdue(on, held):
    # due 2026-04-30: on 2026-05-30 it is 30 days overdue (not "more than 30"); on 2026-05-31, 31.
    assert NW_LATE is not None
    found = core.overdue_invoices([invoice("10000.00", "2026-03-31")], {}, 30, on, NW_LATE.credit_hold_days)
    hold = core.credit_hold(NW_LATE, found.get(P1, []), on)
    assert (hold is not None) is held
    if hold is not None:
        assert (hold["clause"], hold["invoice_ids"], hold["days_overdue"]) == ("PA-10.8", ["inv_A"], 31)
        assert "new orders are on credit hold" in hold["message"] and "PA-10.8" in hold["message"]


def test_rebate_withholding_reads_the_same_overdue_notion():
    # PA-7.8 "more than 60 days overdue": due 2026-04-30, on 2026-06-30 61 days overdue (one notion, one answer).
    rule = Withholding.of(NW)
    assert rule is not None
    unpaid = [invoice("10000.00", "2026-03-31")]
    rt = Ledger("2026-07-01T00:00:00Z").rt

    def overdue(on: date) -> dict[str, list[dict[str, object]]]:  # what the settlement run asks (PA-7.8)
        return owing_beyond(rt, "northwind", unpaid, {}, rule.standard_terms_days, on, rule.overdue_days)

    assert overdue(date(2026, 6, 29)) == {}
    assert overdue(date(2026, 6, 30)) == core.overdue_invoices(unpaid, {}, 30, date(2026, 6, 30), 60)
    assert overdue(date(2026, 6, 30))[P1][0]["days_overdue"] == 61


def test_pa_10_8_the_maximum_lawful_rate_applies_if_lower():
    # "1.0% per month or the maximum lawful rate, if lower": with a lawful maximum of 0.5% a month, 10,000.00 overdue
    # all of May (31 of 31 days) bears 10,000.00 x 0.5% = 50.00; a maximum above 1.0% changes nothing (100.00).
    def with_maximum(maximum: str) -> core.LatePayment:
        node = {**NW["billing"]["late_payment"]}
        node["interest"] = {**node["interest"], "max_lawful_percent_per_month": maximum}
        late = core.LatePayment.of({"billing": {"late_payment": node}})
        assert late is not None
        return late

    unpaid = invoice("10000.00", "2026-03-31")
    assert core.accrue(with_maximum("0.5"), unpaid, 30, date(2026, 5, 31)).interest == Decimal("50.00")
    assert core.accrue(with_maximum("1.5"), unpaid, 30, date(2026, 5, 31)).interest == Decimal("100.00")
