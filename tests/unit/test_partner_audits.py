"""Audits of a partner's records and the repayment of an overpayment (PA-12.1 / CPA-12.1).

PA-12.1: "On 30 days' written notice, and no more than once per Program Year unless a previous audit found a
discrepancy, the Distributor or an independent auditor may audit those records during business hours to verify
rebate, SPIFF, commission and MDF claims, territory compliance and certification status. Where an audit finds that
incentives were overpaid by more than 5% for any Quarter, the Partner repays the overpayment and bears the reasonable
cost of the audit. The Distributor [...] provides the Partner, on request, with the records relating to the Partner."
CPA-12.1: "Contoso may audit them on 20 business days' notice, once per Program Year unless a discrepancy was found,
to verify incentive claims, territory compliance and certifications. Where incentives were overpaid by more than 3% in
a Quarter, the Partner repays them and bears the audit cost. Contoso [...] provides the Partner with its own records
on request."
PA-1.1: "'Program Year' means a calendar year." SOP-4.3 / COP-4.3: four eyes on money.

In-memory engine, fixed clock. Contoso's paid figure is CPA-7.2's own example: 1,000 docking stations (CT-DEV-DOCK,
EUR 210.00) in 2026-Q3 = EUR 210,000.00 at 2.5 % = EUR 5,250.00.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from memory_store import Ledger
from rebate_runs import settle_approved
from revgov.domain import partner_audits as rules
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Forbidden, MalformedRequest, NotFound, RuleViolation
from revgov.ports import Changes, Put
from revgov.services import cases, partner_audits, tenants

NW_FIN = Principal("northwind", Role.FINANCE, "key_nwfin")
NW_LEGAL = Principal("northwind", Role.LEGAL, "key_nwlegal")
NW_SECOND = Principal("northwind", Role.FINANCE, "key_nwfin2")
NW_PARTNER = "ptr_01JBNWPARTNER0000000000001"
NW_RIVAL = "ptr_01JBNWPARTNER0000000000002"
CT_FIN = Principal("contoso", Role.FINANCE, "key_ctfin")
CT_SECOND = Principal("contoso", Role.FINANCE, "key_ctfin2")
CT_PARTNER = "ptr_01JBCTAVD1TR000000000000A1"
NIL = {"rebate": "0.00", "spiff": "0.00", "commission": "0.00", "mdf": "0.00"}


def _northwind(at: str = "2026-11-02T10:00:00Z") -> Ledger:
    return Ledger(at)


def _contoso(at: str = "2026-07-01T10:00:00Z") -> Ledger:
    ledger = Ledger(at, tenant="contoso")
    certs = {c: {"cert_id": c, "holder": "A. Auditor", "earned_at": "2025-01-01", "expires_at": "2027-12-31"}
             for c in ("cert-collab-associate", "cert-secops-analyst", "cert-data-engineer", "cert-devices-field")}
    partner = {"partner_id": CT_PARTNER, "legal_name": "Audited Devices GmbH", "partner_type": "reseller",
               "status": "active", "tier": "authorized", "country": "DE", "activated_at": "2025-01-01T00:00:00Z",
               "certifications": certs}  # fmt: skip
    ledger.rt.store.commit("contoso", Changes(puts=[Put("PARTNER", CT_PARTNER, partner)]))
    return ledger


def _schedule(ledger: Ledger, who: Principal, partner: str, starts_on: str) -> dict[str, Any]:
    return partner_audits.schedule(ledger.rt, who, partner, {"starts_on": starts_on, "auditor": "Ledger & Co LLP"})


# --- notice ---------------------------------------------------------------------------------------------------------
def test_pa_12_1_on_30_days_written_notice_the_audit_starts_on_the_30th_day_not_before():
    ledger = _northwind("2026-11-02T10:00:00Z")
    with pytest.raises(RuleViolation) as refused:
        _schedule(ledger, NW_FIN, NW_PARTNER, "2026-12-01")
    assert refused.value.errors[0].path == "/starts_on"
    assert refused.value.extra["earliest_start"] == "2026-12-02" and refused.value.extra["clause"] == "PA-12.1"
    audit = _schedule(ledger, NW_FIN, NW_PARTNER, "2026-12-02")
    assert audit["status"] == "scheduled" and audit["program_year"] == 2026
    assert audit["notice"] == {"given_at": "2026-11-02T10:00:00.000Z", "period": "30 days' written notice",
                               "earliest_start": "2026-12-02"}  # fmt: skip
    assert (audit["rule_id"], audit["clause"]) == ("PTR-AUDIT", "PA-12.1")


def test_cpa_12_1_on_20_business_days_notice_counted_on_the_partners_calendar():
    # notice on Monday 2026-11-02: the 20th business day after is Monday 2026-11-30 (30 calendar days would allow
    # 2026-12-02, 20 calendar days 2026-11-22)
    ledger = _contoso("2026-11-02T09:00:00Z")
    with pytest.raises(RuleViolation) as refused:
        _schedule(ledger, CT_FIN, CT_PARTNER, "2026-11-27")
    assert refused.value.extra["earliest_start"] == "2026-11-30" and refused.value.extra["clause"] == "CPA-12.1"
    assert _schedule(ledger, CT_FIN, CT_PARTNER, "2026-11-30")["notice"]["period"] == "20 business days' notice"


def test_pa_12_1_the_audit_runs_during_business_hours_so_it_does_not_start_on_a_weekend():
    ledger = _northwind("2026-11-02T10:00:00Z")
    with pytest.raises(RuleViolation) as refused:
        _schedule(ledger, NW_FIN, NW_PARTNER, "2026-12-05")  # a Saturday
    assert refused.value.errors[0].path == "/starts_on"


def test_legal_schedules_an_audit_too_and_an_unknown_partner_is_404():
    ledger = _northwind()
    assert _schedule(ledger, NW_LEGAL, NW_PARTNER, "2026-12-02")["scheduled_by"] == NW_LEGAL.actor
    with pytest.raises(NotFound):
        _schedule(ledger, NW_FIN, "ptr_01JBNWPARTNER0000000000099", "2026-12-02")


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({}, "/starts_on"),
        ({"starts_on": "02/12/2026"}, "/starts_on"),
        ({"starts_on": 20261202}, "/starts_on"),
        ({"starts_on": "2026-12-02", "auditor": ""}, "/auditor"),
        ({"starts_on": "2026-12-02", "auditor": "x" * 501}, "/auditor"),
    ],
)
def test_a_malformed_schedule_names_its_field_and_changes_nothing(body: dict[str, Any], path: str):
    ledger = _northwind()
    with pytest.raises(MalformedRequest) as bad:
        partner_audits.schedule(ledger.rt, NW_FIN, NW_PARTNER, body)
    assert bad.value.errors[0].path == path
    assert partner_audits.list_audits(ledger.rt, NW_FIN, NW_PARTNER)["audits"] == []


# --- once per Program Year -------------------------------------------------------------------------------------------
def _audited(ledger: Ledger, verified_rebate: str) -> dict[str, Any]:
    """A 2026 audit of the northwind partner (nothing paid) with its 2026-Q3 finding recorded on its first day."""
    ledger.clock.set("2026-01-02T10:00:00Z")
    audit = _schedule(ledger, NW_FIN, NW_PARTNER, "2026-02-02")
    ledger.clock.set("2026-02-02T10:00:00Z")
    body = {"quarter": "2025-Q4", "verified": {**NIL, "rebate": verified_rebate}}
    return partner_audits.record_finding(ledger.rt, NW_FIN, NW_PARTNER, audit["audit_id"], body)


def test_pa_12_1_no_more_than_once_per_program_year():
    ledger = _northwind()
    first = _audited(ledger, "0.00")  # paid 0.00, verified 0.00: no discrepancy
    assert first["discrepancy_found"] is False
    ledger.clock.set("2026-11-02T10:00:00Z")
    with pytest.raises(RuleViolation) as refused:
        _schedule(ledger, NW_FIN, NW_PARTNER, "2026-12-31")  # the last business day of Program Year 2026
    assert refused.value.extra["audited_in_year"] == first["audit_id"]
    nxt = _schedule(ledger, NW_FIN, NW_PARTNER, "2027-01-04")  # the next Program Year (a calendar year, PA-1.1)
    assert nxt["program_year"] == 2027


def test_pa_12_1_unless_a_previous_audit_found_a_discrepancy():
    ledger = _northwind()
    first = _audited(ledger, "10.00")  # verified 10.00 due, 0.00 paid: a discrepancy (an underpayment)
    assert first["discrepancy_found"] is True and first["findings"][0]["repayable"] is False
    ledger.clock.set("2026-11-02T10:00:00Z")
    again = _schedule(ledger, NW_FIN, NW_PARTNER, "2026-12-02")
    assert again["program_year"] == 2026 and again["allowed_by_discrepancy_of"] == first["audit_id"]


# --- "more than 5%" / "more than 3%": the boundary ------------------------------------------------------------------
def _rule(tenant: str) -> rules.AuditRule:
    from memory_store import memory_runtime

    rt, _ = memory_runtime("2026-11-02T10:00:00Z", tenant=tenant)
    loaded, _ = tenants.load_tenant(rt, tenant)
    rule = rules.AuditRule.of(loaded.policy)
    assert rule is not None
    return rule


def _found(rule: rules.AuditRule, paid: str, verified: str) -> dict[str, Any]:
    zero = Decimal("0.00")
    return rules.finding(rule, "2026-Q3", {"rebate": Decimal(paid), "spiff": zero, "commission": zero, "mdf": zero},
                         {"rebate": Decimal(verified), "spiff": zero, "commission": zero, "mdf": zero},
                         at="2026-12-02T10:00:00Z", by="finance:key")  # fmt: skip


@pytest.mark.parametrize(
    ("tenant", "paid", "verified", "repayable", "percent"),
    [
        ("northwind", "1050.00", "1000.00", False, "5.00"),  # exactly 5 %: not "more than 5%"
        ("northwind", "1050.01", "1000.00", True, "5.00"),  # 5.001 %: more than 5 % (shown rounded, compared exact)
        ("northwind", "1049.99", "1000.00", False, "5.00"),
        ("contoso", "1030.00", "1000.00", False, "3.00"),  # exactly 3 %: not "more than 3%"
        ("contoso", "1030.01", "1000.00", True, "3.00"),
        ("contoso", "1050.00", "1000.00", True, "5.00"),  # contoso's 3 %, not northwind's 5 %
        ("northwind", "10.00", "0.00", True, None),  # nothing was due: any overpayment is more than 5 % of it
    ],
)
def test_overpaid_by_more_than_the_clauses_percentage_for_a_quarter(
    tenant: str, paid: str, verified: str, repayable: bool, percent: str | None
):
    found = _found(_rule(tenant), paid, verified)
    assert found["repayable"] is repayable and found["overpaid_percent"] == percent
    assert found["repayment"] == (f"{Decimal(paid) - Decimal(verified):.2f}" if repayable else "0.00")


def test_the_percentage_is_of_the_quarters_incentives_together():
    rule = _rule("northwind")
    paid = {"rebate": Decimal("600.00"), "spiff": Decimal("200.00"), "commission": Decimal("150.00"),
            "mdf": Decimal("100.00")}  # fmt: skip
    verified = {"rebate": Decimal("500.00"), "spiff": Decimal("250.00"), "commission": Decimal("150.00"),
                "mdf": Decimal("100.00")}  # fmt: skip
    found = rules.finding(rule, "2026-Q3", paid, verified, at="2026-12-02T10:00:00Z", by="finance:key")
    # paid 1,050.00 against 1,000.00 verified: 5 % exactly, not more, though the rebate alone was 20 % over
    assert (found["paid_total"], found["verified_total"], found["overpaid"]) == ("1050.00", "1000.00", "50.00")
    assert found["repayable"] is False and found["discrepancy"] is True


# --- findings from what was paid, the repayment and the audit cost ---------------------------------------------------
def _contoso_settled() -> Ledger:
    ledger = _contoso()
    ledger.clock.set("2026-08-03T12:00:00Z")
    data = {"partner_id": CT_PARTNER, "order_ref": "SO-2026-08-03", "shipped_on": "2026-08-03",
            "delivered_on": "2026-08-03", "lines": [{"sku": "CT-DEV-DOCK", "quantity": 1000}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", data, occurred_at="2026-08-03T10:00:00Z")["status"] == "processed"
    ledger.clock.set("2026-10-05T09:00:00Z")
    settle_approved(ledger.rt, CT_FIN, {"period": "2026-Q3", "run": 1})
    return ledger


def _published(ledger: Ledger) -> list[dict[str, Any]]:
    published = ledger.rt.publisher.published  # type: ignore[attr-defined]
    return [e for e in published if e["detail_type"] == "partner_audit.repayment_issued"]


def _contoso_audit(ledger: Ledger) -> dict[str, Any]:
    ledger.clock.set("2026-11-02T09:00:00Z")
    audit = _schedule(ledger, CT_FIN, CT_PARTNER, "2026-11-30")
    ledger.clock.set("2026-11-30T09:00:00Z")
    return audit


def test_cpa_12_1_paid_is_what_the_approved_settlement_paid_and_3_percent_exactly_is_not_repaid():
    ledger = _contoso_settled()
    audit = _contoso_audit(ledger)
    # 5,250.00 paid; 5,097.09 verified: 152.91 over, 2.99999 % of what was due (not more than 3 %)
    found = partner_audits.record_finding(ledger.rt, CT_FIN, CT_PARTNER, audit["audit_id"],
                                          {"quarter": "2026-Q3", "verified": {**NIL, "rebate": "5097.09"}})  # fmt: skip
    row = found["findings"][0]
    assert row["paid"] == {"rebate": "5250.00", "spiff": "0.00", "commission": "0.00", "mdf": "0.00"}
    assert (row["overpaid"], row["repayable"], row["discrepancy"]) == ("152.91", False, True)
    closed = partner_audits.close(ledger.rt, CT_FIN, CT_PARTNER, audit["audit_id"], {"audit_cost": "1800.00"})
    assert closed["status"] == "closed" and closed["repayment"] is None and closed["cost_borne_by"] == "distributor"


def test_cpa_12_1_overpaid_by_more_than_3_percent_the_partner_repays_with_the_audit_cost_after_four_eyes():
    ledger = _contoso_settled()
    audit = _contoso_audit(ledger)
    # 5,250.00 paid; 5,097.08 verified: 152.92 over, 3.00015 % (more than 3 %)
    partner_audits.record_finding(ledger.rt, CT_FIN, CT_PARTNER, audit["audit_id"],
                                  {"quarter": "2026-Q3", "verified": {**NIL, "rebate": "5097.08"}})  # fmt: skip
    closed = partner_audits.close(ledger.rt, CT_FIN, CT_PARTNER, audit["audit_id"], {"audit_cost": "1800.00"})
    repayment = closed["repayment"]
    assert (repayment["overpayment"], repayment["audit_cost"], repayment["total"]) == ("152.92", "1800.00", "1952.92")
    assert repayment["quarters"] == ["2026-Q3"] and repayment["status"] == "pending_approval"
    assert closed["cost_borne_by"] == "partner"
    assert _published(ledger) == []  # nothing charged before the second member approves
    # four eyes: the member who closed the audit (and prepared the repayment) cannot approve it
    with pytest.raises(Forbidden):
        cases.decide_case(ledger.rt, CT_FIN, "approval", repayment["approval_id"], "approved", "mine")
    pending = partner_audits.get_repayment(ledger.rt, CT_FIN, repayment["repayment_id"])
    assert pending["status"] == "pending_approval" and pending["queue"] == "finance"
    cases.decide_case(ledger.rt, CT_SECOND, "approval", repayment["approval_id"], "approved", "checked the workpapers")
    issued = partner_audits.get_repayment(ledger.rt, CT_SECOND, repayment["repayment_id"])
    assert issued["status"] == "issued" and issued["decision"]["by"] == CT_SECOND.actor
    [event] = _published(ledger)
    assert {k: event["detail"][k] for k in ("partner_id", "overpayment", "audit_cost", "total", "clause")} == {
        "partner_id": CT_PARTNER, "overpayment": "152.92", "audit_cost": "1800.00", "total": "1952.92",
        "clause": "CPA-12.1"}  # fmt: skip
    after = partner_audits.get_audit(ledger.rt, CT_FIN, CT_PARTNER, audit["audit_id"])
    assert after["repayment"]["status"] == "issued"
    # the partner reads its own repayment, not who on the staff prepared or approved it; a rival's key: 404
    own = Principal("contoso", Role.PARTNER, "key_ctown", partner_id=CT_PARTNER)
    seen = partner_audits.get_repayment(ledger.rt, own, repayment["repayment_id"])
    assert seen["total"] == "1952.92" and "prepared_by" not in seen and "by" not in seen["decision"]
    rival = Principal("contoso", Role.PARTNER, "key_ctrival", partner_id="ptr_01JBCTAVD1TR000000000000B2")
    with pytest.raises(NotFound):
        partner_audits.get_repayment(ledger.rt, rival, repayment["repayment_id"])


def test_sop_4_3_whoever_recorded_the_findings_does_not_approve_the_repayment_they_set():
    """Red team 8. SOP-4.3: "The person who created or last changed a quote, discount request, credit note, territory
    exception or rebate adjustment may not approve it" (COP-4.3: "Whoever created or last modified a [...] rebate
    adjustment may not approve it"). A repayment is the adjustment of the incentives paid, and its overpayment is
    what the finding's `verified` amounts make it: the finance member who recorded them created it. Before, only the
    member who closed the audit was its requester: finance A recorded the finding (verified 5,000.00 against 5,250.00
    paid), finance B closed the audit, and A approved the 250.00 + cost A had set, alone on the figures. Now A's
    approval is the 403 of segregation of duties, recorded on the chain, nothing issued; another member approves."""
    ledger = _contoso_settled()
    audit = _contoso_audit(ledger)
    partner_audits.record_finding(ledger.rt, CT_FIN, CT_PARTNER, audit["audit_id"],
                                  {"quarter": "2026-Q3", "verified": {**NIL, "rebate": "5000.00"}})  # fmt: skip
    closed = partner_audits.close(ledger.rt, CT_SECOND, CT_PARTNER, audit["audit_id"], {"audit_cost": "900.00"})
    approval_id = closed["repayment"]["approval_id"]
    with pytest.raises(Forbidden) as refused:
        cases.decide_case(ledger.rt, CT_FIN, "approval", approval_id, "approved", "my own workpapers")
    assert (refused.value.extra["refusal"], refused.value.extra["clause"]) == ("self_approval", "COP-4.3")
    assert cases.get_case(ledger.rt, "contoso", "approval", approval_id)[0]["status"] == "pending"
    assert partner_audits.get_repayment(ledger.rt, CT_SECOND, closed["repayment"]["repayment_id"])["status"] == (
        "pending_approval")
    assert _published(ledger) == []
    third = Principal("contoso", Role.FINANCE, "key_ctfin3")
    cases.decide_case(ledger.rt, third, "approval", approval_id, "approved", "checked the workpapers")
    assert partner_audits.get_repayment(ledger.rt, third, closed["repayment"]["repayment_id"])["status"] == "issued"
    assert len(_published(ledger)) == 1


def test_a_rejected_repayment_charges_nothing():
    ledger = _contoso_settled()
    audit = _contoso_audit(ledger)
    partner_audits.record_finding(ledger.rt, CT_FIN, CT_PARTNER, audit["audit_id"],
                                  {"quarter": "2026-Q3", "verified": {**NIL, "rebate": "5000.00"}})  # fmt: skip
    closed = partner_audits.close(ledger.rt, CT_FIN, CT_PARTNER, audit["audit_id"], {"audit_cost": "0.00"})
    cases.decide_case(ledger.rt, CT_SECOND, "approval", closed["repayment"]["approval_id"], "rejected", "disputed")
    assert partner_audits.get_repayment(ledger.rt, CT_FIN, closed["repayment"]["repayment_id"])["status"] == "rejected"
    assert _published(ledger) == []


def test_a_finding_waits_for_the_audits_first_day_and_for_the_quarters_end_once_per_quarter():
    ledger = _contoso_settled()
    ledger.clock.set("2026-11-02T09:00:00Z")
    audit = _schedule(ledger, CT_FIN, CT_PARTNER, "2026-11-30")
    body = {"quarter": "2026-Q3", "verified": NIL}
    with pytest.raises(RuleViolation):  # the audit starts on 2026-11-30
        partner_audits.record_finding(ledger.rt, CT_FIN, CT_PARTNER, audit["audit_id"], body)
    ledger.clock.set("2026-11-30T09:00:00Z")
    with pytest.raises(RuleViolation) as open_quarter:
        partner_audits.record_finding(ledger.rt, CT_FIN, CT_PARTNER, audit["audit_id"], {**body, "quarter": "2026-Q4"})
    assert open_quarter.value.errors[0].path == "/quarter"
    partner_audits.record_finding(ledger.rt, CT_FIN, CT_PARTNER, audit["audit_id"], body)
    with pytest.raises(RuleViolation):
        partner_audits.record_finding(ledger.rt, CT_FIN, CT_PARTNER, audit["audit_id"], body)


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"verified": NIL}, "/quarter"),
        ({"quarter": "2026-Q5", "verified": NIL}, "/quarter"),
        ({"quarter": "0000-Q1", "verified": NIL}, "/quarter"),  # red team 8: year 0 does not exist (was a 500)
        ({"quarter": "2026-Q3"}, "/verified"),
        ({"quarter": "2026-Q3", "verified": {**NIL, "rebate": 10.5}}, "/verified/rebate"),
        ({"quarter": "2026-Q3", "verified": {**NIL, "mdf": "-1.00"}}, "/verified/mdf"),
        ({"quarter": "2026-Q3", "verified": {**NIL, "spiff": "1.005"}}, "/verified/spiff"),
        ({"quarter": "2026-Q3", "verified": {"rebate": "1.00"}}, "/verified/spiff"),
        ({"quarter": "2026-Q3", "verified": {**NIL, "royalty": "1.00"}}, "/verified/royalty"),
    ],
)
def test_a_malformed_finding_names_its_field_and_changes_nothing(body: dict[str, Any], path: str):
    ledger = _contoso_settled()
    audit = _contoso_audit(ledger)
    with pytest.raises(MalformedRequest) as bad:
        partner_audits.record_finding(ledger.rt, CT_FIN, CT_PARTNER, audit["audit_id"], body)
    assert bad.value.errors[0].path == path
    assert partner_audits.get_audit(ledger.rt, CT_FIN, CT_PARTNER, audit["audit_id"])["findings"] == []


def test_closing_needs_a_finding_and_an_audit_cost():
    ledger = _contoso_settled()
    audit = _contoso_audit(ledger)
    with pytest.raises(RuleViolation):
        partner_audits.close(ledger.rt, CT_FIN, CT_PARTNER, audit["audit_id"], {"audit_cost": "100.00"})
    partner_audits.record_finding(ledger.rt, CT_FIN, CT_PARTNER, audit["audit_id"],
                                  {"quarter": "2026-Q3", "verified": NIL})  # fmt: skip
    for cost in (None, 100, "-5.00", "abc"):
        with pytest.raises(MalformedRequest) as bad:
            partner_audits.close(ledger.rt, CT_FIN, CT_PARTNER, audit["audit_id"], {"audit_cost": cost})
        assert bad.value.errors[0].path == "/audit_cost"
    assert partner_audits.get_audit(ledger.rt, CT_FIN, CT_PARTNER, audit["audit_id"])["status"] == "scheduled"


# --- the partner reads its own audits --------------------------------------------------------------------------------
def test_pa_12_1_the_partner_reads_its_own_audits_and_a_rivals_is_404():
    ledger = _northwind()
    audit = _schedule(ledger, NW_FIN, NW_PARTNER, "2026-12-02")
    own = Principal("northwind", Role.PARTNER, "key_own", partner_id=NW_PARTNER)
    rival = Principal("northwind", Role.PARTNER, "key_rival", partner_id=NW_RIVAL)
    seen = partner_audits.get_audit(ledger.rt, own, NW_PARTNER, audit["audit_id"])
    assert seen["starts_on"] == "2026-12-02" and "scheduled_by" not in seen
    assert [a["audit_id"] for a in partner_audits.list_audits(ledger.rt, own, NW_PARTNER)["audits"]] == [
        audit["audit_id"]
    ]
    with pytest.raises(NotFound) as other:
        partner_audits.get_audit(ledger.rt, rival, NW_PARTNER, audit["audit_id"])
    with pytest.raises(NotFound) as unknown:
        partner_audits.get_audit(ledger.rt, rival, "ptr_01JBNWPARTNER0000000000099", audit["audit_id"])
    assert str(other.value).replace(NW_PARTNER, "X") == str(unknown.value).replace(
        "ptr_01JBNWPARTNER0000000000099", "X"
    )
    with pytest.raises(NotFound):
        partner_audits.list_audits(ledger.rt, rival, NW_PARTNER)


def test_pa_12_1_every_step_is_in_the_partners_own_records_citing_the_clause():
    """CPA-12.1: Contoso "keeps an audit trail of every automated decision and approval and provides the Partner with
    its own records on request": each step of the audit and of its repayment is in that partner's trail."""
    from revgov.services import audit

    ledger = _contoso_settled()
    audit_record = _contoso_audit(ledger)
    partner_audits.record_finding(ledger.rt, CT_FIN, CT_PARTNER, audit_record["audit_id"],
                                  {"quarter": "2026-Q3", "verified": {**NIL, "rebate": "5000.00"}})  # fmt: skip
    closed = partner_audits.close(ledger.rt, CT_FIN, CT_PARTNER, audit_record["audit_id"], {"audit_cost": "10.00"})
    cases.decide_case(ledger.rt, CT_SECOND, "approval", closed["repayment"]["approval_id"], "approved", "ok")
    items = audit.list_records(ledger.rt, "contoso", subject=None, partner_id=CT_PARTNER, limit=100,
                               cursor=None)["items"]  # fmt: skip
    steps = {i["action"]: i for i in items}
    for action in ("partner_audit.scheduled", "partner_audit.finding_recorded", "partner_audit.closed",
                   "audit_repayment.prepared", "audit_repayment.issued"):  # fmt: skip
        assert action in steps, action
        assert "CPA-12.1" in steps[action]["clauses"]


