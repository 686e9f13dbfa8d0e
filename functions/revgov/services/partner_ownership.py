"""A partner's change of ownership (PA-2.8 "whenever ownership changes"; CPA-2.8 "on any change of control"): recorded
onto the partner through the partners' filing (`partners.file_change`), with the screening it makes due.

The partner record and its filing are `partners`'; the screening rules are `domain.partners.screening`'s.
"""

from __future__ import annotations

from typing import Any

from ..domain.access import Principal
from ..domain.partners import Partner
from ..domain.partners import screening as screening_rules
from ..runtime import Runtime
from . import screening
from .partners import Filing, file_change, view


def record_ownership_change(rt: Runtime, who: Principal, partner_id: str, change: dict[str, Any]) -> dict[str, Any]:
    """A change of the partner's ownership, told by the partner itself or recorded by channel ops / legal (PA-2.8
    "whenever ownership changes"; CPA-2.8 "on any change of control"): kept on the partner, audited, announced, and,
    where it makes a screening due, Legal's exception asking for it in the same commit (`screening`). The partner is
    not held: the clause holds it on a potential match only."""

    def filing(policy: dict[str, Any], partner: Partner, at: str) -> Filing:
        updated = screening_rules.ownership_changed(partner, change, by=who, at=at, policy=policy)
        recorded = updated["ownership_changes"][-1]
        due = screening_rules.unscreened_change(policy, updated)
        rules = [r for r in (screening_rules.rule(policy),) if r]
        detail = {"changed_on": recorded["changed_on"], "screening_due": due is not None}
        return Filing(updated, "ownership_changed", rules, {"ownership_change": recorded, **detail}, detail,
                       lambda written, version: screening.ownership_screening_due(rt, who, policy, written, version))

    updated, policy, _ = file_change(rt, who, partner_id, filing)
    due = screening_rules.unscreened_change(policy, updated)
    return {**view(updated), "screening_due": None if due is None else {
        "since": due["changed_on"], "reason": "ownership_changed", **_cited(screening_rules.rule(policy))}}


def _cited(rule: dict[str, Any] | None) -> dict[str, Any]:
    return {"rule_id": rule["id"], "clause": rule["clause"]} if rule else {}
