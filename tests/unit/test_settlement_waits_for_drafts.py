"""PA-1.2: "'Qualifying Revenue' for a period means Invoiced Revenue for invoices dated in that period"; PA-7.1: "for
invoices dated within the Quarter". A draft is not yet invoiced and has no date: it is dated when it is issued.
SOP-2.1: "The monthly invoice must be finalised and issued within 48 hours after the end of the Billing Month";
SOP-7.1: "by M + 48 hours, monthly invoices are finalised and issued"; SOP-7.2: preliminary figures by Q + 10 days,
the run approved by Q + 30. So every invoice of the Quarter is issued before a run of it is due, and a run prepared
while one is still a draft is refused (409 problem+json naming the drafts), nothing written; SOP-2.2: "Invoices with a
total of USD 0.00 are not issued", so such a draft never holds the run.

By hand: P1 (platinum) buys 30 x NW-SRV-R2 (hardware, SPIFF-eligible) on 2026-09-05; the September invoice is still a
draft on 2026-10-10: the 2026-Q3 run is refused, no settlement prepared. Issued on 2026-10-10 (the date it gets), the
run is prepared: 30 units x USD 40.00 = 1,200.00 SPIFF (PA-7.5).
"""

from __future__ import annotations

import pytest

from memory_store import Ledger
from rebate_runs import settle_approved
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Conflict
from revgov.services import billing, rebates

P1 = "ptr_01JBNWPARTNER0000000000001"
FINANCE = Principal("northwind", Role.FINANCE, "key_fin8d")


def _september() -> tuple[Ledger, str]:
    ledger = Ledger("2026-09-05T12:00:00Z")
    data = {"partner_id": P1, "order_ref": "SO-8D-1", "shipped_on": "2026-09-05",
            "lines": [{"sku": "NW-SRV-R2", "quantity": 30}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", data, occurred_at="2026-09-05T10:00:00Z")["status"] == "processed"
    return ledger, str(ledger.invoice(P1, "2026-09")["invoice_id"])


def test_pa_1_2_a_run_is_refused_while_an_invoice_of_the_quarter_is_a_draft():
    ledger, invoice_id = _september()
    ledger.clock.set("2026-10-10T09:00:00Z")
    with pytest.raises(Conflict) as refused:
        rebates.settle(ledger.rt, FINANCE, {"period": "2026-Q3"})
    extra = refused.value.extra
    assert (extra["refusal"], extra["clause"], extra["draft_count"]) == ("invoices_not_issued", "PA-1.2", 1)
    assert [(d["invoice_id"], d["partner_id"], d["period"]) for d in extra["draft_invoices"]] == [
        (invoice_id, P1, "2026-09")]
    listed = rebates.list_settlements(ledger.rt, FINANCE, period="2026-Q3", partner_id=None, status=None, limit=50,
                                      cursor=None)
    assert listed["items"] == []  # nothing prepared
    # issued, it is dated and counts: 30 units x 40.00
    billing.finalize_invoice(ledger.rt, FINANCE, invoice_id)
    status, run = settle_approved(ledger.rt, FINANCE, {"period": "2026-Q3"})
    assert status == 201 and run["status"] == "settled"
    statement = rebates.get_settlement(ledger.rt, FINANCE, run["settlement_id"], P1)["statement"]
    assert {ln["program_id"]: ln["amount"] for ln in statement["lines"]}["RBT-HW-SPIFF"] == "1200.00"
