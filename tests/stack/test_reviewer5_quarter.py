"""Reviewer round 5: a whole quarter of one fresh tenant over HTTP, every figure computed by hand from Northwind's
clauses (tenants/northwind/contracts/), the seed's tables (/work/shared/seeds/) and API.md. The scenario, its partners
and its events are described in tests/reviewer5_quarter.py; it runs once for this module (the clock moves forward to
the quarter's end, never back) and each test checks one part of it against the clause.

Hand arithmetic shared by the tests (list prices and unit costs of tenant.yaml's price list, PA-6.1 / PA-1.2):
  R (Registered)  invoiced 26,000.00                        cost 20,800.00
  S (Silver)      invoiced 177,000.00 - return 5,200.00   = 171,800.00;   cost 131,600.00 - 4,160.00 = 127,440.00
  G (Gold)        invoiced 524,000.00 + milestone 20,000.00 - credit 2,100.00 = 541,900.00;
                  cost 377,200.00 - 1,470.00 = 375,730.00 (the milestone carries no cost)
  tenant          26,000.00 + 171,800.00 + 541,900.00 = 739,700.00
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

import clock_support
from billing_support import erp_event, wait_until
from rebate_runs import settle_over_http
from reviewer5_quarter import Quarter, first_day_after_quarter, money, offboard, pct, quarter_of, run_quarter
from support import assert_problem

pytestmark = pytest.mark.stack

R_REVENUE, S_REVENUE, G_REVENUE = Decimal("26000.00"), Decimal("171800.00"), Decimal("541900.00")
R_COST, S_COST, G_COST = Decimal("20800.00"), Decimal("127440.00"), Decimal("375730.00")
G_MILESTONE = Decimal("20000.00")


@pytest.fixture(scope="module")
def quarter(api, operator, stack) -> Iterator[Quarter]:
    made = run_quarter(api, operator, stack)
    yield made
    offboard(made, stack)


def _tier(kpis: dict[str, Any], tier: str) -> dict[str, Any]:
    (found,) = [t for t in kpis["net_realized_margin"]["by_tier"] if t["tier"] == tier]
    return dict(found)


def _statement_lines(q: Quarter, letter: str) -> dict[str, dict[str, Any]]:
    read = q.finance.get(f"/v1/rebates/settlements/{q.settlement['settlement_id']}", partner_id=q.partners[letter])
    assert read.status_code == 200, read.text
    return {ln["program_id"]: ln for ln in read.json()["statement"]["lines"] if ln["kind"] == "settlement"}


def test_three_partners_onboarded_through_the_api_hold_their_tier_and_its_entitlements(quarter):
    """PA-3.2: Registered "requires no certification", "not eligible for deal registration", 10 support hours;
    PA-3.3 Silver (cert-network-core) 40 hours and deal registration; PA-3.4 Gold (cert-network-core,
    cert-security-pro) 80 hours (PA-9.2). Each was approved by a channel ops member other than the one who submitted it
    (PA-2.9), so three onboarding approvals were decided."""
    ops = quarter.roles["channel_ops"]
    for letter, tier, hours, dealreg in (("R", "registered", 10, False), ("S", "silver", 40, True),
                                         ("G", "gold", 80, True)):
        partner_id = quarter.partners[letter]
        partner = ops.get(f"/v1/partners/{partner_id}").json()
        assert (partner["status"], partner["tier"]) == ("active", tier), partner
        allowed = ops.get(f"/v1/partners/{partner_id}/entitlements/deal_registration").json()
        assert allowed["entitled"] is dealreg, (letter, allowed)
        included = ops.get(f"/v1/partners/{partner_id}/entitlements/max_support_hours_per_quarter").json()
        assert included["value"] == hours and included["clause"] == "PA-9.2", (letter, included)
    assert len(quarter.approvals) == 3
    for approval_id in quarter.approvals:
        approval = ops.get(f"/v1/approvals/{approval_id}").json()
        assert approval["status"] == "approved", approval


def test_quotes_raise_one_exception_per_category_on_its_queue_and_clock(quarter):
    """q1 S 8 % networking <= Silver 10 % (PA-6.2), margin (1,150.00 - 900.00) / 1,150.00 = 21.74 %: allowed.
    q2 S 12 % > 10 %: channel ops (PA-6.6(a)), SOP-4.1 discount_above_tier_cap, 8 h.
    q3 G 26 % networking: > Gold 15 % (channel ops, 8 h), > 25 % (PA-6.6(b) finance, discount_above_finance_threshold,
    16 h), Line Margin (1,554.00 - 1,470.00) / 1,554.00 = 5.41 % < 12 % (PA-6.3, margin_below_floor, 16 h): "split
    into one exception per category" (SOP-4.1), three approvals each due opened_at + its SLA hours (24x7, SOP-1.3).
    q4 R 0 % on NW-SRV-R2, margin (5,200.00 - 4,160.00) / 5,200.00 = 20 %: allowed."""
    q = quarter
    assert q.quotes["q1"]["outcome"] == "allow" and q.quotes["q4"]["outcome"] == "allow"
    assert [(a["category"], a["queue"]) for a in q.quotes["q2"]["approvals"]] == [
        ("discount_above_tier_cap", "channel_ops")]
    expected = {"discount_above_tier_cap": ("channel_ops", 8), "discount_above_finance_threshold": ("finance", 16),
                "margin_below_floor": ("finance", 16)}
    found = {a["category"]: a for a in q.quotes["q3"]["approvals"]}
    assert set(found) == set(expected), found
    assert {(r["rule_id"], r["clause"]) for r in q.quotes["q3"]["reasons"]} >= {
        ("PRC-TIER-CAPS", "PA-6.2"), ("PRC-FINANCE-THRESHOLD", "PA-6.6"), ("PRC-MARGIN-FLOOR", "PA-6.3")}
    for category, (queue, hours) in expected.items():
        approval = q.admin.get(f"/v1/approvals/{found[category]['approval_id']}").json()
        opened = datetime.fromisoformat(approval["opened_at"].replace("Z", "+00:00"))
        due = datetime.fromisoformat(approval["due_at"].replace("Z", "+00:00"))
        assert (approval["queue"], approval["sla_hours"], due - opened) == (queue, hours, timedelta(hours=hours))


def test_quote_approvals_are_decided_by_their_queues_never_by_the_partner_and_a_rejection_needs_a_reason(quarter):
    """SOP-4.3: "Partner users and automated service accounts may request but never approve an exception" (S's own
    key on q2: 403, q2 still pending until channel ops approves). SOP-4.4: "A rejection without a reason is not
    accepted" (400 or 422 naming the reason's field, the approval unchanged), "Each approval or rejection records
    the approver, their queue, the time, the decision, a reason". SOP-4.1: q3's request "is released only when every
    exception is approved": two of its three approved, the margin floor rejected, so the q3 decision is rejected
    while q2's is approved."""
    q = quarter
    assert_problem(q.decided["partner_self"], 403)
    # "Any attempt to self-approve is rejected and recorded in the audit log" (SOP-4.3): S's own key on its own q2
    q2 = q.quotes["q2"]["approvals"][0]["approval_id"]
    attempts = [r for r in q.admin.get("/v1/audit", subject=q2).json()["items"]
                if r["action"] == "approval.decision_refused"]
    tried = [(r["actor_role"], r["inputs"]["attempted_outcome"], r["inputs"]["refusal"]) for r in attempts]
    assert tried == [("partner", "approved", "partner_decision")], attempts
    assert attempts[0]["clauses"] == ["SOP-4.3"], attempts
    # a rival's approval is one that does not exist for S's key (API.md: never confirm it exists)
    q3 = q.quotes["q3"]["approvals"][0]["approval_id"]
    rival = q.keys["S"].post(f"/v1/approvals/{q3}/decision", {"outcome": "approved", "note": "x"})
    unknown = q.keys["S"].post(f"/v1/approvals/{q3[:-4]}ZZZZ/decision", {"outcome": "approved", "note": "x"})
    assert (rival.status_code, unknown.status_code) == (404, 404), (rival.text, unknown.text)
    assert rival.json()["detail"].replace(q3, "ID") == unknown.json()["detail"].replace(f"{q3[:-4]}ZZZZ", "ID")
    for name in ("q2_cap", "q3_cap", "q3_finance", "q3_margin"):
        assert q.decided[name].status_code == 200, (name, q.decided[name].text)
    refused = q.decided["q3_margin_no_reason"]
    assert refused.status_code in (400, 422), refused.text
    assert any("note" in e["path"] or "reason" in e["path"] for e in refused.json().get("errors", [])), refused.text
    statuses = {}
    for name in ("q2", "q3"):
        for approval in q.quotes[name]["approvals"]:
            read = q.admin.get(f"/v1/approvals/{approval['approval_id']}").json()
            statuses[(name, approval["category"])] = read["status"]
            if read["status"] != "pending":
                decision = read["decision"]
                assert decision["by"] and (decision.get("note") or decision.get("reason")), read
    assert statuses == {("q2", "discount_above_tier_cap"): "approved", ("q3", "discount_above_tier_cap"): "approved",
                        ("q3", "discount_above_finance_threshold"): "approved",
                        ("q3", "margin_below_floor"): "rejected"}, statuses
    released = {name: q.admin.get(f"/v1/decisions/{q.quotes[name]['decision_id']}").json()["status"]
                for name in ("q2", "q3")}
    assert released == {"q2": "approved", "q3": "rejected"}, released


