"""Sales-tax exemption certificates verified by staff (PA-10.1): the one module naming their collection.

PA-10.1: "a Partner claiming exemption must have a valid certificate on file before the invoice is issued." The partner
files the certificate through the onboarding documents path (`POST /v1/partners/{partner_id}/documents`, type
`billing.tax.exemption.document_type` with its `jurisdiction`); finance or channel operations verify it
(`POST /v1/partners/{partner_id}/tax-exemptions`: the jurisdiction, the reference of the certificate on file and the
expiry read on it), audited citing the policy's exemption rule. Billing reads the verifications
(services/billing/tax.py): a line is exempt only under a certificate verified before the invoice is issued and valid
on its issue day.
"""

from __future__ import annotations

from typing import Any

from ..domain.access import Principal, Role
from ..domain.audit import AuditEntry
from ..domain.audit_view import team_of
from ..domain.billing import sales_tax
from ..domain.billing.tax import TaxPolicy
from ..domain.errors import NotFound, RuleViolation
from ..domain.tenants import Tenant
from ..domain.time import instant
from ..ports import Changes, DocumentStore
from ..runtime import Runtime
from . import partner_repository, tenants, vat_validation
from .toolkit import put_over

EXEMPTIONS = "TAXEXEMPTION"  # partner id -> {partner_id, current, history}
CUSTOMER_EXEMPTIONS = "CUSTOMERTAXEXEMPTION"  # customer key (casefolded) -> {customer_id, current, history}
PARTS = ("current", "history")  # the certificate lists of a record


def _table(tenant: Tenant) -> sales_tax.SalesTaxTable:
    tax = TaxPolicy.of(tenant.policy)
    table = tax.sales if tax else None
    if table is None or table.exemption is None:
        raise RuleViolation("this tenant's policy takes no sales-tax exemption certificates (billing.tax.exemption)")
    return table


def verify_certificate(rt: Runtime, who: Principal, partner_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Record `who`'s verification of the partner's exemption certificate for a jurisdiction (audited)."""
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    table = _table(tenant)
    assert table.exemption is not None
    partner = partner_repository.record(rt.store, who.tenant_id, partner_id)
    if partner is None:
        raise NotFound(f"no partner {partner_id}")
    now = rt.clock.now_iso()
    cert = sales_tax.verified_certificate(table, partner.get("documents") or {}, body, today=instant(now).date(),
                                          by=who.actor, at=now, verification_id=rt.ids.new("req"))  # fmt: skip
    stored = rt.store.get(who.tenant_id, EXEMPTIONS, partner_id)
    record = sales_tax.with_verification(stored.data if stored else None, partner_id, cert)
    meanwhile = f"an exemption certificate of {partner_id} was verified meanwhile"
    changes = Changes(puts=[put_over(EXEMPTIONS, partner_id, record, stored, conflict_detail=meanwhile)])
    inputs = {k: cert[k] for k in ("verification_id", "jurisdiction", "reference", "checksum", "expires_at")}
    changes.audit.append(AuditEntry.by(who, "tax_exemption.verified", partner_id, f"exempt in {cert['jurisdiction']} "
                                       f"through {cert['expires_at']}", inputs=inputs,
                                       policy_version=tenant.policy_version, rule_ids=[table.exemption.rule_id],
                                       clauses=[table.exemption.clause], partner_id=partner_id))  # fmt: skip
    rt.commit(who.tenant_id, changes)
    return record


def get_certificates(rt: Runtime, who: Principal, partner_id: str) -> dict[str, Any]:
    """The partner's verified exemption certificates, the latest per jurisdiction in `current`. A partner key reads its
    own (PA-10.1: whether its certificate is "on file" and until when), with the verifier's team, never the staff key;
    another partner's id is a 404, as an id that does not exist."""
    if not who.sees_partner(partner_id):
        raise NotFound(f"no partner {partner_id}")
    stored = rt.store.get(who.tenant_id, EXEMPTIONS, partner_id)
    if stored is None:
        if not partner_repository.exists(rt.store, who.tenant_id, partner_id):
            raise NotFound(f"no partner {partner_id}")
        return {"partner_id": partner_id, "current": [], "history": []}
    if who.role is not Role.PARTNER:
        return stored.data
    teams = {part: [{**c, "verified_by": team_of(c["verified_by"])} for c in stored.data[part]] for part in PARTS}
    return {**stored.data, **teams}


def exemption_record(store: DocumentStore, tenant_id: str, partner_id: str) -> dict[str, Any] | None:
    """The partner's verified certificates `{partner_id, current, history}`, or None (services/billing/tax.py)."""
    stored = store.get(tenant_id, EXEMPTIONS, partner_id)
    return stored.data if stored else None


# --- a customer's certificates: the buyer of the Distributor's direct invoice (PA-8.1 with PA-10.1) ------------------
def record_customer_certificate(rt: Runtime, who: Principal, customer_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Record a customer's exemption certificate for a jurisdiction, verified by `who` (finance, channel operations):
    the Distributor's direct invoices to it are exempt there as a partner's own invoices are under its verified
    certificates (PA-10.1), checked by the same rules (`sales_tax.verified_certificate`). Audited."""
    key = vat_validation.customer_record_key(customer_id)
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    table = _table(tenant)
    assert table.exemption is not None
    now = rt.clock.now_iso()
    cert = sales_tax.verified_certificate(table, sales_tax.customer_filing(table, body), body,
                                          today=instant(now).date(), by=who.actor, at=now,
                                          verification_id=rt.ids.new("req"))  # fmt: skip
    stored = rt.store.get(who.tenant_id, CUSTOMER_EXEMPTIONS, key)
    record = sales_tax.with_verification(stored.data if stored else None, customer_id, cert, subject="customer_id")
    meanwhile = f"an exemption certificate of customer {customer_id} was recorded meanwhile"
    changes = Changes(puts=[put_over(CUSTOMER_EXEMPTIONS, key, record, stored, conflict_detail=meanwhile)])
    inputs = {k: cert[k] for k in ("verification_id", "jurisdiction", "reference", "checksum", "issued_at",
                                   "expires_at")}  # fmt: skip
    changes.audit.append(AuditEntry.by(who, "customer_tax_exemption.recorded", customer_id,
                                       f"exempt in {cert['jurisdiction']} through {cert['expires_at']}", inputs=inputs,
                                       policy_version=tenant.policy_version, rule_ids=[table.exemption.rule_id],
                                       clauses=[table.exemption.clause]))  # fmt: skip
    rt.commit(who.tenant_id, changes)
    return record


def get_customer_certificates(rt: Runtime, who: Principal, customer_id: str) -> dict[str, Any]:
    """A customer's recorded certificates (staff only: a partner never reads a customer's tax record). A customer is
    not a Revgov object: with no certificate recorded there is nothing to read (404)."""
    if who.role is Role.PARTNER:
        raise NotFound(f"no customer {customer_id}")
    stored = rt.store.get(who.tenant_id, CUSTOMER_EXEMPTIONS, vat_validation.customer_record_key(customer_id))
    if stored is None:
        raise NotFound(f"no exemption certificate is recorded for customer {customer_id}")
    return stored.data


def customer_exemption_record(store: DocumentStore, tenant_id: str, customer_id: str) -> dict[str, Any] | None:
    """The customer's recorded certificates `{customer_id, current, history}`, or None (services/billing/tax.py)."""
    key = vat_validation.stored_customer_key(customer_id)
    stored = store.get(tenant_id, CUSTOMER_EXEMPTIONS, key) if key else None
    return stored.data if stored else None
