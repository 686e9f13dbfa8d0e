"""What-if for usage billing: a month's metered usage rated under a policy draft's usage rate tables beside the
policy in force's. Pure: the rating is domain.billing.rating.rate_usage, the one a posted usage line is rated with
(the month's metered quantity rated as a whole, band amounts summed, rounded once: SOP-3.2 / SOP-3.3).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from .billing.rating import RateTable, Rating, month_quantity, rate_usage
from .money import format_money, round_money
from .policy_whatif_rebates import totals


def rate_tables(policy: Mapping[str, Any]) -> dict[str, RateTable]:
    """Metric -> its rate table under a policy (billing.usage_rates); none without a billing section."""
    return {t["metric"]: RateTable.from_policy(t) for t in (policy.get("billing") or {}).get("usage_rates") or []}


def _rated(tables: Mapping[str, RateTable], record: Mapping[str, Any]) -> Decimal | None:
    table = tables.get(record["metric"])
    return None if table is None else _rating(table, record).amount


def _rating(table: RateTable, record: Mapping[str, Any]) -> Rating:
    """The month's usage record rated as its line is: its metered quantity made the month's (an `average_daily`
    table's average over the month's days, COP-3.1) and priced with the table."""
    return rate_usage(table, month_quantity(table, Decimal(record["quantity"]), record["period"]))


def _shown(amount: Decimal | None) -> str | None:
    return None if amount is None else format_money(amount)


def usage_row(record: Mapping[str, Any], before: Mapping[str, RateTable], after: Mapping[str, RateTable],
              segment: str, examples: int) -> dict[str, Any]:
    """One partner's metric in one month: its metered quantity, what its invoices carry for it (the original
    records, with their paths), and the month rated under each policy (null: the policy has no table for it)."""
    invoiced = record.get("invoiced") or []
    return {
        "partner_id": record["partner_id"], "segment": segment, "metric": record["metric"],
        "month": record["period"], "quantity": record["quantity"],
        "invoiced": format_money(sum((Decimal(x["amount"]) for x in invoiced), Decimal(0))),
        "before": _shown(_rated(before, record)),
        "after": _shown(_rated(after, record)),
        "invoices": [{"invoice_id": x["invoice_id"], "line_id": x["line_id"], "amount": x["amount"],
                      "invoice": f"/v1/invoices/{x['invoice_id']}"} for x in invoiced[:examples]],
    }


def usage_changes(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The rows summed: the amount before and after overall, per partner and by partner segment; the rows whose
    amount changes, and how many do not."""
    listed = sorted(rows, key=lambda r: (r["partner_id"], r["metric"], r["month"]))
    changed = [r for r in listed if r["before"] != r["after"]]
    return {**totals(listed, lambda r: r["before"], lambda r: r["after"], key="amount"),
            "changed": changed, "unchanged": len(listed) - len(changed)}


def billed(tables: Mapping[str, RateTable], record: Mapping[str, Any]) -> tuple[Decimal, Decimal | None]:
    """What the month's usage is billed at under a policy's tables, amount and cost as a usage line has them
    (domain.billing.usage: the table's unit cost x the rated units, rounded once); nothing without a table."""
    table = tables.get(record["metric"])
    if table is None:
        return Decimal("0.00"), None
    rating = _rating(table, record)
    return rating.amount, None if table.unit_cost is None else round_money(table.unit_cost * rating.units)
