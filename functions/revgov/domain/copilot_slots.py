"""What a question's answer must be, slot by slot: the unit of its number, the act it is about, the type of the span.

`copilot_binding` ties a number to the words around it; this module says which of those words and spans a question
demands, with no model and no list of the questions asked:

- **the unit asked** ("within how many *hours*", "how many *business days*", "how many *months*") must be the unit of
  the bound number: 45 days do not answer "how many hours", 10 days do not answer "how many business days";
- **money or percent**: "what *price* / *fee* / *cost* / dollar *amount*" needs a sum of money, not a percentage (a
  discount off list price says nothing of the price); "what *percentage*" a percentage;
- **the question's own act** ("must the recipient *return* …", "before *withdrawing* a certification") must be bound to
  the number; acts are compared by stem and by `ACT_SYNONYMS`, a small list of verbs common agreements word in
  several ways (documented below, no other synonyms);
- **the asked span's type** for questions that ask for a name rather than a number: a court or a state's law needs a
  named place, a currency question a currency, an identifier ("VAT number") a code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import copilot_reader as reader

# --- idioms ----------------------------------------------------------------------------------------------------------

# "stay in force", "remain in effect": the idiom says *lasts*; its noun ("force", "effect") is no thing asked about
_IDIOM = re.compile(r"\b(stays?|remains?|continues?|is|are|be|last|lasts)\s+in\s+(?:full\s+)?(?:force|effect)"
                    r"(?:\s+and\s+effect)?\b", re.I)


# phrasal verbs a question uses for a contract's act: "have to drag on" is "continue", "walk away" is "terminate"
_PHRASAL = ((re.compile(r"\bdrag(?:s|ged|ging)? on\b", re.I), "continue"),
            (re.compile(r"\bwalk(?:s|ing)? away\b", re.I), "terminate"))


def plain(question: str) -> str:
    """The question with its idioms said plainly: "How long do the framework terms stay in force?" → "… stay?";
    "How long do proceedings have to drag on …?" → "… have to continue …?"."""
    for pattern, verb in _PHRASAL:
        question = pattern.sub(verb, question)
    return _IDIOM.sub(lambda m: m.group(1), question)


# --- the unit of the asked number ------------------------------------------------------------------------------------

_ASKED_UNIT = re.compile(r"\bhow many (?P<q>business |calendar |working )?(?P<u>minutes?|hours?|days?|weeks?|months?|"
                         r"years?|quarters?)\b", re.I)
_NUMBER_UNIT = re.compile(rf"\b{reader._NUM}(?:\s+or more)?(?:\s*\(\d+\))?(?:\s+|-)(?P<q>business |calendar |working "
                          r"|consecutive |full )?(?P<u>minutes?|hours?|days?|weeks?|months?|years?|quarters?)\b"
                          r"|\b(?P<net>net) \d+\b", re.I)


def _unit(qualifier: str | None, unit: str) -> str:
    base = unit.lower().rstrip("s")
    q = (qualifier or "").strip().lower()
    kind = "business " if q in ("business", "working") else "calendar " if q == "calendar" else ""
    return f"{kind}{base}"


def asked_unit(question: str) -> str | None:
    """The unit a "how many <unit>" question asks its number in: hour, day, business day, week, month, year."""
    match = _ASKED_UNIT.search(question)
    return _unit(match.group("q"), match.group("u")) if match else None


def units_in(text: str) -> set[str]:
    """The units of the periods a text states ("within 45 days": day; "8 business hours": business hour)."""
    out = set()
    for m in _NUMBER_UNIT.finditer(text):
        out.add("day" if m.group("net") else _unit(m.group("q"), m.group("u")))
    return out


def unit_answers(asked: str | None, text: str) -> bool:
    """A period in the asked unit: "how many days" is answered by days or business days, "how many business days"
    by business days only, "how many calendar days" by calendar or plain days (never business days), "how many
    hours" by hours (or business hours), never by days."""
    if asked is None:
        return True
    have = units_in(text)
    base = asked.split()[-1]
    if asked.startswith("business "):
        return asked in have
    if asked.startswith("calendar "):
        return asked in have or base in have  # "how many calendar days": not business days
    return bool({base, f"business {base}", f"calendar {base}"} & have)


