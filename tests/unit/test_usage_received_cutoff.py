"""The late-usage cut-off counts from when Revgov received a usage record, not from the usage day the ERP reports.

SOP-3.1 (northwind): "Usage records received up to 5 calendar days after the end of the month are included in that
month's rating; later records are rated in the next run as an adjustment carrying their original service period."
COP-3.1 (contoso): "Records received up to 3 calendar days after month end are rated with that month; later records
are rated the following month as adjustments carrying their original service period."
SOP-7.1: "on the 5th calendar day, the late usage cut-off under SOP-3.1 applies; on the 6th calendar day, usage for
month M is rated and posted to the open invoice of the following month" (COP-7.1: the 3rd and the 4th).
PA-1.3 / CPA-1.3: times are UTC, "a day runs from 00:00:00 to 23:59:59 UTC".
SOP-3.2's example: "12,500 CUH are charged 1,000 x 0.12 + 9,000 x 0.10 + 2,500 x 0.08 = USD 1,220.00."
SOP-3.4: "A usage adjustment for a previous month is rated as the difference between the re-rated total for that month
and the total already invoiced".

Every record here carries an honest `occurred_at` (the usage day); the receipt is the clock when intake took it.
A fixed clock: nothing depends on today's date. Runs on SQLite and DynamoDB too (tests/integration/test_engine_parity).
"""

from __future__ import annotations

from memory_store import Ledger
from revgov.services import erp

PARTNER = "ptr_01JBNWPARTNER0000000000001"


def _northwind() -> Ledger:
    ledger = Ledger("2026-10-01T08:00:00Z")
    activation = {"partner_id": PARTNER, "subscription_id": "SUB-CUT-1", "sku": "NW-CLOUD-PLATFORM", "quantity": 1,
                  "activated_on": "2026-10-01", "order_ref": "SO-CUT-1"}  # fmt: skip
    assert ledger.receive("subscription.activated", activation, occurred_at="2026-10-01T07:00:00Z")["status"] == (
        "processed"
    )
    return ledger


def _usage(ledger: Ledger, cuh: str, used_on: str, received_at: str) -> str:
    """A record of `used_on` (its honest occurred_at: that evening), received by Revgov at `received_at`."""
    ledger.clock.set(received_at)
    data = {"partner_id": PARTNER, "subscription_id": "SUB-CUT-1", "metric": "cloud_compute", "quantity": cuh,
            "usage_date": used_on}  # fmt: skip
    answer = ledger.receive("usage.reported", data, occurred_at=f"{used_on}T23:00:00Z")
    assert answer["status"] == "processed", answer
    return str(answer["event_id"])


def _cuh_lines(ledger: Ledger, period: str) -> list[dict]:
    return [ln for ln in ledger.invoice(PARTNER, period)["lines"] if ln["kind"] in ("usage", "usage_adjustment")]


def _has_invoice(ledger: Ledger, period: str) -> bool:
    from revgov.services import billing

    return ledger.rt.store.get(ledger.tenant_id, billing.INVOICE_KEYS, f"{PARTNER}#{period}") is not None


def test_sop_3_1_october_usage_received_at_the_end_of_5_november_is_rated_with_october():
    # 10,000 CUH on time, 2,500 more for 31 October received 2026-11-05T23:59:59Z, the last second of the 5th
    # calendar day after month end: "included in that month's rating": one line of 12,500 CUH = 1,220.00 on the
    # open invoice of the following month (SOP-7.1), no cut-off cited.
    ledger = _northwind()
    _usage(ledger, "10000", "2026-10-15", "2026-10-16T06:00:00Z")
    _usage(ledger, "2500", "2026-10-31", "2026-11-05T23:59:59Z")
    (line,) = _cuh_lines(ledger, "2026-11")
    assert (line["kind"], line["amount"], line["quantity"]) == ("usage", "1220.00", "12500")
    assert line["service_period"] == {"start": "2026-10-01", "end": "2026-10-31"}
    assert "BILL-USAGE-CUTOFF" not in line["rule_ids"]
    assert not _has_invoice(ledger, "2026-12")


