"""Auditor 2: deal registration against its clauses. Every date is explicit (a fixed clock), none depends on today.

PA-5.3: "An approved registration gives the Partner exclusivity for the registered Customer and Product Family for 90
days from the approval date. [...] A registration expires at the end of its exclusivity period unless an order has
been accepted."
PA-5.4: "Only one approved registration may exist for a given Customer and Product Family at any time across all
Partners. [...] Affiliates of a Customer are treated as the same Customer where they share the same ultimate parent
and purchase centrally."
PA-5.5: "A registration that conflicts with an approved, unexpired registration is rejected with reference to this
clause".
PA-5.6: "A Partner holding an approved registration receives an additional registration discount of 5 percentage
points on quote lines for the registered Customer and Product Family during the exclusivity period."
PA-13.3: "On termination: [...] deal registrations end".
PA-11.1 (a partner reads its own data only): a partner's `GET /v1/deals` pages through its own pointers.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from memory_store import memory_runtime
from revgov import schemas
from revgov.domain import deals as core
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Conflict, MalformedRequest, RuleViolation
from revgov.domain.partners import tiers_by_rank
from revgov.local.demo_partners import demo_application, onboard
from revgov.ports import Changes, Delete, Put
from revgov.services import cases, deal_holds
from revgov.services import deals as deal_service
from revgov.services.deals import backfill, repository
from revgov.services.deals.live import registration_for_quote
from revgov.tenant_files import load_tenant_file
from support import ROOT

T0 = "2026-11-02T09:00:00.000Z"
SALES = Principal("northwind", Role.SALES, "key_01JX00000000000000000SALES")
OPS = Principal("northwind", Role.CHANNEL_OPS, "key_01JX000000000000000000OPS0")


def _policy(rt: Any) -> dict[str, Any]:
    return dict(rt.store.get("northwind", "TENANT", "PROFILE").data["config"]["policy"])


def _partner(rt: Any, label: str) -> str:
    silver = tiers_by_rank(_policy(rt))[1]
    application = demo_application(f"Aud2 {label} {uuid.uuid4().hex[:6]}", "reseller", silver)
    partner_id = str(onboard(rt, _policy(rt), application, "active", sales=SALES, approver=OPS)["partner_id"])
    _certification(rt, partner_id, "2027-12-31")
    return partner_id


def _certification(rt: Any, partner_id: str, expires_at: str) -> None:
    stored = rt.store.get("northwind", "PARTNER", partner_id)
    held = dict(stored.data.get("certifications") or {})
    held["cert-network-core"] = {**held.get("cert-network-core", {"earned_at": "2025-06-01"}), "expires_at": expires_at}
    rt.store.commit("northwind", Changes(puts=[Put("PARTNER", partner_id, {**stored.data, "certifications": held},
                                                   expected_version=stored.version)]))


def _terminate(rt: Any, partner_id: str) -> None:
    stored = rt.store.get("northwind", "PARTNER", partner_id)
    rt.store.commit("northwind", Changes(puts=[Put("PARTNER", partner_id, {**stored.data, "status": "terminated"},
                                                   expected_version=stored.version)]))


def _register(rt: Any, partner_id: str, customer: dict[str, Any], close: str = "2027-01-15") -> dict[str, Any]:
    body = {
        "partner_id": partner_id,
        "customer": {"name": "Harbor Logistics", "contact": "Dana Ortiz", **customer},
        "family": "networking",
        "estimated_value": "84000.00",
        "expected_close": close,
    }
    return deal_service.register(rt, SALES, body)


def _approve(rt: Any, deal: dict[str, Any]) -> dict[str, Any]:
    decided = cases.decide_case(rt, OPS, "approval", deal["approval_id"], "approved", None)
    assert decided["status"] == "approved"
    return dict(deal_service.get(rt, OPS, deal["deal_id"]))


def _customer() -> str:
    return f"CUST-{uuid.uuid4().hex[:8]}"


@pytest.fixture()
def world() -> dict[str, Any]:
    rt, clock = memory_runtime(T0)
    return {"rt": rt, "clock": clock, "a": _partner(rt, "a"), "b": _partner(rt, "b")}


# --- PA-5.3: an accepted order keeps the registration past its exclusivity period --------------------------------
def _order(rt: Any, deal_id: str, accepted_at: str, ref: str = "SO-2026-5521") -> dict[str, Any]:
    return deal_service.record_order(rt, OPS, deal_id, {"order_ref": ref, "accepted_at": accepted_at})


def test_pa_5_3_a_registration_with_an_accepted_order_does_not_expire_and_still_bars_others(world):
    rt, clock = world["rt"], world["clock"]
    customer = _customer()
    deal = _approve(rt, _register(rt, world["a"], {"id": customer}))
    # PA-5.3: 90 days from the approval date (T0, 2026-11-02): day 90 is 2027-01-31, to its end (PA-1.3 "a day runs
    # from 00:00:00 to 23:59:59 UTC"; clause audit, eleventh round)
    assert deal["expires_at"] == "2027-01-31T23:59:59.999Z"
    clock.set("2026-11-21T09:00:00.000Z")
    kept = _order(rt, deal["deal_id"], "2026-11-20T10:00:00Z")
    assert kept["status"] == "approved" and kept["order"]["clause"] == "PA-5.3"
    assert schemas.problems("api/responses/deal.schema.json", kept) == []
    clock.set("2027-03-10T09:00:00.000Z")  # long after the 90 days
    # "A registration expires at the end of its exclusivity period unless an order has been accepted"
    assert deal_service.get(rt, OPS, deal["deal_id"])["status"] == "approved"
    # PA-5.5: "A registration that conflicts with an approved, unexpired registration is rejected"
    with pytest.raises(Conflict) as refused:
        _register(rt, world["b"], {"id": customer}, close="2027-05-01")
    assert refused.value.extra["clause"] == "PA-5.5"
    # PA-5.5: "the rejected Partner is told the date on which the conflicting exclusivity period ends" — it ended,
    # and the registration lives on: the refusal says so instead of inviting a registration that would fail again
    assert "order was accepted" in refused.value.detail and world["a"] not in refused.value.detail
    # PA-5.6: the registration discount applies "during the exclusivity period" only; that period ended
    with pytest.raises(RuleViolation):
        registration_for_quote(rt, "northwind", deal["deal_id"], world["a"], customer, clock.now_iso(), _policy(rt))


def test_pa_5_3_without_an_order_the_registration_expires_and_others_may_register(world):
    rt, clock = world["rt"], world["clock"]
    customer = _customer()
    deal = _approve(rt, _register(rt, world["a"], {"id": customer}))
    clock.set("2027-01-31T23:00:00.000Z")  # still the period's last day (PA-1.3: a day runs to 23:59:59 UTC)
    assert deal_service.get(rt, OPS, deal["deal_id"])["status"] == "approved"
    clock.set("2027-02-01T00:00:00.000Z")  # the exclusivity period has ended
    assert deal_service.get(rt, OPS, deal["deal_id"])["status"] == "expired"
    assert _register(rt, world["b"], {"id": customer}, close="2027-05-01")["status"] == "pending"  # "afresh"


def test_pa_5_3_an_order_accepted_after_the_period_or_before_approval_keeps_nothing(world):
    rt, clock = world["rt"], world["clock"]
    deal = _approve(rt, _register(rt, world["a"], {"id": _customer()}))
    clock.set("2027-02-10T09:00:00.000Z")
    tries = {
        "2027-02-01T00:00:00Z": RuleViolation,  # after the period's last day: too late ("unless an order has been
        # accepted"; the last day, 2027-01-31, runs to 23:59:59 UTC, PA-1.3)
        "2026-11-01T09:00:00Z": RuleViolation,  # before the approval
        "2027-02-11T09:00:00Z": RuleViolation,  # in the future
        "2026-11-20T10:00:00+01:00": MalformedRequest,  # not UTC Z
        "yesterday": MalformedRequest,
    }
    for accepted_at, problem in tries.items():
        with pytest.raises(problem):
            _order(rt, deal["deal_id"], accepted_at)
    stored = rt.store.get("northwind", "DEAL", deal["deal_id"]).data
    assert "order" not in stored  # changed nothing
    assert deal_service.get(rt, OPS, deal["deal_id"])["status"] == "expired"


def test_pa_5_3_an_order_is_recorded_once_and_only_for_an_approved_registration(world):
    rt = world["rt"]
    pending = _register(rt, world["a"], {"id": _customer()})
    with pytest.raises(Conflict):
        _order(rt, pending["deal_id"], "2026-11-02T10:00:00Z")
    deal = _approve(rt, _register(rt, world["a"], {"id": _customer()}))
    world["clock"].set("2026-11-02T10:00:00.000Z")
    _order(rt, deal["deal_id"], "2026-11-02T09:30:00Z")
    with pytest.raises(Conflict):
        _order(rt, deal["deal_id"], "2026-11-02T09:40:00Z", ref="SO-2026-5522")
    partner_key = Principal("northwind", Role.PARTNER, "key_01JX000000000000000PARTNR", partner_id=world["b"])
    with pytest.raises(Exception) as hidden:  # another partner's registration: not found, never recorded
        deal_service.record_order(rt, partner_key, deal["deal_id"], {"order_ref": "X", "accepted_at": T0[:19] + "Z"})
    assert type(hidden.value).__name__ == "NotFound"


def test_pa_13_3_a_terminated_partners_registration_takes_no_order(world):
    rt = world["rt"]
    deal = _approve(rt, _register(rt, world["a"], {"id": _customer()}))
    _terminate(rt, world["a"])
    with pytest.raises(Conflict) as ended:
        _order(rt, deal["deal_id"], "2026-11-02T09:30:00Z")
    assert ended.value.extra["clause"] == "PA-13.3"


# --- PA-5.4: affiliates that share the ultimate parent and purchase centrally are one customer -------------------
def test_pa_5_4_an_affiliate_purchasing_centrally_is_its_parents_opportunity(world):
    rt = world["rt"]
    parent = f"US-EIN-{uuid.uuid4().hex[:8]}"
    affiliate = {"id": _customer(), "ultimate_parent_id": parent, "purchases_centrally": True, "contact": "Dana Ortiz"}
    assert schemas.problems("api/deal-registration.schema.json", {
        "partner_id": world["a"], "customer": {"name": "Harbor", **affiliate}, "family": "networking",
        "estimated_value": "1.00", "expected_close": "2027-01-15"}) == []
    registered = _approve(rt, _register(rt, world["a"], affiliate))
    assert schemas.problems("api/responses/deal.schema.json", registered) == []  # contact and group sent back
    # "Affiliates of a Customer are treated as the same Customer where they share the same ultimate parent and
    # purchase centrally": the parent itself, and a sister affiliate buying centrally, are the same Customer
    sister = {"id": _customer(), "ultimate_parent_id": parent.lower(), "purchases_centrally": True}
    for same in ({"id": parent}, sister):
        with pytest.raises(Conflict) as refused:
            _register(rt, world["b"], same)
        assert refused.value.extra["clause"] == "PA-5.5"
    # an affiliate that does not purchase centrally is its own Customer
    own = {"id": _customer(), "ultimate_parent_id": parent, "purchases_centrally": False}
    assert _register(rt, world["b"], own)["status"] == "pending"


def test_pa_5_4_the_registering_partner_quotes_its_group_registration_for_the_registered_affiliate(world):
    rt, clock = world["rt"], world["clock"]
    parent, affiliate_id = f"US-EIN-{uuid.uuid4().hex[:8]}", _customer()
    deal = _approve(rt, _register(rt, world["a"],
                                  {"id": affiliate_id, "ultimate_parent_id": parent, "purchases_centrally": True}))
    facts = registration_for_quote(rt, "northwind", deal["deal_id"], world["a"], affiliate_id, clock.now_iso(),
                                   _policy(rt))
    assert facts["registration_id"] == deal["deal_id"]
    with pytest.raises(RuleViolation):  # an unrelated customer
        registration_for_quote(rt, "northwind", deal["deal_id"], world["a"], _customer(), clock.now_iso(), _policy(rt))


# --- PA-13.3 in the certification sweep ------------------------------------------------------------------------------
def test_pa_13_3_the_sweep_opens_no_exception_for_a_terminated_partners_registration(world):
    rt, clock = world["rt"], world["clock"]
    deal = _approve(rt, _register(rt, world["a"], {"id": _customer()}))
    _certification(rt, world["a"], "2026-11-10")
    _terminate(rt, world["a"])  # "On termination: [...] deal registrations end"
    clock.set("2026-11-12T08:00:00.000Z")
    ran = deal_holds.sweep(rt, "northwind")
    assert ran["opened"] == 0
    assert not [e for e in _exceptions(rt) if e["subject"]["id"] == deal["deal_id"]]


def test_pa_13_3_the_sweep_closes_the_open_exception_when_the_partner_is_terminated(world):
    rt, clock = world["rt"], world["clock"]
    deal = _approve(rt, _register(rt, world["a"], {"id": _customer()}))
    _certification(rt, world["a"], "2026-11-10")
    clock.set("2026-11-12T08:00:00.000Z")
    assert deal_holds.sweep(rt, "northwind")["opened"] == 1
    _terminate(rt, world["a"])
    clock.set("2026-11-13T08:00:00.000Z")
    ran = deal_holds.sweep(rt, "northwind")
    assert ran["closed"] == 1 and ran["refreshed"] == 0
    (closed,) = [e for e in _exceptions(rt) if e["subject"]["id"] == deal["deal_id"]]
    assert closed["status"] == "resolved" and "terminated" in closed["decision"]["note"]
    clock.set("2026-12-20T08:00:00.000Z")  # past the PA-4.3(d) lapse: nothing more (no deal.lapsed annotation)
    assert deal_holds.sweep(rt, "northwind")["annotated"] == 0


def _exceptions(rt: Any) -> list[dict[str, Any]]:
    found = []
    for status in ("open", "resolved", "dismissed"):
        page = cases.list_cases(rt, "northwind", "exception", status=status, queue=None, limit=200, cursor=None)
        found += [i.data for i in page.items]
    return found


# --- the partner pointers of registrations stored before them -----------------------------------------------------
def _strip_pointers(rt: Any, deal_ids: list[str]) -> None:
    """As an earlier version stored them: the registrations without their partner pointers."""
    for deal_id in deal_ids:
        deal = rt.store.get("northwind", "DEAL", deal_id).data
        rt.store.commit("northwind", Changes(deletes=[Delete(repository.BY_PARTNER, repository.pointer_key(deal))]))


def _listed(rt: Any, partner_id: str) -> set[str]:
    who = Principal("northwind", Role.PARTNER, "key_01JX000000000000000PARTNR", partner_id=partner_id)
    seen: set[str] = set()
    cursor = None
    while True:
        page = deal_service.list_deals(rt, who, limit=2, cursor=cursor)
        seen |= {d["deal_id"] for d in page["items"]}
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


def test_backfill_gives_pointerless_registrations_their_pointer_once(world):
    rt = world["rt"]
    mine = [_register(rt, world["a"], {"id": _customer()})["deal_id"] for _ in range(5)]
    theirs = [_register(rt, world["b"], {"id": _customer()})["deal_id"] for _ in range(2)]
    _strip_pointers(rt, mine[:3] + theirs[:1])
    assert _listed(rt, world["a"]) == set(mine[3:])  # the partner's list is incomplete before the backfill
    ran = backfill.backfill_partner_pointers(rt, "northwind", actor="operator:cli-test")
    assert ran == {"tenant_id": "northwind", "scanned": 7, "backfilled": 4}
    assert _listed(rt, world["a"]) == set(mine) and _listed(rt, world["b"]) == set(theirs)  # and only its own
    again = backfill.backfill_partner_pointers(rt, "northwind", actor="operator:cli-test")
    assert again["backfilled"] == 0  # idempotent
    assert backfill.backfill_if_unfinished(rt, ["northwind"], actor="system:revgov-dev") == []  # cheap at start


def test_backfill_at_start_runs_for_a_tenant_whose_backfill_never_finished(world):
    rt = world["rt"]
    deal_id = _register(rt, world["a"], {"id": _customer()})["deal_id"]
    _strip_pointers(rt, [deal_id])
    (ran,) = backfill.backfill_if_unfinished(rt, ["northwind"], actor="system:revgov-dev")
    assert ran["backfilled"] == 1 and deal_id in _listed(rt, world["a"])


def test_backfill_of_an_unknown_tenant_is_refused(world):
    with pytest.raises(Exception) as missing:
        backfill.backfill_partner_pointers(world["rt"], "nosuchtenant", actor="operator:cli-test")
    assert type(missing.value).__name__ == "NotFound"


# --- PA-5.2 / SOP-4.3: who decides a registration, and by when (held) ----------------------------------------------
@pytest.mark.parametrize(("registered", "due"), [
    ("2026-11-02T09:00:00.000Z", "2026-11-04T09:00:00.000Z"),  # Monday: Wednesday
    ("2026-11-06T09:00:00.000Z", "2026-11-10T09:00:00.000Z"),  # Friday: the weekend is no business day
    ("2026-11-25T09:00:00.000Z", "2026-11-30T09:00:00.000Z"),  # Thanksgiving (26 Nov) is no US business day
])
def test_pa_5_2_channel_ops_decides_within_2_business_days(world, registered, due):
    """PA-5.2: "Channel Operations approves or rejects a registration within 2 business days. A registration that is
    not decided within that time is escalated but is not approved by default." (The demo partner is in the US.)"""
    rt, clock = world["rt"], world["clock"]
    clock.set(registered)
    deal = _register(rt, world["a"], {"id": _customer()})
    review = rt.store.get("northwind", "CASE", deal["approval_id"]).data
    assert review["queue"] == "channel_ops" and review["due_at"] == due
    clock.set("2026-12-20T09:00:00.000Z")  # long past due: still pending, never approved by default
    assert deal_service.get(rt, OPS, deal["deal_id"])["status"] == "pending"


