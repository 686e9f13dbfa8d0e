"""The pure billing core: proration, cancellation credits, usage rating, milestones, overage and invoices.

Every expected amount is worked out by hand in the comment beside it (the contract examples where there is one).
"""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from revgov.domain import billing
from revgov.domain.billing import BillingPolicy, LineDraft, RateTable, ServicePeriod
from revgov.domain.errors import Conflict, RuleViolation
from revgov.domain.rules import Rule
from revgov.domain.time import instant, next_period, period_bounds
from revgov.tenant_files import load_tenant_file

TENANTS = Path(__file__).resolve().parents[2] / "tenants"
D = Decimal
RULE = Rule("BILL-FINALIZATION", "SOP-2.2")


@pytest.fixture(scope="module")
def northwind():
    return BillingPolicy.from_policy(load_tenant_file(TENANTS / "northwind" / "tenant.yaml")["policy"])


@pytest.fixture(scope="module")
def contoso():
    return BillingPolicy.from_policy(load_tenant_file(TENANTS / "contoso" / "tenant.yaml")["policy"])


# --- proration ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("monthly", "activated", "amount", "days", "divisor"),
    [
        ("310.00", "2026-03-10", "220.00", 22, 31),  # PA-10.3: 310.00 x 22 / 31
        ("99.00", "2028-02-15", "51.21", 15, 29),  # SOP-2.3: 99.00 x 15 / 29 = 51.2068… (leap year)
        ("45.00", "2026-06-11", "30.00", 20, 30),  # COP-2.3: 45.00 x 20 / 30
        ("310.00", "2026-10-01", "310.00", 31, 31),  # activated on the 1st: the full month
        ("310.00", "2026-10-31", "10.00", 1, 31),  # the last day alone: 310.00 / 31
        ("10.05", "2026-02-15", "5.02", 14, 28),  # 10.05 x 14 / 28 = 5.025: half-even keeps the 2
        ("10.15", "2026-02-15", "5.08", 14, 28),  # 10.15 x 14 / 28 = 5.075: half-even goes to the 8
    ],
)
def test_activation_is_prorated_by_day_from_the_activation_day_to_month_end(monthly, activated, amount, days, divisor):
    charge = billing.prorate(D(monthly), date.fromisoformat(activated))
    assert (charge.amount, charge.days, charge.divisor) == (D(amount), days, divisor)
    assert charge.period.start == date.fromisoformat(activated) and charge.period.end.day == divisor


# --- cancellation credits ------------------------------------------------------------------------------------
def _month(period):
    return ServicePeriod.month(period)


@pytest.mark.parametrize(
    ("monthly", "effective", "billed", "amount", "days"),
    [
        ("300.00", "2026-04-20", _month("2026-04"), "100.00", 10),  # PA-10.4: 300.00 x 10 / 30 (21..30 April)
        ("45.00", "2026-06-25", _month("2026-06"), "7.50", 5),  # COP-2.3: 45.00 x 5 / 30
        ("310.00", "2026-10-20", ServicePeriod(date(2026, 10, 10), date(2026, 10, 31)), "110.00", 11),  # 310 x 11/31
        ("310.00", "2026-10-05", ServicePeriod(date(2026, 10, 10), date(2026, 10, 31)), "220.00", 22),  # all billed
    ],
)
def test_cancellation_credits_the_billed_full_days_after_the_effective_day(monthly, effective, billed, amount, days):
    credit = billing.cancellation_credit(D(monthly), date.fromisoformat(effective), billed)
    assert credit is not None and (credit.amount, credit.days) == (D(amount), days)
    assert credit.period.end == billed.end


def test_a_cancellation_effective_on_the_last_billed_day_or_later_credits_nothing():
    assert billing.cancellation_credit(D("300.00"), date(2026, 4, 30), _month("2026-04")) is None  # SOP-2.4
    assert billing.cancellation_credit(D("300.00"), date(2026, 5, 12), _month("2026-04")) is None


def test_a_credit_for_the_whole_billed_period_equals_its_prorated_charge():
    charge = billing.prorate(D("99.00"), date(2028, 2, 15))
    credit = billing.cancellation_credit(D("99.00"), date(2028, 2, 1), charge.period)
    assert credit is not None and credit.amount == charge.amount == D("51.21")


