"""A rule's figures and the clause it cites say the same thing: every number a rule sets (a percentage, days, hours,
an amount, a count) is written somewhere in the text of the clause the rule cites, in some form ("12%", "12
percent", "12 per cent", "twelve", "5,000.00", "5000"; 0.5 as "50%"). When they differ the clause wins, so the
policy is refused where it differs (pure: the caller hands in the clause texts).

Not every number in a rule is a figure of its clause. The figures the policy sets that a clause leaves to it are
listed in `NOT_CLAUSE_FIGURES` by pointer pattern, each with the reason; only those are passed over (and zero, and a
routing category's SLA hours the routing matrix states), everything else must be in the text: in its own cell where
the clause tabulates it (PA-6.2's caps by tier and family), else anywhere in the clause (docs/policy.md "Figures and
their clauses")."""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import FieldError
from .policy import rules

# The figures a policy sets although the clause its rule cites does not state them, by where they sit (a pattern of
# the pointer under `/policy`, `*` one step), each with why. Only these are passed over; every other number of a rule
# must be written in its clause. Zero is never asked of a clause: a rule setting 0 grants none of what the clause
# grants (PA-9.5's MDF percentage of a tier the clause leaves out, a partner type needing no certification, a state
# without sales tax).
NOT_CLAUSE_FIGURES: Mapping[str, str] = {
    "/partner_tiers/*/rank": "the order of the tiers in the policy, not a figure of the agreement",
    "**/unit_cost": "the Distributor's own cost (margin arithmetic), never stated to the partner",
    "/billing/price_list/*/list_price": "the price list in force (PA-1.2 / CPA-1.2: the Distributor's price list, "
                                        "not the agreement)",
    "/tier_review/*/month": "the calendar month the review runs in (PA-3.6 / CPA-3.5 name it: January, July)",
    "/pricing/promotions/*/percent": "a promotion is published in the Partner Portal (PA-6.4 / CPA-6.4), not in the "
                                     "agreement, which states how promotions combine",
    "/billing/tax/**/percent": "a tax rate is the law's (PA-10.1 / CPA-10.1 charge taxes as the law requires)",
    "/billing/late_payment/interest/reference_rates/*": "the published reference rate of each half-year (CPA-10.7 "
                                                        "names the rate, the central bank publishes its figure)",
    "/billing/plausibility/future_tolerance_seconds": "clock skew allowed on an ERP event's time, a technical setting",
    "/pricing/renewal_approval_threshold/annual_value": "a human-in-the-loop checkpoint of the Distributor's own; the "
                                                        "routing clause it cites only routes the approval",
    "/onboarding/term/reminder_days": "how long before the clause's notice deadline Revgov reminds, a setting",
    "/exception_routing/categories/partner_activation_nonstandard_terms/sla_business_days":
        "PA-6.7 / CPA-6.7 require Legal's approval and give it no time: the queue's SLA is the policy's",
    "/exception_routing/categories/unbilled_fulfilment/sla_hours": "SOP-2.1 / COP-2.1 set the invoice SLA (48 hours) "
        "whose breach the exception is; the queue's time to clear it is the policy's",
    "/exception_routing/categories/audit_repayment/sla_hours": "PA-12.1 / CPA-12.1 give the repayment after an audit "
        "no time: the finance queue's SLA is the policy's",
    "/exception_routing/escalation/lead_at_percent": "SOP-4.2 says it in words, \"When the SLA is breached\" (100%)",
    "/mdf/expires_after_quarters": "PA-9.5 says it in words: \"by the end of the Quarter following the Quarter of "
                                   "accrual\" (1)",
}
# A routing category's SLA hours come from the routing matrix when the clause it enforces states none: such a figure
# may be written in the clause `exception_routing.triage` cites (SOP-4.1 / COP-4.1, "a queue and an SLA per category").
_MATRIX_FIGURES = ("sla_hours",)

_NUMBER = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\w.,])\d+(?:\.\d+)?")
_PERCENT_WORDS = re.compile(r"\s*(?:%|percent\b|per\s+cent\b)", re.IGNORECASE)
_CLAUSE_REF = re.compile(r"\b[A-Z]{2,5}-\d+(?:\.\d+)*")
_NUMERIC = re.compile(r"^\d+(?:\.\d+)?$")
_UNITS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
          "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
          "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
          "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "once": 1, "twice": 2}  # fmt: skip
_WORD = re.compile(r"\b(" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r")(?:-(one|two|three|four|five|six|"
                   r"seven|eight|nine))?\b", re.IGNORECASE)  # fmt: skip


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", "")).normalize()
    except InvalidOperation:
        return None


def written_figures(text: str) -> tuple[set[Decimal], set[Decimal]]:
    """The numbers a clause's text writes (digits with or without thousands separators, or words), and those of them
    written as a percentage. Clause references (PA-4.3) are not figures."""
    text = _CLAUSE_REF.sub(" ", text)
    numbers: set[Decimal] = set()
    percents: set[Decimal] = set()
    # each number read once, then whether a percent follows it, digits and words alike (a matcher of its own for
    # percentages retried every digit of a long run of digits and commas: quadratic, red team 11)
    for match in _NUMBER.finditer(text):
        value = _decimal(match.group())
        if value is not None:
            numbers.add(value)
            if _PERCENT_WORDS.match(text, match.end()):
                percents.add(value)
    for match in _WORD.finditer(text):
        word, unit = match.groups()
        value = Decimal(_UNITS[word.lower()] + (_UNITS[unit.lower()] if unit else 0))
        numbers.add(value)
        if _PERCENT_WORDS.match(text, match.end()):
            percents.add(value)
    if re.search(r"\btwice\b", text, re.IGNORECASE):  # "after twice the SLA": 200% of it
        numbers.add(Decimal(200))
    return numbers, percents


