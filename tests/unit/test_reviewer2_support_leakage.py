"""Reviewer case: support beyond the quarterly hours, worked without the partner's written approval, is service
leakage in the support economics KPI (seed: "Support economics | Support hours per revenue dollar | Reveals
unprofitable partner segments").

PA-9.2: "Registered 10 hours ... Hours beyond the quarterly allowance are delivered only with the Partner's prior
written approval and are billed at USD 150.00 per hour".
SOP-5.4: "When 100% is used, further non-severity-1 work stops until the Partner approves overage in writing. Severity
1 incidents are always worked; hours above the allowance for a severity 1 incident are billed as overage".
SOP-5.3: "A request is out of scope when the Partner is not entitled to it: for example ... or support beyond the
quarterly hours. ... Out-of-scope work delivered without an accepted change order is not billed and is recorded as
service leakage for the support economics KPI." (COP-5.3 says the same for Contoso: "reported as service leakage".)

PA-1.3: this Agreement prevails over the SOP, and PA-9.2 names no severity-1 exception (contoso's CPA-9.2 does), so a
severity-1 incident's hours beyond the allowance are billed only with the Partner's written approval (clause audit,
eleventh round).

By hand, November 2026, the registered partner of the ERP samples (allowance 10 h per Quarter):
- TCK-RV2-1, severity 1, 12.50 h, overage approved in writing: 10 h included, 2.50 h overage billed at 150.00 = 375.00
  (not leakage: billed);
- TCK-RV2-2, severity 2, 2.00 h, no written approval: all 2.00 h beyond the allowance, not billed, a
  support_hours_overage exception (SOP-4.1) -> 1 out-of-scope request and 2.00 h of service leakage.
Support hours 14.50 over revenue 375.00.
"""

from __future__ import annotations

from typing import Any

from memory_store import Ledger
from revgov import schemas
from revgov.domain.access import Principal, Role
from revgov.domain.ids import typed_id
from revgov.services import analytics

REGISTERED = "ptr_01JBNWPARTNER0000000000002"
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")
TAX = {"country": "US", "region": "US-TX", "postal_code": "73301"}


def _support(ledger: Ledger, ticket: str, hours: str, severity: int, day: str, **approved: bool) -> str:
    """The ERP's support.logged, billed and (as the kpi-rollups rule delivers it) folded with what billing published."""
    ledger.clock.set(f"{day}T17:00:00Z")
    data = {"partner_id": REGISTERED, "ticket_id": ticket, "family": "networking", "hours": hours,
            "performed_on": day, "severity": severity, "tax_location": TAX, **approved}  # fmt: skip
    answer = ledger.bill("support.logged", data, occurred_at=f"{day}T16:00:00Z", erp_id=f"ERP-{ticket}")
    assert answer["status"] == "processed", answer
    erp_event = {"source": "revgov.erp", "detail-type": "support.logged", "detail": {
        "tenant_id": "northwind", "event_id": typed_id("evt", ledger.clock.now_ms(), ticket.encode().ljust(10, b"0")),
        "erp_event_id": f"ERP-{ticket}", "occurred_at": f"{day}T16:00:00Z", "replay": 0, "data": data}}  # fmt: skip
    analytics.record_fact(ledger.rt, erp_event)
    for published in list(ledger.rt.publisher.published):  # type: ignore[attr-defined]
        event = {"source": published["source"], "detail-type": published["detail_type"], "detail": published["detail"]}
        analytics.record_fact(ledger.rt, event)
    ledger.rt.publisher.published.clear()  # type: ignore[attr-defined]
    return str(answer.get("reason") or "")


def _support_kpi(ledger: Ledger, period: str) -> dict[str, Any]:
    answer = analytics.kpis(ledger.rt, FINANCE, period, partner_id=None, tier=None)
    assert schemas.problems("api/responses/kpis.schema.json", answer) == []
    return dict(answer["support_hours_per_revenue_dollar"])


def test_support_beyond_the_quarterly_hours_without_approval_is_service_leakage():
    ledger = Ledger("2026-11-01T00:30:00Z")
    _support(ledger, "TCK-RV2-1", "12.50", 1, "2026-11-20", overage_approved=True)
    assert "not billed" in _support(ledger, "TCK-RV2-2", "2.00", 2, "2026-11-24")
    overage = [e for e in ledger.exceptions() if e["category"] == "support_hours_overage"]
    assert [(e["queue"], e["partner_id"]) for e in overage] == [("customer_success", REGISTERED)]
    support = _support_kpi(ledger, "2026-11")
    assert (support["support_hours"], support["revenue"]) == ("14.50", "375.00")
    assert (support["out_of_scope_requests"], support["service_leakage_hours"]) == (1, "2.00")
    # the quarter holds the month; the severity 1 overage was billed, so it is revenue, not leakage
    quarter = _support_kpi(ledger, "2026-Q4")
    assert (quarter["out_of_scope_requests"], quarter["service_leakage_hours"]) == (1, "2.00")


def test_severity_1_overage_approved_in_writing_is_billed_and_is_not_leakage():
    # SOP-5.4: "hours above the allowance for a severity 1 incident are billed as overage", with the Partner's prior
    # written approval (PA-9.2, which prevails): 12.50 h, 2.50 h billed.
    ledger = Ledger("2026-11-01T00:30:00Z")
    _support(ledger, "TCK-RV2-3", "12.50", 1, "2026-11-20", overage_approved=True)
    support = _support_kpi(ledger, "2026-11")
    assert (support["support_hours"], support["revenue"]) == ("12.50", "375.00")
    assert (support["out_of_scope_requests"], support["service_leakage_hours"]) == (0, "0.00")


def test_severity_1_overage_without_written_approval_is_not_billed_and_is_leakage():
    # PA-9.2: "delivered only with the Partner's prior written approval" (no severity-1 exception; PA-1.3 puts it over
    # SOP-5.4); SOP-5.3: "not billed and is recorded as service leakage": 12.50 h worked, 2.50 h beyond, not billed.
    ledger = Ledger("2026-11-01T00:30:00Z")
    assert "not billed" in _support(ledger, "TCK-RV2-4", "12.50", 1, "2026-11-20")
    support = _support_kpi(ledger, "2026-11")
    assert (support["support_hours"], support["revenue"]) == ("12.50", "0.00")
    assert (support["out_of_scope_requests"], support["service_leakage_hours"]) == (1, "2.50")
