"""Sales-tax exemption certificates verified by staff (PA-10.1; services/tax_exemptions.py)."""

from __future__ import annotations

from typing import Any

from ...domain.access import Role
from ...services import tax_exemptions
from ..http import Call
from ..registry import STAFF, operation

# PA-10.1 puts the certificate "on file" for the invoice Finance issues; channel operations receive and verify partner
# documents at onboarding (PA-2.2 "received and verified"), where PA-2.3(b) asks a Reseller for one per state.
VERIFIERS = frozenset({Role.FINANCE, Role.CHANNEL_OPS})
_PARTNER = {"partner_id": "ptr"}


@operation(
    "POST",
    "/v1/partners/{partner_id}/tax-exemptions",
    summary="Verify the sales-tax exemption certificate a partner filed for a jurisdiction (the reference on file, "
    "the expiry read on it): its lines there are exempt on invoices issued after this and on or before the expiry "
    "(PA-10.1)",
    roles=VERIFIERS,
    tag="partners",
    id_params=_PARTNER,
    status=201,
    body_schema="api/tax-exemption.schema.json",
    example={"jurisdiction": "US-CA", "reference": "dms://exemptions/ca-resale.pdf", "expires_at": "2027-12-31"},
    response_schema="api/responses/tax-exemption.schema.json",
)
def verify_tax_exemption(call: Call) -> dict[str, Any]:
    return tax_exemptions.verify_certificate(call.runtime, call.who, call.params["partner_id"], call.body)


@operation(
    "GET",
    "/v1/partners/{partner_id}/tax-exemptions",
    summary="A partner's verified sales-tax exemption certificates: the latest per jurisdiction and every "
    "verification (a partner key: its own, the verifier's team only; PA-10.1 'a valid certificate on file')",
    roles=frozenset(STAFF | {Role.PARTNER}),
    tag="partners",
    id_params=_PARTNER,
    response_schema="api/responses/tax-exemption.schema.json",
)
def get_tax_exemptions(call: Call) -> dict[str, Any]:
    return tax_exemptions.get_certificates(call.runtime, call.who, call.params["partner_id"])


@operation(
    "POST",
    "/v1/customers/{customer_id}/tax-exemptions",
    summary="Record the sales-tax exemption certificate a customer of the Distributor's direct invoices holds for a "
    "jurisdiction (reference, checksum, issue day, the expiry read on it): its direct invoices' lines there are exempt "
    "when issued after this and on or before the expiry (PA-10.1, PA-8.1)",
    roles=VERIFIERS,
    tag="billing",
    status=201,
    body_schema="api/customer-tax-exemption.schema.json",
    example={"jurisdiction": "US-CA", "reference": "dms://customers/CUST-CA-1/ca-exemption.pdf",
             "checksum": "sha256:" + "ab" * 32, "issued_at": "2026-06-01", "expires_at": "2027-12-31"},
    response_schema="api/responses/customer-tax-exemption.schema.json",
)
def record_customer_tax_exemption(call: Call) -> dict[str, Any]:
    return tax_exemptions.record_customer_certificate(call.runtime, call.who, call.params["customer_id"], call.body)


@operation(
    "GET",
    "/v1/customers/{customer_id}/tax-exemptions",
    summary="A customer's recorded sales-tax exemption certificates: the latest per jurisdiction and every one (staff)",
    roles=STAFF,
    tag="billing",
    response_schema="api/responses/customer-tax-exemption.schema.json",
)
def get_customer_tax_exemptions(call: Call) -> dict[str, Any]:
    return tax_exemptions.get_customer_certificates(call.runtime, call.who, call.params["customer_id"])
