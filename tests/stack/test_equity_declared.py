"""#18 on the running stack: the equity monitor tests the comparison family the tenant's policy owner declares
(`policy.equity.comparisons`, docs/equity.md), and a bad declaration is a problem+json naming its field that changes
nothing.

PA-2.1 (northwind's declaration cites it): "The partner type determines onboarding requirements; the partner tier
under Section 3 determines pricing, rebates and entitlements." So northwind declares partner type across every outcome
the monitor measures; a gap by region is outside that family: reported as exploratory, never an exception.
"""

from __future__ import annotations

import copy
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from analytics_support import analytics_tenant_in
from revgov.domain import cases as case_rules
from revgov.domain.access import Principal, Role
from revgov.domain.equity_policy import MEASURES
from revgov.domain.time import instant, iso
from revgov.ports import Changes, Put
from revgov.services import case_repository, equity
from revgov.services.partner_repository import PARTNERS
from revgov.tenant_files import load_tenant_file
from security_support import make_party, offboard, without_change_calendar
from support import ROOT, assert_problem

pytestmark = pytest.mark.stack

FAMILY = "/policy/equity/comparisons/family"


def _history(rt: Any, tenant_id: str, policy: dict[str, Any]) -> None:
    """48 partners (silver and gold; reseller and msp; US and DE: six of each combination) and 300 pricing approvals
    decided in the last 30 days. Approved 85% of the time, less by 40 points for msps and by 40 points for partners
    selling in DE, whatever their tier: two gaps, one in the declared family (partner type), one outside (region)."""
    rng = np.random.default_rng(18)
    partners, puts = [], []
    for i in range(48):
        pid = rt.ids.new("ptr")
        kind, region, tier = ("msp" if i % 2 else "reseller"), ("DE" if i % 4 < 2 else "US"), (
            "silver" if i % 8 < 4 else "gold")
        partners.append((pid, kind, region))
        puts.append(Put(PARTNERS, pid, {"partner_id": pid, "tier": tier, "partner_type": kind, "status": "active",
                                        "terms": {"territory": [region], "annual_commitment": "50000.00"}}))
    now = instant(rt.clock.now_iso())
    route = case_rules.route_for(policy, "discount_above_tier_cap")
    ops = Principal(tenant_id, Role.CHANNEL_OPS, "key_01JX0000000000000000EQUOPS")
    for n in range(300):
        pid, kind, region = partners[int(rng.integers(len(partners)))]
        opened = now - timedelta(days=20, hours=n % 48)
        case = case_rules.new_case(
            case_id=rt.ids.new("apr"), kind="approval", route=route, subject_kind="decision",
            subject_id=rt.ids.new("dec"), requested_by="sales:key_x", opened_at=iso(opened), risk_score=50,
            partner_id=pid, reasons=[{"rule_id": "PRC-TIER-CAPS", "clause": "PA-6.2", "message": "above cap"}],
        )
        chance = 0.85 - (0.40 if kind == "msp" else 0.0) - (0.40 if region == "DE" else 0.0)
        outcome = "approved" if rng.random() < chance else "rejected"
        decided = case_rules.decide(case, ops, outcome, "equity history", iso(opened + timedelta(hours=3)))
        puts.append(case_repository.put(decided, version=None))
    for start in range(0, len(puts), 25):
        rt.store.commit(tenant_id, Changes(puts=puts[start:start + 25]))


