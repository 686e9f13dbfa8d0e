"""The embedded engine's database: one SQLite file (WAL), its schema versioned by ordered migrations.

Every embedded adapter (document store, bus queues, rate limiter, idempotency records, schedules) keeps its tables
in this one file, so one `revgov dev` process, or a CLI next to it, sees one consistent state. Writes go through
`BEGIN IMMEDIATE` transactions (one writer at a time, conditions checked under the write lock: the serializable
transactions DynamoDB gives); readers never block writers (WAL). `synchronous=NORMAL` in WAL mode loses nothing on a
crash or SIGKILL of the process (a committed transaction is in the WAL file before COMMIT returns); only a power loss
could drop the last transactions.

Checkpoints (copying the WAL back into the database file, with its fsyncs) run on one background thread per process,
not in the COMMIT of whichever request crossed SQLite's 1,000-page mark: that COMMIT used to hold the write lock through
two fsyncs (tens of milliseconds on a busy disk), and every request waiting to write waited with it.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from .private_files import private_file

# Each migration runs once, in order, inside one transaction; `PRAGMA user_version` records how many ran.
# Append new ones; never edit one that shipped.
MIGRATIONS: tuple[str, ...] = (
    # 1: the document store (the DynamoDB table's attributes, its lookup index and TTL attribute)
    """
    CREATE TABLE items (
        pk TEXT NOT NULL,
        sk TEXT NOT NULL,
        data TEXT,
        version INTEGER NOT NULL DEFAULT 1,
        gsi1pk TEXT,
        gsi1sk TEXT,
        expires_at INTEGER,
        PRIMARY KEY (pk, sk)
    ) WITHOUT ROWID;
    CREATE INDEX items_lookup ON items (gsi1pk, gsi1sk, pk, sk) WHERE gsi1pk IS NOT NULL;
    CREATE INDEX items_expiry ON items (expires_at) WHERE expires_at IS NOT NULL;
    """,
    # 2: the bus: one durable queue per rule (and its dead-letter queue)
    """
    CREATE TABLE messages (
        queue TEXT NOT NULL,
        id TEXT NOT NULL,
        body TEXT NOT NULL,
        visible_at REAL NOT NULL,
        receive_count INTEGER NOT NULL DEFAULT 0,
        receipt TEXT,
        sent_at REAL NOT NULL,
        PRIMARY KEY (queue, id)
    );
    CREATE INDEX messages_ready ON messages (queue, visible_at);
    CREATE UNIQUE INDEX messages_receipt ON messages (receipt) WHERE receipt IS NOT NULL;
    """,
    # 3: schedules' last runs (a restart keeps each job's cadence)
    """
    CREATE TABLE schedule_runs (
        name TEXT PRIMARY KEY,
        last_run REAL NOT NULL,
        runs INTEGER NOT NULL DEFAULT 0
    );
    """,
    # 4: powertools idempotency records and request-rate windows, per tenant (offboarding deletes both)
    """
    CREATE TABLE idempotency (
        tenant TEXT NOT NULL,
        key TEXT NOT NULL,
        status TEXT NOT NULL,
        expiry INTEGER NOT NULL,
        in_progress_expiry INTEGER,
        data TEXT,
        validation TEXT,
        PRIMARY KEY (tenant, key)
    ) WITHOUT ROWID;
    CREATE TABLE rate_counts (
        tenant TEXT NOT NULL,
        window INTEGER NOT NULL,
        who TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (tenant, window, who)
    ) WITHOUT ROWID;
    """,
    # 5: what `revgov dev` keeps about itself (the demo seed: its keys, so local.json lists the same ones each start)
    """
    CREATE TABLE local_state (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
_MAX_IDLE = 16
CHECKPOINT_SECONDS = 0.25  # how often the checkpointer copies what was committed into the database file
_WAL_KEPT_BYTES = 32 * 1024 * 1024  # a WAL that grew past this in a burst is truncated when it restarts


class SchemaTooNew(RuntimeError):
    """The file was written by a newer Revgov: this one will not guess at a schema it does not know."""


class _Checkpointer:
    """The process's one checkpoint thread, for every open Database on a file (started with the first)."""

    def __init__(self) -> None:
        self._databases: weakref.WeakSet[Database] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(self, db: Database) -> None:
        with self._lock:
            self._databases.add(db)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, daemon=True, name="sqlite-checkpoint")
                self._thread.start()

    def forget(self, db: Database) -> None:
        with self._lock:
            self._databases.discard(db)

    def _run(self) -> None:
        while True:
            time.sleep(CHECKPOINT_SECONDS)
            with self._lock:
                databases = list(self._databases)
            for db in databases:
                try:
                    db.checkpoint()
                except sqlite3.Error:  # closed under us, or busy: the next round catches up
                    continue


_CHECKPOINTER = _Checkpointer()
_OPEN: weakref.WeakSet[Database] = weakref.WeakSet()  # every Database of this process (reset in a forked child)


def _after_fork_in_child() -> None:
    for db in list(_OPEN):
        db._forked()


os.register_at_fork(after_in_child=_after_fork_in_child)


