"""Auditor 3: northwind rebate clauses checked through the billing handler and an approved settlement, on the in-memory
engine with a fixed clock. Every expectation is computed by hand from the clause quoted beside it.

Prices (price list, PA-6.1): NW-SW-24P USD 1,250.00 (networking); NW-SRV-R2 USD 5,200.00 (hardware, the SPIFF-eligible
item of PA-7.5). P1 is a Platinum partner of the ERP samples.

PA-7.8: "The settlement statement lists, per program, the Qualifying Revenue, the rate or unit amount applied, the caps
applied, adjustments carried from previous Quarters under PA-7.10 and the amount payable, with the rule and clause
references used."
PA-7.5: "The SPIFF is capped at 500 units, that is USD 20,000.00, per Partner per Quarter."
PA-7.6: "The sum of the quarterly volume rebate and the growth rebate for a Partner for a Quarter may not exceed the
lower of (a) 5.0% of the Partner's Qualifying Revenue for that Quarter and (b) USD 150,000.00. Where the cap applies,
the growth rebate is reduced first. The SPIFF cap in PA-7.5 applies separately."
PA-7.7(b): "revenue on hardware lines that earn the SPIFF counts towards the volume rebate but is excluded from
incremental revenue for the growth rebate".
PA-7.1: "Rebates are not earned on taxes, freight, pass-through fees, MDF-funded purchases or orders placed while the
Partner was suspended."
"""

from __future__ import annotations

from typing import Any

import pytest
from test_rebates_mdf_and_referral_window import accepted

from memory_store import Ledger
from rebate_runs import settle_approved
from revgov.domain.access import Principal, Role
from revgov.services import rebates

P1 = "ptr_01JBNWPARTNER0000000000001"
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")


def _quarter(lines: list[dict[str, Any]], *, shipped_on: str = "2026-08-05") -> dict[str, dict[str, Any]]:
    ledger = Ledger(f"{shipped_on}T12:00:00Z")
    shipment = {"partner_id": P1, "order_ref": "SO-A3", "shipped_on": shipped_on, "lines": lines}
    assert ledger.bill("shipment.confirmed", shipment, occurred_at=f"{shipped_on}T10:00:00Z")["status"] == "processed"
    ledger.clock.set("2026-10-03T10:00:00Z")
    _, settled = settle_approved(ledger.rt, FINANCE, {"period": "2026-Q3", "run": 1})
    if P1 not in {p["partner_id"] for p in settled["partners"]}:
        return {}  # nothing earned or adjusted: no statement
    statement = rebates.get_settlement(ledger.rt, FINANCE, settled["settlement_id"], P1)["statement"]
    return {line["program_id"]: line for line in statement["lines"]}


def test_pa_7_8_the_statement_states_the_spiff_unit_cap_it_applied():
    # 600 servers: PA-7.5 pays 500 x 40.00 = 20,000.00; the cap kept 100 units, 4,000.00, from the partner
    lines = _quarter([{"sku": "NW-SRV-R2", "quantity": 600}])
    spiff = lines["RBT-HW-SPIFF"]
    assert (spiff["amount"], spiff["units"], spiff["units_paid"]) == ("20000.00", 600, 500)
    assert spiff["rate"] == "40.00/unit"
    [cap] = spiff["caps_applied"]
    assert (cap["rule_id"], cap["clause"], cap["units"], cap["reduced_by"]) == ("RBT-HW-SPIFF-CAP", "PA-7.5", 500,
                                                                                  "4000.00")  # fmt: skip


