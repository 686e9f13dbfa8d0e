"""The seventeenth round's candidate signals for answer-or-refuse, judged by leave-one-round-out (docs/copilot.md,
"Seventeenth round"). Measured, none adopted; kept so the figures can be reproduced and the next idea compared.

    .venv/bin/python tests/copilot/signal_candidates.py [--only NAME ...]

Reads the rows `train_answerability.py --collect` stored (`.revgov/answerability-rows.json`: the question, the five
retrieved clauses' titles, texts and unit texts, and the 32 shipped signals of each) and adds, per (question,
retrieved clause), signals computed from those texts alone, as `copilot_answerability.features` would compute them
at run time (no retrieval is run again, nothing is embedded):

- `answer_type`: the kind of answer the question asks for — the reader's fact kinds (a duration, a percentage, an
  amount, a count, a date, a party, a place), and beyond them who bears a cost ("who pays for …"), which law ("which
  bribery laws …"), what happens / what must be done (a duty: will, shall, must), how / to what standard (a manner:
  "reasonable", "in writing", "standard of care") and yes/no (a statement of what may, must or may not be done) —
  and whether the unit of the clause that shares most of the question's words holds a span of that kind
  (`at_top`), or any unit does (`at_any`).
- `defined_terms`: the question's words expanded by the words agreements use for the same parties and things
  (the client / the company → Company, Customer; the consultancy → Provider, Contractor; my project → Services, SOW;
  documents, files → Confidential Information, Materials; what I deliver → Deliverables, Work Product), its coverage
  by the clause and the lead over the other retrieved clauses (`dt_cov`, `dt_gap`).
- `deferral`: the clause's best-covering unit (or any unit) leaves the matter to another document ("in the SOW",
  "as set out in the Order Form", "as agreed") — a sign the figure asked for is not in the agreement.
- `relative`: each lexical and meaning signal less the mean of the other retrieved clauses (the agreement's own
  vocabulary as the baseline, not the training agreements').
- `gaps`: plain and rarity-weighted coverage and the carried share less the best other clause's.
- `question_found`: the share of the question's words found in any retrieved clause (how far the question is worded
  away from the agreement).
- `party_folded`: coverage with every party word (client, company, customer, provider, contractor, I, we …) folded
  into one, on both sides.
- `without_hard_checks`: the 32 signals without the four type checks (names, head noun, wrong type, quantity
  missing) that a paraphrase can defeat.

For each: leave-one-round-out over the past held-out splits r6 … r16 (`train_answerability.leave_one_round_out`,
thresholds chosen on the other rounds) and a threshold-free view: the AUC of a question's best probability
(answerable against unanswerable) and the false refusals / gold cited at the lowest threshold reaching refusal 0.80,
0.85, 0.90 and 0.95, pooled over the same folds. About two minutes per candidate on one thread.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import train_answerability as trainer

from revgov.domain import copilot_answerability as answerability
from revgov.domain import copilot_reader as reader
from revgov.domain import copilot_statements as statements
from revgov.domain.copilot import terms

Row = dict[str, Any]
Signals = list[dict[str, float]]

_ASKS: tuple[tuple[str, re.Pattern[str], re.Pattern[str]], ...] = (
    ("cost", re.compile(r"\bwho (?:pays|bears|covers|is responsible for the cost)|\bat whose (?:cost|expense)"
                        r"|\bpay for\b|\breimburs|\bexpenses?\b|\bcosts?\b", re.I),
     re.compile(r"\bexpense|\bcosts?\b|\breimburs|\bat (?:its|their|his|her) own\b|\bpay", re.I)),
    ("law", re.compile(r"\bwhich (?:laws?|statutes?|acts?|regulations?)\b|\bwhat (?:laws?|statutes?|regulations?)\b",
                       re.I),
     re.compile(r"\b[A-Z][A-Za-z]+ (?:Act|Regulation|Code|Directive)\b|\b(?:GDPR|HIPAA|CCPA|U\.S\.C)\b")),
    ("duty", re.compile(r"\bwhat happens\b|\bwhat (?:do|does|must|should) (?:i|we|they|it|the \w+) (?:have to )?do\b"
                        r"|\bwhat do (?:i|we) owe\b", re.I),
     re.compile(r"\b(?:will|shall|must)\b", re.I)),
    ("manner", re.compile(r"\bhow (?:carefully|do|does|can|could|must|should|is|are)\b|\bwhat standard\b|\band how\b",
                          re.I),
     re.compile(r"\b(?:standard|manner|care|in writing|by (?:mutual|written)|through|professional|reasonable)\b",
                re.I)),
)


def _asked_type(question: str) -> tuple[str, str | None] | None:
    kind = reader.asked_fact(question)
    if kind:
        return ("fact", kind)
    for name, asks, _ in _ASKS:
        if asks.search(question):
            return (name, None)
    return ("yes/no", None) if statements.asks_statement(question) else None


def _holds_type(asked: tuple[str, str | None], text: str) -> bool:
    name, kind = asked
    if name == "fact":
        return bool(reader.holds_fact(kind, text))
    if name == "yes/no":
        return bool(statements._STATES_WHAT_HOLDS.search(text))  # what holds: may, must, will not …
    return bool(next(holds for n, _, holds in _ASKS if n == name).search(text))


def _best_covering(question: str, units: list[str]) -> str:
    wanted = set(terms(question))
    return max(units, key=lambda u: len(wanted & set(terms(u))))


def answer_type(row: Row) -> Signals:
    asked = _asked_type(row["question"])
    out = []
    for units in row["units"]:
        if asked is None or not units:
            out.append({"at_top": 0.0, "at_any": 0.0})
            continue
        top = _best_covering(row["question"], units)
        out.append({"at_top": float(_holds_type(asked, top)),
                    "at_any": float(any(_holds_type(asked, u) for u in units))})
    return out


_SAME_THING = (("client company customer business firm employer", "company customer client"),
               ("contractor consultant consultancy provider vendor supplier freelancer",
                "contractor provider consultant vendor supplier"),
               ("job project engagement gig assignment", "services sow project"),
               ("documents files info material materials data", "confidential information materials"),
               ("deliverable deliverables output outputs", "deliverables work product"))
_EXPANDS = {word: into for words, into in _SAME_THING for word in words.split()}


def _coverages(wanted: set[str], row: Row, fold: Callable[[str], str] = lambda t: t) -> list[float]:
    out = []
    for title, text in zip(row["titles"], row["texts"], strict=True):
        have = set(terms(fold(f"{title}. {text}")))
        out.append(len(wanted & have) / len(wanted) if wanted else 0.0)
    return out


def _with_gap(values: list[float], name: str) -> Signals:
    return [{name: v, f"{name}_gap": v - max((w for j, w in enumerate(values) if j != i), default=0.0)}
            for i, v in enumerate(values)]


def defined_terms(row: Row) -> Signals:
    words = re.findall(r"[a-z]+", row["question"].lower())
    expanded = " ".join([row["question"], *(_EXPANDS[w] for w in words if w in _EXPANDS)])
    return [{"dt_cov": s["dt"], "dt_gap": s["dt_gap"]}
            for s in _with_gap(_coverages(set(terms(expanded)), row), "dt")]


_DEFERS = re.compile(r"\b(?:in|on|under|by) (?:the|an|each|any|a) (?:applicable |relevant )?(?:SOW|Statement of Work"
                     r"|Order Form|Order|Cover Page|Key Terms|Schedule|Exhibit|Purchase Order)\b"
                     r"|\b(?:specified|set (?:out|forth)|stated|described|listed|identified) (?:in|on)\b"
                     r"|\bas (?:agreed|mutually agreed)\b", re.I)


def deferral(row: Row) -> Signals:
    out = []
    for units in row["units"]:
        top = _best_covering(row["question"], units) if units else ""
        out.append({"defers_top": float(bool(_DEFERS.search(top))),
                    "defers_any": float(any(_DEFERS.search(u) for u in units))})
    return out


_RELATIVE = ("dense", "unit_dense", "weighted", "coverage", "carried", "reading", "lexical", "fact_dense")


def relative(row: Row) -> Signals:
    fs = row["features"]
    return [{f"{k}_rel": f[k] - float(np.mean([g[k] for j, g in enumerate(fs) if j != i] or [0.0]))
             for k in _RELATIVE} for i, f in enumerate(fs)]


def gaps(row: Row) -> Signals:
    fs = row["features"]
    return [{f"{k}_gap": f[k] - max((g[k] for j, g in enumerate(fs) if j != i), default=0.0)
             for k in ("weighted", "coverage", "carried")} for i, f in enumerate(fs)]


def question_found(row: Row) -> Signals:
    wanted = set(terms(row["question"]))
    found = set().union(*(set(terms(f"{t}. {x}")) for t, x in zip(row["titles"], row["texts"], strict=True)))
    share = len(wanted & found) / len(wanted) if wanted else 0.0
    return [{"q_found": share} for _ in row["features"]]


_PARTY = re.compile(r"\b(?:client|company|customer|provider|contractor|consultant|consultancy|vendor|supplier|partner"
                    r"|licensor|licensee|distributor|reseller|firm|freelancer|i|me|my|we|us|our)\b", re.I)


def _fold(text: str) -> str:
    return _PARTY.sub(" party ", text)


def party_folded(row: Row) -> Signals:
    wanted = set(terms(_fold(row["question"]))) - {"party"}
    return [{"folded": s["folded"], "folded_gap": s["folded_gap"]}
            for s in _with_gap(_coverages(wanted, row, _fold), "folded")]


HARD_CHECKS = ("quantity_missing", "wrong_type", "head_missing", "names_missing")
CANDIDATES: dict[str, tuple[Callable[[Row], Signals] | None, tuple[str, ...]]] = {
    "shipped signals": (None, answerability.FEATURES),
    "answer_type": (answer_type, (*answerability.FEATURES, "at_top", "at_any")),
    "defined_terms": (defined_terms, (*answerability.FEATURES, "dt_cov", "dt_gap")),
    "deferral": (deferral, (*answerability.FEATURES, "defers_top", "defers_any")),
    "relative": (relative, (*answerability.FEATURES, *(f"{k}_rel" for k in _RELATIVE))),
    "gaps": (gaps, (*answerability.FEATURES, "weighted_gap", "coverage_gap", "carried_gap")),
    "question_found": (question_found, (*answerability.FEATURES, "q_found")),
    "party_folded": (party_folded, (*answerability.FEATURES, "folded", "folded_gap")),
    "without_hard_checks": (None, tuple(f for f in answerability.FEATURES if f not in HARD_CHECKS)),
}


def with_signals(rows: list[Row], signals: Callable[[Row], Signals] | None) -> list[Row]:
    if signals is None:
        return rows
    return [{**r, "features": [{**f, **s} for f, s in zip(r["features"], signals(r), strict=True)]} for r in rows]


def threshold_free(rows: list[Row], names: tuple[str, ...]) -> dict[str, Any]:
    """Each past held-out split scored by a model fitted without its round, pooled: the AUC of a question's best
    probability (answerable against unanswerable), and false refusals / gold cited at the lowest threshold that
    reaches each refusal level."""
    rounds = sorted({n for r in rows if (n := trainer._round(r)) is not None})
    scored = trainer._round_predictions(rows, names, rounds)
    best = np.asarray([max(p) for _, p in scored])
    asked = np.asarray([r["answerable"] for r, _ in scored])
    a, u = best[asked], best[~asked]
    out: dict[str, Any] = {"auc": float(np.mean(a[:, None] > u[None, :]) + 0.5 * np.mean(a[:, None] == u[None, :]))}
    for level in (0.80, 0.85, 0.90, 0.95):
        for t in np.round(np.arange(0.01, 1.0, 0.005), 3):
            figures = trainer.score(scored, float(t))
            if figures["refusal"] >= level:
                out[f"refusal>={level}"] = {"false_refusal": figures["false_refusal"],
                                            "gold_cited": figures["gold_cited"]}
                break
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(CANDIDATES))
    args = parser.parse_args()
    rows = json.loads(trainer.ROWS.read_text(encoding="utf-8"))
    for name in args.only or CANDIDATES:
        signals, names = CANDIDATES[name]
        augmented = with_signals(rows, signals)
        loro = trainer.leave_one_round_out(augmented, names)
        print(json.dumps({name: {"leave_one_round_out": loro, "threshold_free": threshold_free(augmented, names)}}),
              flush=True)


if __name__ == "__main__":
    main()
