"""Quotable units of a clause, and the labels by which a question asks for a table row.

A clause is split into units that keep their structure: a sentence (a full stop after `U.S.`, `e.g.`, `No.` ends
none); a list item with the lead-in line that introduces its list; a table row with the table's header row (a header
row alone is never a unit); a definition (`"X" means …`) whole. Every unit is verbatim clause text, so a quote of it
passes the citation check.

A table row is asked for by its label or its place: "band 2" is the row whose *Band* column holds 2, "tier 3" the
third row of a table whose first column is *Tier*, "the second band" / "the fourth revenue band" the second / fourth
row of the table. `picked_rows` finds the rows a question asks for; `table_labels` gives a clause's row labels, so a
question naming "band 2" is not refused for want of the words "band 2", which the table writes as a header and a cell.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).replace("’", "'").lower()


_ITEM = re.compile(r"^(?:[-*•]|\(?[a-z]{1,2}\)|[a-z]{1,2}\.|\(?\d{1,2}[.)]|\([ivx]+\))\s+")
_DEFINITION = re.compile(r"^[\"“][^\"”]{1,60}[\"”] (?:means|has the meaning|includes|refers to)\b")
_SEPARATOR = re.compile(r"^\|?[\s:|-]+\|?$")
_ABBREVIATION = re.compile(r"(?:\b[A-Za-z]|\b(?:[A-Za-z]\.)+[A-Za-z]|\b(?:e\.g|i\.e|etc|No|no|vs|Inc|Ltd|Co|Art|Sec)"
                           r")\.$")


def sentences(line: str) -> list[str]:
    """A paragraph's sentences; a full stop after an abbreviation (U.S., e.g., No.) ends none."""
    out, start = [], 0
    for match in re.finditer(r"[.!?](?=\s+[A-Z(\"“])", line):
        end = match.end()
        if _ABBREVIATION.search(line[start:end].rsplit(None, 1)[-1] if line[start:end].split() else ""):
            continue
        piece = line[start:end].strip()
        if piece:
            out.append(piece)
        start = end
    tail = line[start:].strip()
    if tail:
        out.append(tail)
    return out


@dataclass(frozen=True)
class Unit:
    """A verbatim piece of a clause that can be quoted, with the verbatim line that gives it meaning (list lead-in
    or table header), if any."""

    text: str
    context: str = ""
    kind: str = "sentence"  # sentence | item | row

    @property
    def quotes(self) -> tuple[str, ...]:
        return (self.context, self.text) if self.context else (self.text,)

    @property
    def full(self) -> str:
        return f"{self.context} {self.text}".strip()


def embedded_passages(title: str, text: str) -> list[str]:
    """What each retrieval passage of a clause is embedded as (`retrieval_passages` order): the clause title, then
    the passage."""
    return [f"{title}. {p}" for p in retrieval_passages(text)]


def embedded_units(title: str, text: str) -> list[str]:
    """What each unit of a clause is embedded as, in `structured_units` order: the clause title, then the unit with
    its lead-in or header (the index embeds these when it indexes the clause; the answerability model reads them)."""
    return [f"{title}. {u.full}" for u in structured_units(text)]


# --- retrieval passages: a long clause searched by its parts -----------------------------------------------------

PASSAGE_WORDS = 40  # a clause longer than this is also searched by passages of at most about this many words
# inline items of one sentence: "(a) use …; (b) not disclose …; and (c) protect …" (markers after a space)
_INLINE_ITEM = re.compile(r"(?:(?<=\s)|^)\(([a-z]|[ivx]{1,4}|\d{1,2})\)\s")


def _words(text: str) -> int:
    return len(text.split())


def _inline_items(sentence: str) -> list[str]:
    """A sentence listing lettered items inline, each item with the sentence's lead-in ("The Receiving Party shall:
    (b) not disclose …"); empty when it lists fewer than two items or the first is not (a), (i) or (1)."""
    marks = list(_INLINE_ITEM.finditer(sentence))
    if len(marks) < 2 or marks[0].group(1) not in ("a", "i", "1"):
        return []
    lead = sentence[: marks[0].start()].strip()
    bounds = [m.start() for m in marks] + [len(sentence)]
    return [f"{lead} {sentence[start:end].strip()}".strip() for start, end in pairwise(bounds)]


def _grouped(pieces: list[str], limit: int) -> list[str]:
    """Consecutive pieces joined while the group stays within `limit` words (a longer piece stands alone)."""
    out: list[str] = []
    group: list[str] = []
    for piece in pieces:
        if group and _words(" ".join([*group, piece])) > limit:
            out.append(" ".join(group))
            group = []
        group.append(piece)
    if group:
        out.append(" ".join(group))
    return out