def test_pa_7_8_the_statement_states_the_volume_and_growth_cap_it_applied():
    # 240 switches (300,000.00) + 600 servers (3,120,000.00) = QR 3,420,000.00 -> volume 4.0% = 136,800.00 (PA-7.2,
    # PA-7.7(b): the servers count); growth 2.0% of the switches' 300,000.00 above a 0.00 baseline = 6,000.00;
    # 142,800.00 is under the lower of 5% x 3,420,000.00 = 171,000.00 and 150,000.00: no PA-7.6 cap
    lines = _quarter([{"sku": "NW-SW-24P", "quantity": 240}, {"sku": "NW-SRV-R2", "quantity": 600}])
    assert (lines["RBT-VOLUME"]["amount"], lines["RBT-VOLUME"]["basis_revenue"]) == ("136800.00", "3420000.00")
    assert (lines["RBT-GROWTH"]["amount"], lines["RBT-GROWTH"]["basis_revenue"]) == ("6000.00", "300000.00")
    assert lines["RBT-VOLUME"]["caps_applied"] == [] and lines["RBT-GROWTH"]["caps_applied"] == []
    # 960 switches (1,200,000.00) + 600 servers (3,120,000.00) = 4,320,000.00 -> volume 4% = 172,800.00, growth 2% x
    # 1,200,000.00 = 24,000.00; the cap is the lower of 216,000.00 and 150,000.00: 196,800.00 - 150,000.00 = 46,800.00
    # over it, growth first (24,000.00 -> 0.00), then volume by 22,800.00 to 127,200.00
    lines = _quarter([{"sku": "NW-SW-24P", "quantity": 960}, {"sku": "NW-SRV-R2", "quantity": 600}])
    assert (lines["RBT-VOLUME"]["amount"], lines["RBT-GROWTH"]["amount"]) == ("150000.00", "0.00")
    [volume_cap] = lines["RBT-VOLUME"]["caps_applied"]
    [growth_cap] = lines["RBT-GROWTH"]["caps_applied"]
    assert (volume_cap["rule_id"], volume_cap["clause"], volume_cap["limit"]) == ("RBT-CAP-VOLUME-GROWTH", "PA-7.6",
                                                                                  "150000.00")  # fmt: skip
    assert (volume_cap["reduced_by"], growth_cap["reduced_by"]) == ("22800.00", "24000.00")
    assert lines["RBT-HW-SPIFF"]["amount"] == "20000.00"  # "The SPIFF cap in PA-7.5 applies separately."


def test_pa_7_1_an_mdf_funded_purchase_earns_no_rebate():
    lines = _quarter([{"sku": "NW-SW-24P", "quantity": 240, "mdf_funded": True}])
    assert lines.get("RBT-VOLUME", {}).get("amount", "0.00") == "0.00"


# --- PA-7.3 / PA-7.4: the growth rebate ------------------------------------------------------------------------------
def _ship(ledger: Ledger, on: str, lines: list[dict[str, Any]], order: str, **more: str) -> None:
    ledger.clock.set(f"{on}T12:00:00Z")
    # PA-10.1: the ship-to the line's sales tax is calculated on (docs/billing.md "Sales tax")
    where = {"country": "US", "region": "US-OR", "postal_code": "97201"}
    shipment = {"partner_id": P1, "order_ref": order, "shipped_on": on, "lines": lines, "tax_location": where, **more}
    assert ledger.bill("shipment.confirmed", shipment, occurred_at=f"{on}T10:00:00Z")["status"] == "processed"


def _settled_lines(ledger: Ledger, period: str, at: str, run: int = 1) -> dict[str, dict[str, Any]]:
    ledger.clock.set(at)
    _, settled = settle_approved(ledger.rt, FINANCE, {"period": period, "run": run})
    if P1 not in {p["partner_id"] for p in settled["partners"]}:
        return {}  # nothing earned or adjusted: no statement
    statement = rebates.get_settlement(ledger.rt, FINANCE, settled["settlement_id"], P1)["statement"]
    return {line["program_id"]: line for line in statement["lines"]}


@pytest.mark.parametrize(("switches", "growth"), [(88, "200.00"), (87, "0.00")])
def test_pa_7_3_growth_is_payable_from_10_percent_above_the_baseline(switches, growth):
    # PA-7.3: "payable only where the Quarter's Qualifying Revenue is at least 10% above the baseline"; baseline
    # 2025-Q3 = 80 x 1,250.00 = 100,000.00. 88 switches = 110,000.00: exactly 10% above -> 2.0% x 10,000.00 = 200.00;
    # 87 = 108,750.00: 8.75% -> nothing
    ledger = Ledger("2025-08-05T12:00:00Z")
    _ship(ledger, "2025-08-05", [{"sku": "NW-SW-24P", "quantity": 80}], "SO-2025")
    _ship(ledger, "2026-08-05", [{"sku": "NW-SW-24P", "quantity": switches}], "SO-2026")
    assert _settled_lines(ledger, "2026-Q3", "2026-10-03T10:00:00Z")["RBT-GROWTH"]["amount"] == growth


