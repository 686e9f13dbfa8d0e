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
