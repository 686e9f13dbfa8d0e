"""Red team 2: what the entitlement explanation says "as of" a day (GET /v1/partners/{id}/entitlements/{name}/explain
?at=): its summary reads "Is the partner entitled to this [...] at `at`, and why: the tier held that day".

PA-13.1: "This Agreement starts on the date the Partner is approved". PA-9.6: "All approved Partners are entitled to
the Partner Portal". The entitlement rules' own reason for a partner
not yet active: "entitlements start at activation" (domain/partners/entitlements.py `_withheld`). Held: a rival's
partner is a 404; `at` in year 1 or 9999 and every entitlement of both demo partners answer 200 without key ids or
rival ids (probed on the running product).
"""

from __future__ import annotations

import pytest
from test_mdf import gold  # noqa: F401 (the fixture, by name: a Gold partner approved on 2026-03-02)

from revgov.domain.errors import NotFound
from revgov.services.explain_entitlements import explain_entitlement


@pytest.mark.xfail(strict=True, reason="redteam2: an entitlement `at` a day before the partner was approved is "
                   "answered with today's status and tier (partner_portal_access and 10 support hours on 2025-06-01 "
                   "for a partner approved on 2026-03-02, a day it had no agreement): status, tier and policy are "
                   "today's, not those of `at`. Fix "
                   "(domain/partners/entitlements.py, auditor5's): before `activated_at` answer not entitled with "
                   "the activation rule's reason ('entitlements start at activation'); the tier from the partner's "
                   "history as of `at`")
def test_an_entitlement_as_of_a_day_before_approval_is_not_held(gold):  # noqa: F811 (the imported fixture)
    rt, _, partner, key = gold
    answer = explain_entitlement(rt, key, partner["partner_id"], "partner_portal_access", "2025-06-01T00:00:00Z")
    assert answer["entitled"] is False


def test_a_rivals_entitlement_is_not_found(gold):  # noqa: F811 (the imported fixture)
    from revgov.domain.access import Principal, Role

    rt, _, partner, _ = gold
    rival = Principal("northwind", Role.PARTNER, "key_01JX0000000000000000RIVAL1", "ptr_01JX0000000000000000000RIV")
    with pytest.raises(NotFound):
        explain_entitlement(rt, rival, partner["partner_id"], "mdf_eligible", "2026-07-06T00:00:00Z")
