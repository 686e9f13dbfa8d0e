"""The edge's one check of a partner key's `?partner_id=` (edge/http.py build_call), without a stack; the routes over
HTTP are in tests/security/test_partner_filter.py. API.md: 404 "also for another tenant's or partner's object: never
confirm it exists"; DESIGN.md tenancy: a partner principal "sees only objects of its own partner id"."""

from __future__ import annotations

from typing import Any

import pytest

from revgov.domain.errors import MalformedRequest, NotFound
from revgov.edge import http
from revgov.edge.registry import OPERATIONS
from revgov.edge.routes import load_all

OWN, RIVAL = "ptr_01JX00000000000000000000A1", "ptr_01JX00000000000000000000B2"


def _operation(path: str) -> Any:
    load_all()
    return next(op for op in OPERATIONS if op.method == "GET" and op.path == path)


def _call(path: str, role: str, query: dict[str, str], partner_id: str | None = OWN) -> http.Call:
    context = {"verdict": "ok", "tenant_id": "northwind", "role": role, "key_id": "key_x", "partner_id": partner_id}
    return http.build_call(_operation(path), context=context, headers={}, params={}, query=query, raw_body=b"",
                           runtime=None, max_body_bytes=1024, correlation_id="c")  # fmt: skip


@pytest.mark.parametrize("path", ["/v1/invoices", "/v1/decisions", "/v1/billing/subscriptions"])
def test_a_rivals_id_and_an_unknown_one_are_the_same_404(path):
    refusals = []
    for named in (RIVAL, "ptr_01JX00000000000000000000ZZ"):
        with pytest.raises(NotFound) as refused:
            _call(path, "partner", {"partner_id": named})
        refusals.append((refused.value.status, refused.value.title, refused.value.detail.replace(named, "ID")))
    assert refusals[0] == refusals[1] == (404, refusals[0][1], "no partner ID")


def test_its_own_id_or_none_passes_to_the_use_case_and_staff_filters_are_unchanged():
    assert _call("/v1/invoices", "partner", {"partner_id": OWN}).query == {"partner_id": OWN}
    assert _call("/v1/invoices", "partner", {}).query == {}
    assert _call("/v1/invoices", "finance", {"partner_id": RIVAL}, partner_id=None).query == {"partner_id": RIVAL}


def test_a_malformed_id_is_the_400_every_caller_gets_before_the_partner_check():
    with pytest.raises(MalformedRequest) as refused:
        _call("/v1/invoices", "partner", {"partner_id": "ptr_../../x"})
    assert [e.path for e in refused.value.errors] == ["/query/partner_id"]
