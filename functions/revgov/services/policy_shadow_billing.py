"""Shadow mode for billing: each invoice line billing posts is billed again under every shadowed draft, after its
own commit and without effect on it (rule `policy-shadow` on `invoice.lines_posted`).

The line is replayed as the billing what-if replays a period's lines (domain.policy_whatif_billing, with the
functions of domain.billing that posted it), under the policy in force and under the draft, and the comparison is
recorded (`POLICY_SHADOW_LINE/<draft>#<line>`: the amount and status before and after, with the line, invoice and
event ids), so a redelivered event writes the same records. A line is replayed from what it records: a subscription
activated under the policy in force keeps its recorded price for its later charges and credits, as billing keeps it.
Nothing else is written: the invoice, its lines, facts and events stay as the policy in force made them.
"""

from __future__ import annotations

from typing import Any

from ..domain import policy_whatif_billing as domain
from ..domain.errors import RuleViolation
from ..domain.policy_whatif_rebates import totals
from ..ports import Changes, Put
from ..runtime import Runtime
from . import partner_repository
from .billing.repository import line_of
from .policy_shadow_repository import LINE_RESULTS, PAGE, live_drafts
from .policy_whatif_billing import billing_book, statements_before
from .tenants import load_tenant
from .toolkit import pages

SHOWN = 50  # differing lines listed in the report


def _lines(rt: Runtime, tenant_id: str, line_ids: list[str]) -> list[dict[str, Any]]:
    found = []
    for line_id in line_ids:
        invoice_id, _, number = line_id.rpartition(".")
        stored = line_of(rt, tenant_id, invoice_id, int(number)) if number.isdigit() else None
        if stored is not None:
            found.append(stored.data)
    return found


def shadow_lines(rt: Runtime, bus_event: dict[str, Any]) -> dict[str, Any]:
    """The handler's use case for one `invoice.lines_posted` event: its lines under every shadowed draft."""
    detail = bus_event.get("detail")
    if not isinstance(detail, dict) or not isinstance(detail.get("tenant_id"), str) \
            or not isinstance(detail.get("line_ids"), list):
        raise RuleViolation("not a revgov.billing invoice.lines_posted event naming its tenant and lines")
    tenant_id = detail["tenant_id"]
    drafts = live_drafts(rt, tenant_id)
    if not drafts:
        return {"status": "none"}
    lines = _lines(rt, tenant_id, [str(x) for x in detail["line_ids"]])
    if not lines:
        return {"status": "skipped", "reason": "no such lines"}
    tenant, _ = load_tenant(rt, tenant_id)
    active = billing_book(rt, tenant_id, tenant.policy, "policy in force's")
    partners = partner_repository.get_many(rt.store, tenant_id, sorted({x["partner_id"] for x in lines}))
    segments = {pid: str(p.get("tier") or "none") for pid, p in partners.items()}
    seeds = statements_before(rt, tenant_id, lines)
    puts = []
    for draft in drafts:
        try:
            book = billing_book(rt, tenant_id, draft["policy"], "draft's")
        except RuleViolation:  # a draft without a usable billing section bills nothing: shadowed for quotes only
            continue
        for row in domain.replay(lines, active, book, seeds, segments):
            view = domain.row_view(row)
            puts.append(Put(LINE_RESULTS, f"{draft['draft_id']}#{view['line_id']}", {
                **view, "draft_id": draft["draft_id"], "draft_version": draft["policy_version"],
                "billed_under": tenant.policy_version, "differs": domain.changes(row),
                "posted_at": row["line"]["posted_at"]}))
    if puts:  # the same event again writes the same records
        rt.commit(tenant_id, Changes(puts=puts))
    return {"status": "evaluated", "lines": len(lines), "records": len(puts)}


def report(rt: Runtime, tenant_id: str, draft_id: str) -> dict[str, Any]:
    """The posted lines evaluated under the draft: how many, how many it bills otherwise, the amounts before and
    after (overall, per partner and by segment), and the first differing lines."""
    rows = [item.data for item in pages(rt.store, tenant_id, LINE_RESULTS, prefix=f"{draft_id}#", page_size=PAGE)]
    differing = [r for r in rows if r["differs"]]
    return {"evaluated": len(rows), "differing": len(differing),
            **totals(rows, lambda r: r["before"]["amount"], lambda r: r["after"]["amount"], key="amount"),
            "items": differing[:SHOWN]}
