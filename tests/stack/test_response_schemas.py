"""Every operation's success answer is what the contract declares, for each audience that may call it (#15, #20).

The OpenAPI (generated from the route table) names a schema under `schemas/` for every JSON success answer. Here a
tenant with a real object of every kind (`security_support.populate`, as the isolation suite builds it) is read
through every reading operation, once with a staff key and once with a partner key where partners may call it, and
each answer is validated against the declared schema. Fields a schema marks `"x-revgov-audience": "staff"` never
reach a partner key (PA-11.1 / CPA-11.1: "The Distributor does not disclose one Partner's pricing, registrations,
rebates or Customers to another Partner"; PA-6.1: Line Margin is stated "for internal review"). Schemas whose shape is
fixed say `additionalProperties: false`, so a field leaked into an answer fails here.

Operations with a request body are validated the same way by the example replay in test_openapi.py.
Set REVGOV_DUMP_RESPONSES=<dir> to write every answer read here to that folder (to write or review a schema).
"""

from __future__ import annotations

import json
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import clock_support
import revgov.edge.api  # noqa: F401  (fills the route table)
from revgov import schemas
from revgov.domain.access import Role
from revgov.edge.openapi import document, example_body
from revgov.edge.registry import OPERATIONS, Operation
from security_support import Party, make_party, offboard, populate
from security_support import _last_quarter as last_quarter

# path parameter -> the id prefix of the object it names (security_support.populate keeps them by prefix)
PREFIX = {
    "partner_id": "ptr", "decision_id": "dec", "deal_id": "dl", "approval_id": "apr", "exception_id": "exc",
    "invoice_id": "inv", "invoice_dispute_id": "ivd", "settlement_id": "set", "dispute_id": "dsp", "event_id": "evt",
    "subscription_id": "sub", "key_id": "key", "draft_id": "pdr", "charge_id": "lpc", "review_id": "rvw",
}  # fmt: skip
STAFF_ORDER = (Role.ADMIN, Role.FINANCE, Role.CHANNEL_OPS, Role.SALES, Role.LEGAL, Role.VIEWER, Role.OPERATOR)
# Reads that change nothing but need an object this suite does not make: named, so the list cannot grow silently.
NOT_READ = {
    "get_billing_subscription": "needs an ERP subscription.activated event (tests/stack/test_billing_subscriptions.py)",
    "get_delivery": "needs a delivered outbound event (tests/security/test_outbound_webhooks.py)",
    "get_partner_audit": "needs an audit scheduled on 30 days' notice (tests/stack/test_partner_audits_api.py checks "
    "the staff and the partner answers against the schema)",
    "get_audit_repayment": "needs a closed audit that found an overpayment (tests/unit/test_partner_audits.py; the "
    "schema's example is checked above)",
    "get_security_incident": "needs a reported incident (tests/stack/test_partner_audits_api.py checks the staff and "
    "the partner answers against the schema)",
}


def _json_reads() -> list[Operation]:
    return [op for op in OPERATIONS if op.method == "GET" and op.produces.endswith("json") and op.name not in NOT_READ]


def test_every_json_operation_declares_a_typed_success_schema():
    """#20: "50 of 62 success responses are `{"type": "object"}`" — a client generated from that has no types."""
    spec = document()
    untyped = []
    for op in OPERATIONS:
        content = spec["paths"][op.path][op.method.lower()]["responses"][str(op.status)]["content"]
        if op.produces.endswith("json") and (not op.response_schema or content[op.produces]["schema"] == {
            "type": "object"
        }):
            untyped.append(op.name)
    assert not untyped, f"operations whose success answer has no schema: {untyped}"


def test_every_success_answer_has_an_example_that_matches_its_schema():
    """#20: "every request and response schema and example" in the OpenAPI."""
    spec = document()
    for op in OPERATIONS:
        if not op.produces.endswith("json"):
            continue
        content = spec["paths"][op.path][op.method.lower()]["responses"][str(op.status)]["content"][op.produces]
        assert "default" in content.get("examples", {}), f"{op.name} documents no example answer"
        example = content["examples"]["default"]["value"]
        if op.response_schema:
            found = schemas.problems(op.response_schema, example)
            assert not found, (op.name, [f"{e.path}: {e.message}" for e in found[:5]])


