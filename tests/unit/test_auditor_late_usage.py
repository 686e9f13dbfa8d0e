"""An auditor's COP-3.1 case on the in-memory engine: usage received after the month's cut-off.

COP-3.1: "Records received up to 3 calendar days after month end are rated with that month; later records are rated
the following month as adjustments carrying their original service period." COP-3.2's example: "8,000 DPU are charged
500 x 0.40 + 4,500 x 0.32 + 3,000 x 0.25 = EUR 2,390.00." COP-7.1: usage for M is "rated and posted to the following
month's open invoice on the 4th calendar day".
A fixed clock: nothing depends on today's date.
"""

from __future__ import annotations

from memory_store import Ledger
from revgov.ports import Changes, Put

PARTNER = "ptr_01JBCTAVD1TR000000000000A1"
FAMILY_CERTS = ("cert-collab-associate", "cert-secops-analyst", "cert-data-engineer", "cert-devices-field")
CERTS = {c: {"cert_id": c, "holder": "A. Auditor", "earned_at": "2025-01-01", "expires_at": "2027-12-31"}
         for c in FAMILY_CERTS}  # fmt: skip


def _usage(ledger: Ledger, dpu: str, used_on: str, received_at: str) -> None:
    ledger.clock.set(received_at)
    data = {"partner_id": PARTNER, "subscription_id": "SUB-DATA-1", "metric": "data_processing", "quantity": dpu,
            "usage_date": used_on}  # fmt: skip
    assert ledger.bill("usage.reported", data, occurred_at=received_at)["status"] == "processed"


def test_cop_3_1_a_record_received_after_the_cut_off_is_an_adjustment_on_the_following_months_invoice():
    # 8,000 DPU used in November, received 21 Nov: the December invoice carries 2,390.00 (COP-3.2's example).
    # 1,000 DPU more, used 28 Nov and received 10 Dec (after the 3 Dec cut-off): November re-rated at 9,000 DPU =
    # 200.00 + 1,440.00 + 4,000 x 0.25 = 2,640.00, the difference 250.00 rated the following month, i.e. an adjustment
    # line with service period 2026-11 on the January invoice; December's line stays 2,390.00.
    ledger = _partner_with_data_workspace()
    _usage(ledger, "8000", "2026-11-20", "2026-11-21T06:00:00Z")
    december = [ln for ln in ledger.invoice(PARTNER, "2026-12")["lines"] if ln.get("sku") == "CT-DATA-DPU"]
    assert [ln["amount"] for ln in december] == ["2390.00"]
    _usage(ledger, "1000", "2026-11-28", "2026-12-10T06:00:00Z")
    december = [ln for ln in ledger.invoice(PARTNER, "2026-12")["lines"] if ln.get("sku") == "CT-DATA-DPU"]
    assert [ln["amount"] for ln in december] == ["2390.00"]
    (january,) = [ln for ln in ledger.invoice(PARTNER, "2027-01")["lines"] if ln.get("sku") == "CT-DATA-DPU"]
    assert (january["kind"], january["amount"]) == ("usage_adjustment", "250.00")
    assert january["service_period"] == {"start": "2026-11-01", "end": "2026-11-30"}
    assert "COP-3.1" in january["clauses"]


def _partner_with_data_workspace() -> Ledger:
    ledger = Ledger("2026-11-02T09:00:00Z", tenant="contoso")
    partner = {"partner_id": PARTNER, "legal_name": "Auditor Data GmbH", "partner_type": "msp", "status": "active",
               "tier": "elite", "country": "DE", "activated_at": "2025-01-01T00:00:00Z",
               "certifications": CERTS}  # fmt: skip
    ledger.rt.store.commit("contoso", Changes(puts=[Put("PARTNER", PARTNER, partner)]))
    activation = {"partner_id": PARTNER, "subscription_id": "SUB-DATA-1", "sku": "CT-DATA-WORKSPACE", "quantity": 1,
                  "activated_on": "2026-11-02", "order_ref": "SO-DATA-1"}  # fmt: skip
    answer = ledger.bill("subscription.activated", activation, occurred_at="2026-11-02T08:00:00Z")
    assert answer["status"] == "processed", answer
    return ledger


def test_cop_3_1_a_record_received_on_the_third_day_after_month_end_is_rated_with_that_month():
    # Received 2026-12-03T23:59:59Z: "up to 3 calendar days after month end" -> rated with November, on December's
    # invoice: 9,000 DPU = 2,640.00 in one line (COP-3.4: "Each metric is rated once per Partner per Billing Month").
    ledger = _partner_with_data_workspace()
    _usage(ledger, "8000", "2026-11-20", "2026-11-21T06:00:00Z")
    _usage(ledger, "1000", "2026-11-28", "2026-12-03T23:59:59Z")
    december = [ln for ln in ledger.invoice(PARTNER, "2026-12")["lines"] if ln.get("sku") == "CT-DATA-DPU"]
    assert [ln["amount"] for ln in december] == ["2640.00"]
