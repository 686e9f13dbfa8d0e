"""Withholding a settlement while the partner has an invoice overdue beyond the policy's limit, and releasing it.

PA-7.8: "Rebates are withheld while the Partner has an invoice more than 60 days overdue and are released in the
first settlement after the overdue amount is paid." CPA-7.8: "A Partner whose VAT number fails validation, or that
has an invoice more than 45 days overdue, has its settlement withheld until resolved." (The VAT half reads the
checks staff record, domain.vat_validation.)
An invoice falls due its payment term after the invoice date (PA-6.7 / CPA-6.7: "30 days from the invoice date"):
the day it was issued (finalized) plus the partner's `terms.payment_terms_days`, else the policy's standard term.

Pure: the service reads the issued invoices, the partners' terms and the withheld amounts still pending, and asks
billing's one notion of overdue (services/billing/overdue.owing_beyond) who is overdue beyond `overdue_days`; this
module builds the statement's withholding, the carried amount and its release line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..billing.overdue import STANDARD_TERMS_DAYS, standard_terms_days, terms_of
from ..rules import Rule

MAX_LISTED = 50  # overdue invoices named on a statement (the count is always stated)


@dataclass(frozen=True)
class Withholding:
    """`rebates.withholding` compiled, with the standard payment term that dates an invoice's due day."""

    rule: Rule
    overdue_days: int
    standard_terms_days: int = STANDARD_TERMS_DAYS

    @classmethod
    def of(cls, policy: Mapping[str, Any]) -> Withholding | None:
        node = policy.get("rebates", {}).get("withholding")
        if not node:
            return None
        return cls(Rule.of(node), int(node["overdue_days"]), standard_terms_days(policy))

    def terms_of(self, partner: Mapping[str, Any] | None) -> int:
        """The partner's payment term in days: its own when set, else the policy's standard one."""
        return terms_of(partner, self.standard_terms_days)


def statement_withholding(rule: Withholding, invoices: list[dict[str, Any]], on: date) -> dict[str, Any]:
    """What a withheld statement states: why, under which rule and clause, and the partner's own overdue invoices."""
    return {
        "reason": f"an invoice more than {rule.overdue_days} days overdue on {on.isoformat()}",
        "rule_id": rule.rule.rule_id,
        "clause": rule.rule.clause,
        "overdue_days": rule.overdue_days,
        "as_of": on.isoformat(),
        "overdue_invoice_count": len(invoices),
        "overdue_invoices": invoices[:MAX_LISTED],
    }


def carried(statement: Mapping[str, Any], at: str) -> dict[str, Any]:
    """The withheld amount of a statement, pending until the first settlement after the overdue amount is paid."""
    held = statement["withholding"]
    return {
        "key": f"{statement['partner_id']}#{statement['settlement_id']}",
        "partner_id": statement["partner_id"],
        "settlement_id": statement["settlement_id"],
        "period": statement["period"],
        "run": statement["run"],
        "amount": statement["total"],
        "status": "pending",
        "withheld_at": at,
        "rule_id": held["rule_id"],
        "clause": held["clause"],
        "overdue_invoices": [i["invoice_id"] for i in held["overdue_invoices"]],
    }


def vat_withholding(
    overdue: Mapping[str, Any] | None, rule: Rule, vat: Mapping[str, Any], on: date
) -> dict[str, Any]:
    """A statement withheld for its partner's VAT validation (CPA-7.8), alone or beside an overdue invoice: the rule
    and clause of the VAT check, and the latest check (result, when, VIES reference)."""
    if overdue:
        return {**overdue, "reason": f"{overdue['reason']}; {vat['reason']}", "vat_validation": dict(vat)}
    return {
        "reason": vat["reason"],
        "rule_id": rule.rule_id,
        "clause": rule.clause,
        "as_of": on.isoformat(),
        "overdue_invoice_count": 0,
        "overdue_invoices": [],
        "vat_validation": dict(vat),
    }


def screening_withholding(
    withheld: Mapping[str, Any] | None, hold: Mapping[str, Any], on: date
) -> dict[str, Any]:
    """A statement withheld while its partner's compliance screening match is unresolved (PA-2.8 / CPA-2.8), alone or
    beside another reason: the screening's rule and clause lead when it is the only one."""
    reason = f"a compliance screening match of {hold['screened_on']} is unresolved ({hold['outcome']})"
    if withheld:
        return {**withheld, "reason": f"{withheld['reason']}; {reason}"}
    return {"reason": reason, "rule_id": hold["rule_id"], "clause": hold["clause"], "as_of": on.isoformat(),
            "overdue_invoice_count": 0, "overdue_invoices": []}


def release_line(held: Mapping[str, Any]) -> dict[str, Any]:
    """The statement line paying an amount withheld by an earlier settlement, now that nothing withholds it (no
    invoice overdue, the VAT number validated), citing the rule it was withheld under."""
    rule = Withholding(Rule(held["rule_id"], held["clause"]), 0)
    return {
        "kind": "withheld_release",
        "period": held["period"],
        "program_id": None,
        "name": f"Release of the amount withheld in settlement {held['settlement_id']}",
        "model": None,
        "payout": "withheld_release",
        "amount": held["amount"],
        "rule_id": rule.rule.rule_id,
        "clause": rule.rule.clause,
        "rules": [rule.rule.as_dict()],
        "references": {"settlement_id": held["settlement_id"]},
    }
