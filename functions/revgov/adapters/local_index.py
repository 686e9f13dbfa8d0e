"""The embedded clause index: SQLite FTS5 (BM25) and vectors in one file, fused with reciprocal rank fusion.

One SQLite file serves every tenant; every query carries the tenant and partner filter in its WHERE clause, and the
vector side scores only the rows that filter admits. The word side has one FTS5 table per tenant (`local_index_words`),
made at the tenant's first indexing and dropped with the tenant, so BM25's document frequencies and average lengths
are the tenant's own, as in OpenSearch's index per tenant: no tenant's contracts move another's rankings. A file from
before (one `passages_fts` for every tenant) is converted when it is opened. numpy loads on the first search.
"""

from __future__ import annotations

import sqlite3
import threading
from array import array
from pathlib import Path
from typing import Any, NamedTuple

from ..domain.copilot import (
    CANDIDATES,
    Hit,
    IndexedDocument,
    IngestResult,
    Passage,
    Scope,
    dense_score,
    keywords,
    reciprocal_rank_fusion,
)
from ..domain.copilot_units import embedded_units, retrieval_passages
from ..ports import Embedder
from .local_index_words import forget_words, give_each_tenant_its_words, lexical_table, tables, words_of
from .private_files import private_file

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    tenant_id TEXT NOT NULL, document TEXT NOT NULL, partner_id TEXT, title TEXT NOT NULL, version TEXT NOT NULL,
    document_hash TEXT NOT NULL, model TEXT NOT NULL, PRIMARY KEY (tenant_id, document));
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY, tenant_id TEXT NOT NULL, document TEXT NOT NULL, clause_id TEXT NOT NULL,
    partner_id TEXT, title TEXT NOT NULL, text TEXT NOT NULL, document_title TEXT NOT NULL,
    document_version TEXT NOT NULL, clause_hash TEXT NOT NULL, document_hash TEXT NOT NULL, model TEXT NOT NULL,
    vector BLOB NOT NULL, units BLOB, UNIQUE (tenant_id, clause_id));
