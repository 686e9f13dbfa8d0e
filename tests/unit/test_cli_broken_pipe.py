"""`revgov … | head`: when the reader of the command's output goes away, the command stops quietly; it does not
blame the product.

docs/local-stack.md (the `revgov` command): exit code "3 (the product cannot be reached)", and `agents run` etc. print
"one JSON
object per line with `--json`", made to be piped. Python's documentation (signal module, "Note on SIGPIPE"): "Piping
output of your program to tools like head(1) will cause a SIGPIPE signal to be sent to your process when the
receiver of its standard output closes early. This results in an exception like BrokenPipeError" -- to be handled by
pointing stdout at os.devnull and exiting with code 1. Before, that BrokenPipeError read as a broken connection:
"cannot reach the product ... (is `make run` running?)", exit 3, while the product was up.
"""

from __future__ import annotations

import os
import subprocess
import sys

PIPED = """
from revgov.cli_support import emit, run_safely
rows = [{"agent": "threshold_watcher", "n": i} for i in range(5000)]
raise SystemExit(run_safely(lambda: (emit(rows, as_json=True, title="t", columns=["agent"]), 0)[1]))
"""

CONNECTION = """
from revgov.cli_support import run_safely
def command():
    raise BrokenPipeError(32, "Broken pipe")  # the product's socket, while stdout is fine
raise SystemExit(run_safely(command))
"""


def _run(code: str, *, reader_gone: bool) -> subprocess.CompletedProcess[bytes]:
    read_end, write_end = os.pipe()
    if reader_gone:
        os.close(read_end)
    try:
        return subprocess.run([sys.executable, "-c", code], stdout=write_end, stderr=subprocess.PIPE, timeout=120,
                              check=False)  # fmt: skip
    finally:
        os.close(write_end)
        if not reader_gone:
            os.close(read_end)


def test_a_reader_that_left_early_ends_the_command_quietly_with_exit_1():
    done = _run(PIPED, reader_gone=True)
    err = done.stderr.decode()
    assert done.returncode == 1, err
    assert "cannot reach the product" not in err and "Exception ignored" not in err and "Traceback" not in err, err


def test_a_broken_connection_to_the_product_is_still_reported_as_unreachable():
    done = _run(CONNECTION, reader_gone=False)
    assert done.returncode == 3
    assert done.stderr.decode().startswith("revgov: error: cannot reach the product")
