"""COP-3.1: contoso storage is billed in GB-months, "the average stored volume over the month", from daily records.

COP-3.1: "Data-platform processing is measured in data processing units (DPU) and storage in gigabyte-months
(GB-month), the average stored volume over the month. Source systems send usage records daily; duplicates are removed
by event id. Monthly quantities are summed per Partner across its End Customers and rounded up to a whole unit.
Records received up to 3 calendar days after month end are rated with that month; later records are rated the
following month as adjustments carrying their original service period."
COP-3.3: "| 1 | first 1,000 | 0.05 | 2 | next 9,000 (1,001 to 10,000) | 0.04 | 3 | above 10,000 | 0.03 |"

A daily storage record is the volume stored that day (GB); the month's GB-months are the sum over the month's days of
the day's volume across the partner's End Customers, divided by the days in the month (a day without a record stored
nothing: docs/billing.md), rounded up to a whole GB-month, rated once. Before, the records were summed as DPU are:
1,000 GB stored all November billed 30,000 GB-month (50.00 + 360.00 + 600.00 = 1,010.00) instead of 1,000 (50.00).
Figures by hand; driven through the billing use case on the in-memory engine (tests/memory_store.py), fixed clock.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from test_auditor4_contoso_billing import PARTNER, _activate, _ledger, _lines

from memory_store import Ledger
from revgov.domain.billing.rating import RateTable
from revgov.domain.policy_whatif_usage import billed
from revgov.services import erp, tenants


def _storage_ledger(*subs: str) -> Ledger:
    ledger = _ledger("2026-11-01T08:00:00Z")
    for sub in subs:  # one data-platform subscription per End Customer
        _activate(ledger, sub, "CT-DATA-WORKSPACE", "2026-11-01", at="2026-11-01T07:00:00Z")
    return ledger


def _stored(ledger: Ledger, sub: str, gb: str, day: date, received_at: str | None = None) -> dict:
    """The day's stored volume of one End Customer, received (by default) at 06:00 the next day."""
    at = received_at or f"{day + timedelta(days=1)}T06:00:00Z"
    ledger.clock.set(at)
    data = {"partner_id": PARTNER, "subscription_id": sub, "metric": "data_storage", "quantity": gb,
            "usage_date": day.isoformat()}  # fmt: skip
    return ledger.bill("usage.reported", data, occurred_at=at)


def _every_day(ledger: Ledger, sub: str, gb: str, first: date, last: date) -> None:
    day = first
    while day <= last:
        assert _stored(ledger, sub, gb, day)["status"] == "processed"
        day += timedelta(days=1)


def test_cop_3_1_a_30_day_month_of_1000_gb_a_day_is_1000_gb_months_not_30000() -> None:
    # November has 30 days: 30 x 1,000 GB / 30 = 1,000 GB-month = 1,000 x 0.05 = 50.00 (summed: 30,000 GB-month,
    # 50.00 + 360.00 + 20,000 x 0.03 = 1,010.00), on December's invoice (CPA-10.2 "in arrears"), November's period.
    ledger = _storage_ledger("SUB-A")
    _every_day(ledger, "SUB-A", "1000", date(2026, 11, 1), date(2026, 11, 30))
    (line,) = _lines(ledger, "2026-12", "CT-DATA-STORAGE")
    assert (line["kind"], line["quantity"], line["amount"]) == ("usage", "1000", "50.00")
    assert line["service_period"] == {"start": "2026-11-01", "end": "2026-11-30"}
    assert line["detail"]["metered_quantity"] == "30000"  # GB-days, the sum of the daily records
    assert line["detail"]["days_in_month"] == 30


