"""The tamper-evident audit chain: one SHA-256 hash chain per tenant over canonical JSON."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .canonical import Canonical, canonical_json, canonical_object, sha256_hex, sha256_text

if TYPE_CHECKING:
    from .access import Principal

GENESIS = "0" * 64


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
    # the canonical JSON of `inputs` when the caller already has it (`by(inputs=Canonical)`): sealed without
    # serialising the inputs again
    inputs_json: str | None = field(default=None, compare=False, repr=False)

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
    ) -> AuditEntry:
        """The entry for an action an authenticated caller took: actor and role come from the principal only.
        `inputs` given as a `Canonical` (a dict with its canonical JSON) are sealed with the JSON already made."""
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
        )


def seal(entry: AuditEntry, *, tenant_id: str, seq: int, record_id: str, at: str, prev_hash: str) -> dict[str, Any]:
    """The stored record: the entry plus its place in the chain and the hash that binds it there.

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
    others = {k: v for k, v in body.items() if k != "inputs"}
    return {**body, "hash": sha256_text(canonical_object(others, {"inputs": inputs_text}))}


@dataclass(frozen=True)
class Verification:
    records: int
    valid: bool
    first_invalid: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        return {"records": self.records, "valid": self.valid, "first_invalid": self.first_invalid}


class ChainWalk:
    """Walks a chain record by record, in order, remembering the first record whose sequence, link or hash does
    not hold; `result(head)` then checks the walk ends where the head pointer says (a truncated tail)."""

    def __init__(self) -> None:
        self.count = 0
        self.last_seq = 0
        self.last_hash = GENESIS
        self.first_invalid: dict[str, Any] | None = None

    def add(self, record: dict[str, Any]) -> None:
        self.count += 1
        expected_seq = self.last_seq + 1
        body = {k: v for k, v in record.items() if k != "hash"}
        problem = None
        if record.get("seq") != expected_seq:
            problem = f"expected seq {expected_seq}, found {record.get('seq')}"
        elif record.get("prev_hash") != self.last_hash:
            problem = "prev_hash does not match the hash of the record before it"
        elif sha256_hex(body) != record.get("hash"):
            problem = "content does not match its hash"
        elif body.get("inputs_hash") != sha256_hex(body.get("inputs", {})):
            problem = "inputs do not match inputs_hash"
        if problem and self.first_invalid is None:
            self.first_invalid = {"seq": expected_seq, "record_id": record.get("record_id"), "reason": problem}
        self.last_hash = str(record.get("hash"))
        self.last_seq = int(record.get("seq") or expected_seq)

    def result(self, head: tuple[int, str] | None = None) -> Verification:
        first_invalid = self.first_invalid
        if first_invalid is None and head is not None and head != (self.count, self.last_hash):
            first_invalid = {
                "seq": self.count + 1,
                "record_id": None,
                "reason": f"chain ends at seq {self.count} but its head says {head[0]}",
            }
        return Verification(self.count, first_invalid is None, first_invalid)


def verify(records: Iterable[dict[str, Any]], head: tuple[int, str] | None = None) -> Verification:
    """Walk the chain in order and name the first record whose sequence, link or hash does not hold.

    `head` is the (seq, hash) the chain's head pointer holds: it catches a truncated tail.
    """
    walk = ChainWalk()
    for record in records:
        walk.add(record)
    return walk.result(head)
