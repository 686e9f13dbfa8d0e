"""A commission's window from the customer's first invoice (PA-8.1 / CPA-8.1): which invoice dates it pays on.

PA-8.1: "the Partner earns a referral commission of 5.0% of the Distributor's Invoiced Revenue from that Customer, net
of credit notes, during the 12 months following the first invoice." CPA-8.1: "earns a referral fee of 4.0% of
Contoso's Invoiced Revenue from that End Customer, net of credit notes, for 12 months from the first invoice".

How the two are read (docs/rebates.md): the first invoice is the invoice date (the day it was issued) of the first
invoice carrying a referral line for that partner and customer; its own revenue earns (it is what the window counts
from). `day_after_first_invoice` (PA-8.1, "the 12 months following the first invoice"): the 12 months begin the day
after that invoice, so the last day inside is the day before the same day 12 months after that, i.e. the first
invoice's anniversary (first invoice 2026-09-02: inside through 2027-09-02, outside from 2027-09-03).
`first_invoice_day` (CPA-8.1, "for 12 months from the first invoice"): the 12 months begin on the first invoice's day,
so the last day inside is the day before its anniversary (2026-09-02: inside through 2027-09-01, outside from
2027-09-02). A later line earns while its own invoice is dated on or before that last day.

Pure, no numpy: the compiled policy imports it (the engine applies it over the ledger).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ..rules import Rule
from ..time import add_months

DAY_AFTER, SAME_DAY = "day_after_first_invoice", "first_invoice_day"


@dataclass(frozen=True)
class FirstInvoiceWindow:
    """`program.first_invoice_window`: the clause, how many months, and the day they begin on."""

    rule: Rule
    months: int
    starts: str  # DAY_AFTER | SAME_DAY

    @classmethod
    def of(cls, node: Mapping[str, Any]) -> FirstInvoiceWindow:
        return cls(Rule.of(node), int(node["months"]), str(node["starts"]))

    def last_day(self, first_invoice: date) -> date:
        """The last invoice date inside the window of a customer first invoiced on `first_invoice`."""
        start = first_invoice + timedelta(days=1) if self.starts == DAY_AFTER else first_invoice
        return add_months(start, self.months) - timedelta(days=1)

    def last_ordinal(self, first_invoice: int) -> int:
        return self.last_day(date.fromordinal(first_invoice)).toordinal()

    @property
    def no_customer_reason(self) -> str:
        return f"names no referred customer, so no window from a first invoice can apply ({self.rule.clause})"

    @property
    def reason(self) -> str:
        begins = "the day after" if self.starts == DAY_AFTER else "the day of"
        return (
            f"invoiced after the {self.months} months counted from {begins} the customer's first invoice "
            f"({self.rule.clause})"
        )


@dataclass(frozen=True)
class ReferralAcceptance:
    """`program.referral_acceptance`: when an accepted referral earns (PA-8.1 / CPA-8.1).

    PA-8.1: "Where the Distributor accepts the referral and invoices the Customer directly within 180 days, the
    Partner earns a referral commission": the customer's first invoice is dated at most `within_days` days after the
    referral was accepted (day 180 earns, day 181 does not). CPA-8.1: "provided the referral was registered and
    accepted before Contoso's first contact with the End Customer's decision maker" (`before_first_contact`): the
    acceptance day is before the day of that first contact. The ERP states both days on the referral line
    (`referral_accepted_on`, `decision_maker_contacted_on`); a line without the day a condition needs cannot be
    shown to meet it and does not earn."""

    rule: Rule
    within_days: int | None = None
    before_first_contact: bool = False

    @classmethod
    def of(cls, node: Mapping[str, Any]) -> ReferralAcceptance:
        within = node.get("first_invoice_within_days")
        return cls(Rule.of(node), None if within is None else int(within), bool(node.get("before_first_contact")))

    def fails(self, accepted: int, contacted: int, first_invoice: int | None) -> bool:
        """Whether a line (days as ordinals, -1 when not stated) fails the condition; `first_invoice` is the customer's
        first invoice day (None: not issued yet, nothing to compare)."""
        if accepted < 0:
            return True
        if self.within_days is not None and first_invoice is not None and first_invoice > accepted + self.within_days:
            return True
        return self.before_first_contact and (contacted < 0 or accepted >= contacted)

    @property
    def reason(self) -> str:
        if self.before_first_contact:
            return (
                "the referral was not shown accepted before the first contact with the customer's decision maker "
                f"({self.rule.clause})"
            )
        return (
            f"the customer was not first invoiced within {self.within_days} days of the referral's acceptance "
            f"(or no acceptance is recorded) ({self.rule.clause})"
        )

