"""Every event type the services publish has a sample under events/ and an entry under the OpenAPI `webhooks`.

Source of truth:
- /work/shared/API.md "Events on the bus": "`detail-type` names are listed in `events/` with one valid sample each;
  `detail` always has `tenant_id`, `event_id`, `occurred_at` and the payload defined in `schemas/events/`."
- API.md "outbound": "`POST /v1/subscriptions` (... event types ...) ...; the events are listed under the OpenAPI
  `webhooks`", and events/rules.json's `outbound-webhooks` rule takes every source but `revgov.erp`
  ("Domain events Revgov emits go to the tenant's outbound webhook subscriptions").

The published types are read from the code itself (every `DomainEvent(...)` call under functions/revgov), so a new
event without a sample or a webhook entry fails here, not in a subscriber's hands.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest

from memory_store import Ledger
from revgov import schemas
from revgov.domain.access import Principal, Role
from revgov.edge.openapi import document
from revgov.services import case_waiting, cases, contracts, offboarding, pricing, tenants
from revgov.services.agents import threshold_watcher
from revgov.services.agents.desk import AgentDesk
from support import for_this_thread

ROOT = Path(__file__).resolve().parents[2]
CODE = ROOT / "functions" / "revgov"
EVENTS = ROOT / "events"

# Call sites whose detail-type is a variable: the values it takes, read from the code beside each.
VARIABLE_TYPES: dict[tuple[str, str], set[str]] = {
    # ERP events relayed to the bus under their own type: erp-event.schema.json's `type` enum, samples in revgov.erp
    ("services/erp.py", "event['type']"): {p.stem for p in (EVENTS / "revgov.erp").glob("*.json")},
    ("services/erp.py", "bus_event['detail-type']"): {p.stem for p in (EVENTS / "revgov.erp").glob("*.json")},
    # resolve_extension: kind = "deal.extended" if approved else "deal.extension_rejected"
    ("services/deals/extension.py", "kind"): {"deal.extended", "deal.extension_rejected"},
    # posting.record's callers: billing/lines.py "invoice.lines_posted", billing/payment.py "invoice.paid"
    ("services/billing/posting.py", "event_type"): {"invoice.lines_posted", "invoice.paid"},
    # set_status: action = f"tenant.{'suspended' if status == 'suspended' else 'resumed'}"
    ("services/tenants.py", "action"): {"tenant.suspended", "tenant.resumed"},
    # f"{kind}.…" on revgov.{kind}s: a case is an approval or an exception (case_rules.id_field)
    ("services/cases.py", r"[a-z_]+\.opened"): {"approval.opened", "exception.opened"},
    ("services/cases.py", r"[a-z_]+\.decided"): {"approval.decided", "exception.decided"},
    ("services/case_waiting.py", r"[a-z_]+\.waiting_on_partner"): {"approval.waiting_on_partner",
                                                                    "exception.waiting_on_partner"},
    ("services/case_waiting.py", r"[a-z_]+\.resumed"): {"approval.resumed", "exception.resumed"},
    # pricing's decide: f"quote.{status}" for an approved or a rejected quote (README: the quote desk's subscription)
    ("services/pricing.py", r"quote\.[a-z_]+"): {"quote.approved", "quote.rejected"},
}


def _samples() -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text()) for p in EVENTS.glob("revgov.*/*.json")}


def _constants(tree: ast.Module) -> dict[str, str]:
    return {t.id: str(node.value.value) for node in tree.body if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant) for t in node.targets if isinstance(t, ast.Name)}


def _published() -> list[tuple[str, int, str, str, str | None]]:
    """(file, line, kind, text, source) per DomainEvent call: kind is `literal`, `template` (an f-string) or
    `variable`; source when it is a literal or a module constant (SOURCE = "revgov.…")."""
    found = []
    for path in sorted(CODE.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        constants = _constants(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "DomainEvent"):
                continue
            arg = node.args[1] if len(node.args) > 1 else next(k.value for k in node.keywords
                                                                 if k.arg == "detail_type")
            rel = path.relative_to(CODE).as_posix()
            first = node.args[0]
            source = str(first.value) if isinstance(first, ast.Constant) else \
                constants.get(first.id) if isinstance(first, ast.Name) else None
            if isinstance(arg, ast.Constant):
                found.append((rel, node.lineno, "literal", str(arg.value), source))
            elif isinstance(arg, ast.JoinedStr):
                pattern = "".join(re.escape(str(v.value)) if isinstance(v, ast.Constant) else "[a-z_]+"
                                  for v in arg.values)
                found.append((rel, node.lineno, "template", pattern, source))
            else:
                found.append((rel, node.lineno, "variable", ast.unparse(arg), source))
    return found


def test_the_scan_finds_the_publishers():
    kinds = {kind for _, _, kind, _, _ in _published()}
    assert kinds == {"literal", "template", "variable"}
    assert len(_published()) > 40


def test_every_published_event_type_has_a_sample():
    samples = {(p.parent.name, p.stem) for p in EVENTS.glob("revgov.*/*.json")}
    missing = []
    for rel, line, kind, text, source in _published():
        if kind == "literal":
            types = {text}
        elif (rel, text) in VARIABLE_TYPES:
            types = VARIABLE_TYPES[rel, text]
            assert all(re.fullmatch(text, t) for t in types) if kind == "template" else True, (rel, text)
        else:
            assert kind == "template", f"{rel}:{line}: say in VARIABLE_TYPES which types {text} takes"
            types = {name for s, name in samples if re.fullmatch(text, name) and source in (None, s)} or {text}
        for detail_type in types:
            where = {s for s, name in samples if name == detail_type}
            if not where or (source is not None and source not in where):
                missing.append(f"{rel}:{line} {source or '?'}/{detail_type}")
    assert not missing, f"published, no sample in events/<source>/: {missing}"


def test_every_sample_sits_under_its_source_and_names_its_type():
    for path in EVENTS.glob("revgov.*/*.json"):
        sample = json.loads(path.read_text())
        assert (sample["source"], sample["detail-type"]) == (path.parent.name, path.stem), path
        # API.md: "`detail` always has `tenant_id`, `event_id`, `occurred_at`"
        assert {"tenant_id", "event_id", "occurred_at"} <= set(sample["detail"]), path


def _with_schema() -> list[tuple[Path, str]]:
    """Each sample of a source that has a schema (schemas/events/<source>.schema.json); ERP samples are checked
    against their per-type schemas by their own tests (test_erp_credit_notes_returns, ...)."""
    return [(p, f"events/{p.parent.name}.schema.json") for p in sorted(EVENTS.glob("revgov.*/*.json"))
            if f"events/{p.parent.name}.schema.json" in schemas.names()]


@pytest.mark.parametrize(("path", "name"), _with_schema(), ids=lambda v: v.stem if isinstance(v, Path) else "")
def test_each_emitted_sample_is_valid_against_its_source_schema(path, name):
    assert schemas.problems(name, json.loads(path.read_text())) == []


def test_every_emitted_event_type_is_under_the_openapi_webhooks():
    hooks = document()["webhooks"]
    emitted = {name for name, s in _samples().items() if s["source"] != "revgov.erp"}
    assert emitted - set(hooks) == set(), "emitted, but no OpenAPI webhook"
    assert {"quote.approved", "quote.rejected"} <= set(hooks)


def _same_shape(published: list[dict[str, Any]], detail_types: set[str]) -> None:
    """Each published event of `detail_types` has its sample's source and fields, and its source schema (if any)."""
    by_type = {(s["detail-type"]): s for s in (json.loads(p.read_text()) for p in EVENTS.glob("revgov.*/*.json"))}
    seen = set()
    for event in published:
        if event["detail_type"] not in detail_types:
            continue
        seen.add(event["detail_type"])
        sample = by_type[event["detail_type"]]
        envelope = {"source": event["source"], "detail-type": event["detail_type"], "detail": event["detail"]}
        assert (envelope["source"], set(envelope["detail"])) == (sample["source"], set(sample["detail"])), envelope
        name = f"events/{event['source']}.schema.json"
        if name in schemas.names():
            assert schemas.problems(name, envelope) == [], envelope
    assert seen == detail_types


