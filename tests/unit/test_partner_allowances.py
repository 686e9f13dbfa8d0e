"""Sandboxes and exam vouchers (CPA-9.7) on the in-memory engine with a fixed clock.

CPA-9.7: "Partners receive non-production sandbox environments for demonstrations and testing, up to 1 (Authorized),
3 (Advanced) or 10 (Elite) at a time, and certification exam vouchers per Program Year: 2 (Authorized), 6 (Advanced)
or 20 (Elite). Sandboxes may not hold End Customer production data. Unused vouchers expire at the end of the Program
Year." CPA-1 ("Program Year" means a calendar year).
"""

from __future__ import annotations

from typing import Any

import pytest

from memory_store import memory_runtime
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Conflict, NotFound
from revgov.domain.partners import tiers_by_rank
from revgov.local.demo_partners import demo_application, onboard
from revgov.services import partner_allowances, partners

SALES = Principal("contoso", Role.SALES, "key_01JX00000000000000000SALES")
OPS = Principal("contoso", Role.CHANNEL_OPS, "key_01JX000000000000000000OPS0")


def _authorized() -> tuple[Any, Any, str]:
    rt, clock = memory_runtime("2026-03-02T09:00:00.000Z", tenant="contoso")
    policy = rt.store.get("contoso", "TENANT", "PROFILE").data["config"]["policy"]
    tier = tiers_by_rank(policy)[0]
    assert tier["tier"] == "authorized"
    partner = onboard(rt, policy, demo_application("Sandbox Partner", "reseller", tier), "active", sales=SALES,
                      approver=OPS)
    return rt, clock, partner["partner_id"]


def _remaining(rt: Any, partner_id: str, name: str, at: str) -> int:
    return int(partners.entitlement(rt, "contoso", partner_id, name, at)["remaining"])


def test_cpa_9_7_one_sandbox_at_a_time_for_authorized_and_another_after_a_return():
    rt, _, pid = _authorized()
    assert _remaining(rt, pid, "sandbox_environments", "2026-03-02T10:00:00Z") == 1
    first = partner_allowances.issue(rt, OPS, pid, "sandbox_environments")
    assert (first["remaining"], first["clause"]) == (0, "CPA-9.7")
    before = rt.store.get("contoso", "PARTNER", pid)
    with pytest.raises(Conflict):  # "up to 1 (Authorized) [...] at a time"
        partner_allowances.issue(rt, OPS, pid, "sandbox_environments")
    assert rt.store.get("contoso", "PARTNER", pid).version == before.version  # nothing changed
    with pytest.raises(NotFound):
        partner_allowances.give_back(rt, OPS, pid, "sbx_01JX0000000000000000000000")
    back = partner_allowances.give_back(rt, OPS, pid, first["issued"]["sandbox_id"])
    assert back["remaining"] == 1
    assert partner_allowances.issue(rt, OPS, pid, "sandbox_environments")["remaining"] == 0


def test_cpa_9_7_two_vouchers_per_program_year_and_unused_ones_expire_with_it():
    rt, clock, pid = _authorized()
    issued = partner_allowances.issue(rt, OPS, pid, "training_vouchers_per_year")
    assert issued["issued"]["expires_on"] == "2026-12-31" and issued["remaining"] == 1
    partner_allowances.issue(rt, OPS, pid, "training_vouchers_per_year")
    with pytest.raises(Conflict):  # "2 (Authorized)" per Program Year
        partner_allowances.issue(rt, OPS, pid, "training_vouchers_per_year")
    assert _remaining(rt, pid, "training_vouchers_per_year", "2026-12-31T23:59:59Z") == 0
    clock.set("2027-01-01T00:00:00.000Z")  # a new Program Year: two again, nothing carried over
    assert _remaining(rt, pid, "training_vouchers_per_year", "2027-01-01T00:00:00Z") == 2
    assert partner_allowances.issue(rt, OPS, pid, "training_vouchers_per_year")["remaining"] == 1


def test_a_partner_key_of_another_partner_cannot_reach_the_allowances():
    rt, _, pid = _authorized()
    rival = Principal("contoso", Role.PARTNER, "key_01JX0000000000000000RIVAL1", "ptr_01JX0000000000000000000RIV")
    with pytest.raises(NotFound):
        partner_allowances.issue(rt, rival, pid, "sandbox_environments")
