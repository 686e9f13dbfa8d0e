"""#18: "equity comparisons ... should use the tier the partner held when the decision was made, not today's tier".

Issue 18 asks the monitor to "control for what the policy itself distinguishes (a gap the tier caps explain is not
an inequity)": the policy treats a quote by the tier its partner holds at that moment (PA-6.2's caps are per tier),
and the decision records it (`inputs.partner.tier`). A partner promoted since was under its old tier's rules."""

from datetime import datetime, timedelta

import numpy as np

from memory_store import memory_runtime
from revgov.domain import cases as case_rules
from revgov.domain.access import Principal, Role
from revgov.domain.equity import Observation, compare
from revgov.ports import Changes, Put
from revgov.services import case_repository, equity
from revgov.services.decision_repository import DECISIONS
from revgov.services.decisions import tier_at_decision
from revgov.services.partner_repository import PARTNERS

NOW = "2026-11-20T12:00:00.000Z"


def test_a_gap_the_tier_held_at_decision_time_explains_is_not_a_finding():
    """MSPs quoted as silver partners (exceptions 20 per 100 quotes, as silver's stricter rules give) and were all
    promoted to gold since; resellers were gold throughout (5 per 100). Against today's tier every partner is gold
    and the msps look treated worse; against the tier of each decision the gap is the tiers', not the msps'."""
    rng = np.random.default_rng(18)
    segments, by_decision_tier, by_tier_now = {}, [], []
    for i in range(60):
        pid, msp = f"ptr_{i:04d}", i % 2 == 1
        segments[pid] = {"tier": "gold", "partner_type": "msp" if msp else "reseller", "region": "US",
                         "size_band": "medium"}
        quotes, rate, then = 40, (0.20 if msp else 0.05), ("silver" if msp else "gold")
        events = float(rng.binomial(quotes, rate))
        by_decision_tier.append(Observation("exception_rate", pid, events, pid, (), float(quotes), tier=then))
        by_tier_now.append(Observation("exception_rate", pid, events, pid, (), float(quotes)))
    wrong = compare(by_tier_now, segments)
    assert [(f.measure, f.dimension, f.disadvantaged) for f in wrong.findings] == [
        ("exception_rate", "partner_type", "msp")], "the history must show the gap against today's tier"
    assert compare(by_decision_tier, segments).findings == []


def _decision(decision_id: str, partner_id: str, tier: str, at: str, share: str, cap: str) -> dict:
    return {
        "decision_id": decision_id, "kind": "pricing", "partner_id": partner_id, "created_at": at,
        "subject": {"kind": "quote", "id": decision_id}, "policy_version": "v1", "outcome": "allow",
        "status": "final", "approvals": [], "history": [], "decided_by": "sales:key_x",
        "inputs": {"partner": {"partner_id": partner_id, "status": "active", "tier": tier}},
        "result": {"outcome": "allow", "lines": [{"combined_discount_percent": share, "tier_cap_percent": cap}],
                   "totals": {"net_total": "100.00", "list_total": "100.00"}},
    }


