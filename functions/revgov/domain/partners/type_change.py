"""A change of partner type (PA-2.1), pure.

PA-2.1: "A Partner holds exactly one partner type at a time. A Partner may apply to change its partner type by
submitting the onboarding documents required for the new type; the change takes effect when Channel Operations
approves it. The partner type determines onboarding requirements; the partner tier under Section 3 determines
pricing, rebates and entitlements." The policy's `onboarding.type_change` rule names the approval category (routed to
channel ops); a rule without one is a program whose agreement provides no change (CPA-2.1: "A Partner holds one
category at a time. The category determines admission requirements", and no more): every request is refused.

A request is kept on the partner as `type_change` (pending, with its approval) until the approval is decided. While
it is pending the partner may file the documents the new type requires (`target_type`). Approved, the documents,
terms and certifications the new type requires must all be on file and current (`gaps`, the activation's own checks
for that type), else the approval is refused and stays open; the type changes at the approval's instant, recorded
in the partner's `type_history`. Tier, pricing, rebates and entitlements do not change: the tier determines them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import Conflict, FieldError, RuleViolation
from ..money import parse_money
from ..time import parse_instant
from .assessment import certification_gaps, document_gaps, term_gaps
from .evidence import insurance_minimum
from .lifecycle import require
from .rules import onboarding, required_documents

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
REQUESTABLE = frozenset({"active"})  # PA-9.6 / CPA-9.6: a suspended partner keeps read-only access


def rule(policy: Mapping[str, Any]) -> dict[str, Any] | None:
    """The policy's type-change rule (`onboarding.type_change`), or None."""
    node = onboarding(policy).get("type_change")
    return dict(node) if node else None


def target_type(partner: Mapping[str, Any]) -> str | None:
    """The type a pending change asks for, or None."""
    change = partner.get("type_change") or {}
    return str(change["to"]) if change.get("status") == PENDING else None


def requested(policy: Mapping[str, Any], partner: Mapping[str, Any], to: str, *, reason: str, by: str,
              at: str) -> dict[str, Any]:  # fmt: skip
    """The pending change as it is kept on the partner (without its approval id yet); a refusal raises."""
    cited = rule(policy)
    if cited is None or not cited.get("category"):
        clause = cited["clause"] if cited else "the agreement"
        raise RuleViolation(
            f"this program provides no change of partner type ({clause}: a partner holds one type at a time and the "
            "agreement names no way to change it); a partner of another type is admitted by a new application",
            errors=[FieldError("/partner_type", "no change of partner type in this program")],
            extra={"rule_id": cited["id"], "clause": cited["clause"]} if cited else {},
        )
    require(partner, REQUESTABLE, "apply to change its partner type")
    types = onboarding(policy)["partner_types"]
    if to not in types:
        raise RuleViolation(f"this program does not admit partner type {to}",
                            errors=[FieldError("/partner_type", f"one of {', '.join(sorted(types))}")])
    if to == partner["partner_type"]:
        raise RuleViolation(f"partner {partner['partner_id']} is already a {to}",
                            errors=[FieldError("/partner_type", f"a type other than {to}")])
    pending = target_type(partner)
    if pending is not None:
        raise Conflict(
            f"partner {partner['partner_id']} already applied to become a {pending} (approval "
            f"{partner['type_change']['approval_id']}); it holds one type at a time and one change is decided at once",
            extra={"approval_id": partner["type_change"]["approval_id"]},
        )
    return {"status": PENDING, "from": partner["partner_type"], "to": to, "reason": reason, "requested_by": by,
            "requested_at": at, "rule_id": cited["id"], "clause": cited["clause"]}  # fmt: skip


def gaps(policy: Mapping[str, Any], partner: Mapping[str, Any], to: str, at: str) -> list[dict[str, Any]]:
    """What the partner lacks for type `to` at `at`: the terms, documents and certifications the type requires,
    checked as at activation (PA-2.1 "by submitting the onboarding documents required for the new type")."""
    day = parse_instant(at).date()
    as_new = {**partner, "partner_type": to}
    found = [*term_gaps(policy, as_new), *document_gaps(policy, as_new, day), *certification_gaps(policy, as_new, day)]
    named = {gap["name"] for gap in found}
    for kind, requirement in required_documents(policy, to).items():  # the new type's minimum coverage (PA-2.4)
        least, on_file = insurance_minimum(policy, to, kind), (partner.get("documents") or {}).get(kind) or {}
        stated = on_file.get("coverage_amount")
        if kind not in named and least is not None and stated is not None and parse_money(stated) < parse_money(least):
            found.append({"kind": "document", "name": kind, "problem": "below_minimum", "rule_id": requirement["id"],
                          "clause": requirement["clause"],
                          "message": f"the {kind} on file covers {stated}; a {to} needs at least {least}"})
    return found


def decided(policy: Mapping[str, Any], partner: Mapping[str, Any], approval_id: str, outcome: str, *, by: str,
            at: str, note: str | None) -> dict[str, Any]:  # fmt: skip
    """The partner once its pending change's approval is decided: approved changes `partner_type` from `at` (a
    RuleViolation naming what the new type still lacks, nothing changed), rejected keeps it; either way the change
    is kept decided. A decision of an approval that is not this partner's pending change changes nothing."""
    change = dict(partner.get("type_change") or {})
    if change.get("status") != PENDING or change.get("approval_id") != approval_id:
        return dict(partner)
    change.update(status=REJECTED if outcome != APPROVED else APPROVED, decided_by=by, decided_at=at, note=note)
    if change["status"] == REJECTED:
        return {**partner, "type_change": change, "updated_at": at}
    missing = gaps(policy, partner, change["to"], at)
    if missing:
        raise RuleViolation(
            f"partner {partner['partner_id']} cannot become a {change['to']} yet: "
            + "; ".join(gap["message"] for gap in missing)
            + f" ({change['clause']}: the change takes effect on the documents required for the new type)",
            extra={"rule_id": change["rule_id"], "clause": change["clause"],
                   "missing": [f"{gap['kind']}:{gap['name']}" for gap in missing]},
        )  # fmt: skip
    # kept apart from `history`, the record of status moves (a suspension is read from it: lifecycle.suspended_when)
    step = {"from": change["from"], "to": change["to"], "at": at, "by": by, "approval_id": approval_id,
            "rule_id": change["rule_id"], "clause": change["clause"]}  # fmt: skip
    return {**partner, "partner_type": change["to"], "type_change": change, "updated_at": at,
            "type_history": [*partner.get("type_history", []), step]}  # fmt: skip
