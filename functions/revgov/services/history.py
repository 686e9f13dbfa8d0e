"""Go-live history import: past invoice lines and payments per partner become the finalized invoices, lines and
sales facts billing keeps, announced as billing announces lines (`invoice.lines_posted`), so rebates (growth
baselines PA-7.3, caps PA-7.6), KPIs and forecasts use them as if they had arrived live (domain/history.py).

Idempotent per file: the import's id is the hash of its rows; the same rows again answer the first import
(`replayed: true`) and write nothing; a crash halfway is finished by importing the file again (every record has the
same key and content the second time). Any bad row refuses the whole file (422 naming each row), nothing written.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from .. import schemas
from ..domain import billing as core
from ..domain import history
from ..domain.access import Principal
from ..domain.audit import AuditEntry
from ..domain.billing import BillingPolicy
from ..domain.canonical import sha256_hex
from ..domain.catalog import product_families
from ..domain.errors import Conflict, RuleViolation, StaleWrite
from ..domain.ids import typed_id
from ..domain.money import format_money
from ..domain.time import parse_day, period_bounds
from ..ports import Changes, Delete, DomainEvent, Put
from ..runtime import Runtime
from . import billing, partner_repository, tenants
from .catalog import tenant_catalog

IMPORTS = "HISTORYIMPORT"  # import id -> its summary (written last: the import is done)
HISTORY_LINES = "HISTORYLINE"  # partner#ERP line ref -> the Revgov line it became
HISTORY_INVOICES = "HISTORYINVOICE"  # partner#ERP invoice ref -> the Revgov invoice (partner-month) that holds it
HISTORY_MONTHS = "HISTORYMONTH"  # partner#period -> the import that writes (wrote) that partner-month
SOURCE = "revgov.billing"
_BATCH = 90  # items per commit: under DynamoDB's 100-item transaction limit


def import_id_of(lines: list[Any], payments: list[Any]) -> str:
    digest = sha256_hex({"lines": lines, "payments": payments})
    return typed_id("imp", 0, bytes.fromhex(digest[:20]))


def import_history(rt: Runtime, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """Import one file of history (`{source, lines, payments}`) for the caller's tenant; see the module doc."""
    schemas.validate("api/history-import.schema.json", body)
    lines, payments = list(body.get("lines") or []), list(body.get("payments") or [])
    tenant_id = who.tenant_id
    import_id = import_id_of(lines, payments)
    done = rt.store.get(tenant_id, IMPORTS, import_id)
    if done is not None:
        return {**done.data, "replayed": True}
    tenant, _ = tenants.load_tenant(rt, tenant_id)
    book = BillingPolicy.from_policy(tenant.policy)
    catalog = tenant_catalog(rt, tenant_id, tenant.policy)
    today = parse_day(rt.clock.now_iso()[:10])
    known = _known(rt, tenant_id, lines, payments, catalog, tenant.policy)
    went_live = parse_day(tenant.created_at[:10])  # go-live: the day the tenant was provisioned (docs/kpis.md)
    months, problems = history.plan(tenant_id, import_id, lines, payments, known, today=today, went_live=went_live,
                                    rule=book.invoicing, credit_rule=book.credit_notes)
    if problems:
        rows = sorted({"/".join(p.path.split("/")[:3]) for p in problems})
        raise RuleViolation(
            f"{len(rows)} row(s) of {body.get('source') or 'the file'} cannot be imported; nothing was imported",
            errors=problems[:1000],
        )
    now = rt.clock.now_iso()
    _claim_months(rt, tenant_id, import_id, months)
    for month in months:
        _write_month(rt, tenant_id, import_id, month, currency=tenant.currency, now=now)
    summary = _recorded(rt, who, tenant, book, body, import_id, months, now=now)
    return {**summary, "replayed": False}


