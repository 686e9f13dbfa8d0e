"""A partner key reads its own invoice with the tax its lines carry, over HTTP, and nothing of a rival's.

CPA-10.1: invoices "show VAT per line or the reverse-charge notice". CPA-2.3: "Cross-border supplies within the EU are
invoiced under the reverse-charge mechanism only while the number validates." COP-2.2: "the Partner's VAT number must
have validated in VIES within the last 30 days for reverse-charge lines, otherwise VAT is charged at the applicable
rate." The contoso tenant is set up as established in NL at 21 % (policy.billing.tax). Both partners are established
in DE; only the first has a valid VIES check recorded (by finance: Revgov does not reach VIES). A docking station
(CT-DEV-DOCK) is EUR 210.00: the rival's line bears VAT 210.00 x 21 % = 44.10.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

import clock_support
from billing_support import wait_until
from revgov.ports import Changes
from revgov.services import partner_repository
from security_support import Party, make_party, offboard
from support import assert_problem

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def party(api: Any, operator: Any, stack: Any) -> Any:
    made = make_party(api, operator, stack, "contoso")
    yield made
    offboard(operator, made)


def _established_in_germany(party: Party, partner_id: str) -> None:
    stored = party.rt.store.get(party.tenant_id, partner_repository.PARTNERS, partner_id)
    assert stored is not None, partner_id
    changed = {**stored.data, "country": "DE"}
    party.rt.store.commit(party.tenant_id, Changes(puts=[partner_repository.put(changed, version=stored.version)]))


def _invoice_of(key: Any, period: str) -> dict[str, Any] | None:
    found = [i for i in key.get("/v1/invoices").json()["items"] if i["period"] == period]
    return found[0] if found else None


def test_a_partner_reads_its_own_invoice_lines_with_their_tax_and_never_a_rivals(party: Party):
    mine, rival = party.partners
    today = clock_support.today()
    for partner_id in (mine, rival):
        _established_in_germany(party, partner_id)
    checked = party.by_role["finance"].post(f"/v1/partners/{mine}/vat-validations", {
        "result": "valid", "checked_at": f"{today.isoformat()}T00:00:00Z", "reference": "WAPI-TAX-1"})  # fmt: skip
    assert checked.status_code in (200, 201), checked.text
    for partner_id in (mine, rival):
        # CPA-10.2 "devices are billed on delivery": the ERP reports the delivery, the day shipped
        data = {"partner_id": partner_id, "order_ref": f"SO-{uuid.uuid4().hex[:6]}", "shipped_on": today.isoformat(),
                "delivered_on": today.isoformat(), "lines": [{"sku": "CT-DEV-DOCK", "quantity": 1}]}  # fmt: skip
        event = {"id": f"ERP-{uuid.uuid4().hex[:12]}", "type": "shipment.confirmed",
                 "occurred_at": f"{today.isoformat()}T00:00:01Z", "data": data}  # fmt: skip
        assert party.erp.post(event).status_code == 202
    period = today.isoformat()[:7]
    key, rival_key = party.partner_keys[mine], party.partner_keys[rival]
    wait_until(lambda: _invoice_of(key, period) is not None and _invoice_of(rival_key, period) is not None, 30,
               what="both invoices")  # fmt: skip
    own_id = _invoice_of(key, period)["invoice_id"]  # type: ignore[index]
    rival_id = _invoice_of(rival_key, period)["invoice_id"]  # type: ignore[index]
    read = key.get(f"/v1/invoices/{own_id}")  # support.Api checks the declared Invoice schema
    assert read.status_code == 200, read.text
    own = read.json()
    (line,) = own["lines"]
    assert (line["tax"]["treatment"], line["tax"]["amount"], line["tax"]["notice"]) == ("reverse_charge", "0.00",
                                                                                        "Reverse charge")  # fmt: skip
    assert own["totals"] == {"net": "210.00", "tax": "0.00", "gross": "210.00"} and "cost" not in line
    assert own["tax"]["rests_on"]["reference"] == "WAPI-TAX-1" and "recorded_by" not in own["tax"]["rests_on"]
    assert not [k for k in party.key_ids.values() if k in read.text], read.text
    theirs = rival_key.get(f"/v1/invoices/{rival_id}").json()
    assert (theirs["lines"][0]["tax"]["treatment"], theirs["lines"][0]["tax"]["amount"]) == ("vat", "44.10")
    assert_problem(key.get(f"/v1/invoices/{rival_id}"), 404)  # a rival's invoice reads as one that does not exist
    filtered = assert_problem(key.get("/v1/invoices", partner_id=rival), 404)  # the rival's id: as an unknown one
    assert rival_id not in str(filtered)