def retrieval_passages(text: str, *, limit: int = PASSAGE_WORDS) -> list[str]:
    """The parts a long clause is also searched by, following its own structure: each paragraph; a list item (a line
    or an inline "(a) …") with its lead-in; a table row with its header; a paragraph longer than `limit` words as its
    sentences grouped to at most about `limit` words. Empty for a clause of at most `limit` words (the clause is its
    own passage). Passages are for finding the clause only: what is quoted is always the clause's own text."""
    if _words(text) <= limit:
        return []
    out: list[str] = []
    prose: list[str] = []  # the current paragraph's sentences

    def flush() -> None:
        if prose:
            out.extend(_grouped(prose, limit))
            prose.clear()

    for unit in structured_units(text):
        if unit.kind in ("row", "item"):
            flush()
            out.append(unit.full)
            continue
        items = _inline_items(unit.text)
        if items:
            flush()
            out.extend(items)
            continue
        prose.append(unit.text)
    flush()
    return list(dict.fromkeys(p for p in out if p))


def structured_units(text: str) -> list[Unit]:
    """Sentences; list items with their lead-in; table rows with their header row. Headers are never units."""
    out: list[Unit] = []
    header = ""
    lead_in = ""
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            header = ""
            continue
        if line.startswith("|"):
            if _SEPARATOR.match(line):
                continue
            if not header:
                header = line
                continue
            out.append(Unit(line, header, "row"))
            continue
        header = ""
        if _ITEM.match(line) and lead_in:
            out.append(Unit(line, lead_in, "item"))
            continue
        parts = [line] if _DEFINITION.match(line) else sentences(line)
        out.extend(Unit(s) for s in parts)
        last = parts[-1] if parts else ""
        lead_in = last if last.endswith(":") else ""
    return out


# --- table rows asked by their label or their place ----------------------------------------------------------------

_ROW_NOUNS = r"band|tier|level|bracket|row|step|grade|class"
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8}
# "the second band", "the fourth revenue band", "the third storage tier" (at most two words between)
_ASKED_PLACE = re.compile(rf"\b({'|'.join(_ORDINALS)})(?:[\s-]+(?!{_ROW_NOUNS}\b)[a-z][\w-]*){{0,2}}[\s-]+"
                          rf"({_ROW_NOUNS})s?\b", re.I)
# "band 2", "Tier 3" (not "band 2%")
_ASKED_LABEL = re.compile(rf"\b({_ROW_NOUNS}) (\d{{1,2}})\b(?![.,]?\d|\s*%)", re.I)


@dataclass(frozen=True)
class RowAsk:
    """A table row a question asks for: `noun` `number` ("band 2"), by its place when `place` ("the second band")."""

    noun: str
    number: int
    place: bool

    @property
    def label(self) -> str:
        return f"{self.noun} {self.number}"


def asked_rows(question: str) -> list[RowAsk]:
    folded = _fold(question)
    asks = [RowAsk(m.group(2), _ORDINALS[m.group(1)], True) for m in _ASKED_PLACE.finditer(folded)]
    asks += [RowAsk(m.group(1), int(m.group(2)), False) for m in _ASKED_LABEL.finditer(folded)]
    return asks


def _cells(line: str) -> list[str]:
    return [_fold(cell.strip()) for cell in line.strip().strip("|").split("|")]


def _row_labels(header: str, row: str, place: int) -> frozenset[str]:
    """"band 2" for a row whose Band column holds 2, "tier elite" for one whose Tier column holds Elite; and the row's
    place under the first column's name ("tier 3" for the third row of a Tier table) unless that column is numbered
    itself (band 2 is the row labelled 2, whatever its place)."""
    labels = set()
    names, cells = _cells(header), _cells(row)
    for name, cell in zip(names, cells, strict=False):
        words = re.findall(r"[a-z][\w-]*", name)  # "Rate per GB-month (EUR)": its words, not "(eur)"
        if words and cell and len(cell) <= 40:
            labels.add(f"{words[-1]} {cell}")
    first = re.findall(r"[a-z][\w-]*", names[0]) if names else []
    if first and cells and not cells[0].isdigit():
        labels.add(f"{first[-1]} {place}")
    return frozenset(labels)


def _table_rows(units: list[Unit]) -> list[tuple[Unit, int, frozenset[str]]]:
    """Each row unit with its place in its table (1 for the first row under a header) and its labels."""
    out, place, header = [], 0, None
    for unit in units:
        if unit.kind != "row":
            header = None
            continue
        place = place + 1 if unit.context == header else 1
        header = unit.context
        out.append((unit, place, _row_labels(unit.context, unit.text, place)))
    return out


@lru_cache(maxsize=1 << 12)  # pure; the same clause text is read for every question it is retrieved for
def table_labels(text: str) -> frozenset[str]:
    """Every row label of the clause's tables ("band 2", "tier elite", "tier 3")."""
    labels: set[str] = set()
    for _, _, own in _table_rows(structured_units(text)):
        labels |= own
    return frozenset(labels)


