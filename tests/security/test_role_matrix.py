"""Role × endpoint × method is deny by default, with the one allow list in the route table (edge/registry.py).

Every Chalice route is an operation of the registry and every operation is a route, with the authorizer on exactly the
non-public ones; every role that an operation does not list gets 403 from it, whatever it sends; and the lists of
public operations, of operations open to partner keys and of operations open to the operator are pinned here, so a
route that widens access fails until someone looks at it and adds it on purpose.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

import revgov.edge.api as edge
from revgov.domain.access import Role
from revgov.edge.openapi import example_body
from revgov.edge.registry import OPERATIONS, Operation
from security_support import Party, random_id, write_figures

PUBLIC = {"health", "openapi_document", "receive_erp_events", "portal", "operations_view", "favicon"}
# Operations a partner key may call; each one filters or checks objects by the key's partner (see the isolation suite).
PARTNER_OPEN = {
    "get_kpis", "get_forecast", "ask_copilot", "explain_decision", "get_partner", "add_partner_document",
    "list_partner_entitlements", "get_partner_entitlement", "check_quote",
    "register_deal", "list_deals", "get_deal", "withdraw_deal", "get_decision", "list_accruals", "get_settlement",
    "file_dispute", "get_dispute", "list_billing_subscriptions", "get_billing_subscription",
    # issue 24: a partner reads its own invoices and disputes their lines (SOP-6.1 "through the Partner Portal")
    "list_invoices", "get_invoice", "file_invoice_dispute", "get_invoice_dispute",
    # issue 20: the key's own tenant, role, partner and queues (what the portal shows), nothing of anyone else
    "me",
    # issue 15: PA-5.3 "The Partner may request one extension of 30 days" (of its own registration)
    "request_deal_extension",
    # issue 20: the partner view of its quotes: summaries of its own decisions only (tests/stack/test_decisions_list)
    "list_decisions",
    # PA-10.8 / CPA-10.7: a partner reads its own overdue statement and late-payment charges (tests/stack/
    # test_overdue_api.py: another partner's is a 404), never prepares or decides a charge; the overdue list: its own
    # only (tests/unit/test_overdue_tenant_list.py: another partner's id is a 404)
    "get_overdue_statement", "get_late_payment_charge", "list_overdue_invoices",
    # PA-4.4: "The Partner must notify Channel Operations" of a certified individual leaving: its own certifications
    # only (tests/stack/test_certification_departures_api.py: another partner's id is a 404); it can only end validity
    "record_certification_departure",
    # explanations of the partner's own statement of an approved run and its own entitlements (tests/unit/
    # test_explain_rebates.py, test_explain_entitlements.py: another partner's is a 404)
    "explain_settlement", "explain_entitlement",
    # PA-13.1 / CPA-13.1: "either party gives notice": a partner reads its own agreement term and gives its own notice
    # of non-renewal (tests/stack/test_partner_renewals_api.py: another partner's id is a 404 on both)
    "get_partner_term", "give_partner_non_renewal",
    # PA-9.5 / CPA-9.5: a partner reads its own MDF ledger, asks pre-approval of its own activities and claims for them
    # (tests/stack/test_mdf_api.py: another partner's id is a 404); it never approves an activity or a claim
    "get_partner_mdf", "request_mdf_activity", "submit_mdf_claim",
    # SOP-4.3 / COP-4.3: "Partner users [...] may request but never approve an exception. Any attempt to self-approve
    # is rejected and recorded in the audit log": a partner key reaches the decision only to be refused (403) on its
    # own case with an `approval.decision_refused` / `exception.decision_refused` record; another partner's case is
    # a 404 (reviewer 5, tests/stack/test_reviewer5_quarter.py); nothing is ever decided by it
    "decide_approval", "resolve_exception",
    # SOP-6.3 / COP-6.3: "The Partner may appeal once" the decision on its own rebate dispute (another partner's dispute
    # is a 404: tests/unit/test_auditor3_rebates.py)
    "appeal_dispute",
    # PA-12.1 / CPA-12.1: the Distributor "provides the Partner, on request, with the records relating to the Partner":
    # its own partner's records only, masked (tests/stack/test_audit_partner_trail.py: another partner's id is a 404)
    "list_audit",
    # PA-12.1 / CPA-12.1 again: a partner reads its own audits (notice, findings, repayment) and its own repayment,
    # never schedules, records or closes one (tests/unit/test_partner_audits.py, tests/stack/test_partner_audits_api.py:
    # another partner's is a 404)
    "list_partner_audits", "get_partner_audit", "get_audit_repayment",
    # PA-11.2 / CPA-11.2: "Each party notifies the other": a partner reports an incident affecting the distributor's
    # data through its own key and reads its own incidents (tests/unit/test_security_incidents.py: another partner's
    # is a 404, its id in a report is refused as unknown); it never records the distributor's notice
    "record_security_incident", "list_security_incidents", "get_security_incident",
    # SOP-6.3 / COP-6.3 cover invoice disputes too: the partner appeals the rejection of its own invoice dispute
    # (another partner's is a 404: tests/unit/test_invoice_dispute_appeals.py); SOP-1.3 / COP-1.3 "restarts when the
    # Partner responds": it answers what its own approval or exception waits on (another partner's is a 404:
    # tests/unit/test_sla_pause.py, tests/stack/test_dispute_routes.py)
    "appeal_invoice_dispute", "partner_reply_approval", "partner_reply_exception",
    # SOP-1.3 / COP-1.3 "paused only while an item is in the status 'waiting on partner' and restarts when the Partner
    # responds": the partner lists what waits on it, its own only (tests/stack/test_waiting_api.py: a rival sees none)
    "list_waiting",
    # the seed whitepaper's "summarizing partner performance": a partner reads its own Quarter summarized, without the
    # staff-only sentences (tests/unit/test_performance_summary.py and the isolation suite: a rival's id is a 404)
    "get_performance_summary",
    # SOP-7.2: statements are issued once a second finance member approves the run; a partner lists the issued runs
    # with its own statement, its own line only, as get_settlement reads them (tests/stack/test_rebates_api.py: a
    # rival's partner_id lists nothing, nor does a run not approved)
    "list_settlements",
    # PA-10.1: "a Partner claiming exemption must have a valid certificate on file": a partner reads its own verified
    # certificates, the verifier's team only (tests/unit/test_sales_tax.py: another partner's id is a 404)
    "get_tax_exemptions",
    # PA-14.2 / CPA-14.2: "A Partner may request human review of any automated decision": of its own decision only
    # (another partner's is a 404: tests/unit/test_decision_reviews.py, tests/stack/test_decision_review_route.py)
    "request_decision_review",
    # PA-14.2 / CPA-14.2: the same review of its own rebate statement line, invoice line or entitlement check, and its
    # reading (another partner's is a 404: tests/unit/test_automated_decision_reviews.py)
    "request_automated_review", "get_automated_review",
    # PA-2.8 / CPA-2.8: the partner tells of a change of its own ownership (another partner's id is a 404:
    # tests/unit/test_ownership_changes.py); it records no screening, which stays the Distributor's
    "record_partner_ownership_change",
    # PA-2.1 "A Partner may apply to change its partner type": its own only (another partner's id is a 404:
    # tests/unit/test_partner_type_change.py); Channel Operations approves it, never the partner (SOP-4.3)
    "request_partner_type_change",
    # PA-7.8 / CPA-7.8 "where the Partner has no open balance and requests it, by bank transfer": the partner asks for
    # (or withdraws) settlement by bank transfer and reads its own request; another partner's id is a 404
    # (tests/unit/test_settlement_bank_transfer.py)
    "request_bank_transfer", "withdraw_bank_transfer", "get_bank_transfer_request",
}
# The operator is the platform: tenants and their keys, and the platform's own audit chain; no tenant's business data.
OPERATOR_OPEN = {
    "create_tenant", "list_tenants", "get_tenant", "suspend_tenant", "resume_tenant", "offboard_tenant",
    "create_tenant_key", "rotate_webhook_secret", "list_audit", "verify_audit",
}
ALL_ROLES = [r.value for r in Role]
FIGURES = {"requests": 0, "denied_as_expected": 0, "allowed_roles_tried": 0}


def test_every_route_is_an_operation_of_the_registry_and_back():
    routes = {
        (path, method): entry for path, methods in edge.app.routes.items() for method, entry in methods.items()
        if method != "OPTIONS"
    }
    operations = {(op.path, op.method): op for op in OPERATIONS}
    assert set(routes) == set(operations), set(routes) ^ set(operations)
    # A CORS preflight carries no credentials (Fetch standard, "CORS-preflight request"), so each path's OPTIONS is
    # unauthenticated, answered by the preflight view, and exists only for paths that have operations
    preflights = {
        path: methods["OPTIONS"] for path, methods in edge.app.routes.items() if "OPTIONS" in methods
    }
    assert set(preflights) == {op.path for op in OPERATIONS}
    assert all(entry.view_name.startswith("preflight") and entry.authorizer is None for entry in preflights.values())
    assert len(operations) == len(OPERATIONS), "two operations share a method and path"
    for key, op in operations.items():
        entry = routes[key]
        assert entry.view_name == op.name
        assert (entry.authorizer is None) == op.public, f"{op.name}: the authorizer must guard every non-public route"


def test_access_is_widened_only_on_purpose():
    public = {op.name for op in OPERATIONS if op.public}
    assert public == PUBLIC, f"public operations changed: {public ^ PUBLIC}"
    partner = {op.name for op in OPERATIONS if Role.PARTNER in op.roles}
    assert partner == PARTNER_OPEN, f"operations open to partner keys changed: {partner ^ PARTNER_OPEN}"
    operator = {op.name for op in OPERATIONS if Role.OPERATOR in op.roles}
    assert operator == OPERATOR_OPEN, f"operations open to the operator changed: {operator ^ OPERATOR_OPEN}"
    for op in OPERATIONS:
        assert op.roles <= set(Role), op.name
        # the audit list alone also serves a partner key its own records (PA-12.1): each caller reads its own tenant's
        # chain, the operator the platform's, a partner its own partner's records
        others = {Role.PARTNER} if op.name == "list_audit" else set()
        assert not (Role.OPERATOR in op.roles
                    and op.roles - {Role.OPERATOR, Role.ADMIN, Role.FINANCE, Role.LEGAL, *others}), (
            f"{op.name} mixes the platform operator with tenant roles"
        )


def _request(op: Operation) -> tuple[str, Any]:
    values = {}
    for name in re.findall(r"{([a-z_]+)}", op.path):
        prefix = op.id_params.get(name) or {"decision_id": "dec", "event_id": "evt"}.get(name)
        values[name] = random_id(prefix) if prefix else ("no-such-tenant" if name == "tenant_id" else "support_level")
    body = copy.deepcopy(example_body(op)) if op.body_schema else None
    if op.name == "create_tenant":
        body["tenant_id"] = "no-such-tenant"  # refused below with 403 for every role but the operator's
    return op.path.format(**values), body


@pytest.fixture(scope="module")
def principals(attacker: Party, operator: Any) -> dict[str, Any]:
    return {"operator": operator, **attacker.by_role, "partner": attacker.partner_keys[attacker.partners[0]]}


@pytest.mark.parametrize("op", [op for op in OPERATIONS if not op.public], ids=lambda op: op.name)
def test_a_role_not_listed_is_refused_and_a_listed_one_is_not(op, principals):
    path, body = _request(op)
    query = {q.name: "2026-Q4" for q in op.query if q.name == "period"}
    for role in ALL_ROLES:
        if op.name == "create_tenant" and role == "operator":
            continue  # would provision a tenant; the operator's access to it is pinned above
        response = principals[role].request(op.method, path, body, **query)
        FIGURES["requests"] += 1
        denied = response.status_code == 403 and response.json()["detail"].startswith(f"role {role} may not")
        assert response.status_code < 500, (op.name, role, response.text[:300])
        if Role(role) in op.roles:
            FIGURES["allowed_roles_tried"] += 1
            assert not denied, (op.name, role, response.text[:300])
        else:
            FIGURES["denied_as_expected"] += int(denied)
            assert denied, (op.name, role, response.status_code, response.text[:300])
    write_figures("roles", FIGURES)
