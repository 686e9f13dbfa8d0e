"""What-if: the difference a draft policy makes to stored quote decisions, one by one and summed. Pure.

Each stored decision keeps the inputs it was evaluated on (partner facts, the catalog items its lines were priced
from, registrations), so it can be evaluated again under any policy; `compare` says what changes for one decision
and `summarize` sums the comparisons, so the summary is by construction the sum of one-by-one replays.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from .ids import typed_id
from .money import format_money

_SLACK = timedelta(days=1)


_BUCKET_BITS = 30  # the first 4 of a ULID's 10 time characters fix its top 18 of 48 bits: 2**30 ms, about 12.4 days


def id_prefixes(kind: str, first_day: str, last_day: str) -> list[str]:
    """Key prefixes, in order, that every `kind` id made from `first_day` to `last_day` starts with: ids are ULIDs
    whose first characters are their millisecond time, so a window is a few runs of about 12.4 days (with a day of
    slack each side: an id is made a moment after the time its record states)."""
    start = datetime.fromisoformat(first_day).replace(tzinfo=UTC) - _SLACK
    end = datetime.fromisoformat(last_day).replace(tzinfo=UTC) + 2 * _SLACK
    first, last = (int(moment.timestamp() * 1000) >> _BUCKET_BITS for moment in (start, end))
    return [typed_id(kind, bucket << _BUCKET_BITS, bytes(10))[: len(kind) + 5] for bucket in range(first, last + 1)]


# The sections of a policy a quote evaluation reads (services.pricing.evaluate: `pricing`, compiled by
# domain.pricing.pricing_index, and `certifications`, for decisions stored before `barred_families`). The approval
# queues are read from `exception_routing` after the evaluation (`side`). tests/unit/test_policy_whatif_fast.py
# evaluates quotes under a policy holding these sections alone, so a new read of another section fails there.
EVALUATED_SECTIONS = ("pricing", "certifications")


def draft_reaches(made_under: dict[str, Any], draft: dict[str, Any]) -> bool:
    """Whether the draft changes a rule a quote evaluation reads, against the policy a decision was made under.

    When it does not, the decision evaluates under the draft exactly as it was decided (an evaluation is a pure
    function of the sections it reads and the decision's stored inputs, and a replay repeats the decision), so its
    stored result stands for the draft's and only its approval queues are read again under the draft's routing."""
    return any(made_under.get(section) != draft.get(section) for section in EVALUATED_SECTIONS)


def queues(result: dict[str, Any], queue_of: dict[str, str]) -> list[str]:
    """The queues the decision's approvals open (one approval per queue)."""
    return sorted({queue_of.get(category, queue_of.get("*", "triage")) for category in result["approval_categories"]})


def _margin(result: dict[str, Any]) -> Decimal:
    totals = result["totals"]
    return Decimal(totals["net_total"]) - Decimal(totals["cost_total"])


def side(result: dict[str, Any], queue_of: dict[str, str]) -> dict[str, Any]:
    """What the comparison keeps of one evaluation: its outcome, the queues its approvals open, net total and margin
    (net − cost). Only `outcome`, `approval_categories` and `totals.net_total`/`cost_total` of `result` are read."""
    return {"outcome": result["outcome"], "queues": queues(result, queue_of),
            "net_total": result["totals"]["net_total"], "margin": format_money(_margin(result))}


def compare(decision: dict[str, Any], before: dict[str, Any], after: dict[str, Any], queues_before: dict[str, str],
            queues_after: dict[str, str]) -> dict[str, Any]:
    """One decision: its outcome, approval queues, net total and margin as decided (`before`) and under the draft
    (`after`), and its partner segment (the tier it was priced at)."""
    return {
        "decision_id": decision["decision_id"],
        "segment": decision["inputs"]["partner"]["tier"],
        "before": side(before, queues_before),
        "after": side(after, queues_after),
    }


def _bucket() -> dict[str, Any]:
    return {"decisions": 0, "outcome_changed": 0, "net_before": Decimal(0), "net_after": Decimal(0),
            "margin_before": Decimal(0), "margin_after": Decimal(0), "approvals_before": Counter(),
            "approvals_after": Counter(), "outcomes_before": Counter(), "outcomes_after": Counter()}


_Side = tuple[str, tuple[str, ...], str, str]  # outcome, queues, net total, margin


def _frozen(side: dict[str, Any]) -> _Side:
    return side["outcome"], tuple(side["queues"]), side["net_total"], side["margin"]


def _add(bucket: dict[str, Any], before: _Side, after: _Side, count: int) -> None:
    """`count` decisions that compare alike (same outcome, queues, net and margin before and after) added at once."""
    bucket["decisions"] += count
    bucket["outcome_changed"] += count if before[0] != after[0] else 0
    bucket["net_before"] += Decimal(before[2]) * count
    bucket["net_after"] += Decimal(after[2]) * count
    bucket["margin_before"] += Decimal(before[3]) * count
    bucket["margin_after"] += Decimal(after[3]) * count
    for queue in before[1]:
        bucket["approvals_before"][queue] += count
    for queue in after[1]:
        bucket["approvals_after"][queue] += count
    bucket["outcomes_before"][before[0]] += count
    bucket["outcomes_after"][after[0]] += count


def _shown(bucket: dict[str, Any]) -> dict[str, Any]:
    queues_seen = sorted(set(bucket["approvals_before"]) | set(bucket["approvals_after"]))
    return {
        "decisions": bucket["decisions"],
        "outcome_changed": bucket["outcome_changed"],
        "outcomes": {"before": dict(sorted(bucket["outcomes_before"].items())),
                     "after": dict(sorted(bucket["outcomes_after"].items()))},
        "approvals_by_queue": {q: {"before": bucket["approvals_before"][q], "after": bucket["approvals_after"][q],
                                   "change": bucket["approvals_after"][q] - bucket["approvals_before"][q]}
                               for q in queues_seen},
        "net_total": {"before": format_money(bucket["net_before"]), "after": format_money(bucket["net_after"]),
                      "change": format_money(bucket["net_after"] - bucket["net_before"])},
        "margin": {"before": format_money(bucket["margin_before"]), "after": format_money(bucket["margin_after"]),
                   "change": format_money(bucket["margin_after"] - bucket["margin_before"])},
    }


def summarize(rows: Iterable[dict[str, Any]], *, examples: int = 5) -> dict[str, Any]:
    """The comparisons summed: overall and by partner segment, each outcome transition (allow → approval_required…)
    with up to `examples` decision ids, and decisions whose approval queues change."""
    total = _bucket()
    segments: dict[str, dict[str, Any]] = {}
    transitions: dict[tuple[str, str], dict[str, Any]] = {}
    rerouted: dict[str, Any] = {"count": 0, "examples": []}
    alike: Counter[tuple[str, _Side, _Side]] = Counter()  # rows that compare alike, summed once (exact: Decimal)
    for row in rows:
        alike[row["segment"], _frozen(row["before"]), _frozen(row["after"])] += 1
        before, after = row["before"]["outcome"], row["after"]["outcome"]
        if before != after:
            moved = transitions.setdefault((before, after), {"from": before, "to": after, "count": 0, "examples": []})
            moved["count"] += 1
            if len(moved["examples"]) < examples:
                moved["examples"].append(row["decision_id"])
        elif row["before"]["queues"] != row["after"]["queues"]:
            rerouted["count"] += 1
            if len(rerouted["examples"]) < examples:
                rerouted["examples"].append(row["decision_id"])
    for (segment, was, now), count in alike.items():
        _add(total, was, now, count)
        if segment not in segments:
            segments[segment] = _bucket()
        _add(segments[segment], was, now, count)
    return {
        **_shown(total),
        "outcome_changes": [transitions[k] for k in sorted(transitions)],
        "approvals_rerouted": rerouted,
        "by_segment": {segment: _shown(bucket) for segment, bucket in sorted(segments.items())},
    }


# --- rebates ---------------------------------------------------------------------------------------------------------
def rebate_changes(before: dict[str, list[dict[str, Any]]], after: dict[str, list[dict[str, Any]]],
                   segments: dict[str, str]) -> dict[str, Any]:
    """Per partner and program: the payable amount and tier reached as the period rates now (`before`) and under the
    draft (`after`), each partner -> its programs' views; totals overall and by partner segment (tier)."""
    rows = []
    for partner_id in sorted(before.keys() | after.keys()):
        was = {v["program_id"]: v for v in before.get(partner_id, [])}
        now = {v["program_id"]: v for v in after.get(partner_id, [])}
        for program_id in sorted(was.keys() | now.keys()):
            a, b = was.get(program_id, {}), now.get(program_id, {})
            rows.append({
                "partner_id": partner_id, "segment": segments.get(partner_id) or "none", "program_id": program_id,
                "before": {"payable": a.get("payable", "0.00"), "tier_reached": a.get("tier_reached")},
                "after": {"payable": b.get("payable", "0.00"), "tier_reached": b.get("tier_reached")},
            })
    totals: dict[str, dict[str, Decimal]] = {}
    for row in rows:
        for key in ("*", row["segment"]):
            bucket = totals.setdefault(key, {"before": Decimal(0), "after": Decimal(0)})
            bucket["before"] += Decimal(row["before"]["payable"])
            bucket["after"] += Decimal(row["after"]["payable"])

    def shown(bucket: dict[str, Decimal]) -> dict[str, str]:
        return {"before": format_money(bucket["before"]), "after": format_money(bucket["after"]),
                "change": format_money(bucket["after"] - bucket["before"])}

    changed = [r for r in rows if r["before"] != r["after"]]
    return {
        "payable": shown(totals.get("*", {"before": Decimal(0), "after": Decimal(0)})),
        "by_segment": {k: shown(v) for k, v in sorted(totals.items()) if k != "*"},
        "changed": changed,
        "unchanged": len(rows) - len(changed),
    }
