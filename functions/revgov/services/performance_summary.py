"""A partner's performance in a Quarter, summarized in sentences with their evidence, next steps and a drafted message
(`GET /v1/partners/{id}/performance-summary`).

It reads what the product already answers and words it (domain/performance_summary.py, performance_actions.py): the
partner's forecast (`GET …/forecast`) and the level at risk as `GET /v1/forecasts/at-risk` finds it, its KPIs
(`GET /v1/kpis?partner_id=`: threshold attainment, invoice cycle time), its rebate accrual (`GET /v1/rebates/accruals`),
its undecided approvals and exceptions, its certifications, its support hours (`GET …/entitlements/{name}`) and, for
staff, what the next tier review would find on the revenue invoiced so far (`GET …/tier-review`). It writes only the
audit record, as every explanation does (`copilot.explained`, like `GET /v1/decisions/{id}/explain`).

It reads the partner's undecided approvals and exceptions (waiting on it or not) through its own pointers
(`case_repository.undecided_of`), never every undecided case of the tenant; the rest are the reads of those routes for
one partner.

A partner key reads its own summary (a rival's id is a 404) without the staff-only sentences; nobody's view holds
the distributor's costs or margins. The draft message is never sent."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from ..domain.access import Principal, Role
from ..domain.audit import AuditEntry
from ..domain.errors import FieldError, MalformedRequest, NotFound, RuleViolation
from ..domain.kpis import Period
from ..domain.masking import mask_sensitive
from ..domain.partners.evidence import counts_until
from ..domain.partners.rules import certification
from ..domain.performance_actions import draft, recommend
from ..domain.performance_summary import CaseCounts, Expiring, Readings, summarize
from ..domain.sla_pause import WAITING
from ..domain.time import instant
from ..runtime import Runtime
from . import analytics, case_repository, partners, rebates, support_hours, tenants, tier_review
from .agents.certification_watcher import lapse_rule
from .explain_at_risk import DEFAULT_MIN_P_MISS

# PA-4.2: "the Distributor sends reminders 60 and 15 days before expiry"; CPA-4.2: "Contoso sends reminders 60 and 14
# days before expiry": a certification ending within the first reminder's window is named (the policy's
# `onboarding.certification_reminders`, the days the lifecycle sweep reminds on; 60 where a policy states none).
REMINDER_DAYS = 60


def _reminder_days(policy: dict[str, Any]) -> int:
    days = ((policy.get("onboarding") or {}).get("certification_reminders") or {}).get("days_before")
    return max(int(d) for d in days) if days else REMINDER_DAYS
def current_quarter(rt: Runtime) -> str:
    today = instant(rt.clock.now_iso()).date()
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}"


def _quarter(name: str) -> Period:
    """The Quarter named (2026-Q4); anything else is a 400 naming `period`."""
    try:
        quarter = Period.parse(name)
    except ValueError:
        quarter = None
    if quarter is None or len(quarter.months) != 3:
        raise MalformedRequest(f"period={name} is not a quarter",
                               errors=[FieldError("/query/period", "a quarter, e.g. 2026-Q4")])
    return quarter


def _at(period: Period, now_iso: str) -> str:
    """The instant the Quarter's support hours are read at: now while it runs, else its last (or first) moment."""
    today = instant(now_iso).date()
    if period.last_day < today:
        return f"{period.last_day.isoformat()}T23:59:59Z"
    return now_iso if period.first_day <= today else f"{period.first_day.isoformat()}T00:00:00Z"


def dispute_categories(policy: dict[str, Any]) -> set[str]:
    """The case categories of disputes and their appeals: the policy's rebate disputes (`rebates.disputes`, PA-7.9 /
    CPA-7.9) and invoice disputes (`billing.invoice_disputes`, SOP-6.1 / COP-6.1), each with its appeal (SOP-6.3 /
    COP-6.3)."""
    found: set[str] = set()
    for node in ((policy.get("rebates") or {}).get("disputes"), (policy.get("billing") or {}).get("invoice_disputes")):
        if isinstance(node, dict):
            found.update([str(node["category"])] if node.get("category") else [])
            found.update(str(c) for c in (node.get("appeal") or {}).get("categories") or [])
    return found


def _cases(rt: Runtime, policy: dict[str, Any], tenant_id: str, partner_id: str) -> CaseCounts:
    disputes = dispute_categories(policy)
    counts = {"disputes": 0, "waiting": 0, "exceptions": 0, "approvals": 0}
    for case in case_repository.undecided_of(rt.store, tenant_id, partner_id):
        if case["category"] in disputes:
            counts["disputes"] += 1
        elif case["status"] == WAITING:
            counts["waiting"] += 1
        else:
            counts["exceptions" if case["kind"] == "exception" else "approvals"] += 1
    return CaseCounts(counts["disputes"], counts["waiting"], counts["exceptions"], counts["approvals"])


def _certifications(policy: dict[str, Any], partner: dict[str, Any], today: date) -> list[Expiring]:
    """The partner's certifications that stopped counting, or stop within the first reminder's window, by day."""
    found = []
    for cert_id, record in (partner.get("certifications") or {}).items():
        ends = counts_until(record)
        if ends is None or ends > today + timedelta(days=_reminder_days(policy)):
            continue
        rule = certification(policy, cert_id) or {}
        found.append(Expiring(cert_id, str(rule.get("name") or cert_id), str(rule.get("clause") or ""),
                              ends.isoformat(), ends < today))
    return sorted(found, key=lambda c: (c.counts_until, c.cert_id))


