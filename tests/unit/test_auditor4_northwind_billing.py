"""Auditor 4: Northwind billing computed by hand from the clauses, driven through the billing use cases with signed-
event payloads on the in-memory engine (tests/memory_store.py Ledger) and a fixed clock.

Every expected figure below is worked out from the quoted clause, not read off the code.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from memory_store import Ledger
from revgov.domain.access import Principal, Role
from revgov.ports import Changes
from revgov.services import billing, subscription_billing

P1 = "ptr_01JBNWPARTNER0000000000001"  # the sample Platinum partner (erp-samples.json)
FINANCE = Principal("northwind", Role.FINANCE, "key_fin_a4")
# PA-10.1: taxes are "calculated per line on the basis of the ship-to or service location"; the ERP reports it, and
# an event supplied from the sales-tax table's first day (2027-01-01) without one is held (docs/billing.md "Sales tax").
WHERE = {"tax_location": {"country": "US", "region": "US-WA", "postal_code": "98101"}}


def _activate(ledger: Ledger, sub: str, sku: str, on: str, *, quantity: int = 1, at: str | None = None) -> dict:
    data = {"partner_id": P1, "subscription_id": sub, "sku": sku, "quantity": quantity, "activated_on": on,
            "order_ref": f"SO-{sub}", **WHERE}  # fmt: skip
    answer = ledger.bill("subscription.activated", data, occurred_at=at or f"{on}T09:00:00Z")
    assert answer["status"] == "processed", answer
    return answer


def _cancel(ledger: Ledger, sub: str, effective: str, requested_at: str) -> None:
    """subscription.cancelled requested at `requested_at`, with effect from the end of `effective`."""
    ledger.clock.set(requested_at)
    cancel = {"partner_id": P1, "subscription_id": sub, "effective_on": effective}
    assert ledger.bill("subscription.cancelled", cancel, occurred_at=requested_at)["status"] == "processed"


def _usage(ledger: Ledger, metric: str, quantity: str, used_on: str, received_at: str, sub: str = "SUB-CLOUD") -> None:
    ledger.clock.set(received_at)
    data = {"partner_id": P1, "subscription_id": sub, "metric": metric, "quantity": quantity, "usage_date": used_on,
            **WHERE}  # fmt: skip
    answer = ledger.bill("usage.reported", data, occurred_at=received_at)
    assert answer["status"] == "processed", answer


def _lines(ledger: Ledger, period: str, sku: str) -> list[dict[str, Any]]:
    return [ln for ln in ledger.invoice(P1, period)["lines"] if ln.get("sku") == sku]


def _cloud_ledger(at: str = "2026-10-01T08:00:00Z") -> Ledger:
    ledger = Ledger(at)
    _activate(ledger, "SUB-CLOUD", "NW-CLOUD-PLATFORM", "2026-10-01", at="2026-10-01T07:00:00Z")
    return ledger


# --- SOP-3.2: cloud-services usage, every band boundary -----------------------------------------------------------
# SOP-3.2: "| 1 | first 1,000 | 0.12 | 2 | next 9,000 (1,001 to 10,000) | 0.10 | 3 | next 40,000 (10,001 to 50,000) |
# 0.08 | 4 | above 50,000 | 0.06 |" "Each band is charged at its own rate; the band rates are not applied
# retroactively to lower bands."
CLOUD = [
    ("1", "0.12"),  # the first unit of band 1
    ("999", "119.88"),
    ("1000", "120.00"),  # the last unit of band 1, exactly on the boundary
    ("1001", "120.10"),  # the first unit of band 2: 120.00 + 1 x 0.10
    ("10000", "1020.00"),  # 120.00 + 9,000 x 0.10
    ("10001", "1020.08"),  # the first unit of band 3
    ("12500", "1220.00"),  # SOP-3.2's own example
    ("50000", "4220.00"),  # 120.00 + 900.00 + 40,000 x 0.08
    ("50001", "4220.06"),  # the first unit of band 4
    ("60000", "4820.00"),  # SOP-3.2's own example
    ("999.000001", "120.00"),  # SOP-3.1 "rounded up to the next whole unit": 1,000 units
    ("1000.5", "120.10"),  # rounded up to 1,001: the first unit of band 2
]


@pytest.mark.parametrize(("cuh", "amount"), CLOUD)
def test_sop_3_2_cloud_usage_is_rated_graduated_at_every_band_boundary(cuh: str, amount: str) -> None:
    # PA-10.2: "Usage-based services are billed in arrears for the previous Billing Month": October's usage is a line
    # of the November invoice with October as its service period.
    ledger = _cloud_ledger()
    _usage(ledger, "cloud_compute", cuh, "2026-10-15", "2026-10-16T06:00:00Z")
    (line,) = _lines(ledger, "2026-11", "NW-CLOUD-CUH")
    assert (line["kind"], line["amount"]) == ("usage", amount)
    assert line["service_period"] == {"start": "2026-10-01", "end": "2026-10-31"}
    assert "SOP-3.2" in line["clauses"]
    assert not _lines(ledger, "2026-10", "NW-CLOUD-CUH")


def test_sop_3_1_the_month_is_summed_first_and_rounded_up_once_not_per_record() -> None:
    # SOP-3.1: "Monthly usage is the sum of the Partner's records for the Billing Month across all its Customers,
    # rounded up to the next whole unit." Three records of 0.4 CUH are 1.2 CUH, rounded up to 2 units = 0.24 (not
    # 3 units, which rounding each record would give).
    ledger = _cloud_ledger()
    for day in ("2026-10-05", "2026-10-06", "2026-10-07"):
        _usage(ledger, "cloud_compute", "0.4", day, f"{day}T23:00:00Z")
    (line,) = _lines(ledger, "2026-11", "NW-CLOUD-CUH")
    assert (line["quantity"], line["amount"]) == ("2", "0.24")


def test_sop_3_4_a_month_is_rated_once_across_customers_and_records() -> None:
    # SOP-3.4: "Each usage metric is rated once per Partner per Billing Month." Two customers' subscriptions, 600 and
    # 600 CUH: 1,200 CUH rated once = 120.00 + 200 x 0.10 = 140.00, one line (each alone would be 72.00 + 72.00).
    ledger = _cloud_ledger()
    _activate(ledger, "SUB-CLOUD-2", "NW-CLOUD-PLATFORM", "2026-10-01", at="2026-10-01T07:30:00Z")
    _usage(ledger, "cloud_compute", "600", "2026-10-10", "2026-10-11T06:00:00Z")
    _usage(ledger, "cloud_compute", "600", "2026-10-12", "2026-10-13T06:00:00Z", sub="SUB-CLOUD-2")
    lines = _lines(ledger, "2026-11", "NW-CLOUD-CUH")
    assert [(ln["quantity"], ln["amount"]) for ln in lines] == [("1200", "140.00")]


def test_sop_3_4_bands_restart_each_month_and_are_not_shared_between_metrics() -> None:
    # SOP-3.4: "Bands restart at zero each Billing Month and are not shared between metrics."
    # October 900 CUH = 108.00; November 900 CUH = 108.00 again (not 100 x 0.12 + 800 x 0.10).
    # SOP-3.3: October 250 endpoints = 250 x 3.50 = 875.00 in band 1 of its own table, whatever the CUH.
    ledger = _cloud_ledger()
    _activate(ledger, "SUB-SEC", "NW-SEC-SUITE", "2026-10-01", at="2026-10-01T07:30:00Z")
    _usage(ledger, "cloud_compute", "900", "2026-10-10", "2026-10-11T06:00:00Z")
    _usage(ledger, "security_monitoring", "250", "2026-10-10", "2026-10-11T07:00:00Z", sub="SUB-SEC")
    _usage(ledger, "cloud_compute", "900", "2026-11-10", "2026-11-11T06:00:00Z")
    assert [ln["amount"] for ln in _lines(ledger, "2026-11", "NW-CLOUD-CUH")] == ["108.00"]
    assert [ln["amount"] for ln in _lines(ledger, "2026-11", "NW-SEC-MON")] == ["875.00"]
    (december,) = _lines(ledger, "2026-12", "NW-CLOUD-CUH")
    assert (december["amount"], december["service_period"]["start"]) == ("108.00", "2026-11-01")


# SOP-3.3: "| 1 | first 250 | 3.50 | 2 | next 750 (251 to 1,000) | 3.00 | 3 | above 1,000 | 2.50 |"
SECURITY = [
    ("250", "875.00"),
    ("251", "878.00"),
    ("1000", "3125.00"),  # 875.00 + 750 x 3.00
    ("1001", "3127.50"),
    ("1200", "3625.00"),  # SOP-3.3's own example
]


@pytest.mark.parametrize(("endpoints", "amount"), SECURITY)
def test_sop_3_3_security_monitoring_is_rated_graduated_at_every_band_boundary(endpoints: str, amount: str) -> None:
    ledger = Ledger("2026-10-01T08:00:00Z")
    _activate(ledger, "SUB-SEC", "NW-SEC-SUITE", "2026-10-01", at="2026-10-01T07:00:00Z")
    _usage(ledger, "security_monitoring", endpoints, "2026-10-15", "2026-10-16T06:00:00Z", sub="SUB-SEC")
    (line,) = _lines(ledger, "2026-11", "NW-SEC-MON")
    assert line["amount"] == amount and "SOP-3.3" in line["clauses"]


def test_sop_3_4_an_adjustment_is_the_difference_of_the_re_rated_month_not_the_late_units_at_one_rate() -> None:
    # SOP-3.4: "A usage adjustment for a previous month is rated as the difference between the re-rated total for that
    # month and the total already invoiced, so that the graduated bands are applied to the corrected monthly
    # quantity." October 900 CUH = 108.00 on the November invoice, issued. 200 more CUH for October arrive on
    # 10 December: October re-rated at 1,100 CUH = 120.00 + 100 x 0.10 = 130.00; the adjustment is
    # 130.00 - 108.00 = 22.00 (not 200 x 0.12 = 24.00), with October's service period. SOP-3.1: "later records are
    # rated in the next run"; SOP-7.1: "on the 6th calendar day, usage for month M is rated and posted to the open
    # invoice of the following month": the next run after 10 December is 6 January, on the January invoice.
    ledger = _cloud_ledger()
    _usage(ledger, "cloud_compute", "900", "2026-10-20", "2026-10-21T06:00:00Z")
    ledger.clock.set("2026-12-01T10:00:00Z")
    november = ledger.invoice(P1, "2026-11")
    billing.finalize_invoice(ledger.rt, FINANCE, november["invoice_id"])
    _usage(ledger, "cloud_compute", "200", "2026-10-31", "2026-12-10T06:00:00Z")
    (adjustment,) = _lines(ledger, "2027-01", "NW-CLOUD-CUH")
    assert (adjustment["kind"], adjustment["amount"], adjustment["quantity"]) == ("usage_adjustment", "22.00", "200")
    assert adjustment["service_period"] == {"start": "2026-10-01", "end": "2026-10-31"}


def test_sop_7_1_a_late_record_received_before_the_months_rating_run_goes_on_that_months_open_invoice() -> None:
    # SOP-3.1: "later records are rated in the next run as an adjustment carrying their original service period."
    # SOP-7.1: "on the 5th calendar day, the late usage cut-off under SOP-3.1 applies; on the 6th calendar day, usage
    # for month M is rated and posted to the open invoice of the following month". 20 CUH for October received on
    # 2 December (after October's cut-off of 5 November): the next run is 6 December (rating November), which posts
    # to the open December invoice, so the October adjustment is on December's invoice: October 900 + 20 = 920 CUH =
    # 110.40, less 108.00 invoiced = 2.40, October's service period. Received on 6 December (after that run's cut-off)
    # the next run is 6 January: the January invoice.
    ledger = _cloud_ledger()
    _usage(ledger, "cloud_compute", "900", "2026-10-20", "2026-10-21T06:00:00Z")
    ledger.clock.set("2026-12-01T10:00:00Z")
    billing.finalize_invoice(ledger.rt, FINANCE, ledger.invoice(P1, "2026-11")["invoice_id"])
    _usage(ledger, "cloud_compute", "20", "2026-10-31", "2026-12-02T06:00:00Z")
    (adjustment,) = _lines(ledger, "2026-12", "NW-CLOUD-CUH")
    assert (adjustment["kind"], adjustment["amount"]) == ("usage_adjustment", "2.40")
    assert adjustment["service_period"] == {"start": "2026-10-01", "end": "2026-10-31"}
    assert "SOP-3.1" in adjustment["clauses"]
    _usage(ledger, "cloud_compute", "100", "2026-10-31", "2026-12-06T00:00:00Z")
    (january,) = _lines(ledger, "2027-01", "NW-CLOUD-CUH")
    # 1,020 CUH = 120.00 + 20 x 0.10 = 122.00, less 108.00 + 2.40 invoiced = 11.60
    assert (january["kind"], january["amount"]) == ("usage_adjustment", "11.60")


def test_sop_3_1_a_record_received_on_the_fifth_day_is_in_the_month_and_on_the_sixth_an_adjustment() -> None:
    # SOP-3.1: "Usage records received up to 5 calendar days after the end of the month are included in that month's
    # rating; later records are rated in the next run as an adjustment carrying their original service period."
    # 900 CUH (108.00) + 100 CUH received 5 Nov 23:59:59 = 1,000 CUH = 120.00 on November's line; 1 CUH more received
    # 6 Nov: October re-rated at 1,001 = 120.10, an adjustment of 0.10 on the December invoice, October's period.
    ledger = _cloud_ledger()
    _usage(ledger, "cloud_compute", "900", "2026-10-20", "2026-10-21T06:00:00Z")
    _usage(ledger, "cloud_compute", "100", "2026-10-31", "2026-11-05T23:59:59Z")
    assert [ln["amount"] for ln in _lines(ledger, "2026-11", "NW-CLOUD-CUH")] == ["120.00"]
    _usage(ledger, "cloud_compute", "1", "2026-10-31", "2026-11-06T00:00:00Z")
    assert [ln["amount"] for ln in _lines(ledger, "2026-11", "NW-CLOUD-CUH")] == ["120.00"]
    (late,) = _lines(ledger, "2026-12", "NW-CLOUD-CUH")
    assert (late["kind"], late["amount"], late["service_period"]["start"]) == ("usage_adjustment", "0.10", "2026-10-01")
    assert "SOP-3.1" in late["clauses"]


# --- SOP-2.3 / PA-10.3: proration ----------------------------------------------------------------------------------
PRORATION = [
    # SOP-2.3: "USD 99.00 per month activated on 2028-02-15 (a leap year, 29 days) is charged USD 99.00 x 15 / 29 =
    # USD 51.21."
    ("NW-NET-MGMT", "2028-02-15", 1, "51.21"),
    # PA-10.3: "a subscription of USD 310.00 per month activated on 10 March is charged USD 310.00 x 22 / 31 =
    # USD 220.00 for March."
    ("NW-CLOUD-PLATFORM", "2027-03-10", 1, "220.00"),
    # SOP-2.3: "Activations dated on the first day of the month are charged the full monthly price"
    ("NW-NET-MGMT", "2028-02-01", 1, "99.00"),
    # Activation on the last day: one day, both ends included. 99.00 x 1 / 29 = 3.4137... = 3.41 (leap February);
    # 99.00 x 1 / 28 = 3.5357... = 3.54 (2027); 99.00 x 1 / 31 = 3.1935... = 3.19; 99.00 x 1 / 30 = 3.30.
    ("NW-NET-MGMT", "2028-02-29", 1, "3.41"),
    ("NW-NET-MGMT", "2027-02-28", 1, "3.54"),
    ("NW-NET-MGMT", "2026-10-31", 1, "3.19"),
    ("NW-NET-MGMT", "2026-11-30", 1, "3.30"),
    # 7 seats of 300.00 from 2027-02-15: 2,100.00 x 14 / 28 = 1,050.00; from 2028-02-15: 2,100.00 x 15 / 29 =
    # 1,086.2068... = 1,086.21 (rounded once on the line, not per seat: 7 x 155.17 would be 1,086.19).
    ("NW-SEC-SUITE", "2027-02-15", 7, "1050.00"),
    ("NW-SEC-SUITE", "2028-02-15", 7, "1086.21"),
]


@pytest.mark.parametrize(("sku", "on", "quantity", "amount"), PRORATION)
def test_sop_2_3_activation_month_is_prorated_inclusively_by_the_days_of_the_month(
    sku: str, on: str, quantity: int, amount: str
) -> None:
    ledger = Ledger(f"{on}T10:00:00Z")
    _activate(ledger, "SUB-P", sku, on, quantity=quantity)
    (line,) = _lines(ledger, on[:7], sku)
    assert (line["kind"], line["amount"]) == ("subscription", amount)
    assert line["service_period"]["start"] == on
    assert line["service_period"]["end"][:7] == on[:7]


# --- SOP-2.4 / PA-10.4: cancellation credits -----------------------------------------------------------------------
CREDITS = [
    # PA-10.4: "a subscription of USD 300.00 per month cancelled with effect from the end of 20 April is credited
    # USD 300.00 x 10 / 30 = USD 100.00."
    ("NW-SEC-SUITE", "2027-04-01", "2027-04-20", "-100.00"),
    # Leap February: 99.00 cancelled at the end of 15 Feb 2028 credits 16..29 Feb = 14 days: 99.00 x 14 / 29 =
    # 47.7931... = 47.79.
    ("NW-NET-MGMT", "2028-02-01", "2028-02-15", "-47.79"),
    # Effective on the first day: the first day is used, 30 days credited of a 31-day month: 99.00 x 30 / 31 =
    # 95.8064... = 95.81.
    ("NW-NET-MGMT", "2026-12-01", "2026-12-01", "-95.81"),
]


@pytest.mark.parametrize(("sku", "activated", "effective", "credit"), CREDITS)
def test_sop_2_4_cancellation_credits_the_full_days_after_the_effective_day(
    sku: str, activated: str, effective: str, credit: str
) -> None:
    ledger = Ledger(f"{activated}T10:00:00Z")
    _activate(ledger, "SUB-X", sku, activated)
    _cancel(ledger, "SUB-X", effective, f"{effective}T17:00:00Z")
    lines = _lines(ledger, activated[:7], sku)
    (charge,) = [ln for ln in lines if ln["kind"] == "subscription"]
    (credited,) = [ln for ln in lines if ln["kind"] == "credit"]
    assert credited["amount"] == credit
    # SOP-2.4: "issued as a credit note line referencing the original invoice line"
    assert credited["references_line"] == charge["line_id"]


def test_sop_2_4_a_cancellation_effective_on_the_last_day_of_the_month_produces_no_credit() -> None:
    # SOP-2.4: "A cancellation effective on the last day of the month produces no credit." 31 October 2026.
    ledger = Ledger("2026-10-01T10:00:00Z")
    _activate(ledger, "SUB-X", "NW-NET-MGMT", "2026-10-01")
    _cancel(ledger, "SUB-X", "2026-10-31", "2026-10-31T17:00:00Z")
    assert [ln["kind"] for ln in _lines(ledger, "2026-10", "NW-NET-MGMT")] == ["subscription"]
    ledger.clock.set("2026-11-01T00:05:00Z")
    assert subscription_billing.run(ledger.rt, "northwind")["charged"] == 0  # nothing after the cancellation


def _change(ledger: Ledger, sub: str, quantity: int, effective: str) -> None:
    """subscription.changed recorded at 11:00 of its effective day."""
    ledger.clock.set(f"{effective}T12:00:00Z")
    change = {"partner_id": P1, "subscription_id": sub, "quantity": quantity, "effective_on": effective}
    assert ledger.bill("subscription.changed", change, occurred_at=f"{effective}T11:00:00Z")["status"] == "processed"


def test_pa_10_3_a_quantity_increase_is_prorated_from_the_day_it_takes_effect() -> None:
    # PA-10.3: "Quantity increases during a period are prorated in the same way from the date the increase takes
    # effect." 2 seats of NW-NET-MGMT from 1 Feb 2028, 5 seats from 15 Feb: 3 more x 99.00 x 15 / 29 = 153.6206...
    # = 153.62.
    ledger = Ledger("2028-02-01T10:00:00Z")
    _activate(ledger, "SUB-Q", "NW-NET-MGMT", "2028-02-01", quantity=2)
    _change(ledger, "SUB-Q", 5, "2028-02-15")
    amounts = sorted(ln["amount"] for ln in _lines(ledger, "2028-02", "NW-NET-MGMT"))
    assert amounts == ["153.62", "198.00"]


def test_sop_2_4_a_quantity_reduction_credits_the_full_days_after_its_effective_day() -> None:
    # SOP-2.4: "A cancellation or quantity reduction ... The credit ... counts the full days after the effective day
    # to the last day of the service period". 5 seats of 300.00 in April 2027, 2 seats from the end of 20 April:
    # 3 x 300.00 x 10 / 30 = 300.00 credited.
    ledger = Ledger("2027-04-01T10:00:00Z")
    _activate(ledger, "SUB-R", "NW-SEC-SUITE", "2027-04-01", quantity=5)
    _change(ledger, "SUB-R", 2, "2027-04-20")
    amounts = sorted((ln["kind"], ln["amount"]) for ln in _lines(ledger, "2027-04", "NW-SEC-SUITE"))
    assert amounts == [("credit", "-300.00"), ("subscription", "1500.00")]


# --- PA-1.3: rounding once per line, half to even -----------------------------------------------------------------
def test_pa_1_3_a_shipment_line_is_rounded_once_half_to_even() -> None:
    # PA-1.3: "rounded once, at line level, to two decimal places using round-half-to-even. Percentages are applied to
    # the unrounded base". NW-SW-24P at USD 1,250.00 less 12.35%: 1,250.00 x 0.8765 = 1,095.625 -> 1,095.62 (half to
    # even; half-up would give 1,095.63). Three units: 3,750.00 x 0.8765 = 3,286.875 -> 3,286.88 (7 is odd, up).
    ledger = Ledger("2026-10-05T10:00:00Z")
    data = {"partner_id": P1, "order_ref": "SO-HE-1", "shipped_on": "2026-10-05",
            "lines": [{"sku": "NW-SW-24P", "quantity": 1, "discount_percent": "12.35"},
                      {"sku": "NW-RTR-EDGE", "quantity": 1, "discount_percent": "12.35"}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", data, occurred_at="2026-10-05T09:00:00Z")["status"] == "processed"
    data = {"partner_id": P1, "order_ref": "SO-HE-2", "shipped_on": "2026-10-05",
            "lines": [{"sku": "NW-SW-24P", "quantity": 3, "discount_percent": "12.35"}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", data, occurred_at="2026-10-05T09:05:00Z")["status"] == "processed"
    switches = sorted(ln["amount"] for ln in _lines(ledger, "2026-10", "NW-SW-24P"))
    assert switches == ["1095.62", "3286.88"]
    # NW-RTR-EDGE 2,100.00 x 0.8765 = 1,840.65 exactly.
    assert [ln["amount"] for ln in _lines(ledger, "2026-10", "NW-RTR-EDGE")] == ["1840.65"]
    (line,) = [ln for ln in _lines(ledger, "2026-10", "NW-SW-24P") if ln["order_ref"] == "SO-HE-1"]
    # PA-10.1: "Each invoice line identifies the billable event (shipment, ...), the service period where applicable,
    # the order reference and the Product Family." PA-10.2: "Hardware ... billed on shipment".
    assert (line["kind"], line["family"], line["service_period"]) == (
        "shipment", "networking", {"start": "2026-10-05", "end": "2026-10-05"})  # fmt: skip


# --- SOP-2.1 / PA-10.7: invoice timeliness -------------------------------------------------------------------------
def _shipment(ledger: Ledger, shipped_on: str, occurred_at: str, order: str = "SO-SLA-1") -> dict:
    data = {"partner_id": P1, "order_ref": order, "shipped_on": shipped_on,
            "lines": [{"sku": "NW-SW-24P", "quantity": 2}]}  # fmt: skip
    answer = ledger.bill("shipment.confirmed", data, occurred_at=occurred_at)
    assert answer["status"] == "processed", answer
    return answer


def _october_issued_on(at: str) -> Ledger:
    """A ledger whose October invoice (one shipment of 5 October) was issued at `at`; the clock then on 3 November."""
    ledger = Ledger("2026-10-05T10:00:00Z")
    _shipment(ledger, "2026-10-05", "2026-10-05T09:00:00Z", order="SO-OCT")
    ledger.clock.set(at)
    billing.finalize_invoice(ledger.rt, FINANCE, ledger.invoice(P1, "2026-10")["invoice_id"])
    ledger.clock.set("2026-11-03T10:00:00Z")
    return ledger


def _sla_breaches(ledger: Ledger) -> list[dict[str, Any]]:
    return [c for c in ledger.exceptions() if c.get("category") == "invoice_sla_breach"]


@pytest.mark.parametrize(("posted_at", "breach"), [("2026-10-07T09:00:00Z", False), ("2026-10-07T09:00:01Z", True)])
def test_sop_2_1_a_shipment_posted_more_than_48_hours_after_it_occurred_is_a_breach(posted_at: str, breach: bool):
    # SOP-2.1: "A shipment ... must be posted as a line ... within 48 hours of the time the event occurred ... at 48
    # hours it raises an invoice_sla_breach exception." SOP-4.1: "| invoice_sla_breach | finance | 4 |".
    ledger = Ledger(posted_at)
    _shipment(ledger, "2026-10-05", "2026-10-05T09:00:00Z")
    assert [ln["amount"] for ln in _lines(ledger, "2026-10", "NW-SW-24P")] == ["2500.00"]  # 2 x 1,250.00
    found = _sla_breaches(ledger)
    assert bool(found) is breach
    if breach:
        assert (found[0]["queue"], found[0]["sla_hours"]) == ("finance", 4)


def test_pa_10_7_a_shipment_the_erp_records_days_after_it_shipped_is_still_an_invoicing_exception() -> None:
    # SOP-2.1: "within 48 hours of the time the event occurred, as recorded by the source system, not the time it was
    # received". PA-10.7: "A billable event not invoiced within these times is recorded as an invoicing exception
    # ... An event discovered after the invoice for its month was issued is billed on the next invoice with its
    # original service period." Goods shipped on 30 October; the ERP records the event only on 3 November, after
    # October's invoice was issued: the shipment cannot have occurred later than the end of 30 October, so its line
    # was due by 1 November 24:00 at the latest. Posted on 3 November it is late: a line on the November invoice with
    # 30 October as its service period, and an invoice_sla_breach for finance.
    ledger = _october_issued_on("2026-11-01T10:00:00Z")
    _shipment(ledger, "2026-10-30", "2026-11-03T09:00:00Z", order="SO-LATE")
    (late,) = [ln for ln in _lines(ledger, "2026-11", "NW-SW-24P") if ln["order_ref"] == "SO-LATE"]
    assert late["service_period"] == {"start": "2026-10-30", "end": "2026-10-30"}
    assert "PA-10.7" in late["clauses"]
    (breach,) = _sla_breaches(ledger)
    assert breach["queue"] == "finance"


def test_sop_2_1_an_activation_recorded_the_day_it_happened_is_on_time() -> None:
    # The same clock for an activation recorded within its day: activated 2026-10-10, recorded 10 Oct 23:00, posted
    # 12 Oct 22:59 (within 48 hours of the recording): no breach.
    ledger = Ledger("2026-10-12T22:59:00Z")
    _activate(ledger, "SUB-T", "NW-NET-MGMT", "2026-10-10", at="2026-10-10T23:00:00Z")
    assert not _sla_breaches(ledger)


# --- SOP-5.4 / PA-9.2: support overage -----------------------------------------------------------------------------
P2 = "ptr_01JBNWPARTNER0000000000002"  # the sample Registered partner: 10 support hours per Quarter (PA-9.2)


def _support(ledger: Ledger, hours: str, on: str, severity: int, *, approved: bool = False, ticket: str = "T-1"):
    ledger.clock.set(f"{on}T18:00:00Z")
    data = {"partner_id": P2, "ticket_id": ticket, "family": "networking", "hours": hours, "performed_on": on,
            "severity": severity, **({"overage_approved": True} if approved else {}), **WHERE}  # fmt: skip
    answer = ledger.bill("support.logged", data, occurred_at=f"{on}T17:00:00Z")
    assert answer["status"] == "processed", answer


def test_sop_5_4_support_overage_is_billed_at_150_for_approved_hours_in_the_month_performed() -> None:
    # PA-9.2: "Registered 10 hours ... Hours beyond the quarterly allowance are delivered only with the Partner's prior
    # written approval and are billed at USD 150.00 per hour". SOP-5.4: "Severity 1 incidents are always worked; hours
    # above the allowance for a severity 1 incident are billed as overage at USD 150.00 per hour ... Overage hours are
    # billed on the monthly invoice for the month in which they were performed." PA-9.2 names no severity-1
    # exception and prevails over the SOP (PA-1.3; clause audit, eleventh round): the severity-1 hours are approved.
    # 9.5 h (severity 2) in October; 1.25 h severity 1 approved on 3 November: 0.75 h beyond 10 h = 112.50 on
    # November's invoice; 0.25 h severity 3 unapproved: a support_hours_overage exception for customer_success, not
    # billed;
    # 2 h severity 3 approved in December: 300.00 on December's invoice. A new Quarter restarts the allowance
    # (PA-9.2 "Unused hours do not roll over"): 1 h severity 1 on 4 January 2027 is included, no line.
    ledger = Ledger("2026-10-05T18:00:00Z")
    _support(ledger, "9.5", "2026-10-05", 2)
    _support(ledger, "1.25", "2026-11-03", 1, approved=True, ticket="T-2")
    _support(ledger, "0.25", "2026-11-04", 3, ticket="T-3")
    _support(ledger, "2", "2026-12-01", 3, approved=True, ticket="T-4")
    _support(ledger, "1", "2027-01-04", 1, ticket="T-5")

    def overage(period: str) -> list[tuple[str, str, str]]:
        invoice = ledger.invoice(P2, period)["lines"]
        return [(ln["order_ref"], ln["quantity"], ln["amount"]) for ln in invoice if ln["kind"] == "support_overage"]

    assert overage("2026-11") == [("T-2", "0.75", "112.50")]
    assert overage("2026-12") == [("T-4", "2", "300.00")]
    (case,) = [c for c in ledger.exceptions() if c.get("category") == "support_hours_overage"]
    assert (case["queue"], case["sla_hours"]) == ("customer_success", 8)  # SOP-4.1
    with pytest.raises(AssertionError, match="no invoice"):
        ledger.invoice(P2, "2027-01")


# --- PA-10.6: milestones -------------------------------------------------------------------------------------------
def test_pa_10_6_milestones_are_30_40_30_percent_each_rounded_once_on_the_month_accepted() -> None:
    # PA-10.6: "Unless the statement of work provides otherwise, milestones are: 30% on project kickoff, 40% on
    # completion of deployment and 30% on final acceptance." PA-1.3: "Percentages are applied to the unrounded base
    # and the result is rounded at line level." SOW value USD 10,000.05: 30% = 3,000.015 -> 3,000.02 (half to even,
    # 1 is odd); 40% = 4,000.02; 30% = 3,000.02. A fourth milestone, or kickoff again under a new ERP id, would take
    # the SOW beyond 100%: not billed.
    ledger = Ledger("2026-10-01T10:00:00Z")
    steps = (("kickoff", "2026-10-01", "3000.02"), ("deployment", "2026-11-16", "4000.02"),
             ("acceptance", "2026-12-31", "3000.02"), ("kickoff", "2026-12-31", None))  # fmt: skip
    for milestone, accepted, _ in steps:
        ledger.clock.set(f"{accepted}T12:00:00Z")
        data = {"partner_id": P1, "sow_ref": "SOW-A4-NW", "service": "deployment", "family": "networking",
                "milestone": milestone, "sow_value": "10000.05", "accepted_on": accepted}  # fmt: skip
        assert ledger.bill("service.completed", data, occurred_at=f"{accepted}T11:00:00Z")["status"] == "processed"
    for milestone, accepted, amount in steps[:3]:
        lines = [ln for ln in ledger.invoice(P1, accepted[:7])["lines"] if ln["kind"] == "milestone"]
        assert [(ln["detail"]["milestone"], ln["amount"]) for ln in lines] == [(milestone, amount)]
        assert lines[0]["service_period"] == {"start": accepted, "end": accepted} and "PA-10.6" in lines[0]["clauses"]
    assert [c["category"] for c in ledger.exceptions()] == ["milestone_beyond_sow"]


def _new_rate_table(ledger: Ledger, metric: str, bands: list[dict[str, Any]]) -> None:
    """A policy change taking effect now (as an activation writes it): the metric's rate table replaced."""
    import copy
    from dataclasses import replace

    from revgov.domain.tenants import Tenant, policy_version
    from revgov.services.tenant_repository import policy_put, profile_put, stored_profile

    stored = stored_profile(ledger.rt.store, "northwind")
    assert stored is not None
    tenant = Tenant.from_dict(stored.data)
    policy = copy.deepcopy(tenant.policy)
    for table in policy["billing"]["usage_rates"]:
        if table["metric"] == metric:
            table["bands"] = bands
    moved = replace(tenant, config={**tenant.config, "policy": policy}, policy_version=policy_version(policy))
    ledger.rt.store.commit("northwind", Changes(puts=[profile_put(moved, version=stored.version,
                                                                  conflict_detail="test"), policy_put(moved)]))


