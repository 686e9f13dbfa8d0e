"""`GET /v1/audit/verify`'s walk over the stored chain, on every backend: it finds every kind of edit, gives the verdict
the record-by-record check gives, keeps verifying chains sealed before it, and shares a walk between callers.

DESIGN.md: "`hash` (SHA-256 over canonical JSON, RFC 8785 style, money as strings). One chain per tenant ...;
verification walks the chain and names the first broken record." So a stored record whose JSON text differs but
whose canonical JSON is the same (keys in another order, whitespace, a character escaped) is the same record, and
money written as a number instead of a string is not canonical JSON: that record is broken.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_store_contract import dynamodb_endpoint, make_store  # noqa: F401  (the fixture the DynamoDB store uses)

from revgov.adapters.store_base import HEAD, BaseDocumentStore, Row, dumps
from revgov.adapters.system import RandomIds, SystemClock
from revgov.domain.audit import AuditEntry, ChainWalk, partner_of_record, seal, verify
from revgov.domain.canonical import (
    NotCanonical,
    canonical_json,
    canonical_json_of_decoded,
    canonical_object_of_decoded,
    decode,
)
from revgov.ports import Changes
from revgov.services import audit

SEALED_BY_MAIN = Path(__file__).resolve().parents[1] / "scenarios" / "audit" / "chain_sealed_by_b84b842.json"


@pytest.fixture(params=["sqlite", "memory", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BaseDocumentStore:
    return make_store(request.param, tmp_path, request, SystemClock(), RandomIds(SystemClock()))


def _chain(store: BaseDocumentStore, n: int = 5) -> str:
    t = f"aw-{uuid.uuid4().hex[:10]}"
    for i in range(1, n + 1):
        inputs = {"quote": {"lines": [{"sku": "NW-SW-24P", "amount": Decimal("12.50"), "n": i}]}, "note": "café"}
        entry = AuditEntry(actor="sales:key_1", action="pricing.checked", subject=f"dec_{i}", outcome="approved",
                           inputs=inputs, rule_ids=("R-1", "R-2"), clauses=("PA-4.2",))
        store.commit(t, Changes(audit=[entry]))
    return t


def _text(store: BaseDocumentStore, t: str, seq: int) -> str:
    row = store._get(t, f"T#{t}#AUDIT", f"R#{seq:012d}")
    assert row is not None and row.data is not None
    return row.data


def _put_text(store: BaseDocumentStore, t: str, seq: int, text: str) -> None:
    """What someone with write access to the table does: replace a record's stored JSON, nothing else."""
    row = store._get(t, f"T#{t}#AUDIT", f"R#{seq:012d}")
    assert row is not None
    store.bulk_put(t, [Row(row.pk, row.sk, text, row.version, row.gsi1pk, row.gsi1sk)])


def _verify(store: BaseDocumentStore, t: str) -> dict[str, Any]:
    """The chain's verdict (the partner pointers checked beside it are tests/integration/test_audit_verify_pointers)."""
    answer = audit.verify_chain(SimpleNamespace(store=store), t)
    assert set(answer.pop("pointers")) == {"checked", "valid", "problems", "more_problems"}
    return answer


def _by_dicts(store: BaseDocumentStore, t: str) -> dict[str, Any]:
    """The record-by-record check the walk had before it read stored texts (`verify` over decoded records)."""
    return verify(store.iter_audit_records(t), store.audit_head(t)).as_dict()


def _reordered(text: str) -> str:
    return json.dumps(dict(reversed(json.loads(text).items())), ensure_ascii=False)


def _escaped(text: str) -> str:
    return json.dumps(json.loads(text), ensure_ascii=True, indent=1)


