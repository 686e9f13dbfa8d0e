"""The `revgov` command: `revgov dev` serves the whole product locally.

A command imports the product (the local stack, the runtime, services) and rich inside the function that runs it:
`revgov --help` and `revgov wait` start without loading the API, the engine and their dependencies (CLI start-up)."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import signal
import sqlite3
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from . import __version__, cli_catalog, cli_history, cli_maintenance, cli_policy, cli_tenants, schemas
from .cli_support import (
    CliError,
    counting,
    emit,
    print_keys,
    product_options,
    progress,
    require_tenants,
    run_safely,
    use_product,
    working,
)
from .domain.access import Principal, Role
from .domain.ids import is_typed_id


def _dev(args: argparse.Namespace) -> int:
    from rich.console import Console

    from .adapters.sqlite_db import SchemaTooNew
    from .local.clock_guard import ClockBehindData
    from .local.data_lock import DataFileInUse
    from .local.seed import PartialSeed
    from .local.stack import start_stack

    console = Console()
    state = Path(args.state_file)
    stopped = _stop_on_signals()
    if args.backend == "dynamodb" and not os.environ.get("AWS_ENDPOINT_URL"):
        console.print("--backend dynamodb talks to AWS itself (real credentials) or to AWS_ENDPOINT_URL when set")
    with console.status(f"Starting Revgov on the {args.backend} engine: queues, event router, tenants, API…"):
        try:
            stack = start_stack(
                port=args.port,
                state_file=state,
                backend=args.backend,
                data_file=Path(args.data_file) if args.data_file else None,
                reset=args.reset,
            )
            _READY.set()  # it answers from here (`revgov wait` may return): a signal now stops it gracefully
        except OSError as exc:
            console.print(f"[red]Could not start: {exc}[/red] (is port {args.port} in use? try --port)", soft_wrap=True)
            return 1
        except (PartialSeed, SchemaTooNew, DataFileInUse, ClockBehindData) as exc:
            console.print(f"[red]{exc}[/red]", soft_wrap=True)  # one line: a path folded at 80 columns cannot be copied
            return 1
        except sqlite3.DatabaseError as exc:
            if (getattr(exc, "sqlite_errorcode", 0) & 0xFF) not in _UNREADABLE:
                raise
            data = os.environ.get("REVGOV_DATA_FILE") or args.data_file
            console.print(
                f"[red]{data} cannot be read as a Revgov database (SQLite: {exc}): restore it from a backup, or "
                "start over with `revgov dev --reset`, which deletes it and seeds the demo tenants again[/red]",
                soft_wrap=True,
            )
            return 1
    console.print(f"[bold]Revgov on {stack.base_url}[/bold]")
    print_keys(console, stack.info)  # one key per line, never folded at the terminal's width
    if args.backend == "sqlite":
        kept = "seeded the demo tenants into a new database" if stack.seeded else "kept from the last run"
        console.print(  # one line: a path folded at 80 columns cannot be copied
            f"Data in [bold]{stack.info['data_file']}[/bold] ({kept}; `revgov dev --reset` starts over).",
            soft_wrap=True,
        )
    console.print(f"Keys and webhook secrets are in [bold]{state}[/bold] (mode 600).   Ctrl-C stops.")
    # The ready line: scripts wait for it (or run `revgov wait`), then read the state file.
    print(f"revgov ready: {stack.base_url} backend={args.backend} state={state}", flush=True)
    while not stopped.wait(timeout=1.0):  # a timed wait: the main thread stays responsive to signals
        pass
    console.print("Stopping…")
    _stop_within(stack.stop, STOP_GRACE_SECONDS)
    return 0


_UNREADABLE = (11, 26)  # SQLITE_CORRUPT ("database disk image is malformed"), SQLITE_NOTADB ("file is not a database")
STOP_GRACE_SECONDS = 5.0  # SIGINT/SIGTERM: what is not stopped by then is abandoned (SQLite rolls it back)
_READY = threading.Event()


def _stop_on_signals() -> threading.Event:
    """SIGINT/SIGTERM stop `revgov dev` within a few seconds whatever it is doing. While it is starting (seeding,
    migrating) the process exits at once: every write is a SQLite transaction, so an unfinished one is rolled back
    and the next start carries on. Once the stack answers (`start_stack` returned, before the banner and the ready
    line are printed: `revgov wait` may already have returned), the first signal asks the stack to stop (HTTP,
    router, scheduler), bounded by STOP_GRACE_SECONDS; a second signal exits at once."""
    stopped = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        if not _READY.is_set() or stopped.is_set():
            _exit_now(f"revgov: signal {signum}, exiting now", 128 + signum)
        stopped.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    return stopped


def _stop_within(stop: Any, seconds: float) -> None:
    """Run `stop` with a deadline; past it (a handler stuck in a long run, a client that never closes), exit the
    process anyway: the listening socket, the SQLite file lock and every thread go with it."""
    done = threading.Event()

    def run() -> None:
        try:
            stop()
        finally:
            done.set()

    threading.Thread(target=run, daemon=True, name="stop").start()
    if not done.wait(timeout=seconds):
        _exit_now(f"revgov: not stopped within {seconds:g} s; exiting without waiting", 0)
    # The interpreter's exit joins non-daemon threads and executor pools: bound that too.
    watchdog = threading.Timer(seconds, _exit_now, args=("revgov: exit took too long; exiting now", 0))
    watchdog.daemon = True
    watchdog.start()


def _exit_now(message: str, code: int) -> None:
    try:
        print(message, file=sys.stderr, flush=True)
        sys.stdout.flush()
    finally:
        os._exit(code)


def _wait(args: argparse.Namespace) -> int:
    """Return when the local product answers: the state file names its base URL, `GET /v1/health` answers 200 and
    the state file was rewritten by the process that answers (its keys are the ones that work now). With `--pid`,
    fail at once when that process (the `revgov dev`, or the `make run` around it) has exited: it will never answer."""
    state = Path(args.state_file)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        try:
            info = json.loads(state.read_text(encoding="utf-8"))
            with urllib.request.urlopen(f"{info['base_url']}/v1/health", timeout=2) as answer:  # noqa: S310 - local
                if answer.status == 200 and json.loads(state.read_text(encoding="utf-8")) == info:
                    print(f"revgov ready: {info['base_url']}")
                    return 0
        except (OSError, ValueError, KeyError):
            pass
        if args.pid is not None and not _running(args.pid):
            print(f"revgov: the process {args.pid} this waits for has exited without answering (see its output; "
                  f"{state})", file=sys.stderr)  # fmt: skip
            return 1
        time.sleep(0.2)
    print(f"revgov is not answering after {args.timeout:g}s (is `make run` running? see {state})", file=sys.stderr)
    return 1


def _running(pid: int) -> bool:
    """Whether process `pid` still runs: not gone, and not a zombie its parent has yet to reap (Linux `/proc`)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:  # no /proc (macOS), or it went in between: the signal said it existed
        return True
    return stat.rsplit(")", 1)[-1].split()[:1] != ["Z"]


