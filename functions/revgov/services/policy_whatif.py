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
from ..domain.time import parse_day
from ..runtime import Runtime
from . import decisions, policy_drafts, policy_whatif_workers
from .decision_repository import DECISIONS
from .pricing import evaluate
from .tenants import policy_at

MAX_WINDOW_DAYS = 366
# the days a window may hold: decision ids are ULIDs, whose time starts in 1970 (the id window adds a day of slack
# each side); the last year is the one the other what-ifs take (domain.rebates.policy.Period: 1900-2999)
EARLIEST, LATEST = date(1970, 1, 2), date(2999, 12, 31)
_PAGE = 500


def queue_of(policy: dict[str, Any]) -> dict[str, str]:
    """Category -> queue under a policy ("*": the triage queue a category the matrix does not list goes to)."""
    routing = policy["exception_routing"]
    return {"*": routing["triage"]["queue"], **{c: r["queue"] for c, r in routing["categories"].items()}}


def _window(body: dict[str, Any]) -> tuple[str, str]:
    days = []
    for field in ("from", "to"):
        try:
            days.append(parse_day(body[field]))
        except ValueError as bad:
            raise RuleViolation(f"{field} {body[field]!r} is not a date",
                                errors=[FieldError(f"/{field}", "not a date")]) from bad
    outside = [FieldError(f"/{field}", f"from {EARLIEST} to {LATEST}")
               for field, day in zip(("from", "to"), days, strict=True) if not EARLIEST <= day <= LATEST]
    if outside:
        raise RuleViolation(f"a what-if window lies from {EARLIEST} to {LATEST} (decision ids count time from 1970)",
                            errors=outside)
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
            page = rt.store.query(who.tenant_id, DECISIONS, limit=_PAGE, cursor=cursor, prefix=prefix)
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
           "$.result.approval_categories", "$.result.totals.net_total", "$.result.totals.cost_total",
           "$.inputs.partner.tier")
_LINES = "$.result.lines"  # read too only for a draft whose reach needs the line margins (a raised margin floor)
_PRICING = json.dumps("pricing")
_MEMO_MAX = 20_000  # evaluations kept per what-if (keys are the inputs' JSON text, about 1–3 KB each)
_SHARE_CHARS = 5  # a share of the window: the ids of one 5-character time prefix (about 9.3 hours)


