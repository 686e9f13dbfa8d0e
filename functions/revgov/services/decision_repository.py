"""Stored decisions: the one module that names the decision collections and hands back `Decision` entities.

`DECISION` holds one item per decision (its head); a partner's decisions are also listed under `DECISION#<partner>`,
newest first. `DECISION_PART` holds the body of a decision too large for one item, cut into parts (`puts`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, NotRequired, TypedDict, cast

from ..domain.canonical import Canonical, canonical_json, canonical_json_of_decoded, canonical_object
from ..domain.errors import NotFound, RevgovError
from ..ports import DocumentStore, Page, Put, Stored
from .toolkit import pages

DECISIONS = "DECISION"
PARTS = "DECISION_PART"  # the body of a decision too large for one item (`puts`)
BODY_INLINE_CHARS = 200_000
PART_CHARS = 120_000
TIER_PATH = "$.inputs.partner.tier"  # the tier of the decision's partner when it was made (`recorded_tier`)


class Body(TypedDict):
    """Where a head keeps a body stored in parts: how many, its length, and the SHA-256 that binds them."""

    parts: int
    chars: int
    sha256: str


class Decision(TypedDict):
    """A decision record: the fields of `schemas/api/responses/decision.schema.json`. A head whose body is stored in
    parts has `body` instead of `inputs` and `result` until `whole` puts it back together."""

    decision_id: str
    kind: str
    subject: dict[str, str]
    partner_id: str | None
    policy_version: str
    inputs: NotRequired[dict[str, Any]]
    result: NotRequired[dict[str, Any]]
    outcome: str
    status: str
    approvals: list[str]
    decided_by: str
    created_at: str
    history: list[dict[str, Any]]
    human_review: NotRequired[dict[str, Any]]  # PA-14.2 / CPA-14.2: a review the partner requested (decision_reviews)
    body: NotRequired[Body]


def puts(decision: Decision, inputs: Canonical | None = None) -> list[Put]:
    """A new decision as stored items: one when it fits, else a head item and its body in parts.

    DynamoDB caps an item at 400 KB and a transaction at 4 MB: a decision whose inputs and result are larger than
    `BODY_INLINE_CHARS` keeps them as canonical JSON cut into parts of `PART_CHARS` ASCII characters (escaped once
    more when stored: at most twice as long, so a part stays under 250 KB), bound by their SHA-256 in the head. The
    head holds everything else (status, outcome, approvals, history), so approving a quote rewrites only the head.
    `inputs`, the decision's inputs with their canonical JSON made once by the caller, are not serialised again; a
    decision that fits one item is then stored as its canonical JSON, its result serialised once (`_inline_text`).
    """
    inline = _inline_text(decision, inputs)
    if inline is not None:
        return [put(decision, version=None, text=inline)]
    body = {"inputs": decision["inputs"], "result": decision["result"]}
    if inputs is not None and inputs.value is decision["inputs"]:
        text = canonical_object({"result": decision["result"]}, {"inputs": inputs.text})
    else:
        text = canonical_json(body)
    if not text.isascii():  # ASCII parts can be cut anywhere; escaping the rest keeps the same JSON value
        text = json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    if len(text) <= BODY_INLINE_CHARS:
        return [put(decision, version=None)]
    chunks = [text[start : start + PART_CHARS] for start in range(0, len(text), PART_CHARS)]
    head = cast(Decision, {k: v for k, v in decision.items() if k not in body})
    head["body"] = {"parts": len(chunks), "chars": len(text), "sha256": hashlib.sha256(text.encode()).hexdigest()}
    parts = [
        Put(PARTS, _part_key(decision["decision_id"], number), {"decision_id": decision["decision_id"], "text": chunk},
            must_be_absent=True)
        for number, chunk in enumerate(chunks)
    ]
    return [put(head, version=None), *parts]


def _inline_text(decision: Decision, inputs: Canonical | None) -> str | None:
    """The stored JSON text of a new decision whose body fits one item: its canonical JSON, made from the inputs' text
    and the result's, each serialised once (the result's text measures the body and is the stored one). None when the
    general path of `puts` decides: inputs without their text, a body that is not ASCII or is too large, or a result
    holding a value `canonical_json_of_decoded` refuses (a Decimal, an object). The result of an evaluation holds
    strings, integers, booleans, None, and lists and string-keyed dicts of them, whose text that encoder writes equal,
    to the byte, to `canonical_json`'s (it would write a float where `canonical_json` refuses one: an evaluation
    makes none, money is a decimal string)."""
    if inputs is None or inputs.value is not decision["inputs"]:
        return None
    try:
        result_text = canonical_json_of_decoded(decision["result"])
    except TypeError:
        return None
    texts = {"inputs": inputs.text, "result": result_text}
    body_chars = len(canonical_object({}, texts))  # the text `puts` would cut into parts
    if body_chars > BODY_INLINE_CHARS or not (inputs.text.isascii() and result_text.isascii()):
        return None
    return canonical_object({k: v for k, v in decision.items() if k not in texts}, texts)


def _part_key(decision_id: str, number: int) -> str:
    return f"{decision_id}#{number:04d}"


def put(decision: Decision | dict[str, Any], *, version: int | None, text: str | None = None) -> Put:
    """Write a decision's head (new when `version` is None, else over that version), listed under its partner;
    `text`: the decision's JSON when already made."""
    partner_id = decision.get("partner_id")
    return Put(
        DECISIONS,
        decision["decision_id"],
        cast(dict[str, Any], decision),  # the record itself, as the use case built it
        lookup=partner_lookup(decision) if partner_id else None,
        must_be_absent=version is None,
        expected_version=version,
        conflict_detail=f"decision {decision['decision_id']} changed meanwhile",
        text=text,
    )