def test_sop_4_3_a_registration_is_never_approved_by_its_requester(world):
    """SOP-4.3: "A requester can never approve their own request." Channel ops may register for a partner; the same
    key may not approve that registration; an admin key is not in the channel_ops queue."""
    rt = world["rt"]
    customer = {"id": _customer(), "name": "X", "contact": "Dana Ortiz"}
    deal = deal_service.register(rt, OPS, {"partner_id": world["a"], "customer": customer,
                                           "family": "networking", "estimated_value": "1.00",
                                           "expected_close": "2027-01-15"})
    with pytest.raises(Exception) as refused:
        cases.decide_case(rt, OPS, "approval", deal["approval_id"], "approved", None)
    assert type(refused.value).__name__ == "Forbidden" and "SOP-4.3" in str(refused.value)
    admin = Principal("northwind", Role.ADMIN, "key_01JX0000000000000000ADMIN0")
    with pytest.raises(Exception) as not_queue:
        cases.decide_case(rt, admin, "approval", deal["approval_id"], "approved", None)
    assert type(not_queue.value).__name__ == "Forbidden"
    assert deal_service.get(rt, OPS, deal["deal_id"])["status"] == "pending"


# --- the registration discount after an order: each clause's own words (pure) --------------------------------------
def _tenant_policy(tenant: str) -> dict[str, Any]:
    return dict(load_tenant_file(ROOT / "tenants" / tenant / "tenant.yaml")["policy"])


