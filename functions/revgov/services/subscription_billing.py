"""Subscription billing as a lifecycle: the monthly billing run, the month's reconciliation, the partner's view.

Each active subscription is charged in advance for every Billing Month (PA-10.2, CPA-10.2) by a scheduled run
(`events/schedules.json`, `subscription_billing_run`). The activation charges its own month prorated (SOP-2.3);
the run charges every later month it is active, once: a CHARGE marker per subscription and month is written with
must_be_absent in the same commit as the line and the subscription record, so a rerun, a retry or a concurrent run
changes nothing. A subscription cancelled with effect during a month not charged yet is charged for the month and
credited for the unused full days in the same commit, the credit referencing the charge (PA-10.4, SOP-2.4); a credit
above the credit note limit is held for finance instead (SOP-2.5, SOP-8.1: services.credit_notes).
After a month, its subscription lines are reconciled with the subscription records (SOP-2.2, COP-2.2); a mismatch
is an exception for finance. The arithmetic is in the pure core (domain/billing/).

A partner held by an unresolved compliance screening match is not charged (PA-2.8 "no quote, order or incentive may be
processed for the Partner while the match is unresolved"; CPA-2.8 "no quote, order, payment or incentive"; PA-13.2
"Orders already accepted are fulfilled unless the reason is (b)"): its months stay due, with one exception in the
screening category (Legal) per partner and month, and the first run after Legal files a clear screening charges each
for its own Billing Month, as a held ERP event is billed when replayed. A terminated partner's months stay held
without a new exception: Legal's matter ended with the termination (PA-13.3).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from ..domain import billing as core
from ..domain.access import Principal, Role
from ..domain.billing import BillingPolicy, ServicePeriod
from ..domain.catalog import CatalogItem
from ..domain.errors import ConcurrentUpdate, Conflict, NotFound
from ..domain.money import format_money
from ..domain.partners import screening
from ..domain.rules import Rule
from ..domain.tenants import Tenant
from ..domain.time import instant, parse_day, period_of
from ..ports import Put, Stored
from ..runtime import Runtime
from . import billing, credit_notes, partner_repository, tenants, toolkit
from .catalog import tenant_catalog

CHARGES = "SUBCHARGE"  # subscription#month -> the line that charged it; the once-only guard of the run
RUN = "subscription.billing_run"  # how the run's postings are named in audit records and lines
_ATTEMPTS = 12


def _book(rt: Runtime, tenant: Tenant) -> BillingPolicy | None:
    try:
        book = BillingPolicy.from_policy(tenant.policy)
    except (KeyError, ValueError):
        return None
    return replace(book, catalog=tenant_catalog(rt, tenant.tenant_id, tenant.policy))  # the imported one, if any


def subscriptions(rt: Runtime, tenant_id: str) -> Iterator[Stored]:
    return toolkit.pages(rt.store, tenant_id, billing.SUBSCRIPTIONS)


# --- the billing run ----------------------------------------------------------------------------------------------
def run(rt: Runtime, tenant_id: str, *, through: str | None = None) -> dict[str, int]:
    """Charge every subscription for each month up to `through` (default: the current month) it is due for."""
    tenant, _ = tenants.load_tenant(rt, tenant_id)
    book = _book(rt, tenant)
    if book is None:
        return {"subscriptions": 0, "charged": 0}
    through = through or period_of(instant(rt.clock.now_iso()).date())
    seen = charged = 0
    for stored in subscriptions(rt, tenant_id):
        seen += 1
        for month in core.months_due(stored.data, through):
            charged += charge_month(rt, tenant, book, stored.key, month)
    return {"subscriptions": seen, "charged": charged}


def charge_month(rt: Runtime, tenant: Tenant, book: BillingPolicy, subscription_id: str, month: str) -> int:
    """Charge one subscription for one month in advance, once; 1 if this call charged it, 0 if already charged."""
    for _ in range(_ATTEMPTS):
        stored = rt.store.get(tenant.tenant_id, billing.SUBSCRIPTIONS, subscription_id)
        if stored is None or month not in core.months_due(stored.data, month):
            return 0
        if _held_for_screening(rt, tenant, book, stored.data["partner_id"], month):
            return 0
        try:
            _commit_charge(rt, tenant, book, stored, month)
        except Conflict:
            if rt.store.get(tenant.tenant_id, CHARGES, f"{subscription_id}#{month}") is not None:
                return 0  # another run charged it meanwhile
            continue  # the invoice or the subscription moved: read again
        return 1
    raise ConcurrentUpdate(f"subscription {subscription_id} {month} lost the race {_ATTEMPTS} times")


def _held_for_screening(rt: Runtime, tenant: Tenant, book: BillingPolicy, partner_id: str, month: str) -> bool:
    """The partner is held by an unresolved screening match: the month is not charged (it stays due) and one exception
    per partner and month asks Legal, citing the screening rule (SOP-4.1 / COP-4.1 routing). A terminated partner's
    months stay held without one: Legal's matter ended with the termination (PA-2.8 "A confirmed match is grounds
    for immediate termination under PA-13.3"), and a month-keyed exception would ask Legal again every month."""
    partner = partner_repository.record(rt.store, tenant.tenant_id, partner_id)
    hold = screening.held_by(tenant.policy, partner) if partner is not None else None
    rule = screening.rule(tenant.policy)
    if hold is None or rule is None:
        return False
    if partner is not None and partner.get("status") == "terminated":
        return True
    posting = _posting(rt, tenant, book, f"screening-hold:{partner_id}:{month}", partner_id)
    billing.open_exception(
        posting, rule["category"],
        f"{month}: the partner's subscriptions are held, not charged: its compliance screening of "
        f"{hold['screened_on']} is a {hold['outcome']}; no order or payment is processed until Legal resolves it "
        f"({hold['clause']}); the month is charged by the first billing run after a clear screening",
        partner_id=partner_id, rules=(Rule.of(rule),), context={"month": month, "screened_on": hold["screened_on"]},
    )  # fmt: skip
    if posting.changes.puts:
        try:
            rt.commit(tenant.tenant_id, posting.changes)
        except Conflict:  # a concurrent run opened it
            pass
    return True


