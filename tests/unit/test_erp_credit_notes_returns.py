"""ERP credit notes and returns (issue 24): billing lines, the SPIFF's return window, Qualifying Revenue net of all
credit notes, and clawback of settled rebates. Expectations are computed by hand from the clauses, quoted.

SOP-2.5: "Issued invoices are never edited. An error is corrected by a credit note referencing the original invoice
and lines ... Every credit note states its reason code (billing error, return, cancellation, dispute outcome,
rebate settlement, goodwill). ... Each credit note that relates to a settled rebate Quarter is flagged to the rebate
run for adjustment under PA-7.10."
PA-1.2: "'Qualifying Revenue' for a period means Invoiced Revenue for invoices dated in that period, net of all
credit notes issued against those invoices, whenever issued".
PA-7.2 (volume rebate, tiered and retroactive): 100,000.00 -> 1.0%; 250,000.00 -> 2.0%.
PA-7.5: "USD 40.00 per unit for units of hardware Product Family items flagged as SPIFF-eligible in the price list,
invoiced in the Quarter and not returned within 30 days of shipment."
PA-7.10: "Where a credit note is issued after a Quarter has been settled and relates to an invoice dated within that
Quarter, the Qualifying Revenue of that Quarter is reduced by the credit note amount and the rebates for that Quarter
are recomputed ... The difference between the recomputed and the settled amount adjusts the next settlement as a
separate, referenced line."
NW-SRV-R2 (2U rack server, hardware, SPIFF-eligible) lists at 5,200.00; NW-SW-24P (switch) at 1,250.00 (PA-6.1).

The use cases run on the in-memory DocumentStore with a fixed clock: nothing depends on today's date.
"""

from __future__ import annotations

import pytest

from memory_store import Ledger
from rebate_runs import settle_approved
from revgov import schemas
from revgov.domain.access import Principal, Role
from revgov.domain.errors import MalformedRequest, RuleViolation
from revgov.services import billing, cases, credit_notes, invoice_disputes, rebates

P1 = "ptr_01JBNWPARTNER0000000000001"  # platinum
P2 = "ptr_01JBNWPARTNER0000000000002"
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")
PARTNER1 = Principal("northwind", Role.PARTNER, "key_p1", P1)


def _ship(
    ledger: Ledger, partner: str, sku: str, quantity: int, on: str, order: str, delivered_on: str | None = None
) -> dict:
    ledger.clock.set(f"{delivered_on or on}T12:00:00Z")
    data = {"partner_id": partner, "order_ref": order, "shipped_on": on, "lines": [{"sku": sku, "quantity": quantity}]}
    if delivered_on:
        data["delivered_on"] = delivered_on
    answer = ledger.bill("shipment.confirmed", data, occurred_at=f"{delivered_on or on}T10:00:00Z")
    assert answer["status"] == "processed", answer
    return ledger.invoice(partner, on[:7])


def _finalize(ledger: Ledger, partner: str, period: str, at: str) -> dict:
    ledger.clock.set(at)
    billing.finalize_invoice(ledger.rt, FINANCE, ledger.invoice(partner, period)["invoice_id"])
    return ledger.invoice(partner, period)


def _return(ledger: Ledger, invoice: dict, units: int, on: str, rma: str, *, line_no: int = 1, **extra) -> dict:
    ledger.clock.set(f"{on}T17:00:00Z")
    data = {"partner_id": P1, "rma_ref": rma, "invoice_id": invoice["invoice_id"], "line_no": line_no,
            "quantity": units, "returned_on": on, **extra}  # fmt: skip
    return ledger.bill("return.received", data, occurred_at=f"{on}T16:00:00Z")


def _credit_note(ledger: Ledger, invoice: dict, amount: str, on: str, ref: str, **extra) -> dict:
    ledger.clock.set(f"{on}T17:00:00Z")
    data = {"partner_id": P1, "credit_note_ref": ref, "invoice_id": invoice["invoice_id"], "line_no": 1,
            "reason": "billing_error", "amount": amount, "issued_on": on, **extra}  # fmt: skip
    return ledger.bill("credit_note.issued", data, occurred_at=f"{on}T16:00:00Z")


def _statement(ledger: Ledger, period: str, run: int, at: str) -> dict:
    ledger.clock.set(at)
    _, settled = settle_approved(ledger.rt, FINANCE, {"period": period, "run": run})
    return rebates.get_settlement(ledger.rt, FINANCE, settled["settlement_id"], P1)["statement"]