# --- usage rating ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("quantity", "amount"),
    [
        ("12500", "1220.00"),  # SOP-3.2: 1000 x 0.12 + 9000 x 0.10 + 2500 x 0.08
        ("60000", "4820.00"),  # SOP-3.2: 120 + 900 + 3200 + 10000 x 0.06
        ("1000", "120.00"),  # exactly the first band
        ("1000.2", "120.10"),  # rounded up to 1001 units (SOP-3.1): 120.00 + 1 x 0.10
        ("0", "0.00"),
    ],
)
def test_cloud_compute_is_rated_with_graduated_bands(northwind, quantity, amount):
    assert billing.rate_usage(northwind.usage["cloud_compute"], D(quantity)).amount == D(amount)


def test_the_other_sop_examples_rate_to_the_cent(northwind, contoso):
    assert billing.rate_usage(northwind.usage["security_monitoring"], D(1200)).amount == D("3625.00")  # SOP-3.3
    assert billing.rate_usage(contoso.usage["data_processing"], D(8000)).amount == D("2390.00")  # COP-3.2
    assert billing.rate_usage(contoso.usage["data_storage"], D(15000)).amount == D("560.00")  # COP-3.3


def test_band_charges_explain_the_amount(northwind):
    rating = billing.rate_usage(northwind.usage["cloud_compute"], D("12500"))
    assert [(b.units, b.rate, b.amount) for b in rating.bands] == [
        (D(1000), D("0.12"), D("120.00")),
        (D(9000), D("0.10"), D("900.00")),
        (D(2500), D("0.08"), D("200.00")),
    ]


def _table(model):
    return RateTable.from_policy(
        {
            "id": "RATE-TEST",
            "clause": "SOP-3.2",
            "metric": "m",
            "unit": "u",
            "sku": "SKU-1",
            "family": "f",
            "model": model,
            "quantity_rounding": "none",
            "bands": [
                {"up_to": 1000, "rate": "0.12"},
                {"up_to": 10000, "rate": "0.10"},
                {"up_to": None, "rate": "0.08"},
            ],
        }
    )


@pytest.mark.parametrize(
    ("quantity", "amount"),
    [
        ("12500", "1000.00"),  # every unit at the third band's 0.08
        ("1000", "120.00"),  # 1000 x 0.12: the bound belongs to the lower band
        ("1001", "100.10"),  # 1001 x 0.10: one more unit drops the whole quantity to band 2
        ("0.5", "0.06"),  # no rounding of the quantity: 0.5 x 0.12
    ],
)
def test_a_volume_table_rates_every_unit_at_the_band_the_total_falls_in(quantity, amount):
    assert billing.rate_usage(_table("volume"), D(quantity)).amount == D(amount)


def test_rate_tables_must_end_open_and_increase():
    base = {"id": "R-X", "clause": "SOP-3.2", "metric": "m", "unit": "u", "sku": "S-1", "family": "f"}
    with pytest.raises(ValueError, match="open-ended"):
        RateTable.from_policy({**base, "model": "graduated", "bands": [{"up_to": 10, "rate": "1"}]})
    with pytest.raises(ValueError, match="increase"):
        RateTable.from_policy(
            {
                **base,
                "model": "graduated",
                "bands": [{"up_to": 10, "rate": "1"}, {"up_to": 5, "rate": "1"}, {"up_to": None, "rate": "1"}],
            }
        )


# --- milestones, support, periods ---------------------------------------------------------------------------------
def test_milestones_are_a_share_of_the_statement_of_work(northwind, contoso):
    assert billing.milestone_amount(D("12500.00"), northwind.milestones["deployment"]) == D("5000.00")  # 40%
    assert billing.milestone_amount(D("333.33"), northwind.milestones["kickoff"]) == D("100.00")  # 99.999
    assert billing.milestone_amount(D("4000.00"), contoso.milestones["go_live"]) == D("2000.00")  # 50% (CPA-10.5)
    assert sum(northwind.milestones.values()) == sum(contoso.milestones.values()) == 100


@pytest.mark.parametrize(
    ("used", "hours", "allowance", "over"),
    [("0", "12.5", "10", "2.5"), ("8", "4", "10", "2"), ("12", "1", "10", "1"), ("2", "3", "10", "0")],
)
def test_only_hours_beyond_the_quarters_allowance_are_overage(used, hours, allowance, over):
    assert billing.overage_hours(D(used), D(hours), D(allowance)) == D(over)


