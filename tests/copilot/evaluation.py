"""Copilot evaluation over `questions.json`: recall@5, MRR, refusals, citations outside retrieval, latency.

Shared by the goal test (`test_copilot_evaluation.py`) and `make bench` (section `copilot`), so both report the same
numbers. Runs in-process against the embedded index and the local answerer.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import time
from pathlib import Path
from typing import Any

from revgov.adapters.answerers import LocalAnswerer
from revgov.adapters.local_index import SqliteClauseIndex
from revgov.bootstrap import build_copilot
from revgov.domain.copilot import Scope
from revgov.services.copilot import index_documents, index_tenant, respond
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


# --- questions written before tuning: a real public agreement and new questions on both demo tenants ----------------

UNSEEN = Path(__file__).with_name("questions_unseen.json")
FRESH = Path(__file__).with_name("questions_fresh.json")
PSA = Path(__file__).with_name("questions_psa.json")
SLA = Path(__file__).with_name("questions_sla.json")
CSA = Path(__file__).with_name("questions_csa.json")
QUESTION_SETS = {"unseen": UNSEEN, "fresh": FRESH, "psa": PSA, "sla": SLA, "csa": CSA}
# The sixth round's set keeps each split in a file of its own, so the tuning side can be read without the held-out one.
R6 = {split: Path(__file__).with_name(f"questions_r6_{split}.json") for split in ("tuning", "heldout")}
# The seventh round's set (Common Paper Pilot Agreement + demo tenants), in two files the same way.
R7 = {split: Path(__file__).with_name(f"questions_r7_{split}.json") for split in ("tuning", "heldout")}
# The eighth round's set (Bonterms Mutual NDA + demo tenants), in two files the same way.
R8 = {split: Path(__file__).with_name(f"questions_r8_{split}.json") for split in ("tuning", "heldout")}
# The ninth round's set (Common Paper Business Associate Agreement + demo tenants), in two files the same way.
R9 = {split: Path(__file__).with_name(f"questions_r9_{split}.json") for split in ("tuning", "heldout")}
# The tenth round's set (Common Paper Design Partner Agreement + demo tenants), in two files the same way.
R10 = {split: Path(__file__).with_name(f"questions_r10_{split}.json") for split in ("tuning", "heldout")}
# The eleventh round's set (Common Paper Mutual NDA + demo tenants), in two files the same way.
R11 = {split: Path(__file__).with_name(f"questions_r11_{split}.json") for split in ("tuning", "heldout")}
# The twelfth round's set (Bonterms Service Level Agreement + demo tenants), in two files the same way.
R12 = {split: Path(__file__).with_name(f"questions_r12_{split}.json") for split in ("tuning", "heldout")}
# The thirteenth round's set (Common Paper Service Level Agreement + demo tenants), in two files the same way.
R13 = {split: Path(__file__).with_name(f"questions_r13_{split}.json") for split in ("tuning", "heldout")}
# The fourteenth round's set (Bonterms Data Protection Addendum + demo tenants), in two files the same way.
R14 = {split: Path(__file__).with_name(f"questions_r14_{split}.json") for split in ("tuning", "heldout")}
# The fifteenth round's set (Common Paper Professional Services Agreement + demo tenants), in two files the same way.
R15 = {split: Path(__file__).with_name(f"questions_r15_{split}.json") for split in ("tuning", "heldout")}
# The sixteenth round's set (Common Paper Independent Contractor Agreement + demo tenants), in two files the same way.
R16 = {split: Path(__file__).with_name(f"questions_r16_{split}.json") for split in ("tuning", "heldout")}
# The seventeenth round's set (OpenAgreements Confidentiality & Invention Assignment Agreement + demo tenants), alike.
R17 = {split: Path(__file__).with_name(f"questions_r17_{split}.json") for split in ("tuning", "heldout")}
SPLIT_FILES = {"r6": R6, "r7": R7, "r8": R8, "r9": R9, "r10": R10, "r11": R11, "r12": R12, "r13": R13, "r14": R14,
               "r15": R15, "r16": R16, "r17": R17}
CORPUS = Path(__file__).with_name("corpus")
PUBLIC_TENANT = "commonpaper"  # the Common Paper Partnership Standard Terms, loaded as this tenant's contract
# Real public agreements nobody here wrote, each loaded as a tenant of its own (sources: corpus/SOURCE.txt).
PUBLIC_TENANTS = {
    PUBLIC_TENANT: ("partnership-agreement.md",),
    "bonterms": ("bonterms-cloud-terms.md",),
    "bonterms-psa": ("bonterms-professional-services.md",),
    "commonpaper-sla": ("commonpaper-software-license.md",),
    "commonpaper-csa": ("commonpaper-cloud-service.md",),
    "commonpaper-dpa": ("commonpaper-dpa.md",),
    "commonpaper-pilot": ("commonpaper-pilot.md",),
    "bonterms-nda": ("bonterms-nda.md",),
    "commonpaper-baa": ("commonpaper-baa.md",),
    "commonpaper-design-partner": ("commonpaper-design-partner.md",),
    "commonpaper-mnda": ("commonpaper-mnda.md",),
    "bonterms-sla": ("bonterms-sla.md",),
    "commonpaper-service-level": ("commonpaper-service-level.md",),
    "bonterms-dpa": ("bonterms-dpa.md",),
    "commonpaper-professional-services": ("commonpaper-professional-services.md",),
    "commonpaper-independent-contractor": ("commonpaper-independent-contractor.md",),
    "openagreements-ciiaa": ("openagreements-ciiaa.md",),
}
SPLITS = ("tuning", "heldout")


def hash_split(items: list[dict[str, Any]], salt: str) -> dict[str, str]:
    """The split committed with a question set before any tuning: within the answerable and the unanswerable
    questions, the half (rounded up) with the smallest sha256(salt + id) is `heldout`, the rest `tuning`."""
    split: dict[str, str] = {}
    for answerable in (True, False):
        group = sorted((q for q in items if bool(q["gold"]) is answerable),
                       key=lambda q: hashlib.sha256((salt + q["id"]).encode()).hexdigest())
        for i, q in enumerate(group):
            split[q["id"]] = "heldout" if i < (len(group) + 1) // 2 else "tuning"
    return split


def unseen_questions(split: str, *, source: str = "unseen") -> list[dict[str, Any]]:
    """One split of a question set written before tuning: `unseen` (questions_unseen.json: Common Paper + demo
    tenants; its held-out split has been looked at several times), `fresh` (questions_fresh.json: Bonterms Cloud
    Terms; its held-out split was evaluated once and is burnt too) `psa` (questions_psa.json: Bonterms
    Professional Services Agreement, evaluated once in the round after, burnt since) or `sla` (questions_sla.json:
    Common Paper Software License Agreement + new demo-tenant questions, the fourth round's held-out set, burnt since)
    or `csa` (questions_csa.json: Common Paper Cloud Service Agreement + new demo-tenant questions, the fifth
    round's held-out set) or `r6` (questions_r6_tuning.json / questions_r6_heldout.json: Common Paper DPA + new
    demo-tenant questions, the sixth round's set) or `r7` (questions_r7_tuning.json / questions_r7_heldout.json:
    Common Paper Pilot Agreement + new demo-tenant questions, the seventh round's set) or `r8`
    (questions_r8_tuning.json / questions_r8_heldout.json: Bonterms Mutual NDA + new demo-tenant questions, the eighth
    round's set) or `r9` (questions_r9_tuning.json / questions_r9_heldout.json: Common Paper Business Associate
    Agreement + new demo-tenant questions, the ninth round's set) or `r10` (questions_r10_tuning.json /
    questions_r10_heldout.json: Common Paper Design Partner Agreement + new demo-tenant questions, the tenth round's
    set) or `r11` (questions_r11_tuning.json / questions_r11_heldout.json: Common Paper Mutual NDA + new demo-tenant
    questions, the eleventh round's set) or `r12` (questions_r12_tuning.json / questions_r12_heldout.json: Bonterms
    Service Level Agreement + new demo-tenant questions, the twelfth round's set) or `r13` (questions_r13_tuning.json
    / questions_r13_heldout.json: Common Paper Service Level Agreement + new demo-tenant questions, the thirteenth
    round's set) or `r14` (questions_r14_tuning.json / questions_r14_heldout.json: Bonterms Data Protection Addendum
    + new demo-tenant questions, the fourteenth round's set) or `r15` (questions_r15_tuning.json /
    questions_r15_heldout.json: Common Paper Professional Services Agreement + new demo-tenant questions, the
    fifteenth round's set) or `r16` (questions_r16_tuning.json / questions_r16_heldout.json: Common Paper Independent
    Contractor Agreement + new demo-tenant questions, the sixteenth round's set) or `r17` (questions_r17_tuning.json /
    questions_r17_heldout.json: OpenAgreements Confidentiality & Invention Assignment Agreement + new demo-tenant
    questions, the seventeenth round's set); for `r6` to `r17` only the asked split's file is read."""
    if split not in SPLITS:
        raise ValueError(f"split is one of {SPLITS}")
    text = (SPLIT_FILES[source][split] if source in SPLIT_FILES else QUESTION_SETS[source]).read_text(encoding="utf-8")
    return [q for q in json.loads(text)["questions"] if q["split"] == split]


def full_index(path: Path | str = ":memory:") -> SqliteClauseIndex:
    """Both demo tenants and a tenant per public agreement."""
    index = demo_index(path)
    for tenant_id, files in PUBLIC_TENANTS.items():
        texts = [(str(CORPUS / name), (CORPUS / name).read_text(encoding="utf-8")) for name in files]
        index_documents(index, tenant_id, texts)
    return index


def _verbatim(citation: Any, passage: Any) -> bool:
    squash = " ".join(citation.quote.split())
    return bool(squash) and squash in " ".join(passage.text.split())


def evaluate_split(index: SqliteClauseIndex, split: str, *, source: str = "unseen") -> dict[str, Any]:
    """Per question: gold clause retrieved / cited, refused, the asked fact in the answer, every quote verbatim."""
    answerer = LocalAnswerer()
    rows, latencies = [], []
    items = unseen_questions(split, source=source)
    for item in items:
        scope = Scope(item["tenant"], all_partners=True)
        started = time.perf_counter()
        reply = respond(index, answerer, scope, item["question"])
        latencies.append((time.perf_counter() - started) * 1000)
        gold = set(item["gold"])
        cited = [c.clause for c in reply.draft.citations]
        fact = item.get("fact")
        rows.append({
            "id": item["id"],
            "answerable": bool(gold),
            "retrieved_gold": bool(gold & {h.passage.clause_id for h in reply.hits}),
            "cited_gold": bool(gold & set(cited)),
            "refused": reply.draft.refused,
            "fact": None if not fact or reply.draft.refused else fact.lower() in reply.draft.answer.lower(),
            "verbatim": all(c.clause in reply.retrieved and _verbatim(c, reply.retrieved[c.clause])
                            for c in reply.draft.citations),
            "cited": cited,
            "ranked": [h.passage.clause_id for h in reply.hits],
        })
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    with_fact = [r for r in answerable if any(q["id"] == r["id"] and q.get("fact") for q in items)]
    return {
        "split": split,
        "source": source,
        "questions": len(rows),
        "unanswerable": len(unanswerable),
        "gold_retrieved": statistics.mean(r["retrieved_gold"] for r in answerable),
        "gold_cited": statistics.mean(r["cited_gold"] for r in answerable),
        "refusal_rate_unanswerable": statistics.mean(r["refused"] for r in unanswerable),
        "false_refusal_rate": statistics.mean(r["refused"] for r in answerable),
        "fact_in_answer": statistics.mean(bool(r["fact"]) for r in with_fact),
        "citations_verbatim": statistics.mean(r["verbatim"] for r in rows),
        "p50_ms": statistics.median(latencies),
        "p95_ms": _pct(latencies, 0.95),
        "rows": rows,
    }
