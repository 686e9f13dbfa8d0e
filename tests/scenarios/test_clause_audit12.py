"""Clause audit, twelfth round: what the code does where a clause grants or refuses something the figures do not show.

PA-3.6: "A Partner may also request an upgrade at any time during the Program Year by demonstrating that it meets the
certification requirements of the higher tier and either has already reached the annual commitment in the current
Program Year or signs a written commitment to reach it. Upgrades take effect on the first day of the Billing Month
following approval."
PA-3.7: "A Partner that does not meet the annual commitment of its tier at the annual review is moved to the highest
tier whose requirements it meets. The Distributor gives 30 days' written notice and the downgrade takes effect on the
first day of the next Quarter after the notice period ends. A Partner that was upgraded on a written commitment and
misses that commitment is downgraded in the same way and does not receive a second commitment-based upgrade in the
following Program Year."
PA-3.1: "A Partner qualifies for a tier only while it meets the certification requirements of that tier and has met,
or for a new or upgraded Partner has committed in writing to meet, its annual commitment."
PA-3.4: "The Gold tier requires an annual commitment of USD 1,000,000.00 and the certifications cert-network-core [...]
and cert-security-pro". PA-3.3: Silver "USD 250,000.00 and the certification cert-network-core".

Before this round a request upgraded only on revenue reached: a Silver partner holding Gold's certifications that
signed a commitment was answered "unchanged" (the written commitment was "not built", docs/onboarding.md).

Every expectation is worked by hand from the clause quoted beside it (docs/clause-audit.md, "Twelfth round").
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from memory_store import Ledger
from revgov.domain import partners as partner_rules
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Conflict, FieldError, RuleViolation
from revgov.domain.partners import tier_review
from revgov.services import partners, tenants
from revgov.services import tier_changes as recording
from revgov.tenant_files import load_tenant_file
from support import ROOT

OPS = Principal("northwind", Role.CHANNEL_OPS, "key_ops")
SILVER = "ptr_01JBNWA12SVER0000000000001"  # a Silver reseller holding Gold's two certifications (PA-3.4)
GOLD_CERTS = ("cert-network-core", "cert-security-pro")
CONTOSO = load_tenant_file(ROOT / "tenants" / "contoso" / "tenant.yaml")["policy"]


def _silver(at: str) -> Ledger:
    ledger = Ledger(at)
    valid = {"holder": "A. Engineer", "earned_at": "2025-06-01", "expires_at": "2028-05-31"}
    ledger.add_partners([{
        "partner_id": SILVER, "legal_name": "Twelfth Round Networks LLC", "partner_type": "reseller",
        "status": "active", "tier": "silver", "activated_at": "2025-06-01T09:00:00.000Z",
        "certifications": {c: {"cert_id": c, **valid} for c in (*GOLD_CERTS, "cert-hw-deploy")}}])  # fmt: skip
    return ledger


def _ship(ledger: Ledger, day: str, units: int, ref: str) -> None:
    """`units` x NW-SRV-R2 at its List Price USD 5,200.00 (price list, PA-6.1), no discount."""
    ship = {"partner_id": SILVER, "order_ref": ref, "shipped_on": day,
            "lines": [{"sku": "NW-SRV-R2", "quantity": units}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", ship, occurred_at=f"{day}T10:00:00Z")["status"] == "processed"


def _at(ledger: Ledger, day: str) -> None:
    ledger.clock.set(f"{day}T12:00:00Z")


def _request(ledger: Ledger, day: str, commitment: dict[str, Any] | None) -> dict[str, Any]:
    return recording.record_review(ledger.rt, OPS, SILVER, date.fromisoformat(day), requested=True,
                                   written_commitment=commitment)  # fmt: skip


def _refused(call) -> RuleViolation:  # type: ignore[no-untyped-def]
    with pytest.raises(RuleViolation) as refused:
        call()
    return refused.value


def test_pa_3_6_a_silver_partner_with_golds_certifications_is_upgraded_on_a_written_commitment():
    """PA-3.6: "either has already reached the annual commitment in the current Program Year or signs a written
    commitment to reach it". The Silver reseller invoiced 20 x 5,200.00 = USD 104,000.00 in March 2026, far below
    Gold's USD 1,000,000.00 (PA-3.4), and holds cert-network-core and cert-security-pro. Asked on 2026-05-12 without a
    commitment, the request finds nothing (revenue not reached); with the commitment it signed on 2026-05-11 it is
    upgraded to Gold "on the first day of the Billing Month following approval": 2026-06-01. The product answered
    "unchanged" either way."""
    ledger = _silver("2026-03-10T12:00:00Z")
    _ship(ledger, "2026-03-10", 20, "SO-A12-1")
    _at(ledger, "2026-05-12")
    plain = _refused(lambda: _request(ledger, "2026-05-12", None))
    assert "nothing to record" in plain.detail and "104000.00" in plain.detail  # no commitment reached on revenue
    recorded = _request(ledger, "2026-05-12", {"tier": "gold", "signed_on": "2026-05-11"})
    change = recorded["change"]
    assert (change["outcome"], change["from_tier"], change["tier"], change["effective_on"]) == (
        "upgrade", "silver", "gold", "2026-06-01")
    assert change["revenue"] == "104000.00"
    assert change["written_commitment"] == {
        "tier": "gold", "signed_on": "2026-05-11", "program_year": 2026, "annual_commitment": "1000000.00",
        "rule_id": "TIER-WRITTEN-COMMITMENT", "clause": "PA-3.6"}  # fmt: skip
    assert [(r["rule_id"], r["clause"]) for r in recorded["reasons"]] == [("TIER-WRITTEN-COMMITMENT", "PA-3.6")]
    # PA-3.1: "the tier determines [...] its entitlements": Silver through 31 May, Gold (MDF 3 %, PA-9.5) from June
    policy = tenants.load_tenant(ledger.rt, "northwind")[0].policy
    partner, _ = partners.load_partner(ledger.rt, "northwind", SILVER)
    before = partner_rules.entitlements(policy, partner, "2026-05-31T23:59:59Z")
    after = partner_rules.entitlements(policy, partner, "2026-06-01T00:00:00Z")
    assert (before["tier"], after["tier"]) == ("silver", "gold")
    assert (before["entitlements"]["mdf_percent"]["value"], after["entitlements"]["mdf_percent"]["value"]) == (2, 3)
    # audited with the commitment's rule and clause
    trail = [r for r in ledger.rt.store.iter_audit_records("northwind")
             if r["action"] == "partner.tier_change_recorded"]  # fmt: skip
    assert "TIER-WRITTEN-COMMITMENT" in trail[-1]["rule_ids"] and "PA-3.6" in trail[-1]["clauses"]


def test_pa_3_6_the_commitment_does_not_stand_in_for_the_higher_tiers_certifications():
    """PA-3.6: "demonstrating that it meets the certification requirements of the higher tier and [...] signs a written
    commitment". Platinum requires cert-network-advanced and cert-cloud-ops besides (PA-3.5), which the reseller does
    not hold: a commitment to Platinum upgrades nothing, and the refusal names what is lacking."""
    ledger = _silver("2026-05-12T12:00:00Z")
    refused = _refused(lambda: _request(ledger, "2026-05-12", {"tier": "platinum", "signed_on": "2026-05-12"}))
    assert "nothing to record" in refused.detail
    assert "cert-network-advanced, required for Platinum, is not held" in refused.detail
    assert "cert-cloud-ops, required for Platinum, is not held" in refused.detail
    assert partners.load_partner(ledger.rt, "northwind", SILVER)[0].get("tier_changes") is None


def test_pa_3_7_a_missed_commitment_downgrades_at_the_annual_review_and_bars_a_second_commitment_upgrade_next_year():
    """PA-3.7: "A Partner that was upgraded on a written commitment and misses that commitment is downgraded in the
    same way and does not receive a second commitment-based upgrade in the following Program Year."

    Upgraded to Gold on a commitment signed 2026-05-11 (effective 2026-06-01); 2026's invoices: 20 units in March and
    40 in September, 60 x 5,200.00 = USD 312,000.00: below Gold's 1,000,000.00 (missed), at or above Silver's
    250,000.00. The January review recorded on 2027-01-20 moves it to Silver "in the same way": 30 days' notice ending
    2027-02-19, effective 2027-04-01 (the next Quarter after it). On 2027-05-10 a second commitment to Gold (signed that
    day) is refused citing PA-3.7; a request of 2028 (not "the following Program Year" of 2026) is granted again."""
    ledger = _silver("2026-03-10T12:00:00Z")
    _ship(ledger, "2026-03-10", 20, "SO-A12-2")
    _at(ledger, "2026-05-12")
    _request(ledger, "2026-05-12", {"tier": "gold", "signed_on": "2026-05-11"})
    _at(ledger, "2026-09-15")
    _ship(ledger, "2026-09-15", 40, "SO-A12-3")
    _at(ledger, "2027-01-20")
    down = recording.record_review(ledger.rt, OPS, SILVER, date(2027, 1, 20), requested=False)["change"]
    assert (down["outcome"], down["from_tier"], down["tier"], down["revenue"]) == (
        "downgrade", "gold", "silver", "312000.00")
    assert (down["notice_ends"], down["effective_on"], down["clause"]) == ("2027-02-19", "2027-04-01", "PA-3.7")
    _at(ledger, "2027-05-10")
    second = _refused(lambda: _request(ledger, "2027-05-10", {"tier": "gold", "signed_on": "2027-05-10"}))
    assert "no second commitment-based upgrade in Program Year 2027" in second.detail
    assert "(TIER-NO-SECOND-COMMITMENT-UPGRADE, PA-3.7)" in second.detail
    assert "Annual Revenue 312000.00 below 1000000.00" in second.detail
    assert [c["outcome"] for c in partners.load_partner(ledger.rt, "northwind", SILVER)[0]["tier_changes"]] == [
        "upgrade", "downgrade"]  # nothing recorded by the refusal
    _at(ledger, "2028-02-07")
    again = _request(ledger, "2028-02-07", {"tier": "gold", "signed_on": "2028-02-07"})["change"]
    assert (again["tier"], again["effective_on"], again["written_commitment"]["program_year"]) == (
        "gold", "2028-03-01", 2028)


def test_pa_3_7_a_commitment_that_was_kept_does_not_bar_the_next_years_commitment_upgrade():
    """PA-3.7 bars a second commitment-based upgrade only after one that "misses that commitment". The Silver reseller
    committed to Gold in 2026 and invoiced 200 x 5,200.00 = USD 1,040,000.00 in 2026 (kept: at least 1,000,000.00);
    so nothing bars a commitment in 2027. Measured as the January review measures it; the 2027 request is judged on its
    own: Gold held, a commitment to Platinum needs Platinum's certifications (not held), so it is their lack, not
    PA-3.7, that the refusal names."""
    ledger = _silver("2026-03-10T12:00:00Z")
    _at(ledger, "2026-05-12")
    _request(ledger, "2026-05-12", {"tier": "gold", "signed_on": "2026-05-11"})
    _at(ledger, "2026-09-15")
    _ship(ledger, "2026-09-15", 200, "SO-A12-4")
    _at(ledger, "2027-05-10")
    refused = _refused(lambda: _request(ledger, "2027-05-10", {"tier": "platinum", "signed_on": "2027-05-10"}))
    assert "PA-3.7" not in refused.detail and "cert-cloud-ops, required for Platinum, is not held" in refused.detail


@pytest.mark.parametrize(("commitment", "path"), [
    ({"tier": "diamond", "signed_on": "2026-05-11"}, "/written_commitment/tier"),  # no tier of PA-3.1
    ({"tier": "silver", "signed_on": "2026-05-11"}, "/written_commitment/tier"),  # the tier held: nothing higher
    ({"tier": "registered", "signed_on": "2026-05-11"}, "/written_commitment/tier"),
    ({"tier": "gold", "signed_on": "2026-05-13"}, "/written_commitment/signed_on"),  # after the request day
    ({"tier": "gold", "signed_on": "2025-12-31"}, "/written_commitment/signed_on"),  # not "the current Program Year"
    ({"tier": "gold", "signed_on": "2026-02-30"}, "/written_commitment/signed_on"),
    ({"tier": "gold", "signed_on": 20260511}, "/written_commitment/signed_on"),
])  # fmt: skip
def test_a_commitment_naming_no_higher_tier_or_signed_outside_the_program_year_is_a_422_naming_the_field(
    commitment, path
):
    ledger = _silver("2026-05-12T12:00:00Z")
    head = ledger.rt.store.audit_head("northwind")
    refused = _refused(lambda: _request(ledger, "2026-05-12", commitment))
    assert [e.path for e in refused.errors] == [path]
    assert ledger.rt.store.audit_head("northwind") == head  # nothing recorded
    assert partners.load_partner(ledger.rt, "northwind", SILVER)[0].get("tier_changes") is None


def test_cpa_3_5_contoso_grants_no_upgrade_on_a_written_commitment():
    """CPA-3.5: "A Partner may request an upgrade between reviews by meeting the certification requirements and
    reaching the higher annual commitment on a trailing four-Quarter basis." Contoso's agreement has no written
    commitment (CPA-3.1 measures the commitment "on the Partner's Qualifying Revenue"): refused, naming the field and
    the request rule's clause."""
    refused = _refused(lambda: tier_review.commitment_of(CONTOSO, {"tier": "advanced", "signed_on": "2026-05-11"},
                                                         date(2026, 5, 12)))  # fmt: skip
    assert refused.errors == [FieldError("/written_commitment", "not granted by this agreement")]
    assert "(TIER-UPGRADE-REQUEST, CPA-3.5)" in refused.detail
    advanced = {"partner_id": "ptr_01JX0000000000000000000001", "tier": "authorized", "status": "active",
                "certifications": {c: {"earned_at": "2025-06-01", "expires_at": "2028-05-31"}
                                   for c in ("cert-collab-associate", "cert-secops-analyst")}}  # fmt: skip
    # the revenue path is unchanged: EUR 150,000.00 on the trailing four Quarters reaches Advanced (CPA-3.3)
    found = tier_review.findings(CONTOSO, advanced, date(2026, 5, 12), Decimal("150000.00"), requested=True)
    assert (found["outcome"], found["qualified_tier"], found["written_commitment"]) == ("upgrade", "advanced", None)


