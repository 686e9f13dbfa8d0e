"""Settling a period as the contracts have it: finance issues the period's monthly invoices (SOP-2.1 "The monthly
invoice must be finalised and issued within 48 hours after the end of the Billing Month"; COP-2.1), prepares the run,
a second member of the finance queue approves it (SOP-7.2 / COP-7.2 "approved by a second member of the finance
queue"), and only then are statements issued. For tests that need an issued settlement: one call that does all three.

A run counts only invoices dated in its period (PA-1.2 / CPA-1.2: an invoice is dated when it is issued), so a run is
refused while one of them is still a draft (docs/rebates.md, Drafts). The stack's scheduler does not issue invoices
(the month-close watch only reports a draft not issued by M + 48 hours, `services/month_close.py`): finance does, with
POST /v1/invoices/{id}/finalize (in production n8n's invoice-release flow). `issue_months` is that step: every
draft of the period's months with a total other than 0.00 (SOP-2.2: a 0.00 invoice is not issued), issued at the
clock's time, as finance would clear a missed SLA before the run (the clock is the test's, and on the stack
everyone's: never moved back to M + 48 hours)."""

from __future__ import annotations

from typing import Any

from revgov.domain.access import Principal, Role
from revgov.domain.errors import RuleViolation
from revgov.domain.rebates.drafts import holding
from revgov.domain.rebates.policy import Period, month_name
from revgov.services import billing, rebates
from revgov.services.billing.repository import draft_invoices

SECOND_KEY = "key_01JSECONDFINANCE000000000"  # a finance key nobody else in these tests holds


def second_finance(tenant_id: str) -> Principal:
    return Principal(tenant_id, Role.FINANCE, SECOND_KEY)


def ended_months(period: str, today: str) -> list[str]:
    """The months of `period` (2026-Q3 or 2026-09) that ended before `today` (YYYY-MM-DD): only those are issued;
    none of a period that is not one (the run's own refusal names it)."""
    try:
        Period.parse(period)
    except RuleViolation:
        return []
    return [m for m in (month_name(i) for i in Period.parse(period).months) if m < today[:7]]


def issue_months(rt: Any, finance: Principal, period: str) -> list[str]:
    """Issue (finalize) as `finance` the drafts of the period's ended months whose total is not 0.00: their ids."""
    months = ended_months(period, rt.clock.now_iso())
    drafts = holding(draft_invoices(rt, finance.tenant_id, months))
    for draft in drafts:
        billing.finalize_invoice(rt, finance, draft["invoice_id"])
    return [d["invoice_id"] for d in drafts]


def prepare(rt: Any, finance: Principal, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Issue the period's months (`issue_months`), then prepare the run as `finance` (rebates.settle's answer)."""
    issue_months(rt, finance, str(body["period"]))
    return rebates.settle(rt, finance, body)


def settle_approved(rt: Any, finance: Principal, body: dict[str, Any],
                    approver: Principal | None = None) -> tuple[int, dict[str, Any]]:
    """Prepare the run (as `finance`) and approve it (as a second finance member); the settled run, with the
    preparation's `replayed`. A run approved before is answered as it is. The period's months are issued first."""
    status, prepared = prepare(rt, finance, body)
    if prepared["status"] != "prepared":
        return status, prepared
    approved = rebates.approve_settlement(rt, approver or second_finance(finance.tenant_id),
                                          prepared["settlement_id"], {})
    return status, {**approved, "replayed": prepared["replayed"]}


class Issued:
    """The answer of a run prepared and approved over HTTP, shaped like the response the tests read."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.status_code = 201
        self.body = body
        self.text = str(body)
        self.headers = {"Content-Type": "application/json"}

    def json(self) -> dict[str, Any]:
        return self.body


