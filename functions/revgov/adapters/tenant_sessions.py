"""Tenant-scoped AWS credentials: one STS session per tenant, cached until shortly before it expires.

Two kinds of role are assumed through it. `TenantAccessRole` (DynamoDB) is one role for every tenant, so each session
is tagged `TenantId=<tenant>` and the role's policy is fenced by that tag. The copilot's search roles are one per
tenant (`REVGOV_SEARCH_ROLE_ARN_TEMPLATE`, `{tenant_id}` filled in): the role itself is the fence, so those
sessions carry no tag.

`TenantAccessRole`'s only DynamoDB statement is fenced by `dynamodb:LeadingKeys` = `T#${aws:PrincipalTag/TenantId}#*`,
so a client signed with a tenant's session reaches that tenant's items and nothing else, whatever the code asks for. The
platform partition (`T#_platform#...`: the tenant registry, operator keys, the platform's audit chain and outbox) is
one more "tenant" here: it gets its own session tagged `TenantId=_platform`.

Used when `REVGOV_TENANT_ROLE_ARN` (or, for search, `REVGOV_SEARCH_ROLE_ARN_TEMPLATE`) is set: the API, event and
schedule functions in AWS. Without it (the local stack, the tests, the operator function) nothing here runs and the
function's own credentials are used.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .system import real_time

TAG = "TenantId"
TENANT_PLACEHOLDER = "{tenant_id}"  # in a role ARN template: one role per tenant
SESSION_SECONDS = 900  # the STS minimum: a leaked session is worth 15 minutes
REFRESH_MARGIN_SECONDS = 180  # renewed this long before it expires, so no request starts on credentials about to lapse
MAX_TENANTS = 1024  # sessions kept per process (least recently used go first)
# What may tag a session. The value lands in a StringLike condition, so IAM wildcards (* ?) and anything that would
# blur the key prefix ('#', '$') are refused; the length keeps "revgov-<tenant>" within a 64-char session name.
_TENANT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,56}$")


class TenantScopeError(RuntimeError):
    """A data operation that tenant-scoped credentials cannot (and must not) perform."""


class CrossTenantWrite(TenantScopeError):
    """One transaction writing two tenants' partitions: no single tenant session may do that."""

    def __init__(self, tenants: list[str]) -> None:
        self.tenants = tenants
        super().__init__(
            f"one transaction cannot write both tenant {tenants[0]!r} and tenant {tenants[1]!r} under tenant-scoped "
            "credentials (each TenantAccessRole session reaches one tenant's keys); cross-tenant writes belong to "
            "the operator function, which runs without REVGOV_TENANT_ROLE_ARN"
        )


@dataclass(frozen=True)
class TenantCredentials:
    tenant_id: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expires_at: float  # epoch seconds


