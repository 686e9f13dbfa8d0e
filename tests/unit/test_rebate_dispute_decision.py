"""Deciding a rebate dispute is one commit (issue #21: "`rebates.resolve_dispute` makes two commits and passes state to
its own effect through a staged write"; "an approval effect receives its payload, so every use case commits once").

northwind billing-sop.md, SOP-6.2: "A dispute is decided as upheld, partially upheld or rejected. Every decision
states the reason, the amounts before and after, and the rule ids and clause references applied, and is recorded in
the audit log. An upheld rebate dispute is paid as an adjustment in the next settlement or by separate credit note
under PA-7.9." So a decision is all or nothing: the dispute's resolution, its approval's decision, the adjustment and
the audit record land together, or none of them does (a decision that failed leaves the dispute as it was filed).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from memory_store import Ledger
from rebate_runs import settle_approved
from revgov import schemas
from revgov.domain.access import Principal, Role
from revgov.domain.rebates.models import MODELS
from revgov.runtime import Runtime
from revgov.services import case_repository, cases, rebates
from support import ROOT

P1 = "ptr_01JBNWPARTNER0000000000001"
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")
DECIDER = Principal("northwind", Role.FINANCE, "key_fin2")
PARTNER = Principal("northwind", Role.PARTNER, "key_partner", P1)
EVIDENCE = [{"kind": "invoice", "reference": "inv-2026-09", "note": "30 servers"}]


class CountingStore:
    """The store, counting the commits that write documents (not the outbox clean-up after a publish), and failing
    the one that decides an approval when told to."""

    def __init__(self, store: Any, *, lose_decision: bool = False) -> None:
        self.store = store
        self.lose_decision = lose_decision
        self.commits = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def commit(self, tenant_id: str, changes: Any) -> Any:
        self.commits += 1 if changes.puts else 0
        if self.lose_decision and any(p.collection == case_repository.CASES for p in changes.puts):
            raise ConnectionError("connection lost")
        return self.store.commit(tenant_id, changes)


@pytest.fixture
def filed():
    ledger = Ledger("2026-09-05T12:00:00Z")
    shipment = {
        "partner_id": P1,
        "order_ref": "SO-1",
        "shipped_on": "2026-09-05",
        "lines": [{"sku": "NW-SRV-R2", "quantity": 30}],
    }
    assert ledger.bill("shipment.confirmed", shipment, occurred_at="2026-09-05T10:00:00Z")["status"] == "processed"
    ledger.clock.set("2026-10-03T10:00:00Z")
    _, settlement = settle_approved(ledger.rt, FINANCE, {"period": "2026-Q3", "run": 1})
    body = {
        "settlement_id": settlement["settlement_id"],
        "partner_id": P1,
        "program_id": "RBT-VOLUME",
        "amount": "100.00",
        "reason": "the SPIFF units were not counted",
        "evidence": EVIDENCE,
    }
    return ledger, rebates.file_dispute(ledger.rt, PARTNER, body)


def _over(ledger: Ledger, store: CountingStore) -> Runtime:
    rt = ledger.rt
    return Runtime(rt.settings, store, rt.publisher, rt.clock, rt.ids)  # type: ignore[arg-type]


def _adjustment(ledger: Ledger, dispute_id: str) -> dict[str, Any] | None:
    stored = ledger.rt.store.get("northwind", rebates.ADJUSTMENTS, dispute_id)
    return stored.data if stored else None


def test_resolving_a_dispute_is_one_commit(filed):
    ledger, dispute = filed
    store = CountingStore(ledger.rt.store)
    decision = {"outcome": "accepted", "amount": "60.00", "reason": "30 units were missed, 18 of them eligible"}
    resolved = rebates.resolve_dispute(_over(ledger, store), DECIDER, dispute["dispute_id"], decision)
    assert store.commits == 1
    assert resolved["status"] == "accepted" and resolved["resolution"]["amount"] == "60.00"


def test_a_decision_that_fails_to_commit_leaves_the_dispute_as_filed(filed):
    ledger, dispute = filed
    store = CountingStore(ledger.rt.store, lose_decision=True)
    decision = {"outcome": "accepted", "amount": "60.00", "reason": "partly upheld"}
    with pytest.raises(ConnectionError):
        rebates.resolve_dispute(_over(ledger, store), DECIDER, dispute["dispute_id"], decision)
    now, _ = rebates.get_dispute(ledger.rt, DECIDER, dispute["dispute_id"])
    assert now == dispute  # no staged resolution left behind
    case, _ = cases.get_case(ledger.rt, "northwind", "approval", dispute["approval_id"])
    assert case["status"] == "pending" and _adjustment(ledger, dispute["dispute_id"]) is None


def test_a_partly_upheld_dispute_pays_the_accepted_amount_and_its_approval_stores_no_payload(filed):
    ledger, dispute = filed
    decision = {"outcome": "accepted", "amount": "60.00", "reason": "partly upheld: 18 of the 30 units"}
    resolved = rebates.resolve_dispute(ledger.rt, DECIDER, dispute["dispute_id"], decision)
    payment = resolved["resolution"]["payment"]
    assert resolved["resolution"] | {"at": None, "payment": None} == {
        "outcome": "accepted",
        "amount": "60.00",
        "reason": "partly upheld: 18 of the 30 units",
        "by": DECIDER.actor,
        "at": None,
        "approval_id": dispute["approval_id"],
        "payment": None,
    }
    # PA-7.9: decided on 2026-10-03, the next settlement (2026-Q4, due 2027-02-14 under SOP-7.2) is more than 30 days
    # away: "paid ... by separate credit note" (tests/unit/test_auditor_dispute_payment.py), not left pending
    assert (payment["method"], payment["next_settlement"]["period"]) == ("credit_note", "2026-Q4")
    adjustment = _adjustment(ledger, dispute["dispute_id"])
    assert adjustment is not None and (adjustment["amount"], adjustment["status"]) == ("60.00", "credit_note")
    case, _ = cases.get_case(ledger.rt, "northwind", "approval", dispute["approval_id"])
    assert case["status"] == "approved" and "payload" not in case
    assert schemas.problems("api/responses/case.schema.json", {**case, "approval_id": case["case_id"]}) == []
    audit = [r for r in ledger.rt.store.iter_audit_records("northwind") if r["subject"] == dispute["dispute_id"]]
    assert [r["action"] for r in audit] == ["rebate_dispute.filed", "rebate_dispute.accepted"]
    assert audit[-1]["inputs"]["disputed"] == "100.00" and audit[-1]["inputs"]["accepted"] == "60.00"


def test_a_dispute_approved_through_the_queue_pays_the_disputed_amount_for_the_note(filed):
    ledger, dispute = filed
    cases.decide_case(ledger.rt, DECIDER, "approval", dispute["approval_id"], "approved", "upheld in full")
    resolved, _ = rebates.get_dispute(ledger.rt, DECIDER, dispute["dispute_id"])
    assert resolved["status"] == "accepted"
    assert (resolved["resolution"]["amount"], resolved["resolution"]["reason"]) == ("100.00", "upheld in full")
    assert _adjustment(ledger, dispute["dispute_id"])["amount"] == "100.00"  # type: ignore[index]


def test_every_model_the_policy_schema_names_has_a_registered_model_and_no_other():
    """schemas/policy/rebates.schema.json: "each program names its model (one module per model in
    revgov/domain/rebates/)"; the registry is how a name finds its model, so the two lists are the same."""
    schema = json.loads((ROOT / "schemas" / "policy" / "rebates.schema.json").read_text())
    program = next(d for d in schema["$defs"].values() if "model" in d.get("properties", {}))
    assert set(MODELS) == set(program["properties"]["model"]["enum"])
