"""Rebates on the running stack: ERP events → billing → sales facts → accruals (event driven) → settlement, with
partner keys seeing only their own accruals, statements and disputes (tests/scenarios/rebates/http/flows.json)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import clock_support
from billing_support import ErpSender, erp_event, settle, ship_to_of, wait_until
from rebate_runs import issue_months, issue_months_over_http, settle_approved, settle_over_http
from revgov.ports import Changes, Put
from revgov.tenant_files import load_tenant_file
from support import ROOT, Api, assert_problem, scenario

FLOWS = scenario("rebates/http/flows.json")
CERT = {"cert_id": "cert-network-core", "holder": "R. Engineer", "earned_at": "2025-01-01", "expires_at": "2027-12-31"}


@dataclass
class RebateTenant:
    tenant_id: str
    admin: Api
    finance: Api
    finance_2: Api
    channel_ops: Api
    erp: ErpSender
    rt: Any
    partner_ids: dict[str, str] = field(default_factory=dict)
    partner_keys: dict[str, Api] = field(default_factory=dict)

    def send(self, events: list[dict[str, Any]], settled: tuple[str, ...] = ("processed",)) -> list[str]:
        sent = []
        for event in events:
            data = {**event["data"], "partner_id": self.partner_ids[event["data"]["partner"]]}
            del data["partner"]
            body = erp_event(
                event["type"], data, occurred_at=event["occurred_at"], erp_id=f"{event['id']}-{uuid.uuid4().hex[:6]}"
            )
            response = self.erp.post(body)
            assert response.status_code == 202, response.text
            sent.append(response.json()["event_id"])
        wait_until(lambda: all(self._status(e) in settled for e in sent), 60, what=sent)
        return sent

    def _status(self, event_id: str) -> str | None:
        response = self.admin.get(f"/v1/events/{event_id}")
        return response.json()["status"] if response.status_code == 200 else None

    def accrual(self, who: Api, partner: str, period: str) -> dict[str, Any] | None:
        items = who.get("/v1/rebates/accruals", partner_id=self.partner_ids[partner], period=period).json()["items"]
        return items[0] if items else None

    def wait_for_accrual(self, partner: str, period: str, total: str) -> dict[str, Any]:
        wait_until(
            lambda: (self.accrual(self.finance, partner, period) or {}).get("total") == total,
            60,
            what=(partner, period, total),
        )
        return self.accrual(self.finance, partner, period) or {}

    def all_facts_projected(self) -> bool:
        facts = sum(1 for _ in self._all("SALESFACT"))
        lines = sum(1 for _ in self._all("RBTLINE"))
        return facts == lines

    def _all(self, collection: str) -> list[Any]:
        items, cursor = [], None
        while True:
            page = self.rt.store.query(self.tenant_id, collection, limit=200, cursor=cursor)
            items += page.items
            cursor = page.next_cursor
            if not cursor:
                return items


def _partner(rt: Any, spec: dict[str, Any]) -> dict[str, Any]:
    partner_id = rt.ids.new("ptr")
    history = [{"from": "pending_approval", "to": "active", "at": spec["activated_at"], "by": "test", "reason": None}]
    if spec.get("suspended"):
        start, end = spec["suspended"]
        history += [
            {"from": "active", "to": "suspended", "at": start, "by": "test", "reason": "insurance lapsed"},
            {"from": "suspended", "to": "active", "at": end, "by": "test", "reason": "renewed"},
        ]
    return {
        "partner_id": partner_id,
        "legal_name": f"Rebate Partner {partner_id[-4:]}",
        "partner_type": "reseller",
        "status": "active",
        "tier": spec["tier"],
        "certifications": {"cert-network-core": CERT},
        "activated_at": spec["activated_at"],
        "history": history,
    }


@pytest.fixture
def tenant(api, operator, stack):
    """A throwaway tenant with northwind's policy, two finance keys, partners A, B, C each with a partner key."""
    config = load_tenant_file(Path(ROOT / "tenants" / "northwind" / "tenant.yaml"))
    config["tenant_id"] = f"t-{uuid.uuid4().hex[:12]}"
    created = operator.post("/v1/tenants", config)
    assert created.status_code == 201, created.text
    body = created.json()
    admin = api.as_key(body["admin_key"]["key"])

    def key(role: str, **extra: Any) -> Api:
        made = admin.post("/v1/keys", {"role": role, "label": role, **extra})
        assert made.status_code == 201, made.text
        return api.as_key(made.json()["key"])

    rt = stack.runtime
    made = RebateTenant(
        config["tenant_id"],
        admin,
        key("finance"),
        key("finance"),
        key("channel_ops"),
        ErpSender(api.base_url, config["tenant_id"], body["webhook_secret"], ship_to=ship_to_of(config)),
        rt,
    )
    records = {name: _partner(rt, spec) for name, spec in FLOWS["partners"].items()}
    rt.store.commit(made.tenant_id, Changes(puts=[Put("PARTNER", p["partner_id"], p) for p in records.values()]))
    made.partner_ids = {name: p["partner_id"] for name, p in records.items()}
    made.partner_keys = {name: key("partner", partner_id=pid) for name, pid in made.partner_ids.items()}
    yield made
    wait_until(lambda: not rt.store.lookup(made.tenant_id, "EVENT#received", limit=1).items, 30, what="billing")
    wait_until(made.all_facts_projected, 30, what="rebate lines")
    offboarded = operator.delete(f"/v1/tenants/{made.tenant_id}")
    assert offboarded.status_code == 200, offboarded.text[:500]


def _programs(accrual: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["program_id"]: p for p in accrual["programs"]}


def _check(view: dict[str, Any], expected: dict[str, Any]) -> None:
    for name, value in expected.items():
        if name == "why":
            continue
        got = view[name]["rule_id"] if name in ("next_tier", "tier_reached") and view[name] else view[name]
        assert got == value, (name, view)


def _settle(tenant: RebateTenant, period: str, run: int = 1, **headers: str) -> Any:
    """Prepared by `finance` and approved by `finance_2` (SOP-7.2: "approved by a second member of the finance
    queue"): the issued run, or the preparation's problem."""
    return settle_over_http(tenant.finance, tenant.finance_2, {"period": period, "run": run}, headers or None)


def _statement(tenant: RebateTenant, who: Api, settlement_id: str, partner: str | None = None) -> Any:
    params = {"partner_id": tenant.partner_ids[partner]} if partner else {}
    return who.get(f"/v1/rebates/settlements/{settlement_id}", **params)


# --- accruals ------------------------------------------------------------------------------------------------------
def test_accruals_follow_billed_lines_with_the_tier_reached_and_the_volume_still_needed(tenant):
    tenant.send(FLOWS["q3"])
    for partner, expected in FLOWS["q3_accruals"].items():
        accrual = tenant.wait_for_accrual(partner, "2026-Q3", expected["total"])
        programs = _programs(accrual)
        for program_id, wanted in expected["programs"].items():
            _check(programs[program_id], wanted)
        assert all(p["clause"].startswith("PA-7.") and p["rule_clause"] for p in accrual["programs"])
    volume = _programs(tenant.accrual(tenant.finance, "A", "2026-Q3"))["RBT-VOLUME"]
    assert volume["tier_reached"] == {
        "rule_id": "RBT-VOLUME-T1",
        "clause": "PA-7.2",
        "from": "100000.00",
        "percent": "1.0",
    }
    trail = tenant.finance.get("/v1/audit", subject=tenant.partner_ids["A"]).json()["items"]
    assert any(r["action"] == "rebate_accrual.updated" and "RBT-VOLUME-T1" in r["rule_ids"] for r in trail)


