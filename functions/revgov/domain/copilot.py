"""The copilot's pure core: clauses as versioned passages, who may see which, rank fusion, evidence tests,
sensitive-field masking, citation checks and answers composed only of quotes.

Nothing here talks to a model or an index; adapters hand in what they found and this module decides what may
be said about it. Retrieved text is data: it is quoted or refused, never obeyed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from . import copilot_binding as binding
from . import copilot_reader as reader
from .canonical import sha256_hex
from .contracts import parse_contract, partner_of
from .masking import mask_sensitive as mask_sensitive
from .masking import without_masks as without_masks


@dataclass(frozen=True)
class Passage:
    """One clause as the index holds it. `partner_id` None means a tenant-wide (public) policy."""

    tenant_id: str
    document: str
    document_title: str
    document_version: str
    clause_id: str
    title: str
    text: str
    partner_id: str | None
    clause_hash: str
    document_hash: str

    @property
    def indexed_text(self) -> str:
        return f"{self.title}. {self.text}"


@dataclass(frozen=True)
class IndexedDocument:
    tenant_id: str
    document: str
    title: str
    version: str
    partner_id: str | None
    document_hash: str
    passages: tuple[Passage, ...]


@dataclass(frozen=True)
class IngestResult:
    document: str
    status: str  # added | updated | unchanged
    clauses: int
    embedded: int
    removed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "status": self.status,
            "clauses": self.clauses,
            "embedded": self.embedded,
            "removed": self.removed,
        }


def clause_hash(clause_id: str, title: str, text: str, partner_id: str | None) -> str:
    return sha256_hex({"clause_id": clause_id, "title": title, "text": text, "partner_id": partner_id})


def prepare_document(tenant_id: str, markdown: str, *, name: str) -> IndexedDocument:
    """Split a contract into passages with a content hash per clause and one per document."""
    contract = parse_contract(markdown, name=name)
    partner_id = partner_of(markdown)
    hashes = [clause_hash(c.clause_id, c.title, c.text, partner_id) for c in contract.clauses]
    document_hash = sha256_hex(
        {
            "document": contract.document,
            "title": contract.title,
            "version": contract.version,
            "effective": contract.effective,
            "partner_id": partner_id,
            "clauses": hashes,
        }
    )
    passages = tuple(
        Passage(
            tenant_id=tenant_id,
            document=contract.document,
            document_title=contract.title,
            document_version=contract.version,
            clause_id=c.clause_id,
            title=c.title,
            text=c.text,
            partner_id=partner_id,
            clause_hash=h,
            document_hash=document_hash,
        )
        for c, h in zip(contract.clauses, hashes, strict=True)
    )
    return IndexedDocument(tenant_id, contract.document, contract.title, contract.version, partner_id, document_hash,
                           passages)


def clause_collisions(documents: Sequence[IndexedDocument]) -> list[str]:
    """Clause ids are unique within a tenant, so a citation's clause id names exactly one text. A clause id starts
    with its document code, so two files may not share a document code."""
    seen: set[str] = set()
    clashes = []
    for doc in documents:
        if doc.document in seen:
            clashes.append(f"document {doc.document} (clauses {doc.document}-…) is in more than one file")
        seen.add(doc.document)
    return clashes


# --- who may see what -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What one request may retrieve: one tenant; its public policies plus one partner's contract, or (staff asking
    about no partner in particular) every contract of the tenant."""

    tenant_id: str
    partner_id: str | None = None
    all_partners: bool = False

    def admits(self, passage: Passage) -> bool:
        if passage.tenant_id != self.tenant_id:
            return False
        return passage.partner_id is None or self.all_partners or passage.partner_id == self.partner_id

    def as_dict(self) -> dict[str, Any]:
        return {"tenant_id": self.tenant_id, "partner_id": self.partner_id, "all_partners": self.all_partners}


# --- ranking ----------------------------------------------------------------------------------------------------

RRF_K = 60
# Each side (words, meaning) hands its first CANDIDATES clauses to the fusion, in either engine.
CANDIDATES = 50
# A clause's meaning-side score: its own cosine plus this share of its best retrieval passage's lead over it. With the
# whole lead (1.0) a clause that one passage happens to resemble entered the five retrieved and moved the answerability
# model's signals, which are read relative to the clauses retrieved together: "what interest is charged on overdue
# invoices?" brought in PA-7.8 and was refused with PA-10.8, the answer, first (docs/copilot.md, Twelfth round).
PASSAGE_WEIGHT = 0.5


