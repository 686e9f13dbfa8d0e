"""Which event, party or thing each number of a clause belongs to, and whether it is the one a question asks about.

"Within how many days after an automatic payment …?" asks for a number bound to an event (an automatic payment);
"How many days' notice …?" for a number that measures notice; "How long is the Security Solutions Architect
certification valid?" for a number on the row or sentence that names that certification. A clause whose number is
bound to something else — "within 30 days of an automatic payment" for a question about the invoice date, "60 days'
notice" to *add* a certification for a question about withdrawing one, a 24-month row of another certification —
does not answer it, however many of the question's words it shares.

A light clause parse, no model: a sentence is cut into segments at commas, semicolons, colons and list markers; a
number is bound to the words of its own segment, of the segments just before and after it (where the subject and verb
often stand: "A Partner … is moved to the highest tier …, after 45 days' written notice"; "Within 45 days of receiving
… details …, Provider will attempt to restore …"), of the text before a colon in its sentence ("Each Quarter includes
support hours: Authorized 8, Advanced 30"), and, for a list item or a table row, of its lead-in line or header row.

A quantity question names what it measures ("how many days' notice", "how much notice", "what interest rate", "how
many support hours") and, after its asking phrase, the event its number runs from or to ("after an automatic
payment", "before raising its fees", "to change its partner category"). The number must be bound to the measured
word and to the event: a noun-phrase event by any of its words, a verb-phrase event by its verb and one of its
objects, or by two of its words. A quantity question's names outside the document title ("Security Solutions
Architect") must all be in the unit holding the number. And for a "what does the provider owe …" question the unit in
which the asked party acts ("Provider will pay to Customer …") reads better than one in which another does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from . import copilot_acts as acts
from . import copilot_reader as reader
from . import copilot_slots as slots
from . import copilot_statements as statements
from . import copilot_units as units

_CUT = re.compile(r"[;,]\s+|:\s+|\s(?=\((?:[a-z]|[ivx]+|\d{1,2})\)\s)|\s(?=\b(?:and|or)\b\s+(?:within|after|before|"
                  r"for|more than|at least)\b)")
# words that say how something is measured or who the parties are: in every clause, they bind nothing
_GENERIC = frozenset(reader.content_terms(
    "party parties other either neither both each customer customers provider providers partner partners distributor "
    "vendor supplier client licensee licensor company day days business calendar hour hours week weeks month months "
    "year years quarter time period number amount give gives given giving take takes taking get getting receive "
    "receiving how long many much"))


@dataclass(frozen=True)
class Asked:
    """What a quantity question says its number belongs to: the thing measured ("notice" in "how many days' notice")
    and the event it is counted from or to ("the invoice date" in "how many days after the invoice date")."""

    measured: str | None
    event: tuple[str, ...]  # the event's words in order
    head: str | None  # the act or thing the event is named by: it must be bound to the number
    objects: tuple[str, ...] = ()  # what the act of a verb-phrase event is done to: one of them must be bound too
    verb: str | None = None  # a verb-phrase event's act as written ("withdrawing"), compared by `copilot_slots`


_MEASURED = (
    re.compile(r"\bhow many (?:business |calendar )?(?:days|hours|weeks|months|years)['’]? (?:of )?"
               r"(?!after\b|before\b|does\b|do\b|did\b|must\b|may\b|can\b|will\b|is\b|are\b|should\b|in\b|per\b|a\b|an\b|the\b|for\b)"
               r"([a-z]+)", re.I),
    re.compile(r"\bhow much (?!is\b|are\b|does\b|do\b|can\b|may\b|will\b|time\b|longer\b|later\b|earlier\b)([a-z]+)",
               re.I),
    re.compile(r"\bwhat (?!is\b|are\b|was\b)([a-z]+) (?:rate|percentage|percent)\b", re.I),
    re.compile(r"\bhow many (?!business\b|calendar\b|consecutive\b|full\b)([a-z]+) "
               r"(?!does\b|is\b|was\b|has\b)[a-z]+s\b", re.I),  # "how many support hours", "how many training vouchers"
)
_EVENT = re.compile(r"\b(?:(?:after|before|following|upon|prior to|to)\s+(?!whom\b|which\b|what\b)"
                    r"|(?:of|from)\s+(?=(?:the|a|an|its|their|each|any)\s))"
                    r"(.*?)(?=\s(?:does|do|did|must|may|can|will|should|is|are|has|have|that|which|who)\b|[?,]|$)",
                    re.I)


def _root(term: str) -> str:
    """A coarser stem for matching events: moving/moved/move, raising/raised, expires/expiry meet."""
    for suffix in ("ing", "ed", "es", "e", "y", "s"):
        if term.endswith(suffix) and len(term) - len(suffix) >= 3:
            term = term[: -len(suffix)]
            break
    return term[:5]


def asked(question: str) -> Asked:
    measured = None
    for pattern in _MEASURED:
        match = pattern.search(question)
        terms = reader.content_terms(match.group(1)) if match else []
        if terms and terms[0] not in _GENERIC:
            measured = terms[0]
            break
    start = reader.quantity_span(question)
    match = _EVENT.search(question, start) if start is not None else None
    if not match:
        return Asked(measured, (), None)
    phrase = match.group(1)
    event = tuple(_root(t) for t in reader.content_terms(phrase)[:6] if t not in _GENERIC)
    head = _event_head(phrase)
    if _DETERMINER.match(phrase):
        return Asked(measured, event, head)
    named = _act_noun(phrase)
    if named is not None:  # "to raise an objection": the act is the objection
        return Asked(measured, event, named[0], (), named[1])
    first = re.match(r"\s*([A-Za-z]+)", phrase)
    verb = first.group(1) if first and (first.group(1).endswith("ing") or match.group(0)[:3].lower() == "to ") else None
    return Asked(measured, event, head, tuple(t for t in event if t != head), verb)


_DETERMINER = re.compile(r"^(?:the|a|an|its|their|his|her|each|any)\s", re.I)


def _act_noun(phrase: str) -> tuple[str, str] | None:
    """A verb phrase whose verb is not a listed act and whose object is one names that act: "raise an *objection*",
    "make a *claim*", "file a *dispute*". Returns the act noun's root and the noun as written."""
    words = re.findall(r"[A-Za-z]+", phrase)
    if len(words) < 2 or slots.act_key(words[0]) in slots.ACTS:
        return None
    rest = words[1:]
    noun = rest[1] if rest[0].lower() in ("a", "an", "the", "its", "their", "any") and len(rest) > 1 else rest[0]
    if slots.act_key(noun) not in slots.ACTS:
        return None
    terms = reader.content_terms(noun)
    return (_root(terms[0]), noun) if terms else None
