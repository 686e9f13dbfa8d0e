"""The closed testing procedure evaluated for the equity monitor (tests/perf/equity_closed.py; docs/equity.md,
"Tried and not kept"), checked against its definition: Marcus, Peritz and Gabriel (1976) reject H when every
intersection containing H is rejected by its local test; the local test of an intersection I is Bonferroni over the
families it touches, inside a family the omnibus test when I holds at least k - 1 of its k segments, else
Bonferroni over the part."""

import itertools
import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "perf"))
from equity_closed import Family, chi2_sf, closed_adjusted, omnibus


@pytest.mark.parametrize(("x", "df"), [(3.841, 1), (5.991, 2), (7.815, 3), (9.488, 4), (11.070, 5)])
def test_chi_square_tail_at_the_tabled_5_percent_critical_values(x, df):
    # the 0.05 column of any chi-square table (e.g. NIST/SEMATECH e-Handbook 1.3.6.7.4)
    assert chi2_sf(x, df) == pytest.approx(0.05, abs=2e-4)


def test_chi_square_tail_of_nothing_is_one():
    assert chi2_sf(0.0, 3) == 1.0 and chi2_sf(5.0, 0) == 1.0


def test_the_omnibus_of_one_stratum_and_two_segments_is_the_mantel_haenszel_chi_square():
    # 2x2 table: segment a 10 of 20 approved, segment b 4 of 20. Pearson X^2 = sum (O - E)^2 / E with E = 7, 13, 7,
    # 13: 2 * (9/7 + 9/13); the Mantel-Haenszel (randomization) statistic is (N - 1) / N * X^2, chi-square, 1 df.
    values = np.array([1.0] * 10 + [0.0] * 10 + [1.0] * 4 + [0.0] * 16)
    labels = ["a"] * 20 + ["b"] * 20
    q = 39 / 40 * 2 * (9 / 7 + 9 / 13)
    p, k = omnibus(values, np.ones(40), labels, np.zeros(40, dtype=int), "binary")
    assert k == 2 and p == pytest.approx(math.erfc(math.sqrt(q / 2)))


def test_the_omnibus_of_a_rate_splits_events_by_exposure():
    # 30 events over exposures 100 / 200 (one stratum): expected 10 / 20, variance 30 * (1/3)(2/3) = 20/3
    # for a; observed 18 for a: Q = (18 - 10)^2 / (20/3) = 9.6, 1 df.
    p, k = omnibus(np.array([18.0, 12.0]), np.array([100.0, 200.0]), ["a", "b"], np.zeros(2, dtype=int), "rate")
    assert k == 2 and p == pytest.approx(math.erfc(math.sqrt(9.6 / 2)))


FAMILIES = [
    Family(4, 0.004, (0.001, 0.2, 0.5, 0.04)),  # A: 4 segments, all compared
    Family(2, 0.5, (0.03,)),  # B: 2 segments, compared once (its omnibus is that comparison)
    Family(3, 0.5, (0.3, 0.6, 0.9)),  # C: 3 segments
]


def test_a_worked_example_computed_by_hand():
    # Worst local p-value of each family over its nonempty parts: A: omnibus 0.004 (parts of >= 3), one segment 0.5,
    # two: 2 * 0.2 = 0.4 -> 0.5; B: 0.03; C: omnibus 0.5 (parts of >= 2), one: 0.9 -> 0.9.
    # A's 0.001: within A, max(0.004, 0.001, 2 * min(0.001, 0.5)) = 0.004; joined by C: 2 * min(0.004, 0.9) = 0.008,
    # and B: 3 * min(0.004, 0.03) = 0.012 -> 0.012 (rejected at 0.05).
    # A's 0.04: max(0.004, 0.04, 2 * min(0.04, 0.5)) = 0.08; 2 * min(0.08, 0.9) = 0.16 -> 0.16.
    # A's 0.2: max(0.004, 0.2, 2 * min(0.2, 0.5)) = 0.4; 2 * 0.4 = 0.8. A's 0.5: max(0.5, 2 * min(0.5, 0.2)) = 0.5 -> 1.
    # B's 0.03: 0.03; 2 * min(0.03, 0.9) = 0.06; 3 * min(0.03, 0.5) = 0.09 -> 0.09 (not rejected, though 0.03 < 0.05).
    # C: within C at least its omnibus 0.5; joined by A: 2 * min(0.5, 0.5) = 1.
    adjusted = closed_adjusted(FAMILIES)
    assert adjusted[0] == pytest.approx([0.012, 0.8, 1.0, 0.16])
    assert adjusted[1] == pytest.approx([0.09])
    assert adjusted[2] == pytest.approx([1.0, 1.0, 1.0])


def _local_p(family: Family, part: tuple[float, ...]) -> float:
    if len(part) >= family.segments - 1:
        return family.p_values[0] if family.segments == 2 and len(family.p_values) == 1 else family.omnibus_p
    return min(1.0, len(part) * min(part))


def test_the_shortcut_equals_closed_testing_over_every_intersection():
    # Brute force from the definition: adjusted p of H = the largest local p-value of any intersection I containing
    # H, where local p(I) = |F(I)| * min over the families g in I of g's local p of its part.
    hypotheses = [(f, i) for f, family in enumerate(FAMILIES) for i in range(len(family.p_values))]
    worst = {h: 0.0 for h in hypotheses}
    for size in range(1, len(hypotheses) + 1):
        for subset in itertools.combinations(hypotheses, size):
            touched = sorted({f for f, _ in subset})
            local = min(1.0, len(touched) * min(
                _local_p(FAMILIES[f], tuple(FAMILIES[f].p_values[i] for g, i in subset if g == f)) for f in touched))
            for h in subset:
                worst[h] = max(worst[h], local)
    adjusted = closed_adjusted(FAMILIES)
    assert [worst[h] for h in hypotheses] == pytest.approx([adjusted[f][i] for f, i in hypotheses])


def test_with_one_hypothesis_per_family_it_is_holms_procedure():
    # Holm (1979): adjusted p(i) = max over j <= i of (m - j + 1) p(j); here 0.005 -> 0.02, 0.01 -> 0.03, 0.03 and
    # 0.04 -> 0.06.
    adjusted = closed_adjusted([Family(2, 1.0, (p,)) for p in (0.01, 0.04, 0.03, 0.005)])
    assert [a[0] for a in adjusted] == pytest.approx([0.03, 0.06, 0.06, 0.02])