# Edits that leave the record's canonical JSON as it was: the same record (DESIGN.md: the hash is over canonical JSON)
SAME_RECORD: dict[str, Callable[[str], str]] = {
    "keys in another order": _reordered,
    "whitespace and non-ASCII written as \\u escapes": _escaped,
}
# Edits of one record that break it, and the reason the walk names
BROKEN: dict[str, tuple[Callable[[str], str], str]] = {
    "a changed field": (lambda s: s.replace('"approved"', '"denied"'), "content does not match its hash"),
    "changed money": (lambda s: s.replace('"12.50"', '"12.51"'), "content does not match its hash"),
    "money as a float instead of a string": (lambda s: s.replace('"12.50"', "12.50"), "canonical JSON refuses"),
    "money as 1.25e1": (lambda s: s.replace('"12.50"', "1.25e1"), "canonical JSON refuses"),
    "money as NaN": (lambda s: s.replace('"12.50"', "NaN"), "canonical JSON refuses"),
    "a number as a string": (lambda s: s.replace('"n":2', '"n":"2"'), "content does not match its hash"),
    "list items reordered": (lambda s: s.replace('["R-1","R-2"]', '["R-2","R-1"]'), "content does not match"),
    "inputs and their hash changed together": (lambda s: s.replace('"café"', '"cafe"'), "content does not match"),
    "unreadable JSON": (lambda s: s[:-5], "expected seq 2, found None"),
    "not an object": (lambda s: "[1, 2]", "expected seq 2, found None"),
}

# ... of which `iter_audit_records` yields something `verify` (records as dicts) cannot take
NOT_A_DICT = {"not an object"}


@pytest.mark.parametrize("edit", list(SAME_RECORD))
def test_an_edit_that_keeps_the_canonical_json_keeps_the_record(store, edit):
    t = _chain(store)
    assert _verify(store, t)["valid"]  # the walk's known records now hold every record's text
    before = _text(store, t, 2)
    after = SAME_RECORD[edit](before)
    assert after != before
    _put_text(store, t, 2, after)
    assert _verify(store, t) == {"records": 5, "valid": True, "first_invalid": None} == _by_dicts(store, t)


@pytest.mark.parametrize("edit", list(BROKEN))
def test_an_edit_of_an_old_record_after_a_walk_found_it_valid_is_named_at_that_record(store, edit):
    """The walk keeps the records it found to hold; an in-place edit of one of them, made after, is found (an
    incremental walk from a checkpoint would miss it)."""
    t = _chain(store)
    assert _verify(store, t)["valid"]
    original = _text(store, t, 2)
    change, reason = BROKEN[edit]
    _put_text(store, t, 2, change(original))
    found = _verify(store, t)
    assert found["valid"] is False and found["first_invalid"]["seq"] == 2, found
    assert reason in found["first_invalid"]["reason"]
    if edit not in NOT_A_DICT:  # the record-by-record check gives the same verdict
        assert _by_dicts(store, t) == found
    _put_text(store, t, 2, original)
    assert _verify(store, t) == {"records": 5, "valid": True, "first_invalid": None}


def test_money_written_as_a_float_was_a_500_and_is_now_the_broken_record_named(store):
    """Before: the walk's canonical JSON refused the float with a TypeError (checked against main b84b842: `verify`
    raised "floats are not allowed in canonical JSON"), so `GET /v1/audit/verify` failed instead of naming the record.
    A forger who also recomputes both hashes over the float does no better."""
    t = _chain(store)
    record = json.loads(_text(store, t, 3))
    record["inputs"]["quote"]["lines"][0]["amount"] = 12.5
    body = {k: v for k, v in record.items() if k != "hash"}
    record["inputs_hash"] = _sha(json.dumps(record["inputs"], sort_keys=True, separators=(",", ":")))
    record["hash"] = _sha(json.dumps(body | {"inputs_hash": record["inputs_hash"]}, sort_keys=True,
                                     separators=(",", ":"), ensure_ascii=False))
    _put_text(store, t, 3, json.dumps(record, ensure_ascii=False))
    found = _verify(store, t)
    assert found["first_invalid"]["seq"] == 3 and "canonical JSON refuses" in found["first_invalid"]["reason"]
    assert _by_dicts(store, t) == found


