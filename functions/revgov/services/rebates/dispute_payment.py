"""Paying an upheld rebate dispute (PA-7.9, SOP-6.3): in the next settlement, or by a separate credit note.

PA-7.9: "An upheld dispute is paid by adjustment in the next settlement, or by separate credit note if the next
settlement is more than 30 days away." When finance upholds a dispute, `payment_of` decides how (domain
`dispute_payment`): the accepted amount is an adjustment `pending` for the next run, or, the next settlement being too
far away, held for a credit note (adjustment status `credit_note`, which no run pays) prepared by the member who
decided the dispute. A second member of the finance queue approves it through /v1/approvals (the policy's
`separate_credit_note.category`; never the preparer, SOP-4.3): approved, the credit note is issued
(`dispute.credit_note_issued` for the ERP to apply to the partner's account) and the adjustment `credited`; rejected,
the upheld amount goes back to `pending` and the next settlement pays it. Either way the amount is paid once.
"""

from __future__ import annotations

from typing import Any, cast

from ...domain.access import Principal
from ...domain.errors import RuleViolation
from ...domain.partners import screening
from ...domain.rebates import dispute_payment as rules
from ...domain.rebates import disputes as dispute_rules
from ...domain.rebates.policy import Period, RebateBook
from ...domain.rebates.settlement_run import Review
from ...domain.tenants import Tenant
from ...ports import Changes, DomainEvent, Put
from ...runtime import Runtime
from .. import partner_repository
from ..approval_requests import Ask, cited, decided_request, open_request, visible_request
from ..billing.overdue import owing_beyond
from . import repository
from .book import SOURCE, book, today
from .repository import Adjustment, Dispute

EFFECT = "rebate.credit_note"
WITHDRAWN = "withdrawn"  # a settlement run paid the amount before the credit note was issued


def payment_of(
    rt: Runtime, who: Principal, tenant: Tenant, rebates: RebateBook, dispute: Dispute, resolution: dict[str, Any]
) -> tuple[Adjustment, Changes]:
    """The accepted dispute's adjustment, with how it is paid; and, paid by credit note, the credit note prepared by
    `who` with its approval opened (changes for the decision's own commit)."""
    adjustment = cast(Adjustment, dispute_rules.adjustment(dispute, resolution))
    separate = rules.SeparateCreditNote.of(tenant.policy["rebates"]["disputes"])
    on, tid = today(rt), tenant.tenant_id
    issue_within = Review.of(tenant.policy, rebates.settlement_rule).issue_within_days
    period, due = rules.next_settlement(
        Period.parse(dispute["period"]).kind,
        on,
        lambda name: repository.settlement_of_run(rt, tid, name, 1) is not None,
        issue_within,
    )
    chosen = rules.payment(separate, on, period, due)
    if separate is None or chosen["method"] != rules.CREDIT_NOTE:
        return {**adjustment, "payment": chosen}, Changes()
    note = rules.credit_note(rt.ids.new("rcn"), adjustment, chosen, who.actor, rt.clock.now_iso(), tenant.currency)
    held: Adjustment = {**adjustment, "status": rules.CREDIT_NOTE, "payment": chosen,
                        "credit_note_id": note["credit_note_id"]}  # fmt: skip
    ask = Ask(separate.category, "rebate_credit_note", note["credit_note_id"], separate.rule,
              f"credit note of {note['amount']} paying dispute {dispute['dispute_id']} (the next settlement, "
              f"{period.name}, is due {due.isoformat()}: more than {separate.after_days} days away)",
              dispute["partner_id"], EFFECT,
              {"dispute_id": dispute["dispute_id"], "amount": note["amount"]})  # fmt: skip
    inputs = {k: note[k] for k in ("dispute_id", "settlement_id", "partner_id", "program_id", "amount")}
    changes = open_request(rt, tenant, who, note, ask, action="rebate_credit_note.prepared",
                           inputs={**inputs, "next_settlement": chosen["next_settlement"]})  # fmt: skip
    changes.puts.append(repository.credit_note_put(note, None))
    return held, changes