def staff_only_fields(name: str, seen: set[str] | None = None) -> set[str]:
    """Property names a schema (and the schemas it references) marks `x-revgov-audience: staff`."""
    seen = seen if seen is not None else set()
    if name in seen:
        return set()
    seen.add(name)
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in (node.get("properties") or {}).items():
                if isinstance(value, dict) and value.get("x-revgov-audience") == "staff":
                    found.add(key)
            ref = node.get("$ref")
            if isinstance(ref, str) and not ref.startswith("#"):
                target = ref.removeprefix(schemas.BASE_URI).split("#")[0]
                if not ref.startswith(schemas.BASE_URI):
                    target = os.path.normpath(os.path.join(os.path.dirname(name), target))
                found.update(staff_only_fields(target, seen))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schemas.schema(name))
    return found


def _present(body: Any, fields: set[str]) -> set[str]:
    """The `fields` that occur in `body` with a value (a partner view may keep a staff-only field as null)."""
    if isinstance(body, dict):
        here = {k for k, v in body.items() if k in fields and v not in (None, [], {})}
        return here.union(*(_present(v, fields) for v in body.values()))
    if isinstance(body, list):
        return set().union(*(_present(v, fields) for v in body))
    return set()


@pytest.fixture(scope="module")
def party(api: Any, operator: Any, stack: Any) -> Any:
    party = make_party(api, operator, stack, "contoso")
    missing = populate(party, api)
    draft = next(op for op in OPERATIONS if op.name == "create_policy_draft")  # a policy draft to read
    made = party.by_role["channel_ops"].post(draft.path, example_body(draft))
    if made.status_code == 201:
        party.keep("pdr", made.json()["draft_id"])
    else:
        missing.setdefault("pdr", []).append(made.text[:300])
    yield party, missing
    offboard(operator, party)