# --- PA-3.6's July review: "placed on watch and notified" -----------------------------------------------------------
def test_pa_3_6_the_july_review_places_a_partner_below_40_percent_on_watch_and_notifies_it():
    """PA-3.6: "A mid-year review is performed in July; a Partner whose Annual Revenue to date is below 40% of its
    tier's annual commitment is placed on watch and notified." The product computed the watch on the read only: the
    recording answered 422 "nothing to record", so no partner was ever placed on watch or told.

    The Silver reseller (commitment USD 250,000.00, PA-3.3; floor 40 % = 100,000.00) invoiced 19 x 5,200.00 =
    USD 98,800.00 from January to June 2026 (the review's basis: the Billing Months before July). Recorded on
    2026-07-13: placed on watch (98,800.00 < 100,000.00), kept on the partner, audited citing TIER-MIDYEAR-WATCH /
    PA-3.6, and the notice published (`partner.placed_on_watch`); the tier stays Silver. A second recording in
    2026 is a 409; nothing else is written by it."""
    ledger = _silver("2026-03-10T12:00:00Z")
    _ship(ledger, "2026-03-10", 19, "SO-A12-5")
    _at(ledger, "2026-07-13")
    recorded = recording.record_review(ledger.rt, OPS, SILVER, date(2026, 7, 13), requested=False)
    assert (recorded["change"], recorded["tier"], recorded["review"]["outcome"]) == (None, "silver", "watch")
    watch = recorded["watch"]
    assert watch == {
        "program_year": 2026, "review_day": "2026-07-13", "tier": "silver", "revenue": "98800.00",
        "watch_floor": "100000.00", "basis": {"from": "2026-01-01", "to": "2026-06-30"},
        "rule_id": "TIER-MIDYEAR-WATCH", "clause": "PA-3.6", "recorded_on": "2026-07-13",
        "recorded_by": "channel_ops"}  # fmt: skip
    own = Principal("northwind", Role.PARTNER, "key_a12", SILVER)
    seen = partners.get_partner(ledger.rt, own, SILVER)
    assert (seen["tier"], seen["tier_watches"], seen.get("tier_changes")) == ("silver", [watch], None)
    notices = [e for e in ledger.rt.publisher.published
               if e["detail_type"] == "partner.placed_on_watch" and e["detail"]["partner_id"] == SILVER]  # fmt: skip
    assert [(e["detail"]["revenue"], e["detail"]["watch_floor"], e["detail"]["clause"]) for e in notices] == [
        ("98800.00", "100000.00", "PA-3.6")]
    trail = [r for r in ledger.rt.store.iter_audit_records("northwind")
             if r["action"] == "partner.placed_on_watch" and r["subject"] == SILVER]  # fmt: skip
    assert [(r["outcome"], r["clauses"], r["actor_role"]) for r in trail] == [("watch", ["PA-3.6"], "channel_ops")]
    head = ledger.rt.store.audit_head("northwind")
    _at(ledger, "2026-07-20")
    with pytest.raises(Conflict):
        recording.record_review(ledger.rt, OPS, SILVER, date(2026, 7, 20), requested=False)
    assert ledger.rt.store.audit_head("northwind") == head


