"""An approved policy change never takes effect citing a clause the tenant's contracts no longer have.

Found walking the API as an MSP (newuser5): legal uploads a contract (`PUT /v1/contracts/ACM`), a policy draft cites
its clause, is proposed for the first day of the next Billing Month and approved; then the document is withdrawn
(`DELETE /v1/contracts/ACM` was accepted: the policy *in force* cites none of it). On the effective day the draft
became the policy, citing ACM-1.1, which no contract holds.

Sources: docs/policy.md "Policy as data": "Every rule carries an id and the contract
clause it comes from [...] and the loader
refuses a policy that cites a clause its contracts [...] do not have." docs/copilot.md "Contracts through the API":
"every clause the policy cites must still be in the contracts". COMMON.md: "A policy rule and the clause it cites must
say the same thing". In-memory engine, injected clock.
"""

from __future__ import annotations

from typing import Any

import pytest

from memory_store import memory_runtime
from revgov.domain.access import Principal, Role
from revgov.domain.errors import RuleViolation
from revgov.services import contracts, policy_drafts
from revgov.services.tenants import load_tenant

ADDENDUM = ("# Northwind margin addendum\n\nDocument: ACM\nVersion: 2026.2\nEffective: 2026-12-01\n\n"
            "## 1. Margin\n\n### ACM-1.1 Margin floor\n"
            "No quote line may be priced with a Line Margin below 14% without Finance approval.\n")


def _staff(role: str) -> Principal:
    return Principal("northwind", Role(role), f"key_{role.upper():0<26}"[:30])


def _approved_draft_citing_the_addendum(rt: Any) -> str:
    ops, finance, legal = _staff("channel_ops"), _staff("finance"), _staff("legal")
    contracts.put_contract(rt, legal, "ACM", {"name": "acm.md", "markdown": ADDENDUM, "reason": "signed addendum"})
    draft = policy_drafts.create_draft(rt, ops, {"reason": "margin floor 14% (ACM-1.1)"})["draft_id"]
    policy_drafts.patch_policy(rt, ops, draft, {"operations": [
        {"op": "replace", "path": "/pricing/margin_floor/percent", "value": "14"},
        {"op": "replace", "path": "/pricing/margin_floor/clause", "value": "ACM-1.1"}]})  # fmt: skip
    policy_drafts.propose(rt, ops, draft, {"effective_at": "2026-12-01T00:00:00.000Z"})
    policy_drafts.approve(rt, finance, draft, {})
    assert policy_drafts.approve(rt, legal, draft, {})["status"] == "approved"
    return str(draft)


def test_a_draft_whose_cited_contract_was_withdrawn_after_approval_does_not_take_effect():
    rt, clock = memory_runtime("2026-11-02T10:00:00.000Z")
    draft = _approved_draft_citing_the_addendum(rt)
    contracts.remove_contract(rt, _staff("legal"), "ACM", "withdrawn")  # the policy in force cites none of it
    before = load_tenant(rt, "northwind")[0]
    clock.set("2026-12-01T00:05:00.000Z")

    assert policy_drafts.activate_due(rt, "northwind") == []  # the schedule leaves it approved and goes on
    with pytest.raises(RuleViolation) as refused:
        policy_drafts.activate(rt, _staff("admin"), draft)
    assert [e.path for e in refused.value.errors] == ["/policy/pricing/margin_floor/clause"]
    assert "ACM-1.1" in refused.value.errors[0].message

    after = load_tenant(rt, "northwind")[0]
    assert after.policy_version == before.policy_version
    assert after.policy["pricing"]["margin_floor"] == {"id": "PRC-MARGIN-FLOOR", "clause": "PA-6.3", "percent": "12"}
    assert policy_drafts.get_draft(rt, _staff("finance"), draft)["status"] == "approved"


def test_with_its_contract_still_there_the_same_draft_takes_effect_on_its_day():
    rt, clock = memory_runtime("2026-11-02T10:00:00.000Z")
    draft = _approved_draft_citing_the_addendum(rt)
    clock.set("2026-12-01T00:05:00.000Z")
    assert policy_drafts.activate_due(rt, "northwind") == [draft]
    assert load_tenant(rt, "northwind")[0].policy["pricing"]["margin_floor"]["clause"] == "ACM-1.1"