def test_a_partner_key_sees_only_its_own_accruals(tenant):
    tenant.send(FLOWS["q3"][:1])
    tenant.wait_for_accrual("A", "2026-Q3", "1092.00")
    a, b = tenant.partner_keys["A"], tenant.partner_keys["B"]
    mine = a.get("/v1/rebates/accruals", period="2026-Q3").json()["items"]
    assert [x["partner_id"] for x in mine] == [tenant.partner_ids["A"]]
    assert b.get("/v1/rebates/accruals", period="2026-Q3").json()["items"] == []
    # A's id in B's filter: the 404 of an id no one holds (SECURITY.md "Partner keys and `?partner_id=`")
    assert_problem(b.get("/v1/rebates/accruals", period="2026-Q3", partner_id=tenant.partner_ids["A"]), 404)
    staff = tenant.channel_ops.get("/v1/rebates/accruals", period="2026-Q3").json()["items"]
    assert [x["partner_id"] for x in staff] == [tenant.partner_ids["A"]]


# --- settlement ----------------------------------------------------------------------------------------------------
def test_settling_a_period_twice_yields_one_settlement_and_an_idempotency_key_replays_the_first_answer(tenant):
    tenant.send(FLOWS["q3"])
    for partner, expected in FLOWS["q3_accruals"].items():
        tenant.wait_for_accrual(partner, "2026-Q3", expected["total"])
    first = _settle(tenant, "2026-Q3", **{"Idempotency-Key": "close-2026-Q3"})
    assert first.status_code == 201, first.text
    settled = first.json()
    again = _settle(tenant, "2026-Q3", **{"Idempotency-Key": "close-2026-Q3"})
    assert again.status_code == 201 and again.json() == settled
    plain = _settle(tenant, "2026-Q3")
    assert plain.status_code == 201 and plain.json()["settlement_id"] == settled["settlement_id"]
    assert plain.json()["replayed"] is True
    other_body = _settle(tenant, "2026-Q3", run=2, **{"Idempotency-Key": "close-2026-Q3"})
    assert_problem(other_body, 422)
    totals = {p["partner_id"]: p for p in settled["partners"]}
    assert totals[tenant.partner_ids["A"]]["total"] == "1092.00"
    assert totals[tenant.partner_ids["B"]]["total"] == "1550.00"
    assert all(p["difference_from_accruals"] == "0.00" for p in settled["partners"])
    assert settled["totals"] == {"payable": "2642.00", "accrued": "2642.00", "difference_from_accruals": "0.00"}
    statement = _statement(tenant, tenant.finance, settled["settlement_id"], "A").json()["statement"]
    volume = next(line for line in statement["lines"] if line["program_id"] == "RBT-VOLUME")
    assert volume["kind"] == "settlement" and volume["amount"] == "1052.00" and volume["accrued"] == "1052.00"
    assert {"rule_id": "RBT-VOLUME-T1", "clause": "PA-7.2"} in volume["rules"] and volume["payout"] == "credit_note"
    counted = [page for page in statement["traces"] if page["section"] == "counted"]
    facts = {f.key for f in tenant._all("SALESFACT") if f.data["partner_id"] == tenant.partner_ids["A"]}
    traced = {row[0] for page in counted if page["program_or_reason"] == "RBT-VOLUME" for row in page["lines"]}
    assert traced == facts and all(page["rule_id"] for page in counted)
    records = tenant.finance.get("/v1/audit", subject=settled["settlement_id"]).json()["items"]
    # prepared by one finance member, approved and issued by a second (SOP-7.2), each on the audit chain
    assert [r["action"] for r in records] == ["rebate_settlement.prepared", "rebate_settlement.settled"]
    assert all("PA-7.8" in r["clauses"] and "SOP-7.2" in r["clauses"] for r in records)
    assert tenant.admin.get("/v1/audit/verify").json()["valid"] is True


def test_a_partner_key_sees_only_its_own_statement(tenant, northwind):
    tenant.send(FLOWS["q3"][:1])
    tenant.wait_for_accrual("A", "2026-Q3", "1092.00")
    settled = _settle(tenant, "2026-Q3").json()
    own = _statement(tenant, tenant.partner_keys["A"], settled["settlement_id"]).json()
    assert [p["partner_id"] for p in own["partners"]] == [tenant.partner_ids["A"]]
    assert own["statement"]["partner_id"] == tenant.partner_ids["A"] and "totals" not in own
    assert_problem(_statement(tenant, tenant.partner_keys["B"], settled["settlement_id"]), 404)
    assert_problem(_statement(tenant, tenant.partner_keys["B"], settled["settlement_id"], "A"), 404)
    assert_problem(northwind.get(f"/v1/rebates/settlements/{settled['settlement_id']}"), 404)
    assert_problem(tenant.partner_keys["A"].post("/v1/rebates/settlements", {"period": "2026-Q3"}), 403)


def test_a_credit_note_after_settlement_is_an_adjustment_in_the_next_run_and_the_settled_run_stays(tenant):
    tenant.send(FLOWS["q3"])
    tenant.wait_for_accrual("B", "2026-Q3", "1550.00")
    first = _settle(tenant, "2026-Q3").json()
    before = _statement(tenant, tenant.finance, first["settlement_id"], "B").json()["statement"]
    cancellation = FLOWS["q3_cancellation"]
    tenant.send([cancellation])
    # September was issued before run 1 (PA-1.2: a run counts issued invoices); the credit the cancellation owes
    # (above SOP-2.5's 10,000.00) waits for its approval, then is "issued against" September's invoice, whenever
    # issued (PA-1.2): the settled Quarter is re-rated
    assert _invoice_of(tenant, "B", "2026-09", "finalized")["invoice_id"]
    _approve_held_credit(tenant, cancellation["credit"])
    tenant.wait_for_accrual("B", "2026-Q3", "0.00")
    second = _settle(tenant, "2026-Q3", run=2)
    assert second.status_code == 201, second.text
    adjustment = _statement(tenant, tenant.finance, second.json()["settlement_id"], "B").json()["statement"]
    [line] = [ln for ln in adjustment["lines"] if ln["program_id"] == "RBT-VOLUME"]
    assert line["kind"] == "adjustment" and line["period"] == "2026-Q3"
    assert (line["amount"], line["previously_settled"], line["recomputed"]) == ("-1550.00", "1550.00", "0.00")
    assert {"rule_id": "RBT-RETROACTIVE-CREDIT", "clause": "PA-7.10"} in line["rules"]
    credit = next(f.data for f in tenant._all("SALESFACT") if f.data["net_amount"] == cancellation["credit"])
    assert line["references"]["credit_notes"] == [credit["line_id"]]
    assert _statement(tenant, tenant.finance, first["settlement_id"], "B").json()["statement"] == before
    assert_problem(_settle(tenant, "2026-Q3", run=4), 422)  # runs go in order


