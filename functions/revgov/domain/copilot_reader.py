"""Extractive reading of retrieved clauses: which unit of which clause answers the question, and whether any does.

Clauses are split into quotable units that keep their structure: a sentence; a list item with the lead-in line that
introduces its list; a table row with the table's header row. A question is read for the kind of fact it asks for
(a duration, an amount, a percentage, a count, a party, a place, a date) and for its content words and names; a unit
answers when it shares the question's content and holds a fact of the asked kind. Every quote is a verbatim line or
sentence of the clause, so citation checks hold for whatever is chosen.

Answerability is decided by evidence, not by a similarity score alone: the question's names (capitalised words,
codes, quoted phrases) must occur in the clause, and enough of its content words (weighted by how rare they are
among the clauses retrieved for it) must be covered by the clause.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from .copilot_paraphrase import with_paraphrases

# quotable units live in copilot_units; the reader's callers keep reading them here
from .copilot_units import Unit as Unit
from .copilot_units import sentences as sentences
from .copilot_units import structured_units as structured_units
from .copilot_units import table_labels

_STOP = frozenset(
    """a an the and or of to in on for at by with from as is are was were be been being it its this that these those
    what which who whom whose when where why how do does did done can could should would may might must shall will
    there their they them our we us you your i me my he she his her not no if then than so such any all each every
    about into over under after before between within without per up down out off more most less least other some
    same only also just very too much many one get gets got have has had having tell say says said doesn't
    whether please explain describe happens happen need needs apply applies rule rules long soon quickly often big
    large kind kinds type types ask asks asking given give gives allowed early late make makes count counts highest
    lowest maximum minimum largest smallest""".split()
)
_WORD = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).replace("’", "'").lower()


_ORDINALS = {"first": "1", "second": "2", "third": "3", "fourth": "4", "fifth": "5"}


@lru_cache(maxsize=1 << 16)  # pure; every question re-reads its candidate clauses' words (#17: 11% of the API's CPU)
def stem(word: str) -> str:
    """A light stem cut to seven letters, so exclusive/exclusivity and approve/approved/approval meet."""
    if word[0].isdigit():
        return word
    if word in _ORDINALS:
        return _ORDINALS[word]
    for suffix in ("ations", "ation", "ments", "ment", "ings", "ing", "ies", "ied", "ers", "er", "es", "ed", "al", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)] + ("y" if suffix in ("ies", "ied") else "")
            break
    return word.removesuffix("e")[:7]


# Contract English says one thing in several words: a question says "share", "fix", "lawsuit", "subsidiary", the
# clause "disclose", "correct", "Action", "Affiliate". Each group below is read as one term (its first word's stem),
# on both the question's side and the clause's. Only paraphrases common in commercial agreements are listed.
_SAME = (
    "disclose disclosed discloses disclosure share shared shares reveal revealed divulge",
    "modify modified modification modifications change changes changed alter altered alteration",
    "action actions lawsuit lawsuits suit suits litigation proceeding proceedings",
    "correct corrects corrected fix fixes fixed cure cures cured remediate remediation",
    "terminate terminates terminated termination cancel cancels cancelled cancellation end ends ended expire "
    "expires expired expiry expiration",
    "refund refunds refunded repay repaid",
    "request requests requested ask asks",
    "affiliate affiliates affiliated subsidiary subsidiaries",
    "employee employees staff personnel workers",
    "aware learn learns learning learned discover discovers",
    "sign signs signed signature execute executed",
    "license licenses licensed licence licences licenced",
    # a rate per period said as an adjective ("hourly rate", "yearly spend") is the clause's "per hour", "annual"
    "hour hours hourly",
    "year years yearly annual annually",
    "month months monthly",
    "quarter quarters quarterly",
)
_SYNONYMS = {word: group.split()[0] for group in _SAME for word in group.split()}


def content_terms(text: str) -> list[str]:
    return list(_content_terms(text))  # a list of its own for each caller


@lru_cache(maxsize=8192)  # pure; every question reads its candidate clauses' terms again (#17)
def _content_terms(text: str) -> tuple[str, ...]:
    out = []
    for w in _WORD.findall(_fold(text)):
        if w in _SYNONYMS:
            out.append(stem(_SYNONYMS[w]))
        elif w not in _STOP and (len(w) > 1 or w.isdigit()):
            out.append(stem(w))
    return tuple(out)


# --- what the question asks for -----------------------------------------------------------------------------------

_NUM = r"(?:\d[\d,]*(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|thirty|sixty|ninety)"
_UNIT_OF_TIME = r"(?:business |calendar |consecutive |full )?(?:days?|hours?|weeks?|months?|years?|quarters?)"
FACT_PATTERNS: dict[str, re.Pattern[str]] = {
    # "30 days", "thirty (30) days", "15 or more consecutive days", "a 15-day period", "an initial 12-month period"
    # ... and a frequency for "how often": "once a year", "twice per Quarter", "three times in any 12-month period"
    "duration": re.compile(rf"\b{_NUM}(?:\s+or more)?(?:\s*\(\d+\))?(?:\s+|-){_UNIT_OF_TIME}\b|\bnet \d+\b"
                           rf"|\b(?:once|twice|{_NUM} times)\s+(?:a|an|per|each|every|in any)\s+(?:[\w-]+\s+)?"
                           r"(?:year|month|quarter|week|day|period)s?\b"
                           r"|\bat the (?:end|start|beginning|close) of (?:the |each |that )?(?:[\w-]+ ){0,2}?"
                           r"(?:month|quarter|year)\b", re.I),
    "percent": re.compile(r"\d(?:[\d.,]*)\s?%|\bpercent(?:age)? points?\b|\bpercent\b", re.I),
    "amount": re.compile(r"\b(?:USD|EUR|GBP|US\$|\$|€)\s?\d|\d\s?(?:USD|EUR)\b|\d\s?%|\b\d+\.\d{2}\b", re.I),
    "count": re.compile(rf"\b{_NUM}\b", re.I),
    "date": re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}(?:st|nd|rd|th)? (?:of )?(?:January|February|March|April|May"
                       r"|June|July|August|September|October|November|December)\b|\bend date\b|\beffective date\b",
                       re.I),
    "party": re.compile(r"\b(?:[A-Z][a-z]+(?: [A-Z][a-z]+)*|party|parties)\b"),
    "place": re.compile(r"\b(?:courts?|jurisdiction|venue|law|laws|located|country|countries|state)\b", re.I),
}

_ASKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("duration", re.compile(r"\bhow (?:long|soon|quickly|early|late|often|overdue|old)\b"
                            r"|\bhow many (?:business |calendar )?(?:days|hours|weeks|months|years)\b"
                            r"|\bwithin (?:how|what)\b|\bwhat (?:notice|period|deadline|time)\b|\bafter how\b"
                            # "When is …?" asks for a time; "what happens when the agreement ends" sets a condition
                            r"|\bfor how\b|\bnotice period\b|(?:^|[.!]\s+)when\b|\bby when\b|\buntil when\b", re.I)),
    ("percent", re.compile(r"\bpercent|\bwhat (?:share|rate|portion|proportion)\b|\bwhat margin\b|\bwhat ownership\b",
                           re.I)),
    ("amount", re.compile(r"\bhow much\b|\bwhat (?:amount|price|fee|cost|rate|commitment)\b|\bceiling\b|\bcap\b"
                          r"|\bmaximum\b|\bminimum\b|\bhighest\b|\blowest\b|\bcost\b|\brate\b"
                          r"|\bthe most\b|\bthe least\b", re.I)),
    ("count", re.compile(r"\bhow many\b", re.I)),
    ("place", re.compile(r"\bwhich court|\bwhere\b|\bwhich law\b|\bjurisdiction\b", re.I)),
    ("party", re.compile(r"\bwho\b|\bwhich (?:team|party|queue|role)\b|\bto whom\b", re.I)),
)


_ASKS_LIMIT = re.compile(r"\b(?:highest|maximum|max|ceiling|most|largest|upper limit|cap|lowest|minimum|min|floor|"
                         r"least|smallest|lower limit)\b", re.I)
_STATES_LIMIT = re.compile(r"\b(?:not exceed|may never exceed|exceed|at most|up to|no more than|not more than|"
                           r"at least|no less than|not less than|minimum|maximum|capped|cap|ceiling|floor|limit)\b",
                           re.I)


# A question about what holds when something is left unsaid ("if the order does not say", "when no SLA is named")
# is answered by the clause's default rule, the unit that says what applies otherwise.
_ASKS_DEFAULT = re.compile(r"\b(?:if|when|where|unless)\b[^?]*\b(?:no|not|nothing|none|silent|unspecified|doesn't|"
                           r"omits?|lacks?)\b|\bby default\b|\botherwise\b", re.I)
_STATES_DEFAULT = re.compile(r"\b(?:if no|if none|unless|if not|otherwise|in the absence|absent|if (?:the|an?) \w+ "
                             r"(?:does not|omits))\b", re.I)


# "What must the provider do if …?", "what should the customer do …": the answer is what someone will do, so the
# unit that states a duty ("Provider will notify …", "must return") reads better than one that states a fact.
_ASKS_ACTION = re.compile(r"\bwhat (?:must|should|shall|will|does|do|has|have|is|are)\b[^?]*\b(?:do|to do|required)\b",
                          re.I)
_STATES_DUTY = re.compile(r"\b(?:will|must|shall|agrees? to|is required to|are required to)\s+(?:\w+ly\s+)?(?!not\b)"
                          r"(?!be\b)[a-z]+", re.I)


_WHO_VERB = re.compile(r"^\s*(?:who|which (?:team|party|queue|role|person))\s+(?:must |may |will |can |should )?(\w+)",
                       re.I)


def asked_agent(question: str) -> str | None:
    """The act a "Who decides …?" / "Who must approve …?" question asks the doer of, stemmed ("decid"): the unit that
    names the doer uses the same verb ("is decided by the head of Finance"), not a noun of it ("a dispute
    decision")."""
    match = _WHO_VERB.match(question)
    verb = match.group(1).lower() if match else ""
    if not verb or verb in _STOP or verb in ("is", "are", "was", "were"):
        return None
    return stem(verb)


def asked_action(question: str) -> bool:
    return bool(_ASKS_ACTION.search(question))


def asked_default(question: str) -> bool:
    return bool(_ASKS_DEFAULT.search(question))


def asked_limit(question: str) -> bool:
    """A question about a ceiling or a floor ("the highest combined discount", "the most a partner can earn")."""
    return bool(_ASKS_LIMIT.search(question))


def asked_fact(question: str) -> str | None:
    """The kind of fact a question asks for: duration, percent, amount, count, place, party, or None."""
    for kind, pattern in _ASKS:
        if pattern.search(question):
            return kind
    return None


_ASKS_QUANTITY = re.compile(r"\bhow (?:long|many|much|old|late|early)\b|\b(?:within|for|after|by) how\b"
                            r"|\bwhat (?:percentage|percent|share|amount|price|fee|cost|rate|number)\b"
                            r"|\b(?:maximum|minimum|cap|ceiling|limit) (?:on|of|for)\b"
                            r"|\bnumber of\b|\b(?:the most|the least|highest|lowest|maximum|minimum)\b", re.I)
# "Section 6.3(g)", "Section 365(n)", "Title 17": references, not quantities; nor is "one or more"
_REFERENCE = re.compile(r"\b(?:Sections?|Title|Article|clause)\s+\d+(?:\.\d+)*(?:\([a-z0-9]+\))*|\b\d+\.\d+(?:\.\d+)*"
                        r"(?:\([a-z0-9]+\))+|\b\d+(?:\.\d+)+(?= \()|\bone or more\b", re.I)


def quantity_span(question: str) -> int | None:
    """Where a quantity question's asking phrase ("how many days", "within how many") ends, or None."""
    match = _ASKS_QUANTITY.search(question)
    return match.end() if match else None


def asked_quantity(question: str) -> bool:
    """A question that can only be answered with a number: "how long", "how many", "what percentage", "the cap on".
    ("When …?", "how quickly" may be answered by an event or "promptly"; they are not quantity questions.)"""
    return bool(_ASKS_QUANTITY.search(question))


# "one" alone is as often a determiner ("one party gives notice", "one of the following") as a number; a count is a
# digit or a number word from two up ("one year" is still a duration)
_COUNT = re.compile(r"\b(?:\d[\d,]*(?:\.\d+)?|two|three|four|five|six|seven|eight|nine|ten|twelve|thirty|sixty"
                    r"|ninety)\b", re.I)
_ASKS_DURATION = re.compile(r"\bhow (?:long|soon|early|late|old)\b|\b(?:within|for|after|by) how\b"
                            r"|\bhow many (?:business |calendar )?(?:days|hours|weeks|months|years|quarters)\b", re.I)
_ASKS_PERCENT = re.compile(r"\bwhat (?:percentage|percent|share)\b", re.I)


def expected_quantity(question: str) -> str | None:
    """The kind of number a quantity question needs in the quoted unit: a duration for "how long", "how many days",
    "within how many …"; a percentage for "what percentage"; None when any number will do ("how many", "the cap")."""
    if _ASKS_DURATION.search(question):
        return "duration"
    if _ASKS_PERCENT.search(question):
        return "percent"
    return None


def holds_quantity(text: str, kind: str | None = None) -> bool:
    """Any number, duration, percentage or amount; of `kind` (duration, percent) when given."""
    text = _REFERENCE.sub(" ", text)
    if kind is not None:
        return bool(FACT_PATTERNS[kind].search(text))
    return bool(_COUNT.search(text)) or any(FACT_PATTERNS[k].search(text) for k in ("duration", "percent", "amount"))


def holds_fact(kind: str | None, text: str) -> bool:
    if kind is None:
        return False
    if kind == "amount":
        return bool(FACT_PATTERNS["amount"].search(text) or FACT_PATTERNS["percent"].search(text))
    return bool(FACT_PATTERNS[kind].search(text))


_CODE = re.compile(r"\b[A-Za-z]+-?\d[\w-]*\b")
_QUOTED = re.compile(r"[\"“]([^\"”]{2,60})[\"”]")
_CAPITAL = re.compile(r"(?<![.?!]\s)(?<!^)\b[A-Z][a-z]+(?:[A-Z][a-z]+)*\b")  # Diamond, NorthWind; not EIN or VAT


# a numbered label: "severity 2", "priority 1", "level 3" (not "within 2", "for 30", "day 1" of a period)
_LABEL = re.compile(r"\b([a-z]{4,}) (\d{1,2})\b(?![.,]?\d|\s*(?:%|percent|days?|hours?|weeks?|months?|years?|"
                    r"business|calendar|minutes?|times?|or more)\b)")
_NOT_LABELS = frozenset("within after before than over under about least most more less only until from into upto "
                        "every each first last next day days hour hours week weeks month months year years quarter "
                        "quarters".split())


def names(question: str) -> list[str]:
    """Names the question depends on: codes (NW-2400), quoted phrases, capitalised words inside the sentence
    (acronyms are left out: they are as often labels of masked data, like EIN, as names) and numbered labels
    ("severity 2": a clause about severity 1 does not answer it)."""
    found = [m.group(0) for m in _CODE.finditer(question)]
    found += [m.group(1) for m in _QUOTED.finditer(question)]
    found += [w for w in _CAPITAL.findall(question) if w.lower() not in _STOP]
    found += [m.group(0) for m in _LABEL.finditer(question) if m.group(1).lower() not in _NOT_LABELS]
    return list(dict.fromkeys(found))


# --- what the question is about: its head noun ----------------------------------------------------------------------

_WHAT_IS = re.compile(r"^(?:who|what)(?:'s|’s| is| are| was| were)\s+(?:the |a |an )?(?P<focus>.+?)\s*\??$", re.I)
_WHAT_DOES = re.compile(r"^what ([a-z]+) (?:does|do|did|must|may|can|will|should|would)\b", re.I)
_PHRASE_END = re.compile(r"\s(of|for|in|on|at|per|a|an|the|that|which|to|can|may|will|must|should|is|are|under|"
                         r"when|if|once|where|while|unless|after|before|between|from|with|by|and|or)\s|\?", re.I)
# Words that name a measure or a limit rather than a thing: "the rate of X", "the name of Y", "the ceiling on Z".
_MEASURES = frozenset(content_terms("name names number amount length period time date percentage rate level kind type "
                                    "term figure value duration ceiling cap limit maximum minimum floor dollar dollars "
                                    "euro percent hours days effect effects consequence consequences result outcome"))


def asked_head(question: str) -> str | None:
    """The head noun of a "What is the X …?" / "Who is the X of …?" question, stemmed: what the answer must be
    about ("director" in "Who is the managing director of Contoso?", "officer" in "What is the name of Contoso's data
    protection officer?"). None when the question has no such head (a measure word like rate or ceiling, a verb)."""
    match = _WHAT_IS.match(question.strip())
    if not match:
        does = _WHAT_DOES.match(question.strip())  # "What interest does Contoso pay …?": interest
        head = content_terms(does.group(1)) if does else []
        return head[0] if head and head[0] not in _MEASURES else None
    focus = re.sub(r"^(?:each|every|any|one)\s+", "", match.group("focus"), flags=re.I)
    if re.match(r"^\w+ed\b", focus):  # "What is charged per hour …": a verb, no head noun
        return None
    pieces = _PHRASE_END.split(focus + " ?")
    for i in range(0, len(pieces), 2):
        phrase = pieces[i]
        owners = {stem(w) for w in re.findall(r"(\w+)(?:'s|’s)\b", _fold(phrase))}
        words = [w for w in _WORD.findall(_fold(phrase)) if not w.endswith("ed")]  # "capped", "charged": verbs
        terms = [t for t in content_terms(" ".join(words)) if t not in owners]
        if terms and terms[-1] not in _MEASURES:
            return terms[-1]  # the phrase's last noun is its head: "managing director", "protection officer"
        separator = (pieces[i + 1] or "").lower() if i + 1 < len(pieces) else ""
        if not (terms and separator == "of"):
            return None  # "the absolute ceiling on …" asks for the ceiling; only "the name of X" looks on to X
    return None


_WHICH = re.compile(r"^\s*(?:which|what) (?:[\w-]+ )?(\w+?)(?:s)? (?:are|is|does|do|count|counts|fall|falls|qualify|"
                    r"qualifies|must|may|can|will)\b", re.I)
_DEFINED = re.compile(r"^[\"“]([^\"”]{1,60})[\"”] (?:means|has the meaning|includes|refers to)\b")


_WHICH_COMPOUND = re.compile(r"^\s*which ([a-z]+) ([a-z]+) (?!of\b|are\b|is\b|does\b|do\b|did\b|will\b|would\b|can\b"
                             r"|may\b|must\b|shall\b|has\b|have\b)[a-z]+s\b", re.I)


def asked_which_head(question: str) -> str | None:
    """The class a "Which X Y verbs …?" question asks for a member of, by its modifier X, stemmed: "arbitration" in
    "Which arbitration institution resolves disputes?". A clause that never names arbitration cannot say which
    institution arbitrates. Only the compound form counts: "Which courts hear …", "Which people may …" name a class
    too general to demand of the clause."""
    match = _WHICH_COMPOUND.match(question)
    terms = content_terms(match.group(1)) if match else []
    return terms[0].rstrip("s") if terms and terms[0] not in _MEASURES else None


def asked_kind_of(question: str) -> str | None:
    """The noun a "Which claims are …?" / "What events count as …?" question asks for members of, stemmed; or the
    head noun of a "What is the X?" question. A definition of a term ending in that noun ("Enhanced Claims" means …)
    is the unit that lists them."""
    match = _WHICH.match(question)
    if match and match.group(1).lower() not in _STOP:
        return stem(match.group(1).lower())
    return asked_head(question)


def defined_term(text: str) -> str | None:
    match = _DEFINED.match(text)
    return match.group(1) if match else None


# --- reading ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    unit: Unit
    score: float
    overlap: float
    has_fact: bool


def read(question: str, title: str, text: str) -> list[Reading]:
    """Every unit of a clause scored for this question, best first: shared content (the clause title counts for
    every unit) plus a bonus when the unit holds a fact of the asked kind, another when the question asks for a
    ceiling or floor and the unit states one, and another when the question asks what holds when something is left
    unsaid and the unit states the default ("If no SLA is identified, …", "unless the Order states otherwise")."""
    wanted = set(content_terms(with_paraphrases(question)))
    kind = asked_fact(question)
    limit = asked_limit(question)
    default = asked_default(question)
    action = asked_action(question)
    kind_of = asked_kind_of(question)
    agent = asked_agent(question)
    title_terms = set(content_terms(title))
    readings = []
    for unit in structured_units(text):
        have = set(content_terms(unit.full)) | title_terms
        overlap = len(wanted & have) / len(wanted) if wanted else 0.0
        own = len(wanted & set(content_terms(unit.text))) / len(wanted) if wanted else 0.0
        fact = holds_fact(kind, unit.text)
        states_limit = limit and bool(_STATES_LIMIT.search(unit.text))
        states_default = default and bool(_STATES_DEFAULT.search(unit.text))
        states_duty = action and bool(_STATES_DUTY.search(unit.text))
        term = defined_term(unit.text)
        defines = bool(kind_of and term and (content_terms(term) or [""])[-1] == kind_of)
        names_agent = bool(agent and agent in {stem(w) for w in _WORD.findall(_fold(unit.text))})
        score = (overlap + 0.5 * own + (0.6 if fact else 0.0) + (0.4 if states_limit else 0.0)
                 + (0.6 if states_default else 0.0) + (0.3 if states_duty else 0.0) + (0.5 if defines else 0.0)
                 + (0.5 if names_agent else 0.0)
                 - 0.0005 * len(unit.text))
        readings.append(Reading(unit, score, overlap, fact))
    return sorted(readings, key=lambda r: -r.score)


def coverage(question: str, text: str) -> float:
    wanted = set(content_terms(question))
    if not wanted:
        return 0.0
    return len(wanted & set(content_terms(text))) / len(wanted)


def weighted_coverage(question: str, text: str, others: Sequence[str]) -> float:
    """Share of the question's content words found in the text, each weighted by its rarity among `others` (the
    texts retrieved with it): a word every clause has says little, a word no clause has says most."""
    wanted = list(dict.fromkeys(content_terms(question)))
    if not wanted:
        return 0.0
    bags = [set(content_terms(o)) for o in others] or [set()]
    have = set(content_terms(text))
    weights = {w: 1.0 + len(bags) - sum(w in b for b in bags) for w in wanted}
    return sum(weights[w] for w in wanted if w in have) / sum(weights.values())


def missing_head(question: str, text: str) -> str | None:
    """The question's head noun when the text does not have it (see `asked_head`, `asked_which_head`), else None."""
    head = asked_head(question)
    if head is not None and head not in set(content_terms(text)):
        return head
    which = asked_which_head(question)
    return which if which is not None and which not in {t.rstrip("s") for t in content_terms(text)} else None


def name_in(name: str, text: str) -> bool:
    """The name is in the text, as written or (a single word) by its stem; a numbered label ("priority 2") only as
    written, so "priority for Advanced" is not "priority 2"."""
    folded = _fold(text)
    if _fold(name) in folded or _fold(name) in table_labels(text):
        return True  # "band 2": the row of a table whose Band column holds 2
    return " " not in name.strip() and stem(_fold(name)) in folded


def missing_names(question: str, text: str) -> list[str]:
    return [n for n in names(question) if not name_in(n, text)]
