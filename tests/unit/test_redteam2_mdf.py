"""Red team 2 probes of the MDF ledger (PA-9.5 / CPA-9.5) that held: each pins what a hostile caller tried.

PA-9.5: "Activities must be pre-approved by Channel Operations before they take place. Claims must be submitted within
90 days after the activity ends [...] Accrued MDF not claimed by the end of the Quarter following the Quarter of
accrual expires." SOP-4.3: "A requester can never approve their own request [...] Where a request needs two
approvals [...] they must be given by two different people, neither of whom is the requester." Key lineage
(services/key_lineage.py): a key minted after the request by a key of its requester is the requester's.
The gold fixture (tests/unit/test_mdf.py): a Gold partner whose 2026-Q3 accrual is 2,985.04, expiring 2026-12-31.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from test_mdf import EVIDENCE, FIN_A, OPS, _activity, _q3, gold  # noqa: F401 (the fixture, by name)

from revgov.domain.access import Principal, Role
from revgov.domain.errors import ConcurrentUpdate, Forbidden, RuleViolation
from revgov.services import keys, mdf, mdf_requests

ADMIN = Principal("northwind", Role.ADMIN, "key_01JX000000000000000000ADMN")


def _minted(rt: Any, role: Role) -> Principal:
    return Principal("northwind", role, keys.create_key(rt, ADMIN, "northwind", role, None, "minted")["key_id"])


def _claimable(rt: Any, clock: Any, who: Principal, pid: str, planned: str, count: int = 1) -> list[str]:
    """`count` activities asked and pre-approved before 20 July, ended by 25 July (the clock is then)."""
    asked = [_activity(rt, who, pid, "2026-07-20", "2026-07-22", planned) for _ in range(count)]
    for activity in asked:
        mdf_requests.decide_activity(rt, OPS, pid, activity["activity_id"], {}, True)
    clock.set("2026-07-25T09:00:00.000Z")
    return [str(a["activity_id"]) for a in asked]


def test_an_admin_cannot_approve_its_own_activity_or_pay_its_own_claim_through_keys_it_minted(gold):  # noqa: F811 (the imported fixture)
    rt, clock, partner, _ = gold
    pid = partner["partner_id"]
    asked = _activity(rt, ADMIN, pid, "2026-07-20", "2026-07-22", "500.00")
    with pytest.raises(Forbidden):  # a channel_ops key the requester minted after asking is the requester's
        mdf_requests.decide_activity(rt, _minted(rt, Role.CHANNEL_OPS), pid, asked["activity_id"], {}, True)
    mdf_requests.decide_activity(rt, OPS, pid, asked["activity_id"], {}, True)
    clock.set("2026-07-25T09:00:00.000Z")
    claim = mdf_requests.submit_claim(rt, ADMIN, pid, {"activity_id": asked["activity_id"], "amount": "400.00",
                                                       "evidence": EVIDENCE})
    with pytest.raises(Forbidden):
        mdf_requests.decide_claim(rt, _minted(rt, Role.FINANCE), pid, claim["claim_id"], {}, True)
    first = mdf_requests.decide_claim(rt, FIN_A, pid, claim["claim_id"], {}, True)
    assert first["status"] == "approved"
    # FIN_A's second approval through a key it could not mint: two finance keys the admin minted count as the admin
    with pytest.raises(Forbidden):
        mdf_requests.decide_claim(rt, _minted(rt, Role.FINANCE), pid, claim["claim_id"], {}, True)


def test_two_claims_at_once_never_spend_more_than_the_accrual(gold):  # noqa: F811 (the imported fixture)
    rt, clock, partner, key = gold
    pid = partner["partner_id"]
    activities = _claimable(rt, clock, key, pid, "2000.00", count=2)

    def claim(activity_id: str) -> str:
        try:
            return str(mdf_requests.submit_claim(rt, key, pid, {"activity_id": activity_id, "amount": "2000.00",
                                                                "evidence": EVIDENCE})["status"])
        except (RuleViolation, ConcurrentUpdate) as refused:
            return type(refused).__name__

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(claim, activities))
    assert outcomes == ["RuleViolation", "submitted"]  # 2 x 2,000.00 > 2,985.04: one is refused
    row = _q3(mdf.ledger(rt, key, pid))
    assert (row["reserved"], row["available"]) == ("2000.00", "985.04")


def test_a_claim_rejected_after_its_accrual_expired_does_not_bring_the_balance_back(gold):  # noqa: F811 (the imported fixture)
    rt, clock, partner, key = gold
    pid = partner["partner_id"]
    [activity_id] = _claimable(rt, clock, key, pid, "2000.00")
    claim = mdf_requests.submit_claim(rt, key, pid, {"activity_id": activity_id, "amount": "2000.00",
                                                     "evidence": EVIDENCE})
    clock.set("2027-01-02T09:00:00.000Z")  # 2026-Q3's accrual expired at the end of 2026-12-31
    mdf.sweep_expiry(rt, "northwind")
    mdf_requests.decide_claim(rt, FIN_A, pid, claim["claim_id"], {"reason": "no supplier invoice"}, False)
    row = _q3(mdf.ledger(rt, key, pid))
    assert row["available"] == "0.00" and row["reserved"] == "0.00"
    assert mdf.ledger(rt, key, pid)["available"] == "0.00"