def _commit_charge(rt: Runtime, tenant: Tenant, book: BillingPolicy, stored: Stored, month: str) -> None:
    sub = stored.data
    charged = core.charge_in_advance(sub, month)
    if charged is None:  # pragma: no cover - months_due starts at the activation month
        return
    posting = _posting(rt, tenant, book, f"{sub['subscription_id']}:{month}", sub["partner_id"])
    item = book.subscription_item(sub)
    (line,) = billing.post_lines(
        posting, sub["partner_id"], month, [core.advance_charge_draft(sub, item, month, charged, book)]
    )
    entry = core.charge_entry(line, month)
    entries: dict[str, Any] = {"billed": [*sub.get("billed", []), entry]}
    # the quantity changes known before the month was charged, then the cancellation's credit of the month
    month_charged = _Charged(sub, item, charged[0].period, entry)
    adjusted, held = _adjust_for_changes(posting, month_charged)
    credited, kept = _credit_cancellation(posting, month_charged)
    held += kept
    if adjusted:
        entries["adjusted"] = [*sub.get("adjusted", []), *(core.posted_against_entry(x) for x in adjusted)]
    if credited:
        entries["credited"] = [*sub.get("credited", []), *map(core.posted_against_entry, credited)]
        entries["credits"] = [*sub.get("credits", []), *(c["line_id"] for c in credited)]
    if held:  # SOP-8.1: the run is an automated workflow; credits above the limit wait for finance
        entries["held"] = [*sub.get("held", []), *held]
    billing.stage_invoices(posting)
    posting.changes.puts += [
        Put(
            CHARGES,
            f"{sub['subscription_id']}#{month}",
            {"subscription_id": sub["subscription_id"], "month": month, "line_id": line["line_id"]},
            must_be_absent=True,
            conflict_detail="already charged for the month",
        ),
        billing.subscription_put({**sub, **entries}, stored),
    ]
    rt.commit(tenant.tenant_id, posting.changes)


def _posting(rt: Runtime, tenant: Tenant, book: BillingPolicy, name: str, partner_id: str) -> billing.Posting:
    """The run's own posting (no ERP event behind it): named `name`, for one partner's lines and exceptions."""
    now = rt.clock.now_iso()
    return billing.Posting(rt, tenant, book, RUN, name, name, now, {"partner_id": partner_id}, now)


