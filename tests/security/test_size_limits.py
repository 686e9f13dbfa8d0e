"""Body, batch and page sizes are bounded on every operation: 413 over the body limit (before any parsing), 400 over
a batch or page cap, and a page never longer than its cap."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

import revgov.edge.api  # noqa: F401  (fills the route table)
from revgov.edge.http import MAX_LIMIT
from revgov.edge.registry import OPERATIONS
from revgov.settings import settings
from security_support import Party, random_id, shipment
from support import assert_problem

LIMIT = settings().max_body_bytes


def _path(op: Any) -> str:
    return op.path.format(
        **{name: random_id(op.id_params.get(name, "ptr")) for name in re.findall(r"{([a-z_]+)}", op.path)}
    )


def _client(op: Any, party: Party, operator: Any, api: Any) -> Any:
    if op.public:
        return api
    roles = sorted(r.value for r in op.roles)
    if roles == ["operator"]:
        return operator
    return party.by_role.get("admin" if "admin" in roles else roles[0]) or party.partner_keys[party.partners[0]]


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_a_body_over_the_limit_is_413_on_every_operation(op, attacker, operator, api):
    client = _client(op, attacker, operator, api)
    raw = b'{"x":"' + b"a" * (LIMIT + 1) + b'"}'
    headers = {"Revgov-Tenant": attacker.tenant_id, "Revgov-Signature": "t=1,v1=00"} if op.raw_body else None
    assert_problem(client.request(op.method, _path(op), raw=raw, headers=headers), 413)  # before anything else


def test_a_signed_erp_body_over_the_limit_is_413(attacker):
    events = [shipment(attacker, attacker.partners[0]) for _ in range(100)]
    padded = json.dumps({"events": events}).encode() + b" " * LIMIT
    assert_problem(attacker.erp.post(raw=padded), 413)


def test_an_erp_batch_is_at_most_100_events(attacker):
    events = [shipment(attacker, attacker.partners[0]) for _ in range(101)]
    problem = assert_problem(attacker.erp.post({"events": events}), 400)
    assert any("/events" in e["path"] for e in problem["errors"])


# lists whose staff caller must name what it lists (GET /v1/waiting: a partner's waiting items, ?partner_id=)
REQUIRED_QUERY = {
    "list_waiting": lambda party: {"partner_id": party.partners[0]},
    "get_revenue_recognition": lambda party: {"period": "2026-11"},  # API.md: a period is required (400 without)
}


@pytest.mark.parametrize("op", [op for op in OPERATIONS if op.paginated], ids=lambda op: op.name)
def test_every_list_caps_its_page(op, attacker, operator, api):
    client = _client(op, attacker, operator, api)
    path = op.path.format(  # a list under an object (a draft's shadow checks) is read under a real one of the tenant
        **{name: attacker.objects[op.id_params.get(name, "ptr")][0] for name in re.findall(r"{([a-z_]+)}", op.path)}
    )
    named = REQUIRED_QUERY.get(op.name, lambda _: {})(attacker)
    assert_problem(client.get(path, limit=str(MAX_LIMIT + 1), **named), 400)
    assert_problem(client.get(path, limit="0", **named), 400)
    assert_problem(client.get(path, cursor="x" * 3000, **named), 400)
    page = client.get(path, limit=str(MAX_LIMIT), **named)
    assert page.status_code == 200, page.text[:300]
    assert len(page.json()["items"]) <= MAX_LIMIT
    assert len(client.get(path, limit="1", **named).json()["items"]) <= 1
