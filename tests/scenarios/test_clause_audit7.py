"""Clause audit, seventh round: where the product did something other than the clause it cites, the clause won.
Every figure below is computed by hand from the clause quoted; fixed days only, no wall clock.

The audit's record (each clause checked, where it is built, the verdict) is docs/clause-audit.md, "Seventh round".

Prices (tenants/northwind/tenant.yaml price list): NW-SEC-SUITE USD 300.00 a seat a month. SOP-2.5's credit note
approval limit: USD 10,000.00.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from memory_store import Ledger
from revgov.domain import subscription_renewals as renewals
from revgov.domain.access import Principal, Role
from revgov.services import billing, cases, pricing, subscription_billing
from revgov.services import credit_notes as held_credits
from revgov.tenant_files import load_tenant_file
from support import ROOT

P1 = "ptr_01JBNWPARTNER0000000000001"  # an active platinum MSP of the ERP samples, certified in security
SALES = Principal("northwind", Role.SALES, "key_sales")
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")
POLICY = {t: load_tenant_file(ROOT / "tenants" / t / "tenant.yaml")["policy"] for t in ("northwind", "contoso")}


def _subscribed(seats: int) -> Ledger:
    """SUB-7 of NW-SEC-SUITE activated on 2026-10-01 (October charged in full at activation)."""
    ledger = Ledger("2026-10-01T09:00:00Z")
    data = {"partner_id": P1, "subscription_id": "SUB-7", "sku": "NW-SEC-SUITE", "quantity": seats,
            "activated_on": "2026-10-01", "order_ref": "SO-7"}  # fmt: skip
    assert ledger.bill("subscription.activated", data, occurred_at="2026-10-01T09:00:00Z")["status"] == "processed"
    return ledger


def _record(ledger: Ledger) -> dict[str, Any]:
    stored = ledger.rt.store.get("northwind", billing.SUBSCRIPTIONS, "SUB-7")
    assert stored is not None
    return stored.data


def _lines(ledger: Ledger, period: str) -> list[tuple[str, str]]:
    """SUB-7's lines on the partner's invoice of `period`: (amount, service period start)."""
    invoice = ledger.invoice(P1, period)
    return [(x["amount"], x["service_period"]["start"]) for x in invoice["lines"]
            if x["detail"].get("subscription_id") == "SUB-7"]  # fmt: skip


def _change(ledger: Ledger, seats: int, effective_on: str, at: str) -> dict[str, Any]:
    ledger.clock.set(at)
    data = {"partner_id": P1, "subscription_id": "SUB-7", "quantity": seats, "effective_on": effective_on}
    return ledger.bill("subscription.changed", data, occurred_at=at)


def _pending_approvals(ledger: Ledger) -> list[dict[str, Any]]:
    return [c for c in ledger.exceptions() if c["category"] == "credit_note_approval" and c["status"] == "pending"]


# --- PA-10.3 / SOP-2.5: a quantity increase is a charge, never a credit note held for approval ---------------------
def test_pa_10_3_a_quantity_increase_above_the_credit_note_limit_is_charged_at_once_not_held_as_a_credit_note():
    """PA-10.3: "Quantity increases during a period are prorated in the same way from the date the increase takes
    effect." SOP-2.5: "Credit notes above USD 10,000.00 require approval by a member of the finance queue other than
    the preparer." An increase is a charge; SOP-2.5 holds credit notes only.

    10 seats, November charged in advance (10 x 300.00 = 3,000.00); on 2026-11-11 the partner goes to 210 seats:
    November owes 300.00 x 200 x 20 / 30 = 40,000.00 more (11 to 30 November, both included), posted on the November
    invoice at once. It was held as a "credit note of USD 40,000.00 (cancellation)" waiting for finance, and the
    charge never posted until someone approved it. One cent above the limit or forty thousand: the same (a charge)."""
    ledger = _subscribed(10)
    ledger.clock.set("2026-11-01T00:05:00Z")
    assert subscription_billing.run(ledger.rt, "northwind")["charged"] == 1
    answer = _change(ledger, 210, "2026-11-11", "2026-11-11T10:00:00Z")
    assert answer["status"] == "processed" and "held" not in (answer.get("reason") or "")
    assert ("40000.00", "2026-11-11") in _lines(ledger, "2026-11")
    assert _record(ledger).get("held") in (None, []) and _pending_approvals(ledger) == []


def test_pa_10_3_the_monthly_run_charges_a_known_increase_without_holding_it():
    """The same increase sent before November is charged (PA-10.3): the run of 2026-11-01 charges November in advance
    at 10 seats and the 200 seats more from 11 November: 3,000.00 and 40,000.00, neither held."""
    ledger = _subscribed(10)
    assert _change(ledger, 210, "2026-11-11", "2026-10-20T10:00:00Z")["status"] == "processed"
    ledger.clock.set("2026-11-01T00:05:00Z")
    subscription_billing.run(ledger.rt, "northwind")
    assert sorted(_lines(ledger, "2026-11")) == [("3000.00", "2026-11-01"), ("40000.00", "2026-11-11")]
    assert _pending_approvals(ledger) == []


def test_sop_2_5_a_reduction_is_still_a_credit_note_held_only_strictly_above_the_limit():
    """SOP-2.5 unchanged for credits: "Credit notes above USD 10,000.00 require approval". From 210 seats (November
    charged 63,000.00 in advance) to 160 on 2026-11-10: 300.00 x 50 x 20 / 30 = 10,000.00, not above: credited at
    once (-10,000.00 from 11 November). To 159 instead: 300.00 x 51 x 20 / 30 = 10,200.00, above: held for finance."""
    for seats, posted, held in ((160, [("-10000.00", "2026-11-11")], 0), (159, [], 1)):
        ledger = _subscribed(210)
        ledger.clock.set("2026-11-01T00:05:00Z")
        subscription_billing.run(ledger.rt, "northwind")
        _change(ledger, seats, "2026-11-10", "2026-11-10T10:00:00Z")
        assert [x for x in _lines(ledger, "2026-11") if x[0].startswith("-")] == posted
        assert len(_pending_approvals(ledger)) == held


# --- PA-10.4 / CPA-10.3: a committed term is credited only as the order allows ----------------------------------
def _renewed_for_a_year(seats: int = 10) -> Ledger:
    """SUB-7 renewed from 2026-12-01 for 12 months (a committed term: 2026-12-01 to 2027-11-30) under a renewal quote
    of 10 seats at 10 % off (net 270.00 a seat, 2,700.00 a month: 32,400.00 a year, below the renewal threshold, so
    allowed at once); December charged in advance at 2,700.00."""
    ledger = _subscribed(seats)
    ledger.clock.set("2026-11-01T00:05:00Z")
    subscription_billing.run(ledger.rt, "northwind")
    ledger.clock.set("2026-11-10T10:00:00Z")
    checked = pricing.check(ledger.rt, SALES, {
        "partner_id": P1, "customer": {"id": "CUST-7", "name": "Harbour Logistics"},
        "renewal": {"subscription_id": "SUB-7", "renewed_from": "2026-12-01", "term_months": 12},
        "lines": [{"line_id": "1", "sku": "NW-SEC-SUITE", "quantity": seats, "discount_percent": "10"}]})  # fmt: skip
    assert checked["outcome"] == "allow"
    ledger.clock.set("2026-11-12T09:00:00Z")
    data = {"partner_id": P1, "subscription_id": "SUB-7", "decision_id": checked["decision_id"],
            "renewed_from": "2026-12-01", "term_months": 12, "order_ref": "SO-7-2027"}  # fmt: skip
    assert ledger.bill("subscription.renewed", data, occurred_at="2026-11-12T09:00:00Z")["status"] == "processed"
    ledger.clock.set("2026-12-01T00:05:00Z")
    subscription_billing.run(ledger.rt, "northwind")
    assert _lines(ledger, "2026-12") == [("2700.00", "2026-12-01")]
    return ledger


def _cancel(ledger: Ledger, effective_on: str, at: str) -> dict[str, Any]:
    ledger.clock.set(at)
    data = {"partner_id": P1, "subscription_id": "SUB-7", "effective_on": effective_on}
    return ledger.bill("subscription.cancelled", data, occurred_at=at)


def test_pa_10_4_a_cancellation_inside_a_committed_term_is_not_credited_automatically():
    """PA-10.4: "Where a monthly subscription is cancelled [...] the Partner receives a credit for the unused full
    days [...] Subscriptions with a committed term may be cancelled for credit only as permitted in the order."

    Cancelled with effect from the end of 2026-12-20, inside the committed term renewed from 2026-12-01 for 12 months:
    the unused days (21 to 31 December) would be 2,700.00 x 11 / 31 = 958.06. Revgov does not hold the order, so the
    credit is not posted: it waits for finance, citing PA-10.4, whoever's order allows it. It was credited at once,
    like a monthly subscription's (958.06 is far below SOP-2.5's USD 10,000.00)."""
    ledger = _renewed_for_a_year()
    answer = _cancel(ledger, "2026-12-20", "2026-12-20T15:00:00Z")
    assert answer["status"] == "processed"
    assert [x for x in _lines(ledger, "2026-12") if x[0].startswith("-")] == []  # nothing credited yet
    (held,) = _record(ledger)["held"]
    assert (held["amount"], held["month"], held["status"]) == ("-958.06", "2026-12", "pending_approval")
    (approval,) = _pending_approvals(ledger)
    assert approval["queue"] == "finance"
    cited = {(r["rule_id"], r["clause"]) for r in approval["reasons"]}
    assert ("BILL-COMMITTED-TERM-CREDIT", "PA-10.4") in cited
    (why,) = [r["message"] for r in approval["reasons"] if r["rule_id"] == "BILL-COMMITTED-TERM-CREDIT"]
    assert "committed term" in why and "USD 958.06" in why
    hold = held_credits.get_hold(ledger.rt, FINANCE, held["hold_id"])
    assert (hold["rule_id"], hold["clause"]) == ("BILL-COMMITTED-TERM-CREDIT", "PA-10.4")
    # the order allows it: a finance member (never the preparer) approves, and the credit posts as it was computed
    ledger.clock.set("2026-12-21T10:00:00Z")
    cases.decide_case(ledger.rt, FINANCE, "approval", approval["case_id"], "approved", "order SO-7-2027 allows it")
    assert ("-958.06", "2026-12-21") in _lines(ledger, "2026-12")


def test_pa_10_4_a_committed_term_credit_the_order_does_not_allow_is_rejected_and_nothing_is_credited():
    ledger = _renewed_for_a_year()
    _cancel(ledger, "2026-12-20", "2026-12-20T15:00:00Z")
    (approval,) = _pending_approvals(ledger)
    ledger.clock.set("2026-12-21T10:00:00Z")
    cases.decide_case(ledger.rt, FINANCE, "approval", approval["case_id"], "rejected", "no credit under SO-7-2027")
    assert [x for x in _lines(ledger, "2026-12") if x[0].startswith("-")] == []
    assert _record(ledger)["held"][0]["status"] == "rejected"


def test_pa_10_4_a_seat_reduction_inside_the_committed_term_waits_for_finance_too():
    """PA-10.4 covers "a quantity is reduced" by the same credit: 10 to 4 seats from the end of 2026-12-20 inside
    the term: 270.00 x 6 x 11 / 31 = 574.84, held citing PA-10.4, not posted."""
    ledger = _renewed_for_a_year()
    assert _change(ledger, 4, "2026-12-20", "2026-12-20T15:00:00Z")["status"] == "processed"
    (held,) = _record(ledger)["held"]
    assert (held["amount"], held["status"]) == ("-574.84", "pending_approval")
    (approval,) = _pending_approvals(ledger)
    assert ("BILL-COMMITTED-TERM-CREDIT", "PA-10.4") in {(r["rule_id"], r["clause"]) for r in approval["reasons"]}


def test_pa_10_4_a_monthly_month_before_the_term_is_still_credited_at_once():
    """Before the committed term, the subscription is monthly: cancelled from the end of 2026-11-20 (renewal
    recorded for 2026-12-01 but not begun), November's unused days 300.00 x 10 x 10 / 30 = 1,000.00 are credited at
    once (PA-10.4's first sentence)."""
    ledger = _subscribed(10)
    ledger.clock.set("2026-11-01T00:05:00Z")
    subscription_billing.run(ledger.rt, "northwind")
    _cancel(ledger, "2026-11-20", "2026-11-20T15:00:00Z")
    assert ("-1000.00", "2026-11-21") in _lines(ledger, "2026-11") and _pending_approvals(ledger) == []


def test_the_committed_term_is_the_approved_renewals_first_to_last_day():
    """The days a renewal commits: from `renewed_from` through the last day of its `term_months` (12 from
    2026-12-01: 2027-11-30); a renewal not approved commits nothing (its term is never charged)."""
    sub = {"renewals": [{"renewed_from": "2026-12-01", "term_months": 12, "status": renewals.APPROVED},
                        {"renewed_from": "2027-12-01", "term_months": 12, "status": renewals.PENDING}]}  # fmt: skip
    assert renewals.committed_on(sub, date(2026, 11, 30)) is None
    assert renewals.committed_on(sub, date(2026, 12, 1))["renewed_from"] == "2026-12-01"
    assert renewals.committed_on(sub, date(2027, 11, 30))["renewed_from"] == "2026-12-01"
    assert renewals.committed_on(sub, date(2027, 12, 1)) is None


def test_cpa_10_3_contoso_states_the_same_rule_with_its_own_clause():
    """CPA-10.3: "Subscriptions with a committed term are credited only as the order allows." (northwind PA-10.4)"""
    for tenant, clause in (("northwind", "PA-10.4"), ("contoso", "CPA-10.3")):
        node = POLICY[tenant]["billing"]["committed_term_credit"]
        assert (node["id"], node["clause"]) == ("BILL-COMMITTED-TERM-CREDIT", clause)


def test_the_billing_what_if_keeps_a_committed_term_credit_waiting_under_a_policy_that_holds_it():
    """The billing what-if replays a held credit under both policies: a committed term's 958.06 waits for finance
    under a policy with `committed_term_credit` (PA-10.4), whatever SOP-2.5's limit says, and posts under a draft
    without it; a credit held above the limit is judged by the limit alone, as before."""
    from decimal import Decimal

    from revgov.domain.billing import BillingPolicy
    from revgov.domain.policy_whatif_billing import Side, with_limit

    holding = BillingPolicy.from_policy(POLICY["northwind"])
    without = BillingPolicy.from_policy({**POLICY["northwind"], "billing": {
        k: v for k, v in POLICY["northwind"]["billing"].items() if k != "committed_term_credit"}})  # fmt: skip
    credit = Side(Decimal("-958.06"), None)
    held = Side(Decimal("0"), None, "awaiting_approval", "pending_approval", pending=Decimal("-958.06"))
    waits = with_limit(credit, held, posted=False, active=holding, book=holding, committed=True)
    assert (waits.status, waits.amount) == ("awaiting_approval", Decimal("0"))
    assert "BILL-COMMITTED-TERM-CREDIT" in (waits.reason or "") and "PA-10.4" in (waits.reason or "")
    assert with_limit(credit, held, posted=False, active=holding, book=without, committed=True).status == "billed"
    assert with_limit(credit, held, posted=False, active=holding, book=holding).status == "billed"  # below the limit


# --- SOP-2.4 / COP-2.3: a cancellation takes effect at the end of the day it is requested, or later -----------------
def _cancel_requested(ledger: Ledger, requested: str, effective_on: str) -> dict[str, Any]:
    """The ERP's cancellation, requested (its `occurred_at`, the source system's time, SOP-2.1) on `requested`."""
    return _cancel(ledger, effective_on, f"{requested}T09:00:00Z")


def _november_credits(ledger: Ledger) -> list[tuple[str, str]]:
    return [x for x in _lines(ledger, "2026-11") if x[0].startswith("-")]


def test_sop_2_4_a_cancellation_dated_before_its_request_takes_effect_at_the_end_of_the_request_day():
    """SOP-2.4: "A cancellation or quantity reduction requested on a given day takes effect at the end of that day
    unless the Partner specifies a later date. The credit under PA-10.4 counts the full days after the effective day".

    10 seats, November charged in advance (3,000.00). Requested on 2026-11-20 with an effective_on of 2026-11-05: it
    takes effect at the end of 20 November, so 21 to 30 November are credited, 3,000.00 x 10 / 30 = 1,000.00. It
    credited from 6 November, 3,000.00 x 25 / 30 = 2,500.00: a backdated date bought 1,500.00 of credit. On the day
    (effective_on 2026-11-20): 1,000.00; a later date (2026-11-25): 26 to 30 November, 500.00."""
    cases_ = (("2026-11-05", ("-1000.00", "2026-11-21")), ("2026-11-20", ("-1000.00", "2026-11-21")),
              ("2026-11-25", ("-500.00", "2026-11-26")))  # fmt: skip
    for effective_on, credited in cases_:
        ledger = _subscribed(10)
        ledger.clock.set("2026-11-01T00:05:00Z")
        subscription_billing.run(ledger.rt, "northwind")
        answer = _cancel_requested(ledger, "2026-11-20", effective_on)
        assert answer["status"] == "processed"
        assert _november_credits(ledger) == [credited], effective_on
        assert _record(ledger)["cancelled_on"] == max(effective_on, "2026-11-20")
    # the outcome says why the day moved, citing the clause
    assert "SOP-2.4" not in (answer.get("reason") or "")  # a later date given: nothing moved
    ledger = _subscribed(10)
    ledger.clock.set("2026-11-01T00:05:00Z")
    subscription_billing.run(ledger.rt, "northwind")
    moved = _cancel_requested(ledger, "2026-11-20", "2026-11-05")
    assert "2026-11-20" in moved["reason"] and "SOP-2.4" in moved["reason"]


def test_sop_2_4_a_seat_reduction_dated_before_its_request_counts_from_the_end_of_the_request_day():
    """SOP-2.4 names "quantity reduction" too: 10 to 4 seats requested on 2026-11-20, effective_on 2026-11-05: 300.00 x
    6 x 10 / 30 = 600.00 credited from 21 November (it credited 300.00 x 6 x 25 / 30 = 1,500.00 from 6 November). An
    increase is no reduction: 10 to 12 seats effective 2026-11-05, requested 2026-11-20, is charged from 5 November as
    given (PA-10.3: "from the date the increase takes effect"): 300.00 x 2 x 26 / 30 = 520.00."""
    ledger = _subscribed(10)
    ledger.clock.set("2026-11-01T00:05:00Z")
    subscription_billing.run(ledger.rt, "northwind")
    assert _change(ledger, 4, "2026-11-05", "2026-11-20T09:00:00Z")["status"] == "processed"
    assert _november_credits(ledger) == [("-600.00", "2026-11-21")]
    assert _record(ledger)["changes"][-1]["effective_on"] == "2026-11-20"
    ledger = _subscribed(10)
    ledger.clock.set("2026-11-01T00:05:00Z")
    subscription_billing.run(ledger.rt, "northwind")
    assert _change(ledger, 12, "2026-11-05", "2026-11-20T09:00:00Z")["status"] == "processed"
    assert ("520.00", "2026-11-05") in _lines(ledger, "2026-11")


def test_cop_2_3_contoso_states_it_for_cancellations_with_its_own_clause():
    """COP-2.3: "a cancellation takes effect at the end of the day it is requested unless a later date is given" (a
    cancellation only; SOP-2.4 adds the quantity reduction for northwind)."""
    assert POLICY["contoso"]["billing"]["cancellation_credit"]["effective_day"] == {
        "id": "BILL-CANCELLATION-EFFECTIVE-DAY", "clause": "COP-2.3", "applies_to": ["cancellation"]}
    assert POLICY["northwind"]["billing"]["cancellation_credit"]["effective_day"] == {
        "id": "BILL-CANCELLATION-EFFECTIVE-DAY", "clause": "SOP-2.4", "applies_to": ["cancellation", "reduction"]}


# --- CPA-4.3: a contoso partner is told its own clause --------------------------------------------------------------
def test_cpa_4_3_the_certification_watchers_note_to_a_contoso_partner_cites_cpa_4_3_not_northwinds_pa_4_3():
    """CPA-4.3: "(d) protected opportunity registrations in that Product Family are frozen and lapse if no valid
    certification is recorded within 21 days." The note the certification watcher drafts for a contoso partner whose
    certification lapses before its registered deal closes cited "(PA-4.3)", a clause of northwind's agreement, which
    is no term of the contoso partner's (PA-4.3(d): "lapse if a valid certification is not recorded within 30 days")."""
    from revgov.domain.agents import CertificationGap
    from revgov.services.agents import certification_watcher as watcher

    deal = {"deal_id": "deal_01JX0000000000000000000071", "customer": {"id": "CUST-71", "name": "Harbour Logistics"},
            "family": "security", "expected_close": "2027-02-15", "expires_at": "2027-01-30"}  # fmt: skip
    gap = CertificationGap("cert-secops-analyst", date(2027, 1, 10), expired=False)
    for tenant, clause, other in (("contoso", "CPA-4.3", "(PA-4.3)"), ("northwind", "PA-4.3", "(CPA-4.3)")):
        partner = {"partner_id": "ptr_01JX0000000000000000000071", "legal_name": "Secure Resale BV"}
        rule = watcher.lapse_rule(POLICY[tenant])
        found = watcher._finding(deal, partner, gap, date(2027, 2, 15), rule)
        body = found.draft_message["body"] if found.draft_message else ""
        assert f"({clause})" in body and other not in body, (tenant, body)


def test_cpa_7_9_a_refused_acknowledgement_cites_the_tenants_own_clause():
    """CPA-7.9: "Finance acknowledges within 2 business days" (northwind PA-7.9). A channel_ops key acknowledging a
    contoso rebate dispute is refused citing CPA-7.9; it cited PA-7.9, northwind's clause. The MDF and appeal
    refusals name the tenant's segregation rule the same way (COP-4.3 / SOP-4.3)."""
    import pytest

    from memory_store import memory_runtime
    from revgov.domain.errors import Forbidden
    from revgov.domain.policy import cited_clause
    from revgov.services import rebates

    for tenant, clause, other in (("contoso", "CPA-7.9", "(PA-7.9)"), ("northwind", "PA-7.9", "(CPA-7.9)")):
        rt, _ = memory_runtime("2026-11-02T10:00:00.000Z", tenant=tenant)
        with pytest.raises(Forbidden) as refused:
            rebates.acknowledge_dispute(rt, Principal(tenant, Role.CHANNEL_OPS, "key_ops"),
                                        "rdp_01JX0000000000000000000071")  # fmt: skip
        assert f"({clause})" in str(refused.value) and other not in str(refused.value)
    # COP-1.3: "The clock stops while an item waits for information from the Partner and resumes when the Partner
    # replies": a staff key answering for the partner is refused citing COP-1.3 for contoso (it said SOP-1.3)
    from revgov.services import case_waiting

    rt, _ = memory_runtime("2026-11-02T10:00:00.000Z", tenant="contoso")
    with pytest.raises(Forbidden) as staff:
        case_waiting.partner_reply(rt, Principal("contoso", Role.FINANCE, "key_fin"), "exception",
                                   "cas_01JX0000000000000000000071", "here it is")  # fmt: skip
    assert "COP-1.3" in str(staff.value) and "SOP-1.3" not in str(staff.value)
    segregation = ("exception_routing", "segregation_of_duties")
    assert cited_clause(POLICY["contoso"], *segregation, default="SOP-4.3") == "COP-4.3"
    assert cited_clause(POLICY["northwind"], *segregation, default="SOP-4.3") == "SOP-4.3"


# --- PA-4.1: a certification is added to the catalogue with 60 days' notice ------------------------------------------
_SD_WAN = {"id": "cert-sd-wan", "name": "SD-WAN Specialist", "product_family": "networking", "validity_months": 24,
           "clause": "PA-4.1"}  # fmt: skip


def test_pa_4_1_a_certification_added_to_the_catalogue_takes_effect_only_after_60_days_notice():
    """PA-4.1: "The Distributor may add certifications to the catalogue with 60 days' notice. A certification
    withdrawn from the catalogue remains valid until its expiry date."

    A draft adding cert-sd-wan, proposed 2026-11-02 00:00:00 UTC for 2027-01-01 00:00:00 UTC: exactly 60 days, held.
    One second later: 59 days and 23:59:59, refused on /effective_at citing PA-4.1 (it took effect with any notice, or
    at once). Withdrawing a certification or changing one needs no notice under PA-4.1; contoso's agreement names no
    notice for its catalogue (CPA-4.1)."""
    from datetime import UTC, datetime

    from revgov.domain.policy_change import notice_problem

    policy = POLICY["northwind"]
    added = {**policy, "certifications": [*policy["certifications"], _SD_WAN]}
    on = datetime(2027, 1, 1, tzinfo=UTC)
    assert notice_problem(policy, added, on, datetime(2026, 11, 2, tzinfo=UTC)) is None  # 60 days
    late = datetime(2026, 11, 2, 0, 0, 1, tzinfo=UTC)
    for given, effective in ((late, on), (datetime(2026, 11, 2, tzinfo=UTC), None)):
        found = notice_problem(policy, added, effective, given)
        assert found is not None and (found.extra["rule_id"], found.extra["clause"]) == ("POLICY-CATALOGUE-NOTICE",
                                                                                          "PA-4.1")  # fmt: skip
        assert found.errors[0].path == "/effective_at" and found.extra["notice_days"] == 60
    withdrawn = {**policy, "certifications": [c for c in policy["certifications"] if c["id"] != "cert-cloud-architect"]}
    edited = {**policy, "certifications": [{**c, "name": c["name"] + " (2027)"} for c in policy["certifications"]]}
    for draft in (withdrawn, edited):
        assert notice_problem(policy, draft, None, datetime(2026, 11, 2, tzinfo=UTC)) is None
    contoso = POLICY["contoso"]
    grown = {**contoso, "certifications": [*contoso["certifications"], {**_SD_WAN, "product_family": "collaboration",
                                                                         "clause": "CPA-4.1"}]}  # fmt: skip
    assert notice_problem(contoso, grown, None, datetime(2026, 11, 2, tzinfo=UTC)) is None
    # the rate tables' 30 days (PA-10.5) still hold beside it
    rates = {**policy, "billing": {**policy["billing"], "usage_rates": [
        {**policy["billing"]["usage_rates"][0], "model": "flat"}, *policy["billing"]["usage_rates"][1:]]}}  # fmt: skip
    found = notice_problem(policy, rates, datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC))
    assert found is not None and found.extra["clause"] == "PA-10.5"


