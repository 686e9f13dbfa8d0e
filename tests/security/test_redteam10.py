"""Red team, tenth round: a partner key (and the staff whose writes decide what it reads) against what landed in the
last two sessions and the edges earlier rounds left: partner-specific contracts through the API (the copilot over a
tenant's own documents, PA-14.1 / PA-11.1), ...

Each test quotes the rule it holds the product to and failed before its fix. A tenant of the module's own
(make_party), so nothing here reads what the shared tenants' background events did.
"""

from __future__ import annotations

from typing import Any

import pytest

from security_support import make_party, offboard
from support import assert_problem

pytestmark = pytest.mark.stack

QUESTION = "What extra special rebate is earned on fiber optic transceivers?"


@pytest.fixture(scope="module")
def party(api: Any, operator: Any, stack: Any) -> Any:
    made = make_party(api, operator, stack, "northwind")
    yield made
    offboard(operator, made)


def _letter(partner_line: str, *, where: str) -> str:
    """A side letter granting one partner a confidential extra rebate; its `Partner:` line in the header (where the
    schema puts it) or after the first section heading, as a hurried edit would put it."""
    header = "# Acme side letter\n\nDocument: ASL\nVersion: 2026.1\nEffective: 2026-01-01\n"
    body = ("## 1. Special terms\n\n### ASL-1.1 Special rebate\nAcme earns an extra special rebate of 7% on fiber "
            "optic transceivers, paid quarterly by credit note.\n")
    if where == "header":
        return f"{header}{partner_line}\n\n{body}"
    section, rest = body.split("\n\n", 1)
    return f"{header}\n{section}\n{partner_line}\n\n{rest}"


def _cited(answer: dict[str, Any]) -> set[str]:
    return {c["clause"] for c in answer["citations"]}


@pytest.mark.parametrize("where, line", [
    ("section", "Partner: {mine}"),  # after the first section heading: the tenant-wide header ends before it
    ("header", "Partner: {mine} (Acme Ltd)"),  # a partner named with words after its id
    ("header", "partner: {mine}"),  # the header's key in lower case
    ("header", "Partner: {mine}\nPartner: {other}"),  # two partners: which one was meant?
], ids=["after-a-section", "words-after-the-id", "lower-case", "two-partners"])
def test_pa_11_1_a_side_letter_whose_partner_line_is_not_read_is_refused_not_published(
        party: Any, where: str, line: str) -> None:
    """PA-11.1: "The Distributor does not disclose one Partner's pricing, registrations, rebates or Customers to
    another Partner, including through the contract copilot"; PA-14.1 "The copilot only accesses data of the Partner
    asking". The contract schema (contract-document.schema.json): "An optional `Partner: ptr_…` header line makes it
    that partner's own contract." A side letter whose Partner line was not where or as the parser reads it (after the
    first `## ` section, an id followed by words, `partner:` in lower case) was stored and indexed as a tenant-wide
    document: every other partner's copilot quoted the 7% rebate; with two Partner lines the first silently won.
    Now each is a 400 naming /markdown (RFC 9457), nothing stored or indexed; the same letter with its Partner line
    in the header is that partner's alone (positive control)."""
    mine, other = party.partners
    legal = party.by_role["legal"]
    letter = _letter(line.format(mine=mine, other=other), where=where)
    problem = assert_problem(legal.request("PUT", "/v1/contracts/ASL", {"markdown": letter}), 400)
    assert [e["path"] for e in problem["errors"]] == ["/markdown"], problem
    assert legal.get("/v1/contracts/ASL").status_code == 404
    rival = party.partner_keys[other].post("/v1/copilot/ask", {"question": QUESTION})
    assert rival.status_code == 200 and "ASL-1.1" not in _cited(rival.json()), rival.text
    assert "ASL" not in rival.json()["searched"]["documents"]


def test_pa_11_1_a_side_letter_with_its_partner_line_in_the_header_is_that_partners_only(party: Any) -> None:
    """The positive control of the test above: `Partner: ptr_…` in the header makes the letter the partner's own
    contract; the partner's copilot quotes it, the other partner's neither quotes nor lists it (PA-11.1, PA-14.1)."""
    mine, other = party.partners
    legal = party.by_role["legal"]
    put = legal.request("PUT", "/v1/contracts/ASL", {"markdown": _letter(f"Partner: {mine}", where="header")})
    assert put.status_code == 200, put.text
    try:
        own = party.partner_keys[mine].post("/v1/copilot/ask", {"question": QUESTION}).json()
        assert "ASL-1.1" in _cited(own) and "7%" in own["answer"], own
        rival = party.partner_keys[other].post("/v1/copilot/ask", {"question": QUESTION}).json()
        assert "ASL-1.1" not in _cited(rival) and "ASL" not in rival["searched"]["documents"], rival
    finally:
        assert legal.delete("/v1/contracts/ASL").status_code == 200
