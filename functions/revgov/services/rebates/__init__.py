"""Rebates and commissions: accrue as sales facts arrive, settle a period once per run, file and decide disputes.

Billing records each billed line as a sales fact and announces it (`invoice.lines_posted`); `accrue_from_event`
projects the facts into rebate lines (a credit note counted in the period of the invoice it credits), keeps each
touched partner's accrual current, and marks an already settled period for a retroactive adjustment.
`settle` prepares a period's run, rating every partner with the same engine (revgov.domain.rebates.engine);
`approve_settlement` (a second member of the finance queue, SOP-7.2 / COP-7.2) issues it, once per (period, run), or
`reject_settlement` sends it back with a reason. A run states: the statement lines, the difference from accruals,
adjustments for credit notes after an earlier settlement and for accepted disputes, and one exception per category
(duplicates, leakage) naming each partner.

One module per use case: `projection` (sales facts as rebate lines), `accrual`, `settlement` (prepare and read, with
`findings`, the exceptions a run opens), `settlement_review` (approve, reject), `disputes`; `rating` reads what a
period's rating needs; `repository` owns the collections.
numpy (the engine) is imported only inside the functions that rate.
"""

from __future__ import annotations

from .accrual import DueRefresh, accruals, accrue_from_event, project_event, refresh_accrual
from .appeals import appeal_dispute, apply_appeal_decision
from .dispute_payment import apply_credit_note_decision, credit_note
from .disputes import acknowledge_dispute, apply_dispute_decision, file_dispute, get_dispute, resolve_dispute
from .projection import project
from .rating import rate_under
from .repository import (
    ACCRUALS,
    ADJUSTMENTS,
    CLAIMS,
    CREDIT_NOTES,
    DISPUTE_LINES,
    DISPUTES,
    PERIODS,
    PROJECTION,
    RETRO,
    RUNS,
    SETTLED,
    SETTLEMENT_KEYS,
    SETTLEMENTS,
    STATEMENTS,
)
from .settlement import get_settlement, list_settlements, run_approved, settle, summary
from .settlement_review import approve as approve_settlement
from .settlement_review import reject as reject_settlement

__all__ = [
    "ACCRUALS",
    "ADJUSTMENTS",
    "CLAIMS",
    "CREDIT_NOTES",
    "DISPUTES",
    "DISPUTE_LINES",
    "PERIODS",
    "PROJECTION",
    "RETRO",
    "RUNS",
    "SETTLED",
    "SETTLEMENTS",
    "SETTLEMENT_KEYS",
    "STATEMENTS",
    "DueRefresh",
    "accruals",
    "accrue_from_event",
    "acknowledge_dispute",
    "appeal_dispute",
    "apply_appeal_decision",
    "apply_credit_note_decision",
    "apply_dispute_decision",
    "approve_settlement",
    "credit_note",
    "file_dispute",
    "get_dispute",
    "get_settlement",
    "list_settlements",
    "project",
    "project_event",
    "rate_under",
    "refresh_accrual",
    "reject_settlement",
    "resolve_dispute",
    "run_approved",
    "settle",
    "summary",
]
