"""PA-10.1: "Taxes are calculated per line on the basis of the ship-to or service location". An ERP event that bills
new lines (`posting.ORDER_DAYS`: the same kinds as the onboarding and VAT holds) supplied on or after the policy's
`billing.tax.calculated_from`, without a `tax_location` or with one whose jurisdiction the sales-tax table has no rate
for on that day, is held: not billed, one exception in the policy's category (`billing.tax.location.category`) citing
BILL-SALES-TAX-LOCATION (PA-10.1). The line is never billed with a guessed tax, and no partial invoice is issued
without it (SOP-2.2: Finance validates that "tax is calculated per line"). The ERP sends the event again with its
location (a new event id). Tenants without a sales-tax table (Contoso) hold nothing here."""

from __future__ import annotations

from typing import Any

from ...domain.billing.sales_tax import location_problem
from ...domain.billing.tax import TaxPolicy
from ...domain.time import parse_day
from .exceptions import fail
from .posting import ORDER_DAYS, Outcome, Posting

BILLS_ONLY_SOMETIMES = frozenset({"support.logged"})  # hours within the allowance bill nothing: checked when billed


def held_for_location(posting: Posting, partner: dict[str, Any]) -> Outcome | None:
    """The hold for an event whose lines' sales tax cannot be calculated, or None to bill it as usual."""
    if posting.detail_type in BILLS_ONLY_SOMETIMES:
        return None
    return held_if_billed(posting, partner)


def held_if_billed(posting: Posting, partner: dict[str, Any]) -> Outcome | None:
    """The hold for an event about to bill a line whose sales tax cannot be calculated (support overage: called only
    once the event is known to bill, before anything of it is staged), or None."""
    tax = TaxPolicy.of(posting.tenant.policy)
    table = tax.sales if tax else None
    field_name = ORDER_DAYS.get(posting.detail_type)
    if table is None or table.location is None or field_name is None or not posting.data.get(field_name):
        return None
    why = location_problem(table, posting.data.get("tax_location"), parse_day(posting.data[field_name]))
    if why is None:
        return None
    rule = table.location
    problem = (f"held, not billed: {posting.detail_type} of {field_name} {posting.data[field_name]} for "
               f"{partner['partner_id']}: {why} ({rule.rule_id}, {rule.clause})")  # fmt: skip
    return fail(posting, table.category, problem, rule)