def _quarter(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _path_values(party: Party, op: Operation) -> dict[str, str] | None:
    """The path's values: the tenant's own objects, the first partner's where a partner id is asked."""
    admin = party.admin
    values: dict[str, str] = {}
    for name in re.findall(r"{([a-z_]+)}", op.path):
        if name == "tenant_id":
            values[name] = party.tenant_id
        elif name == "partner_id":
            values[name] = party.partners[0]
        elif name == "document":
            documents = admin.get("/v1/contracts").json()["items"]
            values[name] = documents[0]["document"]
        elif name == "name":
            entitlements = admin.get(f"/v1/partners/{party.partners[0]}/entitlements").json()["entitlements"]
            values[name] = sorted(entitlements)[0]
        elif name == "customer_id":  # the ERP's customer id, with a record to read
            values[name] = _customer_with_records(party)
        elif name == "sku":
            shipped = [p for p in party.policy["billing"]["price_list"] if p.get("billing") == "shipment"]
            values[name] = shipped[0]["sku"]
        elif name in PREFIX and party.objects.get(PREFIX[name]):
            values[name] = party.objects[PREFIX[name]][0]
        else:
            return None
    return values


def _customer_with_records(party: Party) -> str:
    """A customer of the (VAT) party with a VIES check recorded as finance records it, and an exemption certificate
    record as the sales-tax tenants keep it (the schema's own example: contoso takes no certificates)."""
    from revgov.ports import Changes, Put
    from revgov.services import tax_exemptions, vat_validation

    customer = "CUST-SCHEMA-1"
    body = {"result": "valid", "checked_at": clock_support.now_iso()[:19] + "Z", "reference": "WAPI-SCHEMA",
            "vat_number": "BE0123456789"}  # fmt: skip
    vat_validation.record_customer_check(party.rt, party.principal("finance"), customer, body)
    certificates = schemas.schema("api/responses/customer-tax-exemption.schema.json")["examples"][0]
    key = vat_validation.stored_customer_key(customer)
    put = Put(tax_exemptions.CUSTOMER_EXEMPTIONS, str(key), {**certificates, "customer_id": customer})
    party.rt.store.commit(party.tenant_id, Changes(puts=[put]))
    return customer


def _query(party: Party, op: Operation) -> dict[str, str]:
    """Required query values: a quarter where the operation takes one (`populate` sold in the last quarter)."""
    if op.name in (
        "get_kpis", "get_forecast", "get_workflow_metrics", "list_at_risk_partners", "get_revenue_recognition"
    ):
        return {"period": _quarter(clock_support.today())}
    if op.name in ("get_overdue_statement", "explain_settlement", "list_waiting"):  # staff name the partner; a partner
        # reads its own
        return {"partner_id": party.partners[0]}
    if op.name == "list_accruals":
        return {"period": last_quarter(), "partner_id": party.partners[0]}
    if op.name == "get_tier_review":  # a January day holds the annual review (PA-3.6 / CPA-3.5)
        return {"on": f"{clock_support.today().year}-01-20"}
    if op.name == "diff_catalog":
        seqs = [str(v["seq"]) for v in party.admin.get("/v1/catalog/versions").json()["items"]]
        return {"from": seqs[0], "to": seqs[-1]}
    return {}


def _audiences(party: Party, op: Operation) -> list[tuple[str, Any]]:
    out = []
    staff = next((r for r in STAFF_ORDER if r in op.roles), None)
    if staff is Role.OPERATOR:
        out.append(("operator", None))
    elif staff is not None:
        out.append((staff.value, party.by_role[staff.value]))
    if Role.PARTNER in op.roles:
        out.append(("partner", party.partner_keys[party.partners[0]]))
    if not op.roles:
        out.append(("public", party.admin.as_key(None)))
    return out


@pytest.mark.parametrize("op", _json_reads(), ids=lambda op: op.name)
def test_each_audience_reads_what_the_schema_declares(op, party, operator):
    party, missing = party
    values = _path_values(party, op)
    assert values is not None, f"{op.name}: no object to read ({missing})"
    dump = os.environ.get("REVGOV_DUMP_RESPONSES")
    for audience, key in _audiences(party, op):
        caller = operator if audience == "operator" else key
        response = caller.get(op.path.format(**values), **_query(party, op))
        assert response.status_code == op.status, (op.name, audience, response.status_code, response.text[:500])
        body = response.json()
        if dump:
            Path(dump).mkdir(parents=True, exist_ok=True)
            (Path(dump) / f"{op.name}.{audience}.json").write_text(json.dumps(body, indent=1))
            continue
        assert op.response_schema, f"{op.name} declares no response schema"
        found = schemas.problems(op.response_schema, body)
        assert not found, (op.name, audience, [f"{e.path}: {e.message}" for e in found[:8]])
        if audience == "partner":
            leaked = _present(body, staff_only_fields(op.response_schema))
            assert not leaked, f"{op.name}: a partner key reads staff-only fields {leaked}"


def _checked(op_name: str, audience: str, response: Any, status: int = 200) -> Any:
    """Validate one answer of `op_name` read by `audience` (and dump it when asked)."""
    op = next(o for o in OPERATIONS if o.name == op_name)
    assert response.status_code == status, (op_name, audience, response.status_code, response.text[:500])
    body = response.json()
    dump = os.environ.get("REVGOV_DUMP_RESPONSES")
    if dump:
        Path(dump).mkdir(parents=True, exist_ok=True)
        (Path(dump) / f"{op_name}.{audience}.2.json").write_text(json.dumps(body, indent=1))
        return body
    assert op.response_schema, f"{op_name} declares no response schema"
    found = schemas.problems(op.response_schema, body)
    assert not found, (op_name, audience, [f"{e.path}: {e.message}" for e in found[:8]])
    if audience == "partner":
        leaked = _present(body, staff_only_fields(op.response_schema))
        assert not leaked, f"{op_name}: a partner key reads staff-only fields {leaked}"
    return body


def test_a_quote_and_its_decision_as_staff_and_as_the_partner_read_them(party):
    """#15: "OpenAPI response schemas for pricing, decisions, deals, approvals and exceptions (not
    `{"type": "object"}`)". A quote that needs approval, checked by the partner itself and by sales, decided by the
    queues, then read back by both: every answer matches its schema, and the partner's carries no field the schema
    keeps for staff (unit cost, cost total, margin, rivals: PA-6.1 "for internal review", PA-11.1)."""
    party, _ = party
    own = party.partners[0]
    partner, sales = party.partner_keys[own], party.by_role["sales"]
    item = next(p for p in party.policy["billing"]["price_list"] if p.get("billing") == "shipment")
    for audience, key in (("partner", partner), ("staff", sales)):
        quote = {
            "partner_id": own, "quote_ref": f"Q-SCHEMA-{audience}", "customer": {"id": "CUST-SCHEMA", "name": "S"},
            "lines": [{"line_id": "1", "sku": item["sku"], "quantity": 2, "discount_percent": "12.00"}],
        }  # fmt: skip
        checked = _checked("check_quote", audience, key.post("/v1/pricing/check", quote))
        for approval in checked["approvals"]:
            decider = party.by_role[approval["queue"]]
            _checked("decide_approval", "staff", decider.post(
                f"/v1/approvals/{approval['approval_id']}/decision", {"outcome": "approved", "note": "fine"}
            ))  # fmt: skip
        for reader, reading in (("partner", partner), ("staff", party.by_role["finance"])):
            _checked("get_decision", reader, reading.get(f"/v1/decisions/{checked['decision_id']}"))


def test_an_approval_and_an_exception_answer_their_id_under_the_name_their_paths_use(party):
    """#20: "approvals are `case_id` in responses and `approval_id` in paths". Now one name: an approval's answers
    carry `approval_id`, an exception's `exception_id`, the `{approval_id}` / `{exception_id}` of their paths, so a
    client reads the id and calls the path with the same field. `case_id` stays, the same value, until 2.0
    (docs/api-changelog.md 1.4.0)."""
    party, _ = party
    admin = party.admin
    for kind, prefix in (("approval", "apr"), ("exception", "exc")):
        case_id = party.objects[prefix][0]
        read = admin.get(f"/v1/{kind}s/{case_id}").json()
        assert read[f"{kind}_id"] == case_id == read["case_id"]
        listed = admin.get(f"/v1/{kind}s", limit=200).json()["items"]
        assert listed and all(item[f"{kind}_id"] == item["case_id"] for item in listed)
        spec = document()
        [param] = spec["paths"][f"/v1/{kind}s/{{{kind}_id}}"]["get"]["parameters"]
        assert param["name"] == f"{kind}_id" and f"{kind}_id" in spec["components"]["schemas"][
            "api_responses_case"]["properties"]
    pending = admin.get("/v1/approvals", queue="channel_ops", limit=200).json()["items"]
    open_ = [a for a in pending if a["requested_by_key"] != party.key_ids["channel_ops"]]
    if open_:
        decided = party.by_role["channel_ops"].post(
            f"/v1/approvals/{open_[0]['approval_id']}/decision", {"outcome": "rejected", "note": "schema check"}
        )
        assert decided.status_code == 200 and decided.json()["approval_id"] == open_[0]["approval_id"], decided.text


def test_a_partner_reads_its_invoice_lines_without_the_distributors_line_cost(party):
    """An invoice line kept `cost` (the Line Cost, for the margin KPIs) and a partner key read it. PA-1.2: "'Line Cost'
    means the Distributor's standard landed cost recorded in the price list"; PA-11.1: each party keeps "the other's
    confidential information, including pricing […] confidential". Staff keep it."""
    party, _ = party
    own = party.partners[0]
    invoice_id = next(
        i["invoice_id"] for i in party.partner_keys[own].get("/v1/invoices", limit=200).json()["items"]
        if i["line_count"]
    )
    staff = party.by_role["finance"].get(f"/v1/invoices/{invoice_id}").json()
    partner = party.partner_keys[own].get(f"/v1/invoices/{invoice_id}").json()
    assert staff["lines"] and all("cost" in line for line in staff["lines"])
    assert [line["line_id"] for line in partner["lines"]] == [line["line_id"] for line in staff["lines"]]
    assert not [line for line in partner["lines"] if "cost" in line], partner["lines"][0]
