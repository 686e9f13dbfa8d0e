"""Reviewer round 5: one fresh tenant's quarter over HTTP, set up once for the reviewer-5 tests.

The operator provisions a tenant through POST /v1/tenants with Northwind's contracts and policy (tenants/northwind),
its admin mints a key per staff role (two finance and two channel ops people, SOP-4.3: nobody approves their own
request), and channel ops onboards three resellers through the API (PA-2.2 / PA-2.3 documents, PA-4.1
certifications, PA-2.9 approval by someone other than the submitter): R at Registered (PA-3.2, no certification),
S at Silver (PA-3.3, cert-network-core, USD 250,000.00) and G at Gold (PA-3.4, cert-network-core and
cert-security-pro, USD 1,000,000.00). Then, in one month M of the quarter Q that holds the clock's "now":

quotes (POST /v1/pricing/check, each by the partner's own key; list prices PA-6.1, tenant.yaml's price list)
  q1 S  100 x NW-SW-24P at  8 %  networking, Silver cap 10 % (PA-6.2): allowed, no exception
  q2 S   20 x NW-SW-24P at 12 %  above the Silver cap: discount_above_tier_cap (channel_ops, SOP-4.1)
  q3 G   50 x NW-RTR-EDGE at 26 %  above Gold's 15 % (channel_ops), above 25 % (finance, PA-6.6(b)), and
         Line Margin (2,100.00 x 0.74 = 1,554.00 - 1,470.00) / 1,554.00 = 5.41 % < 12 % (finance, PA-6.3):
         three exceptions, "one exception per category" (SOP-4.1)
  q4 R    5 x NW-SRV-R2 at  0 %  allowed
deals: S registers customer Harbor Logistics for networking, a channel ops member approves it (PA-5.2); G's
  registration of the same customer and family is rejected under PA-5.5 with the exclusivity end, not S's identity.
ERP events (signed, POST /v1/webhooks/erp), each occurred on the activation day 2.5 hours before it is sent
(ERP time, SOP-2.1):
  e1 S shipment SO-S1: 100 x NW-SW-24P (1,250.00; cost 900.00) + 10 x NW-SRV-R2 (5,200.00; cost 4,160.00)
         = 125,000.00 + 52,000.00 = 177,000.00; cost 90,000.00 + 41,600.00 = 131,600.00
  e2 G shipment SO-G1: 200 x NW-RTR-EDGE (2,100.00; cost 1,470.00) + 20 x NW-SRV-R2
         = 420,000.00 + 104,000.00 = 524,000.00; cost 294,000.00 + 83,200.00 = 377,200.00
  e3 R shipment SO-R1: 5 x NW-SRV-R2 = 26,000.00; cost 20,800.00
  e4 G service.completed: SOW-G1 deployment milestone, sow_value 50,000.00: 40 % (PA-10.6) = 20,000.00, no cost
  e5 S return.received: 1 x NW-SRV-R2 of e1's line, the same day (within 30 days of shipment, PA-7.5)
         = credit 5,200.00 (cost 4,160.00 given back); below SOP-2.5's USD 10,000.00 approval limit
  e6 G credit_note.issued, billing_error: 1 x NW-RTR-EDGE of e2's line = credit 2,100.00 (cost 1,470.00 back)
  e7 S's e1 sent again under another ERP id (same order, day, lines): billed once (PA-10.1 / BILL-SHIPMENT-ONCE),
         a duplicate_shipment exception for channel ops' triage (SOP-4.1 "matches no category")
  e8 S support.logged 10.00 h severity 2 networking; e9 G support.logged 6.00 h severity 2 security: within the
         Silver 40 h / Gold 80 h of PA-9.2, so nothing billed
Then the clock moves to 00:10 on the first day after M (only forward: clock_support.forward_to), finance issues the
month's invoices (SOP-2.1), then to 00:10 on the first day after Q, where a finance member prepares Q's rebate run and
a second one approves it (SOP-7.2).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import clock_support
from billing_support import ErpSender, erp_event, ship_to_of, wait_until
from rebate_runs import issue_months_over_http, settle_over_http
from revgov.tenant_files import load_tenant_file
from security_support import STAFF_ROLES, UNTHROTTLED
from support import ROOT, Api, settle

CENT = Decimal("0.01")


def money(value: Decimal) -> str:
    """PA-1.3: exact decimal arithmetic, rounded once to two places, half to even."""
    return str(value.quantize(CENT, rounding=ROUND_HALF_EVEN))


def pct(numerator: Decimal, denominator: Decimal) -> str:
    return money(numerator * 100 / denominator)


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def first_day_after_quarter(day: date) -> date:
    first_month = ((day.month - 1) // 3) * 3 + 1
    start = date(day.year, first_month, 1)
    return (start + timedelta(days=95)).replace(day=1)


@dataclass
class Quarter:
    """The fresh tenant and what the scenario made in it (ids of its own objects only)."""

    api: Api
    operator: Api
    tenant_id: str
    roles: dict[str, Api]
    erp: ErpSender
    partners: dict[str, str] = field(default_factory=dict)  # R / S / G -> partner id
    keys: dict[str, Api] = field(default_factory=dict)  # R / S / G -> the partner's own key
    quotes: dict[str, dict[str, Any]] = field(default_factory=dict)  # q1..q4 -> the decision answered
    deals: dict[str, Any] = field(default_factory=dict)
    events: dict[str, str] = field(default_factory=dict)  # e1..e9 -> event id
    invoices: dict[str, str] = field(default_factory=dict)  # R / S / G -> invoice id of month M
    month: str = ""
    period: str = ""
    occurred: str = ""
    settlement: dict[str, Any] = field(default_factory=dict)
    approvals: list[str] = field(default_factory=list)
    decided: dict[str, Any] = field(default_factory=dict)  # quote approval decisions: name -> the HTTP answer

    @property
    def admin(self) -> Api:
        return self.roles["admin"]

    @property
    def finance(self) -> Api:
        return self.roles["finance"]

    def processed(self, sent: Any) -> str:
        assert sent.status_code == 202, sent.text
        event_id = str(sent.json()["event_id"])
        wait_until(lambda: self.admin.get(f"/v1/events/{event_id}").json()["status"] in ("processed", "failed"),
                   60, what=event_id)
        return event_id

    def event(self, name: str, detail_type: str, data: dict[str, Any], erp_id: str | None = None) -> str:
        sent = self.erp.post(erp_event(detail_type, data, occurred_at=self.occurred, erp_id=erp_id))
        self.events[name] = self.processed(sent)
        return self.events[name]

    def lines(self, who: str) -> list[dict[str, Any]]:
        invoice = self.finance.get(f"/v1/invoices/{self.invoices[who]}")
        assert invoice.status_code == 200, invoice.text
        return list(invoice.json()["lines"])

    def accrual(self, who: str, period: str | None = None) -> dict[str, Any]:
        items = self.finance.get("/v1/rebates/accruals", partner_id=self.partners[who],
                                 period=period or self.period).json()["items"]
        return dict(items[0]) if items else {}

    def kpis(self, **params: Any) -> dict[str, Any]:
        answer = self.finance.get("/v1/kpis", period=self.period, **params)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())


def _document(kind: str, today: date, **extra: Any) -> dict[str, Any]:
    return {"document_type": kind, "reference": f"dms://rv5/{kind}/{uuid.uuid4().hex[:8]}",
            "checksum": "sha256:" + hashlib.sha256(f"{kind}{uuid.uuid4()}".encode()).hexdigest(),
            "issued_at": (today - timedelta(days=20)).isoformat(), **extra}


CERTS = {"registered": (), "silver": ("cert-network-core",), "gold": ("cert-network-core", "cert-security-pro")}
COMMITMENT = {"registered": "0.00", "silver": "250000.00", "gold": "1000000.00"}


def onboard(q: Quarter, letter: str, tier: str, today: date) -> str:
    """PA-2.2 (signed agreement, tax form, insurance, screening) and PA-2.3 (USD 1,000,000.00 cover, trade reference)
    filed by one channel ops member, the tier's certifications (PA-3.x), submitted by them and approved by another
    (PA-2.9 "The same person may not both submit and approve an application")."""
    ops, ops2 = q.roles["channel_ops"], q.roles["channel_ops_2"]
    created = ops.post("/v1/partners", {
        "legal_name": f"RV5 {letter} Distribution {uuid.uuid4().hex[:6]}", "partner_type": "reseller",
        "requested_tier": tier, "terms": {"annual_commitment": COMMITMENT[tier], "payment_terms_days": 30},
        "contact": {"name": f"Contact {letter}", "email": f"ops-{letter.lower()}@reseller.example"}})
    assert created.status_code == 201, created.text
    partner_id = str(created.json()["partner_id"])
    insurance = {"expires_at": (today + timedelta(days=330)).isoformat(), "coverage_amount": "2000000.00"}
    for kind, extra in (("signed_agreement", {}), ("tax_form", {}), ("insurance_certificate", insurance),
                        ("compliance_screening", {"outcome": "clear"}), ("trade_reference", {})):
        filed = ops.post(f"/v1/partners/{partner_id}/documents", _document(kind, today, **extra))
        assert filed.status_code == 201, (kind, filed.text)
    for cert in CERTS[tier]:
        held = ops.post(f"/v1/partners/{partner_id}/certifications", {
            "certification_id": cert, "earned_at": (today - timedelta(days=90)).isoformat(),
            "expires_at": (today + timedelta(days=600)).isoformat()})
        assert held.status_code == 201, held.text
    submitted = ops.post(f"/v1/partners/{partner_id}/submit", {})
    assert submitted.status_code == 200, submitted.text
    body = submitted.json()
    assert body["missing"] == [], body
    if body.get("approval"):
        approval_id = body["approval"]["approval_id"]
        q.approvals.append(approval_id)
        decided = ops2.post(f"/v1/approvals/{approval_id}/decision", {"outcome": "approved", "note": "PA-2.9"})
        assert decided.status_code == 200, decided.text
    partner = ops.get(f"/v1/partners/{partner_id}").json()
    assert (partner["status"], partner["tier"]) == ("active", tier), partner
    minted = q.admin.post("/v1/keys", {"role": "partner", "partner_id": partner_id, "label": f"portal {letter}"})
    assert minted.status_code == 201, minted.text
    q.partners[letter], q.keys[letter] = partner_id, q.api.as_key(minted.json()["key"])
    return partner_id


def provision(api: Api, operator: Api) -> Quarter:
    """POST /v1/tenants as the operator with northwind's contracts and policy, then a key per staff role and a
    second finance and channel ops member."""
    config = load_tenant_file(Path(ROOT / "tenants" / "northwind" / "tenant.yaml"))
    config["tenant_id"] = f"rv5-{uuid.uuid4().hex[:10]}"
    config["plan"] = {**config["plan"], **UNTHROTTLED}
    created = operator.post("/v1/tenants", config)
    assert created.status_code == 201, created.text[:800]
    body = created.json()
    admin = api.as_key(body["admin_key"]["key"])
    roles = {"admin": admin}
    for role in (*STAFF_ROLES[1:], "finance", "channel_ops"):
        name = role if role not in roles else f"{role}_2"
        minted = admin.post("/v1/keys", {"role": role, "label": f"rv5 {name}"})
        assert minted.status_code == 201, minted.text
        roles[name] = api.as_key(minted.json()["key"])
    erp = ErpSender(api.base_url, config["tenant_id"], body["webhook_secret"], ship_to=ship_to_of(config))
    return Quarter(api, operator, config["tenant_id"], roles, erp)


def _quote(partner_id: str, sku: str, quantity: int, discount: str, customer: str) -> dict[str, Any]:
    return {"partner_id": partner_id, "quote_ref": f"Q-RV5-{uuid.uuid4().hex[:8]}",
            "customer": {"id": customer, "name": "Harbor Logistics LLC"},
            "lines": [{"line_id": "1", "sku": sku, "quantity": quantity, "discount_percent": discount}],
            "promotions": [], "terms": {"payment_days": 30}}


def _invoice_of(q: Quarter, letter: str) -> str:
    def found() -> bool:
        items = q.finance.get("/v1/invoices", partner_id=q.partners[letter], period=q.month, limit=50).json()["items"]
        if items:
            q.invoices[letter] = items[0]["invoice_id"]
        return bool(items)

    wait_until(found, 60, what=("invoice", letter, q.events))
    return q.invoices[letter]


def _line_no(q: Quarter, letter: str, sku: str) -> int:
    (line,) = [ln for ln in q.lines(letter) if ln.get("sku") == sku and Decimal(ln["amount"]) > 0]
    return int(str(line["line_id"]).rsplit(".", 1)[1])


def decide_quote_approvals(q: Quarter) -> None:
    """In month M, before the quotes expire (SOP-4.4 "Approvals of quote exceptions expire with the quote after 30
    days"): S's own key tries to approve q2 (SOP-4.3 "Partner users [...] may request but never approve"), then a
    channel ops member approves it; on q3 channel ops approves the tier cap, one finance member approves the finance
    threshold, a second finance member first rejects the margin floor without a reason (SOP-4.4 "A rejection
    without a reason is not accepted"), then with one. Every answer is kept in `q.decided` for the tests."""
    approvals = {name: {a["category"]: a["approval_id"] for a in q.quotes[name]["approvals"]} for name in ("q2", "q3")}
    path = "/v1/approvals/{}/decision".format
    q2 = approvals["q2"]["discount_above_tier_cap"]
    q.decided["partner_self"] = q.keys["S"].post(path(q2), {"outcome": "approved", "note": "mine"})
    q.decided["q2_cap"] = q.roles["channel_ops"].post(path(q2), {"outcome": "approved", "note": "PA-6.6(a)"})
    q3 = approvals["q3"]
    q.decided["q3_cap"] = q.roles["channel_ops"].post(path(q3["discount_above_tier_cap"]),
                                                      {"outcome": "approved", "note": "PA-6.6(a) strategic account"})
    q.decided["q3_finance"] = q.finance.post(path(q3["discount_above_finance_threshold"]),
                                             {"outcome": "approved", "note": "PA-6.6(b) within 30 %"})
    margin = path(q3["margin_below_floor"])
    q.decided["q3_margin_no_reason"] = q.roles["finance_2"].post(margin, {"outcome": "rejected"})
    q.decided["q3_margin"] = q.roles["finance_2"].post(margin, {
        "outcome": "rejected", "note": "PA-6.3: 5.41 % is below the 12 % floor"})


def run_quarter(api: Api, operator: Api, stack: Any) -> Quarter:
    """The whole quarter described in the module docstring, closed and settled (`stack`: its router, waited on so the
    accruals have read the issued invoices before the run is prepared)."""
    now = clock_support.now()
    if now.hour >= 21:  # the partners' activation day must hold the events and the 2.5 hours to their posting
        tomorrow = now.date() + timedelta(days=1)
        clock_support.forward_to(datetime(tomorrow.year, tomorrow.month, tomorrow.day, 0, 5, tzinfo=UTC))
    q = provision(api, operator)
    today = clock_support.today()
    q.month, q.period = today.strftime("%Y-%m"), quarter_of(today)
    for letter, tier in (("R", "registered"), ("S", "silver"), ("G", "gold")):
        onboard(q, letter, tier, today)
    S, G, R = q.partners["S"], q.partners["G"], q.partners["R"]
    customer = f"CUST-RV5-{uuid.uuid4().hex[:8]}"
    for name, letter, sku, quantity, discount in (("q1", "S", "NW-SW-24P", 100, "8.00"),
                                                  ("q2", "S", "NW-SW-24P", 20, "12.00"),
                                                  ("q3", "G", "NW-RTR-EDGE", 50, "26.00"),
                                                  ("q4", "R", "NW-SRV-R2", 5, "0.00")):
        checked = q.keys[letter].post("/v1/pricing/check", _quote(q.partners[letter], sku, quantity, discount,
                                                                   customer))
        assert checked.status_code == 200, checked.text
        q.quotes[name] = checked.json()
    decide_quote_approvals(q)
    registration = {"customer": {"id": customer, "name": "Harbor Logistics LLC", "contact": "Dana Whitfield"},
                    "family": "networking", "estimated_value": "150000.00",
                    "expected_close": (today + timedelta(days=60)).isoformat()}
    first = q.keys["S"].post("/v1/deals", {"partner_id": S, **registration})
    assert first.status_code == 201, first.text
    q.deals["S"] = first.json()
    decided = q.roles["channel_ops"].post(f"/v1/approvals/{first.json()['approval_id']}/decision",
                                          {"outcome": "approved", "note": "PA-5.2 engaged, contact named"})
    assert decided.status_code == 200, decided.text
    q.deals["S_approved_at"] = decided.json().get("decided_at") or clock_support.now_iso()
    q.deals["G"] = q.keys["G"].post("/v1/deals", {"partner_id": G, **registration})

    # the ERP events occur now, on the partners' activation day (PA-2.2: nothing before it is billed), and reach
    # Revgov 2.5 hours later (SOP-2.1's clock runs from "the time the event occurred, as recorded by the source system")
    occurred_at = clock_support.now().replace(microsecond=0) + timedelta(seconds=1)
    q.occurred = occurred_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    clock_support.forward_to(occurred_at + timedelta(hours=2, minutes=30))
    day = today.isoformat()
    q.event("e1", "shipment.confirmed", {"partner_id": S, "order_ref": "SO-RV5-S1", "shipped_on": day, "lines": [
        {"sku": "NW-SW-24P", "quantity": 100}, {"sku": "NW-SRV-R2", "quantity": 10}]}, erp_id="RV5-E1")
    q.event("e2", "shipment.confirmed", {"partner_id": G, "order_ref": "SO-RV5-G1", "shipped_on": day, "lines": [
        {"sku": "NW-RTR-EDGE", "quantity": 200}, {"sku": "NW-SRV-R2", "quantity": 20}]})
    q.event("e3", "shipment.confirmed", {"partner_id": R, "order_ref": "SO-RV5-R1", "shipped_on": day, "lines": [
        {"sku": "NW-SRV-R2", "quantity": 5}]})
    q.event("e4", "service.completed", {"partner_id": G, "sow_ref": "SOW-RV5-G1", "service": "deployment",
                                        "family": "networking", "milestone": "deployment", "sow_value": "50000.00",
                                        "accepted_on": day})
    for letter in ("R", "S", "G"):
        _invoice_of(q, letter)
    q.event("e5", "return.received", {"partner_id": S, "rma_ref": "RMA-RV5-S1", "invoice_id": q.invoices["S"],
                                      "line_no": _line_no(q, "S", "NW-SRV-R2"), "quantity": 1, "returned_on": day})
    q.event("e6", "credit_note.issued", {"partner_id": G, "credit_note_ref": "CN-RV5-G1",
                                         "invoice_id": q.invoices["G"], "line_no": _line_no(q, "G", "NW-RTR-EDGE"),
                                         "reason": "billing_error", "amount": "2100.00", "quantity": 1,
                                         "issued_on": day, "note": "one edge router billed twice on SO-RV5-G1"})
    q.event("e7", "shipment.confirmed", {"partner_id": S, "order_ref": "SO-RV5-S1", "shipped_on": day, "lines": [
        {"sku": "NW-SW-24P", "quantity": 100}, {"sku": "NW-SRV-R2", "quantity": 10}]}, erp_id="RV5-E1-AGAIN")
    q.event("e8", "support.logged", {"partner_id": S, "ticket_id": "TCK-RV5-S1", "family": "networking",
                                     "hours": "10.00", "performed_on": day, "severity": 2})
    q.event("e9", "support.logged", {"partner_id": G, "ticket_id": "TCK-RV5-G1", "family": "security",
                                     "hours": "6.00", "performed_on": day, "severity": 2})
    # month M ends: its invoices issued at 00:10 of the next day (SOP-2.1 "within 48 hours after the end of the Billing
    # Month", so no invoice_sla_breach whatever month of Q M is); the quarter ends: at 00:10 UTC on its next day the
    # run is prepared and approved (a no-op move when M is Q's last month)
    following = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    clock_support.forward_to(datetime(following.year, following.month, 1, 0, 10, tzinfo=UTC))
    assert sorted(issue_months_over_http(q.finance, q.month)) == sorted(q.invoices.values())
    settle(stack)
    after = first_day_after_quarter(today)
    clock_support.forward_to(datetime(after.year, after.month, after.day, 0, 10, tzinfo=UTC))
    settled = settle_over_http(q.finance, q.roles["finance_2"], {"period": q.period})
    assert settled.status_code == 201, settled.text
    q.settlement = settled.json()
    return q


def offboard(q: Quarter, stack: Any) -> None:
    settle(stack)
    q.operator.delete(f"/v1/tenants/{q.tenant_id}")