def test_pa_7_4_a_new_partners_baseline_is_the_greater_of_its_first_full_quarter_and_100_000():
    # approved 2026-02-15: not approved for the whole of 2025-Q3 -> PA-7.4. First full Quarter 2026-Q2: 64 switches =
    # 80,000.00, earns no growth ("No growth rebate is earned for any Quarter up to and including the Partner's first
    # full Quarter"); 2026-Q3 baseline = max(80,000.00, 100,000.00) = 100,000.00; 100 switches = 125,000.00 is 25%
    # above -> 2.0% x 25,000.00 = 500.00
    from revgov.ports import Changes, Put

    ledger = Ledger("2026-04-02T12:00:00Z")
    record = next(p for p in ledger.partners if p["partner_id"] == P1)
    approved = {**record, "activated_at": "2026-02-15T00:00:00Z"}
    ledger.rt.store.commit("northwind", Changes(puts=[Put("PARTNER", P1, approved)]))
    _ship(ledger, "2026-05-05", [{"sku": "NW-SW-24P", "quantity": 64}], "SO-Q2")
    q2 = _settled_lines(ledger, "2026-Q2", "2026-07-03T10:00:00Z")
    assert q2.get("RBT-GROWTH", {}).get("amount", "0.00") == "0.00"
    _ship(ledger, "2026-08-05", [{"sku": "NW-SW-24P", "quantity": 100}], "SO-Q3")
    assert _settled_lines(ledger, "2026-Q3", "2026-10-03T10:00:00Z")["RBT-GROWTH"]["amount"] == "500.00"


# --- PA-8.1 / PA-8.2: commissions ------------------------------------------------------------------------------------
def _referral_month(ledger: Ledger, on: str, order: str, customer: str = "CUST-REF-1") -> str:
    from revgov.services import billing

    # the ERP names the referred customer the distributor invoiced (PA-8.1 "Invoiced Revenue from that Customer")
    _ship(ledger, on, [{"sku": "NW-SW-24P", "quantity": 100}], order, channel="referral", customer_id=customer,
          **accepted(on))  # PA-8.1: the referral accepted before the invoice
    month = on[:7]
    # PA-8.1: "the Distributor [...] invoices the Customer directly": the referral is on its invoice to the customer
    (invoice_id,) = [i["invoice_id"] for i in ledger.direct_invoices(P1, month) if i["customer_id"] == customer]
    year, number = int(month[:4]), int(month[5:])
    after = f"{year + number // 12}-{number % 12 + 1:02d}-02"  # the invoice is issued after its month ends (SOP-2.2)
    ledger.clock.set(f"{after}T06:00:00Z")
    billing.finalize_invoice(ledger.rt, FINANCE, invoice_id)
    ledger.clock.set(f"{after}T10:00:00Z")
    paid = {"partner_id": P1, "invoice_id": invoice_id, "paid_on": after, "payment_ref": f"RCPT-{order}"}
    assert ledger.bill("invoice.paid", paid, occurred_at=f"{after}T09:00:00Z")["status"] == "processed"
    # PA-8.2: commissions are "paid within 30 days after the end of the month in which the Customer paid the
    # invoice": the commission is the payment month's (the month after the invoice's here)
    return after[:7]


def test_pa_8_1_a_paid_referral_earns_5_percent_and_no_rebate():
    # PA-8.1: "a referral commission of 5.0% of the Distributor's Invoiced Revenue from that Customer"; 100 switches =
    # 125,000.00 -> 6,250.00. PA-7.7(c): "revenue on which a referral or sales agent commission is paid under Section 8
    # is excluded from all rebates": the Quarter's volume rebate counts none of it
    ledger = Ledger("2026-08-05T12:00:00Z")
    month = _referral_month(ledger, "2026-08-05", "SO-REF-1")
    assert _settled_lines(ledger, month, "2026-10-03T10:00:00Z")["RBT-REFERRAL"]["amount"] == "6250.00"
    quarter = _settled_lines(ledger, "2026-Q3", "2026-10-03T10:00:00Z")
    assert quarter.get("RBT-VOLUME", {}).get("amount", "0.00") == "0.00"


def test_pa_8_1_no_referral_commission_more_than_12_months_after_the_first_invoice():
    # first invoice 2026-08; the same referred customer invoiced again in 2027-09, 13 months later: no commission
    ledger = Ledger("2026-08-05T12:00:00Z")
    _referral_month(ledger, "2026-08-05", "SO-REF-1")
    month = _referral_month(ledger, "2027-09-06", "SO-REF-2")
    lines = _settled_lines(ledger, month, "2027-11-04T10:00:00Z")
    assert lines.get("RBT-REFERRAL", {}).get("amount", "0.00") == "0.00"


