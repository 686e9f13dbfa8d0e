"""The embedded index's word side: one FTS5 table per tenant (title, text; rowid = passages.id), so BM25's statistics
are the tenant's own, as with an OpenSearch index per tenant (docs/copilot.md "BM25 statistics per tenant")."""

from __future__ import annotations

import sqlite3

__all__ = ["forget_words", "give_each_tenant_its_words", "lexical_table", "tables", "words_of"]

_SHARED_FTS = ("passages_fts", ("passages_ai", "passages_ad", "passages_au"))


def lexical_table(tenant_id: str) -> str:
    """The tenant's own FTS5 table (title, text; rowid = passages.id): its name spells the tenant id in hex, so any
    id makes a plain identifier and no two tenants share one."""
    return "passages_fts_" + tenant_id.encode("utf-8").hex()


def tables(db: sqlite3.Connection) -> set[str]:
    return {str(row[0]) for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def words_of(db: sqlite3.Connection, tenant_id: str) -> str:
    """The tenant's word table, made (and filled with the tenant's stored clauses) when it has none yet."""
    table = lexical_table(tenant_id)
    if table not in tables(db):
        db.execute(f"CREATE VIRTUAL TABLE {table} USING fts5(title, text, tokenize='porter unicode61')")
        db.execute(
            f"INSERT INTO {table} (rowid, title, text) SELECT id, title, text FROM passages"  # noqa: S608
            " WHERE tenant_id = ? ORDER BY id",
            (tenant_id,),
        )
    return table


def forget_words(db: sqlite3.Connection, tenant_id: str, row_ids: list[int]) -> None:
    """Take deleted clause rows out of the tenant's word table."""
    table = lexical_table(tenant_id)
    if row_ids and table in tables(db):
        db.executemany(f"DELETE FROM {table} WHERE rowid = ?", [(i,) for i in row_ids])  # noqa: S608


def give_each_tenant_its_words(db: sqlite3.Connection) -> None:
    """Every tenant with clauses gets its own word table, filled from its stored clauses: a file from before
    per-tenant statistics loses its shared table and the triggers that fed it (in one transaction, so a crash
    leaves the old file as it was and the next start converts it)."""
    shared, triggers = _SHARED_FTS

    def pending() -> list[str]:
        have = tables(db)
        return [str(row[0]) for row in db.execute("SELECT DISTINCT tenant_id FROM passages")
                if lexical_table(str(row[0])) not in have]

    if shared not in tables(db) and not pending():
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        for trigger in triggers:
            db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        db.execute(f"DROP TABLE IF EXISTS {shared}")
        for tenant_id in pending():
            words_of(db, tenant_id)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
