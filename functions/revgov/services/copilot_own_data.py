"""The copilot's answers from a partner's own records: its tier, entitlements, rebates accrued and open invoices.

PA-14.1 / CPA-14.1: the copilot "answers questions about this Agreement, the Partner's own tier, entitlements, rebates
and invoices" and "only accesses data of the Partner asking". Only a partner key is answered here, and only about the
principal's partner: no id is ever taken from the question or the body. Each figure comes from the read the API
already has (the partner record and policy, `partners.entitlements` and the entitlement explainer, the accruals read,
the partner's own invoices) and is followed by the clause that defines it, quoted verbatim and checked like any
retrieved citation (`domain.copilot.check_citations`); without a checked citation the copilot refuses, as PA-14.1
"where no supporting clause is found the copilot says so instead of answering". Imported lazily by services/copilot.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ..domain import copilot as core
from ..domain import copilot_own_data as own
from ..domain.access import Principal, Role
from ..domain.billing import overdue as billing_rules
from ..domain.errors import RuleViolation
from ..domain.partners.rules import entitlement_names
from ..domain.rebates.policy import Period, month_index
from ..domain.tenants import Tenant
from ..runtime import Runtime
from . import explain_entitlements, partners, rebates, tenants
from .billing import list_invoices_for
from .billing.overdue import late_payment_of
from .rebates.repository import ACCRUALS

_PAGE = 200


@dataclass(frozen=True)
class Answered:
    """An own-data answer checked like a retrieved one: the draft, the clauses looked up, the rejected citations."""

    topic: str
    draft: core.Draft
    retrieved: dict[str, core.Passage]
    rejected: list[dict[str, str]]
    figures: dict[str, Any]
    records: list[str]


def answer(rt: Runtime, who: Principal, question: str) -> Answered | None:
    """The answer from the asking partner's own records, or None when the question is not about them (or the caller
    is not a partner key: staff questions keep going to retrieval)."""
    if who.role is not Role.PARTNER or who.partner_id is None:
        return None
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    policy = tenant.policy
    asked = own.read_question(core.without_masks(question),
                              tier_names=[str(t["name"]) for t in policy.get("partner_tiers", [])],
                              entitlement_names=entitlement_names(policy))
    if asked is None:
        return None
    now = rt.clock.now_iso()
    day = date.fromisoformat(now[:10])
    try:
        found = _read(rt, who, tenant, asked, now, day)
    except RuleViolation:  # the tenant's policy states no rule for this subject (no rebates, no late payment)
        return None
    scope = core.Scope(who.tenant_id, who.partner_id)
    wanted = list(dict.fromkeys(s.clause for s in found.statements if s.clause))
    wanted += [c.clause for c in found.citations if c.clause not in wanted]
    passages = rt.clause_index.get(scope, wanted) if rt.clause_index is not None and wanted else []
    retrieved = {p.clause_id: p for p in passages if scope.admits(p)}
    text, quoted = own.compose(found, retrieved)
    check = core.check_citations([*found.citations, *quoted], retrieved, scope)
    rejected = [{**c.as_dict(), "reason": why} for c, why in check.rejected]
    draft = core.Draft(text, check.accepted) if check.accepted and not rejected else core.Draft("", (), refused=True)
    return Answered(asked.topic, draft, retrieved, rejected, {"topic": asked.topic, **found.figures}, found.records)


def _read(rt: Runtime, who: Principal, tenant: Tenant, asked: own.OwnQuestion, now: str, day: date) -> own.OwnAnswer:
    partner_id = str(who.partner_id)
    if asked.topic == own.TIER:
        partner, _ = partners.load_partner(rt, who.tenant_id, partner_id)
        return own.tier_answer(tenant.policy, partner, day, tenant.currency)
    if asked.topic == own.ENTITLEMENTS and asked.entitlement is not None:
        found, said, _ = explain_entitlements.explained(rt, who.tenant_id, partner_id, asked.entitlement, now)
        return own.entitlement_answer(partner_id, asked.entitlement, found, said)
    if asked.topic == own.ENTITLEMENTS:
        return own.entitlements_answer(partners.entitlements(rt, who.tenant_id, partner_id, now), day)
    if asked.topic == own.REBATES:
        period = period_asked(asked.period, day)
        read = rebates.accruals(rt, who, partner_id=None, period=period, limit=_PAGE, cursor=None)
        return own.rebates_answer(read["items"], period, tenant.currency, tenant.policy.get("rebates") or {},
                                  {partner_id: f"{ACCRUALS}/{period}#{partner_id}"}, _issued(rt, who, period))
    return _invoices(rt, who, tenant, asked, day)


def _issued(rt: Runtime, who: Principal, period: str) -> list[dict[str, Any]]:
    """The runs of the period issued with a statement of the asking partner's own, as its key lists them
    (`GET /v1/rebates/settlements?period=`: approved runs only, its own line each)."""
    runs: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = rebates.list_settlements(rt, who, period=period, partner_id=None, status=None, limit=_PAGE,
                                        cursor=cursor)
        runs += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return runs


def period_asked(named: str | None, day: date) -> str:
    """The period asked about: named (2026-Q3, 2026-10), a quarter of this year (Q3), the previous quarter, or by
    default the running quarter (as `GET /v1/rebates/accruals`)."""
    running = Period.containing(month_index(day), "quarter")
    if named == own.PREVIOUS_QUARTER:
        return running.shifted(-3).name
    if named is not None and named.startswith("Q"):
        return f"{day.year}-{named}"
    return named or running.name


def _invoices(rt: Runtime, who: Principal, tenant: Tenant, asked: own.OwnQuestion, day: date) -> own.OwnAnswer:
    """The partner's issued invoices not yet paid, read through its own invoice pointers (`list_invoices_for`), each
    with its due day and days overdue by the billing rules of `GET /v1/billing/overdue`."""
    late = late_payment_of(tenant)
    partner, _ = partners.load_partner(rt, who.tenant_id, str(who.partner_id))
    terms = billing_rules.terms_of(partner, late.standard_terms_days)
    issued: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = list_invoices_for(rt, who, status="finalized", period=None, limit=_PAGE, cursor=cursor)
        issued += [i for i in page["items"] if i.get("partner_id") == who.partner_id]
        cursor = page["next_cursor"]
        if not cursor:
            break
    unpaid = [
        {"invoice_id": i["invoice_id"], "period": i["period"], "total": i["total"],
         "issued_on": str(billing_rules.issued_on(i)), "due_on": str(billing_rules.due_on(i, terms)),
         "days_overdue": billing_rules.days_overdue(i, terms, day)}
        for i in sorted(issued, key=lambda i: (str(i.get("finalized_at")), i["invoice_id"]))
        if billing_rules.paid_on(i) is None and billing_rules.issued_on(i) is not None
    ]
    return own.invoices_answer(unpaid, overdue_only=asked.overdue, day=day, currency=tenant.currency,
                               terms_days=terms, clause=late.rule.clause)
