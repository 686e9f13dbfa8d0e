"""The change calendar's freeze as the tenant's state reads it (SOP-7.3 / COP-7.2): the business days are the tenant's
calendar's; the rebate run of the Quarter just ended is pending when the tenant has a quarterly program, existed before
that Quarter ended, and has no approved run of it (services.rebates.run_approved: a prepared run is not approved)."""

from __future__ import annotations

from ...domain.calendar import BusinessCalendar
from ...domain.change_calendar import ChangeCalendar, previous_quarter
from ...domain.tenants import Tenant
from ...domain.time import instant
from ...runtime import Runtime
from .. import rebates


def previous_run(rt: Runtime, tenant: Tenant, calendar: ChangeCalendar, now: str) -> tuple[str, bool]:
    """The Quarter that ended last before `now`, and whether its rebate run is still to be approved."""
    name, end = previous_quarter(instant(now).date())
    quarterly = any(p.get("period") == "quarter" for p in (tenant.policy.get("rebates") or {}).get("programs", []))
    pending = (calendar.until_rebate_run and quarterly and tenant.created_at[:10] <= end.isoformat()
               and not rebates.run_approved(rt, tenant.tenant_id, name))  # fmt: skip
    return name, pending


def may_be_made(rt: Runtime, tenant: Tenant, calendar: ChangeCalendar, now: str) -> None:
    """Proposing or approving: not in the last business days of a Quarter, nor before its rebate run is approved."""
    name, pending = previous_run(rt, tenant, calendar, now)
    calendar.check_may_be_made(instant(now), BusinessCalendar.from_policy(tenant.policy), previous_quarter=name,
                               previous_run_pending=pending)  # fmt: skip


def may_take_effect(rt: Runtime, tenant: Tenant, calendar: ChangeCalendar, now: str) -> None:
    """Activating: not before the rebate run of the Quarter just ended is approved (a 409 citing the clause)."""
    name, pending = previous_run(rt, tenant, calendar, now)
    calendar.check_may_take_effect(previous_quarter=name, previous_run_pending=pending)
