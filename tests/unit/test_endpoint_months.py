"""Clause audit 10: an endpoint counts once in a Billing Month (SOP-3.1), however many daily records name it.

SOP-3.1: "Security monitoring is measured in monitored endpoint-months: an endpoint counts once in a Billing Month if
it reported to the monitoring service on any day of that month. Usage records arrive daily from the source systems as
usage events and are deduplicated by event id." SOP-3.3: "| 1 | first 250 | 3.50 | 2 | next 750 (251 to 1,000) |
3.00 | 3 | above 1,000 | 2.50 |".

Revgov summed every record's quantity: daily records of the endpoints that reported each day counted an endpoint once
per day (docs/clause-audit.md, tenth round). A record may now name its endpoints (`unit_ids`); northwind's
security_monitoring table counts each once per month (`counting: distinct_units`). A record without ids is still
the source's count of endpoints not reported before in the month.
"""

from __future__ import annotations

from typing import Any

from memory_store import Ledger

P1 = "ptr_01JBNWPARTNER0000000000001"  # the sample Platinum partner (erp-samples.json)
WHERE = {"tax_location": {"country": "US", "region": "US-WA", "postal_code": "98101"}}


def _ledger() -> Ledger:
    ledger = Ledger("2026-10-01T08:00:00Z")
    data = {"partner_id": P1, "subscription_id": "SUB-SEC", "sku": "NW-SEC-SUITE", "quantity": 1,
            "activated_on": "2026-10-01", "order_ref": "SO-SUB-SEC", **WHERE}  # fmt: skip
    assert ledger.bill("subscription.activated", data, occurred_at="2026-10-01T07:00:00Z")["status"] == "processed"
    return ledger


def _endpoints(first: int, last: int) -> list[str]:
    return [f"EP-{n:05d}" for n in range(first, last + 1)]


def _report(ledger: Ledger, day: str, received_at: str, ids: list[str] | None = None, *, quantity: str | None = None,
            metric: str = "security_monitoring", sub: str = "SUB-SEC") -> dict[str, Any]:
    ledger.clock.set(received_at)
    data = {"partner_id": P1, "subscription_id": sub, "metric": metric,
            "quantity": quantity if quantity is not None else str(len(ids or [])), "usage_date": day, **WHERE}
    if ids is not None:
        data["unit_ids"] = ids
    return ledger.bill("usage.reported", data, occurred_at=received_at)


def _lines(ledger: Ledger, period: str) -> list[dict[str, Any]]:
    return [ln for ln in ledger.invoice(P1, period)["lines"] if ln.get("sku") == "NW-SEC-MON"]


def test_sop_3_1_an_endpoint_reporting_on_three_days_counts_once_in_the_month() -> None:
    """1 October: endpoints 1-200 report; 2 and 3 October: endpoints 1-300. 300 endpoints reported in October: SOP-3.3
    250 x 3.50 + 50 x 3.00 = 875.00 + 150.00 = 1,025.00 on November's invoice (billed in arrears). Summed per record
    it was 200 + 300 + 300 = 800 endpoint-months: 875.00 + 550 x 3.00 = 2,525.00."""
    ledger = _ledger()
    for day, ids in (("2026-10-01", _endpoints(1, 200)), ("2026-10-02", _endpoints(1, 300)),
                     ("2026-10-03", _endpoints(1, 300))):
        assert _report(ledger, day, f"{day}T23:00:00Z", ids)["status"] == "processed"
    (line,) = _lines(ledger, "2026-11")
    assert (line["amount"], line["quantity"], line["kind"]) == ("1025.00", "300", "usage")
    assert line["detail"]["metered_quantity"] == "300"


def test_sop_3_1_the_count_restarts_each_month() -> None:
    """SOP-3.4: "Bands restart at zero each Billing Month". Endpoints 1-10 in October and again in November: 10 x 3.50
    = 35.00 for each month (October on November's invoice, November on December's)."""
    ledger = _ledger()
    _report(ledger, "2026-10-15", "2026-10-15T23:00:00Z", _endpoints(1, 10))
    _report(ledger, "2026-11-15", "2026-11-15T23:00:00Z", _endpoints(1, 10))
    assert [ln["amount"] for ln in _lines(ledger, "2026-11")] == ["35.00"]
    assert [ln["amount"] for ln in _lines(ledger, "2026-12")] == ["35.00"]


def test_sop_3_1_a_late_record_adds_only_the_endpoints_not_counted_before() -> None:
    """October: endpoints 1-300 (1,025.00, on November's invoice). A record received 7 November, after SOP-3.1's
    5-day cut-off, names endpoints 1-301 for 31 October: one endpoint not counted before. SOP-3.4: October re-rated at
    301 = 1,025.00 + 3.00 = 1,028.00, the adjustment the difference 3.00 (1 unit), October's service period, rated by
    the next run (December's invoice)."""
    ledger = _ledger()
    _report(ledger, "2026-10-20", "2026-10-20T23:00:00Z", _endpoints(1, 300))
    assert _report(ledger, "2026-10-31", "2026-11-07T06:00:00Z", _endpoints(1, 301))["status"] == "processed"
    (adjustment,) = _lines(ledger, "2026-12")
    assert (adjustment["kind"], adjustment["amount"], adjustment["quantity"]) == ("usage_adjustment", "3.00", "1")
    assert adjustment["service_period"] == {"start": "2026-10-01", "end": "2026-10-31"}


def test_a_record_whose_quantity_is_not_its_endpoints_or_ids_on_a_summed_metric_is_not_rated() -> None:
    """The quantity of a record naming its endpoints is how many it names: 3 ids with quantity 5 cannot be counted.
    Cloud compute is summed (SOP-3.2: CUH): a record naming unit ids for it cannot be counted by them. Both are failed
    as rating_failure exceptions, nothing billed."""
    ledger = _ledger()
    mismatch = _report(ledger, "2026-10-10", "2026-10-10T23:00:00Z", _endpoints(1, 3), quantity="5")
    assert mismatch["status"] == "failed" and "3 distinct unit_ids" in str(mismatch), mismatch
    summed = _report(ledger, "2026-10-10", "2026-10-10T23:30:00Z", _endpoints(1, 3), metric="cloud_compute")
    assert summed["status"] == "failed" and "carry no unit_ids" in str(summed), summed
    assert not [ln for ln in ledger.invoice(P1, "2026-10")["lines"] if ln["kind"].startswith("usage")]
    assert "rating_failure" in {x["category"] for x in ledger.exceptions()}


def test_a_record_without_ids_still_adds_its_quantity() -> None:
    """The source may count the month itself: a record without `unit_ids` is the source's count of endpoints not
    reported before in the month (docs/billing.md), added as before: 250 then 50 = 300 endpoint-months, 1,025.00."""
    ledger = _ledger()
    _report(ledger, "2026-10-01", "2026-10-01T23:00:00Z", quantity="250")
    _report(ledger, "2026-10-02", "2026-10-02T23:00:00Z", quantity="50")
    assert [ln["amount"] for ln in _lines(ledger, "2026-11")] == ["1025.00"]