def _program(statement: dict, program_id: str) -> dict:
    return next(ln for ln in statement["lines"] if ln["program_id"] == program_id)


def _lines(ledger: Ledger, partner: str, period: str) -> list[dict]:
    return ledger.invoice(partner, period)["lines"]


# --- billing lines -------------------------------------------------------------------------------------------------
def test_an_erp_billing_error_credit_note_references_the_line_on_the_next_open_invoice_with_its_reason():
    # SOP-2.5 quoted above: never edit the issued invoice; a credit note referencing the line, with its reason code.
    ledger = Ledger("2026-10-12T10:00:00Z")
    october = _ship(ledger, P1, "NW-SW-24P", 5, "2026-10-12", "SO-1")  # 5 x 1,250.00 = 6,250.00
    issued = _finalize(ledger, P1, "2026-10", "2026-11-02T09:00:00Z")
    answer = _credit_note(ledger, issued, "1250.00", "2026-11-10", "CN-1", quantity=1)
    assert answer["status"] == "processed", answer
    (note,) = _lines(ledger, P1, "2026-11")
    assert (note["kind"], note["amount"], note["quantity"]) == ("credit_note", "-1250.00", "1")
    assert note["references_line"] == october["lines"][0]["line_id"]
    assert note["detail"]["reason"] == "billing_error" and note["detail"]["credit_note_ref"] == "CN-1"
    assert note["detail"]["credited_invoice_id"] == issued["invoice_id"]
    assert note["service_period"] == october["lines"][0]["service_period"]
    assert note["clauses"] == ["SOP-2.5"]
    assert ledger.invoice(P1, "2026-10") == issued  # "Issued invoices are never edited."
    fact = ledger.rt.store.get("northwind", billing.SALES_FACTS, note["line_id"])
    assert fact is not None and fact.data["net_amount"] == "-1250.00"
    trail = [r for r in ledger.rt.store.audit_records("northwind") if r["action"] == "invoice_lines.posted"]
    assert trail[-1]["inputs"]["detail_type"] == "credit_note.issued" and "SOP-2.5" in trail[-1]["clauses"]


def test_a_return_is_a_return_credit_note_at_the_net_unit_price_dated_the_day_the_goods_came_back():
    # SOP-2.5 reason code "return"; the credit for 2 of 4 switches at 1,250.00 is 2 x 1,250.00 = 2,500.00.
    ledger = Ledger("2026-10-05T10:00:00Z")
    october = _ship(ledger, P1, "NW-SW-24P", 4, "2026-10-05", "SO-2")
    answer = _return(ledger, october, 2, "2026-10-19", "RMA-1")
    assert answer["status"] == "processed", answer
    shipped, note = _lines(ledger, P1, "2026-10")  # the October invoice is still a draft: same invoice
    assert (note["kind"], note["amount"], note["quantity"]) == ("credit_note", "-2500.00", "2")
    assert note["references_line"] == shipped["line_id"] and note["detail"]["reason"] == "return"
    assert note["service_period"] == {"start": "2026-10-19", "end": "2026-10-19"}
    assert note["cost"] == "-1800.00"  # 2 x unit cost 900.00 comes back with the goods
    assert ledger.invoice(P1, "2026-10")["total"] == "2500.00"  # 5,000.00 - 2,500.00


def test_the_last_units_returned_take_what_is_left_of_a_discounted_line_so_it_nets_to_zero():
    # One rounding per line (STYLE): 3 x 3,400.00 less 3.33% = 9,860.34; one unit back at the net unit price
    # 3,286.78 (3,400.00 x 0.9667 = 3,286.78), the last two take the rest: 6,573.56. Total credited = the line.
    ledger = Ledger("2026-10-05T10:00:00Z")
    ledger.clock.set("2026-10-05T12:00:00Z")
    ledger.bill(
        "shipment.confirmed",
        {
            "partner_id": P1,
            "order_ref": "SO-3",
            "shipped_on": "2026-10-05",
            "lines": [{"sku": "NW-FW-200", "quantity": 3, "discount_percent": "3.33"}],
        },
        occurred_at="2026-10-05T10:00:00Z",
    )
    october = ledger.invoice(P1, "2026-10")
    assert october["lines"][0]["amount"] == "9860.34"
    assert _return(ledger, october, 1, "2026-10-08", "RMA-A")["status"] == "processed"
    assert _return(ledger, october, 2, "2026-10-09", "RMA-B")["status"] == "processed"
    _, first, rest = _lines(ledger, P1, "2026-10")
    assert (first["amount"], rest["amount"]) == ("-3286.78", "-6573.56")
    assert ledger.invoice(P1, "2026-10")["total"] == "0.00"