def apply_credit_note_decision(rt: Runtime, case: dict[str, Any], who: Principal) -> Changes:
    """The credit note's approval was decided (a finance member other than its preparer): approved, it is issued and
    the adjustment is `credited`; rejected, the upheld amount is `pending` for the next settlement; a settlement run
    that paid the amount first withdrew the credit note, and deciding it changes nothing more. Effect of
    `rebate.credit_note` (runtime.Registry.effects). Not approved while a screening match holds the partner (PA-2.8 /
    CPA-2.8) or while it has an invoice overdue beyond the withholding limit (PA-7.8): a 422, the case stays pending,
    as a settlement run withholds its statement."""
    tenant, rebates = book(rt, who.tenant_id)
    stored = decided_request(rt, who.tenant_id, repository.CREDIT_NOTES, case, "rebate credit note")
    note, at = stored.data, case["decision"]["at"]
    adjustment, version = repository.adjustment(rt, who.tenant_id, note["dispute_id"])
    decision = {"outcome": case["status"], "by": who.actor, "at": at, "note": case["decision"].get("note"),
                "approval_id": case["case_id"]}  # fmt: skip
    changes = Changes()
    if adjustment["status"] != rules.CREDIT_NOTE:  # paid by a settlement run first (PA-7.9: paid once)
        decided = {**note, "status": WITHDRAWN, "decision": decision, "paid_in": adjustment.get("settled_in")}
    elif case["status"] == "approved":  # PA-2.8 / CPA-2.8: never issued to a partner a screening match holds
        partner = partner_repository.record(rt.store, who.tenant_id, note["partner_id"]) or {}
        screening.refuse_while_held(tenant.policy, partner, f"rebate credit note {note['credit_note_id']}")
        _refuse_while_overdue(rt, who.tenant_id, rebates, partner, note)
        decided = {**note, "status": "issued", "decision": decision}
        changes.puts.append(repository.adjustment_put({**adjustment, "status": "credited", "credited_at": at}, version))
        detail = {k: note[k] for k in ("credit_note_id", "dispute_id", "settlement_id", "partner_id", "program_id",
                                       "amount")}  # fmt: skip
        changes.events.append(DomainEvent(SOURCE, "dispute.credit_note_issued", {**detail, "status": "accepted"}))
    else:
        decided = {**note, "status": "rejected", "decision": decision}
        changes.puts.append(repository.adjustment_put({**adjustment, "status": "pending"}, version))
    changes.puts.insert(0, repository.credit_note_put(decided, stored.version))
    inputs = {"dispute_id": note["dispute_id"], "amount": note["amount"], "note": decision["note"],
              "approval_id": case["case_id"], "paid_in": adjustment.get("settled_in")}  # fmt: skip
    separate = rules.SeparateCreditNote.of(tenant.policy["rebates"]["disputes"])
    changes.audit.append(cited(who, f"rebate_credit_note.{decided['status']}", note["credit_note_id"],
                               decided["status"], inputs=inputs, tenant=tenant,
                               rules=[separate.rule] if separate else [],
                               partner_id=note["partner_id"]))  # fmt: skip
    return changes


def _refuse_while_overdue(rt: Runtime, tenant_id: str, rebates: RebateBook, partner: dict[str, Any],
                          note: dict[str, Any]) -> None:
    """PA-7.8: "Rebates are withheld while the Partner has an invoice more than 60 days overdue" (`rebates.withholding`,
    billing's one notion of overdue as the settlement run reads it): the credit note paying an upheld dispute is a
    rebate paid, so its approval is refused (a RuleViolation naming the invoices) until the overdue amount is paid."""
    rule = rebates.withholding
    if rule is None:
        return
    partner_id = str(note["partner_id"])
    unpaid = repository.partner_unpaid_invoices(rt, tenant_id, partner_id)
    late = owing_beyond(rt, tenant_id, unpaid, {partner_id: rule.terms_of(partner)}, rule.standard_terms_days,
                        today(rt), rule.overdue_days).get(partner_id)  # fmt: skip
    if not late:
        return
    invoices = ", ".join(str(i["invoice_id"]) for i in late)
    raise RuleViolation(
        f"rebate credit note {note['credit_note_id']} is withheld: the partner has an invoice more than "
        f"{rule.overdue_days} days overdue ({invoices}); rebates are released after the overdue amount is paid "
        f"({rule.rule.rule_id}, {rule.rule.clause})",
        extra={"rule_id": rule.rule.rule_id, "clause": rule.rule.clause,
               "overdue_invoices": [str(i["invoice_id"]) for i in late]},
    )


def withdrawn(rt: Runtime, tenant_id: str, paid: Adjustment, settlement_id: str) -> list[Put]:
    """A settlement run paying an adjustment whose credit note was not issued yet withdraws the credit note (its
    approval, decided later, changes nothing more): the amount is paid once."""
    stored = repository.credit_note(rt, tenant_id, str(paid.get("credit_note_id")))
    if stored is None or stored.data["status"] != "pending_approval":
        return []
    note = {**stored.data, "status": WITHDRAWN, "paid_in": settlement_id}
    return [repository.credit_note_put(note, stored.version)]


def credit_note(rt: Runtime, who: Principal, credit_note_id: str) -> dict[str, Any]:
    """A dispute's credit note, if the caller sees its partner (another partner's is one that does not exist)."""
    return visible_request(rt, who, repository.CREDIT_NOTES, credit_note_id, "rebate credit note")
