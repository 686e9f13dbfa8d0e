"""The tenant's data retention policy: read it, change it (an admin, audited, never below its floors), and the daily
sweep that applies it (copilot transcripts erased or masked, onboarding papers of ended partners purged), each purge
audited, nothing purged while a legal hold stands: an open approval or exception of the partner, or a hold Legal placed
by hand for a dispute or litigation outside any case (`place_hold` / `lift_hold`, audited). docs/retention.md.

The audit chain itself is never purged: financial records (invoices, credit notes, decisions, audit records) are kept
at least the policy's years and leave only with the tenant (offboarding), so `GET /v1/audit/verify` holds after any
sweep."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from ..domain import retention
from ..domain.access import Principal, Role
from ..domain.audit import AuditEntry
from ..domain.cases import OPEN
from ..domain.errors import Conflict, Forbidden, NotFound, RuleViolation, StaleWrite
from ..domain.sla_pause import WAITING
from ..ports import Changes, Put, Stored
from ..runtime import Runtime
from . import case_repository, copilot_transcripts, partner_repository, tenant_repository

ACTOR = "system:retention"  # the daily retention sweep, as it appears in the audit chain
SWEEPS = ("RETENTION", "LASTSWEEP")  # the last sweep's time and counts (GET /v1/retention)
HOLDS = "LEGALHOLD"  # hold id -> a legal hold Legal placed by hand (active or lifted); a few per tenant, read whole
BATCH = 40  # transcripts per commit: one audit record each, well inside a transaction's 100 items
WORKING_RECORDS = (
    {"name": "idempotency", "kept": "24 hours (powertools records 48 hours)", "how": "ttl",
     "covers": "the answer replayed for a repeated Idempotency-Key"},
    {"name": "erp_inbound", "kept": "36 days", "how": "ttl",
     "covers": "ERP event ids kept to drop duplicates and to replay"},
    {"name": "event_log", "kept": "35 days", "how": "ttl",
     "covers": "what became of each event (GET /v1/events/{event_id}): received, processed, failed"},
    {"name": "kpi_rollup_markers", "kept": "400 days", "how": "ttl",
     "covers": "which facts a KPI rollup already counted"},
    {"name": "rate_limit_windows", "kept": "the current minute", "how": "ttl", "covers": "requests counted per key"},
)
_COVERS = {
    "financial_records": "invoices, credit notes, decisions, settlements and the audit chain: never purged by the "
                         "sweep; deleted only with the tenant at offboarding",
    "copilot_text": "the text of copilot questions and answers (masked at logging); the audit record of each answer "
                    "stays with the chain",
    "partner_documents": "where each onboarding document of a rejected, lapsed or terminated partner is kept, and "
                         "the applicant's contact, counted from that decision",
    "webhook_deliveries": "the record of each webhook delivery (status, attempts, last error), from its last attempt",
}


# --- the policy ------------------------------------------------------------------------------------------------------
def policy_view(rt: Runtime, tenant_id: str) -> dict[str, Any]:
    """The tenant's retention policy: each class's period, its floor and the floor's sources, what it covers; the
    working records that expire on their own; the partners under legal hold; the last sweep."""
    tenant, _ = tenant_repository.load(rt.store, tenant_id)
    return _view(rt, tenant_id, tenant.config)


def _view(rt: Runtime, tenant_id: str, config: dict[str, Any]) -> dict[str, Any]:
    values, bounds = retention.chosen(config), retention.floors(config)
    classes = {name: {**values[name], "floor": bounds[name].as_dict(), "covers": _COVERS[name],
                      "purged_by_sweep": name in ("copilot_text", "partner_documents")}
               for name in retention.CLASSES}
    last = rt.store.get(tenant_id, *SWEEPS)
    holds = legal_holds(rt, tenant_id)
    return {
        "record_keeping": dict(retention.record_keeping(config) or {}) or None,
        "classes": classes,
        "working_records": [dict(w) for w in WORKING_RECORDS],
        "legal_holds": [{"partner_id": p, "case_ids": sorted(c), "hold_ids": sorted(h)}
                        for p, (c, h) in sorted(holds.items())],
        "last_sweep": last.data if last else None,
    }


def set_policy(rt: Runtime, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """An admin replaces the tenant's chosen periods (every class); one below its floor is a 422 naming it and the
    floor's sources, and nothing changes. Audited (`retention.policy_changed`, before and after)."""
    tenant, version = tenant_repository.load(rt.store, who.tenant_id)
    errors = retention.problems(tenant.config, body)
    if errors:
        raise RuleViolation("a retention period is below what the contract or the law requires", errors=errors)
    kept = retention.record_keeping(tenant.config)  # the contract's clause: provisioning's, never the API's
    section = {**({"record_keeping": dict(kept)} if kept else {}),
               **{name: dict(body[name]) for name in retention.CLASSES}}
    before = retention.chosen(tenant.config)
    changed = replace(tenant, config={**tenant.config, "retention": section})
    audit = AuditEntry.by(who, "retention.policy_changed", "retention", "changed",
                          inputs={"before": before, "after": retention.chosen(changed.config)},
                          rule_ids=(kept["id"],) if kept else (), clauses=(kept["clause"],) if kept else ())
    rt.commit(who.tenant_id, Changes(
        puts=[tenant_repository.profile_put(changed, version=version,
                                            conflict_detail="the tenant changed meanwhile; read the policy again")],
        audit=[audit]))
    return _view(rt, who.tenant_id, changed.config)


