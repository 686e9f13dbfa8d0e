"""Statement questions: answered by what a clause says, not by a number (the copilot's seventh round).

A yes/no question ("Can the provider …?", "May either side …?", "Does X apply …?") or a "which part / section /
clause …" question is answered by a clause's sentence: "The optional docking clause in Clause 7 does not apply",
"Section 3.2 of this DPA contains the information required in Table 2 of the UK Addendum". When no clause passes the
general evidence tests, the top-retrieved clause still answers such a question if one of its units *binds the
question's subject and act*: it names the question's act (its verb, by stem or `ACT_SYNONYMS`) when the question has
one, carries the things the question asks about (at least two of its content words other than parties, or all when
it has fewer), and states what holds (a modal or an applicability: "may", "will not", "does not apply"). The answer
quotes that unit, so a yes/no answer says what the clause says, never a bare yes or no.

Also here, typed answer slots the sixth round missed: a person's name asked where the clause gives only a role, and
a product family asked of a clause about another family.
"""

from __future__ import annotations

import re

from . import copilot_reader as reader
from . import copilot_slots as slots

# a yes/no question, also after a leading condition: "If the vendor gets acquired, *can* it transfer …?"
_YES_NO = re.compile(r"^\s*(?:(?:if|when|once|after|where|while)\b[^,?]*,\s*)?(?:can|could|may|might|must|does|do|did"
                     r"|is|are|was|were|will|would|should|shall|has|have)\b", re.I)
_REFERENCE_WORDS = "part|section|clause|provision|article|annex|schedule|exhibit|paragraph|appendix"
_ASKS_REFERENCE = re.compile(rf"\b(?:which|what) (?:{_REFERENCE_WORDS})s?\b", re.I)
_MAKES = re.compile(r"\bwhat does (?:that|this|it) make\b", re.I)
REFERENCE_HEADS = frozenset(reader.stem(w) for w in _REFERENCE_WORDS.split("|"))
_STATES_REFERENCE = re.compile(r"\b(?:Sections?|Clauses?|Articles?|Annex(?:es)?|Schedules?|Exhibits?|Paragraphs?"
                               r"|Appendix|Appendices|Parts?)\s+(?:\d+|[IVX]+\b|[A-Z]\b)")
# what holds: a permission, a duty, a prohibition or an applicability ("may redact", "will not", "does not apply")
_STATES_WHAT_HOLDS = re.compile(r"\b(?:may|must|will|shall|can|cannot|neither|nor|is not|are not|does not|do not"
                                r"|applies|apply|is entitled|are entitled|is permitted|are permitted|is required"
                                r"|are required|is deemed|are deemed|contains?)\b", re.I)


def asks_statement(question: str) -> bool:
    """A question answered by a clause's statement: yes/no, "which part/section/clause …", "what does that make X"."""
    return bool(_YES_NO.match(question) or _ASKS_REFERENCE.search(question) or _MAKES.search(question))


def asks_reference(question: str) -> bool:
    return bool(_ASKS_REFERENCE.search(question))


def states_reference(text: str) -> bool:
    """The text points at a part of a document: "Section 3.2", "Clause 7", "Annex II"."""
    return bool(_STATES_REFERENCE.search(text))


def head_met(question: str, head: str | None, text: str) -> bool:
    """A "which part / section …" question's head ("part") is met by a reference in the text ("Section 3.2")."""
    return head is None or (head in REFERENCE_HEADS and asks_reference(question) and states_reference(text))


# words a question uses around its subject that name no thing of it
_FILLER = frozenset(reader.content_terms("another during never ever always later still already together trial pilot"))


def things(question: str, act: str | None) -> list[str]:
    light = {reader.stem(w) for w in slots._LIGHT}
    return [t for t in dict.fromkeys(reader.content_terms(question))
            if t not in slots._PARTY and t not in light and t not in _FILLER and (act is None or act_key(t) != act)]


def act_key(term: str) -> str:
    return slots.act_key(term)


def _object_head(question: str, act: str | None) -> str | None:
    """The head of what the question's verb governs, its last thing: "officer" in "… have to appoint a data
    protection officer?", "copy" in "… before giving us a copy?"; None when the verb has no object."""
    verb = slots.asked_verb(question)
    tail = verb.tail if verb.tail else question
    found = things(tail, act if act in slots.ACTS else None)
    return found[-1] if found else None


