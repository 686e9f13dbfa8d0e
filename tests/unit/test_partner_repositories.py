"""Partners and tenants in the store (issue #21): one module owns each collection name, and a filing onto a partner
retries a lost race the way it always did while a business refusal is answered at once.

docs/onboarding.md: "Any other move answers **409** with `current_status` and `allowed_next`."
services/partners.py (`_filed`): concurrent uploads to one partner each "read it again and apply its change to what
is there now, after a jittered pause, rather than answering 409" — twelve times, then a 503 to retry.
"""

from __future__ import annotations

import ast
import time
from pathlib import Path
from typing import Any

import pytest

from memory_store import memory_runtime
from revgov.domain.access import Principal, Role
from revgov.domain.errors import ConcurrentUpdate, Conflict, StaleWrite
from revgov.domain.partners import tiers_by_rank
from revgov.local.demo_partners import demo_application
from revgov.ports import Changes, Put
from revgov.services import contracts, partner_repository, partners, tenant_repository, tenants
from support import for_this_thread

PACKAGE = Path(__file__).resolve().parents[2] / "functions" / "revgov"
OWNED = {
    "PARTNER": "services/partner_repository.py",
    "TENANT": "services/tenant_repository.py",
    "PROFILE": "services/tenant_repository.py",
    "TENANTS": "services/tenant_repository.py",
    "SECRET": "services/tenant_repository.py",
    "WEBHOOK": "services/tenant_repository.py",
    "POLICY": "services/tenant_repository.py",
    "CASE": "services/case_repository.py",
    "CASEWAIT": "services/case_repository.py",
    "CASEOPEN": "services/case_repository.py",
    "DECISION": "services/decision_repository.py",
    "DECISION_PART": "services/decision_repository.py",
}
# Any module other than the owner that spells one of these names fails.
NOW = "2026-11-10T10:00:00.000Z"
OPS = Principal("northwind", Role.CHANNEL_OPS, "key_01JX0000000000000000000001")
ADMIN = Principal("northwind", Role.ADMIN, "key_01JX0000000000000000000002")
DOCUMENT = {"document_type": "tax_form", "reference": "dms://t/tax.pdf", "checksum": "sha256:" + "0" * 64,
            "issued_at": "2026-10-01"}


def test_only_the_repositories_spell_the_partner_tenant_case_and_decision_collection_names() -> None:
    spelt = [
        (str(path.relative_to(PACKAGE)), node.lineno, node.value)
        for path in sorted(PACKAGE.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and node.value in OWNED
        and str(path.relative_to(PACKAGE)) != OWNED[node.value]
    ]
    assert spelt == []


def test_the_repositories_read_back_what_the_use_cases_wrote() -> None:
    rt, _ = memory_runtime(NOW)
    tenant, version = tenant_repository.load(rt.store, "northwind")
    assert (tenant, version) == tenants.load_tenant(rt, "northwind")
    assert "northwind" in set(tenant_repository.tenant_ids(rt.store))
    partner = _applied(rt)
    found, _ = partner_repository.load(rt.store, "northwind", partner["partner_id"])
    assert found["status"] == "applied" and found["legal_name"] == "Repository Test Ltd"
    assert partner_repository.get_many(rt.store, "northwind", [partner["partner_id"], "ptr_none"]).keys() == {
        partner["partner_id"]
    }


def _applied(rt: Any) -> dict[str, Any]:
    policy = tenants.load_tenant(rt, "northwind")[0].policy
    return partners.apply(rt, OPS, demo_application("Repository Test Ltd", "reseller", tiers_by_rank(policy)[0]))


def test_a_filing_that_keeps_losing_the_race_gives_up_after_twelve_attempts_with_a_503(monkeypatch) -> None:
    rt, _ = memory_runtime(NOW)
    partner_id = _applied(rt)["partner_id"]
    # toolkit's `time` is the process's: the stack's threads would stop sleeping (or fail) too
    for_this_thread(monkeypatch, time, "sleep", lambda _seconds: None)
    attempts = []

    def losing(tenant_id: str, changes: Changes) -> list[dict[str, Any]]:
        attempts.append(tenant_id)
        raise StaleWrite(f"partner {partner_id} changed meanwhile; read it again")  # what the store raises

    monkeypatch.setattr(rt.store, "commit", losing)
    with pytest.raises(ConcurrentUpdate, match=f"partner {partner_id} kept changing under this write; retry"):
        partners.add_document(rt, OPS, partner_id, DOCUMENT)
    assert len(attempts) == 12


def test_a_refused_filing_answers_409_at_once_and_writes_nothing(monkeypatch) -> None:
    rt, _ = memory_runtime(NOW)
    partner = _applied(rt)
    stored = rt.store.get("northwind", partner_repository.PARTNERS, partner["partner_id"])
    terminated = {**stored.data, "status": "terminated"}
    rt.store.commit("northwind", Changes(puts=[Put(partner_repository.PARTNERS, stored.key, terminated)]))
    before = rt.store.get("northwind", partner_repository.PARTNERS, partner["partner_id"])
    for_this_thread(monkeypatch, time, "sleep", lambda _seconds: pytest.fail("a refusal is no race"))
    with pytest.raises(Conflict) as refused:
        partners.add_document(rt, OPS, partner["partner_id"], DOCUMENT)
    assert refused.value.extra == {"current_status": "terminated", "allowed_next": []}
    assert rt.store.get("northwind", partner_repository.PARTNERS, partner["partner_id"]) == before


def test_a_contract_read_lists_every_revision_however_long_the_history() -> None:
    """docs/copilot.md: `GET /v1/contracts/{document}` answers "one document with its revision history"; the history
    was cut at the store's first page of 200 revisions."""
    rt, _ = memory_runtime(NOW)
    history = [
        Put(contracts.REVISIONS, f"NW-LONG#{n:05d}", {"document": "NW-LONG", "revision": n, "action": "amended",
                                                       "markdown": "x", "sha256": None})
        for n in range(1, 206)
    ]
    for start in range(0, len(history), 50):  # a store transaction holds at most 100 items
        rt.store.commit("northwind", Changes(puts=history[start : start + 50]))
    read = contracts.get_contract(rt, ADMIN, "NW-LONG")
    assert [r["revision"] for r in read["revisions"]] == list(range(1, 206))
    assert read["contract"] is None and all("markdown" not in r for r in read["revisions"])
