"""Explanations grounded in stored records and quoted clauses, beyond decisions (`/v1/decisions/{id}/explain`):
a rebate settlement statement or one of its lines; a partner's entitlement on a day;
the partners at risk of missing a threshold; a partner's performance in a Quarter."""

from __future__ import annotations

import re
from typing import Any

from ...domain.access import Role
from ...domain.errors import NotFound
from ...services import explain_at_risk, performance_summary
from ..http import Call
from ..query import required_period
from ..registry import PERIOD_PATTERN, STAFF, QueryParam, operation

READERS = frozenset(STAFF | {Role.PARTNER})
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
QUARTER_PATTERN = r"(19|20|21)[0-9]{2}-Q[1-4]"


@operation(
    "GET",
    "/v1/rebates/settlements/{settlement_id}/explain",
    summary="Why a partner's rebate is what it is: each statement line's programme, clause, basis with the invoices "
    "and credit notes behind it, rate, tier, caps, accrual difference and withholding, quoting the clauses",
    roles=READERS,
    tag="rebates",
    id_params={"settlement_id": "set"},
    query=(
        QueryParam("partner_id", "whose statement (required for staff; a partner key: its own, else 404)",
                   pattern=r"ptr_[0-9A-HJKMNP-TV-Z]{26}"),
        QueryParam("line", "only this statement line (its line_no)", pattern=r"[1-9][0-9]{0,3}"),
    ),
    response_schema="api/responses/statement-explanation.schema.json",
)
def explain_settlement(call: Call) -> dict[str, Any]:
    from ...services import explain_rebates  # quotes clauses with the copilot's core: loaded here, not at cold start

    return explain_rebates.explain_settlement(
        call.runtime, call.who, call.params["settlement_id"], call.query.get("partner_id"), call.query.get("line")
    )


@operation(
    "GET",
    "/v1/partners/{partner_id}/entitlements/{name}/explain",
    summary="Is the partner entitled to this (e.g. premium_onboarding, managed_support) at `at`, and why: the tier "
    "held that day, the rule, the reason and the clause quoted",
    roles=READERS,
    tag="partners",
    id_params={"partner_id": "ptr"},
    query=(
        QueryParam("at", "evaluate as of this UTC time (default: now), e.g. 2027-03-10T00:00:00Z",
                   pattern=r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z"),
    ),
    response_schema="api/responses/entitlement-explanation.schema.json",
)
def explain_entitlement(call: Call) -> dict[str, Any]:
    from ...services import explain_entitlements  # quotes clauses with the copilot's core: loaded here, not at start

    name = call.params["name"]
    if not _NAME.fullmatch(name):
        raise NotFound(f"no entitlement {name}")
    at = call.query.get("at") or call.runtime.clock.now_iso()
    return explain_entitlements.explain_entitlement(call.runtime, call.who, call.params["partner_id"], name, at)


@operation(
    "GET",
    "/v1/forecasts/at-risk",
    summary="Which active partners are at risk of missing a threshold in the period: per partner and programme the "
    "lowest level not reached, P(miss) at least min_p_miss (default 0.5), the gap and the level's clause",
    roles=STAFF,
    tag="analytics",
    query=(
        QueryParam("period", "a billing month (2026-11) or a quarter (2026-Q4); required", pattern=PERIOD_PATTERN,
                   required=True),
        QueryParam("min_p_miss", "list levels at least this likely to be missed (0 to 1, default 0.5)",
                   pattern=r"(0(\.[0-9]{1,4})?|1(\.0{1,4})?)"),
    ),
    response_schema="api/responses/at-risk-partners.schema.json",
)
def list_at_risk_partners(call: Call) -> dict[str, Any]:
    return explain_at_risk.at_risk_partners(call.runtime, call.who, required_period(call), call.query.get("min_p_miss"))


@operation(
    "GET",
    "/v1/partners/{partner_id}/performance-summary",
    summary="A partner's performance in a Quarter in plain sentences, every figure a fact with its source (KPI or "
    "forecast and period, or the rule and clause): thresholds and the chance of missing them, rebates accrued, open "
    "disputes, certifications expiring, support hours, invoice cycle time and (staff) the tier review outlook; "
    "recommended next steps that move no money, and a drafted message for a person to review and send",
    roles=READERS,
    tag="partners",
    id_params={"partner_id": "ptr"},
    query=(QueryParam("period", "a quarter (2026-Q4); default the current quarter", pattern=QUARTER_PATTERN),),
    response_schema="api/responses/performance-summary.schema.json",
    response_example="performance-summary.json",
)
def get_performance_summary(call: Call) -> dict[str, Any]:
    return performance_summary.summary(call.runtime, call.who, call.params["partner_id"], call.query.get("period"))
