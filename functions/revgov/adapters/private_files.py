"""Local files readable by their owner only: the embedded engine's database, the copilot's clause index and the
embedding cache hold contract text, keys and partner data (README: "mode 600"), so each is created 0600 and the
`.revgov` directory that holds them 0700. SQLite gives a database's -wal and -shm files the database file's mode."""

from __future__ import annotations

import os
import stat
from pathlib import Path

STATE_DIR = ".revgov"  # the product's own directory: tightened even when an older run created it open


def private_dir(directory: Path) -> None:
    """Create `directory` (and its parents) 0700; the product's own `.revgov` is made 0700 if it already exists. A
    directory the caller chose (e.g. /tmp for a test database) keeps its mode."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if directory.name == STATE_DIR and stat.S_IMODE(directory.stat().st_mode) != 0o700:
        directory.chmod(0o700)


def private_file(path: Path | str) -> None:
    """Make sure `path` exists with mode 0600 (created so, never readable by others even for an instant; an existing
    file is tightened), its directory as `private_dir`. `:memory:` is no file."""
    if str(path) == ":memory:":
        return
    target = Path(path)
    private_dir(target.parent)
    # Never open-and-close an existing database: closing any descriptor of a file drops every POSIX lock this
    # process holds on it, so another connection's locks would vanish (SQLite: "disk I/O error", corruption).
    try:
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    if stat.S_IMODE(target.stat().st_mode) != 0o600:
        target.chmod(0o600)
