"""Appeals of a rebate dispute decision (SOP-6.3 / COP-6.3): the partner appeals once, within the window; every
deciding role of the policy (the finance and the legal queue) approves it, or one rejects it.

SOP-6.3: "The Partner may appeal once, within 10 business days of the decision; the appeal is decided jointly by the
head of Finance and Legal." COP-6.3: "... decided by the head of Finance together with Legal within 15 business days.
The appeal decision is final under this SOP". An appeal opens one approval per category of `rebates.disputes.appeal`
(effect `rebate.dispute_appeal`); each decision is recorded on the dispute's `appeal`; neither the person who decided
the dispute nor the settlement's preparer may decide it (SOP-4.3 / COP-4.3). Upheld, the amount the decision did not
accept is paid through the upheld-dispute path (`dispute_payment.payment_of`: the next settlement, or a separate
credit note under PA-7.9).
"""

from __future__ import annotations

from typing import Any

from ...domain.access import Principal, Role
from ...domain.audit import AuditEntry
from ...domain.calendar import BusinessCalendar
from ...domain.errors import Forbidden, RuleViolation
from ...domain.money import format_money
from ...domain.policy import cited_clause
from ...domain.rebates import appeals as rules
from ...domain.rebates.policy import RebateBook
from ...domain.tenants import Tenant
from ...domain.time import instant
from ...ports import Changes, DomainEvent
from ...runtime import Runtime
from .. import cases, key_lineage
from ..approval_requests import cited
from . import repository
from .book import SOURCE, book
from .dispute_payment import payment_of
from .disputes import _not_the_preparer, _visible
from .repository import Dispute

EFFECT = "rebate.dispute_appeal"
SELF_DECISION = "self_approval"


