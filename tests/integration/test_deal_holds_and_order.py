"""Deal registrations after approval: the certification-hold sweep, the extension's events, and PA-5.5's order of
submission read consistently on DynamoDB. Every date is explicit (a fixed clock), none depends on today.

PA-4.3: "From the moment a certification expires, and until a valid certification of the same id is recorded: [...]
(d) approved deal registrations in that Product Family are suspended, with the exclusivity period continuing to run,
and they lapse if a valid certification is not recorded within 30 days after expiry."
SOP-4.1: "Exceptions are routed to a queue with an SLA as follows: [...] | certification_expired_active_deal |
channel_ops | 8 |".
PA-5.3: "The Partner may request one extension of 30 days, before the period ends, where the opportunity has reached
the proposal stage."
PA-5.5: "Pending registrations are decided in order of submission time."
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from memory_store import FixedClock, NoBus, memory_runtime
from revgov import schemas
from revgov.adapters.system import RandomIds
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Conflict
from revgov.domain.partners import tiers_by_rank
from revgov.local.demo_partners import demo_application, onboard
from revgov.ports import Changes, Put
from revgov.services import cases, deal_holds
from revgov.services import deals as deal_service
from revgov.services.audit import verify_chain
from revgov.services.deals.repository import opportunity_key
from support import ROOT

T0 = "2026-11-02T09:00:00.000Z"
SALES = Principal("northwind", Role.SALES, "key_01JX00000000000000000SALES")
OPS = Principal("northwind", Role.CHANNEL_OPS, "key_01JX000000000000000000OPS0")
FINANCE = Principal("northwind", Role.FINANCE, "key_01JX0000000000000000FINANC")


def _partner(rt: Any, label: str) -> str:
    policy = rt.store.get("northwind", "TENANT", "PROFILE").data["config"]["policy"]
    silver = tiers_by_rank(policy)[1]
    application = demo_application(f"Hold {label} {uuid.uuid4().hex[:6]}", "reseller", silver)
    return str(onboard(rt, policy, application, "active", sales=SALES, approver=OPS)["partner_id"])


def _register(rt: Any, partner_id: str, customer: str) -> dict[str, Any]:
    body = {
        "partner_id": partner_id,
        "customer": {"id": customer, "name": "Harbor Logistics", "contact": "Dana Ortiz"},
        "family": "networking",
        "estimated_value": "84000.00",
        "expected_close": "2027-01-15",
    }
    return deal_service.register(rt, SALES, body)


def _approve(rt: Any, deal: dict[str, Any]) -> dict[str, Any]:
    return cases.decide_case(rt, OPS, "approval", deal["approval_id"], "approved", None)


def _certification(rt: Any, partner_id: str, expires_at: str | None) -> None:
    """The partner's networking certification (cert-network-core), expiring at the end of `expires_at`."""
    stored = rt.store.get("northwind", "PARTNER", partner_id)
    held = dict(stored.data.get("certifications") or {})
    record = {**held.get("cert-network-core", {"earned_at": "2025-06-01"}), "expires_at": expires_at}
    if expires_at is None:
        record.pop("expires_at")
    held["cert-network-core"] = record
    rt.store.commit("northwind", Changes(puts=[Put("PARTNER", partner_id, {**stored.data, "certifications": held},
                                                   expected_version=stored.version)]))


def _exceptions(rt: Any, deal_id: str) -> list[dict[str, Any]]:
    found = []
    for status in ("open", "resolved", "dismissed"):
        page = cases.list_cases(rt, "northwind", "exception", status=status, queue=None, limit=200, cursor=None)
        found += [i.data for i in page.items if i.data["subject"] == {"kind": "deal", "id": deal_id}]
    return found


def _events(rt: Any, detail_type: str, deal_id: str) -> list[dict[str, Any]]:
    return [e for e in rt.publisher.published if e["detail_type"] == detail_type and e["detail"]["deal_id"] == deal_id]


def _valid(event: dict[str, Any]) -> None:
    envelope = {"source": event["source"], "detail-type": event["detail_type"], "detail": event["detail"]}
    assert schemas.problems("events/revgov.deals.schema.json", envelope) == [], envelope


@pytest.fixture()
def world() -> dict[str, Any]:
    rt, clock = memory_runtime(T0)
    holder = _partner(rt, "holder")
    _certification(rt, holder, "2027-12-31")
    deal = _register(rt, holder, f"CUST-{uuid.uuid4().hex[:8]}")
    assert _approve(rt, deal)["status"] == "approved"
    return {"rt": rt, "clock": clock, "holder": holder, "deal": deal}


