"""Auditor 5: support time counts against the Quarter of the work date, and the overage is invoiced in the month
worked. Figures by hand from the clauses; fixed clocks only.

PA-9.2: "Each tier includes a number of technical support hours per Quarter: Registered 10 hours [...] Hours are logged
against the Partner in 15-minute increments. Unused hours do not roll over to the next Quarter. Hours beyond the
quarterly allowance are delivered only with the Partner's prior written approval and are billed at USD 150.00 per
hour".
SOP-5.2: "Support engineers log time against the Partner within 1 business day of performing the work, in 15-minute
increments rounded up per ticket session. [...] Hours count against the Quarter in which the work was performed."
SOP-5.4: "Severity 1 incidents are always worked; hours above the allowance for a severity 1 incident are billed as
overage at USD 150.00 per hour [...] Overage hours are billed on the monthly invoice for the month in which they were
performed."
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from memory_store import Ledger
from revgov.services.billing.repository import SUPPORT_HOURS

P2 = "ptr_01JBNWPARTNER0000000000002"  # Registered: 10 hours per Quarter


def _log(ledger: Ledger, ticket: str, hours: str, performed_on: str, logged_at: str, severity: int,
         **approved: bool) -> dict[str, Any]:
    ledger.clock.set(logged_at)
    data = {"partner_id": P2, "ticket_id": ticket, "family": "networking", "hours": hours,
            "performed_on": performed_on, "severity": severity, **approved}
    return ledger.bill("support.logged", data, occurred_at=logged_at)


def _used(ledger: Ledger, quarter: str) -> Decimal:
    stored = ledger.rt.store.get("northwind", SUPPORT_HOURS, f"{P2}#{quarter}")
    return Decimal(stored.data["hours_used"]) if stored else Decimal(0)


def test_hours_count_in_the_quarter_worked_and_overage_is_billed_in_the_month_worked():
    """9.75 h worked 2026-12-30; 0.50 h worked 2027-01-02 (2027-Q1: a fresh 10 h, no roll-over); then 0.50 h of a
    severity 1 incident worked 2026-12-31, logged 2027-01-02 (within 1 business day): 2026-Q4 reaches 10.25 h, so
    0.25 h is overage, 0.25 x 150.00 = USD 37.50, on the 2026-12 invoice. The Partner approved it in writing (PA-9.2
    "delivered only with the Partner's prior written approval", which prevails over SOP-5.4's severity-1 billing under
    PA-1.3: clause audit, eleventh round)."""
    ledger = Ledger("2026-12-30T18:00:00Z")
    assert _log(ledger, "TCK-A5-1", "9.75", "2026-12-30", "2026-12-30T18:00:00Z", 2)["status"] == "processed"
    assert _log(ledger, "TCK-A5-2", "0.5", "2027-01-02", "2027-01-02T09:00:00Z", 2)["status"] == "processed"
    assert (_used(ledger, "2026-Q4"), _used(ledger, "2027-Q1")) == (Decimal("9.75"), Decimal("0.5"))
    assert _log(ledger, "TCK-A5-3", "0.5", "2026-12-31", "2027-01-02T10:00:00Z", 1,
                overage_approved=True)["status"] == "processed"
    assert (_used(ledger, "2026-Q4"), _used(ledger, "2027-Q1")) == (Decimal("10.25"), Decimal("0.5"))
    december = ledger.invoice(P2, "2026-12")
    overage = [ln for ln in december["lines"] if ln["kind"] == "support_overage"]
    assert [(ln["quantity"], ln["amount"]) for ln in overage] == [("0.25", "37.50")]
    assert not [c for c in ledger.exceptions() if c.get("category") == "support_hours_overage"]


def test_sop_5_1_the_entitlement_check_reads_the_hours_remaining_in_the_quarter():
    """SOP-5.1: Customer Success "checks the Partner's current entitlements: support level, support hours remaining in
    the Quarter [...]". Registered: 10 h per Quarter (PA-9.2). 2.25 h + 1.5 h worked in 2026-Q4 leave 6.25 h; on
    2027-01-01 the new Quarter has all 10 h ("Unused hours do not roll over"); past the allowance nothing is left."""
    from revgov.services import support_hours

    ledger = Ledger("2026-11-10T12:00:00Z")
    _log(ledger, "TCK-A5-4", "2.25", "2026-11-09", "2026-11-10T12:00:00Z", 3)
    _log(ledger, "TCK-A5-5", "1.5", "2026-11-10", "2026-11-10T13:00:00Z", 3)
    answer = support_hours.entitlement(ledger.rt, "northwind", P2, "max_support_hours_per_quarter",
                                       "2026-12-31T23:59:59Z")
    assert (answer["value"], answer["quarter"], answer["hours_used"], answer["hours_remaining"]) == (
        10, "2026-Q4", "3.75", "6.25")
    january = support_hours.entitlements(ledger.rt, "northwind", P2, "2027-01-01T00:00:00Z")["entitlements"]
    assert (january["max_support_hours_per_quarter"]["hours_used"],
            january["max_support_hours_per_quarter"]["hours_remaining"]) == ("0.00", "10.00")
    _log(ledger, "TCK-A5-6", "7", "2026-11-12", "2026-11-12T13:00:00Z", 1)  # 10.75 h: 0.75 h severity 1 overage
    after = support_hours.entitlement(ledger.rt, "northwind", P2, "max_support_hours_per_quarter",
                                      "2026-11-30T00:00:00Z")
    assert (after["hours_used"], after["hours_remaining"]) == ("10.75", "0.00")