class TenantSessions:
    """Per-tenant STS sessions of one role (or of one role per tenant), cached (thread-safe) until shortly before they
    expire.

    `role_arn` is either one role for all tenants, whose sessions are then tagged `TenantId=<tenant>`, or a template
    with `{tenant_id}` in it, one role per tenant; `tag_sessions=False` leaves the tag out (a role whose trust policy
    does not allow `sts:TagSession`).

    Clients for a tenant are created from one shared botocore session with the tenant's credentials passed
    explicitly: a new tenant costs a client (~0.2 MB, milliseconds), not a botocore session (~10 MB of models).
    """

    def __init__(
        self,
        role_arn: str,
        region: str,
        endpoint_url: str | None = None,
        *,
        tag_sessions: bool = True,
        sts_client: Any = None,
        clock: Callable[[], float] = real_time,
        max_tenants: int = MAX_TENANTS,
    ) -> None:
        self.role_arn = role_arn
        self.region = region
        self.endpoint_url = endpoint_url
        self.tag_sessions = tag_sessions
        self._sts = sts_client
        self._clock = clock
        self._max = max_tenants
        self._cache: OrderedDict[str, TenantCredentials] = OrderedDict()
        self._tenant_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()  # guards the two dicts
        self._session: Any = None
        self._session_lock = threading.Lock()  # botocore client creation is not thread-safe on a shared session

    # --- credentials -------------------------------------------------------------------------
    def credentials(self, tenant_id: str) -> TenantCredentials:
        """The tenant's current session credentials: cached, or a new `AssumeRole` when missing or about to expire."""
        if not isinstance(tenant_id, str) or not _TENANT.fullmatch(tenant_id):
            raise TenantScopeError(f"{tenant_id!r} is not a tenant id a data session can be opened for")
        with self._lock:
            cached = self._fresh(tenant_id)
            if cached is not None:
                return cached
            tenant_lock = self._tenant_locks.setdefault(tenant_id, threading.Lock())
        with tenant_lock:  # one AssumeRole per tenant at a time; other tenants are not held up
            with self._lock:
                cached = self._fresh(tenant_id)
                if cached is not None:
                    return cached
            opened = self._assume(tenant_id)
            with self._lock:
                self._cache[tenant_id] = opened
                self._cache.move_to_end(tenant_id)
                while len(self._cache) > self._max:
                    evicted, _ = self._cache.popitem(last=False)
                    self._tenant_locks.pop(evicted, None)
            return opened

    def role_for(self, tenant_id: str) -> str:
        """The role a tenant's session is opened on (the template filled in, or the one shared role)."""
        return self.role_arn.replace(TENANT_PLACEHOLDER, tenant_id)

    def _fresh(self, tenant_id: str) -> TenantCredentials | None:
        cached = self._cache.get(tenant_id)
        if cached is None or cached.expires_at - self._clock() <= REFRESH_MARGIN_SECONDS:
            return None
        self._cache.move_to_end(tenant_id)
        return cached

    def _assume(self, tenant_id: str) -> TenantCredentials:
        if self._sts is None:
            self._sts = self._create("sts", endpoint_url=self.endpoint_url)  # the function's own credentials
        request: dict[str, Any] = {
            "RoleArn": self.role_for(tenant_id),
            "RoleSessionName": f"revgov-{tenant_id}",
            "DurationSeconds": SESSION_SECONDS,
        }
        if self.tag_sessions:
            request["Tags"] = [{"Key": TAG, "Value": tenant_id}]
        answer = self._sts.assume_role(**request)
        granted = answer["Credentials"]
        expiration = granted["Expiration"]
        expires_at = expiration.timestamp() if hasattr(expiration, "timestamp") else float(expiration)
        return TenantCredentials(
            tenant_id=tenant_id,
            access_key_id=granted["AccessKeyId"],
            secret_access_key=granted["SecretAccessKey"],
            session_token=granted["SessionToken"],
            expires_at=expires_at,
        )

    # --- clients -----------------------------------------------------------------------------
    def client(self, service: str, credentials: TenantCredentials, **kwargs: Any) -> Any:
        """A botocore client signed with `credentials` (and only those: never the function's own)."""
        return self._create(
            service,
            aws_access_key_id=credentials.access_key_id,
            aws_secret_access_key=credentials.secret_access_key,
            aws_session_token=credentials.session_token,
            **kwargs,
        )

    def _create(self, service: str, **kwargs: Any) -> Any:
        with self._session_lock:
            if self._session is None:
                import botocore.session

                self._session = botocore.session.get_session()
            kwargs.setdefault("region_name", self.region)
            return self._session.create_client(service, **kwargs)


@lru_cache(maxsize=8)
def tenant_sessions(role_arn: str, region: str, endpoint_url: str | None, tag_sessions: bool = True) -> TenantSessions:
    """The process's sessions for one role (template): the document store and the idempotency layer share
    TenantAccessRole's, the copilot's search index the search roles'."""
    return TenantSessions(role_arn, region, endpoint_url, tag_sessions=tag_sessions)
