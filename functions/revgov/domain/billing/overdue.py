"""Overdue invoices, the credit hold and late-payment interest: the one notion of "overdue" billing and rebates share.

PA-6.7 / CPA-6.7: the payment term runs "from the invoice date" (net 30 standard; northwind's Gold and Platinum may
have net 45, set at tier assignment): an invoice falls due the day it was issued (finalized) plus the partner's
`terms.payment_terms_days`, else the policy's standard term. It is `d` days overdue on day D when D is `d` calendar
days after its due day and it was unpaid at the end of D (the contracts count these in days, not business days).

PA-10.8: "Overdue amounts bear interest at 1.0% per month or the maximum lawful rate, if lower. Where any amount is
more than 30 days overdue, new orders are placed on credit hold". CPA-10.7: "Late payments bear statutory interest
for commercial transactions (the reference rate plus 8 percentage points) and a fixed compensation of EUR 40.00 per
overdue invoice. Amounts overdue more than 30 days place new orders on credit hold". SOP-6.1 / COP-6.1: no late
payment interest accrues on a disputed amount while its dispute is open.

The amount overdue is what the partner owes: the invoice's gross (`totals.gross`, VAT included; a reverse-charge line's
VAT is 0.00, so gross = net) -- the statutory interest of CPA-10.7 is the Late Payment Directive's (2011/7/EU), whose
"amount due" (art. 2(8)) is "the principal sum ... including the applicable taxes ... specified in the invoice", and
PA-10.8's "overdue amounts" are the amounts "payable" under the invoice. Where the invoice's tax has no amount
(northwind's sales tax, PA-10.1: no location rate is held) or no tax was fixed (issued before the tax policy), the net
`total` is the amount Revgov can state, and `AmountDue.note` says so: the tax is never guessed.

How interest is counted (the clauses state a rate and a period, nothing more; this is the reading the product uses,
stated in docs/billing.md): simple interest on the amount due (less what is under an open dispute) for each day
the invoice is overdue, from the day after the due day through the day it is paid (or the day asked about), never
compounded. A monthly rate is spread over the days of the calendar month the day falls in (the contracts' proration
convention, PA-10.3: a 31-day month's day is 1/31 of the month); an annual rate over the days of the calendar year.
The statutory reference rate is the one of the half-year the day falls in (the rate in force on 1 January or
1 July, as the Late Payment Directive 2011/7/EU sets it), listed by half-year in the policy; a day whose half-year
has no rate is not guessed: the accrual says which half-year is missing and states no interest. The sum is
rounded once, half to even, to two places (PA-1.3 / CPA-1.3).

Pure: the service reads the invoices, the partners' terms and disputes; nothing here reads a clock or a store.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ..money import format_money, percent_of, round_money
from ..rules import Rule

STANDARD_TERMS_DAYS = 30  # when the policy states no standard payment term
HUNDRED = Decimal(100)
ZERO = Decimal(0)


# --- the payment term and the due day ------------------------------------------------------------------------------
def standard_terms_days(policy: Mapping[str, Any]) -> int:
    """The policy's standard payment term in days (`pricing.payment_terms.standard_days[0]`), else 30."""
    standard = (policy.get("pricing", {}).get("payment_terms") or {}).get("standard_days") or [STANDARD_TERMS_DAYS]
    return int(standard[0])


def terms_of(partner: Mapping[str, Any] | None, standard_days: int) -> int:
    """The partner's payment term in days: its own when set (`terms.payment_terms_days`), else the standard one."""
    days = ((partner or {}).get("terms") or {}).get("payment_terms_days")
    return int(days) if days else standard_days


def issued_on(invoice: Mapping[str, Any]) -> date | None:
    """The invoice date (the day it was issued, i.e. finalized); None while it is a draft."""
    at = invoice.get("finalized_at")
    return date.fromisoformat(at[:10]) if invoice.get("status") == "finalized" and at else None


