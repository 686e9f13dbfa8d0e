"""A Regional Reseller's declared territory, and whether an End Customer lies in it.

PA-2.6: "Quotes, orders and deal registrations for Customers whose billing address is outside the declared territory
are rejected unless Channel Operations approves a written territory exception for the specific opportunity before the
quote is issued." PA-5.1: a Partner may register an opportunity "only for a Customer within its territory where it is
a Regional Reseller". CPA-2.5: "Orders and opportunity registrations for End Customers established outside those
countries are rejected unless Channel Operations grants a written territory exception for the specific opportunity
before quoting."

A territory holds ISO 3166-1 country codes (`DE`) and ISO 3166-2 subdivision codes (`US-WA`), the pattern of a
partner's `terms.territory`. A customer located by a subdivision lies in a territory listing that subdivision or its
country; a customer located by a country alone lies only in a territory listing the whole country (a territory of
`US-WA` cannot tell whether a customer known only as `US` is in Washington)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

REGIONAL = "regional_reseller"


def bound(partner: Mapping[str, Any]) -> bool:
    """Only a Regional Reseller is limited to a territory (PA-2.1 / CPA-2.1)."""
    return partner.get("partner_type") == REGIONAL


def declared(partner: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(code) for code in (partner.get("terms") or {}).get("territory") or ())


def within(territory: tuple[str, ...], location: str) -> bool:
    """The location (a country or a subdivision code) is the territory's, or in a country the territory lists."""
    country = location.split("-", 1)[0]
    return location in territory or country in territory


def problem(rule: Mapping[str, Any], partner: Mapping[str, Any], location: str | None) -> dict[str, str] | None:
    """Why a registration for a customer at `location` is refused for this partner (None: it is not): a Regional
    Reseller's customer must be stated and lie in its declared territory."""
    if not bound(partner):
        return None
    territory = declared(partner)
    cite = {"rule_id": str(rule["id"]), "clause": str(rule["clause"])}
    exception = (f"; only a written territory exception from Channel Operations for the specific opportunity "
                 f"allows it ({rule['clause']})")
    if location is None:
        return {**cite, "message": "a Regional Reseller quotes and registers only for a customer within its declared "
                                   "territory (" + ", ".join(territory) + "): state customer.country, the country or "
                                   "subdivision code of the customer's location"}
    if within(territory, location):
        return None
    return {**cite, "message": f"the customer's location {location} is outside the partner's declared territory "
                               f"({', '.join(territory) or 'none declared'}){exception}"}
