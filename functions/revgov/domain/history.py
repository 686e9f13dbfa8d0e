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
from .canonical import sha256_hex
from .catalog import CatalogItem
from .errors import FieldError
from .ids import typed_id
from .money import round_money
from .rules import Rule
from .time import parse_day, period_bounds, period_of

KINDS = ("shipment", "subscription", "usage", "milestone", "support_overage", "credit_note")
CHANNELS = ("resale", "referral", "sales_agent")
# every pattern here is used with `fullmatch`: `$` alone would let a trailing line feed through
_PARTNER = re.compile(r"^ptr_[0-9A-HJKMNP-TV-Z]{26}$")
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
_SKU = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,39}$")
_FAMILY = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
_MONEY = re.compile(r"^-?[0-9]{1,13}(\.[0-9]{1,2})?$")
_QUANTITY = re.compile(r"^[0-9]{1,12}(\.[0-9]{1,6})?$")
LINE_FIELDS = frozenset(
    {"partner_id", "invoice_ref", "invoice_date", "line_ref", "kind", "sku", "family", "quantity", "amount",
     "order_ref", "service_date", "channel", "credits_line_ref", "reason"}
)  # fmt: skip
PAYMENT_FIELDS = frozenset({"partner_id", "invoice_ref", "paid_on", "payment_ref"})


@dataclass(frozen=True)
class LiveMonth:
    """A partner-month billed live (Revgov's invoice, not an import's): its invoice and the orders its lines hold."""

    invoice_id: str
    status: str  # draft: still open, history rows go onto it; finalized: issued, immutable (SOP-2.2)
    line_count: int
    orders: Mapping[tuple[str, str], Mapping[str, Any]]  # (ORDER REF as billing knows it, SKU) -> the live line


@dataclass(frozen=True)
class Known:
    """What the store already holds that rows are checked against."""

    partners: Mapping[str, Mapping[str, Any]]  # partner id -> partner record
    billed_months: Mapping[str, str | None]  # partner#YYYY-MM with an invoice -> the history import that made it
    imported_lines: Mapping[str, Mapping[str, Any]]  # partner#line_ref -> {line_id, amount, import_id, period}
    imported_invoices: Mapping[str, Mapping[str, Any]]  # partner#invoice_ref -> {invoice_id, period, import_id}
    price: Callable[[str, date], CatalogItem | None]
    families: frozenset[str]
    live_months: Mapping[str, LiveMonth] = field(default_factory=dict)  # partner#YYYY-MM billed live


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
    live: bool = False  # billed live first: the drafts go onto Revgov's open invoice `invoice_id` (`LiveMonth`)
    offset: int = 0  # the lines that invoice already holds: the drafts are numbered on from them
    billed_live: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)  # (line ref, the live line)


def _day(text: Any) -> date | None:
    try:
        return parse_day(str(text)) if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", str(text)) else None
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
    went_live: date,
    rule: Rule,
    credit_rule: Rule,
) -> tuple[list[Month], list[FieldError]]:
    """The partner-months the rows make, or every problem with them (then nothing may be written). History is what
    came before go-live (`went_live`, the day the tenant was provisioned) in a month that has ended (`today`)."""
    planner = _Planner(tenant_id, import_id, known, period_of(today), went_live, (rule, credit_rule))
    for i, row in enumerate(lines):
        planner.take(i, row)
    _resolve_references(planner.months, planner.live_rows)
    _apply_payments(payments, planner.months, known, planner.errors, today)
    return list(planner.months.values()), planner.errors


@dataclass
class _Row:
    """One line row as its checks read it (None where a column is bad)."""

    at: str
    partner_id: str
    invoice_ref: str
    invoiced: date | None
    line_ref: str
    kind: str
    sku: Any = None
    item: CatalogItem | None = None
    family: Any = None
    quantity: Decimal | None = None
    amount: Decimal | None = None
    served: date | None = None
    channel: str = "resale"
    reason: str = "billing_error"
    credited: tuple[str, Any] | None = None  # ("file", row index) or ("stored", imported line)

    @property
    def period(self) -> str | None:
        return period_of(self.invoiced) if self.invoiced else None

    @property
    def key(self) -> str:
        return ref_key(self.partner_id, self.line_ref)