@pytest.mark.parametrize(("tenant", "after_period"), [("northwind", False), ("contoso", True)])
def test_the_registration_discount_after_the_period_follows_each_clause(tenant, after_period):
    """PA-5.6: the discount applies "during the exclusivity period", and PA-5.3 keeps the registration, not the
    period. CPA-5.2: "Protection ends at the end of the period unless an order has been accepted", and CPA-5.5 gives
    the discount "during the protection period": the protection, and so the discount, go on."""
    policy = _tenant_policy(tenant)
    deal = {"deal_id": "dl_1", "status": "approved", "approved_at": "2026-11-02T09:00:00.000Z",
            "expires_at": "2027-01-01T09:00:00.000Z"}
    kept = {**deal, "order": {"order_ref": "SO-1", "accepted_at": "2026-12-01T09:00:00.000Z"}}
    during, after = "2026-12-15T09:00:00.000Z", "2027-02-01T09:00:00.000Z"
    assert core.discounted(policy, kept, during) and core.discounted(policy, deal, during)
    assert core.discounted(policy, kept, after) is after_period
    assert not core.discounted(policy, deal, after)  # no order: expired
    assert core.is_live(kept, after) and not core.is_live(deal, after)


# --- Red team 7. PA-2.8: "A potential match is routed to Legal, and no quote, order or incentive may be processed for
# the Partner while the match is unresolved"; PA-13.2: "Orders already accepted are fulfilled unless the reason is
# (b)" (b: "a compliance screening match is unresolved under PA-2.8"). An ERP order event of a held partner is held for
# Legal (services/billing/screening_hold.py); the same order recorded by hand against the registration kept it past
# its period (PA-5.3), barring every other partner from the Customer, while Legal had not resolved the match.
def _screening(outcome: str, issued_at: str) -> dict[str, Any]:
    return {"document_type": "compliance_screening", "reference": f"dms://screening/{outcome}.pdf",
            "checksum": "sha256:" + "7" * 64, "issued_at": issued_at, "outcome": outcome}


