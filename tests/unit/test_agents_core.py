"""What agents find, and when they may act on it. Pure."""

from datetime import date

import pytest

from revgov.domain.agents import MIN_CONFIDENCE, Finding, certification_gap, override_drift
from revgov.domain.rules import Rule


def _finding(**changes):
    base = {"agent": "a", "key": "k", "action": "task", "title": "t", "subject": {}, "evidence": {},
            "confidence": 0.9, "rules": (Rule("R-1", "PA-14.2"),)}
    return Finding(**{**base, **changes})


def test_an_agent_acts_only_above_its_bar_and_never_below_the_floor():
    assert _finding(confidence=0.9).acts and not _finding(confidence=0.69).acts
    assert not _finding(confidence=0.9, min_confidence=0.95).acts
    assert not _finding(confidence=MIN_CONFIDENCE - 0.01, min_confidence=0.1).acts
    with pytest.raises(ValueError):
        _finding(action="approve")
    with pytest.raises(ValueError):
        _finding(action="exception")  # without a category
    with pytest.raises(ValueError):
        _finding(rules=())  # PA-14.2: "Each automated decision records the rules and clauses applied"


def test_a_significant_rise_of_the_override_rate_is_drift():
    strong = override_drift(20, 12, 120, 12)
    assert strong and strong.rise_points == pytest.approx(50) and strong.confidence > 0.99
    weak = override_drift(6, 3, 10, 2)
    assert weak and 0.75 < weak.confidence < 0.95
    assert override_drift(20, 3, 100, 10) is None  # a 5 point rise is not drift
    assert override_drift(4, 4, 100, 0) is None  # too few recent quotes to say


def test_certification_gaps_on_a_live_deal():
    today, close = date(2026, 11, 27), date(2027, 1, 31)
    held = {"c1": {"earned_at": "2025-01-01", "expires_at": "2027-12-31"}}
    assert certification_gap(["c1"], held, today, close) is None
    lapsing = {"c1": {"earned_at": "2025-01-01", "expires_at": "2026-12-05"}}
    assert certification_gap(["c1"], lapsing, today, close).expires_on == date(2026, 12, 5)
    expired = {"c1": {"earned_at": "2024-01-01", "expires_at": "2026-11-20"}}
    assert certification_gap(["c1"], expired, today, close).expired
    assert certification_gap(["c2"], held, today, close).certification_id is None