def _process_id(text: str) -> int:
    """A `--pid`: a positive process id (0 and negative ids name process groups to `kill`)."""
    try:
        pid = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a process id: {text!r}") from None
    if not 0 < pid < 2**31:  # kill(2)'s pid_t: a larger one overflows os.kill
        raise argparse.ArgumentTypeError(f"not a process id: {text!r} (a positive integer below 2^31)")
    return pid


def _replay(args: argparse.Namespace) -> int:
    """Re-publish a tenant's dead-lettered or failed ERP events (or the ones named) after their cause is fixed."""
    use_product(args.state_file)
    from .bootstrap import runtime
    from .services import erp

    bad = [e for e in args.event_id or [] if not is_typed_id(e, "evt")]
    if bad:
        raise CliError(f"not an event id: {', '.join(bad)} (ERP event ids look like evt_…)")
    rt = runtime()
    require_tenants(rt, [args.tenant])
    event_ids = args.event_id or erp.replayable(rt, args.tenant, tuple(args.status))
    actor = f"cli:{getpass.getuser()}"
    results = []  # a replay of thousands of dead-lettered events takes a while: a bar on a terminal's stderr
    for event_id in progress(event_ids, f"Replaying {len(event_ids)} events", as_json=args.json):
        results += erp.replay(rt, args.tenant, [event_id], actor=actor)
    replayed = sum(r["status"] == "replayed" for r in results)
    emit(results, as_json=args.json, title=f"{replayed} of {len(results)} ERP events replayed for {args.tenant}",
         columns=_columns(results, ("event_id", "status")))
    if args.json:
        print(json.dumps({"replayed": replayed, "of": len(results)}))
    return 0 if replayed == len(results) else 1


