"""The tax each invoice line carries, and an invoice's net, tax and gross totals. Pure.

Contoso (`policy.billing.tax.regime: vat`). CPA-10.1: invoices "show VAT per line or the reverse-charge notice".
CPA-2.3: "Cross-border supplies within the EU are invoiced under the reverse-charge mechanism only while the number
validates." COP-2.2: "Before issue, Finance checks ... that the VAT treatment is correct: the Partner's VAT number must
have validated in VIES within the last 30 days for reverse-charge lines, otherwise VAT is charged at the applicable
rate." So a line is `reverse_charge` (no VAT, the notice) when the partner is established in another EU member state
than the supplier and its latest recorded VIES check (staff record it: Revgov never reaches VIES) is `valid` and no
older than `within_days` on the issue day; otherwise `vat` at the supplier's rate in force on the line's day of supply,
the VAT rounded once per line, half-even, to 2 places (CPA-1.3).

Northwind (`regime: sales_tax`). PA-10.1: "Taxes are calculated per line on the basis of the ship-to or service
location and shown separately". No VAT: each line shows `sales_tax` at the rate of its location's jurisdiction, or
`sales_tax_exempt` under a verified certificate valid on the issue day (domain.billing.sales_tax); a line with no
location (supplied before the table's `calculated_from`) shows no amount: Revgov does not invent one.

A line that credits an issued line (`references_line`: credit notes, cancellation credits) mirrors that line's fixed
treatment and rate; otherwise it follows its own invoice's treatment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ..errors import FieldError, RuleViolation
from ..money import format_money, percent_of
from ..rules import Rule
from ..time import instant
from .sales_tax import (
    EXEMPT,
    SalesTaxTable,
    jurisdictions_of,
    line_sales_tax,
    location_of,
    mirror_of,
    table_problems,
)

REVERSE_CHARGE, VAT, SALES_TAX = "reverse_charge", "vat", "sales_tax"
VALID = "valid"  # a recorded VIES check's result (domain.vat_validation)


@dataclass(frozen=True)
class Rate:
    effective_from: date
    percent: Decimal


@dataclass(frozen=True)
class TaxPolicy:
    """`policy.billing.tax` compiled."""

    regime: str  # vat | sales_tax
    rule: Rule  # what the line cites: CPA-10.1 (VAT per line) or PA-10.1 (taxes per line, shown separately)
    supplier_country: str | None = None
    member_states: frozenset[str] = frozenset()
    rates: tuple[Rate, ...] = ()  # the supplier's standard rate by the day it took effect, ascending
    reverse_charge: Rule | None = None  # CPA-2.3
    notice: str = ""
    validation: Rule | None = None  # COP-2.2: validated within `within_days` before issue
    within_days: int = 30
    sales: SalesTaxTable | None = None  # the sales_tax regime's rates by jurisdiction (PA-10.1)

    @classmethod
    def of(cls, policy: Mapping[str, Any]) -> TaxPolicy | None:
        node = (policy.get("billing") or {}).get("tax")
        if not node:
            return None
        if node["regime"] == SALES_TAX:
            return cls(SALES_TAX, Rule.of(node), sales=SalesTaxTable.of(node))
        rates = sorted((Rate(date.fromisoformat(r["effective_from"]), Decimal(r["percent"])) for r in node["rates"]),
                       key=lambda r: r.effective_from)
        if len({r.effective_from for r in rates}) != len(rates):
            raise ValueError("billing.tax.rates: one rate per effective_from day")
        charge, check = node["reverse_charge"], node["validation"]
        return cls(VAT, Rule.of(node), node["supplier_country"], frozenset(node["member_states"]), tuple(rates),
                   Rule.of(charge), charge["notice"], Rule.of(check), int(check["within_days"]))  # fmt: skip

    def rate_on(self, day: date) -> Decimal:
        """The supplier's rate in force on `day` (the line's day of supply)."""
        in_force = [r.percent for r in self.rates if r.effective_from <= day]
        if not in_force:
            raise RuleViolation(f"no VAT rate of {self.supplier_country} in force on {day} ({self.rule.rule_id}, "
                                f"{self.rule.clause})")  # fmt: skip
        return in_force[-1]


def treatment(tax: TaxPolicy, country: str | None, latest: Mapping[str, Any] | None, day: date, *,
              buyer: str = "the partner") -> dict[str, Any]:  # fmt: skip
    """The invoice's treatment on `day` (its issue day, or today for a draft) for a buyer (a partner, or the customer of
    a direct invoice: `buyer` names it in the reasons) established in `country` whose latest recorded VIES check is
    `latest`: `{treatment, as_of, reason, rests_on, rule_id, clause}`."""
    if tax.regime == SALES_TAX:
        return sales_treatment(tax, day, {})
    assert tax.validation is not None and tax.reverse_charge is not None  # a vat regime has both
    check = tax.validation
    country = country or _registered_in(latest)
    if not country:
        return _treated(VAT, day, f"no country of establishment is recorded for {buyer}", None, check)
    if country == tax.supplier_country:
        return _treated(VAT, day, f"a supply within {country}, the supplier's own country", None, check)
    if country not in tax.member_states:
        return _treated(VAT, day, f"{country} is not an EU member state: no reverse charge under CPA-2.3", None, check)
    if latest is None:
        return _treated(VAT, day, f"no VIES validation of {_possessive(buyer)} VAT number is recorded", None, check)
    checked = date.fromisoformat(str(latest["checked_at"])[:10])
    rests_on = {k: latest.get(k) for k in ("checked_at", "reference", "vat_number")}
    if latest["result"] != VALID:
        return _treated(VAT, day, f"the VAT number failed validation in VIES on {checked}", rests_on, check)
    if checked < day - timedelta(days=tax.within_days):
        why = f"the VAT number last validated in VIES on {checked}, more than {tax.within_days} days before {day}"
        return _treated(VAT, day, why, rests_on, check)
    why = f"a cross-border supply to {country}; the VAT number validated in VIES on {checked}"
    return _treated(REVERSE_CHARGE, day, why, rests_on, tax.reverse_charge)


def _possessive(buyer: str) -> str:
    return "the partner's" if buyer == "the partner" else f"{buyer}'s"


def direct_treatment(tax: TaxPolicy, customer_id: str | None, latest: Mapping[str, Any] | None, day: date
                     ) -> dict[str, Any]:  # fmt: skip
    """The treatment of the Distributor's direct invoice to a Customer (a referral, PA-8.1 / CPA-8.1; a sales agent's
    listed account, PA-8.2) on `day`. The buyer is the Customer, not the Partner, so nothing of the Partner's record
    applies: under VAT the rules of the partner's own invoices (`treatment`) read the customer's own VIES checks, as
    staff record them (`latest`: CPA-2.3 "only while the number validates"; COP-2.2 "within the last 30 days [...],
    otherwise VAT is charged at the applicable rate"), its country the member-state prefix of the number checked; with
    no check recorded VAT is charged. Under sales tax the lines' ship-to decides (PA-10.1) and the service reads the
    Customer's own exemption certificates as a partner's are read (`sales_treatment`); the Partner's exempt none of the
    Customer's purchases (PA-10.1: a certificate "on file" is the buyer's)."""
    if tax.regime == SALES_TAX:
        return sales_treatment(tax, day, {})
    assert tax.validation is not None  # a vat regime has it
    who = f"customer {customer_id}" if customer_id else "a customer the ERP did not name"
    if latest is None:
        why = (f"the Distributor's direct invoice to {who}: no VIES validation of the customer's VAT number is "
               "recorded (the partner's is not the buyer's)")
        return _treated(VAT, day, why, None, tax.validation)
    treated = treatment(tax, None, latest, day, buyer=who)
    return {**treated, "reason": f"the Distributor's direct invoice to {who}: {treated['reason']}"}


def sales_treatment(tax: TaxPolicy, day: date, exemptions: Mapping[str, Any], *, dated: bool = False
                    ) -> dict[str, Any]:  # fmt: skip
    """The sales-tax treatment of an invoice on `day` (its issue day, or today for a draft): the exemption
    certificates valid that day, by jurisdiction (PA-10.1: "a valid certificate on file before the invoice is
    issued"). `as_of` is the day only where it matters (`dated`: a certificate was verified for a jurisdiction of the
    invoice); otherwise the treatment is the same whatever the day (`as_of` null)."""
    why = "taxes are calculated per line on the ship-to or service location and shown separately"
    treated = {**_treated(SALES_TAX, day, why, None, tax.rule), "as_of": day.isoformat() if dated else None}
    return treated if tax.sales is None else {**treated, "exemptions": dict(exemptions)}


def _registered_in(latest: Mapping[str, Any] | None) -> str | None:
    """Where a partner with no recorded country of establishment is VAT-registered: the member-state prefix of the
    number its latest check validated (VIES writes Greece EL; ISO 3166-1 says GR)."""
    number = str((latest or {}).get("vat_number") or "").upper()
    prefix = number[:2]
    if len(number) < 4 or not prefix.isalpha() or not prefix.isascii():
        return None
    return "GR" if prefix == "EL" else prefix


def _treated(kind: str, day: date, reason: str, rests_on: dict[str, Any] | None, rule: Rule) -> dict[str, Any]:
    return {"treatment": kind, "as_of": day.isoformat(), "reason": reason, "rests_on": rests_on, **rule.as_dict()}


def recorded_by(record: Mapping[str, Any] | None, moment: str) -> dict[str, Any] | None:
    """The latest VIES check the partner's record held at `moment` (checks recorded later are left out)."""
    until = instant(moment)
    history = [c for c in (record or {}).get("history", []) if instant(str(c["recorded_at"])) <= until]
    return dict(max(history, key=lambda c: (c["checked_at"], c["recorded_at"]))) if history else None


