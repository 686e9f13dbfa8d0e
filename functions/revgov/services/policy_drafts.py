"""Policy drafts: create from the active policy, edit, validate, diff, propose, approve (four eyes), activate.

Every step is one commit with its audit record on the tenant's chain and, from proposal on, an event
(`revgov.policy`: policy.proposed, policy.approved, policy.rejected, policy.activated). The approvers are the roles the
ACTIVE policy names (`policy_changes.approver_roles`, by default finance and legal), fixed when the draft is proposed;
nobody who created, changed or proposed the draft approves it (SOP-4.3 / COP-4.3), and a draft takes effect only once
every role has approved and its effective time has come. Activation makes the draft the tenant's policy; every
version stays stored (POLICY collection), so each decision replays under the version it recorded. A draft may carry
the contract amendment it implements; it becomes the document's next revision in the activation's own commit, never
alone. Where the policy in force has a change calendar (SOP-7.3 / COP-7.2), proposals, approvals and activations keep
to it (`domain/change_calendar.py`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..domain import contract_set, policy_change
from ..domain.access import Principal
from ..domain.audit import AuditEntry
from ..domain.calendar import BusinessCalendar
from ..domain.change_calendar import ChangeCalendar, previous_quarter
from ..domain.errors import Conflict, FieldError, Forbidden, NotFound, RevgovError, RuleViolation
from ..domain.policy_change import ACTIVE, APPROVED, DRAFT, PROPOSED, REJECTED
from ..domain.tenants import Tenant, policy_version
from ..domain.time import instant, parse_instant
from ..ports import Changes, DomainEvent, Page, Put
from ..runtime import Runtime
from . import contracts, key_lineage
from .tenants import PROFILE, load_tenant, policy_at, policy_put

DRAFTS = "POLICY_DRAFT"
ACTIVATIONS = "POLICY_ACTIVATION"  # one item per activation, keyed by time: the tenant's policy history
SOURCE = "revgov.policy"
_VIEW_HIDDEN = ("hands", "approved_hands")


def load(rt: Runtime, tenant_id: str, draft_id: str) -> tuple[dict[str, Any], int]:
    stored = rt.store.get(tenant_id, DRAFTS, draft_id)
    if stored is None:
        raise NotFound(f"no policy draft {draft_id}")
    return stored.data, stored.version


def view(draft: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in draft.items() if k not in _VIEW_HIDDEN}


def _put(draft: dict[str, Any], version: int | None) -> Put:
    return Put(DRAFTS, draft["draft_id"], draft, must_be_absent=version is None, expected_version=version,
               conflict_detail=f"policy draft {draft['draft_id']} changed meanwhile; read it again")


def _entry(who: Principal, action: str, draft: dict[str, Any], outcome: str, inputs: dict[str, Any],
           rule: dict[str, Any] | None = None) -> AuditEntry:
    return AuditEntry(actor=who.actor, actor_role=who.role.value, action=f"policy.{action}",
                      subject=draft["draft_id"], outcome=outcome,
                      inputs={"draft_policy_version": draft["policy_version"], "base_version": draft["base_version"],
                              "revision": draft["revision"], **inputs},
                      policy_version=draft["base_version"],
                      rule_ids=(rule["id"],) if rule and rule.get("id") else (),
                      clauses=(rule["clause"],) if rule and rule.get("clause") else ())


def _event(action: str, draft: dict[str, Any], **more: Any) -> DomainEvent:
    detail = {"draft_id": draft["draft_id"], "status": draft["status"], "policy_version": draft["policy_version"],
              "base_version": draft["base_version"], **more}
    return DomainEvent(SOURCE, f"policy.{action}", detail)


def _expect_revision(draft: dict[str, Any], body: dict[str, Any]) -> None:
    expected = body.get("expected_revision")
    if expected is not None and expected != draft["revision"]:
        raise Conflict(f"policy draft {draft['draft_id']} is at revision {draft['revision']}, not {expected}; "
                       "read it again", extra={"current_revision": draft["revision"]})


def _must_be_editable(draft: dict[str, Any]) -> None:
    if draft["status"] != DRAFT:
        raise Conflict(f"policy draft {draft['draft_id']} is {draft['status']}; only a draft is edited "
                       "(withdraw a proposal to edit it again)", extra={"current_status": draft["status"]})


# --- create, read, edit ---------------------------------------------------------------------------------------------
def create_draft(rt: Runtime, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """A draft of the active policy, or of an earlier stored version (`from_version`: a rollback is activating an
    earlier version as a new one, through the same approvals)."""
    tenant, _ = load_tenant(rt, who.tenant_id)
    source = body.get("from_version") or tenant.policy_version
    document = tenant.policy if source == tenant.policy_version else policy_at(rt, who.tenant_id, source)
    now = rt.clock.now_iso()
    draft = {
        "draft_id": rt.ids.new("pdr"), "status": DRAFT, "base_version": tenant.policy_version,
        "from_version": source, "policy": document, "policy_version": policy_version(document), "revision": 1,
        "reason": body.get("reason"), "created_at": now, "created_by": who.actor, "hands": [who.key_id],
        "edits": [], "proposal": None, "required_roles": [], "approval_rule": None, "approvals": [],
        "rejection": None, "activation": None, "amendment": None,
    }
    action = "draft_created" if source == tenant.policy_version else "rollback_drafted"
    rt.commit(who.tenant_id, Changes(puts=[_put(draft, None)],
                                     audit=[_entry(who, action, draft, DRAFT, {"from_version": source,
                                                                               "reason": body.get("reason")})]))
    return view(draft)


def get_draft(rt: Runtime, who: Principal, draft_id: str) -> dict[str, Any]:
    return view(load(rt, who.tenant_id, draft_id)[0])


def list_drafts(rt: Runtime, who: Principal, *, status: str | None, limit: int, cursor: str | None) -> dict[str, Any]:
    page = rt.store.query(who.tenant_id, DRAFTS, limit=limit, cursor=cursor)
    items = [_summary(item.data) for item in page.items if status is None or item.data["status"] == status]
    return {"items": items, "next_cursor": page.next_cursor}


def _summary(draft: dict[str, Any]) -> dict[str, Any]:
    return {k: draft[k] for k in ("draft_id", "status", "base_version", "policy_version", "revision", "reason",
                                  "created_at", "created_by", "required_roles", "proposal", "activation")}


def _edit(rt: Runtime, who: Principal, draft_id: str, body: dict[str, Any], new_policy: Any, kind: str) -> dict:
    draft, version = load(rt, who.tenant_id, draft_id)
    _must_be_editable(draft)
    _expect_revision(draft, body)
    document = new_policy(draft["policy"]) if callable(new_policy) else new_policy
    found = _schema_problems(rt, who.tenant_id, document)
    if found:  # the document must at least be a policy; contract citations are checked at validation and proposal
        raise RuleViolation("the edited policy does not match schemas/tenant.schema.json", errors=found)
    changed = {**draft, "policy": document, "policy_version": policy_version(document),
               "revision": draft["revision"] + 1, "hands": sorted({*draft["hands"], who.key_id}),
               "edits": [*draft["edits"], {"revision": draft["revision"] + 1, "kind": kind, "by": who.actor,
                                           "at": rt.clock.now_iso(), "reason": body.get("reason")}]}
    rt.commit(who.tenant_id, Changes(puts=[_put(changed, version)],
                                     audit=[_entry(who, "draft_edited", changed, DRAFT, {"kind": kind})]))
    return view(changed)


def replace_policy(rt: Runtime, who: Principal, draft_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return _edit(rt, who, draft_id, body, body["policy"], "document")


def patch_policy(rt: Runtime, who: Principal, draft_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """RFC 6902: the operations apply to the draft's policy document (paths as `/pricing/margin_floor/percent`)."""
    operations = body["operations"]
    return _edit(rt, who, draft_id, body, lambda doc: policy_change.apply_patch(doc, operations), "json_patch")