def test_only_the_declared_family_opens_exceptions_and_the_rest_is_reported_as_exploratory(api, operator, stack):
    for tenant in analytics_tenant_in(api, operator, stack):
        rt = stack.runtime
        _history(rt, tenant.tenant_id, tenant.policy)
        report = tenant.roles["finance"].get("/v1/equity", window_days="60").json()
        assert report["family"] == {
            "declared": True, "rule_id": "EQ-DECLARED-COMPARISONS", "clause": "PA-2.1", "comparisons": 2,
            "entries": [{"dimension": "partner_type", "measures": sorted(MEASURES),
                         "segments": None}]}
        assert {c["dimension"] for c in report["comparisons"]} == {"partner_type"}
        assert [(f["measure"], f["dimension"], f["disadvantaged"]) for f in report["findings"]] == [
            ("approval_rate", "partner_type", "msp")]
        (region,) = [c for c in report["exploratory"] if (c["measure"], c["dimension"]) == ("approval_rate", "region")]
        assert region["segment"] == "DE" and region["adjusted_p_value"] <= 0.05 and region["finding"] is False
        assert region["disadvantaged"] is None  # not a finding: the gap is shown, no side is named as wronged

        first = equity.run(rt, tenant.tenant_id, days=60)
        assert len(first["opened"]) == 1, first
        case = tenant.roles["channel_ops"].get(f"/v1/exceptions/{first['opened'][0]}").json()
        assert (case["context"]["comparison"]["dimension"], case["context"]["comparison"]["segment"]) == (
            "partner_type", "msp")
        # the summary cites the declaration that makes the comparison the programme's concern
        assert {"rule_id": "EQ-DECLARED-COMPARISONS", "clause": "PA-2.1"}.items() <= case["reasons"][1].items()


def _bad(config: dict[str, Any], equity_section: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(config)
    changed["tenant_id"] = f"eq-{uuid.uuid4().hex[:10]}"
    changed["policy"]["equity"] = equity_section
    return changed


def test_a_tenant_with_a_bad_declaration_is_refused_naming_the_field_and_not_created(operator):
    config = load_tenant_file(Path(ROOT / "tenants" / "northwind" / "tenant.yaml"))
    for status, entry, field in (
        # a tier the policy does not define (policy.partner_tiers): the policy check
        (422, {"dimension": "tier", "measures": ["discount_to_cap"], "segments": ["gold", "diamond"]}, "segments/1"),
        # a partner type no tenant admits, an unknown outcome: the schema
        (400, {"dimension": "partner_type", "measures": ["approval_rate"], "segments": ["distributor"]},
         "segments/0"),
        (400, {"dimension": "partner_type", "measures": ["approvals"]}, "measures/0"),
    ):
        bad = _bad(config, {"comparisons": {"id": "EQ-X", "clause": "PA-2.1", "family": [entry]}})
        problem = assert_problem(operator.post("/v1/tenants", bad), status)
        assert [e["path"] for e in problem["errors"]] == [f"{FAMILY}/0/{field}"], problem
        assert operator.get(f"/v1/tenants/{bad['tenant_id']}").status_code == 404


@pytest.fixture(scope="module")
def party(api: Any, operator: Any, stack: Any) -> Any:
    made = make_party(api, operator, stack, "northwind", edit=without_change_calendar)
    yield made
    offboard(operator, made)


def test_a_policy_draft_with_a_bad_declaration_names_the_field_and_is_never_proposed(party):
    ops, finance = party.by_role["channel_ops"], party.by_role["finance"]
    draft_id = ops.post("/v1/policy/drafts", {"reason": "declare regions"}).json()["draft_id"]
    path = f"/v1/policy/drafts/{draft_id}"
    for entry, field in (({"dimension": "region", "measures": ["approval_ratio"]}, "measures/0"),
                         ({"dimension": "size_band", "measures": ["approval_rate"], "segments": ["huge"]},
                          "segments/0")):
        refused = ops.post(f"{path}/patch", {"operations": [
            {"op": "add", "path": "/equity/comparisons/family/-", "value": entry}]})
        assert [e["path"] for e in assert_problem(refused, 422)["errors"]] == [f"{FAMILY}/1/{field}"]
    assert finance.get(path).json()["revision"] == 1  # nothing changed
    unknown_tier = ops.post(f"{path}/patch", {"operations": [
        {"op": "add", "path": "/equity/comparisons/family/-", "value": {
            "dimension": "tier", "measures": ["discount_to_cap"], "segments": ["diamond"]}}]})
    assert unknown_tier.status_code == 200, unknown_tier.text  # a well-formed document; its tier is checked below
    validation = finance.get(f"{path}/validation").json()
    assert validation["valid"] is False
    assert [p["path"] for p in validation["problems"]] == [f"{FAMILY}/1/segments/0"]
    problem = assert_problem(ops.post(f"{path}/propose", {}), 422)
    assert [e["path"] for e in problem["errors"]] == [f"{FAMILY}/1/segments/0"]
    assert finance.get(path).json()["status"] == "draft"
