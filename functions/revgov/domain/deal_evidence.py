"""What a deal registration must show of the sales cycle (PA-5.1). Pure."""

from __future__ import annotations

from typing import Any

from .errors import FieldError, RuleViolation


def check_evidence(eligibility: dict[str, Any], customer: dict[str, Any]) -> None:
    """PA-5.1: the sales cycle is "evidenced by a named Customer contact, an estimated deal value and an expected close
    date": where the policy asks for it (`eligibility.requires_contact`), a registration without a named contact
    (absent, blank, or no letter or digit in it: invisible characters or punctuation name nobody) is refused (422
    naming /customer/contact). CPA-5.1 asks for none."""
    if eligibility.get("requires_contact") and not any(ch.isalnum() for ch in str(customer.get("contact") or "")):
        raise RuleViolation(
            f"a registration names the customer contact the partner is engaged with ({eligibility['clause']})",
            errors=[FieldError("/customer/contact", "a named customer contact is required")],
            extra={"rule_id": eligibility["id"], "clause": eligibility["clause"]},
        )