_PREPOSITION = re.compile(r"\s(?:of|for|in|on|at|to|from|with|by|under)\s", re.I)


def _event_head(phrase: str) -> str | None:
    """The word an event is named by: the last noun of a noun phrase ("an uncured material breach": breach; "a
    certification expires": expires), the verb of a verb phrase ("raising its fees": raising)."""
    if _DETERMINER.match(phrase):
        terms = [t for t in reader.content_terms(_PREPOSITION.split(phrase)[0]) if t not in _GENERIC]
        return _root(terms[-1]) if terms else None
    terms = [t for t in reader.content_terms(phrase) if t not in _GENERIC]
    return _root(terms[0]) if terms else None


@dataclass(frozen=True)
class Bound:
    """A segment holding a number, the text its number is bound to (the segment, its neighbours, the lead-in) and
    that text's words."""

    piece: str
    near: str
    words: frozenset[str]
    lead: str = ""  # a table row's header and the last words before a colon its list hangs from
    sentence: frozenset[str] = frozenset()  # the roots of its whole sentence, lead-in and header
    text: str = ""  # that sentence with its lead-in or header


def _sentence_bindings(sentence: str, context: str) -> list[Bound]:
    """Each segment of a sentence with the words its numbers are bound to."""
    pieces = [p for p in _CUT.split(sentence) if p and p.strip()]
    lead = " ".join(p for p in (context, sentence.split(": ", 1)[0] if ": " in sentence else "") if p)
    colon = sentence.split(": ", 1)[0].split() if ": " in sentence else []
    counted = f"{context if context.startswith('|') else ''} {' '.join(colon[-4:])}".strip()
    out = []
    for i, piece in enumerate(pieces):
        near = f"{lead} {' '.join(pieces[max(0, i - 1): i + 2])}"  # segments before and after: subject, verb, object
        words = reader.content_terms(near)
        whole = frozenset(_root(w) for w in reader.content_terms(f"{context} {sentence}"))
        out.append(Bound(piece, near, frozenset(words) | frozenset(_root(w) for w in words), counted, whole,
                         f"{context} {sentence}"))
    return out


