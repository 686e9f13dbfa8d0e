"""Red team: invisible and reordering characters in text staff read and decide on, over HTTP.

Unicode TR#36 (Unicode Security Considerations) §2 and UTS#39 §3.3 ("invisible characters"), and the Trojan Source
paper (CVE-2021-42574): the marks LRM/RLM/ALM (U+200E, U+200F, U+061C), the zero-width characters (U+200B-U+200D,
U+2060), the byte order mark U+FEFF and the separators U+2028/U+2029 hide or reorder text a person approves on. These
fields already refused bidirectional overrides and isolates ("line breaks and tabs are kept, other control characters
and bidirectional overrides are refused"); each of these characters was accepted and stored. API.md: "Bad input always
gets a clear problem+json error and changes nothing" (400 naming the field). One definition,
schemas/api/text.schema.json, is referenced by every such field (tests/unit/test_text_schema.py walks them all).
"""

from __future__ import annotations

from typing import Any

import pytest

from billing_support import billing_tenant_in, issued_october
from support import assert_problem, northwind_silver_partners

pytestmark = pytest.mark.stack

INVISIBLE = ["\u200e", "\u200f", "\u061c", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u2028", "\u2029"]


def _hidden(char: str) -> str:
    return f"delivery note DN-11{char}82 is signed"


@pytest.fixture(scope="module")
def waiting(api: Any, operator: Any, stack: Any) -> Any:
    """A partner's invoice dispute that finance asked a question on (waiting on the partner, SOP-1.3)."""
    tenants = billing_tenant_in(api, operator, stack)
    tenant = next(tenants)
    october, own, _ = issued_october(tenant, api)
    filed = own.post(f"/v1/invoices/{october['invoice_id']}/disputes",
                     {"line_no": 1, "amount": "1.00", "reason": "4 not 5"})
    assert filed.status_code == 201, filed.text
    approval = filed.json()["approval_id"]
    yield tenant, own, october["invoice_id"], approval
    next(tenants, None)


@pytest.mark.parametrize("char", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
def test_a_dispute_reason_question_and_partner_reply_refuse_invisible_characters(waiting: Any, char: str) -> None:
    tenant, own, invoice_id, approval = waiting
    refused = assert_problem(own.post(f"/v1/invoices/{invoice_id}/disputes",
                                      {"line_no": 1, "amount": "1.00", "reason": _hidden(char)}), 400)
    assert [e["path"] for e in refused["errors"]] == ["/reason"]
    refused = assert_problem(tenant.finance.post(f"/v1/approvals/{approval}/ask-partner",
                                                 {"question": _hidden(char)}), 400)
    assert [e["path"] for e in refused["errors"]] == ["/question"]
    refused = assert_problem(own.post(f"/v1/approvals/{approval}/partner-reply", {"reply": _hidden(char)}), 400)
    assert [e["path"] for e in refused["errors"]] == ["/reply"]
    # nothing changed: one dispute (the fixture's), still pending, never asked
    queue = tenant.finance.get("/v1/approvals", status="pending", queue="finance").json()["items"]
    assert [item["approval_id"] for item in queue] == [approval]


def test_the_same_routes_keep_line_breaks_tabs_and_non_latin_text(waiting: Any) -> None:
    tenant, own, _invoice_id, approval = waiting
    asked = tenant.finance.post(f"/v1/approvals/{approval}/ask-partner", {"question": "Lieferschein?\n\tbitte"})
    assert asked.status_code == 200, asked.text
    replied = own.post(f"/v1/approvals/{approval}/partner-reply", {"reply": "نعم — 株式会社 — Zürich\r\n"})
    assert replied.status_code == 200, replied.text


@pytest.fixture(scope="module")
def leaving(stack: Any, api: Any) -> Any:
    return northwind_silver_partners(stack, api, ("Invisible",), "InvisibleText")["partners"][0]


@pytest.mark.parametrize("char", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
def test_a_non_renewal_reason_refuses_invisible_characters(leaving: Any, char: str) -> None:
    partner_id, mine = leaving
    refused = assert_problem(mine.post(f"/v1/partners/{partner_id}/non-renewal", {"reason": _hidden(char)}), 400)
    assert [e["path"] for e in refused["errors"]] == ["/reason"]
    assert mine.get(f"/v1/partners/{partner_id}/term").json()["non_renewal"] is None
