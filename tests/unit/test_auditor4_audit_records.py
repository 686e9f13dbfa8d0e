"""Auditor 4: PA-12.1 / CPA-12.1, what the audit trail gives about one partner.

PA-12.1: "The Distributor keeps an audit trail of every automated decision and approval under this Agreement and
provides the Partner, on request, with the records relating to the Partner." CPA-12.1: "Contoso keeps an audit trail
of every automated decision and approval and provides the Partner with its own records on request."
"""

from __future__ import annotations

from memory_store import Ledger
from revgov.services import audit

P1 = "ptr_01JBNWPARTNER0000000000001"


def _ledger_with_a_shipment() -> Ledger:
    ledger = Ledger("2026-10-05T10:00:00Z")
    data = {"partner_id": P1, "order_ref": "SO-AUD-1", "shipped_on": "2026-10-05",
            "lines": [{"sku": "NW-SW-24P", "quantity": 1}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", data, occurred_at="2026-10-05T09:00:00Z")["status"] == "processed"
    return ledger


def test_pa_12_1_every_automated_billing_decision_is_in_the_audit_trail_with_its_rules() -> None:
    # Held: the posting of the shipment's line is an audit record naming the rules and clauses applied (PA-14.2).
    ledger = _ledger_with_a_shipment()
    records = audit.list_records(ledger.rt, "northwind", subject=None, limit=200, cursor=None)["items"]
    posted = [r for r in records if r["action"] == "invoice_lines.posted"]
    assert posted and "PA-6.1" in posted[0]["clauses"]


def test_pa_12_1_the_records_relating_to_a_partner_can_be_listed() -> None:
    ledger = _ledger_with_a_shipment()
    # PA-12.1 "the records relating to the Partner": listed by the partner they concern (was: by subject only, where
    # an invoice posting stands under its invoice's id and was found by nobody asking for the partner)
    records = audit.list_records(ledger.rt, "northwind", subject=None, partner_id=P1, limit=200, cursor=None)["items"]
    posted = [r for r in records if r["action"] == "invoice_lines.posted"]
    assert posted and all(r["partner_id"] == P1 for r in records)
    assert posted[0]["subject"] != P1  # found through the partner, not the subject
    other = "ptr_01JBNWPARTNER0000000000002"
    others = audit.list_records(ledger.rt, "northwind", subject=None, partner_id=other, limit=200, cursor=None)
    assert others["items"] == []
    assert audit.verify_chain(ledger.rt, "northwind")["valid"] is True
