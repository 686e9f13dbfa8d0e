"""Refusals a new user met without the field they were about (newuser5's walk through the API).

API.md, Conventions: "Errors are `application/problem+json` (RFC 9457): `type`, `title`, `status`, `detail`, and
`errors: [{path, message}]` for validation" and "validation errors name the field in `path`". COMMON.md: "Bad input:
a problem+json (RFC 9457) naming the field (JSON pointer), nothing changed". Each case below was a 422 whose body had
no `errors`, so a caller (an n8n flow, a reseller's form) could not point at what to correct.
"""

from __future__ import annotations

import json

import pytest

from memory_store import memory_runtime
from revgov.domain import deals, policy_change
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Forbidden, RevgovError, RuleViolation
from revgov.ports import Changes, Put
from revgov.services import cases, contracts, keys, pricing, subscriptions
from support import ROOT

REGISTERED = "ptr_01JBNWPARTNER0000000000002"  # an active Registered reseller of the billing samples


def _who(role: str) -> Principal:
    return Principal("northwind", Role(role), f"key_{role.upper():0<26}"[:30])


def _quoting_runtime():  # type: ignore[no-untyped-def]
    rt, _ = memory_runtime("2026-11-02T10:00:00.000Z")
    partners = json.loads((ROOT / "tests" / "scenarios" / "billing" / "erp-samples.json").read_text())["partners"]
    rt.store.commit("northwind", Changes(puts=[Put("PARTNER", p["partner_id"], p) for p in partners]))
    return rt


def _quote(**changes: object) -> dict[str, object]:
    quote: dict[str, object] = {
        "partner_id": REGISTERED, "customer": {"id": "CUST-NU5-1", "name": "Lakeside"},
        "lines": [{"line_id": "1", "sku": "NW-SW-24P", "quantity": 1, "discount_percent": "2"},
                  {"line_id": "2", "sku": "NW-FW-200", "quantity": 1, "discount_percent": "2"}]}  # fmt: skip
    quote.update(changes)
    return quote


def _refused(call) -> RevgovError:  # type: ignore[no-untyped-def]
    with pytest.raises(RevgovError) as refused:
        call()
    return refused.value


def test_an_unknown_promotion_code_is_a_422_naming_its_place_in_promotions_and_nothing_is_recorded():
    # PA-6.4 lists the promotions a quote may apply; the policy names each by `code` (tenant.yaml pricing.promotions).
    rt = _quoting_runtime()
    head = rt.store.audit_head("northwind")
    error = _refused(lambda: pricing.check(rt, _who("sales"), _quote(promotions=["NET-REFRESH-26", "NO-SUCH-CODE"])))
    assert isinstance(error, RuleViolation)
    assert [e.as_dict() for e in error.errors] == [
        {"path": "/promotions/1", "message": "NO-SUCH-CODE is not a promotion of this tenant's policy"}]
    assert rt.store.audit_head("northwind") == head  # nothing decided, nothing audited


def test_a_repeated_line_id_is_a_422_naming_the_repeated_line():
    rt = _quoting_runtime()
    head = rt.store.audit_head("northwind")
    lines = _quote()["lines"]
    assert isinstance(lines, list)
    repeated = [lines[0], dict(lines[1], line_id="1")]
    error = _refused(lambda: pricing.check(rt, _who("sales"), _quote(lines=repeated)))
    assert isinstance(error, RuleViolation)
    assert [e.as_dict() for e in error.errors] == [
        {"path": "/lines/1/line_id", "message": "line_id 1 is already that of /lines/0"}]
    assert rt.store.audit_head("northwind") == head


def test_a_contract_whose_document_header_is_not_the_path_is_a_422_naming_markdown():
    # docs/copilot.md "Contracts through the API": "the text parses into clauses under a `Document:` header equal to
    # the path"; the body's field holding that header is `markdown` (schemas/api/contract-document.schema.json).
    rt, _ = memory_runtime("2026-11-02T10:00:00.000Z")
    before = contracts.get_contract(rt, _who("legal"), "PA")["contract"]["revision"]
    markdown = "# Reseller terms\n\nDocument: FRA\nVersion: 1\nEffective: 2026-01-01\n\n### FRA-1.1 Terms\nNet 30.\n"
    error = _refused(lambda: contracts.put_contract(rt, _who("legal"), "FRB", {"name": "fra.md", "markdown": markdown}))
    assert isinstance(error, RuleViolation)
    assert [e.path for e in error.errors] == ["/markdown"]
    assert "FRA" in error.errors[0].message and "FRB" in error.errors[0].message
    assert [c["document"] for c in contracts.list_contracts(rt, _who("legal"))["items"]] == ["PA", "SOP"]
    assert contracts.get_contract(rt, _who("legal"), "PA")["contract"]["revision"] == before