# --- PA-7.8 / PA-1.2: the rebate's own credit note is not a revenue credit -----------------------------------------
def test_pa_7_8_the_credit_note_paying_a_rebate_does_not_reduce_the_quarters_qualifying_revenue():
    # PA-7.8: "Settlement is made by credit note applied to the Partner's account"; PA-1.2: Invoiced Revenue is "the
    # amounts invoiced by the Distributor to the Partner for Products and Services". 202 switches = 252,500.00 earn
    # 2.0% = 5,050.00 (PA-7.2). The ERP books that rebate as a credit note (reason `rebate_settlement`) against the
    # quarter's invoice line: it pays the rebate, it does not credit the switches, so PA-7.10's recompute has nothing
    # to adjust (counted as a revenue credit it would drop the quarter to 247,450.00 at 1.0% and claw back 2,575.50)
    ledger = Ledger("2026-08-05T12:00:00Z")
    _ship(ledger, "2026-08-05", [{"sku": "NW-SW-24P", "quantity": 202}], "SO-RBT")
    invoice = ledger.invoice(P1, "2026-08")
    assert _settled_lines(ledger, "2026-Q3", "2026-10-03T10:00:00Z")["RBT-VOLUME"]["amount"] == "5050.00"
    ledger.clock.set("2026-10-10T10:00:00Z")
    paid = {"partner_id": P1, "credit_note_ref": "CN-RBT-2026-Q3", "invoice_id": invoice["invoice_id"], "line_no": 1,
            "reason": "rebate_settlement", "amount": "5050.00", "issued_on": "2026-10-10"}  # fmt: skip
    assert ledger.bill("credit_note.issued", paid, occurred_at="2026-10-10T09:00:00Z")["status"] == "processed"
    assert _settled_lines(ledger, "2026-Q3", "2026-10-20T10:00:00Z", run=2) == {}  # no adjustment


def test_pa_7_10_a_revenue_credit_after_settlement_recomputes_the_tier_from_the_first_dollar():
    # PA-7.10: "the Qualifying Revenue of that Quarter is reduced by the credit note amount and the rebates for that
    # Quarter are recomputed, including the applicable volume rebate rate ... The difference between the recomputed and
    # the settled amount adjusts the next settlement as a separate, referenced line." A billing-error credit of
    # 5,050.00 takes 252,500.00 to 247,450.00: 1.0% = 2,474.50, so -2,575.50 on volume
    ledger = Ledger("2026-08-05T12:00:00Z")
    _ship(ledger, "2026-08-05", [{"sku": "NW-SW-24P", "quantity": 202}], "SO-ERR")
    invoice = ledger.invoice(P1, "2026-08")
    _settled_lines(ledger, "2026-Q3", "2026-10-03T10:00:00Z")
    ledger.clock.set("2026-10-10T10:00:00Z")
    credit = {"partner_id": P1, "credit_note_ref": "CN-ERR-1", "invoice_id": invoice["invoice_id"], "line_no": 1,
              "reason": "billing_error", "amount": "5050.00", "issued_on": "2026-10-10"}  # fmt: skip
    assert ledger.bill("credit_note.issued", credit, occurred_at="2026-10-10T09:00:00Z")["status"] == "processed"
    volume = _settled_lines(ledger, "2026-Q3", "2026-10-20T10:00:00Z", run=2)["RBT-VOLUME"]
    assert (volume["kind"], volume["amount"], volume["recomputed"]) == ("adjustment", "-2575.50", "2474.50")
    assert volume["clause"] == "PA-7.2"
    assert {"rule_id": "RBT-RETROACTIVE-CREDIT", "clause": "PA-7.10"} in volume["rules"]
    assert volume["references"]["credit_notes"]


