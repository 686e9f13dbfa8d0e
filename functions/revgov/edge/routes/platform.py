"""Health, the OpenAPI document, tenants (operator), API keys and the audit chain."""

from __future__ import annotations

import re
from typing import Any

from ... import __version__
from ...domain.access import Role
from ...domain.errors import NotFound
from ...services import audit, keys, offboarding, tenants
from ..http import Answer, Call
from ..openapi import document_json
from ..registry import ADMIN, OPERATOR, PUBLIC, QueryParam, operation
from .status_changes import StatusChanges

_TENANT_ID = re.compile(r"^[a-z][a-z0-9-]{2,39}$")
AUDITORS = frozenset({Role.ADMIN, Role.FINANCE, Role.LEGAL, Role.OPERATOR})
# PA-12.1 / CPA-12.1: the Distributor "provides the Partner, on request, with the records relating to the Partner"
AUDIT_READERS = frozenset(AUDITORS | {Role.PARTNER})
PARTNER_TRAIL = (
    "`partner_id`: the records relating to that partner (PA-12.1 / CPA-12.1): each record names the partner it "
    "concerns (`partner_id`, under the record's hash) and is listed through that partner's own index, oldest first. "
    "Staff (admin, finance, legal) list any partner of the tenant (an unknown one is a 404). A partner key lists "
    "only its own partner's records (`partner_id` may be left out; another partner's id is a 404, `subject` a 403), "
    "each masked as a partner reads records: who acted as the team (`finance`, `system`), never a key id, user "
    "name or e-mail address; no other partner's id (a member named by one is left out, one inside a text reads "
    "`another partner`); no Line Cost or margin in the inputs, no case's `risk_score` (a quote's follows its margin); "
    "no `hash`, `inputs_hash` or `prev_hash` (a hash over what was masked would confirm a guess of it) "
    "(`partner_view: true`). An agent's records (its tasks for the staff) are not listed to a partner key, so a page "
    "may hold fewer than `limit`. `subject` and `partner_id` "
    "are not given together (400). A cursor is valid only for the list that minted it (400)."
)


def _tenant_id(call: Call) -> str:
    tenant_id = call.params["tenant_id"]
    if not _TENANT_ID.fullmatch(tenant_id):  # not `match`: `$` would let a trailing newline through
        raise NotFound(f"no tenant {tenant_id}")
    return tenant_id


@operation(
    "GET", "/v1/health", summary="Liveness and version", roles=PUBLIC, tag="platform",
    response_schema="api/responses/health.schema.json",
)
def health(call: Call) -> dict[str, Any]:
    return {"status": "ok", "version": __version__, "stage": call.runtime.settings.stage}


@operation("GET", "/v1/openapi.json", summary="This API as OpenAPI 3.1", roles=PUBLIC, tag="platform",
           response_schema="api/responses/openapi-document.schema.json")
def openapi_document(call: Call) -> Answer:
    return Answer(200, document_json(), content_type="application/json")


# --- tenants (operator) ----------------------------------------------------------------------
@operation(
    "POST",
    "/v1/tenants",
    summary="Provision a white-label tenant",
    roles=OPERATOR,
    tag="tenants",
    body_schema="tenant.schema.json",
    status=201,
    example="tenant-create.json",
    response_schema="api/responses/tenant-created.schema.json",
)
def create_tenant(call: Call) -> dict[str, Any]:
    return tenants.create_tenant(call.runtime, call.who, call.body)


@operation(
    "GET", "/v1/tenants", summary="List tenants", roles=OPERATOR, tag="tenants", paginated=True,
    response_schema="api/responses/tenant-page.schema.json",
)
def list_tenants(call: Call) -> Any:
    return tenants.list_tenants(call.runtime, limit=call.limit, cursor=call.cursor)


@operation(
    "GET", "/v1/tenants/{tenant_id}", summary="Read a tenant", roles=OPERATOR, tag="tenants",
    response_schema="api/responses/tenant.schema.json",
)
def get_tenant(call: Call) -> dict[str, Any]:
    return tenants.get_tenant(call.runtime, _tenant_id(call))


