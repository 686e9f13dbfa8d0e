"""Generated decision histories for the channel-equity monitor: a fair program (outcomes differ by tier only, as the
policy allows, and partner types are unevenly spread over tiers) and the same program with one planted disparity.

Used by tests/unit/test_equity_core.py and the `equity` section of `make bench`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from revgov.domain.equity import Observation

TIERS = ("registered", "silver", "gold", "platinum")
TYPES = ("reseller", "msp", "implementation_partner", "regional_reseller")
REGIONS = ("US", "DE", "GB", "FR")
# Tier-explained differences (legitimate: the policy treats tiers differently).
APPROVAL_BY_TIER = {"registered": 0.60, "silver": 0.70, "gold": 0.80, "platinum": 0.85}
EXCEPTIONS_BY_TIER = {"registered": 0.12, "silver": 0.09, "gold": 0.07, "platinum": 0.05}
HOURS_BY_TIER = {"registered": 14.0, "silver": 10.0, "gold": 7.0, "platinum": 5.0}
CAP_BY_TIER = {"registered": 5.0, "silver": 10.0, "gold": 15.0, "platinum": 20.0}  # networking caps, percent
UPHELD_BY_TIER = {"registered": 0.40, "silver": 0.45, "gold": 0.50, "platinum": 0.55}
# Partner types are spread unevenly over tiers (msps mostly gold and platinum), so an unstratified comparison of
# raw outcomes would "find" the tier differences again as partner-type gaps.
TYPE_WEIGHTS_BY_TIER = {
    "registered": (0.45, 0.05, 0.20, 0.30),
    "silver": (0.40, 0.15, 0.25, 0.20),
    "gold": (0.25, 0.45, 0.20, 0.10),
    "platinum": (0.15, 0.65, 0.15, 0.05),
}


@dataclass(frozen=True)
class Plant:
    """A disparity against one segment, beyond what its tier explains."""

    measure: str
    dimension: str = "partner_type"
    segment: str = "regional_reseller"
    effect: float = 0.0  # approval/upheld: minus this probability; discount: minus this share of cap;
    # exceptions: times this rate; hours: plus this many hours


@dataclass
class History:
    partners: dict[str, dict[str, str]]
    observations: list[Observation]
    raw_discounts: list[tuple[str, float]]  # (partner, absolute discount percent): what a naive monitor compares


def generate(seed: int, *, partners: int = 150, approvals: int = 1200, quotes: int = 1800, disputes: int = 120,
             plant: Plant | None = None) -> History:
    rng = np.random.default_rng(seed)
    segs: dict[str, dict[str, str]] = {}
    tiers = rng.choice(len(TIERS), size=partners, p=(0.30, 0.35, 0.25, 0.10))
    for i, t in enumerate(tiers):
        tier = TIERS[int(t)]
        kind = TYPES[int(rng.choice(len(TYPES), p=TYPE_WEIGHTS_BY_TIER[tier]))]
        segs[f"ptr_{i:04d}"] = {
            "tier": tier,
            "partner_type": kind,
            "region": REGIONS[int(rng.integers(len(REGIONS)))],
            "size_band": ("small", "medium", "large")[min(2, int(t) // 2 + int(rng.integers(2)))],
        }
    ids = list(segs)

    def hit(pid: str, measure: str) -> bool:
        return plant is not None and plant.measure == measure and segs[pid][plant.dimension] == plant.segment

    effect = plant.effect if plant else 0.0
    obs: list[Observation] = []
    for n in range(approvals):
        pid = ids[int(rng.integers(partners))]
        tier = segs[pid]["tier"]
        p = APPROVAL_BY_TIER[tier] - (effect if hit(pid, "approval_rate") else 0.0)
        obs.append(Observation("approval_rate", pid, float(rng.random() < p), f"apr_{n}", ("ROUTE-DISCOUNT",)))
        hours = rng.lognormal(np.log(HOURS_BY_TIER[tier]), 0.6) + (effect if hit(pid, "time_to_decision") else 0.0)
        obs.append(Observation("time_to_decision", pid, float(hours), f"apr_{n}", ("ROUTE-DISCOUNT",)))
    raw: list[tuple[str, float]] = []
    for n in range(quotes):
        pid = ids[int(rng.integers(partners))]
        share = float(np.clip(rng.beta(6, 2) - (effect if hit(pid, "discount_to_cap") else 0.0), 0, 1))
        obs.append(Observation("discount_to_cap", pid, share, f"dec_{n}", ("PRC-TIER-CAPS",)))
        raw.append((pid, share * CAP_BY_TIER[segs[pid]["tier"]]))
    for pid in ids:
        transactions = int(rng.poisson(quotes / partners)) + 1
        rate = EXCEPTIONS_BY_TIER[segs[pid]["tier"]] * ((1 + effect) if hit(pid, "exception_rate") else 1.0)
        events = int(rng.binomial(transactions, min(1.0, rate)))
        obs.append(Observation("exception_rate", pid, float(events), f"{pid}", ("ROUTE-TRIAGE",), float(transactions)))
    for n in range(disputes):
        pid = ids[int(rng.integers(partners))]
        p = UPHELD_BY_TIER[segs[pid]["tier"]] - (effect if hit(pid, "disputes_upheld") else 0.0)
        obs.append(Observation("disputes_upheld", pid, float(rng.random() < p), f"dsp_{n}", ("ROUTE-REBATE-DISPUTE",)))
    return History(segs, obs, raw)


# Realistic planted disparities (one at a time, against regional resellers, about a fifth of the partners, in half
# a year of a mid-size program: 150 partners, 1,800 quotes, 1,200 pricing approvals decided): their approvals
# approved 20 points less often than their tier's; 10 points less of their cap granted; twice the exceptions per quote.
PLANTS = (
    Plant("approval_rate", effect=0.20),
    Plant("discount_to_cap", effect=0.10),
    Plant("exception_rate", effect=1.0),
)