def _recorded(rt: Runtime, who: Principal, tenant: Any, book: BillingPolicy, body: dict[str, Any], import_id: str,
              months: list[Any], *, now: str) -> dict[str, Any]:  # fmt: skip
    """The import's summary, kept (once: `must_be_absent`) and audited with the invoicing rules it applied."""
    lines, payments = list(body.get("lines") or []), list(body.get("payments") or [])
    periods = sorted({m.period for m in months})
    total = sum((d.amount for m in months for d in m.drafts), Decimal("0.00"))
    summary = {
        "import_id": import_id,
        "source": body.get("source"),
        "imported_at": now,
        "imported_by": who.actor,
        "lines": len(lines),
        "payments": len(payments),
        "partners": len({m.partner_id for m in months}),
        "invoices": len(months),
        "billed_live": sum(len(m.billed_live) for m in months),  # rows of orders billed live first (SOP-2.2)
        "periods": [periods[0], periods[-1]] if periods else [],  # the first and the last month
        "total": format_money(total),
    }
    rt.commit(
        who.tenant_id,
        Changes(
            puts=[Put(IMPORTS, import_id, summary, must_be_absent=True, conflict_detail="imported meanwhile")],
            audit=[
                AuditEntry.by(
                    who,
                    "history.imported",
                    import_id,
                    f"{len(months)} invoice(s), {len(lines)} line(s), {len(payments)} payment(s)",
                    inputs={k: v for k, v in summary.items() if k not in ("imported_at", "imported_by")},
                    policy_version=tenant.policy_version,
                    rule_ids=(book.invoicing.rule_id, book.credit_notes.rule_id),
                    clauses=(book.invoicing.clause, book.credit_notes.clause),
                )
            ],
        ),
    )
    return summary


def _known(
    rt: Runtime, tenant_id: str, lines: list[Any], payments: list[Any], catalog: Any, policy: dict[str, Any]
) -> history.Known:
    rows = [r for r in lines if isinstance(r, dict)]
    partner_ids = sorted({str(r.get("partner_id")) for r in rows + [p for p in payments if isinstance(p, dict)]})
    partners = partner_repository.get_many(rt.store, tenant_id, partner_ids)
    month_keys = sorted(
        {f"{r.get('partner_id')}#{str(r.get('invoice_date'))[:7]}" for r in rows if r.get("partner_id") in partners}
    )
    pointers = _get_many(rt, tenant_id, billing.INVOICE_KEYS, month_keys)
    invoices = _get_many(rt, tenant_id, billing.INVOICES, sorted({p["invoice_id"] for p in pointers.values()}))
    billed = {
        key: (invoices.get(p["invoice_id"]) or {}).get("imported", {}).get("import_id") for key, p in pointers.items()
    }
    live = {key: _live_month(rt, tenant_id, invoices[p["invoice_id"]]) for key, p in pointers.items()
            if billed[key] is None and p["invoice_id"] in invoices}  # fmt: skip
    refs = {(r.get("partner_id"), r.get(k)) for r in rows for k in ("line_ref", "credits_line_ref") if r.get(k)}
    invoice_refs = {(p.get("partner_id"), p.get("invoice_ref")) for p in payments if isinstance(p, dict)}
    families = set(product_families(policy)) | {
        str(r["family"]) for r in (policy.get("billing") or {}).get("usage_rates") or []
    }
    families |= {item.family for item in catalog.items()} if hasattr(catalog, "items") else set()
    return history.Known(
        partners=partners,
        billed_months=billed,
        imported_lines=_by_reference(rt, tenant_id, HISTORY_LINES, refs),
        imported_invoices=_by_reference(rt, tenant_id, HISTORY_INVOICES, invoice_refs),
        price=lambda sku, on: catalog.item(sku, on.isoformat()),
        families=frozenset(families),
        live_months=live,
    )


def _live_month(rt: Runtime, tenant_id: str, header: dict[str, Any]) -> history.LiveMonth:
    """A partner-month billed live: its invoice and, while it is open, the orders its lines hold (by order and SKU;
    a credit note or a line without an order holds none)."""
    lines = billing.invoice_lines(rt, tenant_id, header["invoice_id"]) if header["status"] == "draft" else []
    orders = {(core.erp_reference(ln.get("order_ref")) or "", str(ln.get("sku"))): ln for ln in lines
              if ln.get("order_ref") and not ln.get("references_line") and Decimal(str(ln["amount"])) > 0}
    return history.LiveMonth(header["invoice_id"], header["status"], int(header["line_count"]), orders)


