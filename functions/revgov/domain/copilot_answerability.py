"""Whether a retrieved clause answers a question, as a learned probability (the copilot's answerability model).

Each (question, retrieved clause) pair is described by signals the pipeline already computes — the two retrievers'
scores and ranks and whether they agree, the MiniLM similarity of question and clause and its margin over the other
retrieved clauses, the share of the question's words the clause holds (plain and rarity-weighted), and the type checks
of `copilot_evidence` (the question's names and head noun present, a number of the asked kind bound to what is asked,
a sum of money, a place, a filled slot) — and a logistic regression turns them into the probability that the clause
answers. The weights are trained by `tests/copilot/train_answerability.py` on the project's burnt question sets and
the open round's tuning split only, and shipped as `copilot_answerability.json` beside this module (nothing is
downloaded); the threshold is the one chosen by leave-one-agreement-out cross-validation, so it was always judged on an
agreement the model had not seen (docs/copilot.md, "Eleventh round"). Which of the clauses answers, once the question
is answered, is a `Ranker`'s choice over the same signals, shipped in the same file ("Fifteenth round").
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from . import copilot_binding as binding
from . import copilot_evidence as rules
from . import copilot_reader as reader
from . import copilot_slots as slots
from . import copilot_statements as statements
from . import copilot_subject as subject
from . import copilot_units as units
from .copilot import Hit, coverage

FEATURES = (
    "dense", "dense_gap", "dense_first", "lexical", "fused", "agree", "coverage", "weighted", "names_missing",
    "head_missing", "wrong_type", "quantity_asked", "quantity_held", "money_missing", "slot_filled", "row_answers",
    "reading", "has_fact", "statement_asked", "states", "plain_asked", "carried", "other_table", "topic_lacks",
    "unit_dense", "unit_gap", "fact_dense", "top_unit_fact", "dense_rel", "quantity_missing", "rules_backed",
    "rules_first",
)


def _flag(value: bool) -> float:
    return 1.0 if value else 0.0


def _question_signals(question: str, hits: Sequence[Hit]) -> dict[str, float]:
    return {
        "quantity_asked": _flag(reader.asked_quantity(question)),
        "statement_asked": _flag(statements.asks_statement(question)),
        "plain_asked": _flag(subject.asks_plain_statement(question)),
    }


def _carried(question: str, hit: Hit) -> float:
    """The largest share of the question's own words one unit of the clause carries (with the clause title)."""
    things = statements.things(question, None)
    if not things:
        return 0.0
    p = hit.passage
    best = max((statements.carried(things, f"{p.title} {u.full}") for u in reader.structured_units(p.text)),
               default=0)
    return best / len(things)


def _unit_signals(question: str, hit: Hit, cosines: Sequence[float]) -> dict[str, float]:
    """From the question's similarity to each unit of the clause (`cosines`, in `structured_units` order): the best
    unit's similarity, the best among units holding a fact of the asked kind (0 when none does), and whether the
    most similar unit holds one — a soft form of the binding test that survives paraphrase."""
    parts = reader.structured_units(hit.passage.text)
    kind = reader.asked_fact(question)
    quantity = reader.expected_quantity(question) if reader.asked_quantity(question) else None
    holds = [reader.holds_fact(kind, u.text) or (quantity is not None and reader.holds_quantity(u.text, quantity))
             for u in parts]
    best = max(range(len(cosines)), key=lambda i: cosines[i], default=None)
    return {
        "unit_dense": max(cosines, default=0.0),
        "fact_dense": max((c for c, h in zip(cosines, holds, strict=False) if h), default=0.0),
        "top_unit_fact": _flag(best is not None and best < len(holds) and holds[best]),
    }


def unit_texts(hit: Hit) -> list[str]:
    """What each unit of a clause is embedded as, in `structured_units` order: the clause title and the unit."""
    return units.embedded_units(hit.passage.title, hit.passage.text)


def _clause_level(hit: Hit) -> list[float]:
    """Without unit similarities (an index that cannot give them), every unit reads as its whole clause."""
    return [hit.dense or 0.0] * max(1, len(reader.structured_units(hit.passage.text)))


