"""Revenue recognition schedules (domain/billing/recognition.py), worked by hand from the standard's principle.

IFRS 15.31 (ASC 606-10-25-23): "An entity shall recognise revenue when (or as) the entity satisfies a performance
obligation by transferring a promised good or service (ie an asset) to a customer. An asset is transferred when (or
as) the customer obtains control of that asset." Over time where "the customer simultaneously receives and consumes the
benefits provided by the entity's performance as the entity performs" (IFRS 15.35(a): a subscription, ratably by
day); otherwise at a point in time (IFRS 15.38: a shipped product, when control transfers). A change of the
transaction price (a credit note) is allocated like the original, and the part for obligations already satisfied "shall
be recognised as revenue, or as a reduction of revenue, in the period in which the transaction price changes"
(IFRS 15.88).

The rounding rule (docs/billing.md "Revenue recognition"): cents by the largest remainder, each month the floor of its
exact share of the line by days, the cents left over one each to the largest remainders, the earlier month on a tie.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from revgov.domain.billing.periods import ServicePeriod
from revgov.domain.billing.recognition import (
    RecognitionLine,
    allocate,
    balances_at,
    days_by_month,
    line_in_period,
    period_totals,
    schedule,
)


def _line(kind, amount, start, end, billed_in, *, line_id="inv_A.1", references=None):
    return RecognitionLine(
        line_id, "ptr_1", kind, Decimal(amount), ServicePeriod(start, end), billed_in, references_line=references
    )


# A 12-month subscription of 1,200.00 invoiced on the November invoice, service from 16 November 2026 through 15
# November 2027: 365 days, 15 of them in November 2026, 31 in December ... 15 in November 2027.
YEAR = (date(2026, 11, 16), date(2027, 11, 15))
# Exact shares in cents: 120000 x 15/365 = 4931.51, x 31/365 = 10191.78, x 28/365 = 9205.48, x 30/365 = 9863.01.
# The floors sum to 1,199.93; the 7 cents left go to the seven 31-day months (remainder .78, the largest).
YEAR_SCHEDULE = [
    ("2026-11", "49.31"), ("2026-12", "101.92"), ("2027-01", "101.92"), ("2027-02", "92.05"), ("2027-03", "101.92"),
    ("2027-04", "98.63"), ("2027-05", "101.92"), ("2027-06", "98.63"), ("2027-07", "101.92"), ("2027-08", "101.92"),
    ("2027-09", "98.63"), ("2027-10", "101.92"), ("2027-11", "49.31"),
]  # fmt: skip


def test_a_twelve_month_subscription_is_recognised_ratably_by_day_and_sums_to_the_line():
    subscription = _line("subscription", "1200.00", *YEAR, "2026-11")
    assert [(m, f"{a}") for m, a in schedule(subscription)] == YEAR_SCHEDULE
    assert sum(a for _, a in schedule(subscription)) == Decimal("1200.00")
    assert days_by_month(ServicePeriod(*YEAR))[0] == ("2026-11", 15)


def test_billed_in_advance_the_unearned_rest_is_deferred_revenue_a_contract_liability():
    # Billed 1,200.00 in November, earned 49.31 by its end: 1,150.69 deferred; after December 1,048.77.
    subscription = _line("subscription", "1200.00", *YEAR, "2026-11")
    assert balances_at([subscription], "2026-10").deferred == 0
    assert balances_at([subscription], "2026-11").deferred == Decimal("1150.69")
    q4 = period_totals([subscription], ("2026-10", "2026-11", "2026-12"))
    assert q4["recognised"] == "151.23" and q4["billed"] == "1200.00"
    assert q4["opening"] == {"deferred": "0.00", "unbilled": "0.00"}
    assert q4["closing"] == {"deferred": "1048.77", "unbilled": "0.00"}


def test_largest_remainder_gives_the_odd_cent_to_the_earlier_month_on_a_tie():
    months = [("2026-11", 1), ("2026-12", 1), ("2027-01", 1)]
    assert allocate(Decimal("0.10"), months) == [
        ("2026-11", Decimal("0.04")), ("2026-12", Decimal("0.03")), ("2027-01", Decimal("0.03"))
    ]
    assert allocate(Decimal("-0.10"), months)[0] == ("2026-11", Decimal("-0.04"))  # a credit mirrors it


def test_a_credit_note_of_half_reverses_against_the_schedule_with_a_catch_up_in_its_own_month():
    # 600.00 credited on the February 2027 invoice (same service period): by days it is 24.66 for each 15-day
    # November, 50.96 per 31-day month, 46.03 for February, 49.31 per 30-day month (the 10 cents left: the seven
    # 31-day months, the two 15-day Novembers, then February). IFRS 15.88: November to February (24.66 + 50.96 +
    # 50.96 + 46.03 = 172.61) are taken in February, the month the price changed; March on follows the schedule.
    credit = _line("credit_note", "-600.00", *YEAR, "2027-02", line_id="inv_B.1", references="inv_A.1")
    parts = schedule(credit)
    assert [(m, f"{a}") for m, a in parts[:3]] == [("2027-02", "-172.61"), ("2027-03", "-50.96"), ("2027-04", "-49.31")]
    assert parts[-1] == ("2027-11", Decimal("-24.66")) and sum(a for _, a in parts) == Decimal("-600.00")
    original = _line("subscription", "1200.00", *YEAR, "2026-11")
    # Netted per position (IFRS 15.105): billed 600.00, earned 345.20 - 172.61 = 172.59 by February: 427.41 deferred.
    assert balances_at([original, credit], "2027-02").deferred == Decimal("427.41")
    february = period_totals([original, credit], ("2027-02",))
    assert february["recognised"] == "-80.56"  # 92.05 earned less the 172.61 catch-up; January is not restated
    assert period_totals([original, credit], ("2027-01",))["recognised"] == "101.92"


def test_a_credit_of_the_whole_line_in_the_same_month_nets_every_month_to_zero():
    original = _line("subscription", "1200.00", *YEAR, "2026-11")
    credit = _line("credit_note", "-1200.00", *YEAR, "2026-11", line_id="inv_A.2", references="inv_A.1")
    net = {m: a for m, a in schedule(original)}
    for month, part in schedule(credit):
        net[month] += part
    assert set(net.values()) == {Decimal("0.00")}
    assert balances_at([original, credit], "2027-03") == balances_at([], "2027-03")


def test_a_shipment_is_recognised_at_the_point_in_time_it_ships():
    # IFRS 15.38; PA-10.2 "Hardware ... billed on shipment or delivery": the line's service period is that day.
    shipped = _line("shipment", "5000.00", date(2026, 10, 5), date(2026, 10, 5), "2026-10")
    assert schedule(shipped) == [("2026-10", Decimal("5000.00"))]
    assert line_in_period(shipped, ("2026-11",)) is None  # nothing to say of it in November


def test_a_late_shipment_is_revenue_of_the_month_it_shipped_and_unbilled_until_invoiced():
    # PA-10.7: "An event discovered after the invoice for its month was issued is billed on the next invoice with its
    # original service period": shipped 30 October, billed in November. Control transferred in October (IFRS 15.38),
    # so October earns it and holds it as unbilled revenue (a contract asset) until November bills it.
    late = _line("shipment", "500.00", date(2026, 10, 30), date(2026, 10, 30), "2026-11")
    october = period_totals([late], ("2026-10",))
    assert october["recognised"] == "500.00" and october["billed"] == "0.00"
    assert october["closing"] == {"deferred": "0.00", "unbilled": "500.00"}
    november = period_totals([late], ("2026-11",))
    assert november["recognised"] == "0.00" and november["closing"] == {"deferred": "0.00", "unbilled": "0.00"}


def test_usage_billed_in_arrears_is_recognised_in_its_usage_month():
    # PA-10.2 "Usage-based services are billed in arrears for the previous Billing Month": October's usage (1,220.00)
    # is on the November invoice with October as its service period; it is consumed, and earned, in October.
    usage = _line("usage", "1220.00", date(2026, 10, 1), date(2026, 10, 31), "2026-11")
    assert schedule(usage) == [("2026-10", Decimal("1220.00"))]
    share = line_in_period(usage, ("2026-11",))
    assert share == {"recognised": "0.00", "by_month": [], "billed": "1220.00",
                     "balance": {"opening": "-1220.00", "closing": "0.00"}}  # fmt: skip


def test_a_cancellation_credit_on_the_same_invoice_leaves_the_days_served():
    # PA-10.4: "a subscription of USD 300.00 per month cancelled with effect from the end of 20 April is credited USD
    # 300.00 x 10 / 30 = USD 100.00": April earns 200.00, the days served.
    charge = _line("subscription", "300.00", date(2027, 4, 1), date(2027, 4, 30), "2027-04")
    credit = _line("credit", "-100.00", date(2027, 4, 21), date(2027, 4, 30), "2027-04", line_id="inv_A.2",
                   references="inv_A.1")  # fmt: skip
    assert period_totals([charge, credit], ("2027-04",))["recognised"] == "200.00"


def test_a_credit_posted_after_its_month_was_invoiced_is_taken_when_issued_not_in_the_closed_month():
    # The same credit learned in May goes on the May invoice with April's service period: IFRS 15.88, May takes it.
    charge = _line("subscription", "300.00", date(2027, 4, 1), date(2027, 4, 30), "2027-04")
    credit = _line("credit", "-100.00", date(2027, 4, 21), date(2027, 4, 30), "2027-05", line_id="inv_B.1",
                   references="inv_A.1")  # fmt: skip
    assert period_totals([charge, credit], ("2027-04",))["recognised"] == "300.00"
    assert period_totals([charge, credit], ("2027-05",))["recognised"] == "-100.00"


def test_a_quantity_increase_billed_after_its_month_is_still_earned_in_the_days_it_served():
    # PA-10.3: "Quantity increases during a period are prorated in the same way from the date the increase takes
    # effect": 99.00 x 2 seats from 11 November = 132.00, referencing November's charge. Learned after November's
    # invoice was issued it is billed on December's with November's service period (PA-10.7): the seats were used in
    # November, so November earns it (unbilled at its end); it is no change of price, so no catch-up.
    increase = _line("subscription", "132.00", date(2026, 11, 11), date(2026, 11, 30), "2026-12", line_id="inv_B.1",
                     references="inv_A.1")  # fmt: skip
    assert schedule(increase) == [("2026-11", Decimal("132.00"))]
    assert period_totals([increase], ("2026-11",))["closing"] == {"deferred": "0.00", "unbilled": "132.00"}


def test_a_milestone_and_support_overage_are_recognised_on_the_day_completed():
    # IFRS 15.B15 output method "milestones reached" (PA-10.6 bills on acceptance); support hours on the day worked.
    milestone = _line("milestone", "5000.00", date(2026, 10, 22), date(2026, 10, 22), "2026-10")
    overage = _line("support_overage", "375.00", date(2026, 10, 28), date(2026, 10, 28), "2026-10")
    assert schedule(milestone) == [("2026-10", Decimal("5000.00"))] and schedule(overage)[0][0] == "2026-10"


def test_a_service_period_that_ends_before_it_starts_or_an_amount_below_a_cent_is_refused():
    with pytest.raises(ValueError):
        schedule(_line("subscription", "10.00", date(2026, 11, 2), date(2026, 11, 1), "2026-11"))
    with pytest.raises(ValueError):
        allocate(Decimal("10.005"), [("2026-11", 1)])


def test_the_balances_roll_forward_opening_plus_billed_less_recognised_is_closing():
    # A controller's check of any period: contract liabilities less contract assets at the opening, plus what was
    # billed in the period, less what was recognised in it, is the same at the closing -- here over a year's
    # subscription, a credit note against it, a late shipment and usage billed in arrears.
    lines = [
        _line("subscription", "1200.00", *YEAR, "2026-11"),
        _line("credit_note", "-600.00", *YEAR, "2027-02", line_id="inv_B.1", references="inv_A.1"),
        _line("shipment", "500.00", date(2026, 12, 30), date(2026, 12, 30), "2027-01", line_id="inv_C.1"),
        _line("usage", "1220.00", date(2027, 1, 1), date(2027, 1, 31), "2027-02", line_id="inv_B.2"),
    ]
    for months in (("2026-11",), ("2026-10", "2026-11", "2026-12"), ("2027-01", "2027-02", "2027-03"), ("2027-12",)):
        figures = period_totals(lines, months)

        def net(at, figures=figures):
            return Decimal(figures[at]["deferred"]) - Decimal(figures[at]["unbilled"])

        assert net("opening") + Decimal(figures["billed"]) - Decimal(figures["recognised"]) == net("closing"), months
    q1 = period_totals(lines, ("2027-01", "2027-02", "2027-03"))
    # opening (end of 2026): 1,200.00 billed less 151.23 earned = 1,048.77 deferred; the shipment of 30 December is
    # earned and not billed: 500.00 unbilled.
    assert q1["opening"] == {"deferred": "1048.77", "unbilled": "500.00"}
