"""Sales tax per invoice line on the ship-to or service location (northwind, PA-10.1). Pure.

PA-10.1: "Taxes are calculated per line on the basis of the ship-to or service location and shown separately; a
Partner claiming exemption must have a valid certificate on file before the invoice is issued."

- The location is the signed ERP event's `tax_location` (country, ISO 3166-2 region, postal code), kept on the line
  (`detail.tax_location`); the jurisdiction is its region (a US state: `US-CA`).
- The rate is the tenant's table (`policy.billing.tax.jurisdictions`), the one in force on the line's day of supply
  (its service period's start), like VAT; the tax is net x rate rounded once per line, half-even (PA-1.3).
- A line is exempt only when a certificate for its jurisdiction, verified by staff, is valid on the invoice's issue
  day and was verified before the invoice was issued (`exemptions_on`); the line shows the certificate's reference.
- From `calculated_from` (a day of supply) an ERP event without a location, or with one the table has no rate for on
  that day, is held as an exception, never billed with a guessed tax (`location_problem`); lines supplied before it
  were posted when no event carried a location and keep showing sales tax without an amount.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from ..errors import FieldError, RuleViolation
from ..money import format_money, percent_of
from ..rules import Rule
from ..time import instant

SALES_TAX, EXEMPT = "sales_tax", "sales_tax_exempt"


@dataclass(frozen=True)
class SalesTaxTable:
    """`policy.billing.tax` of the sales_tax regime: the rates by jurisdiction, and the rules a held event and an
    exempt line cite."""

    calculated_from: date
    jurisdictions: Mapping[str, tuple[tuple[date, Decimal], ...]] = field(default_factory=dict)  # ascending days
    location: Rule | None = None  # an event without a usable location is held (PA-10.1)
    category: str = "sales_tax_location"
    exemption: Rule | None = None  # a verified certificate valid on the issue day (PA-10.1)
    document_type: str = "exemption_certificate"

    @classmethod
    def of(cls, node: Mapping[str, Any]) -> SalesTaxTable | None:
        if "jurisdictions" not in node:
            return None
        table = {code: tuple(sorted((date.fromisoformat(r["effective_from"]), Decimal(r["percent"])) for r in rates))
                 for code, rates in node["jurisdictions"].items()}  # fmt: skip
        held, exempt = node["location"], node["exemption"]
        return cls(date.fromisoformat(node["calculated_from"]), table, Rule.of(held), held["category"],
                   Rule.of(exempt), exempt["document_type"])  # fmt: skip

    def rate_on(self, jurisdiction: str, day: date, fixed: Mapping[str, Any] | None = None) -> Decimal | None:
        """The jurisdiction's rate in force on `day` (from the rates fixed at issue where given), or None."""
        if fixed is not None:
            rates = tuple((date.fromisoformat(r["effective_from"]), Decimal(r["percent"]))
                          for r in fixed.get(jurisdiction, []))  # fmt: skip
        else:
            rates = self.jurisdictions.get(jurisdiction, ())
        in_force = [percent for since, percent in rates if since <= day]
        return in_force[-1] if in_force else None

    def fixed_rates(self, jurisdictions: Iterable[str]) -> dict[str, list[dict[str, str]]]:
        """The rates an invoice is issued with, for its lines' jurisdictions (kept whatever the policy becomes)."""
        return {code: [{"percent": f"{p:f}", "effective_from": d.isoformat()} for d, p in self.jurisdictions[code]]
                for code in sorted(set(jurisdictions)) if code in self.jurisdictions}  # fmt: skip


def location_of(line: Mapping[str, Any]) -> dict[str, Any] | None:
    """The ship-to or service location the ERP reported for a line (kept in its `detail`), or None."""
    found = (line.get("detail") or {}).get("tax_location")
    return dict(found) if found else None


def located(source: Mapping[str, Any]) -> dict[str, Any]:
    """The `tax_location` the signed ERP event (or the subscription it activated) reported, to keep on a line's
    `detail` or a subscription's record; empty when none was (other lines keep their shape and hash)."""
    found = source.get("tax_location")
    return {"tax_location": dict(found)} if found else {}


def jurisdictions_of(lines: Iterable[Mapping[str, Any]]) -> set[str]:
    return {str(loc["region"]) for loc in map(location_of, lines) if loc}


