"""Red team, twelfth round: the data file's lock (`<data file>.lock`, API 1.57.0 "one server per data file") in a
directory another local user can write to.

README: a test or demo database may live where the caller chooses (`--data-file /tmp/x.sqlite`; private_files.py: "a
directory the caller chose (e.g. /tmp for a test database) keeps its mode"). The lock was opened following a symbolic
link and then truncated and rewritten (`pid N`): another user who planted `/tmp/x.sqlite.lock` as a link to one of
the victim's files had `revgov dev` empty that file (CWE-59, link following; the classic /tmp symlink race). The lock
file is Revgov's own and never a link: one is refused before anything is written, naming it; the file it points to
is untouched.
"""

from __future__ import annotations

import pytest

from revgov.local.data_lock import DataFileInUse, hold


def test_a_lock_file_planted_as_a_link_is_refused_and_its_target_untouched(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("the victim's own file\n")
    data = tmp_path / "shared" / "revgov.sqlite"
    data.parent.mkdir()
    (data.parent / "revgov.sqlite.lock").symlink_to(victim)
    with pytest.raises(DataFileInUse) as refused:
        hold(data, wait_seconds=0)
    assert "revgov.sqlite.lock" in str(refused.value) and "link" in str(refused.value)
    assert victim.read_text() == "the victim's own file\n"


def test_a_dangling_link_creates_nothing_where_it_points(tmp_path):
    target = tmp_path / "elsewhere" / "created-by-revgov"
    target.parent.mkdir()
    data = tmp_path / "revgov.sqlite"
    (tmp_path / "revgov.sqlite.lock").symlink_to(target)
    with pytest.raises(DataFileInUse):
        hold(data, wait_seconds=0)
    assert not target.exists()


def test_a_plain_lock_file_is_still_taken(tmp_path):
    data = tmp_path / "revgov.sqlite"
    (tmp_path / "revgov.sqlite.lock").write_text("pid 1")  # left by a stack that ended: the kernel freed its lock
    hold(data, wait_seconds=0).release()