def test_pa_12_1_mdf_paid_is_the_claims_paid_against_the_quarters_accrual():
    """PA-12.1 audits "rebate, SPIFF, commission and MDF claims": the MDF paid for a Quarter is what the partner's MDF
    ledger (PA-9.5 / CPA-9.5) records as paid against that Quarter's accrual."""
    from revgov.services import mdf_repository

    ledger = _contoso_settled()
    sums = {"drawn": {"2026-Q3": Decimal("400.00")}, "paid": {"2026-Q3": Decimal("400.00")}}
    ledger.rt.store.commit("contoso", Changes(puts=[mdf_repository.ledger_put(CT_PARTNER, sums, None)]))
    audit = _contoso_audit(ledger)
    found = partner_audits.record_finding(ledger.rt, CT_FIN, CT_PARTNER, audit["audit_id"], {
        "quarter": "2026-Q3", "verified": {"rebate": "5250.00", "spiff": "0.00", "commission": "0.00", "mdf": "250.00"},
    })["findings"][0]  # fmt: skip
    assert found["paid"]["mdf"] == "400.00" and found["paid_total"] == "5650.00"
    # 150.00 over 5,500.00 due: 2.73 %, not more than 3 %
    assert (found["overpaid"], found["overpaid_percent"], found["repayable"]) == ("150.00", "2.73", False)
