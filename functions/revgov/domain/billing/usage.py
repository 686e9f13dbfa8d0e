"""Usage re-rating: a month's metered usage rated as a whole each time more of it is reported, and the line that
brings what was invoiced for the month to that total.

Usage is billed in arrears on the next month's invoice; a month re-rated after that invoice was issued is adjusted by
the difference on the next draft (SOP-3.4, COP-3.4). The month's usage record keeps the metered quantity and what was
invoiced for it, invoice by invoice, so the difference is exact.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, NotRequired, TypedDict

from ..money import format_money, round_money
from ..rules import Rule
from ..time import next_period, period_bounds, period_of
from .invoices import LINE_EVENT_IDS, LineDraft
from .periods import ZERO, ServicePeriod
from .rating import RateTable, days_averaged, month_quantity, rate_usage, rated_units


class Invoiced(TypedDict):
    """What one invoice carries for a month's usage: its line, amount, rated units and cost."""

    invoice_id: str
    line_id: str
    number: int
    amount: str
    units: str
    cost: str | None


class UsageRecord(TypedDict):
    """A partner's metered usage of one metric in one month (billing's USAGE record): the quantity so far, the latest
    events that reported it (`LINE_EVENT_IDS` of them: the record stays one size however many reports the month
    holds), and what each invoice carries for it."""

    partner_id: str
    metric: str
    period: str
    quantity: str
    event_ids: list[str]
    invoiced: list[Invoiced]
    rate_table: NotRequired[dict[str, Any]]  # the table the month is rated with (absent on records before it was kept)
    # a `distinct_units` metric's digests of the unit ids counted in the month, as kept before red team 11 (now in the
    # month's unit shards, `UNIT_SHARDS`): read as counted, moved to the shards by the month's next record
    units_seen: NotRequired[list[str]]


def new_usage(partner_id: str, metric: str, period: str, table: RateTable | None = None) -> UsageRecord:
    """The usage record of a partner's metric for a month before any usage was reported, with the rate table in force
    when the month is first rated."""
    record: UsageRecord = {
        "partner_id": partner_id,
        "metric": metric,
        "period": period,
        "quantity": "0",
        "event_ids": [],
        "invoiced": [],
    }
    if table is not None:
        record["rate_table"] = table.as_policy()
    return record


def unit_digest(unit_id: str) -> str:
    """A unit id as the month keeps it: 16 hex digits of its SHA-256 (the month stays small however long the ERP's ids
    are; two ids of one partner's month sharing 64 bits is not a case to plan for)."""
    return hashlib.sha256(unit_id.encode()).hexdigest()[:DIGEST_CHARS]


# A `distinct_units` month keeps the digests of its units counted so far beside its usage record, in UNIT_SHARDS
# documents (by a digest's first hex digit), each the digests written one after the other: SOP-3.3's last band has no
# upper bound, and one list in the usage record outgrew an item's 400 KB at about 20,000 endpoints (red team 11). A
# record of at most 5,000 ids writes at most every shard; MAX_MONTH_UNITS keeps one such write within DynamoDB's 4 MB
# transaction (16 bytes a unit), beyond it a record is refused by name, never a crash.
DIGEST_CHARS = 16
UNIT_SHARDS = "0123456789abcdef"
MAX_MONTH_UNITS = 200_000


def packed_units(digests: Iterable[str]) -> str:
    """A shard's digests as it is stored: sorted, written one after the other."""
    return "".join(sorted(digests))


def unpacked_units(text: str) -> set[str]:
    return {text[i:i + DIGEST_CHARS] for i in range(0, len(text), DIGEST_CHARS)}


def distinct_units(seen: set[str], unit_ids: list[str]) -> tuple[Decimal, dict[str, set[str]]]:
    """How many units a record adds to its month when each counts once in the month (SOP-3.1: "an endpoint counts
    once in a Billing Month if it reported to the monitoring service on any day of that month"), given the digests
    the month counted before, and its new digests by shard."""
    new = {unit_digest(u) for u in unit_ids} - seen
    shards: dict[str, set[str]] = {}
    for digest in new:
        shards.setdefault(digest[0], set()).add(digest)
    return Decimal(len(new)), shards


def month_table(usage: UsageRecord, current: RateTable) -> RateTable:
    """The table a month is rated with: the one kept with its usage when it was first rated, so a later rate change
    never re-rates it (SOP-3.4 / COP-3.4: rate changes "never re-rate closed months"; PA-10.5 / CPA-10.4: effective
    "from the first day of a Billing Month"). A record from before tables were kept: the current one."""
    kept = usage.get("rate_table")
    return RateTable.from_policy(kept) if kept else current


