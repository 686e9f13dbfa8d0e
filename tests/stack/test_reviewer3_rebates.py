"""Reviewer round 3: rebates end to end over HTTP, from Northwind's clauses alone (tenants/northwind/contracts/).

Each partner is a throwaway tenant's own (test_rebates_api's `tenant` fixture: northwind's policy, Silver resellers A, B
and C approved 2026-08-01), so nothing a shared tenant does in the background moves these figures. Prices are the
price list's (PA-6.1): NW-SW-24P 1,250.00, NW-SRV-R2 5,200.00 (hardware, SPIFF-eligible, PA-7.5).

Clauses relied on:
PA-7.2: "tiered and retroactive: the rate of the highest threshold reached applies to all Qualifying Revenue of the
Quarter, from the first dollar" (1,000,000.00 and above: 4.0%; 100,000.00 to 249,999.99: 1.0%).
PA-7.4: a partner approved 2026-08-01 has its first full Quarter in 2026-Q4: "No growth rebate is earned for any
Quarter up to and including the Partner's first full Quarter" (2026-Q3: no growth rebate).
PA-7.5: "USD 40.00 per unit [...] The SPIFF is capped at 500 units, that is USD 20,000.00, per Partner per Quarter."
PA-7.6: "The sum of the quarterly volume rebate and the growth rebate [...] may not exceed the lower of (a) 5.0% of the
Partner's Qualifying Revenue for that Quarter and (b) USD 150,000.00 [...] The SPIFF cap in PA-7.5 applies
separately."
PA-7.7(d): "no line may earn the same incentive twice"; PA-10.1 (tenant.yaml BILL-SHIPMENT-ONCE): a shipment is
billed once, whatever ERP id it is sent under.
PA-7.9: "A Partner may dispute a settlement statement within 60 days of its date [...] Disputes submitted [...]
without evidence, are not accepted. [...] An upheld dispute is paid by adjustment in the next settlement, or by
separate credit note if the next settlement is more than 30 days away."
SOP-7.2: "by Q + 45 days, settlement statements and credit notes are issued" (the next settlement's day).
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from test_rebates_api import _settle, _statement, tenant  # noqa: F401  (the throwaway rebate tenant fixture)

from billing_support import erp_event, wait_until
from revgov.ports import Changes, Put
from support import Api, assert_problem

pytestmark = pytest.mark.stack


def _programs(accrual: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["program_id"]: p for p in accrual["programs"]}


def _lines(statement: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {ln["program_id"]: ln for ln in statement["lines"] if ln["kind"] == "settlement"}


def _finance_key(tenant: Any, api: Api, label: str) -> Api:  # noqa: F811
    minted = tenant.admin.post("/v1/keys", {"role": "finance", "label": label})
    assert minted.status_code == 201, minted.text
    return api.as_key(minted.json()["key"])


def test_top_band_with_the_usd_150000_cap_and_the_500_unit_spiff_cap(tenant):  # noqa: F811
    """One shipment on 2026-09-10: 700 x NW-SRV-R2 at 5,200.00 = 3,640,000.00 and 288 x NW-SW-24P at 1,250.00 =
    360,000.00; Qualifying Revenue 4,000,000.00.
    Volume (PA-7.2): band 1,000,000.00+ -> 4.0% x 4,000,000.00 = 160,000.00.
    Cap (PA-7.6): lower of 5.0% x 4,000,000.00 = 200,000.00 and 150,000.00 = 150,000.00; no growth (PA-7.4) to reduce
    first, so the volume rebate is cut to 150,000.00 (10,000.00 not carried forward).
    SPIFF (PA-7.5): 700 units, capped at 500 -> 500 x 40.00 = 20,000.00 (its own cap, PA-7.6 "applies separately").
    Growth: 0.00 (first full Quarter is 2026-Q4). Total payable: 150,000.00 + 20,000.00 = 170,000.00."""
    tenant.send([{
        "id": "RV3-CAP-A", "type": "shipment.confirmed", "occurred_at": "2026-09-10T10:00:00Z",
        "data": {"partner": "A", "order_ref": "SO-RV3-CAP", "shipped_on": "2026-09-10",
                 "lines": [{"sku": "NW-SRV-R2", "quantity": 700}, {"sku": "NW-SW-24P", "quantity": 288}]},
    }])
    accrual = tenant.wait_for_accrual("A", "2026-Q3", "170000.00")
    programs = _programs(accrual)
    assert programs["RBT-VOLUME"]["basis_revenue"] == "4000000.00"
    assert programs["RBT-VOLUME"]["tier_reached"]["rule_id"] == "RBT-VOLUME-T4"
    assert programs["RBT-VOLUME"]["payable"] == "150000.00"
    assert programs["RBT-HW-SPIFF"]["payable"] == "20000.00"
    assert programs["RBT-GROWTH"]["payable"] == "0.00"

    settled = _settle(tenant, "2026-Q3")
    assert settled.status_code == 201, settled.text
    statement = _statement(tenant, tenant.finance, settled.json()["settlement_id"], "A").json()["statement"]
    lines = _lines(statement)
    assert lines["RBT-VOLUME"]["amount"] == "150000.00"
    assert lines["RBT-HW-SPIFF"]["amount"] == "20000.00"
    # PA-7.8: the statement lists "the caps applied [...] with the rule and clause references used"
    assert any(r["clause"] == "PA-7.6" for r in lines["RBT-VOLUME"]["rules"]), lines["RBT-VOLUME"]
    assert any(r["clause"] == "PA-7.5" for r in lines["RBT-HW-SPIFF"]["rules"]), lines["RBT-HW-SPIFF"]
    (mine,) = [p for p in settled.json()["partners"] if p["partner_id"] == tenant.partner_ids["A"]]
    assert mine["total"] == "170000.00"


def test_the_same_shipment_under_a_second_erp_id_earns_its_rebate_and_spiff_once(tenant):  # noqa: F811
    """B ships 30 x NW-SRV-R2 on 2026-09-14 (order SO-RV3-DUP); the ERP sends it again under another event id, same
    order, day, SKU and quantity (PA-10.1: billed once; PA-7.7(d): "no line may earn the same incentive twice").
    Qualifying Revenue 30 x 5,200.00 = 156,000.00 -> 1.0% (PA-7.2) = 1,560.00; SPIFF 30 x 40.00 = 1,200.00;
    total 2,760.00. Counted twice it would be 312,000.00 -> 2.0% = 6,240.00 and 60 units = 2,400.00."""
    shipment = {"type": "shipment.confirmed", "occurred_at": "2026-09-14T10:00:00Z",
                "data": {"partner": "B", "order_ref": "SO-RV3-DUP", "shipped_on": "2026-09-14",
                         "lines": [{"sku": "NW-SRV-R2", "quantity": 30}]}}
    tenant.send([{**shipment, "id": "RV3-DUP-1"}])
    tenant.wait_for_accrual("B", "2026-Q3", "2760.00")
    (again,) = tenant.send([{**shipment, "id": "RV3-DUP-2"}], settled=("processed", "failed"))
    # held at billing, a duplicate_shipment exception; SOP-4.1: "An item that matches no category goes to
    # channel_ops for triage"
    triage = tenant.channel_ops.get("/v1/exceptions", queue="channel_ops", limit=200).json()["items"]
    (held,) = [e for e in triage if e["category"] == "duplicate_shipment"]
    assert held["subject"]["id"] == again and held["partner_id"] == tenant.partner_ids["B"]
    wait_until(tenant.all_facts_projected, 30, what="rebate lines")
    accrual = tenant.accrual(tenant.finance, "B", "2026-Q3") or {}
    assert accrual.get("total") == "2760.00", accrual
    programs = _programs(accrual)
    assert (programs["RBT-VOLUME"]["basis_revenue"], programs["RBT-VOLUME"]["payable"]) == ("156000.00", "1560.00")
    assert (programs["RBT-HW-SPIFF"]["units"], programs["RBT-HW-SPIFF"]["payable"]) == (30, "1200.00")
    invoices = tenant.finance.get("/v1/invoices", partner_id=tenant.partner_ids["B"], limit=200).json()["items"]
    billed = [ln for i in invoices for ln in tenant.finance.get(f"/v1/invoices/{i['invoice_id']}").json()["lines"]
              if ln.get("sku") == "NW-SRV-R2"]
    assert sum(int(ln["quantity"]) for ln in billed) == 30, billed  # billed once
    settled = _settle(tenant, "2026-Q3")
    assert settled.status_code == 201, settled.text
    statement = _statement(tenant, tenant.finance, settled.json()["settlement_id"], "B").json()["statement"]
    lines = _lines(statement)
    assert (lines["RBT-VOLUME"]["amount"], lines["RBT-HW-SPIFF"]["amount"]) == ("1560.00", "1200.00")


def test_an_upheld_dispute_is_paid_once_by_the_rule_of_pa_7_9(tenant, api):  # noqa: F811
    """A ships 80 x NW-SW-24P on 2026-09-03 = 100,000.00 -> exactly the 1.0% threshold (PA-7.2 "USD 100,000.00 to
    249,999.99: 1.0%"): 1,000.00. After settlement A disputes the volume line for 250.00 with an invoice as evidence
    (PA-7.9); a second finance member (not the preparer) upholds 200.00 of it.
    The next settlement (docs/rebates.md: the latest ended Quarter's run while it is not approved, else the Quarter in
    progress) is dated by SOP-7.2's Q + 45 days. Today (the stack clock) is after 2026-Q3; its issue-by day decides the
    route: more than
    30 days away -> a separate credit note of 200.00; otherwise an adjustment of 200.00 in that settlement. Either way,
    the 200.00 is paid once: a second run of 2026-Q3 carries no second payment of it.
    Bad input first: no evidence (PA-7.9 "without evidence, are not accepted") -> 400 naming /evidence; a rival's
    statement -> 404; nothing filed by either."""
    tenant.send([{
        "id": "RV3-DSP-A", "type": "shipment.confirmed", "occurred_at": "2026-09-03T10:00:00Z",
        "data": {"partner": "A", "order_ref": "SO-RV3-DSP", "shipped_on": "2026-09-03",
                 "lines": [{"sku": "NW-SW-24P", "quantity": 80}]},
    }])
    tenant.wait_for_accrual("A", "2026-Q3", "1000.00")
    settled = _settle(tenant, "2026-Q3")
    assert settled.status_code == 201, settled.text
    settlement_id = settled.json()["settlement_id"]
    statement = _statement(tenant, tenant.finance, settlement_id, "A").json()["statement"]
    assert _lines(statement)["RBT-VOLUME"]["amount"] == "1000.00"
    own, rival = tenant.partner_keys["A"], tenant.partner_keys["B"]
    # issued before the run (PA-1.2; rebate_runs.issue_months_over_http)
    invoices = tenant.finance.get("/v1/invoices", partner_id=tenant.partner_ids["A"], status="finalized",
                                  limit=200).json()["items"]
    (september,) = [i for i in invoices if i["period"] == "2026-09"]
    body = {"settlement_id": settlement_id, "partner_id": tenant.partner_ids["A"], "program_id": "RBT-VOLUME",
            "amount": "250.00", "reason": "our calculation: a credit note was wrongly netted",
            "evidence": [{"kind": "invoice", "reference": september["invoice_id"]}]}
    problem = assert_problem(own.post("/v1/rebates/disputes", {**body, "evidence": []}), 400)
    assert any(e["path"].startswith("/evidence") for e in problem["errors"]), problem
    assert_problem(rival.post("/v1/rebates/disputes", {**body, "partner_id": tenant.partner_ids["B"]}), 404)
    assert_problem(rival.post("/v1/rebates/disputes", body), 404)
    filed = own.post("/v1/rebates/disputes", body)
    assert filed.status_code == 201, filed.text
    dispute_id = filed.json()["dispute_id"]
    assert_problem(rival.get(f"/v1/rebates/disputes/{dispute_id}"), 404)
    # PA-7.9 "Finance [...] decides it"; docs/rebates.md: never the settlement's preparer
    assert_problem(tenant.finance.post(f"/v1/rebates/disputes/{dispute_id}/resolve",
                                       {"outcome": "accepted", "amount": "200.00", "reason": "PA-7.2"}), 403)
    decider = _finance_key(tenant, api, "dispute decider")
    for bad in ({"outcome": "accepted", "amount": "300.00", "reason": "more than disputed"},
                {"outcome": "accepted", "amount": "200.00"}):
        assert tenant.finance_2.post(f"/v1/rebates/disputes/{dispute_id}/resolve", bad).status_code in (400, 422)
    decided = decider.post(f"/v1/rebates/disputes/{dispute_id}/resolve",
                           {"outcome": "accepted", "amount": "200.00", "reason": "PA-7.2: one invoice line missed"})
    assert decided.status_code == 200, decided.text
    dispute = decided.json()
    today = date.fromisoformat(tenant.rt.clock.now_iso()[:10])
    issue_by = _next_settlement_issue_by(today)
    separate = (issue_by - today).days > 30  # PA-7.9
    payment = dispute["resolution"]["payment"]
    assert payment["method"] == ("credit_note" if separate else "next_settlement"), (today, issue_by, payment)
    if separate:
        pending = tenant.finance.get("/v1/approvals", status="pending", queue="finance", limit=200).json()["items"]
        (case,) = [a for a in pending if a["category"] == "rebate_credit_note"]
        # the decider does not approve its own credit note (SOP-4.3 segregation of duties)
        assert_problem(decider.post(f"/v1/approvals/{case['approval_id']}/decision",
                                    {"outcome": "approved", "note": "self"}), 403)
        approved = tenant.finance_2.post(f"/v1/approvals/{case['approval_id']}/decision",
                                         {"outcome": "approved", "note": "PA-7.9 separate credit note"})
        assert approved.status_code == 200, approved.text
    # the next run of the Quarter does not pay the upheld 200.00 a second time once it is credited
    second = _settle(tenant, "2026-Q3", run=2)
    assert second.status_code == 201, second.text
    again = _statement(tenant, tenant.finance, second.json()["settlement_id"], "A")
    # a run with nothing for A has no statement of A's (404); otherwise its dispute lines
    assert again.status_code in (200, 404), again.text
    lines = again.json()["statement"]["lines"] if again.status_code == 200 else []
    paid_again = [ln for ln in lines if ln["kind"] == "dispute_adjustment"]
    assert [ln["amount"] for ln in paid_again] == ([] if separate else ["200.00"]), paid_again


def _next_settlement_issue_by(today: date) -> date:
    """docs/rebates.md (PA-7.9): "the next settlement is the run of the latest ended period of the statement's kind
    whose run 1 is not approved, else of the period in progress, dated by its SOP-7.2 issue-by day (Q + 45)". These
    tests' tenants settle 2026-Q3 only: once the clock is past 2026-Q4, that ended Quarter is the next settlement."""
    latest_ended = date(today.year, ((today.month - 1) // 3) * 3 + 1, 1) - timedelta(days=1)
    quarter_end = _quarter_end(today) if latest_ended <= date(2026, 9, 30) else latest_ended
    return quarter_end + timedelta(days=45)  # SOP-7.2 "by Q + 45 days"


def _quarter_end(day: date) -> date:
    """The last day of the Quarter in progress on `day` (PA-1.1 "a calendar quarter")."""
    month = ((day.month - 1) // 3 + 1) * 3
    first_next = date(day.year + (month == 12), month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def test_the_statement_lists_per_program_revenue_rate_and_amount_for_the_partner_only(tenant):  # noqa: F811
    """PA-7.8: "The settlement statement lists, per program, the Qualifying Revenue, the rate or unit amount applied,
    the caps applied [...] and the amount payable". A ships 200 x NW-SW-24P on 2026-09-21 = 250,000.00 -> exactly
    the 2.0% threshold: 5,000.00; B's statement is not A's to read (404), and A's own read names no other partner."""
    tenant.send([{
        "id": f"RV3-STM-{uuid.uuid4().hex[:4]}", "type": "shipment.confirmed", "occurred_at": "2026-09-21T10:00:00Z",
        "data": {"partner": "A", "order_ref": "SO-RV3-STM", "shipped_on": "2026-09-21",
                 "lines": [{"sku": "NW-SW-24P", "quantity": 200}]},
    }])
    tenant.wait_for_accrual("A", "2026-Q3", "5000.00")
    settled = _settle(tenant, "2026-Q3")
    assert settled.status_code == 201, settled.text
    read = _statement(tenant, tenant.partner_keys["A"], settled.json()["settlement_id"])
    assert read.status_code == 200, read.text
    line = _lines(read.json()["statement"])["RBT-VOLUME"]
    assert line["amount"] == "5000.00"
    text = str(line)
    assert "250000.00" in text and ("2.0" in text), line
    assert tenant.partner_ids["B"] not in read.text and tenant.partner_ids["C"] not in read.text


def test_spiff_lines_count_for_volume_but_not_for_growth(tenant):  # noqa: F811
    """PA-7.7(b): "revenue on hardware lines that earn the SPIFF counts towards the volume rebate but is excluded from
    incremental revenue for the growth rebate". A, approved 2025-01-01 (a full 2025-Q3, so PA-7.3's baseline, not
    PA-7.4's), had 2025-Q3 Qualifying Revenue of 160 x 1,250.00 = 200,000.00 (go-live history import).
    2026-Q3: 200 x NW-SW-24P = 250,000.00 and 10 x NW-SRV-R2 = 52,000.00 (SPIFF-earning); QR 302,000.00.
    Volume (PA-7.2): 2.0% x 302,000.00 = 6,040.00 (the server lines count).
    Growth (PA-7.3): incremental without the SPIFF lines 250,000.00 - 200,000.00 = 50,000.00 (at least 10% above the
    baseline either way) -> 2.0% = 1,000.00 (with them it would be 2.0% x 102,000.00 = 2,040.00).
    SPIFF (PA-7.5): 10 x 40.00 = 400.00. Cap (PA-7.6): 5.0% x 302,000.00 = 15,100.00 does not bind.
    Total 6,040.00 + 1,000.00 + 400.00 = 7,440.00."""
    approved = "2025-01-01T00:00:00Z"
    partner_id = tenant.partner_ids["A"]
    stored = tenant.rt.store.get(tenant.tenant_id, "PARTNER", partner_id)
    history = [{**stored.data["history"][0], "at": approved}, *stored.data["history"][1:]]
    tenant.rt.store.commit(tenant.tenant_id, Changes(puts=[
        Put("PARTNER", partner_id, {**stored.data, "activated_at": approved, "history": history})]))
    imported = tenant.finance.post("/v1/history/imports", {"source": "reviewer3-go-live.json", "lines": [
        {"partner_id": partner_id, "invoice_ref": "ERP-2025-RV3", "invoice_date": "2025-08-20",
         "line_ref": "L-2025-RV3", "sku": "NW-SW-24P", "quantity": "160", "amount": "200000.00"}]})
    assert imported.status_code in (200, 201), imported.text
    tenant.send([{
        "id": "RV3-GRW-A", "type": "shipment.confirmed", "occurred_at": "2026-09-08T10:00:00Z",
        "data": {"partner": "A", "order_ref": "SO-RV3-GRW", "shipped_on": "2026-09-08",
                 "lines": [{"sku": "NW-SW-24P", "quantity": 200}, {"sku": "NW-SRV-R2", "quantity": 10}]},
    }])
    accrual = tenant.wait_for_accrual("A", "2026-Q3", "7440.00")
    programs = _programs(accrual)
    assert (programs["RBT-VOLUME"]["basis_revenue"], programs["RBT-VOLUME"]["payable"]) == ("302000.00", "6040.00")
    assert programs["RBT-GROWTH"]["payable"] == "1000.00", programs["RBT-GROWTH"]
    assert programs["RBT-HW-SPIFF"]["payable"] == "400.00"


def test_only_a_unit_returned_within_30_days_of_shipment_loses_its_spiff(tenant):  # noqa: F811
    """PA-7.5: the SPIFF is earned on units "invoiced in the Quarter and not returned within 30 days of shipment".
    B ships 10 x NW-SRV-R2 on 2026-09-14 (52,000.00). One unit comes back on 2026-10-10 (26 days after shipment),
    another on 2026-10-20 (36 days after): each a 5,200.00 return credit (SOP-2.5: not above 10,000.00, no approval).
    SPIFF: 10 - 1 = 9 units x 40.00 = 360.00 (the unit returned after 30 days keeps it).
    Volume (PA-1.2, "net of all credit notes issued against those invoices, whenever issued"): 52,000.00 - 10,400.00
    = 41,600.00, below 100,000.00 -> 0.0% = 0.00. Growth: none (PA-7.4). Total 360.00."""
    tenant.send([{
        "id": "RV3-RET-B", "type": "shipment.confirmed", "occurred_at": "2026-09-14T10:00:00Z",
        "data": {"partner": "B", "order_ref": "SO-RV3-RET", "shipped_on": "2026-09-14",
                 "lines": [{"sku": "NW-SRV-R2", "quantity": 10}]},
    }])
    tenant.wait_for_accrual("B", "2026-Q3", "400.00")  # 10 x 40.00 before any return; 52,000.00 earns no volume
    invoices = tenant.finance.get("/v1/invoices", partner_id=tenant.partner_ids["B"], limit=200).json()["items"]
    (september,) = [i for i in invoices if i["period"] == "2026-09"]
    tenant.send([
        {"id": f"RV3-RMA-{day}", "type": "return.received", "occurred_at": f"2026-10-{day}T12:00:00Z",
         "data": {"partner": "B", "rma_ref": f"RMA-RV3-{day}", "invoice_id": september["invoice_id"], "line_no": 1,
                  "quantity": 1, "returned_on": f"2026-10-{day}"}}
        for day in ("10", "20")
    ])
    wait_until(tenant.all_facts_projected, 30, what="rebate lines")
    accrual = tenant.wait_for_accrual("B", "2026-Q3", "360.00")
    programs = _programs(accrual)
    assert (programs["RBT-HW-SPIFF"]["units"], programs["RBT-HW-SPIFF"]["payable"]) == (9, "360.00"), programs
    assert (programs["RBT-VOLUME"]["basis_revenue"], programs["RBT-VOLUME"]["payable"]) == ("41600.00", "0.00")


def test_a_partner_may_dispute_a_program_its_statement_paid_nothing_for(tenant, api):  # noqa: F811
    """PA-7.9: a dispute "identifies the Quarter and program, the amount disputed and the evidence relied on" — a
    partner that believes it earned a SPIFF its statement does not pay may dispute that program. A ships
    80 x NW-SW-24P on 2026-09-03 (100,000.00: volume 1.0% = 1,000.00, no hardware: SPIFF 0.00). After settlement A
    disputes RBT-HW-SPIFF for 40.00 with an order reference as evidence: filed (201), its settled amount 0.00, for
    finance to decide; upheld by a finance member other than the preparer, it is paid by PA-7.9's rule like any
    upheld dispute. A program of no Quarter's statement (RBT-REFERRAL, a monthly commission, PA-8.1/8.2) or one the
    policy does not have is still refused (422), nothing filed.
    (Before this round the dispute was refused: "the statement has no line for RBT-HW-SPIFF".)"""
    tenant.send([{
        "id": "RV3-DSP0-A", "type": "shipment.confirmed", "occurred_at": "2026-09-03T10:00:00Z",
        "data": {"partner": "A", "order_ref": "SO-RV3-DSP0", "shipped_on": "2026-09-03",
                 "lines": [{"sku": "NW-SW-24P", "quantity": 80}]},
    }])
    tenant.wait_for_accrual("A", "2026-Q3", "1000.00")
    settled = _settle(tenant, "2026-Q3")
    assert settled.status_code == 201, settled.text
    filed = tenant.partner_keys["A"].post("/v1/rebates/disputes", {
        "settlement_id": settled.json()["settlement_id"], "partner_id": tenant.partner_ids["A"],
        "program_id": "RBT-HW-SPIFF", "amount": "40.00", "reason": "one server on order SO-RV3-SRV was not counted",
        "evidence": [{"kind": "order", "reference": "SO-RV3-SRV"}]})
    assert filed.status_code == 201, filed.text
    dispute = filed.json()
    # PA-7.8 "lists, per program": the statement has the SPIFF's line at 0.00 (line 2, after the volume rebate's)
    assert (dispute["program_id"], dispute["settled_amount"], dispute["line_nos"]) == ("RBT-HW-SPIFF", "0.00", [2])
    for program in ("RBT-REFERRAL", "RBT-NOPE"):
        refused = tenant.partner_keys["A"].post("/v1/rebates/disputes", {
            "settlement_id": settled.json()["settlement_id"], "partner_id": tenant.partner_ids["A"],
            "program_id": program, "amount": "40.00", "reason": "not on the statement",
            "evidence": [{"kind": "order", "reference": "SO-RV3-SRV"}]})
        assert_problem(refused, 422)
    decided = tenant.finance_2.post(f"/v1/rebates/disputes/{dispute['dispute_id']}/resolve",
                                    {"outcome": "accepted", "reason": "PA-7.5: the server unit was missed"})
    assert decided.status_code == 200, decided.text
    resolution = decided.json()["resolution"]
    assert resolution["amount"] == "40.00" and resolution["payment"], resolution
    pending = tenant.finance.get("/v1/approvals", status="pending", queue="finance", limit=200).json()["items"]
    notes = [a for a in pending if a["category"] == "rebate_credit_note"]
    if resolution["payment"]["method"] == "credit_note":  # PA-7.9: a separate note, issued by another finance member
        (case,) = notes
        third = _finance_key(tenant, api, "credit note approver")
        issued = third.post(f"/v1/approvals/{case['approval_id']}/decision",
                            {"outcome": "approved", "note": "PA-7.9 separate credit note"})
        assert issued.status_code == 200, issued.text


def test_a_new_partners_growth_baseline_is_its_first_full_quarter_or_usd_100000(tenant):  # noqa: F811
    """PA-7.4: A and B approved on 2026-01-15, so not for the entire 2025-Q3; the first full Quarter is 2026-Q2. "the
    baseline is the greater of (a) the Partner's Qualifying Revenue in its first full Quarter as an approved Partner
    and (b) USD 100,000.00. No growth rebate is earned for any Quarter up to and including the Partner's first full
    Quarter."
    A: Q2 64 x 1,250.00 = 80,000.00 (no volume rebate below 100,000.00, no growth: first full Quarter); Q3
    120 x 1,250.00 = 150,000.00 against the baseline max(80,000.00, 100,000.00) = 100,000.00: 50% above, growth
    2.0% x 50,000.00 = 1,000.00; volume 1.0% x 150,000.00 = 1,500.00; cap 5.0% x 150,000.00 = 7,500.00 does not
    bind. Total 2,500.00.
    B: Q2 96 x 1,250.00 = 120,000.00 (volume 1.0% = 1,200.00; no growth); Q3 104 x 1,250.00 = 130,000.00 against
    120,000.00: 8.33% above, below PA-7.3's 10%: no growth; volume 1,300.00."""
    approved = "2026-01-15T09:00:00Z"
    puts = []
    for name in ("A", "B"):
        stored = tenant.rt.store.get(tenant.tenant_id, "PARTNER", tenant.partner_ids[name])
        history = [{**stored.data["history"][0], "at": approved}, *stored.data["history"][1:]]
        puts.append(Put("PARTNER", tenant.partner_ids[name], {**stored.data, "activated_at": approved,
                                                               "history": history}))
    tenant.rt.store.commit(tenant.tenant_id, Changes(puts=puts))
    tenant.send([
        {"id": f"RV3-NP-{name}-{q}", "type": "shipment.confirmed", "occurred_at": f"{day}T10:00:00Z",
         "data": {"partner": name, "order_ref": f"SO-RV3-NP-{name}-{q}", "shipped_on": day,
                  "lines": [{"sku": "NW-SW-24P", "quantity": quantity}]}}
        for name, q, day, quantity in (("A", 2, "2026-05-12", 64), ("A", 3, "2026-08-12", 120),
                                       ("B", 2, "2026-05-12", 96), ("B", 3, "2026-08-12", 104))
    ])
    q2_a = _programs(tenant.wait_for_accrual("A", "2026-Q2", "0.00"))
    assert q2_a["RBT-GROWTH"]["payable"] == "0.00" and q2_a["RBT-VOLUME"]["basis_revenue"] == "80000.00"
    q2_b = _programs(tenant.wait_for_accrual("B", "2026-Q2", "1200.00"))
    assert q2_b["RBT-GROWTH"]["payable"] == "0.00"
    q3_a = _programs(tenant.wait_for_accrual("A", "2026-Q3", "2500.00"))
    assert (q3_a["RBT-VOLUME"]["payable"], q3_a["RBT-GROWTH"]["payable"]) == ("1500.00", "1000.00"), q3_a
    q3_b = _programs(tenant.wait_for_accrual("B", "2026-Q3", "1300.00"))
    assert (q3_b["RBT-VOLUME"]["payable"], q3_b["RBT-GROWTH"]["payable"]) == ("1300.00", "0.00"), q3_b


def test_credit_notes_after_settlement_take_back_the_growth_rebate_too(tenant):  # noqa: F811
    """PA-7.10: after settlement, credit notes against the Quarter's invoices mean "the rebates for that Quarter are
    recomputed, including the applicable volume rebate rate, the growth rebate and the caps", the difference a
    separate, referenced line of the next settlement.
    A, approved 2025-01-01, had 2025-Q3 Qualifying Revenue 200,000.00 (go-live import). 2026-Q3: 240 x NW-SW-24P =
    300,000.00: volume 2.0% = 6,000.00; growth 2.0% x (300,000.00 - 200,000.00) = 2,000.00 (50% above the baseline);
    cap 5.0% x 300,000.00 = 15,000.00 does not bind; settled 8,000.00.
    Then nine credit notes against that line (eight of 10,000.00 = 8 switches each, one of 5,000.00 = 4 switches;
    none above SOP-2.5's 10,000.00): 85,000.00 in all, Q3 falls to 215,000.00: volume 1.0% = 2,150.00; growth
    215,000.00 is 7.5% above 200,000.00, below PA-7.3's 10%: 0.00. Adjustments: volume 2,150.00 - 6,000.00 =
    -3,850.00; growth 0.00 - 2,000.00 = -2,000.00."""
    approved = "2025-01-01T00:00:00Z"
    partner_id = tenant.partner_ids["A"]
    stored = tenant.rt.store.get(tenant.tenant_id, "PARTNER", partner_id)
    history = [{**stored.data["history"][0], "at": approved}, *stored.data["history"][1:]]
    tenant.rt.store.commit(tenant.tenant_id, Changes(puts=[
        Put("PARTNER", partner_id, {**stored.data, "activated_at": approved, "history": history})]))
    imported = tenant.finance.post("/v1/history/imports", {"source": "reviewer3-retro.json", "lines": [
        {"partner_id": partner_id, "invoice_ref": "ERP-2025-RV3R", "invoice_date": "2025-08-20",
         "line_ref": "L-2025-RV3R", "sku": "NW-SW-24P", "quantity": "160", "amount": "200000.00"}]})
    assert imported.status_code in (200, 201), imported.text
    tenant.send([{
        "id": "RV3-RETRO-A", "type": "shipment.confirmed", "occurred_at": "2026-09-09T10:00:00Z",
        "data": {"partner": "A", "order_ref": "SO-RV3-RETRO", "shipped_on": "2026-09-09",
                 "lines": [{"sku": "NW-SW-24P", "quantity": 240}]},
    }])
    accrual = _programs(tenant.wait_for_accrual("A", "2026-Q3", "8000.00"))
    assert (accrual["RBT-VOLUME"]["payable"], accrual["RBT-GROWTH"]["payable"]) == ("6000.00", "2000.00")
    first = _settle(tenant, "2026-Q3")
    assert first.status_code == 201, first.text
    invoices = tenant.finance.get("/v1/invoices", partner_id=partner_id, status="finalized", limit=200).json()["items"]
    (september,) = [i for i in invoices if i["period"] == "2026-09"]
    today = tenant.rt.clock.now_iso()[:10]
    sent = []
    for n, (amount, quantity) in enumerate([("10000.00", 8)] * 8 + [("5000.00", 4)]):
        data = {"partner_id": partner_id, "credit_note_ref": f"CN-RV3-{n}-{uuid.uuid4().hex[:6]}",
                "invoice_id": september["invoice_id"], "line_no": 1, "reason": "billing_error", "amount": amount,
                "quantity": quantity, "issued_on": today, "prepared_by": "reviewer3@northwind-erp"}
        answer = tenant.erp.post(erp_event("credit_note.issued", data, occurred_at=f"{today}T00:00:00Z",
                                           erp_id=f"RV3-CN-{n}-{uuid.uuid4().hex[:6]}"))
        assert answer.status_code == 202, answer.text
        sent.append(answer.json()["event_id"])
    wait_until(lambda: all(tenant._status(e) == "processed" for e in sent), 60, what=sent)
    tenant.wait_for_accrual("A", "2026-Q3", "2150.00")
    second = _settle(tenant, "2026-Q3", run=2)
    assert second.status_code == 201, second.text
    adjusted = _statement(tenant, tenant.finance, second.json()["settlement_id"], "A").json()["statement"]
    lines = {ln["program_id"]: ln for ln in adjusted["lines"] if ln["kind"] == "adjustment"}
    assert (lines["RBT-VOLUME"]["recomputed"], lines["RBT-VOLUME"]["amount"]) == ("2150.00", "-3850.00"), lines
    assert (lines["RBT-GROWTH"]["recomputed"], lines["RBT-GROWTH"]["amount"]) == ("0.00", "-2000.00"), lines
    assert all(len(ln["references"]["credit_notes"]) == 9 for ln in lines.values()), lines
