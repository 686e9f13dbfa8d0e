"""Reviewer round 3: billing triggers from signed ERP events over HTTP, from the Northwind Billing & Service Operations
SOP alone (tenants/northwind/contracts/billing-sop.md). Each case runs in a throwaway tenant of its own (the rebate
fixture: northwind's policy, Silver resellers A, B, C approved 2026-08-01); dates are read from the stack clock when
the test runs.

SOP-3.1: "Monthly usage is the sum of the Partner's records for the Billing Month across all its Customers, rounded
up to the next whole unit." SOP-3.2: graduated CUH bands 0.12 (first 1,000), 0.10 (next 9,000), ... "Each band is
charged at its own rate". SOP-3.3: endpoints 3.50 (first 250), 3.00 (next 750), 2.50. SOP-3.4: "Each usage metric is
rated once per Partner per Billing Month [...] A usage adjustment for a previous month is rated as the difference
between the re-rated total for that month and the total already invoiced, so that the graduated bands are applied to
the corrected monthly quantity."
SOP-2.1: "A shipment [...] must be posted [...] within 48 hours of the time the event occurred, as recorded by the
source system, not the time it was received. [...] at 48 hours it raises an invoice_sla_breach exception. The breach
is recorded even if the line is posted afterwards". SOP-4.1: invoice_sla_breach -> finance, 4 hours.
PA-9.2 / tenant.yaml ENT-SLV-HOURS: a Silver partner has 40 support hours per Quarter. SOP-5.4: "When 100% is used,
further non-severity-1 work stops until the Partner approves overage in writing. Severity 1 incidents are always
worked; hours above the allowance for a severity 1 incident are billed as overage at USD 150.00 per hour". SOP-4.1:
support_hours_overage -> customer_success, 8 hours.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from test_rebates_api import tenant  # noqa: F401  (the throwaway tenant fixture)

from billing_support import erp_event, wait_until
from support import Api

pytestmark = pytest.mark.stack


def _now(tenant: Any) -> datetime:  # noqa: F811
    return datetime.fromisoformat(tenant.rt.clock.now_iso().replace("Z", "+00:00"))


def _send(tenant: Any, detail_type: str, data: dict[str, Any], occurred_at: str,  # noqa: F811
          statuses: tuple[str, ...] = ("processed",)) -> str:
    answer = tenant.erp.post(erp_event(detail_type, data, occurred_at=occurred_at,
                                       erp_id=f"RV3-{uuid.uuid4().hex[:10]}"))
    assert answer.status_code == 202, answer.text
    event_id = str(answer.json()["event_id"])
    wait_until(lambda: tenant._status(event_id) in statuses, 60, what=event_id)
    return event_id


def _lines_of(who: Api, partner_id: str) -> list[dict[str, Any]]:
    invoices = who.get("/v1/invoices", partner_id=partner_id, limit=200).json()["items"]
    return [dict(ln, invoice_period=i["period"]) for i in invoices
            for ln in who.get(f"/v1/invoices/{i['invoice_id']}").json()["lines"]]


def _service_month(line: dict[str, Any]) -> str | None:
    period = line.get("service_period") or {}
    return str(period["start"])[:7] if period.get("start") else None


def test_a_months_usage_is_summed_then_rounded_up_once_and_rated_through_the_bands(tenant):  # noqa: F811
    """Last month (the month before the stack clock's), partner B reports cloud_compute 900.25 CUH and then 199.50 CUH
    (two days, two records) and security_monitoring 300 endpoints.
    (Each metered on a subscription activated on the 1st of that month.)
    Cloud: 900.25 + 199.50 = 1,099.75 -> rounded up once -> 1,100 CUH; 1,000 x 0.12 + 100 x 0.10 = 120.00 + 10.00 =
    130.00 (rounded per record it would be 901 + 200 = 1,101 -> 130.10; banded per record 108.12 + 24.00).
    Security: 250 x 3.50 + 50 x 3.00 = 875.00 + 150.00 = 1,025.00.
    Whether the records arrive by SOP-3.1's cut-off (rated in the month's run) or after it (the next run's adjustment
    with the original service period, SOP-3.4's difference against nothing invoiced yet), the lines carrying last
    month's service period sum to 130.00 and 1,025.00."""
    now = _now(tenant)
    last_month_day = (now.replace(day=1) - timedelta(days=1)).date()
    service_month = last_month_day.isoformat()[:7]
    partner_id = tenant.partner_ids["B"]
    at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    # the usage is metered on subscriptions active since the first of last month (a record of an unknown
    # subscription waits for its activation)
    for subscription, sku in (("SUB-RV3-1", "NW-CLOUD-PLATFORM"), ("SUB-RV3-2", "NW-SEC-SUITE")):
        _send(tenant, "subscription.activated", {"partner_id": partner_id, "subscription_id": subscription,
                                                 "sku": sku, "quantity": 1, "activated_on": f"{service_month}-01",
                                                 "order_ref": f"SO-{subscription}"}, f"{service_month}-01T08:00:00Z")
    for quantity, day in (("900.25", 10), ("199.50", 11)):
        _send(tenant, "usage.reported", {"partner_id": partner_id, "subscription_id": "SUB-RV3-1",
                                         "metric": "cloud_compute", "quantity": quantity,
                                         "usage_date": f"{service_month}-{day:02d}"}, at)
    _send(tenant, "usage.reported", {"partner_id": partner_id, "subscription_id": "SUB-RV3-2",
                                     "metric": "security_monitoring", "quantity": "300",
                                     "usage_date": f"{service_month}-12"}, at)

    def by_sku() -> dict[str, Decimal]:
        sums: dict[str, Decimal] = {}
        for line in _lines_of(tenant.finance, partner_id):
            if _service_month(line) == service_month and line.get("sku") in ("NW-CLOUD-CUH", "NW-SEC-MON"):
                sums[line["sku"]] = sums.get(line["sku"], Decimal("0")) + Decimal(line["amount"])
        return sums

    wait_until(lambda: by_sku() == {"NW-CLOUD-CUH": Decimal("130.00"), "NW-SEC-MON": Decimal("1025.00")}, 30,
               what=lambda: by_sku())
    assert by_sku() == {"NW-CLOUD-CUH": Decimal("130.00"), "NW-SEC-MON": Decimal("1025.00")}


def test_a_shipment_posted_more_than_48_hours_after_it_occurred_is_an_invoice_sla_breach_for_finance(tenant):  # noqa: F811
    """A's shipment of 2 x NW-SW-24P occurred 3 days before the stack clock (its ERP's occurred_at) and is received
    now: it is billed (2 x 1,250.00 = 2,500.00, on the invoice of the month it occurred in, SOP-2.2) and, posted more
    than 48 hours after it occurred, raises an invoice_sla_breach in the finance queue with SOP-4.1's 4-hour SLA
    (SOP-2.1 "The breach is recorded even if the line is posted afterwards"). A's own shipment of today is not one."""
    now = _now(tenant)
    partner_id = tenant.partner_ids["A"]
    late_at = now - timedelta(days=3)
    late_ref, fresh_ref = f"SO-RV3-LATE-{uuid.uuid4().hex[:4]}", f"SO-RV3-NOW-{uuid.uuid4().hex[:4]}"
    late = _send(tenant, "shipment.confirmed", {
        "partner_id": partner_id, "order_ref": late_ref, "shipped_on": late_at.date().isoformat(),
        "lines": [{"sku": "NW-SW-24P", "quantity": 2}]}, late_at.strftime("%Y-%m-%dT%H:%M:%SZ"))
    an_hour_ago = now - timedelta(hours=1)  # shipped that day: a moved clock may stand at 00:10 (test_billing)
    fresh = _send(tenant, "shipment.confirmed", {
        "partner_id": partner_id, "order_ref": fresh_ref, "shipped_on": an_hour_ago.date().isoformat(),
        "lines": [{"sku": "NW-SW-24P", "quantity": 1}]}, an_hour_ago.strftime("%Y-%m-%dT%H:%M:%SZ"))
    lines = _lines_of(tenant.finance, partner_id)
    (billed,) = [ln for ln in lines if late_ref in str(ln.get("order_ref") or ln)]
    assert billed["amount"] == "2500.00" and billed["invoice_period"] == late_at.date().isoformat()[:7], billed
    found = tenant.finance.get("/v1/exceptions", queue="finance", limit=200).json()["items"]
    breaches = [e for e in found if e["category"] == "invoice_sla_breach"]
    mine = [e for e in breaches if late in str(e) or late_ref in str(e)]
    assert len(mine) == 1, breaches
    assert not [e for e in breaches if fresh in str(e) or fresh_ref in str(e)], breaches
    (breach,) = mine
    assert breach["queue"] == "finance" and any(r["clause"] == "SOP-2.1" for r in breach["reasons"]), breach
    entered = datetime.fromisoformat(breach["opened_at"].replace("Z", "+00:00"))
    due = datetime.fromisoformat(breach["due_at"].replace("Z", "+00:00"))
    assert due - entered == timedelta(hours=4), breach  # SOP-4.1 / SOP-1.3: 4 elapsed hours from entering the queue


def test_support_beyond_the_quarters_40_hours_bills_severity_1_and_routes_the_rest_to_customer_success(tenant):  # noqa: F811
    """Silver partner C (40 hours a Quarter, ENT-SLV-HOURS / PA-9.2) logs, today: 38.00 hours severity 2 (included),
    then 4.25 hours severity 1 approved in writing: 42.25 - 40 = 2.25 hours above the allowance, billed as overage
    2.25 x 150.00 = 337.50 (SOP-5.4; PA-9.2 "delivered only with the Partner's prior written approval" prevails over
    SOP-5.4's severity-1 rule, PA-1.3); then 1.00 hour severity 3 with no written overage approval: a
    support_hours_overage exception for customer_success (SOP-4.1, 8 hours), not billed."""
    now = _now(tenant)
    today = now.date().isoformat()
    partner_id = tenant.partner_ids["C"]
    at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    base = {"partner_id": partner_id, "family": "networking", "performed_on": today}
    _send(tenant, "support.logged", {**base, "ticket_id": "TCK-RV3-1", "hours": "38.00", "severity": 2}, at)
    _send(tenant, "support.logged", {**base, "ticket_id": "TCK-RV3-2", "hours": "4.25", "severity": 1,
                                        "overage_approved": True}, at)
    third = _send(tenant, "support.logged", {**base, "ticket_id": "TCK-RV3-3", "hours": "1.00", "severity": 3}, at,
                  statuses=("processed", "failed"))
    lines = _lines_of(tenant.finance, partner_id)
    overage = [ln for ln in lines if ln.get("sku") == "NW-SUPPORT-OVERAGE"]
    assert [(Decimal(str(ln["quantity"])), ln["amount"]) for ln in overage] == [(Decimal("2.25"), "337.50")], overage
    found = tenant.admin.get("/v1/exceptions", queue="customer_success", limit=200).json()["items"]
    cs = [e for e in found if e["category"] == "support_hours_overage" and e.get("partner_id") == partner_id]
    assert len(cs) == 1 and cs[0]["queue"] == "customer_success", (cs, third)
    entered = datetime.fromisoformat(cs[0]["opened_at"].replace("Z", "+00:00"))
    assert datetime.fromisoformat(cs[0]["due_at"].replace("Z", "+00:00")) - entered == timedelta(hours=8)


def test_proration_and_cancellation_credit_are_rounded_once_per_line(tenant):  # noqa: F811
    """SOP-2.3: "counts days inclusively from the activation date to the last day of the service period. The divisor is
    the number of days in the calendar month [...] monthly price x remaining days / days in month [...] rounded once
    to two places, half to even." SOP-2.4: the cancellation "takes effect at the end of that day"; the credit "counts
    the full days after the effective day to the last day of the service period [...] monthly price x unused full
    days / days in month, rounded once"; "A cancellation effective on the last day of the month produces no credit."
    A activates 3 x NW-SEC-SUITE (300.00 a month) on 2026-10-15: October has 31 days, 15..31 = 17 days:
    900.00 x 17 / 31 = 493.548... -> 493.55 (per unit 164.52 x 3 would be 493.56). Cancelled effective 2026-10-20:
    21..31 = 11 unused days: 900.00 x 11 / 31 = 319.354... -> 319.35 credited, referencing the charge; nothing for
    November. A also activates 1 x NW-NET-MGMT (99.00) on 2026-10-15: 99.00 x 17 / 31 = 54.290... -> 54.29;
    cancelled effective 2026-10-31 (the month's last day): no credit."""
    partner_id = tenant.partner_ids["A"]
    for sub, sku, quantity in (("SUB-RV3-P", "NW-SEC-SUITE", 3), ("SUB-RV3-Q", "NW-NET-MGMT", 1)):
        _send(tenant, "subscription.activated", {"partner_id": partner_id, "subscription_id": sub, "sku": sku,
                                                 "quantity": quantity, "activated_on": "2026-10-15",
                                                 "order_ref": f"SO-{sub}"}, "2026-10-15T09:00:00Z")
    _send(tenant, "subscription.cancelled", {"partner_id": partner_id, "subscription_id": "SUB-RV3-P",
                                             "effective_on": "2026-10-20", "order_ref": "SO-SUB-RV3-P"},
          "2026-10-20T09:00:00Z", statuses=("processed", "failed"))
    _send(tenant, "subscription.cancelled", {"partner_id": partner_id, "subscription_id": "SUB-RV3-Q",
                                             "effective_on": "2026-10-31", "order_ref": "SO-SUB-RV3-Q"},
          "2026-10-31T09:00:00Z", statuses=("processed", "failed"))
    lines = _lines_of(tenant.finance, partner_id)
    suite = [(ln["amount"], (ln.get("service_period") or {}).get("start")) for ln in lines
             if ln.get("sku") == "NW-SEC-SUITE"]
    mgmt = [(ln["amount"], (ln.get("service_period") or {}).get("start")) for ln in lines
            if ln.get("sku") == "NW-NET-MGMT"]
    charges = sorted(a for a, _ in suite if not a.startswith("-"))
    credits = sorted(a for a, _ in suite if a.startswith("-"))
    assert charges == ["493.55"], suite
    assert credits == ["-319.35"], suite
    assert sorted(a for a, _ in mgmt) == ["54.29"], mgmt  # no credit, no later month


def test_bands_restart_each_billing_month(tenant):  # noqa: F811
    """SOP-3.4: "Bands restart at zero each Billing Month and are not shared between metrics." C reports 900 CUH for
    each of the two months before the stack clock's month, both received now (one run may rate both): each month is
    900 x 0.12 = 108.00; rated together they would be 1,000 x 0.12 + 800 x 0.10 = 200.00 instead of 216.00."""
    now = _now(tenant)
    last = (now.replace(day=1) - timedelta(days=1)).date()
    before = last.replace(day=1) - timedelta(days=1)
    months = [before.isoformat()[:7], last.isoformat()[:7]]
    partner_id = tenant.partner_ids["C"]
    _send(tenant, "subscription.activated", {"partner_id": partner_id, "subscription_id": "SUB-RV3-C", "sku":
                                             "NW-CLOUD-PLATFORM", "quantity": 1, "activated_on": f"{months[0]}-01",
                                             "order_ref": "SO-SUB-RV3-C"}, f"{months[0]}-01T08:00:00Z")
    at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    for month in months:
        _send(tenant, "usage.reported", {"partner_id": partner_id, "subscription_id": "SUB-RV3-C",
                                         "metric": "cloud_compute", "quantity": "900",
                                         "usage_date": f"{month}-10"}, at)

    def by_month() -> dict[str | None, str]:
        return {_service_month(ln): ln["amount"] for ln in _lines_of(tenant.finance, partner_id)
                if ln.get("sku") == "NW-CLOUD-CUH"}

    wait_until(lambda: len(by_month()) == 2, 30, what=by_month)
    assert by_month() == {months[0]: "108.00", months[1]: "108.00"}


def test_last_months_invoice_not_issued_48_hours_after_the_month_is_a_breach_for_finance(tenant):  # noqa: F811
    """SOP-2.1: "The monthly invoice must be finalised and issued within 48 hours after the end of the Billing Month";
    SOP-4.1: invoice_sla_breach -> finance, 4 hours. B's shipment of 2 x NW-SW-24P on the 20th of last month (the
    stack clock's) leaves last month's invoice a draft (2,500.00 before sales tax). The month-close watch (hourly,
    run here as the scheduler would) finds it: once the clock is past 00:00 on the 3rd of this month (the month's
    end + 48 hours), one invoice_sla_breach for finance whose subject is that invoice, the hours late = now - that
    instant (to a tenth of an hour); before then none."""
    from revgov.services import month_close

    now = _now(tenant)
    this_month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last_month = (this_month - timedelta(days=1)).replace(day=20, hour=10)
    partner_id = tenant.partner_ids["B"]
    _send(tenant, "shipment.confirmed", {"partner_id": partner_id, "order_ref": "SO-RV3-MC",
                                         "shipped_on": last_month.date().isoformat(),
                                         "lines": [{"sku": "NW-SW-24P", "quantity": 2}]},
          last_month.strftime("%Y-%m-%dT%H:%M:%SZ"))
    invoices = tenant.finance.get("/v1/invoices", partner_id=partner_id, limit=200).json()["items"]
    (draft,) = [i for i in invoices if i["period"] == last_month.isoformat()[:7]]
    assert draft["status"] == "draft", draft
    month_close.watch(tenant.rt, tenant.tenant_id)
    watched = _now(tenant)  # the watch read the clock between `now` and this (an hour may turn meanwhile)
    found = tenant.finance.get("/v1/exceptions", queue="finance", limit=200).json()["items"]
    late = [e for e in found if e["category"] == "invoice_sla_breach" and e["subject"]["id"] == draft["invoice_id"]]
    issue_by = this_month + timedelta(hours=48)
    if now <= issue_by:
        assert late == [], late
        return
    assert len(late) == 1 and late[0]["queue"] == "finance", late
    context = late[0]["context"]
    assert context["issue_by"].startswith(issue_by.strftime("%Y-%m-%dT%H:%M:%S")), context
    hours = [(at - issue_by).total_seconds() / 3600 for at in (now, watched)]  # stated to a tenth of an hour
    assert hours[0] - 0.05 <= float(context["hours_late"]) <= hours[1] + 0.05, (hours, context)
