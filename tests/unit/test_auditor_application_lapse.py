"""An auditor's case on incomplete partner applications, on the in-memory engine with a fixed clock.

PA-2.9: "Applications that remain incomplete for 60 days after submission lapse and must be resubmitted." (CPA-2.9:
"Files incomplete 45 days after submission are closed.")

Sales submits a Northwind application without its documents on 2026-01-05 (it waits for documents). The documents
arrive and it is submitted again: 59 days after the first submission it goes on to Channel Operations; 61 days after,
the application has lapsed and must be resubmitted (a new application), so it may not go on to approval.
"""

from __future__ import annotations

from typing import Any

from memory_store import memory_runtime
from revgov.domain.access import Principal, Role
from revgov.domain.errors import RevgovError
from revgov.domain.partners import tiers_by_rank
from revgov.local.demo_partners import _evidence, demo_application
from revgov.services import partners

SALES = Principal("northwind", Role.SALES, "key_01JX00000000000000000SALES")


def _completed_after(days: int) -> str:
    rt, clock = memory_runtime("2026-01-05T09:00:00.000Z")
    policy: dict[str, Any] = rt.store.get("northwind", "TENANT", "PROFILE").data["config"]["policy"]  # type: ignore[union-attr]
    application = demo_application("Lapse Test Networks", "reseller", tiers_by_rank(policy)[0])
    partner = partners.apply(rt, SALES, application)
    assert partners.submit(rt, SALES, partner["partner_id"])["outcome"] == "pending_documents"
    clock.advance(days=days)
    try:
        _evidence(rt, SALES, policy, partner, clock.at.date())
        return str(partners.submit(rt, SALES, partner["partner_id"])["outcome"])
    except RevgovError as refused:
        return f"refused: {refused}"


def test_pa_2_9_an_application_completed_within_60_days_goes_on_to_approval():
    assert _completed_after(59) == "pending_approval"


def test_pa_2_9_an_application_incomplete_for_more_than_60_days_has_lapsed():
    assert _completed_after(61) != "pending_approval"