def test_a_refused_policy_approval_under_a_policy_that_declares_no_clause_does_not_print_none():
    # A tenant provisioned with a policy that has no `policy_changes` rule and no segregation-of-duties rule (the
    # OpenAPI example of POST /v1/tenants) is approved by finance and legal under POLICY-CHANGE-APPROVAL, citing no
    # clause: the refusal says why without a "(None)" where a clause would be.
    draft = {"draft_id": "pdr_X", "status": "proposed", "required_roles": ["finance", "legal"],
             "approval_rule": policy_change.change_rule({}), "hands": ["key_A"], "approvals": []}  # fmt: skip
    assert draft["approval_rule"]["clause"] is None
    with pytest.raises(Forbidden) as refused:
        policy_change.refuse_approval(draft, "finance", "key_A")
    assert "None" not in refused.value.detail
    assert refused.value.detail.endswith("may not approve it")


@pytest.mark.parametrize(("role", "partner_id", "path"), [
    ("partner", None, "/partner_id"),  # a partner key is bound to one partner id (API.md, Conventions)
    ("partner", "ptr_01M985T89PT32M07HDEQ81TCF6", "/partner_id"),  # no such partner here: the same 422 as a rival's
    ("finance", REGISTERED, "/partner_id"),  # only a partner key is bound to a partner
])
def test_a_key_that_cannot_be_minted_is_a_422_naming_partner_id_and_no_key_is_made(role, partner_id, path):
    rt = _quoting_runtime()
    operator = Principal("_platform", Role.OPERATOR, "key_OPERATOR0000000000000000000")
    before = keys.list_keys(rt, "northwind", limit=200, cursor=None).items
    error = _refused(lambda: keys.create_key(rt, operator, "northwind", Role(role), partner_id, "portal"))
    assert isinstance(error, RuleViolation)
    assert [e.path for e in error.errors] == [path]
    assert keys.list_keys(rt, "northwind", limit=200, cursor=None).items == before


def test_rejecting_an_approval_without_a_reason_is_a_422_naming_note_and_the_approval_stays_pending():
    # API.md: an approval is decided with `POST /v1/approvals/{approval_id}/decision` ({outcome, note}); docs/
    # onboarding.md: "rejecting needs a `note`". 8% off NW-SW-24P is above the Registered networking cap of 5%
    # (PA-6.2): Channel Operations decides it (PA-6.6(a)).
    rt = _quoting_runtime()
    checked = pricing.check(rt, _who("sales"), _quote(lines=[
        {"line_id": "1", "sku": "NW-SW-24P", "quantity": 1, "discount_percent": "8"}]))
    approval_id = checked["approvals"][0]["approval_id"]
    for note in (None, "  "):
        error = _refused(lambda note=note: cases.decide_case(rt, _who("channel_ops"), "approval", approval_id,
                                                             "rejected", note))
        assert isinstance(error, RuleViolation)
        assert [e.path for e in error.errors] == ["/note"]
    assert cases.get_case(rt, "northwind", "approval", approval_id)[0]["status"] == "pending"


def test_a_deal_registration_closing_in_the_past_is_a_422_naming_expected_close():
    # PA-5.1: a registration is "evidenced by [...] an expected close date within 180 days"; one already past is no
    # opportunity. The window's other side already named /expected_close; the past side named nothing.
    for close, registered in (("2026-11-01", "2026-11-02T10:00:00.000Z"), ("2027-06-01", "2026-11-02T10:00:00.000Z")):
        with pytest.raises(RuleViolation) as refused:
            deals.check_dates(close, registered, 180)
        assert [e.path for e in refused.value.errors] == ["/expected_close"]
    deals.check_dates("2026-11-02", "2026-11-02T10:00:00.000Z", 180)  # the day itself is not past


@pytest.mark.parametrize(("event_types", "path"), [
    (["quote.aproved"], "/event_types/0"),  # a typo: Revgov emits quote.approved
    (["quote.approved", "nope.*"], "/event_types/1"),  # no event type of that area
    (["Quote"], "/event_types/0"),  # not an event type's shape at all
])
def test_a_subscription_to_an_event_revgov_never_emits_is_a_422_naming_the_entry(event_types, path):
    # API.md, outbound: "`POST /v1/subscriptions` (an https URL on a public address + event types [...]); the events
    # are listed under the OpenAPI `webhooks`". A name that is not one of them (nor an area of them) would be accepted
    # and never delivered: the integrator's flow would wait for nothing.
    rt = _quoting_runtime()
    head = rt.store.audit_head("northwind")
    body = {"url": "https://hooks.example/revgov", "event_types": event_types}
    error = _refused(lambda: subscriptions.create(rt, _who("admin"), body, resolver=lambda host: ["93.184.216.34"]))
    assert isinstance(error, RuleViolation)
    assert [e.path for e in error.errors] == [path]
    assert rt.store.audit_head("northwind") == head


def test_the_event_types_a_subscription_may_name_are_the_openapi_webhooks():
    from revgov.edge.openapi import document
    from revgov.edge.routes import load_all

    load_all()  # the route table first: document() is cached, and other tests read its paths
    rt = _quoting_runtime()
    emitted = sorted(document()["webhooks"])
    assert "quote.approved" in emitted and "shipment.confirmed" not in emitted  # the ERP's own events are inbound
    made = subscriptions.create(rt, _who("admin"), {"url": "https://hooks.example/revgov",
                                                    "event_types": ["*", "quote.*", *emitted[:48]]},
                                resolver=lambda host: ["93.184.216.34"])
    assert made["status"] == "active"


