"""Billing's documents: the collection names it owns, how its records are written (with their concurrency
conditions and index entries) and read back."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from itertools import islice
from typing import Any, TypedDict, cast

from ...domain import billing as core
from ...domain.access import Principal, Role
from ...domain.errors import NotFound
from ...ports import Page, Put, Stored
from ...runtime import Runtime
from .. import toolkit
from ..toolkit import put_over as put_over  # the one read-modify-write put; billing modules import it here
from ..usage_months import USAGE_MONTHS, USAGE_MONTHS_COMPLETE

BILLED = "BILLED"  # ERP event id -> what billing it produced; the once-only guard
INVOICES = "INVOICE"
INVOICE_KEYS = "INVOICEKEY"  # partner#period -> the invoice of that month
LINES = "INVOICELINE"  # invoice#number -> line
SALES_FACTS = "SALESFACT"
SUBSCRIPTIONS = "SUBSCRIPTION"
RENEWALS = "SUBRENEWAL"  # renewed_from#subscription -> a renewal's state, for the KPIs (`renewal_put`)
USAGE = "USAGE"  # partner#metric#period -> the month's metered quantity and what was invoiced for it
USAGE_UNITS = "USAGEUNITS"  # <USAGE key>#<shard> -> a distinct_units month's unit digests of that shard (SOP-3.1)


def usage_key(partner_id: str, metric: str, month: str, customer_id: str | None) -> str:
    """The USAGE key of a partner's metric in a month; a referred customer's usage (the Distributor's direct invoice,
    PA-8.1 / CPA-8.1) is metered apart under its customer."""
    return f"{partner_id}#{metric}#{month}" + ("" if customer_id is None else f"{DIRECT_USAGE}{customer_id}")


def direct_usage(key: str) -> bool:
    """Whether a USAGE key is a customer's usage billed on the Distributor's direct invoice (`usage_key`)."""
    return DIRECT_USAGE in key


DIRECT_USAGE = "#direct#"
STATEMENTS_OF_WORK = "SOW"  # partner#sow_ref -> the milestones billed on it
SUPPORT_HOURS = "SUPPORTHOURS"  # partner#quarter -> hours used
CREDIT_NOTE_HOLDS = "CREDITNOTEHOLD"  # hold id -> a credit note above the limit waiting for approval (credit_notes)
LINE_CREDITS = "LINECREDIT"  # invoice#number -> what the ERP's credit notes and returns credited of the line
DISPUTED_LINES = "INVOICEDISPUTELINE"  # invoice#number -> the last dispute on it and what it credited (disputes)
AWAITING_DELIVERY = "AWAITINGDELIVERY"  # partner#order_ref -> shipped lines billed on delivery, not delivered yet
SHIPMENTS = "SHIPMENT"  # partner#order_ref#identity -> the shipment's events and what was billed for it (PA-10.1)
CASE_MARKERS = "BILLINGCASE"  # ERP event id#category -> the exception opened for it (one per event and category)


class SettledEvent(TypedDict):
    """The BILLED marker of an ERP event (schemas: what billing produced for it); its absence is what lets it bill."""

    erp_event_id: str
    event_id: str
    detail_type: str
    reason: str | None
    line_ids: list[str]
    case_ids: list[str]
    settled_at: str


def billed_put(settled: SettledEvent) -> Put:
    """The once-only guard: written must_be_absent in the event's commit, so a second delivery conflicts."""
    return Put(BILLED, settled["erp_event_id"], dict(settled), must_be_absent=True, conflict_detail="already billed")


def settled_event(rt: Runtime, tenant_id: str, erp_event_id: str) -> SettledEvent | None:
    """What an ERP event was settled as, or None while it is not."""
    stored = rt.store.get(tenant_id, BILLED, erp_event_id)
    return cast(SettledEvent, stored.data) if stored else None


def invoice_put(header: dict[str, Any], version: int | None) -> Put:
    return put_over(
        INVOICES,
        header["invoice_id"],
        header,
        version,
        conflict_detail=f"invoice {header['invoice_id']} changed meanwhile; read it again",
        lookup=(f"{INVOICES}#{header['status']}", f"{header['period']}#{header['partner_id']}#{header['invoice_id']}"),
    )


def renewal_put(subscription: Mapping[str, Any], entry: Mapping[str, Any]) -> Put:
    """A subscription's renewal as the KPIs read it, by the first day of its renewed term (`RENEWALS`), written in the
    commit that records or settles it: a KPI read pages the renewals of its months, not every subscription."""
    key = f"{entry['renewed_from']}#{subscription['subscription_id']}"
    fields = ("renewed_from", "status", "decision_id", "annual_value")
    return Put(RENEWALS, key, {"subscription_id": subscription["subscription_id"],
                               "partner_id": subscription["partner_id"], **{k: entry[k] for k in fields}})


