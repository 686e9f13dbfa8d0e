"""A question–clause relevance head over MiniLM's token vectors, judged by leave-one-round-out (fourteenth round).

    .venv/bin/python tests/copilot/relevance_head.py

Reads the rows `train_answerability.py --collect` stored, reuses `late_interaction.token_vectors` (the shipped
MiniLM's per-token outputs, cached in `.revgov/token-vectors.npz`) and adds, per (question, clause), signals read at
token level from the clause's best unit: kernel-pooled soft matches of the question's content tokens (KNRM-style:
for each question token the soft count of unit tokens near similarity μ, log-summed and weighted by the token's
rarity among the retrieved clauses), the rarity-weighted mean, minimum and lower quartile of each question token's
best match, the rarity-weighted share matched at ≥ 0.8, and the best unit's lead over the other clauses. Then prints
the leave-one-round-out figures with and without them, per round and pooled, and the variants tried for the choice of
clause and the threshold.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import late_interaction
import train_answerability as trainer

from revgov.domain import copilot_answerability as answerability

MUS = (0.9, 0.7, 0.5, 0.3)
SIGMA = 0.1
SIGNALS = ("k90", "k70", "k50", "k30", "tok_wmean", "tok_min", "tok_q25", "tok_share", "tok_gap", "tok_rel")


def _words(tokens: list[str]) -> list[str]:
    """Whole words of a WordPiece sequence (a word's pieces joined), lower case."""
    out: list[str] = []
    for t in tokens:
        if t in ("[CLS]", "[SEP]"):
            continue
        if t.startswith("##") and out:
            out[-1] += t[2:]
        else:
            out.append(t)
    return out


def _unit_signals(q_vectors: np.ndarray, q_weights: np.ndarray, unit: tuple[list[str], np.ndarray]
                  ) -> dict[str, float]:
    tokens, vectors = unit
    held = np.array([t not in ("[CLS]", "[SEP]") for t in tokens], dtype=bool)
    sims = q_vectors @ vectors[held].T  # question content tokens × unit tokens
    best = sims.max(axis=1)
    total = float(q_weights.sum()) or 1.0
    out = {f"k{int(mu * 100)}": float((q_weights * np.log1p(np.exp(-((sims - mu) ** 2) / (2 * SIGMA**2)).sum(axis=1))
                                       ).sum() / total) for mu in MUS}
    order = np.argsort(best)
    cumulative = np.cumsum(q_weights[order]) / total
    out.update({
        "tok_wmean": float((q_weights * best).sum() / total),
        "tok_min": float(best.min()),
        "tok_q25": float(best[order][int(np.searchsorted(cumulative, 0.25))]),
        "tok_share": float(q_weights[best >= 0.8].sum() / total),
    })
    return out


def add_signals(rows: list[dict[str, Any]]) -> None:
    vectors = late_interaction.token_vectors(
        {r["question"] for r in rows} | {u for r in rows for us in r["units"] for u in us})
    for row in rows:
        q_tokens, q_all = vectors[row["question"]]
        asked = late_interaction._content(q_tokens)
        if not asked.any():
            asked = np.array([t not in ("[CLS]", "[SEP]") for t in q_tokens], dtype=bool)
        q_vectors = q_all[asked]
        q_pieces = [t for t, keep in zip(q_tokens, asked, strict=True) if keep]
        # a question token's weight: how rare it is among the retrieved clauses (a piece every clause has says little)
        clause_pieces = [{t for u in units for t in vectors[u][0]} for units in row["units"]]
        n = len(clause_pieces)
        q_weights = np.array([math.log((n + 1) / (0.5 + sum(p in c for c in clause_pieces))) + 0.1 for p in q_pieces])
        per_clause = []
        for units in row["units"]:
            candidates = [_unit_signals(q_vectors, q_weights, vectors[u]) for u in units] or [
                dict.fromkeys(SIGNALS[:8], 0.0)]
            per_clause.append(max(candidates, key=lambda s: s["tok_wmean"]))
        best = [c["tok_wmean"] for c in per_clause]
        for i, signals in enumerate(row["features"]):
            signals.update(per_clause[i])
            signals["tok_gap"] = best[i] - max((b for j, b in enumerate(best) if j != i), default=0.0)
            signals["tok_rel"] = best[i] - sum(best) / len(best)


def report(rows: list[dict[str, Any]], names: tuple[str, ...], label: str) -> dict[str, Any]:
    result = trainer.leave_one_round_out(rows, names, per_kind=False)
    print(label, json.dumps({k: {m: round(v, 3) if isinstance(v, float) else v for m, v in f.items()}
                             for k, f in result["rounds"].items()}))
    print("  pooled", json.dumps({k: round(v, 3) for k, v in result["pooled"].items()}))
    return result


def curve(rows: list[dict[str, Any]], names: tuple[str, ...]) -> dict[str, float]:
    """Threshold-free figures of the past held-out splits, each scored by a model fitted without its round: how often
    the likeliest clause is a gold one (answerable questions), the AUC of the likeliest clause's probability between
    answerable and unanswerable questions, and false refusals / gold cited at the lowest threshold that refuses
    90% and 95% of the unanswerable questions."""
    rounds = sorted({n for r in rows if (n := trainer._round(r)) is not None})
    scored = trainer._round_predictions(rows, names, rounds)
    top = [r["labels"][max(range(len(p)), key=lambda i: (p[i], -i))] for r, p in scored if r["answerable"] and p]
    ans = [max(p) for r, p in scored if r["answerable"]]
    una = [max(p) for r, p in scored if not r["answerable"]]
    auc = sum((a > u) + 0.5 * (a == u) for a in ans for u in una) / (len(ans) * len(una))
    out = {"top_gold": sum(top) / len(ans), "auc": auc}
    fine = [round(0.01 * i, 2) for i in range(1, 100)]
    for goal in (0.90, 0.95):
        t = next((t for t in fine if trainer.score(scored, t)["refusal"] >= goal), 0.99)
        figures = trainer.score(scored, t)
        out[f"at_{int(goal * 100)}"] = {"threshold": t, **{k: round(v, 3) for k, v in figures.items()}}
    return out


def gate_and_pick(rows: list[dict[str, Any]], gate: tuple[str, ...], pick: tuple[str, ...]) -> dict[str, Any]:
    """Leave-one-round-out with the answer/refuse decision from one model (`gate`, its threshold chosen as the trainer
    does) and the clauses quoted chosen by another (`pick`: its likeliest clause, and the next when it reaches a third
    of the threshold)."""
    rounds = sorted({n for r in rows if (n := trainer._round(r)) is not None})
    refused_u, refused_a, cited, per_round = [], [], [], {}
    for n in rounds:
        others = [m for m in rounds if m != n]
        threshold = trainer._best_threshold(trainer._round_predictions(rows, gate, others, frozenset({n})))
        gated = trainer._round_predictions(rows, gate, [n])
        picked = {r["id"]: p for r, p in trainer._round_predictions(rows, pick, [n])}
        c_round = []
        for r, p in gated:
            answered = bool(p) and max(p) >= threshold
            if not r["answerable"]:
                refused_u.append(not answered)
                continue
            refused_a.append(not answered)
            q = picked[r["id"]]
            order = sorted(range(len(q)), key=lambda i: (-q[i], i))
            chosen = [order[0], *(i for i in order[1:2] if q[i] >= threshold / 3)] if answered else []
            cited.append(any(r["labels"][i] for i in chosen))
            c_round.append(cited[-1])
        per_round[f"r{n}"] = round(sum(c_round) / len(c_round), 3)
    return {"refusal": sum(refused_u) / len(refused_u), "false_refusal": sum(refused_a) / len(refused_a),
            "gold_cited": sum(cited) / len(cited), "gold_cited_per_round": per_round}


def main() -> None:
    rows = json.loads(trainer.ROWS.read_text(encoding="utf-8"))
    add_signals(rows)
    base = answerability.FEATURES
    for label, names in (("model", base), ("model + token head", base + SIGNALS),
                         ("model + distribution", base + SIGNALS[4:])):
        print("curve", label, json.dumps(curve(rows, names)))
    print("gate model, pick model + token head", json.dumps(gate_and_pick(rows, base, base + SIGNALS)))
    print("gate model, pick model + distribution", json.dumps(gate_and_pick(rows, base, base + SIGNALS[4:])))
    print("gate model, pick model", json.dumps(gate_and_pick(rows, base, base)))
    if "--curves" in sys.argv:
        return
    report(rows, base, "model")
    report(rows, base + SIGNALS, "model + token head")
    report(rows, base + SIGNALS[4:], "model + token best-match distribution")
    report(rows, base + SIGNALS[:4] + SIGNALS[8:], "model + kernels")
    for label, names in (("model", base), ("model + token head", base + SIGNALS)):
        result = trainer.leave_one_round_out(rows, names, per_kind=True)
        print(label, "threshold per question kind", json.dumps({k: round(v, 3) for k, v in result["pooled"].items()}))


if __name__ == "__main__":
    main()