def test_a_rival_registration_of_the_registered_customer_is_rejected_with_the_end_date_only(quarter):
    """PA-5.3: exclusivity "for 90 days from the approval date"; PA-5.5: the conflicting registration "is rejected
    with reference to this clause, and the rejected Partner is told the date on which the conflicting exclusivity
    period ends but not the identity of the other Partner". S's registration approved on day D: G is refused (409)
    citing PA-5.5 and D + 90 days, without S's id, name or deal id."""
    q = quarter
    rival = q.deals["G"]
    body = assert_problem(rival, 409)
    approved_on = date.fromisoformat(str(q.deals["S_approved_at"])[:10])
    assert "PA-5.5" in rival.text and (approved_on + timedelta(days=90)).isoformat() in body["detail"], body
    legal_name = q.roles["channel_ops"].get(f"/v1/partners/{q.partners['S']}").json()["legal_name"]
    for secret in (q.partners["S"], legal_name, q.deals["S"]["deal_id"]):
        assert secret not in rival.text
    held = q.keys["S"].get(f"/v1/deals/{q.deals['S']['deal_id']}").json()
    assert held["status"] == "approved", held


def test_the_months_invoices_carry_each_event_once_with_credits_and_are_issued(quarter):
    """PA-10.1 one invoice per Partner per Billing Month, each line naming its event:
    R: 5 x 5,200.00 = 26,000.00. S: 125,000.00 + 52,000.00 - 5,200.00 (return, SOP-2.5 reason return) = 171,800.00.
    G: 420,000.00 + 104,000.00 + 20,000.00 (40 % x 50,000.00, PA-10.6 deployment) - 2,100.00 (billing error) =
    541,900.00. e7, S's shipment again under another ERP id, is held (PA-10.1, BILL-SHIPMENT-ONCE): no line, a
    duplicate_shipment exception for channel ops' triage (SOP-4.1 "matches no category goes to channel_ops"). All three
    issued by finance after the month (SOP-2.1)."""
    q = quarter
    for letter, total in (("R", R_REVENUE), ("S", S_REVENUE), ("G", G_REVENUE)):
        invoice = q.finance.get(f"/v1/invoices/{q.invoices[letter]}").json()
        assert (invoice["status"], invoice["period"], Decimal(invoice["total"])) == ("finalized", q.month, total)
    amounts = sorted(Decimal(ln["amount"]) for ln in q.lines("G"))
    assert amounts == [Decimal("-2100.00"), G_MILESTONE, Decimal("104000.00"), Decimal("420000.00")]
    again = q.admin.get(f"/v1/events/{q.events['e7']}").json()
    assert again["status"] == "failed" and again["became"]["invoice_lines"] == [], again
    triage = q.roles["channel_ops"].get("/v1/exceptions", queue="channel_ops", limit=200).json()["items"]
    (held,) = [e for e in triage if e["category"] == "duplicate_shipment"]
    assert held["partner_id"] == q.partners["S"], held


