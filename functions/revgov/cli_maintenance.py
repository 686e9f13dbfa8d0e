"""`revgov maintenance …`: one-off data repairs on a tenant's store, through the DocumentStore port (SQLite or
DynamoDB alike), idempotent and audited.

`revgov maintenance backfill-decisions --tenant T`: decisions stored before the per-partner lookup existed get it,
so the partner sees them in `GET /v1/decisions` (services.decision_backfill).
"""

from __future__ import annotations

import argparse
import getpass
from typing import Any

from .cli_support import emit, product_options, require_tenants, use_product, working


def _backfill_decisions(args: argparse.Namespace) -> int:
    use_product(args.state_file)
    from .bootstrap import runtime
    from .services.decision_backfill import backfill_partner_lookups

    rt = runtime()
    require_tenants(rt, args.tenant)
    rows = []
    for tenant_id in args.tenant:
        with working(f"Backfilling decision lookups of {tenant_id}…", as_json=args.json):
            rows.append(backfill_partner_lookups(rt, tenant_id, actor=f"operator:cli-{getpass.getuser()}"))
    emit(rows, as_json=args.json, columns=("tenant_id", "scanned", "backfilled"),
         title="partner decision lookups (a second run backfills 0)")  # fmt: skip
    return 0


def register(commands: Any) -> None:
    maintenance = commands.add_parser("maintenance", help="one-off, idempotent, audited repairs of stored data")
    sub = maintenance.add_subparsers(dest="maintenance_command", required=True)
    backfill = sub.add_parser(
        "backfill-decisions",
        help="give decisions stored before the per-partner lookup their lookup (partners then see them in "
        "GET /v1/decisions); a second run changes nothing",
    )
    backfill.add_argument("--tenant", action="append", required=True, help="the tenant id (repeatable)")
    product_options(backfill)
    backfill.set_defaults(run=_backfill_decisions)
