"""Audits of a partner's records (PA-12.1 / CPA-12.1): scheduled on notice, findings per Quarter, repayment.

Finance or legal schedules an audit (`POST /v1/partners/{partner_id}/audits`, the notice given now); from its first
day finance records each audited Quarter's finding: the incentives the audit verified against what Revgov paid (the
partner's statements of the Quarter's approved rebate and commission runs, by program model: rebate, SPIFF,
commission; the MDF claims paid against the Quarter's accrual). Closing the audit with its cost raises the repayment
when a Quarter was overpaid by more than the clause's percentage: the overpayment and the audit's cost, prepared by
the member who closed the audit, wait for a second finance member (the policy's `repayment_category`, four-eyes as
every credit note and charge, SOP-4.3 / COP-4.3); approved, the repayment is issued as a debit note for the ERP to
book (`partner_audit.repayment_issued`, revgov.billing), never an invoice line (it is no Invoiced Revenue, PA-1.2);
rejected, nothing is charged. Agents never move money: only these keys do. A partner key reads its own audits.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from ..domain import partner_audits as rules
from ..domain.access import Principal, Role
from ..domain.calendar import BusinessCalendar
from ..domain.cases import SELF_APPROVAL
from ..domain.errors import Forbidden, NotFound, RuleViolation
from ..domain.money import ZERO
from ..domain.rebates.settlement_run import SETTLED
from ..domain.tenants import Tenant
from ..domain.time import instant
from ..ports import Changes, DomainEvent, Put, Stored
from ..runtime import Runtime
from . import approval_requests, key_lineage, mdf_repository, partner_repository, tenants
from .rebates import repository as rebate_repository
from .rebates.book import book as rebate_book
from .toolkit import pages, put_over

AUDITS = "PARTNERAUDIT"  # {partner_id}#{audit_id} -> the audit
YEARS = "PARTNERAUDITYEAR"  # {partner_id}#{year} -> the audits starting in that Program Year (one write wins a race)
REPAYMENTS = "AUDITREPAYMENT"  # repayment id -> the repayment waiting for (or given) its approval
EFFECT = "partner_audit.repayment"
SOURCE = "revgov.billing"
MAX_RUNS = 50  # runs of one period looked at (a period has a few)


def _rule(tenant: Tenant) -> rules.AuditRule:
    rule = rules.AuditRule.of(tenant.policy)
    if rule is None:
        raise RuleViolation("this tenant's policy has no partner audit rule (partner_audits)")
    return rule


def _key(partner_id: str, audit_id: str) -> str:
    return f"{partner_id}#{audit_id}"


def _audit_put(audit: dict[str, Any], read: Stored | None) -> Put:
    return put_over(AUDITS, _key(audit["partner_id"], audit["audit_id"]), audit, read,
                    conflict_detail=f"audit {audit['audit_id']} changed meanwhile; read it again")  # fmt: skip


def _visible_partner(rt: Runtime, who: Principal, partner_id: str) -> None:
    """A partner key asks only about itself; another partner's id, or an unknown one, is the same 404."""
    if not who.sees_partner(partner_id) or not partner_repository.exists(rt.store, who.tenant_id, partner_id):
        raise NotFound(f"no partner {partner_id}")


def _audits_of(rt: Runtime, tenant_id: str, partner_id: str) -> list[Stored]:
    return list(pages(rt.store, tenant_id, AUDITS, prefix=f"{partner_id}#"))


def _load(rt: Runtime, who: Principal, partner_id: str, audit_id: str) -> Stored:
    _visible_partner(rt, who, partner_id)
    stored = rt.store.get(who.tenant_id, AUDITS, _key(partner_id, audit_id))
    if stored is None:
        raise NotFound(f"no audit {audit_id}")
    return stored


def _shown(who: Principal, audit: dict[str, Any]) -> dict[str, Any]:
    return rules.partner_view(audit) if who.role is Role.PARTNER else audit


