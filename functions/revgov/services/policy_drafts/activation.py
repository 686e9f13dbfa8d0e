"""A draft taking effect: the tenant's policy and version move to it in one commit with the stored version (for
replay), the policy history entry, the carried contract amendment's new revision, their audit records and events; by
the last approval, an operator, or the schedule once its effective time has come."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ...domain import contract_set, policy_change
from ...domain.access import Principal
from ...domain.audit import AuditEntry
from ...domain.change_calendar import ChangeCalendar
from ...domain.errors import Conflict, NotFound, RuleViolation
from ...domain.policy_change import ACTIVE, APPROVED
from ...domain.tenants import Tenant, policy_version
from ...domain.time import instant
from ...ports import Changes, Put
from ...runtime import Runtime
from .. import contracts
from ..tenant_repository import policy_put, profile_put, stored_profile
from ..tenants import load_tenant
from ..toolkit import pages
from .freeze import may_take_effect
from .repository import ACTIVATIONS, DRAFTS, draft_put, event, load, missing_roles, view
from .validation import amended_contract_current, problems_of

SCHEDULE = ("system:policy-activation", "system")


def activation(rt: Runtime, tenant_id: str, actor: tuple[str, str], draft: dict[str, Any],
               now: str) -> tuple[dict[str, Any], Changes]:  # fmt: skip
    """The draft becomes the tenant's policy: the profile's policy and version, the version stored for replay, an
    entry in the policy history, the audit record and `policy.activated`, as changes for one commit. `actor` is
    (who, role): the last approver, an operator activating, or the schedule."""
    stored = stored_profile(rt.store, tenant_id)
    if stored is None:
        raise NotFound(f"no tenant {tenant_id}")
    tenant = Tenant.from_dict(stored.data)
    if tenant.policy_version != draft["base_version"]:
        raise Conflict(f"the active policy changed since this draft was made (from {draft['base_version']} to "
                       f"{tenant.policy_version}); it cannot take effect over that change: create a new draft",
                       extra={"active_version": tenant.policy_version})  # fmt: skip
    calendar = ChangeCalendar.from_policy(tenant.policy)
    if calendar is not None:  # SOP-7.3 / COP-7.2: it takes effect on the first day of a Billing Month, no other day
        effective = draft["proposal"]["effective_at"]
        calendar.check_still_first_day(instant(effective) if effective else None, instant(now))
        may_take_effect(rt, tenant, calendar, now)  # nor before the rebate run of the Quarter just ended is approved
    _notice_given(tenant.policy, draft, now)
    contract = amended_contract_current(rt, tenant_id, draft)
    # the contracts may have moved since the proposal (a document withdrawn or replaced while the policy in force cited
    # none of the clauses this draft cites): a policy never takes effect citing a clause the contracts do not have
    found = problems_of(rt, tenant_id, draft["policy"], draft.get("amendment"))
    if found:
        raise RuleViolation(f"policy draft {draft['draft_id']} cannot take effect: {len(found)} problem(s) against the "
                            "tenant's contracts as they are now", errors=found)
    document = draft["policy"]
    moved = replace(tenant, config={**tenant.config, "policy": document}, policy_version=policy_version(document))
    record = _record(draft, actor[0], tenant.policy_version, moved.policy_version, now)
    if contract is not None:  # the amendment's new revision of its document, written in this same commit
        amendment = draft["amendment"]
        record["amendment"] = {"document": amendment["document"], "sha256": amendment["sha256"],
                               "revision": contracts.next_revision(rt, tenant_id, amendment["document"])}  # fmt: skip
    active = {**draft, "status": ACTIVE, "activation": record}
    changes = Changes(
        puts=[profile_put(moved, version=stored.version, conflict_detail="the tenant changed meanwhile; retry"),
              policy_put(moved),
              Put(ACTIVATIONS, f"{now}#{draft['draft_id']}", record, must_be_absent=True)],
        audit=[_activated_entry(actor, draft, record)],
        events=[event("activated", active, previous_version=tenant.policy_version, activated_at=now,
                      effective_at=record["effective_at"])],
    )  # fmt: skip
    if contract is not None:
        changes.merge(_amendment_changes(actor, draft, record, contract, now))
    return active, changes


def _notice_given(in_force: dict[str, Any], draft: dict[str, Any], now: str) -> None:
    """PA-10.5 / CPA-10.4: a change needing notice takes effect only that notice after it was decided (its last
    approval; an approved draft always has one)."""
    decided = max((a["at"] for a in draft["approvals"]), default=now, key=instant)
    effective = draft["proposal"]["effective_at"]
    short = policy_change.notice_problem(in_force, draft["policy"], instant(effective) if effective else None,
                                         instant(decided), at="approved")  # fmt: skip
    if short is not None:
        raise short


def _record(draft: dict[str, Any], by: str, previous: str, version: str, now: str) -> dict[str, Any]:
    """The policy history entry: which version, from which draft, approved by whom, replacing which."""
    return {"activated_at": now, "activated_by": by, "previous_version": previous, "policy_version": version,
            "effective_at": draft["proposal"]["effective_at"], "draft_id": draft["draft_id"],
            "from_version": draft["from_version"],
            "approvals": [{k: a[k] for k in ("role", "by", "at")} for a in draft["approvals"]]}  # fmt: skip


def _activated_entry(actor: tuple[str, str], draft: dict[str, Any], record: dict[str, Any]) -> AuditEntry:
    # the actor may be the schedule, which is no principal
    return AuditEntry(actor=actor[0], actor_role=actor[1],
                      action="policy.activated", subject=draft["draft_id"], outcome=ACTIVE,
                      inputs={k: v for k, v in record.items() if k != "approvals"} |
                      {"approved_by": [a["by"] for a in draft["approvals"]]},
                      policy_version=record["policy_version"],
                      rule_ids=(draft["approval_rule"]["id"],), clauses=(draft["approval_rule"]["clause"],))


def _amendment_changes(actor: tuple[str, str], draft: dict[str, Any], record: dict[str, Any],
                       contract: Any, now: str) -> Changes:  # fmt: skip
    """The draft's contract amendment as a new revision of its document, in the activation's own commit: audited
    (`contract.amended`, naming the draft and the policy version it came with) and announced (`contract.changed`)."""
    amendment = draft["amendment"]
    text = contract_set.parse(amendment["name"], amendment["markdown"])
    revision = record["amendment"]["revision"]
    reason = f"{amendment['reason']} (with policy draft {draft['draft_id']})"
    clause_changes = contract_set.clause_changes(contract_set.parse(contract.data["name"], contract.data["markdown"]),
                                                 text)
    return Changes(
        puts=contracts.contract_puts(None, text, revision=revision, at=now, by=amendment["by"], action="amended",
                                     reason=reason, version=contract.version, changes=clause_changes),
        audit=[AuditEntry(actor=actor[0], actor_role=actor[1], action="contract.amended",
                          subject=amendment["document"], outcome="amended",
                          inputs={"document": amendment["document"], "revision": revision, "sha256": text.sha256,
                                  "reason": reason, "clauses": amendment["clauses"], "draft_id": draft["draft_id"],
                                  "policy_version": record["policy_version"],
                                  "approved_by": [a["by"] for a in draft["approvals"]], "changes": clause_changes},
                          policy_version=record["policy_version"],
                          rule_ids=(draft["approval_rule"]["id"],), clauses=(draft["approval_rule"]["clause"],))],
        events=[contracts.changed_event("amended", amendment["document"], revision, text.sha256)],
    )  # fmt: skip


def activate(rt: Runtime, who: Principal, draft_id: str) -> dict[str, Any]:
    """Activate an approved draft whose effective time has come (the schedule does this too)."""
    draft, version = load(rt, who.tenant_id, draft_id)
    if draft["status"] != APPROVED:
        raise Conflict(f"policy draft {draft_id} is {draft['status']}: only an approved draft is activated "
                       f"(approvals still needed: {', '.join(missing_roles(draft)) or 'none'})",
                       extra={"current_status": draft["status"], "missing_roles": missing_roles(draft)})  # fmt: skip
    now = rt.clock.now_iso()
    effective_at = draft["proposal"]["effective_at"]
    if effective_at is not None and instant(effective_at) > instant(now):
        raise Conflict(f"policy draft {draft_id} takes effect at {effective_at}, not before",
                       extra={"effective_at": effective_at})  # fmt: skip
    active, changes = activation(rt, who.tenant_id, (who.actor, who.role.value), draft, now)
    changes.puts.insert(0, draft_put(active, version))
    rt.commit(who.tenant_id, changes)
    return view(active)


def activate_due(rt: Runtime, tenant_id: str) -> list[str]:
    """Scheduled: every approved draft whose effective time has come takes effect, oldest effective time first. One
    that can no longer apply (the active policy moved under it) stays approved and is reported, never forced."""
    now = rt.clock.now_iso()
    due: list[tuple[str, dict[str, Any], int]] = []
    for item in pages(rt.store, tenant_id, DRAFTS):
        effective_at = (item.data.get("proposal") or {}).get("effective_at")
        if item.data["status"] == APPROVED and (effective_at is None or instant(effective_at) <= instant(now)):
            due.append((effective_at or "", item.data, item.version))
    activated = []
    for _, draft, version in sorted(due, key=lambda d: d[0]):
        try:
            active, changes = activation(rt, tenant_id, SCHEDULE, draft, now)
        except (Conflict, RuleViolation):  # moved under it, or its first day has passed: reported, never forced
            continue
        changes.puts.insert(0, draft_put(active, version))
        rt.commit(tenant_id, changes)
        activated.append(draft["draft_id"])
    return activated


def history(rt: Runtime, who: Principal, *, limit: int, cursor: str | None) -> dict[str, Any]:
    """The tenant's activations, oldest first: which version, from which draft, approved by whom, replacing which."""
    page = rt.store.query(who.tenant_id, ACTIVATIONS, limit=limit, cursor=cursor)
    tenant, _ = load_tenant(rt, who.tenant_id)
    return {"active_version": tenant.policy_version, "items": [item.data for item in page.items],
            "next_cursor": page.next_cursor}  # fmt: skip


def active_policy(rt: Runtime, who: Principal) -> dict[str, Any]:
    tenant, _ = load_tenant(rt, who.tenant_id)
    return {"policy_version": tenant.policy_version, "policy": tenant.policy}