def bound_numbers(unit: reader.Unit, kind: str | None) -> list[Bound]:
    """Each segment of the unit holding a number (of `kind` when given), with what that number is bound to."""
    out: list[Bound] = []
    for sentence in reader.sentences(unit.text) or [unit.text]:
        out.extend(b for b in _sentence_bindings(sentence, unit.context) if reader.holds_quantity(b.piece, kind))
    return out


def _event_bound(wanted: Asked, bound: Bound) -> bool:
    """A noun-phrase event ("the invoice date") is bound when one of its words is. A verb-phrase event ("before
    withdrawing a certification", "to change its partner category") is bound when its act and one of the things it
    acts on are: the act by its stem or an `ACT_SYNONYMS` group (`copilot_slots.act_bound`) — "to fix a verified
    breach" is bound by "correct a verified breach", "withdrawing a certification" is not by "add certifications"."""
    words = bound.words
    if not wanted.objects:  # a noun-phrase event ("the invoice date", "the agreement ends"): any of its words
        return bool(set(wanted.event) & words)
    shared = len(set(wanted.event) & words)
    return (wanted.head in words and bool(set(wanted.objects) & words)) or shared >= 2


def asked_thing(question: str) -> tuple[str, ...]:
    """What a quantity question naming no event asks about, after its verb: "… does the provider warrant that *the
    software is free of viruses*", "… must the provider keep *the usage data*" — the words (roots) one of which its
    number must be bound to."""
    if reader.quantity_span(question) is None:
        return ()
    tail = slots.asked_verb(question).tail
    named = {reader.stem(w.lower()) for w in reader.names(question)}
    terms = reader.content_terms(tail)
    return tuple(dict.fromkeys(_root(t) for t in terms if t not in _GENERIC and t not in named))


def answers(question: str, unit: reader.Unit, kind: str | None, title: str = "") -> bool:
    """The unit holds a number (of `kind`) bound to what the question measures, to the event it names and to the
    question's own act, in the unit of time asked (`copilot_slots.unit_answers`: 45 days do not answer "how many
    hours"), a sum of money when money is asked; a question naming no event binds its number to the thing it asks
    about instead ("… warrant that the software is free of viruses": the software, viruses). `reader.missing_names`
    is applied by the caller to the clause as a whole; `names_in_unit` asks the unit itself to carry them, so a table
    row of another certification does not answer."""
    wanted = asked(question)
    unit_asked = slots.asked_unit(question)
    money = slots.asks_money(question)
    counted = slots.counted_noun(question)
    thing = () if wanted.head or wanted.measured else asked_thing(question)
    titled = frozenset(_root(w) for w in reader.content_terms(title))
    for bound in bound_numbers(unit, kind):
        if wanted.measured and wanted.measured not in bound.words:
            continue
        if wanted.head and not _event_bound(wanted, bound):
            continue
        if slots.act_contradicted(question, wanted.verb, bound.near) or not slots.unit_answers(unit_asked, bound.piece):
            continue
        if slots.act_missing(question, f"{title} {bound.text}") or statements.party_swapped(question, bound.text):
            continue
        if acts.ground_missing(question, f"{title} {bound.text}"):
            continue  # "terminate … for convenience": a termination for a breach not cured is another right
        if acts.means_missing(question, bound.piece):
            continue  # "sent by ordinary first-class post": "two days after mailing if by overnight … delivery"
        if statements.holder_swapped(question, bound.piece):
            continue  # "Customer has 30 days … to object" is no period of the provider's
        if counted and not slots.counts(counted, bound.piece, bound.lead, bound.near):
            continue
        if money and not slots.states_money(bound.near):
            continue
        if thing and not set(thing) & (bound.sentence | titled):
            continue
        return True
    return False