def test_sop_3_4_a_rate_table_change_never_re_rates_a_closed_month() -> None:
    # SOP-3.4: "Rate table changes take effect only from the first day of a Billing Month and never re-rate closed
    # months." PA-10.5: rate tables "may be changed with 30 days' notice, effective from the first day of a Billing
    # Month." October: 900 CUH at SOP-3.2's table = 108.00 on the November invoice, issued. On 1 December a new table
    # takes effect (0.20 for the first 1,000 CUH, then 0.15). 200 more October CUH arrive late on 10 December: October
    # is re-rated with October's table (1,100 CUH = 130.00), an adjustment of 22.00, not with December's (1,100 CUH
    # = 200.00 + 15.00 = 215.00, which would be an adjustment of 107.00). December's own usage is rated with the new
    # table: 500 CUH in December = 100.00 on the January invoice.
    ledger = _cloud_ledger()
    _usage(ledger, "cloud_compute", "900", "2026-10-20", "2026-10-21T06:00:00Z")
    ledger.clock.set("2026-12-01T00:00:00Z")
    _new_rate_table(ledger, "cloud_compute", [{"up_to": 1000, "rate": "0.20"}, {"up_to": None, "rate": "0.15"}])
    ledger.clock.set("2026-12-01T10:00:00Z")
    billing.finalize_invoice(ledger.rt, FINANCE, ledger.invoice(P1, "2026-11")["invoice_id"])
    _usage(ledger, "cloud_compute", "200", "2026-10-31", "2026-12-10T06:00:00Z")
    _usage(ledger, "cloud_compute", "500", "2026-12-11", "2026-12-12T06:00:00Z")
    january = _lines(ledger, "2027-01", "NW-CLOUD-CUH")
    assert sorted((ln["kind"], ln["service_period"]["start"], ln["amount"]) for ln in january) == [
        ("usage", "2026-12-01", "100.00"),
        ("usage_adjustment", "2026-10-01", "22.00"),
    ]