def _is_rule(node: Any) -> bool:
    return isinstance(node, dict) and isinstance(node.get("id"), str) and isinstance(node.get("clause"), str)


def _pattern(pattern: str) -> re.Pattern[str]:
    parts = (re.escape(p) for p in pattern.split("/"))
    body = "/".join(parts).replace(re.escape("**"), ".*").replace(re.escape("*"), "[^/]+")
    return re.compile("/policy" + body + "$")


_PASSED_OVER = tuple(_pattern(p) for p in NOT_CLAUSE_FIGURES)


def _own_figures(node: Any, path: str, name: str) -> Iterator[tuple[str, str, Decimal]]:
    """The numeric leaves of a rule that belong to it (not to a rule nested in it): pointer, parameter name, value."""
    if isinstance(node, bool) or node is None:
        return
    if isinstance(node, int | float) or (isinstance(node, str) and _NUMERIC.match(node)):
        value = _decimal(str(node))
        if value is not None and value != 0 and not any(p.match(path) for p in _PASSED_OVER):
            yield path, name, value
    elif isinstance(node, dict):
        if _is_rule(node) and name != "":
            return
        for key, value in node.items():
            if key not in ("id", "clause"):
                yield from _own_figures(value, f"{path}/{key}", key)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _own_figures(value, f"{path}/{index}", name)


def _cells(text: str) -> list[list[str]]:
    """The rows of the Markdown tables in a clause, each a list of normalised cells (separator rows left out)."""
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("|") and not re.fullmatch(r"[|\s:-]+", line):
            rows.append([" ".join(c.strip().lower().replace("_", " ").split()) for c in line.strip("|").split("|")])
    return rows


class _Tables:
    """A clause's Markdown tables read once for every figure looked up in them (a policy may hold thousands of rules
    citing one clause of up to 200,000 characters: reading the text again for each figure took minutes, red team 11):
    where each name heads a column, and which rows each first cell starts, by row length."""

    def __init__(self, text: str) -> None:
        self.rows = _cells(text)
        self.headed: dict[str, list[tuple[int, int]]] = {}  # a cell's name -> (row, column) where it stands, i > 0
        self.first: dict[tuple[str, int], list[int]] = {}  # (a row's first cell, the row's length) -> rows, in order
        for index, row in enumerate(self.rows):
            for column, name in enumerate(row):
                if column > 0 and (not self.headed.get(name) or self.headed[name][-1][0] != index):
                    self.headed.setdefault(name, []).append((index, column))
            if row:
                self.first.setdefault((row[0], len(row)), []).append(index)

    def cell(self, pointer: str) -> str | None:
        """The table cell a figure's pointer names, when the clause tabulates it: a row whose first cell is one step of
        the pointer (`gold`) under a header naming another (`hardware`): PA-6.2's caps. None when no table names it.
        The first header (in the text's order) with a row of its length under it wins, its first such column."""
        steps = {" ".join(step.lower().replace("_", " ").split()) for step in pointer.split("/")}
        headers = sorted(h for step in steps for h in self.headed.get(step, ()))
        for n, (header_index, column) in enumerate(headers):
            if n and headers[n - 1][0] == header_index:
                continue  # the header's first column naming a step was tried
            width = len(self.rows[header_index])
            below = [rows[bisect.bisect_right(rows, header_index)] for step in steps
                     if (rows := self.first.get((step, width))) and rows[-1] > header_index]
            if below:
                return self.rows[min(below)][column]
        return None


def _said(value: Decimal, numbers: set[Decimal], percents: set[Decimal]) -> bool:
    return value in numbers or (Decimal(0) < value <= 1 and (value * 100).normalize() in percents)


@functools.lru_cache(maxsize=64)
def _quoted(text: str) -> str:
    """A clause as a problem quotes it: on one line, at most 1,200 characters (once per clause, not per figure)."""
    quoted = " ".join(text.split())
    return quoted if len(quoted) <= 1200 else quoted[:1197] + "..."


def figure_problems(policy: Mapping[str, Any], clause_texts: Mapping[str, str]) -> list[FieldError]:
    """Each figure of a rule its cited clause does not write, named by its JSON pointer under `/policy`, with the
    clause quoted (a clause missing from `clause_texts` is the clause-existence check's problem, not this one's)."""
    triage = (policy.get("exception_routing") or {}).get("triage") or {}
    matrix = written_figures(clause_texts.get(str(triage.get("clause")), ""))[0]
    problems: list[FieldError] = []
    read: dict[str, tuple[tuple[set[Decimal], set[Decimal]], _Tables]] = {}  # each clause read once, however cited
    for path, rule in rules(policy, "/policy"):
        text = clause_texts.get(rule["clause"])
        if text is None:
            continue
        if rule["clause"] not in read:
            read[rule["clause"]] = (written_figures(text), _Tables(text))
        (numbers, percents), tables = read[rule["clause"]]
        for where, name, value in _own_figures(rule, path, ""):
            cell = tables.cell(where)
            if cell is not None:  # the clause tabulates it: its own cell must say it (15 elsewhere in the table is not)
                if _said(value, *written_figures(cell)):
                    continue
            elif _said(value, numbers, percents) or (name in _MATRIX_FIGURES and value in matrix):
                continue
            quoted = _quoted(text)
            problems.append(FieldError(where, f"{rule['id']} sets {value:f} but its clause {rule['clause']} does not "
                                              f"say {value:f} (the clause wins): {rule['clause']} \"{quoted}\""))
    return problems
