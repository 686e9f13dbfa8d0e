"""A policy rule as a decision cites it: the rule's id and the contract clause it comes from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Rule:
    """Every policy object with an `id` and a `clause` (see `policy.policy_problems`) is cited as one of these."""

    rule_id: str
    clause: str

    @classmethod
    def of(cls, node: Mapping[str, Any]) -> Rule:
        return cls(str(node["id"]), str(node["clause"]))

    def as_dict(self) -> dict[str, str]:
        """How decisions, lines and audit records cite the rule; stored records depend on these two keys."""
        return {"rule_id": self.rule_id, "clause": self.clause}
