"""PA-1.2: "'Qualifying Revenue' for a period means Invoiced Revenue for invoices dated in that period"; PA-7.1: "for
invoices dated within the Quarter". A draft is not yet invoiced and has no date: it is dated when it is issued.
SOP-2.1: "The monthly invoice must be finalised and issued within 48 hours after the end of the Billing Month";
SOP-7.1: "by M + 48 hours, monthly invoices are finalised and issued"; SOP-7.2: preliminary figures by Q + 10 days,
the run approved by Q + 30. So every invoice of the Quarter is issued before a run of it is due, and a run prepared
while one is still a draft is refused (409 problem+json naming the drafts), nothing written; SOP-2.2: "Invoices with a
total of USD 0.00 are not issued", so such a draft never holds the run.

By hand: P1 (platinum) buys 30 x NW-SRV-R2 (hardware, SPIFF-eligible) on 2026-09-05; the September invoice is still a
draft on 2026-10-10: the 2026-Q3 run is refused, no settlement prepared. Issued on 2026-10-10 (the date it gets), the
run is prepared: 30 units x USD 40.00 = 1,200.00 SPIFF (PA-7.5).
"""

from __future__ import annotations

import pytest

from memory_store import Ledger
from rebate_runs import settle_approved
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Conflict
from revgov.services import billing, rebates

P1 = "ptr_01JBNWPARTNER0000000000001"
FINANCE = Principal("northwind", Role.FINANCE, "key_fin8d")


