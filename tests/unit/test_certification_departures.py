"""A certified individual leaving the partner, on the in-memory engine with a fixed clock (the service layer).

PA-4.4: "If the only certified individual for a certification leaves the Partner's employment, that certification
ceases to count for the Partner on the individual's last day of employment, with the same effect as expiry under
PA-4.3. The Partner must notify Channel Operations within 10 business days of the departure. Failure to notify is a
material breach where the Partner continues to quote Products of the affected Product Family."
PA-4.3: "From the moment a certification expires [...]: (a) every entitlement that depends on that certification is
removed [...]; (b) where the Partner holds no other valid certification in the same Product Family, the Partner may
not quote, order or register deals for Products of that Product Family; [...] (d) approved deal registrations in that
Product Family are suspended".
CPA-4.2: "The Partner notifies Channel Operations within 10 business days when a certified individual leaves; the
certification stops counting on the individual's last working day." (no clause makes a late notice a breach)
PA-1.3: business days are "Monday to Friday excluding public holidays published in the Partner Portal for the
Program Year" (Northwind's calendar lists 2026-06-19).

A Northwind gold reseller (cert-network-core, cert-security-pro) is onboarded on Monday 2026-03-02. Its only
cert-security-pro holder's last day is Friday 2026-06-05: ten business days later, skipping the 19 June holiday, is
Monday 2026-06-22.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from memory_store import memory_runtime
from revgov.domain import partners as partner_rules
from revgov.domain.access import Principal, Role
from revgov.domain.agents import certification_gap
from revgov.domain.errors import Conflict, Forbidden, NotFound, RuleViolation
from revgov.domain.partners import tiers_by_rank
from revgov.local.demo_partners import demo_application, onboard
from revgov.services import cases, deal_holds, deals, partner_departures, partners, pricing

SALES = Principal("northwind", Role.SALES, "key_01JX00000000000000000SALES")
OPS = Principal("northwind", Role.CHANNEL_OPS, "key_01JX000000000000000000OPS0")
LAST_DAY = "2026-06-05"
NOTICE_DUE = "2026-06-22"


def _policy(rt: Any, tenant: str = "northwind") -> dict[str, Any]:
    return rt.store.get(tenant, "TENANT", "PROFILE").data["config"]["policy"]  # type: ignore[no-any-return]


def _gold(name: str = "Departure Networks") -> tuple[Any, Any, dict[str, Any], Principal]:
    rt, clock = memory_runtime("2026-03-02T09:00:00.000Z")
    gold = next(t for t in tiers_by_rank(_policy(rt)) if t["tier"] == "gold")
    partner = onboard(rt, _policy(rt), demo_application(name, "reseller", gold), "active", sales=SALES, approver=OPS)
    assert partner["status"] == "active"
    assert set(partner["certifications"]) == {"cert-network-core", "cert-security-pro"}
    key = Principal("northwind", Role.PARTNER, "key_01JX0000000000000000PARTNR", partner["partner_id"])
    return rt, clock, partner, key


def _quote(rt: Any, who: Principal, partner_id: str, sku: str) -> dict[str, Any]:
    return pricing.check(rt, who, {"partner_id": partner_id, "customer": {"id": "CUST-DEP-1", "name": "Lakeside"},
                                   "lines": [{"line_id": "1", "sku": sku, "quantity": 1, "discount_percent": "2"}]})


def _exceptions(rt: Any) -> list[dict[str, Any]]:
    page = cases.list_cases(rt, "northwind", "exception", status="open", queue="channel_ops", limit=200, cursor=None)
    return [item.data for item in page.items if item.data["category"] == partner_departures.CATEGORY]


def test_pa_4_4_the_only_holder_leaving_ends_the_certification_at_the_end_of_the_last_day_like_expiry():
    rt, clock, partner, key = _gold()
    clock.set("2026-06-08T10:00:00.000Z")
    recorded = partner_departures.record(rt, key, partner["partner_id"],
                                         {"certification_id": "cert-security-pro", "last_day": LAST_DAY})
    assert recorded["counts"] is False and recorded["counts_until"] == LAST_DAY and recorded["holders"] == 0
    assert recorded["departure"]["notice"] == {"due_on": NOTICE_DUE, "notified_on": "2026-06-08", "late": False,
                                               "rule_id": "PTR-CERTIFICATION-DEPARTURE", "clause": "PA-4.4"}
    assert "late_notice_exception" not in recorded  # a partner key never reads Channel Operations' exception
    stored, _ = partners.load_partner(rt, "northwind", partner["partner_id"])
    # "ceases to count [...] on the individual's last day of employment": valid that day, not the next
    assert "cert-security-pro" in partner_rules.valid_certifications(stored, partner_rules.counts_until(
        stored["certifications"]["cert-security-pro"]))
    on_last_day = partners.entitlements(rt, "northwind", partner["partner_id"], f"{LAST_DAY}T23:59:59Z")
    after = partners.entitlements(rt, "northwind", partner["partner_id"], "2026-06-06T00:00:00Z")
    # PA-4.3(a): "the Partner receives only the entitlements of the highest tier whose certification requirements
    # it still meets": gold needs cert-security-pro, silver only cert-network-core
    assert on_last_day["effective_tier"] == "gold" and after["effective_tier"] == "silver"
    assert after["entitlements"]["premium_onboarding"]["entitled"] is False
    assert after["entitlements"]["premium_onboarding"]["clause"] == "PA-4.3"
    (audit,) = [r for r in rt.store.iter_audit_records("northwind")
                if r["action"] == "partner.certification_departure_recorded"]
    assert audit["clauses"] == ["PA-4.4"] and audit["subject"] == partner["partner_id"]
    (event,) = [e for e in rt.publisher.published if e["detail_type"] == "partner.certification_departure_recorded"]
    assert event["detail"]["ceased"] is True and event["detail"]["last_day"] == LAST_DAY


def test_pa_4_4_with_the_same_effect_as_expiry_the_family_is_barred_from_quotes_and_registrations():
    rt, clock, partner, _ = _gold("Barred Departure Networks")
    clock.set("2026-06-08T10:00:00.000Z")
    partner_departures.record(rt, OPS, partner["partner_id"],
                              {"certification_id": "cert-security-pro", "last_day": LAST_DAY})
    # PA-4.3(b): "may not quote, order or register deals for Products of that Product Family"
    assert _quote(rt, SALES, partner["partner_id"], "NW-FW-200")["outcome"] == "deny"
    assert _quote(rt, SALES, partner["partner_id"], "NW-SW-24P")["outcome"] != "deny"  # networking still certified
    body = {"partner_id": partner["partner_id"], "customer": {"id": "CUST-DEP-2", "name": "Lakeside",
            "contact": "D. Ortiz"}, "family": "security", "estimated_value": "1000.00", "expected_close": "2026-07-20"}
    with pytest.raises(RuleViolation) as refused:
        deals.register(rt, SALES, body)
    assert "PA-4.3" in [r["clause"] for r in refused.value.extra["reasons"]]


def test_pa_4_3_d_an_approved_security_registration_is_suspended_by_the_certification_sweep():
    rt, clock, partner, _ = _gold("Held Departure Networks")
    body = {"partner_id": partner["partner_id"], "customer": {"id": "CUST-DEP-3", "name": "Harbor",
            "contact": "D. Ortiz"}, "family": "security", "estimated_value": "9000.00", "expected_close": "2026-06-30"}
    clock.set("2026-05-04T10:00:00.000Z")
    registered = deals.register(rt, SALES, body)
    cases.decide_case(rt, OPS, "approval", registered["approval_id"], "approved", "checked under PA-5.2")
    clock.set("2026-06-08T10:00:00.000Z")
    partner_departures.record(rt, OPS, partner["partner_id"],
                              {"certification_id": "cert-security-pro", "last_day": LAST_DAY})
    assert deal_holds.sweep(rt, "northwind")["opened"] == 1  # "approved deal registrations [...] are suspended"


def test_pa_4_4_a_second_holder_keeps_the_certification_counting_until_the_last_one_leaves():
    rt, clock, partner, _ = _gold("Two Holders Networks")
    partners.add_certification(rt, OPS, partner["partner_id"],
                               {"certification_id": "cert-security-pro", "earned_at": "2026-02-20", "holders": 2})
    clock.set("2026-06-08T10:00:00.000Z")
    first = partner_departures.record(rt, OPS, partner["partner_id"],
                                      {"certification_id": "cert-security-pro", "last_day": "2026-06-01"})
    assert first["counts"] is True and first["holders"] == 1 and first["late_notice_exception"] is None
    second = partner_departures.record(rt, OPS, partner["partner_id"],
                                       {"certification_id": "cert-security-pro", "last_day": LAST_DAY})
    assert second["counts"] is False and second["counts_until"] == LAST_DAY  # the last one's last day


def test_pa_4_4_a_late_notice_while_the_partner_quoted_the_family_opens_an_exception_for_channel_ops():
    rt, clock, partner, key = _gold("Late Notice Networks")
    clock.set("2026-06-10T10:00:00.000Z")
    quoted = _quote(rt, key, partner["partner_id"], "NW-FW-200")  # the departure is not yet known: allowed
    assert quoted["outcome"] != "deny"
    clock.set("2026-06-23T10:00:00.000Z")  # the 11th business day after 5 June
    recorded = partner_departures.record(rt, key, partner["partner_id"],
                                         {"certification_id": "cert-security-pro", "last_day": LAST_DAY})
    assert recorded["departure"]["notice"]["late"] is True
    (exception,) = _exceptions(rt)
    assert exception["queue"] == "channel_ops" and exception["subject"] == {"kind": "partner",
                                                                             "id": partner["partner_id"]}
    # the routing rule (SOP-4.1: "An item that matches no category goes to channel_ops for triage") and the breach
    assert [r["clause"] for r in exception["reasons"]] == ["SOP-4.1", "PA-4.4"]
    assert [q["decision_id"] for q in exception["context"]["quotes"]] == [quoted["decision_id"]]
    assert exception["context"]["notice"]["due_on"] == NOTICE_DUE


def test_pa_4_4_a_notice_on_the_tenth_business_day_is_in_time_whatever_was_quoted():
    rt, clock, partner, key = _gold("Timely Notice Networks")
    clock.set("2026-06-10T10:00:00.000Z")
    _quote(rt, key, partner["partner_id"], "NW-FW-200")
    clock.set(f"{NOTICE_DUE}T17:00:00.000Z")
    recorded = partner_departures.record(rt, key, partner["partner_id"],
                                         {"certification_id": "cert-security-pro", "last_day": LAST_DAY})
    assert recorded["departure"]["notice"]["late"] is False and _exceptions(rt) == []


def test_pa_4_4_a_late_notice_is_no_breach_when_the_partner_did_not_quote_the_affected_family():
    rt, clock, partner, key = _gold("Quiet Late Networks")
    clock.set("2026-06-03T10:00:00.000Z")
    _quote(rt, key, partner["partner_id"], "NW-FW-200")  # before the departure: not "continues to quote"
    clock.set("2026-06-10T10:00:00.000Z")
    _quote(rt, key, partner["partner_id"], "NW-SW-24P")  # networking: not the affected family
    clock.set("2026-07-01T10:00:00.000Z")
    recorded = partner_departures.record(rt, OPS, partner["partner_id"],
                                         {"certification_id": "cert-security-pro", "last_day": LAST_DAY})
    assert recorded["departure"]["notice"]["late"] is True
    assert recorded["late_notice_exception"] is None and _exceptions(rt) == []


def test_pa_4_4_channel_ops_may_date_a_notice_it_received_earlier_and_quotes_after_it_are_no_breach():
    rt, clock, partner, _ = _gold("Emailed Notice Networks")
    clock.set("2026-06-24T10:00:00.000Z")
    _quote(rt, SALES, partner["partner_id"], "NW-FW-200")  # after the (late) notice of 23 June
    clock.set("2026-06-25T10:00:00.000Z")
    recorded = partner_departures.record(rt, OPS, partner["partner_id"], {
        "certification_id": "cert-security-pro", "last_day": LAST_DAY, "notified_on": "2026-06-23"})
    assert recorded["departure"]["notice"]["notified_on"] == "2026-06-23" and recorded["late_notice_exception"] is None


def test_cpa_4_2_contoso_ends_the_certification_on_the_last_working_day_but_opens_no_breach():
    rt, clock = memory_runtime("2026-03-02T09:00:00.000Z", tenant="contoso")
    ops = Principal("contoso", Role.CHANNEL_OPS, "key_01JX000000000000000000OPS0")
    sales = Principal("contoso", Role.SALES, "key_01JX00000000000000000SALES")
    advanced = next(t for t in tiers_by_rank(_policy(rt, "contoso")) if t["tier"] == "advanced")
    partner = onboard(rt, _policy(rt, "contoso"), demo_application("Kontor GmbH", "reseller", advanced), "active",
                      sales=sales, approver=ops)
    clock.set("2026-06-10T10:00:00.000Z")
    pricing.check(rt, sales, {"partner_id": partner["partner_id"], "customer": {"id": "CUST-CT-1"},
                              "lines": [{"line_id": "1", "sku": "CT-SEC-XDR", "quantity": 1}]})
    clock.set("2026-07-15T10:00:00.000Z")
    recorded = partner_departures.record(rt, ops, partner["partner_id"],
                                         {"certification_id": "cert-secops-analyst", "last_day": LAST_DAY})
    assert recorded["counts"] is False and recorded["departure"]["notice"]["clause"] == "CPA-4.2"
    assert recorded["departure"]["notice"]["late"] is True and recorded["late_notice_exception"] is None


def test_a_certification_earned_by_a_new_hire_after_the_departure_runs_from_its_own_date():
    rt, clock, partner, _ = _gold("Rehired Networks")
    clock.set("2026-06-08T10:00:00.000Z")
    partner_departures.record(rt, OPS, partner["partner_id"],
                              {"certification_id": "cert-security-pro", "last_day": LAST_DAY})
    added = partners.add_certification(rt, OPS, partner["partner_id"],
                                       {"certification_id": "cert-security-pro", "earned_at": "2026-06-08"})
    # PA-4.1: "Each is held by an individual employee" and PA-4.2 "valid from the date it is earned [...] 24 months"
    assert added["valid"] is True and added["certification"]["expires_at"] == "2028-06-07"
    assert added["certification"]["holders"] == 1 and "holder_left_on" not in added["certification"]
    assert added["certification"]["expiry_gaps"][-1]["expired_on"] == LAST_DAY


# --- bad inputs: a problem naming the field, nothing changed ----------------------------------------------------
@pytest.mark.parametrize(("body", "error", "path"), [
    ({"certification_id": "cert-security-pro", "last_day": "2026-06-09"}, RuleViolation, "/last_day"),  # future
    ({"certification_id": "cert-security-pro", "last_day": "2025-12-31"}, RuleViolation, "/last_day"),  # pre-earning
    ({"certification_id": "cert-made-up", "last_day": LAST_DAY}, RuleViolation, "/certification_id"),
    ({"certification_id": "cert-cloud-ops", "last_day": LAST_DAY}, RuleViolation, "/certification_id"),  # not held
    ({"certification_id": "cert-security-pro", "last_day": LAST_DAY, "notified_on": "2026-06-06"}, Forbidden,
     "/notified_on"),  # a partner key may not date its own notice
])
def test_bad_departures_are_refused_naming_the_field_and_change_nothing(body, error, path):
    rt, clock, partner, key = _gold("Bad Input Networks")
    clock.set("2026-06-08T10:00:00.000Z")
    before = partners.load_partner(rt, "northwind", partner["partner_id"])
    with pytest.raises(error) as refused:
        partner_departures.record(rt, key, partner["partner_id"], body)
    assert [e.path for e in refused.value.errors] == [path]
    assert partners.load_partner(rt, "northwind", partner["partner_id"]) == before


def test_a_rival_partners_key_cannot_record_a_departure_on_another_partner():
    rt, _clock, partner, _ = _gold("Rival Target Networks")
    rival = Principal("northwind", Role.PARTNER, "key_01JX00000000000000000RIVAL", "ptr_01JX0000000000000000000000")
    with pytest.raises(NotFound):
        partner_departures.record(rt, rival, partner["partner_id"],
                                  {"certification_id": "cert-security-pro", "last_day": "2026-03-01"})


def test_a_departure_after_every_holder_left_is_a_conflict():
    rt, clock, partner, _ = _gold("Empty Networks")
    clock.set("2026-06-08T10:00:00.000Z")
    partner_departures.record(rt, OPS, partner["partner_id"],
                              {"certification_id": "cert-security-pro", "last_day": LAST_DAY})
    with pytest.raises(Conflict):
        partner_departures.record(rt, OPS, partner["partner_id"],
                                  {"certification_id": "cert-security-pro", "last_day": LAST_DAY})


def test_pa_4_4_the_certification_watcher_reads_a_departure_as_the_expiry_it_is():
    """"with the same effect as expiry under PA-4.3": the watcher's gap on a live deal is the last holder's last day."""
    held = {"cert-security-pro": {"certification_id": "cert-security-pro", "earned_at": "2026-01-05",
                                  "expires_at": "2028-01-04", "holders": 0, "holder_left_on": LAST_DAY}}
    gap = certification_gap(["cert-security-pro"], held, date(2026, 6, 8), date(2026, 7, 8))
    assert gap is not None and gap.expired and gap.expires_on == date(2026, 6, 5)
    before = certification_gap(["cert-security-pro"], held, date(2026, 6, 1), date(2026, 7, 1))
    assert before is not None and not before.expired and before.expires_on == date(2026, 6, 5)  # lapses before close
