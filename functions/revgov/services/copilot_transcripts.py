"""The text of copilot questions and answers, kept apart from the audit chain so a retention policy can erase it.

PA-14.1 / CPA-14.1: "Questions and answers are logged with sensitive fields masked". The `copilot.asked` audit record
seals the transcript's id and a salted SHA-256 of the question and of the answer (`retention.transcript_digest`);
the text and the salt live in `COPILOTTEXT/<transcript id>`, written in the same transaction. The retention sweep
later erases the text (and the salt) or reduces it to a masked form: the audit record is never touched, so the chain
still verifies, and a digest whose salt is gone confirms no guess of the text. Records sealed before transcripts were
kept apart hold their (masked) text in their inputs and keep it (docs/retention.md).

Each transcript is listed under `COPILOTTEXT#<form>` (full, masked, erased) by `<asked at>#<id>`, so the sweep reads
only the transcripts still in full, oldest first, and stops at the first one not yet due.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..domain import retention
from ..ports import DocumentStore, Put, Stored
from ..runtime import Runtime
from .toolkit import lookup_pages

TRANSCRIPTS = "COPILOTTEXT"
FULL, MASKED, ERASED = "full", "masked", "erased"


def _put(data: dict[str, Any], *, version: int | None) -> Put:
    return Put(TRANSCRIPTS, data["transcript_id"], data,
               lookup=(f"{TRANSCRIPTS}#{data['form']}", f"{data['asked_at']}#{data['transcript_id']}"),
               must_be_absent=version is None, expected_version=version,
               conflict_detail=f"transcript {data['transcript_id']} changed meanwhile")


def recorded(
    rt: Runtime, question: str, answer: str, *, partner_id: str | None, decision_id: str | None
) -> tuple[dict[str, str], Put]:
    """The members the audit record seals in place of the text, and the put that keeps the text apart."""
    transcript_id, salt, at = rt.ids.new("cpt"), rt.ids.secret(), rt.clock.now_iso()
    sealed = {
        "transcript_id": transcript_id,
        "question_sha256": retention.transcript_digest(salt, question),
        "answer_sha256": retention.transcript_digest(salt, answer),
    }
    data = {"transcript_id": transcript_id, "asked_at": at, "partner_id": partner_id, "decision_id": decision_id,
            "form": FULL, "question": question, "answer": answer, "salt": salt}
    return sealed, _put(data, version=None)


def due(store: DocumentStore, tenant_id: str, before: str) -> Iterator[Stored]:
    """The transcripts still in full asked before `before`, oldest first."""
    for stored in lookup_pages(store, tenant_id, f"{TRANSCRIPTS}#{FULL}"):
        if stored.data["asked_at"] >= before:
            return
        yield stored


def reduced(stored: Stored, then: str, at: str) -> Put:
    """The transcript erased (no text, no salt) or reduced to its masked form (no salt: the sealed digest then
    confirms no guess of the original)."""
    data = {key: value for key, value in stored.data.items() if key not in ("question", "answer", "salt")}
    if then == "mask":
        data |= {"form": MASKED, "question": retention.masked_form(stored.data["question"]),
                 "answer": retention.masked_form(stored.data["answer"]), "masked_at": at}
    else:
        data |= {"form": ERASED, "erased_at": at}
    return _put(data, version=stored.version)


def shown(data: Mapping[str, Any]) -> dict[str, Any]:
    """A transcript as an audit record shows it (`transcript`): its form and text; `digest_matches` says whether the
    text is the one the record sealed (true only while kept in full)."""
    form = data["form"]
    if form == ERASED:
        return {"form": ERASED, "erased_at": data["erased_at"]}
    return {"form": form, "question": data["question"], "answer": data["answer"],
            **({"masked_at": data["masked_at"]} if form == MASKED else {})}


def attach(store: DocumentStore, tenant_id: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records, each `copilot.asked` record with the transcript its inputs name (`transcript`): in full, masked
    or erased. A record sealed with its text in its inputs is returned as it is."""
    wanted = {str(r["inputs"]["transcript_id"]) for r in records
              if isinstance(r.get("inputs"), dict) and r["inputs"].get("transcript_id")}
    if not wanted:
        return records
    found = store.get_many([(tenant_id, TRANSCRIPTS, key) for key in sorted(wanted)])
    kept = {key: stored.data for (_, _, key), stored in found.items()}
    return [_with(record, kept) for record in records]


def _with(record: dict[str, Any], kept: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    inputs = record.get("inputs")
    if not isinstance(inputs, dict) or not inputs.get("transcript_id"):
        return record
    transcript_id = inputs["transcript_id"]
    data = kept.get(str(transcript_id))
    if data is None:  # the tenant's data was restored without it: say so rather than guess
        return {**record, "transcript": {"form": ERASED, "erased_at": None}}
    shown_now = shown(data)
    if data["form"] == FULL:
        salt = str(data["salt"])
        shown_now["digest_matches"] = (
            retention.transcript_digest(salt, data["question"]) == inputs["question_sha256"]
            and retention.transcript_digest(salt, data["answer"]) == inputs["answer_sha256"])
    return {**record, "transcript": shown_now}