def location_errors(location: Mapping[str, Any] | None, where: str) -> list[FieldError]:
    """What the schema cannot say of a `tax_location`: its ISO 3166-2 region lies in its country (`US-CA` in `US`)."""
    if not location or str(location.get("region", "")).split("-")[0] == location.get("country"):
        return []
    return [FieldError(f"{where}/region", f"an ISO 3166-2 code of country {location.get('country')}")]


def location_problem(table: SalesTaxTable, location: Mapping[str, Any] | None, day: date) -> str | None:
    """Why a line supplied on `day` at `location` cannot be taxed (PA-10.1), or None: it can (or `day` is before the
    table's `calculated_from`)."""
    if day < table.calculated_from:
        return None
    if not location:
        return "no ship-to or service location is reported, so its sales tax cannot be calculated"
    if location_errors(location, ""):
        return f"region {location['region']} is not in country {location['country']}"
    if table.rate_on(str(location["region"]), day) is None:
        return f"the sales-tax table has no rate for {location['region']} in force on {day}"
    return None


def exemptions_on(record: Mapping[str, Any] | None, day: date, moment: str,
                  jurisdictions: Iterable[str]) -> dict[str, dict[str, Any]]:  # fmt: skip
    """jurisdiction -> the verified exemption certificate that makes its lines exempt on `day` (the issue day): verified
    by `moment` ("on file before the invoice is issued") and valid that day (issued on or before it, expiring on or
    after it: a certificate is valid through its expiry day). The latest verification of a jurisdiction wins."""
    until, wanted = instant(moment), set(jurisdictions)
    found: dict[str, dict[str, Any]] = {}
    for cert in sorted((record or {}).get("history", []), key=lambda c: c["verified_at"]):
        if cert["jurisdiction"] not in wanted or instant(str(cert["verified_at"])) > until:
            continue
        found[cert["jurisdiction"]] = cert
    return {code: _certificate(cert) for code, cert in sorted(found.items())
            if date.fromisoformat(cert["issued_at"]) <= day <= date.fromisoformat(cert["expires_at"])}  # fmt: skip


