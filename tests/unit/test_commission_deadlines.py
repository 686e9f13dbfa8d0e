"""SOP-7.1 / COP-7.1 and PA-8.2 / CPA-8.2: a month's commission run has a calculation and a payment deadline, stated
on the run's review and watched like the Quarter's (services/rebates/run_watch.py `watch_months`).

SOP-7.1 (northwind): "The monthly close runs as follows, counting from the last day of the Billing Month (M): [...] by
the 3rd business day, commissions for month M are calculated under PA-8.2". COP-7.1 (contoso): "From the last day of
the Billing Month (M): [...] referral fees for M calculated by the 3rd business day".
PA-8.2: "Commissions under PA-8.1 and this clause are calculated per Billing Month and paid within 30 days after the
end of the month in which the Customer paid the invoice." CPA-8.2: "Referral fees are calculated per Billing Month and
paid within 30 days after the end of the month in which the End Customer paid."
Business days: PA-1.3 / CPA-1.3, Monday to Friday without the tenant's published holidays (its policy `calendar`,
both list 2027-01-01). December 2026 ends on Thursday 31: Friday 1 January is a holiday, so the 3rd business day is
Wednesday 6 January (Monday 4, Tuesday 5, Wednesday 6); paid within 30 days after 31 December: by 30 January 2027.
A run is calculated when it is prepared (its figures computed and frozen) and paid when approved (statements issued).
"""

from __future__ import annotations

from typing import Any

import pytest

from memory_store import Ledger
from rebate_runs import second_finance
from revgov.domain.access import Principal, Role
from revgov.domain.rebates.policy import Period
from revgov.domain.rebates.settlement_run import Review, deadlines
from revgov.domain.rules import Rule
from revgov.services import rebates
from revgov.services.rebates import run_watch

CLAUSES = {"northwind": ("PA-8.2", "SOP-7.1"), "contoso": ("CPA-8.2", "COP-7.1")}


def _prepare(ledger: Ledger, period: str, at: str) -> dict[str, Any]:
    ledger.clock.set(at)
    status, prepared = rebates.settle(ledger.rt, Principal(ledger.tenant_id, Role.FINANCE, "key_fin"),
                                      {"period": period})  # fmt: skip
    assert status == 201 and prepared["status"] == "prepared"
    return prepared


@pytest.mark.parametrize("tenant", ["northwind", "contoso"])
@pytest.mark.parametrize(("prepared_on", "late"), [("2027-01-06", []), ("2027-01-07", ["calculation"])])
def test_the_run_of_a_month_is_calculated_by_the_3rd_business_day_on_the_tenants_calendar(tenant, prepared_on, late):
    ledger = Ledger("2026-12-02T09:00:00Z", tenant=tenant)
    prepared = _prepare(ledger, "2026-12", f"{prepared_on}T09:00:00Z")
    review = prepared["review"]
    pay, calculate = CLAUSES[tenant]
    assert (review["calculate_by"], review["issue_by"], review["approve_by"]) == ("2027-01-06", "2027-01-30", None)
    assert (review["rule_id"], review["clause"]) == ("RBT-COMMISSION-PAYMENT", pay)
    assert review["calculation"] == {"rule_id": "RBT-COMMISSION-CALCULATION", "clause": calculate}
    assert review["overdue"] == late
    approved = rebates.approve_settlement(ledger.rt, second_finance(tenant), prepared["settlement_id"], {})
    assert approved["review"]["overdue"] == late  # a late calculation stays stated on the issued run


@pytest.mark.parametrize(("approved_on", "late"), [("2027-01-30", []), ("2027-01-31", ["issue"])])
def test_the_run_of_a_month_is_paid_within_30_days_after_the_month(approved_on, late):
    ledger = Ledger("2026-12-02T09:00:00Z")
    prepared = _prepare(ledger, "2026-12", "2027-01-05T09:00:00Z")
    ledger.clock.set(f"{approved_on}T09:00:00Z")
    approved = rebates.approve_settlement(ledger.rt, second_finance("northwind"), prepared["settlement_id"], {})
    assert approved["review"]["overdue"] == late