def test_sop_3_1_zero_usage_charges_nothing() -> None:
    # SOP-3.1 / SOP-3.2: a month of 0 CUH is 0 units in band 1: nothing to pay (SOP-2.2: "Invoices with a total of
    # USD 0.00 are not issued").
    ledger = _cloud_ledger()
    _usage(ledger, "cloud_compute", "0", "2026-10-15", "2026-10-16T06:00:00Z")
    assert sum(Decimal(ln["amount"]) for ln in _lines(ledger, "2026-11", "NW-CLOUD-CUH")) == 0


def test_sop_2_4_a_cancellation_with_a_later_date_credits_that_month_only() -> None:
    # SOP-2.4: "A cancellation ... requested on a given day takes effect at the end of that day unless the Partner
    # specifies a later date." Requested 20 October with effect from the end of 15 November: October is charged in
    # full; November is charged in advance (PA-10.2) and credited 16..30 November: 99.00 x 15 / 30 = 49.50; December
    # is not charged.
    ledger = Ledger("2026-10-01T10:00:00Z")
    _activate(ledger, "SUB-L", "NW-NET-MGMT", "2026-10-01")
    _cancel(ledger, "SUB-L", "2026-11-15", "2026-10-20T11:00:00Z")
    october = [(ln["kind"], ln["amount"]) for ln in _lines(ledger, "2026-10", "NW-NET-MGMT")]
    assert october == [("subscription", "99.00")]
    ledger.clock.set("2026-12-01T00:05:00Z")
    subscription_billing.run(ledger.rt, "northwind")
    november = sorted((ln["kind"], ln["amount"], ln["service_period"]["start"])
                      for ln in _lines(ledger, "2026-11", "NW-NET-MGMT"))  # fmt: skip
    assert november == [("credit", "-49.50", "2026-11-16"), ("subscription", "99.00", "2026-11-01")]
    with pytest.raises(AssertionError, match="no invoice"):
        ledger.invoice(P1, "2026-12")


