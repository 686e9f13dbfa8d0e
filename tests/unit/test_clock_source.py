"""One clock for the whole product (issue #22): business dates come from the `Clock` port, whose only implementation
reading the wall clock is `adapters/system.py` (`SystemClock`, shifted by `REVGOV_CLOCK_START`; `real_time` for the
machinery that must run on real time). Any other product module reading the wall clock would ignore the injected date,
so `REVGOV_CLOCK_START=... make test` could not run the suite "as of" another day."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest

from revgov.adapters.system import CLOCK_ANCHOR, CLOCK_START, SystemClock, clock_offset_ms, iso_of_ms

PRODUCT = Path(__file__).resolve().parents[2] / "functions"
CLOCK_ADAPTER = PRODUCT / "revgov" / "adapters" / "system.py"

_DATE_READS = {"now", "utcnow", "today"}  # datetime.now(), datetime.utcnow(), date.today(), datetime.today()
_TIME_READS = {"time", "time_ns"}  # time.time(), time.time_ns(), also passed uncalled (a default `clock=time.time`)
_TIME_FORMATS_NOW = {"gmtime": 0, "localtime": 0, "ctime": 0, "asctime": 0, "strftime": 1}  # args below which: now


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def wall_clock_reads(source: str) -> list[str]:
    """Every place `source` reads the wall clock, as `line: expression`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == "time":
            names = {a.name for a in node.names} & (_TIME_READS | set(_TIME_FORMATS_NOW))
            found += [f"{node.lineno}: from time import {n}" for n in sorted(names)]
        if isinstance(node, ast.Attribute):
            base = _dotted(node.value)
            if node.attr in _TIME_READS and base.split(".")[-1] == "time":
                found.append(f"{node.lineno}: {base}.{node.attr}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            base, attr = _dotted(node.func.value), node.func.attr
            if attr in _DATE_READS and base.split(".")[-1] in {"datetime", "date"}:
                found.append(f"{node.lineno}: {base}.{attr}()")
            reads_now = attr in _TIME_FORMATS_NOW and len(node.args) <= _TIME_FORMATS_NOW[attr]
            if reads_now and base.split(".")[-1] == "time":
                found.append(f"{node.lineno}: {base}.{attr}() of now")
    return found


def test_no_product_module_reads_the_wall_clock_but_the_clock_adapter():
    offenders = {
        str(path.relative_to(PRODUCT)): reads
        for path in sorted(PRODUCT.rglob("*.py"))
        if path != CLOCK_ADAPTER and (reads := wall_clock_reads(path.read_text()))
    }
    assert offenders == {}, f"read the time through the Clock port (rt.clock) or adapters.system.real_time: {offenders}"


@pytest.mark.parametrize(
    "snippet",
    [
        "import time\nx = time.time()",
        "import time\nx = time.time_ns()",
        "import time\ndef f(clock=time.time): ...",
        "from time import time",
        "import time\nx = time.gmtime()",
        "import time\nx = time.strftime('%Y')",
        "from datetime import datetime\nx = datetime.now()",
        "import datetime as dt\nx = dt.datetime.now(dt.UTC)",
        "import datetime\nx = datetime.datetime.utcnow()",
        "from datetime import date\nx = date.today()",
    ],
)
def test_the_check_sees_each_way_of_reading_the_wall_clock(snippet: str) -> None:
    assert wall_clock_reads(snippet), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        "import time\nx = time.monotonic()",
        "import time\nx = time.perf_counter()",
        "import time\nx = time.gmtime(60)",
        "import time\nx = time.strftime('%Y', time.gmtime(60))",
        "x = rt.clock.now_iso()",
        "x = self.today()",
        "from datetime import date\nx = date.fromisoformat('2027-01-01')",
    ],
)
def test_durations_and_given_instants_are_not_wall_clock_reads(snippet: str) -> None:
    assert wall_clock_reads(snippet) == [], snippet


