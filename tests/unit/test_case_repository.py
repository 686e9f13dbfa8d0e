"""Approvals and exceptions in the store (issue #21 follow-up): `services/case_repository.py` is the one module that
names the case collection and hands back `Case` entities with the fields of the case schema.

schemas/api/responses/case.schema.json: "An approval or an exception: routed to the queue the policy names, with an
SLA and a risk score." Its `approval_id` / `exception_id` are the answer's names of the stored `case_id`
(domain/cases.py: `view`), so the entity holds every other field the schema lists.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from memory_store import memory_runtime
from revgov.domain import cases as case_rules
from revgov.domain.access import Principal, Role
from revgov.domain.errors import NotFound
from revgov.services import case_repository, cases, tenants

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-11-10T10:00:00.000Z"
SALES = Principal("northwind", Role.SALES, "key_01JX0000000000000000000SAL")
OPS = Principal("northwind", Role.CHANNEL_OPS, "key_01JX0000000000000000000OPS")


def _schema() -> dict[str, Any]:
    return json.loads((ROOT / "schemas" / "api" / "responses" / "case.schema.json").read_text())


def test_the_case_entity_has_the_fields_of_the_case_schema() -> None:
    schema = _schema()
    fields = set(case_rules.Case.__annotations__)
    # the id under its path's name and the escalation step now are the answer's (`view`, `queue_view`), not stored
    assert fields == set(schema["properties"]) - {"approval_id", "exception_id", "escalation_step"}
    assert set(schema["required"]) <= fields
    decision = schema["properties"]["decision"]
    assert set(case_rules.CaseDecision.__annotations__) == set(decision["properties"])


def _opened(rt: Any, kind: str) -> case_rules.Case:
    policy = tenants.load_tenant(rt, "northwind")[0].policy
    case, changes = cases.open_case(
        rt, policy, kind=kind, category="discount_above_tier_cap", subject_kind="decision", subject_id="dec_probe",
        requested_by=SALES, partner_id="ptr_probe", effect=None,
    )
    rt.commit("northwind", changes)
    return case


def test_the_repository_reads_back_what_open_case_wrote_listed_by_kind_status_and_queue() -> None:
    rt, _ = memory_runtime(NOW)
    approval, exception = _opened(rt, "approval"), _opened(rt, "exception")
    found, version = case_repository.load(rt.store, "northwind", "approval", approval["case_id"])
    assert found == approval and version == 1
    assert case_repository.load(rt.store, "northwind", "exception", exception["case_id"])[0] == exception
    queue = approval["queue"]
    listed = case_repository.page_by_status(rt.store, "northwind", "approval", "pending", queue=queue, limit=10,
                                            cursor=None)
    assert [item.data["case_id"] for item in listed.items] == [approval["case_id"]]
    assert [c["case_id"] for c in case_repository.by_status(rt.store, "northwind", "exception", "open")] == [
        exception["case_id"]
    ]
    assert {c["case_id"] for c in case_repository.every(rt.store, "northwind")} == {
        approval["case_id"], exception["case_id"]
    }


def test_a_case_read_as_the_other_kind_is_not_found() -> None:
    """API.md: "404 not found (also for another tenant's or partner's object: never confirm it exists)"; an approval
    is no exception, so reading its id as one answers as if there were none (domain/cases.py behaviour kept)."""
    rt, _ = memory_runtime(NOW)
    approval = _opened(rt, "approval")
    with pytest.raises(NotFound, match=f"no exception {approval['case_id']}"):
        case_repository.load(rt.store, "northwind", "exception", approval["case_id"])
    with pytest.raises(NotFound, match="no approval apr_none"):
        cases.get_case(rt, "northwind", "approval", "apr_none")
    assert case_repository.read(rt.store, "northwind", "apr_none") is None


def test_a_decided_case_moves_to_its_outcome_list_with_its_version_checked() -> None:
    rt, _ = memory_runtime(NOW)
    approval = _opened(rt, "approval")
    decided = cases.decide_case(rt, OPS, "approval", approval["case_id"], "approved", "fine")
    assert decided["status"] == "approved" and decided["decision"] is not None
    assert decided["decision"]["by"] == OPS.actor and decided["decision"]["outcome"] == "approved"
    assert list(case_repository.by_status(rt.store, "northwind", "approval", "pending")) == []
    assert [c["case_id"] for c in case_repository.by_status(rt.store, "northwind", "approval", "approved")] == [
        approval["case_id"]
    ]
    put = case_repository.put(decided, version=2)
    assert (put.collection, put.key, put.expected_version, put.must_be_absent) == (
        case_repository.CASES, approval["case_id"], 2, False
    )