# --- PA-7.9 / SOP-6.2 / SOP-6.3: what a dispute's handling promises -------------------------------------------------
def _filed_dispute() -> tuple[Ledger, dict[str, Any]]:
    ledger = Ledger("2026-08-05T12:00:00Z")
    _ship(ledger, "2026-08-05", [{"sku": "NW-SW-24P", "quantity": 202}], "SO-DSP")
    ledger.clock.set("2026-10-02T10:00:00Z")
    _, settled = settle_approved(ledger.rt, FINANCE, {"period": "2026-Q3", "run": 1})
    ledger.clock.set("2026-10-09T10:00:00Z")  # a Friday; Monday 2026-10-12 is a published holiday (PA-1.3)
    body = {"settlement_id": settled["settlement_id"], "partner_id": P1, "program_id": "RBT-VOLUME",
            "amount": "100.00", "reason": "SO-DSP-2 is missing",
            "evidence": [{"kind": "order", "reference": "SO-DSP-2"}]}  # fmt: skip
    return ledger, rebates.file_dispute(ledger.rt, Principal("northwind", Role.PARTNER, "key_p1", P1), body)


def test_pa_7_9_a_dispute_states_when_finance_acknowledges_and_decides_it():
    # PA-7.9: "Finance acknowledges a dispute within 2 business days and decides it within 15 business days": both
    # from the dispute (SOP-6.2's "15 business days of acknowledgement" gives way to the Agreement, PA-1.3; clause
    # audit, eleventh round). Filed Friday 2026-10-09 10:00: two business days are Tuesday 13 and Wednesday 14 (Monday
    # 12 is a holiday published for 2026, PA-1.3); the 15th business day after the filing is Monday 2026-11-02
    from revgov.domain.errors import Conflict, Forbidden

    ledger, dispute = _filed_dispute()
    deadlines = dispute["deadlines"]
    assert (deadlines["acknowledge_by"], deadlines["decide_by"]) == ("2026-10-14T10:00:00.000Z",
                                                                      "2026-11-02T10:00:00.000Z")  # fmt: skip
    assert (deadlines["rule_id"], deadlines["clause"]) == ("RBT-DISPUTES", "PA-7.9")
    ledger.clock.set("2026-10-13T09:00:00Z")  # acknowledged on Tuesday: the decision is still due 2026-11-02 10:00
    acknowledged = rebates.acknowledge_dispute(ledger.rt, FINANCE, dispute["dispute_id"])
    assert acknowledged["acknowledged"] == {"by": FINANCE.actor, "at": "2026-10-13T09:00:00.000Z"}
    assert acknowledged["deadlines"]["decide_by"] == "2026-11-02T10:00:00.000Z"
    assert acknowledged["status"] == "open"
    with pytest.raises(Conflict):  # once
        rebates.acknowledge_dispute(ledger.rt, FINANCE, dispute["dispute_id"])
    [record] = [r for r in ledger.rt.store.audit_records("northwind") if r["action"] == "rebate_dispute.acknowledged"]
    assert record["actor"] == FINANCE.actor and record["clauses"] == ["PA-7.9"]
    with pytest.raises(Forbidden):  # the partner itself may not acknowledge its own dispute
        rebates.acknowledge_dispute(ledger.rt, Principal("northwind", Role.PARTNER, "key_p1", P1),
                                    dispute["dispute_id"])  # fmt: skip


def test_cpa_7_9_contoso_decides_within_20_business_days_of_the_dispute_on_the_partners_calendar():
    # CPA-7.9: "Finance acknowledges within 2 business days and decides within 20 business days"; business days of the
    # Partner's country of establishment (CPA-1.3). Filed Friday 2026-10-02 by a German partner: acknowledge by Tuesday
    # 2026-10-06; decide by the 20th business day after the filing, Friday 2026-10-30
    from datetime import UTC, datetime

    from revgov.domain.calendar import BusinessCalendar
    from revgov.domain.rebates.disputes import deadlines
    from revgov.tenant_files import load_tenant_file
    from support import ROOT

    policy = load_tenant_file(ROOT / "tenants" / "contoso" / "tenant.yaml")["policy"]
    calendar = BusinessCalendar.from_policy(policy, "DE")
    due = deadlines(policy["rebates"]["disputes"], calendar, datetime(2026, 10, 2, 10, tzinfo=UTC), None)
    assert due is not None and (due["acknowledge_by"][:10], due["decide_by"][:10]) == ("2026-10-06", "2026-10-30")
    assert due["clause"] == "CPA-7.9" and due["decide_from"] == "filing"


