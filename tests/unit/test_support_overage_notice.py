"""Clause audit, ninth round (auditor9): a severity-1 overage billed is notified to the Partner within 1 business day
(docs/clause-audit.md, "Ninth round (auditor9)").

SOP-5.4: "When 100% is used, further non-severity-1 work stops until the Partner approves overage in writing.
Severity 1 incidents are always worked; hours above the allowance for a severity 1 incident are billed as overage at
USD 150.00 per hour and the Partner is notified within 1 business day." COP-5.4: "Beyond 100%, only severity 1
incidents are worked without written approval; those hours are billed at EUR 130.00 per hour and notified to the
Partner within 1 business day." PA-9.2: Registered 10 hours per Quarter; CPA-9.2: Authorized 8. PA-1.3: business
days exclude "public holidays published in the Partner Portal for the Program Year" (northwind's calendar lists
2026-11-11); CPA-1.3: those "of the Partner's country of establishment".

Before, the overage line was billed and nothing told the Partner: northwind notifies only at 80 % (`notify_at_percent`
[80]), contoso at 75 % and 100 % once per Quarter, so a second severity-1 incident beyond the allowance was billed
unannounced. Now each severity-1 overage billed publishes `support.overage_billed` (the ticket, the hours, the rate,
the amount, the invoice line and `notify_by`, 1 business day after it was billed) for Customer Success to notify the
Partner. Overage the Partner approved in writing is billed without one (it asked for it).

Northwind (clause audit, eleventh round): PA-9.2 "Hours beyond the quarterly allowance are delivered only with the
Partner's prior written approval" names no severity-1 exception and prevails over SOP-5.4 (PA-1.3), so a northwind
severity-1 overage is billed, and announced, only when approved in writing; contoso's CPA-9.2 excepts severity 1.
"""

from __future__ import annotations

import json
from typing import Any

from memory_store import Ledger
from revgov import schemas
from revgov.ports import Changes, Put
from support import ROOT

NW_PARTNER = "ptr_01JBNWPARTNER0000000000002"  # Registered, 10 h a Quarter (erp-samples.json)
CT_PARTNER = "ptr_01JBCTSPRT0000000000000009"


def _log(ledger: Ledger, partner_id: str, hours: str, ticket: str, family: str, severity: int, **more: Any) -> None:
    data = {"partner_id": partner_id, "ticket_id": ticket, "family": family, "hours": hours,
            "performed_on": "2026-11-10", "severity": severity, **more}  # fmt: skip
    assert ledger.bill("support.logged", data, occurred_at="2026-11-10T11:00:00Z")["status"] == "processed"


def _notices(ledger: Ledger) -> list[dict[str, Any]]:
    published = ledger.rt.publisher.published  # type: ignore[attr-defined]
    return [e["detail"] for e in published if e["detail_type"] == "support.overage_billed"]


def _overage_lines(ledger: Ledger, partner_id: str) -> list[dict[str, Any]]:
    return [ln for ln in ledger.invoice(partner_id, "2026-11")["lines"] if ln["kind"] == "support_overage"]


def test_sop_5_4_each_severity_1_overage_billed_is_notified_within_1_business_day():
    # 10.00 h (100 % of the Registered 10 h), then severity 1 (approved in writing, PA-9.2): 1.50 h beyond = 1.50 x
    # 150.00 = 225.00, and another severity-1 incident 0.75 h = 112.50: two notices. Billed Tuesday 2026-11-10 at 12:00
    # UTC: notify by Thursday 2026-11-12 12:00 (Wednesday 11 November is a published holiday).
    ledger = Ledger("2026-11-10T12:00:00Z")
    _log(ledger, NW_PARTNER, "10.00", "TCK-O-1", "networking", 2)
    assert _notices(ledger) == []  # within the allowance: nothing billed, nothing to notify
    _log(ledger, NW_PARTNER, "1.50", "TCK-O-2", "networking", 1, overage_approved=True)
    _log(ledger, NW_PARTNER, "0.75", "TCK-O-3", "networking", 1, overage_approved=True)
    lines = _overage_lines(ledger, NW_PARTNER)
    assert [(ln["order_ref"], ln["amount"]) for ln in lines] == [("TCK-O-2", "225.00"), ("TCK-O-3", "112.50")]
    first, second = _notices(ledger)
    assert (first["partner_id"], first["quarter"], first["ticket_id"], first["severity"]) == (
        NW_PARTNER, "2026-Q4", "TCK-O-2", 1)
    assert (first["overage_hours"], first["hourly_rate"], first["amount"]) == ("1.50", "150.00", "225.00")
    assert first["line_ids"] == [lines[0]["line_id"]] and first["invoice_id"] == lines[0]["invoice_id"]
    assert first["notify_by"] == "2026-11-12T12:00:00Z"
    assert (first["rule_id"], first["clause"]) == ("BILL-SUPPORT-OVERAGE", "SOP-5.4")
    assert (second["ticket_id"], second["amount"]) == ("TCK-O-3", "112.50")
    # as the catalogue says (events/revgov.billing/support.overage_billed.json, schemas/events/)
    sample = json.loads((ROOT / "events" / "revgov.billing" / "support.overage_billed.json").read_text())
    for event in [e for e in ledger.rt.publisher.published if e["detail_type"] == "support.overage_billed"]:
        envelope = {"source": event["source"], "detail-type": event["detail_type"], "detail": event["detail"]}
        assert schemas.problems("events/revgov.billing.schema.json", envelope) == []
        assert set(sample["detail"]) == set(event["detail"])


def test_sop_5_4_overage_the_partner_approved_in_writing_is_billed_without_a_notice():
    ledger = Ledger("2026-11-10T12:00:00Z")
    _log(ledger, NW_PARTNER, "10.00", "TCK-A-1", "networking", 2)
    _log(ledger, NW_PARTNER, "1.00", "TCK-A-2", "networking", 3, overage_approved=True)
    assert [ln["amount"] for ln in _overage_lines(ledger, NW_PARTNER)] == ["150.00"]
    assert _notices(ledger) == []


def test_cop_5_4_contoso_notifies_a_severity_1_overage_on_the_partners_country_calendar():
    # Authorized 8 h: 8.00 h, then severity 1: 2.00 h beyond = 2.00 x 130.00 = 260.00. Billed Tuesday 2026-11-10
    # 12:00 UTC, a German partner: notify by Wednesday 2026-11-11 12:00 (no German holiday that day).
    ledger = Ledger("2026-11-10T12:00:00Z", tenant="contoso")
    partner = {"partner_id": CT_PARTNER, "legal_name": "Overage Notice GmbH", "partner_type": "reseller",
               "status": "active", "tier": "authorized", "country": "DE", "activated_at": "2025-01-01T00:00:00Z",
               "certifications": {}}  # fmt: skip
    ledger.rt.store.commit("contoso", Changes(puts=[Put("PARTNER", CT_PARTNER, partner)]))
    _log(ledger, CT_PARTNER, "8.00", "TCK-C-1", "devices", 2)
    _log(ledger, CT_PARTNER, "2.00", "TCK-C-2", "devices", 1)
    (notice,) = _notices(ledger)
    assert (notice["amount"], notice["hourly_rate"], notice["notify_by"]) == ("260.00", "130.00",
                                                                              "2026-11-11T12:00:00Z")
    assert notice["clause"] == "COP-5.4"
