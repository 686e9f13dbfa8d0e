"""A partner's request for settlement by bank transfer over HTTP: who asks, who reads, and bad requests.

PA-7.8: "Settlement is made by credit note applied to the Partner's account or, where the Partner has no open balance
and requests it, by bank transfer." The request is the partner's ("requests it"): its own key, or staff on its
behalf; another partner's key gets the 404 of an id no one holds (API.md: "never confirm it exists"). The settlement
cases (open balance, withheld, approval after a request) are in tests/unit/test_settlement_bank_transfer.py on a fixed
clock.
"""

from __future__ import annotations

from typing import Any

import pytest

from support import assert_problem, northwind_silver_partners

pytestmark = pytest.mark.stack
UNKNOWN = "ptr_01JBNWPARTNER0000000000999"


@pytest.fixture(scope="module")
def pair(stack: Any, api: Any) -> dict[str, Any]:
    return northwind_silver_partners(stack, api, ("Asker", "Rival"), "BankTransfer")


def _path(partner_id: str) -> str:
    return f"/v1/partners/{partner_id}/bank-transfer-request"


def test_pa_7_8_a_partner_asks_reads_and_withdraws_its_own_request_and_a_rival_learns_nothing(pair):
    (partner_id, mine), (_rival_id, rival) = pair["partners"]
    assert mine.get(_path(partner_id)).json()["status"] == "none"
    for bad in ({"note": "x" * 501}, {"iban": "DE89370400440532013000"}, {"partner_id": partner_id}, {"note": 5}):
        problem = assert_problem(mine.post(_path(partner_id), bad), 400)
        assert problem["errors"] and all(e["path"].startswith("/") for e in problem["errors"])
    assert mine.get(_path(partner_id)).json()["status"] == "none"  # nothing changed
    asked = mine.post(_path(partner_id), {"note": "pay to DE89 3704 0044 0532 0130 00"})
    assert asked.status_code == 201, asked.text
    body = asked.json()
    assert (body["status"], body["rule_id"], body["clause"], body["requested_by_role"]) == (
        "standing", "RBT-SETTLEMENT-METHOD", "PA-7.8", "partner")
    assert "0532" not in asked.text  # no bank details are kept
    assert_problem(mine.post(_path(partner_id), {}), 409)  # it stands already
    # a rival's key: the same 404 as for an id no one holds, for reading, asking and withdrawing
    for call in (lambda pid: rival.get(_path(pid)), lambda pid: rival.post(_path(pid), {}),
                 lambda pid: rival.post(f"{_path(pid)}/withdraw", {})):  # fmt: skip
        theirs, nobody = assert_problem(call(partner_id), 404), assert_problem(call(UNKNOWN), 404)
        assert {k: v for k, v in theirs.items() if k not in ("detail", "instance", "correlation_id")} == {
            k: v for k, v in nobody.items() if k not in ("detail", "instance", "correlation_id")}
        assert theirs["detail"] == f"no partner {partner_id}" and nobody["detail"] == f"no partner {UNKNOWN}"
    assert_problem(pair["roles"]["sales"].post(_path(partner_id), {}), 403)
    assert mine.get(_path(partner_id)).json()["status"] == "standing"
    withdrawn = pair["roles"]["finance"].post(f"{_path(partner_id)}/withdraw", {})
    assert withdrawn.status_code == 200, withdrawn.text
    assert (withdrawn.json()["status"], withdrawn.json()["withdrawn_by_role"]) == ("withdrawn", "finance")
    assert_problem(mine.post(f"{_path(partner_id)}/withdraw", {}), 409)
    assert mine.get(_path(partner_id)).json()["status"] == "withdrawn"
