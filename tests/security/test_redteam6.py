"""Red team, sixth round: what a partner key (and the staff acting on its requests) can make of the newest surfaces
(human review of automated decisions, ...).

Each test quotes the rule it holds the product to. COMMON: "A policy rule and the clause it cites must say the same
thing; when they differ, the clause wins."
"""

from __future__ import annotations

from typing import Any

import pytest

from security_support import make_party, offboard, quote_for
from support import assert_problem

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def party(api: Any, operator: Any, stack: Any) -> Any:
    made = make_party(api, operator, stack, "northwind")
    yield made
    offboard(operator, made)


def test_a_human_review_does_not_approve_a_quote_the_agreement_lets_no_one_approve(party: Any) -> None:
    """PA-6.4: "The combined discount on any line may not exceed 30% of List Price; a line above 30% cannot be approved
    under this Agreement and requires a written amendment." PA-6.6(b): a discount above 25% "requires Finance
    approval". PA-14.2 ("A Partner may request human review of any automated decision") gives a review by a person,
    not an approval no person may give: the partner's 45% quote is denied, it asks for review, and a channel ops
    reviewer who answers `rejected` (change the outcome) gets a 422 naming PRC-MAX-COMBINED / PA-6.4; nothing changes
    (the decision is still a deny the partner reads as such, the case is still pending). Before, the deny became an
    allow with status approved, approved by channel ops alone."""
    mine = party.partners[0]
    partner, ops = party.partner_keys[mine], party.by_role["channel_ops"]
    checked = partner.post("/v1/pricing/check", quote_for(party, mine, discount="45.00"))
    assert checked.status_code == 200, checked.text
    assert (checked.json()["outcome"], checked.json()["status"]) == ("deny", "final"), checked.text
    decision_id = checked.json()["decision_id"]
    requested = partner.post(f"/v1/decisions/{decision_id}/review-requests",
                             {"reason": "our distributor manager promised 45% on this deal"})
    assert requested.status_code == 200, requested.text
    approval_id = requested.json()["human_review"]["approval_id"]
    path = f"/v1/approvals/{approval_id}/decision"
    problem = assert_problem(ops.post(path, {"outcome": "rejected", "note": "the manager's promise stands"}), 422)
    assert {"rule_id": "PRC-MAX-COMBINED", "clause": "PA-6.4"} in problem["deny_rules"], problem
    read = partner.get(f"/v1/decisions/{decision_id}").json()
    assert (read["outcome"], read["status"], read["human_review"]["status"]) == ("deny", "final", "open")
    assert ops.get(f"/v1/approvals/{approval_id}").json()["status"] == "pending"
    confirmed = ops.post(path, {"outcome": "approved", "note": "45% is above PA-6.4's 30% maximum"})
    assert confirmed.status_code == 200, confirmed.text
    read = partner.get(f"/v1/decisions/{decision_id}").json()
    assert (read["outcome"], read["human_review"]["status"]) == ("deny", "confirmed")