def _entry(tenant: Tenant, who: Principal, rule: rules.AuditRule, action: str, audit: dict[str, Any],
           inputs: dict[str, Any]) -> Any:  # fmt: skip
    return approval_requests.cited(who, action, audit["audit_id"], audit["status"], inputs=inputs, tenant=tenant,
                                   rules=[rule.rule], partner_id=audit["partner_id"])  # fmt: skip


def schedule(rt: Runtime, who: Principal, partner_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Schedule an audit of the partner with its notice given now (finance or legal)."""
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    rule = _rule(tenant)
    partner = partner_repository.record(rt.store, who.tenant_id, partner_id)
    if partner is None:
        raise NotFound(f"no partner {partner_id}")
    calendar = BusinessCalendar.from_policy(tenant.policy, partner.get("country"))
    earlier = [s.data for s in _audits_of(rt, who.tenant_id, partner_id)]
    audit = rules.schedule(rule, calendar, body, audit_id=rt.ids.new("pau"), partner_id=partner_id,
                           now=instant(rt.clock.now_iso()), by=who.actor, earlier=earlier)  # fmt: skip
    inputs = {k: audit[k] for k in ("partner_id", "starts_on", "program_year", "auditor", "allowed_by_discrepancy_of")}
    # two audits scheduled at once for the same Program Year: the year's marker, written over the version read, lets
    # one commit; the other is a 409 and, read again, meets the once-per-year rule
    year_key = f"{partner_id}#{audit['program_year']}"
    year = rt.store.get(who.tenant_id, YEARS, year_key)
    listed = {"partner_id": partner_id, "program_year": audit["program_year"],
              "audit_ids": [*(year.data["audit_ids"] if year else []), audit["audit_id"]]}  # fmt: skip
    meanwhile = f"an audit of {partner_id} in Program Year {audit['program_year']} was scheduled meanwhile"
    year_put = put_over(YEARS, year_key, listed, year, conflict_detail=meanwhile)
    changes = Changes(puts=[_audit_put(audit, None), year_put])
    changes.audit.append(_entry(tenant, who, rule, "partner_audit.scheduled", audit,
                                {**inputs, "notice": audit["notice"]}))  # fmt: skip
    rt.commit(who.tenant_id, changes)
    return audit


def list_audits(rt: Runtime, who: Principal, partner_id: str) -> dict[str, Any]:
    """The partner's audits, oldest first (a partner key: its own)."""
    _visible_partner(rt, who, partner_id)
    audits = sorted((s.data for s in _audits_of(rt, who.tenant_id, partner_id)), key=lambda a: a["audit_id"])
    return {"partner_id": partner_id, "audits": [_shown(who, a) for a in audits]}


def get_audit(rt: Runtime, who: Principal, partner_id: str, audit_id: str) -> dict[str, Any]:
    return _shown(who, _load(rt, who, partner_id, audit_id).data)


def paid_in_quarter(rt: Runtime, tenant_id: str, partner_id: str, quarter: str, first: date) -> dict[str, Decimal]:
    """What Revgov paid the partner for the Quarter, by incentive: its statements (not withheld) of the approved runs
    of the Quarter and of its three months, each line by its program's model; the MDF claims paid against the
    Quarter's accrual (PA-9.5)."""
    _, book = rebate_book(rt, tenant_id)
    models = {p.program_id: p.model for p in book.programs}
    months = [f"{first.year:04d}-{first.month + i:02d}" for i in range(3)]
    periods = {quarter, *months}
    paid = dict.fromkeys(rules.INCENTIVES, ZERO)
    for period in [quarter, *months]:
        for run in range(1, MAX_RUNS + 1):
            settlement_id = rebate_repository.settlement_of_run(rt, tenant_id, period, run)
            if settlement_id is None:
                break
            header = rebate_repository.find_settlement(rt, tenant_id, settlement_id)
            if header is None or header["status"] != SETTLED:
                continue
            statement = rebate_repository.statement(rt, tenant_id, settlement_id, partner_id)
            if statement is None or statement.get("status") == "withheld":
                continue
            for line in statement["lines"]:
                if line.get("period", period) in periods and line.get("program_id") in models:
                    incentive = rules.incentive_of(models[line["program_id"]])
                    paid[incentive] += Decimal(line["amount"])
    sums, _ = mdf_repository.ledger(rt, tenant_id, partner_id)
    paid["mdf"] = sums["paid"].get(quarter, ZERO)
    return paid


def record_finding(rt: Runtime, who: Principal, partner_id: str, audit_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Finance records an audited Quarter's finding: verified against paid."""
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    rule = _rule(tenant)
    stored = _load(rt, who, partner_id, audit_id)
    quarter, first, _ = rules.quarter_of(body)
    verified = rules.verified_of(body)
    now = rt.clock.now_iso()
    paid = paid_in_quarter(rt, who.tenant_id, partner_id, quarter, first)
    found = rules.finding(rule, quarter, paid, verified, at=now, by=who.actor)
    audit = rules.with_finding(stored.data, found, instant(now).date())
    changes = Changes(puts=[_audit_put(audit, stored)])
    inputs = {k: found[k] for k in ("quarter", "paid", "verified", "overpaid", "overpaid_percent", "repayable")}
    changes.audit.append(_entry(tenant, who, rule, "partner_audit.finding_recorded", audit,
                                {**inputs, "overpaid_above_percent": audit["overpaid_above_percent"]}))  # fmt: skip
    rt.commit(who.tenant_id, changes)
    return audit


def close(rt: Runtime, who: Principal, partner_id: str, audit_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Finance closes the audit with its cost; a repayment due opens its approval (a second finance member)."""
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    rule = _rule(tenant)
    stored = _load(rt, who, partner_id, audit_id)
    now = rt.clock.now_iso()
    audit = rules.closed(rule, stored.data, body, at=now, by=who.actor)
    changes = Changes()
    if audit["repayment"] is not None:
        repayment = {
            "repayment_id": rt.ids.new("arp"),
            "audit_id": audit_id,
            "partner_id": partner_id,
            "currency": tenant.currency,
            **audit["repayment"],
            "status": "pending_approval",
            "prepared_by": who.actor,
            "prepared_at": now,
            **rule.rule.as_dict(),
            "decision": None,
        }
        ask = approval_requests.Ask(
            rule.repayment_category, "audit_repayment", repayment["repayment_id"], rule.rule,
            f"audit {audit_id} found {partner_id} overpaid by more than {audit['overpaid_above_percent']}% in "
            f"{', '.join(repayment['quarters'])}: repayment of {repayment['overpayment']} and the audit's cost of "
            f"{repayment['audit_cost']} ({tenant.currency} {repayment['total']}), issued once another finance member "
            f"approves it", partner_id, EFFECT,
            {k: repayment[k] for k in ("audit_id", "overpayment", "audit_cost", "total")},
        )  # fmt: skip
        inputs = {k: repayment[k] for k in ("audit_id", "partner_id", "overpayment", "audit_cost", "total", "quarters")}
        changes = approval_requests.open_request(rt, tenant, who, repayment, ask, action="audit_repayment.prepared",
                                                 inputs=inputs)  # fmt: skip
        changes.puts.append(_repayment_put(repayment, None))
        audit["repayment"] = {**audit["repayment"], "repayment_id": repayment["repayment_id"],
                              "approval_id": repayment["approval_id"], "status": repayment["status"]}  # fmt: skip
    changes.puts.insert(0, _audit_put(audit, stored))
    inputs = {"audit_cost": audit["audit_cost"], "cost_borne_by": audit["cost_borne_by"],
              "repayment": audit["repayment"]}  # fmt: skip
    changes.audit.insert(0, _entry(tenant, who, rule, "partner_audit.closed", audit, inputs))
    rt.commit(who.tenant_id, changes)
    return audit


def _repayment_put(repayment: dict[str, Any], version: int | None) -> Put:
    meanwhile = f"repayment {repayment['repayment_id']} changed meanwhile; read it again"
    return put_over(REPAYMENTS, repayment["repayment_id"], repayment, version, conflict_detail=meanwhile)


def get_repayment(rt: Runtime, who: Principal, repayment_id: str) -> dict[str, Any]:
    """A repayment with its decision (a partner key: its own; staff names are staff-only)."""
    found = approval_requests.visible_request(rt, who, REPAYMENTS, repayment_id, "repayment")
    if who.role is not Role.PARTNER:
        return found
    return {k: v for k, v in found.items() if k != "prepared_by"} | {
        "decision": {k: v for k, v in (found["decision"] or {}).items() if k != "by"} or None
    }


def _refuse_finding_recorder(rt: Runtime, tenant: Tenant, rule: rules.AuditRule, audit: dict[str, Any],
                             who: Principal) -> None:  # fmt: skip
    """SOP-4.3 / COP-4.3: whoever "created or last changed" a rebate adjustment may not approve it. The repayment's
    overpayment is what the findings' verified amounts make it, so a member who recorded one (or a key such a member
    minted after recording it, services/key_lineage.py) does not approve it; the closer is the case's requester."""
    recorders = {f["recorded_by"]: f["recorded_at"] for f in audit["findings"] if f.get("recorded_by")}
    if not recorders:
        return
    held_by = key_lineage.holders(rt, tenant.tenant_id, who.key_id, since=min(recorders.values()))
    if who.actor in recorders or held_by & {actor.partition(":")[2] for actor in recorders}:
        segregation = tenant.policy["exception_routing"].get("segregation_of_duties") or rule.rule.as_dict()
        clause = segregation.get("clause", rule.rule.clause)
        raise Forbidden(
            f"segregation of duties: {who.actor} recorded a finding of audit {audit['audit_id']}, whose verified "
            f"amounts set this repayment, and cannot approve it ({clause})",
            extra={"refusal": SELF_APPROVAL, "rule_id": segregation.get("id", rule.rule.rule_id), "clause": clause},
        )


def apply_decision(rt: Runtime, case: dict[str, Any], who: Principal) -> Changes:
    """The repayment's approval was decided: approved, it is issued (the ERP books the debit note) and the audit says
    so; rejected, nothing is charged. Effect of `partner_audit.repayment` (runtime.Registry.effects)."""
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    rule = _rule(tenant)
    stored = approval_requests.decided_request(rt, who.tenant_id, REPAYMENTS, case, "repayment")
    issued = case["status"] == "approved"
    decision = {"outcome": case["status"], "by": who.actor, "at": case["decision"]["at"],
                "note": case["decision"].get("note"), "approval_id": case["case_id"]}  # fmt: skip
    repayment = {**stored.data, "status": "issued" if issued else "rejected", "decision": decision}
    audit_read = rt.store.get(who.tenant_id, AUDITS, _key(repayment["partner_id"], repayment["audit_id"]))
    if audit_read is None:  # pragma: no cover - written before the repayment
        raise NotFound(f"no audit {repayment['audit_id']}")
    if issued:
        _refuse_finding_recorder(rt, tenant, rule, audit_read.data, who)
    audit = {**audit_read.data, "repayment": {**audit_read.data["repayment"], "status": repayment["status"]}}
    changes = Changes(puts=[_repayment_put(repayment, stored.version), _audit_put(audit, audit_read)])
    if issued:
        event = {k: repayment[k] for k in ("repayment_id", "audit_id", "partner_id", "currency", "overpayment",
                                           "audit_cost", "total", "quarters", "rule_id", "clause")}  # fmt: skip
        changes.events.append(DomainEvent(SOURCE, "partner_audit.repayment_issued", event))
    inputs = {k: repayment[k] for k in ("audit_id", "partner_id", "total")} | {"note": decision["note"]}
    changes.audit.append(approval_requests.cited(who, f"audit_repayment.{repayment['status']}",
                                                 repayment["repayment_id"], repayment["status"], inputs=inputs,
                                                 tenant=tenant, rules=[rule.rule]))  # fmt: skip
    return changes
