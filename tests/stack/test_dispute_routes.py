"""Invoice-dispute appeals and the waiting-on-partner pause over HTTP: who may call what, field by field, and bad input.

SOP-1.3: "The clock is paused only while an item is in the status "waiting on partner" and restarts when the Partner
responds." SOP-6.3: "The Partner may appeal once, within 10 business days of the decision; the appeal is decided
jointly by the head of Finance and Legal." PA-11.1: the Distributor does not disclose one Partner's data to another.
The sample shipment (4 x NW-SW-24P = 5,000.00, below SOP-2.5's USD 10,000.00 approval limit) is billed and issued now.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from test_audit_partner_trail import KEY_ID, _every

from billing_support import billing_tenant_in, issued_october
from support import Api, assert_problem

pytestmark = pytest.mark.stack

@pytest.fixture
def billing_tenant(api, operator, stack):
    yield from billing_tenant_in(api, operator, stack)


def _key(tenant: Any, api: Api, role: str) -> Api:
    minted = tenant.admin.post("/v1/keys", {"role": role, "label": f"second {role}"})
    assert minted.status_code == 201, minted.text
    return api.as_key(minted.json()["key"])


def test_the_partner_answers_its_own_waiting_dispute_and_appeals_its_rejection(billing_tenant, api) -> None:
    tenant = billing_tenant
    october, own, rival = issued_october(tenant, api)
    invoice_id = october["invoice_id"]
    # the head of finance and legal hold keys of their own, minted before the appeal (a key the admin mints after it
    # is the admin's: SOP-4.3 "two different people", services/key_lineage.py)
    head_of_finance, legal = _key(tenant, api, "finance"), _key(tenant, api, "legal")
    filed = own.post(f"/v1/invoices/{invoice_id}/disputes", {"line_no": 1, "amount": "1250.00", "reason": "4 not 5"})
    assert filed.status_code == 201, filed.text
    dispute = filed.json()
    approval, dispute_id = dispute["approval_id"], dispute["dispute_id"]
    assert dispute["acknowledge_by"] and dispute["decide_by"]  # SOP-6.1's business days
    # finance asks the partner; the approval waits on it (SOP-1.3)
    for bad in ({}, {"question": "   "}, {"question": "x", "extra": 1}, {"question": "a\u202eb"}):
        assert_problem(tenant.finance.post(f"/v1/approvals/{approval}/ask-partner", bad), 400)
    assert_problem(tenant.channel_ops.post(f"/v1/approvals/{approval}/ask-partner", {"question": "?"}), 403)
    assert_problem(own.post(f"/v1/approvals/{approval}/ask-partner", {"question": "?"}), 403)
    asked = tenant.finance.post(f"/v1/approvals/{approval}/ask-partner", {"question": "signed delivery note?"})
    assert asked.status_code == 200 and asked.json()["status"] == "waiting_on_partner", asked.text
    shown = own.get(f"/v1/invoice-disputes/{dispute_id}").json()
    assert shown["waiting_on_partner"]["question"] == "signed delivery note?"
    # a rival's reply: the item does not exist for it; staff do not answer for the partner
    assert_problem(rival.post(f"/v1/approvals/{approval}/partner-reply", {"reply": "mine"}), 404)
    assert_problem(tenant.finance.post(f"/v1/approvals/{approval}/partner-reply", {"reply": "x"}), 403)
    assert_problem(own.post(f"/v1/exceptions/{approval}/partner-reply", {"reply": "x"}), 404)  # not an exception
    replied = own.post(f"/v1/approvals/{approval}/partner-reply", {"reply": "DN-1182 attached"})
    assert replied.status_code == 200, replied.text
    body = replied.json()
    assert body["status"] == "pending" and body["pauses"][0]["reply"] == "DN-1182 attached"
    assert "requested_by" not in body and "key_" not in replied.text  # no staff key id, no requester
    assert_problem(own.post(f"/v1/approvals/{approval}/partner-reply", {"reply": "again"}), 409)  # not waiting
    # rejected by finance; the partner appeals, once
    rejected = tenant.finance.post(f"/v1/approvals/{approval}/decision", {"outcome": "rejected", "note": "5 signed"})
    assert rejected.status_code == 200, rejected.text
    path = f"/v1/invoice-disputes/{dispute_id}/appeal"
    for bad in ({}, {"reason": ""}, {"reason": "x", "amount": "9.99"}, {"reason": 5}):
        assert_problem(own.post(path, bad), 400)
    assert_problem(rival.post(path, {"reason": "mine"}), 404)
    assert_problem(tenant.finance.post(path, {"reason": "x"}), 403)
    appealed = own.post(path, {"reason": "DN-1182 is signed for 4"})
    assert appealed.status_code == 200, appealed.text
    appeal = appealed.json()["appeal"]
    assert appealed.json()["status"] == "appealed" and "key_" not in appealed.text
    assert_problem(own.post(path, {"reason": "again"}), 409)  # "may appeal once"
    finance_case, legal_case = appeal["approval_ids"]
    # the finance member who rejected the dispute does not decide its appeal
    assert_problem(tenant.finance.post(f"/v1/approvals/{finance_case}/decision",
                                       {"outcome": "approved", "note": "ok"}), 403)  # fmt: skip
    assert head_of_finance.post(f"/v1/approvals/{finance_case}/decision",
                                {"outcome": "approved", "note": "signed for 4"}).status_code == 200  # fmt: skip
    assert legal.post(f"/v1/approvals/{legal_case}/decision", {"outcome": "approved", "note": "agreed"}).status_code \
        == 200  # fmt: skip
    upheld = own.get(f"/v1/invoice-disputes/{dispute_id}")
    assert upheld.status_code == 200, upheld.text
    resolution = upheld.json()["resolution"]
    assert upheld.json()["status"] == "upheld" and resolution["appeal"] is True
    assert "key_" not in upheld.text  # PA-11.1: the teams that decided, never the distributor's key ids
    assert {d["by"] for d in upheld.json()["appeal"]["decisions"]} == {"finance", "legal"}
    assert resolution["credited"] == "1250.00" and resolution["credit_note_line_id"]
    assert_problem(rival.get(f"/v1/invoice-disputes/{dispute_id}"), 404)


# --- redteam3: PA-12.1 / CPA-12.1 — the dispute's whole life is in the partner's own trail --------------------------
# PA-12.1: "The Distributor keeps an audit trail of every automated decision and approval under this Agreement and
# provides the Partner, on request, with the records relating to the Partner." The acknowledgement of its dispute
# (SOP-6.1), the question its approval waits on (SOP-1.3) and the joint decision on its appeal (SOP-6.3 "decided jointly
# by the head of Finance and Legal") relate to the partner; staff find them under `partner_id` too. PA-11.1: what the
# partner reads names no rival and no staff key.
def test_every_step_of_a_partners_dispute_and_its_appeal_is_in_its_own_trail(billing_tenant, api) -> None:
    tenant = billing_tenant
    october, own, rival = issued_october(tenant, api)
    head_of_finance, legal = _key(tenant, api, "finance"), _key(tenant, api, "legal")  # two people (SOP-4.3)
    filed = own.post(f"/v1/invoices/{october['invoice_id']}/disputes",
                     {"line_no": 1, "amount": "1250.00", "reason": "4 not 5"})  # fmt: skip
    assert filed.status_code == 201, filed.text
    approval, dispute_id = filed.json()["approval_id"], filed.json()["dispute_id"]
    partner_id = filed.json()["partner_id"]
    assert tenant.finance.post(f"/v1/invoice-disputes/{dispute_id}/acknowledge").status_code == 200
    asked = tenant.finance.post(f"/v1/approvals/{approval}/ask-partner", {"question": "signed delivery note?"})
    assert asked.status_code == 200, asked.text
    assert own.post(f"/v1/approvals/{approval}/partner-reply", {"reply": "DN-1182 attached"}).status_code == 200
    rejected = tenant.finance.post(f"/v1/approvals/{approval}/decision", {"outcome": "rejected", "note": "5 signed"})
    assert rejected.status_code == 200, rejected.text
    appealed = own.post(f"/v1/invoice-disputes/{dispute_id}/appeal", {"reason": "DN-1182 is signed for 4"})
    assert appealed.status_code == 200, appealed.text
    finance_case, legal_case = appealed.json()["appeal"]["approval_ids"]
    assert head_of_finance.post(f"/v1/approvals/{finance_case}/decision",
                                {"outcome": "approved", "note": "signed for 4"}).status_code == 200  # fmt: skip
    decided = legal.post(f"/v1/approvals/{legal_case}/decision", {"outcome": "approved", "note": "agreed"})
    assert decided.status_code == 200, decided.text

    mine = _every(own)
    actions = {(r["action"], r["subject"]) for r in mine}
    expected = {
        ("invoice_dispute.acknowledged", dispute_id),  # SOP-6.1 acknowledgement of its dispute
        ("approval.waiting_on_partner", approval),  # SOP-1.3: the question its approval waited on
        ("approval.partner_replied", approval),
        ("invoice_dispute.rejected", dispute_id),
        ("invoice_dispute.appealed", dispute_id),
        ("invoice_dispute.appeal_decided", dispute_id),  # the head of finance's half of the joint decision
        ("invoice_dispute.appeal_upheld", dispute_id),  # SOP-6.3: the joint decision on its appeal
    }
    assert expected <= actions, sorted(expected - actions)
    # staff list the same records under the partner (the partner each record names, under its hash)
    staff = {(r["action"], r["subject"]) for r in _every(tenant.finance, partner_id=partner_id)}
    assert expected <= staff, sorted(expected - staff)
    text = json.dumps(mine)
    assert not KEY_ID.search(text), KEY_ID.findall(text)[:3]
    assert all(r.get("partner_id") in (None, partner_id) for r in mine)
    # the rival's trail holds none of it
    theirs = {r["subject"] for r in _every(rival)}
    assert dispute_id not in theirs and approval not in theirs
    assert tenant.finance.get("/v1/audit/verify").json()["valid"] is True
