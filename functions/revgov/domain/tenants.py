"""Tenants: their configuration, policy version and lifecycle (active ⇄ suspended, then offboarded)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .canonical import sha256_hex
from .errors import Conflict

_TRANSITIONS = {"active": {"suspended"}, "suspended": {"active"}}


def policy_version(policy: dict[str, Any]) -> str:
    """Content hash of the policy: the same policy text always has the same version."""
    return "pv_" + sha256_hex(policy)[:20]


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    display_name: str
    status: str
    tier: str
    currency: str
    config: dict[str, Any]
    policy_version: str
    created_at: str

    @classmethod
    def from_config(cls, config: dict[str, Any], *, created_at: str) -> Tenant:
        return cls(
            tenant_id=config["tenant_id"],
            display_name=config["display_name"],
            status=config.get("status", "active"),
            tier=config["tier"],
            currency=config["currency"],
            config=config,
            policy_version=policy_version(config.get("policy", {})),
            created_at=created_at,
        )

    @property
    def policy(self) -> dict[str, Any]:
        return dict(self.config.get("policy", {}))

    @property
    def issuer(self) -> dict[str, Any] | None:
        """Who issues its outbound documents (tenant.schema.json `issuer`): a copy, for an issued document to keep."""
        found = self.config.get("issuer")
        return dict(found) if found else None

    def moved_to(self, status: str) -> Tenant:
        allowed = _TRANSITIONS.get(self.status, set())
        if status not in allowed:
            raise Conflict(
                f"tenant {self.tenant_id} is {self.status}; it cannot become {status}",
                extra={"current_status": self.status, "allowed_next": sorted(allowed)},
            )
        return replace(self, status=status, config={**self.config, "status": status})

    def as_dict(self) -> dict[str, Any]:
        """Every field, the configuration last (the registry entry is this without it)."""
        return {**{name: value for name, value in vars(self).items() if name != "config"}, "config": self.config}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tenant:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})
