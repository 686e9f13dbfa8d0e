"""Rebates and commissions: accrue as sales facts arrive, settle a period once per run, file and decide disputes.

Billing records each billed line as a sales fact and announces it (`invoice.lines_posted`); `accrue_from_event`
projects the facts into rebate lines (a credit note counted in the period of the invoice it credits), keeps each
touched partner's accrual current, and marks an already settled period for a retroactive adjustment.
`settle` rates a period for every partner with the same engine (revgov.domain.rebates.engine), once per
(period, run): the statement lines, the difference from accruals, adjustments for credit notes after an earlier
settlement and for accepted disputes, and one exception per category (duplicates, leakage) naming each partner.

One module per use case: `projection` (sales facts as rebate lines), `accrual`, `settlement` (with `findings`, the
exceptions a run opens), `disputes`; `rating` reads what a period's rating needs; `repository` owns the collections.
numpy (the engine) is imported only inside the functions that rate.
"""

from __future__ import annotations

from .accrual import DueRefresh, accruals, accrue_from_event, project_event, refresh_accrual
from .disputes import apply_dispute_decision, file_dispute, get_dispute, resolve_dispute
from .projection import project
from .rating import rate_under
from .repository import (
    ACCRUALS,
    ADJUSTMENTS,
    CLAIMS,
    DISPUTE_LINES,
    DISPUTES,
    PERIODS,
    PROJECTION,
    RETRO,
    SETTLED,
    SETTLEMENT_KEYS,
    SETTLEMENTS,
    STATEMENTS,
)
from .settlement import get_settlement, settle, summary

__all__ = [
    "ACCRUALS",
    "ADJUSTMENTS",
    "CLAIMS",
    "DISPUTES",
    "DISPUTE_LINES",
    "PERIODS",
    "PROJECTION",
    "RETRO",
    "SETTLED",
    "SETTLEMENTS",
    "SETTLEMENT_KEYS",
    "STATEMENTS",
    "DueRefresh",
    "accruals",
    "accrue_from_event",
    "apply_dispute_decision",
    "file_dispute",
    "get_dispute",
    "get_settlement",
    "project",
    "project_event",
    "rate_under",
    "refresh_accrual",
    "resolve_dispute",
    "settle",
    "summary",
]
