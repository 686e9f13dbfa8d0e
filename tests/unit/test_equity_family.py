"""#18: the comparison family the policy owner declares (`policy.equity.comparisons`, docs/equity.md).

The brief for this change: "the policy owner declares in the tenant policy which segment comparisons the monitor tests
[...], so the multiple-comparison correction runs over the declared family rather than every possible pair; the
declaration is set by the policy owner and validated (unknown segment or outcome -> problem+json naming the field)".

Holm (1979, Scand. J. Statist. 6, "A simple sequentially rejective multiple test procedure"): the m p-values of a
family, ordered, are compared with alpha/m, alpha/(m-1), ..., alpha; the adjusted p-value of the i-th smallest is the
running maximum of (m - j + 1) p(j). What is "the family" is the policy owner's declaration.

PA-2.1 (tenants/northwind/contracts/partner-agreement.md): "The partner type determines onboarding requirements; the
partner tier under Section 3 determines pricing, rebates and entitlements." CPA-2.1 (contoso): "The category
determines admission requirements; the program tier under Section 3 determines discounts, rebates and entitlements."
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from equity_support import Plant, generate
from revgov import schemas
from revgov.domain.contracts import parse_contract
from revgov.domain.equity import Observation, compare, holm
from revgov.domain.equity_policy import MEASURES, Declared, Family, declaration_problems, declared, describe
from revgov.domain.policy import policy_problems
from revgov.tenant_files import load_tenant_file
from support import ROOT

EVERY_OUTCOME = frozenset(MEASURES)
PARTNER_TYPE = Family("EQ-DECLARED-COMPARISONS", "PA-2.1", (Declared("partner_type", EVERY_OUTCOME),))


def _config(tenant: str = "northwind") -> dict[str, Any]:
    return load_tenant_file(Path(ROOT / "tenants" / tenant / "tenant.yaml"))


@pytest.mark.parametrize(("tenant", "clause"), [("northwind", "PA-2.1"), ("contoso", "CPA-2.1")])
def test_the_demo_tenants_declare_partner_type_across_every_outcome_citing_their_clause(tenant, clause):
    # PA-2.1 / CPA-2.1: the tier, not the partner type (category), determines pricing, rebates and entitlements
    family = declared(_config(tenant)["policy"])
    assert family == Family("EQ-DECLARED-COMPARISONS", clause, (Declared("partner_type", EVERY_OUTCOME),))
    assert describe(family)["entries"] == [{"dimension": "partner_type", "measures": sorted(MEASURES),
                                            "segments": None}]
    assert declared({"partner_tiers": []}) is None and describe(None)["declared"] is False


def test_holm_runs_over_the_declared_family_alone_and_the_rest_is_exploratory():
    history = generate(3)
    everything = compare(history.observations, history.partners)
    report = compare(history.observations, history.partners, family=PARTNER_TYPE)
    assert {c.dimension for c in report.comparisons} == {"partner_type"} and len(report.comparisons) == 20
    assert {c.dimension for c in report.exploratory} == {"tier", "region", "size_band"}
    # the same elementary tests either way: only the family the correction runs over differs
    key = lambda c: (c.measure, c.dimension, c.segment)  # noqa: E731
    assert sorted((key(c), c.p_value) for c in report.comparisons + report.exploratory) == sorted(
        (key(c), c.p_value) for c in everything.comparisons)
    assert [c.adjusted_p for c in report.comparisons] == pytest.approx(holm([c.p_value for c in
                                                                             report.comparisons]))
    assert [c.adjusted_p for c in report.exploratory] == pytest.approx(holm([c.p_value for c in
                                                                             report.exploratory]))
    assert not any(c.finding for c in report.exploratory)
    # a family of 20 divides alpha by at most 20 where every comparison (59) divided it by 59
    assert len(everything.comparisons) == 59


def test_a_gap_outside_the_declared_family_is_reported_as_exploratory_and_never_a_finding():
    plant = Plant("approval_rate", dimension="region", segment="DE", effect=0.30)
    history = generate(4242, plant=plant)
    report = compare(history.observations, history.partners, family=PARTNER_TYPE)
    assert report.findings == []
    (gap,) = [c for c in report.exploratory if (c.measure, c.dimension, c.segment) == ("approval_rate", "region",
                                                                                        "DE")]
    assert gap.adjusted_p <= 0.05 and gap.disadvantaged == "DE" and gap.finding is False
    # declared, the same gap is a finding (each other region, against a rest that holds DE, may show as favoured)
    by_region = Family("EQ-REGION", "PA-2.1", (Declared("region", frozenset({"approval_rate"})),))
    found = compare(history.observations, history.partners, family=by_region).findings
    assert [c.disadvantaged for c in found if c.segment == "DE"] == ["DE"]
    assert {(c.measure, c.dimension) for c in found} == {("approval_rate", "region")}


def test_declared_segments_limit_the_family_to_them():
    history = generate(5)
    only_msp = Family("EQ-MSP", "PA-2.1", (Declared("partner_type", EVERY_OUTCOME, frozenset({"msp"})),))
    report = compare(history.observations, history.partners, family=only_msp)
    assert sorted(c.measure for c in report.comparisons) == sorted(MEASURES)
    assert {c.segment for c in report.comparisons} == {"msp"}


def test_with_two_segments_their_one_comparison_is_declared_by_either():
    # two segments are compared once, one against the other (docs/equity.md); declaring the second names that pair
    segments = {f"p{i}": {"tier": "gold", "partner_type": "msp" if i % 2 else "reseller", "region": "US",
                          "size_band": "small"} for i in range(40)}
    observations = [Observation("approval_rate", f"p{i}", float(i % 3 == 0)) for i in range(40)]
    resellers = Family("EQ-RESELLER", "PA-2.1", (Declared("partner_type", frozenset({"approval_rate"}),
                                                          frozenset({"reseller"})),))
    report = compare(observations, segments, family=resellers)
    assert [(c.segment, c.versus) for c in report.comparisons] == [("msp", "reseller")]


# --- validation: every bad declaration is a problem naming its field -----------------------------------------------
FAMILY = "/policy/equity/comparisons/family"


def _problems(equity: Any) -> list[tuple[str, str]]:
    """What the tenant file, onboarding and policy drafts report for this declaration: the schema, then the policy's
    own consistency with the clauses of the tenant's contracts (domain.policy.policy_problems)."""
    config = _config()
    config["policy"]["equity"] = equity
    found = schemas.problems("tenant.schema.json", {k: v for k, v in config.items() if k != "contracts"})
    if not found:
        found = policy_problems(config["policy"], _clauses())
    return [(e.path, e.message) for e in found]


