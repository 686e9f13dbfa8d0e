"""Reviewer round 4: Northwind's support obligations, suspension and cure, the seed's KPI table and the
tamper-evident audit, over HTTP on a party tenant of northwind's configuration (make_party: two active Silver
resellers holding cert-network-core, PA-3.3), so background activity of the shared tenants changes none of the
counts. Every figure is computed by hand from the clause, the seed or API.md, quoted in the test's docstring; dates
are read from the stack's clock when the test runs.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from reviewer_support import instant, partner_document, party_fixture, party_today, quote_body

from billing_support import erp_event, wait_until
from support import assert_problem

pytestmark = pytest.mark.stack


party = party_fixture("northwind")
SWITCH = "NW-SW-24P"  # the SKU every quote of this module prices, two units of it
AS_QUOTED = {"quantity": 2, "customer": "Cascade Freight Inc"}


def _processed(party: Any, sent: Any) -> str:
    assert sent.status_code == 202, sent.text
    event_id = str(sent.json()["event_id"])
    wait_until(lambda: party.admin.get(f"/v1/events/{event_id}").json()["status"] in ("processed", "failed"), 60,
               what=event_id)
    assert party.admin.get(f"/v1/events/{event_id}").json()["status"] == "processed", event_id
    return event_id


def _support(party: Any, partner_id: str, hours: str, severity: int, family: str = "networking",
             **approved: bool) -> str:
    now = party.rt.clock.now_iso()
    return _processed(party, party.erp.post(erp_event("support.logged", {
        "partner_id": partner_id, "ticket_id": f"TCK-RV4-{uuid.uuid4().hex[:6]}", "family": family, "hours": hours,
        "performed_on": now[:10], "severity": severity, **approved}, occurred_at=now[:19] + "Z")))


def _lines(party: Any, partner_id: str) -> list[dict[str, Any]]:
    finance = party.by_role["finance"]
    invoices = finance.get("/v1/invoices", partner_id=partner_id, limit=200).json()["items"]
    return [ln for i in invoices for ln in finance.get(f"/v1/invoices/{i['invoice_id']}").json()["lines"]]


def _overage(party: Any, partner_id: str) -> list[dict[str, Any]]:
    return [ln for ln in _lines(party, partner_id) if ln.get("sku") == "NW-SUPPORT-OVERAGE"]


def test_a_severity_1_incident_beyond_forty_silver_hours_is_billed_at_usd_150_that_month(party):
    """A Silver partner has 40 support hours a Quarter (PA-3.3, PA-9.2). 32.00 h of severity 2 work (80 %: SOP-5.4's
    notice, no charge), then a severity 1 incident of 9.25 h: 41.25 used, 1.25 beyond the allowance. SOP-5.4:
    "Severity 1 incidents are always worked; hours above the allowance for a severity 1 incident are billed as
    overage at USD 150.00 per hour [...] on the monthly invoice for the month in which they were performed":
    1.25 x 150.00 = USD 187.50, SKU NW-SUPPORT-OVERAGE, with the Partner's prior written approval (PA-9.2 "delivered
    only with the Partner's prior written approval" names no severity-1 exception and prevails over SOP-5.4, PA-1.3:
    clause audit, eleventh round). The 15-minute increments of PA-9.2 / SOP-5.2 are the ERP's to log: 9.10 h is
    refused at the webhook and nothing is billed for it."""
    p0 = party.partners[0]
    _support(party, p0, "32.00", 2)
    assert _overage(party, p0) == []
    now = party.rt.clock.now_iso()
    odd = party.erp.post(erp_event("support.logged", {
        "partner_id": p0, "ticket_id": "TCK-RV4-ODD", "family": "networking", "hours": "9.10",
        "performed_on": now[:10], "severity": 1}, occurred_at=now[:19] + "Z"))
    assert odd.status_code == 400, odd.text
    assert "hours" in odd.text, odd.text
    _support(party, p0, "9.25", 1, overage_approved=True)
    wait_until(lambda: len(_overage(party, p0)) == 1, 60, what="overage line")
    (line,) = _overage(party, p0)
    assert (Decimal(line["quantity"]), line["unit_price"], line["amount"]) == (Decimal("1.25"), "150.00", "187.50")
    month = now[:7]
    assert line["service_period"] is None or str(line["service_period"]).find(month) >= 0, line


def test_a_suspension_states_its_reason_stops_new_business_keeps_reads_and_is_lifted_when_cured(party):
    """PA-13.2: the Distributor "may suspend a Partner from new quotes, orders, deal registrations and incentive
    accrual [...] where [...] (c) any amount is more than 60 days overdue [...] A suspension states its reason and the
    clause relied on, and is lifted when the reason is cured." PA-9.6: "A suspended Partner keeps read-only access to
    its statements and documents."

    Finance suspends P0 for an amount 61 days overdue. Then: the partner record is suspended with that reason and
    the clause (PTR-SUSPENSION, PA-13.2), also when the reason's words name no clause; P0's
    own quote is denied citing PA-13.2; its deal registration is refused; MDF is withheld (entitlement mdf_eligible
    false, PA-13.2 "incentive accrual"); P0 still reads its partner record and its invoices. Its rival P1 is
    untouched (allow). Reinstated once paid, P0's quote of the same line is allowed again and MDF is back (Silver,
    PA-3.3 / PA-9.5: 2 %)."""
    p0, p1 = party.partners
    own = party.partner_keys[p0]
    finance = party.by_role["finance"]
    reason = "invoice NW-INV-0042 is 61 days overdue"
    suspended = finance.post(f"/v1/partners/{p0}/suspend", {"reason": reason})
    assert suspended.status_code == 200, suspended.text
    record = own.get(f"/v1/partners/{p0}")
    assert record.status_code == 200, record.text
    assert record.json()["status"] == "suspended", record.json()
    # "A suspension states its reason and the clause relied on": the step the partner reads names both, whatever
    # words the reason is given in
    step = record.json()["history"][-1]
    assert (step["to"], step["reason"], step.get("clause"), step.get("rule_id")) == (
        "suspended", reason, "PA-13.2", "PTR-SUSPENSION"), step

    quote = own.post("/v1/pricing/check", quote_body(p0, SWITCH, "5.00", **AS_QUOTED))
    assert quote.status_code == 200, quote.text
    assert quote.json()["outcome"] == "deny", quote.json()
    assert "PA-13.2" in {r["clause"] for r in quote.json()["reasons"]}, quote.json()["reasons"]
    today = party_today(party)
    deal = own.post("/v1/deals", {"partner_id": p0, "customer": {"id": f"CUST-{uuid.uuid4().hex[:8]}",
                                                                "name": "Cascade", "contact": "Kim Park"},
                                  "family": "networking", "estimated_value": "60000.00",
                                  "expected_close": (today + timedelta(days=60)).isoformat()})
    assert 400 <= deal.status_code < 500, deal.text
    mdf = finance.get(f"/v1/partners/{p0}/entitlements/mdf_eligible").json()
    assert mdf["entitled"] is False, mdf
    assert own.get("/v1/invoices", partner_id=p0).status_code == 200
    rival = party.partner_keys[p1].post("/v1/pricing/check", quote_body(p1, SWITCH, "5.00", **AS_QUOTED)).json()
    assert rival["outcome"] == "allow", rival

    lifted = finance.post(f"/v1/partners/{p0}/reinstate", {"reason": "overdue amount paid in full"})
    assert lifted.status_code == 200, lifted.text
    reinstated = own.get(f"/v1/partners/{p0}").json()
    assert reinstated["status"] == "active"
    step = reinstated["history"][-1]
    assert (step["to"], step.get("clause")) == ("active", "PA-13.2"), step  # "is lifted when the reason is cured"
    again = own.post("/v1/pricing/check", quote_body(p0, SWITCH, "5.00", **AS_QUOTED)).json()
    assert again["outcome"] == "allow", again
    back = finance.get(f"/v1/partners/{p0}/entitlements/mdf_percent").json()
    assert Decimal(str(back["value"])) == 2, back


def test_the_seed_kpis_of_one_month_from_four_quotes_a_shipment_and_support(party):
    """The seed's KPI table, for this month, tier silver (both party partners are Silver):

    Quotes on NW-SW-24P (List 1,250.00, Line Cost 900.00; Silver networking cap 10 %, PA-6.2), each 2 units:
      A  5 %: allow.                                               exceptions 0
      B 12 %: above the cap (PA-6.6(a)); margin (1,100 - 900) / 1,100 = 18.2 %.            1 (tier cap)
      C 26 %: above the cap, above 25 % (PA-6.6(b)), margin (925 - 900) / 925 = 2.7 % < 12 % (PA-6.3 / 6.6(c)).
                                                                   3 (SOP-4.1: one exception per category)
      D 0 %: allow.                                                exceptions 0
    One shipment of 2 x NW-SW-24P (billed at List Price, no quote named): revenue 2,500.00, cost 1,800.00.
    Support: 5.00 h, severity 3, within the 40 h allowance (not billed).

    * Policy exceptions per 100 transactions (transactions = quotes checked + ERP events billed, API docs/kpis):
      4 exceptions x 100 / (4 quotes + 1 shipment) = 80.00.
    * Override rate: 2 of 4 quotes needed an approval = 50.00 %.
    * Net realized margin by tier (silver): (2,500.00 - 1,800.00 - 0.00 rebates) / 2,500.00 = 28.00 % (the month
      holds no whole Quarter; the Silver volume rebate of PA-7.2 is 0 % below 100,000.00 anyway; no SPIFF on a
      switch, PA-7.5).
    * Support hours per revenue dollar: 5.00 / 2,500.00 = 0.00200000; per 1,000: 2.0000.
    * Threshold attainment: Silver's commitment paced to the month, 250,000.00 / 12 = 20,833.33 (PA-3.3), and
      PA-7.2's first level scaled to a month, 100,000.00 / 3 = 33,333.33; the 2 Silver partners are measured, none
      reaches either. Attainments P0 2,500.00 / 20,833.33 = 12.00 %, P1 0.00 %: the median of two values is their
      mean, 6.00 %; against 33,333.33: 7.50 % and 0.00 %, median 3.75 %.
    * Invoice cycle time: the shipment occurred now and is posted within the hour: p50 = p90 = 1 h (bucket edge),
      100.00 % within the 48 h SLA (PA-10.7, SOP-2.1), no breach."""

    p0, p1 = party.partners
    sales = party.by_role["sales"]
    outcomes = []
    for partner, discount in ((p0, "5.00"), (p1, "12.00"), (p0, "26.00"), (p1, "0.00")):
        checked = sales.post("/v1/pricing/check", quote_body(partner, SWITCH, discount, **AS_QUOTED))
        assert checked.status_code == 200, checked.text
        outcomes.append((checked.json()["outcome"], len(checked.json()["approvals"])))
    assert outcomes == [("allow", 0), ("approval_required", 1), ("approval_required", 3), ("allow", 0)], outcomes

    now = party.rt.clock.now_iso()
    shipped = party.erp.post(party.erp.located(erp_event("shipment.confirmed", {
        "partner_id": p0, "order_ref": f"SO-RV4-{uuid.uuid4().hex[:6]}", "shipped_on": now[:10],
        "lines": [{"sku": "NW-SW-24P", "quantity": 2}]}, occurred_at=now[:19] + "Z")))
    _processed(party, shipped)
    wait_until(lambda: any(ln.get("sku") == "NW-SW-24P" for ln in _lines(party, p0)), 60, what="shipment line")
    (line,) = [ln for ln in _lines(party, p0) if ln.get("sku") == "NW-SW-24P"]
    assert (line["amount"], line["cost"]) == ("2500.00", "1800.00"), line
    _support(party, p1, "5.00", 3)

    month = now[:7]

    def kpis() -> dict[str, Any]:
        answer = party.by_role["finance"].get("/v1/kpis", period=month)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def settled() -> bool:
        k = kpis()
        return (k["policy_exceptions_per_100_transactions"]["transactions"] == 5
                and k["support_hours_per_revenue_dollar"]["support_hours"] == "5.00"
                and k["invoice_cycle_time"]["events"] == 1)

    wait_until(settled, 60, what=kpis)
    k = kpis()
    exceptions = k["policy_exceptions_per_100_transactions"]
    assert (exceptions["exceptions"], exceptions["quotes_checked"], exceptions["erp_events_billed"],
            exceptions["per_100_transactions"]) == (4, 4, 1, "80.00"), exceptions
    overrides = k["overrides_and_approvals"]
    assert (overrides["quotes_needing_approval"], overrides["override_rate_percent"]) == (2, "50.00"), overrides
    margin = k["net_realized_margin"]
    assert (margin["revenue"], margin["cost"], margin["rebates_deducted"], margin["net_margin"],
            margin["net_margin_percent"]) == ("2500.00", "1800.00", "0.00", "700.00", "28.00"), margin
    (silver,) = [t for t in margin["by_tier"] if t["tier"] == "silver"]
    assert silver["net_margin_percent"] == "28.00", silver
    support = k["support_hours_per_revenue_dollar"]
    assert (support["hours_per_revenue_dollar"], support["hours_per_1000_revenue"]) == ("0.00200000", "2.0000"), support
    rows = {(t["program_id"], t["level"]): t for t in k["threshold_attainment"]["thresholds"]}
    pace = rows[("TIER-SILVER", "1/12 of 250000.00")]
    assert (pace["threshold"], pace["partners"], pace["reached"], pace["median_attainment_percent"]) == (
        "20833.33", 2, 0, "6.00"), pace
    volume = rows[("RBT-VOLUME", "1.0%")]
    assert (volume["threshold"], volume["partners"], volume["reached"], volume["median_attainment_percent"]) == (
        "33333.33", 2, 0, "3.75"), volume
    cycle = k["invoice_cycle_time"]
    assert (cycle["p50_hours"], cycle["p90_hours"], cycle["sla_hours"], cycle["within_sla_percent"],
            cycle["sla_breaches"]) == (1, 1, 48, "100.00", 0), cycle


def test_an_edited_approval_record_breaks_the_audit_chain_at_that_record(party, stack):
    """API.md: `GET /v1/audit/verify` -> {records, valid, first_invalid}; the seed asks for "immutable audit logs for
    every automated decision, data source, approval action". A quote needing channel ops' approval is approved with
    the note "PA-6.6(a) strategic account"; the chain verifies. Someone with table access then edits that decision's
    audit record (the note now reads "waived"): verify answers valid false and names that record's seq as the first
    invalid one; the records before it still hold (first_invalid is not an earlier one)."""
    from engine_support import overwrite, raw_data

    p0 = party.partners[0]
    checked = party.by_role["sales"].post("/v1/pricing/check", quote_body(p0, SWITCH, "12.00", **AS_QUOTED)).json()
    (approval,) = checked["approvals"]
    note = "PA-6.6(a) strategic account"
    decided = party.by_role["channel_ops"].post(f"/v1/approvals/{approval['approval_id']}/decision",
                                                {"outcome": "approved", "note": note})
    assert decided.status_code == 200, decided.text
    finance = party.by_role["finance"]
    assert finance.get("/v1/audit/verify").json()["valid"] is True
    trail = finance.get("/v1/audit", subject=approval["approval_id"], limit=200).json()["items"]
    decided_records = [r for r in trail if note in str(r.get("inputs")) or note in str(r.get("outcome"))]
    assert decided_records, trail
    seq = decided_records[0]["seq"]
    key = f"R#{seq:012d}"
    data = raw_data(party.rt, party.tenant_id, "AUDIT", key)
    assert note in data, data[:300]
    overwrite(party.rt, party.tenant_id, "AUDIT", key, data.replace(note, "waived"))
    verdict = finance.get("/v1/audit/verify").json()
    assert verdict["valid"] is False and verdict["first_invalid"]["seq"] == seq, verdict
    assert_problem(party.partner_keys[p0].get("/v1/audit/verify"), 403)


def test_an_msp_needs_two_million_of_cover_and_a_security_attestation_of_the_last_twelve_months(party, api):
    """PA-2.4: "an MSP must provide: (a) a certificate of professional liability (errors and omissions) insurance of at
    least USD 2,000,000.00 per claim; (b) a certificate of cyber liability insurance of at least USD 2,000,000.00 per
    claim; (c) a current independent security attestation [...] issued or renewed within the previous 12 months; and
    (d) the name of a named operations contact reachable 24x7". PA-2.2(a)-(d) for every partner.
    * A professional liability certificate of 1,999,999.99 is refused naming /coverage_amount; 2,000,000.00 is taken.
    * With an attestation issued 13 months ago (beyond "the previous 12 months") the submit leaves the MSP pending
      documents, the gap naming security_attestation and PA-2.4.
    * An attestation issued 2 months ago completes the file: pending approval (PA-2.9), the MSP applying at
      Registered (no certification, PA-3.2)."""
    today = party_today(party)
    ops = party.by_role["channel_ops"]
    created = ops.post("/v1/partners", {
        "legal_name": f"Harborline Managed IT {uuid.uuid4().hex[:6]}", "partner_type": "msp",
        "requested_tier": "registered", "terms": {"annual_commitment": "0.00", "payment_terms_days": 30},
        "contact": {"name": "Dana Ruiz", "email": "dana@harborline.example"}})
    assert created.status_code == 201, created.text
    partner_id = created.json()["partner_id"]
    first = ops.post(f"/v1/partners/{partner_id}/submit", {}).json()
    names = {m["name"] for m in first["missing"] if m.get("kind") == "document"}
    assert {"professional_liability_insurance", "cyber_liability_insurance", "security_attestation",
            "operations_contact"} <= names, first["missing"]
    month_ago = today - timedelta(days=30)
    cover = {"expires_at": (today + timedelta(days=300)).isoformat()}
    low = ops.post(f"/v1/partners/{partner_id}/documents",
                   partner_document("professional_liability_insurance", month_ago, coverage_amount="1999999.99",
                                    **cover))
    refused = assert_problem(low, 422)
    assert "/coverage_amount" in str(refused), refused
    extras = {"insurance_certificate": {**cover, "coverage_amount": "1000000.00"},
              "professional_liability_insurance": {**cover, "coverage_amount": "2000000.00"},
              "cyber_liability_insurance": {**cover, "coverage_amount": "2000000.00"},
              "compliance_screening": {"outcome": "clear"}}
    for kind in sorted(names - {"security_attestation"}):
        filed = ops.post(f"/v1/partners/{partner_id}/documents",
                         partner_document(kind, month_ago, **extras.get(kind, {})))
        assert filed.status_code == 201, (kind, filed.text)
    stale = ops.post(f"/v1/partners/{partner_id}/documents",
                     partner_document("security_attestation", today - timedelta(days=400)))
    assert stale.status_code in (201, 422), stale.text
    gapped = ops.post(f"/v1/partners/{partner_id}/submit", {}).json()
    assert gapped["outcome"] == "pending_documents", gapped
    gaps = [m for m in gapped["missing"] if m.get("name") == "security_attestation"]
    assert gaps and gaps[0]["clause"] == "PA-2.4", gapped["missing"]
    fresh = ops.post(f"/v1/partners/{partner_id}/documents",
                     partner_document("security_attestation", today - timedelta(days=60)))
    assert fresh.status_code == 201, fresh.text
    done = ops.post(f"/v1/partners/{partner_id}/submit", {}).json()
    assert done["outcome"] == "pending_approval" and done["missing"] == [], done


def test_an_entry_straddling_the_allowance_is_leakage_only_beyond_it(party):
    """PA-9.2: Silver 40 hours a Quarter; "Hours beyond the quarterly allowance are delivered only with the Partner's
    prior written approval". SOP-5.4: "When 100% is used, further non-severity-1 work stops until the Partner
    approves overage in writing"; SOP-5.3: support beyond the quarterly hours without an accepted change order "is
    not billed and is recorded as service leakage for the support economics KPI". SOP-4.1: support_hours_overage ->
    customer_success, 8 h.
    P1 logs 39.00 h (severity 3), then 2.00 h (severity 2) without approval: 1.00 h is still included, 1.00 h is
    beyond: one support_hours_overage exception, nothing billed, service leakage 1.00 h (not 2.00). Then a severity 1
    hour approved in writing (PA-9.2, which prevails over SOP-5.4 under PA-1.3): all of it beyond, billed 1.00 x
    150.00 = USD 150.00 (SOP-5.4)."""
    p1 = party.partners[1]
    _support(party, p1, "39.00", 3)
    _support(party, p1, "2.00", 2)
    cs = party.by_role["customer_success"]

    def cases() -> list[dict[str, Any]]:
        items = cs.get("/v1/exceptions", queue="customer_success", limit=200).json()["items"]
        return [e for e in items if e["category"] == "support_hours_overage" and e.get("partner_id") == p1]

    wait_until(lambda: len(cases()) == 1, 60, what="overage exception")
    (case,) = cases()
    assert instant(case["due_at"]) - instant(case["opened_at"]) == timedelta(hours=8), case
    assert _overage(party, p1) == []
    month = party.rt.clock.now_iso()[:7]

    def support() -> dict[str, Any]:
        return dict(party.by_role["finance"].get("/v1/kpis", period=month, partner_id=p1).json()
                    ["support_hours_per_revenue_dollar"])

    wait_until(lambda: support()["support_hours"] == "41.00", 60, what=support)
    assert (support()["out_of_scope_requests"], support()["service_leakage_hours"]) == (1, "1.00"), support()
    _support(party, p1, "1.00", 1, overage_approved=True)
    wait_until(lambda: len(_overage(party, p1)) == 1, 60, what="severity 1 line")
    assert _overage(party, p1)[0]["amount"] == "150.00", _overage(party, p1)


def test_northwind_escalates_to_the_head_after_twice_the_sla_not_one_and_a_half(party):
    """SOP-4.2: "When 75% of an exception's SLA has elapsed, the queue is notified. When the SLA is breached, the
    exception is escalated to the queue lead [...]; after twice the SLA it is escalated to the head of the owning
    team" (contoso's COP-4.2 says 150 %). A Silver networking line at 26 % (NW-SW-24P, net 925.00, margin 2.7 %):
    discount_above_tier_cap -> channel_ops 8 h: +6 h / +8 h / +16 h; discount_above_finance_threshold and
    margin_below_floor -> finance 16 h: +12 h / +16 h / +32 h (SOP-4.1)."""
    p0 = party.partners[0]
    checked = party.by_role["sales"].post("/v1/pricing/check", quote_body(p0, SWITCH, "26.00", **AS_QUOTED)).json()
    expected = {"discount_above_tier_cap": ("channel_ops", 8), "discount_above_finance_threshold": ("finance", 16),
                "margin_below_floor": ("finance", 16)}
    assert sorted(a["category"] for a in checked["approvals"]) == sorted(expected), checked["approvals"]
    for approval in checked["approvals"]:
        queue, sla = expected[approval["category"]]
        case = party.admin.get(f"/v1/approvals/{approval['approval_id']}").json()
        entered = instant(case.get("entered_at") or case["opened_at"])
        escalation = case["escalation"]
        assert (case["queue"], escalation["clause"]) == (queue, "SOP-4.2"), case
        assert [instant(escalation[k]) - entered for k in ("remind_at", "lead_at", "head_at")] == [
            timedelta(hours=sla * 3 / 4), timedelta(hours=sla), timedelta(hours=2 * sla)], (approval, escalation)


def test_bad_suspensions_change_nothing(party):
    """API.md: bad input is a problem+json naming the field, nothing changed; 409 a state conflict; a partner key
    never suspends (PA-13.2: "The Distributor may suspend"). A reason under 3 characters: 400 naming /reason; an
    unknown field (`clause`: server-owned, the rule's): 400; reinstating an active partner: 409; a partner key: 403;
    suspending twice: 409 the second time. After all of them one suspension step is on the record."""
    p0 = party.partners[0]
    finance = party.by_role["finance"]
    short = assert_problem(finance.post(f"/v1/partners/{p0}/suspend", {"reason": "no"}), 400)
    assert any(e["path"] == "/reason" for e in short["errors"]), short
    assert_problem(finance.post(f"/v1/partners/{p0}/suspend", {"reason": "overdue 61 days", "clause": "PA-1.1"}), 400)
    assert_problem(finance.post(f"/v1/partners/{p0}/reinstate", {"reason": "nothing to lift"}), 409)
    assert_problem(party.partner_keys[p0].post(f"/v1/partners/{p0}/suspend", {"reason": "suspend myself"}), 403)
    assert ops_status(party, p0) == "active"
    assert finance.post(f"/v1/partners/{p0}/suspend", {"reason": "overdue 61 days"}).status_code == 200
    assert_problem(finance.post(f"/v1/partners/{p0}/suspend", {"reason": "overdue 62 days"}), 409)
    history = party.by_role["channel_ops"].get(f"/v1/partners/{p0}").json()["history"]
    assert [s["to"] for s in history].count("suspended") == 1, history


def ops_status(party: Any, partner_id: str) -> str:
    return str(party.by_role["channel_ops"].get(f"/v1/partners/{partner_id}").json()["status"])


def test_a_partner_reads_its_own_kpis_without_the_distributors_cost_or_margin(party):
    """API.md: "a partner never sees another partner's identity, prices or registrations, nor the distributor's
    costs and margins"; docs/kpis.md: a partner key reads only its own figures (`partner_id` its own, else 404;
    `tier` 403). P0 ships 2 x NW-SW-24P (2,500.00 revenue, 1,800.00 cost): its key reads its revenue 2,500.00 and
    its support figures, but no cost, margin or rebates deducted anywhere in the answer; P1's id is a 404 with the
    body of an unknown partner's; tier=silver is a 403."""
    from security_support import random_id

    p0, p1 = party.partners
    own = party.partner_keys[p0]
    now = party.rt.clock.now_iso()
    _processed(party, party.erp.post(party.erp.located(erp_event("shipment.confirmed", {
        "partner_id": p0, "order_ref": f"SO-RV4-{uuid.uuid4().hex[:6]}", "shipped_on": now[:10],
        "lines": [{"sku": "NW-SW-24P", "quantity": 2}]}, occurred_at=now[:19] + "Z"))))
    month = now[:7]

    def mine() -> dict[str, Any]:
        answer = own.get("/v1/kpis", period=month, partner_id=p0)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    wait_until(lambda: (mine().get("support_hours_per_revenue_dollar") or {}).get("revenue") == "2500.00", 60,
               what=mine)
    text = str(mine())
    for hidden in ("1800.00", "700.00", "28.00", "net_margin", "'cost'", "rebates_deducted"):
        assert hidden not in text, (hidden, text[:2000])
    rival, unknown = own.get("/v1/kpis", period=month, partner_id=p1), own.get(
        "/v1/kpis", period=month, partner_id=random_id("ptr"))
    assert (rival.status_code, unknown.status_code) == (404, 404), (rival.text, unknown.text)
    assert rival.json()["title"] == unknown.json()["title"], (rival.text, unknown.text)
    legal_name = party.by_role["channel_ops"].get(f"/v1/partners/{p1}").json()["legal_name"]
    assert legal_name not in rival.text, rival.text
    assert_problem(own.get("/v1/kpis", period=month, tier="silver"), 403)
