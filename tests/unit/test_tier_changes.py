"""Recording a tier review's outcome, and the tier of each day after it (both tenants). Figures by hand from clauses.

PA-3.6: "Channel Operations reviews every Partner's tier once per Program Year, by 31 January, using Annual Revenue for
the previous Program Year [...] Upgrades take effect on the first day of the Billing Month following approval."
PA-3.7: "A Partner that does not meet the annual commitment of its tier at the annual review is moved to the highest
tier whose requirements it meets. The Distributor gives 30 days' written notice and the downgrade takes effect on the
first day of the next Quarter after the notice period ends."
CPA-3.5: "A Partner meeting the requirements of a higher tier is upgraded from the first day of the following Billing
Month." CPA-3.6: "[...] moved to the highest tier whose requirements it meets, after 45 days' written notice, from the
first day of the next Quarter after the notice period."
PA-3.1: "The tier determines the Partner's discount caps under PA-6.2"; PA-2.1: "the partner tier under Section 3
determines pricing, rebates and entitlements". SOP-1.2: channel_ops handles "tier changes"; the admin role "does not
approve exceptions". Nothing in the clauses makes a change happen without Channel Operations: it is recorded by them.
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
from revgov.domain.partners import tier_changes, tier_review
from revgov.services import audit, partners, pricing, tenants
from revgov.services import tier_changes as recording
from revgov.services import tier_review as review_service
from revgov.tenant_files import load_tenant_file
from support import ROOT

P1 = "ptr_01JBNWPARTNER0000000000001"  # Platinum (USD 3,000,000.00) in the billing samples
CHANNEL_OPS = Principal("northwind", Role.CHANNEL_OPS, "key_ops")
POLICY = {t: load_tenant_file(ROOT / "tenants" / t / "tenant.yaml")["policy"] for t in ("northwind", "contoso")}
VALID = {"earned_at": "2025-06-01", "expires_at": "2028-12-31"}


def _below_every_commitment() -> Ledger:
    """P1 (Platinum) invoiced USD 52,000.00 in 2026 (10 x NW-SRV-R2 at 5,200.00): below Silver's 250,000.00, so the
    January review moves it to Registered (the tier with no commitment)."""
    ledger = Ledger("2026-08-05T12:00:00Z")
    ship = {"partner_id": P1, "order_ref": "SO-TC-1", "shipped_on": "2026-08-05",
            "lines": [{"sku": "NW-SRV-R2", "quantity": 10}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", ship, occurred_at="2026-08-05T10:00:00Z")["status"] == "processed"
    return ledger


def _at(ledger: Ledger, day: str) -> None:
    ledger.clock.set(f"{day}T12:00:00Z")


def test_pa_3_7_a_recorded_downgrade_takes_effect_after_30_days_notice_from_the_next_quarter():
    # recorded (the notice given) on 2027-01-20: + 30 days = 2027-02-19, the next Quarter after it begins 2027-04-01
    ledger = _below_every_commitment()
    _at(ledger, "2027-01-20")
    recorded = recording.record_review(ledger.rt, CHANNEL_OPS, P1, date(2027, 1, 20), requested=False)
    change = recorded["change"]
    assert (change["outcome"], change["from_tier"], change["tier"]) == ("downgrade", "platinum", "registered")
    assert (change["notice_given_on"], change["notice_ends"], change["effective_on"]) == (
        "2027-01-20", "2027-02-19", "2027-04-01")
    assert (change["rule_id"], change["clause"], change["recorded_by"]) == ("TIER-COMMITMENT-DOWNGRADE", "PA-3.7",
                                                                           "channel_ops")
    assert recorded["tier"] == "platinum"  # until the change takes effect
    # the partner sees the pending change on its own record, and its notice as an event
    own = Principal("northwind", Role.PARTNER, "key_p1", P1)
    seen = partners.get_partner(ledger.rt, own, P1)
    assert seen["tier"] == "platinum" and seen["tier_changes"] == [change]
    assert tier_changes.pending(seen, date(2027, 3, 31)) == change
    notice = [e for e in ledger.rt.publisher.published if e["detail_type"] == "partner.tier_change_scheduled"]
    assert [(e["detail"]["to_tier"], e["detail"]["effective_on"]) for e in notice] == [("registered", "2027-04-01")]
    # audited, naming the partner, by the team that recorded it
    trail = ledger.rt.store.iter_audit_records("northwind")
    records = [r for r in trail if r["action"] == "partner.tier_change_recorded"]
    assert [(r["subject"], r["partner_id"], r["actor_role"], r["outcome"]) for r in records] == [
        (P1, P1, "channel_ops", "downgrade")]
    assert recorded["decision_id"] == records[0]["record_id"]
    assert "PA-3.7" in records[0]["clauses"] and "PA-3.6" in records[0]["clauses"]


def test_entitlements_and_discount_caps_switch_on_the_effective_day_and_the_sweep_moves_the_tier():
    ledger = _below_every_commitment()
    _at(ledger, "2027-01-20")
    recording.record_review(ledger.rt, CHANNEL_OPS, P1, date(2027, 1, 20), requested=False)
    policy = tenants.load_tenant(ledger.rt, "northwind")[0].policy
    partner, _ = partners.load_partner(ledger.rt, "northwind", P1)
    before = partner_rules.entitlements(policy, partner, "2027-03-31T23:59:59Z")
    after = partner_rules.entitlements(policy, partner, "2027-04-01T00:00:00Z")
    assert (before["tier"], after["tier"]) == ("platinum", "registered")
    # PA-9.5: MDF Platinum 4%, Registered none; PA-5.1: deal registration from Silver
    assert before["entitlements"]["mdf_percent"]["value"] == 4 and after["entitlements"]["mdf_percent"]["value"] == 0
    assert after["entitlements"]["deal_registration"]["entitled"] is False
    # PA-3.1: the tier sets the discount caps of a quote dated that day
    assert pricing.partner_facts(policy, partner, "2027-03-31T12:00:00Z")["tier"] == "platinum"
    assert pricing.partner_facts(policy, partner, "2027-04-01T12:00:00Z")["tier"] == "registered"
    # the partner-lifecycle sweep moves the record's tier on that day, once, audited
    _at(ledger, "2027-03-31")
    assert recording.sweep_tier_changes(ledger.rt, "northwind") == {"tier_changed": 0}
    _at(ledger, "2027-04-01")
    assert recording.sweep_tier_changes(ledger.rt, "northwind") == {"tier_changed": 1}
    assert recording.sweep_tier_changes(ledger.rt, "northwind") == {"tier_changed": 0}
    assert partners.load_partner(ledger.rt, "northwind", P1)[0]["tier"] == "registered"
    moved = [r for r in ledger.rt.store.iter_audit_records("northwind") if r["action"] == "partner.tier_changed"]
    assert [(r["outcome"], r["clauses"], r["actor_role"]) for r in moved] == [("registered", ["PA-3.7"], "system")]
    assert audit.verify_chain(ledger.rt, "northwind")["pointers"]["valid"] is True
    # a day before the change still reads the tier it had then
    partner, _ = partners.load_partner(ledger.rt, "northwind", P1)
    assert partner_rules.entitlements(policy, partner, "2027-02-01T00:00:00Z")["tier"] == "platinum"


def test_a_review_with_nothing_to_change_a_second_change_and_a_future_review_day_are_refused():
    ledger = _below_every_commitment()
    _at(ledger, "2027-01-20")
    with pytest.raises(RuleViolation) as future:
        recording.record_review(ledger.rt, CHANNEL_OPS, P1, date(2027, 1, 21), requested=False)
    assert future.value.errors == [FieldError("/on", "a day after today")]
    with pytest.raises(RuleViolation):  # a request only ever upgrades: nothing to record
        recording.record_review(ledger.rt, CHANNEL_OPS, P1, date(2027, 1, 20), requested=True)
    recording.record_review(ledger.rt, CHANNEL_OPS, P1, date(2027, 1, 20), requested=False)
    chain = audit.verify_chain(ledger.rt, "northwind")["records"]
    with pytest.raises(Conflict):
        recording.record_review(ledger.rt, CHANNEL_OPS, P1, date(2027, 1, 20), requested=False)
    assert audit.verify_chain(ledger.rt, "northwind")["records"] == chain  # nothing written


def _partner(tier: str, *certs: str) -> dict[str, Any]:
    return {"partner_id": "ptr_01JX0000000000000000000001", "tier": tier, "status": "active",
            "certifications": {c: dict(VALID) for c in certs}}  # fmt: skip


@pytest.mark.parametrize(("recorded_on", "effective_on"), [("2027-01-20", "2027-02-01"), ("2027-01-31", "2027-02-01"),
                                                           ("2027-02-03", "2027-03-01")])
def test_pa_3_6_an_upgrade_takes_effect_on_the_first_day_of_the_billing_month_following_approval(
    recorded_on, effective_on
):
    # Gold: USD 1,000,000.00 and cert-network-core + cert-security-pro (PA-3.4), met on the January review
    silver = _partner("silver", "cert-network-core", "cert-security-pro")
    found = tier_review.findings(POLICY["northwind"], silver, date(2027, 1, 20), Decimal("1000000.00"))
    change = tier_changes.scheduled(POLICY["northwind"], silver, found, date.fromisoformat(recorded_on), "channel_ops")
    assert (change["outcome"], change["tier"], change["effective_on"]) == ("upgrade", "gold", effective_on)
    assert (change["notice_ends"], change["rule_id"], change["clause"]) == (None, "TIER-REVIEW-UPGRADE", "PA-3.6")
    upgraded = tier_changes.with_change(silver, change)
    last_day = date.fromisoformat(effective_on).toordinal() - 1
    assert tier_changes.assigned_on(upgraded, date.fromordinal(last_day)) == "silver"
    assert tier_changes.assigned_on(upgraded, date.fromisoformat(effective_on)) == "gold"
    assert partner_rules.held_tier(POLICY["northwind"], upgraded, date.fromisoformat(effective_on))["tier"] == "gold"


def test_cpa_3_5_and_3_6_an_upgrade_from_the_next_billing_month_a_downgrade_after_45_days_from_the_next_quarter():
    policy = POLICY["contoso"]
    authorized = _partner("authorized", "cert-collab-associate", "cert-secops-analyst")
    up = tier_review.findings(policy, authorized, date(2027, 7, 10), Decimal("150000.00"))  # Advanced's commitment
    change = tier_changes.scheduled(policy, authorized, up, date(2027, 7, 10), "channel_ops")
    assert (change["tier"], change["effective_on"], change["clause"]) == ("advanced", "2027-08-01", "CPA-3.5")
    advanced = _partner("advanced", "cert-collab-associate", "cert-secops-analyst")
    down = tier_review.findings(policy, advanced, date(2027, 1, 20), Decimal("100000.00"))
    # notice given on 2027-02-10 (recorded then): + 45 days = 2027-03-27, the next Quarter after it 2027-04-01
    change = tier_changes.scheduled(policy, advanced, down, date(2027, 2, 10), "channel_ops")
    assert (change["tier"], change["notice_ends"], change["effective_on"]) == ("authorized", "2027-03-27",
                                                                              "2027-04-01")
    # given on 2027-02-20 instead: the notice ends 2027-04-06, inside Q2, so the change waits for 2027-07-01
    later = tier_changes.scheduled(policy, advanced, down, date(2027, 2, 20), "channel_ops")
    assert (later["notice_ends"], later["effective_on"]) == ("2027-04-06", "2027-07-01")


def test_the_review_after_a_recorded_change_judges_the_tier_of_its_day():
    ledger = _below_every_commitment()
    _at(ledger, "2027-01-20")
    recording.record_review(ledger.rt, CHANNEL_OPS, P1, date(2027, 1, 20), requested=False)
    _at(ledger, "2027-07-10")  # PA-3.6's July review of the Registered partner it has been since April
    found = review_service.review(ledger.rt, CHANNEL_OPS, P1, date(2027, 7, 10))
    assert found["tier"] == "registered"