# --- PA-7.5: the SPIFF's 30-day return window ----------------------------------------------------------------------
def test_units_returned_within_30_days_of_shipment_earn_no_spiff_later_returns_keep_it():
    # 10 servers shipped 3 Aug 2026. Returned: 2 on 20 Aug (17 days), 1 on 2 Sep (30 days: "within 30 days"),
    # 3 on 3 Sep (31 days: not within). SPIFF units = 10 - 2 - 1 = 7 -> 7 x 40.00 = 280.00.
    # PA-1.2: every return is a credit note against the August invoice, so Q3 Qualifying Revenue is
    # 10 x 5,200.00 - 6 x 5,200.00 = 20,800.00, below the 100,000.00 threshold: no volume rebate.
    ledger = Ledger("2026-08-03T10:00:00Z")
    august = _ship(ledger, P1, "NW-SRV-R2", 10, "2026-08-03", "SO-4")
    for units, on, rma in ((2, "2026-08-20", "RMA-1"), (1, "2026-09-02", "RMA-2"), (3, "2026-09-03", "RMA-3")):
        assert _return(ledger, august, units, on, rma)["status"] == "processed"
    # SOP-2.5: "Credit notes above USD 10,000.00 require approval by a member of the finance queue other than the
    # preparer": RMA-1 (2 x 5,200.00 = 10,400.00) and RMA-3 (3 x 5,200.00 = 15,600.00) post once finance approves
    held = [s.data for s in ledger.rt.store.query("northwind", credit_notes.HOLDS, limit=10).items]
    assert sorted(h["amount"] for h in held) == ["10400.00", "15600.00"]
    ledger.clock.set("2026-09-04T09:00:00Z")
    for hold in held:
        cases.decide_case(ledger.rt, FINANCE, "approval", hold["approval_id"], "approved", "goods received")
    statement = _statement(ledger, "2026-Q3", 1, "2026-10-05T09:00:00Z")
    spiff = _program(statement, "RBT-HW-SPIFF")
    assert spiff["amount"] == "280.00"
    volume = _program(statement, "RBT-VOLUME")
    assert volume["amount"] == "0.00" and volume["basis_revenue"] == "20800.00"


def test_a_billing_error_credit_note_takes_its_units_back_whenever_it_is_issued():
    # PA-7.5 pays units "invoiced": units credited as billed in error were never invoiced, whatever the date.
    # 20 servers (104,000.00) shipped 10 Aug; a credit note for one server billed in error on 5 Oct (56 days later).
    # SPIFF 19 x 40.00 = 760.00; Qualifying Revenue 104,000.00 - 5,200.00 = 98,800.00 < 100,000.00: no volume rebate
    # (PA-1.2 "net of all credit notes issued against those invoices, whenever issued").
    ledger = Ledger("2026-08-10T10:00:00Z")
    august = _ship(ledger, P1, "NW-SRV-R2", 20, "2026-08-10", "SO-5")
    issued = _finalize(ledger, P1, "2026-08", "2026-09-01T09:00:00Z")
    assert _credit_note(ledger, issued, "5200.00", "2026-10-05", "CN-5", quantity=1)["status"] == "processed"
    statement = _statement(ledger, "2026-Q3", 1, "2026-10-06T09:00:00Z")
    assert _program(statement, "RBT-HW-SPIFF")["amount"] == "760.00"
    assert _program(statement, "RBT-VOLUME")["amount"] == "0.00"
    assert august["lines"][0]["amount"] == "104000.00"


