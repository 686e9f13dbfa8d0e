"""A partner's tier review (`GET /v1/partners/{id}/tier-review`, and the staff outlook of its performance summary)
measures that partner's revenue from its own invoices' sales facts, not from every sales fact the tenant billed.

PA-3.6: the review uses "Annual Revenue for the previous Program Year"; PA-1.2: "A Partner's "Annual Revenue" for a
Program Year is the sum of its Qualifying Revenue for the four Quarters of that Program Year", "net of all credit notes
issued against those invoices, whenever issued". The scenario is tests/unit/test_auditor5_tier_review.py's: 10 x
NW-SRV-R2 at USD 5,200.00 shipped 2026-08-05 (52,000.00), a credit note of 5,200.00 issued 2027-01-10 against that
August line, one more server shipped 2027-01-05 (not in the basis): Annual Revenue 2026 = 46,800.00. Partner 2's
shipments in the same months are no part of it (PA-11.1), and reading them is work that grows with the tenant: the
reads are counted (the team's standard: store calls, not time).
"""

from __future__ import annotations

from datetime import date

from memory_store import Ledger
from revgov.domain.access import Principal, Role
from revgov.services import billing
from revgov.services import tier_review as review_service
from store_counting import Counting

P1, P2 = "ptr_01JBNWPARTNER0000000000001", "ptr_01JBNWPARTNER0000000000002"
CHANNEL_OPS = Principal("northwind", Role.CHANNEL_OPS, "key_ops")


def _ship(ledger: Ledger, partner_id: str, ref: str, day: str, quantity: int) -> None:
    data = {"partner_id": partner_id, "order_ref": ref, "shipped_on": day,
            "lines": [{"sku": "NW-SRV-R2", "quantity": quantity}],
            "tax_location": {"country": "US", "region": "US-GA"}}  # fmt: skip
    assert ledger.bill("shipment.confirmed", data, occurred_at=f"{day}T10:00:00Z")["status"] == "processed"


def _reviewed(rivals: int) -> tuple[dict[str, object], Counting]:
    ledger = Ledger("2026-08-05T12:00:00Z")
    _ship(ledger, P1, "SO-TR-1", "2026-08-05", 10)
    for n in range(rivals):  # partner 2's lines on its own August invoice
        _ship(ledger, P2, f"SO-RIVAL-{n}", "2026-08-05", 1)
    august = ledger.invoice(P1, "2026-08")
    ledger.clock.set("2027-01-05T12:00:00Z")
    _ship(ledger, P1, "SO-TR-2", "2027-01-05", 1)
    ledger.clock.set("2027-01-10T12:00:00Z")
    credit = {"partner_id": P1, "credit_note_ref": "CN-TR-1", "invoice_id": august["invoice_id"], "line_no": 1,
              "reason": "billing_error", "amount": "5200.00", "quantity": 1, "issued_on": "2027-01-10"}
    assert ledger.bill("credit_note.issued", credit, occurred_at="2027-01-10T09:00:00Z")["status"] == "processed"
    ledger.clock.set("2027-01-20T12:00:00Z")
    with Counting(ledger.rt.store) as counted:
        found = review_service.review(ledger.rt, CHANNEL_OPS, P1, date(2027, 1, 20))
    return found, counted


def test_the_review_reads_the_partners_own_facts_whatever_the_tenant_billed() -> None:
    alone, quiet = _reviewed(rivals=0)
    crowded, busy = _reviewed(rivals=30)
    assert alone["revenue"] == crowded["revenue"] == "46800.00"  # 52,000.00 - 5,200.00 (PA-1.2)
    assert (crowded["outcome"], crowded["qualified_tier"]) == ("downgrade", "registered")
    assert not [p for p in busy.partitions if p.startswith(f"{billing.SALES_FACTS}#")], busy.partitions
    assert (dict(busy.calls), busy.documents) == (dict(quiet.calls), quiet.documents)