_STANDING = StatusChanges(
    "/v1/tenants/{tenant_id}", "tenant", "tenants", _tenant_id, tenants.set_status,
    response_schema="api/responses/tenant.schema.json",
)
_STANDING.declare(
    "suspend",
    to="suspended",
    summary="Suspend a tenant: its keys get 403",
    roles=OPERATOR,
    reason="invoice 2026-10 unpaid",
)
_STANDING.declare("resume", to="active", summary="Resume a suspended tenant", roles=OPERATOR, reason="payment received")


@operation(
    "DELETE",
    "/v1/tenants/{tenant_id}",
    summary="Offboard: export every item, then delete them all",
    roles=OPERATOR,
    tag="tenants",
    response_schema="api/responses/tenant-offboarded.schema.json",
)
def offboard_tenant(call: Call) -> dict[str, Any]:
    return offboarding.offboard(call.runtime, call.who, _tenant_id(call))


@operation(
    "POST",
    "/v1/tenants/{tenant_id}/keys",
    summary="Create a key in a tenant (operator)",
    roles=OPERATOR,
    tag="keys",
    body_schema="api/key-create.schema.json",
    status=201,
    example={"role": "admin", "label": "MSP on-call admin"},
    response_schema="api/responses/key-created.schema.json",
)
def create_tenant_key(call: Call) -> dict[str, Any]:
    tenant_id = _tenant_id(call)
    tenants.load_tenant(call.runtime, tenant_id)
    return _create_key(call, tenant_id)


def _create_key(call: Call, tenant_id: str) -> dict[str, Any]:
    body = call.body
    return keys.create_key(call.runtime, call.who, tenant_id, Role(body["role"]), body.get("partner_id"), body["label"])


# --- keys (tenant admin) ---------------------------------------------------------------------
@operation(
    "POST",
    "/v1/keys",
    summary="Create a role or partner key; the key is shown once",
    roles=ADMIN,
    tag="keys",
    body_schema="api/key-create.schema.json",
    status=201,
    example={"role": "finance", "label": "finance team"},
    response_schema="api/responses/key-created.schema.json",
)
def create_key(call: Call) -> dict[str, Any]:
    return _create_key(call, call.who.tenant_id)


@operation(
    "GET", "/v1/keys", summary="List keys (never their secrets)", roles=ADMIN, tag="keys", paginated=True,
    response_schema="api/responses/key-page.schema.json",
)
def list_keys(call: Call) -> dict[str, Any]:
    page = keys.list_keys(call.runtime, call.who.tenant_id, limit=call.limit, cursor=call.cursor)
    return {"items": [keys.public_view(item.data) for item in page.items], "next_cursor": page.next_cursor}


@operation(
    "DELETE", "/v1/keys/{key_id}", summary="Revoke a key", roles=ADMIN, tag="keys", id_params={"key_id": "key"},
    response_schema="api/responses/key.schema.json",
)
def revoke_key(call: Call) -> dict[str, Any]:
    return keys.revoke_key(call.runtime, call.who, call.who.tenant_id, call.params["key_id"])


# --- audit -----------------------------------------------------------------------------------
@operation(
    "GET",
    "/v1/audit",
    summary="The audit chain, oldest first, the records about one subject, or the records relating to one partner "
    "(a partner key: its own, PA-12.1 / CPA-12.1)",
    roles=AUDIT_READERS,
    tag="audit",
    paginated=True,
    query=(
        QueryParam("subject", "only records about this subject id", pattern=r"[A-Za-z0-9_.:#-]{1,128}"),
        QueryParam("partner_id", "only the records relating to this partner (a partner key: its own, else 404)",
                   pattern=r"ptr_[0-9A-HJKMNP-TV-Z]{26}"),
    ),
    description=PARTNER_TRAIL,
    response_schema="api/responses/audit-page.schema.json",
)
def list_audit(call: Call) -> dict[str, Any]:
    return audit.list_for(
        call.runtime, call.who, subject=call.query.get("subject"), partner_id=call.query.get("partner_id"),
        limit=call.limit, cursor=call.cursor,
    )


@operation(
    "GET", "/v1/audit/verify", summary="Walk the chain; name the first broken record", roles=AUDITORS, tag="audit",
    response_schema="api/responses/audit-verification.schema.json",
)
def verify_audit(call: Call) -> dict[str, Any]:
    return audit.verify_chain(call.runtime, call.who.tenant_id)