# --- PA-7.10: clawback of a settled quarter ------------------------------------------------------------------------
def test_an_erp_credit_note_after_settlement_claws_back_in_the_next_run_as_a_referenced_line():
    # Settled Q3: 20 servers = 104,000.00 -> volume 1.0% = 1,040.00, SPIFF 20 x 40.00 = 800.00.
    # 20 Oct: the ERP credits one server billed in error (5,200.00, 1 unit). Recomputed Q3: 98,800.00 -> 0.00 volume,
    # 19 units -> 760.00 SPIFF. Adjustments (PA-7.10 "the difference between the recomputed and the settled amount"):
    # volume 0.00 - 1,040.00 = -1,040.00; SPIFF 760.00 - 800.00 = -40.00. The settled statement stays as it was.
    ledger = Ledger("2026-08-10T10:00:00Z")
    _ship(ledger, P1, "NW-SRV-R2", 20, "2026-08-10", "SO-6")
    issued = _finalize(ledger, P1, "2026-08", "2026-09-01T09:00:00Z")
    first = _statement(ledger, "2026-Q3", 1, "2026-10-03T09:00:00Z")
    assert (_program(first, "RBT-VOLUME")["amount"], _program(first, "RBT-HW-SPIFF")["amount"]) == ("1040.00", "800.00")
    assert _credit_note(ledger, issued, "5200.00", "2026-10-20", "CN-6", quantity=1)["status"] == "processed"
    (note,) = _lines(ledger, P1, "2026-10")
    second = _statement(ledger, "2026-Q3", 2, "2026-10-25T09:00:00Z")
    volume, spiff = _program(second, "RBT-VOLUME"), _program(second, "RBT-HW-SPIFF")
    assert (volume["kind"], volume["period"]) == ("adjustment", "2026-Q3")
    assert (volume["amount"], volume["previously_settled"], volume["recomputed"]) == ("-1040.00", "1040.00", "0.00")
    assert (spiff["amount"], spiff["previously_settled"], spiff["recomputed"]) == ("-40.00", "800.00", "760.00")
    assert {"rule_id": "RBT-RETROACTIVE-CREDIT", "clause": "PA-7.10"} in volume["rules"]
    assert volume["references"]["credit_notes"] == [note["line_id"]]  # "a separate, referenced line"


# --- bounds, once, isolation ---------------------------------------------------------------------------------------
def _posted(ledger: Ledger, partner: str) -> int:
    return sum(1 for item in ledger.rt.store.query("northwind", billing.LINES, limit=1000).items
               if item.data["partner_id"] == partner)  # fmt: skip


@pytest.mark.parametrize(
    ("case", "units", "returned_on", "invoice_of"),
    [
        ("more units than shipped", 5, "2026-10-20", P1),
        ("back before it shipped", 1, "2026-10-04", P1),
        ("another partner's invoice", 1, "2026-10-20", P2),
    ],
)
def test_impossible_returns_are_rating_failures_and_post_nothing(case, units, returned_on, invoice_of):
    ledger = Ledger("2026-10-05T10:00:00Z")
    mine = _ship(ledger, P1, "NW-SW-24P", 4, "2026-10-05", "SO-7")
    theirs = _ship(ledger, P2, "NW-SW-24P", 1, "2026-10-05", "SO-8")
    before = (_posted(ledger, P1), _posted(ledger, P2), ledger.invoice(P1, "2026-10"), ledger.invoice(P2, "2026-10"))
    answer = _return(ledger, mine if invoice_of == P1 else theirs, units, returned_on, "RMA-X")
    assert answer["status"] == "failed", case
    after = (_posted(ledger, P1), _posted(ledger, P2), ledger.invoice(P1, "2026-10"), ledger.invoice(P2, "2026-10"))
    assert after == before
    (case_opened,) = [c for c in ledger.exceptions() if c["category"] == "rating_failure"]
    assert "SOP-2.5" in [r["clause"] for r in case_opened["reasons"]]


def test_a_credit_note_never_takes_more_than_the_line_less_earlier_credits_and_disputes():
    # SOP-2.5 credits "the original invoice and lines": 6,250.00 charged; an upheld dispute credited 1,250.00
    # (SOP-6.1 (4)); an ERP credit note for 5,000.01 would exceed the 5,000.00 left and is refused.
    from revgov.services import cases

    ledger = Ledger("2026-10-12T10:00:00Z")
    _ship(ledger, P1, "NW-SW-24P", 5, "2026-10-12", "SO-9")
    issued = _finalize(ledger, P1, "2026-10", "2026-11-02T09:00:00Z")
    ledger.clock.set("2026-11-05T09:00:00Z")
    dispute = invoice_disputes.file_dispute(
        ledger.rt, PARTNER1, issued["invoice_id"], {"line_no": 1, "amount": "1250.00", "reason": "4 delivered"}
    )
    cases.decide_case(ledger.rt, FINANCE, "approval", dispute["approval_id"], "approved", "delivery note")
    assert _credit_note(ledger, issued, "5000.01", "2026-11-10", "CN-9")["status"] == "failed"
    assert _credit_note(ledger, issued, "4000.00", "2026-11-11", "CN-10")["status"] == "processed"
    # and a dispute now sees both credits: 6,250.00 - 1,250.00 - 4,000.00 = 1,000.00 left
    ledger.clock.set("2026-11-12T09:00:00Z")
    with pytest.raises(RuleViolation, match=r"at most 1000\.00"):
        invoice_disputes.file_dispute(
            ledger.rt, PARTNER1, issued["invoice_id"], {"line_no": 1, "amount": "1000.01", "reason": "more"}
        )