def legal_holds(rt: Runtime, tenant_id: str) -> dict[str, tuple[list[str], list[str]]]:
    """Each partner under legal hold, with the open approvals and exceptions holding it (a dispute, an appeal, a
    decision not yet made) and the holds Legal placed by hand. Its transcripts and papers are not purged until every
    such case is decided and every such hold lifted."""
    by_case = retention.held_partners(_open_cases(rt, tenant_id))
    by_hand = _held_by_hand(rt, tenant_id)
    return {p: (by_case.get(p, []), by_hand.get(p, [])) for p in {*by_case, *by_hand}}


# --- holds placed by hand --------------------------------------------------------------------------------------------
def place_hold(rt: Runtime, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """Legal places a hold on a partner's records for a matter outside any case (a dispute, litigation): the sweep
    purges none of its transcripts or papers until Legal lifts it. Audited (`retention.legal_hold_placed`)."""
    _legal_only(who)
    partner_id = str(body["partner_id"])
    if partner_repository.record(rt.store, who.tenant_id, partner_id) is None:
        raise NotFound(f"no partner {partner_id}")
    hold = retention.placed_hold(rt.ids.new("lgh"), partner_id, body, by=who.actor, at=rt.clock.now_iso())
    rt.commit(who.tenant_id, Changes(puts=[_hold_put(hold, None)], audit=[_hold_audit(who, "placed", hold)]))
    return hold


def lift_hold(rt: Runtime, who: Principal, hold_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Legal lifts a hold it placed, with a reason, once; the next sweep applies the retention policy again.
    Audited (`retention.legal_hold_lifted`)."""
    _legal_only(who)
    stored = rt.store.get(who.tenant_id, HOLDS, hold_id)
    if stored is None:
        raise NotFound(f"no legal hold {hold_id}")
    if stored.data["status"] != retention.HOLD_ACTIVE:
        raise Conflict(f"legal hold {hold_id} was lifted on {stored.data['lifted_at']}",
                       extra={"current_status": stored.data["status"]})  # fmt: skip
    hold = retention.lifted_hold(stored.data, reason=body["reason"], by=who.actor, at=rt.clock.now_iso())
    rt.commit(who.tenant_id, Changes(puts=[_hold_put(hold, stored.version)], audit=[_hold_audit(who, "lifted", hold)]))
    return hold


def _legal_only(who: Principal) -> None:
    if who.role is not Role.LEGAL:  # the route admits legal only; a use case called otherwise refuses the same
        raise Forbidden("only legal places or lifts a legal hold")


def _held_by_hand(rt: Runtime, tenant_id: str) -> dict[str, list[str]]:
    """The partners active holds placed by hand keep, with the holds; read from the collection itself (a consistent
    read: a hold placed a moment before the sweep is seen by it)."""
    held: dict[str, list[str]] = {}
    cursor = None
    while True:
        page = rt.store.query(tenant_id, HOLDS, limit=200, cursor=cursor)
        for item in page.items:
            if item.data["status"] == retention.HOLD_ACTIVE:
                held.setdefault(str(item.data["partner_id"]), []).append(str(item.data["hold_id"]))
        cursor = page.next_cursor
        if not cursor:
            return held


def _hold_put(hold: dict[str, Any], version: int | None) -> Put:
    return Put(HOLDS, hold["hold_id"], hold, must_be_absent=version is None, expected_version=version,
               conflict_detail=f"legal hold {hold['hold_id']} changed meanwhile")  # fmt: skip


def _hold_audit(who: Principal, step: str, hold: dict[str, Any]) -> AuditEntry:
    """The distributor's own legal matter: the subject is the hold, the partner named as `held_partner_id`, so the
    record is not one of the partner's own trail (PA-12.1's trail is of automated decisions and approvals)."""
    inputs = {"held_partner_id": hold["partner_id"], "matter": hold["matter"],
              "reason": hold["lift_reason"] if step == "lifted" else hold["reason"]}  # fmt: skip
    return AuditEntry.by(who, f"retention.legal_hold_{step}", hold["hold_id"], hold["status"], inputs=inputs)


@dataclass(frozen=True)
class _Holds:
    """The partners and the subjects (decisions, disputes) open cases hold."""

    partners: dict[str, list[str]]
    subjects: frozenset[str]

    def hold(self, transcript: dict[str, Any]) -> bool:
        return transcript.get("partner_id") in self.partners or transcript.get("decision_id") in self.subjects


def _open_cases(rt: Runtime, tenant_id: str) -> Iterator[dict[str, Any]]:
    for kind, status in OPEN.items():
        for listed in (status, WAITING):
            yield from (dict(case) for case in case_repository.by_status(rt.store, tenant_id, kind, listed))


# --- the daily sweep -------------------------------------------------------------------------------------------------
def sweep(rt: Runtime, tenant_id: str) -> dict[str, int]:
    """Scheduled daily (`retention_sweep`): apply the tenant's retention policy as of the clock's now. Idempotent: a
    record already purged is not listed again; a record changed meanwhile is left to the next run."""
    tenant, _ = tenant_repository.load(rt.store, tenant_id)
    open_cases = list(_open_cases(rt, tenant_id))
    now = rt.clock.now_iso()
    by_hand = _held_by_hand(rt, tenant_id)
    holds = _Holds({**by_hand, **retention.held_partners(open_cases)}, retention.held_subjects(open_cases))
    counts = dict.fromkeys(("transcripts_erased", "transcripts_masked", "documents_purged", "held"), 0)
    _sweep_transcripts(rt, tenant_id, tenant.config, now, holds, counts)
    _sweep_papers(rt, tenant_id, tenant.config, now, holds, counts)
    rt.commit(tenant_id, Changes(puts=[Put(*SWEEPS, {"at": now, **counts})]))
    return counts


def _sweep_transcripts(rt: Runtime, tenant_id: str, config: dict[str, Any], now: str, holds: _Holds,
                       counts: dict[str, int]) -> None:
    rule = retention.chosen(config)["copilot_text"]
    before = retention.cutoff(now, int(rule["days"]))
    batch: list[Stored] = []
    for stored in copilot_transcripts.due(rt.store, tenant_id, before):
        if holds.hold(stored.data):
            counts["held"] += 1
            continue
        batch.append(stored)
        if len(batch) == BATCH:
            _purge_transcripts(rt, tenant_id, batch, rule, before, now, counts)
            batch = []
    if batch:
        _purge_transcripts(rt, tenant_id, batch, rule, before, now, counts)


def _purge_transcripts(rt: Runtime, tenant_id: str, batch: list[Stored], rule: dict[str, Any], before: str, now: str,
                       counts: dict[str, int]) -> None:
    then = str(rule["then"])
    done = "masked" if then == "mask" else "erased"
    audit = AuditEntry(
        actor=ACTOR, actor_role="system", action=f"retention.transcripts_{done}", subject="copilot",
        outcome=f"{len(batch)} transcript(s) {done}", rule_ids=("RET-COPILOT-TEXT",),
        inputs={"transcript_ids": [s.key for s in batch], "days": rule["days"], "then": then, "asked_before": before})
    try:
        rt.commit(tenant_id, Changes(puts=[copilot_transcripts.reduced(s, then, now) for s in batch], audit=[audit]))
    except StaleWrite:  # one changed meanwhile: the next run reads them again
        return
    counts[f"transcripts_{done}"] += len(batch)


def _sweep_papers(rt: Runtime, tenant_id: str, config: dict[str, Any], now: str, holds: _Holds,
                  counts: dict[str, int]) -> None:
    days = retention.days_of(config, "partner_documents")
    for seen in partner_repository.every(rt.store, tenant_id):
        if not retention.documents_due(seen, days, now):
            continue
        if seen["partner_id"] in holds.partners:
            counts["held"] += 1
            continue
        partner, version = partner_repository.load(rt.store, tenant_id, seen["partner_id"])
        if not retention.documents_due(partner, days, now):
            continue
        purged = retention.purged_partner(partner, now)
        audit = AuditEntry(
            actor=ACTOR, actor_role="system", action="partner.papers_purged", subject=partner["partner_id"],
            outcome=f"{len(purged['documents'])} document reference(s) and the contact erased",
            rule_ids=("RET-PARTNER-DOCUMENTS",),
            inputs={"status": partner["status"], "ended_at": retention.ended_at(partner), "days": days,
                    "document_types": sorted(purged["documents"]), "contact_erased": bool(partner.get("contact"))})
        try:
            rt.commit(tenant_id, Changes(puts=[partner_repository.put(purged, version=version)], audit=[audit]))
        except StaleWrite:
            continue
        counts["documents_purged"] += 1
