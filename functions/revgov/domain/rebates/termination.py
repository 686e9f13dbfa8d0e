"""What a terminated partner's lines earn (PA-13.3 / CPA-13.3): revenue counts to the agreement's last day, and the
Quarter it ended in earns only the volume rebate unless the agreement ended with that Quarter.

CPA-13.3: "On termination, incentives earned for completed Quarters are settled in the normal cycle, the volume rebate
for the final partial Quarter is calculated on Qualifying Revenue to the termination date". PA-13.3: "rebates and
SPIFF earned for completed Quarters are settled in the normal cycle; for the partial Quarter, the volume rebate is
calculated on the Quarter's Qualifying Revenue up to the termination date without pro rata adjustment of thresholds".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from ..rules import Rule
from ..time import instant

if TYPE_CHECKING:  # policy compiles the Termination rule: its types only, no import cycle; the ledger's numpy is loaded
    # only where lines are flagged, so compiling a policy (the API's cold start) does not import it
    from .ledger import Flags, SalesLedger
    from .policy import PartnerFacts, Period
    from .programs import Program


@dataclass(frozen=True)
class Termination:
    """`rebates.termination` compiled: its rule, and the programs earning for completed Quarters only (the partial
    Quarter earns only what is not listed: the volume rebate)."""

    rule: Rule
    completed_quarters_only: frozenset[str]
    # PA-13.3: "unpaid commissions not yet earned lapse". A commission is earned on the invoice (PA-8.1 "earns [...] of
    # the Distributor's Invoiced Revenue"; PA-8.2 "earns a commission of 3.0% of the Distributor's Invoiced
    # Revenue") and only paid later, "within 30 days after the end of the month in which the Customer paid the
    # invoice" (PA-8.2): a commission program's line invoiced after the agreement's last day lapses; one invoiced by
    # then is still paid when the customer pays.
    unearned_commissions_lapse: bool = False

    @classmethod
    def of(cls, node: Mapping[str, Any] | None) -> Termination | None:
        if not node:
            return None
        return cls(Rule.of(node), frozenset(node.get("completed_quarters_only", [])),
                   bool(node.get("unearned_commissions_lapse", False)))  # fmt: skip


def last_day_before(moment: str) -> date:
    """The last day an agreement ended at `moment` covered (CPA-1.3: "a day runs from 00:00:00 to 23:59:59 UTC"): the
    day of the instant, or the day before when it ended at 00:00 UTC (a Program Year's end, renewals.ended_at)."""
    return (instant(moment) - timedelta(milliseconds=1)).date()


def after_termination(ledger: SalesLedger, partners: Mapping[str, PartnerFacts]) -> Flags:
    """Lines dated after their partner's agreement ended; a credit counts where the line it credits was dated, so a
    credit note issued later still nets the revenue it credits (PA-1.2 / CPA-1.2 "whenever issued")."""
    import numpy as np

    mask = np.zeros(len(ledger), dtype=np.bool_)
    day = np.where(ledger.credited_day >= 0, ledger.credited_day, ledger.day)
    for index, partner_id in enumerate(ledger.partners):
        facts = partners.get(partner_id)
        if facts is not None and facts.terminated_on is not None:
            mask |= (ledger.partner == index) & (day > facts.terminated_on)
    return mask


def invoiced_after_termination(ledger: SalesLedger, partners: Mapping[str, PartnerFacts]) -> Flags:
    """Lines of terminated partners not invoiced by the agreement's last day (invoiced after it, or not yet): a
    commission on them is not yet earned at termination (PA-13.3). A credit note carries the credited line's invoice
    date, so it follows the line it credits. The termination day itself is inside (PA-1.3: "a day runs from 00:00:00
    to 23:59:59 UTC"): invoiced on it, the commission was earned."""
    import numpy as np

    mask = np.zeros(len(ledger), dtype=np.bool_)
    for index, partner_id in enumerate(ledger.partners):
        facts = partners.get(partner_id)
        if facts is not None and facts.terminated_on is not None:
            late = (ledger.invoiced_day < 0) | (ledger.invoiced_day > facts.terminated_on)
            mask |= (ledger.partner == index) & late
    return mask


def partial_quarter(
    rule: Termination, ledger: SalesLedger, partners: Mapping[str, PartnerFacts], program: Program, period: Period
) -> Flags:
    """The lines of partners whose agreement ended inside `period` (before its last day), for a program earning for
    completed Quarters only: the partial Quarter earns it nothing."""
    import numpy as np

    mask = np.zeros(len(ledger), dtype=np.bool_)
    if program.program_id not in rule.completed_quarters_only or program.period != period.kind:
        return mask
    first, last = period.start.toordinal(), period.end.toordinal()
    for index, partner_id in enumerate(ledger.partners):
        facts = partners.get(partner_id)
        if facts is not None and facts.terminated_on is not None and first <= facts.terminated_on < last:
            mask |= ledger.partner == index
    return mask
