"""Is partner X entitled to premium onboarding / managed support? The entitlement answer (tier held on the day,
certifications counting, suspension) explained with the clause it rests on, quoted; audited as `copilot.explained`.
A partner key reads only its own partner (else 404)."""

from __future__ import annotations

from typing import Any, NamedTuple

from ..domain import copilot as core
from ..domain import partners as partner_rules
from ..domain.access import Principal
from ..domain.audit import AuditEntry
from ..domain.errors import NotFound
from ..domain.explain_entitlements import explain_entitlement as words
from ..domain.time import parse_instant
from ..runtime import Runtime
from . import partners
from .policy_drafts import repository as policy_repository
from .tenants import load_tenant, policy_at


class Explained(NamedTuple):
    answer: dict[str, Any]
    explained: dict[str, Any]
    wanted: list[str]


def _as_of(rt: Runtime, tenant_id: str, partner_id: str, name: str, at_iso: str) -> dict[str, Any]:
    """The entitlement as it held at `at_iso`: the partner's status then (its history: none before approval, PA-13.1
    "This Agreement starts on the date the Partner is approved"), under the policy version in force then."""
    partner, _ = partners.load_partner(rt, tenant_id, partner_id)
    tenant, _ = load_tenant(rt, tenant_id)
    version = policy_repository.version_in_force(rt, tenant_id, at_iso, tenant.policy_version)
    policy = tenant.policy if version == tenant.policy_version else policy_at(rt, tenant_id, version)
    return {"partner_id": partner_id, **partner_rules.entitlement(policy, partner, name, at_iso),
            "policy_version": version}


def explained(rt: Runtime, tenant_id: str, partner_id: str, name: str, at_iso: str) -> Explained:
    """The entitlement at `at_iso`, its explanation in words with the clause quoted, and the clause ids looked up;
    nothing audited (the caller audits what it answers: `explain_entitlement` below, the copilot's own-data answers)."""
    answer = _as_of(rt, tenant_id, partner_id, name, at_iso)
    wanted = [str(answer["clause"])] if answer.get("clause") else []
    scope = core.Scope(tenant_id, partner_id)
    passages = rt.clause_index.get(scope, wanted) if rt.clause_index is not None and wanted else []
    return Explained(answer, words(answer, name, {p.clause_id: p for p in passages}), wanted)


def explain_entitlement(rt: Runtime, who: Principal, partner_id: str, name: str, at_iso: str) -> dict[str, Any]:
    if not who.sees_partner(partner_id):
        raise NotFound(f"no partner {partner_id}")
    parse_instant(at_iso, field_path="/query/at")  # a bad day is a 400 naming the query parameter
    answer, said, wanted = explained(rt, who.tenant_id, partner_id, name, at_iso)
    rt.audit_only(
        who.tenant_id,
        AuditEntry.by(
            who,
            "copilot.explained",
            f"{partner_id}#{name}",
            "explained",
            inputs={"partner_id": partner_id, "entitlement": name, "at": at_iso,
                    "explanation": core.mask_sensitive(said["explanation"])},
            policy_version=answer.get("policy_version"),
            rule_ids=tuple(str(r["rule_id"]) for r in said["reasons"] if r.get("rule_id")),
            clauses=tuple(dict.fromkeys(c["clause"] for c in said["citations"])),
            sources=tuple(wanted),
        ),
    )
    return {"name": name, **{k: answer.get(k) for k in ("partner_id", "as_of", "entitled", "value", "tier",
                                                           "effective_tier", "policy_version")}, **said}