def test_a_credit_of_a_taxed_line_on_the_same_invoice_credits_its_sales_tax(quarter):
    """PA-10.1: "Taxes are calculated per line on the basis of the ship-to or service location and shown
    separately"; SOP-2.5: a credit note references "the original invoice and lines". The return of one NW-SRV-R2
    credits the line shipped to US-TX (6.25 %, tenant.yaml's table): -5,200.00 x 6.25 % = -325.00 of tax, as the
    charged line's 52,000.00 x 6.25 % = 3,250.00. S's issued invoice: tax 7,812.50 + 3,250.00 - 325.00 =
    10,737.50, gross 171,800.00 + 10,737.50 = 182,537.50. G's billing-error credit: -2,100.00 x 6.25 % = -131.25;
    tax 26,250.00 + 6,500.00 + 1,250.00 - 131.25 = 33,868.75, gross 575,768.75. (Before the fix the credit line
    showed no tax, "no ship-to or service location was reported for this line", and the invoices no tax total.)"""
    q = quarter
    for letter, credit_tax, tax, gross in (("S", "-325.00", "10737.50", "182537.50"),
                                          ("G", "-131.25", "33868.75", "575768.75")):
        invoice = q.finance.get(f"/v1/invoices/{q.invoices[letter]}").json()
        (credit,) = [ln for ln in invoice["lines"] if Decimal(ln["amount"]) < 0]
        assert (credit["tax"]["jurisdiction"], credit["tax"]["rate"], credit["tax"]["amount"]) == (
            "US-TX", "6.25", credit_tax), credit["tax"]
        assert invoice["totals"] == {"net": money({"S": S_REVENUE, "G": G_REVENUE}[letter]), "tax": tax,
                                     "gross": gross}, invoice["totals"]
        mine = q.keys[letter].get(f"/v1/invoices/{q.invoices[letter]}").json()
        assert mine["totals"] == invoice["totals"]
        # API.md: a partner never sees "the distributor's costs and margins" (S's switch line costs 90,000.00)
        assert all(ln.get("cost") is None for ln in mine["lines"]), mine["lines"]
        assert "90000.00" not in str(mine) and "127440.00" not in str(mine)


