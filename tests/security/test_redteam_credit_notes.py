"""Red team: who may approve a credit note that settles an upheld invoice dispute.

SOP-2.5: "Credit notes above USD 10,000.00 require approval by a member of the finance queue other than the
preparer." SOP-4.3: "A requester can never approve their own request." services/key_lineage.py: a key minted after a
request, by the requester's key, is in the requester's hands. Before the fix an admin who filed a dispute for its
partner (the dispute's requester) could mint a finance key after the filing and approve, with it, the credit note the
upheld dispute held for finance: the credit note's own check compared only the approving key itself with the filer.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

import clock_support
from billing_support import wait_until
from revgov.ports import Changes, Put
from security_support import Party, _onboard, _price_list, make_party, offboard
from support import assert_problem


def _issued_invoice(party: Party) -> tuple[str, int]:
    """A shipment of last month billed on its invoice (one line above USD 10,000.00) and the invoice issued, for a
    partner of its own (the session's shared partners carry other tests' invoices and holds)."""
    tier = sorted(party.policy["partner_tiers"], key=lambda t: t["rank"])[1]
    partner_id = _onboard(party, f"Credit Note Reseller {uuid.uuid4().hex[:6]}", "reseller", tier, "active")
    stored = party.rt.store.get(party.tenant_id, "PARTNER", partner_id)
    last_month = clock_support.today().replace(day=1) - timedelta(days=1)
    shipped = date(last_month.year, last_month.month, 10)
    activated = {**stored.data, "activated_at": f"{shipped.year - 1}-01-01T09:00:00Z"}
    party.rt.store.commit(party.tenant_id, Changes(puts=[Put("PARTNER", partner_id, activated,
                                                             expected_version=stored.version)]))
    item = max(_price_list(party.policy, "shipment"), key=lambda p: float(p["list_price"]))
    quantity = int(12000 // float(item["list_price"])) + 1
    event = {
        "id": f"ERP-{uuid.uuid4().hex[:16]}", "type": "shipment.confirmed",
        "occurred_at": f"{shipped.isoformat()}T10:00:00Z",
        "data": {"partner_id": partner_id, "order_ref": f"SO-{uuid.uuid4().hex[:8]}", "shipped_on": shipped.isoformat(),
                 "lines": [{"sku": item["sku"], "quantity": quantity}]},
    }
    sent = party.erp.post({"events": [event]})
    assert sent.status_code == 202, sent.text
    finance, period = party.by_role["finance"], shipped.isoformat()[:7]
    event_id = sent.json()["results"][0]["event_id"]
    terminal = ("processed", "failed", "dead_lettered")

    def handled() -> dict[str, Any]:
        return dict(party.admin.get(f"/v1/events/{event_id}").json())

    wait_until(lambda: handled().get("status") in terminal, 60, what="the shipment handled")
    assert handled()["status"] == "processed", json.dumps(handled())

    def billed() -> list[dict[str, Any]]:
        listed = finance.get("/v1/invoices", period=period, partner_id=partner_id).json()["items"]
        return [i for i in listed if i["total"] != "0.00"]

    wait_until(lambda: bool(billed()), 30, what="the shipment billed")
    invoice = billed()[0]
    issued = finance.post(f"/v1/invoices/{invoice['invoice_id']}/finalize")
    assert issued.status_code == 200, issued.text
    line = max(issued.json()["lines"], key=lambda x: float(x["amount"]))
    assert float(line["amount"]) > 10000, line
    return invoice["invoice_id"], int(line["number"])


@pytest.fixture
def party(api: Any, operator: Any, stack: Any) -> Iterator[Party]:
    """A tenant of this test's own: the session's shared tenants carry other tests' partners, invoices and holds."""
    made = make_party(api, operator, stack, "northwind")
    yield made
    offboard(operator, made)


def test_the_filer_of_a_dispute_cannot_approve_its_credit_note_through_a_key_minted_after(party: Party, api: Any):
    invoice_id, line_no = _issued_invoice(party)
    admin, finance = party.admin, party.by_role["finance"]
    filed = admin.post(f"/v1/invoices/{invoice_id}/disputes",
                       {"line_no": line_no, "amount": "10500.00", "reason": "delivered units were returned"})
    assert filed.status_code == 201, filed.text
    upheld = finance.post(f"/v1/approvals/{filed.json()['approval_id']}/decision",
                          {"outcome": "approved", "note": "the units came back (RMA-77)"})
    assert upheld.status_code == 200, upheld.text
    dispute = finance.get(f"/v1/invoice-disputes/{filed.json()['dispute_id']}").json()
    held = dispute["resolution"]["credit_note_approval_id"]
    assert held, dispute  # above USD 10,000.00: held for a second member of the finance queue (SOP-2.5)
    minted = admin.post("/v1/keys", {"role": "finance", "label": "a finance key the filer holds"})
    assert minted.status_code == 201, minted.text
    own_finance = api.as_key(minted.json()["key"])
    refused = assert_problem(own_finance.post(f"/v1/approvals/{held}/decision",
                                              {"outcome": "approved", "note": "fine"}), 403)
    assert refused.get("refusal") == "self_approval", refused
    still = finance.get(f"/v1/approvals/{held}").json()
    assert still["status"] == "pending"
    # SOP-4.3: "Any attempt to self-approve is rejected and recorded in the audit log."
    trail = admin.get("/v1/audit", subject=held, limit=50).json()["items"]
    assert "approval.decision_refused" in [r["action"] for r in trail]
