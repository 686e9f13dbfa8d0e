"""Notice of a security incident affecting the other party's data, in either direction (PA-11.2 / CPA-11.2).

PA-11.2: "Each party notifies the other without undue delay, and in any event within 72 hours, of a security incident
affecting the other's data, and cooperates in its investigation."
CPA-11.2: "Personal data breaches are notified to the other party without undue delay and within 48 hours of becoming
aware."
SOP-1.2: legal handles "contract deviations, compliance screening matches, contract interpretation questions";
COP-1.2: legal handles "data protection requests": a late or unsent notice is an exception for legal.

In-memory engine, fixed clock; the sweep is the scheduled `watch_security_incidents`.
"""

from __future__ import annotations

from typing import Any

import pytest

from memory_store import Ledger
from revgov.domain.access import Principal, Role
from revgov.domain.errors import MalformedRequest, NotFound, RuleViolation
from revgov.ports import Changes, Put
from revgov.services import cases as cases_service
from revgov.services import security_incidents

P1, P2 = "ptr_01JBNWPARTNER0000000000001", "ptr_01JBNWPARTNER0000000000002"
LEGAL = Principal("northwind", Role.LEGAL, "key_nwlegal")
CS = Principal("northwind", Role.CUSTOMER_SUCCESS, "key_nwcs")
OWN = Principal("northwind", Role.PARTNER, "key_p1", partner_id=P1)
RIVAL = Principal("northwind", Role.PARTNER, "key_p2", partner_id=P2)
CT_PARTNER = "ptr_01JBCTAVD1TR000000000000A1"
CT_LEGAL = Principal("contoso", Role.LEGAL, "key_ctlegal")
CT_OWN = Principal("contoso", Role.PARTNER, "key_ctp", partner_id=CT_PARTNER)
AWARE = "2026-12-01T08:00:00Z"


def _contoso(at: str) -> Ledger:
    ledger = Ledger(at, tenant="contoso")
    partner = {"partner_id": CT_PARTNER, "legal_name": "Breached Devices GmbH", "partner_type": "reseller",
               "status": "active", "tier": "authorized", "country": "DE",
               "activated_at": "2025-01-01T00:00:00Z"}  # fmt: skip
    ledger.rt.store.commit("contoso", Changes(puts=[Put("PARTNER", CT_PARTNER, partner)]))
    return ledger


def _exceptions(ledger: Ledger) -> list[dict[str, Any]]:
    return [e for e in ledger.exceptions() if e["category"] == "security_incident_notice"]


def _listed(ledger: Ledger, who: Principal, partner_id: str | None) -> list[dict[str, Any]]:
    return security_incidents.list_incidents(ledger.rt, who, partner_id, limit=100, cursor=None)["items"]


def _why(case: dict[str, Any]) -> dict[str, Any]:
    """The reason the notice rule gave (beside the routing's own)."""
    [reason] = [r for r in case["reasons"] if r.get("rule_id") == "SEC-INCIDENT-NOTICE"]
    return reason


def _report(ledger: Ledger, who: Principal, at: str, **body: Any) -> dict[str, Any]:
    ledger.clock.set(at)
    return security_incidents.record(ledger.rt, who, {"became_aware_at": AWARE, "summary": "mailbox compromise",
                                                      **body})  # fmt: skip


def _sweep(ledger: Ledger, at: str) -> dict[str, int]:
    ledger.clock.set(at)
    return security_incidents.watch_security_incidents(ledger.rt, ledger.tenant_id)


# --- the partner reports one affecting the distributor's data -------------------------------------------------------
def test_pa_11_2_a_partners_report_at_the_72nd_hour_is_within_72_hours():
    ledger = Ledger("2026-12-01T09:00:00Z")
    incident = _report(ledger, OWN, "2026-12-04T08:00:00Z")  # exactly 72 hours after becoming aware
    assert (incident["direction"], incident["partner_id"]) == ("partner_to_distributor", P1)
    assert incident["notify_by"] == incident["notified_at"] == "2026-12-04T08:00:00.000Z"
    assert incident["notice"] == "on_time" and (incident["rule_id"], incident["clause"]) == ("SEC-INCIDENT-NOTICE",
                                                                                           "PA-11.2")  # fmt: skip
    # the notice reaches legal at once (red team 8; PA-11.2 "cooperates in its investigation"): one exception, in time
    [case] = _exceptions(ledger)
    assert case["queue"] == "legal" and case["subject"]["id"] == incident["incident_id"]
    assert "received at 2026-12-04T08:00:00.000Z, by 2026-12-04T08:00:00.000Z" in _why(case)["message"]
    assert incident["exception_id"] == case["case_id"]
    assert _sweep(ledger, "2026-12-05T08:00:00Z")["opened"] == 0 and len(_exceptions(ledger)) == 1


