"""The channel-equity monitor's use cases: gather a window of outcomes per partner, compare segments
(revgov.domain.equity) with Holm's correction over the comparison family the tenant's policy declares
(`policy.equity.comparisons`, revgov.domain.equity_policy; every comparison when it declares none), and open one
exception per significant unexplained gap in that family for the policy's owner.

`report` answers `GET /v1/equity` and changes nothing. `run` is the scheduled job (`equity-monitor` in
events/schedules.json): a gap already reported with an exception still open is not reported again; after its
exception is resolved or dismissed, it is reported again only if it is still found a whole window later.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from .. import metrics
from ..domain import equity as core
from ..domain import equity_policy
from ..domain.access import Principal
from ..domain.cases import OPEN
from ..domain.errors import FieldError, MalformedRequest
from ..domain.sla_pause import WAITING, clock_seconds
from ..domain.time import instant, iso
from ..ports import Put
from ..runtime import Runtime
from . import case_repository, cases, decision_repository, decisions, partner_repository, tenants

EQUITY = "EQUITY"  # finding key hash -> the gap, its exception and when it was first and last seen
CATEGORY = "channel_equity"
ACTOR = "system:equity-monitor"
DEFAULT_WINDOW_DAYS = 90
# The cases read, in this order: decided approvals (approval rate, hours to decision, disputes upheld) and every
# exception opened (exception rate).
_CASE_STATUSES = (("approval", "approved"), ("approval", "rejected"), ("exception", "open"),
                  ("exception", WAITING), ("exception", "resolved"), ("exception", "dismissed"))


def window(rt: Runtime, days: int) -> tuple[str, str]:
    now = instant(rt.clock.now_iso())
    return iso(now - timedelta(days=days)), iso(now)


def window_days(text: str | None) -> int:
    if text is None:
        return DEFAULT_WINDOW_DAYS
    if not text.isdigit() or not 7 <= int(text) <= 365:
        raise MalformedRequest(
            "window_days must be a whole number of days from 7 to 365",
            errors=[FieldError("/query/window_days", "7..365")],
        )
    return int(text)


def _hours(start: str, end: str) -> float:
    return (instant(end) - instant(start)).total_seconds() / 3600


def _clock_hours(case: Mapping[str, Any], end: str) -> float:
    """Hours on the case's SLA clock: time waiting on the partner is off it (SOP-1.3 / COP-1.3)."""
    return clock_seconds(case, end) / 3600


@dataclass
class _Window:
    """What the window's documents add up to, as they are read."""

    since: str
    segments: dict[str, dict[str, str]]
    observations: list[core.Observation] = field(default_factory=list)
    clauses: dict[str, str] = field(default_factory=dict)  # rule id -> clause, for the rules the observations cite
    tier_of_decision: dict[str, str] = field(default_factory=dict)
    quote_tiers: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # partner -> (decided at, tier then)
    quotes: dict[tuple[str, str], int] = field(default_factory=dict)  # (partner, tier then) -> quotes checked
    exceptions: dict[tuple[str, str], int] = field(default_factory=dict)  # (partner, tier then) -> exceptions opened

    def tier_now(self, partner_id: str) -> str:
        return self.segments.get(partner_id, {}).get("tier", "")


def gather(
    rt: Runtime, tenant_id: str, policy: dict[str, Any], since: str
) -> tuple[list[core.Observation], dict[str, dict[str, str]], dict[str, str]]:
    """The window's observations, every partner's segments, and the clause of each rule id they carry."""
    partners = partner_repository.every(rt.store, tenant_id)
    seen = _Window(since, {p["partner_id"]: core.segments_of(p) for p in partners if p.get("tier")})
    caps = policy.get("pricing", {}).get("discount_caps", {})
    cap_rule = (str(caps.get("id", "")), str(caps.get("clause", "")))
    for item in decision_repository.every(rt.store, tenant_id):
        _read_decision(seen, item.data, cap_rule)
    wanted = {pair: rank for rank, pair in enumerate(_CASE_STATUSES)}
    read = [c for c in case_repository.every(rt.store, tenant_id) if (c.get("kind"), c.get("status")) in wanted]
    # in the order the case lists give them (kind and status, then queue, due time, id)
    for case in sorted(read, key=lambda c: (wanted[(c["kind"], c["status"])], c["queue"], c["due_at"], c["case_id"])):
        _read_case(seen, case)
    for (partner_id, tier), count in seen.quotes.items():
        events = float(seen.exceptions.get((partner_id, tier), 0))
        seen.observations.append(
            core.Observation("exception_rate", partner_id, events, partner_id, (), exposure=float(count), tier=tier)
        )
    return seen.observations, seen.segments, seen.clauses


