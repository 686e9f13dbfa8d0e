"""MDF activities and claims (PA-9.5 / CPA-9.5): requested, pre-approved by Channel Operations before they take
place, claimed with evidence within the window after they end, and paid by credit note after two finance members.

PA-9.5: "Activities must be pre-approved by Channel Operations before they take place. Claims must be submitted within
90 days after the activity ends, with proof of execution and third-party invoices." (CPA-9.5: "within 60 days after
the activity with proof of execution and supplier invoices".)
Segregation of duties (SOP-4.3 / COP-4.3): the requester never approves, nor a key it minted since (key lineage); a
claim is money movement and, like a rebate run or a credit note above the limit, needs two different finance members,
neither of them the claim's submitter. A claim draws on the accrued funds when it is submitted (the per-partner
ledger document is written over what was read, so two claims can never spend the same amount); a rejected one gives
its draw back.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from ..domain import mdf as rules
from ..domain import partners as partner_rules
from ..domain.access import Principal
from ..domain.audit import AuditEntry
from ..domain.errors import ConcurrentUpdate, Conflict, FieldError, Forbidden, RuleViolation
from ..domain.partners import screening
from ..domain.policy import cited_clause
from ..ports import Changes, DomainEvent, Put
from ..runtime import Runtime
from . import key_lineage
from . import mdf_repository as repository
from .mdf import SOURCE, accruals, context, key_of, shown, today
from .toolkit import retry_on_conflict

ATTEMPTS = 8
# what the bus carries (n8n, webhooks): no evidence text, no key ids; the record is read through the API
_EVENT_FIELDS = ("partner_id", "activity_id", "claim_id", "status", "starts_on", "ends_on", "planned_amount", "amount",
                 "draws", "credit_note", "rule_id", "clause")


def _changes(who: Principal, action: str, record: dict[str, Any], rule: dict[str, str], version: str,
             puts: list[Put]) -> Changes:
    subject = record.get("claim_id") or record["activity_id"]
    audit = AuditEntry.by(who, f"mdf.{action}", subject, record["status"], inputs=record, policy_version=version,
                          rule_ids=(rule["rule_id"],), clauses=(rule["clause"],))
    detail = {k: record[k] for k in _EVENT_FIELDS if record.get(k) is not None}
    return Changes(puts=puts, audit=[audit], events=[DomainEvent(SOURCE, f"mdf.{action}", detail)])


def request_activity(rt: Runtime, who: Principal, partner_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST /v1/partners/{partner_id}/mdf/activities: a partner (its own) or staff asks for pre-approval."""
    tenant, mdf, partner = context(rt, who, partner_id)
    _not_terminated(partner, mdf)
    _eligible(rt, tenant.policy, partner, "an MDF activity's pre-approval")
    starts, ends = rules.parse_dates(body, today(rt))
    planned = rules.parse_amount(body, "planned_amount")
    record = {
        "activity_id": rt.ids.new("mdfa"), "partner_id": partner_id, "title": body["title"],
        "starts_on": starts.isoformat(), "ends_on": ends.isoformat(),
        "planned_amount": f"{planned:f}", "status": "requested",
        "requested_by": who.actor, "requested_at": rt.clock.now_iso(), **mdf.rule.as_dict(),
    }
    rt.commit(who.tenant_id, _changes(who, "activity_requested", record, mdf.rule.as_dict(), tenant.policy_version,
                                      [repository.activity_put(record, None)]))
    return shown(who, record)


def decide_activity(rt: Runtime, who: Principal, partner_id: str, activity_id: str, body: dict[str, Any],
                    approve: bool) -> dict[str, Any]:
    """Channel Operations approves (only before the activity starts) or rejects (with a reason) a request. No
    pre-approval while the partner is held by an unresolved screening match: MDF is an incentive (PA-12.1 "MDF claims
    [...] incentives"), and PA-2.8 / CPA-2.8 process none until Legal resolves it; the request waits (a rejection
    processes nothing and is given as before)."""
    rules.require_reason(body, approve)
    tenant, mdf, partner = context(rt, who, partner_id)
    record, version = repository.activity(rt, who.tenant_id, partner_id, activity_id)
    if record["status"] != "requested":
        raise Conflict(f"MDF activity {activity_id} is already {record['status']}")
    if approve:
        screening.refuse_while_held(tenant.policy, partner, f"the pre-approval of MDF activity {activity_id}")
        _eligible(rt, tenant.policy, partner, f"the pre-approval of MDF activity {activity_id}")
    if key_lineage.same_person(rt, who.tenant_id, (who.key_id, record["requested_at"]),
                               (key_of(record["requested_by"]), record["requested_at"])):
        clause = cited_clause(tenant.policy, "exception_routing", "segregation_of_duties", default="SOP-4.3")
        raise Forbidden(f"the requester of an MDF activity may not decide it ({clause} segregation of duties)")
    on = today(rt)
    if approve and on >= date.fromisoformat(record["starts_on"]):
        raise Conflict(f"MDF activity {activity_id} starts on {record['starts_on']}: activities must be pre-approved "
                       f"before they take place ({mdf.rule.clause})")
    decided = {**record, "status": "approved" if approve else "rejected", "decided_by": who.actor,
               "decided_at": rt.clock.now_iso(), "reason": body.get("reason")}
    action = "activity_approved" if approve else "activity_rejected"
    rt.commit(who.tenant_id, _changes(who, action, decided, mdf.rule.as_dict(), tenant.policy_version,
                                      [repository.activity_put(decided, version)]))
    return shown(who, decided)


