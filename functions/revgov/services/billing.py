"""Billing: every ERP event becomes lines on the partner's draft invoice for its month, exactly once.

One use case per detail-type reads what it needs, decides with the pure core (domain/billing.py) and returns an
`Outcome`; `bill_erp_event` commits the lines, the invoice header, the sales facts, the exceptions, the audit
records and the event-log entry together. What makes it once: a BILLED marker per ERP event id, written with
must_be_absent in that same commit. A lost race (another delivery of the event, another line on the same invoice)
is a Conflict: read again and decide again.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from .. import schemas
from ..domain import audience
from ..domain import billing as core
from ..domain.access import Principal, Role
from ..domain.audit import AuditEntry
from ..domain.billing import BillingPolicy, LineDraft, ServicePeriod
from ..domain.errors import ConcurrentUpdate, Conflict, MalformedRequest, NotFound, RevgovError, RuleViolation
from ..domain.money import format_money, parse_money, round_money
from ..domain.rules import Rule
from ..domain.tenants import Tenant
from ..domain.time import instant, next_period, parse_day, period_of
from ..ports import Changes, Delete, DomainEvent, Page, Put, Stored
from ..runtime import Runtime
from . import cases, credit_notes, erp, events, partners, tenants
from .catalog import imported_catalog

BILLED = "BILLED"  # ERP event id -> what billing it produced; the once-only guard
INVOICES = "INVOICE"
INVOICE_KEYS = "INVOICEKEY"  # partner#period -> the invoice of that month
LINES = "INVOICELINE"  # invoice#number -> line
SALES_FACTS = "SALESFACT"
SUBSCRIPTIONS = "SUBSCRIPTION"
USAGE = "USAGE"  # partner#metric#period -> the month's metered quantity and what was invoiced for it
STATEMENTS_OF_WORK = "SOW"  # partner#sow_ref -> the milestones billed on it
SUPPORT_HOURS = "SUPPORTHOURS"  # partner#quarter -> hours used
LINE_CREDITS = "LINECREDIT"  # invoice#number -> what the ERP's credit notes and returns credited of the line
DISPUTED_LINES = "INVOICEDISPUTELINE"  # invoice#number -> the last dispute on it and what it credited (disputes)
CASE_MARKERS = "BILLINGCASE"  # ERP event id#category -> the exception opened for it (one per event and category)
ACTOR = "system:billing"
_ATTEMPTS = 12


# --- partners (services.partners owns them) -------------------------------------------------------------------------
def load_partner(rt: Runtime, tenant_id: str, partner_id: str) -> dict[str, Any] | None:
    try:
        return partners.load_partner(rt, tenant_id, partner_id)[0]
    except NotFound:
        return None


def entitlement(posting: Posting, partner_id: str, name: str, day: str) -> dict[str, Any]:
    """`{entitled, value, reason, rule_id, clause}` of the partner on that day (its tier, certifications, status)."""
    try:
        return partners.entitlement(posting.rt, posting.tenant_id, partner_id, name, f"{day}T00:00:00Z")
    except NotFound:
        return {"entitled": False, "value": None, "reason": f"no tier grants {name}", "rule_id": None, "clause": None}


# --- the unit of work of one event ---------------------------------------------------------------------------------
@dataclass
class Outcome:
    status: str  # processed | parked | failed
    reason: str | None = None
    done: bool = True  # write the BILLED guard: this event is settled for good
    posted: bool = False  # a line was posted for it (closes its invoice-SLA watch)
    settles_sla: bool = False  # no line will ever be due for it (e.g. out of scope)


@dataclass
class Posting:
    """One ERP event being billed: under which policy, what it reads, and what its commit will hold."""

    rt: Runtime
    tenant: Tenant
    book: BillingPolicy
    detail_type: str
    event_id: str
    erp_event_id: str
    occurred_at: str
    data: dict[str, Any]
    now: str
    changes: Changes = field(default_factory=Changes)
    invoices: dict[str, tuple[dict[str, Any], int | None]] = field(default_factory=dict)
    by_month: dict[str, str] = field(default_factory=dict)  # partner#period asked -> invoice id used
    touched: set[str] = field(default_factory=set)
    lines: list[dict[str, Any]] = field(default_factory=list)  # posted or re-rated, in order
    case_ids: list[str] = field(default_factory=list)

    @property
    def tenant_id(self) -> str:
        return self.tenant.tenant_id

    def get(self, collection: str, key: str) -> Stored | None:
        return self.rt.store.get(self.tenant_id, collection, key)


def bill_erp_event(rt: Runtime, bus_event: dict[str, Any]) -> dict[str, Any]:
    """The handler's use case. Business problems become exceptions; a poison event raises (retried, then DLQ)."""
    try:
        detail_type, detail = _validated(rt, bus_event)
        tenant, _ = tenants.load_tenant(rt, detail["tenant_id"])
        book = _billing_policy(tenant)  # its catalog is the policy's price list ...
        imported = imported_catalog(rt, tenant.tenant_id)
        if imported is not None:  # ... unless a catalog was imported
            book = replace(book, catalog=imported)
        for attempt in range(_ATTEMPTS):
            if attempt:
                time.sleep(random.uniform(0, min(0.2, 0.01 * 2**attempt)))  # noqa: S311 - jitter, not a secret
            posting = Posting(
                rt,
                tenant,
                book,
                detail_type,
                detail["event_id"],
                detail["erp_event_id"],
                detail["occurred_at"],
                detail["data"],
                rt.clock.now_iso(),
            )
            settled = posting.get(BILLED, posting.erp_event_id)
            if settled is not None:
                answer = _answer_duplicate(posting, settled.data)
            else:
                try:
                    partner = load_partner(rt, tenant.tenant_id, posting.data["partner_id"])
                    outcome = _implausible(posting, partner) if partner else _unknown_partner(posting)
                    if outcome is None and partner:
                        outcome = USE_CASES[detail_type](posting, partner)
                    _commit(posting, outcome)
                except Conflict:
                    continue  # someone else moved what this decision read: read again
                answer = {"event_id": posting.event_id, "status": outcome.status, "reason": outcome.reason}
            if detail_type == "subscription.activated":
                _release_parked(rt, tenant.tenant_id, detail["data"]["subscription_id"])
            return answer
        raise ConcurrentUpdate(f"event {detail.get('event_id')} lost the race {_ATTEMPTS} times; it will be retried")
    except Exception as exc:
        _record_failure(rt, bus_event, exc)
        raise


_POLICIES: dict[str, tuple[Tenant, BillingPolicy]] = {}  # tenant id -> (the shared Tenant, its billing policy)


def _billing_policy(tenant: Tenant) -> BillingPolicy:
    """The tenant's billing policy, built once per profile: `load_tenant` hands out one frozen Tenant while the stored
    profile is unchanged, so the same object means the same policy."""
    cached = _POLICIES.get(tenant.tenant_id)
    if cached is not None and cached[0] is tenant:
        return cached[1]
    try:
        book = BillingPolicy.from_policy(tenant.policy)
    except (KeyError, ValueError) as exc:
        raise RuleViolation(f"the tenant's billing policy cannot be used: {exc}") from exc
    _POLICIES[tenant.tenant_id] = (tenant, book)
    return book


