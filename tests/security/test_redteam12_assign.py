"""Red team, twelfth round: assigning an approval or exception to the one member of its queue who may not decide it.

SOP-4.3 (northwind): "A requester can never approve their own request. The person who created or last changed a
[...] request [...] may not approve it, even if they are a member of the approving queue or hold an admin role."
COP-4.3 (contoso) alike. SOP-1.3: reassigning within the queue keeps the clock, and an assignee is who works the
item (`POST /v1/{approvals|exceptions}/{id}/assign`, API 1.57.0). A channel_ops key that registered a deal (PA-5.1:
channel ops reviews it) could assign the review of its own registration to itself, or another member could hand it
to the requester, or to a key the requester minted after it asked (services/key_lineage.py: "a key minted after a
request was made, by a key of someone who made that request, is in that person's hands"): the item then sat, its
SLA clock running, with the only person SOP-4.3 bars from deciding it. Such an assignment is a 422 naming
`/assignee` and citing the segregation rule; nothing changes.
"""

from __future__ import annotations

from typing import Any

import pytest

from revgov.bootstrap import build_memory_runtime
from revgov.domain.access import Principal, Role
from revgov.domain.errors import RuleViolation
from revgov.local.seed import seed
from revgov.services import case_assignment, cases, keys
from revgov.services.tenants import load_tenant
from revgov.settings import Settings

ADMIN = Principal("northwind", Role.ADMIN, "key_01JX00000000000000000ADMIN")


@pytest.fixture(scope="module")
def world() -> dict[str, Any]:
    rt = build_memory_runtime(Settings.from_env({"REVGOV_BACKEND": "memory"}))
    seed(rt)
    made = {name: keys.create_key(rt, ADMIN, "northwind", Role.CHANNEL_OPS, None, name) for name in ("ana", "ben")}
    return {"rt": rt, **{name: key["key_id"] for name, key in made.items()}}


def _as(world: dict[str, Any], name: str) -> Principal:
    return Principal("northwind", Role.CHANNEL_OPS, world[name])


def _requested_by(world: dict[str, Any], name: str) -> dict[str, Any]:
    """An exception of the channel_ops queue that `name`'s key requested (SOP-4.1: discount_above_tier_cap)."""
    rt = world["rt"]
    tenant, _ = load_tenant(rt, "northwind")
    case, changes = cases.open_case(rt, tenant.policy, kind="exception", category="discount_above_tier_cap",
                                    subject_kind="quote", subject_id=f"Q-RT12-{name}", requested_by=_as(world, name))
    rt.commit("northwind", changes)
    assert case["queue"] == "channel_ops" and case["requested_by_key"] == world[name]
    return case


def _refused(world: dict[str, Any], by: str, case: dict[str, Any], to: str) -> RuleViolation:
    with pytest.raises(RuleViolation) as refused:
        case_assignment.assign(world["rt"], _as(world, by), "exception", case["case_id"], to, None)
    assert [e.path for e in refused.value.errors] == ["/assignee"]
    assert "SOP-4.3" in refused.value.detail
    stored, _ = cases.get_case(world["rt"], "northwind", "exception", case["case_id"])
    assert not stored.get("assignee") and not stored.get("assignments")  # nothing changed
    return refused.value


def test_sop_4_3_the_requester_is_not_assigned_its_own_request(world):
    case = _requested_by(world, "ana")
    _refused(world, "ben", case, world["ana"])  # handed to the requester by another member
    _refused(world, "ana", case, world["ana"])  # taken by the requester itself
    assigned = case_assignment.assign(world["rt"], _as(world, "ana"), "exception", case["case_id"], world["ben"],
                                      "Ben decides: I asked for it")  # fmt: skip
    assert assigned["assignee"]["key_id"] == world["ben"]  # any other member of the queue works it


def test_sop_4_3_nor_a_key_the_requester_minted_after_asking(world):
    """An admin checks a quote (its exception is requested by the admin key), then mints a channel_ops key: that key
    is in the requester's hands (services/key_lineage.py), so it is not assigned the exception either."""
    rt = world["rt"]
    dan = keys.create_key(rt, ADMIN, "northwind", Role.ADMIN, None, "dan")["key_id"]
    tenant, _ = load_tenant(rt, "northwind")
    case, changes = cases.open_case(rt, tenant.policy, kind="exception", category="discount_above_tier_cap",
                                    subject_kind="quote", subject_id="Q-RT12-dan",
                                    requested_by=Principal("northwind", Role.ADMIN, dan))  # fmt: skip
    rt.commit("northwind", changes)
    world["dans"] = keys.create_key(rt, Principal("northwind", Role.ADMIN, dan), "northwind", Role.CHANNEL_OPS, None,
                                    "dan as channel ops")["key_id"]  # fmt: skip
    _refused(world, "ana", case, world["dans"])
    assert case_assignment.assign(rt, _as(world, "ana"), "exception", case["case_id"], world["ben"], None)["assignee"]
