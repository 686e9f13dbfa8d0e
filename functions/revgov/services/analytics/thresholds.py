"""Volume thresholds a KPI period is measured against: rebate program levels and tier commitments."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ...domain.kpis import Threshold
from ...domain.partners import tiers_by_rank

_AMOUNT_KEYS = ("from", "threshold", "min", "at_least", "min_revenue", "minimum", "amount")
_LEVEL_KEYS = ("thresholds", "levels", "bands", "tiers", "brackets")
_PERIOD_MONTHS = {"month": 1, "monthly": 1, "quarter": 3, "quarterly": 3, "year": 12, "annual": 12, "yearly": 12}


def rebate_programs(policy: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The rebate programs of the policy, or None where the policy has none (the rebates module is not in use)."""
    node = policy.get("rebates")
    programs = node.get("programs") if isinstance(node, dict) else node
    return [p for p in programs if isinstance(p, dict)] if isinstance(programs, list) and programs else None


def _level_amount(level: Any) -> Decimal | None:
    if not isinstance(level, dict):
        return None
    for key in _AMOUNT_KEYS:
        value = level.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            try:
                return Decimal(str(value))
            except ArithmeticError:
                return None
    return None


def thresholds(policy: dict[str, Any], months: int) -> list[Threshold]:
    """Every volume threshold for a period of `months` months: each level above zero of each rebate program with
    volume thresholds (scaled from the program's own period), and each tier's annual commitment prorated."""
    found: list[Threshold] = []
    for program in rebate_programs(policy) or []:
        levels: list[Any] = next((program[k] for k in _LEVEL_KEYS if isinstance(program.get(k), list)), [])
        per = _PERIOD_MONTHS.get(str(program.get("period", "quarter")).lower(), 3)
        eligibility = program.get("eligibility")
        eligible = eligibility.get("tiers") if isinstance(eligibility, dict) else program.get("eligible_tiers")
        for level in levels:
            amount = _level_amount(level)
            if amount is None or amount <= 0:
                continue
            name = level.get("rate") or level.get("percent") or level.get("name") or f"{amount:.2f}"
            found.append(
                Threshold(
                    program_id=str(program.get("id", "REBATE")),
                    program=str(program.get("name") or program.get("id")),
                    level=f"{name}%" if isinstance(name, str) and name.replace(".", "").isdigit() else str(name),
                    amount=(amount * months / per).quantize(Decimal("0.01")),
                    clause=str(program.get("clause", "")),
                    source="rebate_program",
                    tiers=frozenset(eligible) if isinstance(eligible, list) else None,
                )
            )
    for tier in tiers_by_rank(policy):
        commitment = Decimal(str(tier.get("requirements", {}).get("annual_commitment", "0")))
        if commitment <= 0:
            continue
        found.append(
            Threshold(
                program_id=str(tier["id"]),
                program=f"{tier['name']} annual commitment",
                level=f"{months}/12 of {commitment:.2f}",
                amount=(commitment * months / 12).quantize(Decimal("0.01")),
                clause=str(tier["clause"]),
                source="tier_commitment",
                tiers=frozenset({tier["tier"]}),
            )
        )
    return found