def test_pa_11_2_a_partners_report_one_second_after_72_hours_is_late_and_legal_gets_an_exception():
    ledger = Ledger("2026-12-01T09:00:00Z")
    incident = _report(ledger, OWN, "2026-12-04T08:00:01Z")
    assert incident["notice"] == "late"
    # legal's exception opens with the report itself, saying it came late (red team 8: a report in time opens one
    # too); the sweep has nothing left to open
    [case] = _exceptions(ledger)
    assert case["queue"] == "legal" and case["subject"]["id"] == incident["incident_id"]
    assert _why(case)["clause"] == "PA-11.2" and "72 hours" in _why(case)["message"]
    assert "received at 2026-12-04T08:00:01.000Z, after 2026-12-04T08:00:00.000Z" in _why(case)["message"]
    stored = security_incidents.get_incident(ledger.rt, LEGAL, incident["incident_id"])
    assert stored["exception_id"] == case["case_id"]
    assert _sweep(ledger, "2026-12-04T09:00:00Z") == {"looked_at": 0, "opened": 0}  # once per incident
    assert len(_exceptions(ledger)) == 1


def test_a_partners_reports_join_legals_open_exception_one_case_at_a_time():
    """Red team 8: every report reaches legal, but a partner key sending report after report opens one exception, not
    one per request (red team 7's finding for entitlement reviews: a partner key filled a queue bounded only by the
    rate limit). A report while legal's exception for an earlier one is undecided joins it (listed in its context,
    counted in `seen_count`); once legal decides it, the next report opens a new one. A rival's reports are its own."""
    ledger = Ledger("2026-12-01T09:00:00Z")
    first = _report(ledger, OWN, "2026-12-01T10:00:00Z")
    again = [_report(ledger, OWN, f"2026-12-01T10:0{n}:00Z") for n in range(1, 4)]
    rival = _report(ledger, RIVAL, "2026-12-01T10:05:00Z")
    cases = _exceptions(ledger)
    assert len(cases) == 2
    [mine] = [c for c in cases if c["partner_id"] == P1]
    assert {i["exception_id"] for i in [first, *again]} == {mine["case_id"]}
    assert mine["context"]["incidents"] == [first["incident_id"], *(i["incident_id"] for i in again)]
    assert mine["seen_count"] == 4 and rival["exception_id"] != mine["case_id"]
    cases_service.decide_case(ledger.rt, LEGAL, "exception", mine["case_id"], "resolved", "investigated with them")
    later = _report(ledger, OWN, "2026-12-01T11:00:00Z")
    assert later["exception_id"] not in (mine["case_id"], rival["exception_id"]) and len(_exceptions(ledger)) == 3


def test_cpa_11_2_within_48_hours_of_becoming_aware():
    ledger = _contoso("2026-12-01T09:00:00Z")
    on_time = _report(ledger, CT_OWN, "2026-12-03T08:00:00Z")  # 48 hours exactly
    late = _report(ledger, CT_OWN, "2026-12-03T08:00:01Z")
    assert (on_time["notice"], late["notice"]) == ("on_time", "late")
    assert on_time["notify_by"] == "2026-12-03T08:00:00.000Z" and on_time["clause"] == "CPA-11.2"
    # each report reaches legal at once (red team 8): the second joins the exception the first opened, still open
    # (one case per partner at a time); the sweep opens nothing more
    assert _sweep(ledger, "2026-12-03T09:00:00Z")["opened"] == 0
    [case] = _exceptions(ledger)
    assert case["queue"] == "legal" and case["subject"]["id"] == on_time["incident_id"]
    assert case["context"]["incidents"] == [on_time["incident_id"], late["incident_id"]]
    assert ", by 2026-12-03T08:00:00.000Z (48 hours" in _why(case)["message"]
    assert security_incidents.get_incident(ledger.rt, CT_LEGAL, late["incident_id"])["exception_id"] == case["case_id"]


# --- staff record one affecting a partner's data --------------------------------------------------------------------
def test_pa_11_2_an_unsent_notice_is_overdue_a_second_after_72_hours_not_at_the_72nd():
    ledger = Ledger("2026-12-01T09:00:00Z")
    incident = _report(ledger, CS, "2026-12-01T09:00:00Z", partner_id=P1)
    assert incident["direction"] == "distributor_to_partner" and incident["notice"] == "pending"
    assert _sweep(ledger, "2026-12-04T08:00:00Z") == {"looked_at": 1, "opened": 0}  # the 72nd hour: still in time
    assert _sweep(ledger, "2026-12-04T08:00:01Z") == {"looked_at": 1, "opened": 1}
    [case] = _exceptions(ledger)
    assert case["queue"] == "legal" and "was not sent by 2026-12-04T08:00:00.000Z" in _why(case)["message"]
    assert security_incidents.get_incident(ledger.rt, LEGAL, incident["incident_id"])["notice"] == "overdue"


def test_pa_11_2_a_notice_recorded_within_72_hours_settles_it():
    ledger = Ledger("2026-12-01T09:00:00Z")
    incident = _report(ledger, LEGAL, "2026-12-01T09:00:00Z", partner_id=P1)
    ledger.clock.set("2026-12-05T09:00:00Z")  # recorded later, sent on time
    noticed = security_incidents.record_notice(ledger.rt, LEGAL, incident["incident_id"],
                                               {"notified_at": "2026-12-04T08:00:00Z"})  # fmt: skip
    assert noticed["notice"] == "on_time"
    assert _sweep(ledger, "2026-12-05T10:00:00Z") == {"looked_at": 0, "opened": 0}