def test_cop_3_1_a_31_day_month_is_averaged_over_31_days_summed_across_end_customers() -> None:
    # December has 31 days. End Customer A stores 1,000 GB every day (31,000 GB-days), End Customer B 3,100 GB on
    # 31 December only: (31,000 + 3,100) / 31 = 1,100 GB-month ("summed per Partner across its End Customers") =
    # 1,000 x 0.05 + 100 x 0.04 = 54.00 on January's invoice (summed records: 34,100 GB-month, 1,133.00; averaged
    # over 30 days: 1,136.67 -> 1,137 GB-month, 55.48).
    ledger = _storage_ledger("SUB-A", "SUB-B")
    _every_day(ledger, "SUB-A", "1000", date(2026, 12, 1), date(2026, 12, 31))
    assert _stored(ledger, "SUB-B", "3100", date(2026, 12, 31))["status"] == "processed"
    (line,) = _lines(ledger, "2027-01", "CT-DATA-STORAGE")
    assert (line["kind"], line["quantity"], line["amount"]) == ("usage", "1100", "54.00")
    assert line["service_period"] == {"start": "2026-12-01", "end": "2026-12-31"}


def test_cop_3_1_a_day_without_a_record_stored_nothing() -> None:
    # 10,000 GB stored 1-15 November, deleted on the 16th (no record after): 15 x 10,000 / 30 = 5,000 GB-month =
    # 50.00 + 4,000 x 0.04 = 210.00 (the average of the 15 reported days would bill 10,000 GB-month, 410.00, for
    # half a month's storage).
    ledger = _storage_ledger("SUB-A")
    _every_day(ledger, "SUB-A", "10000", date(2026, 11, 1), date(2026, 11, 15))
    (line,) = _lines(ledger, "2026-12", "CT-DATA-STORAGE")
    assert (line["quantity"], line["amount"]) == ("5000", "210.00")


def test_cop_3_1_the_average_is_rounded_up_to_a_whole_gb_month_once() -> None:
    # One record of 1,000 GB on 10 December: 1,000 / 31 = 32.258... -> 33 GB-month = 1.65; in November
    # 1,000 / 30 = 33.33... -> 34 GB-month = 1.70.
    ledger = _storage_ledger("SUB-A")
    assert _stored(ledger, "SUB-A", "1000", date(2026, 11, 10))["status"] == "processed"
    assert _stored(ledger, "SUB-A", "1000", date(2026, 12, 10))["status"] == "processed"
    (november,) = _lines(ledger, "2026-12", "CT-DATA-STORAGE")
    (december,) = _lines(ledger, "2027-01", "CT-DATA-STORAGE")
    assert (november["quantity"], november["amount"]) == ("34", "1.70")
    assert (december["quantity"], december["amount"]) == ("33", "1.65")
    assert november["description"] == "data_storage: 34 GB-month in 2026-11"


def _november_of_1000_gb_a_day() -> Ledger:
    ledger = _storage_ledger("SUB-A", "SUB-B")
    _every_day(ledger, "SUB-A", "1000", date(2026, 11, 1), date(2026, 11, 30))  # 1,000 GB-month: 50.00
    return ledger


def test_cop_3_1_a_late_record_is_next_months_adjustment_of_the_re_averaged_month() -> None:
    # November as above (50.00 on December's invoice). End Customer B's 3,000 GB of 30 November received on
    # 4 December, after the cut-off ("up to 3 calendar days after month end"): November re-averaged (30,000 + 3,000)
    # / 30 = 1,100 GB-month = 54.00, "rated the following month as adjustments carrying their original service
    # period": 54.00 - 50.00 = 4.00, 100 GB-month, on January's invoice (COP-7.1: the run on the 4th posts to the
    # following month's open invoice), November's period, citing COP-3.1.
    ledger = _november_of_1000_gb_a_day()
    answer = _stored(ledger, "SUB-B", "3000", date(2026, 11, 30), "2026-12-04T09:00:00Z")
    assert answer["status"] == "processed", answer
    assert [ln["amount"] for ln in _lines(ledger, "2026-12", "CT-DATA-STORAGE")] == ["50.00"]
    (adjustment,) = _lines(ledger, "2027-01", "CT-DATA-STORAGE")
    assert (adjustment["kind"], adjustment["quantity"], adjustment["amount"]) == ("usage_adjustment", "100", "4.00")
    assert adjustment["service_period"] == {"start": "2026-11-01", "end": "2026-11-30"}
    assert "COP-3.1" in adjustment["clauses"]