def _eligible(rt: Runtime, policy: dict[str, Any], partner: dict[str, Any], what: str) -> None:
    """PA-9.5: "Silver, Gold and Platinum Partners are eligible for market development funds (MDF) [...] Registered
    Partners are not eligible for MDF" (CPA-9.5: Advanced and Elite accrue); PA-2.2: no incentive before the partner
    is approved. The partner's `mdf_eligible` entitlement now (its status and tier, a suspension's withholding
    included) decides; a 422 citing its rule and clause, nothing changed. A program without the entitlement: no
    check."""
    if "mdf_eligible" not in partner_rules.entitlement_names(policy):
        return
    answer = partner_rules.entitlement(policy, partner, "mdf_eligible", rt.clock.now_iso())
    if answer["entitled"] and answer["value"] is True:
        return
    raise RuleViolation(
        f"partner {partner['partner_id']} is not eligible for MDF ({answer['reason']}): no {what} "
        f"({answer['rule_id']}, {answer['clause']})",
        extra={"rule_id": answer["rule_id"], "clause": answer["clause"], "tier": answer.get("effective_tier")},
    )


def submit_claim(rt: Runtime, who: Principal, partner_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST /v1/partners/{partner_id}/mdf/claims: a claim for an approved activity that has ended, within the window,
    with evidence, drawing on the accrued funds (refused beyond them)."""
    tenant, mdf, partner = context(rt, who, partner_id)
    amount = rules.parse_amount(body, "amount")
    _not_terminated(partner, mdf)
    on = today(rt)
    funds = accruals(rt, tenant, mdf, partner, on)

    def attempt() -> dict[str, Any]:
        activity, _ = repository.activity(rt, who.tenant_id, partner_id, str(body.get("activity_id")))
        _claimable(rt, who, mdf, activity, amount, on)  # read again on a retry: the claims of the activity too
        sums, version = repository.ledger(rt, who.tenant_id, partner_id)
        draws = rules.allocate(funds, sums["drawn"], amount, on)
        for quarter, part in draws.items():
            sums["drawn"][quarter] = sums["drawn"].get(quarter, rules.ZERO) + Decimal(part)
        claim = {
            "claim_id": rt.ids.new("mdfc"), "partner_id": partner_id, "activity_id": activity["activity_id"],
            "amount": f"{amount:f}", "evidence": body["evidence"], "draws": draws, "status": "submitted",
            "submitted_by": who.actor, "submitted_at": rt.clock.now_iso(), "approvals": [], "credit_note": None,
            **mdf.rule.as_dict(),
        }
        puts = [repository.claim_put(claim, None), repository.ledger_put(partner_id, sums, version)]
        rt.commit(who.tenant_id, _changes(who, "claim_submitted", claim, mdf.rule.as_dict(), tenant.policy_version,
                                          puts))
        return claim

    return shown(who, retry_on_conflict(attempt, attempts=ATTEMPTS, exhausted=lambda: ConcurrentUpdate(
        f"the MDF ledger of partner {partner_id} kept changing under this claim; retry")))


def _not_terminated(partner: dict[str, Any], mdf: rules.MdfPolicy) -> None:
    """PA-13.3: on termination "unclaimed MDF [...] lapse" (CPA-13.3: "unclaimed MDF lapses")."""
    if partner.get("status") == "terminated":
        raise Conflict(f"partner {partner['partner_id']} is terminated: its unclaimed MDF lapsed (termination clause; "
                       f"{mdf.rule.clause})")


def _claimable(rt: Runtime, who: Principal, mdf: rules.MdfPolicy, activity: dict[str, Any], amount: Decimal,
               on: date) -> None:
    if activity["status"] != "approved":
        raise RuleViolation(f"MDF activity {activity['activity_id']} is {activity['status']}: only an activity "
                            f"pre-approved by Channel Operations may be claimed ({mdf.rule.clause})",
                            [FieldError("/activity_id", "not an approved activity")])
    ends = date.fromisoformat(activity["ends_on"])
    if on < ends:
        raise RuleViolation(f"the activity ends on {activity['ends_on']}: claim after it ends",
                            [FieldError("/activity_id", "the activity has not ended")])
    deadline = rules.claim_deadline(mdf, ends)
    if on > deadline:
        raise RuleViolation(f"claims must be submitted within {mdf.claim_window_days} days after the activity ends "
                            f"(by {deadline.isoformat()}, {mdf.rule.clause})",
                            [FieldError("/activity_id", f"claim window closed on {deadline.isoformat()}")])
    claimed = sum((Decimal(c["amount"]) for c in repository.claims_of(rt, who.tenant_id, activity["partner_id"])
                   if c["activity_id"] == activity["activity_id"] and c["status"] != "rejected"), rules.ZERO)
    planned = Decimal(activity["planned_amount"])
    if claimed + amount > planned:
        raise RuleViolation(f"claims for activity {activity['activity_id']} would exceed its pre-approved amount "
                            f"{activity['planned_amount']} (already claimed {claimed:f})",
                            [FieldError("/amount", f"at most {planned - claimed:f}")])


def decide_claim(rt: Runtime, who: Principal, partner_id: str, claim_id: str, body: dict[str, Any],
                 approve: bool) -> dict[str, Any]:
    """Finance: the first approval records it; a second by another finance member pays it by credit note. A reject
    (with a reason) gives the claim's draw back. Neither approver may be the submitter or each other. Neither approval
    is given while the partner is held by an unresolved screening match (PA-2.8 / CPA-2.8: no payment or incentive
    is processed until Legal resolves it); the claim waits, submitted or approved once."""
    rules.require_reason(body, approve)
    tenant, mdf, partner = context(rt, who, partner_id)
    if approve:
        screening.refuse_while_held(tenant.policy, partner, f"MDF claim {claim_id}")

    def attempt() -> dict[str, Any]:
        claim, version = repository.claim(rt, who.tenant_id, partner_id, claim_id)
        if claim["status"] not in ("submitted", "approved"):
            raise Conflict(f"MDF claim {claim_id} is already {claim['status']}")
        _not_involved(rt, who, claim, tenant.policy)
        sums, ledger_version = repository.ledger(rt, who.tenant_id, partner_id)
        decided, action = _decided(rt, who, claim, sums, body, approve)
        puts = [repository.claim_put(decided, version)]
        if action != "claim_approved":
            puts.append(repository.ledger_put(partner_id, sums, ledger_version))
        rt.commit(who.tenant_id, _changes(who, action, decided, mdf.rule.as_dict(), tenant.policy_version, puts))
        return decided

    return shown(who, retry_on_conflict(attempt, attempts=ATTEMPTS, exhausted=lambda: ConcurrentUpdate(
        f"MDF claim {claim_id} kept changing under this decision; retry")))


def _not_involved(rt: Runtime, who: Principal, claim: dict[str, Any], policy: dict[str, Any]) -> None:
    since = claim["submitted_at"]
    earlier = [(key_of(claim["submitted_by"]), since), *((key_of(a["by"]), since) for a in claim["approvals"])]
    if any(key_lineage.same_person(rt, who.tenant_id, (who.key_id, since), other) for other in earlier):
        clause = cited_clause(policy, "exception_routing", "segregation_of_duties", default="SOP-4.3")
        raise Forbidden(f"an MDF claim needs two finance members other than its submitter ({clause} four-eyes): "
                        "this key submitted or already approved it")


def _decided(rt: Runtime, who: Principal, claim: dict[str, Any], sums: dict[str, dict[str, Decimal]],
             body: dict[str, Any], approve: bool) -> tuple[dict[str, Any], str]:
    now = rt.clock.now_iso()
    if not approve:
        for quarter, part in claim["draws"].items():
            sums["drawn"][quarter] = sums["drawn"].get(quarter, rules.ZERO) - Decimal(part)
        return {**claim, "status": "rejected", "rejected_by": who.actor, "rejected_at": now,
                "reason": body.get("reason")}, "claim_rejected"
    approvals = [*claim["approvals"], {"by": who.actor, "at": now}]
    if len(approvals) < 2:
        return {**claim, "status": "approved", "approvals": approvals}, "claim_approved"
    for quarter, part in claim["draws"].items():
        sums["paid"][quarter] = sums["paid"].get(quarter, rules.ZERO) + Decimal(part)
    note = {"credit_note_id": rt.ids.new("mcn"), "amount": claim["amount"], "issued_at": now,
            "applied_to": "partner_account", "reference": claim["claim_id"]}
    return {**claim, "status": "paid", "approvals": approvals, "credit_note": note}, "claim_paid"