def test_pa_11_2_a_notice_sent_after_72_hours_is_late():
    ledger = Ledger("2026-12-01T09:00:00Z")
    incident = _report(ledger, LEGAL, "2026-12-01T09:00:00Z", partner_id=P1)
    ledger.clock.set("2026-12-04T12:00:00Z")
    noticed = security_incidents.record_notice(ledger.rt, LEGAL, incident["incident_id"],
                                               {"notified_at": "2026-12-04T11:00:00Z"})  # fmt: skip
    assert noticed["notice"] == "late"
    assert _sweep(ledger, "2026-12-04T13:00:00Z")["opened"] == 1
    assert "was sent at 2026-12-04T11:00:00.000Z, after" in _why(_exceptions(ledger)[0])["message"]


def test_staff_recorded_with_its_notice_sent_on_time_never_watched():
    ledger = Ledger("2026-12-01T09:00:00Z")
    incident = _report(ledger, LEGAL, "2026-12-01T09:00:00Z", partner_id=P1, notified_at="2026-12-01T08:30:00Z")
    assert incident["notice"] == "on_time"
    assert _sweep(ledger, "2026-12-09T00:00:00Z") == {"looked_at": 0, "opened": 0}


# --- bad input, nothing changed -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("who", "body", "path", "error"),
    [
        (OWN, {"summary": "x"}, "/became_aware_at", MalformedRequest),
        (OWN, {"became_aware_at": "2026-12-01 08:00", "summary": "x"}, "/became_aware_at", MalformedRequest),
        (OWN, {"became_aware_at": "2026-12-02T08:00:00Z", "summary": "x"}, "/became_aware_at", RuleViolation),
        (OWN, {"became_aware_at": AWARE, "summary": ""}, "/summary", MalformedRequest),
        (OWN, {"became_aware_at": AWARE, "summary": "x" * 2001}, "/summary", MalformedRequest),
        (OWN, {"became_aware_at": AWARE, "summary": "x", "notified_at": AWARE}, "/notified_at", MalformedRequest),
        (LEGAL, {"partner_id": P1, "became_aware_at": AWARE, "summary": "x", "notified_at": "2026-12-01T07:00:00Z"},
         "/notified_at", RuleViolation),
        (LEGAL, {"partner_id": P1, "became_aware_at": AWARE, "summary": "x", "notified_at": "2026-12-03T00:00:00Z"},
         "/notified_at", RuleViolation),
    ],
)
def test_a_malformed_incident_names_its_field_and_records_nothing(who, body, path, error):
    ledger = Ledger("2026-12-01T09:00:00Z")
    with pytest.raises(error) as bad:
        security_incidents.record(ledger.rt, who, body)
    assert bad.value.errors[0].path == path
    assert _listed(ledger, LEGAL, None) == []


def test_a_notice_cannot_be_recorded_twice_nor_on_a_partners_own_report():
    ledger = Ledger("2026-12-01T09:00:00Z")
    staff = _report(ledger, LEGAL, "2026-12-01T09:00:00Z", partner_id=P1, notified_at="2026-12-01T08:30:00Z")
    with pytest.raises(RuleViolation):
        security_incidents.record_notice(ledger.rt, LEGAL, staff["incident_id"], {"notified_at": AWARE})
    reported = _report(ledger, OWN, "2026-12-01T09:00:00Z")
    with pytest.raises(RuleViolation):
        security_incidents.record_notice(ledger.rt, LEGAL, reported["incident_id"], {"notified_at": AWARE})


# --- a partner key: its own only ------------------------------------------------------------------------------------
def test_a_partner_reads_its_own_incidents_and_a_rivals_is_404():
    ledger = Ledger("2026-12-01T09:00:00Z")
    mine = _report(ledger, LEGAL, "2026-12-01T09:00:00Z", partner_id=P1)
    seen = security_incidents.get_incident(ledger.rt, OWN, mine["incident_id"])
    assert seen["incident_id"] == mine["incident_id"] and "recorded_by" not in seen
    with pytest.raises(NotFound):
        security_incidents.get_incident(ledger.rt, RIVAL, mine["incident_id"])
    assert _listed(ledger, RIVAL, P1) == []  # always itself, never P1's
    assert [i["incident_id"] for i in _listed(ledger, OWN, None)] == [
        mine["incident_id"]
    ]
    other = _report(ledger, LEGAL, "2026-12-01T09:00:00Z", partner_id=P2)
    assert [i["incident_id"] for i in _listed(ledger, LEGAL, P2)] == [other["incident_id"]]
    assert len(_listed(ledger, LEGAL, None)) == 2
    with pytest.raises(NotFound):  # a partner reports only for itself: another's id is one that does not exist
        _report(ledger, RIVAL, "2026-12-01T09:00:00Z", partner_id=P1)
    with pytest.raises(NotFound):
        _report(ledger, LEGAL, "2026-12-01T09:00:00Z", partner_id="ptr_01JBNWPARTNER0000000000099")