def dense_score(cosine: Any, best: Any) -> Any:
    """The meaning-side ranking score of a clause (floats or numpy arrays alike): its cosine plus `PASSAGE_WEIGHT` of
    its best passage's lead over it (`best` is the larger of the clause's own cosine and its best passage's). Both
    clause indexes rank by it, so a question ranks the same clauses in the same order in either engine."""
    return cosine + PASSAGE_WEIGHT * (best - cosine)


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], *, k: int = RRF_K) -> list[tuple[str, float]]:
    """Reciprocal rank fusion: each list gives 1/(k + rank); ties keep the order of first appearance."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda item: -item[1])


@dataclass(frozen=True)
class Hit:
    """A retrieved passage with the signals that ranked it: fused score, cosine similarity, BM25 rank, and the
    larger of the clause's and its best retrieval passage's cosine (`copilot_units.retrieval_passages`)."""

    passage: Passage
    score: float
    dense: float | None = None
    lexical_rank: int | None = None
    part_dense: float | None = None


# --- words ------------------------------------------------------------------------------------------------------

_STOP = frozenset(
    """a an the and or of to in on for at by with from as is are was were be been being it its this that these those
    what which who whom whose when where why how do does did done can could should would may might must shall will
    there their they them our we us you your i me my he she his her not no if then than so such any all each every
    about into over under after before between within without per up down out off more most less least other some
    same only also just very too much many one get gets got have has had having tell say says said does doesn't
    under whether please explain describe happens happen need needs apply applies rule rules""".split()
)
_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)*")


def _stem(word: str) -> str:
    for suffix in ("ations", "ation", "ments", "ment", "ings", "ing", "ies", "ied", "es", "ed", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix in ("ies", "ied") else "")
    return word


def terms(text: str) -> list[str]:
    """Content words, lower-cased and lightly stemmed: the vocabulary of evidence tests and quote selection."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return [_stem(w) for w in _WORD.findall(folded) if w not in _STOP and len(w) > 1]


def keywords(text: str) -> list[str]:
    """Content words as written (lower-cased, unstemmed, deduplicated): what a full-text engine is asked for."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return list(dict.fromkeys(w for w in re.findall(r"[a-z0-9]+", folded) if w not in _STOP and len(w) > 1))


def coverage(question: str, passage: Passage) -> float:
    """Share of the question's content words that the clause (title and text) contains."""
    wanted = set(terms(question))
    if not wanted:
        return 0.0
    have = set(terms(passage.indexed_text))
    return len(wanted & have) / len(wanted)


# --- guardrails -------------------------------------------------------------------------------------------------

_INSTRUCTION = re.compile(
    r"ignore (?:all |any )?(?:previous|prior|above) instructions|disregard (?:all |any )?(?:previous|prior|above)"
    r" instructions|system override|you are now|maintenance mode|note to (?:automated |ai )?assistants?"
    r"|act as (?:an? )?(?:admin|administrator|system)|reveal (?:the )?system prompt",
    re.IGNORECASE,
)


def looks_like_instruction(text: str) -> bool:
    """Text addressed to an AI rather than to a reader: quoted never, obeyed never."""
    return bool(_INSTRUCTION.search(text))