@dataclass(frozen=True)
class _Charged:
    """A subscription's month just charged in advance: the record, its price-list item, the period and charge entry."""

    sub: dict[str, Any]
    item: CatalogItem | None
    period: ServicePeriod
    entry: dict[str, Any]


_Posted = tuple[list[dict[str, Any]], list[dict[str, Any]]]  # the lines posted, the credits held for approval


def _adjust_for_changes(posting: billing.Posting, charged: _Charged) -> _Posted:
    """Each quantity change taking effect inside the charged month after its first day, prorated both ways against
    the month's charge; a reduction above the credit note limit is held for finance."""
    sub, entry = charged.sub, charged.entry
    adjusted: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []
    for change, prorated in core.changes_within(sub, charged.period):
        before, after = int(change["from_quantity"]), int(change["to_quantity"])
        draft = core.quantity_change_draft(
            sub, charged.item, core.unit_cost_of(sub), before, after, prorated, posting.book, entry["line_id"]
        )
        lines, kept = credit_notes.post_or_hold(posting, sub, draft, entry)
        adjusted, held = adjusted + lines, held + kept
    return adjusted, held


def _credit_cancellation(posting: billing.Posting, charged: _Charged) -> _Posted:
    """A subscription cancelled with effect during the month charged: the unused full days credited against the
    charge (PA-10.4, SOP-2.4), or held for finance above the credit note limit (SOP-2.5)."""
    sub, entry = charged.sub, charged.entry
    if not sub.get("cancelled_on"):
        return [], []
    monthly = core.monthly_price_in_force(sub, charged.period.start)
    credit = core.cancellation_credit(monthly, parse_day(sub["cancelled_on"]), charged.period)
    if credit is None:
        return [], []
    name, family, rules = core.priced_as(sub, charged.item, posting.book)
    draft = core.cancellation_draft(
        sub,
        credit,
        name=name,
        family=family,
        effective_on=sub["cancelled_on"],
        unit_price=core.unit_price_in_force(sub, charged.period.start),
        rules=(*rules, posting.book.cancellation),
        order_ref=sub.get("order_ref"),
        references_line=entry["line_id"],
        detail={
            "subscription_id": sub["subscription_id"],
            "monthly_price": format_money(monthly),
            "days": credit.days,
            "days_in_month": credit.divisor,
        },
    )
    return credit_notes.post_or_hold(posting, sub, draft, entry)


# --- reconciliation (SOP-2.2) --------------------------------------------------------------------------------------
def reconcile(rt: Runtime, tenant_id: str, period: str) -> list[dict[str, Any]]:
    """The month's subscription lines against the subscription records; each partner with a difference gets one
    exception for finance (once per partner and month), naming every subscription that differs."""
    tenant, _ = tenants.load_tenant(rt, tenant_id)
    book = _book(rt, tenant)
    if book is None:
        return []
    records = [s.data for s in subscriptions(rt, tenant_id) if s.data.get("status") != "pending_activation"]
    mismatches = core.reconcile(records, _month_lines(rt, tenant_id, records, period), period)
    by_partner: dict[str, list[core.Mismatch]] = {}
    for mismatch in mismatches:
        by_partner.setdefault(mismatch.partner_id, []).append(mismatch)
    for partner_id, found in sorted(by_partner.items()):
        marker = f"reconciliation:{partner_id}:{period}"
        now = rt.clock.now_iso()
        posting = billing.Posting(
            rt, tenant, book, "subscription.reconciliation", marker, marker, now, {"partner_id": partner_id}, now
        )
        difference = sum((m.invoiced - m.expected for m in found), Decimal(0))
        billing.open_exception(
            posting,
            book.mismatch_category,
            f"{period}: subscription lines differ from the subscription records by {format_money(difference)} "
            f"({len(found)} subscription(s)); subscription lines must match the active subscription records",
            partner_id=partner_id,
            rules=(book.reconciliation,),
            context={"period": period, "mismatches": [m.as_dict() for m in found[:50]]},
        )
        if posting.changes.puts:
            try:
                rt.commit(tenant_id, posting.changes)
            except Conflict:  # opened by a concurrent reconciliation
                pass
    return [m.as_dict() for m in mismatches]