@pytest.mark.parametrize(("raw", "paths"), [
    (b'{"x": 1, "a/b": 2}', ["/x", "/a~1b"]),  # each member sent, as a JSON pointer (RFC 6901)
    (b"[1]", [""]),  # not an object at all: the body itself
])
def test_a_body_sent_to_an_operation_that_takes_none_is_a_400_naming_what_was_sent(raw, paths):
    # API.md: "Unknown fields are rejected" and "validation errors name the field in `path`". POST
    # /v1/invoices/{invoice_id}/finalize takes no body ({} is accepted); {"x": 1} answered 400 without `errors`.
    from revgov.domain.errors import MalformedRequest
    from revgov.edge import http
    from revgov.edge.registry import OPERATIONS
    from revgov.edge.routes import load_all

    load_all()
    finalize = next(op for op in OPERATIONS if op.method == "POST" and op.path == "/v1/invoices/{invoice_id}/finalize")
    context = {"verdict": "ok", "tenant_id": "northwind", "role": "finance", "key_id": "key_x"}
    with pytest.raises(MalformedRequest) as refused:
        http.build_call(finalize, context=context, headers={}, params={"invoice_id": "inv_01JX0000000000000000000000"},
                        query={}, raw_body=raw, runtime=None, max_body_bytes=1024, correlation_id="c")
    assert [e.path for e in refused.value.errors] == paths


def test_an_unknown_product_family_on_a_registration_names_the_families_the_program_has():
    # PA-5.1 registers a deal for a Product Family; the families are those of the policy's certification catalogue
    # (PA-4.1) and the ones exempt from certification. The refusal said "not known" and left the caller guessing.
    from revgov.tenant_files import load_tenant_file

    policy = load_tenant_file(ROOT / "tenants" / "contoso" / "tenant.yaml")["policy"]
    families = sorted({c["product_family"] for c in policy["certifications"]}
                      | set(policy["deal_registration"]["eligibility"].get("certification_exempt_families", [])))
    with pytest.raises(RuleViolation) as refused:
        deals.registration_problems(policy, {"partner_id": "ptr_x", "status": "active"}, "networking",
                                    "2026-12-07T10:00:00Z")
    assert [e.as_dict() for e in refused.value.errors] == [
        {"path": "/family", "message": f"one of {', '.join(families)}"}]
    assert "networking" not in families


# newuser6: docs/n8n.md step 4 "Outbound webhooks go to https URLs on public addresses only". A first subscription to an
# http URL whose host did not resolve (yet) was told only "does not resolve", and a misspelt event type in the same
# body was not named at all: the integrator fixed one thing per try. Every reason is named at once, nothing is made.
def test_a_subscription_names_every_reason_it_is_refused_at_once_https_first():
    rt = _quoting_runtime()
    head = rt.store.audit_head("northwind")
    body = {"url": "http://n8n.reseller.example/webhook/revgov/events", "event_types": ["quote.aproved"]}
    error = _refused(lambda: subscriptions.create(rt, _who("admin"), body, resolver=lambda host: []))
    assert isinstance(error, RuleViolation)
    assert [(e.path, e.message) for e in error.errors] == [
        ("/url", "deliveries go over https only"),
        ("/url", "n8n.reseller.example does not resolve"),
        ("/event_types/0", "Revgov emits no quote.aproved event"),
    ]
    assert rt.store.audit_head("northwind") == head


# newuser6: PA-5.1 "Deal registration is an entitlement of the Silver, Gold and Platinum tiers. Registered tier
# Partners may not register deals." A Registered reseller registering a deal read only `reasons`: a 422 with no
# `errors`, so a form could not point at what made it ineligible. The partner (its status, its tier's entitlement)
# is `/partner_id`; a missing certification for the family, `/family`; `reasons` still cite the rule and clause.
def test_a_registration_the_partner_is_not_eligible_for_names_partner_id_and_nothing_is_recorded():
    from revgov.services import deals as deal_service

    rt = _quoting_runtime()
    head = rt.store.audit_head("northwind")
    body = {"partner_id": REGISTERED, "customer": {"id": "CUST-NU6-1", "name": "Harbor", "contact": "Morgan Lee"},
            "family": "networking", "estimated_value": "84000.00", "expected_close": "2026-12-15"}  # fmt: skip
    error = _refused(lambda: deal_service.register(rt, _who("sales"), body))
    assert isinstance(error, RuleViolation)
    # PA-5.1 also: "only for a Product Family in which it holds a valid certification" (it holds none in networking)
    assert [(e.path, e.message) for e in error.errors] == [
        ("/partner_id", "tier registered carries no deal_registration entitlement"),
        ("/family", "no valid certification for networking")]
    assert [(r["rule_id"], r["clause"]) for r in error.extra["reasons"]] == [("DR-ELIGIBILITY", "PA-5.1")] * 2
    assert all(set(r) == {"rule_id", "clause", "message"} for r in error.extra["reasons"])
    assert rt.store.audit_head("northwind") == head