def _clauses() -> set[str]:
    files = sorted((ROOT / "tenants" / "northwind" / "contracts").glob("*.md"))
    return set().union(*(parse_contract(f.read_text(encoding="utf-8"), name=f.name).clause_ids() for f in files))


def _declaring(*entries: dict[str, Any], **rule: str) -> dict[str, Any]:
    return {"comparisons": {"id": rule.get("id", "EQ-DECLARED-COMPARISONS"), "clause": rule.get("clause", "PA-2.1"),
                            "family": list(entries)}}


@pytest.mark.parametrize(("equity", "path", "says"), [
    # an unknown outcome
    (_declaring({"dimension": "partner_type", "measures": ["approval_ratio"]}), f"{FAMILY}/0/measures/0",
     "approval_ratio"),
    # an unknown dimension
    (_declaring({"dimension": "country", "measures": ["approval_rate"]}), f"{FAMILY}/0/dimension", "country"),
    # an unknown partner type (onboarding.partner_types names four)
    (_declaring({"dimension": "partner_type", "measures": ["approval_rate"], "segments": ["msp", "reseler"]}),
     f"{FAMILY}/0/segments/1", "reseler"),
    # an unknown tier (policy.partner_tiers)
    (_declaring({"dimension": "tier", "measures": ["discount_to_cap"], "segments": ["diamond"]}),
     f"{FAMILY}/0/segments/0", "diamond"),
    # an unknown size band
    (_declaring({"dimension": "size_band", "measures": ["approval_rate"], "segments": ["huge"]}),
     f"{FAMILY}/0/segments/0", "huge"),
    # a region that is not a country code
    (_declaring({"dimension": "region", "measures": ["approval_rate"], "segments": ["de"]}),
     f"{FAMILY}/0/segments/0", "de"),
    # tiers compared on an outcome the policy does not normalize across tiers (tier caps and rules differ by design)
    (_declaring({"dimension": "tier", "measures": ["discount_to_cap", "approval_rate"]}), f"{FAMILY}/0/measures/1",
     "within tiers"),
    # a dimension declared twice
    (_declaring({"dimension": "region", "measures": ["approval_rate"]},
                {"dimension": "region", "measures": ["exception_rate"]}), f"{FAMILY}/1/dimension", "already"),
    # an empty family, an empty list of outcomes, an empty list of segments, a field the schema does not know
    (_declaring(), FAMILY, "non-empty"),
    (_declaring({"dimension": "region", "measures": []}), f"{FAMILY}/0/measures", "non-empty"),
    (_declaring({"dimension": "region", "measures": ["approval_rate"], "segments": []}), f"{FAMILY}/0/segments",
     "non-empty"),
    (_declaring({"dimension": "region", "measures": ["approval_rate"], "alpha": 0.2}), f"{FAMILY}/0/alpha", "alpha"),
    # the rule: a malformed id, a clause the contracts do not have
    (_declaring({"dimension": "region", "measures": ["approval_rate"]}, id="eq"),
     "/policy/equity/comparisons/id", "eq"),
    (_declaring({"dimension": "region", "measures": ["approval_rate"]}, clause="PA-99.9"),
     "/policy/equity/comparisons/clause", "PA-99.9"),
    # no family at all
    ({"comparisons": {"id": "EQ-X", "clause": "PA-2.1"}}, "/policy/equity/comparisons/family", "family"),
])
def test_a_bad_declaration_is_a_problem_naming_its_field(equity, path, says):
    found = _problems(equity)
    assert [p for p, _ in found] == [path], found
    assert says in found[0][1]


def test_a_partner_type_the_tenant_does_not_admit_is_a_problem_naming_it():
    # the keys of onboarding.partner_types are "the partner_type values of applications" (its schema)
    config = _config()
    del config["policy"]["onboarding"]["partner_types"]["msp"]
    config["policy"]["equity"] = _declaring({"dimension": "partner_type", "measures": ["approval_rate"],
                                             "segments": ["reseller", "msp"]})
    found = [(e.path, e.message) for e in policy_problems(config["policy"], _clauses())]
    assert [p for p, _ in found] == [f"{FAMILY}/0/segments/1"] and "'msp'" in found[0][1], found


def test_a_good_declaration_has_no_problem():
    equity = _declaring({"dimension": "tier", "measures": ["discount_to_cap"], "segments": ["gold", "silver"]},
                        {"dimension": "partner_type", "measures": ["approval_rate", "exception_rate"]},
                        {"dimension": "region", "measures": ["approval_rate"], "segments": ["US", "unspecified"]},
                        {"dimension": "size_band", "measures": ["time_to_decision"], "segments": ["small"]})
    assert _problems(equity) == []
    policy = copy.deepcopy(_config()["policy"])
    del policy["equity"]
    assert declaration_problems(policy) == []  # no declaration: every comparison is the family
