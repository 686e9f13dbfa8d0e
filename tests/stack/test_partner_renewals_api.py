"""The partner agreement's term over HTTP: who reads it, who gives notice of non-renewal, and bad notices.

PA-13.1: "[...] renews automatically for successive Program Years unless either party gives notice of non-renewal at
least 60 days before the end of the current Program Year." The dated cases (last day, a day late, the year-end
sweep) are in tests/unit/test_partner_renewals.py on a fixed clock; here every notice is for the Program Year end
after the current one, which is in time whatever today's date is.
"""

from __future__ import annotations

from typing import Any

import pytest

from support import assert_problem, northwind_silver_partners

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def pair(stack: Any, api: Any) -> dict[str, Any]:
    return northwind_silver_partners(stack, api, ("Leaving", "Rival"), "Renewal")


def test_pa_13_1_a_partner_reads_its_term_and_gives_notice_for_a_later_year_end(pair: dict[str, Any]):
    (partner_id, mine), (_rival_id, rival) = pair["partners"]
    term = mine.get(f"/v1/partners/{partner_id}/term")
    assert term.status_code == 200, term.text
    body = term.json()
    assert body["clause"] == "PA-13.1" and body["notice_days"] == 60 and body["year_end"].endswith("-12-31")
    later = f"{int(body['year_end'][:4]) + 1}-12-31"
    assert_problem(rival.get(f"/v1/partners/{partner_id}/term"), 404)
    assert_problem(rival.post(f"/v1/partners/{partner_id}/non-renewal", {"reason": "not mine"}), 404)
    assert_problem(pair["roles"]["finance"].post(f"/v1/partners/{partner_id}/non-renewal", {"reason": "finance"}), 403)
    for bad, status in (
        ({"reason": "leaving", "effective_at": "2026-02-30"}, 400),
        ({"reason": "leaving", "effective_at": later.replace("-12-31", "-12-30")}, 422),
        ({"reason": "leaving", "party": "distributor"}, 400),  # the party comes from the key, never the body
        ({"reason": "x"}, 400),
        ({}, 400),
    ):
        assert_problem(mine.post(f"/v1/partners/{partner_id}/non-renewal", bad), status)
    assert mine.get(f"/v1/partners/{partner_id}/term").json()["non_renewal"] is None
    given = mine.post(f"/v1/partners/{partner_id}/non-renewal", {"reason": "leaving", "effective_at": later})
    assert given.status_code == 201, given.text
    notice = given.json()["non_renewal"]
    assert notice["party"] == "partner" and notice["effective_at"] == later and notice["given_by_role"] == "partner"
    assert_problem(pair["roles"]["channel_ops"].post(f"/v1/partners/{partner_id}/non-renewal",
                                                     {"reason": "again", "effective_at": later}), 409)
    assert mine.get(f"/v1/partners/{partner_id}").json()["term"]["non_renewal"]["effective_at"] == later
