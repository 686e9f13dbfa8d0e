"""A customer's VIES checks (contoso, VAT) and exemption certificates (northwind, sales tax) over HTTP: who records
and reads them, and bad requests.

PA-8.1 / CPA-8.1: the Distributor invoices the Customer directly; CPA-2.3 / COP-2.2: the reverse charge "only while the
number validates", "within the last 30 days"; PA-10.1: "a valid certificate on file before the invoice is issued". The
treatment of the direct invoice is in tests/unit/test_customer_vat_validation.py and test_customer_tax_exemption.py
on a fixed clock; here every date is read from the stack's clock when the test runs.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest

import clock_support
from support import assert_problem

pytestmark = pytest.mark.stack


def _keys(stack: Any, api: Any, tenant: str) -> dict[str, Any]:
    keys = stack.info["tenants"][tenant]["keys"]
    return {role: api.as_key(key) for role, key in keys.items()}


def test_staff_record_a_customers_vies_check_partners_never_and_bad_ids_are_404(stack, api):
    keys = _keys(stack, api, "contoso")
    customer = f"CUST-VIES-{uuid.uuid4().hex[:8]}"
    path = f"/v1/customers/{customer}/vat-validations"
    now = clock_support.now()
    body = {"result": "valid", "checked_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "reference": "WAPI-1",
            "vat_number": "BE0123456789"}  # fmt: skip
    partner = next(c for role, c in keys.items() if role.startswith("ptr_"))
    assert_problem(partner.post(path, body), 403)
    assert_problem(partner.get(path), 403)
    assert_problem(keys["finance"].post(path, {**body, "result": "maybe"}), 400)
    assert_problem(keys["finance"].post(path, {**body, "customer_id": "X"}), 400)
    later = (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert assert_problem(keys["finance"].post(path, {**body, "checked_at": later}), 422)["errors"][0]["path"] == \
        "/checked_at"
    assert_problem(keys["finance"].get("/v1/customers/-bad-/vat-validations"), 404)
    assert_problem(keys["finance"].get(path), 404)  # nothing was recorded
    made = keys["channel_ops"].post(path, body)
    assert made.status_code == 201, made.text
    assert keys["viewer"].get(path).json()["latest"]["reference"] == "WAPI-1"


def test_staff_record_a_customers_exemption_certificate_and_a_vat_tenant_has_none(stack, api):
    keys = _keys(stack, api, "northwind")
    customer = f"CUST-EX-{uuid.uuid4().hex[:8]}"
    path = f"/v1/customers/{customer}/tax-exemptions"
    today: date = clock_support.today()
    body = {"jurisdiction": "US-CA", "reference": "dms://c/ca.pdf", "checksum": "sha256:" + "ab" * 32,
            "issued_at": (today - timedelta(days=30)).isoformat(),
            "expires_at": (today + timedelta(days=365)).isoformat()}  # fmt: skip
    assert_problem(keys["finance"].post(path, {**body, "checksum": "md5:1"}), 400)
    assert_problem(keys["finance"].post(path, {**body, "expires_at": (today - timedelta(days=1)).isoformat()}), 422)
    made = keys["finance"].post(path, body)
    assert made.status_code == 201, made.text
    assert [c["jurisdiction"] for c in keys["finance"].get(path).json()["current"]] == ["US-CA"]
    contoso = _keys(stack, api, "contoso")
    assert_problem(contoso["finance"].post(f"/v1/customers/{customer}/tax-exemptions", body), 422)
