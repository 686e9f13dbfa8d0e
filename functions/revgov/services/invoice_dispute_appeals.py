"""Appeals of an invoice dispute decision (SOP-6.3 / COP-6.3): the partner appeals its rejected dispute once, within
the window; every deciding role of the policy (a finance and a legal queue) approves it, or one rejects it.

SOP-6.3: "A dispute is decided as upheld, partially upheld or rejected. ... The Partner may appeal once, within 10
business days of the decision; the appeal is decided jointly by the head of Finance and Legal." COP-6.3: "A Partner
may appeal a dispute decision once, within 10 business days, through the Partner Portal. The appeal is decided by the
head of Finance together with Legal within 15 business days." Section 6 covers invoice disputes (SOP-6.1 / COP-6.1)
as well as rebate disputes; the rebate side is services/rebates/appeals.py, whose pure rules (window, joint outcome)
are reused here.

`billing.invoice_disputes.appeal` opens one approval per category (effect `invoice.dispute_appeal`); each decision is
recorded on the dispute's `appeal`. Two different people decide ("jointly"; SOP-4.3 / COP-4.3 "two different people,
neither being the requester"), neither the one who rejected the dispute. Upheld by all, the line is credited through
the dispute's own credit-note path (`invoice_disputes.credit_upheld`: posted, or above SOP-2.5 / COP-2.4's limit held
for a finance member who is none of the deciders); the appeal itself moves no money.
"""

from __future__ import annotations

from typing import Any

from ..domain.access import Principal, Role
from ..domain.audit import AuditEntry
from ..domain.billing import BillingPolicy
from ..domain.errors import Forbidden, NotFound, RuleViolation
from ..domain.invoice_dispute_deadlines import appealable, upheld_resolution
from ..domain.money import format_money
from ..domain.policy import cited_clause
from ..domain.rebates import appeals as joint
from ..domain.tenants import Tenant
from ..domain.time import instant
from ..ports import Changes, DomainEvent, Stored
from ..runtime import Runtime
from . import approval_requests, cases, invoice_disputes, key_lineage, tenants

EFFECT = "invoice.dispute_appeal"
SELF_DECISION = "self_approval"