# --- money or percent ------------------------------------------------------------------------------------------------

_ASKS_MONEY = re.compile(r"\b(?:what|how much) (?:is |are )?(?:the )?(?:[a-z-]+ )?(?:price|prices|cost|costs|salary"
                         r"|budget|allowance)\b|\bdollar amount\b|\bhow much (?:money|does|do|is|are)\b"
                         r"|\bprice (?:per|of)\b|\bwhat (?:amount|sum)\b", re.I)
_MONEY = re.compile(r"(?:\b(?:USD|EUR|GBP|CHF|JPY|AUD|CAD)|US\$|\$|€|£)\s?\d|\d\s?(?:USD|EUR|GBP|dollars|euros)\b"
                    r"|\b\d[\d,]*(?:\.\d+)? (?:U\.S\. )?(?:dollars|euros|pounds)\b", re.I)


def asks_money(question: str) -> bool:
    """The answer is a sum of money: "What is the price per seat?", "the dollar amount of the cap", "how much is the
    setup fee" — a percentage does not answer it. ("What charge applies to late payments?" may be answered by an
    interest rate, a fee by a percentage: neither asks for money alone.)"""
    return (bool(_ASKS_MONEY.search(question)) and not reader.expected_quantity(question)
            and not re.search(r"\bpercent|\brate\b|%", question, re.I))


def states_money(text: str) -> bool:
    return bool(_MONEY.search(text))


_PRICED = re.compile(r"\b(?:price|prices|cost|costs|fee|fees)\s+(?:of|for)\s+(?:an?\s+|the\s+|each\s+)?([^?,]+)", re.I)


def priced_thing(question: str) -> tuple[str, ...]:
    """What a money question prices, without its names: "the list price of a Contoso Elite *membership*"."""
    match = _PRICED.search(question)
    if not match:
        return ()
    named = {reader.stem(w.lower()) for w in reader.names(question)}
    return tuple(t for t in reader.content_terms(match.group(1)) if t not in named)


def money_for(question: str, text: str) -> bool:
    """A unit of the text states a sum of money and, when the question says what it prices, names that thing: CPA-9.3's
    "deployments above EUR 40,000.00 in List Price" is no price of a membership."""
    thing = set(priced_thing(question))
    return any(states_money(u.full) and (not thing or thing & set(reader.content_terms(u.full)))
               for u in reader.structured_units(text))


# --- the question's own act ------------------------------------------------------------------------------------------

# Acts an agreement words in several ways. Each group is one act; nothing else is treated as the same act. Kept
# small and general on purpose: a word listed here in the wrong group would let a number of another act answer.
ACT_SYNONYMS = (
    "notify notifies notified notice notices notification inform informs informed tell tells told",
    "pay pays paid paying payment payments remit remits remitted",
    "return returns returned",
    "delete deletes deleted deletion destroy destroys destroyed destruction erase erased purge purged",
    "retain retains retained retention store stores stored preserve preserves preserved archive archived",
    "respond responds responded response responses reply replies answer answers",
    "fix fixes fixed correct corrects corrected cure cures cured remedy remedies remedied resolve resolves resolved "
    "restore restores restored",
    "accept accepts accepted acceptance",
    "dispute disputes disputed contest contests contested challenge challenges object objects objection",
    "increase increases increased",
    "withdraw withdraws withdrawn withdrawal remove removes removed removal retire retires retired discontinue "
    "discontinues discontinued",
    "add adds added addition",
    "warrant warrants warranted warranty warranties guarantee guarantees guaranteed",
    "audit audits audited inspect inspects inspected inspection",
    "terminate terminates terminated termination cancel cancels cancelled cancellation",
    "renew renews renewed renewal",
    "suspend suspends suspended suspension",
    "submit submits submitted submission file files filed claim claims claimed",
    "approve approves approved approval",
    "deliver delivers delivered delivery send sends sent",
    "invoice invoices invoiced bill bills billed",
    "solicit solicits solicited hire hires hired",
    "decide decides decided decision",
    "appeal appeals appealed",
    "publish publishes published",
    "extend extends extended extension",
    "refund refunds refunded",
    "assign assigns assigned assignment transfer transfers transferred",
)
_ACT_OF = {word: group.split()[0] for group in ACT_SYNONYMS for word in group.split()}
_ACT_OF.update({reader.stem(word): act for word, act in list(_ACT_OF.items()) if reader.stem(word) not in _ACT_OF})
_GROUPS = ACTS = frozenset(_ACT_OF.values())
# verbs that say nothing of the act ("how many days does the customer *have* …", "must notice *be given*")
# nor of the number: how long something *lasts*, what a partner *keeps*, *holds*, *uses*, *carries* or *receives*
_LIGHT = frozenset("be is are was were been being have has had having do does did done get gets got give gives given "
                   "giving take takes taken make makes made receive receives received need needs want go goes come "
                   "comes apply applies allowed able required last lasts stay stays remain remains continue continues "
                   "keep keeps hold holds carry carries maintain maintains use uses obtain obtains".split())
