"""An entitlement answer in words (premium onboarding, managed support, …): held or not on a day, the tier that
decides it, the rule and clause (PA-9.x / CPA-9.x), the reason the entitlement rules gave, the clause quoted.

Input is the answer of `GET /v1/partners/{id}/entitlements/{name}` (domain/partners/entitlements.py); nothing is
added that the answer does not hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .copilot import Passage
from .explain import assemble


def explain_entitlement(answer: Mapping[str, Any], name: str, clauses: Mapping[str, Passage]) -> dict[str, Any]:
    held = bool(answer.get("entitled"))
    effective = answer.get("effective_tier")
    summary = (
        f"Partner {answer.get('partner_id')} {'is' if held else 'is not'} entitled to {name} as of "
        f"{answer.get('as_of')}: tier {answer.get('tier') or 'none held'}, effective tier "
        f"{effective if effective is not None else 'none (not in standing or no tier requirement met)'}"
        + (f", value {answer.get('value')}" if held else "")
        + f", under policy version {answer.get('policy_version')}."
    )
    reasons: list[Mapping[str, Any]] = [{"rule_id": answer.get("rule_id"), "clause": answer.get("clause"),
                "message": str(answer.get("reason") or "")}] if answer.get("rule_id") or answer.get("clause") else []
    return assemble(summary, [], reasons, clauses)
