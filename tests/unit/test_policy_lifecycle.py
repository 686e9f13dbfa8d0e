"""Issue #19 on the in-memory engine with an injected clock (no test depends on today's date): the catalog's effective
dates, policy drafts, four-eyes approval, scheduled activation, rollback, replay across versions, what-if.

Clauses the expectations come from (tenants/northwind/contracts/):
- PA-6.1: "Products are quoted from the Distributor's price list in force on the quote date. The Distributor may
  change the price list with 30 days' notice in the Partner Portal; price increases do not apply to quotes issued and
  accepted before the effective date."
- SOP-4.3: "A requester can never approve their own request. The person who created or last changed a quote,
  discount request, credit note, territory exception or rebate adjustment may not approve it [...] Where a request
  needs two approvals [...] they must be given by two different people, neither of whom is the requester. [...] Any
  attempt to self-approve is rejected and recorded in the audit log."
- SOP-7.3: "Every change creates a new policy version; decisions record the version under which they were made and
  are never recalculated under a later version".
- PA-6.3 (the rule the drafts below change): "The Net Price of each quote line must preserve a gross margin of at
  least 12% over Line Cost".
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from clause_amendment import amend_figure, move_margin_floor
from memory_store import memory_runtime
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Conflict, Forbidden, NotFound, RuleViolation
from revgov.services import audit, catalog, decisions, policy_drafts, policy_whatif, policy_whatif_rebates, pricing
from revgov.services.tenants import load_tenant
from support import ROOT, for_this_thread

PLATINUM, REGISTERED = "ptr_01JBNWPARTNER0000000000001", "ptr_01JBNWPARTNER0000000000002"


def _staff(role: str, key: str | None = None) -> Principal:
    return Principal("northwind", Role(role), key or f"key_{role.upper():0<26}"[:30])


ADMIN, FINANCE, LEGAL, CHANNEL_OPS = (_staff(r) for r in ("admin", "finance", "legal", "channel_ops"))
FINANCE_2 = Principal("northwind", Role.FINANCE, "key_FINANCE2000000000000000000")
# SOP-7.3: policy changes "take effect only on the first day of a Billing Month" (tests/unit/test_policy_calendar.py)
FIRST_OF_DECEMBER = {"effective_at": "2026-12-01T00:00:00.000Z"}


@pytest.fixture
def world() -> Any:
    rt, clock = memory_runtime("2026-11-10T10:00:00.000Z")
    from revgov.ports import Changes, Put

    partners = json.loads((ROOT / "tests" / "scenarios" / "billing" / "erp-samples.json").read_text())["partners"]
    rt.store.commit("northwind", Changes(puts=[Put("PARTNER", p["partner_id"], p) for p in partners]))
    return rt, clock


def _quote(rt: Any, discount: str, *, partner: str = PLATINUM, sku: str = "NW-SW-24P") -> dict[str, Any]:
    who = Principal("northwind", Role.SALES, "key_SALES00000000000000000000")
    return pricing.check(rt, who, {"partner_id": partner, "customer": {"id": "CUST-1", "name": "Lakeside"},
                                   "lines": [{"line_id": "1", "sku": sku, "quantity": 2,
                                              "discount_percent": discount}]})


def _row(sku: str, price: str, cost: str, **dates: str) -> dict[str, str]:
    return {"sku": sku, "name": sku, "family": "networking", "billing": "shipment", "list_price": price,
            "unit_cost": cost, "currency": "USD", **dates}


# --- the catalog's effective dates ----------------------------------------------------------------------------------
def test_a_price_change_imported_for_next_month_leaves_todays_quotes_untouched_and_applies_from_its_effective_date(
        world):
    rt, clock = world
    today = _quote(rt, "0")
    assert today["lines"][0]["list_price"] == "1250.00"
    summary = catalog.import_catalog(rt, ADMIN, [  # PA-6.1: "with 30 days' notice": 2026-11-10 + 30 days
        _row("NW-SW-24P", "1250.00", "900.00", effective_to="2026-12-10"),
        _row("NW-SW-24P", "1300.00", "910.00", effective_from="2026-12-10"),
    ], source="2026-12.csv")
    assert _quote(rt, "0")["lines"][0]["list_price"] == "1250.00"  # PA-6.1: in force on the quote date
    assert catalog.price_on(rt, "northwind", load_tenant(rt, "northwind")[0].policy, "NW-SW-24P",
                            "2026-12-09")["list_price"] == "1250.00"
    clock.set("2026-12-10T00:00:00.000Z")
    later = _quote(rt, "0")
    assert later["lines"][0]["list_price"] == "1300.00"  # from its effective date
    # a quote dated before the change replays identically afterwards, from the items it recorded
    replayed = decisions.replay(rt, FINANCE, today["decision_id"])
    assert replayed["identical"] is True
    stored, _ = decisions.load(rt, FINANCE, today["decision_id"])
    assert stored["inputs"]["catalog"]["items"]["NW-SW-24P"]["list_price"] == "1250.00"
    published = [e for e in rt.publisher.published if e["detail_type"] == "catalog.imported"]
    assert published[0]["detail"]["version"] == summary["version"] and published[0]["detail"]["clause"] == "PA-6.1"
    assert catalog.catalog_versions(rt, "northwind")["items"][1]["source"] == "2026-12.csv"
    assert audit.verify_chain(rt, "northwind")["valid"] is True


# --- drafts, four eyes, activation ----------------------------------------------------------------------------------
def _margin_floor_draft(rt: Any, percent: str = "16", by: Principal = CHANNEL_OPS) -> dict[str, Any]:
    draft = policy_drafts.create_draft(rt, by, {"reason": "raise the margin floor"})
    return move_margin_floor(rt, by, draft["draft_id"], "12", percent)  # PA-6.3 amended with it: the clause wins


def test_the_diff_names_each_changed_rule_with_its_clause(world):
    rt, _ = world
    draft = _margin_floor_draft(rt)
    diff = policy_drafts.diff_draft(rt, FINANCE, draft["draft_id"])
    # both rules citing PA-6.3 ("below 12%") move with it; the draft carries the clause amended (clause_amendment.py)
    assert diff["changed"] == [{"rule_id": "PRC-MARGIN-FLOOR", "clause": "PA-6.3",
                                "path": "/policy/pricing/margin_floor",
                                "changes": [{"path": "/percent", "from": "12", "to": "16"}]},
                               {"rule_id": "RBT-MARGIN-FLOOR", "clause": "PA-6.3",
                                "path": "/policy/rebates/margin_floor",
                                "changes": [{"path": "/percent", "from": "12", "to": "16"}]}]
    assert diff["amendment"]["clauses"] == ["PA-6.3"]
    assert diff["added"] == diff["removed"] == diff["other"] == []


def test_an_unapproved_draft_never_takes_effect(world):
    rt, clock = world
    before = load_tenant(rt, "northwind")[0].policy_version
    draft = _margin_floor_draft(rt)
    policy_drafts.propose(rt, CHANNEL_OPS, draft["draft_id"], FIRST_OF_DECEMBER)
    policy_drafts.approve(rt, FINANCE, draft["draft_id"], {})  # legal has not approved
    with pytest.raises(Conflict, match="only an approved draft is activated"):
        policy_drafts.activate(rt, ADMIN, draft["draft_id"])
    clock.advance(days=40)
    assert policy_drafts.activate_due(rt, "northwind") == []
    assert load_tenant(rt, "northwind")[0].policy_version == before
    assert _quote(rt, "15")["policy_version"] == before
    assert _quote(rt, "15")["outcome"] == "allow"  # 15% off 1250 over 900 cost: 15.3% margin, above 12%


def test_segregation_of_duties_refuses_self_approval_and_records_the_attempt(world):
    rt, _ = world
    author = Principal("northwind", Role.FINANCE, "key_AUTHOR00000000000000000000")
    draft = _margin_floor_draft(rt, by=author)
    policy_drafts.propose(rt, author, draft["draft_id"], FIRST_OF_DECEMBER)
    with pytest.raises(Forbidden, match="segregation of duties"):
        policy_drafts.approve(rt, author, draft["draft_id"], {})
    refused = [r for r in rt.store.iter_audit_records("northwind") if r["action"] == "policy.approval_refused"]
    assert refused[-1]["inputs"]["refusal"] == "self_approval" and refused[-1]["clauses"] == ["SOP-4.3"]
    with pytest.raises(Forbidden, match="approved by finance, legal"):
        policy_drafts.approve(rt, CHANNEL_OPS, draft["draft_id"], {})  # not a role the policy names
    policy_drafts.approve(rt, FINANCE_2, draft["draft_id"], {})
    with pytest.raises(Conflict, match="already given"):
        policy_drafts.approve(rt, Principal("northwind", Role.FINANCE, "key_FINANCE3000000000000000000"),
                              draft["draft_id"], {})
    assert policy_drafts.get_draft(rt, FINANCE, draft["draft_id"])["status"] == "proposed"


def test_an_editor_of_the_draft_may_not_approve_it(world):
    rt, _ = world
    draft = _margin_floor_draft(rt, by=CHANNEL_OPS)
    policy_drafts.patch_policy(rt, LEGAL, draft["draft_id"], {"operations": [  # a change of no figure: a reason
        {"op": "replace", "path": "/pricing/margin_floor/percent", "value": "16"}]})
    policy_drafts.propose(rt, CHANNEL_OPS, draft["draft_id"], FIRST_OF_DECEMBER)
    with pytest.raises(Forbidden, match="segregation of duties"):  # SOP-4.3: "created or last changed"
        policy_drafts.approve(rt, LEGAL, draft["draft_id"], {})


def test_approved_change_takes_effect_at_its_time_and_decisions_replay_under_their_own_version(world):
    rt, clock = world
    old_version = load_tenant(rt, "northwind")[0].policy_version
    first = _quote(rt, "15")
    assert first["outcome"] == "allow" and first["policy_version"] == old_version
    draft = _margin_floor_draft(rt)
    policy_drafts.propose(rt, CHANNEL_OPS, draft["draft_id"], {"effective_at": "2026-12-01T00:00:00.000Z"})
    policy_drafts.approve(rt, FINANCE, draft["draft_id"], {"note": "ok"})
    approved = policy_drafts.approve(rt, LEGAL, draft["draft_id"], {})
    assert approved["status"] == "approved"  # every role approved, but not yet due
    clock.set("2026-11-30T23:59:00.000Z")
    assert policy_drafts.activate_due(rt, "northwind") == []
    assert _quote(rt, "15")["outcome"] == "allow"
    clock.set("2026-12-01T00:00:00.000Z")
    assert policy_drafts.activate_due(rt, "northwind") == [draft["draft_id"]]
    new_version = load_tenant(rt, "northwind")[0].policy_version
    assert new_version == draft["policy_version"] != old_version
    second = _quote(rt, "15")
    assert second["outcome"] == "approval_required" and second["policy_version"] == new_version
    assert "PRC-MARGIN-FLOOR" in {r["rule_id"] for r in second["reasons"]}
    for decision in (first, second):  # SOP-7.3: never recalculated under a later version
        assert decisions.replay(rt, FINANCE, decision["decision_id"])["identical"] is True
    kinds = [e["detail_type"] for e in rt.publisher.published if e["source"] == "revgov.policy"]
    assert kinds == ["policy.proposed", "policy.approved", "policy.approved", "policy.activated"]
    trail = [r["action"] for r in rt.store.iter_audit_records("northwind") if r["subject"] == draft["draft_id"]]
    assert trail == ["policy.draft_created", "policy.draft_edited", "policy.draft_edited",  # the patch, the amendment
                     "policy.proposed", "policy.approved", "policy.approved", "policy.activated"]
    assert audit.verify_chain(rt, "northwind")["valid"] is True

    # rollback: the earlier version activated again as a new activation, through the same approvals
    back = policy_drafts.create_draft(rt, CHANNEL_OPS, {"from_version": old_version, "reason": "roll back"})
    assert policy_drafts.diff_draft(rt, FINANCE, back["draft_id"])["changed"][0]["changes"] == [
        {"path": "/percent", "from": "16", "to": "12"}]
    amend_figure(rt, "northwind", back["draft_id"], "PA-6.3", "16", "12")  # PA-6.3 says 16% since: back to 12%
    policy_drafts.propose(rt, CHANNEL_OPS, back["draft_id"], {})  # at once: it is the first day of a Billing Month
    policy_drafts.approve(rt, FINANCE, back["draft_id"], {})
    assert policy_drafts.approve(rt, LEGAL, back["draft_id"], {})["status"] == "active"  # at once
    assert load_tenant(rt, "northwind")[0].policy_version == old_version
    history = policy_drafts.history(rt, FINANCE, limit=50, cursor=None)["items"]
    assert [(h["previous_version"], h["policy_version"]) for h in history] == [
        (old_version, new_version), (new_version, old_version)]
    assert decisions.replay(rt, FINANCE, second["decision_id"])["identical"] is True


def test_bad_proposals_are_refused_and_change_nothing(world):
    rt, _ = world
    draft = policy_drafts.create_draft(rt, CHANNEL_OPS, {})
    with pytest.raises(RuleViolation, match="nothing to propose"):
        policy_drafts.propose(rt, CHANNEL_OPS, draft["draft_id"], {})
    with pytest.raises(RuleViolation, match="operation 1"):  # RFC 6902 §5: the whole patch fails
        policy_drafts.patch_policy(rt, CHANNEL_OPS, draft["draft_id"], {"operations": [
            {"op": "replace", "path": "/pricing/margin_floor/percent", "value": "14"},
            {"op": "remove", "path": "/pricing/no_such_rule"}]})
    assert policy_drafts.get_draft(rt, FINANCE, draft["draft_id"])["revision"] == 1
    cited = policy_drafts.patch_policy(rt, CHANNEL_OPS, draft["draft_id"], {"operations": [
        {"op": "replace", "path": "/pricing/margin_floor/clause", "value": "PA-99.9"}]})
    checked = policy_drafts.validate_draft(rt, FINANCE, draft["draft_id"])
    assert checked["valid"] is False
    assert checked["problems"] == [{"path": "/policy/pricing/margin_floor/clause",
                                    "message": "clause PA-99.9 is not in the tenant's contracts"}]
    with pytest.raises(RuleViolation) as refused:
        policy_drafts.propose(rt, CHANNEL_OPS, draft["draft_id"], {})
    assert [e.path for e in refused.value.errors] == ["/policy/pricing/margin_floor/clause"]
    policy_drafts.patch_policy(rt, CHANNEL_OPS, draft["draft_id"], {"operations": [
        {"op": "replace", "path": "/pricing/margin_floor/clause", "value": "PA-6.3"},
        {"op": "replace", "path": "/pricing/margin_floor/percent", "value": "13"}]})
    with pytest.raises(RuleViolation, match="in the past"):
        policy_drafts.propose(rt, CHANNEL_OPS, draft["draft_id"], {"effective_at": "2026-11-10T09:59:59.000Z"})
    with pytest.raises(RuleViolation, match="UTC"):
        policy_drafts.propose(rt, CHANNEL_OPS, draft["draft_id"], {"effective_at": "2026-12-01T00:00:00"})
    with pytest.raises(RuleViolation, match=r"schemas/tenant\.schema\.json"):
        policy_drafts.patch_policy(rt, CHANNEL_OPS, draft["draft_id"], {"operations": [
            {"op": "remove", "path": "/exception_routing"}]})
    with pytest.raises(Conflict, match="revision"):
        policy_drafts.patch_policy(rt, CHANNEL_OPS, draft["draft_id"], {"expected_revision": 1, "operations": [
            {"op": "replace", "path": "/pricing/margin_floor/percent", "value": "14"}]})
    assert cited["revision"] + 1 == policy_drafts.get_draft(rt, FINANCE, draft["draft_id"])["revision"]
    assert policy_drafts.get_draft(rt, FINANCE, draft["draft_id"])["status"] == "draft"
    with pytest.raises(Conflict, match="only a proposed draft"):
        policy_drafts.approve(rt, FINANCE, draft["draft_id"], {})
    with pytest.raises(NotFound):
        policy_drafts.create_draft(rt, CHANNEL_OPS, {"from_version": "pv_00000000000000000000"})


def test_a_draft_made_before_another_change_took_effect_cannot_be_proposed_over_it(world):
    rt, clock = world
    clock.set("2026-12-01T09:00:00.000Z")  # SOP-7.3: at once only on the first day of a Billing Month
    stale = _margin_floor_draft(rt, "14")
    fresh = _margin_floor_draft(rt, "16")
    policy_drafts.propose(rt, CHANNEL_OPS, fresh["draft_id"], {})
    policy_drafts.approve(rt, FINANCE, fresh["draft_id"], {})
    policy_drafts.approve(rt, LEGAL, fresh["draft_id"], {})
    with pytest.raises(Conflict, match="active policy changed"):
        policy_drafts.propose(rt, CHANNEL_OPS, stale["draft_id"], {})


# --- what-if ---------------------------------------------------------------------------------------------------------
def test_whatif_figures_match_replaying_each_decision_one_by_one(world):
    rt, clock = world
    made = []
    for n in range(30):
        partner = PLATINUM if n % 3 else REGISTERED
        discount = ("0", "4", "10", "15", "18", "21")[n % 6]
        made.append(_quote(rt, discount, partner=partner)["decision_id"])
        clock.advance(hours=5)
    draft = _margin_floor_draft(rt, "16")
    report = policy_whatif.whatif(rt, FINANCE, draft["draft_id"], {"from": "2026-11-10", "to": "2026-11-30"})
    rows = [policy_whatif.whatif_decision(rt, FINANCE, draft["draft_id"], d) for d in made]
    assert report["decisions"] == len(made) == 30
    assert report["outcome_changed"] == sum(r["before"]["outcome"] != r["after"]["outcome"] for r in rows) > 0
    for queue, counts in report["approvals_by_queue"].items():
        assert counts["before"] == sum(queue in r["before"]["queues"] for r in rows)
        assert counts["after"] == sum(queue in r["after"]["queues"] for r in rows)
    from decimal import Decimal

    assert Decimal(report["margin"]["after"]) == sum(Decimal(r["after"]["margin"]) for r in rows)
    for change in report["outcome_changes"]:
        for example in change["examples"]:
            row = next(r for r in rows if r["decision_id"] == example)
            assert (row["before"]["outcome"], row["after"]["outcome"]) == (change["from"], change["to"])
    assert set(report["by_segment"]) == {"platinum", "registered"}
    assert sum(s["decisions"] for s in report["by_segment"].values()) == 30
    # the 15% quotes (15.3% margin) allowed before need finance under a 16% floor
    assert {"from": "allow", "to": "approval_required"} in [
        {k: c[k] for k in ("from", "to")} for c in report["outcome_changes"]]
    assert report["approvals_by_queue"]["finance"]["after"] > report["approvals_by_queue"]["finance"]["before"]
    empty = policy_whatif.whatif(rt, FINANCE, draft["draft_id"], {"from": "2026-10-01", "to": "2026-10-31"})
    assert empty["decisions"] == 0
    with pytest.raises(RuleViolation, match="ends before"):
        policy_whatif.whatif(rt, FINANCE, draft["draft_id"], {"from": "2026-11-30", "to": "2026-11-01"})


def test_two_roles_approving_in_the_same_moment_both_count(world, monkeypatch):
    """The second approval's write loses to the first (the draft changed meanwhile): it is made again on the draft
    as it now is, so both approvals count and the change takes effect."""
    rt, clock = world
    clock.set("2026-12-01T09:00:00.000Z")  # SOP-7.3: at once only on the first day of a Billing Month
    draft = _margin_floor_draft(rt)
    policy_drafts.propose(rt, CHANNEL_OPS, draft["draft_id"], {})
    stale = policy_drafts.load(rt, "northwind", draft["draft_id"])
    original = policy_drafts.load
    calls = {"n": 0}

    def first_read_is_stale(rt_: Any, tenant_id: str, draft_id: str) -> Any:
        calls["n"] += 1
        return stale if calls["n"] == 1 else original(rt_, tenant_id, draft_id)

    policy_drafts.approve(rt, FINANCE, draft["draft_id"], {})
    # approve reads the draft there; the stack's threads read approvals through the same module: only this thread's
    for_this_thread(monkeypatch, policy_drafts.approvals, "load", first_read_is_stale)
    assert policy_drafts.approve(rt, LEGAL, draft["draft_id"], {})["status"] == "active"
    assert calls["n"] == 2


def test_rebate_whatif_rates_the_period_under_the_draft_beside_the_policy_in_force(world):
    """PA-7.2: "the rate of the highest threshold reached applies to all Qualifying Revenue of the Quarter [...]
    USD 100,000.00 to 249,999.99 | 1.0%". 125,000.00 of a silver partner's Q2 revenue earns 1,250.00 under the
    policy in force; a draft raising that tier to 1.5% would pay 1,875.00. Nothing is settled."""
    rt, _ = world
    from revgov.ports import Changes, Put
    from revgov.services import rebates

    partner_id = rt.ids.new("ptr")
    cert = {"cert_id": "cert-network-core", "earned_at": "2025-01-01", "expires_at": "2027-12-31"}
    rt.store.commit("northwind", Changes(puts=[Put("PARTNER", partner_id, {
        "partner_id": partner_id, "partner_type": "reseller", "status": "active", "tier": "silver",
        "certifications": {"cert-network-core": cert}, "activated_at": "2025-01-10T00:00:00Z", "history": []})]))
    rebates.project(rt, "northwind", [{
        "line_id": f"inv_{partner_id[4:]}.1", "invoice_id": f"inv_{partner_id[4:]}", "partner_id": partner_id,
        "period": "2026-05", "service_period": {"start": "2026-05-04", "end": "2026-05-04"}, "kind": "shipment",
        "family": "networking", "sku": "NW-SW-24P", "quantity": "100", "net_amount": "125000.00",
        "cost": "90000.00", "currency": "USD", "event_id": rt.ids.new("evt")}])
    draft = policy_drafts.create_draft(rt, CHANNEL_OPS, {})
    policy_drafts.patch_policy(rt, CHANNEL_OPS, draft["draft_id"], {"operations": [
        {"op": "test", "path": "/rebates/programs/0/tiers/1/id", "value": "RBT-VOLUME-T1"},
        {"op": "replace", "path": "/rebates/programs/0/tiers/1/percent", "value": "1.5"}]})
    before = audit.verify_chain(rt, "northwind")["records"]
    report = policy_whatif_rebates.whatif_rebates(rt, FINANCE, draft["draft_id"], {"period": "2026-Q2"})
    volume = next(r for r in report["changed"] if r["program_id"] == "RBT-VOLUME")
    assert (volume["partner_id"], volume["segment"]) == (partner_id, "silver")
    assert volume["before"]["payable"] == "1250.00" and volume["after"]["payable"] == "1875.00"
    assert [volume[k]["tier_reached"]["rule_id"] for k in ("before", "after")] == ["RBT-VOLUME-T1"] * 2
    assert [volume[k]["tier_reached"]["percent"] for k in ("before", "after")] == ["1.0", "1.5"]
    assert report["by_segment"]["silver"]["change"] == report["payable"]["change"]
    assert audit.verify_chain(rt, "northwind")["records"] == before  # nothing written
    with pytest.raises(RuleViolation, match="is not a period"):
        policy_whatif_rebates.whatif_rebates(rt, FINANCE, draft["draft_id"], {"period": "2026-Q5"})


def test_the_policy_and_catalog_events_match_their_schemas_and_samples(world):
    """Each event type emitted has a sample under events/ and matches schemas/events/ (what n8n flows rely on)."""
    from revgov import schemas

    rt, clock = world
    clock.set("2026-12-01T09:00:00.000Z")  # SOP-7.3: at once only on the first day of a Billing Month
    catalog.import_catalog(rt, ADMIN, [_row("NW-SW-24P", "1250.00", "900.00")], source="one.csv")
    for outcome in ("approve", "reject"):
        draft = policy_drafts.create_draft(rt, CHANNEL_OPS, {})
        was, now = ("12", "17") if outcome == "approve" else ("17", "9")  # the approved one took effect at once
        draft = move_margin_floor(rt, CHANNEL_OPS, draft["draft_id"], was, now)
        policy_drafts.propose(rt, CHANNEL_OPS, draft["draft_id"], {})
        if outcome == "approve":
            policy_drafts.approve(rt, FINANCE, draft["draft_id"], {})
            policy_drafts.approve(rt, LEGAL, draft["draft_id"], {})
        else:
            policy_drafts.reject(rt, LEGAL, draft["draft_id"], {"note": "not this quarter"})
    for source in ("revgov.policy", "revgov.catalog"):
        emitted = [e for e in rt.publisher.published if e["source"] == source]
        samples = {p.stem: json.loads(p.read_text()) for p in (ROOT / "events" / source).glob("*.json")}
        assert {e["detail_type"] for e in emitted} == set(samples)
        name = f"events/{source}.schema.json"
        for event in emitted:
            envelope = {"source": event["source"], "detail-type": event["detail_type"], "detail": event["detail"]}
            assert schemas.problems(name, envelope) == [], envelope
        for sample in samples.values():
            assert schemas.problems(name, sample) == [], sample


def test_a_windows_id_prefixes_cover_every_moment_of_it_and_not_the_rest_of_history():
    """Decision ids are ULIDs: their first ten characters are the millisecond they were made. The what-if reads only
    the ids under the window's prefixes, so these must cover every moment of the window."""
    import os
    from datetime import UTC, datetime, timedelta

    from revgov.domain.ids import typed_id
    from revgov.domain.policy_whatif import id_prefixes

    prefixes = id_prefixes("dec", "2026-07-01", "2026-09-30")
    moment = datetime(2026, 7, 1, tzinfo=UTC)
    while moment < datetime(2026, 10, 1, tzinfo=UTC):
        made = typed_id("dec", int(moment.timestamp() * 1000), os.urandom(10))
        assert any(made.startswith(p) for p in prefixes), moment
        moment += timedelta(minutes=37)
    long_before = typed_id("dec", int(datetime(2026, 4, 1, tzinfo=UTC).timestamp() * 1000), os.urandom(10))
    assert not any(long_before.startswith(p) for p in prefixes)
