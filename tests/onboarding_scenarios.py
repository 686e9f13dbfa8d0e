"""Onboarding scenario data (tests/scenarios/onboarding/): dates are written relative to a day, e.g. today-20d."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any

from support import SCENARIOS

_RELATIVE = re.compile(r"today(?:([+-]\d+)d)?")


def dated(value: Any, today: date) -> Any:
    """The value with every `today±Nd` replaced by that ISO date, inside strings, lists and objects."""
    if isinstance(value, str):
        return _RELATIVE.sub(lambda m: (today + timedelta(days=int(m.group(1) or 0))).isoformat(), value)
    if isinstance(value, list):
        return [dated(v, today) for v in value]
    if isinstance(value, dict):
        return {k: dated(v, today) for k, v in value.items()}
    return value


def onboarding(tenant: str, today: date) -> dict[str, Any]:
    return dict(dated(json.loads((SCENARIOS / "onboarding" / f"{tenant}.json").read_text()), today))