def _claim_months(rt: Runtime, tenant_id: str, import_id: str, months: list[history.Month]) -> None:
    """Claim each partner-month of the file for this import before anything of it is written (docs/history.md: a
    month "another file imported" is refused; PA-10.1 one invoice per partner and month). Two files checked at once
    both read the month free, then wrote its one invoice over each other, line for line (red team 11): the second now
    finds the month claimed, a 409 naming it and the import holding it, nothing of it written (the months it had
    claimed given back). The same file again (an import interrupted halfway) holds its own claims and finishes."""
    keys = [f"{m.partner_id}#{m.period}" for m in months]
    claimed: list[str] = []
    try:
        for start in range(0, len(keys), _BATCH):
            batch = keys[start:start + _BATCH]
            held = _get_many(rt, tenant_id, HISTORY_MONTHS, batch)
            taken = sorted(k for k, v in held.items() if v.get("import_id") != import_id)
            if taken:
                raise Conflict(
                    f"partner-month(s) {', '.join(k.replace('#', ' ') for k in taken[:20])} are being imported by "
                    f"{held[taken[0]]['import_id']} (another file); nothing of this file was imported: a month is "
                    "imported by one file (docs/history.md)",
                    extra={"import_id": held[taken[0]]["import_id"]},
                )
            free = [k for k in batch if k not in held]
            rt.store.commit(tenant_id, Changes(puts=[
                Put(HISTORY_MONTHS, k, {"import_id": import_id}, must_be_absent=True,
                    conflict_detail=f"another file claimed a partner-month of this file meanwhile ({k})")
                for k in free]))
            claimed += free
    except (Conflict, StaleWrite):
        for start in range(0, len(claimed), _BATCH):
            rt.store.commit(tenant_id, Changes(deletes=[Delete(HISTORY_MONTHS, k)
                                                        for k in claimed[start:start + _BATCH]]))
        raise


def _by_reference(
    rt: Runtime, tenant_id: str, collection: str, refs: set[tuple[Any, Any]]
) -> dict[str, dict[str, Any]]:
    """What earlier imports recorded under each (partner, ERP reference), keyed `history.ref_key`: under the reference
    as billing knows it, or as an import before 1.57.2 recorded it (spelled as its file spelled it)."""
    keys = {f"{partner_id}#{ref}" for partner_id, ref in refs} | {history.ref_key(*pair) for pair in refs}
    found = _get_many(rt, tenant_id, collection, sorted(keys))
    return {history.ref_key(*key.split("#", 1)): data for key, data in found.items()}


def _get_many(rt: Runtime, tenant_id: str, collection: str, keys: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(keys), 100):
        chunk = [(tenant_id, collection, k) for k in keys[start : start + 100]]
        for ref, stored in rt.store.get_many(chunk).items():
            found[ref[2]] = stored.data
    return found


def _write_month(rt: Runtime, tenant_id: str, import_id: str, month: history.Month, *, currency: str, now: str) -> None:
    """One partner-month: lines, sales facts and references first, the invoice and its pointer last, so a reader
    never sees an invoice whose lines are missing; every key is the same on a second try (idempotent)."""
    if month.live:
        _write_live_month(rt, tenant_id, import_id, month, now=now)
        return
    final, lines = _finalized_month(import_id, month, currency=currency, now=now)
    puts = [
        put
        for line, ref in zip(lines, month.line_refs, strict=True)
        for put in _line_puts(import_id, month, final, line, ref)
    ]
    puts += [
        Put(HISTORY_INVOICES, history.ref_key(month.partner_id, ref),
            {"invoice_id": month.invoice_id, "period": month.period, "import_id": import_id})
        for ref in sorted(month.erp_invoices)
    ]  # fmt: skip
    for start in range(0, len(puts), _BATCH):
        rt.store.commit(tenant_id, Changes(puts=puts[start : start + _BATCH]))
    pointer = {"invoice_id": month.invoice_id, "partner_id": month.partner_id, "period": month.period}
    posted = {
        **pointer,
        "total": final["total"],
        "line_ids": [line["line_id"] for line in lines],
        "source_event_id": import_id,
    }
    rt.commit(
        tenant_id,
        Changes(
            puts=[_header_put(final), Put(billing.INVOICE_KEYS, f"{month.partner_id}#{month.period}", pointer)],
            events=[DomainEvent(SOURCE, "invoice.lines_posted", posted)],
        ),
    )


