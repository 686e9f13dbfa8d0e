"""The tax on a partner's invoice lines (domain.billing.tax): provisional on a draft, fixed when Finance issues it.

COP-2.2 puts the VAT check "before issue": a draft invoice's lines show the treatment as of the day it is read
(provisional, `tax.fixed: false`); finalizing fixes it as of the issue day on the invoice header (`tax.fixed: true`,
with the net, tax and gross `totals`), and an issued invoice is read from that record ever after ("issued invoices are
never changed"). Where the treatment fixed at issue differs from the one the lines were posted under (the VIES check
the reverse charge rested on is now more than 30 days old, or failed; or a fresh check arrived), the invoice is
re-treated as COP-2.2 says ("otherwise VAT is charged at the applicable rate"), with an `invoice.tax_retreated` audit
record naming both treatments and the check. Sales tax (PA-10.1) is fixed the same way: the exemption certificates
verified before issue and valid on the issue day (services/tax_exemptions.py) and the rates of the lines'
jurisdictions; exemptions that changed between posting and issue are recorded as `invoice.tax_retreated` too.
Invoices issued before a tenant had a tax policy carry none (`tax` null).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ...domain.access import Principal
from ...domain.audit import AuditEntry
from ...domain.billing import billed_to_customer
from ...domain.billing import tax as rules
from ...domain.billing.sales_tax import exemptions_on, jurisdictions_of
from ...domain.tenants import Tenant
from ...domain.time import instant
from ...runtime import Runtime
from .. import partner_repository, tax_exemptions, vat_validation
from ..approval_requests import cited
from .repository import INVOICES, line_of


def _treatment(rt: Runtime, tenant_id: str, tax: rules.TaxPolicy, invoice: dict[str, Any], day: date, moment: str,
               lines: list[dict[str, Any]]) -> dict[str, Any]:  # fmt: skip
    """The partner's treatment on `day`: from its country and the VIES checks recorded by `moment` (VAT), or from the
    exemption certificates verified by `moment` and valid on `day` for its `lines`' jurisdictions (sales tax). The
    Distributor's direct invoice to a Customer reads nothing of the partner's: the customer's own VIES checks recorded
    by `moment` (`rules.direct_treatment`), or its own exemption certificates (PA-10.1: the buyer's "on file")."""
    partner_id, customer = str(invoice["partner_id"]), invoice.get("customer_id")
    direct = billed_to_customer(invoice)  # the buyer is the Customer: its own records, never the partner's
    if direct and tax.regime != rules.SALES_TAX:
        record = vat_validation.customer_check_record(rt.store, tenant_id, customer) if customer else None
        return rules.direct_treatment(tax, customer, rules.recorded_by(record, moment), day)
    if tax.regime == rules.SALES_TAX:
        if not tax.sales or (direct and not customer):
            record = None
        elif direct:
            record = tax_exemptions.customer_exemption_record(rt.store, tenant_id, str(customer))
        else:
            record = tax_exemptions.exemption_record(rt.store, tenant_id, partner_id)
        where = jurisdictions_of(lines)
        dated = any(c["jurisdiction"] in where for c in (record or {}).get("history", []))
        return rules.sales_treatment(tax, day, exemptions_on(record, day, moment, where), dated=dated)
    partner = partner_repository.record(rt.store, tenant_id, partner_id) or {}
    latest = rules.recorded_by(vat_validation.check_record(rt.store, tenant_id, partner_id), moment)
    return rules.treatment(tax, partner.get("country"), latest, day)


def _mirrors(rt: Runtime, tenant_id: str, tax: rules.TaxPolicy, lines: list[dict[str, Any]]) -> dict[str, Any]:
    """line id -> the fixed treatment of the issued line it credits (lines crediting a draft's line follow their own
    invoice, as that line does)."""
    headers: dict[str, dict[str, Any] | None] = {}
    found: dict[str, Any] = {}
    for line in lines:
        original_id = line.get("references_line")
        if not original_id or "." not in original_id:
            continue
        invoice_id, number = original_id.rsplit(".", 1)
        if invoice_id not in headers:
            stored = rt.store.get(tenant_id, INVOICES, invoice_id)
            headers[invoice_id] = stored.data if stored else None
        header = headers[invoice_id]
        if not header or header["status"] != "finalized" or not header.get("tax") or not number.isdigit():
            continue
        original = line_of(rt, tenant_id, invoice_id, int(number))
        if original is not None:
            found[line["line_id"]] = rules.mirror(tax, header, original.data)
    return found


def presented(rt: Runtime, tenant: Tenant, invoice: dict[str, Any]) -> dict[str, Any]:
    """The invoice (with its lines) as read: each line with its `tax`, the header with `tax` and `totals` (net, tax,
    gross). A draft's treatment is provisional, as of now; an issued invoice's is the one fixed at issue."""
    tax = rules.TaxPolicy.of(tenant.policy)
    if tax is None:
        return invoice
    if invoice["status"] != "draft":
        stored = invoice.get("tax")
        if not stored:  # issued before the tenant's tax policy: nothing is presumed
            lines = [{**ln, "tax": None} for ln in invoice.get("lines", [])]
            return {**invoice, "tax": None, "totals": {"net": invoice["total"], "tax": None, "gross": None},
                    "lines": lines}  # fmt: skip
        return rules.with_tax(tax, invoice, stored)
    now = rt.clock.now_iso()
    provisional = _treatment(rt, tenant.tenant_id, tax, invoice, instant(now).date(), now,
                             invoice["lines"])  # fmt: skip
    block = {**provisional, "fixed": False, "mirrors": _mirrors(rt, tenant.tenant_id, tax, invoice["lines"])}
    return rules.with_tax(tax, invoice, block)


def fixed_at_issue(
    rt: Runtime, who: Principal, tenant: Tenant, final: dict[str, Any], lines: list[dict[str, Any]]
) -> tuple[dict[str, Any], list[AuditEntry]]:
    """The header of an invoice being issued with its treatment fixed as of the issue day (`tax`, `totals`), and the
    audit record of a re-treatment (COP-2.2); the header unchanged where the tenant has no tax policy."""
    tax = rules.TaxPolicy.of(tenant.policy)
    if tax is None:
        return final, []
    at = str(final["finalized_at"])
    fixed = _treatment(rt, tenant.tenant_id, tax, final, instant(at).date(), at, lines)
    mirrors = _mirrors(rt, tenant.tenant_id, tax, lines)
    block = {**fixed, "fixed": True, **rules.fixed_rates(tax, lines), "mirrors": mirrors}
    shown = rules.with_tax(tax, {**final, "lines": lines}, block)
    header = {k: v for k, v in shown.items() if k != "lines"}
    posted = max((str(ln["updated_at"]) for ln in lines), default=None)
    if posted is None or (tax.regime == rules.SALES_TAX and tax.sales is None):
        return header, []
    before = _treatment(rt, tenant.tenant_id, tax, final, instant(posted).date(), posted, lines)
    if not rules.retreated(before, fixed):
        return header, []
    inputs = {"partner_id": final["partner_id"], "period": final["period"], "posted_under": before,
              "issued_under": fixed, "totals": header["totals"]}  # fmt: skip
    return header, [_retreated(who, tenant, tax, final["invoice_id"], before, fixed, inputs)]


def _retreated(who: Principal, tenant: Tenant, tax: rules.TaxPolicy, invoice_id: str, before: dict[str, Any],
               fixed: dict[str, Any], inputs: dict[str, Any]) -> AuditEntry:  # fmt: skip
    """The `invoice.tax_retreated` record: VAT re-treated under COP-2.2, or sales-tax exemptions that changed between
    posting and issue (a certificate expired, or was verified, before the invoice was issued: PA-10.1)."""
    if tax.regime == rules.SALES_TAX:
        assert tax.sales is not None and tax.sales.exemption is not None
        was, now = sorted(before.get("exemptions") or {}), sorted(fixed.get("exemptions") or {})
        outcome = f"exempt in {', '.join(was) or 'none'} -> exempt in {', '.join(now) or 'none'}"
        cited_rules = [tax.sales.exemption, tax.rule]
    else:
        assert tax.validation is not None
        outcome = f"{before['treatment']} -> {fixed['treatment']}"
        cited_rules = [tax.validation, tax.rule]
    return cited(who, "invoice.tax_retreated", invoice_id, outcome, inputs=inputs, tenant=tenant, rules=cited_rules)