def names_in_unit(question: str, unit: reader.Unit, where: str, document_title: str) -> bool:
    """Every name of the question that the document's title does not give is in the unit (or its clause title)."""
    own = [n for n in reader.names(question) if not reader.name_in(n, document_title)]
    return all(reader.name_in(n, f"{where} {unit.full}") for n in own)


def holds_asked_quantity(question: str, title: str, text: str, document_title: str, others: Sequence[str],
                         min_coverage: float) -> bool:
    """A unit of the clause holds a number of the kind asked ("how many days": a duration), bound to what the
    question measures and counts from, in a unit naming the question's names, and covers enough of the question."""
    needs = reader.expected_quantity(question)
    if acts.act_period_elsewhere(question, text):
        return False  # "how many business days … to dispute": the act's own period is "within 30 days"
    return any(
        reader.holds_quantity(u.text, needs)
        and answers(question, u, needs, title)
        and names_in_unit(question, u, title, document_title)
        and reader.weighted_coverage(question, f"{title} {u.full}", others) >= min_coverage
        for u in reader.structured_units(text)
    )


_ACTOR = re.compile(r"\b(?:does|do|must|will|may|can|should|shall|would)\s+(?:the|a|an|each|that|this)\s+([a-z]+)\s+"
                    r"(?!be\b|been\b|have\b)[a-z]+", re.I)
_SUBJECT = re.compile(r"\b([A-Z][a-z]+|party|parties|recipient|discloser)(?:['’]s)?\s+"
                      r"(?:will|must|may|shall|agrees to|is required to|is responsible)\b"
                      r"|\b(?:will|must|may|shall)\s+([A-Z][a-z]+)\b")  # "in no event will Provider include"


_YES_NO = re.compile(r"^\s*(?:can|could|may|might|must|does|do|did|is|are|was|were|will|would|should|shall|has|have)\b",
                     re.I)


def asked_actor(question: str) -> str | None:
    """The party a question asks about as the one who acts: "provider" in "What does the provider owe the customer
    …?", "customer" in "What must the customer do …?"."""
    if _YES_NO.match(question):
        return None  # "Can the customer …?" asks whether, not what the customer does
    match = _ACTOR.search(question)
    return reader.stem(match.group(1).lower()) if match else None


def acting_parties(text: str) -> set[str]:
    """The parties a unit makes act: each word standing right before its modal verbs ("Provider will pay …")."""
    return {reader.stem((m.group(1) or m.group(2)).lower()) for m in _SUBJECT.finditer(text)}


def read(question: str, title: str, text: str) -> list[reader.Reading]:
    """`copilot_reader.read`, with the readings ordered by binding too (`_read`). One question reads a retrieved clause
    up to three times (its evidence, its answer score, its quotes): the readings are made once and kept (#17)."""
    return list(_read(question, title, text))


