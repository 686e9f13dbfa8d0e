"""Red team, fourth round: what a partner key can send and read on the newest surfaces (its audit trail, what waits on
it, its appeals), and what the edge answers about itself.

Each test quotes the rule it holds the product to. PA-1.2 / PA-6.1: a quote line states "for internal review, Line
Margin"; PA-11.1 / CPA-11.1: neither party's confidential information (pricing) reaches the other beyond what the
Agreement says; API.md: "a partner never sees [...] the distributor's costs and margins".
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from revgov.domain.errors import NotFound
from support import assert_problem, northwind_silver_partners, scenario

pytestmark = pytest.mark.stack
QUOTES = scenario("pricing/http.json")
# What differs between any two records of the same kind whatever they hold: which record, when, about which object.
IDENTITY = {"record_id", "seq", "at", "subject"}


@pytest.fixture(scope="module")
def partner(stack: Any, api: Any) -> dict[str, Any]:
    made = northwind_silver_partners(stack, api, ("Probe",), "AUD")
    (partner_id, client), = made["partners"]
    return {**made, "partner_id": partner_id, "client": client}


def _every(client: Any, **query: Any) -> list[dict[str, Any]]:
    """Every audit record the client reads (GET /v1/audit), page after page."""
    items, cursor = [], None
    while True:
        page = client.get("/v1/audit", limit=200, **query, **({"cursor": cursor} if cursor else {}))
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if not cursor:
            return items


def _alike(record: dict[str, Any]) -> dict[str, Any]:
    """A record without what tells one record or object from another (its inputs name the decision it concerns)."""
    shown = {k: v for k, v in record.items() if k not in IDENTITY}
    return {**shown, "inputs": {k: v for k, v in shown["inputs"].items() if k != "subject"}}


def _quote(partner_id: str, discount: str) -> dict[str, Any]:
    """One NW-SW-24P line (list 1,250.00) at `discount`: above the Silver cap (PA-6.2: channel ops approves), below
    the finance threshold, above the margin floor; only its Line Margin differs with the discount."""
    body = copy.deepcopy(QUOTES["above_cap"])
    body["partner_id"] = partner_id
    body["lines"][0]["discount_percent"] = discount
    return body


def test_a_partners_trail_holds_no_figure_that_follows_its_quotes_line_margin(partner: dict[str, Any]) -> None:
    """PA-6.1: Line Margin is stated "for internal review"; API.md: a partner never sees the distributor's margins.
    The approval a quote opens is scored for the queue by how thin its margin is; the partner reads the records of
    both quotes (PA-12.1) and must not be able to tell their margins apart: two quotes that differ only in the discount
    (so in Line Margin) open approval records the partner reads alike, apart from which record and object they are.
    Before the fix the record's `risk_score` was 20 + (30 - margin%): margin and so Line Cost could be read back."""
    own, partner_id = partner["client"], partner["partner_id"]
    finance = partner["roles"]["finance"]
    opened = {}
    for discount in ("11.00", "13.00"):
        checked = own.post("/v1/pricing/check", _quote(partner_id, discount))
        assert checked.status_code == 200, checked.text
        (approval,) = checked.json()["approvals"]
        opened[discount] = approval["approval_id"]
    staff = {r["subject"]: r for r in _every(finance, partner_id=partner_id) if r["action"] == "approval.opened"}
    # the probe is sensitive: as kept, the two records differ by their margins (18.18 % beside 17.24 %)
    assert staff[opened["11.00"]]["inputs"] != staff[opened["13.00"]]["inputs"]
    mine = {r["subject"]: r for r in _every(own) if r["action"] == "approval.opened"}
    first, second = (_alike(mine[opened[d]]) for d in ("11.00", "13.00"))
    assert first == second, (first, second)


# --- problem+json that quotes the caller --------------------------------------------------------------------------
# The product's rule for a caller's text in a problem (domain/caller_text.py; docs/api-changelog.md 1.15.1: "`detail`
# quotes the value escaped, at most 64 characters"): quoted, control and non-ASCII characters escaped, bounded, so an
# error shown in a portal or an n8n log carries no bidirectional override (Unicode TR#36, CVE-2021-42574 "Trojan
# Source"), no terminal escape and no page of the caller's text. RFC 9457 §5: the details of a problem "must also be
# scrutinized".
TROJAN = "amount\u202e\u001b[2J<script>" + "A" * 3000


