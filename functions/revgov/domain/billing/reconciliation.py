"""The month's subscription lines against the subscription records (SOP-2.2, COP-2.2)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..money import format_money
from .periods import ZERO
from .subscriptions import expected_net, held_credits


@dataclass(frozen=True)
class Mismatch:
    """A subscription whose invoiced net for a month differs from what its record says (SOP-2.2)."""

    subscription_id: str
    partner_id: str
    period: str
    expected: Decimal
    invoiced: Decimal
    pending: Decimal = ZERO  # credits held for approval (SOP-2.5): owed by the record, not invoiced yet

    def as_dict(self) -> dict[str, str]:
        found = {
            "subscription_id": self.subscription_id,
            "partner_id": self.partner_id,
            "period": self.period,
            "expected": format_money(self.expected),
            "invoiced": format_money(self.invoiced),
            "difference": format_money(self.invoiced + self.pending - self.expected),
        }
        return {**found, "pending_approval": format_money(self.pending)} if self.pending else found


def reconcile(subscriptions: Sequence[dict[str, Any]], lines: Sequence[dict[str, Any]], period: str) -> list[Mismatch]:
    """Subscription lines of a month's invoices (charges and their credits, wherever posted, whose service period
    lies in the month) against the subscription records: every difference, to the cent, is a mismatch. A line of a
    subscription no record knows is a mismatch too (expected 0.00).

    A credit held for approval above the credit note limit (SOP-2.5) is owed but not invoiced: while it waits it is
    counted as pending, not as a difference; rejected, it is released and the month no longer expects it."""
    invoiced: dict[str, Decimal] = {}
    owner: dict[str, str] = {}
    for line in lines:
        sub_id = (line.get("detail") or {}).get("subscription_id")
        if sub_id and line["service_period"]["start"][:7] == period:
            invoiced[sub_id] = invoiced.get(sub_id, ZERO) + Decimal(line["amount"])
            owner[sub_id] = line["partner_id"]
    found = []
    records = {s["subscription_id"]: s for s in subscriptions}
    for sub_id in sorted(set(records) | set(invoiced)):
        record = records.get(sub_id)
        expected = expected_net(record, period) - held_credits(record, period, "rejected") if record else ZERO
        got, pending = invoiced.get(sub_id, ZERO), held_credits(record, period, "pending_approval")
        if expected != got + pending:
            partner = record["partner_id"] if record else owner[sub_id]
            found.append(Mismatch(sub_id, partner, period, expected, got, pending))
    return found
