"""A shipment is billed once, whatever ERP id it comes under; a split shipment is billed part by part.

PA-10.1: "The Distributor issues one invoice per Partner per Billing Month, covering all billable events of that month
[...]. Each invoice line identifies the billable event (shipment, activation, subscription period, usage, milestone or
adjustment), the service period where applicable, the order reference and the Product Family." (CPA-10.1: "identify
for each line the event, service period, order reference and Product Family".) The ERP id only deduplicates
deliveries of one event (SOP-3.1 "deduplicated by event id"); a shipment sent again under a new id is still one
billable event. SOP-4.1: "An item that matches no category goes to channel_ops for triage within 8 hours."
PA-6.1's price list: NW-SRV-R2 USD 5,200.00, NW-FW-200 USD 3,400.00.
A fixed clock: nothing depends on today's date. Runs on SQLite and DynamoDB too (tests/integration/test_engine_parity).
"""

from __future__ import annotations

from memory_store import Ledger

PARTNER = "ptr_01JBNWPARTNER0000000000001"


def _shipment(order_ref: str = "SO-DUP-1", **more: object) -> dict:
    return {"partner_id": PARTNER, "order_ref": order_ref, "shipped_on": "2026-10-20",
            "lines": [{"sku": "NW-SRV-R2", "quantity": 2}, {"sku": "NW-FW-200", "quantity": 1}], **more}  # fmt: skip


def _send(ledger: Ledger, data: dict, erp_id: str) -> dict:
    return ledger.receive("shipment.confirmed", data, occurred_at="2026-10-20T15:00:00Z", erp_id=erp_id)


def _october(ledger: Ledger) -> dict:
    return ledger.invoice(PARTNER, "2026-10")


def _duplicates(ledger: Ledger) -> list[dict]:
    return [e for e in ledger.exceptions() if e["category"] == "duplicate_shipment"]


def test_pa_10_1_the_same_shipment_under_a_second_erp_id_is_not_billed_twice():
    # 2 x 5,200.00 + 1 x 3,400.00 = 13,800.00, once; the second id is held with an exception naming the first.
    ledger = Ledger("2026-10-20T16:00:00Z")
    first = _send(ledger, _shipment(), "NW-ERP-SHP-DUP-1")
    second = _send(ledger, _shipment(), "NW-ERP-SHP-DUP-2")
    assert first["status"] == "processed" and second["status"] == "failed", second
    assert "NW-ERP-SHP-DUP-1" in second["reason"]
    october = _october(ledger)
    assert october["total"] == "13800.00"
    assert sorted(ln["amount"] for ln in october["lines"]) == ["10400.00", "3400.00"]
    (case,) = _duplicates(ledger)
    assert case["queue"] == "channel_ops"  # SOP-4.1: no category of the matrix -> triage
    assert case["partner_id"] == PARTNER and case["subject"] == {"kind": "erp_event", "id": second["event_id"]}
    cited = [(r["rule_id"], r["clause"]) for r in case["reasons"]]
    assert cited == [("ROUTE-TRIAGE", "SOP-4.1"), ("BILL-SHIPMENT-ONCE", "PA-10.1")]
    assert case["context"]["billed_by_erp_event_id"] == "NW-ERP-SHP-DUP-1"


def test_pa_10_1_the_same_lines_in_another_order_are_the_same_shipment():
    ledger = Ledger("2026-10-20T16:00:00Z")
    _send(ledger, _shipment(), "NW-ERP-SHP-ORD-1")
    shuffled = _shipment()
    shuffled["lines"] = list(reversed(shuffled["lines"]))
    assert _send(ledger, shuffled, "NW-ERP-SHP-ORD-2")["status"] == "failed"
    assert _october(ledger)["total"] == "13800.00"


