"""Copilot use cases: index a tenant's contracts, answer a question with checked citations, explain a decision.

Whatever adapters answer, the same rules hold here: the question is masked before it goes anywhere, retrieval is
fenced to the caller's tenant and partner, citations outside what was retrieved are rejected, an answer that echoes
an embedded instruction is withheld, and every answer or refusal is audited with the clauses it drew on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import observe
from ..domain import audience, audit_view, copilot_answerability
from ..domain import copilot as core
from ..domain.access import Principal, Role
from ..domain.audit import AuditEntry
from ..domain.errors import NotFound, RuleViolation
from ..domain.explain import explain_audit_record, explain_decision
from ..domain.ids import is_typed_id
from ..logs import logger
from ..ports import Answerer, Changes, ClauseIndex
from ..runtime import Runtime
from . import audit_lookup, copilot_transcripts, decisions, tenant_repository, toolkit
from .clause_indexing import index_documents

if TYPE_CHECKING:
    from .copilot_own_data import Answered

TOP_K = 5


def _index(rt: Runtime) -> ClauseIndex:
    if rt.clause_index is None:
        raise RuntimeError("the copilot has no clause index configured")
    return rt.clause_index


def _answerer(rt: Runtime) -> Answerer:
    if rt.answerer is None:
        raise RuntimeError("the copilot has no answerer configured")
    return rt.answerer


# --- ingestion ------------------------------------------------------------------------------------------------------


def contract_files(tenants_dir: Path, tenant_id: str) -> list[Path]:
    return sorted((tenants_dir / tenant_id / "contracts").rglob("*.md"))


def index_tenant(
    index: ClauseIndex,
    tenants_dir: Path,
    tenant_id: str,
    *,
    on_document: Callable[[core.IngestResult], None] | None = None,
) -> list[core.IngestResult]:
    texts = [(str(path), path.read_text(encoding="utf-8")) for path in contract_files(tenants_dir, tenant_id)]
    return index_documents(index, tenant_id, texts, on_document=on_document)


# --- asking ---------------------------------------------------------------------------------------------------------


def scope_for(who: Principal, partner_id: str | None) -> core.Scope:
    """Partner keys see their own contract and the public policies; staff see one partner's or, unnamed, all."""
    if who.role is Role.PARTNER:
        if partner_id is not None and partner_id != who.partner_id:
            raise NotFound(f"no partner {partner_id}")
        return core.Scope(who.tenant_id, who.partner_id)
    return core.Scope(who.tenant_id, partner_id, all_partners=partner_id is None)


def _notice(rt: Runtime, index: ClauseIndex, scope: core.Scope) -> dict[str, Any]:
    """The tenant's AI notice (PA-14.1 / CPA-14.1) for every answer: the clause its policy's `copilot_notice` names,
    as indexed for this scope (a tenant-wide clause: every scope sees it)."""
    rule = tenant_repository.load(rt.store, scope.tenant_id)[0].policy.get("copilot_notice")
    found = [p for p in index.get(scope, [str(rule["clause"])]) if scope.admits(p)] if rule else []
    return core.ai_notice(rule, found[0] if found else None)


def _visible_documents(index: ClauseIndex, scope: core.Scope) -> list[str]:
    return [
        doc for doc, owner in index.documents(scope.tenant_id).items()
        if owner is None or scope.all_partners or owner == scope.partner_id
    ]


@dataclass(frozen=True)
class Reply:
    """One answer before it is audited: what was retrieved, the checked draft, and why anything was withheld."""

    hits: list[core.Hit]
    retrieved: dict[str, core.Passage]
    draft: core.Draft
    rejected: list[dict[str, str]]
    notes: list[str]
    mode: str
    degraded: str | None = None  # why the answer is the retrieved clauses quoted, not the model's (it failed)


def unit_similarities(index: ClauseIndex, question: str, hits: list[core.Hit]) -> list[list[float]] | None:
    """The question's similarity to each unit of each retrieved clause, or None when the index cannot give it."""
    return index.unit_similarities(question, [h.passage for h in hits])