def ref_key(partner_id: object, ref: object) -> str:
    """`partner#ref` for an ERP line or invoice reference, the reference as billing knows it (`erp_reference`: its
    case and surrounding whitespace are no part of it): `A100-1` and `a100-1` are one line of one partner."""
    return f"{partner_id}#{core.erp_reference(ref) or ''}"


def _spelled(refs: Mapping[str, Any], ref: str) -> str:
    """`ref` as the file first spelled that reference (a key of `refs`), or `ref` if it is new."""
    return next((known for known in refs if core.erp_reference(known) == core.erp_reference(ref)), ref)


@dataclass
class _Planner:
    """The rows read so far: their problems, the partner-months they make, and what later rows are checked against."""

    tenant_id: str
    import_id: str
    known: Known
    current: str  # the month that has not ended: history is what came before
    went_live: date  # the tenant's go-live day: from it on, billing is live
    rules: tuple[Rule, Rule]  # invoicing, credit notes
    errors: list[FieldError] = field(default_factory=list)
    months: dict[str, Month] = field(default_factory=dict)
    # partner#line_ref -> (period, row, amount, kind) of the rows taken
    seen_lines: dict[str, tuple[str, int, Decimal, str]] = field(default_factory=dict)
    # partner#line_ref -> its family (a credit note without SKU takes its line's)
    families: dict[str, str] = field(default_factory=dict)
    credit_total: dict[str, Decimal] = field(default_factory=dict)  # key -> credited by earlier rows
    live_rows: dict[int, str] = field(default_factory=dict)  # row -> the live line that billed its order

    def bad(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path, message))

    def take(self, i: int, row: Any) -> None:
        """Check row `i`; a good row becomes a line of its partner-month."""
        at = f"/lines/{i}"
        if not isinstance(row, dict):
            self.bad(at, "a line is an object of columns")
            return
        for extra in sorted(set(row) - LINE_FIELDS):
            self.bad(f"{at}/{extra}", f"unknown column {extra!r}")
        before = len(self.errors)
        read = self._identify(at, row)
        self._product(read, row)
        self._amounts(read, row)
        if read.kind == "credit_note":
            self._credit(read, row)
        else:
            for only in ("credits_line_ref", "reason"):
                if row.get(only):
                    self.bad(f"{at}/{only}", "only a credit_note line credits a line")
            if read.amount is not None and read.amount < 0:
                self.bad(f"{at}/amount", "only a credit_note line is negative")
        self._not_billed(read)
        if len(self.errors) == before:
            self._add(i, read, row)

    def _identify(self, at: str, row: dict[str, Any]) -> _Row:
        """Whose line it is, of which ERP invoice and day, and its own reference and kind."""
        partner_id = str(row.get("partner_id") or "")
        if not _PARTNER.fullmatch(partner_id) or partner_id not in self.known.partners:
            self.bad(f"{at}/partner_id", f"no partner {partner_id or '(empty)'} in this tenant")
        invoice_ref = str(row.get("invoice_ref") or "")
        if not _REFERENCE.fullmatch(invoice_ref):
            self.bad(f"{at}/invoice_ref", "an ERP invoice reference (letters, digits, ._/-, up to 64)")
        invoiced = _day(row.get("invoice_date"))
        if invoiced is None:
            self.bad(f"{at}/invoice_date", "a day, YYYY-MM-DD")
        elif period_of(invoiced) >= self.current:
            self.bad(f"{at}/invoice_date", f"{invoiced} is not in a month that has ended: history is what came before")
        elif invoiced >= self.went_live:
            self.bad(f"{at}/invoice_date", f"{invoiced} ({period_of(invoiced)}) is not before go-live on "
                     f"{self.went_live}: history is what came before; from go-live on billing is live")
        read = _Row(at, partner_id, invoice_ref, invoiced, str(row.get("line_ref") or ""),
                    str(row.get("kind") or "shipment"))  # fmt: skip
        imported = self.known.imported_lines.get(read.key)
        if not _REFERENCE.fullmatch(read.line_ref):
            self.bad(f"{at}/line_ref", "the ERP's invoice line reference (letters, digits, ._/-, up to 64)")
        elif read.key in self.seen_lines:
            row_number = self.seen_lines[read.key][1]
            self.bad(f"{at}/line_ref", f"line {read.line_ref} is already row {row_number} of this file")
        elif imported is not None and imported.get("import_id") != self.import_id:
            self.bad(f"{at}/line_ref", f"line {read.line_ref} was imported by {imported.get('import_id')}")
        if read.kind not in KINDS:
            self.bad(f"{at}/kind", f"one of {', '.join(KINDS)}")
        return read

    def _product(self, read: _Row, row: dict[str, Any]) -> None:
        """The SKU on the price list of the invoice day, and the product family (a credit note's is its line's)."""
        at, sku = read.at, row.get("sku") or None
        read.sku = sku
        if sku is not None and not _SKU.fullmatch(str(sku)):
            self.bad(f"{at}/sku", "a SKU (A-Z, 0-9, -)")
        elif sku is not None and read.invoiced is not None:
            read.item = self.known.price(str(sku), read.invoiced)
        item = read.item
        family = row.get("family") or (item.family if item else None)
        if family is None and read.kind == "credit_note" and sku is None:
            target_key = ref_key(read.partner_id, row.get("credits_line_ref"))
            family = self.families.get(target_key) or (self.known.imported_lines.get(target_key) or {}).get("family")
        read.family = family
        if family is None:
            if sku is None:
                self.bad(f"{at}/family", "a line without a SKU names its product family")
            elif read.invoiced is not None:  # an unreadable day has no price list: invoice_date's error says so
                self.bad(f"{at}/family", f"SKU {sku} is not on the price list on {read.invoiced}: give its family")
        elif family not in self.known.families:
            self.bad(f"{at}/family", f"{family!r} is not a product family of this tenant")
        elif item is not None and row.get("family") and row["family"] != item.family:
            self.bad(f"{at}/family", f"SKU {sku} is of family {item.family}, not {row['family']}")

    def _amounts(self, read: _Row, row: dict[str, Any]) -> None:
        """Quantity, amount, service day, channel and order reference."""
        at = read.at
        read.quantity = _decimal(str(row.get("quantity") if row.get("quantity") is not None else "1"), _QUANTITY)
        if read.quantity is None:
            self.bad(f"{at}/quantity", "a quantity as a decimal string, 0 or more")
        read.amount = _decimal(row.get("amount"), _MONEY)
        if read.amount is None:
            self.bad(f"{at}/amount", "an amount as a decimal string with at most 2 places, e.g. 1250.00 or -120.50")
        served = _day(row.get("service_date")) if row.get("service_date") else read.invoiced
        read.served = served
        if served is None:  # unreadable, or defaulted to an invoice date that is (named under invoice_date)
            if row.get("service_date"):
                self.bad(f"{at}/service_date", "a day, YYYY-MM-DD")
        elif read.invoiced is not None and served > read.invoiced and read.kind != "subscription":
            self.bad(f"{at}/service_date", f"{served} is after the invoice date {read.invoiced}")
        read.channel = str(row.get("channel") or "resale")
        if read.channel not in CHANNELS:
            self.bad(f"{at}/channel", f"one of {', '.join(CHANNELS)}")
        if row.get("order_ref") and not _REFERENCE.fullmatch(str(row["order_ref"])):
            self.bad(f"{at}/order_ref", "an ERP reference (letters, digits, ._/-, up to 64)")
        read.reason = str(row.get("reason") or "billing_error")

    def _credit(self, read: _Row, row: dict[str, Any]) -> None:
        """A credit note: negative, with a reason, crediting a charge of this file or an earlier import, never beyond
        what is left of it (PA-1.2)."""
        at, amount = read.at, read.amount
        target = str(row.get("credits_line_ref") or "")
        if read.reason not in core.CREDIT_NOTE_REASONS:
            self.bad(f"{at}/reason", f"one of {', '.join(core.CREDIT_NOTE_REASONS)}")
        if amount is not None and amount >= 0:
            self.bad(f"{at}/amount", "a credit note is negative")
        tkey = ref_key(read.partner_id, target)
        if tkey in self.seen_lines:
            _, index, target_amount, target_kind = self.seen_lines[tkey]
            read.credited = ("file", index)
        elif tkey in self.known.imported_lines:
            target_amount = Decimal(str(self.known.imported_lines[tkey]["amount"]))
            target_kind = "imported"
            read.credited = ("stored", self.known.imported_lines[tkey])
        else:
            missing = f"no line {target or '(empty)'} of partner {read.partner_id} before this row"
            self.bad(f"{at}/credits_line_ref", missing)
            target_amount, target_kind = Decimal(0), ""
        so_far = self.credit_total.get(tkey, Decimal(0))
        if read.credited is not None and (target_amount <= 0 or target_kind == "credit_note"):
            self.bad(f"{at}/credits_line_ref", f"line {target} is not a charge")
        elif read.credited is not None and amount is not None and -amount + so_far > target_amount:
            self.bad(f"{at}/amount", f"more than is left of line {target} ({target_amount - so_far}) to credit")
        elif amount is not None:
            self.credit_total[tkey] = so_far - amount

    def _not_billed(self, read: _Row) -> None:
        """A partner-month Revgov (or another import) already invoiced is not history."""
        period = read.period
        if read.partner_id not in self.known.partners or period is None:
            return
        billed = self.known.billed_months.get(f"{read.partner_id}#{period}", "absent")
        live = self.known.live_months.get(f"{read.partner_id}#{period}")
        if billed is None and live is not None and live.status == "draft":
            return  # billed live and still open: its rows go onto that invoice, an order it holds once (`_add`)
        if billed not in ("absent", self.import_id):
            self.bad(
                f"{read.at}/invoice_date",
                f"partner {read.partner_id} already has an invoice for {period}"
                + (f" (history import {billed})" if billed else " billed in Revgov and issued (SOP-2.2: an issued "
                   "invoice is immutable; correct it under SOP-2.5)"),
            )

    def _add(self, i: int, read: _Row, row: dict[str, Any]) -> None:
        """A good row as a line of its partner-month (a credit note referencing the line it credits)."""
        invoiced, period, amount, quantity = read.invoiced, read.period, read.amount, read.quantity
        assert invoiced is not None and period is not None and amount is not None and quantity is not None
        assert read.served is not None and read.family is not None
        partner_id, kind, item = read.partner_id, read.kind, read.item
        month = self.months.get(f"{partner_id}#{period}")
        live = self.known.live_months.get(f"{partner_id}#{period}")
        if month is None:
            month = self.months[f"{partner_id}#{period}"] = (
                Month(partner_id, period, live.invoice_id, live=True, offset=live.line_count) if live is not None
                else Month(partner_id, period, history_invoice_id(self.tenant_id, partner_id, period)))
        written = self.known.imported_lines.get(read.key) if live else None
        if written is not None and written.get("import_id") == self.import_id:
            # this file again after it was cut short (docs/history.md): the row is on the open invoice already
            self.seen_lines[read.key] = (period, i, amount, kind)
            self.families[read.key] = str(read.family)
            self.live_rows[i] = str(written["line_id"])
            return
        held = live.orders.get((core.erp_reference(row.get("order_ref")) or "", str(read.sku))) if live else None
        if held is not None and kind != "credit_note":
            # SOP-2.2: the order was posted live to this month's invoice; the ERP's row of it is the same billable
            # event, billed once: recorded as that line (a later credit note finds it), nothing posted again
            month.billed_live.append((read.line_ref, held))
            self.seen_lines[read.key] = (period, i, amount, kind)
            self.families[read.key] = str(read.family)
            self.live_rows[i] = str(held["line_id"])
            return
        references = None
        if read.credited is not None and read.credited[0] == "file":
            month.credits_row[len(month.drafts)] = int(read.credited[1])  # its line id once every row has a number
        elif read.credited is not None:
            references = str(read.credited[1]["line_id"])
        month.drafts.append(
            core.LineDraft(
                kind=kind,
                description=f"History: {kind.replace('_', ' ')} {read.line_ref}, ERP invoice {read.invoice_ref}",
                family=str(read.family),
                sku=str(read.sku) if read.sku else None,
                quantity=quantity,
                unit_price=round_money(amount / quantity) if quantity and kind != "credit_note" else None,
                amount=amount,
                cost=round_money(item.unit_cost * quantity) if item is not None and kind != "credit_note" else None,
                service_period=core.ServicePeriod.day(read.served),
                order_ref=str(row["order_ref"]) if row.get("order_ref") else None,
                rules=self.rules if kind == "credit_note" else self.rules[:1],
                references_line=references,
                detail={"erp_invoice_ref": read.invoice_ref, "erp_line_ref": read.line_ref, "import_id": self.import_id,
                        **({"reason": read.reason} if kind == "credit_note" else {})},
                channel=read.channel,
            )
        )  # fmt: skip
        month.line_refs.append(read.line_ref)
        month.rows.append(i)
        month.erp_invoices.setdefault(_spelled(month.erp_invoices, read.invoice_ref), None)
        self.seen_lines[read.key] = (period, i, amount, kind)
        self.families[read.key] = str(read.family)


