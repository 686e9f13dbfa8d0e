"""An auditor's case on the support-hour notices, on the in-memory engine with a fixed clock.

SOP-5.4: "When a Partner has used 80% of its quarterly support hours, Customer Success notifies the Partner's named
contact. When 100% is used, further non-severity-1 work stops until the Partner approves overage in writing."
COP-5.4: "Customer Success notifies the Partner at 75% and at 100% of its quarterly hours."
PA-9.2: Registered 10 hours per Quarter; CPA-9.2: Authorized 8.

Northwind, a Registered partner (10 h): 7 h (70%) brings no notice; 1.5 h more (85%) crosses 80%: one notice; 1 h
more (95%) none. Contoso, an Authorized partner (8 h): 6 h (75%) crosses 75%; 2 h more (100%) crosses 100%.
Each notice is a `support.hours_threshold_reached` event naming the partner, the quarter, the threshold, the hours
used and the allowance, and the rule and clause.
"""

from __future__ import annotations

from typing import Any

from memory_store import Ledger
from revgov.ports import Changes, Put

NW_PARTNER = "ptr_01JBNWPARTNER0000000000002"  # Registered, no certification (erp-samples.json)
CT_PARTNER = "ptr_01JBCTSPRT0000000000000001"


def _log(ledger: Ledger, partner_id: str, hours: str, ticket: str, family: str) -> None:
    data = {"partner_id": partner_id, "ticket_id": ticket, "family": family, "hours": hours,
            "performed_on": "2026-11-10", "severity": 2}  # fmt: skip
    assert ledger.bill("support.logged", data, occurred_at="2026-11-10T11:00:00Z")["status"] == "processed"


def _notices(ledger: Ledger) -> list[dict[str, Any]]:
    published = ledger.rt.publisher.published  # type: ignore[attr-defined]
    return [e["detail"] for e in published if e["detail_type"] == "support.hours_threshold_reached"]


def test_sop_5_4_customer_success_is_told_when_80_percent_of_the_quarters_hours_are_used():
    ledger = Ledger("2026-11-10T12:00:00Z")
    _log(ledger, NW_PARTNER, "7.00", "TCK-N-1", "networking")
    assert _notices(ledger) == []
    _log(ledger, NW_PARTNER, "1.50", "TCK-N-2", "networking")
    (notice,) = _notices(ledger)
    assert (notice["partner_id"], notice["quarter"], notice["percent"]) == (NW_PARTNER, "2026-Q4", 80)
    assert (notice["hours_used"], notice["allowance"]) == ("8.50", "10")
    assert (notice["rule_id"], notice["clause"]) == ("BILL-SUPPORT-OVERAGE", "SOP-5.4")
    _log(ledger, NW_PARTNER, "1.00", "TCK-N-3", "networking")
    assert len(_notices(ledger)) == 1


def test_cop_5_4_the_partner_is_notified_at_75_and_at_100_percent():
    ledger = Ledger("2026-11-10T12:00:00Z", tenant="contoso")
    partner = {"partner_id": CT_PARTNER, "legal_name": "Audit Support GmbH", "partner_type": "reseller",
               "status": "active", "tier": "authorized", "country": "DE", "activated_at": "2025-01-01T00:00:00Z",
               "certifications": {}}  # fmt: skip
    ledger.rt.store.commit("contoso", Changes(puts=[Put("PARTNER", CT_PARTNER, partner)]))
    _log(ledger, CT_PARTNER, "6.00", "TCK-C-1", "devices")
    assert [n["percent"] for n in _notices(ledger)] == [75]
    _log(ledger, CT_PARTNER, "2.00", "TCK-C-2", "devices")
    assert [n["percent"] for n in _notices(ledger)] == [75, 100]
    assert {n["clause"] for n in _notices(ledger)} == {"COP-5.4"}
