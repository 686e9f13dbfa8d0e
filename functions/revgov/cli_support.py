"""What every `revgov` command shares: finding the product (the local stack by default), one-line errors with exit
codes instead of tracebacks, `--json` for scripts and tables for people, keys printed whole.

Exit codes: 0 done; 1 the operation ran and failed (a refusal, a replay that did not go through); 2 bad input
(usage, a missing or unreadable file, an unknown tenant or agent); 3 the product or a backing service cannot be
reached; 130 interrupted.
"""

from __future__ import annotations

import json
import os
import select
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from .domain.errors import RevgovError
from .settings import SettingError

T = TypeVar("T")

DEFAULT_STATE = ".revgov/local.json"
BAD_INPUT, FAILED, UNREACHABLE, INTERRUPTED = 2, 1, 3, 130


class CliError(Exception):
    """A user error: printed as one line on stderr, with its exit code; never a traceback."""

    def __init__(self, message: str, code: int = BAD_INPUT) -> None:
        super().__init__(message)
        self.message, self.code = message, code


def use_product(state_file: str | None) -> str:
    """Point this process at the product to act on and say which: an explicit `--state-file`; else a deployed
    table when REVGOV_TABLE or AWS_ENDPOINT_URL is set; else the local stack of `make run` (`.revgov/local.json`)."""
    named = ("REVGOV_TABLE", "AWS_ENDPOINT_URL", "REVGOV_DATA_FILE")
    if state_file is None and any(os.environ.get(name) for name in named):
        return "the store the environment names (REVGOV_TABLE / AWS settings / REVGOV_DATA_FILE)"
    path = Path(state_file or DEFAULT_STATE)
    info = _state(path)
    _engine_of(info)
    for name, value in (info.get("env") or {}).items():  # whatever else the local stack says its clients need
        os.environ[str(name)] = str(value)
    return f"the local stack ({path})"


def _state(path: Path) -> dict[str, Any]:
    """What `revgov dev` wrote to its state file; a missing or unreadable file is the user's error, in one line."""
    if not path.exists():
        raise CliError(
            f"no local Revgov at {path} (start one with `make run`), and no REVGOV_TABLE set for a deployed one",
            UNREACHABLE,
        )
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CliError(f"{path} is not a Revgov state file: {exc}") from exc
    if not isinstance(info, dict):
        raise CliError(f"{path} is not a Revgov state file")
    return info


def _engine_of(info: dict[str, Any]) -> None:
    if info.get("backend", "sqlite") == "sqlite" and info.get("data_file"):  # `revgov dev`'s SQLite database
        os.environ.update({"REVGOV_BACKEND": "sqlite", "REVGOV_DATA_FILE": str(info["data_file"])})
    elif info.get("aws_endpoint_url"):
        os.environ.update({"REVGOV_BACKEND": "dynamodb", "AWS_ENDPOINT_URL": str(info["aws_endpoint_url"])})


def product_options(parser: Any) -> None:
    """`--state-file` and `--json`, for every command that acts on the product."""
    parser.add_argument(
        "--state-file",
        help="the local stack's state file (default .revgov/local.json, written by `make run`); when it is not given "
        "and REVGOV_TABLE or AWS_ENDPOINT_URL is set, the deployed table of the environment is used",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line, for scripts")


def require_tenants(rt: Any, tenant_ids: Sequence[str]) -> None:
    from .services.tenant_repository import stored_profile

    for tenant_id in tenant_ids:
        if stored_profile(rt.store, tenant_id) is None:
            raise CliError(f"no tenant {tenant_id!r}")


def run_safely(command: Callable[[], int]) -> int:
    """Run a command; any error a user can cause or fix becomes one line on stderr and an exit code."""
    try:
        return int(command())
    except CliError as error:
        return _say(error.message, error.code)
    except KeyboardInterrupt:
        return _say("interrupted", INTERRUPTED)
    except RevgovError as error:
        code = UNREACHABLE if error.status == 503 else BAD_INPUT if error.status in (400, 404, 422) else FAILED
        return _say(error.detail, code)
    except SettingError as error:
        return _say(str(error), BAD_INPUT)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError) as error:
        return _say(f"{error.strerror}: {error.filename}", BAD_INPUT)
    except Exception as error:
        if isinstance(error, BrokenPipeError) and _stdout_closed():
            return FAILED  # `revgov … | head`: the reader left; nothing to tell it (Python docs, "Note on SIGPIPE")
        if os.environ.get("REVGOV_DEBUG"):
            raise
        from .edge.http import unexpected

        known = unexpected(error)
        if known.status == 503:
            return _say(f"cannot reach the product: {known.detail} (is `make run` running?)", UNREACHABLE)
        return _say(f"unexpected {type(error).__name__}: {error} (REVGOV_DEBUG=1 shows the traceback)", FAILED)


