"""A browser page on an allowed origin can read whether its retry was replayed.

docs/api.md (from the README): "Browser apps on a tenant's `branding.allowed_origins` may call the API (CORS ...)" and
"Every authenticated
`POST` accepts `Idempotency-Key` ...: the same key and body replay the first status and body (`Idempotent-Replayed:
true`)". The Fetch standard (CORS protocol, "Access-Control-Expose-Headers"): a response header that is not
CORS-safelisted is hidden from the page unless the response names it there, so `response.headers.get(
"Idempotent-Replayed")` read null in the portal of an allowed origin although the page may send `Idempotency-Key`.
"""

from __future__ import annotations

from memory_store import Ledger
from revgov.edge import cors
from revgov.edge.idempotency import REPLAYED_HEADER

NORTHWIND_ORIGIN = "https://partners.northwind.example"  # tenants/northwind/tenant.yaml branding.allowed_origins


def test_an_allowed_origin_may_read_the_replay_flag_as_it_may_send_the_key():
    rt = Ledger("2026-12-07T09:00:00Z").rt
    headers = cors.response_headers(rt, NORTHWIND_ORIGIN, "northwind")
    assert headers["Access-Control-Allow-Origin"] == NORTHWIND_ORIGIN
    exposed = [h.strip() for h in headers["Access-Control-Expose-Headers"].split(",")]
    assert REPLAYED_HEADER == "Idempotent-Replayed" and REPLAYED_HEADER in exposed
    assert "Idempotency-Key" in cors.ALLOW_HEADERS


def test_an_origin_the_tenant_does_not_list_is_exposed_nothing():
    rt = Ledger("2026-12-07T09:00:00Z").rt
    headers = cors.response_headers(rt, "https://channel.contoso.example", "northwind")
    assert "Access-Control-Expose-Headers" not in headers and "Access-Control-Allow-Origin" not in headers