def test_a_split_shipment_is_billed_part_by_part():
    # Parts of one order: another quantity, another day, or the same day and quantities under their own shipment_ref.
    ledger = Ledger("2026-10-22T16:00:00Z")
    _send(ledger, _shipment(), "NW-ERP-SPLIT-1")
    fewer = {**_shipment(), "lines": [{"sku": "NW-SRV-R2", "quantity": 1}]}
    assert _send(ledger, fewer, "NW-ERP-SPLIT-2")["status"] == "processed"
    later = {**_shipment(), "shipped_on": "2026-10-21"}
    assert ledger.receive("shipment.confirmed", later, occurred_at="2026-10-21T15:00:00Z",
                          erp_id="NW-ERP-SPLIT-3")["status"] == "processed"  # fmt: skip
    assert _october(ledger)["total"] == "32800.00"  # 13,800.00 + 5,200.00 + 13,800.00
    assert not _duplicates(ledger)


def test_shipment_refs_tell_parts_of_the_same_day_and_quantities_apart_and_name_a_repeat():
    ledger = Ledger("2026-10-20T16:00:00Z")
    assert _send(ledger, _shipment(shipment_ref="DN-1"), "NW-ERP-REF-1")["status"] == "processed"
    assert _send(ledger, _shipment(shipment_ref="DN-2"), "NW-ERP-REF-2")["status"] == "processed"
    assert _october(ledger)["total"] == "27600.00"
    # DN-1 again, even with other quantities (a repeat of the same delivery note, not a new shipment): held.
    again = {**_shipment(shipment_ref="DN-1"), "lines": [{"sku": "NW-SRV-R2", "quantity": 3}]}
    assert _send(ledger, again, "NW-ERP-REF-3")["status"] == "failed"
    assert _october(ledger)["total"] == "27600.00"
    assert len(_duplicates(ledger)) == 1


def test_the_delivery_report_of_a_shipment_billed_on_shipment_bills_nothing_more():
    # docs/billing.md: an ERP that learns the delivery "sends the shipment again, under a new ERP id [...] with the
    # same order_ref and its delivered_on"; northwind bills hardware on shipment (PA-10.2 "on shipment or
    # delivery"): the report is processed, nothing billed again, no exception. The report sent twice is a repeat.
    ledger = Ledger("2026-10-23T16:00:00Z")
    _send(ledger, _shipment(), "NW-ERP-DLV-1")
    delivered = _shipment(delivered_on="2026-10-22")
    report = ledger.receive("shipment.confirmed", delivered, occurred_at="2026-10-22T18:00:00Z", erp_id="NW-ERP-DLV-2")
    assert report["status"] == "processed", report
    assert _october(ledger)["total"] == "13800.00" and not _duplicates(ledger)
    again = ledger.receive("shipment.confirmed", delivered, occurred_at="2026-10-22T18:00:00Z", erp_id="NW-ERP-DLV-3")
    assert again["status"] == "failed"
    assert _october(ledger)["total"] == "13800.00" and len(_duplicates(ledger)) == 1


def test_cpa_10_1_contoso_holds_the_repeat_too_citing_its_clause():
    from revgov.ports import Changes, Put

    ledger = Ledger("2026-11-10T16:00:00Z", tenant="contoso")
    partner = "ptr_01JBCTSHPXNCE00000000000A1"
    certs = {c: {"cert_id": c, "holder": "S. Once", "earned_at": "2025-01-01", "expires_at": "2027-12-31"}
             for c in ("cert-collab-associate", "cert-secops-analyst", "cert-data-engineer", "cert-devices-field")}
    ledger.rt.store.commit("contoso", Changes(puts=[Put("PARTNER", partner, {
        "partner_id": partner, "legal_name": "Once GmbH", "partner_type": "msp", "status": "active", "tier": "elite",
        "country": "DE", "activated_at": "2025-01-01T00:00:00Z", "certifications": certs})]))  # fmt: skip
    sku = _contoso_shipment_sku(ledger)
    data = {"partner_id": partner, "order_ref": "SO-CT-1", "shipped_on": "2026-11-09", "delivered_on": "2026-11-10",
            "lines": [{"sku": sku, "quantity": 1}]}  # fmt: skip
    first = ledger.receive("shipment.confirmed", data, occurred_at="2026-11-10T12:00:00Z", erp_id="CT-SHP-1")
    assert first["status"] == "processed", first
    total = ledger.invoice(partner, "2026-11")["total"]
    second = ledger.receive("shipment.confirmed", data, occurred_at="2026-11-10T12:00:00Z", erp_id="CT-SHP-2")
    assert second["status"] == "failed"
    assert ledger.invoice(partner, "2026-11")["total"] == total
    (case,) = [e for e in ledger.exceptions() if e["category"] == "duplicate_shipment"]
    assert ("BILL-SHIPMENT-ONCE", "CPA-10.1") in [(r["rule_id"], r["clause"]) for r in case["reasons"]]
    assert case["queue"] == "channel_ops"  # COP-4.1: "Items matching no category go to channel_ops for triage"


