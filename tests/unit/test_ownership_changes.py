"""A change of a partner's ownership makes its compliance screening due (PA-2.8 / CPA-2.8), in memory, fixed clock.

PA-2.8: "The Distributor screens each Partner, its beneficial owners holding 25% or more and its named signatories
[...]. Screening is repeated at least once every 12 months and whenever ownership changes. A potential match is routed
to Legal, and no quote, order or incentive may be processed for the Partner while the match is unresolved."
CPA-2.8: "Screening is repeated every 12 months and on any change of control."
SOP-4.1: "| compliance_screening_match | legal | 24 |" (the screening exception, as the yearly repeat opens it).
The clause holds the partner on a potential match only: an ownership change alone holds no quote.
"""

from __future__ import annotations

from typing import Any

import pytest

from memory_store import memory_runtime
from revgov.domain.access import Principal, Role
from revgov.domain.errors import MalformedRequest, NotFound, RuleViolation
from revgov.domain.partners import tiers_by_rank
from revgov.local.demo_partners import demo_application, onboard
from revgov.services import partners, pricing
from revgov.services import screening as screening_service
from revgov.services.partner_ownership import record_ownership_change

SALES = Principal("northwind", Role.SALES, "key_01JX00000000000000000SALES")
OPS = Principal("northwind", Role.CHANNEL_OPS, "key_01JX000000000000000000OPS0")
LEGAL = Principal("northwind", Role.LEGAL, "key_01JX00000000000000000LEGAL")
CHANGE = {"changed_on": "2026-03-01", "description": "Harbor Capital acquired 40% of the shares",
          "beneficial_owners": [{"name": "Harbor Capital LP", "share_percent": "40.00"}]}


def _active() -> tuple[Any, Any, dict[str, Any]]:
    """An active northwind reseller screened clear on 2026-02-01; today is 2026-03-02."""
    rt, clock = memory_runtime("2026-01-05T09:00:00.000Z")
    policy: dict[str, Any] = rt.store.get("northwind", "TENANT", "PROFILE").data["config"]["policy"]  # type: ignore[union-attr]
    partner = onboard(rt, policy, demo_application("Owned Networks", "reseller", tiers_by_rank(policy)[0]), "active",
                      sales=SALES, approver=OPS)  # fmt: skip
    clock.set("2026-02-02T10:00:00.000Z")
    partners.add_document(rt, OPS, partner["partner_id"], {
        "document_type": "compliance_screening", "reference": "dms://screening/clear.pdf",
        "checksum": "sha256:" + "7" * 64, "issued_at": "2026-02-01", "outcome": "clear"})  # fmt: skip
    clock.set("2026-03-02T10:00:00.000Z")
    return rt, clock, partner


def _screening_exceptions(rt: Any) -> list[dict[str, Any]]:
    from revgov.services import case_repository

    found = rt.store.query("northwind", case_repository.CASES, limit=1000).items
    return [s.data for s in found
            if s.data["kind"] == "exception" and s.data["category"] == "compliance_screening_match"]  # fmt: skip


def _quote(rt: Any, partner_id: str) -> dict[str, Any]:
    return pricing.check(rt, SALES, {
        "partner_id": partner_id, "customer": {"id": "CUST-OWN-1", "name": "Lakeside"},
        "lines": [{"line_id": "1", "sku": "NW-SW-24P", "quantity": 1, "discount_percent": "2"}]})  # fmt: skip


@pytest.mark.parametrize("who", ["partner", "channel_ops", "legal"])
def test_pa_2_8_an_ownership_change_after_the_latest_screening_makes_one_due_and_asks_legal_for_it(who: str):
    rt, _, partner = _active()
    partner_id = partner["partner_id"]
    by = {"partner": Principal("northwind", Role.PARTNER, "key_own", partner_id), "channel_ops": OPS,
          "legal": LEGAL}[who]  # fmt: skip
    answer = record_ownership_change(rt, by, partner_id, CHANGE)
    assert answer["screening_due"] == {"since": "2026-03-01", "reason": "ownership_changed", "rule_id": "ONB-SCREENING",
                                       "clause": "PA-2.8"}  # fmt: skip
    change = answer["ownership_changes"][-1]
    assert (change["changed_on"], change["reported_by_role"]) == ("2026-03-01", who)
    assert change["beneficial_owners"] == CHANGE["beneficial_owners"]
    (case,) = _screening_exceptions(rt)
    assert (case["queue"], case["partner_id"]) == ("legal", partner_id)
    assert "ownership changed on 2026-03-01" in case["reasons"][-1]["message"]
    # "no quote ... while the match is unresolved" holds on a potential match only: the quote is not held
    assert _quote(rt, partner_id)["outcome"] == "allow"
    published = [e for e in rt.publisher.published if e["detail_type"] == "partner.ownership_changed"]
    assert [(e["detail"]["changed_on"], e["detail"]["screening_due"]) for e in published] == [("2026-03-01", True)]