def _late(ledger: Ledger, period: str) -> list[dict[str, Any]]:
    # a month's late run is the month close's item (SOP-7.1 "Month-end close calendar"), its own category routed under
    # SOP-7.1 / COP-7.1; it was `rebate_run_overdue`, routed under the quarter close (SOP-7.2)
    return [c.data for c in ledger.rt.store.query(ledger.tenant_id, "CASE", limit=200).items
            if c.data["category"] == "commission_run_overdue" and c.data["context"]["period"] == period]  # fmt: skip


@pytest.mark.parametrize("tenant", ["northwind", "contoso"])
def test_a_month_not_calculated_by_the_3rd_business_day_becomes_one_exception_refreshed_when_payment_is_late(tenant):
    pay, calculate = CLAUSES[tenant]
    ledger = Ledger("2026-12-02T09:00:00Z", tenant=tenant)
    ledger.clock.set("2027-01-06T23:00:00Z")  # the 3rd business day: still in time
    assert run_watch.watch_months(ledger.rt, tenant)["opened"] == 0 and _late(ledger, "2026-12") == []
    ledger.clock.set("2027-01-07T06:00:00Z")
    assert run_watch.watch_months(ledger.rt, tenant)["opened"] == 1
    assert run_watch.watch_months(ledger.rt, tenant)["opened"] == 0  # one, not two
    (case,) = _late(ledger, "2026-12")
    assert case["queue"] == "finance" and case["context"]["overdue"] == ["calculation"]
    assert [(r["rule_id"], r["clause"]) for r in case["reasons"] if r["rule_id"].startswith("RBT-")] == [
        ("RBT-COMMISSION-CALCULATION", calculate)]
    (reason,) = [r for r in case["reasons"] if r["rule_id"] == "RBT-COMMISSION-CALCULATION"]
    assert "calculated" in reason["message"] and "2027-01-06" in reason["message"]
    prepared = _prepare(ledger, "2026-12", "2027-01-20T09:00:00Z")  # calculated late, then not paid in time
    ledger.clock.set("2027-01-31T06:00:00Z")
    assert run_watch.watch_months(ledger.rt, tenant)["refreshed"] == 1
    (case,) = _late(ledger, "2026-12")
    assert case["context"]["overdue"] == ["calculation", "issue"]
    assert case["context"]["settlement_id"] == prepared["settlement_id"]
    rebates.approve_settlement(ledger.rt, second_finance(tenant), prepared["settlement_id"], {})
    assert run_watch.watch_months(ledger.rt, tenant)["opened"] == 0
    assert len(_late(ledger, "2026-12")) == 1
    del pay


def test_januarys_payment_deadline_is_watched_after_february_ended():
    # PA-8.2: January 2027 ends on Sunday 31: paid within 30 days, by Tuesday 2 March, after February has ended; its
    # calculation (Monday 1, Tuesday 2, Wednesday 3 February) was on time
    ledger = Ledger("2027-01-05T09:00:00Z")
    prepared = _prepare(ledger, "2027-01", "2027-02-03T09:00:00Z")
    assert (prepared["review"]["calculate_by"], prepared["review"]["issue_by"]) == ("2027-02-03", "2027-03-02")
    # February's own run, prepared in time, is not late either
    _prepare(ledger, "2027-02", "2027-03-02T09:00:00Z")
    ledger.clock.set("2027-03-02T23:00:00Z")
    assert run_watch.watch_months(ledger.rt, "northwind")["opened"] == 0
    ledger.clock.set("2027-03-03T06:00:00Z")
    assert run_watch.watch_months(ledger.rt, "northwind")["opened"] == 1
    (case,) = _late(ledger, "2027-01")
    assert case["context"]["overdue"] == ["issue"]
    assert [(r["rule_id"], r["clause"]) for r in case["reasons"] if r["rule_id"].startswith("RBT-")] == [
        ("RBT-COMMISSION-PAYMENT", "PA-8.2")]
    assert _late(ledger, "2027-02") == []


def test_a_policy_without_commission_deadlines_states_none_for_a_month():
    # a policy without `rebates.commission_deadlines` states no day for a month's run (and `watch_months` skips it)
    no_deadlines = Review.of({"rebates": {}}, Rule("RBT-SETTLEMENT", "PA-7.8"))
    assert deadlines(no_deadlines, Period.parse("2026-12"))["calculate_by"] is None
    assert deadlines(no_deadlines, Period.parse("2026-12"))["issue_by"] is None