def _approve_held_credit(tenant: RebateTenant, amount: str) -> None:
    """SOP-2.5: "Credit notes above USD 10,000.00 require approval by a member of the finance queue other than the
    preparer" (SOP-8.1: the billing automation "may not ... issue credit notes above USD 10,000.00"): the credit waits
    in the finance queue, and a finance key (not the preparer, system:billing) approves it before it posts."""
    pending = tenant.finance.get("/v1/approvals", status="pending", queue="finance", limit=50).json()["items"]
    (approval,) = [a for a in pending if a["category"] == "credit_note_approval"]
    assert "-" + approval["context"]["amount"] == amount and approval["context"]["reason"] == "cancellation"
    decided = tenant.finance.post(f"/v1/approvals/{approval['approval_id']}/decision", {"outcome": "approved",
                                  "note": "cancellation confirmed"})  # fmt: skip
    assert decided.status_code == 200, decided.text


def _activated_before_q2(tenant: RebateTenant) -> None:
    """The partners as activated before they sell in Q2 (PA-2.2: nothing accrues before activation)."""
    at = FLOWS["q2_activated_at"]["at"]
    puts = []
    for partner_id in tenant.partner_ids.values():
        stored = tenant.rt.store.get(tenant.tenant_id, "PARTNER", partner_id)
        assert stored is not None
        history = [{**stored.data["history"][0], "at": at}, *stored.data["history"][1:]]
        puts.append(Put("PARTNER", partner_id, {**stored.data, "activated_at": at, "history": history}))
    tenant.rt.store.commit(tenant.tenant_id, Changes(puts=puts))


def test_a_shipment_sent_twice_is_billed_once_and_leakage_becomes_an_exception_for_finance(tenant):
    """The same shipment under a second ERP id (RB-Q2-A-1-AGAIN) used to be billed twice and only the rebate run
    flagged the order line as a duplicate (PA-7.7(d)). PA-10.1: each invoice line "identifies the billable event
    (shipment, ...) [...] the order reference": the shipment is billed once and its repeat is held at billing, a
    `duplicate_shipment` exception, which SOP-4.1 sends to triage ("An item that matches no category goes to
    channel_ops for triage within 8 hours"); the rebate run has no duplicate left to find, the leakage it still does."""
    _activated_before_q2(tenant)
    sent = tenant.send(FLOWS["q2"], settled=("processed", "failed"))
    assert [tenant._status(e) for e in sent] == ["processed", "failed", "processed", "processed"]
    triage = tenant.channel_ops.get("/v1/exceptions", queue="channel_ops", limit=200).json()["items"]
    (held,) = [e for e in triage if e["category"] == "duplicate_shipment"]
    assert held["subject"]["id"] == sent[1] and held["partner_id"] == tenant.partner_ids["A"]
    assert ("BILL-SHIPMENT-ONCE", "PA-10.1") in [(r["rule_id"], r["clause"]) for r in held["reasons"]]
    (invoice,) = [i for i in tenant.finance.get("/v1/invoices", period="2026-05", limit=50).json()["items"]
                  if i["partner_id"] == tenant.partner_ids["A"]]  # fmt: skip
    assert invoice["total"] == "126000.00"  # 60 x 2,100.00, once
    wait_until(tenant.all_facts_projected, 30, what="projection")
    settled = _settle(tenant, "2026-Q2")
    assert settled.status_code == 201, settled.text
    header = settled.json()
    for partner, expected in FLOWS["q2_settled"].items():
        statement = _statement(tenant, tenant.finance, header["settlement_id"], partner).json()["statement"]
        volume = next(ln for ln in statement["lines"] if ln["program_id"] == "RBT-VOLUME")
        assert volume["amount"] == expected["RBT-VOLUME"], expected["why"]
    assert header["findings"] == {"rebate_leakage": 1}
    exceptions = tenant.finance.get("/v1/exceptions", queue="finance", limit=200).json()["items"]
    mine = {e["category"]: e for e in exceptions if e["subject"]["id"] == header["settlement_id"]}
    assert set(mine) == {"rebate_leakage"} and set(header["exceptions"]) == {e["case_id"] for e in mine.values()}
    leak = mine["rebate_leakage"]
    assert leak["partner_id"] == tenant.partner_ids["C"] and leak["context"]["kinds"] == {"partner_suspended": 1}
    assert {r["clause"] for r in leak["reasons"]} >= {"PA-7.1"}
    excluded = _statement(tenant, tenant.finance, header["settlement_id"], "C").json()["statement"]["traces"]
    assert any(page["section"] == "excluded" and page["rule_id"] == "RBT-SUSPENDED-PARTNER" for page in excluded)


# --- live ERP data: channel, promotions, discount, payment -----------------------------------------------------------
def _payable(accrual: dict[str, Any] | None, program_id: str) -> str:
    return _programs(accrual or {"programs": []}).get(program_id, {}).get("payable", "0.00")