def test_sweep_opens_one_exception_per_suspended_registration_routed_by_sop_4_1_then_closes_it(world):
    rt, clock, holder, deal = world["rt"], world["clock"], world["holder"], world["deal"]
    assert deal_holds.sweep(rt, "northwind")["opened"] == 0  # certified: no hold, nothing opened
    _certification(rt, holder, "2026-11-10")  # last valid day 10 Nov: the hold starts 11 Nov 00:00 UTC
    clock.set("2026-11-12T08:00:00.000Z")
    assert deal_holds.sweep(rt, "northwind")["opened"] == 1
    (raised,) = _exceptions(rt, deal["deal_id"])
    # SOP-4.1: certification_expired_active_deal -> channel_ops, 8 hours
    assert raised["category"] == "certification_expired_active_deal" and raised["queue"] == "channel_ops"
    assert raised["sla_hours"] == 8 and raised["due_at"] == "2026-11-12T16:00:00.000Z"
    clauses = [r["clause"] for r in raised["reasons"]]
    assert clauses == ["SOP-4.1", "PA-4.3"]  # routed under SOP-4.1, the hold cited as PA-4.3 states it
    # PA-4.3(d): lapses "if a valid certification is not recorded within 30 days after expiry"
    assert raised["context"]["hold"]["lapses_at"] == "2026-12-11T00:00:00.000Z"
    (suspended,) = _events(rt, "deal.suspended", deal["deal_id"])
    _valid(suspended)
    assert suspended["detail"]["status"] == "suspended" and suspended["detail"]["hold"]["clause"] == "PA-4.3"

    clock.set("2026-11-13T08:00:00.000Z")  # a later run refreshes the same exception: never a second one
    ran = deal_holds.sweep(rt, "northwind")
    assert ran["opened"] == 0 and ran["refreshed"] == 1
    (again,) = _exceptions(rt, deal["deal_id"])
    assert again["case_id"] == raised["case_id"] and again["seen_count"] == 2
    assert len(_events(rt, "deal.suspended", deal["deal_id"])) == 1

    _certification(rt, holder, "2027-11-30")  # "until a valid certification of the same id is recorded"
    clock.set("2026-11-14T08:00:00.000Z")
    assert deal_holds.sweep(rt, "northwind")["closed"] == 1
    (closed,) = _exceptions(rt, deal["deal_id"])
    assert closed["status"] == "resolved" and closed["decision"]["by"] == "system:deal_holds"
    assert closed["decision"]["resolved_by_rule"]["clause"] == "PA-4.3"
    (back,) = _events(rt, "deal.reinstated", deal["deal_id"])
    _valid(back)
    assert back["detail"]["status"] == "approved"
    assert deal_holds.sweep(rt, "northwind") == {"looked_at": 1, "opened": 0, "refreshed": 0, "annotated": 0,
                                                 "closed": 0}
    trail = [r for r in rt.store.iter_audit_records("northwind") if r["actor"] == "system:deal_holds"]
    assert [r["action"] for r in trail] == ["exception.opened", "deal.suspended", "exception.resolved",
                                            "deal.reinstated"]
    assert verify_chain(rt, "northwind")["valid"] is True


def test_a_registration_that_lapses_annotates_its_open_exception_pa_4_3_d(world):
    rt, clock, holder, deal = world["rt"], world["clock"], world["holder"], world["deal"]
    _certification(rt, holder, "2026-11-10")
    clock.set("2026-11-12T08:00:00.000Z")
    deal_holds.sweep(rt, "northwind")
    clock.set("2026-12-11T00:00:00.000Z")  # 30 days after expiry (11 Nov 00:00): lapsed
    assert deal_holds.sweep(rt, "northwind")["annotated"] == 1
    (raised,) = _exceptions(rt, deal["deal_id"])
    assert raised["status"] == "open"  # channel ops still owns it, with the lapse on it
    assert raised["context"]["hold"]["status"] == "lapsed" and "lapsed" in raised["context"]["annotation"]["note"]
    (lapsed,) = _events(rt, "deal.lapsed", deal["deal_id"])
    _valid(lapsed)
    assert lapsed["detail"]["status"] == "lapsed"
    clock.set("2026-12-12T00:00:00.000Z")
    assert deal_holds.sweep(rt, "northwind")["annotated"] == 0 and len(_exceptions(rt, deal["deal_id"])) == 1


