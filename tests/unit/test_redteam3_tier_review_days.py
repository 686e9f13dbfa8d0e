"""Red team (redteam3): tier-review days at the ends of the calendar are a clear 422 naming `on`, never a 500.

API.md: bad input always gets a clear problem+json error naming the field. PA-3.6: "reviews every Partner's tier once
per Program Year, by 31 January, using Annual Revenue for the previous Program Year" — a review on a day of year 1 has
no previous Program Year in the calendar, and one in year 9999 gives a notice or an upgrade day past its end
(PA-3.7: "the downgrade takes effect on the first day of the next Quarter after the notice period ends").
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from revgov.domain.errors import RuleViolation
from revgov.domain.partners import tier_review
from revgov.tenant_files import load_tenant_file
from support import ROOT

POLICY = {t: load_tenant_file(ROOT / "tenants" / t / "tenant.yaml")["policy"] for t in ("northwind", "contoso")}
GOLD = {"partner_id": "ptr_01JX0000000000000000000001", "tier": "gold", "status": "active",
        "certifications": {c: {"earned_at": "2025-06-01", "expires_at": "2027-12-31"}
                           for c in ("cert-network-core", "cert-security-pro")}}  # fmt: skip


@pytest.mark.parametrize("tenant", ["northwind", "contoso"])
@pytest.mark.parametrize("day, requested", [
    (date(1, 1, 20), False), (date(1, 7, 20), False), (date(1, 3, 10), True), (date(1, 1, 1), True),
    (date(9999, 1, 20), False), (date(9999, 7, 20), False), (date(9999, 12, 31), True), (date(9999, 10, 1), True),
])  # fmt: skip
def test_a_review_day_at_the_ends_of_the_calendar_is_a_rule_violation_naming_on(tenant, day, requested):
    with pytest.raises(RuleViolation) as refused:
        tier_review.findings(POLICY[tenant], GOLD, day, Decimal("0.00"), requested=requested)
    assert [e.path for e in refused.value.errors] == ["/query/on"]


@pytest.mark.parametrize("day", [date(2, 1, 20), date(9998, 1, 20), date(9998, 12, 31)])
def test_the_days_next_to_them_are_reviewed(day):
    requested = day.month not in (1, 7)
    found = tier_review.findings(POLICY["northwind"], GOLD, day, Decimal("0.00"), requested=requested)
    assert found["review_day"] == day.isoformat()