def _settle(args: argparse.Namespace) -> int:
    """Prepare a period's rebate run for a tenant, as finance would through POST /v1/rebates/settlements; a second
    member of the finance queue approves it through the API before anything is issued (SOP-7.2 / COP-7.2). A run
    approved before answers that settlement; a prepared one whose figures are unchanged, that preparation."""
    use_product(args.state_file)
    from .bootstrap import runtime
    from .services import rebates

    body = {"period": args.period, "run": args.settlement_run}
    problems = schemas.problems("api/rebate-settlement.schema.json", body)
    if problems:
        raise CliError(f"--period {args.period!r} / --run {args.settlement_run}: a quarter (2026-Q3) or month "
                       "(2026-09) that has ended, and a run from 1 to 99")
    rt = runtime()
    require_tenants(rt, [args.tenant])
    who = Principal(args.tenant, Role.FINANCE, f"cli-{getpass.getuser()}")
    with working(f"Settling {args.period} (run {args.settlement_run}) for {args.tenant}…", as_json=args.json):
        _, settlement = rebates.settle(rt, who, body)
    rows = [{k: p[k] for k in ("partner_id", "total", "accrued", "difference_from_accruals", "lines")}
            for p in settlement["partners"]]
    state = {"settled": "already approved and issued before", "prepared": "prepared"}[settlement["status"]]
    if settlement["status"] == "prepared":
        state += (" (unchanged since it was prepared before)" if settlement.get("replayed") else "") + (
            "; a second member of the finance queue approves it: POST /v1/rebates/settlements/"
            f"{settlement['settlement_id']}/approve")
    emit(rows, as_json=args.json, columns=("partner_id", "total", "accrued", "difference_from_accruals", "lines"),
         title=f"{settlement['settlement_id']}: {args.period} run {args.settlement_run} {state}, payable "
         f"{settlement['totals']['payable']} {settlement['currency']}")
    if args.json:
        shown = ("settlement_id", "period", "run", "status", "totals", "replayed")
        print(json.dumps({k: settlement[k] for k in shown}))
    return 0


def _columns(rows: list[dict[str, Any]], first: tuple[str, ...]) -> list[str]:
    seen = list(first)
    for row in rows:
        seen += [k for k in row if k not in seen]
    return seen


def _agents_run(args: argparse.Namespace) -> int:
    """Run one bounded agent now, for the named tenants or every active one; one report per tenant."""
    use_product(args.state_file)
    from .bootstrap import runtime
    from .services import agents

    rt = runtime()
    if args.tenant:
        require_tenants(rt, args.tenant)
    reports = agents.run(rt, args.name, args.tenant)
    emit(reports, as_json=args.json, title=f"agent {args.name}", columns=_columns(reports, ("tenant_id",)))
    return 0