def test_the_written_samples_match_what_the_code_publishes():
    """The samples not recorded from a test run (an exception that waits on its partner and resumes; a tenant
    suspended and resumed) against the events the code path publishes."""
    partner = "ptr_01JBNWPARTNER0000000000001"
    ledger = Ledger("2026-11-16T09:00:00Z")
    tenant, _ = tenants.load_tenant(ledger.rt, "northwind")
    case, changes = cases.open_case(ledger.rt, tenant.policy, kind="exception", category="no_such_category",
                                    subject_kind="ticket", subject_id="T-1", requested_by="system",
                                    partner_id=partner)
    ledger.rt.commit("northwind", changes)
    ops = Principal("northwind", Role.CHANNEL_OPS, "key_ops")
    case_waiting.ask_partner(ledger.rt, ops, "exception", case["case_id"], "Which site is the visit for?")
    ledger.clock.set("2026-11-16T11:00:00Z")
    case_waiting.partner_reply(ledger.rt, Principal("northwind", Role.PARTNER, "key_p1", partner), "exception",
                               case["case_id"], "Site 2")
    platform = Principal("_platform", Role.OPERATOR, "key_operator")
    tenants.set_status(ledger.rt, platform, "northwind", "suspended", "unpaid platform fees")
    tenants.set_status(ledger.rt, platform, "northwind", "active", "fees paid")
    _same_shape(ledger.rt.publisher.published, {"exception.opened", "exception.waiting_on_partner",
                                                "exception.resumed", "tenant.suspended", "tenant.resumed"})


