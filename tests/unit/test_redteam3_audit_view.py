"""Red team (redteam3): what a partner reads of its audit records keeps its own deadlines.

SOP-6.1: a dispute is "acknowledged within 1 business day"; the `invoice_dispute.acknowledged` record keeps that
deadline as `acknowledge_by` (an instant). docs/audit.md / domain/audit_view.py mask who acted (`actor`, `by`,
`…_by`) to the team, never a key id (PA-11.1); a field named `…_by` that holds an instant is a deadline, not an actor,
and PA-12.1 provides the partner with the record, deadline included.
"""

from __future__ import annotations

from revgov.domain.audit_view import partner_view

P1 = "ptr_01JBNWPARTNER0000000000001"
KEY = "key_01JBNWSTAFF0000000000000A"


def test_a_deadline_named_by_is_kept_and_an_actor_named_by_reads_as_its_team():
    record = {"record_id": "aud_1", "seq": 9, "actor": f"finance:{KEY}", "action": "invoice_dispute.acknowledged",
              "subject": "ivd_1", "partner_id": P1, "outcome": "open",
              "inputs": {"acknowledged_at": "2026-12-07T03:56:42.432Z", "acknowledge_by": "2026-12-08T03:56:42.419Z",
                         "decide_by": "2026-12-21", "next_settlement": {"due_by": "2027-02-14"},
                         "decided_by": f"legal:{KEY}", "reviewed_by": "jane.doe@northwind.example"}}  # fmt: skip
    shown = partner_view(record, P1)["inputs"]
    assert shown["acknowledge_by"] == "2026-12-08T03:56:42.419Z"
    assert shown["decide_by"] == "2026-12-21" and shown["next_settlement"] == {"due_by": "2027-02-14"}
    assert shown["decided_by"] == "legal" and shown["reviewed_by"] == "staff"


def test_anything_else_with_a_colon_or_an_at_sign_in_a_by_field_still_reads_as_a_team():
    record = {"record_id": "aud_2", "seq": 10, "actor": "ERP:JSMITH", "action": "x", "subject": "ivd_1",
              "partner_id": P1, "outcome": "o",
              "inputs": {"prepared_by": "ERP:JSMITH", "approved_by": "2026-12-08 by jane@northwind.example",
                         "due_by": "2026-12-08T03:56:42.419Z; finance:" + KEY}}  # fmt: skip
    shown = partner_view(record, P1)
    assert shown["actor"] == "staff" and shown["inputs"]["prepared_by"] == "staff"
    assert shown["inputs"]["approved_by"] == "staff" and shown["inputs"]["due_by"] == "staff"