def _read_decision(seen: _Window, decision: dict[str, Any], cap_rule: tuple[str, str]) -> None:
    """A pricing decision: its tier then (kept for its approval), a quote checked, and if it went ahead the share of
    the tier cap it granted. Outcomes are compared by the tier the partner held when the quote was decided (its
    decision's inputs), not its tier now: a partner promoted since was under its old tier's caps (docs/equity.md)."""
    partner_id = decision.get("partner_id")
    if decision.get("kind") != "pricing" or not partner_id:
        return
    tier = decisions.tier_at_decision(decision) or seen.tier_now(partner_id)
    seen.tier_of_decision[decision["decision_id"]] = tier
    if decision.get("created_at", "") < seen.since:
        return
    seen.quote_tiers.setdefault(partner_id, []).append((decision.get("created_at", ""), tier))
    seen.quotes[(partner_id, tier)] = seen.quotes.get((partner_id, tier), 0) + 1
    if decision.get("outcome") != "allow":
        return  # pending, rejected or denied: no discount was granted
    shares = [
        float(line["combined_discount_percent"]) / float(line["tier_cap_percent"])
        for line in (decision.get("result") or {}).get("lines", [])
        if line.get("tier_cap_percent") not in (None, "0", "0.00") and line.get("combined_discount_percent")
    ]
    if shares and cap_rule[0]:
        seen.clauses[cap_rule[0]] = cap_rule[1]
        seen.observations.append(core.Observation("discount_to_cap", partner_id, sum(shares) / len(shares),
                                                  decision["decision_id"], (cap_rule[0],), tier=tier))


def _read_case(seen: _Window, case: Mapping[str, Any]) -> None:
    """An exception opened in the window (counted against the quotes of the tier then), or an approval decided in it
    (a pricing approval: approved or not and hours to decision; a rebate dispute: upheld or not)."""
    partner_id = case.get("partner_id")
    if not partner_id or case.get("category") == CATEGORY:
        return
    rules = tuple(r["rule_id"] for r in case.get("reasons", []) if r.get("rule_id"))
    seen.clauses.update({r["rule_id"]: r.get("clause", "") for r in case.get("reasons", []) if r.get("rule_id")})
    if case["kind"] == "exception":
        if case.get("opened_at", "") >= seen.since:
            key = (partner_id, _tier_when(seen.quote_tiers.get(partner_id, []), case.get("opened_at", ""))
                   or seen.tier_now(partner_id))
            seen.exceptions[key] = seen.exceptions.get(key, 0) + 1
        return
    decided = case.get("decision") or {}
    if decided.get("at", "") < seen.since:
        return
    approved = 1.0 if case["status"] == "approved" else 0.0
    if case.get("category") == "rebate_dispute":
        seen.observations.append(core.Observation("disputes_upheld", partner_id, approved, case["case_id"], rules))
        return
    subject = case.get("subject") or {}
    if subject.get("kind") != "decision":
        return
    tier = seen.tier_of_decision.get(str(subject.get("id")), "")
    seen.observations += [
        core.Observation("approval_rate", partner_id, approved, case["case_id"], rules, tier=tier),
        core.Observation("time_to_decision", partner_id, _clock_hours(case, decided["at"]), case["case_id"],
                         rules, tier=tier),
    ]


def _tier_when(decided: list[tuple[str, str]], at: str) -> str | None:
    """The partner's tier as of its last quote decided at or before `at` (its first quote's, if none was before):
    an exception is counted against the quotes of the tier the partner held when it was opened."""
    if not decided:
        return None
    ordered = sorted(decided)
    before = [tier for when, tier in ordered if when <= at]
    return before[-1] if before else ordered[0][1]


@dataclass(frozen=True)
class _Run:
    report: core.Report
    clauses: dict[str, str]
    policy: dict[str, Any]
    since: str
    until: str


def _compare(rt: Runtime, tenant_id: str, days: int) -> _Run:
    """The window's comparisons; the family tested for findings is the one the tenant's policy declares (every
    comparison when it declares none)."""
    tenant, _ = tenants.load_tenant(rt, tenant_id)
    since, until = window(rt, days)
    observations, segments, clauses = gather(rt, tenant_id, tenant.policy, since)
    report = core.compare(observations, segments, family=equity_policy.declared(tenant.policy))
    return _Run(report, clauses, tenant.policy, since, until)