def test_the_same_rma_or_credit_note_sent_again_under_a_new_erp_id_is_recorded_once():
    ledger = Ledger("2026-10-05T10:00:00Z")
    october = _ship(ledger, P1, "NW-SW-24P", 4, "2026-10-05", "SO-10")
    assert _return(ledger, october, 1, "2026-10-06", "RMA-9")["status"] == "processed"
    again = _return(ledger, october, 1, "2026-10-07", "RMA-9")
    assert again["status"] == "processed" and "already recorded" in again["reason"]
    assert len(_lines(ledger, P1, "2026-10")) == 2


@pytest.mark.parametrize(
    ("detail_type", "change", "pointer"),
    [
        ("credit_note.issued", {"reason": "oops"}, "/data/reason"),
        ("credit_note.issued", {"amount": "0.00"}, "/data/amount"),
        ("credit_note.issued", {"amount": "-5.00"}, "/data/amount"),
        ("credit_note.issued", {"amount": 5}, "/data/amount"),
        ("credit_note.issued", {"reason": "return"}, "/data/returned_on"),
        ("credit_note.issued", {"line_no": 0}, "/data/line_no"),
        ("credit_note.issued", {"invoice_id": "../inv"}, "/data/invoice_id"),
        ("return.received", {"quantity": 0}, "/data/quantity"),
        ("return.received", {"quantity": "2"}, "/data/quantity"),
        ("return.received", {"returned_on": "2026-02-30"}, "/data/returned_on"),
        ("return.received", {"unit_price": "1.00"}, "/data"),
    ],
)
def test_malformed_credit_notes_and_returns_are_refused_at_the_door(detail_type, change, pointer):
    import json

    from support import ROOT

    sample = json.loads((ROOT / "events" / "revgov.erp" / f"{detail_type}.json").read_text())["detail"]
    data = {**sample["data"], **change}
    body = {"id": "NW-1", "type": detail_type, "occurred_at": sample["occurred_at"], "data": data}
    schemas.validate("events/erp-event.schema.json", {**body, "data": sample["data"]})  # the sample itself is valid
    with pytest.raises(MalformedRequest) as refused:
        schemas.validate("events/erp-event.schema.json", body)
    assert any(e.path.startswith(pointer) for e in refused.value.errors), refused.value.errors


# --- routing: events/rules.json (CDK and the local bus both build from it) ------------------------------------------
@pytest.mark.parametrize("detail_type", ["credit_note.issued", "return.received"])
def test_the_new_erp_events_go_to_billing_and_kpis_see_their_lines(detail_type):
    import json

    from revgov.adapters.sqlite_bus import matches
    from support import ROOT

    rules = {r["name"]: r for r in json.loads((ROOT / "events" / "rules.json").read_text())["rules"]}
    sample = json.loads((ROOT / "events" / "revgov.erp" / f"{detail_type}.json").read_text())
    routed = sorted(name for name, rule in rules.items() if matches(rule["pattern"], sample))
    assert routed == ["erp-billing"]  # billed once; the lines it posts are announced as invoice.lines_posted
    assert detail_type in billing.USE_CASES
    posted = {"source": "revgov.billing", "detail-type": "invoice.lines_posted", "detail": {}}
    assert matches(rules["rebate-accruals"]["pattern"], posted) and matches(rules["kpi-rollups"]["pattern"], posted)


