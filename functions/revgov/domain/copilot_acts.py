"""The asked act's own terms: the period a clause gives that act, and the ground the question gives it.

Two checks for quantity questions, read against the clause itself (no model):

- **The act's own period is counted in another unit.** "How many business days does a partner have to dispute an
  invoice line?" against SOP-6.1: the sentence in which a party performs the asked act ("A Partner may dispute an
  invoice line within 30 days of the invoice date") counts in plain days, so the clause's business days ("acknowledged
  within 1 business day", "Finance decides within 10 business days") belong to other acts and do not answer.
- **The act's ground.** "How much notice is needed to terminate the BAA *for convenience*?": a number bound to a
  termination whose sentence never names the ground ("if the other party fails to cure a material breach within 30
  days") is the period of another right. The ground is the content word after "for" / "without" that follows the
  act (convenience, cause, breach); a sentence naming it (or its stem) may answer.
"""

from __future__ import annotations

import re

from . import copilot_reader as reader
from . import copilot_slots as slots

_MODAL_ACT = re.compile(r"\b(?:may|must|will|shall|can|has to|have to|is entitled to|agrees to)\s+"
                        r"(?:\w+ly\s+)?([a-z]+)", re.I)


def act_period_elsewhere(question: str, text: str) -> bool:
    """The question asks its number in a unit ("how many business days") and the clause has a sentence in which a
    party performs the question's act (a modal before the act's verb) with a period in another unit class."""
    asked = slots.asked_unit(question)
    act = slots.asked_act(question)
    if asked is None or act is None:
        return False
    for unit in reader.structured_units(text):
        for sentence in reader.sentences(unit.text) or [unit.text]:
            acts = {slots.act_key(m.group(1)) for m in _MODAL_ACT.finditer(sentence)}
            if act in acts and slots.units_in(sentence) and not slots.unit_answers(asked, sentence):
                return True
    return False


_GROUND = re.compile(r"\b(?:for|without)\s+(?P<ground>[a-z]+)\b", re.I)
_NOT_GROUNDS = frozenset("the a an its their his her each either any every all some no this that these those us them "
                         "it you we our your how which what whom long many much".split())


def asked_ground(question: str) -> str | None:
    """The ground a quantity question gives its act, stemmed: "terminate the BAA *for convenience*" → convenience.
    Only after the question's own act or a listed act (`copilot_slots.ACTS`); "for the Quarter", "for how long",
    "for a partner" give none."""
    if reader.quantity_span(question) is None:
        return None
    act = slots.asked_act(question)
    for match in _GROUND.finditer(question):
        ground = match.group("ground").lower()
        before = re.findall(r"[a-z]+", question[: match.start()].lower())[-5:]  # the act, up to four words before
        keys = {slots.act_key(w) for w in before}
        if (act in keys or keys & slots.ACTS) and ground not in _NOT_GROUNDS and ground not in reader._STOP:
            terms = reader.content_terms(ground)
            return terms[0] if terms else None
    return None


def ground_missing(question: str, text: str) -> bool:
    """The question gives its act a ground the text (a number's sentence with its lead-in and clause title) never
    names."""
    ground = asked_ground(question)
    return ground is not None and ground not in set(reader.content_terms(text))


# "… a notice sent *by ordinary first-class post*": the means the question gives; "… two days after mailing *if by
# overnight commercial delivery*": the means a number's segment is conditioned on
_ASKED_MEANS = re.compile(r"\bby ((?:[a-z-]+ ){0,3}[a-z-]+)", re.I)
_UNIT_MEANS = re.compile(r"\bif (?:sent |delivered |given |made )?by ((?:[\w-]+ ){0,3}[\w-]+)", re.I)


def means_missing(question: str, segment: str) -> bool:
    """The number's segment holds only for a means ("if by overnight commercial delivery") that shares no word with
    the means the question gives ("by ordinary first-class post"): that number is another means' period."""
    wanted = {t for m in _ASKED_MEANS.finditer(question) for t in reader.content_terms(m.group(1))}
    conditions = [set(reader.content_terms(m.group(1))) for m in _UNIT_MEANS.finditer(segment)]
    return bool(wanted) and bool(conditions) and not any(wanted & c for c in conditions)