def test_pa_4_1_a_draft_adding_a_certification_is_proposed_only_with_60_days_notice():
    """The same through POST /v1/policy/drafts/{id}/propose (services.policy_drafts): 422 on /effective_at citing
    PA-4.1 when proposed on 2026-11-10 for 2026-12-01 (21 days) or for 2027-01-01 (52 days); for 2027-02-01 (83 days)
    it is proposed."""
    import pytest

    from memory_store import memory_runtime
    from revgov.domain.errors import RuleViolation
    from revgov.services import policy_drafts

    ops = Principal("northwind", Role.CHANNEL_OPS, "key_CHANNEL_OPS0000000000000000")
    rt, _ = memory_runtime("2026-11-10T10:00:00.000Z")
    draft = policy_drafts.create_draft(rt, ops, {"reason": "SD-WAN certification"})
    policy_drafts.patch_policy(rt, ops, draft["draft_id"], {"operations": [
        {"op": "add", "path": "/certifications/-", "value": _SD_WAN}]})  # fmt: skip
    for effective_at in ("2026-12-01T00:00:00.000Z", "2027-01-01T00:00:00.000Z"):
        with pytest.raises(RuleViolation) as refused:
            policy_drafts.propose(rt, ops, draft["draft_id"], {"effective_at": effective_at})
        assert refused.value.errors[0].path == "/effective_at" and refused.value.extra["clause"] == "PA-4.1"
    proposed = policy_drafts.propose(rt, ops, draft["draft_id"], {"effective_at": "2027-02-01T00:00:00.000Z"})
    assert proposed["status"] == "proposed"
