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
from collections.abc import Callable
from typing import Any

from .cli_support import emit, product_options, require_tenants, use_product, working


def _backfill(args: argparse.Namespace, what: str, use_case: Callable[..., dict[str, Any]], title: str) -> int:
    """Run one backfill use case for each `--tenant`, as the operator running the command, and print its counts."""
    from .bootstrap import runtime  # after use_product: the product's settings come from the state file

    rt = runtime()
    require_tenants(rt, args.tenant)
    rows = []
    for tenant_id in args.tenant:
        with working(f"Backfilling {what} of {tenant_id}…", as_json=args.json):
            rows.append(use_case(rt, tenant_id, actor=f"operator:cli-{getpass.getuser()}"))
    emit(rows, as_json=args.json, columns=("tenant_id", "scanned", "backfilled"), title=title)
    return 0


def _backfill_decisions(args: argparse.Namespace) -> int:
    use_product(args.state_file)
    from .services.decision_backfill import backfill_partner_lookups

    return _backfill(args, "decision lookups", backfill_partner_lookups,
                     "partner decision lookups (a second run backfills 0)")


def _backfill_deal_pointers(args: argparse.Namespace) -> int:
    use_product(args.state_file)
    from .services.deals.backfill import backfill_partner_pointers

    return _backfill(args, "deal registration pointers", backfill_partner_pointers,
                     "partner deal registration pointers (a second run backfills 0)")


def _backfill_audit_pointers(args: argparse.Namespace) -> int:
    use_product(args.state_file)
    from .services.audit_backfill import backfill_partner_pointers

    return _backfill(args, "partner audit pointers", backfill_partner_pointers,
                     "partner audit record pointers (a second run backfills 0)")


def _backfill_waiting_pointers(args: argparse.Namespace) -> int:
    use_product(args.state_file)
    from .services.case_waiting_backfill import backfill_waiting_pointers

    return _backfill(args, "waiting-on-partner pointers", backfill_waiting_pointers,
                     "partner waiting-item pointers (a second run backfills 0)")


def _backfill_open_pointers(args: argparse.Namespace) -> int:
    use_product(args.state_file)
    from .services.case_open_backfill import backfill_open_pointers

    return _backfill(args, "undecided-case pointers", backfill_open_pointers,
                     "partner undecided-case pointers (a second run backfills 0)")


def _backfill_usage_months(args: argparse.Namespace) -> int:
    use_product(args.state_file)
    from .services.usage_month_backfill import backfill_usage_months

    return _backfill(args, "usage month pointers", backfill_usage_months,
                     "usage record month pointers (a second run backfills 0)")


def _backfill_held_credits(args: argparse.Namespace) -> int:
    use_product(args.state_file)
    from .services.credit_hold_backfill import backfill_held_marks

    return _backfill(args, "held credit-note marks", backfill_held_marks,
                     "credit notes waiting for approval marked held on their lines (a second run backfills 0)")


def _subcommand(sub: Any, name: str, help_text: str, run: Callable[[argparse.Namespace], int]) -> None:
    parser = sub.add_parser(name, help=help_text)
    parser.add_argument("--tenant", action="append", required=True, help="the tenant id (repeatable)")
    product_options(parser)
    parser.set_defaults(run=run)


def register(commands: Any) -> None:
    maintenance = commands.add_parser("maintenance", help="one-off, idempotent, audited repairs of stored data")
    sub = maintenance.add_subparsers(dest="maintenance_command", required=True)
    _subcommand(sub, "backfill-decisions",
                "give decisions stored before the per-partner lookup their lookup (partners then see them in "
                "GET /v1/decisions); a second run changes nothing", _backfill_decisions)
    _subcommand(sub, "backfill-deal-pointers",
                "give deal registrations stored before each partner's pointers their pointer (partners then see "
                "them in GET /v1/deals); a second run changes nothing", _backfill_deal_pointers)
    _subcommand(sub, "backfill-audit-pointers",
                "give audit records sealed before records named their partner their partner's pointer (GET "
                "/v1/audit?partner_id= then lists them, PA-12.1); a second run changes nothing",
                _backfill_audit_pointers)
    _subcommand(sub, "backfill-waiting-pointers",
                "give approvals and exceptions waiting on their partner before 1.28.0 their pointer (GET /v1/waiting "
                "then lists them, SOP-1.3); a second run changes nothing", _backfill_waiting_pointers)
    _subcommand(sub, "backfill-open-pointers",
                "give approvals and exceptions opened about a partner before its undecided cases had pointers their "
                "pointer, then mark the tenant's pointers complete (a performance summary then reads only the "
                "partner's own); a second run writes no pointer", _backfill_open_pointers)
    _subcommand(sub, "backfill-usage-months",
                "give usage records stored before they had month pointers their pointer, then mark the tenant's "
                "pointers complete (a usage what-if then reads only the months asked); a second run writes no "
                "pointer", _backfill_usage_months)
    _subcommand(sub, "backfill-held-credits",
                "mark credit notes held for approval before 1.46.4 as held on the lines they credit (SOP-2.5: not "
                "issued before approval), then the tenant; a second run marks nothing", _backfill_held_credits)
