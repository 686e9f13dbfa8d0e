"""One tenant's contracts never move another tenant's copilot rankings in the embedded index.

DESIGN.md, "Tenancy and isolation (the first security property)": a tenant sees only its own objects, "on every read,
list, search and copilot retrieval"; and, "Copilot": contracts are "split by clause, embedded and indexed per tenant
(OpenSearch k-NN + BM25 hybrid in AWS; an embedded index locally)". In AWS each tenant has an index of its own, so
BM25's document frequencies and average lengths are the tenant's own (docs/copilot.md). The embedded index kept
every tenant's clauses in one FTS5 table, so a tenant that uploaded contracts (the legal or admin role) changed the
word statistics of every other tenant's questions and could push their clauses down or out of the top five.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from copilot.hash_embedder import HashEmbedder
from revgov.adapters.local_index import SqliteClauseIndex
from revgov.domain.copilot import Scope
from revgov.services.clause_indexing import index_documents
from revgov.services.copilot import index_tenant

ROOT = Path(__file__).resolve().parents[2]
# the SOP's invoice clauses (SOP-2.1: "The invoice SLA is 48 hours"), asked in words that other clauses share too
QUESTIONS = ("What is the invoice SLA for posting a shipment?", "Who approves a credit note for a disputed invoice?",
             "How is subscription proration computed?")


def _flood(code: str, word: str, clauses: int = 60) -> str:
    """A rival tenant's contract that says `word` over and over, in long clauses and short ones."""
    body = "\n\n".join(
        f"### {code}-{n} Clause {n}\n" + " ".join([word] * (1 + n % 7) + ["filler text of a rival agreement"] * (n % 5))
        for n in range(1, clauses + 1)
    )
    return f"# Rival Agreement\n\nDocument: {code}\nVersion: 1\nEffective: 2026-01-01\n\n## 1. Flood\n\n{body}\n"


def _ranking(index: SqliteClauseIndex, question: str, mode: str) -> list[tuple[Any, ...]]:
    """What the tenant is shown of a question: the top five, each with its fused score, BM25 rank and cosines."""
    return [(h.passage.clause_id, h.score, h.lexical_rank, h.dense, h.part_dense)
            for h in index.search(Scope("northwind", all_partners=True), question, k=5, mode=mode)]


WORDS = ("invoice", "shipment", "credit", "subscription", "approves", "proration")
FLOODS = [(f"flood-{n}.md", _flood(f"FL{chr(65 + n)}", word)) for n, word in enumerate(WORDS)]


def _rankings(index: SqliteClauseIndex) -> dict[tuple[str, str], list[tuple[Any, ...]]]:
    return {(q, mode): _ranking(index, q, mode) for q in QUESTIONS for mode in ("hybrid", "lexical")}


