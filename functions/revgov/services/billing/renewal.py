"""subscription.renewed: the ERP renewed a customer subscription under a renewal quote; the renewed term is billed at
the quote's price only once the quote is approved (domain/subscription_renewals.py).

The event names the pricing decision of its renewal quote (POST /v1/pricing/check with `renewal`). The renewal is
recorded on the subscription with the decision's state: approved (allowed outright, below the threshold and within
policy, or approved by its queues) - the billing run charges the renewed term's months at the renewal's unit price;
waiting for its approval - no month of the renewed term is charged until it is decided (`settle_decided`, run in the
approval's own commit); refused - a lost renewal: the renewed term is never charged. An event that does not match its
quote, arrives after its quote expired, renews what was refused, or arrives after the renewed term started without the
approval, opens an exception (`renewal_without_approval`; no category of the routing matrix names it, so the
matrix's default queue takes it, SOP-4.1 / COP-4.1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...domain import quote_validity
from ...domain import subscription_renewals as renewals
from ...domain.audit import AuditEntry
from ...domain.errors import NotFound
from ...domain.rules import Rule
from ...domain.time import instant, parse_day, period_of
from ...ports import Changes, DomainEvent, Put
from ...runtime import Runtime
from .. import decisions
from .exceptions import fail, open_exception
from .posting import ACTOR, Outcome, Posting
from .repository import SUBSCRIPTIONS, renewal_put, subscription_put
from .subscription_records import refuse_foreign

CATEGORY = "renewal_without_approval"
SOURCE = "revgov.billing"
_STATES = {"allow": renewals.APPROVED, "approval_required": renewals.PENDING, "deny": renewals.REJECTED}


def subscription_renewed(posting: Posting, partner: dict[str, Any]) -> Outcome:
    data, book = posting.data, posting.book
    stored = posting.get(SUBSCRIPTIONS, data["subscription_id"])
    if stored is None or stored.data["status"] != "active":
        state = stored.data["status"] if stored else "unknown"
        return fail(posting, "rating_failure", f"subscription {data['subscription_id']} is {state}: not renewed",
                    book.proration)
    foreign = refuse_foreign(posting, stored, book.proration)
    if foreign is not None:
        return foreign
    decision = _decision(posting)
    problem = _mismatch(posting, decision)
    if problem is not None or decision is None:
        return fail(posting, CATEGORY, f"not renewed: {problem}", *_rules(posting))
    earlier = renewals.approved_from(stored.data, data["renewed_from"])
    if earlier is not None and earlier["decision_id"] == decision["decision_id"]:
        return Outcome("processed", f"already renewed from {data['renewed_from']} under {earlier['decision_id']}")
    if earlier is not None:
        problem = f"not renewed: already renewed from {data['renewed_from']} under {earlier['decision_id']}"
        return fail(posting, CATEGORY, problem, *_rules(posting))
    status = _STATES[decision["outcome"]]
    entry = _entry(posting, decision, status)
    posting.changes.puts += [subscription_put(renewals.recorded(stored.data, entry), stored),
                             renewal_put(stored.data, entry)]
    posting.changes.audit.append(_audit(posting, entry, decision))
    detail = renewal_detail(data["partner_id"], data["subscription_id"], entry)
    posting.changes.events.append(DomainEvent(SOURCE, "subscription.renewal_recorded", detail))
    late = _late(posting, stored.data, entry)
    if late is not None:
        open_exception(posting, CATEGORY, late, partner_id=data["partner_id"], rules=_rules(posting),
                       context={"decision_id": decision["decision_id"], "renewed_from": entry["renewed_from"],
                                "status": status, "approvals": decision.get("approvals", [])})
    said = {renewals.APPROVED: f"renewed from {entry['renewed_from']} at {entry['unit_price']} a unit",
            renewals.PENDING: f"recorded; the renewed term is billed once {decision['decision_id']} is approved",
            renewals.REJECTED: f"not renewed: {decision['decision_id']} was refused (a lost renewal)"}[status]
    return Outcome("processed", said + (f"; {late}" if late else ""))


def _decision(posting: Posting) -> dict[str, Any] | None:
    try:
        head = decisions.head(posting.rt, posting.tenant_id, posting.data["decision_id"])
    except NotFound:
        return None
    return decisions.whole(posting.rt, posting.tenant_id, head.data)


def _mismatch(posting: Posting, decision: Mapping[str, Any] | None) -> str | None:
    """Why the event is not the renewal its decision checked, or None."""
    data = posting.data
    if decision is None or decision.get("kind") != "pricing" or "renewal" not in decision.get("inputs", {}):
        return f"{data['decision_id']} is no renewal quote of this tenant"
    asked = decision["inputs"]["renewal"]
    if decision["partner_id"] != data["partner_id"] or asked["subscription_id"] != data["subscription_id"]:
        return f"{data['decision_id']} renews another subscription"
    if (asked["renewed_from"], int(asked["term_months"])) != (data["renewed_from"], int(data["term_months"])):
        return (f"the quote renews from {asked['renewed_from']} for {asked['term_months']} months, the event from "
                f"{data['renewed_from']} for {data['term_months']}")
    if instant(posting.occurred_at) < instant(decision["created_at"]).replace(microsecond=0):  # ERP times: seconds
        return f"it occurred at {posting.occurred_at}, before its quote {decision['decision_id']} was checked"
    pricing_policy = posting.tenant.policy["pricing"]
    days = int(pricing_policy.get("quote_validity_days", 30))
    if decision["outcome"] != "deny" and quote_validity.expired(decision["created_at"], days, posting.occurred_at):
        through = quote_validity.valid_through(decision["created_at"], days)
        return f"its quote {decision['decision_id']} was valid through {through} ({days} days); a new check is needed"
    return None


def _entry(posting: Posting, decision: Mapping[str, Any], status: str) -> dict[str, Any]:
    measured = decision["result"]["renewal"]
    return {
        "decision_id": decision["decision_id"],
        "renewed_from": measured["renewed_from"],
        "term_months": measured["term_months"],
        "term_end": measured["term_end"],
        "unit_price": measured["unit_price"],
        "previous_unit_price": measured["previous_unit_price"],
        "annual_value": measured["annual_value"],
        "status": status,
        "order_ref": posting.data.get("order_ref"),
        "event_id": posting.event_id,
        "recorded_at": posting.now,
    }


def _late(posting: Posting, sub: Mapping[str, Any], entry: Mapping[str, Any]) -> str | None:
    """The renewed term started before the event arrived without an approval, or a month of it was already charged at
    the previous price (the billing run charged it before the renewal was known): finance's to settle."""
    started = parse_day(entry["renewed_from"]) <= instant(posting.occurred_at).date()
    if entry["status"] != renewals.APPROVED and started:
        state = "refused" if entry["status"] == renewals.REJECTED else "not approved"
        return f"the renewed term started on {entry['renewed_from']} and its quote {entry['decision_id']} is {state}"
    first = period_of(parse_day(entry["renewed_from"]))
    charged = sorted(b["month"] for b in sub.get("billed", []) if b["month"] >= first)
    if entry["status"] == renewals.APPROVED and charged:
        return f"month(s) {', '.join(charged)} of the renewed term were charged at the previous price"
    return None