def respond(
    index: ClauseIndex,
    answerer: Answerer,
    scope: core.Scope,
    question: str,
    *,
    pinned: list[core.Hit] | None = None,
    context: list[str] | None = None,
    mode: str = "hybrid",
) -> Reply:
    """Retrieve within the scope, keep only supported clauses, draft, then check every citation and the text."""
    pinned = pinned or []
    question = core.without_masks(question)
    hits = index.search(scope, question, k=TOP_K, mode=mode)
    backed = copilot_answerability.evidence(question, hits, unit_similarities(index, question, hits))
    pinned_ids = {h.passage.clause_id for h in pinned}
    chosen = pinned + [h for h in backed if h.passage.clause_id not in pinned_ids]
    retrieved = {h.passage.clause_id: h.passage for h in [*hits, *pinned]}
    rejected: list[dict[str, str]] = []
    notes: list[str] = []
    draft = core.Draft("", (), refused=True)
    degraded = None
    if chosen:
        try:
            draft = answerer.answer(question, chosen, context=context or [])
        except Exception as error:  # the model is throttled, down or timing out: answer with the clauses' own words
            degraded = f"the language model did not answer ({type(error).__name__}); the clauses are quoted instead"
            logger.warning("copilot degraded to retrieval only", extra={"error": str(error)})
            draft = core.compose_answer(question, chosen, context=context or [])
        check = core.check_citations(draft.citations, retrieved, scope)
        rejected = [{**c.as_dict(), "reason": why} for c, why in check.rejected]
        if rejected:
            notes.append("citations outside what was retrieved for this request were rejected")
        if core.follows_injection(draft.answer):
            notes.append("the draft repeated or acted on an instruction found in retrieved text")
        if draft.refused or rejected or notes or not check.accepted:
            draft = core.Draft("", (), refused=True)
        else:
            draft = core.Draft(draft.answer, check.accepted)
    return Reply(hits, retrieved, draft, rejected, notes, mode, degraded)