# --- a contract amendment carried by the draft ---------------------------------------------------------------------
def attach_amendment(rt: Runtime, who: Principal, draft_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The contract amendment this policy change implements (new text for clauses of one stored contract document,
    as `POST /v1/contracts/{document}/amendments` takes it). It is stored in the draft only: it takes effect with the
    policy, in the activation's commit, and never alone; it replaces any amendment attached before."""
    draft, version = load(rt, who.tenant_id, draft_id)
    _must_be_editable(draft)
    _expect_revision(draft, body)
    document = body["document"]
    stored = rt.store.get(who.tenant_id, contracts.CURRENT, document)
    if stored is None:
        raise NotFound(f"no contract {document}")
    markdown = contract_set.amended(stored.data["markdown"], document, body["clauses"])
    text = contract_set.parse(stored.data["name"], markdown)
    if text.sha256 == stored.data["sha256"]:
        raise RuleViolation(f"the amendment changes nothing in contract {document}",
                            errors=[FieldError("/clauses", "the clauses already read so")])
    now = rt.clock.now_iso()
    amendment = {"document": document, "name": stored.data["name"], "base_revision": stored.data["revision"],
                 "clauses": [c["clause_id"] for c in body["clauses"]], "reason": body["reason"],
                 "markdown": markdown, "sha256": text.sha256, "by": who.actor, "at": now}
    return _commit_edit(rt, who, draft, version, body, {"amendment": amendment}, "contract_amendment",
                        {"document": document, "base_revision": amendment["base_revision"],
                         "clauses": amendment["clauses"], "sha256": text.sha256})


def detach_amendment(rt: Runtime, who: Principal, draft_id: str) -> dict[str, Any]:
    draft, version = load(rt, who.tenant_id, draft_id)
    _must_be_editable(draft)
    if not draft.get("amendment"):
        raise NotFound(f"policy draft {draft_id} carries no contract amendment")
    return _commit_edit(rt, who, draft, version, {}, {"amendment": None}, "contract_amendment_removed",
                        {"document": draft["amendment"]["document"]})


def _commit_edit(rt: Runtime, who: Principal, draft: dict[str, Any], version: int, body: dict[str, Any],
                 fields: dict[str, Any], kind: str, inputs: dict[str, Any]) -> dict[str, Any]:
    changed = {**draft, **fields, "revision": draft["revision"] + 1, "hands": sorted({*draft["hands"], who.key_id}),
               "edits": [*draft["edits"], {"revision": draft["revision"] + 1, "kind": kind, "by": who.actor,
                                           "at": rt.clock.now_iso(), "reason": body.get("reason")}]}
    rt.commit(who.tenant_id, Changes(puts=[_put(changed, version)],
                                     audit=[_entry(who, "draft_edited", changed, DRAFT, {"kind": kind, **inputs})]))
    return view(changed)


def _amended_contract_current(rt: Runtime, tenant_id: str, draft: dict[str, Any]) -> Any:
    """The stored contract the draft's amendment was made on, still at that revision (else 409: both take effect
    together or neither does)."""
    amendment = draft.get("amendment")
    if not amendment:
        return None
    stored = rt.store.get(tenant_id, contracts.CURRENT, amendment["document"])
    if stored is None or stored.data["revision"] != amendment["base_revision"]:
        now = stored.data["revision"] if stored else None
        raise Conflict(f"contract {amendment['document']} moved since the draft's amendment was made on revision "
                       f"{amendment['base_revision']} (now {now or 'removed'}); the amendment and the policy change "
                       "take effect together or not at all: attach the amendment again",
                       extra={"document": amendment["document"], "contract_revision": now})
    return stored


# --- validate, diff -------------------------------------------------------------------------------------------------
def _schema_problems(rt: Runtime, tenant_id: str, document: Any) -> list[FieldError]:
    from ..schemas import problems

    tenant, _ = load_tenant(rt, tenant_id)
    config = {k: v for k, v in tenant.config.items() if k != "contracts"}
    return [e for e in problems("tenant.schema.json", {**config, "policy": document})
            if e.path.startswith("/policy")] or (
        [] if isinstance(document, dict) else [FieldError("/policy", "not an object")])


def problems_of(rt: Runtime, tenant_id: str, document: dict[str, Any],
                amendment: dict[str, Any] | None = None) -> list[FieldError]:
    """What keeps a policy from being activated: its schema, its own consistency, and every clause it cites being in
    the tenant's stored contracts (with the draft's contract amendment applied, since both take effect together)."""
    found = _schema_problems(rt, tenant_id, document)
    if found:
        return found
    texts = contracts.contract_texts(rt, tenant_id)
    if amendment:
        texts = [t for t in texts if t.document != amendment["document"]]
        texts.append(contract_set.parse(amendment["name"], amendment["markdown"]))
    return contract_set.set_problems(texts, document)


def validate_draft(rt: Runtime, who: Principal, draft_id: str) -> dict[str, Any]:
    draft, _ = load(rt, who.tenant_id, draft_id)
    found = problems_of(rt, who.tenant_id, draft["policy"], draft.get("amendment"))
    return {"draft_id": draft_id, "revision": draft["revision"], "valid": not found,
            "problems": [e.as_dict() for e in found]}


def diff_draft(rt: Runtime, who: Principal, draft_id: str) -> dict[str, Any]:
    draft, _ = load(rt, who.tenant_id, draft_id)
    tenant, _ = load_tenant(rt, who.tenant_id)
    amendment = draft.get("amendment")
    return {"draft_id": draft_id, "revision": draft["revision"], "active_version": tenant.policy_version,
            "draft_version": draft["policy_version"],
            **policy_change.rule_diff(tenant.policy, draft["policy"]),
            "amendment": {k: amendment[k] for k in ("document", "base_revision", "clauses", "reason")}
            if amendment else None}


# --- propose, approve, reject, withdraw -----------------------------------------------------------------------------
def propose(rt: Runtime, who: Principal, draft_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Ask for the approvals the active policy names. `effective_at` (UTC, not in the past) or none: at once."""
    draft, version = load(rt, who.tenant_id, draft_id)
    _must_be_editable(draft)
    _expect_revision(draft, body)
    now = rt.clock.now_iso()
    effective_at = body.get("effective_at")
    starts = None if effective_at is None else parse_instant(effective_at, field_path="/effective_at",
                                                             problem=RuleViolation)
    if starts is not None and starts < instant(now):
        raise RuleViolation(f"effective_at {effective_at} is in the past (now {now}); give a later time or none "
                            "(at once)", errors=[FieldError("/effective_at", "in the past")])
    tenant, _ = load_tenant(rt, who.tenant_id)
    if draft["base_version"] != tenant.policy_version:
        raise Conflict(f"the active policy changed since this draft was made (from {draft['base_version']} to "
                       f"{tenant.policy_version}); create a new draft", extra={"active_version": tenant.policy_version})
    if draft["policy_version"] == tenant.policy_version and not draft.get("amendment"):
        raise RuleViolation("the draft is the active policy: there is nothing to propose")
    _amended_contract_current(rt, who.tenant_id, draft)
    found = problems_of(rt, who.tenant_id, draft["policy"], draft.get("amendment"))
    if found:
        raise RuleViolation(f"the draft cannot be proposed: {len(found)} problem(s)", errors=found)
    calendar = ChangeCalendar.from_policy(tenant.policy)  # SOP-7.3 / COP-7.2 (policy_change.effective_problem)
    if calendar is not None:
        calendar.check_effective(instant(effective_at) if effective_at else None, instant(now))
        _may_be_made(rt, tenant, calendar, now)
    rule = policy_change.change_rule(tenant.policy)
    proposed = {**draft, "status": PROPOSED, "hands": sorted({*draft["hands"], who.key_id}),
                "required_roles": sorted(rule["approver_roles"]), "approval_rule": rule, "approvals": [],
                "proposal": {"by": who.actor, "at": now, "effective_at": effective_at, "note": body.get("note"),
                             "revision": draft["revision"]}}
    changes = Changes(puts=[_put(proposed, version)],
                      audit=[_entry(who, "proposed", proposed, PROPOSED,
                                    {"effective_at": effective_at, "required_roles": proposed["required_roles"],
                                     "note": body.get("note")}, rule)],
                      events=[_event("proposed", proposed, required_roles=proposed["required_roles"],
                                     effective_at=effective_at)])
    rt.commit(who.tenant_id, changes)
    return view(proposed)


def approve(rt: Runtime, who: Principal, draft_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """One required role's approval; the last one activates the draft at once when its effective time has come.
    Two roles approving in the same moment: the one whose write loses reads the draft again and approves it then."""
    for attempt in range(3):
        try:
            return _approve_once(rt, who, draft_id, body)
        except Conflict as lost:
            if "refusal" in lost.extra or "active_version" in lost.extra or "contract_revision" in lost.extra \
                    or attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _approve_once(rt: Runtime, who: Principal, draft_id: str, body: dict[str, Any]) -> dict[str, Any]:
    draft, version = load(rt, who.tenant_id, draft_id)
    mine = key_lineage.holders(rt, who.tenant_id, who.key_id, since=draft["created_at"])
    try:
        policy_change.refuse_approval(draft, who.role.value, who.key_id, holders=mine)
    except (Forbidden, Conflict) as refused:
        _record_refusal(rt, who, draft, "approve", refused)
        raise
    now = rt.clock.now_iso()
    tenant, _ = load_tenant(rt, who.tenant_id)
    calendar = ChangeCalendar.from_policy(tenant.policy)
    if calendar is not None:  # approving makes the change: not in the freeze, nor after its effective day has passed
        try:
            _may_be_made(rt, tenant, calendar, now)
            effective = draft["proposal"]["effective_at"]
            calendar.check_still_first_day(instant(effective) if effective else None, instant(now))
        except RuleViolation as refused:
            _record_refusal(rt, who, draft, "approve", RuleViolation(
                refused.detail, extra={**refused.extra, "refusal": "change_calendar"}))
            raise
    approvals = [*draft["approvals"], {"role": who.role.value, "by": who.actor, "key_id": who.key_id, "at": now,
                                       "note": body.get("note"), "revision": draft["revision"]}]
    done = {a["role"] for a in approvals} >= set(draft["required_roles"])
    approved = {**draft, "approvals": approvals, "status": APPROVED if done else PROPOSED,
                "approved_hands": sorted({*(draft.get("approved_hands") or ()), *mine})}
    rule = draft["approval_rule"]
    changes = Changes(audit=[_entry(who, "approved", approved, approved["status"],
                                    {"role": who.role.value, "note": body.get("note"),
                                     "remaining_roles": sorted(set(draft["required_roles"]) -
                                                               {a["role"] for a in approvals})}, rule)],
                      events=[_event("approved", approved, role=who.role.value, complete=done)])
    effective_at = approved["proposal"]["effective_at"]
    due = done and (effective_at is None or instant(effective_at) <= instant(now))
    if due:
        approved, activation = _activation(rt, who.tenant_id, (who.actor, who.role.value), approved, now)
        _merge(changes, activation)
    changes.puts.insert(0, _put(approved, version))
    rt.commit(who.tenant_id, changes)
    return view(approved)


def reject(rt: Runtime, who: Principal, draft_id: str, body: dict[str, Any]) -> dict[str, Any]:
    draft, version = load(rt, who.tenant_id, draft_id)
    try:
        policy_change.refuse_approval(draft, who.role.value, who.key_id, approving=False,
                                      holders=key_lineage.holders(rt, who.tenant_id, who.key_id,
                                                                  since=draft["created_at"]))
    except (Forbidden, Conflict) as refused:
        _record_refusal(rt, who, draft, "reject", refused)
        raise
    rejected = {**draft, "status": REJECTED,
                "rejection": {"by": who.actor, "role": who.role.value, "at": rt.clock.now_iso(), "note": body["note"]}}
    rt.commit(who.tenant_id, Changes(puts=[_put(rejected, version)],
                                     audit=[_entry(who, "rejected", rejected, REJECTED, {"note": body["note"]},
                                                   draft["approval_rule"])],
                                     events=[_event("rejected", rejected, role=who.role.value)]))
    return view(rejected)


def withdraw(rt: Runtime, who: Principal, draft_id: str) -> dict[str, Any]:
    """A proposal taken back to draft: its approvals are void (SOP-4.4: an approval applies only to the request
    version it was given for)."""
    draft, version = load(rt, who.tenant_id, draft_id)
    if draft["status"] not in (PROPOSED, APPROVED):
        raise Conflict(f"policy draft {draft_id} is {draft['status']}; only a proposal is withdrawn",
                       extra={"current_status": draft["status"]})
    back = {**draft, "status": DRAFT, "approvals": [], "approved_hands": [], "proposal": None, "required_roles": [],
            "approval_rule": None}
    rt.commit(who.tenant_id, Changes(puts=[_put(back, version)],
                                     audit=[_entry(who, "withdrawn", back, DRAFT, {"was": draft["status"]})]))
    return view(back)


def _record_refusal(rt: Runtime, who: Principal, draft: dict[str, Any], attempted: str, refused: RevgovError) -> None:
    """A refused governance action leaves a record on the chain (SOP-4.3: any attempt to self-approve is recorded)."""
    rule = {"id": refused.extra.get("rule_id"), "clause": refused.extra.get("clause")}
    rt.audit_only(who.tenant_id, _entry(who, "approval_refused", draft, "refused",
                                        {"refusal": refused.extra.get("refusal"), "attempted": attempted,
                                         "status": refused.status, "detail": refused.detail,
                                         "draft_status": draft["status"]}, rule))


# --- activate -------------------------------------------------------------------------------------------------------
def _may_be_made(rt: Runtime, tenant: Tenant, calendar: ChangeCalendar, now: str) -> None:
    """The change calendar's freeze (SOP-7.3 / COP-7.2): the business days are the tenant's calendar's; the rebate
    run of the Quarter just ended is pending when the tenant has a quarterly program, existed before that Quarter
    ended, and has no settlement of it."""
    from .rebates import SETTLEMENT_KEYS

    moment = instant(now)
    name, end = previous_quarter(moment.date())
    quarterly = any(p.get("period") == "quarter" for p in (tenant.policy.get("rebates") or {}).get("programs", []))
    pending = (calendar.until_rebate_run and quarterly and tenant.created_at[:10] <= end.isoformat()
               and rt.store.get(tenant.tenant_id, SETTLEMENT_KEYS, f"{name}#1") is None)
    calendar.check_may_be_made(moment, BusinessCalendar.from_policy(tenant.policy), previous_quarter=name,
                               previous_run_pending=pending)


def _merge(into: Changes, extra: Changes) -> None:
    into.puts.extend(extra.puts)
    into.audit.extend(extra.audit)
    into.events.extend(extra.events)


def _activation(rt: Runtime, tenant_id: str, actor: tuple[str, str], draft: dict[str, Any],
                now: str) -> tuple[dict[str, Any], Changes]:
    """The draft becomes the tenant's policy: the profile's policy and version, the version stored for replay, an
    entry in the policy history, the audit record and `policy.activated`, as changes for one commit. `actor` is
    (who, role): the last approver, an operator activating, or the schedule."""
    stored = rt.store.get(tenant_id, *PROFILE)
    if stored is None:
        raise NotFound(f"no tenant {tenant_id}")
    tenant = Tenant.from_dict(stored.data)
    if tenant.policy_version != draft["base_version"]:
        raise Conflict(f"the active policy changed since this draft was made (from {draft['base_version']} to "
                       f"{tenant.policy_version}); it cannot take effect over that change: create a new draft",
                       extra={"active_version": tenant.policy_version})
    calendar = ChangeCalendar.from_policy(tenant.policy)
    if calendar is not None:  # SOP-7.3 / COP-7.2: it takes effect on the first day of a Billing Month, no other day
        effective = draft["proposal"]["effective_at"]
        calendar.check_still_first_day(instant(effective) if effective else None, instant(now))
    contract = _amended_contract_current(rt, tenant_id, draft)
    document = draft["policy"]
    moved = replace(tenant, config={**tenant.config, "policy": document}, policy_version=policy_version(document))
    activation = {"activated_at": now, "activated_by": actor[0],
                  "previous_version": tenant.policy_version, "policy_version": moved.policy_version,
                  "effective_at": draft["proposal"]["effective_at"], "draft_id": draft["draft_id"],
                  "from_version": draft["from_version"],
                  "approvals": [{k: a[k] for k in ("role", "by", "at")} for a in draft["approvals"]]}
    if contract is not None:  # the amendment's new revision of its document, written in this same commit
        amendment = draft["amendment"]
        activation["amendment"] = {"document": amendment["document"], "sha256": amendment["sha256"],
                                   "revision": contracts.next_revision(rt, tenant_id, amendment["document"])}
    active = {**draft, "status": ACTIVE, "activation": activation}
    entry = AuditEntry(actor=actor[0], actor_role=actor[1],
                       action="policy.activated", subject=draft["draft_id"], outcome=ACTIVE,
                       inputs={k: v for k, v in activation.items() if k != "approvals"} |
                       {"approved_by": [a["by"] for a in draft["approvals"]]},
                       policy_version=moved.policy_version,
                       rule_ids=(draft["approval_rule"]["id"],), clauses=(draft["approval_rule"]["clause"],))
    changes = Changes(
        puts=[Put(PROFILE[0], PROFILE[1], moved.as_dict(), expected_version=stored.version,
                  conflict_detail="the tenant changed meanwhile; retry"),
              policy_put(moved),
              Put(ACTIVATIONS, f"{now}#{draft['draft_id']}", activation, must_be_absent=True)],
        audit=[entry],
        events=[_event("activated", active, previous_version=tenant.policy_version, activated_at=now,
                       effective_at=activation["effective_at"])],
    )
    if contract is not None:
        _merge(changes, _amendment_changes(actor, draft, activation, contract.version, now))
    return active, changes


def _amendment_changes(actor: tuple[str, str], draft: dict[str, Any], activation: dict[str, Any],
                       contract_version: int, now: str) -> Changes:
    """The draft's contract amendment as a new revision of its document, in the activation's own commit: audited
    (`contract.amended`, naming the draft and the policy version it came with) and announced (`contract.changed`)."""
    amendment = draft["amendment"]
    text = contract_set.parse(amendment["name"], amendment["markdown"])
    revision = activation["amendment"]["revision"]
    reason = f"{amendment['reason']} (with policy draft {draft['draft_id']})"
    return Changes(
        puts=contracts.contract_puts(None, text, revision=revision, at=now, by=amendment["by"], action="amended",
                                     reason=reason, version=contract_version),
        audit=[AuditEntry(actor=actor[0], actor_role=actor[1], action="contract.amended",
                          subject=amendment["document"], outcome="amended",
                          inputs={"document": amendment["document"], "revision": revision, "sha256": text.sha256,
                                  "reason": reason, "clauses": amendment["clauses"], "draft_id": draft["draft_id"],
                                  "policy_version": activation["policy_version"],
                                  "approved_by": [a["by"] for a in draft["approvals"]]},
                          policy_version=activation["policy_version"],
                          rule_ids=(draft["approval_rule"]["id"],), clauses=(draft["approval_rule"]["clause"],))],
        events=[contracts.changed_event("amended", amendment["document"], revision, text.sha256)],
    )


def activate(rt: Runtime, who: Principal, draft_id: str) -> dict[str, Any]:
    """Activate an approved draft whose effective time has come (the schedule does this too)."""
    draft, version = load(rt, who.tenant_id, draft_id)
    if draft["status"] != APPROVED:
        raise Conflict(f"policy draft {draft_id} is {draft['status']}: only an approved draft is activated "
                       f"(approvals still needed: {', '.join(_missing(draft)) or 'none'})",
                       extra={"current_status": draft["status"], "missing_roles": _missing(draft)})
    now = rt.clock.now_iso()
    effective_at = draft["proposal"]["effective_at"]
    if effective_at is not None and instant(effective_at) > instant(now):
        raise Conflict(f"policy draft {draft_id} takes effect at {effective_at}, not before",
                       extra={"effective_at": effective_at})
    active, changes = _activation(rt, who.tenant_id, (who.actor, who.role.value), draft, now)
    changes.puts.insert(0, _put(active, version))
    rt.commit(who.tenant_id, changes)
    return view(active)


def _missing(draft: dict[str, Any]) -> list[str]:
    return sorted(set(draft["required_roles"]) - {a["role"] for a in draft["approvals"]})


def activate_due(rt: Runtime, tenant_id: str) -> list[str]:
    """Scheduled: every approved draft whose effective time has come takes effect, oldest effective time first. One
    that can no longer apply (the active policy moved under it) stays approved and is reported, never forced."""
    now = rt.clock.now_iso()
    due: list[tuple[str, dict[str, Any], int]] = []
    cursor = None
    while True:
        page: Page = rt.store.query(tenant_id, DRAFTS, limit=200, cursor=cursor)
        for item in page.items:
            effective_at = (item.data.get("proposal") or {}).get("effective_at")
            if item.data["status"] == APPROVED and (effective_at is None or instant(effective_at) <= instant(now)):
                due.append((effective_at or "", item.data, item.version))
        cursor = page.next_cursor
        if not cursor:
            break
    activated = []
    for _, draft, version in sorted(due, key=lambda d: d[0]):
        try:
            active, changes = _activation(rt, tenant_id, ("system:policy-activation", "system"), draft, now)
        except (Conflict, RuleViolation):  # moved under it, or its first day has passed: reported, never forced
            continue
        changes.puts.insert(0, _put(active, version))
        rt.commit(tenant_id, changes)
        activated.append(draft["draft_id"])
    return activated


def history(rt: Runtime, who: Principal, *, limit: int, cursor: str | None) -> dict[str, Any]:
    """The tenant's activations, oldest first: which version, from which draft, approved by whom, replacing which."""
    page = rt.store.query(who.tenant_id, ACTIVATIONS, limit=limit, cursor=cursor)
    tenant, _ = load_tenant(rt, who.tenant_id)
    return {"active_version": tenant.policy_version, "items": [item.data for item in page.items],
            "next_cursor": page.next_cursor}


def active_policy(rt: Runtime, who: Principal) -> dict[str, Any]:
    tenant, _ = load_tenant(rt, who.tenant_id)
    return {"policy_version": tenant.policy_version, "policy": tenant.policy}
