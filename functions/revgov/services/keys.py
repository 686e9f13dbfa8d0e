"""API keys: create (shown once), list, revoke, and resolve a bearer token into a principal."""

from __future__ import annotations

import hmac
from typing import Any, NamedTuple

from ..domain.access import PLATFORM, Principal, Role, bearer_token, format_key, hash_key, parse_key
from ..domain.audit import AuditEntry
from ..domain.errors import Conflict, FieldError, Forbidden, NotFound, RuleViolation, Unauthenticated
from ..domain.partners import portal_access
from ..ports import Changes, Page, Put, Stored
from ..runtime import Runtime
from . import partner_repository, tenant_repository

KEYS = "KEY"
_PUBLIC = ("key_id", "tenant_id", "role", "partner_id", "label", "prefix", "created_at", "created_by", "revoked_at")


def public_view(data: dict[str, Any]) -> dict[str, Any]:
    """What a key looks like to callers: never its hash."""
    return {k: data.get(k) for k in _PUBLIC}


def new_key(
    rt: Runtime, tenant_id: str, role: Role, partner_id: str | None, label: str, created_by: str
) -> tuple[dict[str, Any], Put]:
    key_id = rt.ids.new("key")
    token = format_key(tenant_id, key_id, rt.ids.secret())
    data = {
        "key_id": key_id,
        "tenant_id": tenant_id,
        "role": role.value,
        "partner_id": partner_id,
        "label": label,
        "prefix": token[: len(token) - 39] + "…",
        "created_at": rt.clock.now_iso(),
        "created_by": created_by,
        "revoked_at": None,
        "hash": hash_key(token),
    }
    return {**public_view(data), "key": token}, Put(KEYS, key_id, data, must_be_absent=True)


def create_key(
    rt: Runtime, actor: Principal, tenant_id: str, role: Role, partner_id: str | None, label: str
) -> dict[str, Any]:
    if role is Role.OPERATOR and tenant_id != PLATFORM:
        raise RuleViolation("operator keys belong to the platform, not to a tenant",
                            errors=[FieldError("/role", "operator keys belong to the platform")])
    if role is Role.PARTNER:
        if not partner_id:
            raise RuleViolation("a partner key needs partner_id",
                                errors=[FieldError("/partner_id", "required for a partner key")])
        if not partner_repository.exists(rt.store, tenant_id, partner_id):
            raise RuleViolation(f"no partner {partner_id} in this tenant",
                                errors=[FieldError("/partner_id", "no such partner in this tenant")])
    elif partner_id:
        raise RuleViolation("only partner keys are bound to a partner_id",
                            errors=[FieldError("/partner_id", f"a {role.value} key is bound to no partner")])
    public, put = new_key(rt, tenant_id, role, partner_id, label, actor.actor)
    inputs = {"role": role.value, "partner_id": partner_id, "label": label}
    rt.commit(tenant_id, Changes(puts=[put], audit=[AuditEntry.by(actor, "key.created", public["key_id"], "created",
                                                                  inputs=inputs)]))
    return public


def load_key(rt: Runtime, tenant_id: str, key_id: str) -> Stored | None:
    """The key as stored (with its hash), or None."""
    return rt.store.get(tenant_id, KEYS, key_id)


def list_keys(rt: Runtime, tenant_id: str, *, limit: int, cursor: str | None) -> Page:
    return rt.store.query(tenant_id, KEYS, limit=limit, cursor=cursor)


def revoke_key(rt: Runtime, actor: Principal, tenant_id: str, key_id: str) -> dict[str, Any]:
    stored = load_key(rt, tenant_id, key_id)
    if stored is None:
        raise NotFound(f"no key {key_id}")
    if stored.data.get("revoked_at"):
        raise Conflict(f"key {key_id} is already revoked", extra={"revoked_at": stored.data["revoked_at"]})
    revoked = {**stored.data, "revoked_at": rt.clock.now_iso()}
    inputs = {"role": stored.data["role"], "partner_id": stored.data.get("partner_id")}
    rt.commit(tenant_id, Changes(
        puts=[Put(KEYS, key_id, revoked, expected_version=stored.version)],
        audit=[AuditEntry.by(actor, "key.revoked", key_id, "revoked", inputs=inputs)],
    ))
    return public_view(revoked)