def mirror(tax: TaxPolicy, original_invoice: Mapping[str, Any], original_line: Mapping[str, Any]) -> dict[str, Any]:
    """The fixed treatment and rate of an issued line, for a line that credits it to mirror."""
    shown = line_tax(tax, original_invoice["tax"], original_line)
    if tax.regime == SALES_TAX:
        return mirror_of(shown, original_line["line_id"])
    return {"treatment": shown["treatment"], "rate": shown["rate"], "line_id": original_line["line_id"]}


def line_tax(tax: TaxPolicy, invoiced: Mapping[str, Any], line: Mapping[str, Any]) -> dict[str, Any]:
    """The tax one line carries under its invoice's treatment `invoiced` (or the issued line it mirrors, named in
    `invoiced["mirrors"]`): treatment, rate, amount (rounded once, half-even), gross amount, notice, rule."""
    net = Decimal(line["amount"])
    mirrored = (invoiced.get("mirrors") or {}).get(line["line_id"])
    kind = mirrored["treatment"] if mirrored else invoiced["treatment"]
    shown: dict[str, Any] = {"treatment": kind, "rate": None, "amount": None, "gross_amount": None, "notice": None,
                             "mirrors_line": mirrored["line_id"] if mirrored else None}  # fmt: skip
    if kind in (SALES_TAX, EXEMPT):
        return line_sales_tax(tax.sales, tax.rule, invoiced, line, mirrored)
    if kind == REVERSE_CHARGE:
        assert tax.reverse_charge is not None
        return {**shown, **tax.reverse_charge.as_dict(), "amount": "0.00", "gross_amount": format_money(net),
                "notice": tax.notice}  # fmt: skip
    day = date.fromisoformat(line["service_period"]["start"])
    rate = Decimal(mirrored["rate"]) if mirrored else _rate_in(tax, invoiced.get("rates"), day)
    vat = percent_of(net, rate)
    return {**shown, **tax.rule.as_dict(), "rate": f"{rate:f}", "amount": format_money(vat),
            "gross_amount": format_money(net + vat)}  # fmt: skip


