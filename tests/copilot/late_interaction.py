"""Late-interaction signals (ColBERT-style MaxSim over MiniLM's contextual token vectors), by leave-one-round-out.

    .venv/bin/python tests/copilot/late_interaction.py

Reads the rows `train_answerability.py --collect` stored (each with its question and the unit texts of its retrieved
clauses), runs the shipped MiniLM once per distinct text for its per-token outputs before pooling (cached in
`.revgov/token-vectors.npz`), and adds three signals per (question, clause): the best unit's MaxSim — for each content
token of the question (no [CLS]/[SEP], punctuation or stop word) its largest cosine with a token of the unit, averaged
— its margin over the other retrieved clauses' best units, and its lead over their mean. Then prints, for the
answerability model with and without them, the refusal / false-refusal / gold-cited curve over the past held-out
splits (each scored by a model fitted without its round) and the leave-one-round-out figures. The thirteenth round's
result (docs/copilot.md): the signals move the model along the same trade-off curve, better where refusal is below
0.85 and worse near the 0.95 goal, so they were not added to the model.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import train_answerability as trainer

from revgov.adapters.embeddings import MiniLMEmbedder
from revgov.domain import copilot_answerability as answerability

CACHE = trainer.ROOT / ".revgov" / "token-vectors.npz"
STOP = frozenset(
    "a an the of to in on for by with at from and or is are be was were do does did can could may might must shall "
    "should will would what which who whom whose when where why how if then than that this these those it its our we "
    "us you your they their them there any each as about into under over not no yes i me my".split())
SIGNALS = ("tok_best", "tok_gap", "tok_rel")


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def token_vectors(texts: set[str]) -> dict[str, tuple[list[str], np.ndarray]]:
    """Each text's WordPiece tokens and L2-normalised contextual token vectors (the model's output before pooling)."""
    stored: dict[str, Any] = dict(np.load(CACHE, allow_pickle=False)) if CACHE.exists() else {}
    embedder = MiniLMEmbedder()
    embedder._load()
    out, fresh = {}, False
    for text in texts:
        encoding = embedder._tokenizer.encode(text)
        tokens = encoding.tokens[:256]
        if _key(text) not in stored:
            ids = np.array([encoding.ids[:256]], dtype=np.int64)
            hidden = embedder._session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids),
                                                  "token_type_ids": np.zeros_like(ids)})[0][0]
            norms = np.maximum(np.linalg.norm(hidden, axis=1, keepdims=True), 1e-12)
            stored[_key(text)] = (hidden / norms).astype(np.float32)
            fresh = True
        out[text] = (tokens, stored[_key(text)])
    if fresh:
        np.savez(CACHE, **stored)
    return out


def _content(tokens: list[str]) -> np.ndarray:
    def keep(token: str) -> bool:
        word = token.removeprefix("##")
        return token not in ("[CLS]", "[SEP]") and word.isalnum() and (token.startswith("##") or token not in STOP)
    return np.array([keep(t) for t in tokens], dtype=bool)


def maxsim(question: tuple[list[str], np.ndarray], unit: tuple[list[str], np.ndarray]) -> float:
    (q_tokens, q_vectors), (u_tokens, u_vectors) = question, unit
    asked = _content(q_tokens)
    if not asked.any():
        asked = np.array([t not in ("[CLS]", "[SEP]") for t in q_tokens], dtype=bool)
    held = np.array([t not in ("[CLS]", "[SEP]") for t in u_tokens], dtype=bool)
    return float((q_vectors[asked] @ u_vectors[held].T).max(axis=1).mean())


def add_signals(rows: list[dict[str, Any]]) -> None:
    vectors = token_vectors({r["question"] for r in rows} | {u for r in rows for us in r["units"] for u in us})
    for row in rows:
        best = [max((maxsim(vectors[row["question"]], vectors[u]) for u in units), default=0.0)
                for units in row["units"]]
        for i, signals in enumerate(row["features"]):
            signals["tok_best"] = best[i]
            signals["tok_gap"] = best[i] - max((b for j, b in enumerate(best) if j != i), default=0.0)
            signals["tok_rel"] = best[i] - sum(best) / len(best)


def main() -> None:
    rows = json.loads(trainer.ROWS.read_text(encoding="utf-8"))
    add_signals(rows)
    rounds = sorted({n for r in rows if (n := trainer._round(r)) is not None})
    for label, names in (("model", answerability.FEATURES), ("model + MaxSim", answerability.FEATURES + SIGNALS)):
        scored = trainer._round_predictions(rows, names, rounds)
        print(label, "— past held-out splits, each scored by a model fitted without its round")
        for t in trainer.THRESHOLDS[::2]:
            figures = trainer.score(scored, t)
            print(f"  threshold {t:.2f}: " + ", ".join(f"{k} {v:.3f}" for k, v in figures.items()))
        print("  leave-one-round-out:", json.dumps(trainer.leave_one_round_out(rows, names)["pooled"]))


if __name__ == "__main__":
    main()
