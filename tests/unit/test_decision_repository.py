"""Stored decisions (issue #21 follow-up): `services/decision_repository.py` is the one module that names the decision
collections (`DECISION`, its partner lookup, `DECISION_PART`) and hands back `Decision` entities with the fields of the
decision schema.

schemas/api/responses/decision.schema.json: "The full record of a decision: the facts it was made on (`inputs`), what
the rules found (`result`), its status and the approvals that decided it." A head whose body is too large for one
item keeps it in parts (`body`: DynamoDB caps an item at 400 KB), put back together by `whole`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from memory_store import memory_runtime
from revgov.domain.access import Principal, Role
from revgov.domain.errors import NotFound
from revgov.ports import Changes
from revgov.services import decision_repository, decisions

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-11-10T10:00:00.000Z"
SALES = Principal("northwind", Role.SALES, "key_01JX0000000000000000000SAL")


def test_the_decision_entity_has_the_fields_of_the_decision_schema_and_the_body_of_a_head() -> None:
    schema = json.loads((ROOT / "schemas" / "api" / "responses" / "decision.schema.json").read_text())
    fields = set(decision_repository.Decision.__annotations__)
    assert fields == set(schema["properties"]) | {"body"}
    assert set(schema["required"]) <= fields


def _decision(decision_id: str, partner_id: str | None, at: str, *, filler: int = 0) -> decision_repository.Decision:
    return decisions.new_decision(
        decision_id=decision_id, kind="pricing", subject={"kind": "quote", "id": decision_id}, partner_id=partner_id,
        policy_version="pv_1", inputs={"quote": {"note": "x" * filler}}, result={"outcome": "allow", "lines": []},
        actor=SALES, at=at,
    )


def test_a_decision_too_large_for_one_item_is_stored_in_parts_and_read_back_whole(monkeypatch: Any) -> None:
    rt, _ = memory_runtime(NOW)
    monkeypatch.setattr(decision_repository, "BODY_INLINE_CHARS", 1_000)
    monkeypatch.setattr(decision_repository, "PART_CHARS", 400)
    large = _decision("dec_01JX00000000000000000000L1", "ptr_a", NOW, filler=2_000)
    puts = decision_repository.puts(large)
    assert [p.collection for p in puts] == [decision_repository.DECISIONS] + [decision_repository.PARTS] * 6
    rt.store.commit("northwind", Changes(puts=puts))
    head = decision_repository.head(rt.store, "northwind", large["decision_id"])
    assert "inputs" not in head.data and head.data["body"]["parts"] == 6
    assert decision_repository.whole(rt.store, "northwind", head.data) == large
    small = _decision("dec_01JX00000000000000000000S1", "ptr_a", NOW)
    assert [p.collection for p in decision_repository.puts(small)] == [decision_repository.DECISIONS]


def test_a_partners_decisions_are_listed_newest_first_and_no_other_partners() -> None:
    """docs/api-changelog.md: "A partner key always gets its own, newest first, whatever `partner_id` it sends;
    staff get one partner's (`?partner_id=`) newest first, or the tenant's." (Since 1.56.1 a partner key's
    `partner_id` of another partner is a 404 at the edge, tests/security/test_partner_filter.py; the repository
    pages one partner's.)"""
    rt, _ = memory_runtime(NOW)
    made = [
        _decision("dec_01JX00000000000000000000A1", "ptr_a", "2026-11-01T10:00:00.000Z"),
        _decision("dec_01JX00000000000000000000A2", "ptr_a", "2026-11-03T10:00:00.000Z"),
        _decision("dec_01JX00000000000000000000B1", "ptr_b", "2026-11-02T10:00:00.000Z"),
        _decision("dec_01JX00000000000000000000N1", None, "2026-11-04T10:00:00.000Z"),
    ]
    rt.store.commit("northwind", Changes(puts=[decision_repository.put(d, version=None) for d in made]))
    page = decision_repository.page(rt.store, "northwind", partner_id="ptr_a", limit=10, cursor=None)
    assert [item.key for item in page.items] == ["dec_01JX00000000000000000000A2", "dec_01JX00000000000000000000A1"]
    tenant = decision_repository.page(rt.store, "northwind", partner_id=None, limit=10, cursor=None)
    assert [item.key for item in tenant.items] == sorted(d["decision_id"] for d in made)
    assert [item.key for item in decision_repository.every(rt.store, "northwind")] == sorted(
        d["decision_id"] for d in made
    )


def test_a_missing_decision_is_not_found() -> None:
    rt, _ = memory_runtime(NOW)
    assert decision_repository.read(rt.store, "northwind", "dec_none") is None
    with pytest.raises(NotFound, match="no decision dec_none"):
        decision_repository.head(rt.store, "northwind", "dec_none")