def carried(wanted: list[str], text: str) -> int:
    """How many of the things the text names, by stem or by an `ACT_SYNONYMS` group ("transfer" for "assign")."""
    have = set(reader.content_terms(text))
    keys = {act_key(h) for h in have}
    return sum(t in have or act_key(t) in keys for t in wanted)


def binds(question: str, unit: reader.Unit) -> bool:
    """The unit (with its lead-in) binds the question's subject and act: it names the question's act when that is a
    listed one (`ACT_SYNONYMS`; another verb counts as one of its things), carries at least two of its things (all of
    them when it has fewer; one at least in the unit's own words), states what holds, and — for a "which part"
    question — points at a part."""
    text = unit.full
    act = slots.asked_act(question)
    if act in slots.ACTS and not slots.act_bound(act, text):
        return False
    wanted = things(question, act if act in slots.ACTS else None)
    if not wanted or carried(wanted, text) < min(2, len(wanted)):
        return False
    if not carried(wanted, unit.text):
        return False  # the lead-in alone ("… the EEA SCCs, which are completed as follows:") binds no item
    head = _object_head(question, act)
    if head is not None and not asks_reference(question) and not carried([head], text):
        return False  # "appoint a data protection *officer*": data protection impact assessments are no officer
    if asks_reference(question):
        return states_reference(unit.text)
    return bool(_STATES_WHAT_HOLDS.search(unit.text))


def statement_unit(question: str, text: str) -> reader.Unit | None:
    """The first unit of a clause that binds the question's subject and act, or None."""
    if not asks_statement(question):
        return None
    return next((u for u in reader.structured_units(text) if binds(question, u)), None)


# --- typed slots the sixth round missed -------------------------------------------------------------------------------

_ROLE = r"(?:head|officer|manager|contact|representative|director|chief|owner|lead|signatory|counsel|person|auditor)"
_ASKS_PERSON = re.compile(rf"\bname of (?:(?:the |its |their |a |an )?[\w-]+['’]s |the |its |their |a |an )?"
                          rf"(?:[\w-]+ ){{0,3}}?{_ROLE}\b"
                          rf"|^\s*who is (?:the |[\w-]+['’]s )(?:[\w-]+ ){{0,3}}?{_ROLE}\b", re.I)
# who signs the agreement itself (not "who has to sign a waiver"): only a signature block names that person
_ASKS_SIGNATORY = re.compile(r"^\s*who (?:signs|will sign|is signing|executes|countersigns) (?:the |this |our |their )?"
                             r"(?:[\w-]+ ){0,2}(?:agreement|nda|contract|order form|sow|statement of work|dpa"
                             r"|addendum)\b", re.I)
_SIGNATURE_BLOCK = re.compile(r"\b(?:Signature|Signed by|Authorized Signatory)\b|^\s*(?:By|Name|Title):", re.M)
# a person as agreements name one: "Ms. Jane Doe", "Jane Doe (the Partner Manager)", "Jane Q. Doe, CFO"
_PERSON = re.compile(r"\b(?:Mr|Ms|Mrs|Dr)\.? [A-Z][a-z]+|\b[A-Z][a-z]+ (?:[A-Z]\. )?[A-Z][a-z]+(?=,? (?:\(|the |"
                     r"[A-Z]{2,4}\b|who |as ))")


def asks_person(question: str) -> bool:
    """"What is the name of the head of Finance …?", "Who is Northwind's data protection officer?": a person's name."""
    return bool(_ASKS_PERSON.search(question))


def names_person(text: str) -> bool:
    return bool(_PERSON.search(text))


def signatory_missing(question: str, text: str) -> bool:
    """"Who signs the NDA for Bonterms?" asks the person in a signature block; a clause without one names none (the
    form's "Each party signs the Cover Page" names a role)."""
    return bool(_ASKS_SIGNATORY.search(question)) and not _SIGNATURE_BLOCK.search(text)


# the phrase's head only: "subscription *term*" is no kind of subscription
_KINDED = re.compile(r"\b([a-z][a-z-]{3,}) (?:products?|product famil(?:y|ies)|subscriptions?|items|devices"
                     r"|licen[cs]es?|lines)(?=\s*(?:[?.,;:]|$)|\s+(?:of|for|in|on|at|to|from|with|under|that|which"
                     r"|does|do|is|are|per|and|or)\b)")
_NOT_A_KIND = frozenset("these those such other their eligible existing partner customer third-party which what same "
                        "every each your first second third last next initial current renewal annual monthly"
                        # a comparison, not a kind: "billed in advance like subscriptions"
                        " like unlike including excluding except versus".split())