def test_sop_3_1_october_usage_received_on_6_november_is_an_adjustment_with_octobers_service_period():
    # The same record received 2026-11-06T00:00:00Z, the 6th calendar day: "rated in the next run as an adjustment
    # carrying their original service period". The run of the 6 December (SOP-7.1: November's usage, "posted to the
    # open invoice of the following month") posts to December: 1,220.00 re-rated less 1,020.00 invoiced = 200.00
    # (SOP-3.4), service period October; November's line stays 10,000 CUH = 1,000 x 0.12 + 9,000 x 0.10 = 1,020.00.
    ledger = _northwind()
    _usage(ledger, "10000", "2026-10-15", "2026-10-16T06:00:00Z")
    _usage(ledger, "2500", "2026-10-31", "2026-11-06T00:00:00Z")
    assert [(ln["kind"], ln["amount"]) for ln in _cuh_lines(ledger, "2026-11")] == [("usage", "1020.00")]
    (adjustment,) = _cuh_lines(ledger, "2026-12")
    assert (adjustment["kind"], adjustment["amount"], adjustment["quantity"]) == ("usage_adjustment", "200.00", "2500")
    assert adjustment["service_period"] == {"start": "2026-10-01", "end": "2026-10-31"}
    assert "BILL-USAGE-CUTOFF" in adjustment["rule_ids"] and "SOP-3.1" in adjustment["clauses"]


def test_sop_3_1_a_record_sent_on_20_november_with_an_honest_october_occurred_at_is_late():
    # The reviewer's case: the ERP sends a 30 October record on 20 November, `occurred_at` 2026-10-30T23:00:00Z.
    # Received after the 5 November cut-off: not on November's invoice, an adjustment on December's.
    ledger = _northwind()
    _usage(ledger, "10000", "2026-10-15", "2026-10-16T06:00:00Z")
    event_id = _usage(ledger, "2500", "2026-10-30", "2026-11-20T10:00:00Z")
    assert [(ln["kind"], ln["amount"]) for ln in _cuh_lines(ledger, "2026-11")] == [("usage", "1020.00")]
    (adjustment,) = _cuh_lines(ledger, "2026-12")
    assert (adjustment["kind"], adjustment["amount"]) == ("usage_adjustment", "200.00")
    assert event_id in adjustment["event_ids"]
    # The receipt is kept with the event (the copy kept for replay and its deduplication record), in every engine.
    kept = ledger.rt.store.get(ledger.tenant_id, erp.INBOUND, event_id)
    assert kept is not None and kept.data["detail"]["received_at"] == "2026-11-20T10:00:00.000Z"
    assert kept.data["detail"]["occurred_at"] == "2026-10-30T23:00:00Z"


def test_sop_3_1_a_replayed_late_record_stays_late():
    # Replaying the record (revgov events replay) on 7 November re-publishes it with its receipt: received on 6
    # November, it stays late whenever it is replayed; a record received on time stays on time when replayed later.
    from revgov.services import billing

    ledger = _northwind()
    _usage(ledger, "10000", "2026-10-15", "2026-10-16T06:00:00Z")
    on_time = _usage(ledger, "1", "2026-10-31", "2026-11-05T12:00:00Z")
    ledger.clock.set("2026-11-20T00:00:00Z")
    replayed = erp.republish(ledger.rt, ledger.tenant_id, on_time, "test")
    assert replayed.events[0].detail["received_at"] == "2026-11-05T12:00:00.000Z"
    bus_event = {"source": erp.SOURCE, "detail-type": "usage.reported",
                 "detail": {**replayed.events[0].detail, "tenant_id": ledger.tenant_id, "event_id": on_time,
                            "occurred_at": "2026-10-31T23:00:00Z"}}  # fmt: skip
    billing.bill_erp_event(ledger.rt, bus_event)  # settled before: answered as a duplicate, billed once
    (line,) = _cuh_lines(ledger, "2026-11")
    assert (line["kind"], line["quantity"]) == ("usage", "10001")
    assert not _has_invoice(ledger, "2026-12")


