"""Red team, twelfth round: bank details a partner types into its bank-transfer request's note, spelled otherwise.

API 1.59.0 (PA-7.8 bank transfer): "no bank details are taken (the ERP holds them; an IBAN or card number typed in
the note is masked before it is stored)"; bank-transfer-request.schema.json: "anything that looks like an IBAN,
card or account number in the note is masked before it is stored". A note is read by finance as it settles: an
account number kept there is the payment-redirection lure the rule keeps out ("please pay this quarter to ...").
The masking took an IBAN grouped by single spaces only: grouped by dots, slashes, underscores or no-break spaces,
or in lower case followed by a word, it was stored as typed (a card number grouped by dots or slashes too).
An IBAN is recognised by its ISO 13616-1 check (mod 97), whatever groups it; a card number by its Luhn digit.
"""

from __future__ import annotations

import pytest

from revgov.domain.masking import mask_sensitive

IBAN = "DE89370400440532013000"  # the ISO 13616 example IBAN: mod 97 holds
CARD = "4111111111111111"  # a Luhn-valid test card number


def _grouped(number: str, sep: str, size: int = 4) -> str:
    return sep.join(number[i : i + size] for i in range(0, len(number), size))


@pytest.mark.parametrize("sep", [" ", ".", "/", "-", "_", "\u00a0", "\u202f", "  ", ""])
@pytest.mark.parametrize("case", [str.upper, str.lower])
def test_an_iban_however_grouped_is_masked(sep: str, case) -> None:
    typed = case(_grouped(IBAN, sep))
    for text in (f"please pay to {typed}", f"IBAN: {typed} please", f"{typed}, thanks", f"({typed})"):
        masked = mask_sensitive(text)
        assert "[iban]" in masked and "0532" not in masked and "0130" not in masked, (text, masked)


def test_a_spanish_iban_in_lower_case_followed_by_a_word_is_masked() -> None:
    """24 characters, six groups of four: the word after it is no part of it (ES91 2100 0418 4502 0005 1332)."""
    masked = mask_sensitive("es91 2100 0418 4502 0005 1332 please")
    assert masked == "[iban] please", masked


@pytest.mark.parametrize("sep", [" ", "-", ".", "/", "\u00a0", ""])
def test_a_card_number_however_grouped_is_masked(sep: str) -> None:
    masked = mask_sensitive(f"card {_grouped(CARD, sep)} ok")
    assert masked == "card [card] ok", masked


@pytest.mark.parametrize("text", [
    "order SO-2026-1234 shipped", "invoice INV-A100 of 2026-10-31", "see PA-7.8 and CPA-7.8",
    "NW-SW-24P x 40", "version 1.65.0", "DE89 is our branch code", "gb00 west bank branch", "xx12 3456 7890 12345",
])  # fmt: skip
def test_words_that_are_no_iban_stay_as_written(text: str) -> None:
    """Words, ids and versions, and an IBAN-like run whose check digits fail, stay as typed."""
    assert mask_sensitive(text) == text
