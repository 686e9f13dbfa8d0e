"""Copilot evaluation over `questions.json`: recall@5, MRR, refusals, citations outside retrieval, latency.

Shared by the goal test (`test_copilot_evaluation.py`) and `make bench` (section `copilot`), so both report the same
numbers. Runs in-process against the embedded index and the local answerer.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

from revgov.adapters.answerers import LocalAnswerer
from revgov.adapters.local_index import SqliteClauseIndex
from revgov.domain.copilot import Scope
from revgov.runtime import build_copilot
from revgov.services.copilot import index_tenant, respond
from revgov.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = Path(__file__).with_name("questions.json")
TENANTS = ("northwind", "contoso")


def questions() -> list[dict[str, Any]]:
    return list(json.loads(QUESTIONS.read_text(encoding="utf-8"))["questions"])


def demo_index(path: Path | str = ":memory:") -> SqliteClauseIndex:
    """Both demo tenants' contracts in a fresh index (the embedding cache makes repeat builds cheap)."""
    config = Settings.from_env({"REVGOV_COPILOT_INDEX_PATH": str(path)})
    index, _ = build_copilot(config)
    assert isinstance(index, SqliteClauseIndex)
    for tenant_id in TENANTS:
        index_tenant(index, ROOT / "tenants", tenant_id)
    return index


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def evaluate(index: SqliteClauseIndex, *, mode: str = "hybrid") -> dict[str, Any]:
    answerer = LocalAnswerer()
    respond(index, answerer, Scope(TENANTS[0]), "warm-up: load the model once", mode=mode)
    rows, latencies = [], []
    for item in questions():
        scope = Scope(item["tenant"], all_partners=True)
        started = time.perf_counter()
        reply = respond(index, answerer, scope, item["question"], mode=mode)
        latencies.append((time.perf_counter() - started) * 1000)
        ranked = [h.passage.clause_id for h in reply.hits]
        gold = item["gold"]
        outside = [
            c.clause for c in reply.draft.citations
            if c.clause not in reply.retrieved or not scope.admits(reply.retrieved[c.clause])
        ]
        rows.append(
            {
                "id": item["id"],
                "answerable": bool(gold),
                "recall": len(set(gold) & set(ranked[:5])) / len(gold) if gold else None,
                "rr": next((1 / (i + 1) for i, c in enumerate(ranked) if c in gold), 0.0) if gold else None,
                "refused": reply.draft.refused,
                "outside": outside,
                "cited": [c.clause for c in reply.draft.citations],
                "ranked": ranked,
            }
        )
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    return {
        "questions": len(rows),
        "unanswerable": len(unanswerable),
        "recall_at_5": statistics.mean(r["recall"] for r in answerable),
        "mrr": statistics.mean(r["rr"] for r in answerable),
        "refusal_rate_unanswerable": sum(r["refused"] for r in unanswerable) / len(unanswerable),
        "false_refusal_rate": sum(r["refused"] for r in answerable) / len(answerable),
        "citations_outside_retrieved": sum(len(r["outside"]) for r in rows),
        "p50_ms": statistics.median(latencies),
        "p95_ms": _pct(latencies, 0.95),
        "rows": rows,
    }
