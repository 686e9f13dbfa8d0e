"""usage.reported: the month's metered usage re-rated, billed in arrears on the next month's invoice (SOP-3.4)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC
from decimal import Decimal
from typing import Any, cast

from ...domain import billing as core
from ...domain.errors import Conflict
from ...domain.time import instant, parse_day, period_of
from ...ports import Put
from ..usage_months import usage_month_put
from .exceptions import fail
from .lines import billed_customer, draft_invoice, post_lines, rerate_line
from .posting import Outcome, Posting
from .repository import LINES, SUBSCRIPTIONS, USAGE, USAGE_UNITS, line_key, put_over, usage_key
from .subscription_records import park, refuse_foreign


def usage_reported(posting: Posting, partner: dict[str, Any]) -> Outcome:
    data, book = posting.data, posting.book
    table = book.usage.get(data["metric"])
    if table is None:
        return fail(posting, "rating_failure", f"no rate table for metric {data['metric']}", book.invoicing)
    sub = posting.get(SUBSCRIPTIONS, data["subscription_id"])
    if sub is None or sub.data["status"] == "pending_activation":
        return park(posting, sub)
    if (refused := refuse_foreign(posting, sub, table.rule)) is not None:
        return refused
    month = period_of(parse_day(data["usage_date"]))
    channel = sub.data.get("channel") or "resale"
    # A referral subscription's usage is the referred customer's, on the Distributor's direct invoice to it (PA-8.1 /
    # CPA-8.1), metered apart from the partner's own (SOP-3.1 sums "the Partner's records").
    customer = billed_customer(channel, sub.data.get("customer_id"))
    key = usage_key(partner["partner_id"], table.metric, month, customer)
    stored = posting.get(USAGE, key)
    usage = (
        cast(core.UsageRecord, stored.data)
        if stored
        else core.new_usage(partner["partner_id"], table.metric, month, table)
    )
    table = core.month_table(usage, table)  # the month keeps the table it was first rated with (SOP-3.4)
    counted = _counted(posting, table, usage, key)
    if isinstance(counted, str):
        return fail(posting, "rating_failure", counted, table.rule)
    more, unit_puts = counted
    # Billed in arrears on the next month's invoice; a month re-rated after that invoice was issued is adjusted by
    # the difference on the next draft (SOP-3.4, COP-3.4). A record received after the cut-off is rated by the next
    # rating run, as an adjustment with its original service period (SOP-3.1, COP-3.1; core.billed_in, SOP-7.1).
    # "Received" is when Revgov received the record, not its `occurred_at` (the usage day the source system recorded):
    # an October record sent on 20 November is late however honestly it is dated. Days are UTC days (PA-1.3 / CPA-1.3).
    received_on = instant(posting.received_at).astimezone(UTC).date()
    billed_month, late = core.billed_in(month, received_on, book.usage_cutoff_days)
    header = draft_invoice(posting, partner["partner_id"], billed_month, customer)
    cutoff = (book.usage_cutoff,) if late and book.usage_cutoff else ()
    rules = (table.rule, book.invoicing, *cutoff)
    rerated = core.rerate_month(
        table,
        usage,
        more,
        invoice_id=header["invoice_id"],
        rules=rules,
        order_ref=data["subscription_id"],
        channel=channel,
        late=late,
    )
    if customer:
        named = {**rerated.draft.detail, "customer_id": customer}
        rerated = replace(rerated, draft=replace(rerated.draft, detail=named))
    line = _post(posting, partner["partner_id"], header["period"], rerated)
    updated = core.with_usage(usage, rerated, line, event_id=posting.event_id)
    if unit_puts:
        updated.pop("units_seen", None)  # moved to the month's unit shards with this record's
    posting.changes.puts.extend(unit_puts)
    posting.changes.puts.append(put_over(USAGE, key, dict(updated), stored))
    if stored is None:  # the month's pointer, for the usage what-if (a record never changes its month)
        posting.changes.puts.append(usage_month_put(key, month))
    return Outcome("processed", None if line else "month re-rated to the same total; no adjustment")


def _counted(posting: Posting, table: core.RateTable, usage: core.UsageRecord,
             key: str) -> tuple[Decimal, list[Put]] | str:
    """What the record adds to its month, and the writes of the month's unit shards it changes; why not, when it
    cannot be counted. A `distinct_units` metric (SOP-3.1: an endpoint "counts once in a Billing Month if it reported
    [...] on any day of that month") counts each of the record's `unit_ids` not counted in the month before, and
    `quantity` must be how many ids it names; without ids the record's quantity is the source's share of the month
    (units not reported before), added as for any metric. Ids on a summed metric cannot be counted by them: refused."""
    data = posting.data
    ids = data.get("unit_ids")
    if not ids:
        return Decimal(data["quantity"]), []
    if table.counting != "distinct_units":
        return f"metric {table.metric} is summed ({table.rule.rule_id}): its records carry no unit_ids"
    if Decimal(data["quantity"]) != len(set(ids)):
        return f"quantity {data['quantity']} is not the {len(set(ids))} distinct unit_ids the record names"
    shard_keys = {shard: f"{key}#{shard}" for shard in core.UNIT_SHARDS}
    found = posting.rt.store.get_many([(posting.tenant_id, USAGE_UNITS, k) for k in shard_keys.values()])
    stored = {shard: found.get((posting.tenant_id, USAGE_UNITS, k)) for shard, k in shard_keys.items()}
    kept = {shard: core.unpacked_units(s.data["digests"]) if s else set() for shard, s in stored.items()}
    legacy = set(usage.get("units_seen", ()))  # a month counted before the shards (red team 11)
    seen = legacy.union(*kept.values())
    more, new = core.distinct_units(seen, ids)
    if len(seen) + int(more) > core.MAX_MONTH_UNITS:
        return (f"the month would count {len(seen) + int(more)} distinct units; a month counts at most "
                f"{core.MAX_MONTH_UNITS} ({table.rule.rule_id}): rate the rest by hand")
    for digest in legacy:
        new.setdefault(digest[0], set()).add(digest)
    puts = [put_over(USAGE_UNITS, shard_keys[shard], {
        "partner_id": usage["partner_id"], "metric": usage["metric"], "period": usage["period"],
        "digests": core.packed_units(kept[shard] | digests)}, stored[shard]) for shard, digests in sorted(new.items())]
    return more, puts


def _post(posting: Posting, partner_id: str, period: str, rerated: core.Rerated) -> dict[str, Any] | None:
    """Re-rate the month's line on this invoice, or post a new one (an adjustment when invoiced elsewhere before)."""
    if rerated.replaces is not None:
        line_stored = posting.get(LINES, line_key(rerated.replaces))
        if line_stored is None:
            raise Conflict("the usage line is not readable yet")
        return rerate_line(posting, line_stored, rerated.draft)
    if rerated.unchanged:
        return None  # more usage, same rated total: nothing to adjust
    (line,) = post_lines(posting, partner_id, period, [rerated.draft])
    return line
