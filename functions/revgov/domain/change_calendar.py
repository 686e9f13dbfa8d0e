"""When a policy change may be made and when it may take effect: the contracts' change calendar. Pure.

SOP-7.3 (northwind): "Changes to the tenant policy (tiers, discount caps, rebate programs, rate tables and routing)
take effect only on the first day of a Billing Month and are not made during the last 5 business days of a Quarter or
before the rebate run for the Quarter is approved." COP-7.2 (contoso): "Policy changes are not made in the last 5
business days of a Quarter or before the rebate run is approved, and take effect on the first day of a Billing Month."

The policy states it as two rules: `policy_changes.takes_effect` (`{id, clause}`) and `policy_change_calendar`
(`{id, clause, freeze_last_business_days, until_rebate_run}`); a policy without them has no calendar. Read here as:
- *take effect*: a given `effective_at` is the first moment of a Billing Month, 00:00:00Z on day 1 ("a day runs from
  00:00:00 to 23:59:59 UTC"; `policy_change.effective_problem`); without one, a change takes effect at once only when
  approved on such a day; a change whose first day has passed before it could be approved or activated never takes
  effect on another day.
- *made*: proposing and approving a change are the acts that make it; neither happens from 00:00 UTC of the N-th last
  business day of a Quarter until the rebate run for that Quarter is approved (its run 1 approved by a second finance
  member, services.rebates.run_approved; a prepared run is not approved). The clauses give no emergency path, so
  there is none.
- *take effect* before the run is approved: a change approved earlier for the first day of the next Quarter's first
  month does not take effect while the run of the Quarter just ended is unapproved (409, `check_may_take_effect`):
  the run would otherwise be rated under a policy made for the next Quarter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from .calendar import BusinessCalendar
from .errors import Conflict, FieldError, RuleViolation
from .policy_change import effective_problem


@dataclass(frozen=True)
class ChangeCalendar:
    effective: tuple[str, str] | None  # (rule id, clause) of `policy_changes.takes_effect`: the first day of a month
    freeze: tuple[str, str] | None  # (rule id, clause) of `policy_change_calendar`: when no change is made
    freeze_days: int = 0  # the last N business days of a Quarter
    until_rebate_run: bool = False  # and until the Quarter's rebate run is approved

    @classmethod
    def from_policy(cls, policy: dict[str, Any]) -> ChangeCalendar | None:
        takes = (policy.get("policy_changes") or {}).get("takes_effect")
        spec = policy.get("policy_change_calendar")
        if not takes and not spec:
            return None
        return cls((takes["id"], takes["clause"]) if takes else None,
                   (spec["id"], spec["clause"]) if spec else None,
                   int((spec or {}).get("freeze_last_business_days", 0)),
                   bool((spec or {}).get("until_rebate_run", False)))

    @staticmethod
    def _refuse(rule: tuple[str, str], detail: str, path: str | None = None, message: str = "") -> RuleViolation:
        return RuleViolation(f"{detail} ({rule[0]}, {rule[1]})", errors=[FieldError(path, message)] if path else [],
                             extra={"rule_id": rule[0], "clause": rule[1]})

    def check_effective(self, effective_at: datetime | None, now: datetime) -> None:
        """A change takes effect only on the first day of a Billing Month: a given `effective_at` is that day's first
        moment, 00:00:00Z (policy_change.effective_problem); at once (`None`) only when today is such a day."""
        if self.effective is None:
            return
        if effective_at is not None:
            found = effective_problem({"policy_changes": {"takes_effect": {"id": self.effective[0],
                                                                           "clause": self.effective[1]}}},
                                      effective_at.isoformat(), effective_at)
            if found is not None:
                raise found
            return
        if now.day != 1:
            raise self._refuse(self.effective, f"at once would be {now.date().isoformat()}, which is not the first day "
                               "of a Billing Month; a policy change takes effect only on the first day of one (give "
                               "effective_at 00:00:00Z on day 1 of a month)", "/effective_at",
                               "not the first day of a Billing Month")

    def check_still_first_day(self, effective_at: datetime | None, now: datetime) -> None:
        """Approving or activating: the change still takes effect on its first day of a Billing Month; one whose day
        has passed cannot take effect on a later day."""
        if self.effective is None:
            return
        effective = effective_at or now
        if effective_at is None:
            self.check_effective(None, now)
        if now.date() > effective.date():
            raise self._refuse(self.effective, f"this change was to take effect on {effective.date().isoformat()}, "
                               f"the first day of its Billing Month; it is now {now.date().isoformat()}: withdraw it "
                               "and propose it for a later month", "/effective_at", "its first day has passed")

    def freeze_start(self, quarter_end: date, business: BusinessCalendar) -> date | None:
        """The first day of the last N business days of the Quarter ending `quarter_end` (None: no freeze)."""
        if self.freeze_days <= 0:
            return None
        day, counted = quarter_end, 0
        while True:
            if business.is_business_day(day):
                counted += 1
                if counted == self.freeze_days:
                    return day
            day -= timedelta(days=1)

    def check_may_be_made(self, now: datetime, business: BusinessCalendar, *, previous_quarter: str,
                          previous_run_pending: bool) -> None:
        """Raise if a change is not made at `now`: in the last N business days of this Quarter, or (with
        `until_rebate_run`) while the rebate run of the Quarter just ended is not approved."""
        if self.freeze is None:
            return
        today = now.date()
        start = self.freeze_start(quarter_end(today), business)
        if start is not None and today >= start:
            raise self._refuse(self.freeze, f"policy changes are not made during the last {self.freeze_days} business "
                               f"days of a Quarter (from {start.isoformat()} to {quarter_end(today).isoformat()})")
        if self.until_rebate_run and previous_run_pending:
            raise self._refuse(self.freeze, f"policy changes are not made before the rebate run for {previous_quarter} "
                               "is approved (no approved run of it yet)")


    def check_may_take_effect(self, *, previous_quarter: str, previous_run_pending: bool) -> None:
        """Activating: no change takes effect (409) while the rebate run of the Quarter just ended is not approved."""
        if self.freeze is None or not self.until_rebate_run or not previous_run_pending:
            return
        rule = self.freeze
        raise Conflict(f"a policy change is not made before the rebate run for {previous_quarter} is approved, and it "
                       f"is not approved yet: this change cannot take effect now ({rule[0]}, {rule[1]})",
                       extra={"rule_id": rule[0], "clause": rule[1], "refusal": "change_calendar",
                              "previous_quarter": previous_quarter})  # fmt: skip


def quarter_end(day: date) -> date:
    last_month = ((day.month - 1) // 3) * 3 + 3
    following = date(day.year + (last_month == 12), last_month % 12 + 1, 1)
    return following - timedelta(days=1)


def previous_quarter(day: date) -> tuple[str, date]:
    """The Quarter that ended last before `day`: its name (2026-Q3) and its last day."""
    start = date(day.year, ((day.month - 1) // 3) * 3 + 1, 1)
    end = start - timedelta(days=1)
    return f"{end.year}-Q{(end.month - 1) // 3 + 1}", end