def test_contoso_devices_returned_within_14_days_of_delivery_earn_no_spiff():
    # CPA-7.5: "Partners earn a SPIFF of EUR 15.00 per unit for devices Product Family items marked SPIFF-eligible in
    # the price list, invoiced in the Quarter and not returned within 14 days of delivery." 10 laptops (CT-DEV-LAPTOP14)
    # delivered 3 Aug 2026; 1 back on 17 Aug (14 days: within), 2 back on 18 Aug (15 days: not within).
    # SPIFF units 10 - 1 = 9 -> 9 x 15.00 = 135.00.
    ledger = Ledger("2026-08-03T10:00:00Z", tenant="contoso")
    august = _ship(ledger, P1, "CT-DEV-LAPTOP14", 10, "2026-08-03", "SO-C1", delivered_on="2026-08-03")
    for units, on, rma in ((1, "2026-08-17", "RMA-C1"), (2, "2026-08-18", "RMA-C2")):
        assert _return(ledger, august, units, on, rma)["status"] == "processed"
    ledger.clock.set("2026-10-05T09:00:00Z")
    finance = Principal("contoso", Role.FINANCE, "key_fin")
    _, settled = settle_approved(ledger.rt, finance, {"period": "2026-Q3", "run": 1})
    statement = rebates.get_settlement(ledger.rt, finance, settled["settlement_id"], P1)["statement"]
    assert _program(statement, "RBT-DEVICES-SPIFF")["amount"] == "135.00"


def test_a_return_nets_the_partners_kpi_revenue_of_the_month():
    # KPIs read net invoiced revenue (docs/kpis.md): 4 switches shipped (5,000.00) and 2 returned in the same month
    # (-2,500.00) leave the partner 2,500.00 for October; the credit note's line is folded like any posted line.
    from revgov.services import analytics

    ledger = Ledger("2026-10-05T10:00:00Z")
    october = _ship(ledger, P1, "NW-SW-24P", 4, "2026-10-05", "SO-K1")
    assert _return(ledger, october, 2, "2026-10-19", "RMA-K1")["status"] == "processed"
    for envelope in ledger.rt.publisher.published:
        if envelope["detail_type"] == "invoice.lines_posted":
            event = {"source": envelope["source"], "detail-type": envelope["detail_type"], "detail": envelope["detail"]}
            analytics.record_fact(ledger.rt, event)
    _, october_revenue = analytics.partner_history(ledger.rt, "northwind", P1, analytics._period("2026-10"))
    assert october_revenue == 2500.0


def test_a_draft_a_full_return_nets_to_0_00_is_not_issued_and_moves_no_rebate_or_kpi():
    # SOP-2.2: "Invoices with a total of USD 0.00 are not issued." A server shipped and returned on one October draft
    # (5,200.00 - 5,200.00) is such an invoice. Its lines still stand as posted (sales facts): PA-1.2 nets them to
    # 0.00 of Qualifying Revenue, PA-7.5 pays no SPIFF for a unit "returned within 30 days", KPIs read 0.00 for the
    # month; and the Quarter's run is not held by a draft that is never issued (docs/billing.md "Invoices").
    from revgov.services import analytics

    ledger = Ledger("2026-10-05T10:00:00Z")
    october = _ship(ledger, P1, "NW-SRV-R2", 1, "2026-10-05", "SO-Z1")
    assert _return(ledger, october, 1, "2026-10-12", "RMA-Z1")["status"] == "processed"
    october = ledger.invoice(P1, "2026-10")
    assert october["total"] == "0.00" and [ln["amount"] for ln in october["lines"]] == ["5200.00", "-5200.00"]
    ledger.clock.set("2026-11-02T09:00:00Z")
    with pytest.raises(RuleViolation, match=r"0\.00 is not issued"):
        billing.finalize_invoice(ledger.rt, FINANCE, october["invoice_id"])
    for envelope in ledger.rt.publisher.published:
        if envelope["detail_type"] == "invoice.lines_posted":
            event = {"source": envelope["source"], "detail-type": envelope["detail_type"], "detail": envelope["detail"]}
            analytics.record_fact(ledger.rt, event)
    _, october_revenue = analytics.partner_history(ledger.rt, "northwind", P1, analytics._period("2026-10"))
    assert october_revenue == 0.0
    statement = _statement(ledger, "2026-Q4", 1, "2027-01-05T09:00:00Z")
    assert _program(statement, "RBT-HW-SPIFF")["amount"] == "0.00"
    assert _program(statement, "RBT-VOLUME")["basis_revenue"] == "0.00"
    assert ledger.invoice(P1, "2026-10")["status"] == "draft"
    # PA-7.8 "with the rule and clause references used": each once (the SPIFF is its own rule)
    assert _program(statement, "RBT-HW-SPIFF")["rules"] == [{"rule_id": "RBT-HW-SPIFF", "clause": "PA-7.5"}]