def _validated(rt: Runtime, bus_event: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The event's detail-type and detail, validated against its bus schema unless it is, field for field, the event
    intake stored (`erp.INBOUND`) after verifying its signature and validating it: that one is validated once, where
    the untrusted input entered. Anything else on the bus (put there behind the webhook's back) is validated here."""
    detail_type = bus_event.get("detail-type")
    if bus_event.get("source") != erp.SOURCE or detail_type not in USE_CASES:
        raise MalformedRequest(f"not an ERP event this handler bills: {bus_event.get('source')} {detail_type}")
    if not _as_received(rt, bus_event):
        schemas.validate(f"events/{detail_type}.schema.json", bus_event, what=f"{detail_type} bus event")
    return str(detail_type), dict(bus_event["detail"])


def _as_received(rt: Runtime, bus_event: dict[str, Any]) -> bool:
    """The bus event is the one intake validated and stored under its tenant and event id (received or replayed)."""
    detail = bus_event.get("detail")
    if not isinstance(detail, dict):
        return False
    tenant_id, event_id = detail.get("tenant_id"), detail.get("event_id")
    if not (isinstance(tenant_id, str) and tenant_id and isinstance(event_id, str) and event_id):
        return False
    stored = rt.store.get(tenant_id, erp.INBOUND, event_id)
    return stored is not None and stored.data == {
        "source": bus_event.get("source"),
        "detail-type": bus_event.get("detail-type"),
        "detail": detail,
    }


def _record_failure(rt: Runtime, bus_event: dict[str, Any], exc: Exception) -> None:
    reason = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, RevgovError):
        reason = "; ".join([exc.detail, *(f"{e.path}: {e.message}" for e in exc.errors[:5])])
    try:
        events.record(rt, bus_event, status="failed", reason=reason[:1000])
    except Exception:  # noqa: S110 - the event log is best effort here; the redelivery will try again
        pass


def _answer_duplicate(posting: Posting, settled: dict[str, Any]) -> dict[str, Any]:
    """A settled event delivered again: answer what it became; make sure the event log says so."""
    current = posting.get(events.EVENTS, posting.event_id)
    if current is None or current.data.get("status") != "processed":
        posting.rt.store.commit(
            posting.tenant_id, Changes(puts=[_log_put(posting, "processed", settled.get("reason"))])
        )
    return {"event_id": posting.event_id, "status": "processed", "reason": settled.get("reason"), "duplicate": True}


def _log_put(posting: Posting, status: str, reason: str | None) -> Put:
    return events.entry_put(
        posting.rt,
        event_id=posting.event_id,
        source=erp.SOURCE,
        detail_type=posting.detail_type,
        occurred_at=posting.occurred_at,
        status=status,
        reason=reason,
    )


def _commit(posting: Posting, outcome: Outcome) -> None:
    changes = posting.changes
    _close_sla_watch(posting, outcome)
    for invoice_id in sorted(posting.touched):
        header, version = posting.invoices[invoice_id]
        changes.puts.append(_invoice_put(header, version))
        _record_lines(posting, header, [line for line in posting.lines if line["invoice_id"] == invoice_id])
    if outcome.done:
        settled = {
            "erp_event_id": posting.erp_event_id,
            "event_id": posting.event_id,
            "detail_type": posting.detail_type,
            "reason": outcome.reason,
            "line_ids": [line["line_id"] for line in posting.lines],
            "case_ids": posting.case_ids,
            "settled_at": posting.now,
        }
        changes.puts.append(
            Put(BILLED, posting.erp_event_id, settled, must_be_absent=True, conflict_detail="already billed")
        )
    changes.puts.append(_log_put(posting, outcome.status, outcome.reason))
    posting.rt.commit(posting.tenant_id, changes)


# --- invoices: find the draft, append lines ------------------------------------------------------------------------
def _invoice_put(header: dict[str, Any], version: int | None) -> Put:
    return Put(
        INVOICES,
        header["invoice_id"],
        header,
        lookup=(f"{INVOICES}#{header['status']}", f"{header['period']}#{header['partner_id']}#{header['invoice_id']}"),
        must_be_absent=version is None,
        expected_version=version,
        conflict_detail=f"invoice {header['invoice_id']} changed meanwhile; read it again",
    )


def _draft_invoice(posting: Posting, partner_id: str, period: str) -> dict[str, Any]:
    """The partner's draft invoice for the month, or for the first later month whose invoice is not finalized
    (an event found after its month's invoice was issued goes on the next one: the late-event rule)."""
    asked = f"{partner_id}#{period}"
    if asked in posting.by_month:
        return posting.invoices[posting.by_month[asked]][0]
    for _ in range(120):
        pointer = posting.get(INVOICE_KEYS, f"{partner_id}#{period}")
        if pointer is None:
            header = core.new_invoice(
                invoice_id=posting.rt.ids.new("inv"),
                partner_id=partner_id,
                period=period,
                currency=posting.tenant.currency,
                opened_at=posting.now,
            )
            posting.changes.puts.append(
                Put(
                    INVOICE_KEYS,
                    f"{partner_id}#{period}",
                    {"invoice_id": header["invoice_id"], "partner_id": partner_id, "period": period},
                    must_be_absent=True,
                )
            )
            posting.invoices[header["invoice_id"]] = (header, None)
            posting.touched.add(header["invoice_id"])
            break
        invoice_id = pointer.data["invoice_id"]
        if invoice_id not in posting.invoices:
            stored = posting.get(INVOICES, invoice_id)
            if stored is None:
                raise Conflict(f"invoice {invoice_id} is not readable yet")
            posting.invoices[invoice_id] = (stored.data, stored.version)
        header = posting.invoices[invoice_id][0]
        if header["status"] == "draft":
            break
        period = next_period(period)
    else:  # pragma: no cover - ten years of finalized invoices ahead of an event
        raise RuleViolation(f"no draft invoice can take a line for partner {partner_id}")
    posting.by_month[asked] = posting.by_month[f"{partner_id}#{header['period']}"] = header["invoice_id"]
    return header


def _post_lines(posting: Posting, partner_id: str, period: str, drafts: list[LineDraft]) -> list[dict[str, Any]]:
    """Append lines to the partner's draft invoice for `period`; each with its sales fact and audit record."""
    header = _draft_invoice(posting, partner_id, period)
    if header["period"] != period:
        drafts = [replace(d, rules=(*d.rules, posting.book.late_events)) for d in drafts]
    updated, lines = core.add_lines(
        header, drafts, event_id=posting.event_id, erp_event_id=posting.erp_event_id, posted_at=posting.now
    )
    posting.invoices[header["invoice_id"]] = (updated, posting.invoices[header["invoice_id"]][1])
    posting.touched.add(header["invoice_id"])
    for line in lines:
        posting.changes.puts += [Put(LINES, _line_key(line), line, must_be_absent=True), _fact_put(updated, line)]
    posting.lines += lines
    return lines


def _rerate_line(posting: Posting, line_stored: Stored, draft: LineDraft) -> dict[str, Any]:
    invoice_id = line_stored.data["invoice_id"]
    header = posting.invoices[invoice_id][0]
    updated, line = core.rerate_line(
        header, line_stored.data, draft, event_id=posting.event_id, erp_event_id=posting.erp_event_id, at=posting.now
    )
    posting.invoices[invoice_id] = (updated, posting.invoices[invoice_id][1])
    posting.touched.add(invoice_id)
    posting.changes.puts += [
        Put(LINES, _line_key(line), line, expected_version=line_stored.version),
        _fact_put(updated, line),
    ]
    posting.lines.append({**line, "rerated": True})
    return line


def _line_key(line: dict[str, Any]) -> str:
    return f"{line['invoice_id']}#{int(line['number']):05d}"


def _fact_put(invoice: dict[str, Any], line: dict[str, Any]) -> Put:
    """What rebates and KPIs read: one sales fact per line, listed by invoice month."""
    fact = core.sales_fact(line, invoice, event_id=line["event_ids"][-1])
    return Put(SALES_FACTS, line["line_id"], fact, lookup=(f"{SALES_FACTS}#{invoice['period']}", line["line_id"]))


def _record_lines(posting: Posting, invoice: dict[str, Any], lines: list[dict[str, Any]]) -> None:
    """One audit record and one domain event per invoice an event touched, naming each line and the event.

    One per invoice rather than per line keeps a 40-line shipment inside one DynamoDB transaction (100 items).
    """
    if not lines:
        return
    rule_ids = dict.fromkeys(r for line in lines for r in line["rule_ids"])
    clauses = dict.fromkeys(c for line in lines for c in line["clauses"])
    posting.changes.audit.append(
        AuditEntry(
            actor=ACTOR,
            action="invoice_lines.posted",
            subject=invoice["invoice_id"],
            outcome=f"{len(lines)} line(s), total {invoice['total']}",
            inputs={
                "event_id": posting.event_id,
                "erp_event_id": posting.erp_event_id,
                "detail_type": posting.detail_type,
                "partner_id": invoice["partner_id"],
                "lines": [
                    {
                        "line_id": line["line_id"],
                        "kind": line["kind"],
                        "sku": line["sku"],
                        "quantity": line["quantity"],
                        "amount": line["amount"],
                        "service_period": line["service_period"],
                        "references_line": line["references_line"],
                        "rerated": bool(line.get("rerated")),
                    }
                    for line in lines
                ],
            },
            policy_version=posting.tenant.policy_version,
            rule_ids=tuple(rule_ids),
            clauses=tuple(clauses),
        )
    )
    posting.changes.events.append(
        DomainEvent(
            "revgov.billing",
            "invoice.lines_posted",
            {
                "invoice_id": invoice["invoice_id"],
                "partner_id": invoice["partner_id"],
                "period": invoice["period"],
                "total": invoice["total"],
                "line_ids": [line["line_id"] for line in lines],
                "source_event_id": posting.event_id,
            },
        )
    )


# --- exceptions and the invoice SLA --------------------------------------------------------------------------------
def _open_exception(
    posting: Posting,
    category: str,
    message: str,
    *,
    partner_id: str | None,
    rules: tuple[Rule, ...] = (),
    context: dict[str, Any] | None = None,
) -> str | None:
    """One exception per event and category, in this commit; None when this event already opened it."""
    marker = f"{posting.erp_event_id}#{category}"
    if posting.get(CASE_MARKERS, marker) is not None:
        return None
    reasons = [{**r.as_dict(), "message": message} for r in rules] or [
        {"rule_id": None, "clause": None, "message": message}
    ]
    case, opened = cases.open_case(
        posting.rt,
        posting.tenant.policy,
        kind="exception",
        category=category,
        subject_kind="erp_event",
        subject_id=posting.event_id,
        requested_by=ACTOR,
        reasons=reasons,
        partner_id=partner_id,
        context={
            **(context or {}),
            "event_id": posting.event_id,
            "erp_event_id": posting.erp_event_id,
            "detail_type": posting.detail_type,
            "message": message,
        },
        policy_version=posting.tenant.policy_version,
    )
    posting.changes.puts += [
        *opened.puts,
        Put(CASE_MARKERS, marker, {"case_id": case["case_id"], "event_id": posting.event_id}, must_be_absent=True),
    ]
    posting.changes.audit += opened.audit
    posting.changes.events += opened.events
    posting.case_ids.append(case["case_id"])
    return str(case["case_id"])


def _fail(
    posting: Posting, category: str, message: str, *, partner_id: str | None, rules: tuple[Rule, ...] = ()
) -> Outcome:
    """Not billable as it stands (unknown partner or SKU, rating failure): an exception; replayable once fixed."""
    case_id = _open_exception(posting, category, message, partner_id=partner_id, rules=rules)
    note = f"; exception {case_id}" if case_id else "; its exception is already open"
    return Outcome("failed", message + note, done=False)


def _close_sla_watch(posting: Posting, outcome: Outcome) -> None:
    """A billable event's line is posted (or it will never be due): stop its SLA clock, and if the line came after
    the SLA, record the breach (once, even if the sweep found it first)."""
    if posting.detail_type not in core.SLA_TRACKED or not (outcome.posted or outcome.settles_sla):
        return
    watch = posting.get(erp.SLA_WATCH, posting.event_id)
    if watch is not None:
        posting.changes.deletes.append(Delete(erp.SLA_WATCH, posting.event_id))
    due = core.sla_due(posting.occurred_at, posting.book.sla_hours)
    if outcome.posted and posting.now > due:
        late_hours = (instant(posting.now) - instant(posting.occurred_at)).total_seconds() / 3600
        _open_exception(
            posting,
            "invoice_sla_breach",
            f"{posting.detail_type} posted {late_hours:.1f} h after it occurred; the invoice SLA is "
            f"{posting.book.sla_hours} h",
            partner_id=posting.data.get("partner_id"),
            rules=(posting.book.sla,),
            context={"due_at": due, "posted_at": posting.now, "line_ids": [x["line_id"] for x in posting.lines]},
        )


def sweep_sla(rt: Runtime, tenant_id: str) -> int:
    """Open an invoice_sla_breach exception for each billable event still without a line past its due time."""
    now = rt.clock.now_iso()
    tenant, _ = tenants.load_tenant(rt, tenant_id)
    try:
        book = BillingPolicy.from_policy(tenant.policy)
    except (KeyError, ValueError):
        return 0
    opened, cursor = 0, None
    while True:
        page = rt.store.lookup(tenant_id, f"{erp.SLA_WATCH}#open", limit=100, cursor=cursor)
        for item in page.items:
            if item.data["due_at"] >= now:
                return opened
            opened += _breach(rt, tenant, book, item.key, now)
        cursor = page.next_cursor
        if not cursor:
            return opened


def _breach(rt: Runtime, tenant: Tenant, book: BillingPolicy, event_id: str, now: str) -> int:
    watch = rt.store.get(tenant.tenant_id, erp.SLA_WATCH, event_id)  # the index may lag: trust only the item
    if watch is None or watch.data["breached"]:
        return 0
    w = watch.data
    posting = Posting(rt, tenant, book, w["detail_type"], event_id, w["erp_event_id"], w["occurred_at"], {}, now)
    case_id = _open_exception(
        posting,
        "invoice_sla_breach",
        f"{w['detail_type']} of {w['occurred_at']} has no invoice line {book.sla_hours} h later (due {w['due_at']})",
        partner_id=w["partner_id"],
        rules=(book.sla,),
        context={"due_at": w["due_at"]},
    )
    breached = {**w, "breached": True, "case_id": case_id}
    posting.changes.puts.append(
        Put(
            erp.SLA_WATCH,
            event_id,
            breached,
            expected_version=watch.version,
            lookup=(f"{erp.SLA_WATCH}#breached", f"{w['due_at']}#{event_id}"),
        )
    )
    try:
        rt.commit(tenant.tenant_id, posting.changes)
    except Conflict:  # the line was posted (or the breach recorded) meanwhile
        return 0
    return 1 if case_id else 0


# --- use cases, one per ERP detail-type ----------------------------------------------------------------------------
def _unknown_partner(posting: Posting) -> Outcome:
    partner_id = posting.data["partner_id"]
    return _fail(
        posting,
        "unknown_partner_or_sku",
        f"partner {partner_id} is not known in this tenant",
        partner_id=partner_id,
        rules=(posting.book.invoicing,),
    )


def _implausible(posting: Posting, partner: dict[str, Any]) -> Outcome | None:
    """An event that cannot be true as sent is held as an exception for the policy's queue, not billed; it can be
    replayed once it has become true (the partner onboarded) or been corrected."""
    book = posting.book
    why = core.implausible(
        posting.detail_type,
        posting.occurred_at,
        posting.data,
        partner.get("status", "active"),
        now=instant(posting.now),
        tolerance=book.future_tolerance,
    )
    if why is None:
        return None
    return _fail(
        posting,
        book.implausible_category,
        f"held, not billed: {why} ({book.plausibility.rule_id}, {book.plausibility.clause})",
        partner_id=partner["partner_id"],
        rules=(book.plausibility,),
    )


def shipment_confirmed(posting: Posting, partner: dict[str, Any]) -> Outcome:
    data, book = posting.data, posting.book
    shipped = parse_day(data["shipped_on"])
    unknown = [x["sku"] for x in data["lines"] if getattr(book.price(x["sku"], shipped), "billing", None) != "shipment"]
    if unknown:
        return _fail(
            posting,
            "unknown_partner_or_sku",
            f"SKU {', '.join(unknown)} is not a shipment item of the price list on {shipped.isoformat()}",
            partner_id=partner["partner_id"],
            rules=(book.invoicing,),
        )
    shipped_on = parse_day(data["shipped_on"])
    _post_lines(posting, partner["partner_id"], period_of(shipped_on), core.shipment_drafts(book, data))
    return Outcome("processed", posted=True)


def subscription_activated(posting: Posting, partner: dict[str, Any]) -> Outcome:
    data, book = posting.data, posting.book
    item = book.price(data["sku"], parse_day(data["activated_on"]))
    if item is None or item.billing != "subscription":
        return _fail(
            posting,
            "unknown_partner_or_sku",
            f"SKU {data['sku']} is not a subscription of the price list on {data['activated_on']}",
            partner_id=partner["partner_id"],
            rules=(book.invoicing,),
        )
    stored = posting.get(SUBSCRIPTIONS, data["subscription_id"])
    parked = stored.data.get("parked", []) if stored else []
    if stored is not None and (stored.data["status"] != "pending_activation" or _not_theirs(posting, stored)):
        return _fail(
            posting,
            "rating_failure",
            f"subscription {data['subscription_id']} is already {stored.data['status']} for partner "
            f"{stored.data['partner_id']}; a second activation is not billed",
            partner_id=partner["partner_id"],
            rules=(book.proration,),
        )
    quantity = Decimal(data["quantity"])
    monthly = item.list_price * quantity
    charge = core.prorate(monthly, parse_day(data["activated_on"]))
    draft = LineDraft(
        kind="subscription",
        description=f"{item.name} x {data['quantity']}, {charge.days}/{charge.divisor} days",
        family=item.family,
        sku=item.sku,
        quantity=quantity,
        unit_price=item.list_price,
        amount=charge.amount,
        cost=round_money(item.unit_cost * quantity * charge.days / charge.divisor),
        service_period=charge.period,
        order_ref=data["order_ref"],
        rules=(item.rule, book.proration),
        detail={
            "subscription_id": data["subscription_id"],
            "monthly_price": format_money(monthly),
            "days": charge.days,
            "days_in_month": charge.divisor,
        },
        channel=data.get("channel") or "resale",
    )
    (line,) = _post_lines(posting, partner["partner_id"], period_of(charge.period.start), [draft])
    subscription = {
        "subscription_id": data["subscription_id"],
        "partner_id": partner["partner_id"],
        "sku": item.sku,
        "quantity": data["quantity"],
        "family": item.family,
        "unit_price": f"{item.list_price:f}",
        "unit_cost": f"{item.unit_cost:f}",
        "monthly_price": format_money(monthly),
        "monthly_cost": format_money(item.unit_cost * quantity),
        "changes": [],
        "activated_on": data["activated_on"],
        "order_ref": data["order_ref"],
        "channel": draft.channel,
        "status": "active",
        "billed": [charge_entry(line, period_of(charge.period.start))],
        "parked": parked,  # released right after this commit (_release_parked)
        "activation_event_id": posting.event_id,
    }
    posting.changes.puts.append(_subscription_put(subscription, stored))
    reason = f"re-applies {len(parked)} event(s) parked for the subscription" if parked else None
    return Outcome("processed", reason, posted=True)


def charge_entry(line: dict[str, Any], month: str) -> dict[str, Any]:
    """What a subscription record keeps of a month charged in advance: the line, its invoice and amount."""
    return {
        "month": month,
        "line_id": line["line_id"],
        "invoice_id": line["invoice_id"],
        "amount": line["amount"],
        "service_period": line["service_period"],
    }


def posted_against_entry(line: dict[str, Any]) -> dict[str, Any]:
    """What a subscription record keeps of a line posted against a month already charged (a cancellation credit, a
    quantity change): the line, its invoice and amount, and the charge it references."""
    return {
        "month": line["service_period"]["start"][:7],
        "line_id": line["line_id"],
        "invoice_id": line["invoice_id"],
        "amount": line["amount"],
        "service_period": line["service_period"],
        "references_line": line["references_line"],
    }


def _release_parked(rt: Runtime, tenant_id: str, subscription_id: str) -> int:
    """Put the events parked for a now active subscription back on the bus, 20 per commit.

    Runs after the activation's commit and again on every redelivery of it, so a crash in between loses nothing.
    """
    released = 0
    while True:
        stored = rt.store.get(tenant_id, SUBSCRIPTIONS, subscription_id)
        if stored is None or stored.data["status"] == "pending_activation" or not stored.data.get("parked"):
            return released
        batch = stored.data["parked"][:20]
        changes = Changes(puts=[_subscription_put({**stored.data, "parked": stored.data["parked"][20:]}, stored)])
        for event_id in batch:
            try:
                again = erp.republish(rt, tenant_id, event_id, f"re-applied after the activation of {subscription_id}")
            except NotFound:  # kept for replay no longer (36 days): nothing left to re-apply
                continue
            changes.puts += again.puts
            changes.events += again.events
        try:
            rt.commit(tenant_id, changes)
        except Conflict:
            continue
        released += len(batch)


def _not_theirs(posting: Posting, stored: Stored) -> bool:
    return bool(stored.data["partner_id"] != posting.data["partner_id"])


def _subscription_put(subscription: dict[str, Any], stored: Stored | None) -> Put:
    """Listed by partner (GET /v1/billing/subscriptions?partner_id=, a partner key's own)."""
    return Put(
        SUBSCRIPTIONS,
        subscription["subscription_id"],
        subscription,
        must_be_absent=stored is None,
        expected_version=stored.version if stored else None,
        lookup=(f"{SUBSCRIPTIONS}#{subscription['partner_id']}", subscription["subscription_id"]),
    )


def _put_over(collection: str, key: str, data: dict[str, Any], stored: Stored | None) -> Put:
    """Write `data` over what was read (`stored`), or as new: either way a concurrent writer makes it a Conflict."""
    return Put(
        collection, key, data, must_be_absent=stored is None, expected_version=stored.version if stored else None
    )


def _park(posting: Posting, stored: Stored | None) -> Outcome:
    """Usage or a cancellation of a subscription not activated yet: kept, and re-applied by its activation."""
    sub_id = posting.data["subscription_id"]
    waiting = (
        stored.data
        if stored
        else {
            "subscription_id": sub_id,
            "partner_id": posting.data["partner_id"],
            "status": "pending_activation",
            "parked": [],
        }
    )
    if posting.event_id not in waiting["parked"]:
        waiting = {**waiting, "parked": [*waiting["parked"], posting.event_id]}
        posting.changes.puts.append(_subscription_put(waiting, stored))
    return Outcome("parked", f"waiting for subscription.activated of {sub_id}; applied when it arrives", done=False)


def subscription_cancelled(posting: Posting, partner: dict[str, Any]) -> Outcome:
    data, book = posting.data, posting.book
    stored = posting.get(SUBSCRIPTIONS, data["subscription_id"])
    if stored is None or stored.data["status"] == "pending_activation":
        return _park(posting, stored)
    sub = stored.data
    if _not_theirs(posting, stored):
        return _fail(
            posting,
            "rating_failure",
            f"subscription {data['subscription_id']} belongs to another partner",
            partner_id=partner["partner_id"],
            rules=(book.cancellation,),
        )
    if sub["status"] == "cancelled":
        return Outcome("processed", f"subscription already cancelled effective {sub['cancelled_on']}; no new credit")
    effective_on = parse_day(data["effective_on"])
    item = book.price(sub["sku"], parse_day(sub["activated_on"]))
    if item is None:  # the subscription was billed from this item; a price list without it is a policy error
        raise RuleViolation(f"SKU {sub['sku']} of subscription {sub['subscription_id']} is not on the price list")
    credited: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []
    for billed in sub["billed"]:
        credit = core.cancellation_credit(
            Decimal(sub["monthly_price"]), effective_on, ServicePeriod.from_dict(billed["service_period"])
        )
        if credit is None:
            continue
        draft = LineDraft(
            kind="credit",
            description=f"Credit: {item.name} after {data['effective_on']}, {credit.days}/{credit.divisor} days",
            family=item.family,
            sku=item.sku,
            quantity=Decimal(sub["quantity"]),
            unit_price=item.list_price,
            amount=-credit.amount,
            cost=-round_money(Decimal(sub["monthly_cost"]) * credit.days / credit.divisor),
            service_period=credit.period,
            order_ref=data.get("order_ref") or sub.get("order_ref"),
            rules=(item.rule, book.cancellation),
            references_line=billed["line_id"],
            detail={
                "subscription_id": sub["subscription_id"],
                "days": credit.days,
                "days_in_month": credit.divisor,
                "monthly_price": sub["monthly_price"],
            },
            channel=sub.get("channel") or "resale",
        )
        lines, kept = credit_notes.post_or_hold(posting, sub, draft, billed)
        credited, held = credited + lines, held + kept
    posting.changes.puts.append(
        _subscription_put(
            {
                **sub,
                "status": "cancelled",
                "cancelled_on": data["effective_on"],
                "credits": [c["line_id"] for c in credited],
                "credited": [*sub.get("credited", []), *(posted_against_entry(c) for c in credited)],
                "held": [*sub.get("held", []), *held],
            },
            stored,
        )
    )
    nothing = None if credited or held else "nothing billed after the effective day; no credit"
    return Outcome("processed", credit_notes.held_note(held) or nothing)


def subscription_changed(posting: Posting, partner: dict[str, Any]) -> Outcome:
    """A quantity change of an active subscription, effective on a day: every month already charged from that day
    on gets the difference prorated both ways (an increase charged from its effective day, PA-10.3; a reduction
    credited for the full days after it, PA-10.4, SOP-2.4), each referencing the month's charge; the months charged
    later are charged at the new quantity. A plan change is a cancellation and an activation."""
    data, book = posting.data, posting.book
    stored = posting.get(SUBSCRIPTIONS, data["subscription_id"])
    if stored is None or stored.data["status"] == "pending_activation":
        return _park(posting, stored)
    sub = stored.data
    problem = None
    effective = data["effective_on"]
    last = (sub.get("changes") or [{}])[-1].get("effective_on")
    if _not_theirs(posting, stored):
        problem = f"subscription {data['subscription_id']} belongs to another partner"
    elif sub["status"] != "active":
        problem = f"subscription {data['subscription_id']} is {sub['status']}; its quantity cannot change"
    elif effective < sub["activated_on"] or (last and effective < last):
        problem = f"a change effective {effective} comes before the activation or the last change ({last})"
    if problem:
        return _fail(posting, "rating_failure", problem, partner_id=partner["partner_id"], rules=(book.proration,))
    before, after = int(sub["quantity"]), int(data["quantity"])
    if before == after:
        return Outcome("processed", f"the quantity is already {after}; nothing to prorate")
    unit = core.unit_price_of(sub)
    item = book.price(sub["sku"], parse_day(sub["activated_on"]))
    unit_cost = Decimal(sub.get("unit_cost") or (item.unit_cost if item else 0))
    posted: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []
    for charge in sub["billed"]:
        prorated = core.quantity_change(
            unit, before, after, parse_day(effective), ServicePeriod.from_dict(charge["service_period"])
        )
        if prorated is None:
            continue
        draft = core.quantity_change_draft(sub, item, unit_cost, before, after, prorated, book, charge["line_id"])
        lines, kept = credit_notes.post_or_hold(posting, sub, draft, charge)  # an increase is never held
        posted, held = posted + lines, held + kept
    change = {"effective_on": effective, "from_quantity": before, "to_quantity": after, "event_id": posting.event_id}
    updated = {
        **sub,
        "quantity": after,
        "monthly_price": format_money(unit * after),
        "monthly_cost": format_money(unit_cost * after),
        "changes": [*(sub.get("changes") or []), change],
        "adjusted": [*(sub.get("adjusted") or []), *(posted_against_entry(x) for x in posted)],
        "held": [*(sub.get("held") or []), *held],
    }
    posting.changes.puts.append(_subscription_put(updated, stored))
    nothing = None if posted or held else "no month charged yet is affected; later months use the quantity"
    return Outcome("processed", credit_notes.held_note(held) or nothing)


def usage_reported(posting: Posting, partner: dict[str, Any]) -> Outcome:
    data, book = posting.data, posting.book
    table = book.usage.get(data["metric"])
    if table is None:
        return _fail(
            posting,
            "rating_failure",
            f"no rate table for metric {data['metric']}",
            partner_id=partner["partner_id"],
            rules=(book.invoicing,),
        )
    sub = posting.get(SUBSCRIPTIONS, data["subscription_id"])
    if sub is None or sub.data["status"] == "pending_activation":
        return _park(posting, sub)
    if _not_theirs(posting, sub):
        return _fail(
            posting,
            "rating_failure",
            f"subscription {data['subscription_id']} belongs to another partner",
            partner_id=partner["partner_id"],
            rules=(table.rule,),
        )
    month = period_of(parse_day(data["usage_date"]))
    key = f"{partner['partner_id']}#{table.metric}#{month}"
    stored = posting.get(USAGE, key)
    usage = (
        stored.data
        if stored
        else {
            "partner_id": partner["partner_id"],
            "metric": table.metric,
            "period": month,
            "quantity": "0",
            "event_ids": [],
            "invoiced": [],
        }
    )
    quantity = Decimal(usage["quantity"]) + Decimal(data["quantity"])
    rating = core.rate_usage(table, quantity)
    cost = round_money(table.unit_cost * rating.units) if table.unit_cost is not None else None
    # Billed in arrears on the next month's invoice; a month re-rated after that invoice was issued is adjusted by
    # the difference on the next draft (SOP-3.4, COP-3.4).
    header = _draft_invoice(posting, partner["partner_id"], next_period(month))
    elsewhere = [x for x in usage["invoiced"] if x["invoice_id"] != header["invoice_id"]]
    here = next((x for x in usage["invoiced"] if x["invoice_id"] == header["invoice_id"]), None)
    billed_before = sum((Decimal(x["amount"]) for x in elsewhere), Decimal(0))
    units_before = sum((Decimal(x["units"]) for x in elsewhere), Decimal(0))
    cost_before = sum((Decimal(x["cost"] or 0) for x in elsewhere), Decimal(0))
    draft = LineDraft(
        kind="usage_adjustment" if elsewhere else "usage",
        description=f"{table.metric}: {core.rated_units(table, quantity)} {table.unit} in {month}",
        family=table.family,
        sku=table.sku,
        quantity=rating.units - units_before,
        unit_price=None,
        amount=rating.amount - billed_before,
        cost=None if cost is None else cost - cost_before,
        service_period=ServicePeriod.month(month),
        order_ref=data["subscription_id"],
        rules=(table.rule, book.invoicing),
        detail={
            "metered_quantity": f"{quantity:f}",
            "rated_units": f"{rating.units:f}",
            "model": table.model,
            "bands": [b.as_dict() for b in rating.bands],
            "month_total": format_money(rating.amount),
            "invoiced_before": format_money(billed_before),
        },
        channel=sub.data.get("channel") or "resale",
    )
    if here is not None:
        line_stored = posting.get(LINES, _line_key(here))
        if line_stored is None:
            raise Conflict("the usage line is not readable yet")
        line = _rerate_line(posting, line_stored, draft)
    elif draft.amount == 0 and elsewhere:
        line = None  # more usage, same rated total: nothing to adjust
    else:
        (line,) = _post_lines(posting, partner["partner_id"], header["period"], [draft])
    invoiced = [x for x in usage["invoiced"] if x is not here]
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
    usage = {
        **usage,
        "quantity": f"{quantity:f}",
        "event_ids": [*usage["event_ids"], posting.event_id],
        "invoiced": invoiced,
    }
    posting.changes.puts.append(_put_over(USAGE, key, usage, stored))
    return Outcome("processed", None if line else "month re-rated to the same total; no adjustment")


def service_completed(posting: Posting, partner: dict[str, Any]) -> Outcome:
    data, book = posting.data, posting.book
    service = book.services.get(data["service"])
    if service is None:
        return _fail(
            posting,
            "unknown_partner_or_sku",
            f"service {data['service']} is not a milestone service of the policy",
            partner_id=partner["partner_id"],
            rules=(book.milestone_rule,),
        )
    percent = book.milestones.get(data["milestone"])
    if percent is None:
        return _fail(
            posting,
            "rating_failure",
            f"milestone {data['milestone']} is not in the schedule ({', '.join(book.milestones)})",
            partner_id=partner["partner_id"],
            rules=(book.milestone_rule,),
        )
    rules: tuple[Rule, ...] = (service.rule, book.milestone_rule)
    if service.entitlement:
        answer = entitlement(posting, partner["partner_id"], service.entitlement, data["accepted_on"])
        if answer["rule_id"]:
            rules += (Rule(answer["rule_id"], answer["clause"]),)
        if not answer["entitled"] and not data.get("change_order_ref"):
            case_id = _open_exception(
                posting,
                "out_of_scope_service",
                f"{service.name} is outside the partner's contracted scope ({answer['reason']}) and has no accepted "
                "change order: not billed",
                partner_id=partner["partner_id"],
                rules=rules,
                context={"service": data["service"], "sow_ref": data["sow_ref"], "milestone": data["milestone"]},
            )
            return Outcome("processed", f"out of contracted scope; exception {case_id}; not billed", settles_sla=True)
    accepted_on = parse_day(data["accepted_on"])
    value = Decimal(data["sow_value"])
    sow_key = f"{partner['partner_id']}#{data['sow_ref']}"
    sow = posting.get(STATEMENTS_OF_WORK, sow_key)
    beyond = core.beyond_statement_of_work(sow.data if sow else None, data["milestone"], percent, value)
    if beyond is not None:
        case_id = _open_exception(
            posting,
            book.sow_category,
            f"not billed: {beyond}",
            partner_id=partner["partner_id"],
            rules=(book.milestone_rule,),
            context={"sow_ref": data["sow_ref"], "milestone": data["milestone"]},
        )
        return Outcome("processed", f"not billed: {beyond}; exception {case_id}", settles_sla=True)
    draft = LineDraft(
        kind="milestone",
        description=f"{service.name}: {data['milestone']} ({percent}% of {data['sow_ref']})",
        family=data["family"],
        sku=None,
        quantity=Decimal(1),
        unit_price=None,
        amount=core.milestone_amount(value, percent),
        cost=None,
        service_period=ServicePeriod.day(accepted_on),
        order_ref=data["sow_ref"],
        rules=rules,
        detail={
            "milestone": data["milestone"],
            "percent": f"{percent:f}",
            "sow_value": format_money(value),
            "change_order_ref": data.get("change_order_ref"),
        },
    )
    (line,) = _post_lines(posting, partner["partner_id"], period_of(accepted_on), [draft])
    billed = core.with_milestone(
        sow.data if sow else None,
        partner_id=partner["partner_id"],
        sow_ref=data["sow_ref"],
        milestone=data["milestone"],
        percent=percent,
        value=value,
        line_id=line["line_id"],
        erp_event_id=posting.erp_event_id,
    )
    posting.changes.puts.append(_put_over(STATEMENTS_OF_WORK, sow_key, billed, sow))
    return Outcome("processed", posted=True)


def support_logged(posting: Posting, partner: dict[str, Any]) -> Outcome:
    data, book = posting.data, posting.book
    answer = entitlement(posting, partner["partner_id"], book.overage_entitlement, data["performed_on"])
    value = answer["value"]
    allowance = Decimal(value) if isinstance(value, int) and not isinstance(value, bool) else Decimal(0)
    performed_on = parse_day(data["performed_on"])
    quarter = core.quarter_of(performed_on)
    key = f"{partner['partner_id']}#{quarter}"
    stored = posting.get(SUPPORT_HOURS, key)
    used = Decimal(stored.data["hours_used"]) if stored else Decimal(0)
    hours = Decimal(data["hours"])
    over = core.overage_hours(used, hours, allowance)
    counter = {
        "partner_id": partner["partner_id"],
        "quarter": quarter,
        "hours_used": f"{used + hours:f}",
        "allowance": f"{allowance:f}",
    }
    posting.changes.puts.append(_put_over(SUPPORT_HOURS, key, counter, stored))
    rules: tuple[Rule, ...] = (book.overage,)
    if answer["rule_id"]:
        rules += (Rule(answer["rule_id"], answer["clause"]),)
    if over == 0:
        return Outcome("processed", f"{used + hours} of {allowance} support hours used in {quarter}")
    if data["severity"] != 1 and not data.get("overage_approved"):
        case_id = _open_exception(
            posting,
            "support_hours_overage",
            f"{over} h beyond the {allowance} h of {quarter} without severity 1 or written approval",
            partner_id=partner["partner_id"],
            rules=rules,
            context={"ticket_id": data["ticket_id"], "overage_hours": f"{over:f}"},
        )
        return Outcome("processed", f"overage not approved; exception {case_id}; not billed")
    draft = LineDraft(
        kind="support_overage",
        description=f"Support overage, ticket {data['ticket_id']}: {over} h beyond {allowance} h in {quarter}",
        family=data["family"],
        sku=book.overage_sku,
        quantity=over,
        unit_price=book.overage_rate,
        amount=round_money(over * book.overage_rate),
        cost=None,
        service_period=ServicePeriod.day(performed_on),
        order_ref=data["ticket_id"],
        rules=rules,
        detail={"severity": data["severity"], "overage_approved": bool(data.get("overage_approved"))},
    )
    _post_lines(posting, partner["partner_id"], period_of(performed_on), [draft])
    return Outcome("processed")


def invoice_paid(posting: Posting, partner: dict[str, Any]) -> Outcome:
    """The ERP recorded the partner's payment of an issued invoice: the invoice keeps the day it was paid, which
    programs with a `paid` basis read (commissions are paid on paid revenue, PA-8.2)."""
    data, book = posting.data, posting.book
    stored = posting.get(INVOICES, data["invoice_id"])
    if stored is None or stored.data["partner_id"] != partner["partner_id"]:
        return _fail(
            posting,
            "rating_failure",
            f"invoice {data['invoice_id']} is not an invoice of partner {partner['partner_id']}",
            partner_id=partner["partner_id"],
            rules=(book.finalization,),
        )
    invoice = stored.data
    if invoice.get("paid_on"):
        return Outcome("processed", f"invoice {invoice['invoice_id']} was already paid on {invoice['paid_on']}")
    try:
        paid = core.mark_paid(
            invoice, paid_on=data["paid_on"], payment_ref=data.get("payment_ref"), rule=book.finalization
        )
    except RuleViolation as why:  # a draft: replayable once it is issued
        return _fail(
            posting, "rating_failure", why.detail, partner_id=partner["partner_id"], rules=(book.finalization,)
        )
    posting.changes.puts.append(_invoice_put(paid, stored.version))
    posting.changes.audit.append(
        AuditEntry(
            actor=ACTOR,
            action="invoice.paid",
            subject=invoice["invoice_id"],
            outcome=f"paid on {data['paid_on']}",
            inputs={
                "event_id": posting.event_id,
                "erp_event_id": posting.erp_event_id,
                "partner_id": invoice["partner_id"],
                "total": invoice["total"],
                "paid_on": data["paid_on"],
                "payment_ref": data.get("payment_ref"),
            },
            policy_version=posting.tenant.policy_version,
            rule_ids=(book.finalization.rule_id,),
            clauses=(book.finalization.clause,),
        )
    )
    posting.changes.events.append(
        DomainEvent(
            "revgov.billing",
            "invoice.paid",
            {
                "invoice_id": invoice["invoice_id"],
                "partner_id": invoice["partner_id"],
                "period": invoice["period"],
                "total": invoice["total"],
                "paid_on": data["paid_on"],
                "source_event_id": posting.event_id,
            },
        )
    )
    return Outcome("processed")


def credit_note_issued(posting: Posting, partner: dict[str, Any]) -> Outcome:
    """The ERP issued a credit note against a line of one of the partner's invoices (a billing error, goodwill, a
    return...): it goes on the partner's draft invoice of the month it was issued, negative, referencing the line
    and stating its reason code (SOP-2.5); rebates count it in the credited line's period (PA-1.2), and a settled
    period is adjusted in the next settlement (PA-7.10)."""
    data = posting.data
    returned = parse_day(data["returned_on"]) if data.get("returned_on") else None
    return _erp_credit(
        posting,
        partner,
        reason=data["reason"],
        ref=data["credit_note_ref"],
        units=int(data.get("quantity") or 0),
        amount=lambda _line, _credited: parse_money(data["amount"]),
        returned_on=returned,
        dated=returned or parse_day(data["issued_on"]),
    )


def return_received(posting: Posting, partner: dict[str, Any]) -> Outcome:
    """The ERP received shipped goods back: a credit note with reason code `return` for the units at the line's net
    unit price, dated the day they came back, so the SPIFF's return window can tell (PA-7.5: "not returned within
    30 days of shipment")."""
    data = posting.data
    returned = parse_day(data["returned_on"])
    units = int(data["quantity"])
    return _erp_credit(
        posting,
        partner,
        reason="return",
        ref=data["rma_ref"],
        units=units,
        amount=lambda line, credited: core.return_amount(line, units, credited),
        returned_on=returned,
        dated=returned,
    )


def credited_against(rt: Runtime, tenant_id: str, invoice_id: str, number: int) -> core.Credited:
    """What the ERP's credit notes and returns and upheld disputes have credited of one line so far."""
    key = f"{invoice_id}#{number:05d}"
    found = rt.store.get_many([(tenant_id, LINE_CREDITS, key), (tenant_id, DISPUTED_LINES, key)])
    erp_credits = found.get((tenant_id, LINE_CREDITS, key))
    disputed = found.get((tenant_id, DISPUTED_LINES, key))
    amount = Decimal(erp_credits.data["credited"]) if erp_credits else Decimal("0.00")
    amount += Decimal(disputed.data["credited"]) if disputed else Decimal("0.00")
    return core.Credited(amount, int(erp_credits.data["units"]) if erp_credits else 0)


def _erp_credit(
    posting: Posting,
    partner: dict[str, Any],
    *,
    reason: str,
    ref: str,
    units: int,
    amount: Callable[[dict[str, Any], core.Credited], Decimal],
    returned_on: Any,
    dated: Any,
) -> Outcome:
    data, rule = posting.data, posting.book.credit_notes
    partner_id = partner["partner_id"]
    invoice = posting.get(INVOICES, data["invoice_id"])
    if invoice is None or invoice.data["partner_id"] != partner_id:
        return _fail(
            posting,
            "rating_failure",
            f"invoice {data['invoice_id']} is not an invoice of partner {partner_id}",
            partner_id=partner_id,
            rules=(rule,),
        )
    number = int(data["line_no"])
    stored = line_of(posting.rt, posting.tenant_id, data["invoice_id"], number)
    if stored is None:
        return _fail(
            posting,
            "rating_failure",
            f"invoice {data['invoice_id']} has no line {number}",
            partner_id=partner_id,
            rules=(rule,),
        )
    line, key = stored.data, f"{data['invoice_id']}#{number:05d}"
    marker = posting.get(LINE_CREDITS, key)
    record = marker.data if marker else {"invoice_id": data["invoice_id"], "line_no": number, "credited": "0.00",
                                         "units": 0, "refs": []}  # fmt: skip
    if ref in record["refs"]:
        return Outcome("processed", f"credit note {ref} is already recorded against line {line['line_id']}")
    credited = credited_against(posting.rt, posting.tenant_id, data["invoice_id"], number)
    credit = amount(line, credited)
    try:
        core.check_erp_credit(line, credit, units, credited, reason=reason, returned_on=returned_on, rule=rule)
    except RuleViolation as why:
        return _fail(posting, "rating_failure", why.detail, partner_id=partner_id, rules=(rule,))
    detail = {"credit_note_ref": ref, "units": units, "returned_on": returned_on and returned_on.isoformat()}
    held = core.credit_note_needs_approval(credit, posting.book)
    if held:  # SOP-2.5 / COP-2.4: above the limit, finance approves it before it is issued
        entry, approval = credit_notes.hold(
            posting.rt,
            posting.tenant,
            posting.book,
            partner_id=partner_id,
            line=line,
            amount=credit,
            reason=reason,
            units=units,
            returned_on=returned_on,
            detail=detail,
            preparer=ACTOR,
            prepared_by=data.get("prepared_by"),
            source={
                "detail_type": posting.detail_type,
                "event_id": posting.event_id,
                "erp_event_id": posting.erp_event_id,
                "ref": ref,
            },
            reserved={"collection": LINE_CREDITS, "key": key},
        )
        posting.changes.puts += approval.puts
        posting.changes.audit += approval.audit
        posting.changes.events += approval.events
    else:
        draft = core.credit_note_draft(
            line, credit, reason=reason, rules=(rule,), detail=detail, units=units, returned_on=returned_on
        )
        _post_lines(posting, partner_id, period_of(dated), [draft])
    posting.changes.puts.append(
        Put(
            LINE_CREDITS,
            key,
            {
                **record,
                "credited": format_money(Decimal(record["credited"]) + credit),
                "units": int(record["units"]) + units,
                "refs": [*record["refs"], ref][-200:],
            },
            must_be_absent=marker is None,
            expected_version=marker.version if marker else None,
            conflict_detail=f"line {line['line_id']} was credited meanwhile",
        )
    )
    if held:
        return Outcome(
            "processed",
            f"credit note {ref} of {format_money(credit)} is above "
            f"{format_money(posting.book.credit_note_approval_above or credit)}: held for finance approval "
            f"{entry['approval_id']} ({rule.rule_id}, {rule.clause})",
            settles_sla=True,
        )
    return Outcome("processed", posted=True)


USE_CASES: dict[str, Callable[[Posting, dict[str, Any]], Outcome]] = {
    "shipment.confirmed": shipment_confirmed,
    "subscription.activated": subscription_activated,
    "subscription.cancelled": subscription_cancelled,
    "subscription.changed": subscription_changed,
    "service.completed": service_completed,
    "usage.reported": usage_reported,
    "support.logged": support_logged,
    "invoice.paid": invoice_paid,
    "credit_note.issued": credit_note_issued,
    "return.received": return_received,
}


# --- invoices: read, list, finalize --------------------------------------------------------------------------------
def list_invoices(
    rt: Runtime, tenant_id: str, *, status: str, period: str | None, limit: int, cursor: str | None
) -> Page:
    return rt.store.lookup(
        tenant_id, f"{INVOICES}#{status}", limit=limit, cursor=cursor, prefix=f"{period}#" if period else ""
    )


def list_invoices_for(
    rt: Runtime,
    who: Principal,
    *,
    status: str,
    period: str | None,
    limit: int,
    cursor: str | None,
    partner_id: str | None = None,
) -> dict[str, Any]:
    """Staff: the tenant's invoices of a status by month then partner (or one partner's). A partner key: only its
    own, whatever partner_id it asks for, read through its partner#period pointers so no other invoice is read."""
    if who.role is Role.PARTNER:
        partner_id = who.partner_id
    if partner_id is None:
        listed = list_invoices(rt, who.tenant_id, status=status, period=period, limit=limit, cursor=cursor)
        return {"items": [item.data for item in listed.items], "next_cursor": listed.next_cursor}
    page = rt.store.query(
        who.tenant_id, INVOICE_KEYS, limit=limit, cursor=cursor, prefix=f"{partner_id}#{period or ''}"
    )
    refs = [(who.tenant_id, INVOICES, p.data["invoice_id"]) for p in page.items]
    found = rt.store.get_many(refs) if refs else {}
    items = [found[ref].data for ref in refs if ref in found and found[ref].data["status"] == status]
    return {"items": items, "next_cursor": page.next_cursor}


def load_invoice(rt: Runtime, tenant_id: str, invoice_id: str) -> tuple[dict[str, Any], int]:
    stored = rt.store.get(tenant_id, INVOICES, invoice_id)
    if stored is None:
        raise NotFound(f"no invoice {invoice_id}")
    return stored.data, stored.version


def invoice_lines(rt: Runtime, tenant_id: str, invoice_id: str) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = rt.store.query(tenant_id, LINES, limit=200, cursor=cursor, prefix=f"{invoice_id}#")
        lines += [item.data for item in page.items]
        cursor = page.next_cursor
        if not cursor:
            return lines


def get_invoice(rt: Runtime, tenant_id: str, invoice_id: str) -> dict[str, Any]:
    header, _ = load_invoice(rt, tenant_id, invoice_id)
    return {**header, "lines": invoice_lines(rt, tenant_id, invoice_id)}


def read_invoice(rt: Runtime, who: Principal, invoice_id: str) -> dict[str, Any]:
    """An invoice with its lines; a partner key reads only its own (another partner's answers like one that does
    not exist)."""
    header, _ = load_invoice(rt, who.tenant_id, invoice_id)
    if not who.sees_partner(header["partner_id"]):
        raise NotFound(f"no invoice {invoice_id}")
    invoice = get_invoice(rt, who.tenant_id, invoice_id)
    return audience.partner_invoice(invoice) if who.role is Role.PARTNER else invoice


def line_of(rt: Runtime, tenant_id: str, invoice_id: str, number: int) -> Stored | None:
    return rt.store.get(tenant_id, LINES, f"{invoice_id}#{number:05d}")


def post_correction(
    rt: Runtime,
    tenant: Tenant,
    partner_id: str,
    drafts: list[LineDraft],
    *,
    source_id: str,
    detail_type: str,
    period: str | None = None,
) -> Changes:
    """Lines that correct issued invoices (credit notes, SOP-2.5) on the partner's open invoice for this month, or
    for `period` (a held subscription credit's month), or the next draft, with their sales facts, header and audit
    record, as changes for the caller's commit."""
    posting = Posting(
        rt=rt,
        tenant=tenant,
        book=BillingPolicy.from_policy(tenant.policy),
        detail_type=detail_type,
        event_id=source_id,
        erp_event_id=source_id,
        occurred_at=rt.clock.now_iso(),
        data={},
        now=rt.clock.now_iso(),
    )
    _post_lines(posting, partner_id, period or period_of(instant(posting.now).date()), drafts)
    for invoice_id in sorted(posting.touched):
        header, version = posting.invoices[invoice_id]
        posting.changes.puts.append(_invoice_put(header, version))
        _record_lines(posting, header, [line for line in posting.lines if line["invoice_id"] == invoice_id])
    return posting.changes


def finalize_invoice(rt: Runtime, who: Principal, invoice_id: str) -> dict[str, Any]:
    """Finance issues a draft invoice once its month has ended; it is immutable from then on."""
    header, version = load_invoice(rt, who.tenant_id, invoice_id)
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    book = BillingPolicy.from_policy(tenant.policy)
    rule = book.finalization
    final = core.finalize(header, actor=who.actor, at=rt.clock.now_iso(), rule=rule)
    credit_notes.refuse_finalizing_over_pending(rt, who.tenant_id, header, book)
    rt.commit(
        who.tenant_id,
        Changes(
            puts=[_invoice_put(final, version)],
            audit=[
                AuditEntry(
                    actor=who.actor,
                    actor_role=who.role.value,
                    action="invoice.finalized",
                    subject=invoice_id,
                    outcome="finalized",
                    inputs={
                        "partner_id": final["partner_id"],
                        "period": final["period"],
                        "total": final["total"],
                        "line_count": final["line_count"],
                    },
                    policy_version=tenant.policy_version,
                    rule_ids=(rule.rule_id,),
                    clauses=(rule.clause,),
                )
            ],
            events=[
                DomainEvent(
                    "revgov.billing",
                    "invoice.finalized",
                    {
                        "invoice_id": invoice_id,
                        "partner_id": final["partner_id"],
                        "period": final["period"],
                        "total": final["total"],
                    },
                )
            ],
        ),
    )
    return {**final, "lines": invoice_lines(rt, who.tenant_id, invoice_id)}
