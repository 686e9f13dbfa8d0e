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


@pytest.mark.xfail(
    strict=True,
    reason="auditor4: PA-14.1 / CPA-14.1: the portal's copilot section does not tell the partner it is an AI system "
    "whose answers are guidance only (not legal advice, never amending the Agreement; the cited clause prevails). "
    "Fix (copilot/portal owner): a short notice under the heading in edge/portal/portal.html, e.g. 'You are "
    "interacting with an AI system. Answers are guidance only, not legal advice; they do not amend the Agreement and "
    "the cited clause prevails.'",
)
@pytest.mark.parametrize("tenant", ["northwind", "contoso"])
def test_pa_14_1_the_portal_tells_the_partner_the_copilot_is_an_ai_system_giving_guidance_only(tenant: str) -> None:
    section = _copilot_section(tenant)
    assert re.search(r"\bAI\b|artificial intelligence", section), "no AI-system notice"
    assert re.search(r"guidance|not legal advice", section, re.I), "no guidance-only notice"