def _resolve_references(months: dict[str, Month], live_rows: Mapping[int, str]) -> None:
    """A credit note that credits a line of the same file learns that line's id once every row has its number (a
    row whose order was billed live: the live line)."""
    ids: dict[int, str] = dict(live_rows)
    for month in months.values():
        for number, row in enumerate(month.rows, start=1 + month.offset):
            ids[row] = f"{month.invoice_id}.{number}"
    for month in months.values():
        for n, row in month.credits_row.items():
            month.drafts[n] = replace(month.drafts[n], references_line=ids[row])


def _apply_payments(
    payments: list[dict[str, Any]], months: dict[str, Month], known: Known, errors: list[FieldError], today: date
) -> None:
    by_invoice = {ref_key(m.partner_id, ref): m for m in months.values() for ref in m.erp_invoices}
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
        if row.get("payment_ref") and not _REFERENCE.fullmatch(str(row["payment_ref"])):
            errors.append(FieldError(f"{at}/payment_ref", "an ERP reference (letters, digits, ._/-, up to 64)"))
        key = ref_key(partner_id, invoice_ref)
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
        if month.live:
            errors.append(FieldError(f"{at}/invoice_ref", f"ERP invoice {invoice_ref} is of {month.period}, billed "
                                     "live on Revgov's open invoice: its payment is that invoice's (invoice.paid)"))
            continue
        if paid is not None:
            first = period_bounds(month.period)[0]
            if paid < first:
                errors.append(FieldError(f"{at}/paid_on", f"{paid} is before the invoice's month {month.period}"))
            elif paid > today:  # history is what came before: a day no one has reached pays nothing yet
                errors.append(FieldError(f"{at}/paid_on", f"{paid} is after today ({today}): history is what came "
                                         "before"))  # fmt: skip
            elif month.erp_invoices.get(_spelled(month.erp_invoices, invoice_ref)):
                errors.append(FieldError(f"{at}/invoice_ref", f"ERP invoice {invoice_ref} is paid by an earlier row"))
            else:
                month.erp_invoices[_spelled(month.erp_invoices, invoice_ref)] = paid.isoformat()


def paid_on(month: Month) -> str | None:
    """A month's invoice is paid when every ERP invoice it gathers is: on the last of those days (no partial
    payments, as for live invoices)."""
    days = list(month.erp_invoices.values())
    return max(d for d in days if d) if days and all(days) else None