def fixed_rates(tax: TaxPolicy, lines: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The rate table an invoice's treatment is fixed with (an issued invoice keeps it whatever the policy becomes):
    the VAT rates (`rates`), or the sales-tax rates of its lines' jurisdictions (`sales_tax_rates`)."""
    if tax.sales is not None:
        return {"sales_tax_rates": tax.sales.fixed_rates(jurisdictions_of(lines))}
    return {"rates": rates_of(tax)}


def rates_of(tax: TaxPolicy) -> list[dict[str, str]]:
    """The VAT rate table, as an issued invoice keeps it."""
    return [{"percent": f"{r.percent:f}", "effective_from": r.effective_from.isoformat()} for r in tax.rates]


def _rate_in(tax: TaxPolicy, fixed: list[dict[str, str]] | None, day: date) -> Decimal:
    if not fixed:
        return tax.rate_on(day)
    kept = tuple(Rate(date.fromisoformat(r["effective_from"]), Decimal(r["percent"])) for r in fixed)
    return TaxPolicy(tax.regime, tax.rule, tax.supplier_country, rates=kept).rate_on(day)


def totals(lines: Iterable[Mapping[str, Any]]) -> dict[str, str | None]:
    """An invoice's net, tax and gross: sums of its lines' (tax and gross unknown while a line's tax is)."""
    listed = list(lines)
    net = sum((Decimal(ln["amount"]) for ln in listed), Decimal(0))
    taxes = [ln["tax"]["amount"] for ln in listed]
    if any(t is None for t in taxes):
        return {"net": format_money(net), "tax": None, "gross": None}
    tax_total = sum((Decimal(t) for t in taxes), Decimal(0))
    return {"net": format_money(net), "tax": format_money(tax_total), "gross": format_money(net + tax_total)}


def with_tax(tax: TaxPolicy, invoice: Mapping[str, Any], invoiced: Mapping[str, Any]) -> dict[str, Any]:
    """The invoice (with its `lines`) as read: each line with its `tax`, the header with `tax` and `totals`."""
    listed = list(invoice.get("lines", []))
    own = {str(ln["line_id"]): ln for ln in listed}
    lines = [{**ln, "tax": line_tax(tax, invoiced, _located_as_credited(tax, ln, own))} for ln in listed]
    return {**invoice, "tax": dict(invoiced), "totals": totals(lines), "lines": lines}


def _located_as_credited(
    tax: TaxPolicy, line: Mapping[str, Any], own: Mapping[str, Mapping[str, Any]]
) -> Mapping[str, Any]:
    """A sales-tax line that credits a line of its own invoice (a return or credit note posted before the invoice is
    issued, `references_line`) and names no location of its own is taxed at the location of the line it credits
    (PA-10.1 "Taxes are calculated per line on the basis of the ship-to or service location"; SOP-2.5 a credit note
    references "the original invoice and lines"), as a line crediting an issued line mirrors it: the credit takes
    back the tax charged on what it credits. Other lines are taxed as they are."""
    if tax.regime != SALES_TAX or location_of(line):
        return line
    credited = own.get(str(line.get("references_line") or ""))
    found = location_of(credited) if credited else None
    if not found:
        return line
    return {**line, "detail": {**(line.get("detail") or {}), "tax_location": found}}


def retreated(before: Mapping[str, Any] | None, fixed: Mapping[str, Any]) -> bool:
    """The treatment fixed at issue differs from the one the draft's lines were posted under (for sales tax: the
    exemption certificates valid for the invoice's jurisdictions)."""
    if before is None:
        return False
    return (before["treatment"], before.get("exemptions")) != (fixed["treatment"], fixed.get("exemptions"))


def tax_problems(policy: Mapping[str, Any]) -> list[FieldError]:
    """What `policy.billing.tax` cannot say in its schema: the supplier is established in a member state (a reverse
    charge is a cross-border supply within the EU, CPA-2.3), one rate per effective day."""
    node = (policy.get("billing") or {}).get("tax") or {}
    where, problems = "/policy/billing/tax", []
    if node.get("regime") == SALES_TAX:
        problems = table_problems(node, where)
        kind = (node.get("exemption") or {}).get("document_type")
        if kind and kind not in ((policy.get("onboarding") or {}).get("document_types") or {}):
            problems.append(FieldError(f"{where}/exemption/document_type", "one of onboarding.document_types"))
        return problems
    if node.get("regime") != VAT:
        return []
    if node.get("supplier_country") not in (node.get("member_states") or []):
        problems.append(FieldError(f"{where}/supplier_country", "the supplier's country must be one of member_states"))
    days = [r.get("effective_from") for r in node.get("rates") or []]
    if len(set(days)) != len(days):
        problems.append(FieldError(f"{where}/rates", "one rate per effective_from day"))
    return problems