def _decided_dispute(outcome: str = "rejected") -> tuple[Ledger, dict[str, Any]]:
    ledger, dispute = _filed_dispute()  # filed and decided Friday 2026-10-09 10:00 by key_fin2
    body = {"outcome": outcome, "reason": "counted"} | ({"amount": "40.00"} if outcome == "accepted" else {})
    rebates.resolve_dispute(ledger.rt, Principal("northwind", Role.FINANCE, "key_fin2"), dispute["dispute_id"], body)
    return ledger, dispute


PARTNER1 = Principal("northwind", Role.PARTNER, "key_p1", P1)
APPEAL = {"reason": "SO-DSP-2 shipped in September"}


def test_sop_6_3_a_partner_may_appeal_a_dispute_decision_once_within_10_business_days():
    # SOP-6.3: "The Partner may appeal once, within 10 business days of the decision; the appeal is decided jointly by
    # the head of Finance and Legal." Decided Friday 2026-10-09 10:00; Monday 12 is a holiday (PA-1.3): the tenth
    # business day is Monday 2026-10-26. No day for the appeal's decision is stated: decide_by null.
    from revgov.domain.errors import Conflict, Forbidden, NotFound, RuleViolation

    ledger, dispute = _decided_dispute()
    dsp = dispute["dispute_id"]
    with pytest.raises(Forbidden):  # filed by the partner, not staff for it
        rebates.appeal_dispute(ledger.rt, FINANCE, dsp, APPEAL)
    with pytest.raises(NotFound):  # another partner's dispute does not exist for it
        rival = Principal("northwind", Role.PARTNER, "key_p2", "ptr_01JBNWPARTNER0000000000002")
        rebates.appeal_dispute(ledger.rt, rival, dsp, APPEAL)
    ledger.clock.set("2026-10-26T10:00:00Z")  # the last instant of the window
    appealed = rebates.appeal_dispute(ledger.rt, PARTNER1, dsp, APPEAL)
    appeal = appealed["appeal"]
    assert (appealed["status"], appeal["status"], appeal["amount"]) == ("appealed", "open", "100.00")
    assert (appeal["window_closes_at"], appeal["decide_by"]) == ("2026-10-26T10:00:00.000Z", None)
    assert (appeal["rule_id"], appeal["clause"], len(appeal["approval_ids"])) == ("RBT-DISPUTE-APPEAL", "SOP-6.3", 2)
    with pytest.raises(Conflict):  # once
        rebates.appeal_dispute(ledger.rt, PARTNER1, dsp, APPEAL)
    [record] = [r for r in ledger.rt.store.audit_records("northwind") if r["action"] == "rebate_dispute.appealed"]
    assert record["actor"] == PARTNER1.actor and "SOP-6.3" in record["clauses"]
    partly, partly_dispute = _decided_dispute("accepted")  # 40.00 of 100.00 upheld: not built (409, nothing changes)
    with pytest.raises(Conflict):
        rebates.appeal_dispute(partly.rt, PARTNER1, partly_dispute["dispute_id"], APPEAL)
    late, late_dispute = _decided_dispute()
    late.clock.set("2026-10-26T10:00:01Z")
    with pytest.raises(RuleViolation):
        rebates.appeal_dispute(late.rt, PARTNER1, late_dispute["dispute_id"], APPEAL)
    assert rebates.get_dispute(late.rt, FINANCE, late_dispute["dispute_id"])[0]["status"] == "rejected"


def _appealed(outcome: str = "rejected") -> tuple[Ledger, dict[str, Any], dict[str, str]]:
    from revgov.services import cases

    ledger, dispute = _decided_dispute(outcome)
    ledger.clock.set("2026-10-20T10:00:00Z")
    appeal = rebates.appeal_dispute(ledger.rt, PARTNER1, dispute["dispute_id"], APPEAL)["appeal"]
    queues = {cases.get_case(ledger.rt, "northwind", "approval", a)[0]["queue"]: a for a in appeal["approval_ids"]}
    return ledger, dispute, queues


