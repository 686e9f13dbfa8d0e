"""`GET /v1/audit/verify` checks each partner's audit pointers against the chain, on every backend (SQLite, in memory,
DynamoDB on moto).

PA-12.1: "The Distributor keeps an audit trail of every automated decision and approval under this Agreement and
provides the Partner, on request, with the records relating to the Partner." (CPA-12.1 the same.) A partner's trail is
read through its pointers (`AUDITBYPARTNER#<partner id>`), which are ordinary items outside the hash chain: a deleted
pointer hides a record relating to the partner from it, an edited or added one puts another partner's record (or
none) in its trail. DESIGN.md: "verification walks the chain and names the first broken record"; the pointers are
named the same way, with the partner and the record.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from test_store_contract import BACKENDS, dynamodb_endpoint, make_store  # noqa: F401  (the DynamoDB fixture)

from memory_store import NoBus
from revgov.adapters.store_base import AUDIT, Row, dumps, partition
from revgov.adapters.system import RandomIds, SystemClock
from revgov.domain.audit import AuditEntry, partner_index, seal
from revgov.domain.canonical import canonical_json, sha256_text
from revgov.ports import Changes, Delete, Put
from revgov.runtime import Runtime
from revgov.services.audit import verify_chain
from revgov.settings import settings

A = "ptr_01JBNWPARTNER0000000000001"
B = "ptr_01JBNWPARTNER0000000000002"
C = "ptr_01JBNWPARTNER0000000000003"  # a partner of the tenant with no record


@pytest.fixture(params=BACKENDS)
def rt(request: pytest.FixtureRequest, tmp_path: Path) -> Runtime:
    clock = SystemClock()
    ids = RandomIds(clock)
    return Runtime(settings(), make_store(request.param, tmp_path, request, clock, ids), NoBus(), clock, ids)


def entry(subject: str, **fields: Any) -> AuditEntry:
    return AuditEntry(actor="finance:key_1", action="thing.done", subject=subject, outcome="done", **fields)


def _chain(rt: Runtime) -> str:
    """seq 1 about A, 2 about B, 3 about A, 4 about no partner; partner C exists with no record."""
    t = f"vp-{uuid.uuid4().hex[:10]}"
    rt.store.commit(t, Changes(puts=[Put("PARTNER", C, {"partner_id": C, "status": "active"})], audit=[
        entry("dec_1", partner_id=A), entry(B), entry("inv_1", inputs={"partner_id": A}), entry("key_1"),
    ]))  # fmt: skip
    return t


def _problems(answer: dict[str, Any]) -> list[tuple[str, str, Any]]:
    return [(p["kind"], p["partner_id"], p["seq"]) for p in answer["pointers"]["problems"]]


def test_a_chain_whose_pointers_are_all_in_place_verifies_with_every_pointer_checked(rt):
    t = _chain(rt)
    answer = verify_chain(rt, t)
    assert (answer["valid"], answer["records"]) == (True, 4)
    assert answer["pointers"] == {"checked": 3, "valid": True, "problems": [], "more_problems": 0}
    # a second walk takes the records it already found to hold from memory: the pointers are judged the same
    assert verify_chain(rt, t)["pointers"] == answer["pointers"]


def test_a_deleted_pointer_is_named_missing_with_its_partner_and_record(rt):
    t = _chain(rt)
    verify_chain(rt, t)  # the records are known to hold from here on: the partner they name must still be known
    rt.store.commit(t, Changes(deletes=[Delete(partner_index(A), "000000000003")]))
    answer = verify_chain(rt, t)
    assert answer["valid"] is True  # the chain itself holds: the pointer is outside it
    assert answer["pointers"]["valid"] is False
    assert _problems(answer) == [("missing", A, 3)]


def test_a_pointer_to_another_partners_record_and_stray_pointers_are_named(rt):
    t = _chain(rt)
    rt.store.commit(t, Changes(puts=[
        Put(partner_index(A), "000000000002", {"seq": 2, "record_id": "aud_x"}),  # B's record in A's trail
        Put(partner_index(C), "000000000004", {"seq": 4, "record_id": "aud_y"}),  # a record about no partner
        Put(partner_index(C), "000000000099", {"seq": 99, "record_id": "aud_z"}),  # no such record
        Put(partner_index(B), "000000000001", {"seq": 3, "record_id": "aud_w"}),  # its key is not its seq
    ]))  # fmt: skip
    answer = verify_chain(rt, t)
    assert answer["valid"] is True and answer["pointers"]["valid"] is False
    assert sorted(_problems(answer)) == sorted([
        ("other_partner", A, 2), ("stray", C, 4), ("stray", C, 99), ("stray", B, 3),
    ])  # fmt: skip
    assert answer["pointers"]["checked"] == 7


def test_a_record_sealed_before_records_named_their_partner_is_judged_by_the_partner_the_backfill_derives(rt):
    """Such a record has no `partner_id` under its hash; the backfill points to it from the partner its inputs name
    (`domain.audit.partner_of_record`): that pointer holds, one in another partner's index does not."""
    t = f"vp-{uuid.uuid4().hex[:10]}"
    sealed = seal(AuditEntry(actor="system:erp", action="invoice_lines.posted", subject="inv_9", outcome="posted",
                             inputs={"partner_id": A}), tenant_id=t, seq=1, record_id="aud_1",
                  at="2026-01-01T00:00:00Z", prev_hash="0" * 64)  # fmt: skip
    old = {k: v for k, v in sealed.items() if k not in ("partner_id", "hash")}
    old["hash"] = sha256_text(canonical_json(old))  # as an earlier version sealed it
    rt.store.bulk_put(t, [Row(partition(t, AUDIT), "R#000000000001", dumps(old)),
                          Row(partition(t, AUDIT), "HEAD", dumps({"seq": 1, "hash": old["hash"]}), version=1)])
    rt.store.commit(t, Changes(puts=[Put(partner_index(A), "000000000001", {"seq": 1, "record_id": "aud_1"})]))
    answer = verify_chain(rt, t)
    assert answer["valid"] is True and answer["pointers"]["valid"] is True
    rt.store.commit(t, Changes(puts=[Put("PARTNER", B, {"partner_id": B, "status": "active"}),
                                     Put(partner_index(B), "000000000001", {"seq": 1, "record_id": "aud_1"})]))
    assert _problems(verify_chain(rt, t)) == [("other_partner", B, 1)]