-- a long clause's retrieval passages (`copilot_units.retrieval_passages`): searched by meaning, never quoted
CREATE TABLE IF NOT EXISTS segments (
    id INTEGER PRIMARY KEY, passage_id INTEGER NOT NULL, title TEXT NOT NULL, text TEXT NOT NULL,
    vector BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS segments_passage ON segments (passage_id);
CREATE TRIGGER IF NOT EXISTS passages_segments_ad AFTER DELETE ON passages BEGIN
    DELETE FROM segments WHERE passage_id = old.id; END;
"""
_COLUMNS = (
    "id, tenant_id, document, document_title, document_version, clause_id, title, text, partner_id, clause_hash,"
    " document_hash"
)
_IN_SCOPE = "p.tenant_id = ? AND (p.partner_id IS NULL OR ? OR p.partner_id = ?)"
# the single word table of every tenant that files from before per-tenant statistics have, and its triggers
class _Vectors(NamedTuple):
    """The clause vectors a scope admits (row ids in order) and its clauses' passage vectors, each passage's row
    pointing at its clause's place in `ids`."""

    ids: list[int]
    matrix: Any
    owners: Any
    segments: Any


def _scope_args(scope: Scope) -> tuple[Any, ...]:
    return (scope.tenant_id, 1 if scope.all_partners else 0, scope.partner_id)


def _passage(row: tuple[Any, ...]) -> Passage:
    return Passage(
        tenant_id=row[1], document=row[2], document_title=row[3], document_version=row[4], clause_id=row[5],
        title=row[6], text=row[7], partner_id=row[8], clause_hash=row[9], document_hash=row[10],
    )


class SqliteClauseIndex:
    def __init__(self, path: str | Path, embedder: Embedder, *, query_embedder: Embedder | None = None) -> None:
        self._embedder = embedder
        self._query_embedder = query_embedder or embedder  # questions need not be cached like clauses
        private_file(path)  # clause text of every tenant: its owner's only (0600, `.revgov` 0700)
        self._db = sqlite3.connect(str(path), timeout=60, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        with self._lock:
            if str(path) != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(passages)")}
            if "units" not in columns:
                self._db.execute("ALTER TABLE passages ADD COLUMN units BLOB")  # a file from before unit vectors
            if "segmented" not in columns:  # a file from before retrieval passages: NULL until they are stored
                self._db.execute("ALTER TABLE passages ADD COLUMN segmented INTEGER")
            give_each_tenant_its_words(self._db)
        self._matrices: dict[str, tuple[tuple[int, int], _Vectors]] = {}
        self._generation = 0
        self._query_vectors: dict[str, Any] = {}  # the last questions' vectors: search and the reader share them

    # --- ingestion ----------------------------------------------------------------------------------------------
    def index_document(self, document: IndexedDocument) -> IngestResult:
        """Embed the clauses that changed, the units of each (what the answerability model compares the question
        with) and the retrieval passages of each long one (`copilot_units.retrieval_passages`), so that no question
        pays for embedding; an unchanged document whose units and passages are stored is a no-op."""
        model = self._embedder.model_id
        with self._lock:
            known = self._db.execute(
                "SELECT document_hash, model FROM documents WHERE tenant_id = ? AND document = ?",
                (document.tenant_id, document.document),
            ).fetchone()
            have = {
                row[0]: (row[1], row[2], row[3], row[4])
                for row in self._db.execute(
                    "SELECT clause_id, clause_hash, vector, units, segmented FROM passages WHERE tenant_id = ?"
                    " AND document = ? AND model = ?",
                    (document.tenant_id, document.document, model),
                )
            }
        stale = [p for p in document.passages if have.get(p.clause_id, ("", b"", None, None))[0] != p.clause_hash]
        changed = {p.clause_id for p in stale}
        unitless = [p for p in document.passages if p.clause_id in changed or have[p.clause_id][2] is None]
        unsegmented = [p for p in document.passages if p.clause_id in changed or have[p.clause_id][3] is None]
        if known == (document.document_hash, model) and not unitless and not unsegmented:
            return IngestResult(document.document, "unchanged", len(document.passages), 0)
        fresh = dict(
            zip(
                (p.clause_id for p in stale),
                self._embedder.embed([p.indexed_text for p in stale]),
                strict=True,
            )
        )
        units = self._embed_units(unitless)
        segments = self._embed_segments(unsegmented)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if known == (document.document_hash, model):  # a file indexed before unit vectors: add them
                    self._store_units(document.tenant_id, units, document.passages)
                    result = IngestResult(document.document, "unchanged", len(document.passages), 0)
                else:
                    result = self._write(document, have, fresh, units, model, known is None)
                self._store_segments(document.tenant_id, segments, document.passages)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._generation += 1
        return result

    def _embed_units(self, passages: list[Passage]) -> dict[str, bytes]:
        """Each clause's unit vectors, one float32 row per unit, in one batch (the embedding cache skips known text)."""
        texts = [embedded_units(p.title, p.text) for p in passages]
        vectors = iter(self._embedder.embed([t for group in texts for t in group]))
        return {
            p.clause_id: array("f", [x for _ in group for x in next(vectors)]).tobytes()
            for p, group in zip(passages, texts, strict=True)
        }

    def _embed_segments(self, passages: list[Passage]) -> dict[str, list[tuple[str, bytes]]]:
        """Each long clause's retrieval passages with their vectors (none for a clause short enough to be its own)."""
        texts = [retrieval_passages(p.text) for p in passages]
        vectors = iter(self._embedder.embed([f"{p.title}. {t}" for p, group in zip(passages, texts, strict=True)
                                             for t in group]))
        return {p.clause_id: [(t, array("f", next(vectors)).tobytes()) for t in group]
                for p, group in zip(passages, texts, strict=True)}

    def _store_segments(self, tenant_id: str, segments: dict[str, list[tuple[str, bytes]]],
                        passages: tuple[Passage, ...] | list[Passage]) -> None:
        """Replace the passages of each clause in `segments`, if its row still holds that clause."""
        by_id = {p.clause_id: p for p in passages}
        for clause_id, group in segments.items():
            row = self._db.execute(
                "SELECT id FROM passages WHERE tenant_id = ? AND clause_id = ? AND clause_hash = ? AND model = ?",
                (tenant_id, clause_id, by_id[clause_id].clause_hash, self._embedder.model_id),
            ).fetchone()
            if row is None:
                continue
            self._db.execute("DELETE FROM segments WHERE passage_id = ?", (row[0],))
            self._db.executemany(
                "INSERT INTO segments (passage_id, title, text, vector) VALUES (?,?,?,?)",
                [(row[0], by_id[clause_id].title, text, blob) for text, blob in group],
            )
            self._db.execute("UPDATE passages SET segmented = 1 WHERE id = ?", (row[0],))

    def _store_units(self, tenant_id: str, units: dict[str, bytes], passages: tuple[Passage, ...] | list[Passage]
                     ) -> None:
        hashes = {p.clause_id: p.clause_hash for p in passages}
        self._db.executemany(
            "UPDATE passages SET units = ? WHERE tenant_id = ? AND clause_id = ? AND clause_hash = ? AND model = ?",
            [(blob, tenant_id, clause, hashes[clause], self._embedder.model_id) for clause, blob in units.items()],
        )

    def _write(
        self,
        document: IndexedDocument,
        have: dict[str, tuple[str, bytes, bytes | None, int | None]],
        fresh: dict[str, list[float]],
        units: dict[str, bytes],
        model: str,
        new: bool,
    ) -> IngestResult:
        ids = [p.clause_id for p in document.passages]
        marks = ",".join("?" * len(ids))
        clash = self._db.execute(
            "SELECT clause_id, document FROM passages WHERE tenant_id = ? AND document != ?"  # noqa: S608
            f" AND clause_id IN ({marks})",
            (document.tenant_id, document.document, *ids),
        ).fetchone()
        if clash:
            raise ValueError(f"clause {clash[0]} is already indexed in document {clash[1]}; clause ids are unique")
        words = words_of(self._db, document.tenant_id)
        gone = [int(row[0]) for row in self._db.execute(
            "DELETE FROM passages WHERE tenant_id = ? AND document = ?"  # noqa: S608
            f" AND clause_id NOT IN ({marks}) RETURNING id",
            (document.tenant_id, document.document, *ids),
        ).fetchall()]
        forget_words(self._db, document.tenant_id, gone)
        for p in document.passages:
            vector = array("f", fresh[p.clause_id]).tobytes() if p.clause_id in fresh else have[p.clause_id][1]
            (row_id,) = self._db.execute(
                "INSERT INTO passages (tenant_id, document, clause_id, partner_id, title, text, document_title,"
                " document_version, clause_hash, document_hash, model, vector, units)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT (tenant_id, clause_id) DO UPDATE SET document = excluded.document,"
                " partner_id = excluded.partner_id, title = excluded.title, text = excluded.text,"
                " document_title = excluded.document_title, document_version = excluded.document_version,"
                " clause_hash = excluded.clause_hash, document_hash = excluded.document_hash,"
                " model = excluded.model, vector = excluded.vector, units = excluded.units RETURNING id",
                (p.tenant_id, p.document, p.clause_id, p.partner_id, p.title, p.text, p.document_title,
                 p.document_version, p.clause_hash, p.document_hash, model, vector,
                 units[p.clause_id] if p.clause_id in units else have[p.clause_id][2]),
            ).fetchone()
            self._db.execute(f"DELETE FROM {words} WHERE rowid = ?", (row_id,))  # noqa: S608
            self._db.execute(f"INSERT INTO {words} (rowid, title, text) VALUES (?,?,?)",  # noqa: S608
                             (row_id, p.title, p.text))
        self._db.execute(
            "INSERT OR REPLACE INTO documents VALUES (?,?,?,?,?,?,?)",
            (document.tenant_id, document.document, document.partner_id, document.title, document.version,
             document.document_hash, model),
        )
        return IngestResult(document.document, "added" if new else "updated", len(ids), len(fresh), len(gone))

    def documents(self, tenant_id: str) -> dict[str, str | None]:
        with self._lock:
            rows = self._db.execute(
                "SELECT document, partner_id FROM documents WHERE tenant_id = ? ORDER BY document", (tenant_id,)
            ).fetchall()
        return dict(rows)

    def tenants(self) -> list[str]:
        """Every tenant with something indexed (the local stack drops those its database no longer has)."""
        with self._lock:
            rows = self._db.execute("SELECT DISTINCT tenant_id FROM documents ORDER BY tenant_id").fetchall()
        return [str(row[0]) for row in rows]

    def remove_document(self, tenant_id: str, document: str) -> int:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                gone = [int(row[0]) for row in self._db.execute(
                    "DELETE FROM passages WHERE tenant_id = ? AND document = ? RETURNING id", (tenant_id, document)
                ).fetchall()]
                forget_words(self._db, tenant_id, gone)
                self._db.execute("DELETE FROM documents WHERE tenant_id = ? AND document = ?", (tenant_id, document))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._generation += 1
        return len(gone)

    def delete_tenant(self, tenant_id: str) -> int:
        """Every clause of the tenant, and its word table with them (offboarding, re-provisioning)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                removed = self._db.execute("DELETE FROM passages WHERE tenant_id = ?", (tenant_id,)).rowcount
                self._db.execute("DELETE FROM documents WHERE tenant_id = ?", (tenant_id,))
                self._db.execute(f"DROP TABLE IF EXISTS {lexical_table(tenant_id)}")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._generation += 1
        return int(removed)

    # --- reads --------------------------------------------------------------------------------------------------
    def get(self, scope: Scope, clause_ids: list[str]) -> list[Passage]:
        if not clause_ids:
            return []
        marks = ",".join("?" * len(clause_ids))
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM passages p WHERE {_IN_SCOPE} AND p.clause_id IN ({marks})",  # noqa: S608
                (*_scope_args(scope), *clause_ids),
            ).fetchall()
        found = {row[5]: _passage(row) for row in rows}
        return [found[c] for c in dict.fromkeys(clause_ids) if c in found]

    def search(self, scope: Scope, query: str, *, k: int = 5, mode: str = "hybrid") -> list[Hit]:
        """Clauses ranked by words (BM25 over whole clauses) and by meaning: the larger of the clause's own cosine and
        its best retrieval passage's; the two sides fused by reciprocal rank."""
        import numpy as np

        lexical = self._lexical(scope, query) if mode in ("hybrid", "lexical") else []
        ids, cosines, best = self._dense(scope, query)
        # the best first, ties in row order (a stable sort), as the list sort this replaces
        dense_order = [ids[i] for i in np.argsort(-dense_score(cosines, best), kind="stable")[:CANDIDATES]]
        rankings = {"hybrid": [lexical, dense_order], "lexical": [lexical], "dense": [dense_order]}[mode]
        fused = reciprocal_rank_fusion([[str(i) for i in r] for r in rankings])[:k]
        if not fused:
            return []
        place = {row_id: i for i, row_id in enumerate(ids)}
        lexical_rank = {row_id: rank for rank, row_id in enumerate(lexical, start=1)}
        chosen = [int(key) for key, _ in fused]
        marks = ",".join("?" * len(chosen))
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM passages p WHERE {_IN_SCOPE} AND p.id IN ({marks})",  # noqa: S608
                (*_scope_args(scope), *chosen),
            ).fetchall()
        by_id = {row[0]: _passage(row) for row in rows}
        return [
            Hit(by_id[row_id], score, float(cosines[place[row_id]]) if row_id in place else None,
                lexical_rank.get(row_id), float(best[place[row_id]]) if row_id in place else None)
            for row_id, score in ((int(key), s) for key, s in fused)
            if row_id in by_id
        ]

    def _lexical(self, scope: Scope, query: str) -> list[int]:
        """Clause row ids by BM25 over whole clauses, in the tenant's own word table (so with the tenant's own
        statistics), the partner fence on top (BM25 over the short passages was tried and dropped: a passage holding
        one of the question's words outranked the clause that holds them all)."""
        words = keywords(query)
        if not words:
            return []
        match = " OR ".join(f'"{w}"' for w in words)
        table = lexical_table(scope.tenant_id)
        with self._lock:
            if table not in tables(self._db):  # nothing indexed for this tenant
                return []
            rows = self._db.execute(
                f"SELECT p.id FROM {table} JOIN passages p ON p.id = {table}.rowid"  # noqa: S608
                f" WHERE {table} MATCH ? AND {_IN_SCOPE}"
                f" ORDER BY bm25({table}, 2.0, 1.0) LIMIT ?",
                (match, *_scope_args(scope), CANDIDATES),
            ).fetchall()
        return [int(r[0]) for r in rows]

    def _dense(self, scope: Scope, query: str) -> tuple[list[int], Any, Any]:
        """Row ids in scope, each clause's cosine, and the larger of it and its best retrieval passage's cosine (numpy
        arrays in row order). Ranking reads `dense_score`."""
        import numpy as np

        vectors = self._matrix(scope)
        if not vectors.ids:
            return [], np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.float32)
        vector = self._query_vector(query)
        cosines = vectors.matrix @ vector
        best = cosines.copy()
        if len(vectors.owners):  # passages are stored by clause: each clause's run of them reduced at once
            starts = np.flatnonzero(np.r_[True, vectors.owners[1:] != vectors.owners[:-1]])
            owners = vectors.owners[starts]
            best[owners] = np.maximum(best[owners], np.maximum.reduceat(vectors.segments @ vector, starts))
        return vectors.ids, cosines, best

    def _query_vector(self, query: str) -> Any:
        import numpy as np

        with self._lock:
            vector = self._query_vectors.get(query)
        if vector is None:
            vector = np.asarray(self._query_embedder.embed([query])[0], dtype=np.float32)
            with self._lock:
                if len(self._query_vectors) >= 64:
                    self._query_vectors.clear()
                self._query_vectors[query] = vector
        return vector

    def unit_similarities(self, query: str, passages: list[Passage]) -> list[list[float]] | None:
        """The question's cosine to each unit of each passage, from the unit vectors stored at indexing. A clause
        without them (its row changed since it was retrieved, or a file from before unit vectors) is embedded now and,
        when its row still holds that clause, stored."""
        import numpy as np

        if not passages:
            return []
        query_vector = self._query_vector(query)
        stored = self._stored_units(passages)
        missing = [p for p in passages if p.clause_hash not in stored]
        if missing:
            fresh = self._embed_units(missing)
            with self._lock:
                for p in missing:
                    self._store_units(p.tenant_id, {p.clause_id: fresh[p.clause_id]}, [p])
            stored.update({p.clause_hash: fresh[p.clause_id] for p in missing})
        dimension = self._embedder.dimension
        return [
            [float(x) for x in np.frombuffer(stored[p.clause_hash], dtype=np.float32).reshape(-1, dimension)
             @ query_vector]
            for p in passages
        ]

    def _stored_units(self, passages: list[Passage]) -> dict[str, bytes]:
        """Stored unit vectors by clause hash (the hash covers the clause's id, title, text and partner)."""
        found: dict[str, bytes] = {}
        with self._lock:
            for p in passages:
                row = self._db.execute(
                    "SELECT units FROM passages WHERE tenant_id = ? AND clause_id = ? AND clause_hash = ?"
                    " AND model = ? AND units IS NOT NULL",
                    (p.tenant_id, p.clause_id, p.clause_hash, self._embedder.model_id),
                ).fetchone()
                if row is not None:
                    found[p.clause_hash] = bytes(row[0])
        return found

    def _matrix(self, scope: Scope) -> _Vectors:
        import numpy as np

        key = repr((scope.tenant_id, scope.partner_id, scope.all_partners))
        with self._lock:
            # data_version moves when another process commits to the same file (e.g. a second test worker)
            generation = (self._generation, self._db.execute("PRAGMA data_version").fetchone()[0])
            cached = self._matrices.get(key)
            if cached is not None and cached[0] == generation:
                return cached[1]
            rows = self._db.execute(
                f"SELECT p.id, p.vector FROM passages p WHERE {_IN_SCOPE} AND p.model = ? ORDER BY p.id",  # noqa: S608
                (*_scope_args(scope), self._embedder.model_id),
            ).fetchall()
            parts = self._db.execute(
                "SELECT s.passage_id, s.vector FROM segments s JOIN passages p ON p.id = s.passage_id"  # noqa: S608
                f" WHERE {_IN_SCOPE} AND p.model = ? ORDER BY s.passage_id, s.id",
                (*_scope_args(scope), self._embedder.model_id),
            ).fetchall()
            ids = [int(r[0]) for r in rows]
            place = {row_id: i for i, row_id in enumerate(ids)}
            dimension = self._embedder.dimension
            vectors = _Vectors(
                ids,
                _stacked([r[1] for r in rows], dimension),
                np.asarray([place[int(r[0])] for r in parts], dtype=np.intp),
                _stacked([r[1] for r in parts], dimension),
            )
            if len(self._matrices) > 256:
                self._matrices.clear()
            self._matrices[key] = (generation, vectors)
        return vectors


def _stacked(blobs: list[bytes], dimension: int) -> Any:
    import numpy as np

    if not blobs:
        return np.zeros((0, dimension), dtype=np.float32)
    return np.vstack([np.frombuffer(b, dtype=np.float32) for b in blobs])