def _body(run: _Run, days: int) -> dict[str, Any]:
    report = run.report
    return {
        "window": {"from": run.since, "to": run.until, "days": days},
        "alpha": report.alpha,
        "correction": "Holm",
        "method": "docs/equity.md",
        "family": {**equity_policy.describe(report.family), "comparisons": len(report.comparisons)},
        "measures": {m.name: {"kind": m.kind, "unit": m.unit, "favourable": m.favourable,
                              "materiality": m.materiality, "definition": m.description}
                     for m in equity_policy.MEASURES.values()},
        "comparisons": [c.as_dict() for c in report.comparisons],
        "findings": [c.as_dict() for c in report.findings],
        "exploratory": [c.as_dict() for c in report.exploratory],
        "skipped": report.skipped,
    }


def report(rt: Runtime, who: Principal, days: int) -> dict[str, Any]:
    """The current comparisons over the rolling window (nothing is opened or written)."""
    return _body(_compare(rt, who.tenant_id, days), days)


def finding_id(tenant_id: str, key: str) -> str:
    return hashlib.sha256(f"{tenant_id}|{key}".encode()).hexdigest()[:32]


def run(rt: Runtime, tenant_id: str, days: int = DEFAULT_WINDOW_DAYS) -> dict[str, Any]:
    """Compare, then open an exception for each finding not already reported (see the module docstring)."""
    done = _compare(rt, tenant_id, days)
    result, clauses, policy, until = done.report, done.clauses, done.policy, done.until
    for c in result.comparisons:
        metrics.record("EquityComparisons", 1, tenant=tenant_id, outcome="finding" if c.finding else "no_finding")
    opened, already = [], []
    for finding in result.findings:
        fid = finding_id(tenant_id, finding.key)
        stored = rt.store.get(tenant_id, EQUITY, fid)
        if stored is not None and not _reopens(rt, tenant_id, stored.data, days, until):
            already.append(stored.data["case_id"])
            continue
        case, changes = cases.open_case(
            rt, policy, kind="exception", category=CATEGORY, subject_kind="equity_gap", subject_id=fid,
            requested_by=ACTOR, reasons=_reasons(finding, clauses, days, result.family), risk_score=_risk(finding),
            context={"comparison": finding.as_dict(), "window_days": days},
        )
        marker = {"finding_id": fid, "key": finding.key, "case_id": case["case_id"], "first_seen": until,
                  "comparison": finding.as_dict()}
        changes.puts.append(
            Put(EQUITY, fid, marker, must_be_absent=stored is None,
                expected_version=stored.version if stored else None,
                conflict_detail="the equity finding was reported meanwhile")
        )
        rt.commit(tenant_id, changes)
        metrics.record("EquityFindings", 1, tenant=tenant_id, measure=finding.measure, dimension=finding.dimension)
        opened.append(case["case_id"])
    return {"comparisons": len(result.comparisons), "findings": len(result.findings), "opened": opened,
            "already_open": already}


def _reopens(rt: Runtime, tenant_id: str, marker: dict[str, Any], days: int, now: str) -> bool:
    """Report the gap again only once its exception is closed and a whole window has passed since it was decided."""
    stored = cases.find(rt, tenant_id, marker["case_id"])
    if stored is None:
        return True
    case = stored.data
    if case["status"] == OPEN["exception"]:
        return False
    decided_at = (case.get("decision") or {}).get("at") or case["opened_at"]
    return _hours(decided_at, now) >= days * 24


def _reasons(
    finding: core.Comparison, clauses: dict[str, str], days: int, family: equity_policy.Family | None
) -> list[dict[str, Any]]:
    """A summary (citing the declared family's rule and clause, when the policy declares one), then each rule the
    observations on the disadvantaged side cite."""
    measure = equity_policy.MEASURES[finding.measure]
    summary = (
        f"{finding.measure} for {finding.dimension} {finding.segment}: {finding.segment_value:.3f} against "
        f"{finding.expected_value:.3f} expected from partners of the same tier (rest {finding.rest_value:.3f}; "
        f"{measure.unit}), {finding.test} p={finding.p_value:.2g}, Holm-adjusted {finding.adjusted_p:.2g}, over the "
        f"last {days} days; against {finding.disadvantaged}"
    )
    involved = [
        {"rule_id": rule, "clause": clauses.get(rule) or None,
         "message": f"outcomes under this rule differ for {finding.dimension} {finding.segment}"}
        for rule in finding.rule_ids[:10]
    ]
    declared = {"rule_id": family.rule_id, "clause": family.clause} if family else {"rule_id": None, "clause": None}
    return [{**declared, "message": summary}, *involved]


def _risk(finding: core.Comparison) -> int:
    """Larger and surer gaps first: 50 plus up to 50 for the gap's size relative to the expected value."""
    base = abs(finding.expected_value) or 1.0
    return int(50 + min(50, 100 * abs(finding.gap) / base))