def test_sop_6_3_the_appeal_is_upheld_by_finance_and_legal_jointly_and_paid_as_an_upheld_dispute():
    # "decided jointly by the head of Finance and Legal": one approval each; SOP-4.3 "Where a request needs two
    # approvals ... neither of whom is the requester" and the person who decided the dispute may not decide its
    # appeal. Upheld, the 100.00 the decision rejected is paid like an upheld dispute (PA-7.9): the next settlement
    # (2026-Q4, statements due 2027-02-14) is more than 30 days away -> a credit note
    from revgov.domain.errors import Forbidden
    from revgov.services import cases

    ledger, dispute, queues = _appealed()
    with pytest.raises(Forbidden):  # key_fin2 decided the dispute
        cases.decide_case(ledger.rt, Principal("northwind", Role.FINANCE, "key_fin2"), "approval", queues["finance"],
                          "approved", "upheld")  # fmt: skip
    cases.decide_case(ledger.rt, Principal("northwind", Role.FINANCE, "key_fin3"), "approval", queues["finance"],
                      "approved", "the delivery note dates SO-DSP-2 in September")  # fmt: skip
    pending = rebates.get_dispute(ledger.rt, FINANCE, dispute["dispute_id"])[0]
    assert (pending["status"], pending["appeal"]["status"]) == ("appealed", "open")  # jointly: legal still to decide
    cases.decide_case(ledger.rt, Principal("northwind", Role.LEGAL, "key_legal"), "approval", queues["legal"],
                      "approved", "PA-7.9 evidence suffices")  # fmt: skip
    upheld = rebates.get_dispute(ledger.rt, FINANCE, dispute["dispute_id"])[0]
    assert (upheld["status"], upheld["appeal"]["status"], upheld["resolution"]["amount"]) == ("accepted", "upheld",
                                                                                            "100.00")  # fmt: skip
    assert upheld["resolution"]["payment"]["method"] == "credit_note"
    assert upheld["appeal"]["appealed_resolution"]["outcome"] == "rejected"
    actions = [r["action"] for r in ledger.rt.store.audit_records("northwind")]
    assert "rebate_dispute.appeal_upheld" in actions and "rebate_credit_note.prepared" in actions
    from revgov import schemas

    published = [e for e in ledger.rt.publisher.published if e["detail_type"].startswith("dispute.appeal")]
    told = [(e["detail_type"], e["detail"]["appeal_status"]) for e in published]
    assert told == [("dispute.appealed", "open"), ("dispute.appeal_decided", "upheld")]
    for event in published:
        schemas.validate(
            "events/revgov.rebates.schema.json",
            {"source": "revgov.rebates", "detail-type": event["detail_type"], "detail": event["detail"]},
        )


def test_sop_6_3_one_rejection_rejects_the_appeal_and_the_decision_stands():
    from revgov.services import cases

    ledger, dispute, queues = _appealed()
    cases.decide_case(ledger.rt, Principal("northwind", Role.LEGAL, "key_legal"), "approval", queues["legal"],
                      "rejected", "the evidence shows a shipment in October")  # fmt: skip
    decided = rebates.get_dispute(ledger.rt, FINANCE, dispute["dispute_id"])[0]
    assert (decided["status"], decided["appeal"]["status"], decided["resolution"]["outcome"]) == ("rejected",
                                                                                                "rejected",
                                                                                                "rejected")  # fmt: skip
    cases.decide_case(
        ledger.rt, Principal("northwind", Role.FINANCE, "key_fin3"), "approval", queues["finance"], "approved", "late"
    )  # the appeal is decided: this changes nothing
    assert rebates.get_dispute(ledger.rt, FINANCE, dispute["dispute_id"])[0]["status"] == "rejected"


def test_cop_6_3_contoso_decides_an_appeal_within_15_business_days_on_the_partners_calendar():
    # COP-6.3: "A Partner may appeal a dispute decision once, within 10 business days ... The appeal is decided by the
    # head of Finance together with Legal within 15 business days." A German partner's decision of Friday
    # 2026-10-02 10:00: the window closes on the 10th business day, Friday 2026-10-16 (3 October is German Unity Day, a
    # Saturday); appealed on Monday 2026-10-05 10:00, decided by the 15th business day after, Monday 2026-10-26
    from datetime import UTC, datetime

    from revgov.domain.calendar import BusinessCalendar
    from revgov.domain.rebates.appeals import AppealPolicy, window
    from revgov.tenant_files import load_tenant_file
    from support import ROOT

    policy = load_tenant_file(ROOT / "tenants" / "contoso" / "tenant.yaml")["policy"]
    appeal = AppealPolicy.of(policy["rebates"]["disputes"])
    assert appeal is not None and appeal.rule.clause == "COP-6.3"
    calendar = BusinessCalendar.from_policy(policy, "DE")
    due = window(appeal, calendar, datetime(2026, 10, 2, 10, tzinfo=UTC), datetime(2026, 10, 5, 10, tzinfo=UTC))
    assert (due["window_closes_at"][:10], due["decide_by"][:10]) == ("2026-10-16", "2026-10-26")


