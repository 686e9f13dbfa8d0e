"""A forked child (a policy what-if worker reads its own shares of the store) must not use its parent's SQLite
connections: SQLite's documentation, "How To Corrupt An SQLite Database File", §2.6: "do not open an SQLite database
connection, then fork(), then try to use that database connection in the child process". The embedded engine's
Database opens fresh connections (and fresh locks) in a forked child, and the parent's stay its own."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from revgov.adapters.sqlite_db import Database


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_reads_through_connections_of_its_own(tmp_path: Path) -> None:
    db = Database(tmp_path / "fork.sqlite", background_checkpoints=False)
    with db.write() as c:
        c.execute("INSERT INTO local_state (name, value) VALUES ('k', 'v')")
    assert db.fetch_one("SELECT value FROM local_state WHERE name = 'k'") == ("v",)
    parents = list(db._all)
    assert parents  # the parent holds a pooled connection
    held = threading.Lock()
    db._lock = held
    held.acquire()  # a lock some other thread of the parent holds at the fork
    pid = os.fork()
    if pid == 0:  # the child: report by exit code only
        ok = (not any(c in db._all for c in parents)
              and db.fetch_one("SELECT value FROM local_state WHERE name = 'k'") == ("v",)
              and not any(c in db._all for c in parents))
        os._exit(0 if ok else 1)
    held.release()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert db._all == parents  # the parent's pool is untouched
    db.close()
