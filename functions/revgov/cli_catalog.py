"""`revgov catalog import|diff`: a tenant's price list as a versioned catalog (CSV or JSON files)."""

from __future__ import annotations

import argparse
import getpass
import json
from pathlib import Path
from typing import Any

from .cli_support import CliError, use_product, working
from .domain.access import Principal, Role
from .domain.catalog import csv_rows
from .domain.errors import RevgovError


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a CSV file (a header line naming the columns) or a JSON file (a list, or {"items": [...]})."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".csv":
        return csv_rows(text)
    loaded = _json(path, text)
    rows = loaded.get("items") if isinstance(loaded, dict) else loaded
    if not isinstance(rows, list):
        raise ValueError(f"{path}: a JSON catalog is a list of rows or an object with `items`")
    return rows


def _json(path: Path, text: str) -> Any:
    """A file's JSON, or a ValueError naming the file and where it stops being JSON (a CSV file ends in `.csv`)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as why:
        raise CliError(f"{path}: not JSON ({why.msg}, line {why.lineno}); a CSV file's name ends in .csv") from None


def _runtime(state_file: str | None) -> Any:
    # the product the other commands act on: --state-file's; else the table the environment names; else `make run`'s
    use_product(state_file)
    from .bootstrap import runtime  # after use_product: the product's settings come from the state file

    return runtime()


def _import(args: argparse.Namespace) -> int:
    from .services.catalog import import_catalog

    rt = _runtime(args.state_file)
    who = Principal(args.tenant, Role.ADMIN, f"cli-{getpass.getuser()}")
    try:
        rows = read_rows(Path(args.file))
        with working(f"Importing {len(rows)} catalog rows into {args.tenant}…"):  # stderr, on a terminal only
            imported = import_catalog(rt, who, rows, source=Path(args.file).name)
        print(json.dumps(imported))
    except RevgovError as refused:
        problem = {"status": refused.status, "detail": refused.detail, "errors": [e.as_dict() for e in refused.errors]}
        print(json.dumps(problem, indent=1))
        return 1
    return 0


def _diff(args: argparse.Namespace) -> int:
    from .services.catalog import catalog_diff
    from .services.tenants import load_tenant

    rt = _runtime(args.state_file)
    tenant, _ = load_tenant(rt, args.tenant)
    print(json.dumps(catalog_diff(rt, args.tenant, tenant.policy, args.before, args.after), indent=1))
    return 0


def register(commands: Any) -> None:
    catalog = commands.add_parser("catalog", help="a tenant's price list as a versioned catalog")
    sub = catalog.add_subparsers(dest="catalog_command", required=True)
    state_help = "the local stack's state file (default .revgov/local.json, written by `make run`)"
    imported = sub.add_parser("import", help="replace the tenant's catalog with a CSV or JSON file (all rows checked)")
    imported.add_argument("file", help="columns: sku,name,family,billing,list_price,unit_cost,currency,"
                                       "effective_from,effective_to")
    imported.add_argument("--tenant", required=True)
    imported.add_argument("--state-file", help=state_help)
    imported.set_defaults(run=_import)
    diffed = sub.add_parser("diff", help="what changed between two catalog imports (0: the policy's price list)")
    diffed.add_argument("--tenant", required=True)
    diffed.add_argument("--from", dest="before", type=int, required=True)
    diffed.add_argument("--to", dest="after", type=int, required=True)
    diffed.add_argument("--state-file", help=state_help)
    diffed.set_defaults(run=_diff)