class Database:
    """One SQLite file shared by the embedded adapters, through a small pool of connections on it (a request thread
    borrows one for one transaction and gives it back, so short-lived server threads leave no connection behind)."""

    def __init__(self, path: Path | str, *, background_checkpoints: bool = True) -> None:
        """`background_checkpoints=False`: only `checkpoint()` copies the WAL into the file (a test that watches it)."""
        self.path = path if str(path) == ":memory:" else Path(path)
        if isinstance(self.path, Path):
            private_file(self.path)  # it holds the local demo keys: its owner's only (WAL files inherit the mode)
        self._idle: list[sqlite3.Connection] = []
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        # One writer at a time in this process, queued on a lock that wakes the next at once: SQLite's own busy
        # handler would make each waiting writer sleep and poll (1, 2, 5 ... 100 ms), which shows as tail latency.
        # Other processes on the file (a CLI) still meet SQLite's lock and its busy timeout.
        self._writer = threading.RLock()
        self._commits = 0  # write transactions committed; `checkpoint` skips a file nothing was written to since
        self._checkpointed = 0
        self._closed = False
        _OPEN.add(self)
        self.migrate()
        if isinstance(self.path, Path) and background_checkpoints:
            _CHECKPOINTER.watch(self)

    def _forked(self) -> None:
        """In a forked child (a policy what-if worker): the parent's connections and locks are the parent's (SQLite
        forbids using a connection across fork, and a lock another thread held stays held); open fresh ones."""
        self._idle, self._all = [], []
        self._lock, self._writer = threading.Lock(), threading.RLock()

    def _open(self) -> sqlite3.Connection:
        connection = sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA busy_timeout=30000")
        connection.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer's work (see the module's docstring)
        connection.execute(f"PRAGMA journal_size_limit={_WAL_KEPT_BYTES}")
        with self._lock:
            self._all.append(connection)
        return connection

    @contextmanager
    def _borrow(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            connection = self._idle.pop() if self._idle else None
        if connection is None:
            connection = self._open()
        try:
            yield connection
        finally:
            if connection.in_transaction:  # never hand back a connection mid-transaction
                connection.execute("ROLLBACK")
            self._give_back(connection)

    def _give_back(self, connection: sqlite3.Connection) -> None:
        """Return a borrowed connection to the pool, or close it if the pool is full or the Database was closed while
        it was out (close() never closes a connection another thread is using: SQLite would crash under it)."""
        with self._lock:
            kept = not self._closed and len(self._idle) < _MAX_IDLE
            if kept:
                self._idle.append(connection)
            elif connection in self._all:
                self._all.remove(connection)
        if not kept:
            connection.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: BEGIN IMMEDIATE takes the write lock first, so what it reads stays true until
        COMMIT; anything raised rolls every statement back."""
        with self._writer, self._borrow() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                if connection.in_transaction:  # SQLite already rolled back after SQLITE_FULL / IOERR: a ROLLBACK
                    connection.execute("ROLLBACK")  # now would raise and hide the error that ended it
                raise
            connection.execute("COMMIT")
            self._commits += 1

    def writing(self) -> threading.RLock:
        """The lock `write()` takes first, for a writer that must read before it writes without another writer of
        this process in between (a chain's head, then the records sealed on it); `write()` inside takes it again."""
        return self._writer

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for the reads inside (WAL: it never waits for a writer)."""
        with self._borrow() as connection:
            connection.execute("BEGIN")
            try:
                yield connection
            finally:
                if connection.in_transaction:
                    connection.execute("COMMIT")

    def fetch_one(self, sql: str, args: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        """One read statement, outside an explicit transaction: SQLite runs a lone statement in a transaction of its
        own (a snapshot for its duration), so a single read needs no BEGIN/COMMIT round trips. Several reads that must
        agree with each other use `read()`."""
        with self._borrow() as connection:
            found: tuple[Any, ...] | None = connection.execute(sql, args).fetchone()
            return found

    def fetch_all(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Every row of one read statement (a snapshot for its duration, as `fetch_one`)."""
        with self._borrow() as connection:
            return list(connection.execute(sql, args).fetchall())

    def schema_version(self) -> int:
        with self.read() as connection:
            return int(connection.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> int:
        """Bring the file to SCHEMA_VERSION; returns how many migrations ran."""
        with self.write() as connection:
            current = int(connection.execute("PRAGMA user_version").fetchone()[0])
            if current > SCHEMA_VERSION:
                raise SchemaTooNew(
                    f"{self.path} has schema version {current}; this Revgov knows up to {SCHEMA_VERSION}"
                )
            for number in range(current, SCHEMA_VERSION):
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        connection.execute(statement)
                connection.execute(f"PRAGMA user_version = {number + 1}")
        return SCHEMA_VERSION - current

    def checkpoint(self) -> bool:
        """Copy the frames committed to the WAL into the database file, as far as readers allow (PASSIVE: it waits for
        no reader and no writer; what it could not copy yet, the next round does). Returns whether it ran.

        It uses an idle connection of the pool and never opens one: after `revgov dev --reset` deleted the file, a
        forgotten Database must not create it again."""
        commits = self._commits
        with self._lock:
            ready = commits != self._checkpointed and not self._closed and self._idle
            connection = self._idle.pop() if ready else None
        if connection is None:
            return False
        try:
            _, logged, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            self._give_back(connection)
        if logged == copied:  # all of it: nothing left until the next commit
            self._checkpointed = commits
        return True

    def close(self) -> None:
        """Close the idle connections now; one still borrowed (a request thread, the checkpointer) is closed when it is
        given back. Closing it under the thread using it crashed the process (a segfault inside SQLite)."""
        _CHECKPOINTER.forget(self)
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            for connection in idle:
                self._all.remove(connection)
        for connection in idle:
            try:
                connection.close()
            except sqlite3.Error:
                pass


@lru_cache(maxsize=8)
def database(path: Path) -> Database:
    """The one Database object of a file in this process (the runtime, the idempotency layers and the CLI share it)."""
    return Database(path)