def partner_lookup(decision: Mapping[str, Any]) -> tuple[str, str]:
    """Where a partner's decision is listed: its partner's partition, newest first (`page`); every rewrite of the
    head keeps the same lookup."""
    return f"{DECISIONS}#{decision['partner_id']}", f"{_newest_first(decision['created_at'])}#{decision['decision_id']}"


def _newest_first(at: str) -> str:
    """A sort key that orders ISO-8601 UTC instants from the newest: 10^13 ms minus the instant, zero-padded."""
    instant = datetime.fromisoformat(at.replace("Z", "+00:00"))
    return f"{10**13 - int(instant.timestamp() * 1000):013d}"


def whole(store: DocumentStore, tenant_id: str, head: Mapping[str, Any]) -> Decision:
    """A decision stored in parts, put back together and checked against the hash its head holds. The parts are
    written in the head's own commit and read consistently, so a part missing or failing the hash is damage, not a
    state that a retry outlives: a 500 (logged with the correlation id), never a 503 "retry"."""
    body = head.get("body")
    if body is None:
        return cast(Decision, head)
    refs = [(tenant_id, PARTS, _part_key(head["decision_id"], n)) for n in range(int(body["parts"]))]
    found = store.get_many(refs)
    missing = [ref[2] for ref in refs if ref not in found]
    if missing:
        raise RevgovError(f"decision {head['decision_id']} is stored in parts and {len(missing)} of them are missing")
    text = "".join(found[ref].data["text"] for ref in refs)
    if hashlib.sha256(text.encode()).hexdigest() != body["sha256"]:
        raise RevgovError(f"decision {head['decision_id']}: its stored parts do not match the hash of its head")
    return cast(Decision, {**{k: v for k, v in head.items() if k != "body"}, **json.loads(text)})


def read(store: DocumentStore, tenant_id: str, decision_id: str) -> Stored | None:
    """A decision's head as stored (its data and version; its body may be kept in parts: `whole`), or None."""
    return store.get(tenant_id, DECISIONS, decision_id)


def recorded_tier(store: DocumentStore, tenant_id: str, decision_id: str) -> str | None:
    """The tier the decision's inputs recorded for its partner (what `decisions.tier_at_decision` reads of a decision
    in hand), read alone: the engine extracts it (SQLite's JSON functions), instead of the whole decision, inputs and
    result, being decoded for one field. None when not recorded, when its inputs are kept in parts, or when there is
    no such decision (keys in order: the decision's own key comes before any longer key it prefixes)."""
    found = next(store.project(tenant_id, DECISIONS, [TIER_PATH], prefix=decision_id), None)
    if found is None or found[0] != decision_id:
        return None
    tier = json.loads(found[1][0])
    return str(tier) if tier else None


def head(store: DocumentStore, tenant_id: str, decision_id: str) -> Stored:
    """A decision's head as stored, with its version; NotFound if none."""
    stored = read(store, tenant_id, decision_id)
    if stored is None:
        raise NotFound(f"no decision {decision_id}")
    return stored


def every(store: DocumentStore, tenant_id: str) -> Iterator[Stored]:
    """Every decision head of the tenant, in id order, page by page."""
    return pages(store, tenant_id, DECISIONS)


def page(store: DocumentStore, tenant_id: str, *, partner_id: str | None, limit: int, cursor: str | None) -> Page:
    """One page of decision heads: one partner's newest first (read through its own lookup partition, so no other
    partner's decision is read), or, with no partner, the tenant's in id order."""
    if partner_id is None:
        return store.query(tenant_id, DECISIONS, limit=limit, cursor=cursor)
    return store.lookup(tenant_id, f"{DECISIONS}#{partner_id}", limit=limit, cursor=cursor)
