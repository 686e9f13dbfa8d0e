"""A rebate program as the policy names it: one node of `policy.rebates.programs` compiled (its eligibility, tiers,
rates and the commission clauses it carries), and the cents its money amounts are counted in.

Pure, no numpy: the compiled policy (`policy.RebateBook`) holds these, and the models and the engine read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..money import CENT
from ..rules import Rule
from .windows import FirstInvoiceWindow, ReferralAcceptance


def cents(amount: str | Decimal) -> int:
    """A money amount as integer cents (exact: amounts have at most 2 places)."""
    value = Decimal(amount)
    if value != value.quantize(CENT):
        raise ValueError(f"{amount} has more than 2 decimal places")
    return int(value * 100)


@dataclass(frozen=True)
class Eligibility:
    """Which lines and partners a program counts; None means any."""

    families: frozenset[str] | None = None
    skus: frozenset[str] | None = None
    kinds: frozenset[str] | None = None
    tiers: frozenset[str] | None = None
    partner_types: frozenset[str] | None = None
    channels: frozenset[str] = frozenset({"resale"})
    max_discount_percent: Decimal | None = None

    @classmethod
    def of(cls, node: Mapping[str, Any]) -> Eligibility:
        def names(key: str) -> frozenset[str] | None:
            return frozenset(node[key]) if key in node else None

        limit = node.get("max_discount_percent")
        return cls(
            families=names("families"),
            skus=names("skus"),
            kinds=names("kinds"),
            tiers=names("tiers"),
            partner_types=names("partner_types"),
            channels=names("channels") or frozenset({"resale"}),
            max_discount_percent=None if limit is None else Decimal(limit),
        )


@dataclass(frozen=True)
class Tier:
    rule: Rule
    threshold: int  # cents
    percent: Decimal


@dataclass(frozen=True)
class Program:
    """One program: the shared fields every model reads, plus the model's own (tiers, percent, units...)."""

    rule: Rule
    name: str
    model: str
    period: str
    basis: str
    payout: str
    eligibility: Eligibility
    tiers: tuple[Tier, ...] = ()
    percent: Decimal | None = None
    percent_by_tier: Mapping[str, tuple[Rule, Decimal]] = field(default_factory=dict)
    min_growth_percent: Decimal | None = None
    new_partner_rule: Rule | None = None
    new_partner_minimum: int = 0  # cents
    amount_per_unit: int = 0  # cents
    unit_cap_rule: Rule | None = None
    unit_cap: int | None = None
    return_window_days: int | None = None
    # Where the return window starts: `shipment` (PA-7.5 "30 days of shipment") or `delivery` (CPA-7.5 "14 days of
    # delivery"), with the clause that says so.
    return_window_from: str = "shipment"
    return_window_rule: Rule | None = None
    # PA-8.1 / CPA-8.1: a commission paid only on invoices dated within months of the customer's first invoice
    first_invoice_window: FirstInvoiceWindow | None = None
    # PA-8.2 / CPA-8.2: a commission "paid within 30 days after the end of the month in which the Customer paid": a
    # line is earned in the month its invoice was paid (`paid_on`), not the month of the invoice (None: that month)
    earned_when_paid: Rule | None = None
    # PA-8.1 / CPA-8.1: a referral earns only once accepted (invoiced within 180 days / accepted before first contact)
    referral_acceptance: ReferralAcceptance | None = None

    @property
    def program_id(self) -> str:
        return self.rule.rule_id

    @classmethod
    def of(cls, node: Mapping[str, Any]) -> Program:
        tiers = tuple(Tier(Rule.of(t), cents(t["from"]), Decimal(t["percent"])) for t in node.get("tiers", []))
        baseline = node.get("new_partner_baseline")
        cap = node.get("unit_cap")
        return cls(
            rule=Rule.of(node),
            name=str(node["name"]),
            model=str(node["model"]),
            period=str(node["period"]),
            basis=str(node["basis"]),
            payout=str(node["payout"]),
            eligibility=Eligibility.of(node.get("eligibility", {})),
            tiers=tiers,
            percent=Decimal(node["percent"]) if "percent" in node else None,
            percent_by_tier={
                tier: (Rule.of(rate), Decimal(rate["percent"]))
                for tier, rate in node.get("percent_by_tier", {}).items()
            },
            min_growth_percent=Decimal(node["min_growth_percent"]) if "min_growth_percent" in node else None,
            new_partner_rule=Rule.of(baseline) if baseline else None,
            new_partner_minimum=cents(baseline["minimum"]) if baseline else 0,
            amount_per_unit=cents(node["amount_per_unit"]) if "amount_per_unit" in node else 0,
            unit_cap_rule=Rule.of(cap) if cap else None,
            unit_cap=int(cap["units"]) if cap else None,
            return_window_days=node.get("return_window_days"),
            return_window_from=str((node.get("return_window_from") or {}).get("from", "shipment")),
            return_window_rule=Rule.of(node["return_window_from"]) if node.get("return_window_from") else None,
            first_invoice_window=(
                FirstInvoiceWindow.of(node["first_invoice_window"]) if node.get("first_invoice_window") else None
            ),
            earned_when_paid=Rule.of(node["earned_when_paid"]) if node.get("earned_when_paid") else None,
            referral_acceptance=(
                ReferralAcceptance.of(node["referral_acceptance"]) if node.get("referral_acceptance") else None
            ),
        )
