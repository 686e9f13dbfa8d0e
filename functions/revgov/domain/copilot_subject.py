"""Plain-statement questions answered by the clause that is clearly about their subject (the copilot's eighth round).

The evidence tests of `copilot_evidence` bind a number to its event; a question that asks no number ("Who answers for
what our staff do under their logins?", "What does each side represent about itself?", "… what are we supposed to
do?") has none to bind, and its words are often not the clause's. Such a question is answered by the top-retrieved
clause when that clause is far above the next one in similarity and carries the question's subject — its things by
word, stem, or a small list of paraphrases (`_PHRASES`: "walk away" is "terminate", "logins" are "accounts"). A
"What is meant by X?" / "What does X mean?" / "Define X" question is answered by the clause that defines X.
"""

from __future__ import annotations

import re

from . import copilot_reader as reader
from . import copilot_slots as slots
from . import copilot_statements as statements
from .copilot_paraphrase import with_paraphrases

_COUNT = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve)"
# a question that asks a value in other words than "how much": "What interest does …", "what discount …", "how big"
_ASKS_VALUE = re.compile(r"\b(?:share|stock|list|unit|sale|sales|purchase) price\b"  # "Northwind's share price"
                         r"|\bwhat (?:[\w-]+ ){0,2}(?:interest|discount|penalty|penalties|commission|bonus|rebate"
                         r"|deductible|uptime|price|fee|fees|rate|amount|percentage|allowance|credit|cap|limit|number"
                         r"|budget|salary|margin)\b|\bhow (?:big|high|large|small|low|fast)\b"
                         # a choice between numbers ("Is the Term one year or two?") asks a number, not a statement
                         rf"|\b{_COUNT} (?:[\w-]+ )?or {_COUNT}\b", re.I)
# words a question uses for a side of the agreement or itself, which name no thing of the clause
_NOT_THINGS = frozenset(reader.content_terms("side sides itself themselves ourselves someone something think trial "
                                             "pilot here supposed simply"))


def asks_plain_statement(question: str) -> bool:
    """A question whose answer is a clause's statement, not a number, a date, a place or a typed span."""
    if reader.asked_quantity(question) or _ASKS_VALUE.search(question):
        return False
    if reader.asked_fact(question) not in (None, "party") or slots.asked_slot(question) is not None:
        return False
    return not slots.asks_money(question)


def subject_things(question: str) -> list[str]:
    """The things the question asks about, its act among them (`copilot_statements.things`), its paraphrases said in
    contract words."""
    plain = with_paraphrases(question)
    said = set(reader.content_terms(plain[len(question):]))  # "disclose" said for "pass on" is no discloser
    found = statements.things(plain, None) + [t for t in said if t in slots._PARTY]
    return [t for t in dict.fromkeys(found) if t not in _NOT_THINGS]


def carries_subject(question: str, text: str) -> bool:
    """The text carries at least two of the question's things (all of them when it has fewer)."""
    things = subject_things(question)
    return bool(things) and statements.carried(things, text) >= min(2, len(things))


_MEANT = re.compile(r"\bwhat is meant by (?:an? |the )?(?P<a>.+?)(?: here| in this agreement)?\s*\?*$"
                    r"|\bwhat does (?:the term |the word |an? |the )?(?P<b>.+?) mean\b"
                    r"|\bdefine (?:an? |the )?(?P<c>.+?)\s*\?*$|\bdefinition of (?:an? |the )?(?P<d>.+?)\s*\?*$", re.I)


def asked_term(question: str) -> str | None:
    """The term a definition question asks about: "Definitive Agreement" in "What is meant by a Definitive Agreement
    here?", "What does Confidential Information mean?", "Define User"."""
    match = _MEANT.search(question.strip())
    if not match:
        return None
    term = next(g for g in match.groups() if g).strip(" \"“”'?.")
    return term if re.search(r"\w", term) else None


# "What exactly is the Purpose …?": the value of a capitalised term of the agreement (a Cover Page variable)
_VARIABLE = re.compile(r"\b(?i:what) (?:exactly |precisely )?(?:is|are) the "
                       r"(?P<x>[A-Z][a-z][\w-]*(?: [A-Z][a-z][\w-]*)*)"
                       r"(?=\s*\?|\s+(?:the|that|which|under|of|for|in|this|we|our|it)\b)")


def asked_variable(question: str) -> str | None:
    """The capitalised term whose value the question asks: "Purpose" in "What exactly is the Purpose the information
    may be used for?" (a term the form uses and a Cover Page fills in), not "the Advanced tier's discount cap"."""
    match = _VARIABLE.search(question)
    return match.group("x") if match else None


def defines(term: str, text: str) -> bool:
    """The text defines the term: '"X" means …', 'X means …', '"X" has the meaning …', '"X" refers to …'."""
    pattern = rf"[\"“]?{re.escape(term)}[\"”]?\s+(?:means|has the meaning|refers to|shall mean|is defined as)\b"
    return bool(re.search(pattern, text, re.I))


_COUNTS_AS = re.compile(r"\b(?:counts?|counted|covered|considered|treated|regarded|qualif(?:y|ies))\s+as\s+"
                        r"(?:an?\s+|the\s+)?(?P<w>[\w-]+)", re.I)


def asks_membership(question: str, term: str) -> bool:
    """The question asks whether something falls under a defined term ("Is the mere fact that we are in talks covered
    as *confidential*?" against '"Confidential Information" means …'): the definition answers it."""
    match = _COUNTS_AS.search(question)
    if match is None:
        return False
    return reader.stem(match.group("w").lower()) in {reader.stem(w) for w in term.lower().split()}


# a period or an amount the form names by a defined term the Cover Page fills in ("survive for the Confidentiality
# Period", "will not be more than the General Cap Amount"): the answer to "for how long" / "what is the cap" is the term
_NAMED_PERIOD = re.compile(r"\b(?:for|during|throughout|until the end of) the (?:[A-Z][\w-]* ){0,3}(?:Period|Term)\b")
_NAMED_AMOUNT = re.compile(r"\b(?:more than|exceed|exceeds|up to|limited to|capped at) the (?:[A-Z][\w-]* ){0,3}"
                           r"(?:Amount|Cap|Limit)\b")
_ASKS_HOW_LONG = re.compile(r"\bhow long\b", re.I)
_ASKS_CAP = re.compile(r"\b(?:cap|ceiling|limit)\b", re.I)
_ASKS_COUNTED = re.compile(r"\bhow (?:many|much|high|big|large)\b|\bwhat (?:percentage|percent|share)\b"
                           r"|\bin (?:dollars|euros|pounds|USD|EUR|GBP)\b", re.I)


def named_quantity(question: str, text: str) -> bool:
    """A "for how long …?" / "what is the cap on …?" question answered by a defined term of the asked kind in a
    sentence carrying the question's subject: "Recipient's obligations relating to Confidential Information will
    survive for the Confidentiality Period, despite expiration or termination of this NDA" (BNDA-6). A question that
    counts or prices ("how many days", "what percentage", "in dollars, how high") still needs a number."""
    if _ASKS_COUNTED.search(question) or slots.asks_money(question):
        return False
    if _ASKS_HOW_LONG.search(question):
        named = _NAMED_PERIOD
    elif _ASKS_CAP.search(question):
        named = _NAMED_AMOUNT
    else:
        return False
    things = subject_things(question)
    return any(named.search(u.text) and statements.carried(things, u.text) >= min(2, len(things))
               for u in reader.structured_units(text))
