"""A partner's overdue statement (`GET /v1/billing/overdue`) reads that partner's invoices, not every invoice the
tenant issued.

PA-6.7: "Standard payment terms are net 30 days from the invoice date." PA-10.8: "Overdue amounts bear interest at 1.0%
per month ... Where any amount is more than 30 days overdue, new orders are placed on credit hold". P1's September
invoice (2 x NW-SRV-R2 = 10,400.00, tests/overdue_support.py) is issued 2026-10-01, due 2026-10-31, 31 days overdue on
2026-12-01. PA-11.1: one partner's data is not disclosed to another, and another partner's invoices are no part of its
statement. The team's standard for per-request work: it grows with the partner's own records, not the tenant's
(counted store calls, not time).
"""

from __future__ import annotations

import json
from typing import Any

from overdue_support import AS_P1, P2, september
from revgov.ports import Changes, Put
from revgov.services import billing
from revgov.services.billing import overdue
from store_counting import Counting


def _rival_invoices(ledger: Any, template: dict[str, Any], n: int) -> None:
    """`n` issued, unpaid invoices of partner 2, one a month from 2020-01, stored as billing stores an invoice: the
    header listed under `INVOICE#finalized` and the partner's month pointer."""
    puts: list[Put] = []
    for k in range(n):
        period = f"{2020 + k // 12}-{k % 12 + 1:02d}"
        header = {**template, "invoice_id": f"inv_rival{k:04d}", "partner_id": P2, "period": period}
        puts += [billing.invoice_put(header, None),
                 Put(billing.INVOICE_KEYS, f"{P2}#{period}",
                     {"invoice_id": header["invoice_id"], "partner_id": P2, "period": period})]  # fmt: skip
    for start in range(0, len(puts), 50):
        ledger.rt.store.commit("northwind", Changes(puts=puts[start : start + 50]))


def test_the_statement_reads_the_same_whatever_the_other_partners_were_invoiced() -> None:
    answers, reads = [], []
    for rivals in (0, 40):
        ledger, invoice_id = september()
        template = ledger.rt.store.get("northwind", billing.INVOICES, invoice_id).data
        _rival_invoices(ledger, template, rivals)
        ledger.clock.set("2026-12-01T08:00:00Z")
        with Counting(ledger.rt.store) as counted:
            statement = overdue.overdue_statement(ledger.rt, AS_P1, partner_id=None, as_of=None)
        assert [row["invoice_id"] for row in statement["invoices"]] == [invoice_id]
        assert statement["invoices"][0]["days_overdue"] == 31 and statement["credit_hold"]["invoice_ids"] == [
            invoice_id]  # fmt: skip
        assert f"{billing.INVOICES}#finalized" not in counted.partitions  # the tenant's issued invoices: not read
        answers.append(json.dumps(statement).replace(invoice_id, "inv_P1_september"))  # ids differ ledger to ledger
        reads.append((dict(counted.calls), counted.documents))
    assert answers[0] == answers[1]
    assert reads[0] == reads[1], reads