def test_an_exception_channel_ops_resolved_is_not_reopened_for_the_same_spell(world):
    rt, clock, holder, deal = world["rt"], world["clock"], world["holder"], world["deal"]
    _certification(rt, holder, "2026-11-10")
    clock.set("2026-11-12T08:00:00.000Z")
    deal_holds.sweep(rt, "northwind")
    (raised,) = _exceptions(rt, deal["deal_id"])
    cases.decide_case(rt, OPS, "exception", raised["case_id"], "resolved", "partner renewing")
    clock.set("2026-11-13T08:00:00.000Z")
    assert deal_holds.sweep(rt, "northwind")["opened"] == 0
    assert len(_exceptions(rt, deal["deal_id"])) == 1


def test_the_extension_publishes_requested_and_extended_pa_5_3(world):
    rt, clock, holder, deal = world["rt"], world["clock"], world["holder"], world["deal"]
    partner = Principal("northwind", Role.PARTNER, "key_01JX0000000000000000PRTNR0", partner_id=holder)
    clock.set("2026-12-20T09:00:00.000Z")
    asked = deal_service.request_extension(
        rt, partner, deal["deal_id"], {"proposal_reference": "PROP-1", "proposal_date": "2026-12-18"}
    )
    (requested,) = _events(rt, "deal.extension_requested", deal["deal_id"])
    _valid(requested)
    assert requested["detail"]["extension"]["status"] == "pending" and requested["detail"]["extension"]["days"] == 30
    assert requested["detail"]["extension"]["clause"] == "PA-5.3"
    cases.decide_case(rt, OPS, "approval", asked["extension"]["approval_id"], "approved", None)
    (extended,) = _events(rt, "deal.extended", deal["deal_id"])
    _valid(extended)
    # "one extension of 30 days": the exclusivity ends 30 days after it did
    before = extended["detail"]["extension"]["previous_expires_at"]
    assert before == requested["detail"]["expires_at"]
    after = datetime.fromisoformat(extended["detail"]["expires_at"].replace("Z", "+00:00"))
    assert after - datetime.fromisoformat(before.replace("Z", "+00:00")) == timedelta(days=30)
    assert extended["detail"]["extension"]["status"] == "approved"


def test_a_refused_extension_request_publishes_nothing_and_changes_nothing(world):
    rt, holder, deal = world["rt"], world["holder"], world["deal"]
    partner = Principal("northwind", Role.PARTNER, "key_01JX0000000000000000PRTNR0", partner_id=holder)
    before = rt.store.get("northwind", "DEAL", deal["deal_id"])
    with pytest.raises(Exception) as refused:  # a proposal dated after today
        deal_service.request_extension(
            rt, partner, deal["deal_id"], {"proposal_reference": "PROP-1", "proposal_date": "2026-12-30"}
        )
    assert getattr(refused.value, "status", None) == 422
    assert rt.store.get("northwind", "DEAL", deal["deal_id"]).version == before.version
    assert _events(rt, "deal.extension_requested", deal["deal_id"]) == []


