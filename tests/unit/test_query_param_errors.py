"""A query parameter that does not match its declaration is a 400 problem that names the field and says, in the
parameter's own words (the description the OpenAPI publishes), what it must be.

API.md: "Errors are `application/problem+json` (RFC 9457) ... `errors: [{path, message}]` for validation. 400
malformed" and "validation errors name the field in `path`". RFC 9457 3.1.4: "The "detail" member is a JSON string
containing a human-readable explanation specific to this occurrence of the problem" -- a regular expression alone
("must be matching (19|20|21)[0-9]{2}-Q[1-4]") is not one a finance analyst can act on.
"""

from __future__ import annotations

import pytest

import revgov.edge.api  # noqa: F401  (fills the route table)
from revgov.domain.errors import MalformedRequest
from revgov.edge.http import _check_query
from revgov.edge.registry import OPERATIONS


def _op(method: str, path: str):
    return next(op for op in OPERATIONS if op.method == method and op.path == path)


def test_a_bad_quarter_names_the_field_and_says_a_quarter_like_2026_q4():
    op = _op("GET", "/v1/partners/{partner_id}/performance-summary")
    with pytest.raises(MalformedRequest) as bad:
        _check_query(op, {"period": "2026-Q5"})
    assert [e.path for e in bad.value.errors] == ["/query/period"]
    assert "a quarter (2026-Q4)" in bad.value.detail and "a quarter (2026-Q4)" in bad.value.errors[0].message
    assert bad.value.detail.startswith("query parameter period ")


def test_a_value_outside_an_enumeration_lists_the_allowed_values_in_a_sentence():
    op = _op("GET", "/v1/invoices")
    with pytest.raises(MalformedRequest) as bad:
        _check_query(op, {"status": "issued"})
    assert [e.path for e in bad.value.errors] == ["/query/status"]
    assert bad.value.detail.endswith("must be one of draft, finalized"), bad.value.detail


def test_every_declared_parameter_with_a_rule_has_words_for_its_error():
    declared = [(op.path, q.name) for op in OPERATIONS for q in op.query
                if (q.pattern or q.enum) and not q.description.strip()]  # fmt: skip
    assert declared == []