def _contoso_shipment_sku(ledger: Ledger) -> str:
    from revgov.services import tenants

    tenant, _ = tenants.load_tenant(ledger.rt, "contoso")
    return next(p["sku"] for p in tenant.policy["billing"]["price_list"] if p.get("billing") == "shipment")


def test_sop_2_5_the_corrected_charge_after_a_full_credit_note_is_billed():
    # SOP-2.5: "An error is corrected by a credit note referencing the original invoice and lines, followed where
    # needed by a corrected charge on the next open invoice with the original service period." Both lines credited in
    # full (billing_error; each under SOP-2.5's USD 10,000.00 approval limit): the same shipment sent again is its
    # corrected charge, billed; sent a third time, held. 1 x 5,200.00 + 1 x 3,400.00 = 8,600.00.
    ledger = Ledger("2026-10-20T16:00:00Z")
    shipment = {**_shipment(), "lines": [{"sku": "NW-SRV-R2", "quantity": 1}, {"sku": "NW-FW-200", "quantity": 1}]}
    _send(ledger, shipment, "NW-ERP-CORR-1")
    october = _october(ledger)
    ledger.clock.set("2026-11-03T10:00:00Z")
    for line in october["lines"]:
        credit = {"partner_id": PARTNER, "credit_note_ref": f"CN-CORR-{line['number']}",
                  "invoice_id": october["invoice_id"], "line_no": line["number"], "reason": "billing_error",
                  "amount": line["amount"], "issued_on": "2026-11-03"}  # fmt: skip
        assert ledger.receive("credit_note.issued", credit, occurred_at="2026-11-03T09:00:00Z")["status"] == "processed"
    corrected = ledger.receive("shipment.confirmed", shipment, occurred_at="2026-11-03T09:30:00Z",
                               erp_id="NW-ERP-CORR-2")  # fmt: skip
    assert corrected["status"] == "processed", corrected
    # October's draft carries the first charge and the corrected one; November the two credit notes: 8,600.00 net.
    october, november = _october(ledger), ledger.invoice(PARTNER, "2026-11")
    charged = sorted(ln["amount"] for ln in october["lines"] if ln["kind"] == "shipment")
    assert charged == ["3400.00", "3400.00", "5200.00", "5200.00"]
    assert (october["total"], november["total"]) == ("17200.00", "-8600.00")
    assert not _duplicates(ledger)
    third = ledger.receive("shipment.confirmed", shipment, occurred_at="2026-11-03T09:30:00Z",
                           erp_id="NW-ERP-CORR-3")  # fmt: skip
    assert third["status"] == "failed" and len(_duplicates(ledger)) == 1


def test_a_shipment_credited_only_in_part_is_still_held_when_sent_again():
    # One of the two lines credited: the shipment still stands billed; the repeat would bill the server line twice.
    ledger = Ledger("2026-10-20T16:00:00Z")
    _send(ledger, _shipment(), "NW-ERP-PART-1")
    october = _october(ledger)
    firewall = next(ln for ln in october["lines"] if ln["sku"] == "NW-FW-200")
    ledger.clock.set("2026-11-03T10:00:00Z")
    credit = {"partner_id": PARTNER, "credit_note_ref": "CN-PART-1", "invoice_id": october["invoice_id"],
              "line_no": firewall["number"], "reason": "billing_error", "amount": "3400.00", "issued_on": "2026-11-03"}
    assert ledger.receive("credit_note.issued", credit, occurred_at="2026-11-03T09:00:00Z")["status"] == "processed"
    again = ledger.receive("shipment.confirmed", _shipment(), occurred_at="2026-11-03T09:30:00Z",
                           erp_id="NW-ERP-PART-2")  # fmt: skip
    assert again["status"] == "failed" and len(_duplicates(ledger)) == 1
    november = ledger.invoice(PARTNER, "2026-11")
    assert [ln["kind"] for ln in november["lines"]] == ["credit_note"]