def appeal_dispute(rt: Runtime, who: Principal, dispute_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The partner appeals the decision on its own invoice dispute, once, within the window (SOP-6.3 / COP-6.3): one
    approval per deciding role is opened, and the dispute is `appealed` until they decide."""
    if who.role is not Role.PARTNER:
        raise Forbidden("the Partner appeals its dispute's decision (SOP-6.3 / COP-6.3)")
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    policy = _policy(tenant)
    stored = _visible(rt, who, dispute_id)
    dispute = stored.data
    amount = appealable(dispute)
    now = rt.clock.now_iso()
    calendar = invoice_disputes.partner_calendar(rt, tenant, dispute["partner_id"])
    timing = joint.window(policy, calendar, instant(dispute["resolution"]["at"]), instant(now))
    appeal: dict[str, Any] = {"status": joint.OPEN, "reason": body["reason"], "amount": format_money(amount),
                              "filed_at": now, "filed_by": who.actor, **timing, "approval_ids": [], "decisions": [],
                              "appealed_resolution": dispute["resolution"]}  # fmt: skip
    changes = Changes()
    message = f"{dispute['partner_id']} appeals the rejection of {dispute_id}: {appeal['amount']} of line " \
              f"{dispute['line_no']} of {dispute['invoice_id']}"  # fmt: skip
    for category in policy.categories:
        case, opened = cases.open_case(
            rt, tenant.policy, kind="approval", category=category, subject_kind="invoice_dispute_appeal",
            subject_id=dispute_id, requested_by=who, partner_id=dispute["partner_id"], effect=EFFECT,
            reasons=[{**policy.rule.as_dict(), "message": message}],
            context={"dispute_id": dispute_id, "invoice_id": dispute["invoice_id"], "line_no": dispute["line_no"],
                     "amount": appeal["amount"]},
            policy_version=tenant.policy_version, country=calendar.country,
        )  # fmt: skip
        appeal["approval_ids"].append(case["case_id"])
        changes = changes.merge(opened)
    appealed = {**dispute, "status": "appealed", "appeal": appeal}
    inputs = {"reason": appeal["reason"], "amount": appeal["amount"], "window_closes_at": appeal["window_closes_at"],
              "approval_ids": appeal["approval_ids"]}  # fmt: skip
    changes.puts.insert(0, invoice_disputes.dispute_put(appealed, stored.version))
    changes.audit.insert(0, _audit(who, tenant, policy, "appealed", appealed, inputs))
    changes.events.append(DomainEvent(invoice_disputes.SOURCE, "invoice_dispute.appealed", _event(appealed)))
    rt.commit(who.tenant_id, changes)
    return appealed


def apply_appeal_decision(rt: Runtime, case: dict[str, Any], who: Principal) -> Changes:
    """One deciding role decided the appeal (through /v1/approvals), with its reason. Recorded on the appeal; the first
    rejection rejects it (the dispute stays rejected); the last approval upholds it and credits the line through the
    dispute's credit-note path. A decision after the appeal was concluded changes nothing more.
    Effect of `invoice.dispute_appeal` (runtime.Registry.effects)."""
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    policy = _policy(tenant)
    stored = approval_requests.decided_request(rt, who.tenant_id, invoice_disputes.DISPUTES, case, "invoice dispute")
    dispute = stored.data
    appeal = dict(dispute.get("appeal") or {})
    if appeal.get("status") != joint.OPEN:
        return Changes()
    _not_an_earlier_decider(rt, who, dispute, case, tenant.policy)
    note = case["decision"].get("note")
    if not (isinstance(note, str) and note.strip()):
        raise RuleViolation(f"an appeal decision states its reason: send a `note` ({policy.rule.clause})")
    decided = {"category": case["category"], "queue": case["queue"], "outcome": case["status"], "by": who.actor,
               "at": case["decision"]["at"], "note": note, "approval_id": case["case_id"]}  # fmt: skip
    decisions = [*appeal["decisions"], decided]
    appeal.update(decisions=decisions, status=joint.outcome(policy.categories, decisions))
    concluded = {**dispute, "appeal": appeal}
    changes = Changes()
    if appeal["status"] == joint.UPHELD:
        resolution = upheld_resolution(appeal, decisions)
        deciders = tuple(d["by"] for d in decisions)
        book = BillingPolicy.from_policy(tenant.policy)
        changes = invoice_disputes.credit_upheld(rt, tenant, book, dispute, resolution, who,
                                                 requested_by=(appeal["filed_by"], *deciders))  # fmt: skip
        concluded = {**concluded, "status": "upheld", "resolution": resolution}
    elif appeal["status"] == joint.REJECTED:
        concluded = {**concluded, "status": appeal["appealed_resolution"]["outcome"]}
    changes.puts.insert(0, invoice_disputes.dispute_put(concluded, stored.version))
    step = "appeal_decided" if appeal["status"] == joint.OPEN else f"appeal_{appeal['status']}"
    # SOP-6.3: "Every decision states the reason, the amounts before and after, and the rule ids and clause references"
    inputs = {**decided, "line_amount": dispute["line_amount"], "disputed": appeal["amount"],
              "credited": (concluded.get("resolution") or {}).get("credited") if appeal["status"] == joint.UPHELD
              else "0.00"}  # fmt: skip
    changes.audit.append(_audit(who, tenant, policy, step, concluded, inputs))
    if appeal["status"] != joint.OPEN:
        changes.events.append(DomainEvent(invoice_disputes.SOURCE, "invoice_dispute.appeal_decided",
                                          _event(concluded)))  # fmt: skip
    return changes


def _policy(tenant: Tenant) -> joint.AppealPolicy:
    policy = joint.AppealPolicy.of(invoice_disputes.rules(tenant))
    if policy is None:
        raise RuleViolation("this tenant's policy provides no appeal of an invoice dispute decision")
    return policy


def _visible(rt: Runtime, who: Principal, dispute_id: str) -> Stored:
    """The dispute as stored, if the caller may see it: another partner's is one that does not exist (404)."""
    stored = rt.store.get(who.tenant_id, invoice_disputes.DISPUTES, dispute_id)
    if stored is None or not who.sees_partner(stored.data["partner_id"]):
        raise NotFound(f"no invoice dispute {dispute_id}")
    return stored


def _not_an_earlier_decider(
    rt: Runtime, who: Principal, dispute: dict[str, Any], case: dict[str, Any], policy: dict[str, Any]
) -> None:
    """SOP-4.3 / COP-4.3: "Where two approvals are required, two different people give them"; whoever rejected the
    dispute does not decide its appeal either (the appeal reviews that decision). People are their keys, and a key
    either of them minted since is still theirs: the deciding key and each earlier decider's key are compared by their
    holders (services/key_lineage.py): an admin minting a finance and a legal key after the appeal is one person."""
    appeal = dispute.get("appeal") or {}
    appealed = appeal.get("appealed_resolution") or {}
    filed = str(appeal["filed_at"])
    earlier = [(str(d["by"]).partition(":")[2], filed) for d in appeal.get("decisions", [])]
    if appealed.get("by"):
        earlier.append((str(appealed["by"]).partition(":")[2], str(appealed.get("at") or filed)))
    if any(key_lineage.same_person(rt, who.tenant_id, (who.key_id, since), (key, since)) for key, since in earlier):
        rule = {"rule_id": case["reasons"][0]["rule_id"], "clause": case["reasons"][0]["clause"]}
        clause = cited_clause(policy, "exception_routing", "segregation_of_duties", default="SOP-4.3")
        raise Forbidden(f"whoever decided the dispute or part of its appeal may not decide the appeal ({clause})",
                        extra={"refusal": SELF_DECISION, **rule})  # fmt: skip


def _audit(who: Principal, tenant: Tenant, policy: joint.AppealPolicy, step: str, dispute: dict[str, Any],
           inputs: dict[str, Any]) -> AuditEntry:  # fmt: skip
    book = BillingPolicy.from_policy(tenant.policy)
    # PA-12.1 / CPA-12.1: the record relates to the dispute's partner, whoever took the step (the deciders are staff)
    return approval_requests.cited(who, f"invoice_dispute.{step}", dispute["dispute_id"], dispute["status"],
                                   inputs=inputs, tenant=tenant, rules=[policy.rule, book.disputes],
                                   partner_id=dispute["partner_id"])  # fmt: skip


def _event(dispute: dict[str, Any]) -> dict[str, Any]:
    """invoice_dispute.appealed / invoice_dispute.appeal_decided: the amount is the appeal's."""
    appeal = dispute.get("appeal") or {}
    return {"dispute_id": dispute["dispute_id"], "invoice_id": dispute["invoice_id"],
            "partner_id": dispute["partner_id"], "line_no": dispute["line_no"], "amount": appeal.get("amount"),
            "status": dispute["status"], "appeal_status": appeal.get("status")}  # fmt: skip