_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
_RANGE = re.compile(r"(?P<low>[\d,.]+) to (?P<high>[\d,.]+)|(?P<above>[\d,.]+) and above|above (?P<over>[\d,.]+)"
                    r"|first (?P<first>[\d,.]+)")


def _number(text: str) -> float:
    return float(text.replace(",", "").rstrip("."))


def _span(cell: str) -> tuple[float, float] | None:
    """The range a cell states: "USD 100,000.00 to 249,999.99", "500,000.00 and above", "above 10,000", "first 500"."""
    match = _RANGE.search(cell)
    if match is None:
        return None
    if match.group("low"):
        return _number(match.group("low")), _number(match.group("high"))
    if match.group("first"):
        return 0.0, _number(match.group("first"))
    return _number(match.group("above") or match.group("over")), float("inf")


_SUM = re.compile(r"(?:\b(?:usd|eur|gbp)|[$€£])\s?(?P<a>[\d,.]*\d)(?:\s?(?P<am>k|m)\b)?"
                  r"|(?P<b>\d[\d,.]*)\s?(?:usd|eur|gbp|dollars|euros)\b|\b(?P<c>\d[\d,.]*)(?P<cm>k)\b")
_THOUSANDS = {"k": 1_000.0, "m": 1_000_000.0}


def _asked_values(question: str) -> list[float]:
    """The sums of money a question gives ("revenue of EUR 250,000", "300,000 dollars", "$1.2m", "600k": thousands and,
    after a currency, millions written as a suffix on the number; a bare "12m" is as often months or metres): a row of a
    table of money ranges is picked by the range holding it (a count such as "the first 500 units" picks no range)."""
    return [_number(m.group("a") or m.group("b") or m.group("c")) * _THOUSANDS.get(m.group("am") or m.group("cm") or "",
                                                                                   1.0)
            for m in _SUM.finditer(question)]


def _names_cell(question: str, cells: list[str]) -> bool:
    """A cell of the row that is a name, not a number, written in the question as a phrase of its own: "premium"
    in "at premium support level" (not inside "premium_24x7"), "vat_validation_failure"."""
    return any(len(cell) >= 3 and not _NUMBER.fullmatch(cell) and len(cell) <= 40
               and re.search(rf"(?<![\w-]){re.escape(cell)}(?![\w-])", question) for cell in cells)


def _in_range(values: list[float], cells: list[str]) -> bool:
    spans = [s for s in map(_span, cells) if s is not None]
    return any(low <= v <= high for v in values for low, high in spans)


def labelled_by(question: str, text: str) -> bool:
    """The text has a table with a column the question names a row of ("band 2": a Band column)."""
    nouns = {a.noun for a in asked_rows(question) if not a.place}
    return any(label.split(" ", 1)[0] in nouns for label in table_labels(text))


def picked_rows(question: str, text: str) -> frozenset[str]:
    """The rows (their verbatim text) a question asks for: by label ("band 2") or place ("the second band"), by a
    name the row holds in a cell of its own ("premium", "vat_validation_failure"), or by an amount in the range the
    row states ("revenue of EUR 250,000" → "EUR 200,000.00 to 499,999.99"); empty when it asks for none or the
    clause has no such row."""
    folded = _fold(question)
    asks = asked_rows(question)
    values = _asked_values(folded)
    rows = _table_rows(structured_units(text))
    by_label = frozenset(unit.text for unit, place, labels in rows
                         if any(a.label in labels or (a.place and a.number == place) for a in asks))
    by_cell = frozenset(unit.text for unit, _, _ in rows if _names_cell(folded, _cells(unit.text)))
    by_range = frozenset(unit.text for unit, _, _ in rows if _in_range(values, _cells(unit.text)))
    return next((chosen for chosen in (by_label, by_cell, by_range) if chosen and len(chosen) < len(rows)),
                frozenset())


# --- list items asked by their letter -------------------------------------------------------------------------------

# "item (c)", "point (b)", "(d) of the restrictions", "clause (ii)"; a bare "(c)" too, not "5(b)"
_ASKED_ITEM = re.compile(r"(?:\b(?:item|point|paragraph|subsection|letter|bullet|clause)\s+)?(?<![\w.])"
                         r"\(([a-z]|[ivx]{1,4})\)"  # not "Section 5(b)": a reference
                         r"|\b(?:item|point|bullet)\s+([a-z])\b(?!\s*\))", re.I)


def asked_item(question: str) -> str | None:
    """The letter a question asks a list item by ("What does item (c) of the restrictions forbid?" → c)."""
    match = _ASKED_ITEM.search(question)
    return (match.group(1) or match.group(2)).lower() if match else None


def holds_item(letter: str, text: str) -> bool:
    """The text has a list item marked with the letter: inline "(c) remove any proprietary notices" or a line
    "c. Partner will …"."""
    return bool(re.search(rf"(?:^|\s)\({re.escape(letter)}\)\s|^{re.escape(letter)}[.)]\s", text, re.I | re.M))