def test_red_team_7_no_order_is_recorded_for_a_partner_held_by_an_unresolved_screening_match(world):
    from revgov.services import partners

    rt, clock = world["rt"], world["clock"]
    legal = Principal("northwind", Role.LEGAL, "key_01JX0000000000000000LEGAL0")
    deal = _approve(rt, _register(rt, world["a"], {"id": _customer()}))
    clock.set("2026-11-02T10:00:00.000Z")
    partners.add_document(rt, legal, world["a"], _screening("potential_match", "2026-11-02"))
    with pytest.raises(RuleViolation) as held:
        _order(rt, deal["deal_id"], "2026-11-02T09:30:00Z")
    assert (held.value.extra.get("rule_id"), held.value.extra.get("clause")) == ("ONB-SCREENING", "PA-2.8"), (
        held.value.detail)
    assert "order" not in rt.store.get("northwind", repository.DEALS, deal["deal_id"]).data  # nothing recorded
    clock.set("2026-11-03T09:00:00.000Z")
    partners.add_document(rt, legal, world["a"], _screening("clear", "2026-11-03"))
    assert _order(rt, deal["deal_id"], "2026-11-02T09:30:00Z")["order"]["clause"] == "PA-5.3"


def test_red_team_7_a_partner_registers_one_opportunity_once_while_it_is_pending(world):
    """Red team 7. PA-5.4: "Only one approved registration may exist for a given Customer and Product Family at any
    time across all Partners"; PA-5.5: registrations are decided in order of submission, so each pending one waits in
    the opportunity's queue and opens a channel-ops review. A partner key sent the same registration again and again:
    every copy was queued and reviewed, and about 2,400 filled the opportunity's queue past the store's 400 KB item
    limit, after which no other partner could register that Customer (a 413). A second pending registration of the
    same partner for the same customer and family is now the 409 naming its own pending one; others still queue."""
    rt = world["rt"]
    customer = {"id": _customer()}
    first = _register(rt, world["a"], customer)
    opened = len(rt.store.query("northwind", "CASE", limit=1000).items)
    with pytest.raises(Conflict) as again:
        _register(rt, world["a"], {"id": customer["id"].lower()})
    assert again.value.extra["deal_id"] == first["deal_id"]
    assert len(rt.store.query("northwind", "CASE", limit=1000).items) == opened  # no second review opened
    assert _register(rt, world["b"], customer)["status"] == "pending"  # another partner queues behind it
    assert _register(rt, world["a"], {"id": _customer()})["status"] == "pending"  # another customer: its own request