def test_signed_erp_events_carry_channel_promotions_and_payment_so_commissions_accrue_on_paid_revenue_only(tenant):
    live = FLOWS["live_october"]
    tenant.send(live["events"])
    volume = _programs(tenant.wait_for_accrual("A", "2026-Q4", "1080.00"))
    assert volume["RBT-VOLUME"]["basis_revenue"] == live["q4_volume_A"]["basis_revenue"], live["q4_volume_A"]["why"]
    assert volume["RBT-VOLUME"]["payable"] == live["q4_volume_A"]["payable"]
    assert volume["RBT-HW-SPIFF"]["payable"] == live["q4_spiff_A"]["payable"], live["q4_spiff_A"]["why"]
    assert _payable(tenant.accrual(tenant.finance, "A", "2026-10"), "RBT-SALES-AGENT") == "0.00"  # not paid yet
    drafts = tenant.finance.get("/v1/invoices", status="draft", period="2026-10").json()["items"]

    def of(partner: str, direct: bool) -> dict[str, dict[str, Any]]:
        return {i["invoice_id"]: i for i in drafts
                if i["partner_id"] == tenant.partner_ids[partner] and (i.get("billed_to") == "customer") == direct}

    # PA-8.2 "the Distributor's Invoiced Revenue [...] from the listed accounts": the agent's own invoice carries its
    # resale only; each sales-agent sale is the Distributor's direct invoice to the customer
    assert {p: [i["total"] for i in of(p, False).values()] for p in ("A",)} == {
        p: [total] for p, total in live["invoice_totals"].items()}, live["why"]  # fmt: skip
    assert not of("B", False), live["why"]
    direct = {p: next(iter(of(p, True).values())) for p in ("A", "B")}
    assert {p: i["total"] for p, i in direct.items()} == live["direct_invoice_totals"], live["why"]
    paid = erp_event(
        "invoice.paid",
        {"partner_id": tenant.partner_ids["A"], "invoice_id": direct["A"]["invoice_id"], "paid_on": live["paid_on"]},
        occurred_at=f"{live['paid_on']}T09:00:00Z",
    )
    early = tenant.erp.post(paid)  # a draft cannot be paid: the event fails with an exception, nothing changes
    assert early.status_code == 202, early.text
    wait_until(lambda: tenant._status(early.json()["event_id"]) == "failed", 60, what="payment of a draft")
    assert _payable(tenant.accrual(tenant.finance, "A", "2026-10"), "RBT-SALES-AGENT") == "0.00"
    for invoice in [*of("A", False).values(), *direct.values()]:
        finalized = tenant.finance.post(f"/v1/invoices/{invoice['invoice_id']}/finalize")
        assert finalized.status_code == 200, finalized.text
    tenant.send([{**paid, "id": "RB-LIVE-A-PAID", "data": {**paid["data"], "partner": "A"}}])
    header = tenant.finance.get(f"/v1/invoices/{direct['A']['invoice_id']}").json()
    assert header["paid_on"] == live["paid_on"] and header["status"] == "finalized"
    # PA-8.2: commissions are "paid within 30 days after the end of the month in which the Customer paid the
    # invoice": the October invoice paid on 2026-11-20 is November's commission, not October's
    paid_month = live["paid_on"][:7]
    commission = _programs(tenant.wait_for_accrual("A", paid_month, live["commission_A"]["payable"]))["RBT-SALES-AGENT"]
    assert commission["basis_revenue"] == live["commission_A"]["basis_revenue"], live["commission_A"]["why"]
    assert (commission["rule_id"], commission["clause"]) == ("RBT-SALES-AGENT", "PA-8.2")
    assert _payable(tenant.accrual(tenant.finance, "A", "2026-10"), "RBT-SALES-AGENT") == "0.00"
    assert _payable(tenant.accrual(tenant.finance, "B", paid_month), "RBT-SALES-AGENT") == live["commission_B"]
    settled = _settle(tenant, paid_month)
    assert settled.status_code == 201, settled.text
    partners = {p["partner_id"]: p["total"] for p in settled.json()["partners"]}
    assert partners == {tenant.partner_ids["A"]: live["commission_A"]["payable"]}  # B's revenue is unpaid


def _invoice_of(tenant: RebateTenant, partner: str, period: str, status: str) -> dict[str, Any]:
    invoices = tenant.finance.get("/v1/invoices", status=status, period=period).json()["items"]
    return next(i for i in invoices if i["partner_id"] == tenant.partner_ids[partner])


def test_paying_an_invoice_also_pays_the_later_credit_note_against_it_so_the_commission_accrues_net(tenant):
    flow = FLOWS["paid_credit_note"]
    tenant.send([flow["activation"]])
    october = _invoice_of(tenant, "A", "2026-10", "draft")
    assert october["total"] == flow["october_total"], flow["why"]
    assert tenant.finance.post(f"/v1/invoices/{october['invoice_id']}/finalize").status_code == 200
    tenant.send([flow["cancellation"]])
    november = tenant.finance.get(f"/v1/invoices/{_invoice_of(tenant, 'A', '2026-11', 'draft')['invoice_id']}").json()
    [credit] = [ln for ln in november["lines"] if ln["amount"].startswith("-")]
    assert credit["amount"] == flow["credit"] and credit["references_line"].startswith(october["invoice_id"])
    wait_until(tenant.all_facts_projected, 30, what="the credit note projected before the payment")
    assert _payable(tenant.accrual(tenant.finance, "A", "2026-10"), "RBT-SALES-AGENT") == "0.00"  # not paid yet
    tenant.send(
        [
            {
                "id": "RB-PCN-A-PAID",
                "type": "invoice.paid",
                "occurred_at": f"{flow['paid_on']}T09:00:00Z",
                "data": {"partner": "A", "invoice_id": october["invoice_id"], "paid_on": flow["paid_on"]},
            }
        ]
    )
    # PA-8.2: earned "in the month in which the Customer paid the invoice" (2026-11), with its credit note
    paid_month = flow["paid_on"][:7]
    wait_until(lambda: _payable(tenant.accrual(tenant.finance, "A", paid_month), "RBT-SALES-AGENT") != "0.00", 60)
    commission = _programs(tenant.accrual(tenant.finance, "A", paid_month) or {})["RBT-SALES-AGENT"]
    expected = flow["commission_A"]
    assert (commission["basis_revenue"], commission["payable"]) == (expected["basis_revenue"], expected["payable"]), (
        expected["why"]
    )
    settled = _settle(tenant, paid_month)
    assert settled.status_code == 201, settled.text
    assert {p["partner_id"]: p["total"] for p in settled.json()["partners"]} == {
        tenant.partner_ids["A"]: expected["payable"]
    }  # the settlement agrees with the accrual: nothing was waiting for it to re-rate


