"""DynamoDB throttling, timeouts and conditional failures: a clear 503 with Retry-After (never a raw 500), nothing
half-done, and never a state change without its audit record."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest

from fault_support import Fault, mentions, writes_collection
from revgov.domain.access import Principal, Role
from revgov.services import cases
from security_support import Party, write_figures
from support import assert_problem

# botocore-level faults on DynamoDB calls: the stack on the AWS engine
pytestmark = [pytest.mark.aws]


AUDITED = ("KEY", "PARTNER", "CASE", "DECISION", "DEAL")
FIGURES: dict[str, Any] = {"faults_injected": 0, "answered_503": 0, "raw_500": 0, "unaudited_changes": 0}


def _unavailable(response: Any) -> dict[str, Any]:
    problem = assert_problem(response, 503)
    assert int(response.headers["Retry-After"]) >= 1
    FIGURES["answered_503"] += 1
    return problem


def _keys(party: Party) -> set[str]:
    return {k["key_id"] for k in party.admin.get("/v1/keys", limit=200).json()["items"]}


def _records(party: Party) -> int:
    verified = party.admin.get("/v1/audit/verify").json()
    assert verified["valid"] is True, verified
    return int(verified["records"])


def test_a_throttled_key_lookup_is_a_503_with_retry_after(party, faults):
    with faults.inject(Fault("BatchGetItem", mentions(party.tenant_id))) as fault:
        problem = _unavailable(party.admin.get("/v1/keys"))
    FIGURES["faults_injected"] += fault.hits
    assert "retry" in problem["detail"]
    assert party.admin.get("/v1/keys").status_code == 200


def test_a_throttled_write_answers_503_and_changes_nothing(party, faults):
    keys, records = _keys(party), _records(party)
    with faults.inject(Fault("TransactWriteItems", writes_collection(party.tenant_id, "KEY"))) as fault:
        _unavailable(party.admin.post("/v1/keys", {"role": "viewer", "label": "throttled"}))
    FIGURES["faults_injected"] += fault.hits
    assert _keys(party) == keys and _records(party) == records
    created = party.admin.post("/v1/keys", {"role": "viewer", "label": "after the throttle"})
    assert created.status_code == 201
    assert _keys(party) == keys | {created.json()["key_id"]} and _records(party) == records + 1


def test_a_write_that_times_out_answers_503(party, faults):
    # the key's own write: a background handler's write for the tenant (its partner facts) must not take the fault
    with faults.inject(Fault("TransactWriteItems", writes_collection(party.tenant_id, "KEY"), timeout=True)) as fault:
        _unavailable(party.admin.post("/v1/keys", {"role": "viewer", "label": "timed out"}))
    FIGURES["faults_injected"] += fault.hits


def test_a_read_that_times_out_answers_503(party, faults):
    # the key list's own query (partition T#tenant#KEY): the router's handlers, which batch the tenant's earlier events
    # for up to 0.1 s, query the tenant too (its webhook subscriptions) and must not take the fault
    with faults.inject(Fault("Query", writes_collection(party.tenant_id, "KEY"), timeout=True)) as fault:
        _unavailable(party.admin.get("/v1/keys"))
    FIGURES["faults_injected"] += fault.hits


def test_a_transaction_cancelled_by_throttling_is_retried_with_the_chain_intact(party, faults):
    records = _records(party)
    cancelled = Fault(
        "TransactWriteItems",
        writes_collection(party.tenant_id, "KEY"),
        code="TransactionCanceledException",
        cancellation=["ThrottlingError", "None", "None"],
        times=2,
    )
    with faults.inject(cancelled) as fault:
        created = party.admin.post("/v1/keys", {"role": "viewer", "label": "retried"})
    FIGURES["faults_injected"] += fault.hits
    assert created.status_code == 201, created.text
    assert fault.hits == 2
    assert _records(party) == records + 1


def test_a_chain_that_keeps_moving_is_a_503_that_says_so_and_changes_nothing(party, faults):
    """Every attempt cancelled because the audit head moved: the 503 names that cause, not another."""
    records = _records(party)
    moved = Fault(
        "TransactWriteItems",
        writes_collection(party.tenant_id, "KEY"),
        code="TransactionCanceledException",
        cancellation=["None"] * 40 + ["ConditionalCheckFailed"],  # past every put: the audit head's condition
        times=None,
    )
    with faults.inject(moved) as fault:
        problem = _unavailable(party.admin.post("/v1/keys", {"role": "viewer", "label": "never"}))
    FIGURES["faults_injected"] += fault.hits
    assert "another request appended to this tenant's audit chain first" in problem["detail"]
    assert _records(party) == records


def test_concurrent_decisions_on_one_approval_one_wins_and_one_is_audited(party, stack):
    requester = Principal(party.tenant_id, Role.SALES, party.key_ids["sales"])
    case, changes = cases.open_case(
        stack.runtime,
        party.policy,
        kind="approval",
        category="discount_above_tier_cap",
        subject_kind="test",
        subject_id="concurrency",
        requested_by=requester,
    )
    stack.runtime.commit(party.tenant_id, changes)
    decider = party.by_role[case["queue"]]
    answers: list[int] = []

    def decide() -> None:
        answers.append(
            decider.post(f"/v1/approvals/{case['case_id']}/decision", {"outcome": "approved"}).status_code
        )

    threads = [threading.Thread(target=decide) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200] + [409] * 5, answers
    trail = party.admin.get("/v1/audit", subject=case["case_id"], limit=50).json()["items"]
    assert [r["action"] for r in trail].count("approval.approved") == 1


def test_no_state_change_without_its_audit_record_when_every_third_write_fails(party, faults, stack):
    """A burst of writes of several kinds while every third transaction of the tenant is throttled: each answer is
    2xx or 503, each 2xx left its object and its audit record, each 503 left neither."""
    counter = itertools.count()
    tenant = party.tenant_id
    flaky = Fault("TransactWriteItems", lambda p: mentions(tenant)(p) and next(counter) % 3 == 0, times=None)
    created, refused = [], 0
    with faults.inject(flaky) as fault:
        for n in range(12):
            key = party.admin.post("/v1/keys", {"role": "viewer", "label": f"burst {n}"})
            partner = party.by_role["sales"].post(
                "/v1/partners",
                {
                    "legal_name": f"Burst Reseller {n}",
                    "partner_type": "reseller",
                    "requested_tier": "registered",
                    "terms": {"annual_commitment": "0.00", "payment_terms_days": 30},
                    "contact": {"name": "Desk", "email": f"desk{n}@burst.example"},
                },
            )
            for response, id_field in ((key, "key_id"), (partner, "partner_id")):
                FIGURES["raw_500"] += int(response.status_code == 500)
                assert response.status_code in (201, 503), response.text[:300]
                if response.status_code == 201:
                    created.append(response.json()[id_field])
                else:
                    refused += 1
                    _unavailable(response)
    FIGURES["faults_injected"] += fault.hits
    assert refused and created
    unaudited = _unaudited(stack.runtime, tenant)
    FIGURES["unaudited_changes"] += len(unaudited)
    assert not unaudited, unaudited
    subjects = {r["subject"] for r in stack.runtime.store.iter_audit_records(tenant)}
    assert set(created) <= subjects
    assert _records(party) == len(list(stack.runtime.store.iter_audit_records(tenant)))
    write_figures("faults-dynamodb", FIGURES)


def _unaudited(rt: Any, tenant_id: str) -> list[str]:
    """Objects of the audited collections that no audit record names as its subject."""
    from revgov.domain.access import PLATFORM

    # the tenant's first admin key is created with the tenant, on the platform's chain
    subjects = {r["subject"] for chain in (tenant_id, PLATFORM) for r in rt.store.iter_audit_records(chain)}
    missing = []
    for collection in AUDITED:
        cursor = None
        while True:
            page = rt.store.query(tenant_id, collection, limit=100, cursor=cursor)
            missing += [f"{collection}/{i.key}" for i in page.items if i.key not in subjects]
            cursor = page.next_cursor
            if not cursor:
                break
    return missing
