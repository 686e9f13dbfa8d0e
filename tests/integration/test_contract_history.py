"""A contract's history says which clauses each revision added, changed or removed.

Found as a legal user (new-user round 8): after amending PA-6.7 through `POST /v1/contracts/PA/amendments`, `GET
/v1/contracts/PA` listed revision 2 as `amended` with its reason, author and sha256, and the `contract.amended` audit
record carried `clauses: []` and a clause count: nothing said that PA-6.7 was the clause that changed (only when the
policy cites it, through `policy_rules_to_review`), so "what did amendment no. 7 change?" needed both texts and a
diff by hand, and the earlier text is not readable through the API. docs/copilot.md (from the README): contracts are
"versioned, audited";
docs/audit.md: each record names the `clauses` it concerns. Now each revision record, the write's answer and its
audit record name the clause ids by kind (`changes: {added, changed, removed}`), and the audit record's `clauses`
lists them.
"""

from __future__ import annotations

from typing import Any

import pytest

from revgov.bootstrap import build_memory_runtime
from revgov.domain.access import Principal, Role
from revgov.local.seed import seed
from revgov.services import contracts
from revgov.settings import Settings

LEGAL = Principal("northwind", Role.LEGAL, "key_01JX00000000000000000LEGAL")


@pytest.fixture
def rt() -> Any:  # each test its own runtime: xdist may run them on different workers, in any order
    runtime = build_memory_runtime(Settings.from_env({"REVGOV_BACKEND": "memory"}))
    seed(runtime)
    return runtime


def _clause(markdown: str, clause_id: str, title: str) -> str:
    return markdown.split(f"### {clause_id} {title}\n", 1)[1].split("\n\n", 1)[0]


def _last_audit(rt: Any, action: str) -> dict[str, Any]:
    return [r for r in rt.store.iter_audit_records("northwind") if r.get("action") == action][-1]


def _amend(rt: Any) -> dict[str, Any]:
    stored = contracts.get_contract(rt, LEGAL, "PA")["contract"]["markdown"]
    text = _clause(stored, "PA-6.7", "Payment terms")
    return contracts.amend_contract(rt, LEGAL, "PA", {"reason": "amendment no. 7", "clauses": [
        # a rewording that keeps the figure a rule sets from PA-6.7 (net 30): moving the figure alone is a 422 since
        # 1.57.1 (docs/policy.md "Figures and their clauses")
        {"clause_id": "PA-6.7", "title": "Payment terms",
         "text": text.replace("net 30 days from the invoice date", "net 30 days from the date of the invoice")},
        {"clause_id": "PA-15.1", "title": "Counterparts", "text": "This Agreement may be signed in counterparts."},
    ]})  # fmt: skip


def test_an_amendment_names_the_clause_it_changed_and_the_one_it_added(rt):
    answer = _amend(rt)
    expected = {"added": ["PA-15.1"], "changed": ["PA-6.7"], "removed": []}
    assert answer["changes"] == expected
    last = contracts.get_contract(rt, LEGAL, "PA")["revisions"][-1]
    assert (last["action"], last["reason"], last["changes"]) == ("amended", "amendment no. 7", expected)
    record = _last_audit(rt, "contract.amended")
    assert record["inputs"]["changes"] == expected and record["clauses"] == ["PA-6.7", "PA-15.1"]


def test_a_replacement_names_what_it_dropped_and_the_same_text_again_changes_nothing(rt):
    _amend(rt)  # revision 2 adds PA-15.1
    before = contracts.get_contract(rt, LEGAL, "PA")["contract"]["markdown"]
    without = before.split("\n### PA-15.1 Counterparts\n", 1)[0].rstrip("\n") + "\n"
    answer = contracts.put_contract(rt, LEGAL, "PA", {"name": "partner-agreement.md", "markdown": without,
                                                      "reason": "counterparts clause withdrawn"})  # fmt: skip
    assert answer["changes"] == {"added": [], "changed": [], "removed": ["PA-15.1"]}
    assert _last_audit(rt, "contract.replaced")["clauses"] == ["PA-15.1"]
    again = contracts.put_contract(rt, LEGAL, "PA", {"name": "partner-agreement.md", "markdown": without})
    assert again["status"] == "unchanged" and again["changes"] == {"added": [], "changed": [], "removed": []}


def test_an_upload_adds_every_clause_of_the_new_document(rt):
    answer = contracts.put_contract(rt, LEGAL, "NDA", {"name": "nda.md", "markdown": (
        "# Mutual NDA\n\nDocument: NDA\nVersion: 1\nEffective: 2026-01-01\n\n## 1. Terms\n\n"
        "### NDA-1.1 Confidentiality\nEach party keeps the other's information confidential.\n\n"
        "### NDA-1.2 Term\nThis agreement lasts two years.\n")})  # fmt: skip
    assert answer["status"] == "uploaded"
    assert answer["changes"] == {"added": ["NDA-1.1", "NDA-1.2"], "changed": [], "removed": []}
    assert contracts.get_contract(rt, LEGAL, "NDA")["revisions"][0]["changes"] == answer["changes"]


def test_an_earlier_revision_is_read_whole_by_its_number(rt):
    """The text a revision replaced is kept (docs/copilot.md: `CONTRACT_REV/<document>#<n>`, "every revision's text,
    kept when replaced or removed") and now readable: `GET /v1/contracts/{document}?revision=N` adds that revision,
    with its markdown, as `revision`; a number the document never had is a 404."""
    from revgov.domain.errors import NotFound

    _amend(rt)
    first = contracts.get_contract(rt, LEGAL, "PA", revision=1)["revision"]
    assert first["revision"] == 1 and first["action"] == "uploaded"
    assert "Standard payment terms are net 30 days from the invoice date." in first["markdown"]
    now = contracts.get_contract(rt, LEGAL, "PA")
    assert "revision" not in now and "net 30 days from the date of the invoice" in now["contract"]["markdown"]
    with pytest.raises(NotFound):
        contracts.get_contract(rt, LEGAL, "PA", revision=999)