@lru_cache(maxsize=256)  # pure; a few questions' candidate clauses (the readings are frozen)
def _read(question: str, title: str, text: str) -> tuple[reader.Reading, ...]:
    """The readings of `read`: for a quantity question, a unit whose number is
    bound to what the question asks about reads better than one whose number belongs to another event or thing; for
    a question about what a party does, a unit in which that party acts reads better than one in which another
    does; and for every question, names choose table rows and list items: when some row of the clause carries the
    question's names ("a *Gold* partner"), a row carrying them all reads better and a row carrying none worse."""
    readings = reader.read(question, title, text)
    quantity = reader.asked_quantity(question)
    needs = reader.expected_quantity(question)
    actor = asked_actor(question)
    named = [n for n in reader.names(question) if not reader.name_in(n, title)
             and any(r.unit.kind != "sentence" and reader.name_in(n, r.unit.text) for r in readings)]

    picked = units.picked_rows(question, text)

    def bonus(r: reader.Reading) -> float:
        score = 0.3 if actor and actor in acting_parties(r.unit.text) else 0.0
        if picked and r.unit.kind == "row":
            score += 0.6 if r.unit.text in picked else -0.4  # "band 2", "the second band": that row, not the others
        elif named and r.unit.kind != "sentence":
            score += 0.6 if all(reader.name_in(n, r.unit.text) for n in named) else -0.4
        if not quantity or not reader.holds_quantity(r.unit.text, needs):
            return score
        return score + (0.4 if answers(question, r.unit, needs, title) else -0.3)

    condition = asked_condition(question)
    asked_subject = yes_no_subject(question)
    letter = units.asked_item(question)
    rescored = [reader.Reading(r.unit, r.score + bonus(r) + (0.3 if meets_condition(condition, r.unit.text) else 0.0)
                               + (0.3 if asked_subject and asked_subject in reader.content_terms(r.unit.text) else 0.0)
                               + (0.6 if letter and units.holds_item(letter, r.unit.text) else 0.0),
                               r.overlap, r.has_fact) for r in readings]
    return tuple(sorted(rescored, key=lambda r: -r.score))


_YES_NO_SUBJECT = re.compile(r"^\s*(?:is|are|was|were|does|do|did|can|could|must|will|may)\s+(?:the |a |an |any )?"
                             r"([a-z][a-z-]+)\s+(?:be\s+)?[a-z]+(?:ed|en)\b", re.I)


def yes_no_subject(question: str) -> str | None:
    """The thing a passive yes/no question is about, stemmed: "hardware" in "Is hardware billed in advance like
    subscriptions?" — the unit saying what happens to hardware ("Hardware … are billed on shipment or delivery")
    answers it, not the one about subscriptions that shares more of its words. None for a party ("Can the customer
    …"): `asked_actor` and the party rules read those."""
    match = _YES_NO_SUBJECT.match(question)
    terms = reader.content_terms(match.group(1)) if match else []
    return terms[0] if terms and terms[0] not in slots._PARTY else None


# "What if it's impossible to return or destroy the PHI …?": the unit whose own condition ("if neither return nor
# destruction are feasible") carries the question's condition is the one that answers it
_ASKED_IF = re.compile(r"\b(?:what if|if|in case|in the event(?: that)?|should)\b(?P<c>[^?,;—–]+)", re.I)
_UNIT_IF = re.compile(r"\b(?:if|unless|where|in the event(?: that)?)\b(?P<c>[^,;:.]{3,120})", re.I)


def asked_condition(question: str) -> frozenset[str]:
    """The content words of the condition a question sets ("What if it's impossible to return or destroy the PHI at
    the end …" → impossible, return, destroy, PHI, end), stemmed."""
    match = _ASKED_IF.search(question)
    return frozenset(reader.content_terms(match.group("c"))) if match else frozenset()


def meets_condition(condition: frozenset[str], text: str) -> bool:
    """The text sets a condition of its own ("if", "unless", "where", up to its comma) that carries a word of the
    question's condition ("if directed by Company" carries none of "impossible to return or destroy the PHI")."""
    return bool(condition) and any(condition & set(reader.content_terms(m.group("c"))) for m in _UNIT_IF.finditer(text))
