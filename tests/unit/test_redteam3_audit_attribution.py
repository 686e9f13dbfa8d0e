"""Red team (redteam3): which partner's trail an audit record lands in, and what a partner's list returns.

PA-12.1: the Distributor "provides the Partner, on request, with the records relating to the Partner"; CPA-12.1 "with
its own records"; PA-11.1 / CPA-11.1: one partner's confidential information never reaches another. docs/audit.md:
the backfill derives the partner "from the stored record as sealing derives it now", and sealing gives a partner key's
record to the key's own partner whatever its inputs name (`domain.audit.partner_of`). docs/audit.md: "a page reads only
that partner's records".
"""

from __future__ import annotations

import json

import pytest
from test_auditor_dispute_payment import APPROVER, _note, _upheld
from test_auditor_dispute_payment import P1 as OWNER

from memory_store import Ledger
from overdue_support import P1 as CHARGED
from overdue_support import september
from revgov.domain import audit as audit_domain
from revgov.domain.access import Principal, Role
from revgov.domain.audit import AuditEntry, ChainWalk, partner_pointer
from revgov.ports import Changes, Delete, Put
from revgov.services import audit, audit_backfill, cases
from revgov.services.billing import overdue_charges

P1 = "ptr_01JBNWPARTNER0000000000001"
P2 = "ptr_01JBNWPARTNER0000000000002"
P1_KEY = "key_01JBNWPKEY00000000000000A"
PARTNER = Principal("northwind", Role.PARTNER, P1_KEY, partner_id=P1)
CHARGE_PREPARER = Principal("northwind", Role.FINANCE, "key_fin1")
CHARGE_APPROVER = Principal("northwind", Role.FINANCE, "key_fin2")
RIVAL = Principal("northwind", Role.PARTNER, "key_01JBNWPKEY00000000000000B", partner_id=P2)


def _mine(ledger: Ledger, partner_id: str) -> list[dict]:
    return audit.list_records(ledger.rt, "northwind", subject=None, partner_id=partner_id, limit=50,
                              cursor=None)["items"]  # fmt: skip


def test_the_backfill_gives_a_partner_keys_old_record_to_the_keys_partner_not_to_one_its_inputs_name(monkeypatch):
    ledger = Ledger("2026-10-05T10:00:00Z")
    ledger.rt.commit("northwind", Changes(puts=[Put("KEY", P1_KEY, {"key_id": P1_KEY, "partner_id": P1})]))
    entry = AuditEntry(actor=f"partner:{P1_KEY}", actor_role="partner", action="deal.registration_refused",
                       subject="dl_1", outcome="refused", inputs={"partner_id": P2, "amount": "84000.00"})
    assert audit_domain.partner_of(AuditEntry.by(PARTNER, entry.action, entry.subject, entry.outcome,
                                                 inputs=entry.inputs)) == P1  # fmt: skip  # as sealed now
    with monkeypatch.context() as patched:  # sealed by the version before records named their partner
        patched.setattr(audit_domain, "partner_of", lambda entry: None)
        ledger.rt.commit("northwind", Changes(audit=[entry]))
    audit_backfill.backfill_partner_pointers(ledger.rt, "northwind", actor="operator:cli-test")
    assert [r["subject"] for r in _mine(ledger, P1)] == ["dl_1"]
    assert [r["subject"] for r in _mine(ledger, P2)] == []  # never in the other partner's trail
    assert audit.verify_chain(ledger.rt, "northwind")["valid"] is True


@pytest.mark.parametrize("who", [PARTNER, Principal("northwind", Role.FINANCE, "key_01JBNWSTAFF0000000000000A")])
def test_a_pointer_in_the_wrong_partners_index_does_not_show_the_other_partners_record(who):
    ledger = Ledger("2026-10-05T10:00:00Z")
    (theirs,) = ledger.rt.commit("northwind", Changes(audit=[AuditEntry.by(
        RIVAL, "pricing.checked", "dec_rival", "allow", inputs={"amount": "987654.32"})]))  # fmt: skip
    assert theirs["partner_id"] == P2
    collection, key, data = partner_pointer(theirs, P1)  # a stray pointer: a bad restore, a hand edit
    ledger.rt.commit("northwind", Changes(puts=[Put(collection, key, data)]))
    listed = audit.list_for(ledger.rt, who, subject=None, partner_id=P1, limit=50, cursor=None)["items"]
    assert "987654.32" not in json.dumps(listed) and "dec_rival" not in json.dumps(listed)


