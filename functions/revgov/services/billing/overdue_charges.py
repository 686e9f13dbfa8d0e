"""Late-payment charges (PA-10.8 / CPA-10.7): prepared by Finance, approved by another finance member, then issued.

Interest and the fixed compensation are never charged silently: Finance prepares a charge for one overdue invoice
through a day (`POST /v1/billing/overdue/charges`), which opens an approval in the `late_payment_charge` category
(the policy's routing: finance). Whoever prepared it can never approve it (SOP-4.3 / COP-4.3, enforced by the
approvals). Approved, the charge is issued as a debit note of its own (`late_payment_charge.issued`, revgov.billing,
which the ERP books): it is not an invoice line, so it never counts as Invoiced Revenue for rebates or KPIs (PA-1.2
counts amounts invoiced "for Products and Services"). Rejected, nothing is charged and the reason is kept.

A charge covers the interest accrued on the invoice through its day less the interest charged before (the charges of
one invoice add up to its accrued interest rounded once), and the compensation once per invoice. One open charge
per invoice: a second waits for the first decision (409). A marker per invoice (LATEPAYINVOICE) keeps what was issued.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ...domain.access import Principal
from ...domain.billing import overdue as core
from ...domain.errors import Conflict, NotFound, RuleViolation
from ...domain.money import format_money
from ...ports import Changes, DomainEvent, Stored
from ...runtime import Runtime
from .. import approval_requests, partner_repository, tenants
from ..toolkit import put_over
from .overdue import CHARGED, as_of_day, disputed_spans, late_payment_of
from .repository import load_invoice

CHARGES = "LATEPAYCHARGE"  # charge id -> the charge
EFFECT = "late_payment.charge"
CATEGORY = "late_payment_charge"
SOURCE = "revgov.billing"


def prepare_charge(rt: Runtime, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """Finance prepares the late-payment charge of one invoice through `through` (default today): its approval opens."""
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    late = late_payment_of(tenant)
    through = as_of_day(rt, body.get("through"), "/through")
    invoice, _ = load_invoice(rt, who.tenant_id, body["invoice_id"])
    if invoice["status"] != "finalized":
        raise RuleViolation(f"invoice {invoice['invoice_id']} is not issued; only an issued invoice falls due")
    partner = partner_repository.record(rt.store, who.tenant_id, invoice["partner_id"])
    terms = core.terms_of(partner, late.standard_terms_days)
    marker = rt.store.get(who.tenant_id, CHARGED, invoice["invoice_id"])
    before: dict[str, Any] = marker.data if marker else {"interest": "0.00", "compensation_charged": False,
                                                         "charge_ids": []}  # fmt: skip
    if before.get("open_charge_id"):
        raise Conflict(f"charge {before['open_charge_id']} on this invoice waits for its decision",
                       extra={"open_charge_id": before["open_charge_id"]})  # fmt: skip
    spans = disputed_spans(rt, who.tenant_id, invoice["invoice_id"], invoice)
    accrual = core.accrue(late, invoice, terms, through, spans)
    if accrual.interest is None:
        raise RuleViolation(f"no reference rate in the policy for {', '.join(accrual.missing)}: the interest cannot "
                            f"be stated ({late.rule.rule_id}, {late.rule.clause})")  # fmt: skip
    due = core.charge_due(accrual, Decimal(before["interest"]), bool(before["compensation_charged"]))
    if due["total"] <= 0:
        raise RuleViolation(f"nothing to charge on invoice {invoice['invoice_id']} through {through.isoformat()} "
                            f"({late.rule.rule_id}, {late.rule.clause})")  # fmt: skip
    charge = _new_charge(rt, who, invoice, accrual, due, late)
    ask = approval_requests.Ask(CATEGORY, "late_payment_charge", charge["charge_id"], late.rule,
                                f"late-payment charge of {charge['total']} on invoice {invoice['invoice_id']} through "
                                f"{through.isoformat()}", invoice["partner_id"], EFFECT,
                                {"invoice_id": invoice["invoice_id"], "total": charge["total"]})  # fmt: skip
    inputs = {k: charge[k] for k in ("invoice_id", "partner_id", "through", "interest", "compensation", "total")}
    changes = approval_requests.open_request(rt, tenant, who, charge, ask, action="late_payment_charge.prepared",
                                             inputs=inputs)  # fmt: skip
    reserved = {**before, "invoice_id": invoice["invoice_id"], "open_charge_id": charge["charge_id"]}
    changes.puts += [_charge_put(charge, None), _marker_put(reserved, marker)]
    rt.commit(who.tenant_id, changes)
    return charge


def _new_charge(
    rt: Runtime,
    who: Principal,
    invoice: dict[str, Any],
    accrual: core.Accrual,
    due: dict[str, Decimal],
    late: core.LatePayment,
) -> dict[str, Any]:
    return {
        "charge_id": rt.ids.new("lpc"),
        "invoice_id": invoice["invoice_id"],
        "partner_id": invoice["partner_id"],
        "currency": invoice["currency"],
        "through": accrual.through.isoformat() if accrual.through else None,
        "interest": format_money(due["interest"]),
        "compensation": format_money(due["compensation"]),
        "total": format_money(due["total"]),
        "accrual": accrual.as_dict(),
        "status": "pending_approval",
        "prepared_by": who.actor,
        "prepared_at": rt.clock.now_iso(),
        "rule_id": late.rule.rule_id,
        "clause": late.rule.clause,
        "decision": None,
    }


def _charge_put(charge: dict[str, Any], version: int | None) -> Any:
    return put_over(CHARGES, charge["charge_id"], charge, version,
                    conflict_detail=f"charge {charge['charge_id']} changed meanwhile; read it again")  # fmt: skip


def _marker_put(record: dict[str, Any], stored: Stored | None) -> Any:
    return put_over(CHARGED, record["invoice_id"], record, stored,
                    conflict_detail=f"a charge on invoice {record['invoice_id']} was prepared meanwhile")  # fmt: skip


def get_charge(rt: Runtime, who: Principal, charge_id: str) -> dict[str, Any]:
    return approval_requests.visible_request(rt, who, CHARGES, charge_id, "late-payment charge")


def apply_decision(rt: Runtime, case: dict[str, Any], who: Principal) -> Changes:
    """The charge's approval was decided: approved, it is issued (the invoice's marker counts it) and the ERP told;
    rejected, nothing is charged. Effect of `late_payment.charge` (runtime.Registry.effects)."""
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    stored = approval_requests.decided_request(rt, who.tenant_id, CHARGES, case, "late-payment charge")
    charge = stored.data
    issued = case["status"] == "approved"
    decision = {"outcome": case["status"], "by": who.actor, "at": case["decision"]["at"],
                "note": case["decision"].get("note"), "approval_id": case["case_id"]}  # fmt: skip
    decided = {**charge, "status": "issued" if issued else "rejected", "decision": decision}
    marker = rt.store.get(who.tenant_id, CHARGED, charge["invoice_id"])
    if marker is None:  # pragma: no cover - written with the charge
        raise NotFound(f"no late-payment record of invoice {charge['invoice_id']}")
    record = {**marker.data, "open_charge_id": None}
    if issued:
        record["interest"] = format_money(Decimal(record["interest"]) + Decimal(charge["interest"]))
        record["compensation_charged"] = record["compensation_charged"] or Decimal(charge["compensation"]) > 0
        record["charge_ids"] = [*record["charge_ids"], charge["charge_id"]]
    changes = Changes(puts=[_charge_put(decided, stored.version), _marker_put(record, marker)])
    if issued:
        event = {k: charge[k] for k in ("charge_id", "invoice_id", "partner_id", "currency", "through", "interest",
                                        "compensation", "total", "rule_id", "clause")}  # fmt: skip
        changes.events.append(DomainEvent(SOURCE, "late_payment_charge.issued", event))
    late = core.LatePayment.of(tenant.policy)
    rules = [late.rule] if late else []
    inputs = {"invoice_id": charge["invoice_id"], "total": charge["total"], "note": decision["note"],
              "approval_id": case["case_id"]}  # fmt: skip
    action = f"late_payment_charge.{decided['status']}"
    entry = approval_requests.cited(who, action, charge["charge_id"], decided["status"], inputs=inputs, tenant=tenant,
                                    rules=rules, partner_id=charge["partner_id"])  # PA-12.1: the partner's trail
    changes.audit.append(entry)
    return changes