# --- SOP-2.5: a credit note held for approval is not a credit yet ---------------------------------------------------
# SOP-2.5: "An error is corrected by a credit note referencing the original invoice and lines, followed where needed by
# a corrected charge on the next open invoice with the original service period. ... Credit notes above USD 10,000.00
# require approval by a member of the finance queue other than the preparer." A credit note above the limit is not
# issued until approved: until then the shipment still stands billed, and a repeat is held (SOP-4.1: triage) naming
# the held credit. 5 x NW-SRV-R2 at 5,200.00 = 26,000.00, credited in full (26,000.00 > 10,000.00: held).


def _held_full_credit(ledger: Ledger) -> tuple[dict, dict, dict]:
    """The 26,000.00 shipment billed in October, credited in full on 3 Nov (held), and its corrected charge sent while
    the credit waits: (the shipment, the held credit note, the corrected charge's outcome)."""
    from revgov.services import credit_notes

    shipment = {**_shipment("SO-HELD-1"), "lines": [{"sku": "NW-SRV-R2", "quantity": 5}]}
    _send(ledger, shipment, "NW-ERP-HELD-1")
    october = _october(ledger)
    assert october["total"] == "26000.00"
    ledger.clock.set("2026-11-03T10:00:00Z")
    (line,) = october["lines"]
    credit = {"partner_id": PARTNER, "credit_note_ref": "CN-HELD-1", "invoice_id": october["invoice_id"],
              "line_no": line["number"], "reason": "billing_error", "amount": "26000.00", "issued_on": "2026-11-03"}
    assert ledger.receive("credit_note.issued", credit, occurred_at="2026-11-03T09:00:00Z")["status"] == "processed"
    (hold,) = [s.data for s in ledger.rt.store.query("northwind", credit_notes.HOLDS, limit=10).items]
    assert (hold["amount"], hold["status"]) == ("26000.00", "pending_approval")
    corrected = ledger.receive("shipment.confirmed", shipment, occurred_at="2026-11-03T09:30:00Z",
                               erp_id="NW-ERP-HELD-2")  # fmt: skip
    return shipment, hold, corrected


def _decide(ledger: Ledger, hold: dict, outcome: str) -> None:
    from revgov.domain.access import Principal, Role
    from revgov.services import cases

    finance = Principal("northwind", Role.FINANCE, "key_finance_cn_2")
    cases.decide_case(ledger.rt, finance, "approval", hold["approval_id"], outcome, "checked against the order")


def _reapplied(ledger: Ledger, event_id: str) -> dict:
    """The held corrected charge as its credit note's approval put it back on the bus (nothing lost), as stored."""
    from revgov.services import erp

    (again,) = [e for e in ledger.rt.publisher.published if e["detail"].get("event_id") == event_id
                and e["detail"].get("replay")]  # fmt: skip
    assert again["detail"]["replay"] == 1
    stored = ledger.rt.store.get("northwind", erp.INBOUND, event_id)
    assert stored is not None
    return stored.data


def _november(ledger: Ledger) -> dict | None:
    """The partner's November invoice, None while nothing was posted in November (no credit note issued)."""
    from revgov.services import billing

    pointer = ledger.rt.store.get("northwind", billing.INVOICE_KEYS, f"{PARTNER}#2026-11")
    return billing.get_invoice(ledger.rt, "northwind", pointer.data["invoice_id"]) if pointer else None


def _billed(ledger: Ledger) -> list[str]:
    """Every shipment line charged for the partner, October and November (credit notes apart)."""
    lines = [*_october(ledger)["lines"], *(_november(ledger) or {}).get("lines", [])]
    return sorted(ln["amount"] for ln in lines if ln["kind"] == "shipment")


