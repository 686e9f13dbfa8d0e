"""What a settlement run's findings ask of finance: one exception per category (duplicate claims, leakage), naming
each partner affected with its kinds, lines and revenue. Pure: the service decides whether it opens, refreshes or
skips each one (services.rebates.findings)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..canonical import sha256_hex
from ..money import format_money

if TYPE_CHECKING:
    from .result import Finding

MAX_PARTNERS_NAMED = 100  # per exception; every finding is in its partner's statement anyway
MAX_REASONS = 10


@dataclass(frozen=True)
class ExceptionRequest:
    """One category's exception as a settlement run would open it."""

    case: dict[str, Any]  # what the exception case is opened with: category, reasons, risk_score, partner_id
    context: dict[str, Any]  # what finance needs to decide (without the settlements that found it)
    findings_hash: str  # the findings' identity: the same lines found again are the same exception

    @property
    def category(self) -> str:
        return str(self.case["category"])


def exception_requests(settlement_id: str, period: str, findings: Sequence[Finding]) -> list[ExceptionRequest]:
    """One request per category found, in category order."""
    grouped: dict[str, dict[str, list[Finding]]] = defaultdict(lambda: defaultdict(list))
    for finding in findings:
        grouped[finding.category][finding.partner_id].append(finding)
    return [_request(settlement_id, period, category, found) for category, found in sorted(grouped.items())]


def _request(settlement_id: str, period: str, category: str, by_partner: dict[str, list[Finding]]) -> ExceptionRequest:
    found = [f for partner_id in sorted(by_partner) for f in by_partner[partner_id]]
    ranked = sorted(by_partner, key=lambda pid: (-sum(f.revenue for f in by_partner[pid]), pid))
    context = {
        "settlement_id": settlement_id,
        "period": period,
        **_partner_findings(found),
        "partner_count": len(ranked),
        "partners": {pid: _partner_findings(by_partner[pid]) for pid in ranked[:MAX_PARTNERS_NAMED]},
    }
    reasons = {(f.rule.rule_id, f.kind): {**f.rule.as_dict(), "message": f"{f.kind}: {f.message}"} for f in found}
    case = {
        "category": category,
        "reasons": list(reasons.values())[:MAX_REASONS],
        "risk_score": min(100, 40 + len(found)),
        "partner_id": ranked[0] if len(ranked) == 1 else None,  # the partner, when only one is affected
    }
    return ExceptionRequest(case, context, sha256_hex(sorted([f.kind, f.line_id] for f in found))[:32])


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