def test_the_monitor_reads_each_outcome_with_the_tier_its_decision_recorded():
    rt, _ = memory_runtime(NOW)
    tenant = "northwind"
    now = datetime.fromisoformat(NOW.replace("Z", "+00:00"))

    def ago(days: float) -> str:
        return (now - timedelta(days=days)).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    promoted, steady = "ptr_01JX00000000000000000PROMO", "ptr_01JX0000000000000000STEADY"
    puts = [Put(PARTNERS, p, {"partner_id": p, "tier": "gold", "partner_type": "reseller", "status": "active",
                              "terms": {"territory": ["US"]}}) for p in (promoted, steady)]
    # the promoted partner quoted twice as silver (cap 10%), then once as gold (cap 15%); the other as gold
    decisions = [
        _decision("dec_01JX000000000000000000000A", promoted, "silver", ago(40), "8.00", "10.00"),
        _decision("dec_01JX000000000000000000000B", promoted, "silver", ago(30), "5.00", "10.00"),
        _decision("dec_01JX000000000000000000000C", promoted, "gold", ago(10), "15.00", "15.00"),
        _decision("dec_01JX000000000000000000000D", steady, "gold", ago(20), "12.00", "15.00"),
    ]
    puts += [Put(DECISIONS, d["decision_id"], d) for d in decisions]
    policy = rt.store.get(tenant, "TENANT", "PROFILE").data["config"]["policy"]
    ops = Principal(tenant, Role.CHANNEL_OPS, "key_01JX0000000000000000EQUOPS")
    route = case_rules.route_for(policy, "discount_above_tier_cap")
    approval = case_rules.new_case(
        case_id="apr_01JX000000000000000000000A", kind="approval", route=route, subject_kind="decision",
        subject_id="dec_01JX000000000000000000000B", requested_by="sales:key_x", opened_at=ago(30), risk_score=50,
        partner_id=promoted, reasons=[{"rule_id": "PRC-TIER-CAPS", "clause": "PA-6.2", "message": "above cap"}],
    )
    puts.append(case_repository.put(case_rules.decide(approval, ops, "approved", "ok", ago(29)), version=None))
    exception = case_rules.new_case(
        case_id="exc_01JX000000000000000000000A", kind="exception", route=case_rules.route_for(policy, "other"),
        subject_kind="partner", subject_id=promoted, requested_by="system:test", opened_at=ago(25), risk_score=10,
        partner_id=promoted, reasons=[{"rule_id": "ROUTE-TRIAGE", "clause": "SOP-4.1", "message": "triage"}],
    )
    puts.append(case_repository.put(exception, version=None))
    rt.store.commit(tenant, Changes(puts=puts))

    observations, segments, _ = equity.gather(rt, tenant, policy, ago(90))
    assert segments[promoted]["tier"] == "gold"  # today's tier
    discounts = {o.evidence_id: o.tier for o in observations if o.measure == "discount_to_cap"}
    assert discounts == {"dec_01JX000000000000000000000A": "silver", "dec_01JX000000000000000000000B": "silver",
                         "dec_01JX000000000000000000000C": "gold", "dec_01JX000000000000000000000D": "gold"}
    (decided,) = [o for o in observations if o.measure == "approval_rate"]
    assert decided.tier == "silver"  # the approval of a quote decided as silver
    rates = {(o.partner_id, o.tier): (o.value, o.exposure) for o in observations if o.measure == "exception_rate"}
    # two quotes as silver with the exception opened then (25 days ago, after the silver quote of 30 days ago)
    assert rates == {(promoted, "silver"): (1.0, 2.0), (promoted, "gold"): (0.0, 1.0), (steady, "gold"): (0.0, 1.0)}


def test_a_decision_without_a_recorded_tier_falls_back_to_the_tier_now():
    assert tier_at_decision({"inputs": {"partner": {"tier": "silver"}}}) == "silver"
    assert tier_at_decision({"decision_id": "dec_x", "body": {"parts": 2}}) is None  # inputs kept in parts
    assert tier_at_decision({"inputs": {"partner": {"tier": None}}}) is None


def test_kpis_by_tier_count_a_quote_and_its_approval_in_the_tier_held_when_it_was_decided():
    """docs/kpis.md: the override and approval rates by tier count "quotes checked" and "pricing approvals decided";
    a quote decided while its partner was silver stays silver's after a promotion to gold."""
    from revgov.services import analytics

    rt, _ = memory_runtime(NOW)
    tenant, partner = "northwind", "ptr_01JX00000000000000000PROMO"
    decision = _decision("dec_01JX000000000000000000000A", partner, "silver", "2026-11-10T10:00:00.000Z", "8.00",
                         "10.00")
    rt.store.commit(tenant, Changes(puts=[
        Put(PARTNERS, partner, {"partner_id": partner, "tier": "gold", "status": "active"}),  # promoted since
        Put(DECISIONS, decision["decision_id"], decision),
    ]))
    base = {"tenant_id": tenant, "occurred_at": "2026-11-10T10:00:00.000Z", "partner_id": partner}
    analytics.record_fact(rt, {"source": "revgov.pricing", "detail-type": "quote.checked", "detail": {
        **base, "event_id": "evt_q", "decision_id": decision["decision_id"], "outcome": "approval_required"}})
    rt.store.commit(tenant, Changes(puts=[case_repository.put(case_rules.new_case(
        case_id="apr_01JX000000000000000000000A", kind="approval",
        route=case_rules.route_for(rt.store.get(tenant, "TENANT", "PROFILE").data["config"]["policy"],
                                   "discount_above_tier_cap"),
        subject_kind="decision", subject_id=decision["decision_id"], requested_by="sales:key_x",
        opened_at="2026-11-10T10:00:00.000Z", risk_score=50, partner_id=partner,
        reasons=[{"rule_id": "PRC-TIER-CAPS", "clause": "PA-6.2", "message": "above cap"}]), version=None)]))
    analytics.record_fact(rt, {"source": "revgov.approvals", "detail-type": "approval.decided", "detail": {
        **base, "event_id": "evt_a", "case_id": "apr_01JX000000000000000000000A", "outcome": "approved",
        "subject": {"kind": "decision", "id": decision["decision_id"]}}})
    silver = rt.store.get(tenant, analytics.ROLLUPS, "2026-11#tier:silver")
    assert silver is not None and silver.data["quotes"] == 1 and silver.data["approvals_decided"] == 1, silver
    assert rt.store.get(tenant, analytics.ROLLUPS, "2026-11#tier:gold") is None
