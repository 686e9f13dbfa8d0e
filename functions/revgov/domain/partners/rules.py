"""The onboarding policy as partners read it: lookups into `policy.onboarding`, `policy.partner_tiers`,
`policy.certifications` and `pricing.payment_terms`, the rule reference every answer cites, and the consistency check
of the references `policy.onboarding` makes (what the schema cannot say)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import FieldError, RuleViolation


def onboarding(policy: Mapping[str, Any]) -> dict[str, Any]:
    """`policy.onboarding`; a tenant without it cannot onboard partners."""
    found = policy.get("onboarding")
    if not isinstance(found, dict):
        raise RuleViolation("this tenant's policy has no onboarding rules, so it cannot onboard partners")
    return found


def rule_ref(rule: Mapping[str, Any], message: str) -> dict[str, Any]:
    return {"rule_id": rule["id"], "clause": rule["clause"], "message": message}


def tiers_by_rank(policy: Mapping[str, Any]) -> list[dict[str, Any]]:
    return sorted(policy.get("partner_tiers", []), key=lambda t: int(t["rank"]))


def tier(policy: Mapping[str, Any], name: str | None) -> dict[str, Any] | None:
    return next((t for t in policy.get("partner_tiers", []) if t["tier"] == name), None)


def certification(policy: Mapping[str, Any], cert_id: str) -> dict[str, Any] | None:
    return next((c for c in policy.get("certifications", []) if c["id"] == cert_id), None)


def certification_families(policy: Mapping[str, Any]) -> dict[str, str]:
    """Certification id → the product family it certifies."""
    return {c["id"]: c["product_family"] for c in policy.get("certifications", [])}


def required_documents(policy: Mapping[str, Any], partner_type: str) -> dict[str, dict[str, Any]]:
    """Document type → the requirement (every partner's, or the partner type's) that asks for it."""
    rules = onboarding(policy)
    baseline = rules["all_partners"]
    type_rule = rules["partner_types"].get(partner_type, {})
    required = {name: baseline for name in baseline.get("documents", [])}
    required.update({name: type_rule for name in type_rule.get("documents", []) if name not in required})
    return required


def exemption_document(policy: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The document a partner claiming exemption from sales tax files, any partner type, and the rule asking for it
    (`billing.tax.exemption`, PA-10.1: "a Partner claiming exemption must have a valid certificate on file"): one per
    jurisdiction, never an onboarding gap (PA-2.3(b): "where applicable"). None: the policy takes none."""
    node = ((policy.get("billing") or {}).get("tax") or {}).get("exemption")
    return (str(node["document_type"]), dict(node)) if node else None


def accepted_documents(policy: Mapping[str, Any], partner_type: str) -> dict[str, dict[str, Any]]:
    """Document type → the rule under which the partner may file it: the required ones, and an exemption
    certificate where the tax policy takes one."""
    accepted = required_documents(policy, partner_type)
    exemption = exemption_document(policy)
    if exemption is not None and exemption[0] not in accepted:
        accepted[exemption[0]] = exemption[1]
    return accepted


def document_key(policy: Mapping[str, Any], document: Mapping[str, Any]) -> str:
    """Where a filed document is kept on the partner: its type, or `type:jurisdiction` for an exemption certificate
    (one per jurisdiction; filing the same jurisdiction again renews it)."""
    exemption = exemption_document(policy)
    kind = str(document["document_type"])
    if exemption is not None and kind == exemption[0] and document.get("jurisdiction"):
        return f"{kind}:{document['jurisdiction']}"
    return kind


def required_terms(policy: Mapping[str, Any], partner_type: str) -> dict[str, dict[str, Any]]:
    """Commercial term → the rule that requires it (every partner's, or the partner type's)."""
    rules = onboarding(policy)
    required = {rule["term"]: rule for rule in rules.get("required_terms", [])}
    type_rule = rules["partner_types"].get(partner_type, {})
    required.update({term: type_rule for term in type_rule.get("terms", []) if term not in required})
    return required


def payment_terms(policy: Mapping[str, Any]) -> dict[str, Any] | None:
    """The standard payment terms are pricing policy (`pricing.payment_terms`); onboarding reads, never repeats them."""
    terms = policy.get("pricing", {}).get("payment_terms")
    return terms if isinstance(terms, dict) else None


def entitlement_names(policy: Mapping[str, Any]) -> list[str]:
    return sorted({name for tier in policy.get("partner_tiers", []) for name in tier["entitlements"]})


def onboarding_problems(policy: Mapping[str, Any]) -> list[FieldError]:
    """What the schema cannot say about `policy.onboarding`: every reference it makes must resolve."""
    rules = policy.get("onboarding")
    if not isinstance(rules, dict):
        return []
    problems: list[FieldError] = []
    documents = set(rules.get("document_types", {}))
    base = "/policy/onboarding"

    def unknown(path: str, names: Iterable[str], known: set[str], what: str) -> None:
        problems.extend(FieldError(path, f"unknown {what} {n}") for n in names if n not in known)

    unknown(f"{base}/all_partners/documents", rules["all_partners"].get("documents", []), documents, "document")
    for name, rule in rules.get("partner_types", {}).items():
        unknown(f"{base}/partner_types/{name}/documents", rule.get("documents", []), documents, "document")
    categories = set(policy.get("exception_routing", {}).get("categories", {}))
    for name in ("activation_approval", "nonstandard_terms_approval"):
        unknown(f"{base}/{name}/category", [rules[name]["category"]], categories, "exception_routing category")
    names = set(entitlement_names(policy))
    unknown(f"{base}/suspension/withholds", rules["suspension"].get("withholds", []), names, "entitlement")
    watched = (rules.get("insurance_lapse") or {}).get("documents", [])
    unknown(f"{base}/insurance_lapse/documents", watched, documents, "document")
    for n, minimum in enumerate(rules.get("insurance_minimums", [])):
        unknown(f"{base}/insurance_minimums/{n}/document", [minimum["document"]], documents, "document")
    if screening := rules.get("screening"):  # PA-2.8 / CPA-2.8: the screening's document and Legal's category
        unknown(f"{base}/screening/document_type", [screening["document_type"]], documents, "document")
        unknown(f"{base}/screening/category", [screening["category"]], categories, "exception_routing category")
    return problems