def _certificate(cert: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("verification_id", "jurisdiction", "reference", "issued_at", "expires_at", "verified_at")
    return {k: cert[k] for k in keys}


def line_sales_tax(table: SalesTaxTable | None, rule: Rule, invoiced: Mapping[str, Any], line: Mapping[str, Any],
                   mirrored: Mapping[str, Any] | None) -> dict[str, Any]:  # fmt: skip
    """The sales tax one line carries under its invoice's treatment `invoiced` (or, for a line crediting an issued
    line, that line's fixed jurisdiction, rate or certificate): treatment, jurisdiction, rate, amount, gross."""
    net = Decimal(line["amount"])
    shown: dict[str, Any] = {"treatment": SALES_TAX, "rate": None, "amount": None, "gross_amount": None,
                             "notice": None, "jurisdiction": None, "certificate": None,
                             "mirrors_line": mirrored["line_id"] if mirrored else None, **rule.as_dict()}  # fmt: skip
    if mirrored:
        code, certificate, rate = mirrored.get("jurisdiction"), mirrored.get("certificate"), mirrored.get("rate")
    else:
        location = location_of(line)
        code = str(location["region"]) if location else None
        certificate = (invoiced.get("exemptions") or {}).get(code) if code else None
        day = date.fromisoformat(line["service_period"]["start"])
        found = table.rate_on(code, day, invoiced.get("sales_tax_rates")) if table and code else None
        rate = None if found is None else f"{found:f}"
    shown["jurisdiction"] = code
    if certificate:
        assert table is not None and table.exemption is not None
        notice = f"Exempt from sales tax in {code}: certificate {certificate['reference']} ({table.exemption.clause})"
        return {**shown, **table.exemption.as_dict(), "treatment": EXEMPT, "amount": "0.00",
                "gross_amount": format_money(net), "notice": notice, "certificate": dict(certificate)}  # fmt: skip
    if rate is None:
        why = "no ship-to or service location was reported for this line" if code is None else (
            f"no sales-tax rate of {code} is in force on the line's day of supply")
        return {**shown, "notice": f"Sales tax is calculated per line on the ship-to or service location and shown "
                f"separately ({rule.clause}); not calculated here: {why}"}  # fmt: skip
    tax = percent_of(net, Decimal(rate))
    return {**shown, "rate": rate, "amount": format_money(tax), "gross_amount": format_money(net + tax),
            "notice": f"Sales tax of {code} at {rate}% ({rule.clause})"}  # fmt: skip


def mirror_of(shown: Mapping[str, Any], line_id: str) -> dict[str, Any]:
    """What a line crediting an issued line mirrors of its sales tax: treatment, jurisdiction, rate, certificate."""
    keys = ("treatment", "rate", "jurisdiction", "certificate")
    return {**{k: shown.get(k) for k in keys}, "line_id": line_id}


def table_problems(node: Mapping[str, Any], where: str) -> list[FieldError]:
    """One rate per jurisdiction and effective day; each jurisdiction an ISO 3166-2 code."""
    problems = []
    for code, rates in (node.get("jurisdictions") or {}).items():
        days = [r.get("effective_from") for r in rates]
        if len(set(days)) != len(days):
            problems.append(FieldError(f"{where}/jurisdictions/{code}", "one rate per effective_from day"))
    return problems


MAX_VERIFICATIONS = 100  # kept on the partner's record (the audit chain keeps every one)


def verified_certificate(table: SalesTaxTable, documents: Mapping[str, Any], body: Mapping[str, Any], *, today: date,
                         by: str, at: str, verification_id: str) -> dict[str, Any]:  # fmt: skip
    """Staff's verification of the exemption certificate the partner filed for `body["jurisdiction"]`: the
    certificate on file (its `reference`) and the expiry read on it. PA-10.1: the certificate must be "valid" and "on
    file": one not filed, another than the one on file, already expired, or read as valid past the expiry the partner
    filed with it is refused, naming the field."""
    code, reference = str(body["jurisdiction"]), str(body["reference"])
    if code not in table.jurisdictions:
        raise RuleViolation(f"the sales-tax table has no jurisdiction {code}",
                            errors=[FieldError("/jurisdiction", "one of the tax table's jurisdictions")])  # fmt: skip
    filed = documents.get(f"{table.document_type}:{code}")
    if filed is None:
        raise RuleViolation(f"no {table.document_type} for {code} is on file: the partner files it first",
                            errors=[FieldError("/jurisdiction", "one with a certificate on file")])  # fmt: skip
    if filed["reference"] != reference:
        raise RuleViolation(f"the {table.document_type} on file for {code} is {filed['reference']}",
                            errors=[FieldError("/reference", "the reference of the certificate on file")])  # fmt: skip
    if date.fromisoformat(str(filed["issued_at"])) > today:  # as a partner's document (partners/evidence.py)
        raise RuleViolation(f"a certificate issued on {filed['issued_at']} is not on file yet",
                            errors=[FieldError("/issued_at", "on or before today")])  # fmt: skip
    expires = date.fromisoformat(str(body["expires_at"]))
    if expires < today or expires < date.fromisoformat(filed["issued_at"]):
        raise RuleViolation(f"the certificate expired on {expires}: an expired certificate exempts nothing",
                            errors=[FieldError("/expires_at", "on or after today and the certificate's issue day")])
    stated = filed.get("expires_at")  # the last valid day the partner filed with it, when it gave one
    if stated and expires > date.fromisoformat(str(stated)):
        raise RuleViolation(f"the {table.document_type} on file for {code} is valid through {stated}",
                            errors=[FieldError("/expires_at", f"on or before {stated}, the expiry on file")])
    return {"verification_id": verification_id, "jurisdiction": code, "reference": reference,
            "checksum": filed["checksum"], "issued_at": filed["issued_at"], "expires_at": expires.isoformat(),
            "verified_at": at, "verified_by": by}  # fmt: skip


def with_verification(record: Mapping[str, Any] | None, partner_id: str, cert: dict[str, Any], *,
                      subject: str = "partner_id") -> dict[str, Any]:  # fmt: skip
    """The partner's (or a customer's: `subject` customer_id) verified certificates with `cert` added: `current` (the
    latest per jurisdiction), `history`."""
    history = [*(record or {}).get("history", []), cert][-MAX_VERIFICATIONS:]
    current = {c["jurisdiction"]: c for c in sorted(history, key=lambda c: c["verified_at"])}
    return {subject: partner_id, "current": [current[k] for k in sorted(current)], "history": history}


def customer_filing(table: SalesTaxTable, body: Mapping[str, Any]) -> dict[str, Any]:
    """A customer's certificate as staff hold it (PA-10.1 "on file"): no partner files it through the documents path,
    so the certificate staff record is the one on file, checked by `verified_certificate` like a partner's."""
    code = str(body["jurisdiction"])
    keys = ("reference", "checksum", "issued_at", "expires_at")
    return {f"{table.document_type}:{code}": {k: body[k] for k in keys}}
