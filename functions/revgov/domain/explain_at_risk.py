"""Which partners are at risk of missing a quarterly threshold: from each partner's forecast (domain/forecast.py
`describe`), per programme the lowest level not reached yet, kept when its probability of being missed is at least
the asked floor (the threshold watcher's reading, services/agents/threshold_watcher.py). Money compared as Decimal.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .money import format_money, parse_money


def at_risk(outlook: Mapping[str, Any], min_p_miss: Decimal) -> list[dict[str, Any]]:
    """The thresholds of one forecast at risk: per programme the lowest level above the revenue to date, if its
    P(miss) is at least `min_p_miss`; each with the gap still needed and the clause of the level."""
    to_date = parse_money(str(outlook["to_date"]))
    lowest: dict[str, Mapping[str, Any]] = {}
    for threshold in outlook.get("thresholds") or []:
        if parse_money(str(threshold["threshold"])) > to_date:
            lowest.setdefault(str(threshold["program_id"]), threshold)
    return [
        {
            "program_id": t["program_id"],
            "program": t["program"],
            "level": t["level"],
            "threshold": t["threshold"],
            "clause": t["clause"] or None,
            "source": t.get("source"),
            "p_miss": t["p_miss"],
            "gap": format_money(parse_money(str(t["threshold"])) - to_date),
        }
        for t in lowest.values()
        if Decimal(str(t["p_miss"])) >= min_p_miss
    ]
