"""The tier review (PA-3.6 / CPA-3.5; outcome PA-3.7 / CPA-3.6): what a review on a day finds for a partner, and
Channel Operations recording its outcome."""

from __future__ import annotations

from datetime import date
from typing import Any

from ...domain.access import Role
from ...domain.errors import FieldError, MalformedRequest, RuleViolation
from ...services import tier_changes, tier_review
from ..http import Call
from ..registry import STAFF, QueryParam, operation

# SOP-1.2 / COP-1.2: the channel_ops queue handles "tier changes" (northwind), "tiers" (contoso); PA-3.6 / CPA-3.5:
# "Channel Operations reviews"; the admin role "approves nothing"
RECORDERS = frozenset({Role.CHANNEL_OPS})

_DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
# The review days whose basis (the year before a January review, the Billing Month after an upgrade) lies in the
# Program Years a period can be named in (domain.rebates.policy: 1900-2999); 0001-01-15 and 9999-12-31 answered 500.
_EARLIEST, _LATEST = date(1901, 1, 1), date(2999, 12, 31)


def _on(call: Call, on: str | None = None, path: str = "/query/on") -> date:
    """The review day `on` (YYYY-MM-DD; default: today, UTC); not a date: 400, outside the years: 422 (`path`)."""
    on = on or call.runtime.clock.now_iso()[:10]
    try:
        day = date.fromisoformat(on)
    except ValueError as bad:
        raise MalformedRequest(f"on={on} is not a date", errors=[FieldError(path, "not a date")]) from bad
    if not _EARLIEST <= day <= _LATEST:
        raise RuleViolation(f"a review day lies from {_EARLIEST} to {_LATEST}",
                            errors=[FieldError(path, f"from {_EARLIEST} to {_LATEST}")])  # fmt: skip
    return day


@operation(
    "GET",
    "/v1/partners/{partner_id}/tier-review",
    summary="What the tier review held on `on` finds (PA-3.6 / CPA-3.5: January on the previous Program Year; July "
    "on the trailing four Quarters, or PA-3.6's watch): upgrade from the next Billing Month, downgrade after notice "
    "from the next Quarter (PA-3.7 / CPA-3.6), unchanged or watch; or a partner's upgrade request; read only",
    roles=STAFF,
    tag="partners",
    id_params={"partner_id": "ptr"},
    query=(QueryParam("on", "The review day (YYYY-MM-DD, a day of January or July, 1901-01-01 to 2999-12-31, not "
                      "before the partner's activation; default: today, UTC)", _DAY),
           QueryParam("request", "true: the partner's request for an upgrade between reviews, any day (CPA-3.5: "
                      "on the trailing four Quarters; PA-3.6: the Program Year to date); it never downgrades",
                      enum=("true", "false"))),
    response_schema="api/responses/tier-review.schema.json",
)
def get_tier_review(call: Call) -> dict[str, Any]:
    requested = call.query.get("request") == "true"
    return tier_review.review(call.runtime, call.who, call.params["partner_id"], _on(call, call.query.get("on")),
                              requested=requested)


@operation(
    "POST",
    "/v1/partners/{partner_id}/tier-changes",
    summary="Record the outcome of the tier review held on `on` (PA-3.6 / CPA-3.5): an upgrade from the first day of "
    "the Billing Month after this approval (or, with `request`, on the partner's `written_commitment`, PA-3.6), a "
    "downgrade after written notice given today, from the first day of the next Quarter after it (PA-3.7 / CPA-3.6), "
    "or PA-3.6's July watch below 40% of the commitment; kept on the partner, audited and published",
    roles=RECORDERS,
    tag="partners",
    id_params={"partner_id": "ptr"},
    body_schema="api/tier-change.schema.json",
    status=201,
    example={"on": "2027-01-20"},
    response_schema="api/responses/tier-change-recorded.schema.json",
)
def record_tier_change(call: Call) -> dict[str, Any]:
    on = _on(call, call.body["on"], "/on") if call.body.get("on") else None
    requested = call.body.get("request") is True
    commitment = call.body.get("written_commitment")
    if commitment is not None and not requested:  # PA-3.6: the commitment is signed with the partner's request
        raise RuleViolation("a written commitment comes with the partner's request for an upgrade (request: true)",
                            errors=[FieldError("/written_commitment", "only with request: true")])
    return tier_changes.record_review(call.runtime, call.who, call.params["partner_id"], on, requested=requested,
                                      written_commitment=commitment)