# --- PA-5.5 on DynamoDB ------------------------------------------------------------------------------------
class LaggingIndex:
    """The DynamoDB store as a global secondary index may answer: the lookup has not caught up with the writes."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def lookup(self, tenant_id: str, index_partition: str, **kwargs: Any) -> Any:
        from revgov.ports import Page

        if index_partition.startswith("DEAL#"):
            return Page([], None)  # the registrations written a moment ago are not in the index yet
        return self._store.lookup(tenant_id, index_partition, **kwargs)


@pytest.fixture(scope="module")
def dynamodb_endpoint() -> Any:
    from aws_emulator import start_emulator

    emulator = start_emulator(0)
    yield emulator.endpoint_url
    emulator.stop()


def test_pa_5_5_order_of_submission_holds_on_dynamodb_while_the_index_lags(dynamodb_endpoint):
    import boto3

    from revgov.adapters.dynamo import DynamoDocumentStore
    from revgov.resources import TABLE

    base, _ = memory_runtime(T0)  # the tenant's configuration, copied onto the DynamoDB store
    clock = FixedClock(T0)
    ids = RandomIds(clock)
    table = f"deals-{uuid.uuid4().hex[:10]}"
    boto3.client("dynamodb", region_name="us-east-1", endpoint_url=dynamodb_endpoint).create_table(
        **TABLE.create_table_args(table)
    )
    dynamo = DynamoDocumentStore(table, "us-east-1", clock, ids, host=dynamodb_endpoint)
    dynamo.import_tenant("northwind", base.store.export_tenant("northwind"))
    rt = replace(base, store=LaggingIndex(dynamo), clock=clock, ids=ids, publisher=NoBus())
    first_partner, second_partner = _partner(rt, "first"), _partner(rt, "second")
    for partner_id in (first_partner, second_partner):
        _certification(rt, partner_id, "2027-12-31")
    customer = f"CUST-{uuid.uuid4().hex[:8]}"
    first = _register(rt, first_partner, customer)
    clock.advance(minutes=5)
    second = _register(rt, second_partner, customer)
    with pytest.raises(Conflict) as refused:  # deciding the later one first is refused, naming the earlier
        cases.decide_case(rt, OPS, "approval", second["approval_id"], "approved", None)
    assert refused.value.extra["decide_first"] == first["deal_id"] and refused.value.extra["clause"] == "PA-5.5"
    assert rt.store.get("northwind", "DEAL", second["deal_id"]).data["status"] == "pending"  # nothing changed
    assert _approve(rt, first)["status"] == "approved"
    decided = cases.decide_case(rt, OPS, "approval", second["approval_id"], "approved", None)
    assert decided["status"] == "rejected"  # then it loses to the first approved (PA-5.5), as a decision


def test_pa_5_5_queue_follows_withdrawal(world):
    rt, clock = world["rt"], world["clock"]
    a, b = _partner(rt, "a"), _partner(rt, "b")
    for partner_id in (a, b):
        _certification(rt, partner_id, "2027-12-31")
    customer = f"CUST-{uuid.uuid4().hex[:8]}"
    first = _register(rt, a, customer)
    clock.advance(minutes=1)
    second = _register(rt, b, customer)
    deal_service.withdraw(rt, SALES, first["deal_id"])  # a withdrawn registration waits for no decision
    assert cases.decide_case(rt, OPS, "approval", second["approval_id"], "approved", None)["status"] == "approved"
    assert json.loads(json.dumps(rt.store.get("northwind", "DEALQUEUE", opportunity_key(customer, "networking")).data))[
        "pending"] == []
    assert ROOT.exists()


def test_contoso_cop_4_1_routes_the_exception_to_channel_ops_in_12_hours_cpa_4_3_d_21_days():
    """COP-4.1: "| certification_expired_active_deal | channel_ops | 12 |"; CPA-4.3: "(d) protected opportunity
    registrations in that Product Family are frozen and lapse if no valid certification is recorded within 21 days"."""
    rt, clock = memory_runtime(T0, tenant="contoso")
    sales = Principal("contoso", Role.SALES, "key_01JX00000000000000000SALES")
    ops = Principal("contoso", Role.CHANNEL_OPS, "key_01JX000000000000000000OPS0")
    policy = rt.store.get("contoso", "TENANT", "PROFILE").data["config"]["policy"]
    tier = tiers_by_rank(policy)[1]
    application = demo_application(f"Hold contoso {uuid.uuid4().hex[:6]}", "reseller", tier)
    partner_id = str(onboard(rt, policy, application, "active", sales=sales, approver=ops)["partner_id"])
    stored = rt.store.get("contoso", "PARTNER", partner_id)
    held = {**(stored.data.get("certifications") or {}),
            "cert-secops-analyst": {"earned_at": "2026-01-01", "expires_at": "2027-06-30"}}
    rt.store.commit("contoso", Changes(puts=[Put("PARTNER", partner_id, {**stored.data, "certifications": held},
                                                 expected_version=stored.version)]))
    body = {"partner_id": partner_id, "customer": {"id": "CUST-CONTOSO-1", "name": "Fabrikam"}, "family": "security",
            "estimated_value": "50000.00", "expected_close": "2027-01-15"}
    deal = deal_service.register(rt, sales, body)
    cases.decide_case(rt, ops, "approval", deal["approval_id"], "approved", None)
    stored = rt.store.get("contoso", "PARTNER", partner_id)
    held = {**stored.data["certifications"], "cert-secops-analyst": {"earned_at": "2026-01-01",
                                                                     "expires_at": "2026-11-10"}}
    rt.store.commit("contoso", Changes(puts=[Put("PARTNER", partner_id, {**stored.data, "certifications": held},
                                                 expected_version=stored.version)]))
    clock.set("2026-11-12T08:00:00.000Z")
    assert deal_holds.sweep(rt, "contoso")["opened"] == 1
    page = cases.list_cases(rt, "contoso", "exception", status="open", queue=None, limit=50, cursor=None)
    (raised,) = [i.data for i in page.items if i.data["subject"]["id"] == deal["deal_id"]]
    assert raised["queue"] == "channel_ops" and raised["sla_hours"] == 12
    assert [r["clause"] for r in raised["reasons"]] == ["COP-4.1", "CPA-4.3"]
    assert raised["context"]["hold"]["lapses_at"] == "2026-12-02T00:00:00.000Z"  # 21 days after 11 Nov 00:00


