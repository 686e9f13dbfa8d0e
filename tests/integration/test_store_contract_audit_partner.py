"""The store contract, continued: each partner's index of the audit records that concern it (PA-12.1 / CPA-12.1), run
unchanged on every backend (SQLite, in memory, DynamoDB on moto).

PA-12.1: "The Distributor keeps an audit trail of every automated decision and approval under this Agreement and
provides the Partner, on request, with the records relating to the Partner." DESIGN.md: "A store commits it all or
nothing, so no state change ever lands without its audit record"; cursors cannot cross lists.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from test_store_contract import BACKENDS, dynamodb_endpoint, make_store  # noqa: F401  (the DynamoDB fixture)

from revgov.adapters.store_base import AUDIT, BaseDocumentStore, Row, dumps, partition
from revgov.adapters.system import RandomIds, SystemClock
from revgov.domain.audit import AuditEntry, partner_index, seal, verify
from revgov.domain.errors import MalformedRequest
from revgov.ports import Changes, Put

A = "ptr_01JBNWPARTNER0000000000001"
B = "ptr_01JBNWPARTNER0000000000002"


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BaseDocumentStore:
    return make_store(request.param, tmp_path, request, SystemClock(), RandomIds(SystemClock()))


def tenant() -> str:
    return f"cp-{uuid.uuid4().hex[:10]}"


def entry(subject: str, **fields: Any) -> AuditEntry:
    return AuditEntry(actor="finance:key_1", action="thing.done", subject=subject, outcome="done", **fields)


def seqs(page: Any) -> list[int]:
    return [int(item.data["seq"]) for item in page.items]


def test_each_record_lists_under_the_partner_it_concerns_in_chain_order(store):
    t = tenant()
    store.commit(t, Changes(audit=[
        entry("inv_1", inputs={"partner_id": A}),  # 1: the inputs name the partner
        entry(B),  # 2: the subject is a partner
        entry("dec_1", partner_id=A),  # 3: the use case names it
        entry("key_1", inputs={"partner_id": None}),  # 4: about no partner
    ]))  # fmt: skip
    store.commit(t, Changes(puts=[Put("THING", "a", {"v": 1})], audit=[entry("dsp_1", partner_id=B)]))  # 5
    assert seqs(store.audit_by_partner(t, A, limit=10, cursor=None)) == [1, 3]
    assert seqs(store.audit_by_partner(t, B, limit=10, cursor=None)) == [2, 5]
    records = list(store.iter_audit_records(t))
    assert [r.get("partner_id") for r in records] == [A, B, A, None, B]
    assert "partner_id" not in records[3]  # no field at all: the record is sealed as before
    assert verify(records, store.audit_head(t)).valid
    assert store.audit_by_partner(tenant(), A, limit=10, cursor=None).items == []  # another tenant: nothing


def test_a_partners_pages_follow_its_own_cursor_and_refuse_anyone_elses(store):
    t = tenant()
    store.commit(t, Changes(audit=[entry(f"dec_{i}", partner_id=A if i % 2 else B) for i in range(1, 8)]))
    first = store.audit_by_partner(t, A, limit=2, cursor=None)
    rest = store.audit_by_partner(t, A, limit=10, cursor=first.next_cursor)
    assert seqs(first) + seqs(rest) == [1, 3, 5, 7] and rest.next_cursor is None
    theirs = store.audit_by_partner(t, B, limit=1, cursor=None).next_cursor
    chain = store.audit_page(t, limit=1).next_cursor
    for cursor in (theirs, chain, "garbage"):
        with pytest.raises(MalformedRequest):
            store.audit_by_partner(t, A, limit=2, cursor=cursor)
    with pytest.raises(MalformedRequest):
        store.audit_by_partner(tenant(), A, limit=2, cursor=first.next_cursor)  # another tenant's list


def test_the_partner_is_under_the_hash_so_moving_a_record_to_another_partner_breaks_the_chain(store):
    t = tenant()
    store.commit(t, Changes(audit=[entry("dec_1", partner_id=A), entry("dec_2")]))
    records = list(store.iter_audit_records(t))
    moved = {**records[0], "partner_id": B}
    assert verify([moved, records[1]]).first_invalid["seq"] == 1
    added = {**records[1], "partner_id": B}
    assert verify([records[0], added]).first_invalid["seq"] == 2


def test_a_record_sealed_before_records_named_their_partner_still_verifies_and_lists_once_pointed_to(store):
    """Records written by an earlier version have no `partner_id`: they verify as they are, and the backfill's pointer
    (an ordinary put) lists them under their partner."""
    t = tenant()
    old = seal(AuditEntry(actor="system:erp", action="invoice_lines.posted", subject="inv_9", outcome="posted",
                          inputs={"lines": 1}), tenant_id=t, seq=1, record_id="aud_1", at="2026-01-01T00:00:00Z",
               prev_hash="0" * 64)  # fmt: skip
    assert "partner_id" not in old
    store.bulk_put(t, [Row(partition(t, AUDIT), "R#000000000001", dumps(old)),
                       Row(partition(t, AUDIT), "HEAD", dumps({"seq": 1, "hash": old["hash"]}), version=1)])
    assert store.audit_by_partner(t, A, limit=10, cursor=None).items == []
    store.commit(t, Changes(puts=[Put(partner_index(A), "000000000001", {"seq": 1, "record_id": "aud_1"})],
                            audit=[entry("dec_2", partner_id=A)]))  # fmt: skip
    listed = store.audit_by_partner(t, A, limit=10, cursor=None)
    assert seqs(listed) == [1, 2] and json.dumps(listed.items[0].data) == json.dumps(old)
    assert verify(store.iter_audit_records(t), store.audit_head(t)).valid


def test_a_full_page_of_a_partners_records_reads_back_whole_past_one_batched_read(store):
    """A page of up to 200 records reads more keys than one DynamoDB BatchGetItem takes (100): none is lost."""
    t = tenant()
    for start in range(0, 160, 40):  # 40 records, 40 pointers and the head per commit: under 100 items
        store.commit(t, Changes(audit=[entry(f"dec_{i}", partner_id=A) for i in range(start, start + 40)]))
    page = store.audit_by_partner(t, A, limit=200, cursor=None)
    assert seqs(page) == list(range(1, 161)) and page.next_cursor is None
    assert [item.data["subject"] for item in page.items] == [f"dec_{i}" for i in range(160)]
