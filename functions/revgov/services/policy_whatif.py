"""What-if before activation: replay a window of stored quote decisions under a policy draft, without effect.

Nothing is written: the replay reads the stored decisions (each keeps the inputs it was made on) and evaluates them
under the draft with the same pure evaluation a quote check and a replay use (services.pricing.evaluate).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

from ..domain import policy_whatif
from ..domain.access import Principal
from ..domain.errors import FieldError, RuleViolation
from ..runtime import Runtime
from . import decisions, policy_drafts
from .pricing import evaluate
from .tenants import policy_at

MAX_WINDOW_DAYS = 366
_PAGE = 500


def queue_of(policy: dict[str, Any]) -> dict[str, str]:
    """Category -> queue under a policy ("*": the triage queue a category the matrix does not list goes to)."""
    routing = policy["exception_routing"]
    return {"*": routing["triage"]["queue"], **{c: r["queue"] for c, r in routing["categories"].items()}}


def _window(body: dict[str, Any]) -> tuple[str, str]:
    days = []
    for field in ("from", "to"):
        try:
            days.append(date.fromisoformat(body[field]))
        except ValueError as bad:
            raise RuleViolation(f"{field} {body[field]!r} is not a date",
                                errors=[FieldError(f"/{field}", "not a date")]) from bad
    start, end = days
    if end < start:
        raise RuleViolation("the window ends before it starts", errors=[FieldError("/to", "before from")])
    if (end - start).days >= MAX_WINDOW_DAYS:
        raise RuleViolation(f"a what-if window is at most {MAX_WINDOW_DAYS} days",
                            errors=[FieldError("/to", "window too long")])
    return start.isoformat(), end.isoformat()


def stored_quote_decisions(rt: Runtime, who: Principal, start: str, end: str) -> Iterator[dict[str, Any]]:
    """Every stored pricing decision made from day `start` to day `end` (inclusive), whole (parts joined). Only the
    decisions whose ids fall in the window's time range are read (ids are time-ordered ULIDs)."""
    for prefix in policy_whatif.id_prefixes("dec", start, end):  # the window's ids, not the whole history
        cursor = None
        while True:
            page = rt.store.query(who.tenant_id, decisions.DECISIONS, limit=_PAGE, cursor=cursor, prefix=prefix)
            for item in page.items:
                data = item.data
                if data.get("kind") == "pricing" and start <= data["created_at"][:10] <= end:
                    yield decisions.whole(rt, who.tenant_id, data) if "body" in data else data
            cursor = page.next_cursor
            if not cursor:
                break


# What the summed what-if reads of each stored decision (the rest of the record, its lines and findings, is not
# decoded): the engine extracts these values (DocumentStore.project), so a scan costs a few short strings a decision.
_FIELDS = ("$.kind", "$.created_at", "$.policy_version", "$.body", "$.inputs", "$.result.outcome",
           "$.result.approval_categories", "$.result.totals.net_total", "$.result.totals.cost_total")
_PRICING = json.dumps("pricing")
_MEMO_MAX = 20_000  # evaluations kept per what-if (keys are the inputs' JSON text, about 1–3 KB each)