def test_pa_10_7_an_activation_discovered_after_its_months_invoice_was_issued() -> None:
    # PA-10.7: "An event discovered after the invoice for its month was issued is billed on the next invoice with its
    # original service period." SOP-2.3: 99.00 activated 10 October = 99.00 x 22 / 31 = 70.2580... = 70.26 for
    # 10..31 October. The ERP recorded the activation on 3 November, after October's invoice was issued on 2 November:
    # the October charge is on the November invoice with October's days as service period, and since the line was due
    # by the end of 12 October (SOP-2.1: 48 hours) it is an invoice_sla_breach.
    ledger = _october_issued_on("2026-11-02T10:00:00Z")
    _activate(ledger, "SUB-D", "NW-NET-MGMT", "2026-10-10", at="2026-11-03T09:00:00Z")
    (line,) = [ln for ln in _lines(ledger, "2026-11", "NW-NET-MGMT") if ln["service_period"]["start"] == "2026-10-10"]
    assert (line["amount"], line["service_period"]["end"]) == ("70.26", "2026-10-31")
    assert [c["category"] for c in ledger.exceptions()] == ["invoice_sla_breach"]


def test_sop_5_3_premium_onboarding_for_a_registered_partner_is_out_of_scope_until_a_change_order() -> None:
    # SOP-5.3: "A request is out of scope when the Partner is not entitled to it: for example premium onboarding
    # requested by a Registered or Silver Partner ... raised as an out_of_scope_service exception in the
    # customer_success queue ... Out-of-scope work delivered without an accepted change order is not billed".
    # SOP-4.1: "| out_of_scope_service | customer_success | 8 |". PA-9.3: premium onboarding "may be purchased as a
    # Service at list price": with an accepted change order the milestone is billed: 30% of USD 8,000.00 = 2,400.00.
    ledger = Ledger("2026-10-12T12:00:00Z")
    data = {"partner_id": P2, "sow_ref": "SOW-A4-ONB", "service": "premium_onboarding", "family": "networking",
            "milestone": "kickoff", "sow_value": "8000.00", "accepted_on": "2026-10-12"}  # fmt: skip
    assert ledger.bill("service.completed", data, occurred_at="2026-10-12T11:00:00Z")["status"] == "processed"
    (case,) = [c for c in ledger.exceptions() if c.get("category") == "out_of_scope_service"]
    assert (case["queue"], case["sla_hours"]) == ("customer_success", 8)
    with pytest.raises(AssertionError, match="no invoice"):
        ledger.invoice(P2, "2026-10")
    ordered = {**data, "sow_ref": "SOW-A4-ONB-CO", "change_order_ref": "CO-A4-1"}
    assert ledger.bill("service.completed", ordered, occurred_at="2026-10-12T11:30:00Z")["status"] == "processed"
    (line,) = ledger.invoice(P2, "2026-10")["lines"]
    assert (line["kind"], line["amount"]) == ("milestone", "2400.00")
    # SOP-2.1: a milestone posted within 48 hours: no breach; the out-of-scope one never falls due.
    assert not [c for c in ledger.exceptions() if c.get("category") == "invoice_sla_breach"]


