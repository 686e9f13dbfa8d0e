"""The local files under `.revgov` are their owner's only.

README / docs/local-stack.md: the embedded engine's file is "`.revgov/revgov.sqlite`, mode 600" and
"`.revgov/local.json` (mode 600)". The
copilot's clause index (`.revgov/copilot-index.sqlite`) and the embedding cache (`.revgov/embeddings.sqlite`) hold the
same tenants' contract text, and were created world-readable (0644 under the usual umask 022): every `.revgov` file is
created 0600 and the directory 0700 (POSIX modes; the owner's umask cannot widen them).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from revgov.adapters.embeddings import CachedEmbedder
from revgov.adapters.local_index import SqliteClauseIndex
from revgov.adapters.sqlite_db import Database
from revgov.local.stack import write_state


class FakeEmbedder:
    model_id, dimension = "fake-4", 4

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [[1.0, 0.0, 0.0, 0.0] for _ in texts]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():  # the usual umask: new files 0644, new directories 0755 unless asked for less
    before = os.umask(0o022)
    yield
    os.umask(before)


def test_every_revgov_file_is_0600_and_the_directory_0700(tmp_path: Path, open_umask: None) -> None:
    state = tmp_path / ".revgov"
    index = SqliteClauseIndex(state / "copilot-index.sqlite", FakeEmbedder())
    cache = CachedEmbedder(FakeEmbedder(), state / "embeddings.sqlite")
    cache.embed(["PA-14.1 The Partner Portal includes a contract copilot"])
    database = Database(state / "revgov.sqlite", background_checkpoints=False)
    write_state(state / "local.json", {"tenants": {}})
    try:
        assert _mode(state) == 0o700
        files = sorted(p.name for p in state.iterdir())
        assert {"copilot-index.sqlite", "embeddings.sqlite", "revgov.sqlite", "local.json"} <= set(files)
        assert {name: _mode(state / name) for name in files} == {name: 0o600 for name in files}  # -wal/-shm too
    finally:
        database.close()
        del index, cache


def test_an_open_revgov_directory_and_index_from_an_older_run_are_tightened(tmp_path: Path, open_umask: None) -> None:
    state = tmp_path / ".revgov"
    state.mkdir(mode=0o755)
    (state / "copilot-index.sqlite").touch(mode=0o644)
    SqliteClauseIndex(state / "copilot-index.sqlite", FakeEmbedder())
    assert (_mode(state), _mode(state / "copilot-index.sqlite")) == (0o700, 0o600)


def test_a_directory_the_caller_chose_keeps_its_mode(tmp_path: Path, open_umask: None) -> None:
    chosen = tmp_path / "shared"
    chosen.mkdir(mode=0o755)
    CachedEmbedder(FakeEmbedder(), chosen / "vectors.sqlite")
    assert (_mode(chosen), _mode(chosen / "vectors.sqlite")) == (0o755, 0o600)