def test_the_quarter_settles_tiered_retroactive_volume_per_unit_spiff_and_no_growth_for_new_partners(quarter):
    """PA-7.2 tiered and retroactive, "the rate of the highest threshold reached applies to all Qualifying Revenue":
      S 171,800.00 (100,000.00-249,999.99) -> 1.0 % = 1,718.00; G 541,900.00 (500,000.00-999,999.99) -> 3.0 % =
      16,257.00 (the milestone is Invoiced Revenue for Services, PA-1.2; both credits net it, PA-1.2).
    PA-7.6 cap: lower of 5 % (S 8,590.00, G 27,095.00) and 150,000.00: not reached.
    PA-7.5 SPIFF 40.00 per SPIFF-eligible unit (NW-SRV-R2) "not returned within 30 days of shipment": R 5 -> 200.00
      (Registered earn it, PA-3.2), S 10 - 1 returned = 9 -> 360.00, G 20 -> 800.00.
    PA-7.4: "No growth rebate is earned for any Quarter up to and including the Partner's first full Quarter": 0.00,
      its basis without the SPIFF lines (PA-7.7(b)): S 171,800.00 - 9 x 5,200.00 = 125,000.00, G 541,900.00 -
      104,000.00 = 437,900.00.
    PA-3.2: R does "not participate in the quarterly volume or growth rebates": only the SPIFF.
    Totals: R 200.00, S 2,078.00, G 17,057.00; the run 19,335.00, prepared by one finance member, approved by another
    (SOP-7.2), statement lines citing their clauses (PA-7.8)."""
    q = quarter
    settled = q.settlement
    assert settled["status"] == "settled" and settled["period"] == q.period
    assert settled["prepared_by_key"] != settled["approved_by"].split(":")[-1]
    totals = {p["partner_id"]: p["total"] for p in settled["partners"]}
    assert totals == {q.partners["R"]: "200.00", q.partners["S"]: "2078.00", q.partners["G"]: "17057.00"}
    assert settled["totals"]["payable"] == "19335.00"
    r, s, g = (_statement_lines(q, letter) for letter in "RSG")
    assert set(r) == {"RBT-HW-SPIFF"} and (r["RBT-HW-SPIFF"]["units"], r["RBT-HW-SPIFF"]["amount"]) == (5, "200.00")
    for lines, basis, rate, volume, units, spiff, growth_basis in (
            (s, S_REVENUE, "1.0%", "1718.00", 9, "360.00", "125000.00"),
            (g, G_REVENUE, "3.0%", "16257.00", 20, "800.00", "437900.00")):
        assert (Decimal(lines["RBT-VOLUME"]["basis_revenue"]), lines["RBT-VOLUME"]["rate"],
                lines["RBT-VOLUME"]["amount"], lines["RBT-VOLUME"]["cap_reduction"]) == (basis, rate, volume, "0.00")
        assert lines["RBT-VOLUME"]["clause"] == "PA-7.2"
        assert (lines["RBT-HW-SPIFF"]["units"], lines["RBT-HW-SPIFF"]["amount"]) == (units, spiff)
        growth = lines["RBT-GROWTH"]
        assert (growth["amount"], growth["basis_revenue"], growth["clause"]) == ("0.00", growth_basis, "PA-7.4")
    assert money(S_REVENUE * Decimal("0.010")) == "1718.00" and money(G_REVENUE * Decimal("0.030")) == "16257.00"
    # PA-9.6 "Each Partner sees only its own data": S reads its own statement, none of R's or G's figures or ids
    own = q.keys["S"].get(f"/v1/rebates/settlements/{settled['settlement_id']}")
    assert own.status_code == 200, own.text
    assert own.json()["statement"]["partner_id"] == q.partners["S"]
    for secret in (q.partners["R"], q.partners["G"], "17057.00", "16257.00", "19335.00"):
        assert secret not in own.text, secret


def test_the_quarters_kpis_match_the_seed_table_computed_by_hand(quarter):
    """The seed's KPI table for the quarter (definitions: docs/kpis.md / GET /v1/kpis):
    Net realized margin by partner tier = (net - cost - rebates) / net over lines carrying a cost (PA-1.2 Line Margin
      terms; rebates settled for the quarter):
      registered (26,000.00 - 20,800.00 - 200.00) / 26,000.00 = 5,000.00 / 26,000.00 = 19.23 %
      silver (171,800.00 - 127,440.00 - 2,078.00) / 171,800.00 = 42,282.00 / 171,800.00 = 24.61 %
      gold (521,900.00 - 375,730.00 - 17,057.00) / 521,900.00 = 129,113.00 / 521,900.00 = 24.74 % (the 20,000.00
      milestone has no cost: revenue 541,900.00, margin base 521,900.00)
      tenant (719,700.00 - 523,970.00 - 19,335.00) / 719,700.00 = 176,395.00 / 719,700.00 = 24.51 %
    Invoice cycle time after fulfilment or acceptance: e1-e4 occurred 2.5 h before they were posted: the (2, 3] h
      bucket, p50 = p90 = 3 h, 4 events, 100 % within SOP-2.1's 48 h, no invoice_sla_breach.
    Threshold attainment: PA-7.2's 100,000.00 band applies to S and G (R does "not participate", PA-3.2): both
      reached, median of 171.80 % and 541.90 % = (171.80 + 541.90) / 2 = 356.85 %; 250,000.00: G only, median of
      68.72 % and 216.76 % = 142.74 %. Commitments prorated 3/12 (PA-3.3, PA-3.4): Silver 62,500.00 -> 274.88 %,
      Gold 250,000.00 -> 216.76 %.
    Support hours per revenue dollar: (10.00 + 6.00) / 739,700.00 = 0.00002163 (per 1,000: 0.0216), no leakage.
    Policy exceptions per 100 transactions: exceptions q2 1 + q3 3 (SOP-4.1 split) + e7's duplicate_shipment 1 = 5;
      transactions 4 quotes + 6 ERP events that posted a line (e1-e6; e7 held, e8/e9 within the allowance) = 10;
      5 x 100 / 10 = 50.00.
    Override and approval rates (seed: "Strengthen controls and retrain approvers"): 2 of 4 quotes needed approval
      = 50.00 %; of the 4 quote approvals decided in M, 3 approved (q2's cap, q3's cap and finance threshold), q3's
      margin rejected: 3 / 4 = 75.00 %."""
    kpis = quarter.kpis()
    margin = kpis["net_realized_margin"]
    for tier, revenue, base, cost, rebates in (
            ("registered", R_REVENUE, R_REVENUE, R_COST, Decimal("200.00")),
            ("silver", S_REVENUE, S_REVENUE, S_COST, Decimal("2078.00")),
            ("gold", G_REVENUE, G_REVENUE - G_MILESTONE, G_COST, Decimal("17057.00"))):
        found = _tier(kpis, tier)
        assert (found["revenue"], found["margin_base_revenue"], found["cost"], found["rebates_deducted"]) == (
            money(revenue), money(base), money(cost), money(rebates)), found
        assert found["net_margin_percent"] == pct(base - cost - rebates, base), found
    assert [_tier(kpis, t)["net_margin_percent"] for t in ("registered", "silver", "gold")] == [
        "19.23", "24.61", "24.74"]
    assert (margin["revenue"], margin["net_margin_percent"]) == ("739700.00", "24.51")
    cycle = kpis["invoice_cycle_time"]
    assert (cycle["events"], cycle["p50_hours"], cycle["p90_hours"], cycle["within_sla_percent"],
            cycle["sla_breaches"]) == (4, 3, 3, "100.00", 0), cycle
    thresholds = {(t["program_id"], t["threshold"]): t for t in kpis["threshold_attainment"]["thresholds"]}
    for key, partners, reached, median in ((("RBT-VOLUME", "100000.00"), 2, 2, "356.85"),
                                           (("RBT-VOLUME", "250000.00"), 2, 1, "142.74"),
                                           (("TIER-SILVER", "62500.00"), 1, 1, "274.88"),
                                           (("TIER-GOLD", "250000.00"), 1, 1, "216.76")):
        found = thresholds[key]
        assert (found["partners"], found["reached"], found["median_attainment_percent"]) == (
            partners, reached, median), found
    support = kpis["support_hours_per_revenue_dollar"]
    assert (support["support_hours"], support["revenue"], support["hours_per_revenue_dollar"],
            support["hours_per_1000_revenue"], support["service_leakage_hours"]) == (
        "16.00", "739700.00", "0.00002163", "0.0216", "0.00"), support
    exceptions = kpis["policy_exceptions_per_100_transactions"]
    assert (exceptions["exceptions"], exceptions["quotes_checked"], exceptions["erp_events_billed"],
            exceptions["per_100_transactions"]) == (5, 4, 6, "50.00"), exceptions
    overrides = kpis["overrides_and_approvals"]
    assert (overrides["quotes_checked"], overrides["quotes_needing_approval"], overrides["override_rate_percent"],
            overrides["approvals_decided"], overrides["approvals_approved"], overrides["approval_rate_percent"]) == (
        4, 2, "50.00", 4, 3, "75.00"), overrides


