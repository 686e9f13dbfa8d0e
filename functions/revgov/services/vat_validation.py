"""VAT validation results recorded by staff (CPA-2.3, CPA-7.8): the one module naming their collection.

Revgov does not reach the VIES system: finance (or channel operations, at admission) records each check it made, with
VIES's consultation reference (`POST /v1/partners/{partner_id}/vat-validations`). Each check is audited citing the
policy's `rebates.vat_validation` rule; a failed one opens a `vat_validation_failure` exception for finance (COP-4.1).
Settlement reads the latest check per partner (`latest_checks`) and withholds while it is invalid or older than the
Quarter's end (domain.vat_validation.withholds); billing holds new orders while it is invalid (`order_hold`,
services/billing/vat_hold.py) and invoices a cross-border EU partner under the reverse charge only while a valid check
is at most 30 days old on the issue day (`check_record`, services/billing/tax.py; COP-2.2).
A customer's checks (the buyer of the Distributor's direct invoice, PA-8.1 / CPA-8.1) are recorded the same way
(`POST /v1/customers/{customer_id}/vat-validations`, collection CUSTOMERVATVALIDATION) and read by the same treatment
of the direct invoice; they withhold nothing and hold no order (no clause asks it of a customer).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from ..domain import vat_validation as rules
from ..domain.access import Principal, Role
from ..domain.audit import AuditEntry
from ..domain.billing import tax as tax_rules
from ..domain.errors import NotFound, RuleViolation
from ..domain.rebates.lines import customer_key
from ..domain.rules import Rule
from ..domain.time import instant
from ..ports import Changes, DocumentStore
from ..runtime import Runtime
from . import cases, partner_repository, tenants
from .toolkit import put_over

CUSTOMER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # the ERP's customer id (erp-event.schema.json)

CHECKS = "VATVALIDATION"  # partner id -> {partner_id, latest, history}
CUSTOMER_CHECKS = "CUSTOMERVATVALIDATION"  # customer key (casefolded) -> {customer_id, latest, history}
FAILURE_CATEGORY = "vat_validation_failure"  # COP-4.1: routed to finance


def record_check(rt: Runtime, who: Principal, partner_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Record a VAT check of the partner made by `who` (audited; a failed one opens an exception for finance)."""
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    rule = rules.VatValidation.of(tenant.policy)
    if rule is None:
        raise RuleViolation("this tenant's policy has no VAT validation rule (rebates.vat_validation)")
    if not partner_repository.exists(rt.store, who.tenant_id, partner_id):
        raise NotFound(f"no partner {partner_id}")
    check = rules.check_of(body, instant(rt.clock.now_iso()), who.actor, rt.ids.new("req"))
    stored = rt.store.get(who.tenant_id, CHECKS, partner_id)
    record = rules.recorded(stored.data if stored else None, partner_id, check)
    meanwhile = f"a VAT check of {partner_id} was recorded meanwhile"
    changes = Changes(puts=[put_over(CHECKS, partner_id, record, stored, conflict_detail=meanwhile)])
    inputs = {k: check[k] for k in ("check_id", "result", "checked_at", "reference", "vat_number")}
    changes.audit.append(AuditEntry.by(who, "vat_validation.recorded", partner_id, check["result"], inputs=inputs,
                                       policy_version=tenant.policy_version, rule_ids=[rule.rule.rule_id],
                                       clauses=[rule.rule.clause]))  # fmt: skip
    if check["result"] == rules.INVALID and record["latest"] is check:
        day, reference = check["checked_at"][:10], check["reference"]
        message = f"VAT number of {partner_id} failed validation on {day} (VIES {reference})"
        reason = {**rule.rule.as_dict(), "message": message}
        _, opened = cases.open_case(rt, tenant.policy, kind="exception", category=FAILURE_CATEGORY,
                                    subject_kind="partner", subject_id=partner_id, requested_by=who,
                                    reasons=[reason], partner_id=partner_id,
                                    policy_version=tenant.policy_version)  # fmt: skip
        changes.merge(opened)
    rt.commit(who.tenant_id, changes)
    return record


def get_checks(rt: Runtime, who: Principal, partner_id: str) -> dict[str, Any]:
    """The partner's recorded checks (staff), latest first in `latest`."""
    stored = rt.store.get(who.tenant_id, CHECKS, partner_id)
    if stored is None:
        if not partner_repository.exists(rt.store, who.tenant_id, partner_id):
            raise NotFound(f"no partner {partner_id}")
        return {"partner_id": partner_id, "latest": None, "history": []}
    return stored.data