def test_cop_3_1_a_record_received_by_the_third_day_after_month_end_re_rates_the_month() -> None:
    # The same record received at 23:59:59 on 3 December is rated with November: December's line becomes 54.00.
    ledger = _november_of_1000_gb_a_day()
    assert _stored(ledger, "SUB-B", "3000", date(2026, 11, 30), "2026-12-03T23:59:59Z")["status"] == "processed"
    (line,) = _lines(ledger, "2026-12", "CT-DATA-STORAGE")
    assert (line["kind"], line["quantity"], line["amount"]) == ("usage", "1100", "54.00")


def test_cop_3_1_duplicates_are_removed_by_event_id() -> None:
    # "duplicates are removed by event id": the same ERP event twice counts once (1,000 / 30 -> 34 GB-month, 1.70).
    ledger = _storage_ledger("SUB-A")
    ledger.clock.set("2026-11-11T06:00:00Z")
    data = {"partner_id": PARTNER, "subscription_id": "SUB-A", "metric": "data_storage", "quantity": "1000",
            "usage_date": "2026-11-10"}  # fmt: skip
    ledger.receive("usage.reported", data, occurred_at="2026-11-10T23:00:00Z", erp_id="ERP-STORAGE-1")
    tenant, _ = tenants.load_tenant(ledger.rt, ledger.tenant_id)
    again = {"id": "ERP-STORAGE-1", "type": "usage.reported", "occurred_at": "2026-11-10T23:00:00Z", "data": data}
    assert erp.accept(ledger.rt, tenant, again)["status"] == "duplicate"
    (line,) = _lines(ledger, "2026-12", "CT-DATA-STORAGE")
    assert (line["quantity"], line["amount"]) == ("34", "1.70")


def test_unit_ids_on_an_averaged_metric_are_refused_and_bill_nothing() -> None:
    ledger = _storage_ledger("SUB-A")
    ledger.clock.set("2026-11-11T06:00:00Z")
    data = {"partner_id": PARTNER, "subscription_id": "SUB-A", "metric": "data_storage", "quantity": "2",
            "usage_date": "2026-11-10", "unit_ids": ["bucket-1", "bucket-2"]}  # fmt: skip
    answer = ledger.bill("usage.reported", data, occurred_at="2026-11-11T06:00:00Z")
    assert answer["status"] == "failed" and "data_storage" in answer["reason"], answer
    assert _lines(ledger, "2026-11", "CT-DATA-STORAGE") == []


def test_the_usage_what_if_rates_the_months_average_as_the_line_does() -> None:
    # The what-if reads the month's usage record (its metered GB-days) and must bill it as the line: 30,000 GB-days
    # of November = 1,000 GB-month = 50.00, cost 1,000 x 0.012 = 12.00; of December (31 days): 968 GB-month = 48.40.
    node = {"id": "RATE-DATA-STORAGE", "clause": "COP-3.3", "metric": "data_storage", "unit": "GB-month",
            "sku": "CT-DATA-STORAGE", "family": "data-platform", "model": "graduated", "counting": "average_daily",
            "quantity_rounding": "up_to_whole_unit", "unit_cost": "0.012",
            "bands": [{"up_to": 1000, "rate": "0.05"}, {"up_to": 10000, "rate": "0.04"},
                      {"up_to": None, "rate": "0.03"}]}  # fmt: skip
    tables = {"data_storage": RateTable.from_policy(node)}
    record = {"metric": "data_storage", "quantity": "30000", "period": "2026-11"}
    assert billed(tables, record) == (Decimal("50.00"), Decimal("12.00"))
    assert billed(tables, {**record, "period": "2026-12"})[0] == Decimal("48.40")  # 30,000 / 31 = 967.7 -> 968