_PASSIVE = frozenset("be is are been being".split())
_PARTY = frozenset(reader.content_terms("party parties customer provider partner distributor vendor supplier client "
                                        "licensee licensor company recipient discloser user reseller contractor "
                                        "employer affiliate"))
_MODAL_SUBJECT = re.compile(r"\b(?i:must|should|shall|will|would|may|might|can|could|does|do|did)\s+"
                            r"(?P<rest>(?i:the|a|an|its|their|each|either|any|every)\s.*|[A-Z].*)")
_DETERMINER = frozenset("the a an its their each either any every".split())
_TO_VERB = re.compile(r"^(?:have|has|need|needs|be required|be allowed|be able|get|is required|are required)\s+to\s+"
                      r"(\w+)", re.I)


def act_key(word: str) -> str:
    """One key per act: the group's first word for a listed synonym, else the word's light stem."""
    folded = word.lower()
    return _ACT_OF.get(folded) or _ACT_OF.get(reader.stem(folded)) or reader.stem(folded)


_FOLLOWS_VERB = frozenset("the a an its their his her each either any every all that this these those to of for in "
                          "on at from with by about against before after within during until into over under".split())


@dataclass(frozen=True)
class Verb:
    """A question's own verb: its act (an `act_key`, None for a light verb), the words after it, and whether its
    subject is a party ("must *the recipient* return", "does *Northwind* give") rather than a thing ("does *the growth
    rebate* pay", "does *exclusivity* last")."""

    act: str | None = None
    tail: str = ""
    party: bool = False


def asked_verb(question: str) -> Verb:
    """The verb after the question's modal and subject ("must the recipient *return* …", "does the customer have to
    *accept* …", "does the provider *warrant* that …"). With no tagger, it is the first word after the subject's
    first word that is a listed act or light verb, or that a determiner, a preposition or the question's end
    follows."""
    match = _MODAL_SUBJECT.search(question)
    if not match:
        return Verb()
    words = re.findall(r"[A-Za-z][\w'’-]*", match.group("rest"))
    start = 2 if words and words[0].lower() in _DETERMINER else 1
    for j in range(start, len(words)):
        word = words[j].lower()
        after = words[j + 1].lower() if j + 1 < len(words) else ""
        party = any(w[0].isupper() or reader.stem(w.lower()) in _PARTY for w in words[start - 1:j])
        to_verb = _TO_VERB.match(" ".join(words[j:j + 4]))
        if to_verb:
            word, after, j = to_verb.group(1).lower(), "", j + len(to_verb.group(0).split()) - 1
        if word in _PASSIVE and j + 1 < len(words) and words[j + 1].lower().endswith(("ed", "id", "en", "wn")):
            word, j = words[j + 1].lower(), j + 1  # "must an invoice be *paid*": the participle is the act
            return Verb(None if word in _LIGHT else act_key(word), " ".join(words[j + 1:]), party)
        if word in _LIGHT:
            return Verb(None, " ".join(words[j + 1:]), party)
        if act_key(word) in ACTS or to_verb or not after or after in _FOLLOWS_VERB:
            if word in reader._STOP or word in _FOLLOWS_VERB:
                return Verb()
            return Verb(act_key(word), " ".join(words[j + 1:]), party)
    return Verb()