def latest_checks(rt: Runtime, tenant_id: str, partner_ids: list[str]) -> dict[str, dict[str, Any]]:
    """partner -> its latest recorded check, for the partners that have one."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(partner_ids), 100):
        refs = [(tenant_id, CHECKS, pid) for pid in partner_ids[start : start + 100]]
        for (_, _, pid), stored in rt.store.get_many(refs).items():
            if stored.data.get("latest"):
                found[pid] = stored.data["latest"]
    return found


def check_record(store: DocumentStore, tenant_id: str, partner_id: str) -> dict[str, Any] | None:
    """The partner's recorded checks `{partner_id, latest, history}`, or None: none recorded (billing's VAT
    treatment, services/billing/tax.py)."""
    stored = store.get(tenant_id, CHECKS, partner_id)
    return stored.data if stored else None


def order_hold(
    store: DocumentStore, tenant_id: str, policy: dict[str, Any], partner_id: str, ordered_on: date
) -> tuple[str, Rule] | None:
    """Why an order of the partner dated `ordered_on` is held, and the rule (CPA-2.3: "A failed VAT validation
    suspends new orders until it is resolved"): its latest check failed on or before that day. None: not held."""
    rule = rules.VatValidation.of(policy)
    if rule is None or rule.order_rule is None:
        return None
    latest = (check_record(store, tenant_id, partner_id) or {}).get("latest")
    if latest is None or not rules.failed(latest) or ordered_on < date.fromisoformat(latest["checked_at"][:10]):
        return None
    cited = rule.order_rule
    why = f"its VAT number failed validation on {latest['checked_at'][:10]} ({cited.rule_id}, {cited.clause})"
    return why, cited


# --- a customer's checks: the buyer of the Distributor's direct invoice (PA-8.1 / CPA-8.1) ----------------------------
def stored_customer_key(customer_id: str) -> str | None:
    """The key a customer's tax records are stored under: the ERP's customer id "compared case-insensitively"
    (schemas/events/erp-event.schema.json), case-folded as rebates compare it; None for an id of another form."""
    return customer_key(customer_id) if CUSTOMER_ID.fullmatch(customer_id) else None


def customer_record_key(customer_id: str) -> str:
    """`stored_customer_key` for a route: an id of another form is a customer no one has (404)."""
    key = stored_customer_key(customer_id)
    if key is None:
        raise NotFound(f"no customer {customer_id}")
    return key


def record_customer_check(rt: Runtime, who: Principal, customer_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Record a VIES check of a customer's VAT number made by `who` (finance, channel operations): the Distributor's
    direct invoices to it are treated under the rules the partner's own invoices follow (COP-2.2, CPA-2.3), read with
    this check (services/billing/tax.py). Audited citing the tax policy's validation rule."""
    key = customer_record_key(customer_id)
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    tax = tax_rules.TaxPolicy.of(tenant.policy)
    if tax is None or tax.validation is None:
        raise RuleViolation("this tenant's invoices are not under VAT (policy.billing.tax): a VIES check decides "
                            "nothing here")  # fmt: skip
    check = rules.check_of(body, instant(rt.clock.now_iso()), who.actor, rt.ids.new("req"))
    stored = rt.store.get(who.tenant_id, CUSTOMER_CHECKS, key)
    record = rules.recorded(stored.data if stored else None, customer_id, check, subject="customer_id")
    meanwhile = f"a VAT check of customer {customer_id} was recorded meanwhile"
    changes = Changes(puts=[put_over(CUSTOMER_CHECKS, key, record, stored, conflict_detail=meanwhile)])
    inputs = {k: check[k] for k in ("check_id", "result", "checked_at", "reference", "vat_number")}
    changes.audit.append(AuditEntry.by(who, "customer_vat_validation.recorded", customer_id, check["result"],
                                       inputs=inputs, policy_version=tenant.policy_version,
                                       rule_ids=[tax.validation.rule_id], clauses=[tax.validation.clause]))  # fmt: skip
    rt.commit(who.tenant_id, changes)
    return record


def get_customer_checks(rt: Runtime, who: Principal, customer_id: str) -> dict[str, Any]:
    """A customer's recorded checks (staff only: a partner never reads a customer's tax record). A customer is not a
    Revgov object: with no check recorded there is nothing to read (404, as for any name that holds nothing)."""
    if who.role is Role.PARTNER:
        raise NotFound(f"no customer {customer_id}")
    stored = rt.store.get(who.tenant_id, CUSTOMER_CHECKS, customer_record_key(customer_id))
    if stored is None:
        raise NotFound(f"no VIES check is recorded for customer {customer_id}")
    return stored.data


def customer_check_record(store: DocumentStore, tenant_id: str, customer_id: str) -> dict[str, Any] | None:
    """The customer's recorded checks `{customer_id, latest, history}`, or None (billing's VAT treatment of a direct
    invoice, services/billing/tax.py)."""
    key = stored_customer_key(customer_id)
    stored = store.get(tenant_id, CUSTOMER_CHECKS, key) if key else None
    return stored.data if stored else None
