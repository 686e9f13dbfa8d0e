"""Clause audit, eleventh round: where the code enforces a rule otherwise than the clause it cites, and where two
clauses apply at once and the agreement's order of precedence decides.

PA-1.3: "If documents conflict, the following order applies: (a) a written amendment signed by both parties; (b) this
Agreement; (c) the Northwind Billing & Service Operations SOP; [...]".

Every expectation is worked by hand from the clause quoted beside it (docs/clause-audit.md, "Eleventh round").
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

from test_auditor3_rebates import FINANCE, _filed_dispute

from revgov.services import rebates


def test_pa_7_9_prevails_over_sop_6_2_the_decision_is_due_15_business_days_after_the_dispute_not_its_acknowledgement():
    """PA-7.9: "Finance acknowledges a dispute within 2 business days and decides it within 15 business days". Both
    periods run from the dispute (the sentence's one subject). SOP-6.2: "(2) acknowledge within 2 business days; [...]
    (5) decide within 15 business days of acknowledgement" would allow up to 2 + 15 = 17; PA-1.3 puts the Agreement
    (b) over the SOP (c), so the decision is due 15 business days after the filing, acknowledged or not (contoso's
    CPA-7.9 "decides within 20 business days" was already counted so).

    Filed Friday 2026-10-09 10:00 UTC; Monday 2026-10-12 is a holiday published for 2026 (PA-1.3). Business days after
    the filing: Oct 13 (1), 14 (2: acknowledge by), 15, 16, 19, 20, 21, 22, 23, 26, 27, 28, 29, 30 (14), Monday
    2026-11-02 (15): decide by 2026-11-02 10:00 UTC. The product said 2026-11-04 10:00 (15 after the acknowledge-by
    day), and after an acknowledgement on Tuesday 2026-10-13 09:00, 2026-11-03 09:00."""
    ledger, dispute = _filed_dispute()
    due = dispute["deadlines"]
    assert (due["acknowledge_by"], due["decide_by"]) == ("2026-10-14T10:00:00.000Z", "2026-11-02T10:00:00.000Z")
    assert (due["decide_from"], due["rule_id"], due["clause"]) == ("filing", "RBT-DISPUTES", "PA-7.9")
    ledger.clock.set("2026-10-13T09:00:00Z")
    acknowledged = rebates.acknowledge_dispute(ledger.rt, FINANCE, dispute["dispute_id"])
    assert acknowledged["deadlines"]["decide_by"] == "2026-11-02T10:00:00.000Z"  # the acknowledgement moves nothing


# --- PA-9.2 with SOP-5.4: severity-1 hours beyond the allowance ----------------------------------------------------
NW_REGISTERED = "ptr_01JBNWPARTNER0000000000002"  # Registered: "Registered 10 hours" a Quarter (PA-9.2)
CT_AUTHORIZED = "ptr_01JBCTSPRT0000000000000011"


def _log(ledger, partner_id: str, hours: str, ticket: str, family: str, severity: int, **more) -> dict:  # type: ignore[no-untyped-def]
    data = {"partner_id": partner_id, "ticket_id": ticket, "family": family, "hours": hours,
            "performed_on": "2026-11-10", "severity": severity, **more}  # fmt: skip
    answer = ledger.bill("support.logged", data, occurred_at="2026-11-10T11:00:00Z")
    assert answer["status"] == "processed", answer
    return dict(answer)


def _overage_lines(ledger, partner_id: str) -> list[dict]:  # type: ignore[no-untyped-def]
    try:
        invoice = ledger.invoice(partner_id, "2026-11")
    except AssertionError:  # no invoice: nothing billed in the month
        return []
    return [ln for ln in invoice["lines"] if ln["kind"] == "support_overage"]


def _overage_cases(ledger, partner_id: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [c for c in ledger.exceptions()
            if c.get("category") == "support_hours_overage" and c.get("partner_id") == partner_id]


def test_pa_9_2_prevails_over_sop_5_4_severity_1_hours_beyond_the_allowance_are_not_billed_without_written_approval():
    """PA-9.2: "Registered 10 hours [...] Hours beyond the quarterly allowance are delivered only with the Partner's
    prior written approval and are billed at USD 150.00 per hour under the Northwind Billing & Service Operations
    SOP." SOP-5.4: "Severity 1 incidents are always worked; hours above the allowance for a severity 1 incident are
    billed as overage at USD 150.00 per hour". The Agreement names no severity-1 exception (contoso's CPA-9.2 does:
    "except for severity 1 incidents"), and PA-1.3 puts the Agreement (b) over the SOP (c): hours the Partner did not
    approve in writing beforehand are not billed, whatever the severity. They are a support_hours_overage exception
    for customer_success (SOP-4.1), as any unapproved overage (SOP-5.3: "not billed and is recorded as service
    leakage").

    Registered, 10.00 h severity 2 on 2026-11-10 (the allowance used), then 1.50 h severity 1 without approval: not
    billed (the product billed 1.50 x 150.00 = 225.00), an exception naming 1.50 h and PA-9.2. Then 0.75 h severity 1
    the Partner approved in writing: 0.75 x 150.00 = 112.50, billed and announced (SOP-5.4 "the Partner is notified
    within 1 business day")."""
    from memory_store import Ledger

    ledger = Ledger("2026-11-10T12:00:00Z")
    _log(ledger, NW_REGISTERED, "10.00", "TCK-A11-1", "networking", 2)
    answer = _log(ledger, NW_REGISTERED, "1.50", "TCK-A11-2", "networking", 1)
    assert _overage_lines(ledger, NW_REGISTERED) == []
    assert "not billed" in answer["reason"], answer
    (case,) = _overage_cases(ledger, NW_REGISTERED)
    assert case["queue"] == "customer_success" and case["context"]["overage_hours"] == "1.50"
    cited = {(r["rule_id"], r["clause"]) for r in case["reasons"]}
    assert ("BILL-SUPPORT-OVERAGE-APPROVAL", "PA-9.2") in cited
    assert "prior written approval" in case["context"]["message"]
    _log(ledger, NW_REGISTERED, "0.75", "TCK-A11-3", "networking", 1, overage_approved=True)
    (line,) = _overage_lines(ledger, NW_REGISTERED)
    assert (line["order_ref"], Decimal(line["quantity"]), line["amount"]) == ("TCK-A11-3", Decimal("0.75"), "112.50")
    notices = [e["detail"] for e in ledger.rt.publisher.published  # type: ignore[attr-defined]
               if e["detail_type"] == "support.overage_billed"]
    assert [(n["ticket_id"], n["amount"]) for n in notices] == [("TCK-A11-3", "112.50")]


def test_cpa_9_2_contoso_bills_severity_1_hours_beyond_the_allowance_without_approval():
    """CPA-9.2: "Hours above the allowance are provided only with the Partner's prior written approval, except for
    severity 1 incidents, and are billed at EUR 130.00 per hour"; COP-5.4 says the same. Authorized 8 h: 8.00 h, then
    2.00 h severity 1 without approval: 2.00 x 130.00 = 260.00 billed, no exception."""
    from memory_store import Ledger
    from revgov.ports import Changes, Put

    ledger = Ledger("2026-11-10T12:00:00Z", tenant="contoso")
    partner = {"partner_id": CT_AUTHORIZED, "legal_name": "Eleventh Round GmbH", "partner_type": "reseller",
               "status": "active", "tier": "authorized", "country": "DE", "activated_at": "2025-01-01T00:00:00Z",
               "certifications": {}}  # fmt: skip
    ledger.rt.store.commit("contoso", Changes(puts=[Put("PARTNER", CT_AUTHORIZED, partner)]))
    _log(ledger, CT_AUTHORIZED, "8.00", "TCK-A11-C1", "devices", 2)
    _log(ledger, CT_AUTHORIZED, "2.00", "TCK-A11-C2", "devices", 1)
    (line,) = _overage_lines(ledger, CT_AUTHORIZED)
    assert (Decimal(line["quantity"]), line["amount"]) == (Decimal("2.00"), "260.00")
    assert _overage_cases(ledger, CT_AUTHORIZED) == []


# --- PA-5.3 / CPA-5.2: the exclusivity period's last day ------------------------------------------------------------
def _policy(tenant: str) -> dict:  # type: ignore[type-arg]
    from revgov.tenant_files import load_tenant_file
    from support import ROOT

    return dict(load_tenant_file(ROOT / "tenants" / tenant / "tenant.yaml")["policy"])


def _pending(partner_id: str, family: str) -> dict:  # type: ignore[type-arg]
    return {"deal_id": "dl_A11", "partner_id": partner_id, "family": family, "status": "pending",
            "customer": {"id": "CUST-A11", "name": "Eleventh Round Inc"}, "registered_at": "2026-11-09T10:00:00.000Z"}


def test_pa_5_3_exclusivity_runs_90_days_from_the_approval_date_to_the_end_of_its_last_day():
    """PA-5.3: "An approved registration gives the Partner exclusivity for the registered Customer and Product Family
    for 90 days from the approval date." PA-1.3: "a day runs from 00:00:00 to 23:59:59 UTC". Days count from the day
    after the approval date (as PA-6.1's "30 days from its issue date" is read, domain/quote_validity.py): approved on
    2026-11-10 at 15:00 UTC, day 1 is 2026-11-11 and day 90 is 2027-02-08 (20 days of November, 31 of December, 31 of
    January, 8 of February), exclusive through 2027-02-08 23:59:59. The product ended it at 15:00 on 2027-02-08: from
    then the registration discount (PA-5.6 "during the exclusivity period") was gone and a rival's registration could
    be approved (PA-5.5 "conflicts with an approved, unexpired registration") on the period's last day. An extension
    (PA-5.3 "one extension of 30 days") runs on from that end: through 2027-03-10 23:59:59."""
    from revgov.domain import deal_extensions, deals

    policy = _policy("northwind")
    approved = deals.decided(_pending("ptr_A", "networking"), "approved", "2026-11-10T15:00:00.000Z", policy)
    assert approved["expires_at"] == "2027-02-08T23:59:59.999Z"
    for last_day in ("2027-02-08T15:00:00.000Z", "2027-02-08T23:59:59.999Z"):
        assert deals.in_period(approved, last_day) and deals.discounted(policy, approved, last_day), last_day
        assert deals.conflict(policy, approved, "ptr_B") is not None  # a rival is refused, told 2027-02-08
    assert not deals.is_live(approved, "2027-02-09T00:00:00.000Z")
    accepted = deals.order_problem(policy, approved, "2027-02-08T20:00:00Z", "2027-02-09T09:00:00.000Z")
    assert accepted is None  # an order accepted on the last day keeps the registration (PA-5.3)
    pending = {**approved, "extension": {"days": 30, "status": "pending"}}
    extended = deal_extensions.extension_decided(pending, "approved", "2027-02-01T10:00:00.000Z", "proposal stage")
    assert extended["expires_at"] == "2027-03-10T23:59:59.999Z"


def test_cpa_5_2_protection_runs_60_days_from_approval_to_the_end_of_its_last_day():
    """CPA-5.2: "An approved registration protects the Partner for 60 days from approval"; CPA-1.3: "a day runs from
    00:00:00 to 23:59:59 UTC". Approved 2026-11-10 15:00 UTC: day 1 is 2026-11-11, day 60 is 2027-01-09 (20 + 31 +
    9): protected through 2027-01-09 23:59:59 (the product: until 15:00 that day)."""
    from revgov.domain import deals

    policy = _policy("contoso")
    approved = deals.decided(_pending("ptr_A", "devices"), "approved", "2026-11-10T15:00:00.000Z", policy)
    assert approved["expires_at"] == "2027-01-09T23:59:59.999Z"
    assert deals.in_period(approved, "2027-01-09T18:00:00.000Z")
    assert not deals.in_period(approved, "2027-01-10T00:00:00.000Z")
