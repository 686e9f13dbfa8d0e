"""What-if: the difference a draft policy makes to stored quote decisions, one by one and summed. Pure.

Each stored decision keeps the inputs it was evaluated on (partner facts, the catalog items its lines were priced
from, registrations), so it can be evaluated again under any policy; `compare` says what changes for one decision
and `summarize` sums the comparisons, so the summary is by construction the sum of one-by-one replays.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any

from .ids import typed_id
from .money import format_money

_SLACK = timedelta(days=1)


def id_prefixes(kind: str, first_day: str, last_day: str, *, chars: int = 4) -> list[str]:
    """Key prefixes, in order, that every `kind` id made from `first_day` to `last_day` starts with: ids are ULIDs
    whose first characters are their millisecond time (the first of the ten holds 3 bits, each other 5), so a window
    is a run of prefixes of `chars` time characters: 4 fix the top 18 of 48 bits, a prefix per 2**30 ms (about 12.4
    days); 5, a prefix per 2**25 ms (about 9.3 hours). A day of slack each side: an id is made a moment after the
    time its record states."""
    bucket_bits = 50 - 5 * chars
    start = datetime.fromisoformat(first_day).replace(tzinfo=UTC) - _SLACK
    end = datetime.fromisoformat(last_day).replace(tzinfo=UTC) + 2 * _SLACK
    first, last = (int(moment.timestamp() * 1000) >> bucket_bits for moment in (start, end))
    return [typed_id(kind, bucket << bucket_bits, bytes(10))[: len(kind) + 1 + chars]
            for bucket in range(first, last + 1)]


# The sections of a policy a quote evaluation reads (services.pricing.evaluate: `pricing`, compiled by
# domain.pricing.pricing_index, and `certifications`, for decisions stored before `barred_families`). The approval
# queues are read from `exception_routing` after the evaluation (`side`). tests/unit/test_policy_whatif_fast.py
# evaluates quotes under a policy holding these sections alone, so a new read of another section fails there.
EVALUATED_SECTIONS = ("pricing", "certifications")


def draft_reaches(made_under: dict[str, Any], draft: dict[str, Any]) -> bool:
    """Whether the draft changes a rule a quote evaluation reads, against the policy a decision was made under.

    When it does not, the decision evaluates under the draft exactly as it was decided (an evaluation is a pure
    function of the sections it reads and the decision's stored inputs, and a replay repeats a decision), so its
    stored result stands for the draft's and only its approval queues are read again under the draft's routing."""
    return any(made_under.get(section) != draft.get(section) for section in EVALUATED_SECTIONS)


MARGIN_CATEGORY = "margin_below_floor"  # the approval category only the margin floor rule opens (domain.pricing)
_SHOWN_PERCENT = Decimal("0.01")  # a stored line margin is rounded to a hundredth: its true value is within half


@dataclass(frozen=True)
class Reach:
    """Which stored quote decisions a draft can change, rule by rule inside `pricing`, against the policy a decision
    was made under. The comparison keeps a decision's outcome, approval categories (as queues) and totals; so:
    - a draft that changes only discount cap cells (PA-6.2: `discount_caps.caps`, a cap per tier and family) changes
      only the cap findings of quotes priced at such a tier with a line of such a family (domain.pricing
      ._discount_caps reads the cell of the quote's tier and the line's family);
    - a draft that changes only promotions (PA-6.4 / PA-6.5: `promotions`, by code) changes only quotes that carry
      the code of a promotion it adds, removes or changes (domain.pricing._promotions looks up the quote's codes);
    - a draft that changes only the margin floor (PA-6.3) changes only margin findings: lowered, only of decisions
      that had a line below the old floor (approval category `margin_below_floor`); raised, only of decisions with
      a line whose margin lies from the old floor up to the new one (read from the stored line margins);
    - cap cells and the floor change no net or cost total. Anything else changed in `pricing` or `certifications`
      reaches every decision. Several together reach the union (each confines its effect to its own findings).
    The tiers, families and codes of a decision are those of its stored inputs (`inputs.partner.tier`, each line's
    catalog item's family, `inputs.quote.promotions`): read only when a cap cell of its tier or a promotion changed.
    tests/unit/test_policy_whatif_reach.py proves each equal to a full replay on random drafts."""

    everything: bool = False
    cells: frozenset[tuple[str, str]] = frozenset()  # (tier, family) discount cap cells the draft changes
    floor: tuple[Decimal, Decimal] | None = None  # the margin floor percent (made under, draft) when it changes
    codes: frozenset[str] = frozenset()  # codes of the promotions the draft adds, removes or changes

    @cached_property
    def tiers(self) -> frozenset[str]:
        """The partner tiers with a discount cap cell the draft changes (asked once per decision: kept)."""
        return frozenset(tier for tier, _ in self.cells)

    @property
    def nothing(self) -> bool:
        return not self.everything and not self.cells and self.floor is None and not self.codes

    @property
    def reads_lines(self) -> bool:
        """Whether `reaches` needs the stored result's lines (a raised margin floor)."""
        return not self.everything and self.floor is not None and self.floor[1] > self.floor[0]

    def reads_inputs(self, tier: str) -> bool:
        """Whether `reaches` needs the stored inputs of a decision priced at `tier` (its families or codes)."""
        return not self.everything and (bool(self.codes) or tier in self.tiers)

    def reaches(self, tier: str, categories: list[str], lines: list[dict[str, Any]] | None = None,
                inputs: dict[str, Any] | None = None) -> bool:
        """Whether a decision priced at `tier`, whose stored result has these approval categories (and lines), and
        with these stored inputs, can come out otherwise under the draft (without lines or inputs: assume it can)."""
        if self.everything:
            return True
        if self.codes and (inputs is None or not self.codes.isdisjoint(quote_codes(inputs))):
            return True
        if tier in self.tiers and (inputs is None or any((tier, f) in self.cells for f in line_families(inputs))):
            return True
        return self._floor_reaches(categories, lines)

    def _floor_reaches(self, categories: list[str], lines: list[dict[str, Any]] | None) -> bool:
        if self.floor is None:
            return False
        was, now = self.floor
        if now < was:
            return MARGIN_CATEGORY in categories
        if lines is None:
            return True
        low, high = was - _SHOWN_PERCENT, now + _SHOWN_PERCENT
        return any(low <= Decimal(line["margin_percent"]) < high for line in lines)


def quote_codes(inputs: dict[str, Any]) -> list[str]:
    """The promotion codes a stored quote carries."""
    return list(inputs["quote"].get("promotions") or [])


def line_families(inputs: dict[str, Any]) -> set[str]:
    """The families of a stored quote's lines: its catalog items' (services.pricing.evaluate prices the lines from
    them), or, for decisions stored with the prices on their lines, the lines' own."""
    items = (inputs.get("catalog") or {}).get("items")
    if items is not None:
        return {str(items[line["sku"]]["family"]) for line in inputs["quote"]["lines"]}
    return {str(line["family"]) for line in inputs["quote"]["lines"]}


_EVERYTHING = Reach(everything=True)
_CONFINED = frozenset({"discount_caps", "margin_floor", "promotions"})  # pricing rules whose reach is confined


def _cells(was: dict[str, Any], now: dict[str, Any]) -> frozenset[tuple[str, str]]:
    """The (tier, family) cap cells that differ (a cell only one side has included: no cap is a finding too)."""
    return frozenset((tier, family) for tier in was.keys() | now.keys()
                     for family in (was.get(tier) or {}).keys() | (now.get(tier) or {}).keys()
                     if (was.get(tier) or {}).get(family) != (now.get(tier) or {}).get(family))


def _codes(was: list[dict[str, Any]], now: list[dict[str, Any]]) -> frozenset[str]:
    """The codes whose promotion differs, compiled as domain.pricing compiles them (by code, the last one wins)."""
    by_was, by_now = ({p["code"]: p for p in promotions} for promotions in (was, now))
    return frozenset(c for c in by_was.keys() | by_now.keys() if by_was.get(c) != by_now.get(c))


def reach(made_under: dict[str, Any], draft: dict[str, Any]) -> Reach:
    """What the draft's changes to the evaluated sections can reach of decisions made under `made_under` (Reach)."""
    if not draft_reaches(made_under, draft):
        return Reach()
    was, now = made_under.get("pricing"), draft.get("pricing")
    if made_under.get("certifications") != draft.get("certifications") or not isinstance(was, dict) \
            or not isinstance(now, dict):
        return _EVERYTHING
    changed = {key for key in was.keys() | now.keys() if was.get(key) != now.get(key)}
    if not changed <= _CONFINED:
        return _EVERYTHING
    cells: frozenset[tuple[str, str]] = frozenset()
    if "discount_caps" in changed:
        caps_was, caps_now = was["discount_caps"], now["discount_caps"]
        if {k: v for k, v in caps_was.items() if k != "caps"} != {k: v for k, v in caps_now.items() if k != "caps"}:
            return _EVERYTHING
        cells = _cells(caps_was["caps"], caps_now["caps"])
    floor = None
    if "margin_floor" in changed:  # its id or clause alone: no outcome, category or total changes
        floors = (Decimal(was["margin_floor"]["percent"]), Decimal(now["margin_floor"]["percent"]))
        floor = floors if floors[0] != floors[1] else None
    codes = _codes(was.get("promotions") or [], now.get("promotions") or []) if "promotions" in changed \
        else frozenset()
    return Reach(cells=cells, floor=floor, codes=codes)


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


class Tally:
    """The comparisons summed as they come, mergeable: the rows of consecutive runs of decisions (a worker's share)
    tallied apart and merged in read order give what one tally of all the rows gives (the counts and sums add; the
    examples kept are the first ones read)."""

    def __init__(self, examples: int) -> None:
        self.examples = examples
        self.total = _bucket()
        self.segments: dict[str, dict[str, Any]] = {}
        self.transitions: dict[tuple[str, str], dict[str, Any]] = {}
        self.rerouted: dict[str, Any] = {"count": 0, "examples": []}
        self.alike: Counter[tuple[str, _Side, _Side]] = Counter()  # rows that compare alike, summed once (exact)

    def add(self, row: dict[str, Any]) -> None:
        """One comparison (`compare`'s row), in read order."""
        self.alike[row["segment"], _frozen(row["before"]), _frozen(row["after"])] += 1
        before, after = row["before"]["outcome"], row["after"]["outcome"]
        if before != after:
            moved = self.transitions.setdefault((before, after), {"from": before, "to": after, "count": 0,
                                                                  "examples": []})
            moved["count"] += 1
            if len(moved["examples"]) < self.examples:
                moved["examples"].append(row["decision_id"])
        elif row["before"]["queues"] != row["after"]["queues"]:
            self.rerouted["count"] += 1
            if len(self.rerouted["examples"]) < self.examples:
                self.rerouted["examples"].append(row["decision_id"])

    def folded(self) -> Tally:
        """The alike rows summed into the buckets (a small value to hand from a worker to the reading process)."""
        for (segment, was, now), count in self.alike.items():
            _add(self.total, was, now, count)
            _add(self.segments.setdefault(segment, _bucket()), was, now, count)
        self.alike.clear()
        return self

    def merge(self, later: Tally) -> None:
        """`later`'s rows, read after this tally's, added to it."""
        self.folded()
        later.folded()
        _merge_bucket(self.total, later.total)
        for segment, bucket in later.segments.items():
            _merge_bucket(self.segments.setdefault(segment, _bucket()), bucket)
        for key, moved in later.transitions.items():
            mine = self.transitions.setdefault(key, {**moved, "count": 0, "examples": []})
            _merge_examples(mine, moved, self.examples)
        _merge_examples(self.rerouted, later.rerouted, self.examples)

    def shown(self) -> dict[str, Any]:
        self.folded()
        return {
            **_shown(self.total),
            "outcome_changes": [self.transitions[k] for k in sorted(self.transitions)],
            "approvals_rerouted": self.rerouted,
            "by_segment": {segment: _shown(bucket) for segment, bucket in sorted(self.segments.items())},
        }


def _merge_bucket(into: dict[str, Any], other: dict[str, Any]) -> None:
    for key, value in other.items():
        into[key] = into[key] + value  # ints, Decimals and Counters all add


def _merge_examples(into: dict[str, Any], later: dict[str, Any], examples: int) -> None:
    into["count"] += later["count"]
    into["examples"] = (into["examples"] + later["examples"])[:examples]


def summarize(rows: Iterable[dict[str, Any]], *, examples: int = 5) -> dict[str, Any]:
    """The comparisons summed: overall and by partner segment, each outcome transition (allow → approval_required…)
    with up to `examples` decision ids, and decisions whose approval queues change."""
    tally = Tally(examples)
    for row in rows:
        tally.add(row)
    return tally.shown()
