"""Red team 2: a partner's notice of non-renewal (PA-13.1 / CPA-13.1) carries a reason Channel Operations and Legal read
(and n8n forwards in `partner.non_renewal`). Like the other partner text staff read (tests/unit/
test_redteam_partner_text.py: "line breaks and tabs are kept, other control characters and bidirectional overrides
are refused"), it took NUL, BEL and U+202E from a partner key (probed on the running product: stored as sent)."""

from __future__ import annotations

import pytest

from revgov import schemas

SCHEMA = "api/partner-non-renewal.schema.json"


@pytest.mark.parametrize("value", ["\u0000abc", "see\u001b[2J", "a\u202ebcd", "abc\u2069", "abc\u0085", "abc\u0007"])
def test_a_non_renewal_reason_refuses_control_characters_and_bidi_overrides(value: str) -> None:
    assert [e.path for e in schemas.problems(SCHEMA, {"reason": value})] == ["/reason"]


@pytest.mark.parametrize("value", ["leaving the programme", "line one\n\tline two\r\n", "Zürich Ärzte AG zieht um"])
def test_an_ordinary_reason_is_kept(value: str) -> None:
    assert schemas.problems(SCHEMA, {"reason": value, "effective_at": "2027-12-31"}) == []