def asked_act(question: str) -> str | None:
    return asked_verb(question).act


def listed_acts(text: str) -> set[str]:
    """The listed acts (`ACT_SYNONYMS` groups) a text names, by any word of their group."""
    return {k for k in map(act_key, re.findall(r"[a-z]+", text.lower())) if k in _GROUPS}


def act_contradicted(question: str, event_verb: str | None, near: str) -> bool:
    """The number is bound to another act than the one asked: the question asks about a listed act (its own verb, or
    the verb of the event it counts from: "before *withdrawing* a certification"), the text the number is bound to
    names none of them but names a listed act the question never mentions ("Provider will *delete* Customer Content
    within 60 days" for "… must a recipient *return* …"; "may *add* certifications … with 60 days' notice" for "before
    *withdrawing* a certification"). A text naming no listed act is not held against the question."""
    asked = {k for k in (asked_act(question), act_key(event_verb) if event_verb else None) if k in _GROUPS}
    if not asked:
        return False
    bound = listed_acts(near)
    return not (asked & bound) and bool(bound - listed_acts(question))


def act_missing(question: str, text: str) -> bool:
    """The question's own act is a listed one, a party is the one to act, and the sentence its number stands in (with
    its lead-in and the clause title) never names the act: "must the customer *delete* the software" against
    "bankruptcy proceedings that continue for more than 60 days" under "Either party may terminate …"."""
    verb = asked_verb(question)
    return verb.party and verb.act in ACTS and verb.act not in listed_acts(text)


def act_bound(act: str, text: str) -> bool:
    """The act (an `act_key`) is named in the text, by any word of its group or a word with its stem."""
    for w in re.findall(r"[a-z]+", text.lower()):
        if act_key(w) == act or reader.stem(w) == act:
            return True
    return False


# --- what a count counts ---------------------------------------------------------------------------------------------

_NOT_COUNTED = frozenset("minutes hours days weeks months years quarters times".split())


def counted_noun(question: str) -> str | None:
    """What a "how many X …?" / "the maximum number of X" question counts, stemmed ("how many certified *employees*
    must …", "how many status *reports* per month"); None for periods ("how many days") and frequencies ("how many
    times")."""
    match = re.search(r"\b(?:how many|(?:maximum|minimum|total) number of)\s+(.*)", question, re.I)
    if not match:
        return None
    noun = None
    for word in re.findall(r"[A-Za-z'’-]+", match.group(1))[:4]:
        lower = word.lower()
        if lower in reader._STOP or lower in _FOLLOWS_VERB:
            break
        if lower.endswith("s") and not lower.endswith(("ss", "'s", "’s")):
            noun = lower
    if noun is None or noun.rstrip("'’") in _NOT_COUNTED or noun.startswith(("business", "calendar")):
        return None
    terms = reader.content_terms(noun)
    return terms[0] if terms else None


_AFTER_NUMBER = re.compile(rf"\b(?:{reader._NUM}|\d[\d,]*(?:\.\d+)?)\b(?P<after>(?:\s+[\w-]+){{0,3}})", re.I)
_CLOCK = re.compile(r"\b\d{1,2}:\d{2}\b(?:-\d{1,2}:\d{2}\b)?|\b\w*\d+x\d+\w*")  # 09:00-17:00, 24x7: not counts
_BARE = frozenset("and or per at of to in".split())


