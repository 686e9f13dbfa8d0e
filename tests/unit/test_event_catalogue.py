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
from revgov.services import case_waiting, cases, tenants

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