def test_a_second_change_before_the_new_screening_opens_no_second_exception_and_the_screening_clears_the_due():
    rt, clock, partner = _active()
    partner_id = partner["partner_id"]
    record_ownership_change(rt, OPS, partner_id, CHANGE)
    again = record_ownership_change(rt, LEGAL, partner_id, {**CHANGE, "changed_on": "2026-03-02"})
    assert again["screening_due"]["since"] == "2026-03-01" and len(_screening_exceptions(rt)) == 1
    partners.add_document(rt, LEGAL, partner_id, {
        "document_type": "compliance_screening", "reference": "dms://screening/again.pdf",
        "checksum": "sha256:" + "8" * 64, "issued_at": "2026-03-02", "outcome": "clear"})  # fmt: skip
    after = record_ownership_change(rt, OPS, partner_id, {**CHANGE, "changed_on": "2026-02-20"})
    assert after["screening_due"] is None  # the 2 March screening is after that change: it covered it
    clock.set("2026-04-01T10:00:00.000Z")
    assert screening_service.sweep_repeats(rt, "northwind") == {"screening_due": 0}  # the yearly repeat is not due


def test_a_change_before_the_screening_on_file_is_covered_by_it_and_opens_nothing():
    rt, _, partner = _active()
    answer = record_ownership_change(rt, OPS, partner["partner_id"], {**CHANGE, "changed_on": "2026-02-01"})
    assert answer["screening_due"] is None and _screening_exceptions(rt) == []


@pytest.mark.parametrize(("changed_on", "problem"), [("2026-03-03", RuleViolation), ("2026-02-30", MalformedRequest)])
def test_a_future_or_impossible_day_is_refused_naming_the_field_and_nothing_is_recorded(changed_on: str, problem: Any):
    rt, _, partner = _active()
    with pytest.raises(problem) as refused:
        record_ownership_change(rt, OPS, partner["partner_id"], {**CHANGE, "changed_on": changed_on})
    assert refused.value.errors[0].path == "/changed_on"
    assert "ownership_changes" not in partners.get_partner(rt, OPS, partner["partner_id"])
    assert _screening_exceptions(rt) == []


def test_a_partner_key_tells_only_of_its_own_ownership_a_rivals_id_is_not_found():
    rt, _, partner = _active()
    rival = Principal("northwind", Role.PARTNER, "key_rival", "ptr_01JBNWPARTNER0000000000002")
    with pytest.raises(NotFound):
        record_ownership_change(rt, rival, partner["partner_id"], CHANGE)
    assert _screening_exceptions(rt) == []


def test_red_team_7_a_partner_reporting_changes_again_and_again_cannot_make_its_record_unwritable():
    """Red team 7. A partner key told of 40 ownership changes of the largest size the schema takes (a 2,000-character
    description, 50 owners of 200 characters): its partner record passed the store's 400 KB item limit and every
    later write of it was a 413, so Legal could not file the screening PA-2.8 asks for ("A potential match is routed
    to Legal"), nor an admin terminate under PA-13.3 ("may terminate immediately on a confirmed compliance screening
    match") or suspend under PA-13.2. The record keeps the latest changes (and the earliest one no screening covers,
    which makes the screening due); each change stays whole on the audit trail (PA-12.1)."""
    from revgov.domain.errors import PayloadTooLarge
    from revgov.services import audit

    rt, clock, partner = _active()
    partner_id = partner["partner_id"]
    own = Principal("northwind", Role.PARTNER, "key_own", partner_id)
    record_ownership_change(rt, own, partner_id, CHANGE)  # 2026-03-01: after the screening of 2026-02-01
    largest = {"changed_on": "2026-01-15", "description": "D" * 2000,
               "beneficial_owners": [{"name": f"Owner {i:02d} " + "x" * 191, "share_percent": "1"} for i in range(50)]}
    for _ in range(40):
        try:
            answer = record_ownership_change(rt, own, partner_id, largest)
        except PayloadTooLarge:
            pytest.fail("the partner's own reports made its record unwritable")
    assert answer["screening_due"]["since"] == "2026-03-01"  # the uncovered change is kept
    assert len(answer["ownership_changes"]) <= 10
    clock.set("2026-03-03T10:00:00.000Z")
    filed = partners.add_document(rt, LEGAL, partner_id, {
        "document_type": "compliance_screening", "reference": "dms://screening/" + "r" * 150 + ".pdf",
        "checksum": "sha256:" + "7" * 64, "issued_at": "2026-03-03", "outcome": "confirmed_match"})  # fmt: skip
    assert filed["document"]["outcome"] == "confirmed_match"
    trail = audit.list_records(rt, "northwind", partner_id=partner_id, subject=None, limit=200, cursor=None)["items"]
    assert sum(r["action"] == "partner.ownership_changed" for r in trail) == 41
