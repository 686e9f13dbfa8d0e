"""VAT checks staff made in VIES, recorded on the partner (CPA-2.3, CPA-7.8) or on a customer the Distributor invoices
directly (PA-8.1 / CPA-8.1 with COP-2.2; services/vat_validation.py)."""

from __future__ import annotations

from typing import Any

from ...domain.access import Role
from ...services import vat_validation
from ..http import Call
from ..registry import STAFF, operation

# CPA-2.3: Contoso validates "at admission" (channel operations onboard) "and again before each quarterly rebate
# settlement" (finance, COP-7.2 "VIES re-validation of all Partner VAT numbers by Q + 5 days")
RECORDERS = frozenset({Role.FINANCE, Role.CHANNEL_OPS})
_PARTNER = {"partner_id": "ptr"}


@operation(
    "POST",
    "/v1/partners/{partner_id}/vat-validations",
    summary="Record a VAT check made in VIES (result, when, VIES reference; Revgov does not reach VIES): the latest "
    "invalid, or made on or before a Quarter's last day, withholds that Quarter's settlement (CPA-7.8); invalid, "
    "it holds new orders and opens a vat_validation_failure exception (CPA-2.3)",
    roles=RECORDERS,
    tag="partners",
    id_params=_PARTNER,
    status=201,
    body_schema="api/vat-validation.schema.json",
    example={"result": "valid", "checked_at": "2026-10-02T09:00:00Z", "reference": "WAPIAAAAZ1abCdEf"},
    response_schema="api/responses/vat-validation.schema.json",
)
def record_vat_validation(call: Call) -> dict[str, Any]:
    return vat_validation.record_check(call.runtime, call.who, call.params["partner_id"], call.body)


@operation(
    "GET",
    "/v1/partners/{partner_id}/vat-validations",
    summary="A partner's recorded VAT checks: the latest and the ones before it (staff)",
    roles=STAFF,
    tag="partners",
    id_params=_PARTNER,
    response_schema="api/responses/vat-validation.schema.json",
)
def get_vat_validations(call: Call) -> dict[str, Any]:
    return vat_validation.get_checks(call.runtime, call.who, call.params["partner_id"])


@operation(
    "POST",
    "/v1/customers/{customer_id}/vat-validations",
    summary="Record a VIES check of a customer's VAT number (the buyer of the Distributor's direct invoice, "
    "PA-8.1 / CPA-8.1; Revgov does not reach VIES): its direct invoices are treated as the partner's own are, reverse "
    "charge only for another member state's number validated within 30 days before issue (CPA-2.3, COP-2.2), "
    "otherwise VAT; a tenant under sales tax is 422",
    roles=RECORDERS,
    tag="billing",
    status=201,
    body_schema="api/vat-validation.schema.json",
    example={"result": "valid", "checked_at": "2026-10-20T09:00:00Z", "reference": "WAPIAAAAZ9xyZwVu",
             "vat_number": "BE0123456789"},
    response_schema="api/responses/customer-vat-validation.schema.json",
)
def record_customer_vat_validation(call: Call) -> dict[str, Any]:
    return vat_validation.record_customer_check(call.runtime, call.who, call.params["customer_id"], call.body)


@operation(
    "GET",
    "/v1/customers/{customer_id}/vat-validations",
    summary="A customer's recorded VIES checks: the latest and the ones before it (staff)",
    roles=STAFF,
    tag="billing",
    response_schema="api/responses/customer-vat-validation.schema.json",
)
def get_customer_vat_validations(call: Call) -> dict[str, Any]:
    return vat_validation.get_customer_checks(call.runtime, call.who, call.params["customer_id"])
