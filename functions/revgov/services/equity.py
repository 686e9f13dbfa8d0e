"""The channel-equity monitor's use cases: gather a window of outcomes per partner, compare segments
(revgov.domain.equity), and open one exception per significant unexplained gap for the policy's owner.

`report` answers `GET /v1/equity` and changes nothing. `run` is the scheduled job (`equity-monitor` in
events/schedules.json): a gap already reported with an exception still open is not reported again; after its
exception is resolved or dismissed, it is reported again only if it is still found a whole window later.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from .. import metrics
from ..domain import equity as core
from ..domain.access import Principal
from ..domain.cases import OPEN
from ..domain.errors import FieldError, MalformedRequest
from ..ports import Put
from ..runtime import Runtime
from . import cases, decisions, tenants
from .decisions import DECISIONS
from .keys import PARTNERS

EQUITY = "EQUITY"  # finding key hash -> the gap, its exception and when it was first and last seen
CATEGORY = "channel_equity"
ACTOR = "system:equity-monitor"
DEFAULT_WINDOW_DAYS = 90
_PAGE = 200


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def window(rt: Runtime, days: int) -> tuple[str, str]:
    now = datetime.fromisoformat(rt.clock.now_iso().replace("Z", "+00:00"))
    return _iso(now - timedelta(days=days)), _iso(now)


def window_days(text: str | None) -> int:
    if text is None:
        return DEFAULT_WINDOW_DAYS
    if not text.isdigit() or not 7 <= int(text) <= 365:
        raise MalformedRequest(
            "window_days must be a whole number of days from 7 to 365",
            errors=[FieldError("/query/window_days", "7..365")],
        )
    return int(text)


def _all(rt: Runtime, tenant_id: str, collection: str, *, lookup: bool = False) -> Iterator[dict[str, Any]]:
    cursor = None
    while True:
        read = rt.store.lookup if lookup else rt.store.query
        page = read(tenant_id, collection, limit=_PAGE, cursor=cursor)
        yield from (item.data for item in page.items)
        cursor = page.next_cursor
        if not cursor:
            return


def _hours(start: str, end: str) -> float:
    parse = datetime.fromisoformat
    return (parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00"))).total_seconds() / 3600


def gather(
    rt: Runtime, tenant_id: str, policy: dict[str, Any], since: str
) -> tuple[list[core.Observation], dict[str, dict[str, str]], dict[str, str]]:
    """The window's observations, every partner's segments, and the clause of each rule id they carry."""
    segments = {p["partner_id"]: core.segments_of(p) for p in _all(rt, tenant_id, PARTNERS) if p.get("tier")}
    clauses: dict[str, str] = {}
    caps = policy.get("pricing", {}).get("discount_caps", {})
    cap_rule = (str(caps.get("id", "")), str(caps.get("clause", "")))
    observations: list[core.Observation] = []
    # Outcomes are compared by the tier the partner held when the quote was decided (its decision's inputs), not
    # its tier now: a partner promoted since was under its old tier's caps and rules (docs/equity.md).
    tier_of_decision: dict[str, str] = {}
    quote_tiers: dict[str, list[tuple[str, str]]] = {}  # partner -> (decided at, tier then), for its exceptions
    quotes: dict[tuple[str, str], int] = {}  # (partner, tier then) -> quotes checked in the window
    for decision in _all(rt, tenant_id, DECISIONS):
        partner_id = decision.get("partner_id")
        if decision.get("kind") != "pricing" or not partner_id:
            continue
        tier = decisions.tier_at_decision(decision) or segments.get(partner_id, {}).get("tier", "")
        tier_of_decision[decision["decision_id"]] = tier
        if decision.get("created_at", "") < since:
            continue
        quote_tiers.setdefault(partner_id, []).append((decision.get("created_at", ""), tier))
        quotes[(partner_id, tier)] = quotes.get((partner_id, tier), 0) + 1
        if decision.get("outcome") != "allow":
            continue  # pending, rejected or denied: no discount was granted
        shares = [
            float(line["combined_discount_percent"]) / float(line["tier_cap_percent"])
            for line in (decision.get("result") or {}).get("lines", [])
            if line.get("tier_cap_percent") not in (None, "0", "0.00") and line.get("combined_discount_percent")
        ]
        if shares and cap_rule[0]:
            clauses[cap_rule[0]] = cap_rule[1]
            observations.append(
                core.Observation("discount_to_cap", partner_id, sum(shares) / len(shares),
                                 decision["decision_id"], (cap_rule[0],), tier=tier)
            )
    exceptions: dict[tuple[str, str], int] = {}
    for status in ("approved", "rejected", "open", "resolved", "dismissed"):
        kind = "exception" if status in ("open", "resolved", "dismissed") else "approval"
        for case in _all(rt, tenant_id, f"{cases.CASES}#{kind}#{status}", lookup=True):
            partner_id = case.get("partner_id")
            if not partner_id or case.get("category") == CATEGORY:
                continue
            rules = tuple(r["rule_id"] for r in case.get("reasons", []) if r.get("rule_id"))
            clauses.update({r["rule_id"]: r.get("clause", "") for r in case.get("reasons", []) if r.get("rule_id")})
            if kind == "exception":
                if case.get("opened_at", "") >= since:
                    at_then = _tier_when(quote_tiers.get(partner_id, []), case.get("opened_at", ""))
                    key = (partner_id, at_then or segments.get(partner_id, {}).get("tier", ""))
                    exceptions[key] = exceptions.get(key, 0) + 1
                continue
            decided = case.get("decision") or {}
            if decided.get("at", "") < since:
                continue
            approved = 1.0 if status == "approved" else 0.0
            if case.get("category") == "rebate_dispute":
                observations.append(core.Observation("disputes_upheld", partner_id, approved, case["case_id"], rules))
                continue
            if (case.get("subject") or {}).get("kind") != "decision":
                continue
            tier = tier_of_decision.get(str((case.get("subject") or {}).get("id")), "")
            observations.append(
                core.Observation("approval_rate", partner_id, approved, case["case_id"], rules, tier=tier)
            )
            observations.append(
                core.Observation("time_to_decision", partner_id, _hours(case["opened_at"], decided["at"]),
                                 case["case_id"], rules, tier=tier)
            )
    for (partner_id, tier), count in quotes.items():
        observations.append(
            core.Observation("exception_rate", partner_id, float(exceptions.get((partner_id, tier), 0)), partner_id,
                             (), exposure=float(count), tier=tier)
        )
    return observations, segments, clauses


def _tier_when(decided: list[tuple[str, str]], at: str) -> str | None:
    """The partner's tier as of its last quote decided at or before `at` (its first quote's, if none was before):
    an exception is counted against the quotes of the tier the partner held when it was opened."""
    if not decided:
        return None
    ordered = sorted(decided)
    before = [tier for when, tier in ordered if when <= at]
    return before[-1] if before else ordered[0][1]


def _compare(rt: Runtime, tenant_id: str, days: int) -> tuple[core.Report, dict[str, str], dict[str, Any], str]:
    tenant, _ = tenants.load_tenant(rt, tenant_id)
    since, until = window(rt, days)
    observations, segments, clauses = gather(rt, tenant_id, tenant.policy, since)
    report = core.compare(observations, segments)
    return report, clauses, tenant.policy, until


def _body(report: core.Report, days: int, since: str, until: str) -> dict[str, Any]:
    return {
        "window": {"from": since, "to": until, "days": days},
        "alpha": report.alpha,
        "correction": "Holm",
        "method": "docs/equity.md",
        "measures": {m.name: {"kind": m.kind, "unit": m.unit, "favourable": m.favourable,
                              "materiality": m.materiality, "definition": m.description}
                     for m in core.MEASURES.values()},
        "comparisons": [c.as_dict() for c in report.comparisons],
        "findings": [c.as_dict() for c in report.findings],
        "skipped": report.skipped,
    }


def report(rt: Runtime, who: Principal, days: int) -> dict[str, Any]:
    """The current comparisons over the rolling window (nothing is opened or written)."""
    result, _, _, until = _compare(rt, who.tenant_id, days)
    since, _ = window(rt, days)
    return _body(result, days, since, until)


def finding_id(tenant_id: str, key: str) -> str:
    return hashlib.sha256(f"{tenant_id}|{key}".encode()).hexdigest()[:32]


def run(rt: Runtime, tenant_id: str, days: int = DEFAULT_WINDOW_DAYS) -> dict[str, Any]:
    """Compare, then open an exception for each finding not already reported (see the module docstring)."""
    result, clauses, policy, until = _compare(rt, tenant_id, days)
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
            requested_by=ACTOR, reasons=_reasons(finding, clauses, days), risk_score=_risk(finding),
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
    stored = rt.store.get(tenant_id, cases.CASES, marker["case_id"])
    if stored is None:
        return True
    case = stored.data
    if case["status"] == OPEN["exception"]:
        return False
    decided_at = (case.get("decision") or {}).get("at") or case["opened_at"]
    return _hours(decided_at, now) >= days * 24


def _reasons(finding: core.Comparison, clauses: dict[str, str], days: int) -> list[dict[str, Any]]:
    measure = core.MEASURES[finding.measure]
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
    return [{"rule_id": None, "clause": None, "message": summary}, *involved]


def _risk(finding: core.Comparison) -> int:
    """Larger and surer gaps first: 50 plus up to 50 for the gap's size relative to the expected value."""
    base = abs(finding.expected_value) or 1.0
    return int(50 + min(50, 100 * abs(finding.gap) / base))
