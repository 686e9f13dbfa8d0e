"""What-if for invoices: a month's (or a quarter's) invoice lines replayed under a policy draft's billing rules beside
the policy in force's, with the KPIs the difference moves. Nothing is written.

Both sides are billed by the functions billing posts lines with (domain.billing, through
domain.policy_whatif_billing), under a `BillingPolicy` built as billing builds it: from the policy, its catalog the
imported one where a catalog was imported (an imported catalog prices billing whatever the policy's price list says,
so a draft's price list changes nothing then). The lines are those of the period's invoices, draft and issued, and
the credit notes held for approval (pending or rejected) in the period.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from ..domain import policy_whatif_billing as domain
from ..domain.access import Principal
from ..domain.billing import BillingPolicy
from ..domain.errors import FieldError, RuleViolation
from ..domain.kpis import Period
from ..domain.money import format_money
from ..domain.policy_whatif_rebates import totals
from ..runtime import Runtime
from . import credit_notes, partner_repository, policy_drafts
from .analytics.rollups import DIRECT
from .billing.repository import STATEMENTS_OF_WORK, invoice_lines, invoices_in
from .catalog import imported_catalog
from .policy_whatif_kpis import direct_invoices, moved_kpis
from .tenants import load_tenant
from .toolkit import pages

STATUSES = ("draft", "finalized")
HELD = ("pending_approval", "rejected")


def period_of_body(body: dict[str, Any]) -> Period:
    try:
        return Period.parse(str(body["period"]))
    except ValueError as bad:
        raise RuleViolation(str(bad), errors=[FieldError("/period", "not a month or quarter")]) from bad


def billing_book(rt: Runtime, tenant_id: str, policy: dict[str, Any], which: str) -> BillingPolicy:
    """The billing policy as billing builds it (services.billing.intake): the catalog imported, if any, prices."""
    try:
        book = BillingPolicy.from_policy(policy)
    except (KeyError, ValueError) as bad:
        raise RuleViolation(f"the {which} billing policy cannot be used: {bad}") from bad
    imported = imported_catalog(rt, tenant_id)
    return book if imported is None else replace(book, catalog=imported)


def period_lines(rt: Runtime, tenant_id: str, period: Period) -> list[dict[str, Any]]:
    """The lines of the period's invoices (draft and issued), in the order billed, then the credit notes held for
    approval in its months (a subscription credit: the month it credits)."""
    months = set(period.months)
    lines = [line for month in period.months for status in STATUSES
             for invoice in invoices_in(rt, tenant_id, status=status, period=month)
             for line in invoice_lines(rt, tenant_id, invoice.data["invoice_id"])]
    lines.sort(key=lambda line: (line["posted_at"], line["invoice_id"], int(line["number"])))
    held = [item.data for item in pages(rt.store, tenant_id, credit_notes.HOLDS)
            if item.data["status"] in HELD and _held_month(item.data) in months]
    return [*lines, *(domain.held_line(h) for h in sorted(held, key=lambda h: str(h["held_at"])))]


def _held_month(hold: dict[str, Any]) -> str:
    """The month a held credit note would have gone on: a subscription credit's month, a return's, else its own."""
    return str((hold.get("detail") or {}).get("month") or hold.get("returned_on") or hold["held_at"])[:7]


def statements_before(rt: Runtime, tenant_id: str, lines: list[dict[str, Any]]) -> dict[str, dict[str, Any] | None]:
    """Each statement of work the window bills a milestone on, as billed before the window: its stored record less
    the window's milestones."""
    window = {line["line_id"] for line in lines if line["kind"] == "milestone"}
    # each statement of work as billing keys it, or (recorded before 1.57.2) under the ref as the line has it
    spellings = {(domain.sow_key(line), f"{line['partner_id']}#{line['order_ref']}")
                 for line in lines if line["kind"] == "milestone"}  # fmt: skip
    found = rt.store.get_many([(tenant_id, STATEMENTS_OF_WORK, k) for pair in sorted(spellings) for k in pair])
    seeds: dict[str, dict[str, Any] | None] = {}
    for key, as_sent in sorted(spellings):
        stored = found.get((tenant_id, STATEMENTS_OF_WORK, key)) or found.get((tenant_id, STATEMENTS_OF_WORK, as_sent))
        if seeds.get(key) is None:
            seeds[key] = None if stored is None else _before_window(stored.data, window)
    return seeds


def _before_window(sow: dict[str, Any], window: set[str]) -> dict[str, Any] | None:
    earlier = {name: m for name, m in sow["milestones"].items() if m["line_id"] not in window}
    if not earlier:
        return None
    percent = sum((Decimal(m["percent"]) for m in earlier.values()), Decimal(0))
    return {**sow, "milestones": earlier, "billed_percent": f"{percent:f}"}


def _counted(side: domain.Side) -> tuple[Decimal, Decimal | None]:
    """What a line counts in the KPIs under a side: its amount and cost when on the invoice, else nothing."""
    return (side.amount, side.cost) if side.status == "billed" else (Decimal("0.00"), None)


def whatif_billing(rt: Runtime, who: Principal, draft_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The period's invoice lines billed as the policy in force bills them and as the draft would: per partner and
    segment the invoice amount before and after, per kind of line the changes with the original records, the
    credit-note limits, and the KPIs the change moves (revenue and net realized margin, by tier)."""
    period = period_of_body(body)
    examples = int(body.get("examples", 5))
    tenant, _ = load_tenant(rt, who.tenant_id)
    draft, _ = policy_drafts.load(rt, who.tenant_id, draft_id)
    active = billing_book(rt, who.tenant_id, tenant.policy, "policy in force's")
    proposed = billing_book(rt, who.tenant_id, draft["policy"], "draft's")
    lines = period_lines(rt, who.tenant_id, period)
    partners = partner_repository.get_many(rt.store, who.tenant_id, sorted({x["partner_id"] for x in lines}))
    segments = {pid: str(p.get("tier") or "none") for pid, p in partners.items()}
    rows = domain.replay(lines, active, proposed, statements_before(rt, who.tenant_id, lines), segments)
    direct = direct_invoices(rt, who.tenant_id, {str(x["invoice_id"]) for x in lines if x.get("invoice_id")})
    moves = [(r["partner_id"], DIRECT if r["line"].get("invoice_id") in direct else r["segment"],
              _counted(r["before"]), _counted(r["after"])) for r in rows]
    return {
        "draft_id": draft_id, "draft_version": draft["policy_version"], "active_version": tenant.policy_version,
        "period": period.name, "months": list(period.months), "currency": tenant.currency,
        **totals(rows, lambda r: format_money(r["before"].amount),
                        lambda r: format_money(r["after"].amount), key="amount"),
        "lines": len(rows), "changed": sum(1 for r in rows if domain.changes(r)),
        "by_kind": domain.by_kind(rows, examples),
        "credit_notes": domain.credit_limits(rows, active, proposed),
        "not_as_invoiced": domain.not_as_invoiced(rows, examples),
        "kpis": moved_kpis(rt, tenant, period, moves),
    }

