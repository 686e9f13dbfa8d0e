"""Auditor 4: PA-14.1 / CPA-14.1, the copilot usage notice where the clause puts it: the Partner Portal.

CPA-14.1: "The Partner Portal includes an AI assistant. Partners interacting with it are informed that they are
interacting with an AI system. ... Its answers are information, not legal advice, and do not amend this Agreement."
PA-14.1: "The Partner Portal includes a contract copilot ... The copilot uses artificial intelligence to retrieve and
summarise clauses ... Copilot answers are guidance only and do not amend, waive or interpret this Agreement bindingly;
the cited clause text prevails."
"""

from __future__ import annotations

import re

import pytest

from revgov.edge.routes.portal import render
from revgov.tenant_files import load_tenant_file
from support import ROOT


def _copilot_section(tenant: str) -> str:
    config = load_tenant_file(ROOT / "tenants" / tenant / "tenant.yaml")
    page, _ = render(tenant, str(config["display_name"]), config["branding"])
    match = re.search(r"<section[^>]*>\s*<h2>Ask the contract copilot</h2>.*?</section>", page, re.S)
    assert match is not None, "the portal has a copilot section"
    return match.group(0)


@pytest.mark.parametrize("tenant", ["northwind", "contoso"])
def test_pa_14_1_the_portal_tells_the_partner_the_copilot_is_an_ai_system_giving_guidance_only(tenant: str) -> None:
    section = _copilot_section(tenant)
    assert re.search(r"\bAI\b|artificial intelligence", section), "no AI-system notice"
    assert re.search(r"guidance|not legal advice", section, re.I), "no guidance-only notice"
    # Both clauses: answers "do not amend this Agreement"; PA-14.1 "the cited clause text prevails"; both cite "the
    # document and clause" and say so "where no supporting clause is found".
    text = re.sub(r"\s+", " ", section)
    assert "not legal advice" in text and "guidance only" in text
    assert "do not amend the Agreement" in text and "the cited clause text prevails" in text
    assert "citing the document and clause" in text and "when no clause supports an answer" in text
