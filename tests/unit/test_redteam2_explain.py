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


def test_an_entitlement_as_of_a_day_before_approval_is_not_held(gold):  # noqa: F811 (the imported fixture)
    rt, _, partner, key = gold
    answer = explain_entitlement(rt, key, partner["partner_id"], "partner_portal_access", "2025-06-01T00:00:00Z")
    assert answer["entitled"] is False
    assert answer["tier"] is None and answer["effective_tier"] is None  # the tier is assigned on approval
    assert any("entitlements start at activation" in r["message"] for r in answer["reasons"]), answer["reasons"]
    # the day of approval and after: the Gold tier's portal (PA-9.6 "All approved Partners are entitled")
    held = explain_entitlement(rt, key, partner["partner_id"], "partner_portal_access", "2026-03-02T09:00:00Z")
    assert held["entitled"] is True and held["tier"] == "gold"
    # a minute before it was approved: not held either
    before = explain_entitlement(rt, key, partner["partner_id"], "max_support_hours_per_quarter",
                                 "2026-03-02T08:59:00Z")
    assert before["entitled"] is False and before["value"] is None


def test_an_entitlement_as_of_a_day_is_read_under_the_policy_in_force_that_day(gold):  # noqa: F811
    """The answer names the policy version in force at `at`: a version activated later replaced it, so a day before
    that activation is answered under the version it replaced (its `previous_version`)."""
    from revgov.ports import Changes, Put
    from revgov.services.policy_drafts.repository import ACTIVATIONS
    from revgov.services.tenants import load_tenant

    rt, _, partner, key = gold
    current = load_tenant(rt, "northwind")[0].policy_version
    record = {"activated_at": "2026-05-01T00:00:00.000Z", "previous_version": current, "policy_version": current,
              "activated_by": "admin:key_x", "effective_at": None, "draft_id": "pd_x", "from_version": current,
              "approvals": []}
    rt.store.commit("northwind", Changes(puts=[Put(ACTIVATIONS, "2026-05-01T00:00:00.000Z#pd_x", record)]))
    answer = explain_entitlement(rt, key, partner["partner_id"], "partner_portal_access", "2026-04-01T00:00:00Z")
    assert answer["policy_version"] == current and answer["entitled"] is True
    from revgov.services.policy_drafts.repository import version_in_force
    assert version_in_force(rt, "northwind", "2026-04-30T23:59:59Z", "later") == current
    assert version_in_force(rt, "northwind", "2026-05-01T00:00:01Z", "later") == "later"


def test_a_rivals_entitlement_is_not_found(gold):  # noqa: F811 (the imported fixture)
    from revgov.domain.access import Principal, Role

    rt, _, partner, _ = gold
    rival = Principal("northwind", Role.PARTNER, "key_01JX0000000000000000RIVAL1", "ptr_01JX0000000000000000000RIV")
    with pytest.raises(NotFound):
        explain_entitlement(rt, rival, partner["partner_id"], "mdf_eligible", "2026-07-06T00:00:00Z")


def test_the_status_on_a_day_is_the_one_its_history_records_then():
    """PA-13.1 "This Agreement starts on the date the Partner is approved"; PA-13.2 a suspension "is lifted when the
    reason is cured": a day inside a past suspension reads suspended, a day before it active, a day before approval
    not yet admitted, and a day after the last step the status on file."""
    from revgov.domain.partners.entitlements import NOT_YET, status_on

    partner = {"status": "active", "activated_at": "2026-03-02T09:00:00.000Z", "history": [
        {"to": "applied", "at": "2026-02-01T09:00:00.000Z"},
        {"to": "pending_approval", "at": "2026-02-10T09:00:00.000Z"},
        {"to": "active", "at": "2026-03-02T09:00:00.000Z"},
        {"to": "suspended", "at": "2026-06-01T00:00:00.000Z"},
        {"to": "active", "at": "2026-07-01T00:00:00.000Z"},
    ]}
    assert status_on(partner, "2026-01-15T00:00:00Z") == NOT_YET
    assert status_on(partner, "2026-02-15T00:00:00Z") == "pending_approval"
    assert status_on(partner, "2026-05-31T23:59:59Z") == "active"
    assert status_on(partner, "2026-06-15T00:00:00Z") == "suspended"
    assert status_on(partner, "2026-08-01T00:00:00Z") == "active"
