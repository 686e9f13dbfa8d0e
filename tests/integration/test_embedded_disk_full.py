"""A write the embedded database cannot make (its disk full, an I/O error) is a 503, nothing changed, never a 500.

Found as a new user (round 8) running `revgov dev` with its data file capped (`ulimit -f`, a full disk without root):
`POST /v1/pricing/check` answered `500 Internal error` ("an unexpected error occurred") once the file reached the cap,
from `sqlite3.OperationalError: disk I/O error` at COMMIT. The transaction was rolled back (`Database.write`), so
nothing was changed, which is what the OpenAPI's 503 says ("A backing service is throttling or unreachable; nothing
was changed, retry", with `Retry-After`); API.md / COMMON: bad conditions are a problem+json, "never a 500". SQLite's
own answer to a full disk is SQLITE_FULL ("database or disk is full"), made here for real with `max_page_count`, and
the store's commit then leaves the database as it was.
"""

from __future__ import annotations

import sqlite3

import pytest

from revgov.adapters.sqlite_db import Database
from revgov.domain.errors import Unavailable
from revgov.edge.http import problem, unexpected


def _full(tmp_path) -> sqlite3.OperationalError:
    """A genuine SQLITE_FULL from a write that does not fit."""
    db = Database(tmp_path / "full.sqlite", background_checkpoints=False)
    with db.write() as c:
        c.execute("CREATE TABLE t (v BLOB)")
    with pytest.raises(sqlite3.OperationalError) as raised, db.write() as c:
        c.execute(f"PRAGMA max_page_count = {c.execute('PRAGMA page_count').fetchone()[0] + 2}")
        c.execute("INSERT INTO t VALUES (zeroblob(1000000))")
    with db.read() as c:
        assert c.execute("SELECT count(*) FROM t").fetchone()[0] == 0  # rolled back: nothing changed
    return raised.value


def test_a_full_disk_is_a_503_not_an_internal_error(tmp_path):
    error = _full(tmp_path)
    assert error.sqlite_errorcode == sqlite3.SQLITE_FULL
    answer = unexpected(error)
    assert isinstance(answer, Unavailable) and answer.status == 503
    assert "database or disk is full" in answer.detail and "nothing was changed" in answer.detail


@pytest.mark.parametrize("code", [sqlite3.SQLITE_IOERR, sqlite3.SQLITE_BUSY])
def test_an_io_error_or_a_lock_never_released_is_a_503_too(code):
    """SQLITE_IOERR (what a write past `ulimit -f` gives: "disk I/O error") and SQLITE_BUSY after the busy timeout
    ("database is locked") likewise leave the transaction rolled back."""
    messages = {sqlite3.SQLITE_IOERR: "disk I/O error", sqlite3.SQLITE_BUSY: "database is locked"}
    error = sqlite3.OperationalError(messages[code])
    error.sqlite_errorcode = code
    assert isinstance(unexpected(error), Unavailable)


def test_other_sqlite_errors_stay_bugs():
    """A malformed statement is the code's fault: a 500 logged with its correlation id, as before."""
    error = sqlite3.OperationalError("near \"SELEC\": syntax error")
    error.sqlite_errorcode = sqlite3.SQLITE_ERROR
    assert not isinstance(unexpected(error), Unavailable) and unexpected(error).status == 500


# RFC 9110 §10.2.3: "Servers send the "Retry-After" header field to indicate how long the user agent ought to wait
# before making a follow-up request"; §15.6.4 (503): "The server MAY send a Retry-After header field ... to suggest an
# appropriate amount of time for the client to wait before retrying the request." A full disk (or a write past the
# file size limit) clears only when an operator frees space: no wait the server could name is honest, so none is sent
# and the problem says an operator must act. A lock never released (SQLITE_BUSY) does clear by itself: Retry-After.


def test_rfc_9110_a_full_disk_names_no_retry_delay_and_says_an_operator_must_act(tmp_path):
    answer = problem(unexpected(_full(tmp_path)), "/v1/pricing/check", "cid-1")
    assert answer.status == 503 and "Retry-After" not in answer.headers
    assert answer.body["operator_action"] == "free_storage" and "operator" in answer.body["detail"]
    assert "retry_after" not in answer.body


def test_an_io_error_needs_an_operator_too_and_a_lock_never_released_keeps_its_retry_after():
    io = sqlite3.OperationalError("disk I/O error")
    io.sqlite_errorcode = sqlite3.SQLITE_IOERR
    assert "Retry-After" not in problem(unexpected(io), "/v1/x", "cid-2").headers
    busy = sqlite3.OperationalError("database is locked")
    busy.sqlite_errorcode = sqlite3.SQLITE_BUSY
    answer = problem(unexpected(busy), "/v1/x", "cid-3")
    assert answer.status == 503 and answer.headers["Retry-After"] == "2" and "operator_action" not in answer.body
