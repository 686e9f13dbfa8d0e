"""Channel equity: do partner segments get different outcomes from the automation and its approvers than the policy
explains? Pure and deterministic: observations and segments in, comparisons and findings out (docs/equity.md).

Each observation is one outcome for one partner (an approval decided, a quote's discount granted relative to its
tier cap, an exception, a dispute decided). For each measure, each segment of each dimension (tier, partner type,
region, size band) is compared with the rest of the partners:
- what the policy distinguishes is controlled for: tiers are treated differently by design (caps, thresholds), so
  tiers are compared with each other only on a measure the policy normalizes (the discount granted as a share of
  the tier's own cap); every other comparison is stratified by tier (the segment is compared with partners of the
  same tier, and the strata are combined), so a gap the tier caps or tier rules explain is not reported;
- binary outcomes (approved, upheld): the exact conditional test, i.e. the distribution of the segment's count given
  each stratum's margins is the convolution of hypergeometric distributions (with one stratum: Fisher's exact test);
- rates over an exposure (exceptions per transaction): the exact conditional binomial test (each stratum's events
  split in proportion to exposure), convolved over strata;
- continuous outcomes (share of cap granted, hours to decision): a permutation test, values shuffled within strata;
- two-sided p-values, corrected for the number of comparisons with Holm's step-down method (family-wise error at
  `alpha`) over the family the policy owner declared (`Family`, from policy.equity: revgov.domain.equity_policy), or
  over every comparison when none is declared; a finding also needs the gap to be material (`Measure.materiality`),
  so a tiny but certain gap is not one. Comparisons outside a declared family are reported as exploratory only.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .equity_policy import DIMENSIONS, MEASURES, SIZE_BANDS, Family, Measure

MIN_OBSERVATIONS = 5  # a segment (and the rest) needs this many observations to be compared at all
PERMUTATIONS = 2000
# Continuous measures: with at least LARGE observations on both sides, the permutation distribution of the segment's
# total is close to normal (permutation central limit theorem), so its p-value comes from the exact permutation mean
# and variance; below, from PERMUTATIONS Monte Carlo shuffles within strata. Also in the far tail of a Monte Carlo
# run (p below TAIL_P: fewer than 20 shuffles as extreme), too coarse to judge against Holm's thresholds.
LARGE = 30
TAIL_P = 0.01


@dataclass(frozen=True)
class Observation:
    """One outcome of one partner. For a `rate` measure: `value` events over `exposure` transactions. It is
    compared within (or, on `across_tiers` measures, across) the tier the partner held when it was decided, which
    may not be its tier now: a partner promoted since is judged by the caps and rules it was under then."""

    measure: str
    partner_id: str
    value: float
    evidence_id: str = ""
    rule_ids: tuple[str, ...] = ()
    exposure: float = 1.0
    tier: str = ""  # the tier the partner held when the outcome was decided; "" for its tier now (its segments)


@dataclass(frozen=True)
class Comparison:
    measure: str
    dimension: str
    segment: str
    stratified_by: str | None
    segment_n: float
    rest_n: float
    segment_value: float  # the segment's rate or mean
    rest_value: float
    expected_value: float  # what the segment would show if it fared as the rest of its strata (tier-adjusted)
    gap: float  # segment_value - expected_value
    p_value: float
    test: str
    adjusted_p: float = 1.0
    finding: bool = False
    disadvantaged: str = ""  # the segment, or "rest of <dimension>", whichever the gap goes against
    evidence_ids: tuple[str, ...] = ()
    rule_ids: tuple[str, ...] = ()
    versus: str = ""  # with exactly two segments in the dimension: the other one (the comparison is between the two)

    @property
    def key(self) -> str:
        """What identifies the same gap in the next run (for deduplication)."""
        return f"{self.measure}|{self.dimension}|{self.segment}|{self.disadvantaged == self.segment}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "measure": self.measure,
            "dimension": self.dimension,
            "segment": self.segment,
            "stratified_by": self.stratified_by,
            "segment_n": _num(self.segment_n),
            "rest_n": _num(self.rest_n),
            "segment_value": round(self.segment_value, 4),
            "rest_value": round(self.rest_value, 4),
            "expected_value": round(self.expected_value, 4),
            "gap": round(self.gap, 4),
            "unit": MEASURES[self.measure].unit,
            "test": self.test,
            "p_value": _p(self.p_value),
            "adjusted_p_value": _p(self.adjusted_p),
            "finding": self.finding,
            "disadvantaged": self.disadvantaged if self.finding else None,
            "evidence_ids": list(self.evidence_ids),
            "rule_ids": list(self.rule_ids),
        }


@dataclass(frozen=True)
class Report:
    comparisons: list[Comparison]  # the family tested for findings (every comparison when none is declared)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    alpha: float = 0.05
    exploratory: list[Comparison] = field(default_factory=list)  # outside a declared family: never findings
    family: Family | None = None

    @property
    def findings(self) -> list[Comparison]:
        return [c for c in self.comparisons if c.finding]


def _whole(value: Any) -> int:
    """A count held as a float (observations carry floats) as an int."""
    return int(np.rint(value))


def _num(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 4)


def _p(value: float) -> float:
    return float(f"{value:.3g}")


# --- segments -------------------------------------------------------------------------------------------------------
def size_band(annual_commitment: str | None) -> str:
    if not annual_commitment:
        return "unspecified"
    amount = float(annual_commitment)
    return next((name for bound, name in SIZE_BANDS if amount < bound), "large")


def segments_of(partner: Mapping[str, Any]) -> dict[str, str]:
    """A partner's segment in each dimension: its tier, partner type, region (the country of the first territory it
    may sell in) and size band (by its annual commitment)."""
    terms = partner.get("terms") or {}
    territory = terms.get("territory") or []
    return {
        "tier": str(partner.get("tier") or "none"),
        "partner_type": str(partner.get("partner_type") or "unspecified"),
        "region": str(territory[0]).split("-")[0] if territory else "unspecified",
        "size_band": size_band(terms.get("annual_commitment")),
    }


# --- exact conditional tests ----------------------------------------------------------------------------------------
def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def hypergeometric_pmf(total: int, successes: int, drawn: int) -> list[float]:
    """P(X = x) for x = 0..drawn: successes among `drawn` taken from `total` of which `successes` are successes."""
    denominator = _log_comb(total, drawn)
    out = []
    for x in range(drawn + 1):
        if x > successes or drawn - x > total - successes:
            out.append(0.0)
        else:
            out.append(math.exp(_log_comb(successes, x) + _log_comb(total - successes, drawn - x) - denominator))
    return out


def binomial_pmf(n: int, p: float) -> list[float]:
    if p <= 0:
        return [1.0] + [0.0] * n
    if p >= 1:
        return [0.0] * n + [1.0]
    return [math.exp(_log_comb(n, x) + x * math.log(p) + (n - x) * math.log1p(-p)) for x in range(n + 1)]


def convolve(distributions: Sequence[Sequence[float]]) -> list[float]:
    total: list[float] = [1.0]
    for pmf in distributions:
        total = list(np.convolve(total, pmf))
    return total


def exact_two_sided(pmf: Sequence[float], observed: int) -> float:
    """Two-sided p-value of an exact test: the probability of every outcome no more likely than the observed one
    (Fisher's definition; a relative tolerance absorbs floating-point ties)."""
    cut = pmf[observed] * (1 + 1e-7)
    return float(min(1.0, sum(p for p in pmf if p <= cut)))


def fisher_exact(a: int, b: int, c: int, d: int) -> float:
    """Fisher's exact test of the 2x2 table [[a, b], [c, d]] (rows: segment, rest; columns: success, failure)."""
    return exact_two_sided(hypergeometric_pmf(a + b + c + d, a + c, a + b), a)


# --- permutation test -----------------------------------------------------------------------------------------------
def _seed(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")


def stratified_permutations(values: np.ndarray, strata: np.ndarray, count: int, seed: int) -> np.ndarray:
    """`count` rows of `values`, each shuffled within strata (a value stays in its stratum)."""
    rng = np.random.default_rng(seed)
    keys = rng.random((count, strata.size)) + strata[np.newaxis, :].astype(float) * 2.0
    shuffled: np.ndarray = values[np.argsort(keys, axis=1)]
    return shuffled


def permutation_p(
    values: np.ndarray, mask: np.ndarray, strata: np.ndarray, shuffled: np.ndarray | None, expected: float
) -> float:
    """Two-sided p-value of the segment's total against its permutation distribution within strata: Monte Carlo
    over the rows of `shuffled`; without them (large samples) or in the far tail, the normal approximation with the
    exact permutation mean and variance."""
    observed = abs(float(values[mask].sum()) - expected)
    p = 0.0
    if shuffled is not None:
        totals = shuffled @ mask.astype(float)
        extreme = int(np.count_nonzero(np.abs(totals - expected) >= observed - 1e-9))
        p = (1 + extreme) / (1 + int(shuffled.shape[0]))
        if p > TAIL_P:
            return p
    variance = 0.0
    for s in np.unique(strata):
        inside = strata == s
        size, drawn = int(inside.sum()), int((inside & mask).sum())
        if size > 1:  # drawing `drawn` of `size` values without replacement
            variance += drawn * (size - drawn) / (size - 1) * float(values[inside].var())
    if variance <= 0:
        return p if shuffled is not None else float(observed <= 1e-9)
    return float(math.erfc(observed / math.sqrt(2 * variance)))


# --- the comparisons ------------------------------------------------------------------------------------------------
def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error control under any dependence)."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [1.0] * len(p_values)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


@dataclass
class _Frame:
    """One measure's observations as arrays, with each observation's segment per dimension."""

    measure: Measure
    values: np.ndarray
    exposure: np.ndarray
    labels: dict[str, list[str]]
    evidence: list[str]
    rules: list[tuple[str, ...]]


def _frame(measure: Measure, observations: Sequence[Observation], segments: Mapping[str, Mapping[str, str]]) -> _Frame:
    kept = [o for o in observations if o.partner_id in segments and (measure.kind != "rate" or o.exposure > 0)]
    return _Frame(
        measure,
        np.array([o.value for o in kept], dtype=float),
        np.array([o.exposure for o in kept], dtype=float),
        {d: [(o.tier or segments[o.partner_id][d]) if d == "tier" else segments[o.partner_id][d] for o in kept]
         for d in DIMENSIONS},
        [o.evidence_id for o in kept],
        [o.rule_ids for o in kept],
    )


def _strata(frame: _Frame, dimension: str) -> tuple[np.ndarray, str | None]:
    """Every dimension but tier is compared within tiers; tier itself over all partners (on policy-normalized
    measures: the discount is a share of the tier's own cap)."""
    if dimension == "tier":
        return np.zeros(frame.values.size, dtype=int), None
    names = sorted(set(frame.labels["tier"]))
    index = {n: i for i, n in enumerate(names)}
    return np.array([index[t] for t in frame.labels["tier"]], dtype=int), "tier"


def _compare(
    frame: _Frame, dimension: str, segment: str, strata: np.ndarray, permuted: dict[int, np.ndarray], seed: int
) -> tuple[float, float, float, float, str]:
    """(segment value, rest value, expected segment value, p-value, test name) for one segment against the rest."""
    measure = frame.measure
    mask = np.array([label == segment for label in frame.labels[dimension]])
    values, exposure = frame.values, frame.exposure
    if measure.kind == "rate":
        seg_value = float(values[mask].sum() / exposure[mask].sum())
        rest_value = float(values[~mask].sum() / exposure[~mask].sum())
        pmfs, expected = [], 0.0
        for s in np.unique(strata):
            inside = strata == s
            events = _whole(values[inside].sum())
            share = float(exposure[inside & mask].sum() / exposure[inside].sum())
            pmfs.append(binomial_pmf(events, share))
            expected += events * share
        observed = _whole(values[mask].sum())
        p = exact_two_sided(convolve(pmfs), observed)
        return seg_value, rest_value, expected / float(exposure[mask].sum()), p, "exact conditional binomial"
    seg_value, rest_value = float(values[mask].mean()), float(values[~mask].mean())
    expected = 0.0
    for s in np.unique(strata):
        inside = strata == s
        expected += float(values[inside].mean()) * int((inside & mask).sum())
    n = int(mask.sum())
    if measure.kind == "binary":
        pmfs = [
            hypergeometric_pmf(int((strata == s).sum()), _whole(values[strata == s].sum()),
                               int(((strata == s) & mask).sum()))
            for s in np.unique(strata)
        ]
        p = exact_two_sided(convolve(pmfs), _whole(values[mask].sum()))
        test = "Fisher's exact" if len(pmfs) == 1 else "exact conditional (stratified Fisher)"
        return seg_value, rest_value, expected / n, p, test
    shuffled = None
    if min(n, values.size - n) < LARGE:
        if PERMUTATIONS not in permuted:
            permuted[PERMUTATIONS] = stratified_permutations(values, strata, PERMUTATIONS, seed)
        shuffled = permuted[PERMUTATIONS]
    p = permutation_p(values, mask, strata, shuffled, expected)
    return seg_value, rest_value, expected / n, p, "permutation (within strata)"


def _segments_to_compare(labels: list[str], mask_counts: dict[str, float], total: float) -> list[str]:
    names = sorted(set(labels))
    eligible = [s for s in names if mask_counts[s] >= MIN_OBSERVATIONS and total - mask_counts[s] >= MIN_OBSERVATIONS]
    if len(names) == 2 and len(eligible) == 2:
        return eligible[:1]  # two segments: one against the other, once
    return eligible


def _dimension_comparisons(frame: _Frame, dimension: str, permutations: dict[str | None, dict[int, np.ndarray]],
                           skipped: list[dict[str, Any]]) -> list[Comparison]:
    """Each eligible segment of `dimension` against the rest, for one measure (too small ones go to `skipped`)."""
    measure = frame.measure
    labels = frame.labels[dimension]
    strata, stratified_by = _strata(frame, dimension)
    weights = frame.exposure if measure.kind == "rate" else np.ones(frame.values.size)
    counts: dict[str, float] = {}
    for label, w in zip(labels, weights, strict=True):
        counts[label] = counts.get(label, 0.0) + float(w)
    total = float(weights.sum())
    names = sorted(set(labels))
    chosen = _segments_to_compare(labels, counts, total)
    for label in sorted(set(names) - set(chosen)):
        if len(names) > 1 and counts[label] < MIN_OBSERVATIONS:
            skipped.append({"measure": measure.name, "dimension": dimension, "segment": label,
                            "observations": _num(counts[label]), "reason": "too few observations"})
    permuted = permutations.setdefault(stratified_by, {})  # shared by the dimensions stratified alike
    seed = _seed(measure.name, stratified_by, frame.values.size)
    out = []
    for segment in chosen:
        seg_value, rest_value, expected, p, test = _compare(frame, dimension, segment, strata, permuted, seed)
        gap = seg_value - expected
        worse = gap < 0 if measure.favourable == "higher" else gap > 0
        picked = [i for i, label in enumerate(labels) if (label == segment) == worse]
        out.append(Comparison(
            measure=measure.name, dimension=dimension, segment=segment, stratified_by=stratified_by,
            segment_n=counts[segment], rest_n=total - counts[segment],
            segment_value=seg_value, rest_value=rest_value, expected_value=expected, gap=gap, p_value=p, test=test,
            disadvantaged=segment if worse else f"rest of {dimension}",
            evidence_ids=tuple(dict.fromkeys(frame.evidence[i] for i in picked if frame.evidence[i]))[:20],
            rule_ids=tuple(sorted({r for i in picked for r in frame.rules[i]})),
            versus=names[1] if len(names) == 2 else "",
        ))
    return out


def comparisons(
    observations: Sequence[Observation], segments: Mapping[str, Mapping[str, str]], measures: Sequence[str]
) -> tuple[list[Comparison], list[dict[str, Any]]]:
    """Every eligible (measure, dimension, segment) comparison with its elementary p-value, and what was skipped."""
    raw: list[Comparison] = []
    skipped: list[dict[str, Any]] = []
    for name in measures:
        measure = MEASURES[name]
        frame = _frame(measure, [o for o in observations if o.measure == name], segments)
        if frame.values.size == 0:
            continue
        permutations: dict[str | None, dict[int, np.ndarray]] = {}
        for dimension in DIMENSIONS:
            if dimension != "tier" or measure.across_tiers:
                raw += _dimension_comparisons(frame, dimension, permutations, skipped)
    return raw, skipped


def corrected(raw: Sequence[Comparison], alpha: float, *, can_find: bool = True) -> list[Comparison]:
    """Holm's correction over `raw` (one family); a finding is significant at `alpha` after it and material."""
    adjusted = holm([c.p_value for c in raw])
    return [
        replace(c, adjusted_p=adj, finding=can_find and adj <= alpha and abs(c.gap) >= MEASURES[c.measure].materiality)
        for c, adj in zip(raw, adjusted, strict=True)
    ]


def compare(
    observations: Sequence[Observation],
    segments: Mapping[str, Mapping[str, str]],
    *,
    alpha: float = 0.05,
    measures: Sequence[str] | None = None,
    family: Family | None = None,
) -> Report:
    """Every eligible (measure, dimension, segment) comparison. Without a declared `family`, all of them are the family:
    Holm-corrected together, findings significant at `alpha` after correction and at least as large as the measure's
    materiality. With one, only the declared comparisons are the family (corrected over them alone, the only ones that
    can be findings); the rest are exploratory, Holm-corrected among themselves and never findings."""
    raw, skipped = comparisons(observations, segments, measures or list(MEASURES))
    declared = [c for c in raw if family is None or _covered(family, c)]
    exploratory = [c for c in raw if family is not None and not _covered(family, c)]
    return Report(corrected(declared, alpha), skipped, alpha, corrected(exploratory, alpha, can_find=False), family)


def _covered(family: Family, c: Comparison) -> bool:
    return family.covers(c.measure, c.dimension, c.segment, c.versus)