def test_a_platform_event_about_a_tenant_names_that_tenant():
    # tenant.* events are published on the platform's chain (the envelope's tenant_id is `_platform`), so a subscriber
    # (an MSP's billing, the contract indexer) learns which tenant was suspended or resumed only from the payload, as
    # tenant.offboarded's `offboarded_tenant_id` already says
    ledger = Ledger("2026-11-16T09:00:00Z")
    platform = Principal("_platform", Role.OPERATOR, "key_operator")
    tenants.set_status(ledger.rt, platform, "northwind", "suspended", "unpaid platform fees")
    tenants.set_status(ledger.rt, platform, "northwind", "active", "fees paid")
    details = {e["detail_type"]: e["detail"] for e in ledger.rt.publisher.published}
    assert details["tenant.suspended"]["suspended_tenant_id"] == "northwind"
    assert details["tenant.resumed"]["resumed_tenant_id"] == "northwind"


# The sources whose schemas were written from their publishers (services/pricing.py, tenants.py, offboarding.py,
# contracts.py, tasks.py): each test runs the real code path and validates every event it publishes against the
# source's schema (API.md: "`detail` always has `tenant_id`, `event_id`, `occurred_at` and the payload defined in
# `schemas/events/`").
SOURCES_FROM_CODE = ("revgov.pricing", "revgov.tenant", "revgov.contract", "revgov.agents")
REGISTERED = "ptr_01JBNWPARTNER0000000000002"  # an active Registered reseller: networking cap 5% (PA-6.2)


def test_each_source_the_code_publishes_on_has_a_schema():
    sources = {p.parent.name for p in EVENTS.glob("revgov.*/*.json")} - {"revgov.erp"}
    assert {f"events/{s}.schema.json" for s in sources} - set(schemas.names()) == set()
    assert {s for s in SOURCES_FROM_CODE if f"events/{s}.schema.json" in schemas.names()} == set(SOURCES_FROM_CODE)


def _staff(role: Role) -> Principal:
    return Principal("northwind", role, f"key_{role.value.upper():0<26}"[:30])


def _quote(ledger: Ledger, customer: str) -> dict[str, Any]:
    # 8% off NW-SW-24P is above the Registered networking cap of 5%: Channel Operations approves (PA-6.6(a))
    return pricing.check(ledger.rt, _staff(Role.SALES), {
        "partner_id": REGISTERED, "customer": {"id": customer, "name": "Lakeside"},
        "lines": [{"line_id": "1", "sku": "NW-SW-24P", "quantity": 1, "discount_percent": "8"}]})  # fmt: skip


def test_pricing_events_match_the_schema():
    """A quote checked (approval_required), one approved ("allow") and one rejected ("deny") through the cases."""
    ledger = Ledger("2026-11-02T10:00:00.000Z")
    approved, rejected = _quote(ledger, "CUST-EVS-1"), _quote(ledger, "CUST-EVS-2")
    assert approved["outcome"] == rejected["outcome"] == "approval_required"
    ops = _staff(Role.CHANNEL_OPS)
    cases.decide_case(ledger.rt, ops, "approval", approved["approvals"][0]["approval_id"], "approved", "within policy")
    cases.decide_case(ledger.rt, ops, "approval", rejected["approvals"][0]["approval_id"], "rejected", "too deep")
    published = ledger.rt.publisher.published
    _same_shape(published, {"quote.checked", "quote.approved", "quote.rejected"})
    outcomes = {e["detail_type"]: e["detail"]["outcome"] for e in published if e["source"] == "revgov.pricing"}
    assert outcomes == {"quote.checked": "approval_required", "quote.approved": "allow", "quote.rejected": "deny"}


def test_human_review_events_match_the_schema():
    """PA-14.2: "A Partner may request human review of any automated decision": a 60% quote denied, its review
    requested by the partner (`quote.review_requested`) and confirmed by channel ops (`quote.reviewed`, still a deny:
    PA-6.4 "a line above 30% cannot be approved under this Agreement")."""
    from revgov.services import decision_reviews

    ledger = Ledger("2026-11-02T10:00:00.000Z")
    partner = Principal("northwind", Role.PARTNER, "key_ptr_events", REGISTERED)
    denied = pricing.check(ledger.rt, partner, {
        "partner_id": REGISTERED, "customer": {"id": "CUST-EVS-HR", "name": "Lakeside"},
        "lines": [{"line_id": "1", "sku": "NW-SW-24P", "quantity": 1, "discount_percent": "60"}]})  # fmt: skip
    assert denied["outcome"] == "deny"
    review = decision_reviews.request_review(ledger.rt, partner, denied["decision_id"], {"reason": "a promotion"})
    cases.decide_case(ledger.rt, _staff(Role.CHANNEL_OPS), "approval", review["human_review"]["approval_id"],
                      "approved", "60% is above PA-6.4's 30% maximum")  # fmt: skip
    published = ledger.rt.publisher.published
    _same_shape(published, {"quote.review_requested", "quote.reviewed"})
    reviews = {e["detail_type"]: (e["detail"]["outcome"], e["detail"]["review"]) for e in published
               if e["detail_type"].startswith("quote.review")}  # fmt: skip
    assert reviews == {"quote.review_requested": ("deny", "open"), "quote.reviewed": ("deny", "confirmed")}


