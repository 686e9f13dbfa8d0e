"""Assigning an approval or exception to a member of its queue (SOP-1.3 / COP-1.3; `domain.case_assignment`):
audited as `{kind}.assigned`, citing the item's routing rule and the SLA-clock rule; its clock is untouched."""

from __future__ import annotations

from typing import Any, cast

from ..domain import case_assignment
from ..domain import cases as case_rules
from ..domain.access import Principal
from ..domain.cases import Case
from ..ports import Changes
from ..runtime import Runtime
from . import case_repository, key_lineage, keys
from .case_waiting import step_audit
from .tenants import load_tenant


def assign(rt: Runtime, who: Principal, kind: str, case_id: str, assignee: str, note: str | None) -> Case:
    case, version = case_repository.load(rt.store, who.tenant_id, kind, case_id)
    tenant, _ = load_tenant(rt, who.tenant_id)
    stored = keys.load_key(rt, who.tenant_id, assignee)
    key: dict[str, Any] | None = stored.data if stored is not None else None
    queue_role = case_rules.QUEUE_ROLES[case["queue"]].value
    holders = key_lineage.holders(rt, who.tenant_id, assignee, since=case["opened_at"]) if key else frozenset()
    segregation = tenant.policy["exception_routing"].get("segregation_of_duties")
    assigned = cast(Case, case_assignment.assign(case, who, queue_role, key, assignee, note, rt.clock.now_iso(),
                                                 holders=holders, segregation=segregation))  # fmt: skip
    step = assigned["assignments"][-1]
    rt.commit(who.tenant_id, Changes(
        puts=[case_repository.put(assigned, version=version)],
        audit=[step_audit(who, tenant.policy, "assigned", assigned, {"from": step["from"], "to": step["to"],
                                                                   "note": step["note"]})],
    ))  # fmt: skip
    return assigned
