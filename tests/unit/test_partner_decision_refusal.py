"""A partner key deciding its own approval or exception is refused naming what it tried (SOP-4.3 / COP-4.3).

SOP-4.3: "Partner users and automated service accounts may request but never approve an exception. Any attempt to
self-approve is rejected and recorded in the audit log." The refusal names the caller's attempt: an approval is
approved or rejected, an exception resolved or dismissed (API.md / docs/policy.md: `POST /v1/approvals/{id}/decision`
and `POST /v1/exceptions/{id}/resolve`); a partner deciding an approval is not told it cannot approve "an exception".
"""

from __future__ import annotations

import pytest

from memory_store import Ledger
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Forbidden
from revgov.services import cases, tenants

P1 = "ptr_01JBNWPARTNER0000000000001"
PARTNER1 = Principal("northwind", Role.PARTNER, "key_p1", P1)


def _own_case(kind: str, category: str) -> tuple[Ledger, dict]:
    ledger = Ledger("2026-11-16T09:00:00Z")
    tenant, _ = tenants.load_tenant(ledger.rt, "northwind")
    case, changes = cases.open_case(ledger.rt, tenant.policy, kind=kind, category=category, subject_kind="deal",
                                    subject_id="dl_1", requested_by="key_p1", partner_id=P1)
    ledger.rt.commit("northwind", changes)
    return ledger, case


@pytest.mark.parametrize(("kind", "category", "outcome", "named", "not_named"), [
    ("approval", "contract_deviation", "approved", "never approve or reject an approval", "exception"),
    ("exception", "territory_exception", "resolved", "never resolve or dismiss an exception", "approval"),
])
def test_the_refusal_names_what_the_partner_tried_and_the_rule(kind, category, outcome, named, not_named):
    ledger, case = _own_case(kind, category)
    with pytest.raises(Forbidden) as refused:
        cases.decide_case(ledger.rt, PARTNER1, kind, case["case_id"], outcome, "mine")
    assert named in str(refused.value) and not_named not in str(refused.value)
    assert "SOP-4.3" in str(refused.value) and refused.value.extra["refusal"] == "partner_decision"
    assert cases.get_case(ledger.rt, "northwind", kind, case["case_id"])[0]["status"] != outcome
    assert [r for r in ledger.rt.store.audit_records("northwind") if r["action"] == f"{kind}.decision_refused"]