def paid_on(invoice: Mapping[str, Any]) -> date | None:
    paid = invoice.get("paid_on")
    return date.fromisoformat(paid[:10]) if paid else None


def due_on(invoice: Mapping[str, Any], terms_days: int) -> date | None:
    """The day the invoice falls due: its invoice date plus the payment term; None while it is a draft."""
    issued = issued_on(invoice)
    return issued + timedelta(days=terms_days) if issued else None


def days_overdue(invoice: Mapping[str, Any], terms_days: int, on: date) -> int:
    """How many days the invoice is overdue on `on` (0: not issued by then, paid by then, or not yet due)."""
    issued, due, paid = issued_on(invoice), due_on(invoice, terms_days), paid_on(invoice)
    if issued is None or due is None or issued > on or (paid is not None and paid <= on):
        return 0
    return max((on - due).days, 0)


def overdue_invoices(
    invoices: Iterable[Mapping[str, Any]],
    terms: Mapping[str, int],
    standard_days: int,
    on: date,
    more_than: int,
    disputed: Mapping[str, Sequence[DisputedSpan]] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Per partner, its invoices issued and unpaid on `on` more than `more_than` days past due, by invoice id:
    {invoice_id, due_on, days_overdue}. `terms`: each partner's term in days (missing: `standard_days`).
    `disputed` (invoice id -> its disputed spans): an invoice whose whole amount is under dispute on `on` owes
    nothing overdue (SOP-6.1 / COP-6.1: only "the undisputed part of the invoice remains payable on its due date")."""
    found: dict[str, list[dict[str, Any]]] = {}
    for invoice in invoices:
        pid = invoice["partner_id"]
        days = terms.get(pid, standard_days)
        late = days_overdue(invoice, days, on)
        spans = (disputed or {}).get(invoice["invoice_id"], ())
        if late > more_than and (not spans or base_on(amount_due(invoice).amount, spans, on) > ZERO):
            due = due_on(invoice, days)
            assert due is not None  # overdue implies issued
            found.setdefault(pid, []).append(
                {"invoice_id": invoice["invoice_id"], "due_on": due.isoformat(), "days_overdue": late}
            )
    return {pid: sorted(found[pid], key=lambda e: e["invoice_id"]) for pid in sorted(found)}


# --- the policy ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LatePayment:
    """`billing.late_payment` compiled: the credit hold's threshold and how interest and compensation are charged."""

    rule: Rule
    credit_hold_days: int
    basis: str  # monthly_percent | reference_rate_plus
    percent: Decimal  # monthly_percent: the rate per month; reference_rate_plus: the points over the reference rate
    reference_rates: Mapping[str, Decimal] = field(default_factory=dict)  # "2026-H1" -> percent a year
    fixed_compensation: Decimal = ZERO  # per overdue invoice (CPA-10.7: EUR 40.00)
    standard_terms_days: int = STANDARD_TERMS_DAYS

    @classmethod
    def of(cls, policy: Mapping[str, Any]) -> LatePayment | None:
        node = (policy.get("billing") or {}).get("late_payment")
        if not node:
            return None
        interest = node["interest"]
        basis = interest["basis"]
        percent = Decimal(interest["percent_per_month"] if basis == "monthly_percent" else interest["points"])
        if interest.get("max_lawful_percent_per_month") is not None:  # PA-10.8 "or the maximum lawful rate, if lower"
            percent = min(percent, Decimal(interest["max_lawful_percent_per_month"]))
        rates = {half: Decimal(rate) for half, rate in (interest.get("reference_rates") or {}).items()}
        return cls(
            rule=Rule.of(node),
            credit_hold_days=int(node["credit_hold_days"]),
            basis=basis,
            percent=percent,
            reference_rates=rates,
            fixed_compensation=Decimal(node.get("fixed_compensation") or "0"),
            standard_terms_days=standard_terms_days(policy),
        )


# --- the amount due -----------------------------------------------------------------------------------------------
GROSS, NET = "gross", "net"


@dataclass(frozen=True)
class AmountDue:
    """What the partner owes on an issued invoice: `basis` gross (VAT included) or net (`note` says why)."""

    amount: Decimal
    basis: str
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"amount": format_money(self.amount), "basis": self.basis, "note": self.note}