def subscription_put(subscription: dict[str, Any], stored: Stored | None) -> Put:
    """Listed by partner (GET /v1/billing/subscriptions?partner_id=, a partner key's own)."""
    lookup = (f"{SUBSCRIPTIONS}#{subscription['partner_id']}", subscription["subscription_id"])
    return put_over(SUBSCRIPTIONS, subscription["subscription_id"], subscription, stored, lookup=lookup)


def usage_of_months(rt: Runtime, tenant_id: str, months: list[str]) -> list[Stored]:
    """The usage records of `months`, with their keys (`direct_usage` reads one): through their month pointers, a
    page of 100 pointers and its records in one batch at a time, once the tenant's mark says every record has one;
    before that (a tenant from before the pointers, until `revgov maintenance backfill-usage-months`), every usage
    record of the tenant, filtered."""
    if rt.store.get(tenant_id, USAGE_MONTHS, USAGE_MONTHS_COMPLETE) is None:
        return [item for item in toolkit.pages(rt.store, tenant_id, USAGE) if item.data.get("period") in months]
    found: dict[str, Stored] = {}
    for month in months:
        pointers = iter(toolkit.pages(rt.store, tenant_id, USAGE_MONTHS, prefix=f"{month}#"))
        while batch := [p.data["usage_key"] for p in islice(pointers, 100)]:
            stored = rt.store.get_many([(tenant_id, USAGE, key) for key in batch])
            found |= {ref[2]: item for ref, item in stored.items()}
    return [found[key] for key in sorted(found)]  # in key order, as the tenant's records are read


def partner_subscriptions(rt: Runtime, tenant_id: str, partner_id: str) -> Iterator[Stored]:
    """One partner's subscriptions, a page of its own lookup at a time (`subscription_put`; eventually consistent)."""
    return toolkit.lookup_pages(rt.store, tenant_id, f"{SUBSCRIPTIONS}#{partner_id}")


def line_key(line: Mapping[str, Any]) -> str:
    return f"{line['invoice_id']}#{int(line['number']):05d}"


def fact_put(invoice: dict[str, Any], line: dict[str, Any]) -> Put:
    """What rebates and KPIs read: one sales fact per line, listed by invoice month."""
    fact = core.sales_fact(line, invoice, event_id=line["event_ids"][-1])
    return Put(SALES_FACTS, line["line_id"], fact, lookup=(f"{SALES_FACTS}#{invoice['period']}", line["line_id"]))


def sees_invoice(who: Principal, header: Mapping[str, Any]) -> bool:
    """Object-level check of an invoice: a partner key sees only its own invoices, and never the Distributor's direct
    invoice to a customer it referred (PA-8.1 / CPA-8.1): that is the customer's invoice, and the partner reads of it
    only what its commission statement shows. Staff see every invoice of the tenant."""
    if who.role is Role.PARTNER and core.billed_to_customer(header):
        return False
    return who.sees_partner(header["partner_id"])


def load_invoice(rt: Runtime, tenant_id: str, invoice_id: str) -> tuple[dict[str, Any], int]:
    stored = rt.store.get(tenant_id, INVOICES, invoice_id)
    if stored is None:
        raise NotFound(f"no invoice {invoice_id}")
    return stored.data, stored.version


def invoice_lines(rt: Runtime, tenant_id: str, invoice_id: str) -> list[dict[str, Any]]:
    return [item.data for item in toolkit.pages(rt.store, tenant_id, LINES, prefix=f"{invoice_id}#")]


def line_of(rt: Runtime, tenant_id: str, invoice_id: str, number: int) -> Stored | None:
    return rt.store.get(tenant_id, LINES, f"{invoice_id}#{number:05d}")


def list_invoices(
    rt: Runtime, tenant_id: str, *, status: str, period: str | None, limit: int, cursor: str | None
) -> Page:
    return rt.store.lookup(
        tenant_id, f"{INVOICES}#{status}", limit=limit, cursor=cursor, prefix=f"{period}#" if period else ""
    )


def invoices_in(rt: Runtime, tenant_id: str, *, status: str, period: str) -> Iterator[Stored]:
    """Every invoice of `period` with `status`, page by page (the index may lag: re-read an item to act on it)."""
    return toolkit.lookup_pages(rt.store, tenant_id, f"{INVOICES}#{status}", prefix=f"{period}#", page_size=100)