def test_periods_and_quarters():
    assert next_period("2026-12") == "2027-01"
    assert period_bounds("2028-02") == (date(2028, 2, 1), date(2028, 2, 29))
    assert billing.quarter_of(date(2026, 10, 28)) == "2026-Q4"
    assert not billing.period_ended("2026-11", instant("2026-11-30T23:59:59Z"))
    assert billing.period_ended("2026-11", instant("2026-12-01T00:00:00Z"))
    assert billing.sla_due("2026-10-05T14:20:00Z", 48) == "2026-10-07T14:20:00.000Z"


# --- invoices -----------------------------------------------------------------------------------------------
def _draft(amount, kind="shipment"):
    return LineDraft(
        kind=kind,
        description="x",
        family="networking",
        sku="NW-SW-24P",
        quantity=D(1),
        unit_price=D(amount),
        amount=D(amount),
        cost=None,
        service_period=ServicePeriod.day(date(2026, 10, 5)),
        order_ref="SO-1",
        rules=(Rule("PRICE-NW-SW-24P", "PA-6.1"),),
    )


def _invoice():
    return billing.new_invoice(
        invoice_id="inv_01JB0000000000000000000000",
        partner_id="ptr_1",
        period="2026-10",
        currency="USD",
        opened_at="2026-10-05T15:00:00.000Z",
    )


def test_lines_are_numbered_on_and_move_the_total():
    invoice, first = billing.add_lines(
        _invoice(),
        [_draft("1250.00"), _draft("-110.00", "credit")],
        event_id="evt_1",
        erp_event_id="E-1",
        posted_at="t",
    )
    invoice, second = billing.add_lines(
        invoice, [_draft("220.00")], event_id="evt_2", erp_event_id="E-2", posted_at="t"
    )
    assert [line["line_id"] for line in first + second] == [f"{invoice['invoice_id']}.{n}" for n in (1, 2, 3)]
    assert (invoice["line_count"], invoice["total"]) == (3, "1360.00")
    assert first[1]["amount"] == "-110.00" and first[0]["event_ids"] == ["evt_1"]
    assert first[0]["service_period"] == {"start": "2026-10-05", "end": "2026-10-05"}


def test_a_rerated_line_keeps_its_number_and_moves_the_total_by_the_difference():
    invoice, (line,) = billing.add_lines(
        _invoice(), [_draft("96.00", "usage")], event_id="evt_1", erp_event_id="E-1", posted_at="t1"
    )
    invoice, rerated = billing.rerate_line(
        invoice, line, _draft("170.00", "usage"), event_id="evt_2", erp_event_id="E-2", at="t2"
    )
    assert (rerated["number"], rerated["amount"], invoice["total"]) == (1, "170.00", "170.00")
    assert rerated["event_ids"] == ["evt_1", "evt_2"] and rerated["posted_at"] == "t1"


def test_finalize_only_after_month_end_never_at_zero_and_only_once():
    invoice, _ = billing.add_lines(_invoice(), [_draft("5000.00")], event_id="e", erp_event_id="E", posted_at="t")
    with pytest.raises(RuleViolation, match="has not ended"):
        billing.finalize(invoice, actor="finance:k", at="2026-10-31T23:00:00.000Z", rule=RULE)
    with pytest.raises(RuleViolation, match=r"0\.00 is not issued"):
        billing.finalize(_invoice(), actor="finance:k", at="2026-11-02T00:00:00.000Z", rule=RULE)
    final = billing.finalize(invoice, actor="finance:k", at="2026-11-01T00:00:00.000Z", rule=RULE)
    assert (final["status"], final["finalized_by"]) == ("finalized", "finance:k")
    with pytest.raises(Conflict):
        billing.finalize(final, actor="finance:k", at="2026-11-02T00:00:00.000Z", rule=RULE)
    with pytest.raises(Conflict):
        billing.add_lines(final, [_draft("1.00")], event_id="e2", erp_event_id="E2", posted_at="t")


def test_a_billing_policy_whose_milestones_do_not_total_100_is_refused():
    policy = load_tenant_file(TENANTS / "northwind" / "tenant.yaml")["policy"]
    policy["billing"]["milestones"]["schedule"]["acceptance"] = 20
    with pytest.raises(ValueError, match="total 100"):
        BillingPolicy.from_policy(policy)
    with pytest.raises(ValueError, match="no billing section"):
        BillingPolicy.from_policy({"partner_tiers": []})


