"""Who is calling: principals, roles and the API-key format. Pure; hashing only, no storage."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum

PLATFORM = "_platform"  # the operator's pseudo-tenant; not a valid tenant id, so it cannot collide


class Role(StrEnum):
    OPERATOR = "operator"
    ADMIN = "admin"
    FINANCE = "finance"
    CHANNEL_OPS = "channel_ops"
    LEGAL = "legal"
    CUSTOMER_SUCCESS = "customer_success"
    SALES = "sales"
    VIEWER = "viewer"
    PARTNER = "partner"


TENANT_ROLES = frozenset(r for r in Role if r is not Role.OPERATOR)
STAFF_ROLES = frozenset(TENANT_ROLES - {Role.PARTNER})


@dataclass(frozen=True)
class Principal:
    """The authenticated caller. The tenant comes from here and nowhere else."""

    tenant_id: str
    role: Role
    key_id: str
    partner_id: str | None = None

    @property
    def is_operator(self) -> bool:
        return self.role is Role.OPERATOR

    @property
    def actor(self) -> str:
        return f"{self.role.value}:{self.key_id}"

    def sees_partner(self, partner_id: str | None) -> bool:
        """Object-level check: a partner sees only its own objects; staff see the whole tenant."""
        return self.role is not Role.PARTNER or partner_id == self.partner_id


_KEY = re.compile(r"^rgk\.(_platform|[a-z][a-z0-9-]{2,39})\.(key_[0-9A-HJKMNP-TV-Z]{26})\.([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class KeyParts:
    tenant_id: str
    key_id: str


def format_key(tenant_id: str, key_id: str, secret: str) -> str:
    """`rgk.<tenant>.<key id>.<43-char secret>`: the tenant and id route the lookup; only the hash is stored."""
    return f"rgk.{tenant_id}.{key_id}.{secret}"


def parse_key(token: str) -> KeyParts | None:
    match = _KEY.match(token)
    return KeyParts(match.group(1), match.group(2)) if match else None


def hash_key(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
