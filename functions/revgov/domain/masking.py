"""Sensitive fields masked in text that is logged or shown: emails, IBANs and bank details, card numbers, tax ids and
phone numbers replaced by `[kind]` (PA-14.1 / CPA-14.1: copilot questions and answers "logged with sensitive fields
masked"). Its own module so that what masks a text (retention, explanations, audit) does not load the copilot."""

from __future__ import annotations

import re
from collections.abc import Callable

from .email_address import EMAIL_ADDRESS


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _luhn(found: str) -> bool:
    """ISO/IEC 7812-1's check digit: a run of 13-19 digits is a card number (PAN) only when it holds."""
    if not 13 <= len(_digits(found)) <= 19:
        return False
    total = 0
    for i, digit in enumerate(int(c) for c in reversed(_digits(found))):
        doubled = digit * 2 if i % 2 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0


def _iban_check(found: str) -> bool:
    """ISO 13616-1's mod-97 check, on the upper case: an IBAN typed in lower case is one only when it holds."""
    text = "".join(c for c in found if c.isascii() and c.isalnum()).upper()
    number = "".join(str(int(c, 36)) for c in text[4:] + text[:4])
    return int(number) % 97 == 1


_IBAN_START = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}[0-9]{2}")
_IBAN_SEPARATORS = "._/-"  # besides any space (a no-break or narrow one too)


class _IbanFinder:
    """Every IBAN in a text, however its characters are grouped (spaces of any kind, dots, slashes, hyphens,
    underscores, at most two between characters) or cased: the longest run of 15 to 34 letters and digits from a
    country code and check digits that ends at a word's end and passes ISO 13616-1's mod-97 check. A word after
    the number is no part of it (a regular expression's longest match swallowed one, failed the check and left the
    IBAN as typed); `sub` as `re.Pattern.sub` with a string."""

    def sub(self, replacement: str, text: str) -> str:
        out, done = [], 0
        for start in _IBAN_START.finditer(text):
            if start.start() < done:
                continue
            end = self._end(text, start.start(), start.end())
            if end is not None:
                out += [text[done : start.start()], replacement]
                done = end
        return "".join([*out, text[done:]])

    @staticmethod
    def _end(text: str, begin: int, at: int) -> int | None:
        kept, ends, gap = 4, [], 0
        while at < len(text) and kept < 34:
            char = text[at]
            if char.isascii() and char.isalnum():
                kept, gap = kept + 1, 0
                ends.append((kept, at + 1))
            elif (char.isspace() or char in _IBAN_SEPARATORS) and gap < 2:
                gap += 1
            else:
                break
            at += 1
        for kept, end in reversed(ends):
            closed = end == len(text) or not (text[end].isascii() and text[end].isalnum())
            if kept >= 15 and closed and _iban_check(text[begin:end]):
                return end
        return None


class _CheckedPattern:
    """A pattern whose matches are masked only when `check` holds (a check digit), so words and order numbers that
    merely look like a card number or an IBAN stay as written; `sub` as `re.Pattern.sub` with a string."""

    def __init__(self, pattern: re.Pattern[str], check: Callable[[str], bool]) -> None:
        self.pattern, self.check = pattern, check

    def sub(self, replacement: str, text: str) -> str:
        return self.pattern.sub(lambda m: replacement if self.check(m.group(0)) else m.group(0), text)


class _LabelledPattern:
    """A pattern whose `value` group is masked only where the text names it (its `label` group, kept as written): a
    number that is also an order, invoice or PO number is taken for an identifier only when called one."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern

    def sub(self, replacement: str, text: str) -> str:
        return self.pattern.sub(lambda m: m.group(0)[: m.start("value") - m.start()] + replacement, text)


# A US Social Security number (or ITIN, EIN, TIN) of nine digits, bare or grouped 3-2-4 by spaces or dots, named by its
# label (PA-11.2 / CPA-11.2 personal data; 123-45-6789 is masked as a tax id without one): nine digits alone are as
# often an order or invoice number, so those stay as written.
_SSN = _LabelledPattern(re.compile(
    r"(?i:\b(?:ssn|ssan|ss\s?#|social\s+security(?:\s+(?:number|no\.?|nr\.?|#))?"
    r"|itin|taxpayer\s+id(?:entification)?(?:\s+(?:number|no\.?))?)|\b(?-i:TIN|EIN))"
    r"(?i:\s*(?:(?:is|was|=|:|#|no\.?|number)\s*)*)"
    r"(?P<value>\d{3}(?P<group>[ .]?)\d{2}(?P=group)\d{4})(?![\w-]|\.\d)"
))

_MASKS: tuple[tuple[str, re.Pattern[str] | _CheckedPattern | _LabelledPattern | _IbanFinder], ...] = (
    ("email", EMAIL_ADDRESS),
    ("iban", re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")),
    ("iban", _IbanFinder()),
    (
        "bank-account",
        re.compile(
            r"\b(?:account|acct|routing|sort code|aba|swift|bic)\s*(?:no\.?|number|#|code)?\s*[:#]?\s*"
            r"[A-Z0-9][A-Z0-9 -]{5,}[A-Z0-9]\b",
            re.IGNORECASE,
        ),
    ),
    # grouped by any space, a hyphen, a dot or a slash (one between groups); a number only where Luhn's digit holds
    ("card", _CheckedPattern(re.compile(r"(?<![\w./-])\d{4}(?:[\s./-]?\d{3,6}){1,4}(?![\w/-]|\.\d)"),
                             lambda found: _luhn(found))),
    ("card", re.compile(r"\b(?:\d{4}[ -]?){3}\d{4}\b")),
    (
        "tax-id",
        re.compile(
            r"\b(?:\d{2}-\d{7}|\d{3}-\d{2}-\d{4}"
            r"|(?:AT|BE|BG|CY|CZ|DE|DK|EE|EL|ES|FI|FR|HR|HU|IE|IT|LT|LU|LV|MT|NL|PL|PT|RO|SE|SI|SK|GB|CHE)"
            r"U?[ -]?\d{8,12}(?:B\d{2})?)\b"
        ),
    ),
    ("tax-id", _SSN),
    ("phone", re.compile(r"(?<![\w-])(?:\+\d{1,3}[ .-]?)?\(?\d{2,4}\)?[ .-]\d{3,4}[ .-]\d{3,4}(?![\w-])")),
)


def mask_sensitive(text: str) -> str:
    """Emails, IBANs and bank details, card numbers, tax ids and phone numbers replaced by `[kind]`."""
    for kind, pattern in _MASKS:
        text = pattern.sub(f"[{kind}]", text)
    return text


_PLACEHOLDER = re.compile(r"\[(?:" + "|".join(kind for kind, _ in _MASKS) + r")\]")


def without_masks(text: str) -> str:
    """The masked text with its `[kind]` placeholders dropped: what retrieval and evidence tests look at."""
    return re.sub(r"\(\s*[,;]?\s*\)|\s+(?=[,;:)])|\s{2,}", " ", _PLACEHOLDER.sub("", text)).strip()
