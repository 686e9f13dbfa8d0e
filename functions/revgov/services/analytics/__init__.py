"""Operational intelligence: KPI rollups kept up to date as facts arrive, KPIs read from them, partner forecasts.

- `facts.record_facts`: the use case of the `update_kpis` handler (a batch of bus events, each folded into its
  month's rollups; `record_fact` for one).
- `rollups`: the rollup documents (collections, keys, folding deltas), the directory of partners' tiers.
- `reads.kpis`: the KPIs of a period for a scope, each with its baseline; `thresholds`: what attainment is measured
  against; `forecasts.forecast`: a partner's revenue projected to the end of a period.
Reads touch a handful of rollup documents whatever the size of the history.
"""

from __future__ import annotations

from ...domain import kpis as core
from .facts import COUNTED, FACTS, record_fact, record_facts
from .forecasts import forecast, partner_history
from .reads import _period, kpis, rebates_by_partner
from .rollups import DIRECTORY, HISTORY_MONTHS, KEEP_SECONDS, LINES, ROLLUPS, SEEN, rollup_key
from .thresholds import rebate_programs, thresholds

__all__ = [
    "COUNTED",
    "DIRECTORY",
    "FACTS",
    "HISTORY_MONTHS",
    "KEEP_SECONDS",
    "LINES",
    "ROLLUPS",
    "SEEN",
    "_period",
    "core",
    "forecast",
    "kpis",
    "partner_history",
    "rebate_programs",
    "rebates_by_partner",
    "record_fact",
    "record_facts",
    "rollup_key",
    "thresholds",
]