def _normalized(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().strip("\"“”'").strip().lower()


@dataclass(frozen=True)
class Citation:
    document: str
    clause: str
    quote: str

    def as_dict(self) -> dict[str, str]:
        return {"document": self.document, "clause": self.clause, "quote": self.quote}


@dataclass(frozen=True)
class CitationCheck:
    accepted: tuple[Citation, ...]
    rejected: tuple[tuple[Citation, str], ...]


def check_citations(citations: Iterable[Citation], retrieved: Mapping[str, Passage], scope: Scope) -> CitationCheck:
    """A citation stands only if its clause was retrieved for this request, within this scope, and the quote is
    the clause's own text (masked or not)."""
    accepted: list[Citation] = []
    rejected: list[tuple[Citation, str]] = []
    for citation in citations:
        passage = retrieved.get(citation.clause)
        if passage is None:
            rejected.append((citation, "clause was not retrieved for this request"))
        elif not scope.admits(passage):
            rejected.append((citation, "clause belongs to another tenant or partner"))
        elif citation.document != passage.document:
            rejected.append((citation, f"clause {citation.clause} is not in document {citation.document}"))
        elif not citation.quote.strip() or not _quoted_from(citation.quote, passage):
            rejected.append((citation, "quote is not the clause's text"))
        else:
            accepted.append(citation)
    return CitationCheck(tuple(accepted), tuple(rejected))


def _quoted_from(quote: str, passage: Passage) -> bool:
    wanted = _normalized(quote)
    return any(wanted in _normalized(source) for source in (passage.text, mask_sensitive(passage.text)))


# --- answers made of quotes -------------------------------------------------------------------------------------


def units(text: str) -> list[str]:
    """Quotable units of a clause: its sentences, list items and table rows (see `copilot_reader`)."""
    return [u.text for u in reader.structured_units(text)]


def best_quotes(question: str, passage: Passage, *, limit: int = 2) -> list[str]:
    """The verbatim pieces of a clause that answer the question, in clause order: the best unit (a sentence, a list
    item after its lead-in, a table row after its header row), and a second one only if it reads nearly as well."""
    readings = [r for r in binding.read(question, passage.title, passage.text)
                if not looks_like_instruction(r.unit.full)]
    if not readings:
        return []
    chosen = [readings[0]]
    for extra in readings[1:limit]:
        if extra.score >= 0.75 * readings[0].score and extra.score > 0:
            chosen.append(extra)
    quotes = [q for r in chosen for q in r.unit.quotes] + _exceptions(passage.text, [r.unit for r in chosen])
    order = {u: i for i, u in enumerate(_lines_and_units(passage.text))}
    return sorted(dict.fromkeys(quotes), key=lambda q: order.get(q, len(order)))


_EXCEPTION = re.compile(r"^(?:However|But|Except|Notwithstanding|Nonetheless|Nevertheless)\b")


def _exceptions(text: str, chosen: Sequence[reader.Unit]) -> list[str]:
    """A rule is not quoted without the exception that follows it: the sentence right after a chosen one when it
    starts "However", "But", "Except", "Notwithstanding" ("Neither party may assign … without the prior written
    consent of the other party." — "However, Provider may assign this Agreement upon notice if Provider undergoes a
    merger, change of control …")."""
    units = reader.structured_units(text)
    return [after.text for unit, after in pairwise(units)
            if unit in chosen and after.kind == "sentence" and _EXCEPTION.match(after.text)]


def _lines_and_units(text: str) -> list[str]:
    out: list[str] = []
    for unit in reader.structured_units(text):
        out.extend(unit.quotes)
    return list(dict.fromkeys(out))


@dataclass(frozen=True)
class Draft:
    """What an answerer proposes; the service checks the citations before anyone sees it."""

    answer: str
    citations: tuple[Citation, ...]
    refused: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)


def compose_answer(question: str, hits: Sequence[Hit], *, context: Sequence[str] = (), limit: int = 3) -> Draft:
    """An answer in the clauses' own words: the clause that answers first, then any other that bears on it; each
    statement is a quote with its clause id; no other claims."""
    parts = list(context)
    citations: list[Citation] = []
    for hit in hits[:limit]:
        p = hit.passage
        quotes = best_quotes(question, p)
        if not quotes:
            continue
        citations.extend(Citation(p.document, p.clause_id, q) for q in quotes)
        joined = " … ".join(f"“{q}”" for q in quotes)
        lead = "Answered by" if len(parts) == len(context) else "See also"
        parts.append(f"{lead} {p.clause_id} {p.title} ({p.document_title}): {joined}")
    if not citations:
        return Draft("", (), refused=True)
    return Draft("\n".join(parts), tuple(citations))


def refusal_text(scope: Scope, documents: Sequence[str]) -> str:
    where = ", ".join(documents) if documents else "no indexed documents"
    return (
        "No clause supports an answer to this question, so none is given. "
        f"Searched: {where} (tenant {scope.tenant_id}"
        + (f", partner {scope.partner_id}" if scope.partner_id else "")
        + ")."
    )


PLATFORM_NOTICE = ("You are interacting with an AI system. Its answers are guidance only: they do not amend the "
                   "agreement, and the cited clause text prevails.")


def ai_notice(rule: Mapping[str, Any] | None, clause: Passage | None) -> dict[str, Any]:
    """What every answer tells its reader about where it came from (PA-14.1 / CPA-14.1: partners "are informed that
    they are interacting with an AI system"; answers "are guidance only [...] the cited clause text prevails"): the
    clause the policy's `copilot_notice` names, quoted verbatim, or, where the policy names none or the index holds no
    such clause, the platform's words with the clause (if any) still named."""
    if rule is not None and clause is not None:
        return {"text": clause.text, "clause": clause.clause_id, "document": clause.document, "rule_id": rule["id"]}
    return {"text": PLATFORM_NOTICE, "clause": rule["clause"] if rule else None,
            "document": str(rule["clause"]).split("-")[0] if rule else None, "rule_id": rule["id"] if rule else None}


def follows_injection(answer: str) -> bool:
    """An answer that repeats or acts on an embedded instruction is discarded, whatever cited it."""
    if looks_like_instruction(answer):
        return True
    return bool(
        re.search(
            r"\b(?:I|we) (?:have |will |am going to )?(?:approv|waiv|upheld|uphold|mark|list|disclos)\w*",
            answer,
            re.IGNORECASE,
        )
    )
