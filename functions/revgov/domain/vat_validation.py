"""VAT validation results recorded by staff, and what they withhold (CPA-2.3, CPA-7.8). Pure.

CPA-2.3: "A Partner established in the European Union must provide its VAT identification number, which Contoso
validates in the VIES system at admission and again before each quarterly rebate settlement. ... A failed VAT
validation suspends new orders until it is resolved." CPA-7.8: "A Partner whose VAT number fails validation ... has
its settlement withheld until resolved." COP-7.2: "VIES re-validation of all Partner VAT numbers by Q + 5 days".

Revgov does not reach VIES and never pretends to: a member of staff records each check they made (the result, when it
was checked and VIES's consultation reference). The policy's `rebates.vat_validation` rule reads the latest one. A
settlement of a Quarter is withheld while that result is `invalid`, or `valid` but checked on or before the Quarter's
last day (not validated again before this settlement). A partner with no recorded result is not withheld by this
rule: nothing is presumed failed that nobody checked.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .errors import FieldError, MalformedRequest, RuleViolation
from .rules import Rule
from .time import iso, parse_instant

VALID, INVALID = "valid", "invalid"
MAX_REFERENCE = 100
MAX_HISTORY = 50  # checks kept on the partner's record (the audit chain keeps every one)


@dataclass(frozen=True)
class VatValidation:
    """`rebates.vat_validation` compiled: the rules a withheld statement and a held order cite."""

    rule: Rule  # the settlement withheld (CPA-7.8)
    order_rule: Rule | None = None  # new orders held while the latest check failed (CPA-2.3)

    @classmethod
    def of(cls, policy: Mapping[str, Any]) -> VatValidation | None:
        node = (policy.get("rebates") or {}).get("vat_validation")
        if not node:
            return None
        hold = node.get("order_hold")
        return cls(Rule.of(node), Rule.of(hold) if hold else None)


def check_of(body: Mapping[str, Any], now: datetime, by: str, check_id: str) -> dict[str, Any]:
    """A recorded check from the caller's body: `result` valid or invalid, `checked_at` (UTC, not in the future),
    `reference` (VIES's consultation number, printable, at most 100 characters), optional `vat_number`."""
    result = body.get("result")
    if result not in (VALID, INVALID):
        raise MalformedRequest("result is valid or invalid", errors=[FieldError("/result", "valid or invalid")])
    checked = parse_instant(body.get("checked_at"), field_path="/checked_at")
    if checked > now:
        raise RuleViolation("a VAT check cannot be dated in the future",
                            errors=[FieldError("/checked_at", "not after now")])  # fmt: skip
    check = {
        "check_id": check_id,
        "result": result,
        "checked_at": iso(checked),
        "reference": _text(body.get("reference"), "/reference", required=True),
        "vat_number": _text(body.get("vat_number"), "/vat_number", required=False),
        "recorded_by": by,
        "recorded_at": iso(now),
    }
    return check


def _text(value: object, path: str, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_REFERENCE:
        raise MalformedRequest(f"{path[1:]} is 1 to {MAX_REFERENCE} characters",
                               errors=[FieldError(path, f"1 to {MAX_REFERENCE} characters")])  # fmt: skip
    if any(unicodedata.category(c).startswith("C") for c in value):
        raise MalformedRequest(f"{path[1:]} holds a control character",
                               errors=[FieldError(path, "printable characters only")])  # fmt: skip
    return value.strip()


def recorded(record: Mapping[str, Any] | None, partner_id: str, check: dict[str, Any], *,
             subject: str = "partner_id") -> dict[str, Any]:  # fmt: skip
    """The partner's record (or a customer's: `subject` customer_id) with `check` added: the latest is the one checked
    last (a check recorded late, dated before the latest, joins the history only)."""
    history = [*(record["history"] if record else []), check]
    history.sort(key=lambda c: (c["checked_at"], c["recorded_at"]))
    return {subject: partner_id, "latest": history[-1], "history": history[-MAX_HISTORY:]}


def withholds(latest: Mapping[str, Any] | None, period_last_day: date) -> dict[str, Any] | None:
    """Why the latest check withholds a settlement of the period ending `period_last_day` (None: it does not)."""
    if latest is None:
        return None
    checked = latest["checked_at"][:10]
    if latest["result"] == INVALID:
        reason = f"the VAT number failed validation on {checked}"
    elif date.fromisoformat(checked) <= period_last_day:
        reason = f"the VAT number was last validated on {checked}, not again since the period ended on " \
                 f"{period_last_day.isoformat()}"  # fmt: skip
    else:
        return None
    return {"reason": reason, **{k: latest[k] for k in ("result", "checked_at", "reference")}}


def failed(latest: Mapping[str, Any] | None) -> bool:
    """A failed validation not resolved by a later valid one (CPA-2.3: new orders are suspended)."""
    return latest is not None and latest["result"] == INVALID
