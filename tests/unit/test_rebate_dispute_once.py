"""One open dispute per statement line (issue 23: "the same dispute filed twice opens two claims on the same line").

PA-7.9: "A Partner may dispute a settlement statement ... by submitting a dispute ... that identifies the Quarter and
program"; SOP-6.2 then has Finance decide it. A second filing of the same line while the first is open is a
409 problem+json naming the open dispute, and changes nothing; once the first is decided, the line can be disputed
again.
"""

from __future__ import annotations

import pytest

from memory_store import Ledger
from rebate_runs import settle_approved
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Conflict
from revgov.edge.http import problem
from revgov.services import rebates

P1 = "ptr_01JBNWPARTNER0000000000001"
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")
DECIDER = Principal("northwind", Role.FINANCE, "key_fin2")
PARTNER = Principal("northwind", Role.PARTNER, "key_partner", P1)
EVIDENCE = [{"kind": "invoice", "reference": "inv-2026-09", "note": "30 servers"}]


@pytest.fixture
def settled():
    ledger = Ledger("2026-09-05T12:00:00Z")
    answer = ledger.bill(
        "shipment.confirmed",
        {
            "partner_id": P1,
            "order_ref": "SO-1",
            "shipped_on": "2026-09-05",
            "lines": [{"sku": "NW-SRV-R2", "quantity": 30}],
        },
        occurred_at="2026-09-05T10:00:00Z",
    )
    assert answer["status"] == "processed"
    ledger.clock.set("2026-10-03T10:00:00Z")
    _, settlement = settle_approved(ledger.rt, FINANCE, {"period": "2026-Q3", "run": 1})
    return ledger, settlement["settlement_id"]


def _file(ledger, settlement_id, program_id="RBT-VOLUME", amount="100.00"):
    body = {
        "settlement_id": settlement_id,
        "partner_id": P1,
        "program_id": program_id,
        "amount": amount,
        "reason": "the SPIFF units were not counted",
        "evidence": EVIDENCE,
    }
    return rebates.file_dispute(ledger.rt, PARTNER, body)


def _disputes(ledger):
    return [s.data for s in ledger.rt.store.query("northwind", rebates.DISPUTES, limit=100).items]


def test_a_second_filing_of_the_same_statement_line_is_409_naming_the_open_dispute(settled):
    ledger, settlement_id = settled
    first = _file(ledger, settlement_id)
    with pytest.raises(Conflict) as refused:
        _file(ledger, settlement_id, amount="250.00")
    body = problem(refused.value, "/v1/rebates/disputes", "c-1").body
    assert body["status"] == 409 and body["open_dispute_id"] == first["dispute_id"]
    assert [d["dispute_id"] for d in _disputes(ledger)] == [first["dispute_id"]]  # nothing changed
    other_line = _file(ledger, settlement_id, program_id="RBT-HW-SPIFF")  # another line of the statement
    assert other_line["dispute_id"] != first["dispute_id"]


def test_once_decided_the_line_can_be_disputed_again(settled):
    ledger, settlement_id = settled
    first = _file(ledger, settlement_id)
    rebates.resolve_dispute(ledger.rt, DECIDER, first["dispute_id"], {"outcome": "rejected", "reason": "counted"})
    assert rebates.get_dispute(ledger.rt, DECIDER, first["dispute_id"])[0]["status"] == "rejected"
    again = _file(ledger, settlement_id)
    assert again["dispute_id"] != first["dispute_id"]