def settle_over_http(preparer: Any, approver: Any, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    """POST /v1/rebates/settlements as `preparer`, then /approve as `approver` (a second finance key): the settled
    run with the preparation's `replayed` (201), or the preparation's own answer when it is not a prepared run (a
    problem, or a run approved before). A preparation replayed for a run approved since answers the settled run.
    The period's months are issued first (`issue_months_over_http`, as `preparer`)."""
    issue_months_over_http(preparer, str(body["period"]))
    prepared = preparer.post("/v1/rebates/settlements", body, headers=headers)
    if prepared.status_code != 201 or prepared.json()["status"] != "prepared":
        return prepared
    settlement_id = prepared.json()["settlement_id"]
    approved = preparer.get(f"/v1/rebates/settlements/{settlement_id}")  # an Idempotency-Key replay: approved since?
    if approved.json()["status"] == "prepared":
        approved = approver.post(f"/v1/rebates/settlements/{settlement_id}/approve", {})
    assert approved.status_code == 200, approved.text
    return Issued({**approved.json(), "replayed": prepared.json()["replayed"]})


def issue_months_over_http(finance: Any, period: str, today: str | None = None) -> list[str]:
    """`issue_months` over HTTP as `finance` (GET /v1/invoices?status=draft&period=, POST /v1/invoices/{id}/finalize):
    the months of `period` ended before `today` (default: the stack's clock, `clock_support.now_iso`)."""
    if today is None:
        import clock_support

        today = clock_support.now_iso()
    issued = []
    for month in ended_months(period, today):
        cursor: str | None = None
        drafts: list[dict[str, Any]] = []
        while True:
            params = {"status": "draft", "period": month, "limit": 200, **({"cursor": cursor} if cursor else {})}
            page = finance.get("/v1/invoices", **params)
            assert page.status_code == 200, page.text
            drafts += page.json()["items"]
            cursor = page.json().get("next_cursor")
            if not cursor:
                break
        for draft in holding(drafts):
            done = finance.post(f"/v1/invoices/{draft['invoice_id']}/finalize", {})
            assert done.status_code == 200 or done.json().get("current_status") == "finalized", done.text
            issued.append(draft["invoice_id"])
    return issued


# --- one partner's sales, invoices and payments on an in-memory Ledger, as the settlement tests set them up -------
# (tests/unit/test_settlement_bank_transfer.py, test_rebate_withholding.py, test_statement_lists_every_program.py)
NORTHWIND_P1 = "ptr_01JBNWPARTNER0000000000001"  # platinum in tests/scenarios/billing/erp-samples.json


def ship(ledger: Any, partner_id: str, on: str, *, sku: str = "NW-SRV-R2", quantity: int = 30,
         order_prefix: str = "SO") -> None:  # fmt: skip
    """The partner's order of `quantity` x `sku` shipped on day `on` (10:00, billed at noon), billed."""
    ledger.clock.set(f"{on}T12:00:00Z")
    data = {"partner_id": partner_id, "order_ref": f"{order_prefix}-{partner_id[-1]}-{on}", "shipped_on": on,
            "lines": [{"sku": sku, "quantity": quantity}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", data, occurred_at=f"{on}T10:00:00Z")["status"] == "processed"


def issue(ledger: Any, finance: Principal, partner_id: str, month: str, at: str) -> str:
    """The partner's invoice of `month` issued (finalized) by finance at `at`: it is dated that day."""
    ledger.clock.set(at)
    invoice_id: str = ledger.invoice(partner_id, month)["invoice_id"]
    billing.finalize_invoice(ledger.rt, finance, invoice_id)
    return invoice_id


def pay(ledger: Any, partner_id: str, invoice_id: str, on: str) -> None:
    """The ERP's payment of the invoice on day `on`, billed."""
    ledger.clock.set(f"{on}T09:00:00Z")
    data = {"partner_id": partner_id, "invoice_id": invoice_id, "paid_on": on, "payment_ref": f"RCPT-{on}"}
    assert ledger.bill("invoice.paid", data, occurred_at=f"{on}T09:00:00Z")["status"] == "processed"


def settle_run(ledger: Any, finance: Principal, period: str, at: str, run: int = 1) -> dict[str, Any]:
    """The period's run prepared, approved and settled at `at` (`settle_approved`)."""
    ledger.clock.set(at)
    return settle_approved(ledger.rt, finance, {"period": period, "run": run})[1]


def september(finance: Principal, terms_days: int | None = None) -> tuple[Any, str]:
    """P1 (platinum) ships 30 x NW-SRV-R2 on 2026-09-05; its September invoice is issued on 2026-10-01 (due on the
    day + its payment term) and not paid. `terms_days`: P1's own payment term, if given. The Ledger and the invoice."""
    from memory_store import Ledger  # a test helper of tests/, imported where the Ledger is wanted
    from revgov.ports import Changes, Put

    ledger = Ledger("2026-09-05T12:00:00Z")
    if terms_days is not None:
        p1 = {**next(p for p in ledger.partners if p["partner_id"] == NORTHWIND_P1),
              "terms": {"payment_terms_days": terms_days}}  # fmt: skip
        ledger.rt.store.commit("northwind", Changes(puts=[Put("PARTNER", NORTHWIND_P1, p1)]))
    ship(ledger, NORTHWIND_P1, "2026-09-05")
    return ledger, issue(ledger, finance, NORTHWIND_P1, "2026-09", "2026-10-01T06:00:00Z")