def _word_tables(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%'")]


def test_another_tenants_documents_leave_a_tenants_top_five_and_scores_exactly_the_same(tmp_path: Path) -> None:
    index = SqliteClauseIndex(tmp_path / "index.sqlite", HashEmbedder())
    index_tenant(index, ROOT / "tenants", "northwind")
    before = _rankings(index)
    assert all(len(r) == 5 for r in before.values())
    index_documents(index, "rival", FLOODS)
    assert index.search(Scope("rival", all_partners=True), "invoice", k=5)  # the rival's clauses are indexed
    assert _rankings(index) == before
    index.delete_tenant("rival")  # and offboarding the rival leaves them as they were too
    assert _rankings(index) == before


def test_offboarding_drops_the_tenants_word_table_and_a_reprovisioned_id_starts_empty(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    index = SqliteClauseIndex(path, HashEmbedder())
    index_tenant(index, ROOT / "tenants", "northwind")
    index_documents(index, "rival", FLOODS)
    assert len(_word_tables(path)) == 2
    assert index.delete_tenant("rival") == 60 * len(WORDS)
    (kept,) = _word_tables(path)  # northwind's
    fresh = _flood("NEW", "warranty", clauses=3)
    index_documents(index, "rival", [("new.md", fresh)])  # the id provisioned again, with a contract of its own
    scope = Scope("rival", all_partners=True)
    assert index.search(scope, "invoice shipment credit", k=5, mode="lexical") == []
    assert {h.passage.clause_id for h in index.search(scope, "warranty", k=5)} == {"NEW-1", "NEW-2", "NEW-3"}
    (table,) = set(_word_tables(path)) - {kept}
    with sqlite3.connect(path) as db:
        assert db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 3  # nothing old left
    index.remove_document("rival", "NEW")
    with sqlite3.connect(path) as db:
        assert db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0


# The word index of a file written before per-tenant statistics (local_index._SCHEMA at c5787fe8): one FTS5 table over
# every tenant's clauses, kept by triggers on `passages`.
_OLD_WORD_INDEX = """
CREATE VIRTUAL TABLE IF NOT EXISTS passages_fts USING fts5(
    title, text, content='passages', content_rowid='id', tokenize='porter unicode61');
CREATE TRIGGER IF NOT EXISTS passages_ai AFTER INSERT ON passages BEGIN
    INSERT INTO passages_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END;
CREATE TRIGGER IF NOT EXISTS passages_ad AFTER DELETE ON passages BEGIN
    INSERT INTO passages_fts(passages_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text); END;
CREATE TRIGGER IF NOT EXISTS passages_au AFTER UPDATE ON passages BEGIN
    INSERT INTO passages_fts(passages_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
    INSERT INTO passages_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END;
"""


def test_a_data_dir_from_before_is_converted_on_start_to_a_word_table_per_tenant(tmp_path: Path) -> None:
    """`make run` keeps `.revgov` across restarts: a file with the one shared table is opened, converted (its shared
    table and triggers dropped, each tenant's table filled from the stored clauses) and ranks as a new file does."""
    new, old = tmp_path / "new.sqlite", tmp_path / "old.sqlite"
    for path in (new, old):  # the same clauses in the same rows
        index = SqliteClauseIndex(path, HashEmbedder())
        index_tenant(index, ROOT / "tenants", "northwind")
        index_documents(index, "rival", FLOODS)
    expected = _rankings(SqliteClauseIndex(new, HashEmbedder()))
    with sqlite3.connect(old) as db:  # the same clauses, laid out as the old code laid them out
        for table in _word_tables(old):
            db.execute(f"DROP TABLE {table}")
        db.executescript(_OLD_WORD_INDEX)
        db.execute("INSERT INTO passages_fts(passages_fts) VALUES ('rebuild')")
        shared = [r[0] for r in db.execute(
            "SELECT p.clause_id FROM passages_fts JOIN passages p ON p.id = passages_fts.rowid WHERE passages_fts"
            " MATCH '\"invoice\" OR \"shipment\"' AND p.tenant_id = 'northwind' ORDER BY bm25(passages_fts, 2.0, 1.0)"
            " LIMIT 5")]
    assert shared != [c for c, *_ in expected[(QUESTIONS[0], "lexical")]][:5]  # the rival's words moved northwind's
    converted = SqliteClauseIndex(old, HashEmbedder())
    with sqlite3.connect(old) as db:
        left = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE name LIKE 'passages\\_%' ESCAPE '\\'"
                                         " AND type IN ('table', 'trigger') AND name NOT LIKE 'passages\\_fts\\_%'"
                                         " ESCAPE '\\'")}
    assert left == {"passages_segments_ad"} and len(_word_tables(old)) == 2
    assert _rankings(converted) == expected
    assert _rankings(SqliteClauseIndex(old, HashEmbedder())) == expected  # a second start changes nothing
    converted.delete_tenant("rival")
    assert _rankings(converted) == _rankings_alone(tmp_path)


def _rankings_alone(tmp_path: Path) -> dict[tuple[str, str], list[tuple[Any, ...]]]:
    index = SqliteClauseIndex(tmp_path / "alone.sqlite", HashEmbedder())
    index_tenant(index, ROOT / "tenants", "northwind")
    return _rankings(index)
