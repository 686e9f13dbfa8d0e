"""Audits of a partner's records and the repayment they raise (PA-12.1 / CPA-12.1; services/partner_audits.py)."""

from __future__ import annotations

from typing import Any

from ...domain.access import Role
from ...services import partner_audits
from ..http import Call
from ..registry import STAFF, operation

# PA-12.1 "the Distributor or an independent auditor may audit those records": finance (rebates, SPIFF, commissions,
# MDF, SOP-1.2 / COP-1.2) or legal (contract matters, SOP-1.2; "data protection requests", COP-1.2) schedules it
SCHEDULERS = frozenset({Role.FINANCE, Role.LEGAL})
# the findings are incentives paid and the repayment is money: the finance queue's (a second member approves it)
FINANCE = frozenset({Role.FINANCE})
# PA-12.1: the Distributor "provides the Partner, on request, with the records relating to the Partner": its own
READERS = frozenset(STAFF | {Role.PARTNER})
_IDS = {"partner_id": "ptr", "audit_id": "pau"}


@operation(
    "POST",
    "/v1/partners/{partner_id}/audits",
    summary="Schedule an audit of a partner's records with its notice given now (PA-12.1: 30 days' written notice; "
    "CPA-12.1: 20 business days), starting on a business day, at most once per Program Year unless a previous "
    "audit found a discrepancy (finance or legal)",
    roles=SCHEDULERS,
    tag="partners",
    id_params={"partner_id": "ptr"},
    status=201,
    body_schema="api/partner-audit.schema.json",
    example={"starts_on": "2026-12-02", "auditor": "Ledger & Co LLP"},
    response_schema="api/responses/partner-audit.schema.json",
)
def schedule_partner_audit(call: Call) -> dict[str, Any]:
    return partner_audits.schedule(call.runtime, call.who, call.params["partner_id"], call.body)


@operation(
    "GET",
    "/v1/partners/{partner_id}/audits",
    summary="A partner's audits with their notice, findings and repayment (a partner key: its own)",
    roles=READERS,
    tag="partners",
    id_params={"partner_id": "ptr"},
    response_schema="api/responses/partner-audits.schema.json",
)
def list_partner_audits(call: Call) -> dict[str, Any]:
    return partner_audits.list_audits(call.runtime, call.who, call.params["partner_id"])


@operation(
    "GET",
    "/v1/partners/{partner_id}/audits/{audit_id}",
    summary="One audit of a partner (a partner key: its own; another partner's is a 404)",
    roles=READERS,
    tag="partners",
    id_params=_IDS,
    response_schema="api/responses/partner-audit.schema.json",
)
def get_partner_audit(call: Call) -> dict[str, Any]:
    return partner_audits.get_audit(call.runtime, call.who, call.params["partner_id"], call.params["audit_id"])


@operation(
    "POST",
    "/v1/partners/{partner_id}/audits/{audit_id}/findings",
    summary="Record an audited Quarter's finding: the rebate, SPIFF, commission and MDF verified as due against what "
    "was paid (approved settlements, paid MDF claims); overpaid by more than 5% (CPA-12.1: 3%) of what was due, "
    "it is repaid (finance)",
    roles=FINANCE,
    tag="partners",
    id_params=_IDS,
    body_schema="api/partner-audit-finding.schema.json",
    example={
        "quarter": "2026-Q3",
        "verified": {"rebate": "5097.08", "spiff": "0.00", "commission": "0.00", "mdf": "0.00"},
    },
    response_schema="api/responses/partner-audit.schema.json",
)
def record_partner_audit_finding(call: Call) -> dict[str, Any]:
    return partner_audits.record_finding(
        call.runtime, call.who, call.params["partner_id"], call.params["audit_id"], call.body
    )


@operation(
    "POST",
    "/v1/partners/{partner_id}/audits/{audit_id}/close",
    summary="Close an audit with its cost: a Quarter overpaid by more than the clause's percentage raises the "
    "repayment of the overpayment and the audit's cost, issued once another finance member approves it (PA-12.1 / "
    "CPA-12.1, SOP-4.3 / COP-4.3)",
    roles=FINANCE,
    tag="partners",
    id_params=_IDS,
    body_schema="api/partner-audit-close.schema.json",
    example={"audit_cost": "1800.00"},
    response_schema="api/responses/partner-audit.schema.json",
)
def close_partner_audit(call: Call) -> dict[str, Any]:
    return partner_audits.close(call.runtime, call.who, call.params["partner_id"], call.params["audit_id"], call.body)


@operation(
    "GET",
    "/v1/audit-repayments/{repayment_id}",
    summary="An audit's repayment with its decision (a partner key: its own)",
    roles=READERS,
    tag="partners",
    id_params={"repayment_id": "arp"},
    response_schema="api/responses/audit-repayment.schema.json",
)
def get_audit_repayment(call: Call) -> dict[str, Any]:
    return partner_audits.get_repayment(call.runtime, call.who, call.params["repayment_id"])