def counts(noun: str, piece: str, lead: str, near: str = "") -> bool:
    """A number counts the noun when the noun heads the phrase after it ("two training *vouchers*", not "four
    partner tiers" for partners); a bare number ("up to 1 (Authorized), 3 (Advanced)", "Advanced 30", not a label
    like "rank 1") counts what its sentence lists (the noun anywhere in the text it is bound to); a number followed by
    another noun ("within 8 business *hours*") counts that, not the noun. The noun in the lead-in before a colon's
    list ("Each Quarter includes support *hours*: Authorized 8, …") or a table's header counts too."""
    if noun in reader.content_terms(lead):
        return True
    text = _CLOCK.sub(" ", piece)
    for match in _AFTER_NUMBER.finditer(text):
        following = match.group("after").split()
        phrase = []
        for word in following:  # the noun phrase after the number, to its head: "four partner *tiers*"
            if word.lower() in reader._STOP or word.lower() in _FOLLOWS_VERB or word.lower().endswith("ed"):
                break
            phrase.append(word)
        head = reader.content_terms(phrase[-1]) if phrase else []
        if head and head[-1] == noun:
            return True
        before = re.findall(r"[A-Za-z]+", text[:match.start()])
        label = bool(before) and before[-1].islower() and before[-1] not in reader._STOP | _FOLLOWS_VERB
        if (not following or following[0].lower() in _BARE) and not label and noun in reader.content_terms(near):
            return True  # "up to 1 (Authorized), 3 (Advanced)"; not "rank 1", "severity 1": labels, not counts
    return False


# --- the type of a named span ----------------------------------------------------------------------------------------

# Places an agreement names as a governing law, a venue or where data is kept: US states, countries and regions. A
# "which state / country / region" question is answered only by a clause that names one ("the laws of the State of
# California", "in the European Union"); "the Governing Law", "the Chosen Courts" or "a Member State" name none.
PLACES = (
    "Alabama Alaska Arizona Arkansas California Colorado Connecticut Delaware Florida Georgia Hawaii Idaho Illinois "
    "Indiana Iowa Kansas Kentucky Louisiana Maine Maryland Massachusetts Michigan Minnesota Mississippi Missouri "
    "Montana Nebraska Nevada Ohio Oklahoma Oregon Pennsylvania Tennessee Texas Utah Vermont Virginia Washington "
    "Wisconsin Wyoming|New Hampshire|New Jersey|New Mexico|New York|North Carolina|North Dakota|Rhode Island|"
    "South Carolina|South Dakota|West Virginia|District of Columbia|United States|United Kingdom|European Union|"
    "European Economic Area|EEA|EU|USA|England|Wales|Scotland|Ireland|Northern Ireland|Canada|Mexico|Brazil|Argentina|"
    "Germany|France|Netherlands|Belgium|Luxembourg|Switzerland|Austria|Italy|Spain|Portugal|Denmark|Sweden|Norway|"
    "Finland|Iceland|Liechtenstein|Poland|Czech Republic|Greece|Japan|China|India|Singapore|Australia|New Zealand|"
    "Hong Kong|Israel|South Africa|Amsterdam|London|Paris|Berlin|Munich|Dublin|San Francisco"
)
_STATES, *_NAMES = PLACES.split("|")  # the first part lists one-word names, each further part one name
_PLACE = re.compile(r"\b(?:" + "|".join(sorted({*_STATES.split(), *_NAMES}, key=len, reverse=True)) + r")\b")
_CURRENCY = re.compile(r"\b(?:USD|EUR|GBP|CHF|JPY|CAD|AUD|dollars?|euros?|pounds? sterling|U\.S\. Dollars?)\b|[$€£]",
                       re.I)