def test_sop_2_5_a_corrected_charge_while_the_full_credit_is_held_is_held_naming_it():
    ledger = Ledger("2026-10-20T16:00:00Z")
    _, hold, corrected = _held_full_credit(ledger)
    assert corrected["status"] == "failed", corrected  # not billed: the 26,000.00 still stands billed
    assert hold["hold_id"] in corrected["reason"] and hold["approval_id"] in corrected["reason"]
    (case,) = _duplicates(ledger)
    assert case["context"]["held_credit_notes"] == [{"hold_id": hold["hold_id"], "approval_id": hold["approval_id"]}]
    assert _billed(ledger) == ["26000.00"]
    # nothing of the held credit is on any invoice: October 26,000.00, nothing in November
    assert _october(ledger)["total"] == "26000.00" and _november(ledger) is None


def test_sop_2_5_the_held_credit_rejected_the_shipment_is_billed_once():
    from revgov.services import erp

    ledger = Ledger("2026-10-20T16:00:00Z")
    _, hold, corrected = _held_full_credit(ledger)
    _decide(ledger, hold, "rejected")
    assert not [e for e in ledger.rt.publisher.published  # nothing re-applies it: the credit is not issued
                if e["detail"].get("event_id") == corrected["event_id"] and e["detail"].get("replay")]  # fmt: skip
    # replayed by finance after the decision, the corrected charge is still a repeat: 26,000.00 billed once, no credit
    again = erp.replay(ledger.rt, "northwind", [corrected["event_id"]], "user:finance")
    assert again[0]["status"] == "replayed"
    replayed = ledger.rt.store.get("northwind", erp.INBOUND, corrected["event_id"])
    assert replayed is not None
    from revgov.services import billing

    assert billing.bill_erp_event(ledger.rt, replayed.data)["status"] == "failed"
    assert _billed(ledger) == ["26000.00"]
    assert _october(ledger)["total"] == "26000.00" and _november(ledger) is None  # no credit note issued


def test_sop_2_5_the_held_credit_approved_the_corrected_charge_is_billed():
    from revgov.services import billing

    ledger = Ledger("2026-10-20T16:00:00Z")
    _, hold, corrected = _held_full_credit(ledger)
    _decide(ledger, hold, "approved")
    assert billing.bill_erp_event(ledger.rt, _reapplied(ledger, corrected["event_id"]))["status"] == "processed"
    # October: 26,000.00 charged + 26,000.00 corrected charge (its original service period); November: -26,000.00
    assert _billed(ledger) == ["26000.00", "26000.00"]
    november = _november(ledger)
    assert november is not None and (_october(ledger)["total"], november["total"]) == ("52000.00", "-26000.00")
    # SOP-4.2: nothing is left for triage: billing resolved the repeat's duplicate_shipment exception citing SOP-2.5
    # (tests/scenarios/test_clause_audit9.py works the case; here it runs on every engine)
    (case,) = _duplicates(ledger)
    assert (case["status"], case["decision"]["resolved_by_rule"]["clause"]) == ("resolved", "SOP-2.5")


def test_sop_2_5_an_upheld_dispute_s_held_credit_note_is_no_credit_of_the_shipment_until_approved():
    # SOP-6.1 (4): "where the line was wrong, a credit note is issued under SOP-2.5 and, if needed, a corrected charge
    # is posted". The 26,000.00 line disputed in full and upheld: its credit note (26,000.00 > 10,000.00) waits for a
    # second finance member; the corrected charge sent meanwhile is held naming it; approved, its replay is billed.
    from revgov.domain.access import Principal, Role
    from revgov.services import billing, cases, invoice_disputes

    ledger = Ledger("2026-10-20T16:00:00Z")
    shipment = {**_shipment("SO-HELD-2"), "lines": [{"sku": "NW-SRV-R2", "quantity": 5}]}
    _send(ledger, shipment, "NW-ERP-HELD-D1")
    ledger.clock.set("2026-11-02T09:00:00Z")
    upholder = Principal("northwind", Role.FINANCE, "key_finance_cn_1")
    billing.finalize_invoice(ledger.rt, upholder, _october(ledger)["invoice_id"])
    ledger.clock.set("2026-11-05T09:00:00Z")
    partner = Principal("northwind", Role.PARTNER, "key_partner_cn", PARTNER)
    claim = {"line_no": 1, "amount": "26000.00", "reason": "billed in error"}
    dispute = invoice_disputes.file_dispute(ledger.rt, partner, _october(ledger)["invoice_id"], claim)
    cases.decide_case(ledger.rt, upholder, "approval", dispute["approval_id"], "approved", "order checked")
    resolved = invoice_disputes.get_dispute(ledger.rt, upholder, dispute["dispute_id"])["resolution"]
    hold = {"hold_id": resolved["credit_note_hold_id"], "approval_id": resolved["credit_note_approval_id"]}
    corrected = ledger.receive("shipment.confirmed", shipment, occurred_at="2026-11-05T08:30:00Z",
                               erp_id="NW-ERP-HELD-D2")  # fmt: skip
    assert corrected["status"] == "failed", corrected
    (case,) = _duplicates(ledger)
    assert case["context"]["held_credit_notes"] == [hold]
    assert _billed(ledger) == ["26000.00"]
    _decide(ledger, hold, "approved")
    assert billing.bill_erp_event(ledger.rt, _reapplied(ledger, corrected["event_id"]))["status"] == "processed"
    assert _billed(ledger) == ["26000.00", "26000.00"]  # charged, credited in full (approved), charged again: once


