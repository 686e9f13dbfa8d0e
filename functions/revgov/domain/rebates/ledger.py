"""The sales ledger: rebate lines as numpy columns (money in integer cents), with duplicates found as it is built.

Columns rather than objects so a period of a million lines is rated with a handful of vectorized passes; money is
int64 cents end to end (exact), and turns into Decimal only per partner and program, where it is rounded once.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from .lines import FIELDS, LATER_FIELDS

Ints = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]
# Why a line counts once only (0: it is not a duplicate)
SAME_LINE, SAME_EVENT, SAME_ORDER_LINE = 1, 2, 3
DUPLICATE_KINDS = {SAME_LINE: "same_line_twice", SAME_EVENT: "billed_twice", SAME_ORDER_LINE: "order_line_twice"}


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Building columns allocates millions of small tuples and no reference cycle; the cyclic collector would
    rescan every live line dict many times over for nothing, so it is paused for the build."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _columns(rows: Sequence[Sequence[Any]]) -> dict[str, Sequence[Any]]:
    """Rows (in FIELDS order) turned into one sequence per field."""
    if not rows:
        return {name: () for name in FIELDS}
    return dict(zip(FIELDS, zip(*rows, strict=True), strict=True))


def _encode(values: Sequence[Any]) -> tuple[Ints, list[Any]]:
    """Values as small integer codes, and the distinct values in first-seen order (hashing done in C)."""
    distinct = list(dict.fromkeys(values))
    index = dict(zip(distinct, range(len(distinct)), strict=True))
    return np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=len(values)), distinct


def _month_of(day: str | None) -> int:
    """The month index of an ISO day (year * 12 + month - 1), -1 for None."""
    return -1 if day is None else int(day[:4]) * 12 + int(day[5:7]) - 1


def _ints(values: Sequence[int | None], missing: int) -> tuple[Ints, Flags]:
    """Integers with None as `missing`, and where a value was present."""
    objects = np.array(values, dtype=object)
    present: Flags = np.asarray(objects != None, dtype=np.bool_)  # noqa: E711 - elementwise, in C
    return np.where(present, objects, missing).astype(np.int64), present


def _repeated(values: Sequence[Any], among: Flags) -> Flags:
    """Rows of `among` whose value may occur in another row of `among`: equal hashes (Python caches a string's
    hash), found by sorting integers. A superset of the true repeats; the caller compares exactly."""
    rows = np.flatnonzero(among)
    flags = np.zeros(len(among), dtype=np.bool_)
    if len(rows) < 2:
        return flags
    picked = values if len(rows) == len(values) else [values[i] for i in rows.tolist()]
    hashes = np.fromiter(map(hash, picked), dtype=np.int64, count=len(rows))
    order = np.argsort(hashes, kind="stable")
    same = hashes[order][1:] == hashes[order][:-1]
    flags[rows[order[1:][same]]] = True
    flags[rows[order[:-1][same]]] = True
    return flags


@dataclass
class SalesLedger:
    """One row per rebate line. Code columns index into the name lists (`partners`, `families`...)."""

    line_ids: list[str]
    invoice_ids: list[str]
    partners: list[str]
    families: list[str]
    skus: list[str]
    kinds: list[str]
    channels: list[str]
    customers: list[str | None]  # case-folded customer ids (None: the line names none)
    partner: Ints
    family: Ints
    sku: Ints
    kind: Ints  # the kind of the line, or for a credit note the kind of the line it credits
    channel: Ints
    amount: Ints  # cents, negative for a credit note
    cost: Ints  # cents (0 where unknown)
    has_cost: Flags
    units: Ints  # thousandths of a unit, negative for a credit note
    month: Ints  # month index of the invoice the revenue belongs to
    day: Ints  # ordinal of the service date
    credited_day: Ints  # ordinal of the credited line's service date, -1 for a line that credits nothing
    delivered_day: Ints  # ordinal of the delivery day (the credited line's, for a credit note), -1 when not known
    exclusive_promotion: Flags
    discount_bp: Ints  # combined discount in hundredths of a percent (0 when not known)
    paid: Flags
    paid_month: Ints  # month index of the day the invoice was paid (the credited line's, for a credit note), -1 unpaid
    mdf_funded: Flags  # PA-7.1 / CPA-7.1: an MDF-funded purchase (a credit note: its line's)
    customer: Ints  # code into `customers`
    invoiced_day: Ints  # ordinal of the invoice date (the credited line's, for a credit note), -1 when not issued
    event_second: Ints  # Unix seconds the ERP recorded the order (the credited line's, for a credit note), -1 unknown
    accepted_day: Ints  # PA-8.1 / CPA-8.1: ordinal of the day the referral was accepted, -1 when not stated
    contacted_day: Ints  # CPA-8.1: ordinal of the first contact with the customer's decision maker, -1 when not stated
    duplicate: Ints  # 0, or SAME_LINE / SAME_EVENT / SAME_ORDER_LINE
    duplicate_of: Ints  # index of the line this one repeats, -1

    def __len__(self) -> int:
        return len(self.line_ids)

    def partner_index(self, partner_id: str) -> int | None:
        try:
            return self.partners.index(partner_id)
        except ValueError:
            return None

    def per_partner(self, values: Ints, mask: Flags) -> Ints:
        """Sum of `values` over the lines in `mask`, per partner (exact, int64)."""
        out = np.zeros(len(self.partners), dtype=np.int64)
        np.add.at(out, self.partner[mask], values[mask])
        return out

    def in_months(self, first: int, last: int) -> Flags:
        return (self.month >= first) & (self.month <= last)

    def paid_in_months(self, first: int, last: int) -> Flags:
        """Lines whose invoice was paid in these months (PA-8.2 / CPA-8.2: earned "in the month in which the
        Customer paid")."""
        return (self.paid_month >= first) & (self.paid_month <= last)

    def lookup(self, names: Sequence[str], allowed: frozenset[str] | None, codes: Ints) -> Flags:
        """Rows whose code names a value in `allowed` (every row when `allowed` is None)."""
        if allowed is None:
            return np.ones(len(codes), dtype=np.bool_)
        table = np.fromiter((n in allowed for n in names), dtype=np.bool_, count=len(names))
        return table[codes] if len(names) else np.zeros(len(codes), dtype=np.bool_)

    @classmethod
    def from_lines(cls, lines: Sequence[Mapping[str, Any]], exclusive_promotions: frozenset[str]) -> SalesLedger:
        """Columns from rebate lines (`lines.rebate_line`)."""
        with _no_cycle_collection():
            get = itemgetter(*FIELDS)
            try:
                rows = list(map(get, lines))
            except KeyError:  # lines projected before a field existed read as its neutral value
                rows = [get({**LATER_FIELDS, **line}) for line in lines]
            return cls.from_rows(rows, exclusive_promotions)

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[Any]], exclusive_promotions: frozenset[str]) -> SalesLedger:
        """Columns from rebate lines as rows in FIELDS order (`lines.rebate_row`); the first of two lines that bill
        the same thing counts, the later one is marked a duplicate of it."""
        with _no_cycle_collection():
            return cls._build(_columns(rows), len(rows), exclusive_promotions)

    @classmethod
    def _build(cls, c: dict[str, Sequence[Any]], n: int, exclusive_promotions: frozenset[str]) -> SalesLedger:
        line_ids = list(c["line_id"])
        partner, partners = _encode(c["partner_id"])
        family, families = _encode(c["family"])
        sku, skus = _encode(c["sku"])
        kind, kinds = _encode(c["rule_kind"])
        channel, channels = _encode(c["channel"])
        cost, has_cost = _ints(c["cost_cents"], 0)
        credited_day, _ = _ints(c["credited_day"], -1)
        delivered_day, _ = _ints(c["delivered_day"], -1)
        invoiced_day, _ = _ints(c["invoiced_day"], -1)
        event_second, _ = _ints(c["event_second"], -1)
        accepted_day, _ = _ints(c["accepted_day"], -1)
        contacted_day, _ = _ints(c["contacted_day"], -1)
        customer, customers = _encode(c["customer"])
        promotions = c["promotions"]
        exclusive = np.fromiter(map(bool, promotions), dtype=np.bool_, count=n)
        for i in np.flatnonzero(exclusive).tolist():
            exclusive[i] = not exclusive_promotions.isdisjoint(promotions[i])
        discount_codes, discounts = _encode(c["discount_percent"])
        discount_table = np.asarray([0 if d is None else int(Decimal(d) * 100) for d in discounts], dtype=np.int64)
        paid_codes, paid_on = _encode(c["paid_on"])
        paid_table = np.asarray([d is not None for d in paid_on], dtype=np.bool_)
        paid_month_table = np.asarray([_month_of(d) for d in paid_on], dtype=np.int64)
        duplicate, duplicate_of = _duplicates(c, line_ids, partner)
        return cls(
            line_ids=line_ids,
            invoice_ids=list(c["invoice_id"]),
            partners=partners,
            families=families,
            skus=skus,
            kinds=kinds,
            channels=channels,
            customers=customers,
            partner=partner,
            family=family,
            sku=sku,
            kind=kind,
            channel=channel,
            amount=np.fromiter(c["net_cents"], dtype=np.int64, count=n),
            cost=cost,
            has_cost=has_cost,
            units=np.fromiter(c["units_milli"], dtype=np.int64, count=n),
            month=np.fromiter(c["month_index"], dtype=np.int64, count=n),
            day=np.fromiter(c["day"], dtype=np.int64, count=n),
            credited_day=credited_day,
            delivered_day=delivered_day,
            exclusive_promotion=exclusive,
            discount_bp=discount_table[discount_codes] if n else np.zeros(0, dtype=np.int64),
            paid=paid_table[paid_codes] if n else np.zeros(0, dtype=np.bool_),
            paid_month=paid_month_table[paid_codes] if n else np.zeros(0, dtype=np.int64),
            mdf_funded=np.fromiter(map(bool, c["mdf_funded"]), dtype=np.bool_, count=n),
            customer=customer,
            invoiced_day=invoiced_day,
            event_second=event_second,
            accepted_day=accepted_day,
            contacted_day=contacted_day,
            duplicate=duplicate,
            duplicate_of=duplicate_of,
        )


