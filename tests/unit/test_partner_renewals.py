"""A partner agreement's own term and its renewal, on the in-memory engine with a fixed clock (no calendar dependence).

PA-13.1: "This Agreement starts on the date the Partner is approved and continues until the end of the Program Year,
and then renews automatically for successive Program Years unless either party gives notice of non-renewal at least
60 days before the end of the current Program Year."
CPA-13.1: "This Agreement runs from admission to the end of the Program Year and renews for further Program Years
unless either party gives notice at least 90 days before year end."
PA-1 / CPA-1: "'Program Year' means a calendar year."
PA-13.3: "On termination: [...] deal registrations end".
"""

from __future__ import annotations

from typing import Any

import pytest

from memory_store import memory_runtime
from revgov.domain.access import Principal, Role
from revgov.domain.deals import ended_by_termination
from revgov.domain.errors import Conflict, Forbidden, MalformedRequest, NotFound, RuleViolation
from revgov.domain.partners import tiers_by_rank
from revgov.domain.partners.portal_access import access_refused
from revgov.edge import handlers
from revgov.local.demo_partners import demo_application, onboard
from revgov.services import partners, renewals
from support import for_this_thread

SALES = Principal("northwind", Role.SALES, "key_01JX00000000000000000SALES")
OPS = Principal("northwind", Role.CHANNEL_OPS, "key_01JX000000000000000000OPS0")
LEGAL = Principal("northwind", Role.LEGAL, "key_01JX00000000000000000LEGAL")
FINANCE = Principal("northwind", Role.FINANCE, "key_01JX0000000000000000FINANC")


def _policy(rt: Any, tenant: str = "northwind") -> dict[str, Any]:
    return rt.store.get(tenant, "TENANT", "PROFILE").data["config"]["policy"]  # type: ignore[no-any-return]


def _active(at: str = "2026-03-10T09:00:00.000Z", tenant: str = "northwind") -> tuple[Any, Any, dict[str, Any]]:
    rt, clock = memory_runtime(at, tenant=tenant)
    sales = Principal(tenant, Role.SALES, SALES.key_id)
    ops = Principal(tenant, Role.CHANNEL_OPS, OPS.key_id)
    application = demo_application("Term Sweep Networks", "reseller", tiers_by_rank(_policy(rt, tenant))[0])
    partner = onboard(rt, _policy(rt, tenant), application, "active", sales=sales, approver=ops)
    assert partner["status"] == "active"
    return rt, clock, partner


def _key(partner: dict[str, Any], tenant: str = "northwind") -> Principal:
    return Principal(tenant, Role.PARTNER, "key_01JX0000000000000000PARTNR", partner_id=partner["partner_id"])


def _events(rt: Any, name: str) -> list[dict[str, Any]]:
    return [e for e in rt.publisher.published if e["detail_type"] == name]


def _audit(rt: Any, partner_id: str, action: str, tenant: str = "northwind") -> list[dict[str, Any]]:
    return [r for r in rt.store.iter_audit_records(tenant) if r["subject"] == partner_id and r["action"] == action]


def test_pa_13_1_the_term_runs_from_approval_to_the_end_of_the_program_year():
    rt, _, partner = _active()
    term = renewals.get_term(rt, OPS, partner["partner_id"])
    assert term["started_on"] == "2026-03-10" and term["year_end"] == "2026-12-31"
    # "at least 60 days before the end of the current Program Year": 1 November 2026 + 60 days = 31 December 2026
    assert term["last_notice_day"] == "2026-11-01" and term["notice_days"] == 60
    assert term["clause"] == "PA-13.1" and term["non_renewal"] is None


def test_pa_13_1_without_notice_the_agreement_renews_at_year_end_once():
    rt, clock, partner = _active()
    clock.set("2026-12-31T23:00:00.000Z")  # the year has not ended
    assert renewals.sweep_terms(rt, "northwind")["renewed"] == 0
    clock.set("2027-01-01T02:00:00.000Z")
    assert renewals.sweep_terms(rt, "northwind")["renewed"] == 1
    term = renewals.get_term(rt, OPS, partner["partner_id"])
    assert term["year_end"] == "2027-12-31" and term["renewals"] == ["2026-12-31"]
    (event,) = _events(rt, "partner.renewed")
    assert event["detail"]["next_year_end"] == "2027-12-31" and event["detail"]["clause"] == "PA-13.1"
    assert renewals.sweep_terms(rt, "northwind")["renewed"] == 0  # idempotent
    (record,) = _audit(rt, partner["partner_id"], "partner.renewed")
    assert record["clauses"] == ["PA-13.1"]
    assert partners.load_partner(rt, "northwind", partner["partner_id"])[0]["status"] == "active"


