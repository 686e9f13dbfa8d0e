"""A queue member assigns an approval or exception to a member of its queue; the SLA clock does not move.

Found as a channel-ops manager working the exception queue (new-user round 8): items are routed to a queue, but
nothing says who in the queue has one, and SOP-1.3 (northwind, quoted in docs/policy.md "SLA clocks") names the step:
"Reassigning an item to another member of the same queue does not restart its clock; rerouting it to another queue
starts a new clock for that queue and records the original entry time." COP-1.3 (contoso): "Moving an item within a
queue keeps its clock". SOP-1.2: "A member of a queue may act only on items in that queue." Queue members are the
tenant's keys of the queue's role (README: roles `finance`, `channel_ops`, `legal`, `customer_success`).

`POST /v1/{approvals|exceptions}/{id}/assign` (`{"assignee": key id, "note"}`): a member of the item's queue names
another (or itself); the item shows `assignee` and keeps every assignment in `assignments`; `opened_at`, `due_at`
and the SOP-4.2 escalation instants stay as they were. Assigning changes who works the item, not who may decide it
(SOP-4.2: "Escalation changes who is notified, never who may approve"; any eligible member of the queue still
decides, SOP-4.3 / SOP-4.4).
"""

from __future__ import annotations

from typing import Any

import pytest

from revgov.bootstrap import build_memory_runtime
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Conflict, Forbidden, NotFound, RuleViolation
from revgov.local.seed import seed
from revgov.services import case_assignment, cases, keys
from revgov.services.tenants import load_tenant
from revgov.settings import Settings

ADMIN = Principal("northwind", Role.ADMIN, "key_01JX00000000000000000ADMIN")


@pytest.fixture(scope="module")
def world() -> dict[str, Any]:
    rt = build_memory_runtime(Settings.from_env({"REVGOV_BACKEND": "memory"}))
    seed(rt)
    made = {name: keys.create_key(rt, ADMIN, "northwind", role, None, name) for name, role in (
        ("ana", Role.CHANNEL_OPS), ("ben", Role.CHANNEL_OPS), ("fay", Role.FINANCE), ("old", Role.CHANNEL_OPS))}
    keys.revoke_key(rt, ADMIN, "northwind", made["old"]["key_id"])
    return {"rt": rt, **{name: key["key_id"] for name, key in made.items()}}


def _open_exception(rt: Any) -> dict[str, Any]:
    """SOP-4.1: discount_above_tier_cap goes to channel_ops with an SLA of 8 hours."""
    tenant, _ = load_tenant(rt, "northwind")
    case, changes = cases.open_case(rt, tenant.policy, kind="exception", category="discount_above_tier_cap",
                                    subject_kind="quote", subject_id="Q-ASSIGN-1", requested_by="system:test")
    rt.commit("northwind", changes)
    assert (case["queue"], case["sla_hours"]) == ("channel_ops", 8)
    return case


def _as(world: dict[str, Any], name: str, role: Role = Role.CHANNEL_OPS) -> Principal:
    return Principal("northwind", role, world[name])


CLOCK = ("opened_at", "due_at", "escalation", "sla_hours", "queue", "status")


def test_a_member_assigns_and_reassigns_within_the_queue_and_the_clock_stays(world):
    rt = world["rt"]
    case = _open_exception(rt)
    first = case_assignment.assign(rt, _as(world, "ana"), "exception", case["case_id"], world["ana"], "mine")
    assert first["assignee"]["key_id"] == world["ana"] and first["assignee"]["label"] == "ana"
    again = case_assignment.assign(rt, _as(world, "ana"), "exception", case["case_id"], world["ben"],
                                   "Ben knows this partner")  # fmt: skip
    assert again["assignee"]["key_id"] == world["ben"]
    assert [(a["from"], a["to"], a["note"]) for a in again["assignments"]] == [
        (None, world["ana"], "mine"), (world["ana"], world["ben"], "Ben knows this partner")]
    assert {k: again[k] for k in CLOCK} == {k: case[k] for k in CLOCK}  # SOP-1.3: "does not restart its clock"
    records = [r for r in rt.store.iter_audit_records("northwind")
               if r.get("action") == "exception.assigned" and r.get("subject") == case["case_id"]]
    assert [r["inputs"]["to"] for r in records] == [world["ana"], world["ben"]]


def test_only_a_member_of_the_queue_assigns_and_only_to_a_live_member(world):
    rt = world["rt"]
    case = _open_exception(rt)
    with pytest.raises(Forbidden):  # SOP-1.2: "A member of a queue may act only on items in that queue"
        case_assignment.assign(rt, _as(world, "fay", Role.FINANCE), "exception", case["case_id"], world["ana"], "x")
    for assignee in (world["fay"], world["old"], "key_01JX0000000000000000000000"):  # another queue, revoked, none
        with pytest.raises(RuleViolation) as refused:
            case_assignment.assign(rt, _as(world, "ana"), "exception", case["case_id"], assignee, "x")
        assert [e.path for e in refused.value.errors] == ["/assignee"]
    with pytest.raises(NotFound):
        case_assignment.assign(rt, _as(world, "ana"), "approval", case["case_id"], world["ana"], "x")


def test_an_approval_is_assigned_the_same_way_and_a_decided_item_no_more(world):
    rt = world["rt"]
    pending = cases.list_cases(rt, "northwind", "approval", status="pending", queue="channel_ops", limit=50,
                               cursor=None).items  # fmt: skip
    approval = pending[0].data  # the seed's partner waiting for activation (PA-2.2, channel_ops)
    assigned = case_assignment.assign(rt, _as(world, "ben"), "approval", approval["case_id"], world["ben"], None)
    assert assigned["assignee"]["key_id"] == world["ben"] and assigned["due_at"] == approval["due_at"]
    case = _open_exception(rt)
    cases.decide_case(rt, _as(world, "ana"), "exception", case["case_id"], "resolved", None)
    with pytest.raises(Conflict):
        case_assignment.assign(rt, _as(world, "ana"), "exception", case["case_id"], world["ben"], "late")


def test_a_desk_lists_what_is_assigned_to_it(world):
    """What each desk works: `GET /v1/exceptions?assignee=<key id>` (or `me`, the caller's own key) lists only the
    items assigned to that member, by due time like the queue, page by page."""
    rt = world["rt"]
    mine = [_open_exception(rt)["case_id"] for _ in range(3)]
    other = _open_exception(rt)["case_id"]
    for case_id in mine:
        case_assignment.assign(rt, _as(world, "ana"), "exception", case_id, world["ana"], None)
    case_assignment.assign(rt, _as(world, "ana"), "exception", other, world["ben"], None)
    found, cursor = [], None
    while True:
        page = cases.list_cases(rt, "northwind", "exception", status="open", queue="channel_ops", limit=2,
                                cursor=cursor, assignee=world["ana"])  # fmt: skip
        assert len(page.items) <= 2
        found += [item.data["case_id"] for item in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert set(mine) <= set(found) and other not in found
    assert all(item.data["assignee"]["key_id"] == world["ana"] for item in
               cases.list_cases(rt, "northwind", "exception", status="open", queue=None, limit=50, cursor=None,
                                assignee=world["ana"]).items)  # fmt: skip
