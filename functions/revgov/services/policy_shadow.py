"""Shadow mode: a proposed (or approved) policy draft evaluated on live quote checks, without effect.

Issue #19 (after AWS AgentCore's LOG_ONLY policies: "evaluate a policy on live traffic without enforcing it"). A
drafter turns it on for a draft (`POLICY_SHADOWING/<draft>`, audited); from then on each `quote.checked` event (rule
`policy-shadow`, handled after the quote's own commit, so the quote check is neither slowed nor changed) evaluates the
decision's stored inputs under every shadowed draft with the evaluation a quote check, a replay and the what-if use
(`services.pricing.evaluate`), and records the comparison (`POLICY_SHADOW/<draft>#<decision>`: outcome, approval
queues, net total and margin as decided and under the draft, and whether they differ). Nothing else is written: the
decision, its approvals and its events stay as the policy in force made them. A draft that leaves proposed/approved
(activated, rejected, withdrawn) is evaluated no more; its records stay readable.
"""

from __future__ import annotations

from typing import Any

from ..domain import policy_whatif
from ..domain.access import Principal
from ..domain.audit import AuditEntry
from ..domain.errors import Conflict, RuleViolation
from ..ports import Changes, Delete, Put
from ..runtime import Runtime
from . import decision_repository, decisions, policy_drafts, policy_shadow_billing
from .policy_shadow_repository import LIVE, PAGE, RESULTS, SHADOWING, live_drafts
from .policy_whatif import queue_of  # category -> queue under a policy, as the what-if counts approvals
from .pricing import evaluate
from .tenants import policy_at
from .toolkit import pages


def set_shadow(rt: Runtime, who: Principal, draft_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Start (`enabled: true`, a proposed or approved draft) or stop shadow mode; idempotent, audited."""
    draft, _ = policy_drafts.load(rt, who.tenant_id, draft_id)
    enabled = bool(body["enabled"])
    current = rt.store.get(who.tenant_id, SHADOWING, draft_id)
    if enabled == (current is not None):
        return report(rt, who, draft_id, differences_only=True, limit=50, cursor=None)
    if enabled and draft["status"] not in LIVE:
        raise Conflict(f"policy draft {draft_id} is {draft['status']}: only a proposed or approved draft runs in "
                       "shadow mode", extra={"current_status": draft["status"]})
    now = rt.clock.now_iso()
    entry = AuditEntry.by(who, f"policy.shadow_{'started' if enabled else 'stopped'}", draft_id,
                          "shadowing" if enabled else "stopped",
                          inputs={"draft_policy_version": draft["policy_version"], "revision": draft["revision"]},
                          policy_version=draft["base_version"])
    changes = Changes(audit=[entry])
    if enabled:
        changes.puts.append(Put(SHADOWING, draft_id, {"draft_id": draft_id, "since": now, "by": who.actor},
                                must_be_absent=True, conflict_detail="shadow mode was started meanwhile"))
    else:
        changes.deletes.append(Delete(SHADOWING, draft_id))
    rt.commit(who.tenant_id, changes)
    return report(rt, who, draft_id, differences_only=True, limit=50, cursor=None)


def shadow_event(rt: Runtime, bus_event: dict[str, Any]) -> dict[str, Any]:
    """The handler's use case (rule `policy-shadow`): a quote checked, or invoice lines posted, evaluated under every
    shadowed draft (raises, so the queue retries)."""
    if (bus_event.get("source"), bus_event.get("detail-type")) == ("revgov.billing", "invoice.lines_posted"):
        return policy_shadow_billing.shadow_lines(rt, bus_event)
    return shadow_quote(rt, bus_event)


def shadow_quote(rt: Runtime, bus_event: dict[str, Any]) -> dict[str, Any]:
    """The handler's use case for one `quote.checked` event (raises, so the queue retries)."""
    detail = bus_event.get("detail")
    if (bus_event.get("source"), bus_event.get("detail-type")) != ("revgov.pricing", "quote.checked") \
            or not isinstance(detail, dict) or not isinstance(detail.get("tenant_id"), str) \
            or not isinstance(detail.get("decision_id"), str):
        raise RuleViolation("not a revgov.pricing quote.checked event naming its tenant and decision")
    tenant_id, decision_id = detail["tenant_id"], detail["decision_id"]
    shadowed = live_drafts(rt, tenant_id)
    if not shadowed:
        return {"status": "none"}
    head = decision_repository.read(rt.store, tenant_id, decision_id)
    if head is None:
        return {"status": "skipped", "reason": f"no decision {decision_id}"}
    decision = decisions.whole(rt, tenant_id, head.data)
    queues_before = queue_of(policy_at(rt, tenant_id, decision["policy_version"]))
    puts = []
    for draft in shadowed:
        after = evaluate(draft["policy"], draft["policy_version"], decision["inputs"])
        row = policy_whatif.compare(decision, decision["result"], after, queues_before,
                                    queue_of(draft["policy"]))
        differs = row["before"] != row["after"]
        puts.append(Put(RESULTS, f"{draft['draft_id']}#{decision_id}",
                        {**row, "draft_id": draft["draft_id"], "draft_version": draft["policy_version"],
                         "decided_under": decision["policy_version"], "differs": differs,
                         "checked_at": decision.get("created_at") or detail.get("occurred_at")}))
    if puts:  # the same event again writes the same records
        rt.commit(tenant_id, Changes(puts=puts))
    return {"status": "evaluated", "drafts": len(puts)}


def report(rt: Runtime, who: Principal, draft_id: str, *, differences_only: bool, limit: int,
           cursor: str | None) -> dict[str, Any]:
    """Whether the draft is shadowing, the totals over every live check evaluated under it (as the what-if sums
    them), and a page of the checks (only those it would have decided otherwise, unless asked for all)."""
    draft, _ = policy_drafts.load(rt, who.tenant_id, draft_id)
    on = rt.store.get(who.tenant_id, SHADOWING, draft_id)
    rows = [item.data for item in pages(rt.store, who.tenant_id, RESULTS, prefix=f"{draft_id}#", page_size=PAGE)]
    summary = policy_whatif.summarize(iter(rows), examples=5)
    listed = rt.store.query(who.tenant_id, RESULTS, limit=limit, cursor=cursor, prefix=f"{draft_id}#")
    items = [i.data for i in listed.items if i.data["differs"] or not differences_only]
    return {"draft_id": draft_id, "status": draft["status"], "shadowing": on is not None,
            "since": on.data["since"] if on else None, "evaluated": len(rows),
            "differing": sum(1 for r in rows if r["differs"]), "summary": summary, "items": items,
            "next_cursor": listed.next_cursor, "billing": policy_shadow_billing.report(rt, who.tenant_id, draft_id)}