def appeal_dispute(rt: Runtime, who: Principal, dispute_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The partner appeals its own dispute's decision, once, within the window (SOP-6.3 / COP-6.3): one approval per
    deciding role is opened, and the dispute is `appealed` until they decide."""
    if who.role is not Role.PARTNER:
        raise Forbidden("the Partner appeals its dispute's decision (SOP-6.3 / COP-6.3)")
    tenant, rebates = book(rt, who.tenant_id)
    policy = rules.AppealPolicy.of(tenant.policy["rebates"]["disputes"])
    if policy is None:
        raise RuleViolation("this tenant's policy provides no appeal of a rebate dispute decision")
    dispute, version = _visible(rt, who, dispute_id)
    remaining = rules.appealable(dispute)
    assert dispute["resolution"] is not None  # appealable: decided
    now = rt.clock.now_iso()
    timing = rules.window(policy, _calendar(rt, tenant, dispute), instant(dispute["resolution"]["at"]), instant(now))
    appeal: dict[str, Any] = {"status": rules.OPEN, "reason": body["reason"], "amount": format_money(remaining),
                              "filed_at": now, "filed_by": who.actor, **timing, "approval_ids": [], "decisions": [],
                              "appealed_resolution": dispute["resolution"]}  # fmt: skip
    changes = Changes()
    for category in policy.categories:
        case, opened = cases.open_case(
            rt, tenant.policy, kind="approval", category=category, subject_kind="rebate_dispute_appeal",
            subject_id=dispute_id, requested_by=who, partner_id=dispute["partner_id"], effect=EFFECT,
            reasons=[{**policy.rule.as_dict(), "message": f"{dispute['partner_id']} appeals the decision on "
                      f"{dispute_id}: {appeal['amount']} of {dispute['program_id']}"}],
            context={"dispute_id": dispute_id, "amount": appeal["amount"], "settlement_id": dispute["settlement_id"]},
            policy_version=tenant.policy_version, country=_country(rt, tenant, dispute),
        )  # fmt: skip
        appeal["approval_ids"].append(case["case_id"])
        changes = changes.merge(opened)
    appealed: Dispute = {**dispute, "status": "appealed", "appeal": appeal}
    inputs = {"reason": appeal["reason"], "amount": appeal["amount"], "window_closes_at": appeal["window_closes_at"]}
    changes.puts.insert(0, repository.dispute_put(appealed, version))
    changes.audit.insert(0, _audit(who, tenant, rebates, policy, "appealed", appealed, inputs))
    changes.events.append(DomainEvent(SOURCE, "dispute.appealed", _event(appealed)))
    rt.commit(who.tenant_id, changes)
    return dict(appealed)


def apply_appeal_decision(rt: Runtime, case: dict[str, Any], who: Principal) -> Changes:
    """One deciding role decided the appeal (through /v1/approvals). Recorded on the appeal; the first rejection
    rejects it (the dispute keeps its decision); the last approval upholds it and pays what the decision had not
    accepted through the upheld-dispute path. A decision after the appeal was concluded changes nothing more.
    Effect of `rebate.dispute_appeal` (runtime.Registry.effects)."""
    tenant, rebates = book(rt, who.tenant_id)
    policy = rules.AppealPolicy.of(tenant.policy["rebates"]["disputes"])
    dispute, version = _visible(rt, who, case["subject"]["id"])
    appeal = dict(dispute.get("appeal") or {})
    if policy is None or appeal.get("status") != rules.OPEN:
        return Changes()
    _neither_decider_nor_preparer(rt, who, dispute, case, tenant.policy)
    decision = case["decision"]
    note = decision.get("note")
    if not (isinstance(note, str) and note.strip()):
        raise RuleViolation(f"an appeal decision states its reason: send a `note` ({policy.rule.clause})")
    decided = {"category": case["category"], "queue": case["queue"], "outcome": case["status"], "by": who.actor,
               "at": decision["at"], "note": note, "approval_id": case["case_id"]}  # fmt: skip
    decisions = [*appeal["decisions"], decided]
    appeal.update(decisions=decisions, status=rules.outcome(policy.categories, decisions))
    concluded: Dispute = {**dispute, "appeal": appeal}
    changes = Changes()
    if appeal["status"] == rules.UPHELD:
        resolution = rules.upheld_resolution(appeal, decisions)
        adjustment, paying = payment_of(rt, who, tenant, rebates, dispute, resolution)
        resolution["payment"] = {**adjustment["payment"], "credit_note_id": adjustment.get("credit_note_id")}
        concluded = {**concluded, "status": "accepted", "resolution": resolution}
        changes.puts.append(repository.adjustment_put(adjustment, None))
        changes = changes.merge(paying)
    elif appeal["status"] == rules.REJECTED:
        concluded = {**concluded, "status": appeal["appealed_resolution"]["outcome"]}
    changes.puts.insert(0, repository.dispute_put(concluded, version))
    step = "appeal_decided" if appeal["status"] == rules.OPEN else f"appeal_{appeal['status']}"
    changes.audit.append(_audit(who, tenant, rebates, policy, step, concluded, decisions[-1]))
    if appeal["status"] != rules.OPEN:
        changes.events.append(DomainEvent(SOURCE, "dispute.appeal_decided", _event(concluded)))
    return changes


def _neither_decider_nor_preparer(
    rt: Runtime, who: Principal, dispute: Dispute, case: dict[str, Any], policy: dict[str, Any]
) -> None:
    """SOP-4.3 / COP-4.3: whoever decided the dispute (or approved part of its appeal) may not decide the appeal, nor
    through a key minted for the purpose since (key lineage: an admin who mints a finance and a legal key after the
    appeal holds both, and "two different people" decide it jointly); SOP-6.3 / COP-6.2: nor the settlement's
    preparer."""
    appeal = dispute.get("appeal") or {}
    appealed = appeal.get("appealed_resolution") or {}
    filed = str(appeal.get("filed_at") or case["opened_at"])
    earlier = [(str(d["by"]).partition(":")[2], filed) for d in appeal.get("decisions", [])]
    if appealed.get("by"):
        earlier.append((str(appealed["by"]).partition(":")[2], str(appealed.get("at") or filed)))
    if any(key_lineage.same_person(rt, who.tenant_id, (who.key_id, since), (key, since)) for key, since in earlier):
        rule = {"rule_id": case["reasons"][0]["rule_id"], "clause": case["reasons"][0]["clause"]}
        clause = cited_clause(policy, "exception_routing", "segregation_of_duties", default="SOP-4.3")
        raise Forbidden(f"whoever decided the dispute or part of its appeal may not decide the appeal, nor with a key "
                        f"minted since ({clause})", extra={"refusal": SELF_DECISION, **rule})  # fmt: skip
    _not_the_preparer(rt, who, dispute)


def _country(rt: Runtime, tenant: Tenant, dispute: Dispute) -> str | None:
    country: str | None = (repository.partner(rt, tenant.tenant_id, dispute["partner_id"]) or {}).get("country")
    return country


def _calendar(rt: Runtime, tenant: Tenant, dispute: Dispute) -> BusinessCalendar:
    """Business days of the partner's calendar (CPA-1.3; PA-1.3 the program's)."""
    return BusinessCalendar.from_policy(tenant.policy, _country(rt, tenant, dispute))


def _audit(
    who: Principal,
    tenant: Tenant,
    rebates: RebateBook,
    policy: rules.AppealPolicy,
    step: str,
    dispute: Dispute,
    inputs: dict[str, Any],
) -> AuditEntry:
    return cited(who, f"rebate_dispute.{step}", dispute["dispute_id"], dispute["status"], inputs=inputs,
                 tenant=tenant, rules=[policy.rule, rebates.dispute_rule],
                 partner_id=dispute["partner_id"])  # fmt: skip


def _event(dispute: Dispute) -> dict[str, Any]:
    """dispute.appealed / dispute.appeal_decided (schemas/events/revgov.rebates.schema.json): amount is the appeal's."""
    appeal = dispute.get("appeal") or {}
    return {"dispute_id": dispute["dispute_id"], "settlement_id": dispute["settlement_id"],
            "partner_id": dispute["partner_id"], "program_id": dispute["program_id"], "amount": appeal.get("amount"),
            "status": dispute["status"], "appeal_status": appeal.get("status")}  # fmt: skip
