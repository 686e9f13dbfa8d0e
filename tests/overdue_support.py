"""The overdue scenario the late-payment tests share: P1's September invoice (2 x NW-SRV-R2 = 10,400.00) issued on
2026-10-01, so due on 2026-10-31 under PA-6.7's net 30; and the events a test's runtime published."""

from __future__ import annotations

from typing import Any

from memory_store import Ledger
from revgov.domain.access import Principal, Role
from revgov.services import billing

P1, P2 = "ptr_01JBNWPARTNER0000000000001", "ptr_01JBNWPARTNER0000000000002"
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")
AS_P1 = Principal("northwind", Role.PARTNER, "key_p1", P1)
AS_P2 = Principal("northwind", Role.PARTNER, "key_p2", P2)


def september() -> tuple[Ledger, str]:
    """A ledger with P1's September invoice issued on 2026-10-01 (unpaid), and its id."""
    ledger = Ledger("2026-09-05T12:00:00Z")
    data = {"partner_id": P1, "order_ref": "SO-1", "shipped_on": "2026-09-05",
            "lines": [{"sku": "NW-SRV-R2", "quantity": 2}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", data, occurred_at="2026-09-05T10:00:00Z")["status"] == "processed"
    ledger.clock.set("2026-10-01T06:00:00Z")
    invoice_id: str = ledger.invoice(P1, "2026-09")["invoice_id"]
    billing.finalize_invoice(ledger.rt, FINANCE, invoice_id)
    return ledger, invoice_id


def published(ledger: Ledger, kind: str) -> list[dict[str, Any]]:
    return [e for e in ledger.rt.publisher.published if e["detail_type"] == kind]  # type: ignore[attr-defined]
