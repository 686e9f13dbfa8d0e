"""Checkpoints of the embedded database happen off the request path.

In WAL mode a commit appends to the WAL; a checkpoint copies the WAL back into the database file and fsyncs both.
SQLite's default runs that checkpoint inside the COMMIT that crosses 1,000 WAL pages ("By default, SQLite will
automatically checkpoint whenever the WAL file reaches a certain size [1000 pages]; ... the checkpoint is run by the
COMMIT", https://www.sqlite.org/wal.html#automatic_checkpoint), so one request in a few hundred held the write lock
through two fsyncs and every writer queued behind it: the quote check's p99. Here the process's checkpointer thread
does that work ("applications can disable automatic checkpoints and run checkpoints in a separate thread", same page).
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from revgov.adapters.sqlite_db import Database

_ROW = "x" * 16_000  # four 4 KiB pages a row


def _write_rows(db: Database, count: int, start: int = 0) -> None:
    for number in range(start, start + count):  # one commit each, as requests commit
        with db.write() as c:
            c.execute("INSERT INTO local_state (name, value) VALUES (?, ?)", (f"row-{number}", _ROW))


def test_no_commit_checkpoints_however_large_the_wal_grows(tmp_path: Path) -> None:
    path = tmp_path / "engine.sqlite"
    db = Database(path, background_checkpoints=False)
    before = path.stat().st_size
    _write_rows(db, 300)  # about 1,200 WAL pages: past SQLite's automatic checkpoint at 1,000
    wal = Path(f"{path}-wal")
    assert wal.stat().st_size > 4_000_000
    assert path.stat().st_size == before  # no COMMIT copied anything into the file
    assert db.checkpoint() is True
    assert path.stat().st_size > 4_000_000  # the checkpoint did
    assert db.checkpoint() is False  # nothing committed since: no work
    db.close()
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT count(*) FROM local_state").fetchone() == (300,)
    raw.close()


def test_the_checkpointer_copies_what_was_committed_into_the_file_within_moments(tmp_path: Path) -> None:
    path = tmp_path / "engine.sqlite"
    db = Database(path)
    before = path.stat().st_size
    _write_rows(db, 50)
    deadline = time.monotonic() + 10
    while path.stat().st_size <= before + 50 * 16_000 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.stat().st_size > before + 50 * 16_000
    db.close()


def test_a_closed_database_is_not_checkpointed_and_keeps_no_connection(tmp_path: Path) -> None:
    db = Database(tmp_path / "engine.sqlite")
    _write_rows(db, 1)
    db.close()
    assert db.checkpoint() is False
    assert db._all == []  # no connection reopened behind the caller's back


def test_committed_rows_survive_the_process_being_killed_before_any_checkpoint(tmp_path: Path) -> None:
    """synchronous=NORMAL with checkpoints deferred: a commit is in the WAL (the OS's page cache) when COMMIT returns,
    so a process killed before the next checkpoint loses nothing (SIGKILL, as the durability stack test does)."""
    import subprocess
    import sys

    path = tmp_path / "engine.sqlite"
    script = (
        "import os, signal, sys\n"
        "from revgov.adapters.sqlite_db import Database\n"
        "db = Database(sys.argv[1], background_checkpoints=False)\n"
        "for n in range(200):\n"
        "    with db.write() as c:\n"
        "        c.execute(\"INSERT INTO local_state (name, value) VALUES (?, 'v')\", (f'row-{n}',))\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "functions")}
    done = subprocess.run([sys.executable, "-c", script, str(path)], env=env, timeout=60, check=False)
    assert done.returncode == -9
    assert Path(f"{path}-wal").stat().st_size > 0  # the rows were only in the WAL when it died
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT count(*) FROM local_state").fetchone() == (200,)
    raw.close()


def test_a_database_whose_file_was_deleted_is_not_created_again_by_its_checkpoint(tmp_path: Path) -> None:
    """`revgov dev --reset` deletes the file while an old Database object may still be alive: its checkpoint uses only
    a connection it already has, so the deleted file does not come back (as an empty file with the default mode)."""
    path = tmp_path / "engine.sqlite"
    db = Database(path, background_checkpoints=False)
    with db.write() as c:  # a write borrowed, and the pool keeps, one connection
        c.execute("INSERT INTO local_state (name, value) VALUES ('x', '1')")
    with db._lock:  # the pool's connections are all in use, as by a request at that moment
        borrowed = list(db._idle)
        db._idle.clear()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    assert db.checkpoint() is False
    assert not path.exists()
    for connection in borrowed:
        connection.close()


def test_close_leaves_a_borrowed_connection_to_the_thread_using_it(tmp_path: Path) -> None:
    """The suite once died of a segfault inside SQLite: a test's teardown closed the Database while the checkpointer
    thread was running `PRAGMA wal_checkpoint` on a connection it had borrowed ("it is not safe to close a connection
    while another thread is using it", https://www.sqlite.org/threadsafe.html: serialized mode protects calls, not a
    connection freed under a running statement). close() now closes what is idle and leaves a borrowed connection
    open until it is given back."""
    path = tmp_path / "engine.sqlite"
    db = Database(path, background_checkpoints=False)
    _write_rows(db, 1)
    with db.read() as borrowed:
        db.close()  # another thread closes while this one is inside a transaction
        assert borrowed.execute("SELECT count(*) FROM local_state").fetchone() == (1,)
    try:
        borrowed.execute("SELECT 1")
    except sqlite3.ProgrammingError:
        pass  # closed once given back
    else:
        raise AssertionError("a connection given back to a closed Database stays open")
    assert db.checkpoint() is False  # a closed Database checkpoints nothing
