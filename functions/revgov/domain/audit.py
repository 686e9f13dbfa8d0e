"""The tamper-evident audit chain: one SHA-256 hash chain per tenant over canonical JSON."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .audit_pointers import NamedRecords
from .canonical import (
    Canonical,
    canonical_json,
    canonical_json_of_decoded,
    canonical_object,
    canonical_object_of_decoded,
    decode,
    sha256_text,
)
from .ids import is_typed_id

if TYPE_CHECKING:
    from .access import Principal

GENESIS = "0" * 64
# Where a tenant's chain is stored: collection `AUDIT`, each record under `R#<zero-padded seq>`, and the head pointer
# (`{"seq", "hash"}` of the last record) under `HEAD`; an offboarding export holds them as items of that collection.
CHAIN = "AUDIT"
CHAIN_HEAD = "HEAD"
RECORD_KEY_PREFIX = "R#"
# Each partner's pointers to the records that concern it (PA-12.1 / CPA-12.1: "the records relating to the Partner"):
# collection `AUDITBYPARTNER#<partner id>`, key the record's zero-padded seq. Written in the record's own transaction
# (`partner_pointer`); for records sealed before records named their partner, by the backfill (services.audit_backfill).
PARTNER_INDEX = "AUDITBYPARTNER"


@dataclass(frozen=True)
class AuditEntry:
    """What a use case wants recorded: who did what to which subject, under which rules, with what outcome."""

    actor: str
    action: str
    subject: str
    outcome: str
    inputs: dict[str, Any] = field(default_factory=dict)
    policy_version: str | None = None
    rule_ids: tuple[str, ...] = ()
    clauses: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    actor_role: str | None = None
    # the partner the record concerns when the use case knows it and neither the subject nor `inputs.partner_id`
    # says it (an invoice line posting, a decision, a dispute): see `partner_of`
    partner_id: str | None = None
    # the canonical JSON of `inputs` when the caller already has it (`by(inputs=Canonical)`): sealed without
    # serialising the inputs again
    inputs_json: str | None = field(default=None, compare=False, repr=False)

    @classmethod
    def repair(cls, actor: str, action: str, subject: str, count: int, what: str, inputs: dict[str, Any]) -> AuditEntry:
        """The entry of one step of a maintenance repair (a backfill) run by `actor` (an operator or the dev stack):
        how many items it gave `what` (e.g. "registration(s) given their partner pointer")."""
        return cls(actor=actor, action=action, subject=subject, outcome=f"{count} {what}", inputs=inputs)

    @classmethod
    def by(
        cls,
        who: Principal,
        action: str,
        subject: str,
        outcome: str,
        *,
        inputs: dict[str, Any] | Canonical | None = None,
        policy_version: str | None = None,
        rule_ids: Iterable[str] = (),
        clauses: Iterable[str] = (),
        sources: Iterable[str] = (),
        partner_id: str | None = None,
    ) -> AuditEntry:
        """The entry for an action an authenticated caller took: actor and role come from the principal only.
        `inputs` given as a `Canonical` (a dict with its canonical JSON) are sealed with the JSON already made.
        A partner key's action concerns its own partner; `partner_id` names the partner a staff action concerns when
        neither the subject nor `inputs.partner_id` does."""
        if isinstance(inputs, Canonical):
            plain, text = dict(inputs.value), inputs.text
        else:
            plain, text = dict(inputs or {}), None
        return cls(
            actor=who.actor,
            actor_role=who.role.value,
            action=action,
            subject=subject,
            outcome=outcome,
            inputs=plain,
            policy_version=policy_version,
            rule_ids=tuple(rule_ids),
            clauses=tuple(clauses),
            sources=tuple(sources),
            inputs_json=text,
            partner_id=who.partner_id if who.partner_id and who.role.value == "partner" else partner_id,
        )


def partner_of(entry: AuditEntry) -> str | None:
    """The partner an entry concerns (PA-12.1), derived once here for every use case: the one the use case named
    (`AuditEntry.by` names a partner key's own partner), else `inputs.partner_id`, else the subject when it is a
    partner id; None when the record concerns no one partner (a tenant-wide run, a key, a policy)."""
    return _first_partner(entry.partner_id, entry.inputs.get("partner_id"), entry.subject)


def partner_of_record(record: Mapping[str, Any], partner_of_key: Callable[[str], str | None]) -> str | None:
    """The partner a sealed record concerns: its own `partner_id`, or, for a record sealed before records named it,
    what `partner_of` would have derived, in its order: the partner of the partner key that acted (`partner:key_…`,
    through `partner_of_key`: a partner key's action concerns its own partner, whatever its inputs name), else
    `inputs.partner_id`, else a partner subject."""
    found = _first_partner(record.get("partner_id"))
    role, _, key_id = str(record.get("actor") or "").partition(":")
    if found is None and role == "partner" and key_id:
        found = _first_partner(partner_of_key(key_id))
    inputs = record.get("inputs")
    return found or _first_partner(inputs.get("partner_id") if isinstance(inputs, Mapping) else None,
                                   record.get("subject"))


def _first_partner(*candidates: Any) -> str | None:
    return next((c for c in candidates if isinstance(c, str) and is_typed_id(c, "ptr")), None)


def partner_index(partner_id: str) -> str:
    """The collection of one partner's pointers."""
    return f"{PARTNER_INDEX}#{partner_id}"


def partner_pointer(record: dict[str, Any], partner_id: str) -> tuple[str, str, dict[str, Any]]:
    """The pointer of a sealed record in its partner's index: (collection, key, data)."""
    seq = int(record["seq"])
    return partner_index(partner_id), f"{seq:012d}", {"seq": seq, "record_id": record["record_id"]}


def seal(entry: AuditEntry, *, tenant_id: str, seq: int, record_id: str, at: str, prev_hash: str) -> dict[str, Any]:
    """The stored record: the entry plus its place in the chain and the hash that binds it there (`sealed`)."""
    return sealed(entry, tenant_id=tenant_id, seq=seq, record_id=record_id, at=at, prev_hash=prev_hash)[0]


def sealed(
    entry: AuditEntry, *, tenant_id: str, seq: int, record_id: str, at: str, prev_hash: str
) -> tuple[dict[str, Any], str]:
    """The stored record and its canonical JSON, the text the store keeps: the entry plus its place in the chain and
    the hash that binds it there.

    `partner_id` (the partner the record concerns, `partner_of`) is part of the record, so under `hash`: a record
    cannot be moved to another partner's trail unseen. A record that concerns no partner, and every record sealed
    before records named their partner, has no `partner_id` field (its hash is as it always was).

    The inputs (a quote's lines: the bulk of the record) are serialised to canonical JSON once; that text gives
    both `inputs_hash` and its place in the record's own canonical JSON, which `hash` covers as before."""
    inputs_text = entry.inputs_json if entry.inputs_json is not None else canonical_json(entry.inputs)
    body: dict[str, Any] = {
        "record_id": record_id,
        "tenant_id": tenant_id,
        "seq": seq,
        "at": at,
        "actor": entry.actor,
        "actor_role": entry.actor_role,
        "action": entry.action,
        "subject": entry.subject,
        "outcome": entry.outcome,
        "inputs": entry.inputs,
        "inputs_hash": sha256_text(inputs_text),
        "policy_version": entry.policy_version,
        "rule_ids": list(entry.rule_ids),
        "clauses": list(entry.clauses),
        "sources": list(entry.sources),
        "prev_hash": prev_hash,
    }
    partner_id = partner_of(entry)
    if partner_id is not None:
        body["partner_id"] = partner_id
    others = {k: v for k, v in body.items() if k != "inputs"}
    digest = sha256_text(canonical_object(others, {"inputs": inputs_text}))
    return {**body, "hash": digest}, canonical_object({**others, "hash": digest}, {"inputs": inputs_text})


def place_digest(seq: int, prev_hash: str, text: str) -> bytes:
    """SHA-256 of a stored record's text at its place in the chain (`ChainWalk.known`)."""
    return hashlib.sha256(f"{seq}:{len(prev_hash)}:{prev_hash}:{text}".encode()).digest()


def _texts(record: dict[str, Any]) -> tuple[str, str]:
    """The canonical JSON of the record without `hash`, and of its inputs (what `hash` and `inputs_hash` cover)."""
    body = {k: v for k, v in record.items() if k != "hash"}
    return canonical_json(body), canonical_json(body.get("inputs", {}))


def _texts_of_decoded(record: dict[str, Any]) -> tuple[str, str]:
    """`_texts` of a record `canonical.decode` returned, its inputs serialised once (equal to the byte: see
    `canonical_json_of_decoded` and `canonical_object_of_decoded`)."""
    inputs_text = canonical_json_of_decoded(record.get("inputs", {}))
    others = {k: v for k, v in record.items() if k != "hash" and k != "inputs"}
    if "inputs" not in record:
        return canonical_json_of_decoded(others), inputs_text
    return canonical_object_of_decoded(others, "inputs", inputs_text), inputs_text


def _problem(
    record: dict[str, Any], expected_seq: int, last_hash: str, texts: Callable[[dict[str, Any]], tuple[str, str]]
) -> str | None:
    """Why the record does not hold at this place of the chain, or None: sequence, link, hash, inputs, in this order."""
    if record.get("seq") != expected_seq:
        return f"expected seq {expected_seq}, found {record.get('seq')}"
    if record.get("prev_hash") != last_hash:
        return "prev_hash does not match the hash of the record before it"
    try:
        body_text, inputs_text = texts(record)
    except TypeError:
        return "content holds a value canonical JSON refuses (a float, NaN or Infinity: money is a decimal string)"
    if sha256_text(body_text) != record.get("hash"):
        return "content does not match its hash"
    if record.get("inputs_hash") != sha256_text(inputs_text):
        return "inputs do not match inputs_hash"
    return None


@dataclass(frozen=True)
class Verification:
    records: int
    valid: bool
    first_invalid: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        return {"records": self.records, "valid": self.valid, "first_invalid": self.first_invalid}


class ChainWalk:
    """Walks a chain record by record, in order, remembering the first record whose sequence, link or hash does
    not hold; `result(head)` then checks the walk ends where the head pointer says (a truncated tail).

    `add` takes a record as a dict; `add_text` a record as the store holds it (its JSON text), decoded with
    `canonical.decode` and hashed by `canonical_json_of_decoded` (the same verdict, at less cost per record).

    `known`: records already found to hold, by `place_digest` (the SHA-256 of the record's stored text and of its
    place: the sequence and previous hash it was checked at), each with its hash. Whether a record holds is a function
    of exactly those (its text, the expected sequence, the previous record's hash), so a record whose digest is known
    holds without decoding it again; any change to its stored text, however small, changes the digest and it is
    checked in full. Records found to hold here are added to `learned`, for the caller to keep: the hash (32 bytes),
    then the partner the record names, if any (so the known records also give `named`).

    `named`: which partner each record walked names (its sealed `partner_id`), for the pointer check
    (`audit_pointers`)."""

    def __init__(self, known: Mapping[bytes, bytes] | None = None) -> None:
        self.count = 0
        self.last_seq = 0
        self.last_hash = GENESIS
        self.first_invalid: dict[str, Any] | None = None
        self.known: Mapping[bytes, bytes] = known if known is not None else {}
        self.learned: dict[bytes, bytes] = {}
        self.named = NamedRecords()

    def add(self, record: dict[str, Any]) -> None:
        self._check(record, _texts)

    def add_text(self, text: str | None) -> None:
        """A stored record; one that is not a JSON object counts as a record without a sequence (unreadable)."""
        place = place_digest(self.last_seq + 1, self.last_hash, text) if text is not None else None
        known = self.known.get(place) if place is not None else None
        if known is not None:
            self.count += 1
            self.last_seq += 1
            self.last_hash = known[:32].hex()
            self.named.add(known[32:].decode() or None)
            return
        try:
            record = decode(text) if text is not None else None
        except ValueError:
            record = None
        if not isinstance(record, dict):
            record = {"record_id": None, "seq": None, "unreadable": True}
        if self._check(record, _texts_of_decoded) and place is not None:
            self.learned[place] = bytes.fromhex(self.last_hash) + _named(record).encode()

    def _check(self, record: dict[str, Any], texts: Callable[[dict[str, Any]], tuple[str, str]]) -> bool:
        self.count += 1
        self.named.add(_named(record) or None)
        expected_seq = self.last_seq + 1
        problem = _problem(record, expected_seq, self.last_hash, texts)
        if problem and self.first_invalid is None:
            self.first_invalid = {"seq": expected_seq, "record_id": record.get("record_id"), "reason": problem}
        self.last_hash = str(record.get("hash"))
        seq = record.get("seq")
        self.last_seq = seq if type(seq) is int else expected_seq
        return problem is None

    def result(self, head: tuple[int, str] | None = None) -> Verification:
        first_invalid = self.first_invalid
        if first_invalid is None and head is not None and head != (self.count, self.last_hash):
            first_invalid = {
                "seq": self.count + 1,
                "record_id": None,
                "reason": f"chain ends at seq {self.count} but its head says {head[0]}",
            }
        return Verification(self.count, first_invalid is None, first_invalid)


def link_problem(record: dict[str, Any], previous_hash: str | None, next_prev_hash: str | None) -> str | None:
    """Why one record read by its key does not hold where it stands, or None: its own hash and inputs hash, the link
    to the record before it (`previous_hash`: the hash of seq - 1, GENESIS for seq 1; None when that record cannot
    be read) and the link the record after it, or the chain's head, makes to it (`next_prev_hash`). An edit of the
    record must change its hash to pass its own check, and then the record after it no longer links to it; what this
    cannot see is a rewrite of every record from it to the head, which `verify` (the whole walk) finds."""
    seq = record.get("seq")
    if type(seq) is not int:
        return "the record holds no sequence number"
    problem = _problem(record, seq, previous_hash if previous_hash is not None else str(record.get("prev_hash")),
                       _texts)  # fmt: skip
    if problem is None and next_prev_hash is not None and next_prev_hash != record.get("hash"):
        problem = "the record after it (or the chain's head) does not link to its hash"
    return problem


def _named(record: Mapping[str, Any]) -> str:
    """The partner a record names under its hash ('' when none)."""
    partner_id = record.get("partner_id")
    return partner_id if isinstance(partner_id, str) and is_typed_id(partner_id, "ptr") else ""


def verify(records: Iterable[dict[str, Any]], head: tuple[int, str] | None = None) -> Verification:
    """Walk the chain in order and name the first record whose sequence, link or hash does not hold.

    `head` is the (seq, hash) the chain's head pointer holds: it catches a truncated tail.
    """
    walk = ChainWalk()
    for record in records:
        walk.add(record)
    return walk.result(head)


def verify_export(
    items: Iterable[Mapping[str, Any]], *, receipt: tuple[int, str] | None = None
) -> tuple[str | None, Verification]:
    """An offboarding export's chain verified offline, without the store it came from (`revgov tenants
    verify-export`): its `AUDIT` records in key order, each hashed from its exported JSON as the walk of `GET
    /v1/audit/verify` hashes a stored text, and the walk's end checked against the exported head (a record missing,
    edited or moved is named; a cut tail does not end at the head; an export with no head must hold no record).

    The chain has no secret: whoever can write the store can re-seal every record from an edited one to the head and
    move the head, and the chain alone then holds. `receipt` is what an auditor kept outside: the (seq, hash) of a
    record read before (`GET /v1/audit`); the export must still hold that record with that hash, so nothing up to it
    was rewritten. Returns the tenant the records name (None when there is none) and the verdict."""
    records: list[tuple[str, Any]] = []
    head: Any = None
    for item in items:
        if item.get("collection") != CHAIN:
            continue
        key = str(item.get("key"))
        if key == CHAIN_HEAD:
            head = item.get("data")
        elif key.startswith(RECORD_KEY_PREFIX):
            records.append((key, item.get("data")))
    walk = ChainWalk()
    tenant_id: str | None = None
    received: Any = None
    for key, data in sorted(records, key=lambda record: record[0]):
        if receipt is not None and key == f"{RECORD_KEY_PREFIX}{receipt[0]:012d}":
            received = data
        if tenant_id is None and isinstance(data, Mapping) and isinstance(data.get("tenant_id"), str):
            tenant_id = data["tenant_id"]
        walk.add_text(json.dumps(data) if data is not None else None)
    try:
        ends_at = (int(head["seq"]), str(head["hash"])) if head is not None else (0, GENESIS)
    except (KeyError, TypeError, ValueError):
        ends_at = (-1, "the export's head is unreadable")
    verdict = walk.result(ends_at)
    if verdict.valid and receipt is not None:
        found = received.get("hash") if isinstance(received, Mapping) else None
        if found != receipt[1]:
            record_id = received.get("record_id") if isinstance(received, Mapping) else None
            reason = (f"the record at seq {receipt[0]} is not the one the receipt names (its hash is {found})"
                      if received is not None else f"no record at seq {receipt[0]}, which the receipt names")
            verdict = Verification(verdict.records, False, {"seq": receipt[0], "record_id": record_id,
                                                            "reason": reason})
    return tenant_id, verdict