def test_pa_10_1_a_shipment_ref_is_one_delivery_note_whatever_its_case():
    # PA-10.1: each invoice line identifies "the billable event (shipment, ...)": a delivery note number names one
    # shipment, and ERPs and people spell it in either case (DN-7, dn-7). Decided: a shipment_ref is compared
    # without regard to case or surrounding whitespace (the schema's reference allows letters of both cases, so a
    # case-only difference is never two delivery notes the ERP would tell apart). 13,800.00 once.
    ledger = Ledger("2026-10-20T16:00:00Z")
    assert _send(ledger, _shipment(shipment_ref="DN-7"), "NW-ERP-CASE-1")["status"] == "processed"
    lower = _send(ledger, _shipment(shipment_ref="dn-7"), "NW-ERP-CASE-2")
    assert lower["status"] == "failed" and "NW-ERP-CASE-1" in lower["reason"], lower
    # the same note with other quantities (a repeat of the delivery note, as for DN-1 above): held too
    other = {**_shipment(shipment_ref="Dn-7"), "lines": [{"sku": "NW-SRV-R2", "quantity": 3}]}
    assert _send(ledger, other, "NW-ERP-CASE-3")["status"] == "failed"
    assert _october(ledger)["total"] == "13800.00" and len(_duplicates(ledger)) == 2
    # parts with their own, different refs are still told apart: DN-8 is a second shipment of the same content
    assert _send(ledger, _shipment(shipment_ref="dn-8"), "NW-ERP-CASE-4")["status"] == "processed"
    assert _october(ledger)["total"] == "27600.00"


def test_pa_10_1_a_ref_less_confirmation_and_its_lower_case_delivery_note_are_one_shipment():
    # A confirmation at goods issue named DN-9, its repeat without a ref, and another repeat naming dn-9: one shipment.
    ledger = Ledger("2026-10-20T16:00:00Z")
    assert _send(ledger, _shipment(shipment_ref="DN-9"), "NW-ERP-CASE-9")["status"] == "processed"
    assert _send(ledger, _shipment(), "NW-ERP-CASE-10")["status"] == "failed"
    assert _send(ledger, _shipment(shipment_ref="dn-9"), "NW-ERP-CASE-11")["status"] == "failed"
    assert _october(ledger)["total"] == "13800.00"


def test_the_identity_ignores_case_and_surrounding_whitespace_only():
    from revgov.domain.billing import shipment_identity

    base = {"shipped_on": "2026-10-20", "lines": [{"sku": "NW-SRV-R2", "quantity": 2}]}
    same = {shipment_identity({**base, "shipment_ref": ref}) for ref in ("DN-7", "dn-7", " Dn-7 ", "DN-7\t")}
    assert len(same) == 1
    assert shipment_identity({**base, "shipment_ref": "DN-70"}) not in same
    assert shipment_identity({**base, "shipment_ref": "DN 7"}) not in same  # inside the ref, a character counts
    # a blank ref names nothing: the shipment is known by its day and content, as without one
    assert shipment_identity({**base, "shipment_ref": "  "}) == shipment_identity(base)


