"""The `revgov` command: `revgov dev` serves the whole product locally."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any


def _dev(args: argparse.Namespace) -> int:
    from rich.console import Console

    from .cli_support import print_keys
    from .local.stack import start_stack

    console = Console()
    state = Path(args.state_file)
    with console.status("Starting the AWS emulator, resources, event router and demo tenants…"):
        try:
            stack = start_stack(port=args.port, state_file=state)
        except OSError as exc:
            console.print(f"[red]Could not start: {exc}[/red] (is port {args.port} in use? try --port)")
            return 1
    console.print(f"[bold]Revgov is serving on {stack.base_url}[/bold]")
    print_keys(console, stack.info)  # one key per line, never folded at the terminal's width
    console.print(
        f"Keys and webhook secrets are in [bold]{state}[/bold]. State is in memory and re-seeded at every start."
    )
    console.print(f"Try: curl -s {stack.base_url}/v1/health   ·   Ctrl-C stops.")
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    stopped.wait()
    console.print("Stopping…")
    stack.stop()
    return 0


def _replay(args: argparse.Namespace) -> int:
    """Re-publish a tenant's dead-lettered or failed ERP events (or the ones named) after their cause is fixed."""
    import getpass

    from .cli_support import CliError, emit, require_tenants, use_product

    use_product(args.state_file)
    from .domain.ids import is_typed_id
    from .runtime import runtime
    from .services import erp

    bad = [e for e in args.event_id or [] if not is_typed_id(e, "evt")]
    if bad:
        raise CliError(f"not an event id: {', '.join(bad)} (ERP event ids look like evt_…)")
    rt = runtime()
    require_tenants(rt, [args.tenant])
    event_ids = args.event_id or erp.replayable(rt, args.tenant, tuple(args.status))
    actor = f"cli:{getpass.getuser()}"
    if args.json:
        results = erp.replay(rt, args.tenant, event_ids, actor=actor)
    else:  # people get a progress bar: a replay of thousands of dead-lettered events takes a while
        from rich.progress import track

        results = []
        for event_id in track(event_ids, description=f"Replaying {len(event_ids)} events", transient=True):
            results += erp.replay(rt, args.tenant, [event_id], actor=actor)
    replayed = sum(r["status"] == "replayed" for r in results)
    emit(results, as_json=args.json, title=f"{replayed} of {len(results)} ERP events replayed for {args.tenant}",
         columns=_columns(results, ("event_id", "status")))
    if args.json:
        print(json.dumps({"replayed": replayed, "of": len(results)}))
    return 0 if replayed == len(results) else 1


def _columns(rows: list[dict[str, Any]], first: tuple[str, ...]) -> list[str]:
    seen = list(first)
    for row in rows:
        seen += [k for k in row if k not in seen]
    return seen


def _agents_run(args: argparse.Namespace) -> int:
    """Run one bounded agent now, for the named tenants or every active one; one report per tenant."""
    from .cli_support import emit, require_tenants, use_product

    use_product(args.state_file)
    from .runtime import runtime
    from .services import agents

    rt = runtime()
    if args.tenant:
        require_tenants(rt, args.tenant)
    reports = agents.run(rt, args.name, args.tenant)
    emit(reports, as_json=args.json, title=f"agent {args.name}", columns=_columns(reports, ("tenant_id",)))
    return 0


def _copilot_index(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .runtime import build_copilot
    from .services.copilot import contract_files, index_tenant
    from .settings import settings

    config = settings()
    index, _ = build_copilot(config)
    known = sorted(p.parent.name for p in config.tenants_dir.glob("*/tenant.yaml"))
    unknown = [t for t in args.tenant or [] if t not in known]
    if unknown:
        from .cli_support import CliError

        raise CliError(f"no tenant {', '.join(unknown)} in {config.tenants_dir} (tenants: {', '.join(known)})")
    tenants = args.tenant or known
    total = sum(len(contract_files(config.tenants_dir, t)) for t in tenants)
    console = Console()
    counts: dict[str, int] = {}
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("Indexing contracts", total=total)
        for tenant_id in tenants:
            progress.update(task, description=f"Indexing {tenant_id}")

            def done(result: Any, tenant_id: str = tenant_id) -> None:
                counts[result.status] = counts.get(result.status, 0) + 1
                progress.console.print(
                    f"{tenant_id}/{result.document}: {result.status}, {result.clauses} clauses, "
                    f"{result.embedded} embedded, {result.removed} removed"
                )
                if result.status != "removed":
                    progress.advance(task)

            index_tenant(index, config.tenants_dir, tenant_id, on_document=done)
    where = config.copilot.opensearch_endpoint if config.copilot.index == "opensearch" else config.copilot.index_path
    console.print(f"Indexed {len(tenants)} tenant(s) into {config.copilot.index} ({where}): {counts}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from . import __version__

    parser = argparse.ArgumentParser(prog="revgov", description="Revgov: revenue governance for partner programs")
    parser.add_argument("--version", action="version", version=f"revgov {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    dev = commands.add_parser("dev", help="serve the whole product locally with the demo tenants")
    dev.add_argument("--port", type=int, default=8000, help="API port on 127.0.0.1 (default 8000)")
    dev.add_argument("--state-file", default=".revgov/local.json", help="where to write the base URL and demo keys")
    dev.set_defaults(run=_dev)
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
    _product_options(replay)
    replay.set_defaults(run=_replay)
    from .cli_tenants import register as register_tenants

    register_tenants(commands)
    from .cli_catalog import register as register_catalog

    register_catalog(commands)
    agent_parser = commands.add_parser("agents", help="bounded agents: run one on demand")
    agent_commands = agent_parser.add_subparsers(dest="agents_command", required=True)
    agent_run = agent_commands.add_parser("run", help="run an agent now (it opens tasks or exceptions, or escalates)")
    from .services.agents import AGENTS

    agent_run.add_argument("name", choices=sorted(AGENTS), help="the agent")
    agent_run.add_argument("--tenant", action="append", help="only this tenant (repeatable); default: every active one")
    _product_options(agent_run)
    agent_run.set_defaults(run=_agents_run)
    copilot = commands.add_parser("copilot", help="the contract copilot")
    copilot_commands = copilot.add_subparsers(dest="copilot_command", required=True)
    index = copilot_commands.add_parser("index", help="index tenants' contracts (unchanged documents are no-ops)")
    index.add_argument("--tenant", action="append", help="only this tenant (repeatable); default: every tenant")
    index.set_defaults(run=_copilot_index)
    args = parser.parse_args(argv)
    if getattr(args, "events_command", None) == "replay" and not args.status:
        args.status = ["dead_lettered", "failed"]
    from .cli_support import run_safely

    return run_safely(lambda: args.run(args))


def _product_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-file",
        help="the local stack's state file (default .revgov/local.json, written by `make run`); when it is not given "
        "and REVGOV_TABLE or AWS_ENDPOINT_URL is set, the deployed table of the environment is used",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line, for scripts")


if __name__ == "__main__":
    sys.exit(main())
