"""Clause audit, ninth round (auditor9): the leftovers of the earlier rounds. Where the product did something other
than the clause it cites, the clause won. Every figure is computed by hand from the clause quoted; fixed days only, no
wall clock.

The audit's record (each clause checked, where it is built, the verdict) is docs/clause-audit.md, "Ninth round
(auditor9)".
"""

from __future__ import annotations

from memory_store import Ledger

NW_PARTNER = "ptr_01JBNWPARTNER0000000000001"


def _northwind_cloud() -> Ledger:
    ledger = Ledger("2026-10-01T08:00:00Z")
    activation = {"partner_id": NW_PARTNER, "subscription_id": "SUB-A9-1", "sku": "NW-CLOUD-PLATFORM", "quantity": 1,
                  "activated_on": "2026-10-01", "order_ref": "SO-A9-1"}  # fmt: skip
    answer = ledger.receive("subscription.activated", activation, occurred_at="2026-10-01T07:00:00Z")
    assert answer["status"] == "processed", answer
    return ledger


def _cuh(ledger: Ledger, cuh: str, used_on: str, received_at: str) -> None:
    ledger.clock.set(received_at)
    data = {"partner_id": NW_PARTNER, "subscription_id": "SUB-A9-1", "metric": "cloud_compute", "quantity": cuh,
            "usage_date": used_on}  # fmt: skip
    answer = ledger.receive("usage.reported", data, occurred_at=f"{used_on}T23:00:00Z")
    assert answer["status"] == "processed", answer


def _usage_lines(ledger: Ledger, period: str) -> list[dict]:
    from revgov.services import billing

    if ledger.rt.store.get(ledger.tenant_id, billing.INVOICE_KEYS, f"{NW_PARTNER}#{period}") is None:
        return []  # no invoice for the month: no line either
    return [ln for ln in ledger.invoice(NW_PARTNER, period)["lines"] if ln["kind"] in ("usage", "usage_adjustment")]


def test_sop_3_1_a_months_only_usage_received_after_the_cut_off_is_an_adjustment_not_the_months_usage_line():
    """SOP-3.1: "Usage records received up to 5 calendar days after the end of the month are included in that month's
    rating; later records are rated in the next run as an adjustment carrying their original service period."
    SOP-3.2's example: "12,500 CUH are charged 1,000 x 0.12 + 9,000 x 0.10 + 2,500 x 0.08 = USD 1,220.00."
    SOP-3.4: "A usage adjustment for a previous month is rated as the difference between the re-rated total for that
    month and the total already invoiced". SOP-7.1: "on the 6th calendar day, usage for month M is rated and posted to
    the open invoice of the following month".

    October's only records (12,500 CUH) are received on 2026-11-06, after the 5 November cut-off: October's rating
    (posted to November's invoice) had none, so November carries no usage line. The record is rated by the next run
    (6 December, posted to December's invoice) as an adjustment with October's service period: 1,220.00 re-rated less
    0.00 invoiced = 1,220.00. Before, December carried it as kind `usage` (the month's own rating) because nothing had
    been invoiced for October before: the same figure under the label of an on-time rating, so an adjustment of a
    closed month read as a line of the rating run (SOP-2.2 "usage lines match the rating run")."""
    ledger = _northwind_cloud()
    _cuh(ledger, "10000", "2026-10-30", "2026-11-06T00:00:00Z")
    _cuh(ledger, "2500", "2026-10-31", "2026-11-20T10:00:00Z")
    assert _usage_lines(ledger, "2026-11") == []
    (line,) = _usage_lines(ledger, "2026-12")
    assert (line["kind"], line["amount"], line["quantity"]) == ("usage_adjustment", "1220.00", "12500")
    assert line["service_period"] == {"start": "2026-10-01", "end": "2026-10-31"}
    assert line["detail"]["invoiced_before"] == "0.00"
    assert "BILL-USAGE-CUTOFF" in line["rule_ids"] and "SOP-3.1" in line["clauses"]


def test_sop_3_1_usage_received_on_time_stays_the_months_usage_line():
    """SOP-3.1, the other side of the cut-off: 12,500 CUH of October received by 2026-11-05T23:59:59Z is "included in
    that month's rating": one `usage` line of 1,220.00 on November's invoice, no cut-off rule."""
    ledger = _northwind_cloud()
    _cuh(ledger, "12500", "2026-10-31", "2026-11-05T23:59:59Z")
    (line,) = _usage_lines(ledger, "2026-11")
    assert (line["kind"], line["amount"]) == ("usage", "1220.00")
    assert "BILL-USAGE-CUTOFF" not in line["rule_ids"]


