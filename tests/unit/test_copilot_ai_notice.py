"""Every copilot answer tells an API client it came from an AI system, in the words of the tenant's own clause.

CPA-14.1 (contoso): "Partners interacting with it are informed that they are interacting with an AI system. [...] Its
answers are information, not legal advice, and do not amend this Agreement."
PA-14.1 (northwind): "The copilot uses artificial intelligence to retrieve and summarise clauses [...] Copilot answers
are guidance only and do not amend, waive or interpret this Agreement bindingly; the cited clause text prevails."
The portal says so above its form; a client of `POST /v1/copilot/ask` (a reseller's own portal, an n8n flow) reads
only the answer, so the answer carries `notice`: the clause the tenant's policy names for it
(`copilot_notice: {id: COPILOT-AI-NOTICE, clause: PA-14.1}`), quoted verbatim — on an answer from the contracts, an
answer from the partner's own records, and a refusal alike.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from memory_store import memory_runtime
from revgov.adapters.answerers import LocalAnswerer
from revgov.adapters.local_index import SqliteClauseIndex
from revgov.domain.access import Principal, Role
from revgov.domain.contracts import parse_contract
from revgov.domain.partners import tiers_by_rank
from revgov.local.demo_partners import demo_application
from revgov.services import copilot, partners
from revgov.services.copilot import index_tenant
from support import ROOT


class _Embedder:
    model_id, dimension = "fake-4", 4

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [[1.0, 0.0, 0.0, 0.0] for _ in texts]


def _runtime(tmp_path: Path, tenant: str) -> Any:
    rt, _ = memory_runtime("2026-01-05T09:00:00.000Z", tenant=tenant)
    index = SqliteClauseIndex(tmp_path / "index.sqlite", _Embedder())
    index_tenant(index, ROOT / "tenants", tenant)
    return replace(rt, clause_index=index, answerer=LocalAnswerer())


def _clause(tenant: str, clause_id: str) -> str:
    markdown = (ROOT / "tenants" / tenant / "contracts" / "partner-agreement.md").read_text()
    (clause,) = [c for c in parse_contract(markdown).clauses if c.clause_id == clause_id]
    return clause.text


def _partner_key(rt: Any, tenant: str) -> Principal:
    policy = rt.store.get(tenant, "TENANT", "PROFILE").data["config"]["policy"]
    sales = Principal(tenant, Role.SALES, "key_01JX00000000000000000SALES")
    partner_id = partners.apply(rt, sales, demo_application("Notice Networks", "reseller",
                                                            tiers_by_rank(policy)[0]))["partner_id"]
    return Principal(tenant, Role.PARTNER, "key_01JX000000000000000PARTNER", partner_id=str(partner_id))


def test_pa_14_1_every_answer_a_partner_key_reads_carries_the_clause_s_notice(tmp_path):
    rt = _runtime(tmp_path, "northwind")
    key = _partner_key(rt, "northwind")
    expected = {"clause": "PA-14.1", "document": "PA", "rule_id": "COPILOT-AI-NOTICE",
                "text": _clause("northwind", "PA-14.1")}
    assert "the cited clause text prevails" in expected["text"]
    contracts = copilot.ask(rt, key, {"question": "What is the margin floor on a quote line?"})
    own = copilot.ask(rt, key, {"question": "What is my support allowance?"})
    refused = copilot.ask(rt, key, {"question": "What is the weather in Lisbon?"})
    assert refused["refused"] is True
    for answer in (contracts, own, refused):
        assert answer["notice"] == expected


def test_cpa_14_1_a_staff_key_reads_contoso_s_own_notice(tmp_path):
    rt = _runtime(tmp_path, "contoso")
    legal = Principal("contoso", Role.LEGAL, "key_01JX00000000000000000LEGAL")
    answer = copilot.ask(rt, legal, {"question": "How are rebates paid?"})
    assert answer["notice"]["clause"] == "CPA-14.1" and answer["notice"]["document"] == "CPA"
    assert "informed that they are interacting with an AI system" in answer["notice"]["text"]
    assert answer["notice"]["text"] == _clause("contoso", "CPA-14.1")