def test_pa_7_9_the_credit_note_paying_a_partners_rebate_dispute_is_in_its_trail():
    """PA-7.9: an upheld dispute is paid "by separate credit note"; its preparation and its four-eyes issue are
    records relating to the partner (PA-12.1) whoever in finance took them."""
    ledger, dispute = _upheld()
    note = _note(ledger, dispute)
    cases.decide_case(ledger.rt, APPROVER, "approval", note["approval_id"], "approved", "checked the units")
    mine = {(r["action"], r["subject"]) for r in _mine(ledger, OWNER)}
    assert {("rebate_credit_note.prepared", note["credit_note_id"]),
            ("rebate_credit_note.issued", note["credit_note_id"])} <= mine  # fmt: skip


@pytest.mark.parametrize("outcome", ["approved", "rejected"])
def test_pa_10_8_a_late_payment_charge_decision_is_in_the_partners_trail(outcome):
    """PA-10.8 interest is charged to the Partner; the four-eyes decision on the charge is a record relating to the
    Partner (PA-12.1 "every automated decision and approval")."""
    ledger, invoice_id = september()
    ledger.clock.set("2026-12-01T08:00:00Z")
    charge = overdue_charges.prepare_charge(ledger.rt, CHARGE_PREPARER, {"invoice_id": invoice_id,
                                                                         "through": "2026-11-30"})  # fmt: skip
    cases.decide_case(ledger.rt, CHARGE_APPROVER, "approval", charge["approval_id"], outcome, "checked the ledger")
    mine = {r["action"] for r in _mine(ledger, CHARGED) if r["subject"] == charge["charge_id"]}
    decided = f"late_payment_charge.{'issued' if outcome == 'approved' else 'rejected'}"
    assert {"late_payment_charge.prepared", decided} <= mine


def test_an_edited_partner_id_breaks_the_chain_and_a_deleted_pointer_is_restored_by_the_backfill():
    """docs/audit.md: "`partner_id` is a member of the sealed record, so `hash` covers it: moving a record to another
    partner's trail ... breaks the chain at that record". The pointer is an ordinary item outside the chain: verify does
    not see it go; the full backfill (`revgov maintenance backfill-audit-pointers`) gives the record its pointer again,
    audited."""
    ledger = Ledger("2026-10-05T10:00:00Z")
    checked = AuditEntry.by(PARTNER, "pricing.checked", "dec_1", "allow")
    (mine,) = ledger.rt.commit("northwind", Changes(audit=[checked]))
    collection, key, _ = partner_pointer(mine, P1)
    ledger.rt.commit("northwind", Changes(deletes=[Delete(collection, key)]))
    assert _mine(ledger, P1) == [] and audit.verify_chain(ledger.rt, "northwind")["valid"] is True
    ran = audit_backfill.backfill_partner_pointers(ledger.rt, "northwind", actor="operator:cli-test")
    assert ran["backfilled"] == 1 and [r["subject"] for r in _mine(ledger, P1)] == ["dec_1"]
    records = ledger.rt.store.audit_records("northwind")
    assert records[-1]["action"] == audit_backfill.ACTION and records[-1]["inputs"]["records"] == [
        {"seq": mine["seq"], "partner_id": P1}]
    walked = ChainWalk()
    for record in records:
        walked.add({**record, "partner_id": P2} if record["seq"] == mine["seq"] else record)  # moved to P2's trail
    assert walked.first_invalid is not None and walked.first_invalid["seq"] == mine["seq"]