def ask(rt: Runtime, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    index = _index(rt)
    question = core.mask_sensitive(str(body["question"]))
    decision_id = body.get("decision_id")
    scope = scope_for(who, body.get("partner_id"))
    own = None if decision_id else _own_data(rt, who, question)
    if own is not None:  # a partner's question about its own records (PA-14.1): answered from them, not retrieved
        reply = Reply([], own.retrieved, own.draft, own.rejected, [], "records")
    else:
        context, pinned = _decision_context(rt, who, index, scope, decision_id) if decision_id else ([], [])
        reply = respond(index, _answerer(rt), scope, question, pinned=pinned, context=context)
    draft = reply.draft
    documents = _visible_documents(index, scope)
    searched = {
        "query": question,
        "scope": {"tenant_id": scope.tenant_id, "partner_id": scope.partner_id},
        "documents": documents,
        "mode": reply.mode,
        "k": TOP_K,
        "retrieved": list(reply.retrieved),
        "decision_id": decision_id,
    }
    answer = draft.answer if not draft.refused else core.refusal_text(scope, documents)
    records = {"own_data": own.topic, "records_read": own.records} if own is not None else {}
    sealed = _audit_answer(rt, who, question, answer, decision_id, scope, reply, records)
    observe.copilot_answered(
        who.tenant_id,
        refused=draft.refused,
        rejected_citations=len(reply.rejected),
        seconds=time.perf_counter() - started,
        top_score=max((h.score for h in reply.hits), default=0.0),
        baseline=rt.settings.copilot_refusal_baseline,
        retrieved=own is None,
    )
    return {
        "answer": answer,
        "citations": [c.as_dict() for c in draft.citations],
        "grounded": not draft.refused and bool(draft.citations),
        "refused": draft.refused,
        "degraded": reply.degraded,
        "searched": searched,
        "audit_id": sealed.get("record_id"),
        "own_data": ({**own.figures, "records": own.records} if own is not None and not draft.refused else None),
        "notice": _notice(rt, index, scope),
    }


def _own_data(rt: Runtime, who: Principal, question: str) -> Answered | None:
    if who.role is not Role.PARTNER:
        return None  # staff questions go to retrieval as before
    from .copilot_own_data import answer  # lazily: the billing and rebate reads stay out of the Lambda's import time

    return answer(rt, who, question)


def _decision_context(
    rt: Runtime, who: Principal, index: ClauseIndex, scope: core.Scope, decision_id: str
) -> tuple[list[str], list[core.Hit]]:
    """A question about a decision: its explanation as context, and the clauses its reasons cite pinned first."""
    record, explained = _explained(rt, who, decision_id)
    context = [explained["summary"], *(f"{r['rule_id']} ({r['clause']}): {r['message']}"
                                       for r in explained["reasons"] if r["message"])]
    clauses = [r["clause"] for r in explained["reasons"] if r["clause"]]
    pinned = [core.Hit(p, 1.0) for p in index.get(_record_scope(scope, record), clauses)]
    return context, [h for h in pinned if scope.admits(h.passage)]


def _audit_answer(
    rt: Runtime, who: Principal, question: str, answer: str, decision_id: str | None, scope: core.Scope, reply: Reply,
    records: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The answer or refusal in the audit chain, with the clauses it cited and the passages it drew on (and, for an
    answer from the partner's own records, their ids: `records_read`). The text of
    the question and answer is kept apart (`copilot_transcripts`, erased or masked by the tenant's retention policy):
    the record seals its transcript id and salted digests, so erasing the text leaves the chain verifiable."""
    draft = reply.draft
    outcome = "refused" if draft.refused else "answered"
    cited = tuple(dict.fromkeys(c.clause for c in draft.citations))
    text, kept = copilot_transcripts.recorded(rt, question, core.mask_sensitive(answer), partner_id=scope.partner_id,
                                              decision_id=decision_id)
    entry = AuditEntry(
        actor=who.actor,
        actor_role=who.role.value,
        action="copilot.asked",
        subject=decision_id or "copilot",
        outcome=outcome,
        inputs={
            **text,
            "partner_id": scope.partner_id,
            "decision_id": decision_id,
            "citations": [c.as_dict() for c in draft.citations],
            "rejected_citations": reply.rejected,
            "notes": reply.notes,
            "degraded": reply.degraded,
            **(records or {}),
        },
        clauses=cited,
        sources=tuple(reply.retrieved),
    )
    (sealed,) = rt.commit(who.tenant_id, Changes(puts=[kept], audit=[entry]))
    logger.info(  # never the question itself: the logs outlive the retention policy's days (docs/retention.md)
        "copilot answered",
        extra={"transcript_id": text["transcript_id"], "question_chars": len(question), "outcome": outcome,
               "sources": list(reply.retrieved), "cited": list(cited), "audit_id": sealed.get("record_id")},
    )
    return sealed


# --- explaining -----------------------------------------------------------------------------------------------------


def _record_scope(scope: core.Scope, record: dict[str, Any]) -> core.Scope:
    partner_id = record.get("partner_id")
    return core.Scope(scope.tenant_id, partner_id) if partner_id else core.Scope(scope.tenant_id)


def _audit_record(rt: Runtime, who: Principal, record_id: str) -> dict[str, Any]:
    """Decisions kept as audit records (onboarding): staff may read them, found by keyed reads and checked against
    their neighbours in the chain (services/audit_lookup.py); a partner the records `GET /v1/audit` gives it, looked
    for in its own audit index (PA-12.1 `audit_by_partner`: "the records relating to the Partner") and masked as that
    list masks them (`audit_view.partner_view`), an agent's not at all. Neither pages the tenant's whole chain."""
    if who.role is not Role.PARTNER:
        found = audit_lookup.find_record(rt, who.tenant_id, record_id)
        if found is None:
            raise NotFound(f"no decision {record_id}")
        problem = audit_lookup.chain_problem(rt, who.tenant_id, found)
        if problem is not None:
            raise RuleViolation(f"audit record {record_id} does not hold in the chain ({problem}); it is not "
                                "explained: GET /v1/audit/verify names the first broken record")
        return found
    records: Iterator[dict[str, Any]] = (
        stored.data for stored in toolkit.partner_audit_pages(rt.store, who.tenant_id, str(who.partner_id)))
    for record in records:
        if record.get("record_id") == record_id:
            if not audit_view.shown_to_partner(record):
                break  # an agent's: the partner's list leaves those out (domain/audit_view.py)
            return audit_view.partner_view(record, str(who.partner_id))
    raise NotFound(f"no decision {record_id}")


def _explained(rt: Runtime, who: Principal, decision_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    index = _index(rt)
    if is_typed_id(decision_id, "dec"):
        record = decisions.view(rt, who, decision_id)
        reasons = (record.get("result") or {}).get("reasons") or []
        explain: Callable[..., dict[str, Any]] = explain_decision
    elif is_typed_id(decision_id, "aud"):
        record = _audit_record(rt, who, decision_id)
        reasons = [{"clause": c} for c in record.get("clauses") or []]
        explain = explain_audit_record
    else:
        raise NotFound(f"no decision {decision_id}")
    if who.role is Role.PARTNER:  # PA-11.1 / CPA-11.1: the team that acted, never a staff key id
        record = audience.partner_record(record)
    clause_ids = [str(r["clause"]) for r in reasons if r.get("clause")]
    scope = _record_scope(core.Scope(who.tenant_id), record)
    clauses = {p.clause_id: p for p in index.get(scope, clause_ids)}
    return record, explain(record, clauses)


def explain(rt: Runtime, who: Principal, decision_id: str) -> dict[str, Any]:
    record, explained = _explained(rt, who, decision_id)
    cited = tuple(dict.fromkeys(c["clause"] for c in explained["citations"]))
    rt.audit_only(
        who.tenant_id,
        AuditEntry(
            actor=who.actor,
            actor_role=who.role.value,
            action="copilot.explained",
            subject=decision_id,
            outcome="explained",
            inputs={"decision_id": decision_id, "explanation": core.mask_sensitive(explained["explanation"])},
            policy_version=record.get("policy_version"),
            rule_ids=tuple(dict.fromkeys(str(r["rule_id"]) for r in explained["reasons"] if r.get("rule_id"))),
            clauses=cited,
            sources=tuple(dict.fromkeys(str(r["clause"]) for r in explained["reasons"] if r.get("clause"))),
        ),
    )
    return {
        "decision_id": decision_id,
        "kind": record.get("kind") or record.get("action"),
        "outcome": record.get("outcome"),
        "policy_version": record.get("policy_version"),
        **explained,
    }