def _stdout_closed() -> bool:
    """Whether the reader of standard output went away (a pipe closed early), rather than the product's connection.
    If so, stdout is pointed at /dev/null so the interpreter's last flush does not fail again."""
    try:
        fd = sys.stdout.fileno()
        poller = select.poll()  # a pipe without a reader polls as an error for its writer
        poller.register(fd, select.POLLOUT)
        if not any(event & select.POLLERR for _, event in poller.poll(0)):
            return False
    except (OSError, ValueError, AttributeError):  # not a real file (captured output) or already closed
        return False
    os.dup2(os.open(os.devnull, os.O_WRONLY), fd)
    return True


def _say(message: str, code: int) -> int:
    print(f"revgov: error: {message}", file=sys.stderr)
    return code


def emit(rows: list[dict[str, Any]], *, as_json: bool, title: str, columns: Sequence[str]) -> None:
    """JSON lines for scripts (`--json`), or a table for people."""
    if as_json:
        for row in rows:
            print(json.dumps(row, default=str))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for index, column in enumerate(columns):
        table.add_column(column, overflow="fold", no_wrap=index == 0)  # the row's name stays whole
    for row in rows:
        table.add_row(*(_cell(row.get(column)) for column in columns))
    Console().print(table)


def shows_progress(as_json: bool = False) -> bool:
    """Progress is for a person watching: on stderr, only when stderr is a terminal, never with `--json` (scripts
    read stdout, and a bar would be noise in their logs)."""
    return not as_json and sys.stderr.isatty()


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(file=sys.stderr, force_terminal=True)


def progress(items: Sequence[T], description: str, *, as_json: bool = False) -> Iterator[T]:
    """`items` one by one, with a progress bar (done / total, elapsed) on stderr when `shows_progress`."""
    with counting(description, len(items), as_json=as_json) as step:
        for item in items:
            yield item
            step()


@contextmanager
def counting(description: str, total: int, *, as_json: bool = False) -> Iterator[Callable[..., None]]:
    """A progress bar of `total` steps on stderr when `shows_progress`; yields `step(advance=1, description=None)`
    (a no-op when there is no bar)."""
    if not shows_progress(as_json):
        yield lambda advance=1, description=None: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=_stderr_console(), transient=True) as bar:
        task = bar.add_task(description, total=total)

        def step(advance: int = 1, description: str | None = None) -> None:
            if description:
                bar.update(task, advance=advance, description=description)
            else:
                bar.update(task, advance=advance)

        yield step


@contextmanager
def working(description: str, *, as_json: bool = False) -> Iterator[None]:
    """A spinner on stderr (when `shows_progress`) while one long step that cannot be counted runs."""
    if not shows_progress(as_json):
        yield
        return
    with _stderr_console().status(description):
        yield


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, list | dict):
        return json.dumps(value, default=str) if value else "–"
    return str(value)


def key_lines(info: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows = [("(platform)", "operator", str(info["operator_key"] or "(kept from the last run: not known)"))]
    for tenant_id, tenant in info["tenants"].items():
        rows += [(tenant_id, role, str(key)) for role, key in tenant["keys"].items()]
    return rows


def print_secret(label: str, secret: str) -> None:
    """A key or secret shown once, whole on one line of stdout: never folded at the terminal's width (rich folds at
    80 columns when stdout is a pipe or a file), so what is copied or redirected is the secret itself."""
    print(f"{label} (shown once): {secret}", flush=True)


def print_keys(console: Any, info: dict[str, Any]) -> None:
    """The demo keys, one per line and never folded or cropped (a key copied from a folded line is broken)."""
    rows = key_lines(info)
    tenant_width = max(len(r[0]) for r in rows)
    role_width = max(len(r[1]) for r in rows)
    console.print(f"{'tenant':<{tenant_width}}  {'role':<{role_width}}  key", style="bold", soft_wrap=True)
    for tenant_id, role, key in rows:
        line = f"{tenant_id:<{tenant_width}}  {role:<{role_width}}  {key}"
        console.print(line, soft_wrap=True, highlight=False, markup=False)
