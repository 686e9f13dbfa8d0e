"""The quarter close's deadlines as exceptions (SOP-7.2 / COP-7.2), like the month close's invoice SLA; and the month
close's commission deadlines (SOP-7.1 / COP-7.1 "by the 3rd business day, commissions for month M are calculated";
PA-8.2 / CPA-8.2 "paid within 30 days after the end of the month", `watch_months`): a month's run not prepared by its
calculate-by day, or not approved (its statements issued) by its pay-by day, opens one `commission_run_overdue`
exception for the month, routed under the month close (SOP-7.1 / COP-7.1), not the quarter close's category.

SOP-7.2: "by Q + 30 days, Finance completes review of the rebate run, approved by a second member of the finance
queue; by Q + 45 days, settlement statements and credit notes are issued". Scheduled with the month-close watch
(`month_close_watch`, events/schedules.json), per tenant with a quarterly program and `rebates.settlement_approval`
deadlines: once the Quarter just ended has passed its approve-by (or issue-by) day with no approved run 1, one
`rebate_run_overdue` exception for finance cites the approval rule and names the deadlines missed and the run
awaiting approval, if any; a later pass refreshes it while it is open (a second deadline missed), never opens
another, and leaves it alone once finance closed it. A run approved late says so in its own view (`review.overdue`).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from ...domain.errors import Conflict
from ...domain.rebates import settlement_run as review
from ...domain.rebates.policy import COMMISSION_RUN_OVERDUE, MONTH, QUARTER, Period
from ...domain.rules import Rule
from ...domain.tenants import Tenant
from ...ports import Changes
from ...runtime import Runtime
from .. import case_repository, cases, tenants
from . import repository
from .book import today

CATEGORY = "rebate_run_overdue"
# a month's late commission run: routed under the month close (SOP-7.1 / COP-7.1), not the quarter close (SOP-7.2)
MONTH_CATEGORY = COMMISSION_RUN_OVERDUE
ACTOR = "system:quarter_close"


def watch(rt: Runtime, tenant_id: str) -> dict[str, int]:
    """One pass for one tenant over the Quarter just ended (SOP-7.2 / COP-7.2): {opened, refreshed, looked_at}."""
    counts = {"opened": 0, "refreshed": 0, "looked_at": 0}
    tenant, _ = tenants.load_tenant(rt, tenant_id)
    rebates_node = tenant.policy.get("rebates") or {}
    if not any(p.get("period") == QUARTER for p in rebates_node.get("programs", [])):
        return counts
    on = today(rt)
    rule = review.Review.of(tenant.policy, Rule.of(rebates_node["settlement"]))
    _watch_period(rt, tenant, rule, _ended_quarter(on), on, counts)
    return counts


def watch_months(rt: Runtime, tenant_id: str) -> dict[str, int]:
    """One pass for one tenant over the months' commission runs (SOP-7.1 / COP-7.1, PA-8.2 / CPA-8.2), where it has a
    monthly program and `rebates.commission_deadlines`: the two months just ended (a month's pay-by day, its end + 30
    days, can fall after the next month has ended: January's is 2 March). {opened, refreshed, looked_at}."""
    counts = {"opened": 0, "refreshed": 0, "looked_at": 0}
    tenant, _ = tenants.load_tenant(rt, tenant_id)
    rebates_node = tenant.policy.get("rebates") or {}
    if not any(p.get("period") == MONTH for p in rebates_node.get("programs", [])):
        return counts
    rule = review.Review.of(tenant.policy, Rule.of(rebates_node["settlement"]))
    if rule.monthly is None:
        return counts
    on = today(rt)
    last = _month_index(on) - 1
    for month in (last - 1, last):
        _watch_period(rt, tenant, rule, Period.containing(month, MONTH), on, counts)
    return counts


def _watch_period(
    rt: Runtime, tenant: Tenant, rule: review.Review, period: Period, on: date, counts: dict[str, int]
) -> None:
    tenant_id = tenant.tenant_id
    if tenant.created_at[:10] > period.end.isoformat():
        return
    counts["looked_at"] += 1
    if repository.settlement_of_run(rt, tenant_id, period.name, 1) is not None:
        return  # approved (and issued): a late approval (or calculation) is stated in the run's own view
    pointer = repository.preparation(rt, tenant_id, period.name, 1)
    header = repository.find_settlement(rt, tenant_id, pointer.data["settlement_id"]) if pointer else None
    due = review.deadlines(rule, period)
    prepared_at = header.get("prepared_at") if header and header["status"] == review.PREPARED else None
    pending = {"review": due, "status": review.PREPARED, "approved_at": None, "prepared_at": prepared_at}
    late = review.with_overdue(pending, on)["overdue"]
    if not late:
        return
    context = {"period": period.name, "approve_by": due["approve_by"], "issue_by": due["issue_by"],
               **({"calculate_by": due["calculate_by"]} if due.get("calculate_by") else {}),
               "overdue": late, "as_of": on.isoformat(),
               "settlement_id": header["settlement_id"] if header else None,
               "run_status": header["status"] if header else None}  # fmt: skip
    _report(rt, tenant, due, context, counts)


def _ended_quarter(on: date) -> Period:
    """The Quarter that ended last before `on`."""
    first = on.replace(month=((on.month - 1) // 3) * 3 + 1, day=1)
    return Period.containing(_month_index(first - timedelta(days=1)), QUARTER)


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


WHAT = {"calculation": "calculated (the run prepared)", "approval": "approved by a second member of the finance queue",
        "issue": "issued"}


def _report(rt: Runtime, tenant: Tenant, due: dict[str, Any], context: dict[str, Any], counts: dict[str, int]) -> None:
    """Open the period's exception once; refresh it while it is open."""
    period, tid, now = context["period"], tenant.tenant_id, rt.clock.now_iso()
    marker = repository.late_run_case(rt, tid, period)
    if marker is not None:
        stored = case_repository.read(rt.store, tid, marker.data["case_id"])
        if stored is None or not cases.undecided(stored.data) or stored.data["context"] == context:
            return
        try:
            rt.commit(tid, Changes(puts=[cases.refresh_case(stored.data, stored.version, context=context, at=now)]))
            counts["refreshed"] += 1
        except Conflict:  # decided meanwhile
            pass
        return
    days = {"calculation": "calculate_by", "approval": "approve_by", "issue": "issue_by"}
    rule = {"rule_id": due["rule_id"], "clause": due["clause"]}
    reasons = []
    for name in context["overdue"]:
        cited = due["calculation"] if name == "calculation" else rule
        message = (f"the rebate run of {period} is not {WHAT[name]} by {context[days[name]]} "
                   f"({cited['clause']})")  # fmt: skip
        reasons.append({**cited, "message": message})
    category = MONTH_CATEGORY if Period.parse(period).kind == MONTH else CATEGORY
    case, changes = cases.open_case(
        rt, tenant.policy, kind="exception", category=category, subject_kind="rebate_period", subject_id=period,
        requested_by=ACTOR, reasons=reasons, context=context, policy_version=tenant.policy_version,
    )  # fmt: skip
    changes.puts.append(repository.late_run_case_put(period, case["case_id"], now))
    try:
        rt.commit(tid, changes)
        counts["opened"] += 1
    except Conflict:  # another pass opened it meanwhile
        pass
