"""Market development funds on the in-memory engine with a fixed clock (PA-9.5 / CPA-9.5).

PA-9.5: "Silver, Gold and Platinum Partners are eligible for market development funds (MDF). MDF accrues each Quarter
at a percentage of the Partner's Qualifying Revenue in the previous Quarter: Silver 2%, Gold 3% and Platinum 4%.
Activities must be pre-approved by Channel Operations before they take place. Claims must be submitted within 90 days
after the activity ends, with proof of execution and third-party invoices. Accrued MDF not claimed by the end of the
Quarter following the Quarter of accrual expires. Registered Partners are not eligible for MDF."
CPA-9.5: "Advanced and Elite Partners accrue market development funds each Quarter at 2% (Advanced) or 5% (Elite) of
the previous Quarter's Qualifying Revenue. Activities are pre-approved by Channel Operations; claims are made within
60 days after the activity with proof of execution and supplier invoices. Unclaimed funds expire at the end of the
second Quarter after accrual."
PA-1.2: "'Qualifying Revenue' for a period means Invoiced Revenue for invoices dated in that period, net of all credit
notes issued against those invoices".
SOP-4.3: "A requester can never approve their own request [...] Where a request needs two approvals [...] they must be
given by two different people, neither of whom is the requester."

Hand-computed example (Northwind, a Gold reseller onboarded 2 March 2026): invoices dated in 2026-Q2 of 60,000.75 and
40,000.75, a credit note of 500.00 against the first: Qualifying Revenue 2026-Q2 = 100,001.50 - 500.00 = 99,501.50.
The 2026-Q3 accrual is 3% of it = 2,985.045 -> half-even, 2 places: 2,985.04 (half-up would give 2,985.05). It
expires at the end of the Quarter following 2026-Q3: 2026-12-31.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from memory_store import memory_runtime
from rebates_support import sales_fact
from revgov.domain import mdf as rules
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Conflict, Forbidden, NotFound, RuleViolation
from revgov.domain.partners import tiers_by_rank
from revgov.domain.rebates.policy import Period
from revgov.local.demo_partners import demo_application, onboard
from revgov.ports import Changes, Put
from revgov.services import mdf, mdf_requests, rebates
from revgov.tenant_files import load_tenant_file
from support import ROOT

SALES = Principal("northwind", Role.SALES, "key_01JX00000000000000000SALES")
OPS = Principal("northwind", Role.CHANNEL_OPS, "key_01JX000000000000000000OPS0")
OPS2 = Principal("northwind", Role.CHANNEL_OPS, "key_01JX000000000000000000OPS2")
FIN_A = Principal("northwind", Role.FINANCE, "key_01JX0000000000000000FINA00")
FIN_B = Principal("northwind", Role.FINANCE, "key_01JX0000000000000000FINB00")
EVIDENCE = {"proof_of_execution": "dms://mdf/roadshow/attendance.pdf", "invoices": ["SUP-INV-0042"]}


def _policy(rt: Any) -> dict[str, Any]:
    return rt.store.get("northwind", "TENANT", "PROFILE").data["config"]["policy"]  # type: ignore[no-any-return]


def _partner(rt: Any, tier_name: str, name: str) -> tuple[dict[str, Any], Principal]:
    tier = next(t for t in tiers_by_rank(_policy(rt)) if t["tier"] == tier_name)
    partner = onboard(rt, _policy(rt), demo_application(name, "reseller", tier), "active", sales=SALES, approver=OPS)
    assert partner["status"] == "active"
    return partner, Principal("northwind", Role.PARTNER, f"key_01JX000000000000000{name[:3].upper()}PK1",
                              partner["partner_id"])


def _sell(rt: Any, partner_id: str) -> None:
    """Q2 invoices 60,000.75 and 40,000.75 and a 500.00 credit note against the first (PA-1.2: net of it)."""
    rows = [{"id": f"{partner_id}-l1", "partner": partner_id, "month": "2026-05", "amount": "60000.75"},
            {"id": f"{partner_id}-l2", "partner": partner_id, "month": "2026-06", "amount": "40000.75"}]
    facts = [sales_fact(row, {}) for row in rows]
    credit = sales_fact({"id": f"{partner_id}-cn", "partner": partner_id, "month": "2026-06", "amount": "-500.00",
                         "kind": "credit_note"}, {})
    credit["references_line"] = f"{partner_id}-l1"
    rebates.project(rt, "northwind", facts)
    rebates.project(rt, "northwind", [credit])


@pytest.fixture
def gold() -> tuple[Any, Any, dict[str, Any], Principal]:
    rt, clock = memory_runtime("2026-03-02T09:00:00.000Z")
    partner, key = _partner(rt, "gold", "Fundwise Networks")
    _sell(rt, partner["partner_id"])
    clock.set("2026-07-06T09:00:00.000Z")
    return rt, clock, partner, key


def _q3(ledger: dict[str, Any]) -> dict[str, Any]:
    return next(row for row in ledger["accruals"] if row["quarter"] == "2026-Q3")


def test_pa_9_5_accrual_is_the_previous_quarters_qualifying_revenue_at_the_tiers_percent(gold):
    rt, _, partner, key = gold
    ledger = mdf.ledger(rt, key, partner["partner_id"])
    assert (ledger["rule_id"], ledger["clause"], ledger["claim_window_days"]) == ("MDF-ACCRUAL", "PA-9.5", 90)
    assert _q3(ledger) == {
        "quarter": "2026-Q3", "revenue_quarter": "2026-Q2", "qualifying_revenue": "99501.50", "tier": "gold",
        "percent": "3", "accrued": "2985.04", "reserved": "0.00", "paid": "0.00", "expired": "0.00",
        "available": "2985.04", "expires_on": "2026-12-31",
    }
    q2 = next(row for row in ledger["accruals"] if row["quarter"] == "2026-Q2")
    assert (q2["qualifying_revenue"], q2["accrued"]) == ("0.00", "0.00")  # nothing invoiced in 2026-Q1
    assert ledger["available"] == "2985.04"


def test_pa_9_5_the_qualifying_revenue_is_the_rebate_engines_basis(gold):
    rt, _, partner, _ = gold
    tenant_result = rebates.rate_under(rt, _tenant(rt), _policy(rt), "v", Period.parse("2026-Q2"))[0]
    volume = next(v for v in tenant_result.programs_view(partner["partner_id"]) if v["program_id"] == "RBT-VOLUME")
    assert volume["basis_revenue"] == "99501.50"


def _tenant(rt: Any) -> Any:
    from revgov.services import tenants
    return tenants.load_tenant(rt, "northwind")[0]


def test_pa_9_5_registered_partners_accrue_nothing():
    rt, clock = memory_runtime("2026-03-02T09:00:00.000Z")
    partner, key = _partner(rt, "registered", "Plainview Resale")
    _sell(rt, partner["partner_id"])
    clock.set("2026-07-06T09:00:00.000Z")
    row = _q3(mdf.ledger(rt, key, partner["partner_id"]))
    assert (row["percent"], row["accrued"], row["available"]) == ("0", "0.00", "0.00")


def _activity(rt: Any, who: Principal, partner_id: str, starts: str, ends: str, planned: str) -> dict[str, Any]:
    return mdf_requests.request_activity(rt, who, partner_id, {"title": "Security roadshow", "starts_on": starts,
                                                               "ends_on": ends, "planned_amount": planned})


def test_pa_9_5_no_activity_is_pre_approved_for_a_partner_not_eligible_for_mdf():
    """Red team 8. PA-9.5: "Silver, Gold and Platinum Partners are eligible for market development funds (MDF) [...]
    Registered Partners are not eligible for MDF" (the tier's `mdf_eligible`, ENT-REG-MDF); PA-2.2: "Before the
    Partner may quote, order, register deals or accrue any incentive", its documents are verified, and an applicant
    holds no tier at all. A Registered partner's key (and an applicant's) asked for the pre-approval of an activity
    and channel ops pre-approved it: the pre-approval PA-9.5 gives an eligible partner, for one the clause excludes,
    which then spends on the activity. Now the request is a 422 citing ENT-REG-MDF / PA-9.5, nothing recorded; one
    requested while eligible is not pre-approved once the partner no longer is (staff's own request too)."""
    rt, _ = memory_runtime("2026-07-06T09:00:00.000Z")
    partner, key = _partner(rt, "registered", "Plainview Resale")
    pid = partner["partner_id"]
    for who in (key, OPS):
        with pytest.raises(RuleViolation) as refused:
            _activity(rt, who, pid, "2026-07-20", "2026-07-21", "100.00")
        assert (refused.value.extra["rule_id"], refused.value.extra["clause"]) == ("ENT-REG-MDF", "PA-9.5")
    assert mdf.ledger(rt, key, pid)["activities"] == []
    applicant = onboard(rt, _policy(rt), demo_application("Applied Only", "reseller",
                                                          tiers_by_rank(_policy(rt))[1]), "pending_approval",
                        sales=SALES, approver=OPS)  # fmt: skip
    with pytest.raises(RuleViolation):
        _activity(rt, OPS, applicant["partner_id"], "2026-07-20", "2026-07-21", "100.00")


def test_pa_9_5_an_activity_is_not_pre_approved_once_the_partner_is_no_longer_eligible(gold):
    rt, _, partner, key = gold
    pid = partner["partner_id"]
    asked = _activity(rt, key, pid, "2026-07-20", "2026-07-21", "100.00")
    assert mdf_requests.decide_activity(rt, OPS, pid, asked["activity_id"], {}, True)["status"] == "approved"
    later = _activity(rt, key, pid, "2026-08-20", "2026-08-21", "100.00")
    stored = rt.store.get("northwind", "PARTNER", pid)
    rt.store.commit("northwind", Changes(puts=[Put("PARTNER", pid, {**stored.data, "tier": "registered"},
                                                   expected_version=stored.version)]))
    with pytest.raises(RuleViolation) as refused:
        mdf_requests.decide_activity(rt, OPS, pid, later["activity_id"], {}, True)
    assert refused.value.extra["clause"] == "PA-9.5"
    statuses = {a["activity_id"]: a["status"] for a in mdf.ledger(rt, key, pid)["activities"]}
    assert statuses == {asked["activity_id"]: "approved", later["activity_id"]: "requested"}
    rejected = mdf_requests.decide_activity(rt, OPS, pid, later["activity_id"], {"reason": "no longer eligible"}, False)
    assert rejected["status"] == "rejected"


def test_pa_9_5_pre_approval_claim_and_four_eyes_payment_by_credit_note(gold):
    rt, clock, partner, key = gold
    pid = partner["partner_id"]
    activity = _activity(rt, key, pid, "2026-07-20", "2026-07-22", "2500.00")
    assert activity["status"] == "requested"
    approved = mdf_requests.decide_activity(rt, OPS, pid, activity["activity_id"], {}, True)
    assert (approved["status"], approved["decided_by"]) == ("approved", OPS.actor)
    with pytest.raises(RuleViolation) as early:  # "within 90 days after the activity ends": after it ends
        mdf_requests.submit_claim(rt, key, pid, {"activity_id": activity["activity_id"], "amount": "100.00",
                                                 "evidence": EVIDENCE})
    assert early.value.errors[0].path == "/activity_id"
    clock.set("2026-07-25T09:00:00.000Z")
    with pytest.raises(RuleViolation) as over_plan:
        mdf_requests.submit_claim(rt, key, pid, {"activity_id": activity["activity_id"], "amount": "2500.01",
                                                 "evidence": EVIDENCE})
    assert over_plan.value.errors[0].path == "/amount"
    claim = mdf_requests.submit_claim(rt, key, pid, {"activity_id": activity["activity_id"], "amount": "2000.00",
                                                     "evidence": EVIDENCE})
    assert (claim["status"], claim["draws"]) == ("submitted", {"2026-Q3": "2000.00"})
    row = _q3(mdf.ledger(rt, key, pid))
    assert (row["reserved"], row["available"]) == ("2000.00", "985.04")
    first = mdf_requests.decide_claim(rt, FIN_A, pid, claim["claim_id"], {}, True)
    assert (first["status"], first["credit_note"]) == ("approved", None)
    with pytest.raises(Forbidden):  # the same finance member twice is not four eyes
        mdf_requests.decide_claim(rt, FIN_A, pid, claim["claim_id"], {}, True)
    paid = mdf_requests.decide_claim(rt, FIN_B, pid, claim["claim_id"], {}, True)
    assert paid["status"] == "paid" and [a["by"] for a in paid["approvals"]] == [FIN_A.actor, FIN_B.actor]
    assert paid["credit_note"]["amount"] == "2000.00" and paid["credit_note"]["applied_to"] == "partner_account"
    seen = mdf.ledger(rt, key, pid)
    row = _q3(seen)
    assert (row["reserved"], row["paid"], row["available"]) == ("0.00", "2000.00", "985.04")
    # a partner reads the teams that acted, never their key ids
    assert [a["by"] for a in seen["claims"][0]["approvals"]] == ["finance", "finance"]
    assert seen["activities"][0]["decided_by"] == "channel_ops" and "key_" not in str(seen)
    with pytest.raises(Conflict):
        mdf_requests.decide_claim(rt, FIN_A, pid, claim["claim_id"], {"reason": "late"}, False)


def test_pa_9_5_activities_are_approved_before_they_take_place_and_never_by_their_requester(gold):
    rt, clock, partner, _ = gold
    pid = partner["partner_id"]
    own = _activity(rt, OPS, pid, "2026-07-20", "2026-07-21", "100.00")
    with pytest.raises(Forbidden):
        mdf_requests.decide_activity(rt, OPS, pid, own["activity_id"], {}, True)
    clock.set("2026-07-20T08:00:00.000Z")  # the activity's first day: too late to pre-approve it
    with pytest.raises(Conflict):
        mdf_requests.decide_activity(rt, OPS2, pid, own["activity_id"], {}, True)
    with pytest.raises(RuleViolation) as no_reason:
        mdf_requests.decide_activity(rt, OPS2, pid, own["activity_id"], {}, False)
    assert no_reason.value.errors[0].path == "/reason"
    rejected = mdf_requests.decide_activity(rt, OPS2, pid, own["activity_id"], {"reason": "not in plan"}, False)
    assert rejected["status"] == "rejected"


def test_pa_9_5_a_claim_after_90_days_or_beyond_the_accrual_is_refused_and_changes_nothing(gold):
    rt, clock, partner, key = gold
    pid = partner["partner_id"]
    activity = _activity(rt, key, pid, "2026-07-20", "2026-08-01", "9000.00")
    mdf_requests.decide_activity(rt, OPS, pid, activity["activity_id"], {}, True)
    clock.set("2026-08-10T09:00:00.000Z")
    body = {"activity_id": activity["activity_id"], "amount": "2985.05", "evidence": EVIDENCE}
    with pytest.raises(RuleViolation) as refused:  # refused, not capped: the clause pays no part of a claim
        mdf_requests.submit_claim(rt, key, pid, body)
    assert refused.value.errors[0].path == "/amount" and refused.value.extra == {"available": "2985.04"}
    assert mdf.ledger(rt, key, pid)["claims"] == []
    clock.set("2026-10-30T23:59:00.000Z")  # 1 August + 90 days = 30 October: the last day to claim
    assert mdf_requests.submit_claim(rt, key, pid, {**body, "amount": "10.00"})["status"] == "submitted"
    clock.set("2026-10-31T00:00:00.000Z")
    with pytest.raises(RuleViolation):
        mdf_requests.submit_claim(rt, key, pid, {**body, "amount": "10.00"})


def test_pa_9_5_unclaimed_accrual_expires_after_the_following_quarter_once_by_the_sweep(gold):
    rt, clock, partner, key = gold
    pid = partner["partner_id"]
    clock.set("2026-12-31T23:00:00.000Z")
    assert mdf.sweep_expiry(rt, "northwind")["expired"] == 0
    assert _q3(mdf.ledger(rt, key, pid))["available"] == "2985.04"
    clock.set("2027-01-01T00:30:00.000Z")
    assert mdf.sweep_expiry(rt, "northwind")["expired"] == 1
    assert mdf.sweep_expiry(rt, "northwind")["expired"] == 0  # idempotent
    row = _q3(mdf.ledger(rt, key, pid))
    assert (row["expired"], row["available"]) == ("2985.04", "0.00")
    audit = [e for e in rt.store.query("northwind", "AUDIT", limit=500).items if e.data.get("action") == "mdf.expired"]
    assert len(audit) == 1 and audit[0].data["inputs"]["expired"] == "2985.04"


def test_pa_9_5_a_partner_reads_only_its_own_ledger(gold):
    rt, _, partner, _ = gold
    rival = Principal("northwind", Role.PARTNER, "key_01JX0000000000000000RIVAL1", "ptr_01JX0000000000000000000RIV")
    with pytest.raises(NotFound):
        mdf.ledger(rt, rival, partner["partner_id"])
    with pytest.raises(NotFound):
        _activity(rt, rival, partner["partner_id"], "2026-08-01", "2026-08-02", "10.00")


@pytest.mark.parametrize(("body", "field"), [
    ({"title": "x", "starts_on": "2026-08-02", "ends_on": "2026-08-01", "planned_amount": "1.00"}, "/ends_on"),
    ({"title": "x", "starts_on": "2026-07-06", "ends_on": "2026-07-08", "planned_amount": "1.00"}, "/starts_on"),
    ({"title": "x", "starts_on": "2026-08-01", "ends_on": "2099-01-01", "planned_amount": "1.00"}, "/ends_on"),
    ({"title": "x", "starts_on": "2026-02-30", "ends_on": "2026-08-01", "planned_amount": "1.00"}, "/starts_on"),
    ({"title": "x", "starts_on": "2026-08-01", "ends_on": "2026-08-02", "planned_amount": "-1.00"}, "/planned_amount"),
    ({"title": "x", "starts_on": "2026-08-01", "ends_on": "2026-08-02", "planned_amount": "NaN"}, "/planned_amount"),
    ({"title": "x", "starts_on": "2026-08-01", "ends_on": "2026-08-02", "planned_amount": "0.00"}, "/planned_amount"),
    ({"title": "x", "starts_on": "2026-08-01", "ends_on": "2026-08-02", "planned_amount": "99999999999.00"},
     "/planned_amount"),
])
def test_bad_activity_requests_name_the_field_and_change_nothing(gold, body, field):
    rt, _, partner, key = gold
    with pytest.raises(RuleViolation) as bad:
        mdf_requests.request_activity(rt, key, partner["partner_id"], body)
    assert bad.value.errors[0].path == field
    assert mdf.ledger(rt, key, partner["partner_id"])["activities"] == []


@pytest.mark.parametrize(("tenant", "percent", "revenue", "accrued", "quarter", "expires"), [
    # PA-9.5 Gold 3%: 100,001.50 x 3% = 3,000.045 -> 3,000.04 (half-even); expires end of 2026-Q4
    ("northwind", "3", "100001.50", "3000.04", "2026-Q3", "2026-12-31"),
    # CPA-9.5 Elite 5%: 100,000.10 x 5% = 5,000.005 -> 5,000.00; "the end of the second Quarter after accrual"
    ("contoso", "5", "100000.10", "5000.00", "2026-Q3", "2027-03-31"),
    # CPA-9.5 Advanced 2%: 12,345.67 x 2% = 246.9134 -> 246.91
    ("contoso", "2", "12345.67", "246.91", "2026-Q4", "2027-06-30"),
])
def test_accrual_arithmetic_and_expiry_from_the_clauses(tenant, percent, revenue, accrued, quarter, expires):
    policy = rules.mdf_policy(load_tenant_file(ROOT / "tenants" / tenant / "tenant.yaml")["policy"])
    got = rules.accrual(policy, Period.parse(quarter), Decimal(revenue), "t", Decimal(percent), True)
    assert (f"{got.amount:f}", got.expires_on.isoformat()) == (accrued, expires)
    assert rules.claim_deadline(policy, date(2026, 8, 1)) == date(2026, 8, 1) + (
        date(2026, 10, 30) - date(2026, 8, 1) if tenant == "northwind" else date(2026, 9, 30) - date(2026, 8, 1))


def test_mdf_events_match_their_schema_and_samples_and_carry_no_evidence_or_keys(gold):
    """Each event type emitted has a sample under events/revgov.mdf/ and matches schemas/events/ (what n8n reads)."""
    import json

    from revgov import schemas

    rt, clock, partner, key = gold
    pid = partner["partner_id"]
    kept = _activity(rt, key, pid, "2026-07-20", "2026-07-22", "2500.00")
    dropped = _activity(rt, key, pid, "2026-07-20", "2026-07-22", "10.00")
    mdf_requests.decide_activity(rt, OPS, pid, kept["activity_id"], {}, True)
    mdf_requests.decide_activity(rt, OPS, pid, dropped["activity_id"], {"reason": "duplicate"}, False)
    clock.set("2026-07-25T09:00:00.000Z")
    body = {"activity_id": kept["activity_id"], "amount": "1000.00", "evidence": EVIDENCE}
    paid = mdf_requests.submit_claim(rt, key, pid, body)
    mdf_requests.decide_claim(rt, FIN_A, pid, paid["claim_id"], {}, True)
    mdf_requests.decide_claim(rt, FIN_B, pid, paid["claim_id"], {}, True)
    refused = mdf_requests.submit_claim(rt, key, pid, body)
    mdf_requests.decide_claim(rt, FIN_A, pid, refused["claim_id"], {"reason": "invoice unreadable"}, False)
    clock.set("2027-01-02T00:00:00.000Z")
    mdf.sweep_expiry(rt, "northwind")
    emitted = [e for e in rt.publisher.published if e["source"] == "revgov.mdf"]
    samples = {p.stem: json.loads(p.read_text()) for p in (ROOT / "events" / "revgov.mdf").glob("*.json")}
    assert {e["detail_type"] for e in emitted} == set(samples)
    for event in emitted:
        envelope = {"source": event["source"], "detail-type": event["detail_type"], "detail": event["detail"]}
        assert schemas.problems("events/revgov.mdf.schema.json", envelope) == [], envelope
        assert "key_" not in json.dumps(event["detail"]) and "evidence" not in event["detail"]
    for sample in samples.values():
        assert schemas.problems("events/revgov.mdf.schema.json", sample) == [], sample
    expired = next(e for e in emitted if e["detail_type"] == "mdf.expired")["detail"]
    assert (expired["accrued"], expired["expired"]) == ("2985.04", "1985.04")  # 2,985.04 less the 1,000.00 paid


def test_pa_13_3_a_terminated_partners_unclaimed_mdf_lapses(gold):
    """PA-13.3: "On termination: [...] unclaimed MDF and unpaid commissions not yet earned lapse"."""
    from revgov.services import partners

    rt, clock, partner, key = gold
    pid = partner["partner_id"]
    activity = _activity(rt, key, pid, "2026-07-20", "2026-07-22", "500.00")
    mdf_requests.decide_activity(rt, OPS, pid, activity["activity_id"], {}, True)
    partners.change_status(rt, OPS, pid, "terminated", "material breach not cured (PA-13.3)")
    clock.set("2026-07-25T09:00:00.000Z")
    with pytest.raises(Conflict):
        mdf_requests.submit_claim(rt, OPS, pid, {"activity_id": activity["activity_id"], "amount": "100.00",
                                                 "evidence": EVIDENCE})
    with pytest.raises(Conflict):
        _activity(rt, OPS, pid, "2026-08-01", "2026-08-02", "10.00")


LEGAL = Principal("northwind", Role.LEGAL, "key_01JX00000000000000000LEGAL")


def _screening(outcome: str, issued_at: str) -> dict[str, Any]:
    return {"document_type": "compliance_screening", "reference": f"dms://screening/{outcome}.pdf",
            "checksum": "sha256:" + "7" * 64, "issued_at": issued_at, "outcome": outcome}


def test_pa_2_8_no_mdf_claim_is_paid_to_a_partner_held_by_an_unresolved_screening_match(gold):
    """Red team 6. PA-2.8: "A potential match is routed to Legal, and no quote, order or incentive may be processed
    for the Partner while the match is unresolved"; CPA-2.8: "no quote, order, payment or incentive is processed for
    the Partner until Legal resolves it" (the policy's screening: "held: no quote, order, payment or incentive until
    Legal files a clear one"). The settlement run withholds a held partner's rebates; an MDF claim was still approved
    and paid by credit note (SOP-4.3's two finance members) while Legal had not resolved the match. Now each approval
    is refused (422 naming ONB-SCREENING and PA-2.8) and nothing changes; once Legal files a clear screening the two
    approvals pay it as before."""
    from revgov.services import partners

    rt, clock, partner, key = gold
    pid = partner["partner_id"]
    activity = _activity(rt, key, pid, "2026-07-20", "2026-07-22", "2500.00")
    mdf_requests.decide_activity(rt, OPS, pid, activity["activity_id"], {}, True)
    clock.set("2026-07-25T09:00:00.000Z")
    claim = mdf_requests.submit_claim(rt, key, pid, {"activity_id": activity["activity_id"], "amount": "2000.00",
                                                     "evidence": EVIDENCE})
    first = mdf_requests.decide_claim(rt, FIN_A, pid, claim["claim_id"], {}, True)
    assert first["status"] == "approved"
    partners.add_document(rt, OPS, pid, _screening("potential_match", "2026-07-25"))
    with pytest.raises(RuleViolation) as held:
        mdf_requests.decide_claim(rt, FIN_B, pid, claim["claim_id"], {}, True)
    assert (held.value.extra["rule_id"], held.value.extra["clause"]) == ("ONB-SCREENING", "PA-2.8")
    seen = mdf.ledger(rt, key, pid)
    (kept,) = [c for c in seen["claims"] if c["claim_id"] == claim["claim_id"]]
    assert kept["status"] == "approved" and kept["credit_note"] is None
    assert (_q3(seen)["reserved"], _q3(seen)["paid"]) == ("2000.00", "0.00")
    second = mdf_requests.submit_claim(rt, key, pid, {"activity_id": activity["activity_id"], "amount": "100.00",
                                                      "evidence": EVIDENCE})
    with pytest.raises(RuleViolation):  # a first approval is processing the payment too
        mdf_requests.decide_claim(rt, FIN_A, pid, second["claim_id"], {}, True)
    assert [c["status"] for c in mdf.ledger(rt, key, pid)["claims"] if c["claim_id"] == second["claim_id"]] == [
        "submitted"]
    clock.set("2026-07-27T09:00:00.000Z")
    partners.add_document(rt, LEGAL, pid, _screening("clear", "2026-07-27"))
    paid = mdf_requests.decide_claim(rt, FIN_B, pid, claim["claim_id"], {}, True)
    assert paid["status"] == "paid" and paid["credit_note"]["amount"] == "2000.00"


def test_pa_2_8_no_mdf_activity_is_pre_approved_for_a_partner_held_by_an_unresolved_screening_match(gold):
    """PA-2.8: "no quote, order or incentive may be processed for the Partner while the match is unresolved"; CPA-2.8:
    "no quote, order, payment or incentive is processed for the Partner until Legal resolves it". MDF is an incentive
    (PA-12.1: audits "verify rebate, SPIFF, commission and MDF claims [...] Where an audit finds that incentives were
    overpaid"); PA-9.5: "Activities must be pre-approved by Channel Operations before they take place": pre-approving an
    activity processes it (it commits the funds the claim is paid from). Refused (422 naming ONB-SCREENING and
    PA-2.8) and nothing changes while the match is unresolved; the request waits, and a rejection is still possible
    (it processes nothing). Once Legal files a clear screening it is pre-approved as before. Before, it was approved."""
    from revgov.services import partners

    rt, clock, partner, key = gold
    pid = partner["partner_id"]
    activity = _activity(rt, key, pid, "2026-07-20", "2026-07-22", "2500.00")
    other = _activity(rt, key, pid, "2026-07-21", "2026-07-23", "500.00")
    partners.add_document(rt, OPS, pid, _screening("potential_match", "2026-07-06"))
    with pytest.raises(RuleViolation) as held:
        mdf_requests.decide_activity(rt, OPS, pid, activity["activity_id"], {}, True)
    assert (held.value.extra["rule_id"], held.value.extra["clause"]) == ("ONB-SCREENING", "PA-2.8")
    assert held.value.extra["outcome"] == "potential_match"
    statuses = {a["activity_id"]: a["status"] for a in mdf.ledger(rt, key, pid)["activities"]}
    assert statuses[activity["activity_id"]] == "requested"
    rejected = mdf_requests.decide_activity(rt, OPS, pid, other["activity_id"], {"reason": "not this quarter"}, False)
    assert rejected["status"] == "rejected"
    clock.set("2026-07-07T09:00:00.000Z")
    partners.add_document(rt, LEGAL, pid, _screening("clear", "2026-07-07"))
    approved = mdf_requests.decide_activity(rt, OPS, pid, activity["activity_id"], {}, True)
    assert approved["status"] == "approved"


def test_pa_13_2_a_claim_submitted_before_a_suspension_is_paid_during_it(gold):
    """Clause audit 10. PA-13.2: "The Distributor may suspend a Partner from new quotes, orders, deal registrations and
    incentive accrual, without terminating this Agreement" (CPA-13.2: "new quotes, orders, registrations and incentive
    accrual"). A claim draws on MDF accrued before the suspension (2026-Q3's 2,985.04, accrued on 2026-07-01 on
    2026-Q2's 99,501.50 at Gold's 3 %): paying it is no accrual, no quote, order or registration, so neither clause
    stops it; only an unresolved screening match does (PA-2.8 "no quote, order or incentive may be processed", the
    test above), and PA-7.8 / CPA-7.8 withhold rebates, not MDF. Suspended on 2026-07-26 (PA-2.7's insurance lapse),
    the claim of 2,000.00 submitted on 2026-07-25 is paid by the two finance members: Q3 paid 2,000.00, available
    985.04, the accrual unchanged. What the suspension stops is new MDF business: a new activity is not pre-approved
    (the policy's suspension withholds `mdf_eligible`, PTR-SUSPENSION, citing PA-13.2)."""
    from revgov.services import partners

    rt, clock, partner, key = gold
    pid = partner["partner_id"]
    activity = _activity(rt, key, pid, "2026-07-20", "2026-07-22", "2500.00")
    mdf_requests.decide_activity(rt, OPS, pid, activity["activity_id"], {}, True)
    clock.set("2026-07-25T09:00:00.000Z")
    claim = mdf_requests.submit_claim(rt, key, pid, {"activity_id": activity["activity_id"], "amount": "2000.00",
                                                     "evidence": EVIDENCE})
    clock.set("2026-07-26T09:00:00.000Z")
    partners.change_status(rt, OPS, pid, "suspended", "insurance certificate expired more than 15 days (PA-2.7)")
    mdf_requests.decide_claim(rt, FIN_A, pid, claim["claim_id"], {}, True)
    paid = mdf_requests.decide_claim(rt, FIN_B, pid, claim["claim_id"], {}, True)
    assert paid["status"] == "paid" and paid["credit_note"]["amount"] == "2000.00"
    row = _q3(mdf.ledger(rt, OPS, pid))
    assert (row["accrued"], row["paid"], row["available"]) == ("2985.04", "2000.00", "985.04")
    with pytest.raises(RuleViolation) as refused:
        _activity(rt, key, pid, "2026-08-10", "2026-08-12", "500.00")
    assert refused.value.extra["clause"] == "PA-13.2"
