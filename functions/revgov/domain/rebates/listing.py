"""What a partner's statement lists for a period: every program the partner is eligible for, 0.00 included, with why
nothing counted (PA-7.8 / CPA-7.8 "The settlement statement lists, per program, the Qualifying Revenue, the rate or
unit amount applied, the caps applied ... and the amount payable").

No numpy imported here (the settlement module reads it). Eligibility here is the partner's (its tier on the last
day of the period and its type, PA-7.2 "Eligibility is determined by the Partner's tier on the last day of the
Quarter"); whether any of its lines counted is the rating's.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..money import format_money
from .policy import PartnerFacts, Period, RebateBook
from .programs import Program

if TYPE_CHECKING:
    from .ledger import Flags, SalesLedger


def admits(facts: PartnerFacts | None, program: Program) -> bool:
    """Do the program's tiers and partner types admit the partner (its tier on the last day of the period)."""
    e = program.eligibility
    tier = facts.tier if facts else None
    kind = facts.partner_type if facts else None
    return (e.tiers is None or tier in e.tiers) and (e.partner_types is None or kind in e.partner_types)


def listed(
    book: RebateBook, ledger: SalesLedger, partners: Mapping[str, PartnerFacts], period: Period, in_period: Flags
) -> dict[str, tuple[str, ...]]:
    """Per partner with a line invoiced in the period, the programs of the period its statement lists even at 0.00
    (PA-7.8 / CPA-7.8 "lists, per program"): those earned on the partner's own purchases (the resale channel) whose
    tiers and partner types admit it (PA-3.2: a Registered Partner is listed for the SPIFF, not the volume or growth
    rebate). A commission program (PA-8.1 / PA-8.2) is earned on a referral or an appointment, not by the partner's
    tier, and is listed only where it rated something."""
    programs = [p for p in book.programs_for(period.kind) if "resale" in p.eligibility.channels]
    listed = {}
    for index in sorted({int(i) for i in ledger.partner[in_period]}):
        partner_id = ledger.partners[index]
        ids = tuple(p.program_id for p in programs if admits(partners.get(partner_id), p))
        if ids:
            listed[partner_id] = ids
    return listed


def no_amount(program: Program) -> dict[str, Any]:
    """The statement view of a program that no longer rates anything for the partner (all of it credited)."""
    rule = program.rule
    return {
        "program_id": rule.rule_id,
        "name": program.name,
        "model": program.model,
        "payout": program.payout,
        "clause": rule.clause,
        "rule_id": rule.rule_id,
        "rule_clause": rule.clause,
    }


def zero_view(program: Program) -> dict[str, Any]:
    """The statement view of a program listed at 0.00 because no line of the partner's counted for it (PA-7.8 /
    CPA-7.8 "lists, per program, the Qualifying Revenue, the rate or unit amount applied"): nothing counted, and a
    per-unit program's unit amount."""
    per_unit = program.model == "per_unit"
    return {
        **no_amount(program),
        "basis_revenue": None if per_unit else "0.00",
        "units": 0 if per_unit else None,
        "rate": f"{format_money(Decimal(program.amount_per_unit) / 100)}/unit" if per_unit else None,
        "amount": "0.00",
        "cap_reduction": "0.00",
        "detail": {"units": 0, "units_paid": 0} if per_unit else None,
    }


def why_zero(program: Program, trace: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Why a listed program pays nothing: each reason that turned the partner's lines of the period away from it,
    with its rule, clause and how many lines (the statement's trace pages list them)."""
    return [
        {
            "rule_id": entry["rule_id"],
            "clause": entry["clause"],
            "reason": entry["reason"],
            "lines": len(entry["lines"]),
        }
        for entry in trace["excluded"].values()
        if entry["program_id"] == program.program_id
    ]