def _write_live_month(rt: Runtime, tenant_id: str, import_id: str, month: history.Month, *, now: str) -> None:
    """A partner-month billed live and still open (SOP-2.2 "Billable events are posted to the open invoice for the
    month in which they occurred"): the rows of orders it does not hold go onto that invoice, in one commit with it;
    a row of an order it holds is recorded as the live line (billed once), nothing posted."""
    header, version = billing.load_invoice(rt, tenant_id, month.invoice_id)
    updated, lines = core.add_lines(header, month.drafts, event_id=import_id, erp_event_id=import_id, posted_at=now)
    # the imports whose rows it holds: a live order event of this month reads its lines for them (history_orders)
    updated["history_imports"] = sorted({*header.get("history_imports", []), import_id})
    lines = [{**line, "event_ids": [import_id], "erp_event_ids": [import_id]} for line in lines]
    puts = [put for line, ref in zip(lines, month.line_refs, strict=True)
            for put in _line_puts(import_id, month, updated, line, ref)]  # fmt: skip
    puts += [Put(HISTORY_LINES, history.ref_key(month.partner_id, ref),
                 {"line_id": line["line_id"], "amount": line["amount"], "family": line["family"],
                  "import_id": import_id, "period": month.period, "billed_live": True})
             for ref, line in month.billed_live]  # fmt: skip
    puts += [Put(HISTORY_INVOICES, history.ref_key(month.partner_id, ref),
                 {"invoice_id": month.invoice_id, "period": month.period, "import_id": import_id})
             for ref in sorted(month.erp_invoices)]  # fmt: skip
    events = [DomainEvent(SOURCE, "invoice.lines_posted", {
        "invoice_id": month.invoice_id, "partner_id": month.partner_id, "period": month.period,
        "total": updated["total"], "line_ids": [line["line_id"] for line in lines], "source_event_id": import_id,
    })] if lines else []  # fmt: skip
    for start in range(0, len(puts), _BATCH):
        rt.commit(tenant_id, Changes(puts=puts[start : start + _BATCH]))
    rt.commit(tenant_id, Changes(puts=[billing.invoice_put(updated, version)], events=events))


def _finalized_month(
    import_id: str, month: history.Month, *, currency: str, now: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The partner-month's invoice, finalized on its last day and paid as the file says, and its lines."""
    first, last = period_bounds(month.period)
    header = core.new_invoice(
        invoice_id=month.invoice_id,
        partner_id=month.partner_id,
        period=month.period,
        currency=currency,
        opened_at=f"{first.isoformat()}T00:00:00.000Z",
    )
    updated, lines = core.add_lines(header, month.drafts, event_id=import_id, erp_event_id=import_id, posted_at=now)
    final = {
        **updated,
        "status": "finalized",
        "finalized_at": f"{last.isoformat()}T23:59:59.000Z",
        "finalized_by": f"history:{import_id}",
        "paid_on": history.paid_on(month),
        "imported": {"import_id": import_id, "erp_invoices": sorted(month.erp_invoices)},
    }
    return final, [{**line, "event_ids": [import_id], "erp_event_ids": [import_id]} for line in lines]


def _line_puts(
    import_id: str, month: history.Month, final: dict[str, Any], line: dict[str, Any], ref: str
) -> list[Put]:
    """An imported line, its sales fact, and the reference from the ERP's line to it. The fact's billing event is
    the ERP's line (unique per partner), not the import: two lines of one file alike in SKU, quantity and amount
    (a repeat monthly order) are two lines billed once each, never one event billed twice (PA-7.7(d))."""
    fact = core.sales_fact(line, final, event_id=f"{import_id}#{ref}")
    imported = {k: line[k] for k in ("line_id", "amount", "family")}
    return [
        Put(billing.LINES, billing.line_key(line), line),
        Put(billing.SALES_FACTS, line["line_id"], fact,
            lookup=(f"{billing.SALES_FACTS}#{month.period}", line["line_id"])),
        Put(HISTORY_LINES, history.ref_key(month.partner_id, ref),
            {**imported, "import_id": import_id, "period": month.period}),
    ]


def _header_put(header: dict[str, Any]) -> Put:
    base = billing.invoice_put(header, None)
    return replace(base, must_be_absent=False, expected_version=None)