class _Replayer:
    """Compares decisions with their replay under one draft; the policies they were made under are read once.

    The evaluation is a pure function of (policy, version, inputs) (services.pricing.evaluate), so decisions with the
    same stored inputs get the same evaluation under the draft: it is made once per distinct inputs (keyed by their
    stored JSON text, decoded only when not seen before) and reused. The figures are those of evaluating every
    decision one by one (tests/unit/test_policy_whatif_fast.py checks both ways agree)."""

    def __init__(self, rt: Runtime, tenant_id: str, draft: dict[str, Any]) -> None:
        self.rt, self.tenant_id = rt, tenant_id
        self.draft_policy, self.draft_version = draft["policy"], draft["policy_version"]
        self.draft_queues = queue_of(self.draft_policy)
        self._queues: dict[str, dict[str, str]] = {}
        self._after: dict[str, tuple[str, dict[str, Any]]] = {}  # inputs JSON text -> (segment, side under the draft)
        self._before: dict[tuple[str, ...], dict[str, Any]] = {}  # the same, as JSON text -> side

    def _queues_of(self, version: str) -> dict[str, str]:
        if version not in self._queues:
            self._queues[version] = queue_of(policy_at(self.rt, self.tenant_id, version))
        return self._queues[version]

    def compare(self, decision: dict[str, Any]) -> dict[str, Any]:
        after = evaluate(self.draft_policy, self.draft_version, decision["inputs"])
        return policy_whatif.compare(decision, decision["result"], after,
                                     self._queues_of(decision["policy_version"]), self.draft_queues)

    def _after_of(self, inputs_text: str) -> tuple[str, dict[str, Any]]:
        known = self._after.get(inputs_text)
        if known is None:
            inputs = json.loads(inputs_text)
            after = evaluate(self.draft_policy, self.draft_version, inputs)
            known = (inputs["partner"]["tier"], policy_whatif.side(after, self.draft_queues))
            if len(self._after) < _MEMO_MAX:
                self._after[inputs_text] = known
        return known

    def _before_of(self, *values: str) -> dict[str, Any]:
        """The decision as made, from the JSON text of its version, outcome, categories, net and cost totals."""
        known = self._before.get(values)
        if known is None:
            version, outcome, categories, net, cost = (json.loads(text) for text in values)
            decided = {"outcome": outcome, "approval_categories": categories,
                       "totals": {"net_total": net, "cost_total": cost}}
            known = policy_whatif.side(decided, self._queues_of(version))
            if len(self._before) < _MEMO_MAX:
                self._before[values] = known
        return known

    def rows(self, start: str, end: str) -> Iterator[dict[str, Any]]:
        """The comparison of every stored quote decision made from day `start` to day `end` (inclusive): the rows
        `compare` makes, read from the few values each needs (only the ids of the window's time range are read)."""
        loads = json.loads
        for prefix in policy_whatif.id_prefixes("dec", start, end):
            for key, values in self.rt.store.project(self.tenant_id, decisions.DECISIONS, _FIELDS, prefix=prefix):
                kind, created, version, body, inputs, outcome, categories, net, cost = values
                if kind != _PRICING or not start <= loads(created)[:10] <= end:
                    continue
                if body != "null":  # stored in parts: read whole
                    stored = self.rt.store.get(self.tenant_id, decisions.DECISIONS, key)
                    if stored is not None:
                        yield self.compare(decisions.whole(self.rt, self.tenant_id, stored.data))
                    continue
                segment, after = self._after_of(inputs)
                before = self._before_of(version, outcome, categories, net, cost)
                yield {"decision_id": key, "segment": segment, "before": before, "after": after}


def whatif(rt: Runtime, who: Principal, draft_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The window's stored quote decisions replayed under the draft: outcome changes (with example decision ids),
    approvals per queue, net total and margin, overall and by partner segment (tier)."""
    start, end = _window(body)
    draft, _ = policy_drafts.load(rt, who.tenant_id, draft_id)
    replayer = _Replayer(rt, who.tenant_id, draft)
    summary = policy_whatif.summarize(replayer.rows(start, end), examples=int(body.get("examples", 5)))
    return {"draft_id": draft_id, "draft_version": draft["policy_version"], "revision": draft["revision"],
            "window": {"from": start, "to": end}, **summary}


def whatif_decision(rt: Runtime, who: Principal, draft_id: str, decision_id: str) -> dict[str, Any]:
    """One stored decision replayed under the draft: the row `whatif` sums for it."""
    draft, _ = policy_drafts.load(rt, who.tenant_id, draft_id)
    decision, _ = decisions.load(rt, who, decision_id)
    if decision["kind"] != "pricing":
        raise RuleViolation(f"decision {decision_id} is not a quote decision")
    return _Replayer(rt, who.tenant_id, draft).compare(decision)


def whatif_rebates(rt: Runtime, who: Principal, draft_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """A rebate or commission period rated over its stored rebate lines as the policy in force rates it and as the
    draft would: the payable amount and tier reached per partner and program, totals by partner segment. The lines
    are the sales already projected for rebates; nothing is settled or written."""
    from ..domain.rebates.policy import Period
    from .rebates import rate_under
    from .tenants import load_tenant

    period = Period.parse(body["period"])  # a RuleViolation naming the forms it takes
    tenant, _ = load_tenant(rt, who.tenant_id)
    draft, _ = policy_drafts.load(rt, who.tenant_id, draft_id)

    def views(policy: dict[str, Any], version: str) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str]]:
        if not policy.get("rebates"):
            return {}, {}
        result, facts = rate_under(rt, tenant, policy, version, period)
        return ({pid: result.programs_view(pid) for pid in result.payable},
                {pid: str(f.tier) for pid, f in facts.items() if f.tier})

    before, segments = views(tenant.policy, tenant.policy_version)
    after, segments_after = views(draft["policy"], draft["policy_version"])
    return {"draft_id": draft_id, "draft_version": draft["policy_version"], "active_version": tenant.policy_version,
            "period": period.name,
            **policy_whatif.rebate_changes(before, after, {**segments_after, **segments})}