def test_every_rule_of_both_billing_policies_cites_a_clause(northwind, contoso):
    for book in (northwind, contoso):
        rules = [
            book.sla,
            book.invoicing,
            book.finalization,
            book.late_events,
            book.proration,
            book.cancellation,
            book.milestone_rule,
            book.overage,
            *(p.rule for p in book.catalog.items()),
            *(t.rule for t in book.usage.values()),
            *(s.rule for s in book.services.values()),
        ]
        assert all(r.rule_id and r.clause for r in rules)
    assert northwind.sla_hours == contoso.sla_hours == 48


def test_a_discounted_shipment_line_is_billed_at_net_price_and_keeps_how_it_was_sold(northwind):
    data = {
        "order_ref": "SO-7",
        "shipped_on": "2026-10-06",
        "channel": "sales_agent",
        "lines": [
            {"sku": "NW-SW-24P", "quantity": 3, "discount_percent": "7.5", "promotions": ["NET-REFRESH-26"]},
            {"sku": "NW-FW-200", "quantity": 1},
        ],
    }
    discounted, plain = billing.shipment_drafts(northwind, data)
    assert discounted.amount == D("3468.75")  # 1,250.00 x 92.5% = 1,156.25 a unit, x 3
    assert discounted.cost == D("2700.00") and discounted.unit_price == D("1156.25")
    assert (discounted.channel, discounted.promotions, discounted.discount_percent) == (
        "sales_agent",
        ("NET-REFRESH-26",),
        D("7.5"),
    )
    assert (plain.amount, plain.promotions, plain.discount_percent) == (D("3400.00"), (), None)  # list price
    invoice, (line, _) = billing.add_lines(
        _invoice(), [discounted, plain], event_id="e", erp_event_id="E", posted_at="t"
    )
    fact = billing.sales_fact(line, invoice, event_id="e")
    assert (fact["channel"], fact["promotions"], fact["discount_percent"]) == ("sales_agent", ["NET-REFRESH-26"], "7.5")
    assert fact["net_amount"] == "3468.75"


def test_only_an_issued_invoice_can_be_paid_and_it_keeps_the_day():
    invoice, _ = billing.add_lines(_invoice(), [_draft("5000.00")], event_id="e", erp_event_id="E", posted_at="t")
    with pytest.raises(RuleViolation, match="only an issued"):
        billing.mark_paid(invoice, paid_on="2026-11-20", payment_ref=None, rule=RULE)
    final = billing.finalize(invoice, actor="finance:k", at="2026-11-01T00:00:00.000Z", rule=RULE)
    assert final["paid_on"] is None
    paid = billing.mark_paid(final, paid_on="2026-11-20", payment_ref="RCPT-1", rule=RULE)
    assert (paid["status"], paid["paid_on"], paid["payment_ref"]) == ("finalized", "2026-11-20", "RCPT-1")


def test_a_draft_whose_lines_net_to_0_00_is_not_issued_and_holds_no_rebate_run():
    # SOP-2.2: "Invoices with a total of USD 0.00 are not issued" (COP-2.2 "Invoices totalling EUR 0.00 are not
    # issued"): the clause names the total, not the lines, so a shipment and its full credit on one draft is not issued.
    # PA-1.2: Qualifying Revenue is "Invoiced Revenue for invoices dated in that period, net of all credit notes": the
    # net of such lines is 0.00, so leaving them out of rebate bases moves no figure (docs/billing.md).
    from revgov.domain.rebates.drafts import holding

    invoice, _ = billing.add_lines(_invoice(), [_draft("5000.00")], event_id="e1", erp_event_id="E1", posted_at="t")
    invoice, _ = billing.add_lines(
        invoice, [_draft("-5000.00", kind="credit_note")], event_id="e2", erp_event_id="E2", posted_at="t"
    )
    assert invoice["total"] == "0.00"
    with pytest.raises(RuleViolation, match=r"0\.00 is not issued"):
        billing.finalize(invoice, actor="finance:k", at="2026-11-02T00:00:00.000Z", rule=RULE)
    assert holding([invoice]) == []