def _sha(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


def test_a_dropped_record_a_cut_tail_a_forged_head_and_moved_records_are_found(store):
    t = _chain(store, 6)
    assert _verify(store, t)["valid"]
    pk = f"T#{t}#AUDIT"
    head = store._get(t, pk, HEAD)
    third, fourth = _text(store, t, 3), _text(store, t, 4)
    _put_text(store, t, 3, fourth)  # a valid record's text at another place
    assert _verify(store, t)["first_invalid"]["seq"] == 3
    _put_text(store, t, 3, third)
    store._delete_rows([Row(pk, f"R#{3:012d}", None)])  # dropped
    assert _verify(store, t)["first_invalid"] == {"seq": 3, "record_id": json.loads(fourth)["record_id"],
                                                  "reason": "expected seq 3, found 4"} == _by_dicts(store, t)[
        "first_invalid"]
    _put_text_row(store, t, 3, third)
    assert _verify(store, t)["valid"]
    store._delete_rows([Row(pk, f"R#{6:012d}", None)])  # the tail cut, the head left
    assert _verify(store, t)["first_invalid"]["reason"] == "chain ends at seq 5 but its head says 6"
    assert head is not None
    forged = {"seq": 5, "hash": "f" * 64}
    store.bulk_put(t, [Row(pk, HEAD, dumps(forged), version=5)])
    assert _verify(store, t)["first_invalid"]["reason"] == "chain ends at seq 5 but its head says 5"
    assert _verify(store, t) == _by_dicts(store, t)


def _put_text_row(store: BaseDocumentStore, t: str, seq: int, text: str) -> None:
    record = json.loads(text)
    store.bulk_put(t, [Row(f"T#{t}#AUDIT", f"R#{seq:012d}", text, gsi1pk=f"T#{t}#AUDIT#{record['subject']}",
                           gsi1sk=f"{seq:012d}")])


def test_stored_texts_come_in_chain_order_after_a_sequence_across_pages(store):
    t = _chain(store, 7)
    texts = list(store.iter_audit_texts(t))
    assert [json.loads(s)["seq"] for s in texts] == list(range(1, 8))
    assert texts == [dumps(r) for r in store.iter_audit_records(t)]
    assert [json.loads(s)["seq"] for s in store.iter_audit_texts(t, after_seq=4)] == [5, 6, 7]
    assert [json.loads(s)["seq"] for s in store.iter_audit_texts(t, page_size=2)] == list(range(1, 8))
    assert [json.loads(s)["seq"] for s in store.iter_audit_texts(t, after_seq=3, page_size=2)] == [4, 5, 6, 7]
    assert list(store.iter_audit_texts(f"aw-{uuid.uuid4().hex[:10]}")) == []


def test_a_chain_sealed_by_main_before_this_walk_verifies_and_seals_again_to_the_byte(store):
    """Chains already stored must still verify: 76 records sealed and stored by main b84b842, walked now; and
    `seal` gives each of them again, byte for byte, from its entry; since records name the partner they concern
    (PA-12.1, docs/audit.md), a record about a partner is sealed again with `partner_id` added, and otherwise the same
    byte for byte."""
    sealed = json.loads(SEALED_BY_MAIN.read_text())
    t, texts = sealed["tenant_id"], sealed["texts"]
    rows = [Row(f"T#{t}#AUDIT", f"R#{json.loads(s)['seq']:012d}", s) for s in texts]
    store.bulk_put(t, [*rows, Row(f"T#{t}#AUDIT", HEAD, dumps({"seq": sealed["head"][0], "hash": sealed["head"][1]}),
                                  version=sealed["head"][0])])
    assert _verify(store, t) == {"records": 76, "valid": True, "first_invalid": None} == _by_dicts(store, t)
    unchanged = 0
    for text in texts:
        record = json.loads(text)
        entry = AuditEntry(
            actor=record["actor"], action=record["action"], subject=record["subject"], outcome=record["outcome"],
            inputs=record["inputs"], policy_version=record["policy_version"], rule_ids=tuple(record["rule_ids"]),
            clauses=tuple(record["clauses"]), sources=tuple(record["sources"]), actor_role=record["actor_role"],
        )
        again = seal(entry, tenant_id=t, seq=record["seq"], record_id=record["record_id"], at=record["at"],
                     prev_hash=record["prev_hash"])
        if "partner_id" not in again:
            unchanged += 1
            assert dumps(again) == text
            continue
        assert again["partner_id"] == partner_of_record(record, lambda key_id: None) and "partner_id" not in record
        assert dumps({k: v for k, v in again.items() if k not in ("partner_id", "hash")}) == dumps(
            {k: v for k, v in record.items() if k != "hash"})
    assert 0 < unchanged < len(texts)


# --- the walk's canonical JSON is canonical_json, to the byte ------------------------------------------------------
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(value=_JSON, name=st.text(max_size=8))
def test_the_canonical_json_of_a_decoded_value_is_canonical_json_to_the_byte(value, name):
    stored = json.dumps(value, ensure_ascii=False)  # as the store writes it: keys in any order, non-ASCII kept
    decoded = decode(stored)
    assert canonical_json_of_decoded(decoded) == canonical_json(value) == canonical_json(decoded)
    members = {k: v for k, v in (decoded.items() if isinstance(decoded, dict) else []) if k != name}
    spliced = canonical_object_of_decoded(members, name, canonical_json_of_decoded(decoded))
    assert spliced == canonical_json({**members, name: value})


@pytest.mark.parametrize("number", ["12.50", "1e3", "-0.0", "NaN", "Infinity", "-Infinity"])
def test_a_number_canonical_json_cannot_hold_is_refused_not_read_as_a_float(number):
    decoded = decode('{"amount": ' + number + '}')
    assert isinstance(decoded["amount"], NotCanonical) and decoded["amount"].text == number
    with pytest.raises(TypeError):
        canonical_json_of_decoded(decoded)
    with pytest.raises(TypeError):
        canonical_json(decoded)


def test_a_record_known_to_hold_is_known_only_at_its_own_place():
    records = [seal(AuditEntry("a", "x.y", f"s{i}", "ok", {"i": i}), tenant_id="t", seq=i, record_id=f"aud_{i}",
                    at="2026-01-01T00:00:00Z", prev_hash=prev)
               for i, prev in ((1, "0" * 64),)]
    text = dumps(records[0])
    first = ChainWalk()
    first.add_text(text)
    assert first.first_invalid is None and len(first.learned) == 1
    again = ChainWalk(known=first.learned)
    again.add_text(text)
    assert again.learned == {} and again.result((1, records[0]["hash"])).valid  # known: not decoded again
    elsewhere = ChainWalk(known=first.learned)
    elsewhere.add_text(text)
    elsewhere.add_text(text)  # the same text as the second record: not known there, and broken there
    assert elsewhere.first_invalid is not None and elsewhere.first_invalid["seq"] == 2


# --- one walk for callers who ask at once -------------------------------------------------------------------------
class _GatedStore:
    """A store whose walk waits at its first page until released, and whose head read can be held."""

    def __init__(self, store: BaseDocumentStore) -> None:
        self.store = store
        self.walks: list[dict[str, Any]] = []
        self.walking = threading.Event()
        self.release_walk = threading.Event()
        self.head_reached = threading.Event()
        self.release_head = threading.Event()
        self.heads = 0

    def __getattr__(self, name: str) -> Any:  # the pointer check's reads go to the store itself
        return getattr(self.store, name)

    def iter_audit_texts(self, tenant_id: str, **kwargs: Any) -> Any:
        self.walks.append(kwargs)
        if not kwargs:
            self.walking.set()
            assert self.release_walk.wait(10)
        yield from self.store.iter_audit_texts(tenant_id, **kwargs)

    def audit_head(self, tenant_id: str) -> tuple[int, str]:
        self.heads += 1
        self.head_reached.set()
        assert self.release_head.wait(10)
        return self.store.audit_head(tenant_id)


def _in_thread(call: Callable[[], dict[str, Any]], answers: list[dict[str, Any]]) -> threading.Thread:
    thread = threading.Thread(target=lambda: answers.append(call()))
    thread.start()
    return thread


def test_callers_who_ask_before_the_head_is_read_share_one_walk_that_covers_what_came_before_each_asked(tmp_path,
                                                                                                       request):
    store = make_store("memory", tmp_path, request, SystemClock(), RandomIds(SystemClock()))
    t = _chain(store, 3)
    gated = _GatedStore(store)
    rt = SimpleNamespace(store=gated)
    answers: list[dict[str, Any]] = []
    first = _in_thread(lambda: audit.verify_chain(rt, t), answers)
    assert gated.walking.wait(10)
    store.commit(t, Changes(audit=[AuditEntry("a", "x.y", "late", "ok")]))  # appended before the second caller asks
    second = _in_thread(lambda: audit.verify_chain(rt, t), answers)
    second.join(0.3)
    assert second.is_alive()  # waiting for the first caller's walk, not walking
    gated.release_walk.set()
    assert gated.head_reached.wait(10)
    third = _in_thread(lambda: audit.verify_chain(rt, t), answers)  # after the head read: a walk of its own
    gated.release_head.set()
    for thread in (first, second, third):
        thread.join(10)
    assert [w for w in gated.walks if not w] == [{}, {}] and gated.heads == 2
    pointers = {"checked": 0, "valid": True, "problems": [], "more_problems": 0}
    assert answers == [{"records": 4, "valid": True, "first_invalid": None, "pointers": pointers}] * 3
    answers[0]["records"] = 0  # each caller has its own answer
    assert answers[1]["records"] == 4