# --- PA-7.7(d) / SOP-2.5: a credit note and its re-invoice ----------------------------------------------------------
@pytest.mark.parametrize("discount", [None, "10"])
def test_pa_7_7_d_a_reinvoice_after_a_full_credit_counts_once_and_earns_the_spiff_once(discount):
    # SOP-2.5: "An error is corrected by a credit note referencing the original invoice and lines, followed where
    # needed by a corrected charge ... with the original service period". PA-1.2: Qualifying Revenue is net of all
    # credit notes; PA-7.7(d): "no line may earn the same incentive twice, including through re-invoicing after a
    # credit note". One server (5,200.00, SPIFF 40.00) settled in 2026-Q3, credited in full for a billing error and
    # invoiced again for the same order at the same price (or 10% less): the quarter keeps one server's revenue and one
    # SPIFF unit. Run 2 of 2026-Q3 adjusts nothing (same price) or only the revenue (4,680.00, volume rate 0 %).
    ledger = Ledger("2026-08-05T12:00:00Z")
    _ship(ledger, "2026-08-05", [{"sku": "NW-SRV-R2", "quantity": 1}], "SO-RE")
    invoice = ledger.invoice(P1, "2026-08")
    assert _settled_lines(ledger, "2026-Q3", "2026-10-03T10:00:00Z")["RBT-HW-SPIFF"]["amount"] == "40.00"
    ledger.clock.set("2026-10-20T10:00:00Z")
    credit = {"partner_id": P1, "credit_note_ref": "CN-RE-1", "invoice_id": invoice["invoice_id"], "line_no": 1,
              "reason": "billing_error", "amount": "5200.00", "quantity": 1, "issued_on": "2026-10-20"}  # fmt: skip
    assert ledger.bill("credit_note.issued", credit, occurred_at="2026-10-20T09:00:00Z")["status"] == "processed"
    again = {"sku": "NW-SRV-R2", "quantity": 1, **({"discount_percent": discount} if discount else {})}
    ledger.clock.set("2026-10-21T10:00:00Z")
    reinvoice = {"partner_id": P1, "order_ref": "SO-RE", "shipped_on": "2026-08-05", "lines": [again]}
    assert ledger.bill("shipment.confirmed", reinvoice, occurred_at="2026-10-21T09:00:00Z")["status"] == "processed"
    adjusted = _settled_lines(ledger, "2026-Q3", "2026-10-25T10:00:00Z", run=2)
    assert "RBT-HW-SPIFF" not in adjusted  # the server still earns its one SPIFF unit


def test_pa_7_5_a_registered_partner_earns_the_spiff_but_no_volume_rebate():
    # PA-7.5: "All Partners, including Registered Partners, earn a sales performance incentive (SPIFF) of USD 40.00 per
    # unit"; PA-7.2: "Silver, Gold and Platinum Partners earn a quarterly volume rebate". P2 is Registered: 10 servers
    # earn 400.00; 100 switches (125,000.00) and the servers (52,000.00) earn no volume rebate
    p2 = "ptr_01JBNWPARTNER0000000000002"
    ledger = Ledger("2026-08-05T12:00:00Z")
    shipment = {"partner_id": p2, "order_ref": "SO-P2", "shipped_on": "2026-08-05",
                "lines": [{"sku": "NW-SRV-R2", "quantity": 10}, {"sku": "NW-SW-24P", "quantity": 100}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", shipment, occurred_at="2026-08-05T10:00:00Z")["status"] == "processed"
    ledger.clock.set("2026-10-03T10:00:00Z")
    _, settled = settle_approved(ledger.rt, FINANCE, {"period": "2026-Q3", "run": 1})
    statement = rebates.get_settlement(ledger.rt, FINANCE, settled["settlement_id"], p2)["statement"]
    lines = {line["program_id"]: line for line in statement["lines"]}
    assert lines["RBT-HW-SPIFF"]["amount"] == "400.00"
    assert lines.get("RBT-VOLUME", {}).get("amount", "0.00") == "0.00"
    assert lines.get("RBT-GROWTH", {}).get("amount", "0.00") == "0.00"