class _Replayer:
    """Compares decisions with their replay under one draft; the policies they were made under are read once.

    The evaluation is a pure function of the policy sections it reads and the stored inputs (services.pricing
    .evaluate), so: a decision the draft's changed rules cannot reach (domain.policy_whatif.Reach: nothing the
    evaluation reads changed, or only caps of other tiers, or a margin floor its lines stay clear of) keeps its
    stored result (only its queues are read again); decisions with the same stored inputs get the same evaluation,
    made once per distinct inputs (keyed by their stored JSON text) and reused; the rest are evaluated. The window is
    read in shares (one id prefix each), each tallied apart and merged in read order, past the first few thousand
    evaluations by worker processes that read their own shares (policy_whatif_workers). The figures are those of
    evaluating every decision one by one (tests/unit/test_policy_whatif_fast.py and test_policy_whatif_reach.py)."""

    def __init__(self, rt: Runtime, tenant_id: str, draft: dict[str, Any], *, workers: int = 1,
                 examples: int = 5) -> None:
        self.rt, self.tenant_id = rt, tenant_id
        self.draft_policy, self.draft_version = draft["policy"], draft["policy_version"]
        self.draft_queues = queue_of(self.draft_policy)
        self.workers, self.examples, self.evaluated = workers, examples, 0
        self._queues: dict[str, dict[str, str]] = {}
        self._reach: dict[str, policy_whatif.Reach] = {}
        self._after: dict[str, dict[str, Any]] = {}  # inputs JSON text -> its side under the draft
        self._before: dict[tuple[str, ...], tuple[dict[str, Any], dict[str, Any]]] = {}  # values -> (as made, same)
        base = draft.get("base_version")
        self.fields = (*_FIELDS, _LINES) if base and self.reach(base).reads_lines else _FIELDS

    def _queues_of(self, version: str) -> dict[str, str]:
        if version not in self._queues:
            policy = policy_at(self.rt, self.tenant_id, version)
            self._queues[version] = queue_of(policy)
            self._reach[version] = policy_whatif.reach(policy, self.draft_policy)
        return self._queues[version]

    def reach(self, version: str) -> policy_whatif.Reach:
        """What the draft's changes can reach of decisions made under `version`."""
        self._queues_of(version)
        return self._reach[version]

    def compare(self, decision: dict[str, Any]) -> dict[str, Any]:
        """One decision evaluated under the draft, whatever the draft changes: the one-by-one replay."""
        after = evaluate(self.draft_policy, self.draft_version, decision["inputs"])
        return policy_whatif.compare(decision, decision["result"], after,
                                     self._queues_of(decision["policy_version"]), self.draft_queues)

    def _compare_whole(self, decision: dict[str, Any]) -> dict[str, Any]:
        result = decision["result"]
        if self.reach(decision["policy_version"]).reaches(decision["inputs"]["partner"]["tier"],
                                                          result["approval_categories"], result.get("lines"),
                                                          decision["inputs"]):
            return self.compare(decision)
        return policy_whatif.compare(decision, result, result, self._queues_of(decision["policy_version"]),
                                     self.draft_queues)

    def after_of(self, inputs_text: str) -> dict[str, Any]:
        """The draft's side for one decision's stored inputs, evaluated here (or remembered)."""
        known = self._after.get(inputs_text)
        if known is None:
            known = side_under(self.draft_policy, self.draft_version, self.draft_queues, json.loads(inputs_text))
            self.evaluated += 1
            if len(self._after) < _MEMO_MAX:
                self._after[inputs_text] = known
        return known

    def sides_as_made(self, *values: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The decision as made, from the JSON text of its version, outcome, categories, net and cost totals: its side
        under its own routing, and under the draft's (what it stays when the draft does not reach it)."""
        known = self._before.get(values)
        if known is None:
            version, outcome, categories, net, cost = (json.loads(text) for text in values)
            decided = {"outcome": outcome, "approval_categories": categories,
                       "totals": {"net_total": net, "cost_total": cost}}
            known = (policy_whatif.side(decided, self._queues_of(version)),
                     policy_whatif.side(decided, self.draft_queues))
            if len(self._before) < _MEMO_MAX:
                self._before[values] = known
        return known

    def _reaches(self, version: str, tier: str, categories: str, lines: str | None, inputs: str) -> bool:
        found = self.reach(json.loads(version))
        if found.nothing or found.everything:
            return found.everything
        priced_at = json.loads(tier)
        return found.reaches(priced_at, json.loads(categories),
                             json.loads(lines) if lines is not None and found.reads_lines else None,
                             json.loads(inputs) if found.reads_inputs(priced_at) else None)

    def tally(self, prefix: str, start: str, end: str) -> policy_whatif.Tally:
        """The comparisons of one share of the window (the stored quote decisions made from day `start` to day `end`
        whose ids start with `prefix`), summed: the rows `compare` makes, read from the few values each needs."""
        tally = policy_whatif.Tally(self.examples)
        loads = json.loads
        for key, values in self.rt.store.project(self.tenant_id, DECISIONS, self.fields, prefix=prefix):
            if values[0] != _PRICING or not start <= loads(values[1])[:10] <= end:
                continue
            version, body, inputs, outcome, categories, net, cost, tier = values[2:10]
            if body != "null":  # stored in parts: read whole
                stored = self.rt.store.get(self.tenant_id, DECISIONS, key)
                if stored is not None:
                    tally.add(self._compare_whole(decisions.whole(self.rt, self.tenant_id, stored.data)))
                continue
            before, kept = self.sides_as_made(version, outcome, categories, net, cost)
            reached = self._reaches(version, tier, categories, values[10] if len(values) > 10 else None, inputs)
            tally.add({"decision_id": key, "segment": loads(tier), "before": before,
                       "after": self.after_of(inputs) if reached else kept})
        return tally.folded()


def side_under(policy: dict[str, Any], version: str, queues: dict[str, str], inputs: dict[str, Any]) -> dict[str, Any]:
    """What the comparison keeps of stored inputs evaluated under `policy` (domain.policy_whatif.side)."""
    return policy_whatif.side(evaluate(policy, version, inputs), queues)


def whatif(rt: Runtime, who: Principal, draft_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The window's stored quote decisions replayed under the draft: outcome changes (with example decision ids),
    approvals per queue, net total and margin, overall and by partner segment (tier)."""
    start, end = _window(body)
    draft, _ = policy_drafts.load(rt, who.tenant_id, draft_id)
    replayer = _Replayer(rt, who.tenant_id, draft, workers=rt.settings.whatif_workers,
                         examples=int(body.get("examples", 5)))
    shares = [(prefix, start, end) for prefix in policy_whatif.id_prefixes("dec", start, end, chars=_SHARE_CHARS)]
    summary = policy_whatif_workers.tallied(replayer, shares).shown()
    return {"draft_id": draft_id, "draft_version": draft["policy_version"], "revision": draft["revision"],
            "window": {"from": start, "to": end}, **summary}


def whatif_decision(rt: Runtime, who: Principal, draft_id: str, decision_id: str) -> dict[str, Any]:
    """One stored decision replayed under the draft: the row `whatif` sums for it."""
    draft, _ = policy_drafts.load(rt, who.tenant_id, draft_id)
    decision, _ = decisions.load(rt, who, decision_id)
    if decision["kind"] != "pricing":
        raise RuleViolation(f"decision {decision_id} is not a quote decision")
    return _Replayer(rt, who.tenant_id, draft).compare(decision)