def test_pa_3_6_at_40_percent_the_july_review_places_no_watch():
    """"below 40%": exactly USD 100,000.00 to date is not below Silver's floor 100,000.00 (40 % x 250,000.00), so
    the review finds nothing to record (422) and no watch is kept. 20 x 5,200.00 = 104,000.00 here, above it."""
    ledger = _silver("2026-03-10T12:00:00Z")
    _ship(ledger, "2026-03-10", 20, "SO-A12-6")
    _at(ledger, "2026-07-13")
    refused = _refused(lambda: recording.record_review(ledger.rt, OPS, SILVER, date(2026, 7, 13), requested=False))
    assert "(unchanged): nothing to record" in refused.detail and "at or above 40%" in refused.detail
    assert partners.load_partner(ledger.rt, "northwind", SILVER)[0].get("tier_watches") is None
    floor = tier_review.findings(load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml")["policy"],
                                 {"tier": "silver", "certifications": {}}, date(2026, 7, 13), Decimal("100000.00"))
    assert (floor["outcome"], floor["watch_floor"]) == ("unchanged", "100000.00")


# --- PA-5.3 / CPA-5.2 (left by the eleventh round): registrations stored before 1.56.3 -----------------------------
def _stored_before_1_56_3(tenant: str, family: str, days: int) -> dict[str, Any]:
    """A registration approved on 2026-11-10 at 15:00 UTC as 1.56.2 stored it: `expires_at` the approval instant plus
    `days` x 24 hours, i.e. 15:00 on the period's last day."""
    from revgov.domain import deals

    policy = load_tenant_file(ROOT / "tenants" / tenant / "tenant.yaml")["policy"]
    pending = {"deal_id": "deal_A12", "partner_id": "ptr_A", "customer": {"id": "CUST-A12"}, "family": family,
               "status": "pending", "submitted_at": "2026-11-09T10:00:00.000Z"}  # fmt: skip
    approved = deals.decided(pending, "approved", "2026-11-10T15:00:00.000Z", policy)
    last = date(2026, 11, 10).toordinal() + days
    return {**approved, "expires_at": f"{date.fromordinal(last).isoformat()}T15:00:00.000Z"}