def amount_due(invoice: Mapping[str, Any]) -> AmountDue:
    """The invoice's gross where its tax has an amount (VAT charged or reverse charge); else its net `total`, saying
    why (a tax without an amount, PA-10.1's sales tax on a line with no location, is not guessed; an invoice issued
    before the tax policy)."""
    totals = invoice.get("totals") or {}
    if totals.get("gross") is not None:
        return AmountDue(Decimal(totals["gross"]), GROSS)
    net = Decimal(str(invoice["total"]))
    if not totals:
        return AmountDue(net, NET, "no tax was fixed on this invoice (issued before the tenant's tax policy)")
    clause = (invoice.get("tax") or {}).get("clause") or "the tax policy"
    return AmountDue(net, NET, f"the tax shown separately ({clause}) has no amount on a line (no ship-to or service "
                               "location was reported for it): the net is stated, the tax is not guessed")  # fmt: skip


def disputed_share(amount: Decimal, rate_percent: str | None, due: AmountDue) -> Decimal:
    """The share of the amount due a disputed (net) amount of a line is: with the line's VAT where the invoice is owed
    gross and the line charges VAT at `rate_percent` (a reverse-charge line: none)."""
    if due.basis != GROSS or rate_percent is None:
        return amount
    return amount + percent_of(amount, Decimal(rate_percent))


# --- disputes and the interest base --------------------------------------------------------------------------------
@dataclass(frozen=True)
class DisputedSpan:
    """An amount of the invoice under dispute from `start` (the filing day) until `end` (the decision day, exclusive;
    None: still open, or upheld, so never owed)."""

    amount: Decimal
    start: date
    end: date | None = None

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


def base_on(total: Decimal, disputed: Sequence[DisputedSpan], day: date) -> Decimal:
    """The amount that bears interest on `day`: the amount due less what is under an open dispute (SOP-6.1)."""
    return max(total - sum((d.amount for d in disputed if d.covers(day)), ZERO), ZERO)


def half_year(day: date) -> str:
    return f"{day.year}-H{1 if day.month <= 6 else 2}"


# --- the accrual ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Accrual:
    """Late-payment interest on one invoice over [first_day, through], and its fixed compensation."""

    invoice_id: str
    due_on: date
    first_day: date | None  # the first overdue day counted (None: not overdue)
    through: date | None
    days: int
    interest: Decimal | None  # None: a day's reference rate is missing (`missing`)
    compensation: Decimal
    periods: tuple[dict[str, Any], ...]  # per month (monthly rate) or half-year (reference rate)
    missing: tuple[str, ...] = ()
    base: AmountDue = AmountDue(ZERO, NET)  # the amount due the interest runs on (less what is disputed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "invoice_id": self.invoice_id,
            "due_on": self.due_on.isoformat(),
            "from": self.first_day.isoformat() if self.first_day else None,
            "through": self.through.isoformat() if self.through else None,
            "days": self.days,
            "interest": None if self.interest is None else format_money(self.interest),
            "compensation": format_money(self.compensation),
            "periods": list(self.periods),
            "missing_reference_rates": list(self.missing),
            "base": self.base.as_dict(),
        }


def _day_rate(late: LatePayment, day: date) -> tuple[str, Decimal | None, Decimal]:
    """(period, the rate in percent for that period, how many days the period's rate is spread over)."""
    if late.basis == "monthly_percent":
        return f"{day.year}-{day.month:02d}", late.percent, Decimal(calendar.monthrange(day.year, day.month)[1])
    half = half_year(day)
    reference = late.reference_rates.get(half)
    year_days = Decimal(366 if calendar.isleap(day.year) else 365)
    return half, None if reference is None else reference + late.percent, year_days