def _copilot_index(args: argparse.Namespace) -> int:
    from rich.console import Console

    from .bootstrap import build_copilot
    from .services.copilot import contract_files, index_tenant
    from .settings import settings

    config = settings()
    index, _ = build_copilot(config)
    known = sorted(p.parent.name for p in config.tenants_dir.glob("*/tenant.yaml"))
    unknown = [t for t in args.tenant or [] if t not in known]
    if unknown:
        raise CliError(f"no tenant {', '.join(unknown)} in {config.tenants_dir} (tenants: {', '.join(known)})")
    tenants = args.tenant or known
    total = sum(len(contract_files(config.tenants_dir, t)) for t in tenants)
    console = Console()
    counts: dict[str, int] = {}
    with counting("Indexing contracts", total) as step:  # the bar on a terminal's stderr; the report on stdout
        for tenant_id in tenants:
            step(0, f"Indexing {tenant_id}")

            def done(result: Any, tenant_id: str = tenant_id) -> None:
                counts[result.status] = counts.get(result.status, 0) + 1
                console.print(
                    f"{tenant_id}/{result.document}: {result.status}, {result.clauses} clauses, "
                    f"{result.embedded} embedded, {result.removed} removed"
                )
                if result.status != "removed":
                    step()

            index_tenant(index, config.tenants_dir, tenant_id, on_document=done)
    where = config.copilot.opensearch_endpoint if config.copilot.index == "opensearch" else config.copilot.index_path
    console.print(f"Indexed {len(tenants)} tenant(s) into {config.copilot.index} ({where}): {counts}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="revgov", description="Revgov: revenue governance for partner programs")
    parser.add_argument("--version", action="version", version=f"revgov {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    _register_dev(commands)
    _register_events(commands)
    _register_rebates(commands)
    for module in (cli_tenants, cli_catalog, cli_policy, cli_history, cli_maintenance):
        module.register(commands)
    _register_agents(commands)
    _register_copilot(commands)
    args = parser.parse_args(argv)
    if getattr(args, "events_command", None) == "replay" and not args.status:
        args.status = ["dead_lettered", "failed"]
    return run_safely(lambda: args.run(args))


def _register_dev(commands: Any) -> None:
    dev = commands.add_parser("dev", help="serve the whole product locally with the demo tenants")
    dev.add_argument("--port", type=int, default=8000, help="API port on 127.0.0.1 (default 8000)")
    dev.add_argument("--state-file", default=".revgov/local.json", help="where to write the base URL and demo keys")
    dev.add_argument(
        "--backend", choices=["sqlite", "dynamodb"], default="sqlite",
        help="sqlite (default): the embedded engine, data kept in --data-file across restarts; dynamodb: DynamoDB, "
        "EventBridge and SQS at AWS_ENDPOINT_URL or with your AWS credentials",
    )
    dev.add_argument("--data-file", help="the embedded engine's database (default .revgov/revgov.sqlite)")
    dev.add_argument("--reset", action="store_true", help="start over: delete the local database and re-seed")
    dev.set_defaults(run=_dev)
    wait = commands.add_parser("wait", help="wait until `revgov dev` answers (for scripts and the README)")
    wait.add_argument("--state-file", default=".revgov/local.json", help="the state file `revgov dev` writes")
    wait.add_argument("--timeout", type=float, default=120.0, help="seconds to wait (default 120)")
    wait.add_argument(
        "--pid", type=_process_id,
        help="the process id of the `revgov dev` (or `make run`) waited for, e.g. $!: exit 1 at once if it exits",
    )
    wait.set_defaults(run=_wait)


def _register_events(commands: Any) -> None:
    events = commands.add_parser("events", help="ERP events: replay what failed or was dead-lettered")
    event_commands = events.add_subparsers(dest="events_command", required=True)
    replay = event_commands.add_parser("replay", help="put failed or dead-lettered ERP events back on the bus")
    replay.add_argument("--tenant", required=True, help="the tenant id")
    replay.add_argument(
        "--event-id", action="append", help="an evt_… id to replay (repeatable); default: all with --status"
    )
    replay.add_argument(
        "--status",
        action="append",
        choices=["dead_lettered", "failed"],
        help="which events to replay when no --event-id is given (default: both)",
    )
    product_options(replay)
    replay.set_defaults(run=_replay)


def _register_rebates(commands: Any) -> None:
    rebates = commands.add_parser("rebates", help="rebates: prepare a period's settlement run")
    rebate_commands = rebates.add_subparsers(dest="rebates_command", required=True)
    settle = rebate_commands.add_parser("settle", help="prepare a period's rebate run (finance) for a second finance "
                                        "member's approval")
    settle.add_argument("--tenant", required=True, help="the tenant id")
    settle.add_argument("--period", required=True, help="a quarter (2026-Q3) or month (2026-09) that has ended")
    settle.add_argument("--run", dest="settlement_run", type=int, default=1,
                        help="the run of the period, 1 (default) then 2, 3… in order")
    product_options(settle)
    settle.set_defaults(run=_settle)


def _register_agents(commands: Any) -> None:
    from .services.agents import AGENTS  # the agents' names, for the choices (the service layer loads only here)

    agent_parser = commands.add_parser("agents", help="bounded agents: run one on demand")
    agent_commands = agent_parser.add_subparsers(dest="agents_command", required=True)
    agent_run = agent_commands.add_parser("run", help="run an agent now (it opens tasks or exceptions, or escalates)")
    agent_run.add_argument("name", choices=sorted(AGENTS), help="the agent")
    agent_run.add_argument("--tenant", action="append", help="only this tenant (repeatable); default: every active one")
    product_options(agent_run)
    agent_run.set_defaults(run=_agents_run)


def _register_copilot(commands: Any) -> None:
    copilot = commands.add_parser("copilot", help="the contract copilot")
    copilot_commands = copilot.add_subparsers(dest="copilot_command", required=True)
    index = copilot_commands.add_parser("index", help="index tenants' contracts (unchanged documents are no-ops)")
    index.add_argument("--tenant", action="append", help="only this tenant (repeatable); default: every tenant")
    index.set_defaults(run=_copilot_index)


if __name__ == "__main__":
    sys.exit(main())
