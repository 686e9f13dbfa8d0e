"""Red team 2: a rebate-dispute appeal decided "jointly" by two keys that one person holds.

SOP-6.3: "The Partner may appeal once, within 10 business days of the decision; the appeal is decided jointly by the
head of Finance and Legal." COP-6.3: "The appeal is decided by the head of Finance together with Legal".
SOP-4.3: "A requester can never approve their own request. [...] Where a request needs two approvals [...] they must be
given by two different people, neither of whom is the requester."
services/key_lineage.py: "A key minted after a request was made, by a key of someone who made that request, is in that
person's hands" — an admin who mints a finance key and a legal key after the appeal holds both: their two approvals
are one person's, and must not uphold the appeal.
"""

from __future__ import annotations

import pytest
from test_auditor3_rebates import FINANCE, _appealed

from revgov.domain.access import Principal, Role
from revgov.domain.errors import Forbidden
from revgov.services import cases, keys, rebates

ADMIN = Principal("northwind", Role.ADMIN, "key_01JX000000000000000000ADMN")


def _minted(ledger: object, role: Role) -> Principal:
    rt = ledger.rt  # type: ignore[attr-defined]
    key = keys.create_key(rt, ADMIN, "northwind", role, None, f"{role.value} minted after the appeal")
    return Principal("northwind", role, key["key_id"])


def test_sop_6_3_one_admin_holding_the_finance_and_the_legal_key_cannot_uphold_an_appeal_alone():
    ledger, dispute, queues = _appealed()  # appealed 2026-10-20 10:00
    ledger.clock.set("2026-10-20T11:00:00Z")
    finance, legal = _minted(ledger, Role.FINANCE), _minted(ledger, Role.LEGAL)  # both by ADMIN, after the appeal
    cases.decide_case(ledger.rt, finance, "approval", queues["finance"], "approved", "the delivery note agrees")
    with pytest.raises(Forbidden) as refused:
        cases.decide_case(ledger.rt, legal, "approval", queues["legal"], "approved", "and legal agrees too")
    assert refused.value.extra.get("refusal") == "self_approval"
    still = rebates.get_dispute(ledger.rt, FINANCE, dispute["dispute_id"])[0]
    assert (still["status"], still["appeal"]["status"]) == ("appealed", "open")
    assert len(still["appeal"]["decisions"]) == 1
    # a legal key of someone else (minted before the appeal was filed) decides it
    other = Principal("northwind", Role.LEGAL, "key_01JX00000000000000000LEGAL")
    cases.decide_case(ledger.rt, other, "approval", queues["legal"], "approved", "PA-7.9 evidence suffices")
    upheld = rebates.get_dispute(ledger.rt, FINANCE, dispute["dispute_id"])[0]
    assert (upheld["status"], upheld["appeal"]["status"]) == ("accepted", "upheld")


def test_sop_6_3_one_admin_holding_the_finance_and_the_legal_key_cannot_uphold_an_invoice_dispute_appeal_alone():
    from test_invoice_dispute_appeals import REASON, _rejected
    from test_invoice_disputes import PARTNER1

    from revgov.services import invoice_dispute_appeals, invoice_disputes

    ledger, dispute = _rejected()  # rejected Thursday 2026-11-12 08:00 by FINANCE
    ledger.clock.set("2026-11-13T09:00:00Z")
    appeal = invoice_dispute_appeals.appeal_dispute(ledger.rt, PARTNER1, dispute["dispute_id"], REASON)["appeal"]
    ledger.clock.set("2026-11-13T10:00:00Z")
    finance, legal = _minted(ledger, Role.FINANCE), _minted(ledger, Role.LEGAL)  # both by ADMIN, after the appeal
    cases.decide_case(ledger.rt, finance, "approval", appeal["approval_ids"][0], "approved", "signed for 4")
    with pytest.raises(Forbidden):
        cases.decide_case(ledger.rt, legal, "approval", appeal["approval_ids"][1], "approved", "agreed")
    assert invoice_disputes.get_dispute(ledger.rt, PARTNER1, dispute["dispute_id"])["status"] == "appealed"