def _september() -> tuple[Ledger, str]:
    ledger = Ledger("2026-09-05T12:00:00Z")
    data = {"partner_id": P1, "order_ref": "SO-8D-1", "shipped_on": "2026-09-05",
            "lines": [{"sku": "NW-SRV-R2", "quantity": 30}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", data, occurred_at="2026-09-05T10:00:00Z")["status"] == "processed"
    return ledger, str(ledger.invoice(P1, "2026-09")["invoice_id"])


def test_pa_1_2_a_run_is_refused_while_an_invoice_of_the_quarter_is_a_draft():
    ledger, invoice_id = _september()
    ledger.clock.set("2026-10-10T09:00:00Z")
    with pytest.raises(Conflict) as refused:
        rebates.settle(ledger.rt, FINANCE, {"period": "2026-Q3"})
    extra = refused.value.extra
    assert (extra["refusal"], extra["clause"], extra["draft_count"]) == ("invoices_not_issued", "PA-1.2", 1)
    assert [(d["invoice_id"], d["partner_id"], d["period"]) for d in extra["draft_invoices"]] == [
        (invoice_id, P1, "2026-09")]
    listed = rebates.list_settlements(ledger.rt, FINANCE, period="2026-Q3", partner_id=None, status=None, limit=50,
                                      cursor=None)
    assert listed["items"] == []  # nothing prepared
    # issued, it is dated and counts: 30 units x 40.00
    billing.finalize_invoice(ledger.rt, FINANCE, invoice_id)
    status, run = settle_approved(ledger.rt, FINANCE, {"period": "2026-Q3"})
    assert status == 201 and run["status"] == "settled"
    statement = rebates.get_settlement(ledger.rt, FINANCE, run["settlement_id"], P1)["statement"]
    assert {ln["program_id"]: ln["amount"] for ln in statement["lines"]}["RBT-HW-SPIFF"] == "1200.00"


def test_sop_2_2_a_draft_of_0_00_never_holds_the_run():
    """SOP-2.2: "Invoices with a total of USD 0.00 are not issued". By hand: P1 ships 1 x NW-SRV-R2 (list 5,200.00,
    PRICE-NW-SRV-R2) on 2026-09-05 and returns it on 2026-09-10 (a credit note under SOP-2.5's 10,000.00, posted to
    the same draft): September's draft totals 5,200.00 - 5,200.00 = 0.00, is never issued, and the 2026-Q3 run is
    prepared on 2026-10-10 with it still a draft."""
    ledger = Ledger("2026-09-05T12:00:00Z")
    data = {"partner_id": P1, "order_ref": "SO-8D-0", "shipped_on": "2026-09-05",
            "lines": [{"sku": "NW-SRV-R2", "quantity": 1}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", data, occurred_at="2026-09-05T10:00:00Z")["status"] == "processed"
    invoice_id = ledger.invoice(P1, "2026-09")["invoice_id"]
    ledger.clock.set("2026-09-10T17:00:00Z")
    data = {"partner_id": P1, "rma_ref": "RMA-8D-0", "invoice_id": invoice_id, "line_no": 1, "quantity": 1,
            "returned_on": "2026-09-10"}  # fmt: skip
    assert ledger.bill("return.received", data, occurred_at="2026-09-10T16:00:00Z")["status"] == "processed"
    invoice = ledger.invoice(P1, "2026-09")
    assert (invoice["status"], invoice["total"]) == ("draft", "0.00")
    ledger.clock.set("2026-10-10T09:00:00Z")
    status, prepared = rebates.settle(ledger.rt, FINANCE, {"period": "2026-Q3"})
    assert (status, prepared["status"]) == (201, "prepared")
    assert ledger.invoice(P1, "2026-09")["status"] == "draft"


def test_cpa_1_2_contoso_refuses_the_same_way_and_nothing_is_written():
    """CPA-1.2: "'Qualifying Revenue' for a period means Invoiced Revenue for invoices dated in that period"; CPA-7.1
    "for invoices dated within the Quarter". By hand: a contoso partner ships 10 x CT-DEV-DOCK on 2026-08-03; on
    2026-10-05 August's invoice is a draft: the 2026-Q3 run is refused citing CPA-1.2, no audit record, no run; a
    second partner's draft of 2026-07 is named too (two drafts, oldest month first)."""
    ledger = Ledger("2026-07-20T12:00:00Z", tenant="contoso")
    first, second = (p["partner_id"] for p in ledger.partners[:2])
    for partner, on in ((second, "2026-07-20"), (first, "2026-08-03")):
        ledger.clock.set(f"{on}T12:00:00Z")
        data = {"partner_id": partner, "order_ref": f"SO-{on}", "shipped_on": on, "delivered_on": on,
                "lines": [{"sku": "CT-DEV-DOCK", "quantity": 10}]}  # fmt: skip
        assert ledger.bill("shipment.confirmed", data, occurred_at=f"{on}T10:00:00Z")["status"] == "processed"
    finance = Principal("contoso", Role.FINANCE, "key_fin8d")
    before = len(ledger.rt.store.audit_records("contoso"))
    ledger.clock.set("2026-10-05T09:00:00Z")
    with pytest.raises(Conflict) as refused:
        rebates.settle(ledger.rt, finance, {"period": "2026-Q3"})
    extra = refused.value.extra
    assert (extra["refusal"], extra["rule_id"], extra["clause"], extra["draft_count"]) == (
        "invoices_not_issued", "RBT-QUALIFYING-REVENUE", "CPA-1.2", 2)
    named = [(d["partner_id"], d["period"]) for d in extra["draft_invoices"]]
    assert named == [(second, "2026-07"), (first, "2026-08")]
    assert len(ledger.rt.store.audit_records("contoso")) == before
    assert rebates.list_settlements(ledger.rt, finance, period=None, partner_id=None, status=None, limit=50,
                                    cursor=None)["items"] == []  # fmt: skip


def test_the_openapi_document_states_the_refusal_as_the_service_gives_it():
    """The preparation route's 409 example (docs) names the fields the refusal carries."""
    import revgov.edge.api  # noqa: F401  (fills the route table)
    from revgov.edge.openapi import document

    ledger, _ = _september()
    ledger.clock.set("2026-10-10T09:00:00Z")
    with pytest.raises(Conflict) as refused:
        rebates.settle(ledger.rt, FINANCE, {"period": "2026-Q3"})
    for path in ("/v1/rebates/settlements", "/v1/rebates/settlements/{settlement_id}/approve"):
        op = document()["paths"][path]["post"]
        example = op["responses"]["409"]["content"]["application/problem+json"]["examples"]["default"]["value"]
        assert set(refused.value.extra) <= set(example) and example["refusal"] == "invoices_not_issued"
        assert set(example["draft_invoices"][0]) == set(refused.value.extra["draft_invoices"][0])