def _held_corrected_charge(ledger: Ledger) -> tuple[dict, dict]:
    """PA-6.1's price list: NW-SRV-R2 USD 5,200.00. 5 shipped on 2026-10-20: 26,000.00 on October's invoice; a credit
    note of 26,000.00 on 3 November (above SOP-2.5's USD 10,000.00: held for a second finance member); the corrected
    charge (the same shipment under a new ERP id) sent while it waits: held as `duplicate_shipment` naming the held
    credit. Returns (the held credit note, the corrected charge's outcome)."""
    from revgov.services import credit_notes

    shipment = {"partner_id": NW_PARTNER, "order_ref": "SO-A9-CC", "shipped_on": "2026-10-20",
                "lines": [{"sku": "NW-SRV-R2", "quantity": 5}]}  # fmt: skip
    ledger.receive("shipment.confirmed", shipment, occurred_at="2026-10-20T15:00:00Z", erp_id="NW-ERP-A9-CC-1")
    october = ledger.invoice(NW_PARTNER, "2026-10")
    assert october["total"] == "26000.00"
    ledger.clock.set("2026-11-03T10:00:00Z")
    (line,) = october["lines"]
    credit = {"partner_id": NW_PARTNER, "credit_note_ref": "CN-A9-CC", "invoice_id": october["invoice_id"],
              "line_no": line["number"], "reason": "billing_error", "amount": "26000.00", "issued_on": "2026-11-03"}
    assert ledger.receive("credit_note.issued", credit, occurred_at="2026-11-03T09:00:00Z")["status"] == "processed"
    (hold,) = [s.data for s in ledger.rt.store.query("northwind", credit_notes.HOLDS, limit=10).items]
    corrected = ledger.receive("shipment.confirmed", shipment, occurred_at="2026-11-03T09:30:00Z",
                               erp_id="NW-ERP-A9-CC-2")  # fmt: skip
    assert corrected["status"] == "failed", corrected
    return hold, corrected


def _duplicate_case(ledger: Ledger, event_id: str) -> dict:
    (case,) = [c for c in ledger.exceptions()
               if c["category"] == "duplicate_shipment" and c["subject"]["id"] == event_id]  # fmt: skip
    return case


def _decide_credit(ledger: Ledger, hold: dict, outcome: str) -> None:
    from revgov.domain.access import Principal, Role
    from revgov.services import cases

    finance = Principal("northwind", Role.FINANCE, "key_finance_a9_2")
    cases.decide_case(ledger.rt, finance, "approval", hold["approval_id"], outcome, "checked against the order")


def test_sop_2_5_the_corrected_charge_billed_after_its_credit_is_approved_closes_its_duplicate_shipment_exception():
    """SOP-2.5: "An error is corrected by a credit note referencing the original invoice and lines, followed where
    needed by a corrected charge on the next open invoice with the original service period. [...] Credit notes above
    USD 10,000.00 require approval by a member of the finance queue other than the preparer." SOP-1.3: SLA hours are
    "measured from the time an item enters its queue until it is decided"; SOP-4.2: "When the SLA is breached, the
    exception is escalated to the queue lead [...]; after twice the SLA it is escalated to the head of the owning
    team." SOP-4.1: "An item that matches no category goes to channel_ops for triage within 8 hours."

    The corrected charge held while its 26,000.00 credit note waited is billed once the credit is approved
    (its replay, PA-6.1: 5 x 5,200.00 = 26,000.00 again). What the `duplicate_shipment` exception reported ("held,
    not billed: [...] billed before") no longer holds: the charge is billed as SOP-2.5's corrected charge. Before, the
    exception stayed open in triage, its 8 hours running out and escalating to the lead and, after 16 hours, to the
    head of channel ops for an item with nothing left to do. Now the billing of the replay resolves it in the same
    commit, citing the credit note rule (BILL-CREDIT-NOTES, SOP-2.5), recorded in the audit log."""
    from revgov.services import billing, erp

    ledger = Ledger("2026-10-20T16:00:00Z")
    hold, corrected = _held_corrected_charge(ledger)
    event_id = corrected["event_id"]
    assert _duplicate_case(ledger, event_id)["status"] == "open"
    ledger.clock.set("2026-11-03T11:00:00Z")
    _decide_credit(ledger, hold, "approved")
    replayed = ledger.rt.store.get("northwind", erp.INBOUND, event_id)
    assert replayed is not None
    assert billing.bill_erp_event(ledger.rt, replayed.data)["status"] == "processed"
    october = ledger.invoice(NW_PARTNER, "2026-10")
    assert october["total"] == "52000.00"  # 26,000.00 charged + 26,000.00 corrected charge; November -26,000.00
    case = _duplicate_case(ledger, event_id)
    assert case["status"] == "resolved"
    assert case["decision"]["resolved_by_rule"] == {"rule_id": "BILL-CREDIT-NOTES", "clause": "SOP-2.5"}
    assert hold["hold_id"] in case["decision"]["note"]
    resolved = [r for r in ledger.rt.store.query("northwind", "AUDIT", limit=1000).items
                if r.data.get("action") == "exception.resolved" and r.data.get("subject") == case["case_id"]]
    assert len(resolved) == 1 and "SOP-2.5" in resolved[0].data["clauses"]


def test_sop_2_5_the_corrected_charge_whose_credit_was_rejected_keeps_its_exception_open():
    """SOP-2.5 the other way: the 26,000.00 credit note rejected, nothing is credited and the shipment stands billed
    once; the repeat is a duplicate after all, and its exception stays open for triage to decide (SOP-4.1)."""
    ledger = Ledger("2026-10-20T16:00:00Z")
    hold, corrected = _held_corrected_charge(ledger)
    ledger.clock.set("2026-11-03T11:00:00Z")
    _decide_credit(ledger, hold, "rejected")
    assert _duplicate_case(ledger, corrected["event_id"])["status"] == "open"
    assert ledger.invoice(NW_PARTNER, "2026-10")["total"] == "26000.00"