def features(question: str, hits: Sequence[Hit], unit_cosines: Sequence[Sequence[float]] | None = None
             ) -> list[dict[str, float]]:
    """The signals of each retrieved clause for this question, in retrieval order (`FEATURES` names them);
    `unit_cosines` holds each clause's similarity of each of its units to the question (`unit_texts`)."""
    cosines = list(unit_cosines) if unit_cosines is not None else [_clause_level(h) for h in hits]
    backed = [h.passage.clause_id for h in rules.evidence(question, hits)]
    question = slots.plain(question)
    policy = rules.EvidencePolicy()
    asked = _question_signals(question, hits)
    denses = [h.dense or 0.0 for h in hits]
    slot = slots.asked_slot(question)
    out: list[dict[str, float]] = []
    for rank, hit in enumerate(hits):
        p = hit.passage
        whole = f"{p.document_title} {p.indexed_text}"
        dense = denses[rank]
        others = [d for i, d in enumerate(denses) if i != rank]
        first = dense >= max(others, default=0.0)
        readings = binding.read(question, p.title, p.text)
        holds = bool(asked["quantity_asked"]) and (
            rules.holds_asked_quantity(question, hit, hits, policy) or subject.named_quantity(question, p.text))
        out.append({
            **asked,
            "dense": dense,
            "dense_gap": dense - max(others, default=0.0),
            "dense_rel": dense - sum(denses) / len(denses),
            "dense_first": _flag(first),
            "lexical": 1.0 / hit.lexical_rank if hit.lexical_rank else 0.0,
            "fused": 1.0 / (1 + rank),
            "agree": _flag(first and hit.lexical_rank == 1),
            "coverage": coverage(question, p),
            "weighted": rules.weighted_coverage(question, hit, hits),
            "names_missing": _flag(bool(rules.missing_names(question, whole))),
            "head_missing": _flag(not statements.head_met(question, reader.missing_head(question, whole), p.text)),
            "wrong_type": _flag(rules.wrong_type(question, p.text, whole)),
            "quantity_held": _flag(holds),
            "quantity_missing": _flag(bool(asked["quantity_asked"]) and not holds),
            "money_missing": _flag(slots.asks_money(question) and not slots.money_for(question, p.text)),
            "slot_filled": _flag(slot is not None and slots.fills(slot, p.text, besides=question)),
            "row_answers": _flag(rules.row_answers(question, hit, hits, policy)),
            "reading": readings[0].score if readings else 0.0,
            "has_fact": _flag(bool(readings) and readings[0].has_fact),
            "states": _flag(bool(asked["statement_asked"]) and statements.statement_unit(question, p.text) is not None),
            "carried": _carried(question, hit),
            "other_table": _flag(rules.other_table(question, hit, hits)),
            "topic_lacks": _flag(rank == 0 and rules.topic_lacks_quantity(question, hits, [hit], policy)),
            **_unit_signals(question, hit, cosines[rank]),
            "rules_backed": _flag(p.clause_id in backed),
            "rules_first": _flag(bool(backed) and backed[0] == p.clause_id),
        })
    for signals in out:  # the margin of each clause's best unit over the other clauses' best units
        signals["unit_gap"] = signals["unit_dense"] - max((o["unit_dense"] for o in out if o is not signals),
                                                          default=0.0)
    return out


@dataclass(frozen=True)
class Ranker:
    """Which retrieved clause answers, once the question is answered: a conditional logit over the same standardised
    `FEATURES`, trained on answerable questions only to put their gold clause first among the five retrieved
    (a ranking objective, where the answerability model's is to tell every answering clause from every other clause of
    every question, unanswerable ones included). Its score is compared among one question's clauses only."""

    weights: dict[str, float]
    means: dict[str, float]
    scales: dict[str, float]

    def score(self, signals: dict[str, float]) -> float:
        return sum(w * (signals[f] - self.means[f]) / self.scales[f] for f, w in self.weights.items())


@dataclass(frozen=True)
class Model:
    """A logistic regression over standardised `FEATURES`: p = σ(b + Σ wᵢ (xᵢ − μᵢ) / σᵢ). A question is answered
    when its likeliest clause reaches `threshold`; the next likeliest is quoted too ("See also") when it reaches
    `second` × threshold (a neighbouring clause often holds the rest of the answer). With a `ranker`, the answering
    clause is the one it ranks first (docs/copilot.md, Fifteenth round); the likeliest, when it is another, is then
    the "See also" under the same rule."""

    weights: dict[str, float]
    means: dict[str, float]
    scales: dict[str, float]
    bias: float
    threshold: float
    second: float = 1 / 3
    max_clauses: int = 2
    ranker: Ranker | None = None

    def probability(self, signals: dict[str, float]) -> float:
        z = self.bias + sum(w * (signals[f] - self.means[f]) / self.scales[f] for f, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def choose(self, probabilities: Sequence[float], ranks: Sequence[float] | None = None) -> list[int]:
        """The ranks of the clauses to answer from, the answering one first (the earlier on a tie); empty: refuse.
        `ranks`: the ranker's score of each clause (None: the likeliest answers)."""
        order = sorted(range(len(probabilities)), key=lambda i: (-probabilities[i], i))
        if not order or probabilities[order[0]] < self.threshold:
            return []
        first = order[0] if ranks is None else min(range(len(ranks)), key=lambda i: (-ranks[i], i))
        return [first, *(i for i in order if i != first and probabilities[i] >= self.second * self.threshold)
                ][: self.max_clauses]

    def decide(self, signals: Sequence[dict[str, float]]) -> list[int]:
        """`choose` on these clauses' signals, with the ranker when the model has one."""
        ranks = [self.ranker.score(s) for s in signals] if self.ranker is not None else None
        return self.choose([self.probability(s) for s in signals], ranks)


@lru_cache(maxsize=1)
def shipped() -> Model:
    """The weights trained by `tests/copilot/train_answerability.py`, shipped in the package."""
    raw = json.loads(resources.files(__package__).joinpath("copilot_answerability.json").read_text(encoding="utf-8"))
    ranked = raw.get("ranker")
    ranker = Ranker(ranked["weights"], ranked["means"], ranked["scales"]) if ranked else None
    return Model(raw["weights"], raw["means"], raw["scales"], raw["bias"], raw["threshold"], ranker=ranker)


def evidence(question: str, hits: Sequence[Hit], unit_cosines: Sequence[Sequence[float]] | None = None,
             model: Model | None = None) -> list[Hit]:
    """The clauses an answer may rest on, the answering one first; empty means: refuse (no clause reaches the model's
    threshold)."""
    model = model or shipped()
    return [hits[rank] for rank in model.decide(features(question, hits, unit_cosines))]
