"""The n8n run's business dates (tests/n8n/business_dates.py) for days that have broken date arithmetic before:
the first and last day of a quarter, a month end, a year end, a leap day, and the day issue #22 was filed on.
No n8n here: these run in every `make test`, whatever the calendar says."""

from __future__ import annotations

from datetime import date

import pytest
from business_dates import BusinessDates, quarter_bounds

from revgov.domain.access import Principal, Role
from revgov.domain.partners import effective_tier, record_certification, tiers_by_rank
from revgov.tenant_files import load_tenant_file
from support import ROOT

POLICY = load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml")["policy"]
DAYS = {  # the stack's clock, as `now_iso()` gives it -> the quarter the close flow settles
    "2026-12-06T12:00:00.000Z": "2026-Q3",  # the day of issue #22: the demo partner was `registered` on 2026-09-30
    "2027-01-01T00:05:00.000Z": "2026-Q4",  # first day of a quarter and of a year
    "2026-12-31T23:59:59.999Z": "2026-Q3",  # year end
    "2027-03-31T23:30:00.000Z": "2026-Q4",  # last day of a quarter
    "2027-04-30T12:00:00.000Z": "2027-Q1",  # a month end
    "2027-06-30T12:00:00.000Z": "2027-Q1",  # last day of a quarter
    "2028-02-29T12:00:00.000Z": "2027-Q4",  # leap day
}


@pytest.mark.parametrize("now", sorted(DAYS))
def test_the_settled_quarter_is_the_one_before_today_and_has_ended(now):
    dates = BusinessDates.from_clock(now)
    assert dates.settled_quarter == DAYS[now]
    first, last = dates.settled_bounds
    assert (first, last) == quarter_bounds(int(DAYS[now][:4]), int(DAYS[now][-1]))
    assert last < dates.today  # Revgov settles a period only after it ends (RBT-SETTLEMENT, PA-7.8)


@pytest.mark.parametrize("now", sorted(DAYS))
def test_the_shipments_fall_in_last_month_and_in_the_settled_quarter(now):
    dates = BusinessDates.from_clock(now)
    one, two, three = (at.date() for at in dates.shipments)
    month = (dates.today.replace(day=1) - date.resolution).replace(day=1)
    assert one.replace(day=1) == two.replace(day=1) == month and one < two < dates.today
    first, last = dates.settled_bounds
    assert first <= three <= last and three.month == last.month


@pytest.mark.parametrize("now", sorted(DAYS))
def test_the_runs_partner_holds_its_tier_on_the_settled_quarters_last_day(now):
    """"its effective tier on the period's last day" (facts_of_partner) must be one RBT-VOLUME counts
    (`eligibility: {tiers: [silver, gold, platinum]}`, PA-7.2), and the certification must still be valid today,
    when the partner is approved. With the demo partner's certification (earned 60 days before the stack started) it
    held no such tier on the quarter's last day on 2026-12-06, 2027-03-31 and 2027-06-30, nor all quarter on any day."""
    dates = BusinessDates.from_clock(now)
    tier = tiers_by_rank(POLICY)[1]
    applicant = {"partner_id": "ptr_x", "partner_type": "reseller", "status": "applied", "certifications": {}}
    who = Principal("northwind", Role.SALES, "key_x")
    for cert_id in tier["requirements"]["certifications"]:
        applicant = record_certification(
            POLICY, applicant, {"certification_id": cert_id, "earned_at": dates.certified_on.isoformat()},
            by=who, at=now,
        )
    partner = {**applicant, "status": "active", "tier": tier["tier"]}
    volume = next(p for p in POLICY["rebates"]["programs"] if p["id"] == "RBT-VOLUME")
    first, last = dates.settled_bounds
    for day in (first, last, dates.today):
        held = effective_tier(POLICY, partner, day)
        assert held is not None and held["tier"] == tier["tier"], (day, held)
    assert tier["tier"] in volume["eligibility"]["tiers"]
    assert dates.documents_expire_on > dates.today
