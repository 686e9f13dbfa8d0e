"""`revgov wait --pid PID` stops at once when the `revgov dev` process it waits for has exited.

docs/local-stack.md: "`revgov wait [--timeout S] [--pid PID]` blocks until then"; a `revgov dev` that exited (a port
taken, a data
file in use, a seed that failed) never answers, so waiting out the whole timeout (120 s by default) only hides why:
`wait` says the process exited and returns 1 at once. Without `--pid` it waits as before.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from revgov import cli


def _exited(reap: bool) -> subprocess.Popen:
    """A process that has exited: reaped (gone), or not yet reaped by its parent (a zombie, as a `make run &` whose
    shell has not collected it)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    if reap:
        child.wait()
        return child
    stat = Path(f"/proc/{child.pid}/stat")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z":
        time.sleep(0.02)
    return child


@pytest.mark.parametrize("reap", [True, False], ids=["gone", "zombie"])
def test_wait_for_an_exited_dev_stops_at_once_and_fails(tmp_path, capsys, reap):
    child = _exited(reap)
    pid = child.pid
    started = time.monotonic()
    code = cli.main(["wait", "--state-file", str(tmp_path / "local.json"), "--timeout", "30", "--pid", str(pid)])
    took = time.monotonic() - started
    assert code == 1
    assert took < 5, took
    err = capsys.readouterr().err
    assert f"process {pid}" in err and "exited" in err
    child.wait()


def test_wait_for_a_live_process_still_waits_its_timeout(tmp_path, capsys):
    code = cli.main(["wait", "--state-file", str(tmp_path / "local.json"), "--timeout", "0.6", "--pid", "1"])
    assert code == 1
    assert "not answering after 0.6s" in capsys.readouterr().err


@pytest.mark.parametrize("pid", ["0", "-5", "x", "2147483648", "99999999999999999999"])
def test_a_pid_that_is_not_a_process_id_is_a_usage_error(tmp_path, pid):
    """kill(2) takes a `pid_t`, a signed 32-bit integer on Linux: a larger number names no process (before, red team
    12: `--pid 2147483648` ended in an OverflowError traceback instead of the usage error)."""
    with pytest.raises(SystemExit) as exited:
        cli.main(["wait", "--state-file", str(tmp_path / "local.json"), "--timeout", "0.2", "--pid", pid])
    assert exited.value.code == 2
