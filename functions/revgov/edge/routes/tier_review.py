"""The tier review (PA-3.6 / CPA-3.5; outcome PA-3.7 / CPA-3.6): what a review on a day finds for a partner."""

from __future__ import annotations

from datetime import date
from typing import Any

from ...domain.errors import FieldError, MalformedRequest, RuleViolation
from ...services import tier_review
from ..http import Call
from ..registry import STAFF, QueryParam, operation

_DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
# The review days whose basis (the year before a January review, the Billing Month after an upgrade) lies in the
# Program Years a period can be named in (domain.rebates.policy: 1900-2999); 0001-01-15 and 9999-12-31 answered 500.
_EARLIEST, _LATEST = date(1901, 1, 1), date(2999, 12, 31)


def _on(call: Call) -> date:
    """The review day `on` (YYYY-MM-DD; default: today, UTC); not a date: 400, outside the years: 422 (/query/on)."""
    on = call.query.get("on") or call.runtime.clock.now_iso()[:10]
    try:
        day = date.fromisoformat(on)
    except ValueError as bad:
        raise MalformedRequest(f"on={on} is not a date", errors=[FieldError("/query/on", "not a date")]) from bad
    if not _EARLIEST <= day <= _LATEST:
        raise RuleViolation(f"a review day lies from {_EARLIEST} to {_LATEST}",
                            errors=[FieldError("/query/on", f"from {_EARLIEST} to {_LATEST}")])  # fmt: skip
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
    query=(QueryParam("on", "The review day (YYYY-MM-DD, a day of January or July, 1901-01-01 to 2999-12-31; default: "
                      "today, UTC)", _DAY),
           QueryParam("request", "true: the partner's request for an upgrade between reviews, any day (CPA-3.5: "
                      "on the trailing four Quarters; PA-3.6: the Program Year to date); it never downgrades",
                      enum=("true", "false"))),
    response_schema="api/responses/tier-review.schema.json",
)
def get_tier_review(call: Call) -> dict[str, Any]:
    requested = call.query.get("request") == "true"
    return tier_review.review(call.runtime, call.who, call.params["partner_id"], _on(call), requested=requested)
