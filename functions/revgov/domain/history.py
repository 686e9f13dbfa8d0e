"""Go-live history: past invoice lines and payments per partner, checked row by row, as the invoices billing keeps.

A distributor going live brings each partner's past: the ERP's invoice lines and payments (CSV or JSON rows).
Every row is checked; any bad row refuses the whole file, each bad row named by its pointer (`/lines/17/amount`).
Good rows become what billing would have written had they arrived live: one finalized invoice per partner and
month (PA-10.1 monthly invoices), its lines and their sales facts, `paid_on` when every ERP invoice of the month was
paid; a credit note references the line it credits (PA-1.2 "net of all credit notes ... whenever issued"), so
rebates, growth baselines (PA-7.3), caps (PA-7.6), forecasts and KPIs read them as they read live ones.
Pure: the caller passes what it read (partners, months already billed, lines and invoices already imported).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from . import billing as core
from .catalog import CatalogItem
from .errors import FieldError
from .ids import typed_id
from .money import round_money
from .rules import Rule
from .time import period_bounds, period_of

KINDS = ("shipment", "subscription", "usage", "milestone", "support_overage", "credit_note")
CHANNELS = ("resale", "referral", "sales_agent")
_PARTNER = re.compile(r"^ptr_[0-9A-HJKMNP-TV-Z]{26}$")
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
_SKU = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,39}$")
_FAMILY = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
_MONEY = re.compile(r"^-?\d{1,13}(\.\d{1,2})?$")
_QUANTITY = re.compile(r"^\d{1,12}(\.\d{1,6})?$")
LINE_FIELDS = frozenset(
    {"partner_id", "invoice_ref", "invoice_date", "line_ref", "kind", "sku", "family", "quantity", "amount",
     "order_ref", "service_date", "channel", "credits_line_ref", "reason"}
)  # fmt: skip
PAYMENT_FIELDS = frozenset({"partner_id", "invoice_ref", "paid_on", "payment_ref"})


@dataclass(frozen=True)
class Known:
    """What the store already holds that rows are checked against."""

    partners: Mapping[str, Mapping[str, Any]]  # partner id -> partner record
    billed_months: Mapping[str, str | None]  # partner#YYYY-MM with an invoice -> the history import that made it
    imported_lines: Mapping[str, Mapping[str, Any]]  # partner#line_ref -> {line_id, amount, import_id, period}
    imported_invoices: Mapping[str, Mapping[str, Any]]  # partner#invoice_ref -> {invoice_id, period, import_id}
    price: Callable[[str, date], CatalogItem | None]
    families: frozenset[str]


@dataclass
class Month:
    """One partner-month of history: its invoice header, lines and the ERP invoices it gathers."""

    partner_id: str
    period: str
    invoice_id: str
    drafts: list[core.LineDraft] = field(default_factory=list)
    line_refs: list[str] = field(default_factory=list)
    erp_invoices: dict[str, str | None] = field(default_factory=dict)  # ERP invoice ref -> paid on
    rows: list[int] = field(default_factory=list)  # the file's row of each draft
    credits_row: dict[int, int] = field(default_factory=dict)  # draft index -> row of this file it credits


def _day(text: Any) -> date | None:
    try:
        return date.fromisoformat(str(text)) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(text)) else None
    except ValueError:
        return None


def _decimal(text: Any, pattern: re.Pattern[str]) -> Decimal | None:
    if not isinstance(text, str) or not pattern.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        return None


def history_invoice_id(tenant_id: str, partner_id: str, period: str) -> str:
    """The invoice of a partner-month of history: always the same id, so a file imported again after a crash
    writes the same records instead of a second invoice."""
    from .canonical import sha256_hex

    first, _ = period_bounds(period)
    ms = int(datetime(first.year, first.month, first.day, tzinfo=UTC).timestamp() * 1000)
    return typed_id("inv", max(ms, 0), bytes.fromhex(sha256_hex(f"history#{tenant_id}#{partner_id}#{period}")[:20]))


def plan(
    tenant_id: str,
    import_id: str,
    lines: list[dict[str, Any]],
    payments: list[dict[str, Any]],
    known: Known,
    *,
    today: date,
    rule: Rule,
    credit_rule: Rule,
) -> tuple[list[Month], list[FieldError]]:
    """The partner-months the rows make, or every problem with them (then nothing may be written)."""
    errors: list[FieldError] = []
    months: dict[str, Month] = {}
    seen_lines: dict[str, tuple[str, int, Decimal, str]] = {}  # partner#line_ref -> (period, index, amount, kind)
    families: dict[str, str] = {}  # partner#line_ref -> its family (a credit note without SKU takes its line's)
    current = period_of(today)
    credit_total: dict[str, Decimal] = {}  # partner#line_ref -> credited by earlier rows

    def bad(path: str, message: str) -> None:
        errors.append(FieldError(path, message))

    for i, row in enumerate(lines):
        at = f"/lines/{i}"
        if not isinstance(row, dict):
            bad(at, "a line is an object of columns")
            continue
        for extra in sorted(set(row) - LINE_FIELDS):
            bad(f"{at}/{extra}", f"unknown column {extra!r}")
        before = len(errors)
        partner_id = str(row.get("partner_id") or "")
        partner = known.partners.get(partner_id)
        if not _PARTNER.match(partner_id) or partner is None:
            bad(f"{at}/partner_id", f"no partner {partner_id or '(empty)'} in this tenant")
        invoice_ref = str(row.get("invoice_ref") or "")
        if not _REFERENCE.match(invoice_ref):
            bad(f"{at}/invoice_ref", "an ERP invoice reference (letters, digits, ._/-, up to 64)")
        invoiced = _day(row.get("invoice_date"))
        period = period_of(invoiced) if invoiced else None
        if invoiced is None:
            bad(f"{at}/invoice_date", "a day, YYYY-MM-DD")
        elif period is not None and period >= current:
            bad(f"{at}/invoice_date", f"{invoiced} is not in a month that has ended: history is what came before")
        line_ref = str(row.get("line_ref") or "")
        key = f"{partner_id}#{line_ref}"
        if not _REFERENCE.match(line_ref):
            bad(f"{at}/line_ref", "the ERP's invoice line reference (letters, digits, ._/-, up to 64)")
        elif key in seen_lines:
            bad(f"{at}/line_ref", f"line {line_ref} is already row {seen_lines[key][1]} of this file")
        elif key in known.imported_lines and known.imported_lines[key].get("import_id") != import_id:
            bad(f"{at}/line_ref", f"line {line_ref} was imported by {known.imported_lines[key].get('import_id')}")
        kind = str(row.get("kind") or "shipment")
        if kind not in KINDS:
            bad(f"{at}/kind", f"one of {', '.join(KINDS)}")
        sku = row.get("sku") or None
        item = None
        if sku is not None and not _SKU.match(str(sku)):
            bad(f"{at}/sku", "a SKU (A-Z, 0-9, -)")
        elif sku is not None and invoiced is not None:
            item = known.price(str(sku), invoiced)
        family = row.get("family") or (item.family if item else None)
        if family is None and kind == "credit_note" and sku is None:
            target_key = f"{partner_id}#{row.get('credits_line_ref')}"
            family = families.get(target_key) or (known.imported_lines.get(target_key) or {}).get("family")
        if family is None:
            bad(f"{at}/family", f"SKU {sku} is not on the price list on {invoiced}: give its family" if sku
                else "a line without a SKU names its product family")  # fmt: skip
        elif family not in known.families:
            bad(f"{at}/family", f"{family!r} is not a product family of this tenant")
        elif item is not None and row.get("family") and row["family"] != item.family:
            bad(f"{at}/family", f"SKU {sku} is of family {item.family}, not {row['family']}")
        quantity = _decimal(str(row.get("quantity") if row.get("quantity") is not None else "1"), _QUANTITY)
        if quantity is None:
            bad(f"{at}/quantity", "a quantity as a decimal string, 0 or more")
        amount = _decimal(row.get("amount"), _MONEY)
        if amount is None:
            bad(f"{at}/amount", "an amount as a decimal string with at most 2 places, e.g. 1250.00 or -120.50")
        served = _day(row.get("service_date")) if row.get("service_date") else invoiced
        if served is None:
            bad(f"{at}/service_date", "a day, YYYY-MM-DD")
        elif invoiced is not None and served > invoiced and kind != "subscription":
            bad(f"{at}/service_date", f"{served} is after the invoice date {invoiced}")
        channel = str(row.get("channel") or "resale")
        if channel not in CHANNELS:
            bad(f"{at}/channel", f"one of {', '.join(CHANNELS)}")
        for ref_field in ("order_ref",):
            if row.get(ref_field) and not _REFERENCE.match(str(row[ref_field])):
                bad(f"{at}/{ref_field}", "an ERP reference (letters, digits, ._/-, up to 64)")
        credited: tuple[str, Any] | None = None
        reason = str(row.get("reason") or "billing_error")
        if kind == "credit_note":
            target = str(row.get("credits_line_ref") or "")
            if reason not in core.CREDIT_NOTE_REASONS:
                bad(f"{at}/reason", f"one of {', '.join(core.CREDIT_NOTE_REASONS)}")
            if amount is not None and amount >= 0:
                bad(f"{at}/amount", "a credit note is negative")
            tkey = f"{partner_id}#{target}"
            if tkey in seen_lines:
                _, index, target_amount, target_kind = seen_lines[tkey]
                credited = ("file", index)
            elif tkey in known.imported_lines:
                target_amount = Decimal(str(known.imported_lines[tkey]["amount"]))
                target_kind = "imported"
                credited = ("stored", known.imported_lines[tkey])
            else:
                bad(f"{at}/credits_line_ref", f"no line {target or '(empty)'} of partner {partner_id} before this row")
                target_amount, target_kind = Decimal(0), ""
            if credited is not None and (target_amount <= 0 or target_kind == "credit_note"):
                bad(f"{at}/credits_line_ref", f"line {target} is not a charge")
            elif credited is not None and amount is not None and -amount + credit_total.get(tkey, 0) > target_amount:
                left = target_amount - credit_total.get(tkey, Decimal(0))
                bad(f"{at}/amount", f"more than is left of line {target} ({left}) to credit")
            elif amount is not None:
                credit_total[tkey] = credit_total.get(tkey, Decimal(0)) - amount
        else:
            for only in ("credits_line_ref", "reason"):
                if row.get(only):
                    bad(f"{at}/{only}", "only a credit_note line credits a line")
            if amount is not None and amount < 0:
                bad(f"{at}/amount", "only a credit_note line is negative")
        if partner is not None and period is not None:
            billed = known.billed_months.get(f"{partner_id}#{period}", "absent")
            if billed not in ("absent", import_id):
                bad(
                    f"{at}/invoice_date",
                    f"partner {partner_id} already has an invoice for {period}"
                    + (f" (history import {billed})" if billed else " billed in Revgov"),
                )
        if len(errors) > before:
            continue
        assert invoiced is not None and period is not None and amount is not None and quantity is not None
        assert served is not None and family is not None
        month = months.get(f"{partner_id}#{period}")
        if month is None:
            month = months[f"{partner_id}#{period}"] = Month(
                partner_id, period, history_invoice_id(tenant_id, partner_id, period)
            )
        references = None
        if credited is not None and credited[0] == "file":
            month.credits_row[len(month.drafts)] = int(credited[1])  # its line id once every row has a number
        elif credited is not None:
            references = str(credited[1]["line_id"])
        month.drafts.append(
            core.LineDraft(
                kind=kind,
                description=f"History: {kind.replace('_', ' ')} {line_ref}, ERP invoice {invoice_ref}",
                family=str(family),
                sku=str(sku) if sku else None,
                quantity=quantity,
                unit_price=round_money(amount / quantity) if quantity and kind != "credit_note" else None,
                amount=amount,
                cost=round_money(item.unit_cost * quantity) if item is not None and kind != "credit_note" else None,
                service_period=core.ServicePeriod.day(served),
                order_ref=str(row["order_ref"]) if row.get("order_ref") else None,
                rules=(rule, credit_rule) if kind == "credit_note" else (rule,),
                references_line=references,
                detail={"erp_invoice_ref": invoice_ref, "erp_line_ref": line_ref, "import_id": import_id,
                        **({"reason": reason} if kind == "credit_note" else {})},
                channel=channel,
            )
        )  # fmt: skip
        month.line_refs.append(line_ref)
        month.rows.append(i)
        month.erp_invoices.setdefault(invoice_ref, None)
        seen_lines[key] = (period, i, amount, kind)
        families[key] = str(family)
    _resolve_references(months)
    _apply_payments(payments, months, known, errors)
    return list(months.values()), errors


def _resolve_references(months: dict[str, Month]) -> None:
    """A credit note that credits a line of the same file learns that line's id once every row has its number."""
    ids: dict[int, str] = {}
    for month in months.values():
        for number, row in enumerate(month.rows, start=1):
            ids[row] = f"{month.invoice_id}.{number}"
    for month in months.values():
        for n, row in month.credits_row.items():
            month.drafts[n] = replace(month.drafts[n], references_line=ids[row])


