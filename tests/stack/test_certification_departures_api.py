"""POST /v1/partners/{partner_id}/certification-departures over HTTP: who may record one, and bad input.

PA-4.4: "If the only certified individual for a certification leaves the Partner's employment, that certification
ceases to count for the Partner on the individual's last day of employment, with the same effect as expiry under
PA-4.3. The Partner must notify Channel Operations within 10 business days of the departure."
The behaviour (effect, notice, breach) is specified in tests/unit/test_certification_departures.py.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from support import assert_problem, northwind_silver_partners

pytestmark = pytest.mark.stack
PATH = "/v1/partners/{}/certification-departures"


@pytest.fixture(scope="module")
def pair(stack: Any, api: Any) -> dict[str, Any]:
    return northwind_silver_partners(stack, api, ("Leaver", "Rival"), "Departure")


def _today(stack: Any) -> date:
    return date.fromisoformat(stack.runtime.clock.now_iso()[:10])


def test_bad_departures_get_a_problem_naming_the_field_and_change_nothing(pair, stack):
    partner_id, own = pair["partners"][0]
    _, rival = pair["partners"][1]
    today = _today(stack)
    before = own.get(f"/v1/partners/{partner_id}").json()
    tomorrow = (today + timedelta(days=1)).isoformat()
    cases = [
        (own, {"certification_id": "cert-network-core", "last_day": tomorrow}, 422, "/last_day"),
        (own, {"certification_id": "cert-network-core", "last_day": "2026-02-30"}, 400, "/last_day"),
        (own, {"certification_id": "cert-network-core", "last_day": "2026-1-5"}, 400, "/last_day"),
        (own, {"certification_id": "cert-made-up", "last_day": today.isoformat()}, 422, "/certification_id"),
        (own, {"certification_id": "cert-security-pro", "last_day": today.isoformat()}, 422, "/certification_id"),
        (own, {"certification_id": "cert-network-core", "last_day": today.isoformat(), "notified_on": "2026-01-02"},
         403, "/notified_on"),
        (own, {"certification_id": "cert-network-core", "last_day": today.isoformat(), "holders": 0}, 400, "/holders"),
        (own, {"last_day": today.isoformat()}, 400, None),
    ]
    for client, body, status, path in cases:
        problem = assert_problem(client.post(PATH.format(partner_id), body), status)
        if path:
            assert path in [e["path"] for e in problem.get("errors", [])], (body, problem)
    # another partner's key: not found, never forbidden; a role that does not handle onboarding: forbidden
    assert_problem(rival.post(PATH.format(partner_id), {"certification_id": "cert-network-core",
                                                        "last_day": today.isoformat()}), 404)
    assert_problem(pair["roles"]["finance"].post(PATH.format(partner_id), {"certification_id": "cert-network-core",
                                                                          "last_day": today.isoformat()}), 403)
    assert own.get(f"/v1/partners/{partner_id}").json() == before


def test_the_partner_records_its_own_departure_and_a_second_one_is_a_conflict(pair, stack):
    partner_id, own = pair["partners"][0]
    today = _today(stack).isoformat()
    body = {"certification_id": "cert-network-core", "last_day": today}
    recorded = own.post(PATH.format(partner_id), body)
    assert recorded.status_code == 201, recorded.text
    answer = recorded.json()
    # "ceases to count [...] on the individual's last day of employment": it counts through today, not after
    assert answer["counts"] is True and answer["counts_until"] == today and answer["holders"] == 0
    assert answer["departure"]["notice"]["late"] is False and answer["departure"]["notice"]["clause"] == "PA-4.4"
    assert answer["departure"]["recorded_by"] == "partner"  # a partner reads the team, never a key id
    assert "late_notice_exception" not in answer
    assert_problem(own.post(PATH.format(partner_id), body), 409)
