"""One `revgov dev` per embedded database.

Found as a new user (round 8) restarting the local stack: a second `revgov dev --data-file X` on the data file a
running one serves started, served on its own port and ran its own event router and scheduler over the same
database (every scheduled sweep twice, docs/local-stack.md "3. the scheduler for `events/schedules.json`"), rewrote the
state
file, and `--reset` on it would have deleted the database under the running server. docs/local-stack.md (from the
README's "The local stack"): "starts,
in one process: 1. the embedded engine: one SQLite file"; "`revgov dev --reset` deletes the database and the local
clause index and seeds again" — of a stack that is not running. Now the second start waits a few seconds for the first
to stop (README's restart, `kill %1` then `make run &`, overlaps the first's wind-down of at most 5 s) and then
refuses, naming the data file and the process holding it, before it changes anything.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import pytest

from revgov.local.data_lock import DataFileInUse, hold


def test_a_second_holder_of_the_data_file_is_refused_naming_the_first(tmp_path):
    data = tmp_path / "revgov.sqlite"
    first = hold(data, wait_seconds=0)
    try:
        with pytest.raises(DataFileInUse) as refused:
            hold(data, wait_seconds=0.3)
        message = str(refused.value)
        assert str(data) in message and f"pid {os.getpid()}" in message and "--data-file" in message
    finally:
        first.release()
    hold(data, wait_seconds=0).release()  # released: the next start takes it


def test_a_start_waits_for_the_stopping_one_and_then_holds_it(tmp_path):
    data = tmp_path / "revgov.sqlite"
    first = hold(data, wait_seconds=0)
    threading.Timer(0.5, first.release).start()  # the first stops while the second waits
    started = time.monotonic()
    second = hold(data, wait_seconds=5)
    try:
        assert 0.3 <= time.monotonic() - started < 5
    finally:
        second.release()


def test_the_lock_file_is_its_owners_only_and_the_database_is_not_touched(tmp_path):
    """docs/local-stack.md: every file Revgov creates under `.revgov/` is mode 600."""
    data = tmp_path / ".revgov" / "revgov.sqlite"
    lock = hold(data, wait_seconds=0)
    try:
        assert (os.stat(lock.path).st_mode & 0o777) == 0o600
        assert not data.exists()
    finally:
        lock.release()


def test_a_second_revgov_dev_on_a_held_data_file_exits_before_it_changes_anything(tmp_path, monkeypatch, capsys):
    """The command: exit 1 with the reason, the held database left as it was (no --reset under a running stack)."""
    from revgov import cli
    from revgov.local import data_lock

    data = tmp_path / "revgov.sqlite"
    data.write_bytes(b"the running stack's database")
    monkeypatch.setattr(data_lock, "WAIT_SECONDS", 0.2)
    first = hold(data, wait_seconds=0)
    try:
        code = cli.main(["dev", "--port", "0", "--data-file", str(data), "--reset",
                         "--state-file", str(tmp_path / "local.json")])  # fmt: skip
    finally:
        first.release()
    assert code == 1
    assert "in use by another revgov dev" in " ".join(capsys.readouterr().out.split())
    assert data.read_bytes() == b"the running stack's database"
    assert not (tmp_path / "local.json").exists()


def _dev(tmp_path, data) -> Any:
    import subprocess
    import sys

    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "POWERTOOLS_LOG_LEVEL": "ERROR", "COLUMNS": "80",
           "REVGOV_SCHEDULE_EVERY_SECONDS": "0"}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "revgov.cli", "dev", "--port", "0", "--data-file", str(data),
         "--state-file", str(tmp_path / "local.json")],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip


def test_a_data_file_that_is_not_a_database_is_named_with_what_to_do(tmp_path):
    """Found as a new user (round 8): `revgov dev --data-file` on a damaged file said only `revgov: error: unexpected
    DatabaseError: file is not a database (REVGOV_DEBUG=1 shows the traceback)`, naming neither the file nor a way
    out. docs/local-stack.md: "a user error is one line on stderr ... never a traceback". It names the file and the two
    ways on
    (a backup, or `--reset`), exits 1, and leaves the file as it was (the user may want to recover it)."""
    data = tmp_path / "revgov.sqlite"
    garbage = bytes(range(256)) * 64
    data.write_bytes(garbage)
    done = _dev(tmp_path, data)
    said = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 1, said[-2000:]
    assert f"{data} cannot be read as a Revgov database" in said and "revgov dev --reset" in said, said[-2000:]
    assert "Traceback" not in said and "unexpected" not in said
    assert data.read_bytes() == garbage and not (tmp_path / "local.json").exists()
