"""Auditor 5: the tier review, both tenants, every figure computed by hand from the clauses. Fixed days only.

PA-3.6: "Channel Operations reviews every Partner's tier once per Program Year, by 31 January, using Annual Revenue for
the previous Program Year and the certifications valid on the review date. A Partner that met the requirements of a
higher tier is upgraded; a Partner that did not meet the requirements of its current tier is downgraded under PA-3.7.
[...] Upgrades take effect on the first day of the Billing Month following approval. A mid-year review is performed in
July; a Partner whose Annual Revenue to date is below 40% of its tier's annual commitment is placed on watch and
notified."
PA-3.7: "A Partner that does not meet the annual commitment of its tier at the annual review is moved to the highest
tier whose requirements it meets. The Distributor gives 30 days' written notice and the downgrade takes effect on the
first day of the next Quarter after the notice period ends."
PA-1.2: "A Partner's "Annual Revenue" for a Program Year is the sum of its Qualifying Revenue for the four Quarters of
that Program Year." "Qualifying Revenue" [...] "net of all credit notes issued against those invoices, whenever issued"
CPA-3.5: "Channel Operations reviews tiers twice per Program Year: in January on the previous Program Year's Qualifying
Revenue, and in July on the trailing four Quarters. A Partner meeting the requirements of a higher tier is upgraded
from the first day of the following Billing Month."
CPA-3.5: "A Partner may request an upgrade between reviews by meeting the certification requirements and reaching the
higher annual commitment on a trailing four-Quarter basis." PA-3.6: "A Partner may also request an upgrade at any time
during the Program Year by demonstrating that it meets the certification requirements of the higher tier and either
has already reached the annual commitment in the current Program Year or signs a written commitment to reach it."
CPA-3.6: "A Partner that does not meet its tier's annual commitment at a review is moved to the highest tier whose
requirements it meets, after 45 days' written notice, from the first day of the next Quarter after the notice period."
Tier tables: PA-3.3 Silver USD 250,000.00 (cert-network-core), PA-3.4 Gold USD 1,000,000.00 (+ cert-security-pro);
CPA-3.3 Advanced EUR 150,000.00 (cert-collab-associate, cert-secops-analyst), CPA-3.4 Elite EUR 750,000.00.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from memory_store import Ledger
from revgov.domain.access import Principal, Role
from revgov.domain.errors import NotFound, RuleViolation
from revgov.domain.partners import tier_review
from revgov.services import tier_review as review_service
from revgov.tenant_files import load_tenant_file
from support import ROOT

POLICY = {t: load_tenant_file(ROOT / "tenants" / t / "tenant.yaml")["policy"] for t in ("northwind", "contoso")}
VALID = {"earned_at": "2025-06-01", "expires_at": "2027-12-31"}


def _partner(tier: str, *certs: str, expired: tuple[str, ...] = ()) -> dict[str, Any]:
    held = {c: dict(VALID) for c in certs}
    held.update({c: {"earned_at": "2025-01-01", "expires_at": "2027-01-10"} for c in expired})
    return {"partner_id": "ptr_01JX0000000000000000000001", "tier": tier, "status": "active", "certifications": held}


def _find(tenant: str, partner: dict[str, Any], day: str, revenue: str) -> dict[str, Any]:
    return tier_review.findings(POLICY[tenant], partner, date.fromisoformat(day), Decimal(revenue))


# --- PA-3.6 / PA-3.7 (northwind) -----------------------------------------------------------------------------------
def test_pa_3_6_january_upgrade_at_the_higher_commitment_from_the_next_billing_month():
    silver = _partner("silver", "cert-network-core", "cert-security-pro")
    found = _find("northwind", silver, "2027-01-20", "1000000.00")  # Gold's USD 1,000,000.00 met exactly
    assert (found["review"], found["clause"], found["basis"]) == (
        "annual", "PA-3.6", {"from": "2026-01-01", "to": "2026-12-31"})
    assert (found["outcome"], found["qualified_tier"], found["effective_on"]) == ("upgrade", "gold", "2027-02-01")
    assert _find("northwind", silver, "2027-01-20", "999999.99")["outcome"] == "unchanged"


def test_pa_3_6_the_certifications_counted_are_those_valid_on_the_review_date():
    # cert-security-pro expired 2027-01-10: on 2027-01-20 the revenue meets Gold's commitment but not its certifications
    silver = _partner("silver", "cert-network-core", expired=("cert-security-pro",))
    assert _find("northwind", silver, "2027-01-20", "1500000.00")["outcome"] == "unchanged"
    assert _find("northwind", silver, "2027-01-05", "1500000.00")["outcome"] == "upgrade"  # still valid that day


def test_pa_3_7_january_downgrade_after_30_days_notice_from_the_next_quarter():
    gold = _partner("gold", "cert-network-core", "cert-security-pro")
    found = _find("northwind", gold, "2027-01-20", "240000.00")  # below Silver's USD 250,000.00 too
    assert (found["outcome"], found["qualified_tier"]) == ("downgrade", "registered")
    # 2027-01-20 + 30 days = 2027-02-19; the next Quarter after it starts 2027-04-01
    assert (found["notice_ends"], found["effective_on"]) == ("2027-02-19", "2027-04-01")
    assert [r["clause"] for r in found["reasons"]][:2] == ["PA-3.7", "PA-3.4"]
    assert "240000.00" in found["reasons"][1]["message"]
    # 250,000.00 keeps Silver's commitment: moved to the highest tier met, Silver
    assert _find("northwind", gold, "2027-01-31", "250000.00")["qualified_tier"] == "silver"
    assert _find("northwind", gold, "2027-01-31", "250000.00")["notice_ends"] == "2027-03-02"


def test_pa_3_6_the_july_review_places_on_watch_below_40_percent_and_changes_no_tier():
    gold = _partner("gold", "cert-network-core", "cert-security-pro")
    watched = _find("northwind", gold, "2027-07-15", "399999.99")  # 40% of USD 1,000,000.00 = 400,000.00
    assert (watched["outcome"], watched["watch_floor"], watched["effective_on"]) == ("watch", "400000.00", None)
    assert watched["basis"] == {"from": "2027-01-01", "to": "2027-06-30"}
    assert _find("northwind", gold, "2027-07-15", "400000.00")["outcome"] == "unchanged"
    assert _find("northwind", _partner("registered"), "2027-07-15", "0.00")["outcome"] == "unchanged"  # USD 0.00


# --- CPA-3.5 / CPA-3.6 (contoso) -----------------------------------------------------------------------------------
def test_cpa_3_5_january_and_july_reviews_and_their_bases():
    authorized = _partner("authorized", "cert-collab-associate", "cert-secops-analyst")
    january = _find("contoso", authorized, "2027-01-15", "150000.00")  # Advanced's EUR 150,000.00 met exactly
    assert (january["outcome"], january["qualified_tier"], january["effective_on"]) == (
        "upgrade", "advanced", "2027-02-01")
    assert _find("contoso", authorized, "2027-01-15", "149999.99")["outcome"] == "unchanged"
    july = _find("contoso", authorized, "2027-07-10", "750000.00")  # Elite's commitment, but not its certifications
    assert july["basis"] == {"from": "2026-07-01", "to": "2027-06-30"}  # the trailing four Quarters
    assert (july["review"], july["outcome"], july["qualified_tier"], july["effective_on"]) == (
        "mid_year", "upgrade", "advanced", "2027-08-01")


def test_cpa_3_6_a_review_downgrade_after_45_days_notice_from_the_next_quarter():
    advanced = _partner("advanced", "cert-collab-associate", "cert-secops-analyst")
    found = _find("contoso", advanced, "2027-07-10", "100000.00")
    # 2027-07-10 + 45 days = 2027-08-24; the next Quarter after it starts 2027-10-01
    assert (found["outcome"], found["qualified_tier"], found["notice_ends"], found["effective_on"]) == (
        "downgrade", "authorized", "2027-08-24", "2027-10-01")
    assert found["reasons"][0]["clause"] == "CPA-3.6"
    january = _find("contoso", advanced, "2027-01-20", "100000.00")  # + 45 = 2027-03-06 → 2027-04-01
    assert (january["notice_ends"], january["effective_on"]) == ("2027-03-06", "2027-04-01")


def test_an_upgrade_request_between_reviews_is_measured_on_its_own_basis_and_never_downgrades():
    authorized = _partner("authorized", "cert-collab-associate", "cert-secops-analyst")
    policy = POLICY["contoso"]
    found = tier_review.findings(policy, authorized, date(2027, 3, 10), Decimal("150000.00"), requested=True)
    # the trailing four Quarters before 2027-Q1: 2026-Q1 to 2026-Q4; upgraded from the next Billing Month
    assert (found["review"], found["clause"], found["basis"], found["outcome"], found["effective_on"]) == (
        "request", "CPA-3.5", {"from": "2026-01-01", "to": "2026-12-31"}, "upgrade", "2027-04-01")
    advanced = _partner("advanced", "cert-collab-associate", "cert-secops-analyst")
    kept = tier_review.findings(policy, advanced, date(2027, 3, 10), Decimal("100.00"), requested=True)
    assert (kept["outcome"], kept["effective_on"], kept["notice_ends"]) == ("unchanged", None, None)
    silver = _partner("silver", "cert-network-core", "cert-security-pro")
    northwind = tier_review.findings(POLICY["northwind"], silver, date(2027, 5, 20), Decimal("1000000.00"),
                                     requested=True)
    # "already reached the annual commitment in the current Program Year": 2027's invoiced months before May
    assert (northwind["basis"], northwind["outcome"], northwind["qualified_tier"], northwind["effective_on"]) == (
        {"from": "2027-01-01", "to": "2027-04-30"}, "upgrade", "gold", "2027-06-01")


@pytest.mark.parametrize("tenant", ["northwind", "contoso"])
def test_a_day_outside_the_review_months_is_refused_naming_the_query(tenant):
    with pytest.raises(RuleViolation) as refused:
        _find(tenant, _partner(POLICY[tenant]["partner_tiers"][0]["tier"]), "2027-03-15", "0.00")
    assert [e.path for e in refused.value.errors] == ["/query/on"]


# --- the service measures Annual Revenue from what was invoiced and credited ----------------------------------------
P1 = "ptr_01JBNWPARTNER0000000000001"  # Platinum (USD 3,000,000.00) in the billing samples
CHANNEL_OPS = Principal("northwind", Role.CHANNEL_OPS, "key_ops")


def test_annual_revenue_is_the_years_invoices_net_of_credit_notes_issued_later():
    """10 x NW-SRV-R2 at USD 5,200.00 shipped 2026-08-05 (52,000.00); a credit note of 5,200.00 issued 2027-01-10
    against that August invoice line ("whenever issued"); one more server shipped 2027-01-05 (a 2027 invoice, not in
    the basis). Annual Revenue 2026 = 52,000.00 - 5,200.00 = 46,800.00, below Silver's 250,000.00: the Platinum
    partner is moved to Registered after 30 days' notice (2027-01-20 + 30 = 2027-02-19), from 2027-04-01."""
    ledger = Ledger("2026-08-05T12:00:00Z")
    ship = {"partner_id": P1, "order_ref": "SO-TR-1", "shipped_on": "2026-08-05",
            "lines": [{"sku": "NW-SRV-R2", "quantity": 10}]}
    assert ledger.bill("shipment.confirmed", ship, occurred_at="2026-08-05T10:00:00Z")["status"] == "processed"
    august = ledger.invoice(P1, "2026-08")
    ledger.clock.set("2027-01-05T12:00:00Z")
    later = {"partner_id": P1, "order_ref": "SO-TR-2", "shipped_on": "2027-01-05",
             "lines": [{"sku": "NW-SRV-R2", "quantity": 1}],
             "tax_location": {"country": "US", "region": "US-GA"}}  # PA-10.1: its ship-to (docs/billing.md)
    assert ledger.bill("shipment.confirmed", later, occurred_at="2027-01-05T10:00:00Z")["status"] == "processed"
    ledger.clock.set("2027-01-10T12:00:00Z")
    credit = {"partner_id": P1, "credit_note_ref": "CN-TR-1", "invoice_id": august["invoice_id"], "line_no": 1,
              "reason": "billing_error", "amount": "5200.00", "quantity": 1, "issued_on": "2027-01-10"}
    assert ledger.bill("credit_note.issued", credit, occurred_at="2027-01-10T09:00:00Z")["status"] == "processed"
    ledger.clock.set("2027-01-20T12:00:00Z")
    found = review_service.review(ledger.rt, CHANNEL_OPS, P1, date(2027, 1, 20))
    assert (found["revenue"], found["tier"], found["outcome"], found["qualified_tier"]) == (
        "46800.00", "platinum", "downgrade", "registered")
    assert (found["notice_ends"], found["effective_on"]) == ("2027-02-19", "2027-04-01")
    with pytest.raises(NotFound):
        review_service.review(ledger.rt, CHANNEL_OPS, "ptr_01JX0000000000000000000099", date(2027, 1, 20))
