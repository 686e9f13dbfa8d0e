"""Which retrieved clauses an answer may rest on, and which answers first (the copilot's evidence tests).

A clause supports an answer only by evidence: the question's names and head noun are in it, it covers enough of the
question's rarity-weighted words at a similarity high enough, and — for a question whose answer is a number or a
typed span (a sum of money, a court, a currency) — one of its units holds a span of the asked type bound to what the
question asks about (`copilot_binding`, `copilot_slots`). No support: the service refuses and says what it searched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from . import copilot_binding as binding
from . import copilot_reader as reader
from . import copilot_slots as slots
from . import copilot_statements as statements
from . import copilot_subject as subject
from . import copilot_units as units
from .copilot import Hit, coverage


@dataclass(frozen=True)
class EvidencePolicy:
    """When a retrieved clause counts as support (see `copilot_reader`). The thresholds were chosen on the tuning
    split of `tests/copilot/questions_unseen.json` (and the older `questions.json`); the held-out split never was.

    A clause supports an answer when every name in the question occurs in its document, the thing a "What is the
    X …?" question asks about (its head noun X) occurs in the clause, and either its cosine
    similarity is high and it covers some of the question's rarity-weighted content words, or its similarity is
    moderate and it covers most of them, or a unit of it holds the kind of fact the question asks for and shares
    enough of its words."""

    strong_dense: float = 0.62
    strong_coverage: float = 0.20
    dense: float = 0.40
    min_coverage: float = 0.40
    # a clause one of whose units holds the kind of fact asked for (a duration for "how long", a place for "which
    # court") and shares enough of the question needs less word coverage: the fact itself is evidence
    fact_dense: float = 0.40
    fact_coverage: float = 0.25
    fact_overlap: float = 0.40
    # a question that asks for a number ("how many days", "the cap on") needs a unit holding a number that covers
    # this much of the question's rarity-weighted words (the relation asked, not just the words, must be there)
    quantity_coverage: float = 0.15
    # nearly all of the question's rarity-weighted words answer it even when the wording is far off (low cosine)
    weak_dense: float = 0.30
    full_coverage: float = 0.70
    topic_margin: float = 0.15  # see `topic_lacks_quantity`
    # a statement question (yes/no, "which part …") answered by the top-retrieved clause's binding unit needs this
    # similarity (`_statement_backed`)
    statement_dense: float = 0.40
    statement_top: int = 2
    # a plain-statement question (no number asked) is answered by the top clause when it carries the question's
    # subject, its similarity is at least `subject_dense`, and it stands out among this agreement's clauses: either
    # `subject_margin` above the next clause's similarity, or first by both retrievers at once (`_stands_out`)
    subject_dense: float = 0.33
    subject_margin: float = 0.10
    reader_top: int = 3  # `_sentence_carried` reads this many top clauses for a sentence carrying the question
    agreed_dense: float = 0.20  # the similarity floor when both retrievers put the clause first
    dense_tie: float = 0.03  # cosines this close are a tie for MiniLM: "first by similarity" allows it
    keep_ratio: float = 0.85  # a further clause is quoted only if it answers nearly as well as the best one
    max_clauses: int = 2


_SENTENCE_END = re.compile(r"(?<=[.!])\s+(?=[A-Z])")


def missing_names(question: str, text: str) -> list[str]:
    """The question's names the text lacks (`copilot_reader.missing_names`), except that the names of a sentence set
    before the question ("A Platinum partner drops to Gold mid-month. When does the operations centre stop …?") need
    only one of them in the text: the story names both tiers, the clause the one it is about."""
    missing = reader.missing_names(question, text)
    parts = _SENTENCE_END.split(question.strip())
    if not missing or len(parts) < 2:
        return missing
    asked = set(reader.names(parts[-1]))
    setting = [n for n in reader.names(" ".join(parts[:-1])) if n not in asked]
    if any(reader.name_in(n, text) for n in setting):
        return [n for n in missing if n not in setting]
    return missing


def support(question: str, hit: Hit) -> float:
    """One number for how well a clause supports an answer: cosine similarity lifted by word coverage."""
    dense = hit.dense if hit.dense is not None else 0.0
    return dense + 0.35 * coverage(question, hit.passage)


def weighted_coverage(question: str, hit: Hit, hits: Sequence[Hit]) -> float:
    return reader.weighted_coverage(question, hit.passage.indexed_text, [h.passage.indexed_text for h in hits])


def holds_asked_quantity(question: str, hit: Hit, hits: Sequence[Hit], policy: EvidencePolicy) -> bool:
    """A unit holds a number of the kind asked, bound to what the question asks about (`copilot_binding`), and covers
    enough of the question."""
    p = hit.passage
    others = [h.passage.indexed_text for h in hits or [hit]]
    return binding.holds_asked_quantity(question, p.title, p.text, p.document_title, others, policy.quantity_coverage)


def topic_lacks_quantity(question: str, hits: Sequence[Hit], backed: Sequence[Hit], policy: EvidencePolicy) -> bool:
    """For a quantity question: the clause most like the question (by a clear margin over every clause that holds a
    number) states none, so the number is left to something not indexed (a Cover Page, an Order Form)."""
    if not reader.asked_quantity(question) or not hits:
        return False
    top = max(hits, key=lambda h: h.dense or 0.0)
    lead = max((h.dense or 0.0) for h in backed)
    return (top not in backed and (top.dense or 0.0) - lead >= policy.topic_margin
            and weighted_coverage(question, top, hits) >= policy.min_coverage
            and not holds_asked_quantity(question, top, hits, policy))


def other_table(question: str, hit: Hit, hits: Sequence[Hit]) -> bool:
    """The question names a row ("storage band 4") and another retrieved clause's table of that column ("Band") is the
    one the question is about (it covers more of the question's words): only that table's row answers, so a DPU
    table's band 4 does not answer for a storage table of three bands."""
    if not units.labelled_by(question, hit.passage.text):
        return False
    tables = [h for h in hits if units.labelled_by(question, h.passage.text)]
    return max(tables, key=lambda h: weighted_coverage(question, h, hits)) is not hit


def supported(question: str, hit: Hit, policy: EvidencePolicy = EvidencePolicy(),
              hits: Sequence[Hit] = ()) -> bool:
    p = hit.passage
    if hits and other_table(question, hit, hits):
        return False
    if missing_names(question, f"{p.document_title} {p.indexed_text}"):
        return False
    if not statements.head_met(question, reader.missing_head(question, f"{p.document_title} {p.indexed_text}"),
                               p.text):
        return False
    if wrong_type(question, p.text, f"{p.document_title} {p.indexed_text}"):
        return False
    slot = slots.asked_slot(question)
    if slot is not None and (hit.dense or 0.0) >= policy.strong_dense and slots.fills(slot, p.text, besides=question):
        return True  # the asked slot is filled by a span the question does not give ("Norway, Iceland, …")
    if slots.asks_money(question) and not slots.money_for(question, p.text):
        return False  # "What is the list price of a laptop?": a clause of discount percentages states no price
    if (reader.asked_quantity(question) and not holds_asked_quantity(question, hit, hits, policy)
            and not subject.named_quantity(question, p.text)):
        return False  # the question asks for a number: a clause without one about the thing asked answers nothing
    dense = hit.dense if hit.dense is not None else 0.0
    covered = weighted_coverage(question, hit, hits or [hit])
    if dense >= policy.strong_dense and covered >= policy.strong_coverage:
        return True
    if dense >= policy.dense and covered >= policy.min_coverage:
        return True
    if dense >= policy.weak_dense and covered >= policy.full_coverage:
        return True
    if dense >= policy.weak_dense and row_answers(question, hit, hits or [hit], policy):
        return True
    if dense >= policy.fact_dense and covered >= policy.fact_coverage and reader.asked_fact(question):
        return any(r.has_fact and r.overlap >= policy.fact_overlap for r in binding.read(question, p.title, p.text))
    return False


def row_answers(question: str, hit: Hit, hits: Sequence[Hit], policy: EvidencePolicy) -> bool:
    """The question picks a row of the clause's table (by label, place, a cell it names or a sum in the row's range:
    `copilot_units.picked_rows`) and that row with its header row and the clause title covers at least `min_coverage`
    of the question's rarity-weighted words: "On priority support, how fast is the first response to a severity 1
    issue?" against PA-9.1's "| priority | Silver | … | 4 business hours |" under "| Support level | Tier | Coverage |
    Initial response, severity 1 |". A named row is evidence a clause-wide similarity does not see."""
    p = hit.passage
    picked = units.picked_rows(question, p.text)
    if not picked:
        return False
    others = [h.passage.indexed_text for h in hits]
    return any(u.text in picked and reader.weighted_coverage(question, f"{p.title} {u.full}", others)
               >= policy.min_coverage for u in reader.structured_units(p.text) if u.kind == "row")


def wrong_type(question: str, text: str, whole: str) -> bool:
    """The clause holds no span of the type asked: "which EU country's courts" needs a place the question does not
    give ("the courts of an EU Member State" names none); "what is the name of the head of Finance" a person, not a
    role; "the SPIFF on *networking* products" a clause about networking products, not a hardware SPIFF."""
    slot = slots.asked_slot(question)
    if slot is not None and not slots.fills(slot, text, besides=question):
        return True  # "which state's law" needs a named state; "the Governing Law" names none
    if statements.asks_person(question) and not statements.names_person(text):
        return True
    if statements.signatory_missing(question, text):
        return True
    if slots.period_missing(question, text):
        return True  # "What daily interest rate …?" against "1.0% per month"
    return statements.kind_missing(question, whole) is not None


def _states_answer(question: str, hit: Hit, policy: EvidencePolicy) -> bool:
    """The clause is about the question (similarity at least `statement_dense`, the question's names and head in it,
    no typed slot unmet) and one of its units binds the question's subject and act (`copilot_statements`)."""
    p = hit.passage
    whole = f"{p.document_title} {p.indexed_text}"
    if (hit.dense or 0.0) < policy.statement_dense or missing_names(question, whole):
        return False
    if not statements.head_met(question, reader.missing_head(question, whole), p.text):
        return False
    return not wrong_type(question, p.text, whole) and statements.statement_unit(question, p.text) is not None


def _statement_backed(question: str, hits: Sequence[Hit], policy: EvidencePolicy) -> list[tuple[int, Hit]]:
    """A statement question (yes/no, "which part …") no clause passed the tests above for: the first of the
    `statement_top` top-retrieved clauses that states the answer (`_states_answer`) answers it."""
    if not statements.asks_statement(question):
        return []
    return next(([(rank, h)] for rank, h in enumerate(hits[: policy.statement_top])
                 if _states_answer(question, h, policy)), [])


def _subject_backed(question: str, hits: Sequence[Hit], policy: EvidencePolicy) -> list[tuple[int, Hit]]:
    """A definition question is answered by the first retrieved clause that defines its term (similarity at least
    `subject_dense`); a plain-statement
    question (`copilot_subject`) by the top clause when it is far above the next and carries the question's subject,
    its names and head and no typed slot unmet."""
    term = subject.asked_term(question)
    if term is not None:
        return next(([(rank, h)] for rank, h in enumerate(hits)
                     if (h.dense or 0.0) >= policy.subject_dense and subject.defines(term, h.passage.text)), [])
    term = reader.defined_term(hits[0].passage.text) if hits else None
    if term and not reader.asked_kind_of(question) and not subject.asks_membership(question, term):
        hits = hits[1:]  # a definition the question only uses a term of ("confidential documents") states no duty
    if len(hits) < 2 or not subject.asks_plain_statement(question):
        return []  # "far above the next clause" needs a next clause to be measured against
    top = hits[0]
    if not _stands_out(top, hits, policy) or not _fits(question, top):
        return []
    return [(0, top)] if subject.carries_subject(question, f"{top.passage.title} {top.passage.text}") else []


def _fits(question: str, hit: Hit) -> bool:
    """The filters every statement answer passes: the question's names and head noun are in the clause, no typed slot
    is unmet, and a "What is the <Term> …?" question meets the term's definition ("What exactly is the Purpose …?": a
    clause that only uses the term does not give its value)."""
    p = hit.passage
    whole = f"{p.document_title} {p.indexed_text}"
    if missing_names(question, whole) or wrong_type(question, p.text, whole):
        return False
    if not statements.head_met(question, reader.missing_head(question, whole), p.text):
        return False
    variable = subject.asked_variable(question)
    return variable is None or subject.defines(variable, p.text)


def _sentence_carried(question: str, hits: Sequence[Hit], policy: EvidencePolicy) -> list[tuple[int, Hit]]:
    """A reader step over the top `reader_top` clauses for a plain-statement question none of the tests above
    answered: the clause (similarity at least `subject_dense`, `statement_dense` for a yes/no or "which part"
    question as in `_statement_backed`; the question's names and head in it, no typed slot
    unmet) one of whose own sentences carries most of the question's things in its own words (no paraphrase: no
    margin over the next clause vouches for this one) — at least half of them and two, its act among them when it
    has one — the earlier clause on a tie ("… first flagged to finance" → COP-2.1 "at 24 hours an
    unposted event is flagged to the finance queue", though two clauses sharing words with the question rank above
    it). A clause whose sentences only share the question's words apart does not answer."""
    if not subject.asks_plain_statement(question):
        return []
    things = statements.things(question, None)  # the question's own words: no margin vouches for a paraphrase here
    read = hits[: policy.reader_top]
    act = slots.asked_act(question)
    need = max(2, (len(things) + 1) // 2)
    floor = policy.statement_dense if statements.asks_statement(question) else policy.subject_dense
    best: tuple[int, int, Hit] | None = None
    for rank, hit in enumerate(read):
        p = hit.passage
        if (hit.dense or 0.0) < floor or not _fits(question, hit):
            continue
        carried = max((statements.carried(things, f"{p.title} {u.full}") for u in reader.structured_units(p.text)
                       if act is None or slots.act_bound(act, u.full)), default=0)
        if carried >= need and (best is None or carried > best[0]):
            best = (carried, rank, hit)
    return [(best[1], best[2])] if best else []


def _item_backed(question: str, hits: Sequence[Hit], policy: EvidencePolicy) -> list[tuple[int, Hit]]:
    """A question asking a list item by its letter ("What does item (c) of the restrictions forbid the partner to
    do?") is answered by the first of the top `reader_top` clauses (similarity at least `subject_dense`, the statement
    filters of `_fits`) that has an item of that letter and carries another of the question's things (its title
    counts: CPDP-7.5 Restrictions "… (c) remove any proprietary notices or labels; …")."""
    letter = units.asked_item(question)
    if letter is None:
        return []
    things = [t for t in statements.things(question, None) if t not in ("item", "point", letter)]
    for rank, hit in enumerate(hits[: policy.reader_top]):
        p = hit.passage
        if ((hit.dense or 0.0) >= policy.subject_dense and units.holds_item(letter, p.text) and _fits(question, hit)
                and statements.carried(things, f"{p.title} {p.text}") >= 1):
            return [(rank, hit)]
    return []


def _stands_out(top: Hit, hits: Sequence[Hit], policy: EvidencePolicy) -> bool:
    """The top clause stands out among this agreement's clauses for the question, measured against the agreement
    itself rather than by one fixed gap: either its similarity is `subject_margin` above the next clause's, or the
    two retrievers agree on it — first by word match (BM25 rank 1) and first by similarity among the retrieved
    clauses. On a short agreement whose clauses are all about one subject (a mutual NDA: every clause is about
    confidential information) no clause is 0.10 above the next, but the clause both rankings put first is the one
    the question is about; on a long agreement a clause first by both rankings is as clear a signal."""
    dense = top.dense or 0.0
    if dense >= policy.subject_dense and len(hits) > 1 and dense - (hits[1].dense or 0.0) >= policy.subject_margin:
        return True
    return (dense >= policy.agreed_dense and top.lexical_rank == 1
            and all(dense >= (h.dense or 0.0) - policy.dense_tie for h in hits))


def answer_score(question: str, hit: Hit, rank: int) -> float:
    """How well a clause answers: its best unit's reading, its similarity and (a little) its retrieval rank. The
    weights were chosen on the tuning questions (which clause answers first, among those with support)."""
    readings = binding.read(question, hit.passage.title, hit.passage.text)
    best = readings[0].score if readings else 0.0
    dense = hit.dense if hit.dense is not None else 0.0
    return best + 3 * dense + 0.2 / (1 + rank)


def evidence(question: str, hits: Sequence[Hit], policy: EvidencePolicy = EvidencePolicy()) -> list[Hit]:
    """The hits an answer may rest on, the one that answers best first; empty means: refuse."""
    question = slots.plain(question)
    backed = [(rank, h) for rank, h in enumerate(hits) if supported(question, h, policy, hits)]
    backed = (backed or _statement_backed(question, hits, policy) or _subject_backed(question, hits, policy)
              or _sentence_carried(question, hits, policy) or _item_backed(question, hits, policy))
    if not backed or topic_lacks_quantity(question, hits, [h for _, h in backed], policy):
        return []
    scored = sorted(((answer_score(question, h, rank), h) for rank, h in backed), key=lambda item: -item[0])
    best = scored[0][0]
    return [h for s, h in scored if s >= best * policy.keep_ratio][: policy.max_clauses]
