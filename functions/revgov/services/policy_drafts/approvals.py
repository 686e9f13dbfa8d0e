"""Four eyes on a policy change: proposing a draft for the approvals the active policy names, each required role's
approval (the last one activates it when its effective time has come), rejection and withdrawal; on the change
calendar where the policy in force has one (SOP-7.3 / COP-7.2), and never by a hand that made the draft (SOP-4.3)."""

from __future__ import annotations

from typing import Any

from ...domain import policy_change
from ...domain.access import Principal
from ...domain.change_calendar import ChangeCalendar
from ...domain.errors import Conflict, FieldError, Forbidden, RevgovError, RuleViolation, StaleWrite
from ...domain.policy_change import APPROVED, DRAFT, PROPOSED, REJECTED
from ...domain.tenants import Tenant
from ...domain.time import instant, parse_instant
from ...ports import Changes
from ...runtime import Runtime
from .. import key_lineage
from ..tenants import load_tenant
from ..toolkit import retry_on_conflict
from .activation import activation
from .freeze import may_be_made
from .repository import draft_put, entry, event, expect_revision, load, must_be_editable, view
from .validation import amended_contract_current, problems_of

APPROVE_ATTEMPTS = 3  # two roles approving in the same moment: the loser reads the draft again


def propose(rt: Runtime, who: Principal, draft_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Ask for the approvals the active policy names. `effective_at` (UTC, not in the past) or none: at once."""
    draft, version = load(rt, who.tenant_id, draft_id)
    must_be_editable(draft)
    expect_revision(draft, body)
    now = rt.clock.now_iso()
    effective_at = body.get("effective_at")
    starts = None if effective_at is None else parse_instant(effective_at, field_path="/effective_at",
                                                             problem=RuleViolation)  # fmt: skip
    if starts is not None and starts < instant(now):
        raise RuleViolation(f"effective_at {effective_at} is in the past (now {now}); give a later time or none "
                            "(at once)", errors=[FieldError("/effective_at", "in the past")])  # fmt: skip
    tenant = _proposable(rt, who.tenant_id, draft)
    short = policy_change.notice_problem(tenant.policy, draft["policy"], starts, instant(now))  # PA-10.5 / CPA-10.4
    if short is not None:
        raise short
    calendar = ChangeCalendar.from_policy(tenant.policy)  # SOP-7.3 / COP-7.2 (policy_change.effective_problem)
    if calendar is not None:
        calendar.check_effective(instant(effective_at) if effective_at else None, instant(now))
        may_be_made(rt, tenant, calendar, now)
    rule = policy_change.change_rule(tenant.policy)
    proposed = {**draft, "status": PROPOSED, "hands": sorted({*draft["hands"], who.key_id}),
                "required_roles": sorted(rule["approver_roles"]), "approval_rule": rule, "approvals": [],
                "proposal": {"by": who.actor, "at": now, "effective_at": effective_at, "note": body.get("note"),
                             "revision": draft["revision"]}}  # fmt: skip
    inputs = {"effective_at": effective_at, "required_roles": proposed["required_roles"], "note": body.get("note")}
    changes = Changes(puts=[draft_put(proposed, version)],
                      audit=[entry(who, "proposed", proposed, PROPOSED, inputs, rule)],
                      events=[event("proposed", proposed, required_roles=proposed["required_roles"],
                                    effective_at=effective_at)])  # fmt: skip
    rt.commit(who.tenant_id, changes)
    return view(proposed)


def _proposable(rt: Runtime, tenant_id: str, draft: dict[str, Any]) -> Tenant:
    """The tenant, when the draft still applies to its policy in force, changes something, and has no problem."""
    tenant, _ = load_tenant(rt, tenant_id)
    if draft["base_version"] != tenant.policy_version:
        raise Conflict(f"the active policy changed since this draft was made (from {draft['base_version']} to "
                       f"{tenant.policy_version}); create a new draft", extra={"active_version": tenant.policy_version})
    if draft["policy_version"] == tenant.policy_version and not draft.get("amendment"):
        raise RuleViolation("the draft is the active policy: there is nothing to propose")
    amended_contract_current(rt, tenant_id, draft)
    found = problems_of(rt, tenant_id, draft["policy"], draft.get("amendment"))
    if found:
        raise RuleViolation(f"the draft cannot be proposed: {len(found)} problem(s)", errors=found)
    return tenant


def approve(rt: Runtime, who: Principal, draft_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """One required role's approval; the last one activates the draft at once when its effective time has come.
    Two roles approving in the same moment: the one whose write loses reads the draft again and approves it then
    (a refusal, or the active policy or contract moving under the draft, is answered at once)."""
    lost: list[StaleWrite] = []

    def once() -> dict[str, Any]:
        try:
            return _approve_once(rt, who, draft_id, body)
        except StaleWrite as stale:
            lost.append(stale)
            raise

    return retry_on_conflict(once, attempts=APPROVE_ATTEMPTS, exhausted=lambda: lost[-1])


def _approve_once(rt: Runtime, who: Principal, draft_id: str, body: dict[str, Any]) -> dict[str, Any]:
    draft, version = load(rt, who.tenant_id, draft_id)
    mine = key_lineage.holders(rt, who.tenant_id, who.key_id, since=draft["created_at"])
    try:
        policy_change.refuse_approval(draft, who.role.value, who.key_id, holders=mine)
    except (Forbidden, Conflict) as refused:
        _record_refusal(rt, who, draft, "approve", refused)
        raise
    now = rt.clock.now_iso()
    _on_calendar(rt, who, draft, now)
    approvals = [*draft["approvals"], {"role": who.role.value, "by": who.actor, "key_id": who.key_id, "at": now,
                                       "note": body.get("note"), "revision": draft["revision"]}]  # fmt: skip
    done = {a["role"] for a in approvals} >= set(draft["required_roles"])
    if done:  # the last approval decides the change: the notice (PA-10.5 / CPA-10.4) runs from here
        _notice_from(rt, who, draft, now)
    approved = {**draft, "approvals": approvals, "status": APPROVED if done else PROPOSED,
                "approved_hands": sorted({*(draft.get("approved_hands") or ()), *mine})}  # fmt: skip
    remaining = sorted(set(draft["required_roles"]) - {a["role"] for a in approvals})
    inputs = {"role": who.role.value, "note": body.get("note"), "remaining_roles": remaining}
    changes = Changes(audit=[entry(who, "approved", approved, approved["status"], inputs, draft["approval_rule"])],
                      events=[event("approved", approved, role=who.role.value, complete=done)])  # fmt: skip
    effective_at = approved["proposal"]["effective_at"]
    if done and (effective_at is None or instant(effective_at) <= instant(now)):
        approved, activated = activation(rt, who.tenant_id, (who.actor, who.role.value), approved, now)
        changes.merge(activated)
    changes.puts.insert(0, draft_put(approved, version))
    rt.commit(who.tenant_id, changes)
    return view(approved)


def _on_calendar(rt: Runtime, who: Principal, draft: dict[str, Any], now: str) -> None:
    """Approving makes the change: not in the freeze, nor after its effective day has passed (a refusal recorded)."""
    tenant, _ = load_tenant(rt, who.tenant_id)
    calendar = ChangeCalendar.from_policy(tenant.policy)
    if calendar is None:
        return
    try:
        may_be_made(rt, tenant, calendar, now)
        effective = draft["proposal"]["effective_at"]
        calendar.check_still_first_day(instant(effective) if effective else None, instant(now))
    except RuleViolation as refused:
        _record_refusal(rt, who, draft, "approve", RuleViolation(
            refused.detail, extra={**refused.extra, "refusal": "change_calendar"}))  # fmt: skip
        raise


def _notice_from(rt: Runtime, who: Principal, draft: dict[str, Any], now: str) -> None:
    """Deciding a change that needs notice leaves that notice before it takes effect (a refusal recorded)."""
    tenant, _ = load_tenant(rt, who.tenant_id)
    effective = draft["proposal"]["effective_at"]
    short = policy_change.notice_problem(tenant.policy, draft["policy"], instant(effective) if effective else None,
                                         instant(now), at="approved")  # fmt: skip
    if short is not None:
        short.extra["refusal"] = "notice"
        _record_refusal(rt, who, draft, "approve", short)
        raise short


def reject(rt: Runtime, who: Principal, draft_id: str, body: dict[str, Any]) -> dict[str, Any]:
    draft, version = load(rt, who.tenant_id, draft_id)
    try:
        policy_change.refuse_approval(draft, who.role.value, who.key_id, approving=False,
                                      holders=key_lineage.holders(rt, who.tenant_id, who.key_id,
                                                                  since=draft["created_at"]))  # fmt: skip
    except (Forbidden, Conflict) as refused:
        _record_refusal(rt, who, draft, "reject", refused)
        raise
    rejected = {**draft, "status": REJECTED,
                "rejection": {"by": who.actor, "role": who.role.value, "at": rt.clock.now_iso(), "note": body["note"]}}
    rt.commit(who.tenant_id, Changes(puts=[draft_put(rejected, version)],
                                     audit=[entry(who, "rejected", rejected, REJECTED, {"note": body["note"]},
                                                  draft["approval_rule"])],
                                     events=[event("rejected", rejected, role=who.role.value)]))  # fmt: skip
    return view(rejected)


def withdraw(rt: Runtime, who: Principal, draft_id: str) -> dict[str, Any]:
    """A proposal taken back to draft: its approvals are void (SOP-4.4: an approval applies only to the request
    version it was given for)."""
    draft, version = load(rt, who.tenant_id, draft_id)
    if draft["status"] not in (PROPOSED, APPROVED):
        raise Conflict(f"policy draft {draft_id} is {draft['status']}; only a proposal is withdrawn",
                       extra={"current_status": draft["status"]})  # fmt: skip
    back = {**draft, "status": DRAFT, "approvals": [], "approved_hands": [], "proposal": None, "required_roles": [],
            "approval_rule": None}  # fmt: skip
    rt.commit(who.tenant_id, Changes(puts=[draft_put(back, version)],
                                     audit=[entry(who, "withdrawn", back, DRAFT, {"was": draft["status"]})]))
    return view(back)


def _record_refusal(rt: Runtime, who: Principal, draft: dict[str, Any], attempted: str, refused: RevgovError) -> None:
    """A refused governance action leaves a record on the chain (SOP-4.3: any attempt to self-approve is recorded)."""
    rule = {"id": refused.extra.get("rule_id"), "clause": refused.extra.get("clause")}
    inputs = {"refusal": refused.extra.get("refusal"), "attempted": attempted, "status": refused.status,
              "detail": refused.detail, "draft_status": draft["status"]}  # fmt: skip
    rt.audit_only(who.tenant_id, entry(who, "approval_refused", draft, "refused", inputs, rule))
