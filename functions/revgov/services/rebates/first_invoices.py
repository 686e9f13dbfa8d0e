"""The day each referred customer was first invoiced, per partner: where a commission's window counts from.

PA-8.1: "during the 12 months following the first invoice"; CPA-8.1: "for 12 months from the first invoice". The first
invoice of a customer under a referral is the earliest invoice date (the day billing issued the invoice,
`domain.billing.overdue.issued_on`) of the invoices carrying a referral line that names that customer (the ERP's
`customer_id`, compared case-folded): the only lines the distributor invoices to the customer directly. Kept in the
store, one document per partner and customer, written as lines are projected (`record`): idempotent (a day is only
ever replaced by an earlier one, under optimistic concurrency, so redeliveries and racing writers agree) and the
same on every store engine (the DocumentStore port). Rating reads them into the partner's facts (`of_partner`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypedDict

from ...domain.errors import Conflict
from ...ports import Changes
from ...runtime import Runtime
from .. import tenants
from ..toolkit import pages, put_over, retry_on_conflict

FIRST_INVOICES = "RBTFIRSTINVOICE"  # partner#customer -> the customer's first referral invoice
ATTEMPTS = 8
REFERRAL = "referral"


class FirstInvoice(TypedDict):
    """A referred customer's first invoice for one partner."""

    partner_id: str
    customer: str  # case-folded
    customer_id: str  # as the ERP first sent it
    first_invoiced_on: str  # the invoice date, YYYY-MM-DD
    invoice_id: str
    line_id: str


def key(partner_id: str, customer: str) -> str:
    return f"{partner_id}#{customer}"


def of_partner(rt: Runtime, tenant_id: str, partner_id: str) -> dict[str, str]:
    """The partner's referred customers (case-folded) -> the day each was first invoiced."""
    return of_partners(rt, tenant_id, prefix=f"{partner_id}#").get(partner_id, {})


def of_partners(rt: Runtime, tenant_id: str, prefix: str = "") -> dict[str, dict[str, str]]:
    """Per partner, its referred customers -> the day each was first invoiced (one paged read for a whole run)."""
    found: dict[str, dict[str, str]] = {}
    for item in pages(rt.store, tenant_id, FIRST_INVOICES, prefix=prefix):
        found.setdefault(str(item.data["partner_id"]), {})[str(item.data["customer"])] = str(
            item.data["first_invoiced_on"]
        )
    return found


def earliest(lines: Iterable[Mapping[str, Any]]) -> dict[str, FirstInvoice]:
    """Per partner and customer, the earliest invoice among these rebate lines: referral lines naming a customer
    on an issued invoice (a credit note is dated as the line it credits, so it never moves the day)."""
    found: dict[str, FirstInvoice] = {}
    for line in lines:
        if line.get("channel") != REFERRAL or not line.get("customer") or not line.get("invoiced_on"):
            continue
        entry = FirstInvoice(
            partner_id=str(line["partner_id"]), customer=str(line["customer"]), customer_id=str(line["customer_id"]),
            first_invoiced_on=str(line["invoiced_on"]), invoice_id=str(line["invoice_id"]),
            line_id=str(line["line_id"]),
        )  # fmt: skip
        k = key(entry["partner_id"], entry["customer"])
        if k not in found or (entry["first_invoiced_on"], entry["line_id"]) < (
            found[k]["first_invoiced_on"],
            found[k]["line_id"],
        ):
            found[k] = entry
    return found


def record(rt: Runtime, tenant_id: str, lines: Iterable[Mapping[str, Any]]) -> None:
    """Store each customer's first invoice these lines show, where none is stored or the stored one is later."""
    wanted = earliest(lines)
    if wanted and tenants.exists(rt, tenant_id):  # offboarded while this ran: write nothing into a deleted tenant
        retry_on_conflict(
            lambda: _record_once(rt, tenant_id, wanted),
            attempts=ATTEMPTS,
            exhausted=lambda: Conflict("the first invoices of referred customers kept changing; it will be retried"),
        )


def _record_once(rt: Runtime, tenant_id: str, wanted: dict[str, FirstInvoice]) -> None:
    stored = rt.store.get_many([(tenant_id, FIRST_INVOICES, k) for k in sorted(wanted)])
    by_key = {ref[2]: item for ref, item in stored.items()}
    puts = []
    for k, entry in sorted(wanted.items()):
        have = by_key.get(k)
        if have is None or entry["first_invoiced_on"] < str(have.data["first_invoiced_on"]):
            puts.append(put_over(FIRST_INVOICES, k, dict(entry), have))
    for start in range(0, len(puts), 25):
        rt.store.commit(tenant_id, Changes(puts=puts[start : start + 25]))