class RivalFirst:
    """The store, with another partner's registration for the same opportunity committed just before the next
    registration's commit (two partners registering in the same moment)."""

    def __init__(self, store: Any, rival: Any) -> None:
        self._store, self._rival, self.raced = store, rival, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def commit(self, tenant_id: str, changes: Any) -> Any:
        if self._rival is not None and any(p.collection == "DEALQUEUE" for p in changes.puts):
            rival, self._rival = self._rival, None
            rival()
            self.raced += 1
        return self._store.commit(tenant_id, changes)


def test_two_registrations_for_one_opportunity_in_the_same_moment_both_register_in_submission_order(world):
    """PA-5.5: "Pending registrations are decided in order of submission time": a registration that loses the race
    for the opportunity's queue is registered again on the fresh state (both wait, in order), not refused."""
    rt, clock = world["rt"], world["clock"]
    a, b = _partner(rt, "racer-a"), _partner(rt, "racer-b")
    for partner_id in (a, b):
        _certification(rt, partner_id, "2027-12-31")
    customer = f"CUST-{uuid.uuid4().hex[:8]}"
    store = rt.store
    rival_made: list[dict[str, Any]] = []

    def rival() -> None:
        rival_made.append(_register(plain, a, customer))
        clock.advance(seconds=1)  # the losing registration is made again a moment later

    racing = replace(rt, store=RivalFirst(store, rival))
    plain = replace(rt, store=store)
    clock.advance(seconds=1)
    mine = _register(racing, b, customer)
    assert racing.store.raced == 1 and mine["status"] == "pending"
    queue = store.get("northwind", "DEALQUEUE", opportunity_key(customer, "networking")).data["pending"]
    assert [e["deal_id"] for e in queue] == [rival_made[0]["deal_id"], mine["deal_id"]]


def test_a_rejected_extension_publishes_deal_extension_rejected_with_the_reason(world):
    rt, clock, holder, deal = world["rt"], world["clock"], world["holder"], world["deal"]
    partner = Principal("northwind", Role.PARTNER, "key_01JX0000000000000000PRTNR0", partner_id=holder)
    clock.set("2026-12-20T09:00:00.000Z")
    asked = deal_service.request_extension(
        rt, partner, deal["deal_id"], {"proposal_reference": "PROP-2", "proposal_date": "2026-12-19"}
    )
    cases.decide_case(rt, OPS, "approval", asked["extension"]["approval_id"], "rejected", "no proposal on file")
    (rejected,) = _events(rt, "deal.extension_rejected", deal["deal_id"])
    _valid(rejected)
    assert rejected["detail"]["extension"]["reason"] == "no proposal on file"
    assert rejected["detail"]["expires_at"] == asked["expires_at"]  # the exclusivity end did not move
    assert _events(rt, "deal.extended", deal["deal_id"]) == []


def test_a_suspended_registration_withdrawn_closes_its_exception(world):
    rt, clock, holder, deal = world["rt"], world["clock"], world["holder"], world["deal"]
    _certification(rt, holder, "2026-11-10")
    clock.set("2026-11-12T08:00:00.000Z")
    deal_holds.sweep(rt, "northwind")
    deal_service.withdraw(rt, SALES, deal["deal_id"])
    clock.set("2026-11-12T09:00:00.000Z")
    assert deal_holds.sweep(rt, "northwind")["closed"] == 1
    (closed,) = _exceptions(rt, deal["deal_id"])
    assert closed["status"] == "resolved" and "no longer holds the opportunity" in closed["decision"]["note"]
    assert _events(rt, "deal.reinstated", deal["deal_id"]) == []  # withdrawn is not reinstated
