"""A period's run waits for its invoices to be issued (PA-1.2 / CPA-1.2). Pure.

PA-1.2: "'Qualifying Revenue' for a period means Invoiced Revenue for invoices dated in that period" (PA-7.1 / CPA-7.1
"for invoices dated within the Quarter"). A draft is neither invoiced nor dated: billing dates an invoice when it
issues it (`finalized_at`). SOP-2.1 / SOP-7.1 (COP-7.1) issue every monthly invoice by M + 48 hours, long before a
run is due (SOP-7.2 / COP-7.2), so a draft still open when the run is prepared (or approved) is a missed SLA for
finance to resolve by issuing it; its lines are neither left out (they would fall in no period: SOP-2.2 posts a line to
its month's invoice) nor counted. SOP-2.2: "Invoices with a total of USD 0.00 are not issued": such a draft never
holds a run. The refusal names at most `MAX_LISTED` drafts; `draft_count` counts them all.

An invoice dispute still open on an issued invoice of the period does not hold the run: PA-1.2 counts the period's
invoices "net of all credit notes issued against those invoices, whenever issued" (CPA-1.2 "net of every credit note
..., whenever issued"), so the credit note of an upheld dispute reduces the period when it is issued and a later run
carries the difference (PA-7.10 / CPA-7.10). Finance is told of each (`open_disputes`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from ..errors import Conflict
from ..rules import Rule
from .policy import Period

NOT_ISSUED = "invoices_not_issued"
MAX_LISTED = 50  # drafts named in one refusal (oldest month first)


def holding(invoices: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The drafts that hold a run: still drafts, with a total other than 0.00; by month, partner and id."""
    held = [
        {"invoice_id": i["invoice_id"], "partner_id": i["partner_id"], "period": i["period"], "total": i["total"]}
        for i in invoices
        if i["status"] == "draft" and Decimal(str(i["total"])) != 0
    ]
    return sorted(held, key=lambda d: (d["period"], d["partner_id"], d["invoice_id"]))


def refuse_drafts(rule: Rule, period: Period, invoices: Iterable[Mapping[str, Any]], doing: str) -> None:
    """409 while an invoice of the period is a draft with a total other than 0.00 (`doing`: "prepared", "approved")."""
    drafts = holding(invoices)
    if not drafts:
        return
    months = ", ".join(sorted({d["period"] for d in drafts}))
    raise Conflict(
        f"{period.name} cannot be {doing}: {len(drafts)} invoice(s) of {months} are still drafts; Qualifying Revenue "
        f"counts invoices dated in the period, and an invoice is dated when it is issued ({rule.rule_id}, "
        f"{rule.clause}); issue them (POST /v1/invoices/{{invoice_id}}/finalize), then prepare the run",
        extra={
            "refusal": NOT_ISSUED,
            "rule_id": rule.rule_id,
            "clause": rule.clause,
            "period": period.name,
            "draft_count": len(drafts),
            "draft_invoices": drafts[:MAX_LISTED],
        },
    )


def open_disputes(rule: Rule, disputes: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each open invoice dispute of the period's invoices, named for finance with why it does not hold the run."""
    why = (
        f"not blocking: Qualifying Revenue is net of the credit notes issued against the period's invoices, whenever "
        f"issued ({rule.rule_id}, {rule.clause}); if the dispute is upheld, its credit note reduces this period when "
        "it is issued and a later run carries the difference"
    )
    keys = ("dispute_id", "invoice_id", "partner_id", "period", "line_no", "amount", "filed_at")
    return [
        {**{k: d[k] for k in keys}, "blocks": False, "rule_id": rule.rule_id, "clause": rule.clause, "why": why}
        for d in disputes
    ]
