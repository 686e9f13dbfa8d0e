"""Security incidents affecting the other party's data and their notice (PA-11.2 / CPA-11.2; domain/security_incidents).

A partner reports an incident affecting the distributor's data through its key (`POST /v1/security-incidents`, the
report is the notice); legal or customer success (who runs managed support, where the distributor processes the
partner's customers' data, PA-11.2) record one affecting a partner's data and, when it is sent, the distributor's
notice (`POST /v1/security-incidents/{incident_id}/notice`). Each incident keeps a watch pointer until its notice is
settled: the scheduled `watch_security_incidents` (events/schedules.json `security-incident-watch`) opens one
exception of the policy's category (routed to legal) for a notice sent after the deadline or still unsent past it.
"""

from __future__ import annotations

from typing import Any

from ..domain import security_incidents as rules
from ..domain.access import Principal, Role
from ..domain.audit import AuditEntry
from ..domain.errors import NotFound, RuleViolation
from ..domain.tenants import Tenant
from ..domain.time import instant
from ..ports import Changes, Delete, Put, Stored
from ..runtime import Runtime
from . import approval_requests, cases, partner_repository, tenants
from .toolkit import pages, put_over

INCIDENTS = "SECINCIDENT"  # incident id -> the incident
BY_PARTNER = "SECINCIDENTBYPARTNER"  # {partner_id}#{incident_id} -> {incident_id}: one partner's, in time order
WATCH = "SECINCIDENTWATCH"  # incident id -> {} while its notice is not settled (the sweep reads only these)
RECEIVED = "received"  # a partner's report: its notice reached the distributor (the exception tells legal at once)
OPEN_REPORTS = "SECINCIDENTREPORTCASE"  # partner id -> legal's exception its reports join while it is undecided
KEEP_LISTED = 50  # the incidents an exception's context lists (the latest; `seen_count` counts them all)
ACTOR = "system:security_incidents"


def _rule(tenant: Tenant) -> rules.IncidentRule:
    rule = rules.IncidentRule.of(tenant.policy)
    if rule is None:
        raise RuleViolation("this tenant's policy has no security incident rule (security_incidents)")
    return rule


def _put(incident: dict[str, Any], read: Stored | None) -> Put:
    return put_over(INCIDENTS, incident["incident_id"], incident, read,
                    conflict_detail=f"incident {incident['incident_id']} changed meanwhile; read it again")  # fmt: skip


def _shown(rt: Runtime, who: Principal, incident: dict[str, Any]) -> dict[str, Any]:
    """As the caller may read it, its notice state as of now (a pending notice past its deadline reads overdue)."""
    incident = {**incident, "notice": rules.notice_state(incident, instant(rt.clock.now_iso()))}
    return rules.partner_view(incident) if who.role is Role.PARTNER else incident


def _entry(who: Principal | str, tenant: Tenant, rule: rules.IncidentRule, action: str,
           incident: dict[str, Any]) -> AuditEntry:  # fmt: skip
    inputs = {k: incident[k] for k in ("partner_id", "direction", "became_aware_at", "notify_by", "notified_at",
                                       "notice")}  # fmt: skip
    return approval_requests.cited(who, action, incident["incident_id"], incident["notice"], inputs=inputs,
                                   tenant=tenant, rules=[rule.rule], partner_id=incident["partner_id"])  # fmt: skip