def test_without_the_setting_the_clock_is_the_real_one() -> None:
    env: dict[str, str] = {}
    assert clock_offset_ms(env) == 0 and env == {}
    assert clock_offset_ms({CLOCK_START: "  "}) == 0
    before = datetime.now(UTC).timestamp() * 1000
    now = SystemClock(offset_ms=0).now_ms()
    assert before - 1 <= now <= datetime.now(UTC).timestamp() * 1000 + 1


def test_the_setting_starts_the_clock_at_its_instant_and_time_flows_from_there() -> None:
    env = {CLOCK_START: "2027-01-01T00:00:05Z"}
    offset = clock_offset_ms(env)
    anchor = int(env[CLOCK_ANCHOR])  # recorded for the processes this one starts
    assert anchor + offset == datetime(2027, 1, 1, 0, 0, 5, tzinfo=UTC).timestamp() * 1000
    assert clock_offset_ms(env) == offset  # a second reader (an xdist worker, the n8n run) gets the same "now"
    clock = SystemClock(offset_ms=offset)
    first = clock.now_iso()
    assert "2027-01-01T00:00:05.000Z" <= first < "2027-01-01T00:01:05Z", first
    assert clock.now_ms() >= datetime.fromisoformat(first.replace("Z", "+00:00")).timestamp() * 1000
    assert clock_offset_ms({CLOCK_START: "2027-01-01T01:00:05+01:00", CLOCK_ANCHOR: str(anchor)}) == offset


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({CLOCK_START: "2027-01-01"}, "UTC offset"),
        ({CLOCK_START: "2027-01-01T09:00:00"}, "UTC offset"),
        ({CLOCK_START: "next tuesday"}, "ISO 8601"),
        ({CLOCK_START: "2027-02-30T00:00:00Z"}, "ISO 8601"),
        ({CLOCK_START: "2027-01-01T00:00:00Z", CLOCK_ANCHOR: "-5"}, "epoch milliseconds"),
        ({CLOCK_START: "2027-01-01T00:00:00Z", CLOCK_ANCHOR: "soon"}, "epoch milliseconds"),
    ],
)
def test_a_bad_setting_is_refused_with_what_it_should_be(env: dict[str, str], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        clock_offset_ms(env)


def test_iso_of_ms_is_the_shape_now_iso_answers() -> None:
    assert iso_of_ms(1798761605000) == "2027-01-01T00:00:05.000Z"
    assert iso_of_ms(1798761605999) == "2027-01-01T00:00:05.999Z"
    assert iso_of_ms(1798761605001) == "2027-01-01T00:00:05.001Z"


TESTS = Path(__file__).resolve().parents[1]
# tests that read the real clock on purpose: machinery that runs on real time, not business dates
REAL_TIME_ON_PURPOSE = {
    "integration/test_embedded_engine.py": "powertools idempotency expiry and the scheduler's cadence (real_time)",
    "integration/test_tenant_scoping.py": "STS credential expiry is real time",
    "security/test_isolation_matrix.py": "a unique probe id, not a date",
    "perf/bench.py": "timings",
    "perf/load.py": "the client process's offset from the real clock to the product's (it signs webhooks)",
    "perf/load_client.py": "the product's clock in another process: the real clock plus the offset load.py measured",
    "n8n/test_erp_signature.py": "the n8n flow checks the ERP's signature against Node's Date.now(): real time",
    "unit/test_clock_source.py": "this file: it compares the clock with the real one",
}


def test_tests_take_now_and_today_from_the_products_clock() -> None:
    """A test that reads the calendar instead of `tests/clock_support.py` runs as of the machine's date, not the
    product's, and breaks under `REVGOV_CLOCK_START` (signatures 401, facts dated in another month)."""
    offenders = {
        name: reads
        for path in sorted(TESTS.rglob("*.py"))
        if (name := str(path.relative_to(TESTS))) not in REAL_TIME_ON_PURPOSE
        and "node_modules" not in path.parts
        and (reads := wall_clock_reads(path.read_text()))
    }
    assert offenders == {}, f"use clock_support.now()/today()/epoch_seconds(): {offenders}"
