"""A certified individual leaving a partner (PA-4.4 / CPA-4.2): recorded by the partner or Channel Operations, the
certification ending like an expiry on the last day of employment, and a late notice raised as an exception for
Channel Operations where the partner quoted the affected family meanwhile.

PA-4.4: "If the only certified individual for a certification leaves the Partner's employment, that certification
ceases to count for the Partner on the individual's last day of employment, with the same effect as expiry under
PA-4.3. The Partner must notify Channel Operations within 10 business days of the departure. Failure to notify is a
material breach where the Partner continues to quote Products of the affected Product Family."
The effect on tier, quoting, registering and deal holds needs nothing here: every reader of certification validity
goes through `domain.partners.counts_until` (the expiry path).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..domain import partners
from ..domain.access import Principal, Role
from ..domain.audit import AuditEntry
from ..domain.errors import ConcurrentUpdate, NotFound
from ..domain.partners import Departure, QuoteSeen
from ..domain.time import instant, parse_instant
from ..ports import Changes, DomainEvent
from ..runtime import Runtime
from . import cases, decision_repository, tenants
from . import partner_repository as repository
from .toolkit import retry_on_conflict

SOURCE = "revgov.partner"
ACTION = "certification_departure_recorded"
ACTOR = "system:certification_departures"
CATEGORY = "certification_departure_not_notified"  # in no routing matrix: channel_ops triage (SOP-4.1 / COP-4.1)
_ATTEMPTS = 12  # as the partner's other filings: a write that finds the partner changed reads it again
_QUOTES_CITED = 20


def record(rt: Runtime, who: Principal, partner_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST /v1/partners/{partner_id}/certification-departures: one commit with the partner, its audit record, its
    event and, for a late notice under PA-4.4 while the partner quoted the family, the exception."""
    if not who.sees_partner(partner_id):
        raise NotFound(f"no partner {partner_id}")
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)

    def attempt() -> tuple[Departure, dict[str, Any] | None]:
        partner, version = repository.load(rt.store, who.tenant_id, partner_id)
        now = rt.clock.now_iso()
        departure = partners.record_departure(tenant.policy, partner, body, by=who, at=now)
        changes = _recorded(who, departure, tenant.policy_version)
        exception = _late_notice(rt, who, tenant.policy, departure, now, tenant.policy_version)
        if exception is not None:
            changes.merge(exception[1])
        changes.puts.insert(0, repository.put(departure.partner, version=version))
        rt.commit(who.tenant_id, changes)
        return departure, exception[0] if exception else None

    departure, exception = retry_on_conflict(
        attempt,
        attempts=_ATTEMPTS,
        exhausted=lambda: ConcurrentUpdate(f"partner {partner_id} kept changing under this write; retry"),
    )
    return _answer(who, partner_id, departure, exception, rt.clock.now_iso())


def _answer(
    who: Principal, partner_id: str, departure: Departure, exception: dict[str, Any] | None, now: str
) -> dict[str, Any]:
    ends = partners.counts_until(departure.certification)
    notice = departure.entry["notice"]
    answer = {
        "partner_id": partner_id,
        "certification": departure.certification,
        "departure": departure.entry,
        "counts": partners.valid_on(departure.certification, parse_instant(now).date()),
        "counts_until": ends.isoformat() if ends else None,
        "holders": departure.certification["holders"],
        "reasons": [{"rule_id": notice["rule_id"], "clause": notice["clause"], "message": _message(departure)}],
    }
    if who.role is not Role.PARTNER:  # the exception is Channel Operations' business
        answer["late_notice_exception"] = exception
    return answer


def _message(departure: Departure) -> str:
    cert_id, notice = departure.certification["certification_id"], departure.entry["notice"]
    effect = (
        f"{cert_id} stops counting after {departure.certification['holder_left_on']}, with the same effect as expiry"
        if departure.ended
        else f"{cert_id} still counts: {departure.certification['holders']} certified individual(s) remain"
    )
    timing = "late" if notice["late"] else "in time"
    return f"{effect}; notice due by {notice['due_on']}, given on {notice['notified_on']} ({timing})"


def _recorded(who: Principal, departure: Departure, policy_version: str) -> Changes:
    partner, entry = departure.partner, departure.entry
    cert_id = departure.certification["certification_id"]
    notice = entry["notice"]
    audit = AuditEntry.by(
        who, f"partner.{ACTION}", partner["partner_id"], partner["status"],
        inputs={"certification_id": cert_id, "last_day": entry["last_day"], "notice": notice,
                "holders": departure.certification["holders"], "ended": departure.ended},
        policy_version=policy_version, rule_ids=(notice["rule_id"],), clauses=(notice["clause"],),
    )
    detail = {
        "partner_id": partner["partner_id"], "status": partner["status"], "partner_type": partner["partner_type"],
        "tier": partner.get("tier"), "proposed_tier": partner.get("proposed_tier"), "certification_id": cert_id,
        "last_day": entry["last_day"], "ceased": departure.ended, "rule_id": notice["rule_id"],
        "clause": notice["clause"],
    }
    return Changes(audit=[audit], events=[DomainEvent(SOURCE, f"partner.{ACTION}", detail)])


def _late_notice(
    rt: Runtime, who: Principal, policy: dict[str, Any], departure: Departure, now: str, policy_version: str
) -> tuple[dict[str, Any], Changes] | None:
    """PA-4.4's breach: a late notice of the last holder leaving while the partner quoted the family meanwhile."""
    if not (departure.ended and departure.late):
        return None
    partner_id = departure.partner["partner_id"]
    quotes = partners.quotes_while_unnotified(departure, _quotes_since(rt, who.tenant_id, partner_id, departure), now)
    reason = partners.late_notice_reason(policy, departure, quotes)
    if reason is None:
        return None
    context = {
        "certification_id": departure.certification["certification_id"],
        "product_family": departure.certification["product_family"],
        "last_day": departure.entry["last_day"], "notice": departure.entry["notice"], "quote_count": len(quotes),
        "quotes": [{"decision_id": q.decision_id, "at": q.at} for q in quotes[:_QUOTES_CITED]],
    }
    case, changes = cases.open_case(
        rt, policy, kind="exception", category=CATEGORY, subject_kind="partner", subject_id=partner_id,
        requested_by=ACTOR, reasons=[reason], risk_score=80, partner_id=partner_id, context=context,
        policy_version=policy_version, country=departure.partner.get("country"),
    )
    shown = {"exception_id": case["case_id"], **{k: case[k] for k in ("category", "queue", "due_at", "status")}}
    return shown, changes


def _quotes_since(rt: Runtime, tenant_id: str, partner_id: str, departure: Departure) -> Iterator[QuoteSeen]:
    """The partner's quote checks made after the last day of employment, newest first (read through the partner's
    own decision listing, which stops at the first one made before)."""
    cursor: str | None = None
    while True:
        page = decision_repository.page(rt.store, tenant_id, partner_id=partner_id, limit=100, cursor=cursor)
        for item in page.items:
            if instant(item.data["created_at"]).date() <= departure.last_day:
                return
            if item.data.get("kind") == "pricing":
                yield _seen(rt, tenant_id, item.data)
        cursor = page.next_cursor
        if not cursor:
            return


def _seen(rt: Runtime, tenant_id: str, head: dict[str, Any]) -> QuoteSeen:
    decision = decision_repository.whole(rt.store, tenant_id, head)
    lines = decision.get("result", {}).get("lines", [])
    families = frozenset(line["family"] for line in lines if line.get("outcome") != "deny")
    return QuoteSeen(decision["decision_id"], decision["created_at"], families)