def accrue(
    late: LatePayment,
    invoice: Mapping[str, Any],
    terms_days: int,
    through: date,
    disputed: Sequence[DisputedSpan] = (),
) -> Accrual:
    """Interest on the invoice for every day it is overdue up to `through` (or up to the day it was paid, if
    earlier), and the fixed compensation once it is overdue at all (CPA-10.7 "per overdue invoice")."""
    due = due_on(invoice, terms_days)
    if due is None:
        raise ValueError(f"invoice {invoice['invoice_id']} is not issued; it has no due day")
    paid = paid_on(invoice)
    last = min(through, paid) if paid else through
    owed = amount_due(invoice)
    total = owed.amount
    if last <= due or total <= 0:
        return Accrual(invoice["invoice_id"], due, None, None, 0, ZERO, ZERO, (), base=owed)
    sums: dict[str, dict[str, Any]] = {}
    missing: list[str] = []
    exact = ZERO
    day = due + timedelta(days=1)
    while day <= last:
        period, rate, spread = _day_rate(late, day)
        entry = sums.setdefault(period, {"period": period, "rate_percent": None, "days": 0, "exact": ZERO})
        entry["days"] += 1
        if rate is None:
            missing += [period] if period not in missing else []
        else:
            entry["rate_percent"] = f"{rate:f}"
            share = base_on(total, disputed, day) * rate / HUNDRED / spread
            entry["exact"] += share
            exact += share
        day += timedelta(days=1)
    periods = tuple(
        {
            "period": e["period"],
            "rate_percent": e["rate_percent"],
            "days": e["days"],
            "amount": format_money(e["exact"]),
        }
        for e in sums.values()
    )
    interest = None if missing else round_money(exact)
    days = (last - due).days
    return Accrual(invoice["invoice_id"], due, due + timedelta(days=1), last, days, interest,
                   late.fixed_compensation, periods, tuple(missing), owed)  # fmt: skip


# --- the credit hold -----------------------------------------------------------------------------------------------
def credit_hold(late: LatePayment, overdue: Sequence[Mapping[str, Any]], on: date) -> dict[str, Any] | None:
    """The partner's credit hold on `on` given its invoices more than `credit_hold_days` overdue (None: no hold)."""
    if not overdue:
        return None
    worst = max(int(o["days_overdue"]) for o in overdue)
    return {
        "rule_id": late.rule.rule_id,
        "clause": late.rule.clause,
        "as_of": on.isoformat(),
        "credit_hold_days": late.credit_hold_days,
        "invoice_ids": [o["invoice_id"] for o in overdue],
        "days_overdue": worst,
        "message": (
            f"new orders are on credit hold: {len(overdue)} invoice(s) more than {late.credit_hold_days} days "
            f"overdue (longest {worst} days) ({late.rule.rule_id}, {late.rule.clause})"
        ),
    }


# --- the charge Finance issues -------------------------------------------------------------------------------------
def charge_due(accrual: Accrual, charged_interest: Decimal, compensation_charged: bool) -> dict[str, Decimal]:
    """What a late-payment charge through `accrual.through` adds to what was charged before on the invoice: the
    interest accrued so far less the interest already charged (so the charges of one invoice always add up to its
    accrued interest rounded once, never charging a day twice), and the fixed compensation unless charged before."""
    if accrual.interest is None:
        raise ValueError(f"no reference rate for {', '.join(accrual.missing)}: the interest cannot be stated")
    interest = max(accrual.interest - charged_interest, ZERO)
    compensation = ZERO if compensation_charged or accrual.days == 0 else accrual.compensation
    return {"interest": interest, "compensation": compensation, "total": interest + compensation}