_IDENTIFIER = re.compile(r"\b[A-Z]{0,4}[ -]?\d[\d -]{5,}\d\b|\+\d[\d ()-]{6,}\d|[\w.+-]+@[\w-]+\.[\w.]+")
_SLOTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("place", re.compile(r"\b(?:which|what) (?:[A-Z]{2,4} )?(?:state|country|countries|city|cities|region|regions"
                         r"|nation|jurisdiction)\b|\b(?:state|country)['’]s (?:law|laws|courts?)\b"
                         r"|\bin which [\w ]+ located\b",
                         re.I)),
    ("currency", re.compile(r"\b(?:which|what) currenc", re.I)),
    # the identifier itself ("What is Contoso's VAT identification number?"), not a question about one ("How is an
    # EU partner's VAT number checked?")
    ("identifier", re.compile(r"^\s*what(?:'s|’s| is| are)\b[^?]*\b(?:(?:phone|telephone|fax|registration|"
                              r"identification|VAT|tax|account|license|licence) (?:id )?number|email address|tax id)\b"
                              r"[^?]*\??\s*$|\b(?:which|what) bank account\b|\b(?:what|which) (?:is the )?IBAN\b"
                              # "Which phone number do partners call?", "Which email do breach reports go to?",
                              # "Where do we email …?": the number or address itself
                              r"|\b(?:which|what) (?:[\w-]+ )?(?:phone|telephone|fax|mobile) number\b"
                              r"|\b(?:which|what) e-?mail\b|\bto (?:which|what) e-?mail\b"
                              r"|\bwhere (?:[\w'’-]+ ){0,5}e-?mail(?:ed|s)?\b",
                              re.I)),
)
_FILLS = {"place": _PLACE, "currency": _CURRENCY, "identifier": _IDENTIFIER}


def asked_slot(question: str) -> str | None:
    """The type of span a question asks for by name: a place ("which state's law", "in which region", "in which state
    are the courts located"), a currency ("which currency"), an identifier ("VAT number", "phone number")."""
    return next((slot for slot, pattern in _SLOTS if pattern.search(question)), None)


def fills(slot: str, text: str, *, besides: str = "") -> bool:
    """The text holds a span of the slot's type: a listed place, a currency, an identifier (a code of digits, a phone
    number, an email address); with `besides`, one that text does not hold (a span the question itself gives answers
    nothing: "Apart from the EU …, which countries …" is answered by "Norway", not by "EU")."""
    given = {m.group(0).lower() for m in _FILLS[slot].finditer(besides)}
    return any(m.group(0).lower() not in given for m in _FILLS[slot].finditer(text))


# --- the period a rate is counted per ("What *daily* interest rate …?", "How many support hours *a month* …?") ---

_PERIOD_OF = {"daily": "day", "weekly": "week", "monthly": "month", "quarterly": "quarter", "yearly": "year",
              "annual": "year", "annually": "year"}
_ASKED_PERIOD = re.compile(
    r"\b(?P<adj>daily|weekly|monthly|quarterly|yearly|annual|annually)\s+(?:[\w-]+\s+){0,2}?(?:interest|rate|rates|fee"
    r"|fees|charge|charges|cap|limit|allowance|commitment|quota|budget|hours|amount|price|payment|revenue|target)\b"
    r"|(?<!\bin )(?<!\bof )(?<!\bwithin )(?<!\bfor )(?<!\bafter )(?<!\bthan )\b(?:per|a|an|each|every)\s+"
    r"(?P<noun>day|week|month|quarter|year)\b(?!\s+of\b)", re.I)
_STATES_PERIOD = {
    "day": r"daily|per day|each day|a day|/day|per diem",
    "week": r"weekly|per week|each week|a week|/week",
    "month": r"monthly|(?:per|each|a) (?:calendar |billing )?month|/month|-month",
    "quarter": r"quarterly|(?:per|each|a|for a|for that|for the) quarter",
    "year": r"annual|annually|yearly|(?:per|each|a) (?:program |contract |calendar )?year|per annum",
}


def asked_period(question: str) -> str | None:
    """The period a quantity is asked per: "day" for "What daily interest rate …?", "month" for "How many support hours
    a month …?"; not "in a quarter" (a window), "within a month" (a duration) or "a quarter of the list price"."""
    match = _ASKED_PERIOD.search(question)
    if not match:
        return None
    return _PERIOD_OF[match.group("adj").lower()] if match.group("adj") else match.group("noun").lower()


def period_missing(question: str, text: str) -> bool:
    """The question asks a quantity per a period the text never counts by: "What daily interest rate …?" against
    "interest at 1.0% per month"; "support hours a month" against "support hours per Quarter"."""
    period = asked_period(question)
    return period is not None and not re.search(rf"\b(?:{_STATES_PERIOD[period]})\b", text, re.I)