def _apply_payments(
    payments: list[dict[str, Any]], months: dict[str, Month], known: Known, errors: list[FieldError]
) -> None:
    by_invoice = {f"{m.partner_id}#{ref}": m for m in months.values() for ref in m.erp_invoices}
    for i, row in enumerate(payments):
        at = f"/payments/{i}"
        if not isinstance(row, dict):
            errors.append(FieldError(at, "a payment is an object of columns"))
            continue
        for extra in sorted(set(row) - PAYMENT_FIELDS):
            errors.append(FieldError(f"{at}/{extra}", f"unknown column {extra!r}"))
        partner_id, invoice_ref = str(row.get("partner_id") or ""), str(row.get("invoice_ref") or "")
        paid = _day(row.get("paid_on"))
        if paid is None:
            errors.append(FieldError(f"{at}/paid_on", "a day, YYYY-MM-DD"))
        if row.get("payment_ref") and not _REFERENCE.match(str(row["payment_ref"])):
            errors.append(FieldError(f"{at}/payment_ref", "an ERP reference (letters, digits, ._/-, up to 64)"))
        key = f"{partner_id}#{invoice_ref}"
        month = by_invoice.get(key)
        if month is None:
            stored = known.imported_invoices.get(key)
            message = (
                f"ERP invoice {invoice_ref} was imported by {stored.get('import_id')}: pay it in that file"
                if stored
                else f"no ERP invoice {invoice_ref or '(empty)'} of partner {partner_id or '(empty)'} in this file"
            )
            errors.append(FieldError(f"{at}/invoice_ref", message))
            continue
        if paid is not None:
            first = period_bounds(month.period)[0]
            if paid < first:
                errors.append(FieldError(f"{at}/paid_on", f"{paid} is before the invoice's month {month.period}"))
            elif month.erp_invoices.get(invoice_ref):
                errors.append(FieldError(f"{at}/invoice_ref", f"ERP invoice {invoice_ref} is paid by an earlier row"))
            else:
                month.erp_invoices[invoice_ref] = paid.isoformat()


def paid_on(month: Month) -> str | None:
    """A month's invoice is paid when every ERP invoice it gathers is: on the last of those days (no partial
    payments, as for live invoices)."""
    days = list(month.erp_invoices.values())
    return max(d for d in days if d) if days and all(days) else None
