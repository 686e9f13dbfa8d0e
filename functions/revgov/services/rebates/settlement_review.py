"""The four-eyes step of a settlement run: approve (which issues it) or reject a prepared run, never by its preparer.

SOP-7.2 / COP-7.2: the rebate run is "approved by a second member of the finance queue" before "settlement statements
and credit notes are issued". SOP-4.3 / COP-4.3: "A requester can never approve their own request ... Any attempt to
self-approve is rejected and recorded in the audit log." A key the preparer minted after preparing the run is the
preparer's too (services/key_lineage.py, as quote approvals and policy drafts read it).

Approving rebuilds the run with its frozen identity and as-of day and compares the figures with the prepared ones
(`figures_hash`): anything changed since (a sale, a credit note, a payment, an accepted dispute, the policy) is a 409
and the run is prepared again; equal, it commits what the run settles, the settled header over the prepared one (as
read: two approvals at once, one wins) and the one-per-run marker, its audit record and `settlement.completed`, once.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ...domain.access import Principal
from ...domain.audit import AuditEntry
from ...domain.errors import Conflict, Forbidden, RevgovError
from ...domain.rebates import settlement as building
from ...domain.rebates import settlement_run as review
from ...domain.rebates.policy import Period
from ...domain.rebates.settlement import Run
from ...domain.rules import Rule
from ...domain.tenants import Tenant
from ...ports import Changes, DomainEvent
from ...runtime import Runtime
from .. import key_lineage
from . import repository
from .book import SOURCE, book, today
from .projection import sync
from .settlement import (
    Frame,
    audit_entry,
    build_run,
    prepared_requests,
    refuse_drafts,
    settled_changes,
    summary,
    write_documents,
)

SEGREGATION = Rule("ROUTE-SEGREGATION-OF-DUTIES", "SOP-4.3")  # when the policy names no segregation rule


def approve(rt: Runtime, who: Principal, settlement_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Approve a prepared run: its statements are issued (partners read them), what it settles is settled and
    `settlement.completed` is announced, once."""
    stored = repository.stored_settlement(rt, who.tenant_id, settlement_id)
    tenant, rebates = book(rt, who.tenant_id)
    _reviewer(rt, who, tenant, stored.data, approving=True)
    header = stored.data
    if header["policy_version"] != tenant.policy_version:
        raise _changed(header, f"the policy changed since it was prepared (to {tenant.policy_version})")
    period, on = Period.parse(header["period"]), date.fromisoformat(header["as_of"])
    sync(rt, tenant, rebates, period, on)
    now = rt.clock.now_iso()
    this = Run(settlement_id, period, int(header["run"]), now, header["prepared_by"], tenant.currency,
               tenant.policy_version, approved_by=who.actor)  # fmt: skip
    frame = build_run(rt, tenant, rebates, this, on, requests=prepared_requests(rt, who.tenant_id, header))
    refuse_drafts(rt, who.tenant_id, rebates, period, "approved")
    if review.figures_hash(frame.built, settlement_id) != header["figures_hash"]:
        raise _changed(header, "its figures changed since it was prepared (sales, credit notes, payments or disputes)")
    write_documents(rt, who.tenant_id, frame.built)  # the same documents, dated the day they are issued
    exceptions, changes = settled_changes(rt, tenant, this, frame)
    issued = review.approved(
        building.header(rebates, this, frame.rated, frame.built, exceptions), header, who.actor, body.get("note"),
        header["review"],
    )  # fmt: skip
    issued["issuer"] = tenant.issuer  # who issues its statements, as on the day they are issued (never rewritten)
    changes.puts += repository.settlement_puts(issued, issued["programs"], stored)
    changes.audit.append(audit_entry(who, rebates, this, frame, issued, "rebate_settlement.settled"))
    changes.events.append(DomainEvent(SOURCE, "settlement.completed", _completed(this, frame)))
    try:
        rt.commit(who.tenant_id, changes)
    except Conflict:  # approved (or rejected, replaced) meanwhile: say so
        now_stored = repository.stored_settlement(rt, who.tenant_id, settlement_id).data
        if now_stored["status"] == review.PREPARED:
            raise
        raise _decided(now_stored) from None
    return {**summary(issued, who, today(rt)), "replayed": False}