def test_pa_13_1_a_sweep_that_missed_years_renews_each_year_once():
    rt, clock, partner = _active()
    clock.set("2028-01-02T02:00:00.000Z")
    assert renewals.sweep_terms(rt, "northwind")["renewed"] == 2
    assert renewals.get_term(rt, OPS, partner["partner_id"])["renewals"] == ["2026-12-31", "2027-12-31"]


def test_renewal_due_is_published_once_from_the_reminder_lead_before_the_last_notice_day():
    rt, clock, partner = _active()
    clock.set("2026-10-01T02:00:00.000Z")  # last notice day 1 November, reminder_days 30: from 2 October
    assert renewals.sweep_terms(rt, "northwind")["renewal_due"] == 0
    clock.set("2026-10-02T02:00:00.000Z")
    assert renewals.sweep_terms(rt, "northwind")["renewal_due"] == 1
    assert renewals.sweep_terms(rt, "northwind")["renewal_due"] == 0
    (event,) = _events(rt, "partner.renewal_due")
    assert event["detail"]["last_notice_day"] == "2026-11-01" and event["detail"]["year_end"] == "2026-12-31"
    assert event["detail"]["partner_id"] == partner["partner_id"]


def test_pa_13_1_a_partner_notice_on_the_last_day_ends_the_agreement_at_year_end_through_termination():
    rt, clock, partner = _active()
    clock.set("2026-11-01T23:59:59.000Z")  # "at least 60 days before the end of the current Program Year"
    term = renewals.give_notice(rt, _key(partner), partner["partner_id"], {"reason": "leaving the programme"})
    assert term["non_renewal"]["party"] == "partner" and term["non_renewal"]["effective_at"] == "2026-12-31"
    assert "given_by_key" not in term["non_renewal"]
    (event,) = _events(rt, "partner.non_renewal")
    assert event["detail"]["party"] == "partner"
    clock.set("2026-12-15T02:00:00.000Z")
    assert renewals.sweep_terms(rt, "northwind") == {"looked_at": 1, "renewal_due": 0, "renewed": 0, "terminated": 0}
    clock.set("2027-01-01T02:00:00.000Z")
    assert renewals.sweep_terms(rt, "northwind")["terminated"] == 1
    stored, _ = partners.load_partner(rt, "northwind", partner["partner_id"])
    assert stored["status"] == "terminated"
    assert stored["history"][-1]["at"] == "2027-01-01T00:00:00.000Z"  # the end of the Program Year
    (record,) = _audit(rt, partner["partner_id"], "partner.terminated")
    assert record["clauses"] == ["PA-13.1", "PA-13.3"]
    (ended,) = _events(rt, "partner.terminated")
    assert ended["detail"]["previous_status"] == "active" and ended["detail"]["year_end"] == "2026-12-31"
    assert renewals.sweep_terms(rt, "northwind")["terminated"] == 0  # idempotent


def test_pa_13_1_a_notice_a_day_late_is_refused_citing_the_clause_and_changes_nothing():
    rt, clock, partner = _active()
    clock.set("2026-11-02T00:00:01.000Z")
    before = partners.load_partner(rt, "northwind", partner["partner_id"])
    with pytest.raises(RuleViolation) as refused:
        renewals.give_notice(rt, OPS, partner["partner_id"], {"reason": "distributor ends the programme"})
    assert refused.value.extra["clause"] == "PA-13.1"
    assert refused.value.extra["last_notice_day"] == "2026-11-01"
    assert refused.value.extra["earliest_effective_at"] == "2027-12-31"
    assert partners.load_partner(rt, "northwind", partner["partner_id"]) == before
    assert _events(rt, "partner.non_renewal") == []
    # the late party may give it for the next Program Year end; the agreement renews once, then ends
    term = renewals.give_notice(rt, LEGAL, partner["partner_id"], {"reason": "programme ends",
                                                                   "effective_at": "2027-12-31"})
    assert term["non_renewal"]["party"] == "distributor"
    clock.set("2027-01-01T02:00:00.000Z")
    assert renewals.sweep_terms(rt, "northwind")["renewed"] == 1
    clock.set("2028-01-01T02:00:00.000Z")
    assert renewals.sweep_terms(rt, "northwind")["terminated"] == 1


def test_cpa_13_1_contoso_needs_90_days():
    rt, clock, partner = _active(tenant="contoso")
    clock.set("2026-10-03T00:00:01.000Z")  # 31 December - 90 days = 2 October, the last day
    with pytest.raises(RuleViolation) as refused:
        renewals.give_notice(rt, _key(partner, "contoso"), partner["partner_id"], {"reason": "leaving"})
    assert refused.value.extra["clause"] == "CPA-13.1" and refused.value.extra["last_notice_day"] == "2026-10-02"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"reason": "x y z", "effective_at": "2026-12-30"}, RuleViolation),  # not a Program Year end
        ({"reason": "x y z", "effective_at": "2025-12-31"}, RuleViolation),  # a past year end
        ({"reason": "x y z", "effective_at": "2026-02-30"}, MalformedRequest),
        ({"reason": "x y z", "effective_at": "２０２６-12-31"}, MalformedRequest),  # full-width digits
        ({"reason": "   "}, RuleViolation),
    ],
)
def test_bad_notices_are_refused_naming_the_field_and_change_nothing(body, error):
    rt, clock, partner = _active()
    clock.set("2026-05-01T09:00:00.000Z")
    before = partners.load_partner(rt, "northwind", partner["partner_id"])
    with pytest.raises(error) as refused:
        renewals.give_notice(rt, OPS, partner["partner_id"], body)
    assert refused.value.errors
    assert partners.load_partner(rt, "northwind", partner["partner_id"]) == before


