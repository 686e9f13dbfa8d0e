"""Red team, eleventh round: the ERP's `usage.reported` `unit_ids` (API 1.53.0) against a large MSP's month.

SOP-3.1: "an endpoint counts once in a Billing Month if it reported to the monitoring service on any day of that
month"; SOP-3.3's third band is open-ended ("| 3 | above 1,000 | 2.50 |"), so no clause bounds a partner's endpoints.
The month's usage record kept the digest of every endpoint counted so far in one list: past about 20,000 endpoints
the record outgrew the 400 KB an item may hold (held on every engine, DynamoDB's limit) and the event raised
PayloadTooLarge, so that record and every later one of the month was never billed. A fixed clock, the in-memory
runtime (tests/memory_store.Ledger).
"""

from __future__ import annotations

from typing import Any

from memory_store import Ledger

P1 = "ptr_01JBNWPARTNER0000000000001"  # the sample Platinum partner (erp-samples.json)
WHERE = {"tax_location": {"country": "US", "region": "US-WA", "postal_code": "98101"}}
PER_RECORD = 5000  # usage.reported.schema.json: unit_ids "maxItems": 5000


def _ledger() -> Ledger:
    ledger = Ledger("2026-10-01T08:00:00Z")
    data = {"partner_id": P1, "subscription_id": "SUB-SEC", "sku": "NW-SEC-SUITE", "quantity": 1,
            "activated_on": "2026-10-01", "order_ref": "SO-SUB-SEC", **WHERE}  # fmt: skip
    assert ledger.bill("subscription.activated", data, occurred_at="2026-10-01T07:00:00Z")["status"] == "processed"
    return ledger


def _report(ledger: Ledger, day: str, ids: list[str]) -> dict[str, Any]:
    received_at = f"{day}T23:00:00Z"
    ledger.clock.set(received_at)
    return ledger.bill("usage.reported", {
        "partner_id": P1, "subscription_id": "SUB-SEC", "metric": "security_monitoring", "quantity": str(len(ids)),
        "usage_date": day, "unit_ids": ids, **WHERE}, occurred_at=received_at)


def _endpoints(first: int, count: int) -> list[str]:
    return [f"EP-{n:06d}" for n in range(first, first + count)]


def _band_total(endpoints: int) -> str:
    """SOP-3.3: 250 x 3.50, the next 750 x 3.00, every endpoint above 1,000 x 2.50 (the clause's own example: 1,200
    endpoints are USD 3,625.00)."""
    return f"{250 * 3.5 + 750 * 3.0 + (endpoints - 1000) * 2.5:.2f}"


def test_sop_3_1_a_month_of_fifty_thousand_endpoints_is_billed_each_once() -> None:
    """50,000 endpoints report in October, 5,000 new ones a day over ten days, and the first 5,000 again on the
    eleventh (counted already). SOP-3.1 / SOP-3.3: 50,000 endpoint-months, 875.00 + 2,250.00 + 49,000 x 2.50 =
    125,625.00 on November's invoice. Before the fix, the fifth day's record failed with PayloadTooLarge."""
    assert _band_total(1200) == "3625.00"  # the clause's example, so the helper reads the table as it is written
    ledger = _ledger()
    for n in range(10):
        day = f"2026-10-{n + 1:02d}"
        answer = _report(ledger, day, _endpoints(n * PER_RECORD, PER_RECORD))
        assert answer["status"] == "processed", (day, answer)
    assert _report(ledger, "2026-10-11", _endpoints(0, PER_RECORD))["status"] == "processed"
    (line,) = [ln for ln in ledger.invoice(P1, "2026-11")["lines"] if ln.get("sku") == "NW-SEC-MON"]
    assert (line["quantity"], line["amount"]) == ("50000", _band_total(50_000)), line
    assert _band_total(50_000) == "125625.00"


def _month_units(ledger: Ledger) -> tuple[Any, list[Any]]:
    from revgov.services.billing.repository import USAGE, USAGE_UNITS

    usage = ledger.rt.store.get(ledger.tenant_id, USAGE, f"{P1}#security_monitoring#2026-10")
    shards = ledger.rt.store.query(ledger.tenant_id, USAGE_UNITS, limit=100,
                                   prefix=f"{P1}#security_monitoring#2026-10#").items
    return usage, shards


def test_a_month_counted_before_the_shards_keeps_its_endpoints_counted() -> None:
    """A month whose record kept its digests in the usage record (`units_seen`, before this round) counts them still:
    endpoints 1-300 counted so, then a record naming 1-310 adds 10 (SOP-3.1 "counts once"): 310 endpoint-months,
    875.00 + 60 x 3.00 = 1,055.00; the digests move to the month's shards."""
    from revgov.ports import Changes, Delete, Put
    from revgov.services.billing.repository import USAGE, USAGE_UNITS

    ledger = _ledger()
    assert _report(ledger, "2026-10-01", _endpoints(1, 300))["status"] == "processed"
    usage, shards = _month_units(ledger)
    legacy = sorted(d for s in shards for d in (s.data["digests"][i:i + 16]
                                                 for i in range(0, len(s.data["digests"]), 16)))
    assert len(legacy) == 300
    ledger.rt.store.commit(ledger.tenant_id, Changes(
        puts=[Put(USAGE, usage.key, {**usage.data, "units_seen": legacy})],
        deletes=[Delete(USAGE_UNITS, s.key) for s in shards]))
    assert _report(ledger, "2026-10-02", _endpoints(1, 310))["status"] == "processed"
    (line,) = [ln for ln in ledger.invoice(P1, "2026-11")["lines"] if ln.get("sku") == "NW-SEC-MON"]
    assert (line["quantity"], line["amount"]) == ("310", "1055.00"), line
    usage, shards = _month_units(ledger)
    assert "units_seen" not in usage.data and sum(len(s.data["digests"]) for s in shards) == 310 * 16


def test_a_month_past_its_bound_refuses_the_record_by_name_not_with_a_crash() -> None:
    """A month holding 200,000 endpoints (the most one write of its shards keeps within a 4 MB transaction): a
    record adding one more is a rating_failure exception naming the bound and the rule, nothing billed for it; the
    month's shards are unchanged."""
    from revgov.ports import Changes, Put
    from revgov.services.billing.repository import USAGE_UNITS

    ledger = _ledger()
    assert _report(ledger, "2026-10-01", _endpoints(1, 1))["status"] == "processed"
    fill = [f"{shard}{n:015x}" for shard in "0123456789abcdef" for n in range(12_500)]
    ledger.rt.store.commit(ledger.tenant_id, Changes(puts=[
        Put(USAGE_UNITS, f"{P1}#security_monitoring#2026-10#{shard}",
            {"partner_id": P1, "metric": "security_monitoring", "period": "2026-10",
             "digests": "".join(d for d in fill if d[0] == shard)}) for shard in "0123456789abcdef"]))
    before = {s.key: s.data["digests"] for s in _month_units(ledger)[1]}
    refused = _report(ledger, "2026-10-02", _endpoints(2, 1))
    assert refused["status"] == "failed" and "at most 200000" in str(refused), refused
    assert "RATE-SECURITY-MONITORING" in str(refused)
    assert {s.key: s.data["digests"] for s in _month_units(ledger)[1]} == before
    assert "rating_failure" in {x["category"] for x in ledger.exceptions()}