def record(rt: Runtime, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """Record an incident: a partner key's own report (affecting the distributor's data), or staff's record of one
    affecting a partner's data (`partner_id`)."""
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    rule = _rule(tenant)
    by_partner = who.role is Role.PARTNER
    named = body.get("partner_id")
    partner_id = who.partner_id if by_partner else named
    if by_partner and named not in (None, who.partner_id):
        raise NotFound(f"no partner {named}")  # another partner's id: as one that does not exist
    if not isinstance(partner_id, str) or not partner_repository.exists(rt.store, who.tenant_id, partner_id):
        raise NotFound(f"no partner {partner_id}")
    now = instant(rt.clock.now_iso())
    incident = rules.record(rule, body, incident_id=rt.ids.new("sin"), partner_id=partner_id, by_partner=by_partner,
                            now=now, by=who.actor)  # fmt: skip
    pointer = Put(BY_PARTNER, f"{partner_id}#{incident['incident_id']}", {"incident_id": incident["incident_id"]})
    changes = Changes(puts=[pointer])
    if by_partner:  # its notice, received now: legal is told at once (PA-11.2 "cooperates in its investigation")
        incident["exception_id"] = _report_case(rt, tenant, rule, incident, changes)
    elif incident["notice"] != rules.ON_TIME:  # settled only when sent on time; otherwise the sweep looks at it
        changes.puts.append(Put(WATCH, incident["incident_id"], {"incident_id": incident["incident_id"]}))
    changes.puts.insert(0, _put(incident, None))
    action = "security_incident.reported" if by_partner else "security_incident.recorded"
    changes.audit.append(_entry(who, tenant, rule, action, incident))
    rt.commit(who.tenant_id, changes)
    return _shown(rt, who, incident)


def _load(rt: Runtime, who: Principal, incident_id: str) -> Stored:
    stored = rt.store.get(who.tenant_id, INCIDENTS, incident_id)
    if stored is None or not who.sees_partner(stored.data["partner_id"]):
        raise NotFound(f"no security incident {incident_id}")
    return stored


def get_incident(rt: Runtime, who: Principal, incident_id: str) -> dict[str, Any]:
    return _shown(rt, who, _load(rt, who, incident_id).data)


def list_incidents(
    rt: Runtime, who: Principal, partner_id: str | None, *, limit: int, cursor: str | None
) -> dict[str, Any]:
    """Incidents, oldest first, a page at a time: a partner key's own (read through its pointers, so no other
    partner's incident is read); staff all, or one partner's."""
    wanted = who.partner_id if who.role is Role.PARTNER else partner_id
    if wanted is None:
        page = rt.store.query(who.tenant_id, INCIDENTS, limit=limit, cursor=cursor)
        return {"items": [_shown(rt, who, s.data) for s in page.items], "next_cursor": page.next_cursor}
    mine = rt.store.query(who.tenant_id, BY_PARTNER, limit=limit, cursor=cursor, prefix=f"{wanted}#")
    refs = [(who.tenant_id, INCIDENTS, s.data["incident_id"]) for s in mine.items]
    found = rt.store.get_many(refs) if refs else {}
    items = [_shown(rt, who, found[ref].data) for ref in refs if ref in found]
    return {"items": items, "next_cursor": mine.next_cursor}


def record_notice(rt: Runtime, who: Principal, incident_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The distributor's notice to the partner was sent at `notified_at`."""
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    rule = _rule(tenant)
    stored = _load(rt, who, incident_id)
    incident = rules.with_notice(stored.data, body, now=instant(rt.clock.now_iso()), by=who.actor)
    changes = Changes(puts=[_put(incident, stored)])
    if incident["notice"] == rules.ON_TIME:
        changes.deletes.append(Delete(WATCH, incident_id))
    changes.audit.append(_entry(who, tenant, rule, "security_incident.notified", incident))
    rt.commit(who.tenant_id, changes)
    return _shown(rt, who, incident)


def watch_security_incidents(rt: Runtime, tenant_id: str) -> dict[str, int]:
    """Scheduled: every incident whose notice is late (sent after the deadline) or overdue (unsent past it) opens one
    exception of the policy's category, cited and audited; the incident keeps its id and leaves the watch. A notice
    still pending before its deadline is looked at again on the next run."""
    tenant, _ = tenants.load_tenant(rt, tenant_id)
    rule = rules.IncidentRule.of(tenant.policy)
    counts = {"looked_at": 0, "opened": 0}
    if rule is None:
        return counts
    now = instant(rt.clock.now_iso())
    for pointer in list(pages(rt.store, tenant_id, WATCH)):
        counts["looked_at"] += 1
        stored = rt.store.get(tenant_id, INCIDENTS, pointer.key)
        if stored is None:  # pragma: no cover - written together
            continue
        state = rules.notice_state(stored.data, now)
        if state == rules.PENDING:
            continue
        changes = Changes(deletes=[Delete(WATCH, pointer.key)])
        if state in (rules.LATE, rules.OVERDUE) and stored.data.get("exception_id") is None:
            incident = {**stored.data, "notice": state}
            case = _open_exception(rt, tenant, rule, incident, state, changes)
            incident["exception_id"] = case
            changes.puts.append(_put(incident, stored))
            changes.audit.append(_entry(ACTOR, tenant, rule, f"security_incident.notice_{state}", incident))
            counts["opened"] += 1
        rt.commit(tenant_id, changes)
    return counts


def _report_case(rt: Runtime, tenant: Tenant, rule: rules.IncidentRule, incident: dict[str, Any],
                 changes: Changes) -> str:  # fmt: skip
    """Legal's exception for a partner's report: one open at a time per partner. A report while the exception for an
    earlier one is undecided joins it (its context lists the incidents, `seen_count` counts them), so a partner key
    cannot open a case per request; once legal decides it, the next report opens a new one. The partner's marker and
    the case are written over what was read: two reports at once cannot both open one."""
    partner_id, incident_id = incident["partner_id"], incident["incident_id"]
    marker = rt.store.get(tenant.tenant_id, OPEN_REPORTS, partner_id)
    found = cases.find(rt, tenant.tenant_id, marker.data["exception_id"]) if marker is not None else None
    if found is not None and cases.undecided(found.data):
        context = dict(found.data.get("context") or {})
        context["incidents"] = [*context.get("incidents", []), incident_id][-KEEP_LISTED:]
        changes.puts.append(cases.refresh_case(found.data, found.version, context=context,
                                               at=incident["recorded_at"]))  # fmt: skip
        return str(found.data["case_id"])
    case_id = _open_exception(rt, tenant, rule, incident, RECEIVED, changes, context={"incidents": [incident_id]})
    meanwhile = f"partner {partner_id} reported another security incident meanwhile; send it again"
    changes.puts.append(put_over(OPEN_REPORTS, partner_id, {"exception_id": case_id}, marker,
                                 conflict_detail=meanwhile))  # fmt: skip
    return case_id


def _open_exception(rt: Runtime, tenant: Tenant, rule: rules.IncidentRule, incident: dict[str, Any], state: str,
                    changes: Changes, context: dict[str, Any] | None = None) -> str:  # fmt: skip
    who = "the partner" if incident["notifying_party"] == "partner" else "the distributor"
    hours, clause = incident["notify_within_hours"], rule.rule.clause
    if state == RECEIVED:
        timing = "after" if incident["notice"] == rules.LATE else "by"
        message = (
            f"security incident {incident['incident_id']} affecting the distributor's data, reported by partner "
            f"{incident['partner_id']}: its notice was received at {incident['notified_at']}, {timing} "
            f"{incident['notify_by']} ({hours} hours after it became aware at {incident['became_aware_at']}, "
            f"{clause}); legal investigates it with the partner ({clause}: 'cooperates in its investigation')"
        )
    else:
        message = (
            f"security incident {incident['incident_id']} (partner {incident['partner_id']}): {who}'s notice "
            + (f"was sent at {incident['notified_at']}, after" if state == rules.LATE else "was not sent by")
            + f" {incident['notify_by']}, {hours} hours after becoming aware at {incident['became_aware_at']} "
            f"({clause})"
        )
    partner = partner_repository.record(rt.store, tenant.tenant_id, incident["partner_id"]) or {}
    case, opened = cases.open_case(rt, tenant.policy, kind="exception", category=rule.category,
                                   subject_kind="security_incident", subject_id=incident["incident_id"],
                                   requested_by=ACTOR, reasons=[{**rule.rule.as_dict(), "message": message}],
                                   partner_id=incident["partner_id"], policy_version=tenant.policy_version,
                                   country=partner.get("country"), context=context)  # fmt: skip
    changes.merge(opened)
    return str(case["case_id"])