def test_a_shipment_recorded_under_its_ref_as_sent_before_is_still_found(monkeypatch):
    # Before refs were compared without regard to case, a shipment was keyed by its ref exactly as sent. Such a
    # record (made here with that identity) is found by the same spelling, and by another one with the same content.
    from revgov.domain import billing as core
    from revgov.domain.canonical import sha256_hex

    ledger = Ledger("2026-10-20T16:00:00Z")
    with monkeypatch.context() as old:
        old.setattr(core, "shipment_identity", lambda data: sha256_hex({"shipment_ref": data["shipment_ref"]}))
        assert _send(ledger, _shipment(shipment_ref="dn-5"), "NW-ERP-OLD-1")["status"] == "processed"
    again = {**_shipment(shipment_ref="dn-5"), "lines": [{"sku": "NW-SRV-R2", "quantity": 1}]}
    assert _send(ledger, again, "NW-ERP-OLD-2")["status"] == "failed"  # its ref as sent then
    assert _send(ledger, _shipment(shipment_ref="DN-5"), "NW-ERP-OLD-3")["status"] == "failed"  # its content
    assert _october(ledger)["total"] == "13800.00"


def test_pa_10_1_the_order_reference_is_compared_as_the_delivery_note_is():
    # PA-10.1: each line identifies "the billable event (shipment, ...)" and "the order reference"; one shipment is
    # one billable event. `SO-DUP-1` and `so-dup-1` name one ERP order, as `DN-7` and `dn-7` name one delivery note
    # (1.50.1): the same shipment sent again under the order spelled otherwise is held, not billed twice.
    ledger = Ledger("2026-10-20T16:00:00Z")
    assert _send(ledger, _shipment("SO-DUP-1"), "NW-ERP-ORDCASE-1")["status"] == "processed"
    lower = _send(ledger, _shipment("so-dup-1"), "NW-ERP-ORDCASE-2")
    assert lower["status"] == "failed" and "NW-ERP-ORDCASE-1" in lower["reason"], lower
    # with a delivery note named: the note spelled otherwise too is the same shipment
    assert _send(ledger, _shipment("SO-DUP-2", shipment_ref="DN-1"), "NW-ERP-ORDCASE-3")["status"] == "processed"
    assert _send(ledger, _shipment("So-Dup-2", shipment_ref="dn-1"), "NW-ERP-ORDCASE-4")["status"] == "failed"
    assert _october(ledger)["total"] == "27600.00" and len(_duplicates(ledger)) == 2
    # another order (a character inside the ref counts) is another shipment
    assert _send(ledger, _shipment("SO-DUP-10"), "NW-ERP-ORDCASE-5")["status"] == "processed"
    assert _october(ledger)["total"] == "41400.00"


def test_the_order_of_a_shipment_ignores_case_and_surrounding_whitespace_only():
    from revgov.domain.billing import shipment_order

    assert {shipment_order({"order_ref": ref}) for ref in ("SO-1", "so-1", " So-1 ", "SO-1\t")} == {"SO-1"}
    assert shipment_order({"order_ref": "SO-10"}) != "SO-1" and shipment_order({"order_ref": "SO 1"}) != "SO-1"


def test_a_shipment_recorded_under_its_order_as_sent_before_is_still_found(monkeypatch):
    # Before orders were compared without regard to case, a shipment was keyed by its order_ref exactly as sent: such
    # a record (made here with that key) is still found when the shipment is sent again with that spelling.
    from revgov.domain import billing as core

    ledger = Ledger("2026-10-20T16:00:00Z")
    with monkeypatch.context() as old:
        old.setattr(core, "shipment_order", lambda data: data["order_ref"])
        assert _send(ledger, _shipment("so-old-1"), "NW-ERP-ORDOLD-1")["status"] == "processed"
    assert _send(ledger, _shipment("so-old-1"), "NW-ERP-ORDOLD-2")["status"] == "failed"
    assert _october(ledger)["total"] == "13800.00"
