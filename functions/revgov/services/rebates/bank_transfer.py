"""A partner's request to be settled by bank transfer (PA-7.8 / CPA-7.8), and what a run reads of it.

PA-7.8: "Settlement is made by credit note applied to the Partner's account or, where the Partner has no open balance
and requests it, by bank transfer." The request is a standing one (domain.rebates.settlement_method says why): the
partner asks with its own key, or finance, channel operations or an admin record it on the partner's behalf; it
stands until withdrawn. Each settlement run reads the requests standing when it is built and, for those partners,
their open invoices as of the run's as-of day (domain.billing.balance). Revgov moves no money and stores no bank
details: the statement instructs finance and the ERP, which holds the partner's account. Audited on request and on
withdrawal; the choice itself is on each statement and in the run's audit record.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from ...domain.access import Principal
from ...domain.audit import AuditEntry
from ...domain.billing.balance import open_invoices
from ...domain.errors import NotFound, RuleViolation
from ...domain.masking import mask_sensitive
from ...domain.rebates import settlement_method as rules
from ...domain.rebates.settlement_method import Payouts, SettlementMethod
from ...domain.tenants import Tenant
from ...ports import Changes
from ...runtime import Runtime
from .. import partner_repository, tenants
from ..billing import repository as billing_repository
from ..toolkit import put_over

REQUESTS = "BANKTRANSFERREQUEST"  # partner id -> {partner_id, status: standing | withdrawn, requested_at, ...}


def _rule(tenant: Tenant) -> SettlementMethod:
    rule = SettlementMethod.of(tenant.policy)
    if rule is None:
        raise RuleViolation("this tenant's policy states no settlement method (rebates.settlement_method)")
    return rule


def _visible(rt: Runtime, who: Principal, partner_id: str) -> None:
    """A partner key's own partner, or any partner for staff; another partner's id is one that does not exist."""
    if not who.sees_partner(partner_id) or not partner_repository.exists(rt.store, who.tenant_id, partner_id):
        raise NotFound(f"no partner {partner_id}")


def get(rt: Runtime, who: Principal, partner_id: str) -> dict[str, Any]:
    """The partner's request as it stands (`status` none when it never asked)."""
    _visible(rt, who, partner_id)
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    stored = rt.store.get(who.tenant_id, REQUESTS, partner_id)
    return stored.data if stored else rules.none_yet(_rule(tenant), partner_id)


def request(rt: Runtime, who: Principal, partner_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Record that the partner asks to be settled by bank transfer, from now until withdrawn (audited)."""
    _visible(rt, who, partner_id)
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    rule = _rule(tenant)
    stored = rt.store.get(who.tenant_id, REQUESTS, partner_id)
    note = mask_sensitive(str(body.get("note") or "").strip()) or None  # bank details are the ERP's, never kept
    now = rt.clock.now_iso()
    record = rules.requested(rule, stored.data if stored else None, partner_id, role=who.role.value, at=now,
                             note=note)  # fmt: skip
    return _commit(rt, who, tenant, rule, record, stored, "rebate_settlement.bank_transfer_requested",
                   {"requested_at": now, "note": note})  # fmt: skip


def withdraw(rt: Runtime, who: Principal, partner_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Withdraw the partner's standing request: its settlements are by credit note again (audited)."""
    _visible(rt, who, partner_id)
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    rule = _rule(tenant)
    stored = rt.store.get(who.tenant_id, REQUESTS, partner_id)
    now = rt.clock.now_iso()
    note = mask_sensitive(str(body.get("note") or "").strip()) or None  # bank details are the ERP's, never kept
    record = rules.withdrawn(stored.data if stored else None, partner_id, role=who.role.value, at=now, note=note)
    return _commit(rt, who, tenant, rule, record, stored, "rebate_settlement.bank_transfer_withdrawn",
                   {"withdrawn_at": now, "requested_at": record["requested_at"], "note": note})  # fmt: skip


def _commit(
    rt: Runtime, who: Principal, tenant: Tenant, rule: SettlementMethod, record: dict[str, Any], stored: Any,
    action: str, inputs: dict[str, Any],
) -> dict[str, Any]:
    pid = record["partner_id"]
    meanwhile = f"the bank transfer request of {pid} changed meanwhile"
    put = put_over(REQUESTS, pid, record, stored, conflict_detail=meanwhile)
    audit = AuditEntry.by(who, action, pid, record["status"], inputs=inputs, policy_version=tenant.policy_version,
                          rule_ids=[rule.rule.rule_id], clauses=[rule.rule.clause])  # fmt: skip
    rt.commit(who.tenant_id, Changes(puts=[put], audit=[audit]))
    return record


def payouts(rt: Runtime, tenant: Tenant, partner_ids: set[str], on: date,
            standing: Mapping[str, Mapping[str, Any]] | None = None) -> Payouts | None:  # fmt: skip
    """What a settlement run chooses each statement's payment from: the requests standing now among `partner_ids`
    (or `standing`: those the run was prepared with) and, for those partners, their open invoices as of `on`. None:
    the policy states no settlement method."""
    rule = SettlementMethod.of(tenant.policy)
    if rule is None:
        return None
    tid, wanted = tenant.tenant_id, sorted(partner_ids)
    if standing is not None:
        kept = {pid: standing[pid] for pid in wanted if pid in standing}
        return Payouts(rule, on, kept, {pid: open_balance(rt, tid, pid, on) for pid in kept})
    standing = {}
    for start in range(0, len(wanted), 100):
        refs = [(tid, REQUESTS, pid) for pid in wanted[start : start + 100]]
        for (_, _, pid), stored in rt.store.get_many(refs).items():
            if stored.data["status"] == rules.STANDING:
                standing[pid] = stored.data
    return Payouts(rule, on, standing, {pid: open_balance(rt, tid, pid, on) for pid in standing})


def open_balance(rt: Runtime, tenant_id: str, partner_id: str, on: date) -> list[dict[str, Any]]:
    """The partner's invoices still owed on `on` (domain.billing.balance); credits are read only for the invoices
    that would otherwise be owed."""
    issued = billing_repository.partner_issued_invoices(rt, tenant_id, partner_id)
    owed = {i["invoice_id"] for i in open_invoices(issued, {}, on)}
    credited = {i: billing_repository.credited_on_invoice(rt, tenant_id, i) for i in sorted(owed)}
    return open_invoices([i for i in issued if i["invoice_id"] in owed], credited, on)