def _credited(c: dict[str, Sequence[Any]]) -> dict[str, int]:
    """Per credited line id, the cents its credit notes in the ledger took back (only the credit rows are read)."""
    credited: dict[str, int] = {}
    for i in np.flatnonzero(np.asarray(c["net_cents"], dtype=np.int64) < 0).tolist():
        line = c["credited_line"][i]
        if line is not None:
            credited[str(line)] = credited.get(str(line), 0) - int(c["net_cents"][i])
    return credited


def _duplicates(c: dict[str, Sequence[Any]], line_ids: list[str], partner: Ints) -> tuple[Ints, Ints]:
    """The same line twice, the same billing event billed twice, or the same order line invoiced twice (PA-7.7(d)).

    An event's line is known by (event, kind, sku, credited line, quantity, amount); an order line by (order,
    service date, kind, sku, credited line, quantity, amount). A usage line re-rated keeps its line id, so it is
    one line; a credit and its re-invoice differ in sign, so they never match each other. Checked in that order:
    a line already found a duplicate is not looked at again. Only lines whose line id, event or order occurs more
    than once are compared, exactly, on the whole key; the first line with a key counts. Credits (negative lines)
    are never order-line duplicates: billing already holds each credit note to its own reference and to what is
    left of the credited line, and Qualifying Revenue is net of all of them (PA-1.2). Nor is the re-invoice of an
    order line its credit notes took back in full: SOP-2.5 corrects an error "by a credit note referencing the
    original invoice and lines, followed where needed by a corrected charge ... with the original service period";
    the order line then counts once, through the re-invoice (PA-7.7(d)). A credit note can so turn an earlier repeat
    into the counted line: the running accrual re-rates a period in full when a credit note arrives.
    """
    n = len(line_ids)
    duplicate = np.zeros(n, dtype=np.int64)
    duplicate_of = np.full(n, -1, dtype=np.int64)
    events, orders = c["event_id"], c["order_ref"]
    with_event = np.asarray(np.array(events, dtype=object) != None, dtype=np.bool_)  # noqa: E711
    with_order = np.asarray(np.array(orders, dtype=object) != None, dtype=np.bool_)  # noqa: E711
    # A credit is never an order line invoiced twice: each credit note billing accepted (its own reference, within
    # what is left of the line it credits) reduces Qualifying Revenue, "net of all credit notes issued against those
    # invoices, whenever issued" (PA-1.2; PA-7.10 "reduced by the credit note amount"). Two equal credit notes of one
    # day against one line are two credit notes, not a duplicate claim (PA-7.7(d) is about earning twice).
    with_order &= np.asarray(c["net_cents"], dtype=np.int64) >= 0

    def key(kind: int, i: int) -> tuple[Any, ...]:
        if kind == SAME_LINE:
            return (line_ids[i],)
        what = (
            int(partner[i]),
            c["kind"][i],
            c["sku"][i],
            c["credited_line"][i],
            c["units_milli"][i],
            c["net_cents"][i],
        )
        return (events[i], *what) if kind == SAME_EVENT else (orders[i], c["day"][i], *what)

    credited = _credited(c)
    candidates = np.ones(n, dtype=np.bool_)
    checks: tuple[tuple[int, Sequence[Any], Flags | None], ...] = (
        (SAME_LINE, line_ids, None),
        (SAME_EVENT, events, with_event),
        (SAME_ORDER_LINE, orders, with_order),
    )
    for kind, lead, present in checks:
        among = candidates if present is None else candidates & present
        seen: dict[tuple[Any, ...], int] = {}
        for i in np.flatnonzero(_repeated(lead, among)).tolist():
            first = seen.setdefault(key(kind, i), i)
            reinvoiced = kind == SAME_ORDER_LINE and 0 < int(c["net_cents"][first]) <= credited.get(line_ids[first], 0)
            if first != i and reinvoiced:
                seen[key(kind, i)] = i  # a re-invoice of a line credited in full: it is the order line now
            elif first != i:
                duplicate[i], duplicate_of[i] = kind, first
                candidates[i] = False
    return duplicate, duplicate_of
