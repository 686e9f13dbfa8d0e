"""`revgov maintenance …`: one-off data repairs on a tenant's store, through the DocumentStore port (SQLite or
DynamoDB alike), idempotent and audited.

`revgov maintenance backfill-decisions --tenant T`: decisions stored before the per-partner lookup existed get it,
so the partner sees them in `GET /v1/decisions` (services.decision_backfill).
`revgov maintenance backfill-deal-pointers --tenant T`: deal registrations stored before each partner's pointers
existed get theirs, so the partner sees them in `GET /v1/deals` (services.deals.backfill).
`revgov maintenance backfill-audit-pointers --tenant T`: audit records sealed before records named their partner get
their partner's pointer, so `GET /v1/audit?partner_id=` lists them (PA-12.1; services.audit_backfill).
`revgov maintenance backfill-waiting-pointers --tenant T`: approvals and exceptions already waiting on their partner
before 1.28.0 get their pointer, so the partner sees them in `GET /v1/waiting` (services.case_waiting_backfill).
`revgov maintenance backfill-open-pointers --tenant T`: approvals and exceptions opened about a partner before each
partner's undecided cases had pointers get theirs, and the tenant its mark, so a performance summary reads the
partner's own cases, not every undecided case of the tenant (services.case_open_backfill).
`revgov maintenance backfill-usage-months --tenant T`: usage records stored before each had a month pointer get it,
and the tenant its mark, so a usage what-if reads the months asked, not every usage record of the tenant
(services.usage_month_backfill).
`revgov maintenance backfill-held-credits --tenant T`: credit notes held for approval before 1.46.4 are marked held on
the line they credit, and the tenant its mark, so the line still stands charged until they are approved (SOP-2.5;
services.credit_hold_backfill).
"""

from __future__ import annotations

import argparse
import getpass
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from .cli_support import emit, product_options, require_tenants, use_product, working


@dataclass(frozen=True)
class Backfill:
    """One `revgov maintenance` backfill: its command, the service function it runs (imported when it runs, so
    `revgov --help` loads no service), what it fills (progress), the table's title and the command's help."""

    name: str
    module: str
    function: str
    what: str
    title: str
    help: str


BACKFILLS = (
    Backfill("backfill-decisions", "services.decision_backfill", "backfill_partner_lookups", "decision lookups",
             "partner decision lookups (a second run backfills 0)",
             "give decisions stored before the per-partner lookup their lookup (partners then see them in "
             "GET /v1/decisions); a second run changes nothing"),
    Backfill("backfill-deal-pointers", "services.deals.backfill", "backfill_partner_pointers",
             "deal registration pointers", "partner deal registration pointers (a second run backfills 0)",
             "give deal registrations stored before each partner's pointers their pointer (partners then see "
             "them in GET /v1/deals); a second run changes nothing"),
    Backfill("backfill-audit-pointers", "services.audit_backfill", "backfill_partner_pointers",
             "partner audit pointers", "partner audit record pointers (a second run backfills 0)",
             "give audit records sealed before records named their partner their partner's pointer (GET "
             "/v1/audit?partner_id= then lists them, PA-12.1); a second run changes nothing"),
    Backfill("backfill-waiting-pointers", "services.case_waiting_backfill", "backfill_waiting_pointers",
             "waiting-on-partner pointers", "partner waiting-item pointers (a second run backfills 0)",
             "give approvals and exceptions waiting on their partner before 1.28.0 their pointer (GET /v1/waiting "
             "then lists them, SOP-1.3); a second run changes nothing"),
    Backfill("backfill-open-pointers", "services.case_open_backfill", "backfill_open_pointers",
             "undecided-case pointers", "partner undecided-case pointers (a second run backfills 0)",
             "give approvals and exceptions opened about a partner before its undecided cases had pointers their "
             "pointer, then mark the tenant's pointers complete (a performance summary then reads only the "
             "partner's own); a second run writes no pointer"),
    Backfill("backfill-usage-months", "services.usage_month_backfill", "backfill_usage_months",
             "usage month pointers", "usage record month pointers (a second run backfills 0)",
             "give usage records stored before they had month pointers their pointer, then mark the tenant's "
             "pointers complete (a usage what-if then reads only the months asked); a second run writes no "
             "pointer"),
    Backfill("backfill-held-credits", "services.credit_hold_backfill", "backfill_held_marks",
             "held credit-note marks",
             "credit notes waiting for approval marked held on their lines (a second run backfills 0)",
             "mark credit notes held for approval before 1.46.4 as held on the lines they credit (SOP-2.5: not "
             "issued before approval), then the tenant; a second run marks nothing"),
)  # fmt: skip


def use_case_of(name: str) -> Callable[..., dict[str, Any]]:
    """The service function the backfill `name` runs, imported now (not when the CLI starts)."""
    backfill = next(b for b in BACKFILLS if b.name == name)
    use_case: Callable[..., dict[str, Any]] = getattr(
        importlib.import_module(f".{backfill.module}", __package__), backfill.function
    )
    return use_case


def _backfill(backfill: Backfill, args: argparse.Namespace) -> int:
    """Run one backfill use case for each `--tenant`, as the operator running the command, and print its counts."""
    use_product(args.state_file)
    from .bootstrap import runtime  # after use_product: the product's settings come from the state file

    use_case = use_case_of(backfill.name)
    rt = runtime()
    require_tenants(rt, args.tenant)
    rows = []
    for tenant_id in args.tenant:
        with working(f"Backfilling {backfill.what} of {tenant_id}…", as_json=args.json):
            rows.append(use_case(rt, tenant_id, actor=f"operator:cli-{getpass.getuser()}"))
    emit(rows, as_json=args.json, columns=("tenant_id", "scanned", "backfilled"), title=backfill.title)
    return 0


def register(commands: Any) -> None:
    maintenance = commands.add_parser("maintenance", help="one-off, idempotent, audited repairs of stored data")
    sub = maintenance.add_subparsers(dest="maintenance_command", required=True)
    for backfill in BACKFILLS:
        parser = sub.add_parser(backfill.name, help=backfill.help)
        parser.add_argument("--tenant", action="append", required=True, help="the tenant id (repeatable)")
        product_options(parser)
        parser.set_defaults(run=partial(_backfill, backfill))
