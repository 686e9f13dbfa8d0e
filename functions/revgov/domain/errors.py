"""The one error hierarchy; the edge maps each class to an RFC 9457 problem+json response."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One thing wrong with one field of the input, located by a JSON pointer."""

    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


@dataclass
class RevgovError(Exception):
    """Base of every error a caller can see. Subclasses fix the status and the type slug."""

    detail: str
    errors: list[FieldError] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    status = 500
    slug = "internal"
    title = "Internal error"

    def __str__(self) -> str:
        return self.detail


class MalformedRequest(RevgovError):
    status, slug, title = 400, "malformed-request", "Malformed request"


class Unauthenticated(RevgovError):
    status, slug, title = 401, "unauthenticated", "Missing or invalid credentials"


class Forbidden(RevgovError):
    status, slug, title = 403, "forbidden", "Not allowed"


class NotFound(RevgovError):
    status, slug, title = 404, "not-found", "Not found"


class MethodNotAllowed(RevgovError):
    status, slug, title = 405, "method-not-allowed", "Method not allowed"


class Conflict(RevgovError):
    status, slug, title = 409, "conflict", "State conflict"


class StaleWrite(Conflict):
    """A conditional write lost: the document changed (or appeared) since it was read. Raised by the store only; the
    writer may read again and decide again (`services.toolkit.retry_on_conflict`). A business refusal is a plain
    `Conflict` and is never retried."""


class TenantOffboarded(Conflict):
    """A write into a tenant whose offboarding has begun: refused by the store itself (the tenant's tombstone,
    `store_base.TOMBSTONE`), whoever writes. Never retried: the tenant's data is being, or has been, erased.
    `extra["tenant_id"]` names the tenant (an event handler drops the event of that tenant only)."""


class PayloadTooLarge(RevgovError):
    status, slug, title = 413, "payload-too-large", "Payload too large"


class UnsupportedMediaType(RevgovError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class RuleViolation(RevgovError):
    status, slug, title = 422, "rule-violation", "Request breaks a rule"


class RateLimited(RevgovError):
    status, slug, title = 429, "rate-limited", "Too many requests"


class Unavailable(RevgovError):
    """A dependency (the table, the bus, the clause index, the model) is throttling, failing or timing out."""

    status, slug, title = 503, "unavailable", "Temporarily unavailable, retry"


class ConcurrentUpdate(RevgovError):
    """Optimistic concurrency lost too many times in a row; safe for the caller to retry."""

    status, slug, title = 503, "concurrent-update", "Concurrent update, retry"
