"""One partner-scope rule for the routes under /v1/partners/{partner_id}: the use case's (`partners.visible_id`), no
second copy at the edge; a rival partner's id is still the 404 of an id that exists nowhere on every such route a
partner key may call.

API.md: an unknown id is 404 "also for another tenant's or partner's object: never confirm it exists". SECURITY.md:
"object-level check on every read, list, search and copilot retrieval (`Principal.sees_partner`)". The edge checked the
path's id (`routes/partners.py` `_own`) and then each use case checked it again (`partners._visible`,
`partner_departures.record`, `partner_type_changes.request_change`): two ways to do one thing. The use case's stays
(every other /v1/partners/{partner_id} route and every caller that is no route rely on it); the entitlement reads,
which had only the edge's, now go through it too (`support_hours.read_entitlements`). In-memory engine, fixed clock.
"""

from __future__ import annotations

import ast
from types import SimpleNamespace
from typing import Any

import pytest

import revgov.edge.api  # noqa: F401  (declares every operation)
from memory_store import Ledger
from revgov.domain.access import Principal, Role
from revgov.domain.errors import NotFound
from revgov.edge.openapi import example_body
from revgov.edge.registry import OPERATIONS, Operation
from support import ROOT

P1, P2 = "ptr_01JBNWPARTNER0000000000001", "ptr_01JBNWPARTNER0000000000002"
ROUTES = ROOT / "functions" / "revgov" / "edge" / "routes" / "partners.py"


def _partner_routes() -> list[Operation]:
    """The operations of routes/partners.py under a partner's own path that a partner key may call."""
    return [op for op in OPERATIONS if op.path.startswith("/v1/partners/{partner_id}") and Role.PARTNER in op.roles
            and op.handler.__module__.endswith("routes.partners")]  # fmt: skip


def _call(ledger: Ledger, op: Operation, partner_id: str, who: Principal) -> Any:
    params = {"partner_id": partner_id, "name": "deal_registration"}
    call = SimpleNamespace(runtime=ledger.rt, who=who, params=params, query={}, body=example_body(op) or {},
                           limit=50, cursor=None, headers={})  # fmt: skip
    return op.handler(call)


def test_the_affected_routes_are_the_ones_a_partner_key_may_call():
    names = {op.name for op in _partner_routes()}
    assert names == {"get_partner", "add_partner_document", "record_certification_departure",
                     "request_partner_type_change", "record_partner_ownership_change", "list_partner_entitlements",
                     "get_partner_entitlement"}  # fmt: skip


@pytest.mark.parametrize("name", sorted(op.name for op in _partner_routes()))
def test_a_rival_partners_id_is_404_like_an_id_that_exists_nowhere(name: str) -> None:
    ledger = Ledger("2026-11-10T09:00:00Z")
    op = next(o for o in _partner_routes() if o.name == name)
    as_p1 = Principal("northwind", Role.PARTNER, "key_p1", P1)
    before = ledger.rt.store.get("northwind", "PARTNER", P2)
    with pytest.raises(NotFound) as rival:
        _call(ledger, op, P2, as_p1)
    with pytest.raises(NotFound) as nowhere:
        _call(ledger, op, "ptr_01JBNWPARTNER0000000000999", as_p1)
    assert rival.value.detail.replace(P2, "<id>") == nowhere.value.detail.replace(
        "ptr_01JBNWPARTNER0000000000999", "<id>")
    after = ledger.rt.store.get("northwind", "PARTNER", P2)
    assert before is not None and after is not None and after.version == before.version  # nothing changed


@pytest.mark.parametrize("name", ["get_partner", "list_partner_entitlements", "get_partner_entitlement"])
def test_the_partner_still_reads_its_own(name: str) -> None:
    ledger = Ledger("2026-11-10T09:00:00Z")
    op = next(o for o in _partner_routes() if o.name == name)
    answer = _call(ledger, op, P1, Principal("northwind", Role.PARTNER, "key_p1", P1))
    assert answer.get("partner_id", P1) == P1


def test_the_edge_keeps_no_second_copy_of_the_rule():
    """One way: routes/partners.py no longer compares the caller with the path's partner (`sees_partner`)."""
    tree = ast.parse(ROUTES.read_text())
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "sees_partner"]