class LostFinalCommit:
    """The table, except that the commit that writes a settlement header is lost (a dropped connection)."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def commit(self, tenant_id: str, changes: Any) -> Any:
        if any(put.collection == "RBTSETTLEMENT" for put in changes.puts):
            raise ConnectionError("connection lost")
        return self.store.commit(tenant_id, changes)


def _accruals_settled(tenant: RebateTenant, stack: Any) -> None:
    """Every handler idle (best effort: other tests' events share the queues), then the tenant's accruals unchanged
    over a whole second."""
    settle(stack)
    seen: list[Any] = [None]

    def unchanged() -> bool:
        time.sleep(1)
        now = sorted((a.key, a.version) for a in tenant._all("RBTACCRUAL"))
        same, seen[0] = now == seen[0], now
        return same and bool(now)

    wait_until(unchanged, 60, what="the accruals to settle")


def test_a_settlement_and_its_exceptions_are_one_commit_so_neither_exists_without_the_other(tenant, stack):
    from revgov.domain.access import Principal, Role
    from revgov.runtime import Runtime
    from revgov.services import rebates

    _activated_before_q2(tenant)
    tenant.send(FLOWS["q2"], settled=("processed", "failed"))  # the shipment's repeat is held at billing (PA-10.1)
    wait_until(tenant.all_facts_projected, 30, what="projection")
    # The lines are projected before the accrual handler re-rates them (a partner's facts changed: a full re-rating,
    # its own commit). A statement states each line's accrual and the difference from it, so an accrual written after
    # the preparation changes the figures and the approval is rightly 409 figures_changed (it failed so, now and
    # then): the run is prepared once the accruals stopped changing.
    _accruals_settled(tenant, stack)
    base = stack.runtime
    lost = Runtime(base.settings, LostFinalCommit(base.store), base.publisher, base.clock, base.ids)
    who = Principal(tenant.tenant_id, Role.FINANCE, "key_01JX00000000000000000FIN01")

    def settlement_exceptions() -> list[Any]:
        return [c for c in tenant._all("CASE") if c.data["subject"]["kind"] == "rebate_settlement"]

    second = Principal(tenant.tenant_id, Role.FINANCE, "key_01JX00000000000000000FIN02")
    issue_months(base, who, "2026-Q2")  # PA-1.2: the run counts issued invoices (rebate_runs.issue_months)
    with pytest.raises(ConnectionError):
        rebates.settle(lost, who, {"period": "2026-Q2"})
    assert settlement_exceptions() == [] and tenant._all("RBTSETTLEMENT") == []
    _, prepared = rebates.settle(base, who, {"period": "2026-Q2"})
    assert settlement_exceptions() == [] and prepared["exceptions"] == []  # prepared: nothing opened or settled yet
    with pytest.raises(ConnectionError):  # the approval's one commit lost: no exception, the run still prepared
        rebates.approve_settlement(lost, second, prepared["settlement_id"], {})
    assert settlement_exceptions() == []
    assert rebates.get_settlement(base, who, prepared["settlement_id"], None)["status"] == "prepared"
    settled = rebates.approve_settlement(base, second, prepared["settlement_id"], {})
    opened = settlement_exceptions()
    assert sorted(c.key for c in opened) == sorted(settled["exceptions"]) and len(opened) == 1
    assert {c.data["subject"]["id"] for c in opened} == {settled["settlement_id"]}
    assert {c.data["category"] for c in opened} == {"rebate_leakage"}  # no order line billed twice is left to find


# --- disputes ------------------------------------------------------------------------------------------------------
def _dispute(tenant: RebateTenant, settlement_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "settlement_id": settlement_id,
        "partner_id": tenant.partner_ids["A"],
        "program_id": "RBT-VOLUME",
        "amount": "500.00",
        "reason": "the September order SO-RB-9 is missing from the quarter",
        "evidence": [
            {"kind": "order", "reference": "SO-RB-9"},
            {"kind": "calculation", "reference": "dms://a/q3.xlsx"},
        ],
        **changes,
    }


def test_a_partner_disputes_a_line_and_an_accepted_amount_is_paid_in_the_next_run(tenant):
    tenant.send(FLOWS["q3"][:1])
    tenant.wait_for_accrual("A", "2026-Q3", "1092.00")
    settled = _settle(tenant, "2026-Q3").json()
    a, b = tenant.partner_keys["A"], tenant.partner_keys["B"]
    filed = a.post("/v1/rebates/disputes", _dispute(tenant, settled["settlement_id"]))
    assert filed.status_code == 201, filed.text
    dispute = filed.json()
    assert dispute["status"] == "open" and dispute["settled_amount"] == "1052.00" and dispute["clause"] == "PA-7.9"
    assert_problem(b.get(f"/v1/rebates/disputes/{dispute['dispute_id']}"), 404)
    assert_problem(b.post("/v1/rebates/disputes", _dispute(tenant, settled["settlement_id"])), 404)
    assert a.get(f"/v1/rebates/disputes/{dispute['dispute_id']}").json()["dispute_id"] == dispute["dispute_id"]
    approval = tenant.finance.get(f"/v1/approvals/{dispute['approval_id']}").json()
    assert approval["category"] == "rebate_dispute" and approval["queue"] == "finance"
    decision = {"outcome": "accepted", "amount": "300.00", "reason": "SO-RB-9 was invoiced in Q3; upheld in part"}
    assert_problem(tenant.finance.post(f"/v1/rebates/disputes/{dispute['dispute_id']}/resolve", decision), 403)
    assert_problem(a.post(f"/v1/rebates/disputes/{dispute['dispute_id']}/resolve", decision), 403)
    too_much = {**decision, "amount": "500.01"}
    assert_problem(tenant.finance_2.post(f"/v1/rebates/disputes/{dispute['dispute_id']}/resolve", too_much), 422)
    resolved = tenant.finance_2.post(f"/v1/rebates/disputes/{dispute['dispute_id']}/resolve", decision)
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "accepted" and resolved.json()["resolution"]["amount"] == "300.00"
    assert tenant.finance.get(f"/v1/approvals/{dispute['approval_id']}").json()["status"] == "approved"
    assert_problem(tenant.finance_2.post(f"/v1/rebates/disputes/{dispute['dispute_id']}/resolve", decision), 409)
    next_run = _settle(tenant, "2026-Q3", run=2).json()
    statement = _statement(tenant, a, next_run["settlement_id"]).json()["statement"]
    [paid] = [ln for ln in statement["lines"] if ln["kind"] == "dispute_adjustment"]
    assert paid["amount"] == "300.00" and paid["references"]["dispute_id"] == dispute["dispute_id"]
    assert paid["clause"] == "PA-7.9" and statement["total"] == "300.00"
    listed = a.get("/v1/rebates/settlements", period="2026-Q3").json()["items"]  # the runs as A reads each
    assert [(s["run"], s["dispute_adjustments"]) for s in listed] == [(1, []), (2, [dispute["dispute_id"]])]
    assert b.get("/v1/rebates/settlements").json()["items"] == []  # no statement of its own in either run
    trail = tenant.finance.get("/v1/audit", subject=dispute["dispute_id"]).json()["items"]
    assert [r["action"] for r in trail] == ["rebate_dispute.filed", "rebate_dispute.accepted"]


def test_a_dispute_rejected_through_the_approvals_queue_keeps_its_reason_and_pays_nothing(tenant):
    tenant.send(FLOWS["q3"][:1])
    tenant.wait_for_accrual("A", "2026-Q3", "1092.00")
    settled = _settle(tenant, "2026-Q3").json()
    dispute = tenant.partner_keys["A"].post("/v1/rebates/disputes", _dispute(tenant, settled["settlement_id"])).json()
    decided = tenant.finance_2.post(
        f"/v1/approvals/{dispute['approval_id']}/decision", {"outcome": "rejected", "note": "SO-RB-9 shipped in Q4"}
    )
    assert decided.status_code == 200, decided.text
    after = tenant.partner_keys["A"].get(f"/v1/rebates/disputes/{dispute['dispute_id']}").json()
    assert after["status"] == "rejected" and after["resolution"]["reason"] == "SO-RB-9 shipped in Q4"
    next_run = _settle(tenant, "2026-Q3", run=2).json()
    assert next_run["dispute_adjustments"] == [] and next_run["partners"] == []


# --- bad input -----------------------------------------------------------------------------------------------------
def test_bad_settlement_and_dispute_requests_are_refused_with_the_rule(tenant):
    today = clock_support.today()  # the running quarter on the product's clock, whatever day the suite runs
    refused = assert_problem(_settle(tenant, f"{today.year}-Q{(today.month - 1) // 3 + 1}"), 422)
    assert "has not ended" in refused["detail"] and "PA-7.8" in refused["detail"]
    assert_problem(_settle(tenant, "2026-Q5"), 400)
    assert_problem(tenant.finance.post("/v1/rebates/settlements", {"period": "2026-Q3", "partner_id": "x"}), 400)
    assert_problem(tenant.finance.post("/v1/rebates/settlements", {"period": "2026-Q3", "run": 0}), 400)
    assert_problem(_settle(tenant, "2026-Q3", run=2), 422)
    assert_problem(_settle(tenant, "2026-Q3", **{"Idempotency-Key": "bad key with spaces"}), 400)
    assert_problem(tenant.finance.get("/v1/rebates/accruals", period="2026-13"), 400)
    assert_problem(tenant.finance.get("/v1/rebates/settlements/set_01JX0000000000000000000000"), 404)
    assert_problem(tenant.finance.get("/v1/rebates/settlements/not-an-id"), 404)
    tenant.send(FLOWS["q3"][:1])
    tenant.wait_for_accrual("A", "2026-Q3", "1092.00")
    settlement_id = _settle(tenant, "2026-Q3").json()["settlement_id"]
    a = tenant.partner_keys["A"]
    assert_problem(a.post("/v1/rebates/disputes", _dispute(tenant, settlement_id, evidence=[])), 400)
    assert_problem(a.post("/v1/rebates/disputes", _dispute(tenant, settlement_id, amount="12.345")), 400)
    assert_problem(a.post("/v1/rebates/disputes", _dispute(tenant, settlement_id, amount="0.00")), 422)
    assert_problem(a.post("/v1/rebates/disputes", _dispute(tenant, settlement_id, program_id="RBT-REFERRAL")), 422)
    assert_problem(a.post("/v1/rebates/disputes", _dispute(tenant, settlement_id, status="accepted")), 400)
    stored = tenant.rt.store.get(tenant.tenant_id, "RBTSETTLEMENT", settlement_id)
    old = {**stored.data, "settled_at": "2026-09-01T00:00:00.000Z"}
    tenant.rt.store.commit(tenant.tenant_id, Changes(puts=[Put("RBTSETTLEMENT", settlement_id, old)]))
    late = assert_problem(a.post("/v1/rebates/disputes", _dispute(tenant, settlement_id)), 422)
    assert "PA-7.9" in late["detail"]
    assert Decimal(_statement(tenant, a, settlement_id).json()["statement"]["total"]) == Decimal("1092.00")


def test_pa_7_9_a_suspended_partner_still_disputes_its_statement_within_the_60_days(tenant):
    """PA-7.9: "A Partner may dispute a settlement statement within 60 days of its date by submitting a dispute in the
    Partner Portal"; PA-13.2 suspends "from new quotes, orders, deal registrations and incentive accrual" only, and
    PA-9.6's read-only access keeps the statement readable: the 60 days run during the suspension, so the dispute stays
    open to it (before: 403 PA-9.6, the window closing while the partner could not act). Late is still refused."""
    tenant.send(FLOWS["q3"][:1])
    tenant.wait_for_accrual("A", "2026-Q3", "1092.00")
    settlement_id = _settle(tenant, "2026-Q3").json()["settlement_id"]
    a, partner_id = tenant.partner_keys["A"], tenant.partner_ids["A"]
    partner = tenant.rt.store.get(tenant.tenant_id, "PARTNER", partner_id).data  # written as onboarding leaves it
    step = {"from": "active", "to": "suspended", "at": "2026-11-20T09:00:00Z", "by": "test",
            "reason": "PA-13.2(c): an amount more than 60 days overdue"}
    suspended = {**partner, "status": "suspended", "history": [*partner["history"], step]}
    tenant.rt.store.commit(tenant.tenant_id, Changes(puts=[Put("PARTNER", partner_id, suspended)]))
    assert a.get(f"/v1/rebates/settlements/{settlement_id}").status_code == 200  # PA-9.6: reads its statement
    # the window is the dispute's own rule, suspended or not: a statement older than 60 days is refused (422)
    stored = tenant.rt.store.get(tenant.tenant_id, "RBTSETTLEMENT", settlement_id)
    old = {**stored.data, "settled_at": "2026-09-01T00:00:00.000Z"}
    tenant.rt.store.commit(tenant.tenant_id, Changes(puts=[Put("RBTSETTLEMENT", settlement_id, old)]))
    late = assert_problem(a.post("/v1/rebates/disputes", _dispute(tenant, settlement_id)), 422)
    assert "PA-7.9" in late["detail"]
    tenant.rt.store.commit(tenant.tenant_id, Changes(puts=[Put("RBTSETTLEMENT", settlement_id, stored.data)]))
    filed = a.post("/v1/rebates/disputes", _dispute(tenant, settlement_id))
    assert filed.status_code == 201 and filed.json()["clause"] == "PA-7.9", filed.text
    # still read-only for what PA-13.2 stops: a deal registration is refused naming PA-9.6
    refused = a.post("/v1/deals", {"partner_id": partner_id, "customer": {"id": "C-SUSP-9", "name": "Harbor"},
                                   "family": "networking", "estimated_value": "1000.00",
                                   "expected_close": clock_support.today().isoformat()})  # fmt: skip
    assert refused.status_code == 403 and refused.json()["clause"] == "PA-9.6", refused.text


# --- events --------------------------------------------------------------------------------------------------------
class Recorder:
    """An event publisher that keeps what it is given (and publishes nothing)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def publish(self, tenant_id: str, events: list[dict[str, Any]]) -> list[str]:
        self.events += events
        return []


def test_every_rebate_event_matches_the_catalogue_schema_and_has_a_sample(tenant, stack):
    import json

    from memory_store import FixedClock
    from revgov import schemas
    from revgov.domain.access import Principal, Role
    from revgov.runtime import Runtime
    from revgov.services import cases, rebates

    recorder = Recorder()
    base = stack.runtime
    rt = Runtime(base.settings, base.store, recorder, base.clock, base.ids)
    tid, partner_id = tenant.tenant_id, tenant.partner_ids["A"]
    line_id = f"inv_{partner_id[4:]}.1"
    fact = {"line_id": line_id, "invoice_id": line_id[:-2], "partner_id": partner_id, "period": "2026-09",
            "service_period": {"start": "2026-09-02", "end": "2026-09-02"}, "kind": "shipment", "family": "networking",
            "sku": "NW-SW-24P", "quantity": "100", "net_amount": "125000.00", "cost": "90000.00", "currency": "USD",
            "event_id": rt.ids.new("evt")}  # fmt: skip
    rt.store.commit(tid, Changes(puts=[Put("SALESFACT", line_id, fact, lookup=("SALESFACT#2026-09", line_id))]))
    posted = {"tenant_id": tid, "event_id": rt.ids.new("evt"), "line_ids": [line_id]}
    rebates.accrue_from_event(rt, {"source": "revgov.billing", "detail-type": "invoice.lines_posted", "detail": posted})
    _, settled = settle_approved(
        rt, Principal(tid, Role.FINANCE, "key_01JX00000000000000000FIN01"), {"period": "2026-Q3"}
    )
    body = {"settlement_id": settled["settlement_id"], "partner_id": partner_id, "program_id": "RBT-VOLUME",
            "amount": "10.00", "reason": "x", "evidence": [{"kind": "invoice", "reference": line_id}]}  # fmt: skip
    dispute = rebates.file_dispute(rt, Principal(tid, Role.PARTNER, "key_01JX00000000000000000PTR01", partner_id), body)
    decision = {"outcome": "rejected", "reason": "the line was counted"}
    rebates.resolve_dispute(
        rt, Principal(tid, Role.FINANCE, "key_01JX00000000000000000FIN02"), dispute["dispute_id"], decision
    )
    # SOP-6.3: "The Partner may appeal once ...; the appeal is decided jointly by the head of Finance and Legal"
    partner = Principal(tid, Role.PARTNER, "key_01JX00000000000000000PTR01", partner_id)
    appeal = rebates.appeal_dispute(rt, partner, dispute["dispute_id"], {"reason": "it was not counted"})["appeal"]
    for approval_id, key in zip(appeal["approval_ids"], ("FIN03", "LEG01"), strict=True):
        role = Role.FINANCE if key.startswith("FIN") else Role.LEGAL
        cases.decide_case(rt, Principal(tid, role, f"key_01JX00000000000000000{key}"), "approval", approval_id,
                          "approved", "upheld on appeal")  # fmt: skip
    # PA-7.9: an upheld dispute paid by separate credit note, decided on 2026-10-02 (the next settlement, 2026-Q4's,
    # is due 2027-02-14: more than 30 days away) and issued once another finance member approves it
    dispute = rebates.file_dispute(rt, Principal(tid, Role.PARTNER, "key_01JX00000000000000000PTR01", partner_id), body)
    dated = Runtime(base.settings, base.store, recorder, FixedClock("2026-10-02T09:00:00Z"), base.ids)
    decider = Principal(tid, Role.FINANCE, "key_01JX00000000000000000FIN02")
    upheld = rebates.resolve_dispute(dated, decider, dispute["dispute_id"], {"outcome": "accepted", "reason": "upheld"})
    note = rebates.credit_note(dated, decider, upheld["resolution"]["payment"]["credit_note_id"])
    cases.decide_case(dated, Principal(tid, Role.FINANCE, "key_01JX00000000000000000FIN03"), "approval",
                      note["approval_id"], "approved", "issued")  # fmt: skip
    mine = [e for e in recorder.events if e["source"] == "revgov.rebates"]
    samples = {p.stem: json.loads(p.read_text()) for p in (ROOT / "events" / "revgov.rebates").glob("*.json")}
    assert {e["detail_type"] for e in mine} == set(samples)
    for envelope in mine:
        event = {"source": envelope["source"], "detail-type": envelope["detail_type"], "detail": envelope["detail"]}
        assert schemas.problems("events/revgov.rebates.schema.json", event) == [], event
    for name, sample in samples.items():
        assert schemas.problems("events/revgov.rebates.schema.json", sample) == [], name


# --- the accrual handler's batches (#17: "posting the 10,000th line of a month costs what the first did ... Same for
# anything else that grows per partner-period") ----------------------------------------------------------------------
def _posted_records(tenant: RebateTenant, partner_id: str, amounts: list[str]) -> list[dict[str, Any]]:
    """One stored sales fact per amount (September 2026) and the SQS records of their `invoice.lines_posted` events."""
    import json

    rt, tid = tenant.rt, tenant.tenant_id
    records = []
    for number, amount in enumerate(amounts, start=1):
        line_id = f"inv_{partner_id[4:]}.{number}"
        fact = {"line_id": line_id, "invoice_id": line_id.split(".")[0], "partner_id": partner_id,
                "period": "2026-09", "service_period": {"start": "2026-09-02", "end": "2026-09-02"},
                "kind": "shipment", "family": "networking", "sku": "NW-SW-24P", "quantity": "10",
                "net_amount": amount, "cost": "1.00", "currency": "USD", "event_id": rt.ids.new("evt")}  # fmt: skip
        rt.store.commit(tid, Changes(puts=[Put("SALESFACT", line_id, fact, lookup=("SALESFACT#2026-09", line_id))]))
        detail = {"tenant_id": tid, "event_id": rt.ids.new("evt"), "occurred_at": "2026-09-02T00:00:00Z",
                  "line_ids": [line_id]}  # fmt: skip
        event = {"source": "revgov.billing", "detail-type": "invoice.lines_posted", "detail": detail}
        records.append({"messageId": f"m-{partner_id}-{number}", "body": json.dumps(event), "attributes": {}})
    return records


def _accrual_updates(tenant: RebateTenant, partner_id: str) -> list[dict[str, Any]]:
    rt = tenant.rt
    return [r for r in rt.store.iter_audit_records(tenant.tenant_id)
            if r.get("action") == "rebate_accrual.updated" and r.get("subject") == partner_id]  # fmt: skip


def _accrual_figures(tenant: RebateTenant, partner_id: str) -> dict[str, Any]:
    found = tenant.rt.store.query(tenant.tenant_id, "RBTACCRUAL", limit=10, prefix="2026-Q3#" + partner_id)
    assert found.items, "no accrual"
    data = found.items[0].data
    return {k: data[k] for k in ("total", "programs", "line_count", "tier")}


def test_a_batch_of_billed_lines_re_rates_each_accrual_once_to_the_figure_event_by_event_gives(tenant):
    """The accrual is the partner's period re-rated from all its lines (services/rebates.py), so re-rating it once
    after a batch's projections must give what re-rating after each event gives, with one audit record, not one per
    event."""
    import json

    from revgov.edge import handlers
    from revgov.services import rebates

    amounts = ["40000.00", "35000.00", "30000.00"]
    one_by_one = tenant.partner_ids["A"]
    for record in _posted_records(tenant, one_by_one, amounts):
        rebates.accrue_from_event(tenant.rt, json.loads(record["body"]))
    batched = tenant.partner_ids["B"]
    answer = handlers.accrue_rebates({"Records": _posted_records(tenant, batched, amounts)}, None)
    assert answer == {"batchItemFailures": []}
    assert _accrual_figures(tenant, batched)["total"] == _accrual_figures(tenant, one_by_one)["total"]
    assert _accrual_figures(tenant, batched)["programs"] == _accrual_figures(tenant, one_by_one)["programs"]
    assert _accrual_figures(tenant, batched)["line_count"] == 3
    per_period = len(_accrual_updates(tenant, one_by_one)) // len(amounts)
    assert per_period >= 1 and len(_accrual_updates(tenant, batched)) == per_period


def test_a_failed_re_rating_fails_every_record_of_the_batch_that_touched_it_and_their_redelivery_repairs_it(
    tenant, monkeypatch
):
    """SQS partial-batch failures: a record is deleted only when its work is done. Its lines projected but its accrual
    not re-rated is not done, whichever record's re-rating failed."""
    from revgov.edge import handlers
    from revgov.services import rebates

    partner_id = tenant.partner_ids["C"]
    records = _posted_records(tenant, partner_id, ["20000.00", "25000.00"])

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the store is away")

    with monkeypatch.context() as patched:
        patched.setattr(rebates.accrual, "refresh_accrual", broken)
        answer = handlers.accrue_rebates({"Records": records}, None)
    assert sorted(f["itemIdentifier"] for f in answer["batchItemFailures"]) == sorted(r["messageId"] for r in records)
    assert not tenant.rt.store.query(tenant.tenant_id, "RBTACCRUAL", limit=1, prefix="2026-Q3#" + partner_id).items
    assert handlers.accrue_rebates({"Records": records}, None) == {"batchItemFailures": []}
    assert _accrual_figures(tenant, partner_id)["line_count"] == 2


# --- the four-eyes review of a run (SOP-7.2 / COP-7.2, SOP-4.3) -----------------------------------------------------
def test_a_prepared_run_is_reviewed_over_http_and_bad_review_requests_change_nothing(tenant):
    """SOP-7.2: the rebate run is "approved by a second member of the finance queue" before "settlement statements
    and credit notes are issued"; SOP-4.3: "A requester can never approve their own request"; SOP-4.4: "A rejection
    without a reason is not accepted". Bad bodies are 400, the wrong caller 403, an unknown run 404, and none of them
    changes the run."""
    tenant.send(FLOWS["q3"][:1])
    tenant.wait_for_accrual("A", "2026-Q3", "1092.00")
    issue_months_over_http(tenant.finance, "2026-Q3")  # PA-1.2: the run counts issued invoices
    prepared = tenant.finance.post("/v1/rebates/settlements", {"period": "2026-Q3"})
    assert prepared.status_code == 201 and prepared.json()["status"] == "prepared", prepared.text
    sid = prepared.json()["settlement_id"]
    path = f"/v1/rebates/settlements/{sid}"
    assert_problem(_statement(tenant, tenant.partner_keys["A"], sid), 404)  # nothing issued yet
    for bad in ({"note": ""}, {"note": "   "}, {"note": 5}, {"status": "settled"}, {"approved_by": "finance"}):
        assert_problem(tenant.finance_2.post(f"{path}/approve", bad), 400)
    for bad in ({}, {"reason": ""}, {"reason": " \t"}, {"reason": "x", "by": "finance"}, {"reason": ["x"]}):
        assert_problem(tenant.finance_2.post(f"{path}/reject", bad), 400)
    assert_problem(tenant.partner_keys["A"].post(f"{path}/approve", {}), 403)
    assert_problem(tenant.channel_ops.post(f"{path}/approve", {}), 403)
    assert_problem(tenant.admin.post(f"{path}/reject", {"reason": "admin"}), 403)
    assert_problem(tenant.finance_2.post("/v1/rebates/settlements/set_01JX0000000000000000000000/approve", {}), 404)
    assert_problem(tenant.finance_2.post("/v1/rebates/settlements/not-an-id/approve", {}), 404)
    own = assert_problem(tenant.finance.post(f"{path}/approve", {}), 403)
    assert "SOP-4.3" in own["detail"]
    assert tenant.finance.get(path).json()["status"] == "prepared"
    approved = tenant.finance_2.post(f"{path}/approve", {"note": "reviewed"})
    assert approved.status_code == 200 and approved.json()["status"] == "settled", approved.text
    assert_problem(tenant.finance_2.post(f"{path}/approve", {}), 409)
    assert_problem(tenant.finance_2.post(f"{path}/reject", {"reason": "too late"}), 409)
    assert _statement(tenant, tenant.partner_keys["A"], sid).json()["statement"]["total"] == "1092.00"
    actions = [r["action"] for r in tenant.finance.get("/v1/audit", subject=sid).json()["items"]]
    assert actions.count("rebate_settlement.settled") == 1 and "rebate_settlement.review_refused" in actions


def test_settlement_runs_are_listed_by_period_partner_and_status_and_a_partner_lists_only_its_issued_own(tenant):
    """API.md: "Lists: `?limit=` (max 200) and `?cursor=`; responses `{"items": [...], "next_cursor": ...}`"; a
    partner never sees another partner's identity. SOP-7.2: statements are issued only once the run is "approved by a
    second member of the finance queue" — so a partner key lists, as it reads, only issued runs with its own statement,
    its own line (PA-11.1), and a rival's filter lists nothing."""
    tenant.send(FLOWS["q3"][:1])
    tenant.wait_for_accrual("A", "2026-Q3", "1092.00")
    issue_months_over_http(tenant.finance, "2026-Q3")  # PA-1.2: the run counts issued invoices
    first = tenant.finance.post("/v1/rebates/settlements", {"period": "2026-Q3"}).json()["settlement_id"]
    listed = tenant.finance.get("/v1/rebates/settlements", status="prepared").json()
    assert [s["settlement_id"] for s in listed["items"]] == [first] and listed["next_cursor"] is None
    assert tenant.partner_keys["A"].get("/v1/rebates/settlements").json()["items"] == []  # nothing issued yet
    rejected = tenant.finance_2.post(f"/v1/rebates/settlements/{first}/reject", {"reason": "recheck the SKUs"})
    assert rejected.status_code == 200, rejected.text
    second = _settle(tenant, "2026-Q3").json()["settlement_id"]
    one = tenant.channel_ops.get("/v1/rebates/settlements", limit=1).json()
    rest = tenant.channel_ops.get("/v1/rebates/settlements", limit=1, cursor=one["next_cursor"]).json()
    assert [s["settlement_id"] for s in one["items"] + rest["items"]] == [first, second]
    assert [s["status"] for s in one["items"] + rest["items"]] == ["rejected", "settled"]
    ids = tenant.partner_ids
    for query, expected in (
        ({"status": "settled"}, [second]),
        ({"period": "2026-Q3", "partner_id": ids["A"]}, [first, second]),
        ({"period": "2026-Q4"}, []),
        ({"partner_id": ids["B"]}, []),
    ):
        got = tenant.finance.get("/v1/rebates/settlements", **query).json()["items"]
        assert [s["settlement_id"] for s in got] == expected, query
    own = tenant.partner_keys["A"].get("/v1/rebates/settlements").json()["items"]
    assert [s["settlement_id"] for s in own] == [second]
    assert [p["partner_id"] for p in own[0]["partners"]] == [ids["A"]]
    assert {"totals", "prepared_by", "approved_by", "review", "findings"}.isdisjoint(own[0])
    assert own[0]["settled_by"] == "finance"  # the team, never a staff key id
    assert tenant.partner_keys["B"].get("/v1/rebates/settlements").json()["items"] == []
    # a rival's id in the filter: the 404 of an id no one holds (SECURITY.md "Partner keys and `?partner_id=`")
    assert_problem(tenant.partner_keys["B"].get("/v1/rebates/settlements", partner_id=ids["A"]), 404)
    assert_problem(tenant.partner_keys["A"].get("/v1/rebates/settlements", partner_id=ids["B"]), 404)
    assert tenant.partner_keys["A"].get("/v1/rebates/settlements", status="rejected").json()["items"] == []
    for bad in ({"period": "2026-Q5"}, {"status": "done"}, {"partner_id": "A"}, {"limit": "0"}, {"limit": "201"},
                {"cursor": "not-a-cursor"}, {"period": ["2026-Q3", "2026-Q4"]}):
        problem = assert_problem(tenant.finance.get("/v1/rebates/settlements", **bad), 400)
        assert next(iter(bad)) in problem["detail"] + str(problem.get("errors")), problem