def test_a_partner_reads_its_own_kpis_without_the_distributors_margin(quarter):
    """API.md: "a partner never sees [...] the distributor's costs and margins"; docs/kpis.md: a partner key reads
    its own figures (`tier` 403, a rival's partner_id 404). S's own revenue is 171,800.00."""
    q = quarter
    own = q.keys["S"].get("/v1/kpis", period=q.period)
    assert own.status_code == 200, own.text
    text = own.text
    assert "171800.00" in text and "127440.00" not in text and "24.61" not in text, text[:2000]
    assert q.partners["G"] not in text and "541900.00" not in text
    assert_problem(q.keys["S"].get("/v1/kpis", period=q.period, partner_id=q.partners["G"]), 404)
    assert_problem(q.keys["S"].get("/v1/kpis", period=q.period, tier="gold"), 403)


def test_the_threshold_miss_forecast_reads_the_clause_thresholds_and_the_quarter_to_date(quarter):
    """The seed's "Partner health: threshold attainment" and the forecast's inputs for the next quarter Q+1, asked at
    its first minutes: PA-7.2's bands for a quarter (100,000.00 / 250,000.00 / 500,000.00 / 1,000,000.00) and the
    tier's commitment prorated 3/12 (Silver 62,500.00, PA-3.3; Gold 250,000.00, PA-3.4); revenue to date 0.00 (nothing
    invoiced in Q+1 yet). A single projection misses a higher
    threshold at least as likely as a lower one: p_miss does not fall as the threshold rises."""
    q = quarter
    today = clock_support.today()
    next_period = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    for letter, tier, commitment in (("S", "silver", "62500.00"), ("G", "gold", "250000.00")):
        forecast = q.finance.get(f"/v1/partners/{q.partners[letter]}/forecast", period=next_period)
        assert forecast.status_code == 200, forecast.text
        body = forecast.json()
        assert (body["tier"], body["period"], body["to_date"]) == (tier, next_period, "0.00"), body
        volume = [t for t in body["thresholds"] if t["program_id"] == "RBT-VOLUME"]
        assert [t["threshold"] for t in volume] == ["100000.00", "250000.00", "500000.00", "1000000.00"]
        assert [t["clause"] for t in volume] == ["PA-7.2"] * 4
        misses = [t["p_miss"] for t in volume]
        assert misses == sorted(misses), misses
        (own,) = [t for t in body["thresholds"] if t["source"] == "tier_commitment"]
        assert own["threshold"] == commitment, own
    assert_problem(q.keys["S"].get(f"/v1/partners/{q.partners['G']}/forecast", period=next_period), 404)


