"""What a deal registration must show: the sales cycle (PA-5.1), and a Regional Reseller's customer location
(PA-2.6 / CPA-2.5). Pure."""

from __future__ import annotations

from typing import Any

from .errors import FieldError, RuleViolation
from .partners import territory


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


def location_errors(rule: dict[str, Any] | None, partner: dict[str, Any], customer: dict[str, Any]) -> list[FieldError]:
    """PA-2.6 / CPA-2.5: a Regional Reseller's registrations are checked against its declared territory, so one of its
    registrations states where the customer is (`customer.country`: PA-2.6 its billing address, CPA-2.5 where it is
    established); without it the refusal names /customer/country. Other partner types: not asked."""
    if rule is None or not territory.bound(partner) or customer.get("country"):
        return []
    return [FieldError("/customer/country", "the customer's country or subdivision code is required")]
