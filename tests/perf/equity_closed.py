"""A closed testing procedure for the channel-equity monitor's comparisons, EVALUATED AND NOT ADOPTED (docs/equity.md,
"Tried and not kept"). It lives beside the bench so that the figures quoted there can be reproduced
(`tests/perf/bench.py equity` reports it next to the monitor's Holm correction on the same histories).

The hypotheses are the monitor's own: H(f, s), "in family f = (measure, dimension), segment s fares like the rest of
its tier strata", one per comparison `revgov.domain.equity.compare` makes, each with its elementary p-value. The
procedure is Marcus, Peritz and Gabriel's closed testing principle (Biometrika 63, 1976): H(f, s) is rejected when
every intersection of hypotheses that contains it is rejected by a level-alpha local test. The local test of an
intersection I is a Bonferroni combination over the families I touches (F(I)): reject when, for some family g,
the family's local test of the part of I inside g has p <= alpha / |F(I)|. Inside a family of k segments:
- if the part J holds at least k - 1 of the family's segments, the intersection is the whole family's homogeneity
  (if k - 1 segments each fare like the rest of their strata, so does the last), tested by an omnibus test: the
  stratified generalized Cochran-Mantel-Haenszel statistic (Landis, Heyman and Koch, Int. Stat. Rev. 46, 1978;
  "general association" for a binary outcome, "mean score" for a continuous one, the conditional multinomial
  for events over an exposure), chi-square with rank(V) degrees of freedom; with two segments, the family's
  single comparison is its own omnibus test;
- otherwise a Bonferroni test over J: |J| times the smallest elementary p-value in J.
A level-alpha local test for every intersection makes the family-wise error at most alpha under any configuration
of true and false hypotheses (strong control). The shortcut below gives each hypothesis's adjusted p-value without
enumerating the intersections: within its family, r(f, s) = the largest local p-value over the parts J that
contain s; over families, the Holm-like maximum over the other families' worst local p-values q(g).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from revgov.domain import equity as core


def chi2_sf(x: float, df: int) -> float:
    """P(X >= x) for X chi-square with an integer number of degrees of freedom (closed forms, no scipy)."""
    if df <= 0 or x <= 0:
        return 1.0
    h = x / 2
    if df % 2 == 0:  # e^-h * sum_{j < df/2} h^j / j!
        term = total = 1.0
        for j in range(1, df // 2):
            term *= h / j
            total += term
        return min(1.0, math.exp(-h) * total)
    total = math.erfc(math.sqrt(h))  # df = 1; each further 2 degrees add e^-h h^(j - 1/2) / Gamma(j + 1/2)
    term = math.sqrt(h) / math.gamma(1.5)
    for j in range(1, (df - 1) // 2 + 1):
        total += math.exp(-h) * term
        term *= h / (j + 0.5)
    return min(1.0, total)


def omnibus(values: np.ndarray, exposure: np.ndarray, labels: Sequence[str], strata: np.ndarray,
            kind: str) -> tuple[float, int]:
    """(p-value, number of segments) of the stratified generalized CMH test that every segment fares alike within
    strata. Per stratum: the segments' totals T, their expectation E and covariance V under random allocation of
    the stratum's values to its units (for a rate: of its events in proportion to exposure); Q = (T - E)' V+ (T - E)
    summed over strata, chi-square with rank(V) degrees of freedom."""
    names = sorted(set(labels))
    member = np.zeros((len(labels), len(names)))
    for i, label in enumerate(labels):
        member[i, names.index(label)] = 1.0
    deviation = values @ member
    covariance = np.zeros((len(names), len(names)))
    for s in np.unique(strata):
        inside = strata == s
        counts = member[inside].sum(axis=0)
        if kind == "rate":
            events = float(values[inside].sum())
            share = (exposure[inside] @ member[inside]) / float(exposure[inside].sum())
            deviation -= events * share
            covariance += events * (np.diag(share) - np.outer(share, share))
        else:
            size = float(inside.sum())
            deviation -= counts * float(values[inside].mean())
            if size > 1:
                covariance += float(values[inside].var()) * size / (size - 1) * (
                    np.diag(counts) - np.outer(counts, counts) / size)
    if not covariance.any():
        return 1.0, len(names)
    q = float(deviation @ np.linalg.pinv(covariance, rcond=1e-10, hermitian=True) @ deviation)
    df = int(np.linalg.matrix_rank(covariance, tol=1e-9 * float(np.abs(covariance).max())))
    return chi2_sf(q, df), len(names)


@dataclass(frozen=True)
class Family:
    segments: int  # k: every segment of the dimension present in the measure's observations (compared or not)
    omnibus_p: float
    p_values: tuple[float, ...]  # the elementary p-values of the segments compared


def _local_worst(family: Family, p: float | None) -> float:
    """The largest local p-value over the parts J of `family` (containing the hypothesis with p-value `p`, or any
    nonempty part when `p` is None)."""
    ps = list(family.p_values)
    if p is not None:
        ps.remove(p)
    others = sorted(ps, reverse=True)
    worst = family.omnibus_p if len(family.p_values) >= family.segments - 1 else 0.0
    for size in range(1, min(len(family.p_values), family.segments - 2) + 1):
        if p is None:  # the `size` largest p-values: Bonferroni of that part
            worst = max(worst, size * others[size - 1])
        else:  # s and the size - 1 largest others
            worst = max(worst, size * (p if size == 1 else min(p, others[size - 2])))
    return min(1.0, worst)


def closed_adjusted(families: Sequence[Family]) -> list[list[float]]:
    """Adjusted p-values (reject at alpha when <= alpha) of every elementary hypothesis, family by family."""
    families = [
        Family(f.segments, f.p_values[0], f.p_values) if f.segments == 2 and len(f.p_values) == 1 else f
        for f in families
    ]
    worst = [_local_worst(f, None) for f in families]
    out = []
    for index, family in enumerate(families):
        rest = sorted(worst[:index] + worst[index + 1:], reverse=True)
        adjusted = []
        for p in family.p_values:
            r = _local_worst(family, p)
            value = r
            for included, q in enumerate(rest, start=2):  # the top (included - 1) other families join the part
                value = max(value, included * min(r, q))
            adjusted.append(min(1.0, value))
        out.append(adjusted)
    return out


def closed_findings(report: core.Report, observations: Sequence[core.Observation],
                    segments: Mapping[str, Mapping[str, str]], alpha: float = 0.05) -> list[core.Comparison]:
    """The comparisons of `report` (the monitor's own) that the closed test finds: adjusted p <= alpha and a gap at
    least as large as the measure's materiality, as the monitor requires."""
    grouped: dict[tuple[str, str], list[core.Comparison]] = {}
    for c in report.comparisons:
        grouped.setdefault((c.measure, c.dimension), []).append(c)
    families = []
    for (measure, dimension), comparisons in grouped.items():
        frame = core._frame(core.MEASURES[measure], [o for o in observations if o.measure == measure], segments)
        strata, _ = core._strata(frame, dimension)
        p, k = omnibus(frame.values, frame.exposure, frame.labels[dimension], strata, frame.measure.kind)
        families.append(Family(k, p, tuple(c.p_value for c in comparisons)))
    found = []
    for comparisons, adjusted in zip(grouped.values(), closed_adjusted(families), strict=True):
        found += [c for c, a in zip(comparisons, adjusted, strict=True)
                  if a <= alpha and abs(c.gap) >= core.MEASURES[c.measure].materiality]
    return found