def test_tenant_events_match_the_schema():
    """Provisioned (by the Ledger), suspended, resumed without a reason (null), then offboarded."""
    ledger = Ledger("2026-11-16T09:00:00Z")
    platform = Principal("_platform", Role.OPERATOR, "key_operator")
    tenants.set_status(ledger.rt, platform, "northwind", "suspended", "unpaid platform fees")
    tenants.set_status(ledger.rt, platform, "northwind", "active", None)
    offboarding.offboard(ledger.rt, platform, "northwind")
    _same_shape(ledger.rt.publisher.published, {"tenant.provisioned", "tenant.suspended", "tenant.resumed",
                                                "tenant.offboarded"})


def test_contract_events_match_the_schema(monkeypatch):
    """A clause amended; a tenant provisioned where the index is built by the indexer (document `*`, no sha256)."""
    for_this_thread(monkeypatch, contracts, "inline_indexing", lambda rt: False)  # not the stack's contract writes
    ledger = Ledger("2026-11-16T09:00:00Z")
    contracts.amend_contract(ledger.rt, _staff(Role.ADMIN), "PA", {"reason": "validity", "clauses": [
        {"clause_id": "PA-6.1", "title": "Price lists and quote validity", "text": "Quotes are valid for 30 days."}]})
    changed = [e for e in ledger.rt.publisher.published if e["detail_type"] == "contract.changed"]
    assert [(e["detail"]["action"], e["detail"]["document"]) for e in changed] == [("provisioned", "*"),
                                                                                   ("amended", "PA")]
    _same_shape(ledger.rt.publisher.published, {"contract.changed"})


def test_agent_events_match_the_schema():
    """A threshold watcher's task and its escalation (confidence 2/6, below the bar: a person is asked)."""
    outlook = {"to_date": "20000.00", "projected": "60000.00", "interval_80": ["45000.00", "80000.00"],
               "elapsed_percent": "66.30", "history_months": 12, "method": "seasonal level"}  # fmt: skip
    threshold = {"program_id": "RBT-VOLUME", "program": "Quarterly volume rebate", "level": "1.0%",
                 "threshold": "100000.00", "clause": "PA-7.2", "source": "rebate_program", "p_miss": 0.93}  # fmt: skip
    partner = {"partner_id": "ptr_01JBNWPARTNER0000000000001", "legal_name": "Contour Networks LLC", "tier": "silver"}
    ledger = Ledger("2026-11-20T06:00:00.000Z")
    desk = AgentDesk(ledger.rt, threshold_watcher.NAME, "northwind")
    assert desk.handle(threshold_watcher._finding(partner, "2026-Q4", outlook, threshold)) is not None
    assert desk.handle(threshold_watcher._finding(partner, "2026-Q3", {**outlook, "history_months": 2},
                                                  threshold)) is not None
    opened = [e["detail"] for e in ledger.rt.publisher.published if e["detail_type"] == "task.opened"]
    assert [d["escalated"] for d in opened] == [False, True]
    _same_shape(ledger.rt.publisher.published, {"task.opened"})


@pytest.mark.parametrize("source", SOURCES_FROM_CODE)
def test_a_payload_off_the_schema_is_refused(source):
    """Bad inputs: an unknown field, a wrong id prefix, a float for money / a count, a missing required field."""
    name = f"events/{source}.schema.json"
    for path in sorted((EVENTS / source).glob("*.json")):
        sample = json.loads(path.read_text())
        detail = sample["detail"]
        assert schemas.problems(name, {**sample, "detail": {**detail, "surprise": 1}}) != []
        assert schemas.problems(name, {**sample, "detail": {**detail, "event_id": "evt_bad"}}) != []
        required = next(k for k in detail if k not in {"tenant_id", "event_id", "occurred_at"})
        assert schemas.problems(name, {**sample, "detail": {k: v for k, v in detail.items() if k != required}}) != []
        for key in ("net_total", "exported_items", "revision", "decision_id", "task_id", "partner_id"):
            if key in detail:
                assert schemas.problems(name, {**sample, "detail": {**detail, key: 1.5}}) != [], (path, key)
