"""`revgov dev` stops within a few seconds of SIGINT/SIGTERM whatever it is doing (issue 24): the stop is bounded
even when a part of the stack does not stop (a handler stuck in a long run) or a thread would hold the interpreter's
exit. Each case runs in a child process, as `make run` does; tests/stack/test_shutdown.py does it on the real
product under load."""

from __future__ import annotations

import subprocess
import sys
import time

from support import ROOT

GRACE = 1.0


def _run(code: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT / "functions", capture_output=True, text=True, timeout=60, check=False
    )
    return done, time.monotonic() - started


def test_a_stop_that_never_returns_is_abandoned_after_the_grace():
    code = f"import time\nfrom revgov.cli import _stop_within\n_stop_within(lambda: time.sleep(600), {GRACE})"
    done, took = _run(code)
    assert done.returncode == 0, done.stderr
    assert "not stopped within 1 s" in done.stderr
    assert took < GRACE + 10  # interpreter start + the grace, never the 600 s the stuck part would take


def test_a_thread_that_would_hold_the_exit_does_not():
    code = (
        "import threading, time\nfrom revgov.cli import _stop_within\n"
        f"_stop_within(lambda: None, {GRACE})\n"
        "threading.Thread(target=time.sleep, args=(600,)).start()  # non-daemon: the interpreter would wait for it\n"
    )
    done, took = _run(code)
    assert done.returncode == 0, done.stderr
    assert took < GRACE + 10
