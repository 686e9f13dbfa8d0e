"""`revgov history import`: a go-live file of past invoice lines (and payments) per partner, CSV or JSON.

Runs in-process against the product's engine (like `revgov catalog import`), so a file of any size is one import:
idempotent per file (the same rows again are replayed), every bad row named (exit 1 with the problem as JSON).
"""

from __future__ import annotations

import argparse
import getpass
import json
from pathlib import Path
from typing import Any

from .cli_catalog import _json, _runtime, read_rows
from .domain.access import Principal, Role
from .domain.errors import RevgovError


def read_history(lines_file: Path, payments_file: Path | None) -> dict[str, Any]:
    """`{source, lines, payments}` from a CSV of lines (and one of payments), or one JSON file holding all three;
    empty CSV cells are absent columns."""
    if lines_file.suffix.lower() == ".json" and payments_file is None:
        loaded = _json(lines_file, lines_file.read_text(encoding="utf-8"))
        if isinstance(loaded, dict) and "lines" in loaded:
            return {"source": lines_file.name, **loaded}
    body: dict[str, Any] = {"source": lines_file.name, "lines": _cells(read_rows(lines_file))}
    if payments_file is not None:
        body["payments"] = _cells(read_rows(payments_file))
    return body


def _cells(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if v not in (None, "")} for row in rows]


def _import(args: argparse.Namespace) -> int:
    from .services.history import import_history

    rt = _runtime(args.state_file)
    who = Principal(args.tenant, Role.FINANCE, f"cli-{getpass.getuser()}")
    body = read_history(Path(args.file), Path(args.payments) if args.payments else None)
    try:
        print(json.dumps(import_history(rt, who, body)))
    except RevgovError as refused:
        problem = {"status": refused.status, "detail": refused.detail, "errors": [e.as_dict() for e in refused.errors]}
        print(json.dumps(problem, indent=1))
        return 1
    return 0


def register(commands: Any) -> None:
    history = commands.add_parser("history", help="go-live history: past invoice lines and payments per partner")
    sub = history.add_subparsers(dest="history_command", required=True)
    imported = sub.add_parser("import", help="import a CSV or JSON file of past invoice lines (all rows checked)")
    imported.add_argument(
        "file",
        help="CSV columns: partner_id,invoice_ref,invoice_date,line_ref,kind,sku,family,quantity,amount,order_ref,"
        "service_date,channel,credits_line_ref,reason; or a JSON file {lines, payments}",
    )
    imported.add_argument("--payments", help="CSV of payments: partner_id,invoice_ref,paid_on,payment_ref")
    imported.add_argument("--tenant", required=True)
    imported.add_argument("--state-file", help="reach the local stack of `revgov dev` through its state file")
    imported.set_defaults(run=_import)
