"""Checks a tenant policy for what its schema cannot say: unique ids and ranks, known references, real clauses."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .billing.rating import rate_table_problems
from .billing.tax import tax_problems
from .equity_policy import declaration_problems
from .errors import FieldError


def rules(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object in the policy that carries both an `id` and a `clause`: a rule."""
    if isinstance(node, dict):
        if isinstance(node.get("id"), str) and isinstance(node.get("clause"), str):
            yield path, node
        for key, value in node.items():
            yield from rules(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from rules(value, f"{path}/{index}")


def rules_citing(policy: Mapping[str, Any], clause_ids: Iterable[str]) -> list[dict[str, str]]:
    """The policy's rules citing one of `clause_ids`, in the policy's order: the clause, the rule id and where the
    rule is (a JSON pointer under `/policy`)."""
    wanted = set(clause_ids)
    return [{"clause": rule["clause"], "rule_id": rule["id"], "path": path}
            for path, rule in rules(policy, "/policy") if rule["clause"] in wanted]  # fmt: skip


def cited_clause(policy: Mapping[str, Any], *path: str, default: str) -> str:
    """The clause the tenant's own rule at `path` cites (a refusal names the tenant's contract, never another
    tenant's: PA-7.9 is northwind's, CPA-7.9 contoso's), else `default`."""
    node: Any = policy
    for key in path:
        node = node.get(key) if isinstance(node, Mapping) else None
    return str(node["clause"]) if isinstance(node, Mapping) and node.get("clause") else default


def policy_problems(policy: dict[str, Any], clause_ids: set[str] | None = None,
                    clause_texts: Mapping[str, str] | None = None) -> list[FieldError]:  # fmt: skip
    """Consistency problems; with `clause_ids`, every cited clause must exist in the tenant's contracts; with
    `clause_texts` (clause id -> text), every figure of a rule must be written in the clause it cites."""
    from .clause_figures import figure_problems

    problems: list[FieldError] = figure_problems(policy, clause_texts) if clause_texts is not None else []
    seen: dict[str, str] = {}
    for path, rule in rules(policy, "/policy"):
        if rule["id"] in seen:
            problems.append(FieldError(path + "/id", f"rule id {rule['id']} is also used at {seen[rule['id']]}"))
        seen.setdefault(rule["id"], path)
        if clause_ids is not None and rule["clause"] not in clause_ids:
            problems.append(FieldError(path + "/clause", f"clause {rule['clause']} is not in the tenant's contracts"))
    tiers = policy.get("partner_tiers", [])
    ranks = [t.get("rank") for t in tiers]
    if len(set(ranks)) != len(ranks):
        problems.append(FieldError("/policy/partner_tiers", "tier ranks must be unique"))
    names = [t.get("tier") for t in tiers]
    if len(set(names)) != len(names):
        problems.append(FieldError("/policy/partner_tiers", "tier names must be unique"))
    known = {c.get("id") for c in policy.get("certifications", [])}
    for i, tier in enumerate(tiers):
        for cert in tier.get("requirements", {}).get("certifications", []):
            if cert not in known:
                problems.append(
                    FieldError(
                        f"/policy/partner_tiers/{i}/requirements/certifications", f"unknown certification {cert}"
                    )
                )
    problems += _credit_note_problems(policy) + tax_problems(policy) + rate_table_problems(policy)
    problems += declaration_problems(policy)
    from .catalog import price_list_problems
    from .partners import onboarding_problems
    from .rebates.policy import rebate_problems

    return problems + onboarding_problems(policy) + rebate_problems(policy) + price_list_problems(policy)


def _credit_note_problems(policy: dict[str, Any]) -> list[FieldError]:
    """A credit note above `approval_above` is approved by "a member of the finance queue" (SOP-2.5 / COP-2.4): its
    approval category must be routed, and to the finance queue (not to triage)."""
    notes = (policy.get("billing") or {}).get("credit_notes") or {}
    if notes.get("approval_above") is None:
        return []
    category = notes.get("approval_category", "credit_note_approval")
    route = ((policy.get("exception_routing") or {}).get("categories") or {}).get(category)
    if route is None:
        where, why = "/policy/billing/credit_notes/approval_category", f"{category} is not a routed category"
        return [FieldError(where, why)]
    if route.get("queue") != "finance":
        where = f"/policy/exception_routing/categories/{category}/queue"
        return [FieldError(where, f"a credit note above the limit is approved by finance, not {route.get('queue')}")]
    return []
