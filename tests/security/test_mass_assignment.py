"""Server-owned fields never come from the client: no mass assignment, at any depth, on any operation.

Every request body schema is closed (no additional properties anywhere) and bounded; every body operation refuses a
server-owned field (tenant_id, status, approved_by, outcome of a decision, computed prices...) with 400 naming it and
changes nothing; and where a field is the client's to give (a partner_id, an outcome), the server still decides who
may give it: a partner key names only itself, and a decision records the caller as its author.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

import revgov.edge.api  # noqa: F401  (fills the route table)
from revgov import schemas
from revgov.edge.openapi import example_body
from revgov.edge.registry import OPERATIONS
from security_support import Party, quote_for, random_id
from support import ROOT, assert_problem

SERVER_OWNED = (
    "tenant_id", "status", "approved_by", "decided_by", "created_by", "created_at", "registered_by", "finalized_by",
    "outcome", "decision", "policy_version", "version", "hash", "prev_hash", "approvals", "history", "net_price",
    "net_total", "totals", "margin_percent", "key", "secret", "revoked_at", "partner_tier", "expires_at",
)
BODY_OPS = [op for op in OPERATIONS if op.body_schema]


def _open_objects(node: Any, path: str = "") -> list[str]:
    """JSON pointers of object schemas that accept properties they do not name, or arrays/strings left unbounded."""
    found = []
    if isinstance(node, dict):
        is_object = node.get("type") == "object" or "properties" in node
        typed_map = isinstance(node.get("additionalProperties"), dict)  # a map (tier -> caps): its values are typed
        if is_object and node.get("additionalProperties") is not False and "$ref" not in node and not typed_map:
            found.append(f"{path} (open object)")
        if node.get("type") == "array" and "maxItems" not in node:
            found.append(f"{path} (array without maxItems)")
        bounded = ("maxLength", "enum", "pattern", "const")
        if node.get("type") == "string" and not any(k in node for k in bounded) and node.get("format") != "date":
            found.append(f"{path} (string without maxLength)")
        for key, value in node.items():
            found += _open_objects(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _open_objects(value, f"{path}/{i}")
    return found


@pytest.mark.parametrize("name", sorted({op.body_schema for op in BODY_OPS if op.body_schema != "tenant.schema.json"}))
def test_every_request_body_schema_is_closed_and_bounded(name):
    problems = _open_objects(schemas.schema(name))
    if name == "api/erp-event-batch.schema.json":  # each event is validated against events/erp-event on its own
        problems = [p for p in problems if not p.startswith("/properties/events/items ")]
    assert not problems, problems


def test_the_erp_event_and_tenant_schemas_are_closed():
    """ERP events (each type's payload, chosen by if/then on `type`) and tenant configurations take no unknown field."""
    erp_types = [f"events/{path.stem}.schema.json" for path in (ROOT / "events" / "revgov.erp").glob("*.json")]
    names = ["events/erp-event.schema.json", *erp_types, "tenant.schema.json"]
    names += [n for n in schemas.names() if n.startswith("policy/")]
    for name in names:
        opened = [
            p for p in _open_objects(schemas.schema(name))
            if "open object" in p and "/if" not in p and "/then" not in p and not p.startswith("/properties/data ")
            and not (name.startswith("events/") and p == " (open object)")  # EventBridge's own envelope fields
        ]
        assert not opened, (name, opened)


def _declared(schema_name: str) -> set[str]:
    return set(schemas.schema(schema_name).get("properties", {}))


@pytest.mark.parametrize("op", BODY_OPS, ids=lambda op: op.name)
def test_a_server_owned_field_is_refused_by_name(op, attacker, operator):
    role = next(r.value for r in sorted(op.roles, key=lambda r: r.value != "admin"))
    partner = attacker.partner_keys[attacker.partners[0]]
    client = operator if role == "operator" else attacker.by_role.get(role) or partner
    body = example_body(op)
    before = attacker.admin.get("/v1/audit/verify").json()["records"]
    for field in (f for f in SERVER_OWNED if f not in _declared(op.body_schema)):
        sent = {**copy.deepcopy(body), field: "injected"}
        path = op.path.format(
            **{name: random_id(op.id_params.get(name, "ptr")) for name in op.id_params} | _tenant_param(op, attacker)
        )
        problem = assert_problem(client.request(op.method, path, sent), 400)
        assert field in json.dumps(problem["errors"]), (op.name, field, problem)
    assert attacker.admin.get("/v1/audit/verify").json()["records"] == before


# path parameters that are names, not typed ids (a customer id is the ERP's, erp-event.schema.json)
NAMED_PARAMS = {"tenant_id": "no-such-tenant", "document": "FPA", "customer_id": "CUST-PROBE-1"}


def _tenant_param(op: Any, party: Party) -> dict[str, str]:
    return {name: value for name, value in NAMED_PARAMS.items() if f"{{{name}}}" in op.path}


def test_computed_prices_on_quote_lines_are_refused(attacker):
    quote = quote_for(attacker, attacker.partners[0])
    # list_price, unit_cost and family are the price list's (PA-1.2, PA-6.1), never the caller's
    for field in ("net_price", "net_total", "margin_percent", "approved", "list_price", "unit_cost", "family"):
        tampered = copy.deepcopy(quote)
        tampered["lines"][0][field] = "0.01"
        problem = assert_problem(attacker.by_role["sales"].post("/v1/pricing/check", tampered), 400)
        assert field in json.dumps(problem["errors"])


def test_a_partner_key_acts_only_as_its_own_partner(victim):
    own, other = victim.partners
    key = victim.partner_keys[own]
    assert key.post("/v1/pricing/check", quote_for(victim, other)).status_code == 404
    assert key.post("/v1/copilot/ask", {"question": "What is my rebate?", "partner_id": other}).status_code == 404
    deal = {
        "partner_id": other,
        "customer": {"id": "CUST-X", "name": "X"},
        "family": "devices",
        "estimated_value": "1000.00",
        "expected_close": "2099-01-01",
    }
    assert key.post("/v1/deals", deal).status_code == 404
    mine = key.post("/v1/pricing/check", quote_for(victim, own))
    assert mine.status_code == 200 and mine.json()["partner_id"] == own


def test_a_decision_records_its_caller_not_what_the_body_says(victim):
    """`outcome` is the caller's to give; who decided is not: the decision names the key that sent it."""
    approval = next(
        a for a in (victim.admin.get(f"/v1/approvals/{i}").json() for i in victim.objects["apr"])
        if a["status"] == "pending"
    )
    role = approval["queue"]  # each queue is decided by the role of the same name
    refused = victim.by_role[role].post(
        f"/v1/approvals/{approval['case_id']}/decision",
        {"outcome": "approved", "note": "x", "by": "admin:key_01JX0000000000000000000000"},
    )
    assert_problem(refused, 400)
    decided = victim.by_role[role].post(f"/v1/approvals/{approval['case_id']}/decision", {"outcome": "approved"})
    assert decided.status_code == 200, decided.text
    assert decided.json()["decision"]["by"] == f"{role}:{victim.key_ids[role]}"
    assert decided.json()["status"] == "approved"


def test_a_key_cannot_be_bound_to_another_tenants_partner(attacker, victim):
    minted = attacker.admin.post(
        "/v1/keys", {"role": "partner", "label": "x", "partner_id": victim.partners[0]}
    )
    assert_problem(minted, 422)
    assert_problem(attacker.admin.post("/v1/keys", {"role": "operator", "label": "x"}), 400)
