"""What-if for rebates: the difference a draft makes to a rated rebate or commission period, and to the KPIs rebates
move. Pure: it compares what the rebate engine rated under each policy (domain.rebates: `PeriodResult`, read through
its public methods; numpy is not imported here) and computes the KPIs with domain.kpis.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from . import kpis as core
from .money import format_money

if TYPE_CHECKING:
    from .rebates.result import PeriodResult


def _shown(before: Decimal, after: Decimal) -> dict[str, str]:
    return {"before": format_money(before), "after": format_money(after), "change": format_money(after - before)}


def rebate_changes(before: dict[str, list[dict[str, Any]]], after: dict[str, list[dict[str, Any]]],
                   segments: dict[str, str]) -> dict[str, Any]:
    """Per partner and program: the payable amount and tier reached as the period rates now (`before`) and under the
    draft (`after`), each partner -> its programs' views; totals overall, per partner and by partner segment."""
    rows = []
    for partner_id in sorted(before.keys() | after.keys()):
        was = {v["program_id"]: v for v in before.get(partner_id, [])}
        now = {v["program_id"]: v for v in after.get(partner_id, [])}
        for program_id in sorted(was.keys() | now.keys()):
            a, b = was.get(program_id, {}), now.get(program_id, {})
            rows.append({
                "partner_id": partner_id, "segment": segments.get(partner_id) or "none", "program_id": program_id,
                "before": {"payable": a.get("payable", "0.00"), "tier_reached": a.get("tier_reached")},
                "after": {"payable": b.get("payable", "0.00"), "tier_reached": b.get("tier_reached")},
            })
    changed = [r for r in rows if r["before"] != r["after"]]
    return {
        **totals(rows, lambda r: r["before"]["payable"], lambda r: r["after"]["payable"], key="payable"),
        "changed": changed,
        "unchanged": len(rows) - len(changed),
    }


def totals(rows: list[dict[str, Any]], before: Callable[[dict[str, Any]], str | None],
           after: Callable[[dict[str, Any]], str | None], *, key: str) -> dict[str, Any]:
    """Rows' amounts (`before`/`after` of a row; None counts as nothing) summed overall (under `key`), per partner
    and by partner segment, each before, after and the change."""
    sums: dict[tuple[str, str], list[Decimal]] = {}
    segments: dict[str, str] = {}
    for row in rows:
        segments[row["partner_id"]] = row["segment"]
        for bucket_key in (("*", ""), ("segment", row["segment"]), ("partner", row["partner_id"])):
            bucket = sums.setdefault(bucket_key, [Decimal(0), Decimal(0)])
            bucket[0] += Decimal(before(row) or 0)
            bucket[1] += Decimal(after(row) or 0)
    return {
        key: _shown(*sums.get(("*", ""), [Decimal(0), Decimal(0)])),
        "by_segment": {name: _shown(*v) for (kind, name), v in sorted(sums.items()) if kind == "segment"},
        "by_partner": [{"partner_id": name, "segment": segments[name], **_shown(*v)}
                       for (kind, name), v in sorted(sums.items()) if kind == "partner"],
    }


def counted_lines(before: PeriodResult | None, after: PeriodResult | None, partner_id: str, program_id: str,
                  limit: int) -> list[dict[str, Any]]:
    """Up to `limit` of the partner's rebate lines the program counted under either policy: the original records
    behind its amount (the line and the invoice it came from), those counted under one policy only first."""
    flags: dict[tuple[str, str], dict[str, bool]] = {}
    for side, result in (("before", before), ("after", after)):
        if result is None or program_id not in result.ratings:
            continue
        counted, ledger = result.ratings[program_id].counted, result.ledger
        for row in result.partner_lines(partner_id):
            if counted[int(row)]:
                key = (str(ledger.line_ids[int(row)]), str(ledger.invoice_ids[int(row)]))
                flags.setdefault(key, {"before": False, "after": False})[side] = True
    lines = [{"line_id": line_id, "invoice_id": invoice_id, "invoice": f"/v1/invoices/{invoice_id}",
              "counted_before": seen["before"], "counted_after": seen["after"]}
             for (line_id, invoice_id), seen in flags.items()]
    lines.sort(key=lambda line: line["counted_before"] == line["counted_after"])  # stable: what changed first
    return lines[:limit]


def rebates_minor(results: Iterable[PeriodResult | None], leaving_out: Collection[str] = ()) -> dict[str, int]:
    """Minor units of rebates and commissions per partner over rated periods (domain.kpis.rebates_by_partner's),
    without the programs `leaving_out` (domain.kpis.direct_programs: the commissions on direct sales)."""
    total: dict[str, int] = {}
    for result in results:
        if result is None:  # a policy with no rebate programs rates nothing
            continue
        for partner_id, programs in result.payable.items():
            kept = sum((amount for program, amount in programs.items() if program not in leaving_out), Decimal(0))
            total[partner_id] = total.get(partner_id, 0) + core.minor(kept)
    return total


def kpi_members(directory: Mapping[str, Mapping[str, Any]], by_tier: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """The partners threshold attainment counts (as GET /v1/kpis does for a tenant): the directory's active
    partners, and any partner that invoiced in the period, in the tier it invoiced in."""
    members = {p: str(e.get("tier") or "none") for p, e in directory.items() if e.get("status") == "active"}
    for tier, rollup in by_tier.items():
        for partner_id in rollup["partners"]:
            members.setdefault(partner_id, tier)
    return members


def rebate_kpis(total: Mapping[str, Any], by_tier: Mapping[str, Mapping[str, Any]],
                rebates: list[tuple[dict[str, int], dict[str, int]]], levels: list[list[core.Threshold]],
                members: Mapping[str, str]) -> dict[str, Any]:
    """The KPIs rebates move, for each side (`rebates` and `levels`: policy in force, draft) from the same rollups:
    net realized margin after rebates, overall and by tier, and threshold attainment per rebate program level. Each
    side's `rebates`: every partner's rebates and commissions (the tenant's figure deducts them all) and its own
    (a tier's figure: without the commissions on direct sales, as GET /v1/kpis)."""

    def side(rebate: tuple[dict[str, int], dict[str, int]], found: list[core.Threshold]) -> dict[str, Any]:
        everything, own = rebate

        def of(partners: Iterable[str]) -> int:
            return sum(own.get(str(p), 0) for p in partners)

        return {"net_realized_margin": {**core.margin(total, sum(everything.values())),
                                        "by_tier": [{"tier": t, **core.margin(r, of(r["partners"]))}
                                                    for t, r in by_tier.items()]},
                "threshold_attainment": core.attainment(found, dict(total["partners"]), members)}

    was, now = (side(rebate, found) for rebate, found in zip(rebates, levels, strict=True))

    def change(a: dict[str, Any], b: dict[str, Any]) -> str:
        return format_money(Decimal(b["net_margin"]) - Decimal(a["net_margin"]))

    margins = was["net_realized_margin"], now["net_realized_margin"]
    return {"before": was, "after": now,
            "net_margin_change": change(*margins),
            "net_margin_change_by_tier": {a["tier"]: change(a, b)
                                          for a, b in zip(margins[0]["by_tier"], margins[1]["by_tier"], strict=True)}}