def _month_lines(rt: Runtime, tenant_id: str, records: list[dict[str, Any]], period: str) -> list[dict[str, Any]]:
    """Every line of the month's invoices, and the lines the records say they posted elsewhere for the month."""
    lines: dict[str, dict[str, Any]] = {}
    for status in ("draft", "finalized"):
        for item in billing.invoices_in(rt, tenant_id, status=status, period=period):
            for line in billing.invoice_lines(rt, tenant_id, item.data["invoice_id"]):
                lines[line["line_id"]] = line
    for record in records:
        for entry in [*record.get("billed", []), *record.get("credited", []), *record.get("adjusted", [])]:
            if entry.get("month", core.charged_month(entry)) == period and entry["line_id"] not in lines:
                invoice_id, number = entry["line_id"].rsplit(".", 1)
                stored = billing.line_of(rt, tenant_id, invoice_id, int(number))
                if stored is not None:
                    lines[entry["line_id"]] = stored.data
    return list(lines.values())


# --- the partner's subscriptions ------------------------------------------------------------------------------------
def view(record: dict[str, Any]) -> dict[str, Any]:
    """A subscription as its partner and staff see it: terms, status, and per month what was charged and credited."""
    months: dict[str, dict[str, Any]] = {}
    for entry in record.get("billed", []):
        month = core.charged_month(entry)
        months.setdefault(month, {"month": month, "charges": [], "credits": []})["charges"].append(
            {k: entry.get(k) for k in ("line_id", "invoice_id", "amount", "service_period")}
        )
    for entry in [*record.get("credited", []), *record.get("adjusted", [])]:
        section = "credits" if entry["amount"].startswith("-") else "charges"
        months.setdefault(entry["month"], {"month": entry["month"], "charges": [], "credits": []})[section].append(
            {k: entry.get(k) for k in ("line_id", "invoice_id", "amount", "service_period", "references_line")}
        )
    for entries in months.values():
        net = sum((Decimal(x["amount"]) for x in [*entries["charges"], *entries["credits"]] if x["amount"]), Decimal(0))
        entries["net"] = format_money(net)
    return {
        "subscription_id": record["subscription_id"],
        "partner_id": record["partner_id"],
        "status": record["status"],
        "sku": record.get("sku"),
        "quantity": record.get("quantity"),
        "monthly_price": record.get("monthly_price"),
        "activated_on": record.get("activated_on"),
        "cancelled_on": record.get("cancelled_on"),
        "quantity_changes": [
            {k: c[k] for k in ("effective_on", "from_quantity", "to_quantity")} for c in record.get("changes") or []
        ],
        "order_ref": record.get("order_ref"),
        "channel": record.get("channel"),
        "months": [months[m] for m in sorted(months)],
        "renewals": [{k: r.get(k) for k in _RENEWAL_FIELDS} for r in record.get("renewals") or []],
    }


_RENEWAL_FIELDS = ("decision_id", "renewed_from", "term_months", "term_end", "unit_price", "previous_unit_price",
                   "annual_value", "status", "order_ref")


def list_subscriptions(
    rt: Runtime, who: Principal, *, partner_id: str | None, limit: int, cursor: str | None
) -> dict[str, Any]:
    """Subscriptions of the tenant, or of one partner; a partner key sees only its own, whatever it asks."""
    wanted = who.partner_id if who.role is Role.PARTNER else partner_id
    if wanted is None:
        page = rt.store.query(who.tenant_id, billing.SUBSCRIPTIONS, limit=limit, cursor=cursor)
    else:
        page = rt.store.lookup(who.tenant_id, f"{billing.SUBSCRIPTIONS}#{wanted}", limit=limit, cursor=cursor)
    items = [view(s.data) for s in page.items if s.data.get("status") != "pending_activation"]
    return {"items": items, "next_cursor": page.next_cursor}


def get_subscription(rt: Runtime, who: Principal, subscription_id: str) -> dict[str, Any]:
    stored = rt.store.get(who.tenant_id, billing.SUBSCRIPTIONS, subscription_id)
    if (
        stored is None
        or stored.data.get("status") == "pending_activation"
        or not who.sees_partner(stored.data["partner_id"])
    ):
        raise NotFound(f"no subscription {subscription_id}")
    return view(stored.data)
