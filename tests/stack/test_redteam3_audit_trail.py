"""Red team (redteam3): a partner's audit trail (PA-12.1 / CPA-12.1) through an invoice dispute's whole life.

PA-12.1: "The Distributor keeps an audit trail of every automated decision and approval under this Agreement and
provides the Partner, on request, with the records relating to the Partner." The acknowledgement of its dispute
(SOP-6.1), the question its approval waits on (SOP-1.3), and the joint decision on its appeal (SOP-6.3 "decided jointly
by the head of Finance and Legal") are records relating to the partner; staff find them under `partner_id` too.
PA-11.1: what the partner reads names no rival and no staff key.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from billing_support import billing_tenant_in, issued_october
from support import Api

pytestmark = pytest.mark.stack
KEY_ID = re.compile(r"key_[0-9A-Za-z]{8,}")


@pytest.fixture
def billing_tenant(api, operator, stack):
    yield from billing_tenant_in(api, operator, stack)


def _key(tenant: Any, api: Api, role: str) -> Api:
    minted = tenant.admin.post("/v1/keys", {"role": role, "label": f"second {role}"})
    assert minted.status_code == 201, minted.text
    return api.as_key(minted.json()["key"])


def _every(client: Api, **query: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = client.get("/v1/audit", limit=50, **query, **({"cursor": cursor} if cursor else {}))
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if not cursor:
            return items


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
