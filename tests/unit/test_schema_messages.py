"""What a caller reads when a number is where the API wants something else.

README: "money is always a decimal string"; errors are problem+json (RFC 9457, whose `detail` and extension members are
for the caller to read) with `errors: [{path, message}]`. The HTTP edge keeps a JSON number with a fraction as a
Decimal (`edge.http.parse_json`: money never becomes a float), so jsonschema's own message quoted the Python object:
a reseller sending `"estimated_value": 1000.5` read `Decimal('1000.5') is not of type 'string'`, text their JSON never
held. The message quotes the number as it was sent and says how money is written.
"""

from __future__ import annotations

from revgov import schemas
from revgov.edge.http import parse_json

DEAL = "api/deal-registration.schema.json"


def _deal(value: str) -> bytes:
    return ('{"partner_id": "ptr_01JX0000000000000000000000", "customer": {"id": "US-EIN-98-7654321", '
            '"name": "Harbor Logistics", "contact": "Morgan Lee"}, "family": "networking", '
            f'"estimated_value": {value}, "expected_close": "2027-02-15"}}').encode()  # fmt: skip


def test_a_number_sent_for_money_is_named_as_sent_and_the_message_says_money_is_a_decimal_string():
    (error,) = schemas.problems(DEAL, parse_json(_deal("1000.5")))
    assert error.path == "/estimated_value"
    assert "Decimal" not in error.message
    assert error.message.startswith("1000.5 is not of type 'string'")
    assert 'a decimal string, e.g. "1000.50"' in error.message


def test_a_whole_number_reads_the_same_way():
    (error,) = schemas.problems(DEAL, parse_json(_deal("84000")))
    assert error.path == "/estimated_value" and error.message.startswith("84000 is not of type 'string'")
    assert 'a decimal string, e.g. "1000.50"' in error.message


def test_a_string_in_the_wrong_form_keeps_the_pattern_message():
    (error,) = schemas.problems(DEAL, parse_json(_deal('"84,000"')))
    assert error.path == "/estimated_value" and error.message.startswith('"84,000" does not match')


def test_a_value_matching_none_of_a_fields_forms_is_told_the_forms_the_field_takes():
    # Found as a new MSP: a branding logo at an http URL read `"http://..." is not valid under any of the given
    # schemas`. schemas/tenant.schema.json describes the field: "Logo shown on the portal: an https URL, or an inline
    # data:image/svg+xml;base64, URI."
    from revgov.tenant_files import load_tenant_file
    from support import ROOT  # the repository's tenants

    config = load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml")
    config["branding"]["logo_url"] = "http://evil.example/logo.svg"
    (error,) = schemas.problems("tenant.schema.json", config)
    assert error.path == "/branding/logo_url"
    assert error.message.startswith('"http://evil.example/logo.svg" is none of the forms this field takes')
    assert "an https URL, or an inline data:image/svg+xml;base64, URI" in error.message


def test_a_string_in_the_wrong_form_is_also_told_the_form_the_field_describes():
    # Found as a new reseller: a quote line's `"discount_percent": "10.005"` read only `"10.005" does not match
    # '^[0-9]{1,2}(\\.[0-9]{1,2})?$|^100(\\.0{1,2})?$'`, a regular expression. The field's description in
    # schemas/api/pricing-check.schema.json says the form in words; the message keeps the pattern and adds it.
    body = {"partner_id": "ptr_01JX0000000000000000000000", "quote_ref": "Q-1", "customer": {"id": "C-1", "name": "C"},
            "lines": [{"line_id": "1", "sku": "NW-SW-24P", "quantity": 1, "discount_percent": "10.005"}]}
    (error,) = schemas.problems("api/pricing-check.schema.json", body)
    assert error.path == "/lines/0/discount_percent"
    assert error.message.startswith('"10.005" does not match')
    assert "at most two decimals" in error.message


def test_a_number_sent_for_free_text_is_named_once_and_not_told_it_is_money():
    # Found by the lead trying a new route (1.59.0, PA-7.8): `POST /v1/partners/{id}/bank-transfer-request` with
    # `{"note": 5}` answered the same error twice (the field says `"type": "string"` and its `$ref` to the text
    # definition says it again) and told the caller "money and decimal quantities are sent as a decimal string" about
    # a note. RFC 9457 §3.1 ("detail ... focused on helping the client correct the problem"): one error per field and
    # problem, and the money hint only where the field is written as a decimal.
    errors = schemas.problems("api/bank-transfer-request.schema.json", parse_json(b'{"note": 5}'))
    assert [e.path for e in errors] == ["/note"]
    assert errors[0].message.startswith("5 is not of type 'string'")
    assert "decimal" not in errors[0].message


def test_a_batch_over_its_bound_is_told_how_many_it_sent_and_the_bound_not_a_dump_of_its_items():
    # Found as a new ERP integrator (ninth round): docs/billing.md "`{"events": [...]}` with 1 to 100 events"; a batch
    # of 101 answered `"[{'id': 'X0', 'type': 'usage.reported', 'occurred_at': '2026-12-" (and 9219 more characters) is
    # too long`: the Python form of the first items, which no JSON the caller sent holds, and not the bound. RFC 9457
    # §3.1: "detail ... focused on helping the client correct the problem".
    event = {"id": "X0", "type": "usage.reported", "occurred_at": "2026-12-07T10:00:00Z", "data": {}}
    (error,) = schemas.problems("api/erp-event-batch.schema.json", {"events": [event] * 101})
    assert error.path == "/events"
    assert error.message == "101 items; at most 100 are accepted"


def test_a_quote_over_its_line_bound_reads_the_same_way():
    # README: "1,000-line quotes are stored in parts"; schemas/api/pricing-check.schema.json: lines maxItems 1000
    line = {"line_id": "1", "sku": "NW-SW-24P", "quantity": 1}
    body = {"partner_id": "ptr_01JX0000000000000000000000", "quote_ref": "Q-1", "customer": {"id": "C-1", "name": "C"},
            "lines": [line] * 1001}
    (error,) = schemas.problems("api/pricing-check.schema.json", body)
    assert error.path == "/lines" and error.message == "1001 items; at most 1000 are accepted"


def test_a_too_long_text_is_told_its_bound():
    # schemas/api/mdf-claim.schema.json: a supplier invoice reference has maxLength 200
    body = {"evidence": {"proof_of_execution": "photos", "invoices": ["x" * 201]}}
    errors = [e for e in schemas.problems("api/mdf-claim.schema.json", body) if e.path == "/evidence/invoices/0"]
    assert errors and errors[0].message.endswith("is too long (at most 200 characters)")
    assert "x" * 65 not in errors[0].message