def test_who_may_give_notice_a_second_notice_and_a_rivals_partner():
    rt, clock, partner = _active()
    clock.set("2026-05-01T09:00:00.000Z")
    with pytest.raises(Forbidden):  # finance is neither party's voice here
        renewals.give_notice(rt, FINANCE, partner["partner_id"], {"reason": "finance says so"})
    rival = Principal("northwind", Role.PARTNER, "key_01JX00000000000000000RIVAL",
                      partner_id="ptr_01JX0000000000000000RIVAL0")
    with pytest.raises(NotFound):
        renewals.give_notice(rt, rival, partner["partner_id"], {"reason": "not mine"})
    with pytest.raises(NotFound):
        renewals.get_term(rt, rival, partner["partner_id"])
    renewals.give_notice(rt, OPS, partner["partner_id"], {"reason": "first notice"})
    with pytest.raises(Conflict):
        renewals.give_notice(rt, _key(partner), partner["partner_id"], {"reason": "second notice"})


def test_a_terminated_partner_has_no_term_to_renew_or_end():
    rt, clock, partner = _active()
    partners.change_status(rt, OPS, partner["partner_id"], "terminated", "material breach not cured")
    with pytest.raises(Conflict):
        renewals.give_notice(rt, OPS, partner["partner_id"], {"reason": "too late"})
    clock.set("2027-01-01T02:00:00.000Z")
    assert renewals.sweep_terms(rt, "northwind")["renewed"] == 0


def test_the_scheduled_handler_runs_the_sweep(monkeypatch):
    rt, clock, _partner = _active()
    clock.set("2027-01-01T02:00:00.000Z")
    for_this_thread(monkeypatch, handlers, "runtime", lambda: rt)
    for_this_thread(monkeypatch, handlers, "_tenant_ids", lambda: iter(["northwind"]))
    assert handlers.partner_term_sweep({}, None)["renewed"] == 1


def test_pa_13_3_effects_follow_an_agreement_ended_at_year_end():
    """PA-13.3: "On termination: [...] deal registrations end"; PA-9.6: "Portal access ends 90 days after
    termination" — counted from the end of the Program Year the agreement ended with (PA-13.1)."""
    rt, clock, partner = _active()
    clock.set("2026-06-01T09:00:00.000Z")
    renewals.give_notice(rt, _key(partner), partner["partner_id"], {"reason": "leaving the programme"})
    clock.set("2027-01-03T02:00:00.000Z")  # the sweep ran two days late
    assert renewals.sweep_terms(rt, "northwind")["terminated"] == 1
    stored, _ = partners.load_partner(rt, "northwind", partner["partner_id"])
    policy = _policy(rt)
    deal = {"deal_id": "deal_1", "status": "approved", "partner_id": partner["partner_id"]}
    ended = ended_by_termination(policy, deal, stored)
    assert ended is not None and ended["clause"] == "PA-13.3"
    # 2027-01-01T00:00Z + 90 days = 2027-04-01T00:00Z
    assert access_refused(policy, stored, "2027-03-31T23:59:59.999Z") is None
    assert access_refused(policy, stored, "2027-04-01T00:00:00.000Z") is not None


def test_pa_13_1_a_term_read_after_a_year_end_shows_the_renewal_before_the_sweep_records_it():
    """PA-13.1: the Agreement "renews automatically for successive Program Years unless either party gives notice of
    non-renewal": read in December 2026, a term whose stored Program Year ended 2025-12-31 (the daily sweep has not run
    yet) is in its 2026 Program Year, renewed once."""
    from datetime import date

    from revgov.domain import renewals as domain

    rule = domain.TermRule("PTR-TERM-RENEWAL", "PA-13.1", notice_days=60, reminder_days=30)
    partner = {"partner_id": "ptr_1", "status": "active",
               "term": {"started_on": "2025-01-01", "year_end": "2025-12-31", "renewals": []}}
    now = domain.as_of(rule, partner, date(2026, 12, 7))
    assert now["term"]["year_end"] == "2026-12-31" and now["term"]["renewals"] == ["2025-12-31"]
    assert domain.as_of(rule, partner, date(2025, 12, 31))["term"]["year_end"] == "2025-12-31"
