"""Red team 2: what a SUSPENDED partner's own key can still change, over HTTP.

PA-9.6: "A suspended Partner keeps read-only access to its statements and documents." CPA-9.8: "Suspended Partners
keep read-only access." PA-13.2: the Distributor "may suspend a Partner from new quotes, orders, deal registrations
and incentive accrual". docs/onboarding.md says "the clauses make only a suspended partner read-only", but nothing
enforces it (domain/partners/portal_access.py handles termination only): probed on the running product, a suspended
partner's key was answered 201 for an MDF activity request (PA-9.5 incentive), a certification departure (PA-4.4) and
an onboarding document; its quote check was denied (PRC-PARTNER-ACTIVE), as it should be.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

import clock_support
from support import northwind_silver_partners

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def suspended(stack: Any, api: Any) -> dict[str, Any]:
    pair = northwind_silver_partners(stack, api, ("Suspended",), "Read Only")
    (partner_id, _key), = pair["partners"]
    moved = pair["roles"]["channel_ops"].post(f"/v1/partners/{partner_id}/suspend",
                                              {"reason": "PA-13.2(e) suspension for the probe"})
    assert moved.status_code == 200 and moved.json()["status"] == "suspended", moved.text
    return pair


def test_a_suspended_partner_still_reads_its_own_records(suspended: dict[str, Any]) -> None:
    (partner_id, key), = suspended["partners"]
    for path in (f"/v1/partners/{partner_id}", f"/v1/partners/{partner_id}/mdf", f"/v1/partners/{partner_id}/term"):
        assert key.get(path).status_code == 200, path


@pytest.mark.xfail(strict=True, reason="redteam2: a suspended partner's key is not read-only (PA-9.6 / CPA-9.8): it "
                   "requests MDF activities (201). Fix (edge, shared: the lead's call): when a partner key's partner "
                   "is suspended, refuse its writes with 403 citing PA-9.6 / CPA-9.8 (services/keys.py already reads "
                   "the partner when resolving the key: return it, and let the edge refuse non-GET for `suspended`), "
                   "except the cure PA-2.7 names ('upload a renewed certificate': POST …/documents), if the lead "
                   "reads the clause that way")
def test_pa_9_6_a_suspended_partner_cannot_ask_for_mdf(suspended: dict[str, Any]) -> None:
    (partner_id, key), = suspended["partners"]
    starts = clock_support.today() + timedelta(days=30)
    asked = key.post(f"/v1/partners/{partner_id}/mdf/activities",
                     {"title": "Roadshow while suspended", "starts_on": starts.isoformat(),
                      "ends_on": (starts + timedelta(days=1)).isoformat(), "planned_amount": "100.00"})
    assert asked.status_code == 403, asked.text