def test_cop_3_1_contoso_counts_3_days_from_receipt():
    # COP-3.1: "up to 3 calendar days after month end". November data-platform usage (COP-3.2: 8,000 DPU = 2,390.00)
    # then 1,000 DPU more for 30 November: received 2026-12-03T23:59:59Z, rated with November (9,000 DPU = 200.00 +
    # 1,440.00 + 4,000 x 0.25 = 2,640.00); received 2026-12-04T00:00:00Z, the 250.00 difference on January's invoice.
    for received_at, december, january in (
        ("2026-12-03T23:59:59Z", ["2640.00"], None),
        ("2026-12-04T00:00:00Z", ["2390.00"], ("usage_adjustment", "250.00")),
    ):
        ledger = _contoso()
        _contoso_usage(ledger, "8000", "2026-11-20", "2026-11-21T06:00:00Z")
        _contoso_usage(ledger, "1000", "2026-11-30", received_at)
        lines = [ln for ln in ledger.invoice(CT_PARTNER, "2026-12")["lines"] if ln.get("sku") == "CT-DATA-DPU"]
        assert [ln["amount"] for ln in lines] == december, received_at
        if january is None:
            from revgov.services import billing

            assert ledger.rt.store.get("contoso", billing.INVOICE_KEYS, f"{CT_PARTNER}#2027-01") is None
        else:
            (line,) = [ln for ln in ledger.invoice(CT_PARTNER, "2027-01")["lines"] if ln.get("sku") == "CT-DATA-DPU"]
            assert (line["kind"], line["amount"]) == january
            assert line["service_period"] == {"start": "2026-11-01", "end": "2026-11-30"}
            assert "COP-3.1" in line["clauses"]


CT_PARTNER = "ptr_01JBCTRCPT0000000000000A01"


def _contoso() -> Ledger:
    from revgov.ports import Changes, Put

    ledger = Ledger("2026-11-02T09:00:00Z", tenant="contoso")
    certs = {c: {"cert_id": c, "holder": "R. Receipt", "earned_at": "2025-01-01", "expires_at": "2027-12-31"}
             for c in ("cert-collab-associate", "cert-secops-analyst", "cert-data-engineer", "cert-devices-field")}
    partner = {"partner_id": CT_PARTNER, "legal_name": "Receipt Data GmbH", "partner_type": "msp", "status": "active",
               "tier": "elite", "country": "DE", "activated_at": "2025-01-01T00:00:00Z", "certifications": certs}
    ledger.rt.store.commit("contoso", Changes(puts=[Put("PARTNER", CT_PARTNER, partner)]))
    activation = {"partner_id": CT_PARTNER, "subscription_id": "SUB-RCPT-1", "sku": "CT-DATA-WORKSPACE",
                  "quantity": 1, "activated_on": "2026-11-02", "order_ref": "SO-RCPT-1"}  # fmt: skip
    assert ledger.receive("subscription.activated", activation, occurred_at="2026-11-02T08:00:00Z")["status"] == (
        "processed"
    )
    return ledger


def _contoso_usage(ledger: Ledger, dpu: str, used_on: str, received_at: str) -> None:
    ledger.clock.set(received_at)
    data = {"partner_id": CT_PARTNER, "subscription_id": "SUB-RCPT-1", "metric": "data_processing", "quantity": dpu,
            "usage_date": used_on}  # fmt: skip
    assert ledger.receive("usage.reported", data, occurred_at=f"{used_on}T22:00:00Z")["status"] == "processed"


def test_an_event_received_before_receipts_were_carried_uses_the_receipt_kept_with_its_id():
    # An event stored before 1.46.0 has no `received_at` on its bus event; its deduplication record kept the receipt
    # (`received_at`): received on 5 November, billed on the 20th (parked, replayed), it is on time.
    from revgov.services import billing, tenants

    ledger = _northwind()
    _usage(ledger, "10000", "2026-10-15", "2026-10-16T06:00:00Z")
    ledger.clock.set("2026-11-05T20:00:00Z")
    data = {"partner_id": PARTNER, "subscription_id": "SUB-CUT-1", "metric": "cloud_compute", "quantity": "2500",
            "usage_date": "2026-10-31"}  # fmt: skip
    event = {"id": "NW-OLD-1", "type": "usage.reported", "occurred_at": "2026-10-31T23:00:00Z", "data": data}
    received = erp.accept(ledger.rt, tenants.load_tenant(ledger.rt, ledger.tenant_id)[0], event)
    stored = ledger.rt.store.get(ledger.tenant_id, erp.INBOUND, received["event_id"])
    assert stored is not None
    old = {**stored.data, "detail": {k: v for k, v in stored.data["detail"].items() if k != "received_at"}}
    ledger.clock.set("2026-11-20T10:00:00Z")
    assert billing.bill_erp_event(ledger.rt, old)["status"] == "processed"
    (line,) = _cuh_lines(ledger, "2026-11")
    assert (line["kind"], line["amount"]) == ("usage", "1220.00")
    assert not _has_invoice(ledger, "2026-12")