def _assert_quoted_safely(problem: dict[str, Any]) -> None:
    texts = [problem["detail"], *(e["message"] for e in problem.get("errors", []))]
    assert any("amount\\u202e\\u001b[2J<script>AAA" in text for text in texts), texts  # quoted, escaped
    for text in texts:
        assert "\u202e" not in text and "\u001b" not in text, text[:200]
        assert "A" * 100 not in text, f"{len(text)} characters: {text[:120]}…"  # at most 64 of the caller's


def test_an_unknown_query_parameter_is_named_escaped_and_bounded(partner: dict[str, Any]) -> None:
    answer = partner["client"].get("/v1/waiting", **{TROJAN: "1"})
    assert answer.status_code == 400, answer.text[:300]
    _assert_quoted_safely(answer.json())


@pytest.mark.parametrize("field", ["reply", "unknown"])
def test_a_refused_body_value_or_field_is_quoted_escaped_and_bounded(partner: dict[str, Any], field: str) -> None:
    """A reply with an override (refused by the shared text definition, schemas/api/text.schema.json) and a field
    the schema does not know: 400 naming the field, the caller's text escaped and cut in the message."""
    body = {"reply": TROJAN} if field == "reply" else {"reply": "DN-1182 attached", TROJAN: 1}
    answer = partner["client"].post("/v1/approvals/apr_01JX0000000000000000000000/partner-reply", body)
    assert answer.status_code == 400, answer.text[:300]
    _assert_quoted_safely(answer.json())


def test_a_malformed_id_in_the_path_is_quoted_escaped_and_bounded(partner: dict[str, Any]) -> None:
    """API Gateway hands the route its path parameters percent-decoded: a malformed id is a 404 whose detail quotes
    it escaped and bounded (the edge's check, before any store is read), as the local server's does."""
    from revgov.edge import http
    from revgov.edge.registry import OPERATIONS

    get_deal = next(op for op in OPERATIONS if op.name == "get_deal")
    context = {"verdict": "ok", "tenant_id": "northwind", "role": "partner", "key_id": "key_x",
               "partner_id": partner["partner_id"]}  # fmt: skip
    with pytest.raises(NotFound) as refused:
        http.build_call(get_deal, context=context, headers={}, params={"deal_id": TROJAN}, query={}, raw_body=b"",
                        runtime=None, max_body_bytes=1024, correlation_id="c")  # fmt: skip
    _assert_quoted_safely({"detail": refused.value.detail})
    answer = partner["client"].get("/v1/deals/" + "A" * 3000)
    assert answer.status_code == 404 and "A" * 100 not in answer.json()["detail"], answer.text[:200]


# --- a lone UTF-16 surrogate --------------------------------------------------------------------------------------
# JSON's `\ud800` escape names half of a UTF-16 pair: no character. RFC 8259 §8.2: a string holding one has
# "unpredictable" behaviour; RFC 7493 (I-JSON) §2.1: strings "MUST NOT include code points that identify Surrogates".
# No text can store, hash (the audit chain's canonical JSON is UTF-8) or answer it. API.md: "Bad input gets a clear
# problem+json error" ("400 malformed"; "A 5xx is a bug"); it was a 500 for a partner's copilot question and a dropped
# connection for a field name (its 400 could not be written).
@pytest.mark.parametrize("raw, field", [
    (rb'{"question": "what is \ud800 the rebate?"}', "/question"),  # a lone high surrogate in a value
    (rb'{"question": "rebate \udfff tiers"}', "/question"),  # a lone low surrogate
    (rb'{"\ud800": 1}', "/\\ud800"),  # in a member name: named escaped, as sent
    (rb'{"question": "a \ud83d\ude00 pair is a character, \udc00 is not"}', "/question"),
])  # fmt: skip
def test_a_lone_surrogate_is_a_400_naming_the_field(partner: dict[str, Any], raw: bytes, field: str) -> None:
    answer = partner["client"].request("POST", "/v1/copilot/ask", raw=raw)
    problem = assert_problem(answer, 400)
    assert "surrogate" in problem["detail"] and [e["path"] for e in problem["errors"]] == [field], problem


def test_a_surrogate_pair_is_one_character_and_answered(partner: dict[str, Any]) -> None:
    raw = rb'{"question": "What is the quarterly volume rebate? \ud83d\ude00"}'
    answer = partner["client"].request("POST", "/v1/copilot/ask", raw=raw)
    assert answer.status_code == 200, answer.text[:300]