def _rules(posting: Posting) -> tuple[Rule, ...]:
    """The renewal threshold rule (where the policy sets one) and the rule that bills subscriptions in advance."""
    limit = renewals.threshold_of(posting.tenant.policy)
    return (*((limit.rule,) if limit else ()), posting.book.invoicing)


def _audit(posting: Posting, entry: Mapping[str, Any], decision: Mapping[str, Any]) -> AuditEntry:
    cited = [(r["rule_id"], r["clause"]) for r in decision["result"]["reasons"]]
    return AuditEntry(actor=ACTOR, action="subscription.renewal_recorded", subject=posting.data["subscription_id"],
                      outcome=entry["status"], inputs={"event_id": posting.event_id, **entry},
                      policy_version=posting.tenant.policy_version, rule_ids=tuple(r for r, _ in cited),
                      clauses=tuple(c for _, c in cited), partner_id=posting.data["partner_id"])


def settle_decided(rt: Runtime, tenant_id: str, decision: Mapping[str, Any], status: str, at: str,
                   policy: Mapping[str, Any]) -> Changes:
    """A renewal quote decided by its approvals (approved or rejected): the renewal recorded for it on its subscription
    is settled in the same commit, so the billing run charges the renewed term (approved) or never does (a lost
    renewal). Nothing when the quote renews nothing, or its ERP event has not arrived yet (it reads the state then)."""
    asked = decisions.whole(rt, tenant_id, decision).get("inputs", {}).get("renewal")
    if not asked:
        return Changes()
    stored = rt.store.get(tenant_id, SUBSCRIPTIONS, asked["subscription_id"])
    settled_as = renewals.APPROVED if status == "approved" else renewals.REJECTED
    moved = renewals.settled(stored.data, decision["decision_id"], settled_as, at) if stored else None
    if stored is None or moved is None:
        return Changes()
    limit = renewals.threshold_of(policy)
    audit = AuditEntry(actor=ACTOR, action="subscription.renewal_settled", subject=asked["subscription_id"],
                       outcome=settled_as, inputs={"decision_id": decision["decision_id"],
                                                   "renewed_from": asked["renewed_from"]},
                       policy_version=decision["policy_version"], partner_id=decision["partner_id"],
                       rule_ids=(limit.rule.rule_id,) if limit else (), clauses=(limit.rule.clause,) if limit else ())
    (entry,) = [r for r in moved["renewals"] if r["decision_id"] == decision["decision_id"]]
    puts: list[Put] = [subscription_put(moved, stored), renewal_put(moved, entry)]
    detail = renewal_detail(moved["partner_id"], moved["subscription_id"], entry)
    return Changes(puts=puts, audit=[audit], events=[DomainEvent(SOURCE, "subscription.renewal_decided", detail)])


def renewal_detail(partner_id: str, subscription_id: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    """What n8n and the ERP read of a renewal recorded or decided (revgov.billing): never its unit prices."""
    return {"partner_id": partner_id, "subscription_id": subscription_id, "decision_id": entry["decision_id"],
            "renewed_from": entry["renewed_from"], "term_end": entry["term_end"],
            "annual_value": entry["annual_value"], "renewal_status": entry["status"]}
