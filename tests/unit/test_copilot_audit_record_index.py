"""Explaining an audit record (`GET /v1/decisions/aud_…/explain`) for a partner key reads that partner's own audit
index, not the tenant's whole chain.

PA-12.1: the Distributor "provides the Partner, on request, with the records relating to the Partner"; the partner
reads only the records about itself (services/copilot.py `_audit_record`: the subject or `inputs.partner_id` is the
partner). Those are the records its PA-12.1 index (`audit_by_partner`) holds, so the lookup pages that index only.
Behaviour unchanged: the same record and explanation, a rival's record still a 404, staff still find any record."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from memory_store import memory_runtime
from revgov.domain.access import Principal, Role
from revgov.domain.errors import NotFound
from revgov.domain.partners import tiers_by_rank
from revgov.local.demo_partners import demo_application, onboard
from revgov.services import copilot

T0 = "2026-11-02T09:00:00.000Z"
STAFF = Principal("northwind", Role.CHANNEL_OPS, "key_01JX000000000000000000OPS0")


def _partner(rt: Any) -> str:
    policy = dict(rt.store.get("northwind", "TENANT", "PROFILE").data["config"]["policy"])
    application = demo_application(f"Idx {uuid.uuid4().hex[:6]}", "reseller", tiers_by_rank(policy)[1])
    made = onboard(rt, policy, application, "active", sales=Principal("northwind", Role.SALES, "key_01JX0000000SALES"),
                   approver=STAFF)
    return str(made["partner_id"])


def _about(rt: Any, partner_id: str) -> dict[str, Any]:
    return next(r for r in rt.store.iter_audit_records("northwind") if r.get("subject") == partner_id)


class _Counting:
    """The store, counting what each audit read returns; a walk of the whole chain is refused."""

    def __init__(self, store: Any) -> None:
        self.store, self.by_partner = store, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def iter_audit_records(self, tenant_id: str, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a partner's record was looked for in the whole chain")

    def audit_page(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a partner's record was looked for in the whole chain")

    def audit_by_partner(self, *args: Any, **kwargs: Any) -> Any:
        page = self.store.audit_by_partner(*args, **kwargs)
        self.by_partner += len(page.items)
        return page


class _NoPassages:
    """A clause index with nothing indexed: the explanation is made from the record alone."""

    def get(self, scope: Any, clause_ids: Any) -> list[Any]:
        return []


@pytest.fixture()
def two_partners(monkeypatch) -> tuple[Any, str, str]:
    rt, _ = memory_runtime(T0)
    monkeypatch.setattr(rt, "clause_index", _NoPassages())
    return rt, _partner(rt), _partner(rt)


def test_a_partners_record_is_found_in_its_own_index(two_partners, monkeypatch):
    rt, mine, rival = two_partners
    record, rivals = _about(rt, mine), _about(rt, rival)
    before = copilot.explain(rt, STAFF, record["record_id"])  # staff: as before, from the chain
    counting = _Counting(rt.store)
    monkeypatch.setattr(rt, "store", counting)
    partner = Principal("northwind", Role.PARTNER, "key_01JX0000000000000PARTNER1", mine)
    explained = copilot.explain(rt, partner, record["record_id"])
    assert explained["decision_id"] == record["record_id"] and explained["outcome"] == before["outcome"]
    assert explained["reasons"] == before["reasons"]
    mine_count = sum(1 for r in rt.store.store.iter_audit_records("northwind") if r.get("partner_id") == mine)
    assert 0 < counting.by_partner <= mine_count  # its own records only, never the whole chain
    with pytest.raises(NotFound):
        copilot.explain(rt, partner, rivals["record_id"])


# redteam4: PA-12.1 provides the records of "every automated decision and approval"; an agent decides nothing (it opens
# work for the staff), and its task is the distributor's assessment of the partner (a churn risk: the renewal outlook
# GET /v1/kpis withholds from a partner key). The partner's list leaves it out (services/audit.py), and so does the
# explanation: its id is one that does not exist for the partner; staff explain it as any record.
def test_an_agents_task_about_the_partner_is_not_explained_to_the_partner(two_partners):
    from revgov.services import tasks

    rt, mine, _ = two_partners
    _, changes = tasks.new_task(
        rt, agent="discount_churn", kind="churn_risk", queue="channel_ops", title="churn risk", dedupe_key="k",
        subject={"kind": "partner", "id": mine}, partner_id=mine, evidence={"association": {"relative_risk": "3"}},
        confidence=0.99, draft_message=None, escalated=False, rules=(),
    )  # fmt: skip
    rt.commit("northwind", changes)
    (record,) = [r for r in rt.store.iter_audit_records("northwind") if r["action"] == "task.opened"]
    assert copilot.explain(rt, STAFF, record["record_id"])["kind"] == "task.opened"
    partner = Principal("northwind", Role.PARTNER, "key_01JX0000000000000PARTNER1", mine)
    with pytest.raises(NotFound):
        copilot.explain(rt, partner, record["record_id"])