def test_pa_5_3_a_registration_stored_before_1_56_3_runs_to_the_end_of_its_last_day_without_a_migration():
    """PA-5.3: "exclusivity [...] for 90 days from the approval date"; PA-1.3: "a day runs from 00:00:00 to 23:59:59
    UTC". The eleventh round fixed new approvals (through 2027-02-08 23:59:59.999 for one approved 2026-11-10 15:00)
    and left the stored ones: "a registration approved before 1.56.3 keeps the `expires_at` stored at its approval
    (the approval's time of day on its last day) [...] Nothing migrates the stored ones." So on 2027-02-08 after 15:00
    such a registration lost its discount (PA-5.6 "during the exclusivity period") and a rival could be approved
    (PA-5.5). It is now read to the end of its last day: live at 2027-02-08 15:00:01 and 23:59:59.999, not on
    2027-02-09; callers (and a refused rival) are told 2027-02-08T23:59:59.999Z; an extension of 30 days runs through
    2027-03-10 23:59:59.999 (it ran to 15:00)."""
    from revgov.domain import deal_extensions, deals

    policy = load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml")["policy"]
    stored = _stored_before_1_56_3("northwind", "networking", 90)
    assert stored["expires_at"] == "2027-02-08T15:00:00.000Z"
    for moment in ("2027-02-08T15:00:01.000Z", "2027-02-08T23:59:59.999Z"):
        assert deals.in_period(stored, moment) and deals.discounted(policy, stored, moment), moment
        assert deals.view(stored, moment)["status"] == "approved"
    assert not deals.is_live(stored, "2027-02-09T00:00:00.000Z")
    assert deals.view(stored, "2027-02-09T00:00:00.000Z")["status"] == "expired"
    assert deals.view(stored, "2027-02-08T16:00:00.000Z")["expires_at"] == "2027-02-08T23:59:59.999Z"
    refused = deals.conflict(policy, stored, "ptr_B")
    assert refused is not None and refused.extra["exclusivity_ends"] == "2027-02-08T23:59:59.999Z"
    extended = deal_extensions.extension_decided({**stored, "extension": {"days": 30, "status": "pending"}}, "approved",
                                       "2027-02-01T10:00:00.000Z", "proposal stage")  # fmt: skip
    assert extended["expires_at"] == "2027-03-10T23:59:59.999Z"
    # a registration approved since 1.56.3 reads exactly as stored
    fresh = deals.decided({**stored, "status": "pending"}, "approved", "2026-11-10T15:00:00.000Z", policy)
    shown = deals.view(fresh, "2027-02-08T16:00:00.000Z")["expires_at"]
    assert shown == fresh["expires_at"] == "2027-02-08T23:59:59.999Z"


def test_cpa_5_2_a_protection_stored_before_1_56_3_runs_to_the_end_of_its_last_day():
    """CPA-5.2: "protects the Partner for 60 days from approval"; CPA-1.3: "a day runs from 00:00:00 to 23:59:59 UTC".
    Approved 2026-11-10 15:00, stored by 1.56.2 as 2027-01-09 15:00 (20 + 31 + 9 days): protected at 18:00 that
    day, not on 2027-01-10."""
    from revgov.domain import deals

    stored = _stored_before_1_56_3("contoso", "devices", 60)
    assert stored["expires_at"] == "2027-01-09T15:00:00.000Z"
    assert deals.in_period(stored, "2027-01-09T18:00:00.000Z")
    assert not deals.in_period(stored, "2027-01-10T00:00:00.000Z")
