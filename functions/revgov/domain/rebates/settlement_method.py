"""How a settlement statement is paid: by credit note, or by bank transfer where the partner asked and owes nothing.

PA-7.8: "Settlement is made by credit note applied to the Partner's account or, where the Partner has no open balance
and requests it, by bank transfer." CPA-7.8: "Settlement is by credit note, or by bank transfer if the Partner has no
open balance and asks for it."
The request is a standing one (`rebates.settlement_method`): neither clause ties it to a Quarter or a statement, and
its condition ("no open balance") is the partner's at each settlement, so each run reads the request standing then
with the partner's open invoices as of the run's as-of day (domain.billing.balance). A bank transfer is an
instruction on the statement for finance and the ERP, which holds the bank details: Revgov moves no money and keeps
no account number. Pure: the service reads the requests and the open invoices; this module states the choice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from ..errors import Conflict
from ..money import format_money
from ..rules import Rule

CREDIT_NOTE, BANK_TRANSFER = "credit_note", "bank_transfer"
STANDING, WITHDRAWN, NONE = "standing", "withdrawn", "none"
# the statement lines the statement's method pays: the programs paid by credit note (PA-7.8's default; a program
# whose policy pays it otherwise, a Section 8 commission, keeps its own payout) and the release of a withheld amount
PAID_BY_METHOD = frozenset({CREDIT_NOTE, "withheld_release"})
MAX_LISTED = 50  # open invoices named on a statement (the count is always stated)
INSTRUCTION = {
    CREDIT_NOTE: "finance issues a credit note of the amount payable, applied to the partner's account",
    BANK_TRANSFER: "finance pays the amount payable by bank transfer to the account the ERP holds for the partner; "
                   "Revgov moves no money and stores no bank details",
}


@dataclass(frozen=True)
class SettlementMethod:
    """`rebates.settlement_method` compiled: the rule and clause every choice and request cites."""

    rule: Rule

    @classmethod
    def of(cls, policy: Mapping[str, Any]) -> SettlementMethod | None:
        node = (policy.get("rebates") or {}).get("settlement_method")
        return cls(Rule.of(node)) if node else None


@dataclass(frozen=True)
class Payouts:
    """What the run read for the choice: partner -> its standing request; partner -> its open invoices on `on`
    (read only for the partners with a request)."""

    rule: SettlementMethod
    on: date
    requests: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    open_invoices: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)


# --- the request ---------------------------------------------------------------------------------------------------
def none_yet(rule: SettlementMethod, partner_id: str) -> dict[str, Any]:
    """The answer for a partner that never asked."""
    return {"partner_id": partner_id, "status": NONE, **_cited(rule)}


def requested(
    rule: SettlementMethod, before: Mapping[str, Any] | None, partner_id: str, *, role: str, at: str, note: str | None
) -> dict[str, Any]:
    """The partner's request, standing from `at`; a request already standing is a conflict (nothing to change)."""
    if before and before["status"] == STANDING:
        raise Conflict(
            f"partner {partner_id} already asked for settlement by bank transfer on {before['requested_at']}",
            extra={"current_status": STANDING, "allowed_next": ["withdraw"]},
        )
    history = [*(before or {}).get("history", []), *([_past(before)] if before else [])][-20:]
    record = {"partner_id": partner_id, "status": STANDING, "requested_at": at, "requested_by_role": role,
              "withdrawn_at": None, "withdrawn_by_role": None, **_cited(rule), "history": history}  # fmt: skip
    if note:
        record["note"] = note
    return record


def withdrawn(
    before: Mapping[str, Any] | None, partner_id: str, *, role: str, at: str, note: str | None = None
) -> dict[str, Any]:
    """The request withdrawn from `at`: settlement by credit note again; nothing standing is a conflict."""
    if not before or before["status"] != STANDING:
        raise Conflict(
            f"partner {partner_id} has no standing request for settlement by bank transfer",
            extra={"current_status": (before or {}).get("status", NONE), "allowed_next": ["request"]},
        )
    record = {**before, "status": WITHDRAWN, "withdrawn_at": at, "withdrawn_by_role": role}
    record.pop("withdrawal_note", None)
    return {**record, "withdrawal_note": note} if note else record


def _past(record: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("status", "requested_at", "requested_by_role", "withdrawn_at", "withdrawn_by_role")
    return {k: record.get(k) for k in keys}


def _cited(rule: SettlementMethod) -> dict[str, str]:
    return {"rule_id": rule.rule.rule_id, "clause": rule.rule.clause}


# --- the choice on a statement -------------------------------------------------------------------------------------
def choose(payouts: Payouts, statement: Mapping[str, Any]) -> dict[str, Any]:
    """What the statement states of its payment: the method, why (rule and clause), the request and the partner's own
    open invoices. A withheld statement, or one that pays nothing, states no method: the first run that releases
    a withheld amount states the method it is paid by."""
    pid = statement["partner_id"]
    request = payouts.requests.get(pid)
    owed = list(payouts.open_invoices.get(pid, ())) if request else []
    chosen: dict[str, Any] = {
        **_cited(payouts.rule),
        "balance_as_of": payouts.on.isoformat(),  # the run's as-of day (the header's `as_of` is staff only)
        "bank_transfer_requested": request is not None,
        "requested_at": request["requested_at"] if request else None,
        "open_invoice_count": len(owed),
        "open_invoices": owed[:MAX_LISTED],
    }
    cite = f"({payouts.rule.rule.rule_id}, {payouts.rule.rule.clause})"
    if statement.get("status") == "withheld":
        return {**chosen, "method": None, "instruction": None,
                "reason": f"withheld: nothing is paid now; the settlement that releases it states how {cite}"}
    if Decimal(statement["total"]) <= 0:
        return {**chosen, "method": None, "instruction": None, "reason": f"nothing is payable {cite}"}
    if not any(line["payout"] in PAID_BY_METHOD for line in statement["lines"]):
        return {**chosen, "method": None, "instruction": None,
                "reason": f"no line is a rebate settled under {payouts.rule.rule.clause}: each program is paid as its "
                          f"policy's payout says (by_payout) {cite}"}  # fmt: skip
    if request is None:
        method, reason = CREDIT_NOTE, f"settled by credit note: the partner has not asked for a bank transfer {cite}"
    elif owed:
        outstanding = sum((Decimal(i["outstanding"]) for i in owed), Decimal(0))
        method = CREDIT_NOTE
        reason = (f"settled by credit note: the partner asked for a bank transfer but has an open balance on "
                  f"{payouts.on.isoformat()} ({len(owed)} invoice(s) issued and unpaid, {format_money(outstanding)} "
                  f"net outstanding) {cite}")  # fmt: skip
    else:
        method = BANK_TRANSFER
        reason = (f"settled by bank transfer: the partner asked for it on {request['requested_at'][:10]} and has no "
                  f"open balance on {payouts.on.isoformat()} {cite}")  # fmt: skip
    return {**chosen, "method": method, "instruction": INSTRUCTION[method], "reason": reason}


def apply(statement: dict[str, Any], chosen: Mapping[str, Any]) -> None:
    """State the choice on the statement; paid by bank transfer, the lines the method pays say so (the caller sums
    the statement's `by_payout` from the lines)."""
    statement["settlement_method"] = dict(chosen)
    if chosen["method"] != BANK_TRANSFER:
        return
    for line in statement["lines"]:
        if line["payout"] in PAID_BY_METHOD:
            line["payout"] = BANK_TRANSFER