def kind_missing(question: str, text: str) -> str | None:
    """The kind of product the question asks about ("*networking* products", "*collaboration* subscriptions") when
    the clause never names it: PA-7.5's hardware SPIFF says nothing of networking products."""
    folded = text.lower()
    for match in _KINDED.finditer(question):
        kind = match.group(1)
        if kind in _NOT_A_KIND or kind in reader._STOP:
            continue
        if reader.stem(kind) not in set(reader.content_terms(folded)):
            return kind
    return None


# --- a party swap: the clause binds the other party of the same agreement -----------------------------------------

# the two sides of an agreement, as agreements and questions name them
_SIDES = (("customer", "provider"), ("customer", "vendor"), ("customer", "supplier"), ("partner", "distributor"),
          ("licensee", "licensor"), ("recipient", "discloser"))
_OTHERS: dict[str, set[str]] = {}
for _a, _b in _SIDES:
    _OTHERS.setdefault(reader.stem(_a), set()).add(reader.stem(_b))
    _OTHERS.setdefault(reader.stem(_b), set()).add(reader.stem(_a))
_ASKED_SIDE = re.compile(r"\b(?:must|should|shall|will|does|do|may|can|has|have)\s+(?:the|a|an|each)\s+([a-z]+)\s+"
                         r"(?:have to\s+|need to\s+)?(?!be\b|been\b)([a-z]+)", re.I)
_SUBJECT_ACT = re.compile(r"\b([A-Za-z]+)\s+(?:will|must|shall|may|agrees to|is required to)\s+(?:not\s+)?(?:\w+ly\s+)?"
                          r"([a-z]+)")


# light verbs that say the same act of records and data as `ACT_SYNONYMS`' retain ("keep records", "maintain records")
_KEEPING = {w: "retain" for w in "keep keeps kept maintain maintains maintained hold holds held".split()}


def _act(word: str) -> str:
    return _KEEPING.get(word.lower()) or slots.act_key(word)


def party_swapped(question: str, sentence: str) -> bool:
    """The sentence makes exactly one side of the agreement the grammatical subject of the question's act, and the
    question asks it of the other side: "How many years must the *customer* keep records …?" against CPDPA-5.1
    "*Provider* will keep records of its Processing …". Sides are the pairs of `_SIDES` only (a question naming a
    company rather than a side is never held to this), and the act is the question's own verb, by stem or
    `ACT_SYNONYMS` group, so "Customer will pay" does not swap "can the provider invoice"."""
    match = _ASKED_SIDE.search(question)
    asked = reader.stem(match.group(1).lower()) if match else ""
    if match is None or asked not in _OTHERS:
        return False
    act = _act(match.group(2))
    subjects = {reader.stem(m.group(1).lower()) for m in _SUBJECT_ACT.finditer(sentence)
                if _act(m.group(2)) == act}
    return bool(subjects) and subjects <= _OTHERS[asked]


_SEGMENT_SUBJECT = re.compile(r"^\W*(?:(?:a|b|c|d|i|ii|iii)[.)]\s+)?(?:(?i:if|when|where|unless|once)\s+)?(?:the\s+)?"
                              r"([A-Za-z]+)\s+(?:has|have|[a-z]+s"
                              r"|(?:may|must|shall|will)\s+(?!have no\b|not\b|be\b)[a-z]+)\b")


def holder_swapped(question: str, segment: str) -> bool:
    """The segment holding the asked number opens with the other side as its subject: "How many calendar days in
    advance must the *provider* announce a change …?" against CPDPA-2.6 "*Customer* has 30 days after notice of a
    change … to object", "If *Customer* objects to the change within 30 days of notice"; "… must the *provider* give
    to terminate a SOW …?" against BPSA-11.2 "*Customer* may terminate any SOW … upon 30 days' notice". The subject
    acts (present tense, a modal and a verb) or holds the period ("has"), never "will have no": "Customer will have
    no obligation to pay fees that Provider invoices more than 120 days after …" binds the days to the provider.
    Sides are the pairs of `_SIDES`, as for `party_swapped`."""
    match = _ASKED_SIDE.search(question)
    asked = reader.stem(match.group(1).lower()) if match else ""
    holder = _SEGMENT_SUBJECT.match(segment)
    if holder is None or asked not in _OTHERS:
        return False
    return reader.stem(holder.group(1).lower()) in _OTHERS[asked]