def authenticate(rt: Runtime, authorization: str | None) -> Principal:
    """Bearer token → principal. One batched read: the key and its tenant's profile."""
    return resolve_key(rt, authorization)[0]


def resolve_key(rt: Runtime, authorization: str | None) -> tuple[Principal, dict[str, Any] | None]:
    """Bearer token → principal and its tenant's plan (None for the platform's keys), from the same batched read."""
    caller = resolve_caller(rt, authorization)
    return caller.principal, caller.plan


class Caller(NamedTuple):
    """A resolved key: the principal, its tenant's plan, and for a suspended partner's key why it may only read
    (`portal_access.read_only`: the clause and the sentence; the edge refuses its writes, edge/http.py); `since`: the
    tenant's provisioning (its profile's `created_at`), which the rate limiter keeps its memory under."""

    principal: Principal
    plan: dict[str, Any] | None
    read_only: tuple[str, str] | None = None
    since: str = ""


def resolve_caller(rt: Runtime, authorization: str | None) -> Caller:
    """`resolve_key`, with the partner's read-only verdict the same partner read gives (PA-9.6 / CPA-9.8)."""
    token = bearer_token(authorization)
    parts = parse_key(token) if token else None
    if token is None:
        raise Unauthenticated("send Authorization: Bearer <api key>")
    if parts is None:  # RFC 6750 §3.1 invalid_token: "malformed"; syntax only, nothing read
        raise Unauthenticated("the API key is malformed: an API key looks like rgk.<tenant>.<key id>.<secret>, "
                              "sent whole as shown once when it was made")
    key_ref = (parts.tenant_id, KEYS, parts.key_id)
    tenant_ref = tenant_repository.profile_ref(parts.tenant_id)
    found = rt.store.get_many([key_ref, tenant_ref] if parts.tenant_id != PLATFORM else [key_ref])
    key = found.get(key_ref)
    if key is None or not hmac.compare_digest(str(key.data["hash"]), hash_key(token)) or key.data.get("revoked_at"):
        raise Unauthenticated("the API key is unknown or revoked")
    plan, read_only, since = None, None, ""
    if parts.tenant_id != PLATFORM:
        tenant = found.get(tenant_ref)
        if tenant is None:
            raise Unauthenticated("the API key is unknown or revoked")
        if tenant.data["status"] != "active":
            raise Forbidden(f"tenant {parts.tenant_id} is {tenant.data['status']}")
        plan, since = tenant.data.get("config", {}).get("plan"), str(tenant.data.get("created_at") or "")
        if key.data["role"] == Role.PARTNER.value:
            read_only = _partner_may_enter(rt, parts.tenant_id, str(key.data.get("partner_id")), tenant.data)
    principal = Principal(parts.tenant_id, Role(key.data["role"]), parts.key_id, key.data.get("partner_id"))
    return Caller(principal, plan, read_only, since)


def _partner_may_enter(rt: Runtime, tenant_id: str, partner_id: str, tenant: dict[str, Any]) -> tuple[str, str] | None:
    """A partner key reaches the portal while its partner does (PA-9.6 / CPA-9.8: access ends N days after
    termination, `policy.onboarding.termination.portal_access`): one read of the partner per partner request, the
    policy from the profile the key's batch already read. Returns the read-only verdict of a suspended partner."""
    partner = partner_repository.record(rt.store, tenant_id, partner_id)
    if partner is None:
        raise Unauthenticated("the API key is unknown or revoked")
    policy = tenant.get("config", {}).get("policy", {})
    refused = portal_access.access_refused(policy, partner, rt.clock.now_iso())
    if refused is not None:
        raise Forbidden(refused)
    return portal_access.read_only(policy, partner)


def mint_operator_key(rt: Runtime, label: str, minted_by: str = "system:bootstrap") -> str:
    """Bootstrap an operator key straight into the platform (the local stack, `revgov tenants operator-key`)."""
    public, put = new_key(rt, PLATFORM, Role.OPERATOR, None, label, minted_by)
    audit = AuditEntry(actor=minted_by, actor_role="operator", action="key.created", subject=public["key_id"],
                       outcome="created", inputs={"role": "operator", "label": label})
    rt.commit(PLATFORM, Changes(puts=[put], audit=[audit]))
    return str(public["key"])
