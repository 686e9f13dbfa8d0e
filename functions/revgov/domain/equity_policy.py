"""What the channel-equity monitor compares (outcomes, segment dimensions) and the comparison family the policy owner
declares in the tenant policy (`policy.equity.comparisons`, schemas/policy/equity.schema.json; method in
docs/equity.md). Pure, and free of numpy: policy validation (domain.policy) runs on every cold start.

The declaration names, per segment dimension, the outcomes (measures) compared across its segments and optionally
which segments. It is the policy owner's statement of what the programme must not treat differently (e.g. PA-2.1:
"The partner type determines onboarding requirements; the partner tier under Section 3 determines pricing, rebates
and entitlements"), cited by rule id and clause like every other rule, and validated like the rest of the policy: an
unknown dimension, outcome or segment is a problem naming its field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import FieldError

DIMENSIONS = ("tier", "partner_type", "region", "size_band")
SIZE_BANDS = ((100_000, "small"), (1_000_000, "medium"))  # annual commitment below each bound; above: "large"


@dataclass(frozen=True)
class Measure:
    name: str
    kind: str  # binary | rate | continuous
    favourable: str  # higher | lower: which way is better for the partner
    materiality: float  # the smallest gap that can be a finding, in the measure's unit
    unit: str
    description: str
    across_tiers: bool = False  # normalized by the policy's tier rules, so tiers themselves may be compared on it


MEASURES: dict[str, Measure] = {
    m.name: m
    for m in (
        Measure("approval_rate", "binary", "higher", 0.05, "share",
                "pricing approvals decided in the window that were approved"),
        Measure("discount_to_cap", "continuous", "higher", 0.05, "share of cap",
                "per quote that went ahead, the mean over its lines of the combined discount / the tier cap",
                across_tiers=True),
        Measure("exception_rate", "rate", "lower", 0.02, "per transaction",
                "exceptions opened about the partner per quote checked for it"),
        Measure("time_to_decision", "continuous", "lower", 1.0, "hours",
                "hours from an approval being opened to its decision"),
        Measure("disputes_upheld", "binary", "higher", 0.05, "share",
                "rebate disputes decided in the window that were accepted"),
    )
}


@dataclass(frozen=True)
class Declared:
    """One entry of a declared family: the outcomes compared across one dimension's segments (all, or those named)."""

    dimension: str
    measures: frozenset[str]
    segments: frozenset[str] = frozenset()  # empty: every segment with enough observations


@dataclass(frozen=True)
class Family:
    """The comparisons the policy owner declared (policy.equity.comparisons, docs/equity.md): only these are tested
    for findings, with the correction run over them alone."""

    rule_id: str
    clause: str
    entries: tuple[Declared, ...]

    def covers(self, measure: str, dimension: str, segment: str, versus: str = "") -> bool:
        """Whether the comparison of `segment` (against the rest, or against `versus` when the dimension has just the
        two) on `measure` is declared."""
        return any(
            e.dimension == dimension and measure in e.measures
            and (not e.segments or segment in e.segments or versus in e.segments)
            for e in self.entries
        )


PATH = "/policy/equity/comparisons"
STANDARD_PARTNER_TYPES = ("reseller", "msp", "implementation_partner", "regional_reseller")
UNSPECIFIED = "unspecified"  # the segment of a partner that gives no value for the dimension (equity.segments_of)


def declared(policy: Mapping[str, Any]) -> Family | None:
    """The declared family of a (valid) policy, or None when the policy declares none: then every comparison is."""
    spec = (policy.get("equity") or {}).get("comparisons")
    if not spec:
        return None
    entries = tuple(
        Declared(e["dimension"], frozenset(e["measures"]), frozenset(e.get("segments") or ()))
        for e in spec["family"]
    )
    return Family(str(spec["id"]), str(spec["clause"]), entries)


def describe(family: Family | None) -> dict[str, Any]:
    """The family as `GET /v1/equity` reports it."""
    if family is None:
        return {"declared": False, "rule_id": None, "clause": None, "entries": []}
    return {"declared": True, "rule_id": family.rule_id, "clause": family.clause,
            "entries": [{"dimension": e.dimension, "measures": sorted(e.measures),
                         "segments": sorted(e.segments) or None} for e in family.entries]}


def known_segments(policy: Mapping[str, Any], dimension: str) -> set[str] | None:
    """The segments a dimension can have under this policy (None: any ISO 3166-1 alpha-2 country, for regions)."""
    if dimension == "tier":
        return {str(t.get("tier")) for t in policy.get("partner_tiers") or [] if isinstance(t, Mapping)}
    if dimension == "partner_type":
        types = (policy.get("onboarding") or {}).get("partner_types")
        return {*(types if isinstance(types, Mapping) else STANDARD_PARTNER_TYPES), UNSPECIFIED}
    if dimension == "size_band":
        return {*(name for _, name in SIZE_BANDS), "large", UNSPECIFIED}
    return None


def declaration_problems(policy: Mapping[str, Any]) -> list[FieldError]:
    """What is wrong with the declaration beyond its schema: unknown dimensions, outcomes or segments, a dimension
    declared twice, tiers declared with an outcome the policy does not normalize across tiers."""
    spec = (policy.get("equity") or {}).get("comparisons") if isinstance(policy.get("equity"), Mapping) else None
    family = spec.get("family") if isinstance(spec, Mapping) else None
    if not isinstance(family, list):
        return []
    problems: list[FieldError] = []
    first: dict[str, int] = {}
    for i, entry in enumerate(family):
        if not isinstance(entry, Mapping):
            continue
        dimension = str(entry.get("dimension"))
        path = f"{PATH}/family/{i}"
        if dimension in first:
            problems.append(FieldError(f"{path}/dimension",
                                       f"{dimension} is already declared at family/{first[dimension]}"))
        first.setdefault(dimension, i)
        problems += _entry_problems(policy, entry, path)
    return problems


def _entry_problems(policy: Mapping[str, Any], entry: Mapping[str, Any], path: str) -> list[FieldError]:
    dimension = str(entry.get("dimension"))
    if dimension not in DIMENSIONS:
        return [FieldError(f"{path}/dimension", f"unknown dimension {dimension!r}; one of {', '.join(DIMENSIONS)}")]
    problems = []
    for j, name in enumerate(entry.get("measures") or []):
        measure = MEASURES.get(str(name))
        if measure is None:
            problems.append(FieldError(f"{path}/measures/{j}",
                                       f"unknown outcome {name!r}; one of {', '.join(MEASURES)}"))
        elif dimension == "tier" and not measure.across_tiers:
            problems.append(FieldError(f"{path}/measures/{j}", f"{name} is compared within tiers (the policy treats "
                                       "tiers differently); only an outcome normalized by the tier's own rules "
                                       "(discount_to_cap) can be compared across tiers"))
    known = known_segments(policy, dimension)
    for j, segment in enumerate(entry.get("segments") or []):
        if known is None and not (segment == UNSPECIFIED or re.fullmatch("[A-Z]{2}", str(segment))):
            problems.append(FieldError(f"{path}/segments/{j}", f"unknown region {segment!r}: an ISO 3166-1 "
                                       "alpha-2 country code (e.g. DE) or unspecified"))
        elif known is not None and segment not in known:
            problems.append(FieldError(f"{path}/segments/{j}", f"unknown {dimension} {segment!r}; one of "
                                       f"{', '.join(sorted(known))}"))
    return problems
