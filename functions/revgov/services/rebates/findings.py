"""A settlement run's findings (duplicate claims, leakage) as exceptions: one per category and period, opened in the
settlement's own commit, refreshed by a later run that finds the same lines while it is open."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ...domain.canonical import sha256_hex
from ...domain.money import format_money
from ...domain.rebates.settlement import Run
from ...domain.tenants import Tenant
from ...ports import Changes
from ...runtime import Runtime
from .. import cases
from . import repository
from .book import ACTOR

if TYPE_CHECKING:
    from ...domain.rebates.result import Finding

MAX_PARTNERS_NAMED = 100  # per exception; every finding is in its partner's statement anyway


def _partner_findings(found: list[Finding]) -> dict[str, Any]:
    kinds: dict[str, int] = defaultdict(int)
    for f in found:
        kinds[f.kind] += 1
    return {
        "kinds": dict(kinds),
        "lines": len(found),
        "revenue": format_money(Decimal(sum(f.revenue for f in found)) / 100),
        "line_ids": [f.line_id for f in found[:50]],
    }


def open_exceptions(rt: Runtime, tenant: Tenant, run: Run, findings: list[Finding], changes: Changes) -> list[str]:
    """One exception per category the run found, naming each partner and its lines, added to `changes` (the
    settlement's commit): a settlement never exists without its exceptions, and one per category (not per partner)
    keeps that commit inside DynamoDB's 100 items however many partners are affected. Returns their ids."""
    grouped: dict[str, dict[str, list[Finding]]] = defaultdict(lambda: defaultdict(list))
    for finding in findings:
        grouped[finding.category][finding.partner_id].append(finding)
    opened = [_exception(rt, tenant, run, category, found, changes) for category, found in sorted(grouped.items())]
    return [case_id for case_id in opened if case_id is not None]


def _exception(
    rt: Runtime, tenant: Tenant, run: Run, category: str, by_partner: dict[str, list[Finding]], changes: Changes
) -> str | None:
    """The category's exception: a later run of the period that finds the same lines again refreshes the open one
    (or, once finance closed it, opens nothing); different lines open a new one."""
    period, tid = run.period.name, tenant.tenant_id
    found = [f for partner_id in sorted(by_partner) for f in by_partner[partner_id]]
    ranked = sorted(by_partner, key=lambda pid: (-sum(f.revenue for f in by_partner[pid]), pid))
    context = {
        "settlement_id": run.settlement_id,
        "period": period,
        **_partner_findings(found),
        "partner_count": len(ranked),
        "partners": {pid: _partner_findings(by_partner[pid]) for pid in ranked[:MAX_PARTNERS_NAMED]},
    }
    findings_hash = sha256_hex(sorted([f.kind, f.line_id] for f in found))[:32]
    marker = repository.finding_case(rt, tid, category, period)
    known = rt.store.get(tid, cases.CASES, marker.data["case_id"]) if marker else None
    if marker and known and known.data["status"] == "open":
        settlements = [*known.data["context"].get("settlement_ids", [known.data["subject"]["id"]])]
        context["settlement_ids"] = [*settlements, run.settlement_id]
        changes.puts.append(cases.refresh_case(known.data, known.version, context=context, at=rt.clock.now_iso()))
        changes.puts.append(repository.finding_case_put(category, period, known.data["case_id"], findings_hash, marker))
        return str(known.data["case_id"])
    if marker and known and marker.data["findings_hash"] == findings_hash:
        return None  # finance closed the exception for exactly these lines
    reasons = list(
        {(f.rule.rule_id, f.kind): {**f.rule.as_dict(), "message": f"{f.kind}: {f.message}"} for f in found}.values()
    )
    case, opened = cases.open_case(
        rt,
        tenant.policy,
        kind="exception",
        category=category,
        subject_kind="rebate_settlement",
        subject_id=run.settlement_id,
        requested_by=ACTOR,
        reasons=reasons[:10],
        risk_score=min(100, 40 + len(found)),
        partner_id=ranked[0] if len(ranked) == 1 else None,
        context={**context, "settlement_ids": [run.settlement_id]},
        policy_version=tenant.policy_version,
    )
    changes.merge(opened)
    changes.puts.append(repository.finding_case_put(category, period, case["case_id"], findings_hash, marker))
    return str(case["case_id"])
