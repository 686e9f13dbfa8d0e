"""A deal registration's one extension (PA-5.3: "The Partner may request one extension of 30 days, before the period
ends"; CPA-5.2: "One extension of 30 days may be granted"): whether it may be asked, asked, decided."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .deals import APPROVED, LAPSED, PENDING, in_period, last_instant, view
from .errors import Conflict, RuleViolation
from .time import iso


def extension_problem(
    policy: dict[str, Any], deal: dict[str, Any], hold: Any, now: str
) -> RuleViolation | Conflict | None:
    """Why this registration may not ask for its extension now (None: it may). PA-5.3: "The Partner may request one
    extension of 30 days, before the period ends"; CPA-5.2: "One extension of 30 days may be granted"."""
    rule = policy["deal_registration"].get("extension")
    if rule is None:
        return RuleViolation("this program grants no extension of a registration's exclusivity")
    cite = {"rule_id": rule["id"], "clause": rule["clause"]}
    if not in_period(deal, now):
        status = view(deal, now)["status"]
        return RuleViolation(
            f"only an approved registration may be extended, before its exclusivity ends ({rule['clause']}); "
            f"this one is {status}",
            extra=cite,
        )
    if hold is not None and hold["status"] == LAPSED:
        return RuleViolation(f"the registration has lapsed ({hold['clause']})", extra=cite)
    previous = deal.get("extension")
    counted = ("pending", "approved") if rule["once"] == "granted" else ("pending", "approved", "rejected")
    if previous and previous["status"] in counted:
        return Conflict(
            f"a registration has one extension ({rule['clause']}); its extension request is {previous['status']}",
            extra={**cite, "extension_status": previous["status"]},
        )
    return None


def extension_requested(
    policy: dict[str, Any], deal: dict[str, Any], body: dict[str, Any], *, approval_id: str, at: str
) -> dict[str, Any]:
    """The registration with its pending extension (who asked is on the audit chain, not on the record a partner
    reads)."""
    rule = policy["deal_registration"]["extension"]
    proposal = {k: body[k] for k in ("proposal_reference", "proposal_date")}
    extension = {
        "status": PENDING,
        "days": int(rule["days"]),
        "proposal": proposal,
        "note": body.get("note"),
        "requested_at": at,
        "approval_id": approval_id,
        "rule_id": rule["id"],
        "clause": rule["clause"],
    }
    return {**deal, "extension": extension}


def extension_decided(deal: dict[str, Any], outcome: str, at: str, note: str | None) -> dict[str, Any]:
    """Approved: the exclusivity ends `days` later than it did (the period runs on from its end, whenever decided)."""
    extension = {**deal["extension"], "status": outcome, "decided_at": at, "decision_note": note}
    if outcome != APPROVED:
        return {**deal, "extension": extension}
    extended = iso(last_instant(deal["expires_at"]) + timedelta(days=int(extension["days"])))
    extension["previous_expires_at"] = deal["expires_at"]
    return {**deal, "expires_at": extended, "extension": extension}
