"""The masks of a ledger that no period changes: each program's eligibility (and what each criterion turns away),
lines of orders placed during a suspension, before the activation or after the termination. Worked out once per
ledger and shared by every period rated over it (`engine.rate_periods`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .ledger import Flags, SalesLedger
from .listing import admits
from .policy import PartnerFacts
from .programs import Program
from .result import Exclusion
from .termination import after_termination

__all__ = ["LineMasks"]


def _ineligible(ledger: SalesLedger, partners: Mapping[str, PartnerFacts], program: Program) -> list[Exclusion]:
    """Each eligibility criterion of the program, as the lines it turns away (PA-7.x: eligible tiers, families,
    SKUs, kinds, channels, the maximum discount, the paid basis)."""
    e, pid, rule = program.eligibility, program.program_id, program.rule
    checks: list[tuple[str, str, Flags]] = [
        ("partner", "the partner's tier or type is not eligible", _partner_table(ledger, partners, program)),
        (
            "family",
            f"its family is not one of {sorted(e.families or ())}",
            ledger.lookup(ledger.families, e.families, ledger.family),
        ),
        ("sku", f"its SKU is not one of {sorted(e.skus or ())}", ledger.lookup(ledger.skus, e.skus, ledger.sku)),
        ("kind", f"its kind is not one of {sorted(e.kinds or ())}", ledger.lookup(ledger.kinds, e.kinds, ledger.kind)),
        (
            "channel",
            f"sold through a channel other than {sorted(e.channels)}",
            ledger.lookup(ledger.channels, e.channels, ledger.channel),
        ),
    ]
    if e.max_discount_percent is not None:
        checks.append(
            (
                "max_discount_percent",
                f"sold at a discount above {e.max_discount_percent}%",
                ledger.discount_bp <= int(e.max_discount_percent * 100),
            )
        )
    if program.basis == "paid":
        checks.append(("paid", "its invoice is not paid (the program's basis is paid revenue)", ledger.paid))
    return [Exclusion(f"{rule.rule_id}.{name}:{pid}", rule, why, ~ok) for name, why, ok in checks if not ok.all()]


def _partner_table(ledger: SalesLedger, partners: Mapping[str, PartnerFacts], program: Program) -> Flags:
    """Per line: is its partner of an eligible tier and type."""

    table = np.fromiter(
        (admits(partners.get(pid), program) for pid in ledger.partners), dtype=np.bool_, count=len(ledger.partners)
    )
    flags: Flags = table[ledger.partner] if len(ledger.partners) else np.zeros(len(ledger), dtype=np.bool_)
    return flags


def _lines_eligible(ledger: SalesLedger, partners: Mapping[str, PartnerFacts], program: Program) -> Flags:
    """What the program's eligibility admits, before duplicates, suspension and exclusivity."""
    e = program.eligibility
    mask = (
        ledger.lookup(ledger.families, e.families, ledger.family)
        & ledger.lookup(ledger.skus, e.skus, ledger.sku)
        & ledger.lookup(ledger.kinds, e.kinds, ledger.kind)
        & ledger.lookup(ledger.channels, e.channels, ledger.channel)
        & _partner_table(ledger, partners, program)
    )
    if e.max_discount_percent is not None:
        mask &= ledger.discount_bp <= int(e.max_discount_percent * 100)
    if program.basis == "paid":
        mask &= ledger.paid
    return mask


def _suspended(ledger: SalesLedger, partners: Mapping[str, PartnerFacts]) -> Flags:
    """Lines of orders placed while their partner was suspended (PA-7.1 "orders placed while the Partner was
    suspended", CPA-7.1 "during a suspension"). A line whose order time the ERP recorded (`event_second`) is compared
    with the suspension to the second: from the suspension's time up to, not including, the lift's, so an order
    recorded earlier on the day of the suspension earns and one recorded on the lift day before the lift does not.
    A line without it (billed before the time was kept, a monthly charge) is compared by its day, whole days."""
    mask = np.zeros(len(ledger), dtype=np.bool_)
    timed = ledger.event_second >= 0
    for index, partner_id in enumerate(ledger.partners):
        facts = partners.get(partner_id)
        if facts is None:
            continue
        mine = ledger.partner == index
        for start, end in facts.suspended:
            last = end if end is not None else 2**40
            mask |= mine & ~timed & (ledger.day >= start) & (ledger.day <= last)
        for since, until in facts.suspended_at:
            lifted = until if until is not None else 2**62
            mask |= mine & timed & (ledger.event_second >= since) & (ledger.event_second < lifted)
    return mask


def _before_activation(ledger: SalesLedger, partners: Mapping[str, PartnerFacts]) -> Flags:
    """Lines dated before their partner's activation (PA-2.2: no incentive accrues before onboarding is complete); a
    credit counts where the line it credits was dated, so it nets out only what earned something."""
    mask = np.zeros(len(ledger), dtype=np.bool_)
    day = np.where(ledger.credited_day >= 0, ledger.credited_day, ledger.day)
    for index, partner_id in enumerate(ledger.partners):
        facts = partners.get(partner_id)
        if facts is not None and facts.activated_on is not None:
            mask |= (ledger.partner == index) & (day < facts.activated_on)
    return mask



@dataclass
class LineMasks:
    """The masks of one ledger that no period changes: valid (no duplicate), dated during a suspension, before the
    activation, after the termination, and each program's eligibility (worked out on first use)."""

    ledger: SalesLedger
    partners: Mapping[str, PartnerFacts]
    valid: Flags
    suspended: Flags
    early: Flags
    ended: Flags
    eligibility: dict[str, tuple[Flags, list[Exclusion]]] = field(default_factory=dict)

    @classmethod
    def of(cls, ledger: SalesLedger, partners: Mapping[str, PartnerFacts]) -> LineMasks:
        return cls(ledger, partners, ledger.duplicate == 0, _suspended(ledger, partners),
                   _before_activation(ledger, partners), after_termination(ledger, partners))  # fmt: skip

    def admitted(self, program: Program) -> tuple[Flags, list[Exclusion]]:
        """What the program's eligibility admits, and each criterion as the lines it turns away."""
        found = self.eligibility.get(program.program_id)
        if found is None:
            found = (_lines_eligible(self.ledger, self.partners, program),
                     _ineligible(self.ledger, self.partners, program))  # fmt: skip
            self.eligibility[program.program_id] = found
        return found