def _accrual(rt: Runtime, who: Principal, partner_id: str, period: str) -> dict[str, Any] | None:
    try:
        page = rebates.accruals(rt, who, partner_id=partner_id, period=period, limit=1, cursor=None)
    except RuleViolation:  # the policy has no rebate or commission programs
        return None
    return page["items"][0] if page["items"] else {"total": "0.00", "programs": []}


def _hours(rt: Runtime, tenant_id: str, partner_id: str, at: str) -> dict[str, Any] | None:
    try:
        return support_hours.entitlement(rt, tenant_id, partner_id, support_hours.HOURS, at)
    except NotFound:  # no tier of this program grants support hours
        return None


def next_review_day(policy: dict[str, Any], today: date) -> date | None:
    """The first day of the next month holding a tier review (PA-3.6 / CPA-3.5), today if this month holds one."""
    reviews = policy.get("tier_review")
    months = {r["month"] for r in reviews.values() if isinstance(r, dict) and "month" in r} if isinstance(
        reviews, dict) else set()
    for ahead in range(12):
        month = (today.month - 1 + ahead) % 12 + 1
        if month in months:
            return today if ahead == 0 else date(today.year + (today.month - 1 + ahead) // 12, month, 1)
    return None


def _tier_outlook(rt: Runtime, who: Principal, policy: dict[str, Any], partner_id: str,
                  today: date) -> dict[str, Any] | None:
    day = next_review_day(policy, today)
    if who.role is Role.PARTNER or day is None:  # the tier review is read by staff (GET …/tier-review)
        return None
    try:
        return tier_review.review(rt, who, partner_id, day)
    except RuleViolation:  # e.g. a partner holding no tier of the policy
        return None


def _readings(rt: Runtime, who: Principal, partner: dict[str, Any], period: Period) -> Readings:
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    policy, partner_id, now = tenant.policy, str(partner["partner_id"]), rt.clock.now_iso()
    today = instant(now).date()
    rule = lapse_rule(policy)
    return Readings(
        partner_id=partner_id, legal_name=str(partner.get("legal_name") or partner_id),
        policy_version=tenant.policy_version, period=period.name,
        today=today.isoformat(), currency=tenant.currency,
        forecast=analytics.forecast(rt, who, partner_id, period.name),
        kpis=analytics.kpis(rt, who, period.name, partner_id=partner_id, tier=None),
        invoice_sla=policy.get("billing", {}).get("invoice_sla"),
        accrual=_accrual(rt, who, partner_id, period.name),
        cases=_cases(rt, policy, who.tenant_id, partner_id),
        certifications=_certifications(policy, partner, today),
        certification_window_ends=(today + timedelta(days=_reminder_days(policy))).isoformat(),
        lapse_rule={"id": rule.rule_id, "clause": rule.clause},
        support_hours=_hours(rt, who.tenant_id, partner_id, _at(period, now)),
        tier_review=_tier_outlook(rt, who, policy, partner_id, today),
        min_p_miss=DEFAULT_MIN_P_MISS,
    )


def summary(rt: Runtime, who: Principal, partner_id: str, period: str | None) -> dict[str, Any]:
    """The partner's performance summary for the Quarter (default: the current one), audited as an explanation."""
    if not who.sees_partner(partner_id):
        raise NotFound(f"no partner {partner_id}")
    partner, _ = partners.load_partner(rt, who.tenant_id, partner_id)
    quarter = _quarter(period or current_quarter(rt))
    readings = _readings(rt, who, partner, quarter)
    notes, ahead = summarize(readings)
    actions = recommend(readings, ahead)
    staff = who.role is not Role.PARTNER
    sentences = [s for s in notes.sentences if staff or not s["staff_only"]]
    shown_actions = [a for a in actions if staff or not a["staff_only"]]
    used = {f for item in (*sentences, *shown_actions) for f in item["facts"]}
    facts = [f for f in notes.facts if f["fact_id"] in used]
    record = rt.audit_only(who.tenant_id, _audit_entry(who, readings, sentences, facts))
    return {
        "partner_id": partner_id, "legal_name": readings.legal_name, "tier": partner.get("tier"),
        "period": quarter.name, "as_of": rt.clock.now_iso(), "currency": readings.currency,
        "audience": "staff" if staff else "partner", "sentences": sentences, "facts": facts,
        "recommended_actions": shown_actions, "draft_message": draft(readings, notes.sentences, actions),
        "audit_id": record.get("record_id"),
    }


def _audit_entry(who: Principal, r: Readings, sentences: list[dict[str, Any]],
                 facts: list[dict[str, Any]]) -> AuditEntry:
    """`copilot.explained`, as every explanation: the sentences the partner may read under `explanation`, and what
    only staff were told under `staff_only` (left out of the partner's view of its audit trail)."""
    said = " ".join(s["text"] for s in sentences if not s["staff_only"])
    inner = " ".join(s["text"] for s in sentences if s["staff_only"])
    inputs: dict[str, Any] = {"partner_id": r.partner_id, "period": r.period,
                              "explanation": mask_sensitive(said)}
    if inner:
        inputs["staff_only"] = {"explanation": mask_sensitive(inner)}
    return AuditEntry.by(
        who, "copilot.explained", f"{r.partner_id}#performance-summary#{r.period}", "explained", inputs=inputs,
        policy_version=r.policy_version,
        rule_ids=tuple(dict.fromkeys(str(f["source"]["rule_id"]) for f in facts if f["source"].get("rule_id"))),
        clauses=tuple(dict.fromkeys(str(f["source"]["clause"]) for f in facts if f["source"].get("clause"))),
    )
