"""What-if KPIs: the revenue and net realized margin (docs/kpis.md) of a period with some of its invoice lines billed
otherwise. Pure: the rollups `GET /v1/kpis` reads, each moved line taken out as it was counted and put back as the
draft would bill it (domain.kpis.sales_delta: a line without a cost of goods counts in revenue only), and the margin
computed by domain.kpis.margin with the same rebates on both sides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from . import kpis as core
from .money import format_money


@dataclass(frozen=True)
class Move:
    """One line of a partner's, counted in `tier`: its net amount and cost as counted, and as the draft bills it
    (`partner_id` None: a line of the Distributor's direct invoice, counted in no tier)."""

    partner_id: str | None
    tier: str
    was: tuple[Decimal, Decimal | None]
    now: tuple[Decimal, Decimal | None]


def _negated(net: Decimal, cost: Decimal | None) -> tuple[Decimal, Decimal | None]:
    return -net, None if cost is None else -cost


def moved(rollup: Mapping[str, Any], moves: Iterable[Move]) -> dict[str, Any]:
    """The rollup with each move's line counted as the draft bills it instead of as it was counted."""
    result = dict(rollup)
    for move in moves:
        for net, cost in (move.now, _negated(*move.was)):
            result = core.apply(result, core.sales_delta(net, cost, move.partner_id, new_line=False), per_partner=True)
    return result


def sales_kpis(total: Mapping[str, Any], by_tier: Mapping[str, Mapping[str, Any]],
               rebates: tuple[int, Mapping[str, int]], moves: list[Move]) -> dict[str, Any]:
    """Revenue and net realized margin (after the same rebates) overall and by tier, as counted (`before`) and with
    the moved lines billed as the draft bills them (`after`), and the changes. `rebates`: what the tenant's figure
    deducts (every rebate and commission) and, per partner, what its tier's deducts (its own: the commissions on
    direct sales apart, domain.kpis.direct_programs)."""
    everything, own = rebates

    def of(partners: Iterable[str]) -> int:
        return sum(own.get(str(p), 0) for p in partners)

    def side(all_: Mapping[str, Any], tiers: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        return {**core.margin(all_, everything),
                "by_tier": [{"tier": t, **core.margin(r, of(r.get("partners", {})))} for t, r in tiers.items()]}

    after_tiers = {t: moved(r, [m for m in moves if m.tier == t]) for t, r in by_tier.items()}
    was, now = side(total, by_tier), side(moved(total, moves), after_tiers)

    def change(a: Mapping[str, Any], b: Mapping[str, Any], key: str) -> str:
        return format_money(Decimal(b[key]) - Decimal(a[key]))

    return {"before": was, "after": now,
            "revenue_change": change(was, now, "revenue"), "net_margin_change": change(was, now, "net_margin"),
            "by_tier": {a["tier"]: {"revenue_change": change(a, b, "revenue"),
                                    "net_margin_change": change(a, b, "net_margin")}
                        for a, b in zip(was["by_tier"], now["by_tier"], strict=True)}}