def draft_invoices(rt: Runtime, tenant_id: str, months: list[str]) -> list[dict[str, Any]]:
    """Billing's invoices of these months still drafts, read fresh in batches of 100 (the index may lag an issue)."""
    ids = [
        str(item.data["invoice_id"])
        for month in months
        for item in invoices_in(rt, tenant_id, status="draft", period=month)
    ]
    fresh: list[dict[str, Any]] = []
    for start in range(0, len(ids), 100):
        found = rt.store.get_many([(tenant_id, INVOICES, i) for i in ids[start : start + 100]])
        fresh += [stored.data for stored in found.values() if stored.data["status"] == "draft"]
    return fresh


def issued_invoices(rt: Runtime, tenant_id: str, *, unpaid_only: bool = False) -> list[dict[str, Any]]:
    """Every issued (finalized) invoice the tenant's partners owe (only those not paid yet: `unpaid_only`), read fresh
    in batches of 100: the index may lag a payment. The Distributor's direct invoices to referred customers are not a
    partner's debt (PA-8.1 / CPA-8.1): not overdue for the partner, not offset against its rebates."""
    issued = toolkit.lookup_pages(rt.store, tenant_id, f"{INVOICES}#finalized")
    listed = [item.data["invoice_id"] for item in issued if not (unpaid_only and item.data.get("paid_on"))]
    fresh: list[dict[str, Any]] = []
    for start in range(0, len(listed), 100):
        found = rt.store.get_many([(tenant_id, INVOICES, i) for i in listed[start : start + 100]])
        fresh += [stored.data for stored in found.values() if stored.data["status"] == "finalized"]
    return [invoice for invoice in fresh
            if not (unpaid_only and invoice.get("paid_on")) and not core.billed_to_customer(invoice)]


def partner_issued_invoices(
    rt: Runtime, tenant_id: str, partner_id: str, *, unpaid_only: bool = False
) -> list[dict[str, Any]]:
    """One partner's issued (finalized) invoices (only those not paid yet: `unpaid_only`), by month: through its month
    pointers (`INVOICE_KEYS`, partner#period: every invoice has one), read fresh in batches of 100, so the reads grow
    with the partner's invoices, not the tenant's (`issued_invoices` is the tenant's, for the sweeps)."""
    listed = [p.data["invoice_id"] for p in toolkit.pages(rt.store, tenant_id, INVOICE_KEYS, prefix=f"{partner_id}#")]
    fresh: list[dict[str, Any]] = []
    for start in range(0, len(listed), 100):
        refs = [(tenant_id, INVOICES, i) for i in listed[start : start + 100]]
        found = rt.store.get_many(refs)
        fresh += [found[ref].data for ref in refs if ref in found and found[ref].data["status"] == "finalized"]
    return [invoice for invoice in fresh if not (unpaid_only and invoice.get("paid_on"))]


def credited_against(rt: Runtime, tenant_id: str, invoice_id: str, number: int) -> core.Credited:
    """What the ERP's credit notes and returns and upheld disputes have credited of one line so far."""
    key = f"{invoice_id}#{number:05d}"
    found = rt.store.get_many([(tenant_id, LINE_CREDITS, key), (tenant_id, DISPUTED_LINES, key)])
    erp_credits = found.get((tenant_id, LINE_CREDITS, key))
    disputed = found.get((tenant_id, DISPUTED_LINES, key))
    return core.credited_of(erp_credits.data if erp_credits else None, disputed.data if disputed else None)


def credited_on_invoice(rt: Runtime, tenant_id: str, invoice_id: str) -> Decimal:
    """What issued credit notes, returns and upheld disputes took back of the invoice's lines, summed (net); a credit
    note waiting for approval is no credit yet (SOP-2.5)."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for collection in (LINE_CREDITS, DISPUTED_LINES):
        for item in toolkit.pages(rt.store, tenant_id, collection, prefix=f"{invoice_id}#"):
            found.setdefault(item.key, {})[collection] = item.data
    return sum((core.credited_of(by.get(LINE_CREDITS), by.get(DISPUTED_LINES)).issued for by in found.values()),
               Decimal("0.00"))  # fmt: skip


def line_credits_put(key: str, record: dict[str, Any], stored: Stored | None, line_id: str) -> Put:
    """What the ERP's credit notes and returns credited of a line, over what was read: a concurrent credit conflicts."""
    return put_over(LINE_CREDITS, key, record, stored, conflict_detail=f"line {line_id} was credited meanwhile")
