"""An auditor's PA-7.10 case over HTTP, written from Northwind's clauses alone: credit notes issued after a Quarter
was settled move it down a volume band, and the next run carries the difference as a separate, referenced line.

PA-7.2: "The rebate is tiered and retroactive: the rate of the highest threshold reached applies to all Qualifying
Revenue of the Quarter, from the first dollar." (USD 100,000.00 to 249,999.99: 1.0%; USD 250,000.00 to 499,999.99:
2.0%.)
PA-7.10: "Where a credit note is issued after a Quarter has been settled and relates to an invoice dated within that
Quarter, the Qualifying Revenue of that Quarter is reduced by the credit note amount and the rebates for that Quarter
are recomputed, including the applicable volume rebate rate, the growth rebate and the caps. The difference between
the recomputed and the settled amount adjusts the next settlement as a separate, referenced line. Settled Quarters are
not reopened".
PA-7.4: a partner approved on 2026-08-01 has its first full Quarter in 2026-Q4: "No growth rebate is earned for any
Quarter up to and including the Partner's first full Quarter", so 2026-Q3 carries the volume rebate only.

Hand computation: partner A (Silver, approved 2026-08-01) ships 220 x NW-SW-24P at 1,250.00 = 275,000.00 on
2026-09-05. Q3 volume rebate: 2.0% x 275,000.00 = 5,500.00 (cap 5.0% x 275,000.00 = 13,750.00 does not bind).
After settlement, three credit notes of 10,000.00 each (8 switches each; SOP-2.5: not above USD 10,000.00, so they
post at once) against that line: Q3 falls to 245,000.00, band 1.0%: 2,450.00. Adjustment: 2,450.00 - 5,500.00 =
-3,050.00.
"""

from __future__ import annotations

import uuid

import pytest
from test_rebates_api import _settle, _statement, tenant  # noqa: F401  (the throwaway rebate tenant fixture)

from billing_support import erp_event, wait_until

pytestmark = pytest.mark.stack


def test_pa_7_10_credit_notes_after_settlement_move_the_quarter_down_a_band(tenant):  # noqa: F811
    tenant.send([{
        "id": "AUD-Q3-A-1", "type": "shipment.confirmed", "occurred_at": "2026-09-05T10:00:00Z",
        "data": {"partner": "A", "order_ref": "SO-AUD-1", "shipped_on": "2026-09-05",
                 "lines": [{"sku": "NW-SW-24P", "quantity": 220}]},
    }])
    tenant.wait_for_accrual("A", "2026-Q3", "5500.00")
    first = _settle(tenant, "2026-Q3")
    assert first.status_code == 201, first.text
    settled = _statement(tenant, tenant.finance, first.json()["settlement_id"], "A").json()["statement"]
    [volume] = [ln for ln in settled["lines"] if ln["program_id"] == "RBT-VOLUME"]
    assert volume["amount"] == "5500.00"

    partner_id = tenant.partner_ids["A"]
    # issued before the run (PA-1.2: the run counts issued invoices; rebate_runs.issue_months_over_http)
    invoices = tenant.finance.get("/v1/invoices", partner_id=partner_id, status="finalized", limit=200).json()["items"]
    (september,) = [i for i in invoices if i["period"] == "2026-09" and i["partner_id"] == partner_id]
    today = tenant.rt.clock.now_iso()[:10]
    sent = []
    for n in range(3):
        data = {"partner_id": partner_id, "credit_note_ref": f"CN-AUD-{n}-{uuid.uuid4().hex[:6]}",
                "invoice_id": september["invoice_id"], "line_no": 1, "reason": "billing_error", "amount": "10000.00",
                "quantity": 8, "issued_on": today, "prepared_by": "auditor@northwind-erp"}
        body = erp_event("credit_note.issued", data, occurred_at=f"{today}T00:00:00Z",
                         erp_id=f"AUD-CN-{n}-{uuid.uuid4().hex[:6]}")
        answer = tenant.erp.post(body)
        assert answer.status_code == 202, answer.text
        sent.append(answer.json()["event_id"])
    wait_until(lambda: all(tenant._status(e) == "processed" for e in sent), 60, what=sent)
    tenant.wait_for_accrual("A", "2026-Q3", "2450.00")  # recomputed: 1.0% x 245,000.00

    second = _settle(tenant, "2026-Q3", run=2)
    assert second.status_code == 201, second.text
    adjusted = _statement(tenant, tenant.finance, second.json()["settlement_id"], "A").json()["statement"]
    [line] = [ln for ln in adjusted["lines"] if ln["program_id"] == "RBT-VOLUME"]
    assert line["kind"] == "adjustment" and line["period"] == "2026-Q3"
    assert (line["previously_settled"], line["recomputed"], line["amount"]) == ("5500.00", "2450.00", "-3050.00")
    assert {"rule_id": "RBT-RETROACTIVE-CREDIT", "clause": "PA-7.10"} in line["rules"]
    assert len(line["references"]["credit_notes"]) == 3  # "a separate, referenced line"
    # "Settled Quarters are not reopened": the first run's statement is as it was
    assert _statement(tenant, tenant.finance, first.json()["settlement_id"], "A").json()["statement"] == settled