@pytest.mark.parametrize(("start", "changed_to"), [(5, 2), (2, 5)])
def test_pa_10_3_and_10_4_a_quantity_change_then_a_cancellation_nets_the_days_actually_served(start, changed_to):
    # PA-10.3 (increases prorated from the day they take effect, both days included) and PA-10.4 / SOP-2.4 (reductions
    # and cancellations credit the full days after the effective day). NW-SEC-SUITE at USD 300.00, April 2027 (30
    # days): `start` seats from 1 April, `changed_to` seats from the end of 10 April (a reduction) or from 11 April
    # (an increase), cancelled with effect from the end of 20 April. Days served: `start` seats 1..10 April and
    # `changed_to` seats 11..20 April. 5 then 2: 5 x 300 x 10/30 + 2 x 300 x 10/30 = 500.00 + 200.00 = 700.00;
    # 2 then 5: 200.00 + 500.00 = 700.00.
    ledger = Ledger("2027-04-01T10:00:00Z")
    _activate(ledger, "SUB-N", "NW-SEC-SUITE", "2027-04-01", quantity=start)
    effective = "2027-04-10" if changed_to < start else "2027-04-11"
    _change(ledger, "SUB-N", changed_to, effective)
    _cancel(ledger, "SUB-N", "2027-04-20", "2027-04-20T11:00:00Z")
    lines = _lines(ledger, "2027-04", "NW-SEC-SUITE")
    assert sum(Decimal(ln["amount"]) for ln in lines) == Decimal("700.00")
    ledger.clock.set("2027-05-01T00:05:00Z")
    assert subscription_billing.run(ledger.rt, "northwind")["charged"] == 0