def test_the_audit_verifies_and_shows_every_decision_of_the_quarter(quarter):
    """The seed: "Maintain immutable audit logs for every automated decision, data source, approval action". Every
    quote decision answers with its decision_id (API.md), found in the audit with its rules and clauses; the three
    onboarding approvals, the deal approval, the settlement's preparation and approval are recorded with their
    actors (the preparer is not the approver, SOP-7.2); GET /v1/audit/verify answers valid."""
    q = quarter
    verify = q.admin.get("/v1/audit/verify").json()
    assert verify["valid"] is True and verify["first_invalid"] is None and verify["records"] > 0, verify
    for name, clauses in (("q1", set()), ("q2", {"PA-6.2"}), ("q3", {"PA-6.2", "PA-6.6", "PA-6.3"}), ("q4", set())):
        decision_id = q.quotes[name]["decision_id"]
        decision = q.admin.get(f"/v1/decisions/{decision_id}")
        assert decision.status_code == 200, decision.text
        records = q.admin.get("/v1/audit", subject=decision_id).json()["items"]
        checked = [r for r in records if r["action"] == "pricing.checked"]
        assert checked and set(checked[0]["clauses"]) >= clauses, (name, records)
    actions: dict[str, list[dict[str, Any]]] = {}
    cursor = None
    while True:
        page = q.admin.get("/v1/audit", limit=200, **({"cursor": cursor} if cursor else {})).json()
        for record in page["items"]:
            actions.setdefault(record["action"], []).append(record)
        cursor = page.get("next_cursor")
        if not cursor:
            break
    # the quote approvals decided in M (SOP-4.4 "Each approval or rejection records the approver [...]"): q2's and q3's
    # two approved, q3's margin rejected, each by its queue; the onboarding and deal approvals approved too
    assert len(actions.get("approval.rejected", [])) == 1 and len(actions.get("approval.approved", [])) == 3 + 3 + 1
    assert all(r["actor_role"] != "partner" for r in actions["approval.approved"] + actions["approval.rejected"])
    assert len(actions.get("partner.activated", [])) == 3
    assert len(actions.get("deal.approved", [])) == 1
    assert len(actions.get("invoice.finalized", [])) == 3
    (prepared,) = actions["rebate_settlement.prepared"]
    (approved,) = actions["rebate_settlement.settled"]
    assert prepared["actor"] != approved["actor"], (prepared["actor"], approved["actor"])


def test_mdf_for_the_next_quarter_accrues_on_the_quarters_qualifying_revenue_by_tier(quarter):
    """PA-9.5: "MDF accrues each Quarter at a percentage of the Partner's Qualifying Revenue in the previous Quarter:
    Silver 2%, Gold 3% and Platinum 4% [...] Registered Partners are not eligible for MDF." For Q+1: S 2 % x
    171,800.00 = 3,436.00; G 3 % x 541,900.00 = 16,257.00; R 0.00. "Accrued MDF not claimed by the end of the
    Quarter following the Quarter of accrual expires": Q+1's accrual expires on the last day of Q+2. A partner reads
    its own; a rival's is 404."""
    q = quarter
    today = clock_support.today()  # the first day of Q+1
    next_period = quarter_of(today)
    q2_end = first_day_after_quarter(first_day_after_quarter(today)) - timedelta(days=1)
    for letter, revenue, percent, accrued in (("R", "0.00", "0", "0.00"), ("S", "171800.00", "2", "3436.00"),
                                              ("G", "541900.00", "3", "16257.00")):
        read = q.keys[letter].get(f"/v1/partners/{q.partners[letter]}/mdf")
        assert read.status_code == 200, read.text
        (accrual,) = [a for a in read.json()["accruals"] if a["quarter"] == next_period]
        assert (accrual["revenue_quarter"], accrual["qualifying_revenue"], accrual["percent"], accrual["accrued"],
                accrual["available"], accrual["expires_on"]) == (
            q.period, revenue if letter != "R" else accrual["qualifying_revenue"], percent, accrued, accrued,
            q2_end.isoformat()), (letter, accrual)
    assert money(S_REVENUE * Decimal("0.02")) == "3436.00" and money(G_REVENUE * Decimal("0.03")) == "16257.00"
    assert_problem(q.keys["S"].get(f"/v1/partners/{q.partners['G']}/mdf"), 404)