@dataclass(frozen=True)
class Rerated:
    """The month re-rated with more usage: its new metered quantity, the line that brings the invoice to the new total
    (an adjustment when the month was invoiced on another invoice already) and the invoiced entry it replaces."""

    quantity: Decimal
    draft: LineDraft
    replaces: Invoiced | None  # what this invoice already carries for the month: re-rate that line
    adjusts: bool  # the month was invoiced elsewhere before: the draft is the difference

    @property
    def unchanged(self) -> bool:
        """More usage, same rated total, nothing on this invoice: nothing to post."""
        return self.replaces is None and self.adjusts and self.draft.amount == 0


def billed_in(month: str, received_on: date, cutoff_days: int | None) -> tuple[str, bool]:
    """The invoice month a usage record of `month` received on `received_on` goes on, and whether it is late.
    In arrears, on the following month's invoice (SOP-3.4 / COP-3.4), when received within `cutoff_days` calendar
    days after the month's end; later, "rated in the next run as an adjustment carrying their original service
    period" (SOP-3.1 / COP-3.1). The run rating month R comes right after R's cut-off and posts "to the open invoice
    of the following month" (SOP-7.1 / COP-7.1), so a late record received within the first `cutoff_days` days of a
    month is rated by that month's run, on that month's invoice, and one received later by the next month's run.
    No cut-off: always the following month's invoice."""
    following = next_period(month)
    if cutoff_days is None or received_on <= period_bounds(month)[1] + timedelta(days=cutoff_days):
        return following, False
    return next_period(period_of(received_on - timedelta(days=cutoff_days))), True


def rerate_month(
    table: RateTable,
    usage: UsageRecord,
    more: Decimal,
    *,
    invoice_id: str,
    rules: tuple[Rule, ...],
    order_ref: str,
    channel: str,
    late: bool = False,
) -> Rerated:
    """The month's usage with `more` metered, rated as a whole (band amounts summed, rounded once), less what invoices
    other than `invoice_id` already billed for it: units, amount and cost alike. The line is an adjustment when the
    month was invoiced elsewhere before, or when the usage came `late` (after the month's cut-off, `billed_in`): SOP-3.1
    / COP-3.1 rate later records "as an adjustment carrying their original service period" even when nothing was
    invoiced for the month before (the difference is then the whole re-rated total, SOP-3.4)."""
    quantity = Decimal(usage["quantity"]) + more
    month = usage["period"]
    rating = rate_usage(table, month_quantity(table, quantity, month))  # COP-3.1: GB-month, the month's average
    cost = round_money(table.unit_cost * rating.units) if table.unit_cost is not None else None
    elsewhere = [x for x in usage["invoiced"] if x["invoice_id"] != invoice_id]
    here = next((x for x in usage["invoiced"] if x["invoice_id"] == invoice_id), None)
    billed_before = sum((Decimal(x["amount"]) for x in elsewhere), ZERO)
    units_before = sum((Decimal(x["units"]) for x in elsewhere), ZERO)
    cost_before = sum((Decimal(x["cost"] or 0) for x in elsewhere), ZERO)
    days = days_averaged(table, month)
    draft = LineDraft(
        kind="usage_adjustment" if elsewhere or late else "usage",
        description=f"{table.metric}: {rated_units(table, rating.quantity)} {table.unit} in {month}",
        family=table.family,
        sku=table.sku,
        quantity=rating.units - units_before,
        unit_price=None,
        amount=rating.amount - billed_before,
        cost=None if cost is None else cost - cost_before,
        service_period=ServicePeriod.month(month),
        order_ref=order_ref,
        rules=rules,
        detail={
            "metered_quantity": f"{quantity:f}",
            "rated_units": f"{rating.units:f}",
            "model": table.model,
            "bands": [b.as_dict() for b in rating.bands],
            "month_total": format_money(rating.amount),
            "invoiced_before": format_money(billed_before),
            **({} if days is None else {"days_in_month": days}),
        },
        channel=channel,
    )
    return Rerated(quantity, draft, here, bool(elsewhere))


def with_usage(usage: UsageRecord, rerated: Rerated, line: dict[str, Any] | None, *, event_id: str) -> UsageRecord:
    """The usage record after the event: its new quantity and event, and the line (posted or re-rated) in place of the
    invoice entry it replaces."""
    invoiced = [x for x in usage["invoiced"] if x is not rerated.replaces]
    if line is not None:
        invoiced.append(
            {
                "invoice_id": line["invoice_id"],
                "line_id": line["line_id"],
                "number": line["number"],
                "amount": line["amount"],
                "units": line["quantity"],
                "cost": line["cost"],
            }
        )
    return {
        **usage,
        "quantity": f"{rerated.quantity:f}",
        "event_ids": [*usage["event_ids"], event_id][-LINE_EVENT_IDS:],
        "invoiced": invoiced,
    }
