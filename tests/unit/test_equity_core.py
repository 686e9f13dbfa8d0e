"""The channel-equity monitor's statistics (revgov.domain.equity), checked against published values and against
generated histories with and without a planted disparity (tests/equity_support.py)."""

import pytest

from equity_support import CAP_BY_TIER, PLANTS, generate
from revgov.domain import equity
from revgov.domain.equity import Observation, compare


def test_fishers_exact_test_gives_fishers_own_tea_tasting_p_value():
    # Fisher (1935), The Design of Experiments, ch. II: the lady guesses 3 of the 4 milk-first cups right;
    # P = 16/70 + 1/70 = 0.243 one-sided, and the two-sided test doubles the symmetric table: 34/70 = 0.4857.
    assert equity.fisher_exact(3, 1, 1, 3) == pytest.approx(34 / 70)
    assert equity.fisher_exact(4, 0, 0, 4) == pytest.approx(2 / 70)


def test_fishers_exact_test_matches_the_hypergeometric_tail_of_a_lopsided_table():
    # Wikipedia, "Fisher's exact test", worked example (1 of 12 men and 9 of 12 women dieting): two-sided p ≈ 0.002759.
    assert equity.fisher_exact(1, 9, 11, 3) == pytest.approx(0.0027594, rel=1e-4)


def test_holm_adjusts_the_smallest_p_value_by_the_number_of_comparisons_and_keeps_the_order():
    # Holm (1979): reject H(i) while p(i) <= alpha / (m - i + 1); adjusted p(i) = max over j <= i of (m - j + 1) p(j).
    assert equity.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert equity.holm([0.5]) == [0.5] and equity.holm([]) == []


def test_a_stratified_exact_test_of_one_stratum_is_fishers_test():
    # one stratum: the exact conditional distribution is the hypergeometric itself
    pmf = equity.convolve([equity.hypergeometric_pmf(24, 12, 10)])
    assert equity.exact_two_sided(pmf, 1) == pytest.approx(equity.fisher_exact(1, 9, 11, 3))


def test_segments_come_from_tier_type_territory_and_commitment():
    partner = {"tier": "gold", "partner_type": "msp",
               "terms": {"territory": ["DE-BY", "AT"], "annual_commitment": "250000.00"}}
    assert equity.segments_of(partner) == {"tier": "gold", "partner_type": "msp", "region": "DE",
                                           "size_band": "medium"}
    assert equity.segments_of({"tier": "silver", "partner_type": "reseller"})["region"] == "unspecified"


def test_a_gap_the_tier_caps_explain_is_not_a_finding():
    # Fair history: each tier's partners get the same share of their own cap, but msps sit mostly in the higher
    # tiers, so their *absolute* discounts are larger. Compared raw and unstratified, that looks like a gap.
    history = generate(7)
    naive = [Observation("discount_to_cap", pid, pct) for pid, pct in history.raw_discounts]
    flat = {pid: {**seg, "tier": "all"} for pid, seg in history.partners.items()}
    assert compare(naive, flat, measures=["discount_to_cap"]).findings, "the naive comparison should be fooled"
    report = compare(history.observations, history.partners)
    assert report.findings == []
    assert max(CAP_BY_TIER.values()) > min(CAP_BY_TIER.values())


@pytest.mark.parametrize("plant", PLANTS, ids=lambda p: p.measure)
def test_a_planted_disparity_against_a_partner_type_is_found_with_its_evidence(plant):
    history = generate(1001, plant=plant)
    report = compare(history.observations, history.partners)
    found = [c for c in report.findings if (c.measure, c.dimension, c.segment) == (plant.measure, plant.dimension,
                                                                                   plant.segment)]
    assert len(found) == 1, [c.as_dict() for c in report.findings]
    finding = found[0]
    assert finding.disadvantaged == plant.segment and finding.adjusted_p <= 0.05
    assert finding.evidence_ids and finding.rule_ids
    assert finding.stratified_by == "tier"
    others = [c for c in report.findings if c is not finding]
    assert others == [], [c.as_dict() for c in others]


def test_small_segments_are_reported_as_skipped_not_tested():
    segments = {f"p{i}": {"tier": "gold", "partner_type": "msp" if i < 2 else "reseller", "region": "US",
                          "size_band": "small"} for i in range(12)}
    observations = [Observation("approval_rate", f"p{i}", float(i % 2)) for i in range(12)]
    report = compare(observations, segments, measures=["approval_rate"])
    assert {(s["dimension"], s["segment"]) for s in report.skipped} == {("partner_type", "msp")}
    assert all(c.segment != "msp" for c in report.comparisons)


def test_the_same_history_gives_the_same_report():
    history = generate(3, plant=PLANTS[1])
    one = [c.as_dict() for c in compare(history.observations, history.partners).comparisons]
    two = [c.as_dict() for c in compare(history.observations, history.partners).comparisons]
    assert one == two