def reject(rt: Runtime, who: Principal, settlement_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Send a prepared run back with its reason: nothing is settled or issued; finance prepares the run again."""
    stored = repository.stored_settlement(rt, who.tenant_id, settlement_id)
    tenant, rebates = book(rt, who.tenant_id)
    _reviewer(rt, who, tenant, stored.data, approving=False)
    reason = str(body["reason"]).strip()
    sent_back = review.rejected(stored.data, who.actor, rt.clock.now_iso(), reason)
    rule = review.Review.of(tenant.policy, rebates.settlement_rule).rule
    entry = AuditEntry.by(
        who, "rebate_settlement.rejected", settlement_id, review.REJECTED,
        inputs={"period": sent_back["period"], "run": sent_back["run"], "reason": reason,
                "prepared_by": sent_back["prepared_by"], "figures_hash": sent_back["figures_hash"]},
        policy_version=tenant.policy_version, rule_ids=[rule.rule_id], clauses=[rule.clause],
    )  # fmt: skip
    try:
        rt.commit(who.tenant_id, Changes(puts=[repository.header_put(sent_back, stored)], audit=[entry]))
    except Conflict:
        raise _decided(repository.stored_settlement(rt, who.tenant_id, settlement_id).data) from None
    return summary(sent_back, who, today(rt))


def _reviewer(rt: Runtime, who: Principal, tenant: Tenant, header: dict[str, Any], *, approving: bool) -> None:
    """A prepared run, reviewed by someone other than its preparer; a refusal is recorded on the audit chain."""
    since = header.get("prepared_at") or header["settled_at"]
    holders = key_lineage.holders(rt, who.tenant_id, who.key_id, since=since)
    node = (tenant.policy.get("exception_routing") or {}).get("segregation_of_duties")
    segregation = Rule.of(node) if node else SEGREGATION
    try:
        review.refuse_reviewer(header, holders, segregation, approving)
    except (Forbidden, Conflict) as refused:
        _record_refusal(rt, who, tenant, header, "approve" if approving else "reject", refused)
        raise


def _record_refusal(
    rt: Runtime, who: Principal, tenant: Tenant, header: dict[str, Any], attempted: str, refused: RevgovError
) -> None:
    rule_ids = [refused.extra["rule_id"]] if "rule_id" in refused.extra else []
    clauses = [refused.extra["clause"]] if "clause" in refused.extra else []
    entry = AuditEntry.by(
        who, "rebate_settlement.review_refused", header["settlement_id"], "refused",
        inputs={"attempted": attempted, "refusal": refused.extra.get("refusal"), "status": refused.status,
                "detail": refused.detail, "run_status": header["status"]},
        policy_version=tenant.policy_version, rule_ids=rule_ids, clauses=clauses,
    )  # fmt: skip
    rt.audit_only(who.tenant_id, entry)


def _changed(header: dict[str, Any], why: str) -> Conflict:
    return Conflict(
        f"settlement {header['settlement_id']} cannot be approved: {why}; prepare {header['period']} run "
        f"{header['run']} again (POST /v1/rebates/settlements) and review the new figures",
        extra={"refusal": review.FIGURES_CHANGED, "current_status": header["status"]},
    )


def _decided(header: dict[str, Any]) -> Conflict:
    decision = (header.get("review") or {}).get("decision") or {}
    by = f" by {decision['by']} at {decision['at']}" if decision else ""
    return Conflict(
        f"settlement {header['settlement_id']} is already {header['status']}{by}",
        extra={"current_status": header["status"], "allowed_next": []},
    )


def _completed(run: Run, frame: Frame) -> dict[str, Any]:
    return {
        "settlement_id": run.settlement_id,
        "period": run.period.name,
        "run": run.run,
        "totals": frame.built.totals,
        "partners": len(frame.built.header_partners),
    }

