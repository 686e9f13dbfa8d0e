"""What a suspended partner may still send about its own disputes and the questions put to it, over HTTP.

PA-9.6: "A suspended Partner keeps read-only access to its statements and documents." PA-13.2 names what a suspension
stops: the Distributor "may suspend a Partner from new quotes, orders, deal registrations and incentive accrual,
without terminating this Agreement [...] and is lifted when the reason is cured" (CPA-13.2 the same list). Rights the
Agreement gives with a time limit keep running through a suspension that does not name them:

- SOP-6.1: "A Partner may dispute an invoice line within 30 days of the invoice date through the Partner Portal"
  (COP-6.1: 21 days), and SOP-6.3 "The Partner may appeal once, within 10 business days of the decision";
- SOP-1.3: "The clock is paused only while an item is in the status "waiting on partner" and restarts when the
  Partner responds" (COP-1.3: "resumes when the Partner replies"): a partner that cannot reply leaves its own item
  waiting for ever.

Before, each of these was answered 403 (PA-9.6 read-only) to a suspended partner's key. The rebate dispute (PA-7.9) is
in tests/stack/test_rebates_api.py; the cure (a renewed insurance certificate, PA-2.7) in
tests/stack/test_redteam2_suspended_partner.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from billing_support import billing_tenant_in, issued_october
from revgov.ports import Changes, Put
from support import ROOT, assert_problem

pytestmark = pytest.mark.stack


@pytest.fixture
def billing_tenant(api, operator, stack):
    yield from billing_tenant_in(api, operator, stack)


def _suspend(tenant: Any, partner_id: str) -> None:
    """The sample partner (written straight to the store, as onboarding leaves it) suspended under PA-13.2(c)."""
    (sample,) = [p for p in json.loads((ROOT / "tests/scenarios/billing/erp-samples.json").read_text())["partners"]
                 if p["partner_id"] == partner_id]
    step = {"from": "active", "to": "suspended", "at": "2026-11-20T09:00:00Z", "by": "test",
            "reason": "PA-13.2(c): an amount more than 60 days overdue"}
    suspended = {**sample, "status": "suspended", "history": [*sample.get("history", []), step]}
    tenant.rt.store.commit(tenant.tenant_id, Changes(puts=[Put("PARTNER", partner_id, suspended)]))


def test_a_suspended_partner_disputes_its_invoice_answers_the_question_and_appeals(billing_tenant, api) -> None:
    tenant = billing_tenant
    october, own, rival = issued_october(tenant, api)
    partner_id = own.get("/v1/me").json()["partner_id"]
    _suspend(tenant, partner_id)
    # still read-only for what PA-13.2 stops: an MDF activity (incentive accrual) is refused naming PA-9.6
    refused = own.post(f"/v1/partners/{partner_id}/mdf/activities",
                       {"title": "Roadshow", "starts_on": "2027-03-01", "ends_on": "2027-03-02",
                        "planned_amount": "100.00"})  # fmt: skip
    assert refused.status_code == 403 and refused.json()["clause"] == "PA-9.6", refused.text
    # SOP-6.1: the dispute within 30 days of the invoice date (the window is the service's, suspended or not)
    filed = own.post(f"/v1/invoices/{october['invoice_id']}/disputes",
                     {"line_no": 1, "amount": "1250.00", "reason": "4 switches shipped, 5 invoiced"})  # fmt: skip
    assert filed.status_code == 201, filed.text
    # open is not wider: an invoice it cannot see is the same 404, a bad body a 400 naming the field, nothing filed
    assert_problem(own.post("/v1/invoices/inv_01JX0000000000000000000000/disputes",
                            {"line_no": 1, "amount": "1.00", "reason": "not mine"}), 404)  # fmt: skip
    bad = assert_problem(own.post(f"/v1/invoices/{october['invoice_id']}/disputes",
                                  {"line_no": 1, "amount": "12.345", "reason": "x"}), 400)  # fmt: skip
    assert "/amount" in {e["path"] for e in bad.get("errors", [])}, bad
    approval, dispute_id = filed.json()["approval_id"], filed.json()["dispute_id"]
    # a rival (not suspended) still cannot reach it: the opening is no wider than the partner's own objects
    assert_problem(rival.post(f"/v1/approvals/{approval}/partner-reply", {"reply": "mine"}), 404)
    # SOP-1.3: finance asks; the suspended partner's reply restarts the clock
    asked = tenant.finance.post(f"/v1/approvals/{approval}/ask-partner", {"question": "signed delivery note?"})
    assert asked.status_code == 200 and asked.json()["status"] == "waiting_on_partner", asked.text
    replied = own.post(f"/v1/approvals/{approval}/partner-reply", {"reply": "DN-1182 attached"})
    assert replied.status_code == 200, replied.text
    assert replied.json()["status"] == "pending" and replied.json()["pauses"][0]["reply"] == "DN-1182 attached"
    # a reply to an item not waiting on it is still 409: only the answer SOP-1.3 waits for is open
    assert_problem(own.post(f"/v1/approvals/{approval}/partner-reply", {"reply": "again"}), 409)
    # SOP-6.3: rejected, the partner appeals once within 10 business days
    rejected = tenant.finance.post(f"/v1/approvals/{approval}/decision", {"outcome": "rejected", "note": "5 signed"})
    assert rejected.status_code == 200, rejected.text
    appealed = own.post(f"/v1/invoice-disputes/{dispute_id}/appeal", {"reason": "DN-1182 is signed for 4"})
    assert appealed.status_code == 200 and appealed.json()["status"] == "appealed", appealed.text
    assert tenant.rt.store.get(tenant.tenant_id, "PARTNER", partner_id).data["status"] == "suspended"  # not lifted