def test_a_partial_dispute_is_paid_by_credit_note_and_a_later_credit_recomputes_the_settled_quarter(quarter):
    """PA-7.9: "A Partner may dispute a settlement statement within 60 days of its date [...] without evidence, are
    not accepted. [...] An upheld dispute is paid by adjustment in the next settlement, or by separate credit note if
    the next settlement is more than 30 days away"; SOP-6.3: "The person who prepared the original settlement may not
    decide the dispute."
    S disputes its volume line (100.00, an invoice as evidence): without evidence 400 naming /evidence; G filing on
    S's statement 404; the preparer deciding 403; a second finance member upholds 60.00. The statement is dated D
    (the first day after Q): window D + 60 days. The next settlement is Q+1's, due by its end + 45 days (SOP-7.2),
    more than 30 days away: a separate credit note of 60.00.
    PA-7.10 then: a billing-error credit of one NW-SW-24P (1,250.00) on S's issued Q invoice, posted in Q+1: Q's
    Qualifying Revenue 171,800.00 - 1,250.00 = 170,550.00, still 1.0 % -> 1,705.50 (was 1,718.00: -12.50 for the next
    settlement); the settled statement is not reopened (still 1,718.00). The credit mirrors the issued line's tax:
    -1,250.00 x 6.25 % = -78.125 -> -78.12 (PA-1.3 half to even). Run 2 of Q, prepared at once, is the next
    settlement after all: it pays -12.50 (PA-7.10) and the 60.00 (PA-7.9 "by adjustment in the next settlement"),
    the credit note not yet issued is withdrawn, and a run 3 pays nothing: 60.00 once. In Q+1's first month the
    dispute counts as a rebate_dispute exception and the credit note as the one billed ERP event: 1 x 100 / 1 =
    100.00."""
    q = quarter
    S, sid = q.partners["S"], q.settlement["settlement_id"]
    statement_day = date.fromisoformat(q.settlement["settled_at"][:10])
    body = {"settlement_id": sid, "partner_id": S, "program_id": "RBT-VOLUME", "amount": "100.00",
            "reason": "my calculation differs", "evidence": [{"kind": "invoice", "reference": q.invoices["S"]}]}
    missing = assert_problem(q.keys["S"].post("/v1/rebates/disputes", {**body, "evidence": []}), 400)
    assert any(e["path"] == "/evidence" for e in missing["errors"]), missing
    assert_problem(q.keys["G"].post("/v1/rebates/disputes", body), 404)
    filed = q.keys["S"].post("/v1/rebates/disputes", body)
    assert filed.status_code == 201, filed.text
    dispute = filed.json()
    assert dispute["window_closes_on"] == (statement_day + timedelta(days=60)).isoformat(), dispute
    path = f"/v1/rebates/disputes/{dispute['dispute_id']}/resolve"
    assert_problem(q.finance.post(path, {"outcome": "accepted", "amount": "60.00", "reason": "PA-7.9"}), 403)
    decided = q.roles["finance_2"].post(path, {"outcome": "accepted", "amount": "60.00", "reason": "PA-7.9, SOP-6.3"})
    assert decided.status_code == 200, decided.text
    payment = decided.json()["resolution"]["payment"]
    next_q = statement_day  # the first day of Q+1
    q_end = (date(next_q.year + (next_q.month + 2) // 12, (next_q.month + 2) % 12 + 1, 1) - timedelta(days=1))
    due = q_end + timedelta(days=45)
    assert (payment["method"], payment["next_settlement"]["due_by"], payment["next_settlement"]["days_away"]) == (
        "credit_note", due.isoformat(), (due - statement_day).days), payment
    assert payment["clause"] == "PA-7.9" and payment["credit_note_id"], payment

    now = clock_support.now_iso()
    credit = erp_event("credit_note.issued", {
        "partner_id": S, "credit_note_ref": "CN-RV5-S2", "invoice_id": q.invoices["S"], "line_no": 1,
        "reason": "billing_error", "amount": "1250.00", "quantity": 1, "issued_on": now[:10],
        "note": "one switch billed twice on SO-RV5-S1"}, occurred_at=now[:19] + "Z")
    event = q.admin.get(f"/v1/events/{q.processed(q.erp.post(credit))}").json()
    assert event["status"] == "processed", event
    (line_id,) = event["became"]["invoice_lines"]
    invoice = q.finance.get(f"/v1/invoices/{line_id.rsplit('.', 1)[0]}").json()
    (line,) = [ln for ln in invoice["lines"] if ln["line_id"] == line_id]
    assert (line["amount"], line["references_line"], line["tax"]["amount"]) == (
        "-1250.00", f"{q.invoices['S']}.1", "-78.12"), line
    wait_until(lambda: q.accrual("S").get("total") == "2065.50", 60, what="Q recomputed")
    volume = {p["program_id"]: p for p in q.accrual("S")["programs"]}["RBT-VOLUME"]
    assert (volume["basis_revenue"], volume["rate"], volume["payable"]) == ("170550.00", "1.0%", "1705.50")
    assert _statement_lines(q, "S")["RBT-VOLUME"]["amount"] == "1718.00"
    # the next settlement comes first: run 2 of Q (docs/rebates.md "later runs [...] carry adjustments"), prepared
    # before the dispute's credit note is issued. It pays the PA-7.10 difference as "a separate, referenced line"
    # (-12.50, naming the credit note's line) and the upheld 60.00 "by adjustment in the next settlement" (PA-7.9),
    # withdrawing the credit note not issued yet, so the 60.00 is paid once: S 60.00 - 12.50 = 47.50, G and R nothing.
    again = settle_over_http(q.finance, q.roles["finance_2"], {"period": q.period, "run": 2})
    assert again.status_code == 201, again.text
    totals = {p["partner_id"]: p["total"] for p in again.json()["partners"] if p["total"] != "0.00"}
    assert totals == {S: "47.50"}, totals
    read = q.finance.get(f"/v1/rebates/settlements/{again.json()['settlement_id']}", partner_id=S).json()
    lines = read["statement"]["lines"]
    (adjustment,) = [ln for ln in lines if ln["kind"] == "adjustment"]
    assert (adjustment["amount"], adjustment["previously_settled"], adjustment["recomputed"]) == (
        "-12.50", "1718.00", "1705.50"), adjustment
    assert {"rule_id": "RBT-RETROACTIVE-CREDIT", "clause": "PA-7.10"} in adjustment["rules"], adjustment
    assert adjustment["references"]["credit_notes"] == [line_id], adjustment
    (paid,) = [ln for ln in lines if ln["kind"] == "dispute_adjustment"]
    assert (paid["amount"], paid["references"]["dispute_id"]) == ("60.00", dispute["dispute_id"]), paid
    note = [a for a in q.finance.get("/v1/approvals", status="pending", limit=200).json()["items"]
            if a["category"] == "rebate_credit_note" and a["partner_id"] == S]
    for approval in note:  # approving the withdrawn note later pays nothing more: a third run carries nothing
        q.finance.post(f"/v1/approvals/{approval['approval_id']}/decision", {"outcome": "approved", "note": "PA-7.9"})
    # the partner reads where its 60.00 was paid: settled in run 2 (it read "credit_note" and the withdrawn note's id)
    shown = q.keys["S"].get(f"/v1/rebates/disputes/{dispute['dispute_id']}").json()["resolution"]["payment"]
    assert (shown.get("status"), shown.get("settled_in")) == ("settled", again.json()["settlement_id"]), shown
    third = settle_over_http(q.finance, q.roles["finance_2"], {"period": q.period, "run": 3})
    assert third.status_code == 201, third.text
    assert [p for p in third.json()["partners"] if p["total"] != "0.00"] == [], third.json()["partners"]
    month = now[:7]
    january = q.finance.get("/v1/kpis", period=month).json()["policy_exceptions_per_100_transactions"]
    assert (january["exceptions"], january["transactions"], january["per_100_transactions"]) == (1, 1, "100.00")


def test_next_quarter_a_subscription_activated_and_cancelled_on_day_one_and_its_usage_billed_in_arrears(quarter):
    """In Q+1's first month N (the clock is on its first day), G activates 2 x NW-CLOUD-PLATFORM (310.00 a month,
    PA-6.1) on day 1: SOP-2.3 "Activations dated on the first day of the month are charged the full monthly price
    without proration": 2 x 310.00 = 620.00 on N's invoice. It is cancelled the same day: SOP-2.4 "takes effect at the
    end of that day", credit = monthly price x "the full days after the effective day to the last day of the service
    period" / days in month = 620.00 x (D - 1) / D, rounded once half-even (D = 31 for January: 600.00).
    Usage of N (PA-10.2 "billed in arrears for the previous Billing Month"; SOP-3.1 "rounded up to the next whole
    unit"): 7,000.25 + 5,500.00 = 12,500.25 -> 12,501 CUH, SOP-3.2 graduated: 1,000 x 0.12 + 9,000 x 0.10 + 2,501 x
    0.08 = 120.00 + 900.00 + 200.08 = 1,220.08, on N+1's invoice with N as its service period, never on N's."""
    q = quarter
    G = q.partners["G"]
    today = clock_support.today()
    month = today.strftime("%Y-%m")
    following = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    days = (following - today.replace(day=1)).days
    q.occurred = clock_support.now_iso()[:19] + "Z"
    first = today.replace(day=1).isoformat()
    q.event("s1", "subscription.activated", {"partner_id": G, "subscription_id": "SUB-RV5-G1",
                                             "sku": "NW-CLOUD-PLATFORM", "quantity": 2, "activated_on": first,
                                             "order_ref": "SO-RV5-G2"})
    for name, quantity in (("u1", "7000.25"), ("u2", "5500.00")):
        q.event(name, "usage.reported", {"partner_id": G, "subscription_id": "SUB-RV5-G1", "metric": "cloud_compute",
                                         "quantity": quantity, "usage_date": first})
    q.event("s2", "subscription.cancelled", {"partner_id": G, "subscription_id": "SUB-RV5-G1", "effective_on": first,
                                             "order_ref": "SO-RV5-G2"})
    for name in ("s1", "u1", "u2", "s2"):
        assert q.admin.get(f"/v1/events/{q.events[name]}").json()["status"] == "processed", name

    def lines_of(period: str) -> list[dict[str, Any]]:
        listed = q.finance.get("/v1/invoices", partner_id=G, period=period, limit=50).json()["items"]
        return [ln for i in listed for ln in q.finance.get(f"/v1/invoices/{i['invoice_id']}").json()["lines"]]

    wait_until(lambda: any(ln.get("kind") == "usage" for ln in lines_of(following.strftime("%Y-%m"))), 60,
               what="usage line")
    this_month, next_month = lines_of(month), lines_of(following.strftime("%Y-%m"))
    (charge,) = [ln for ln in this_month if ln.get("sku") == "NW-CLOUD-PLATFORM" and Decimal(ln["amount"]) > 0]
    assert charge["amount"] == "620.00", charge
    credits = [ln for ln in this_month + next_month
               if ln.get("sku") == "NW-CLOUD-PLATFORM" and Decimal(ln["amount"]) < 0]
    assert [ln["amount"] for ln in credits] == [f"-{money(Decimal('620.00') * (days - 1) / days)}"], credits
    assert not [ln for ln in this_month if ln.get("kind") == "usage"]
    (usage,) = [ln for ln in next_month if ln.get("kind") == "usage"]
    assert (usage["amount"], Decimal(usage["quantity"])) == ("1220.08", Decimal("12501")), usage
    assert usage["service_period"]["start"] == first, usage
