"""Contract acceptance: each clause that carries a rule of a demo tenant, checked against the clause's own words.

Every expectation below is written from the quoted clause text (tenants/*/contracts/), never from the code's output;
`test_every_quote_is_the_contract_text` proves each quote is verbatim in its contract. The meta-test at the end lists
every clause cited by a rule of either demo tenant and asks for an acceptance test of it here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from revgov.domain import (
    cases,
    deal_extensions,
    deals,
    escalation,
    invoice_dispute_deadlines,
    quote_validity,
    sla_pause,
    subscription_renewals,
)
from revgov.domain import partners as partner_rules
from revgov.domain.access import Principal, Role
from revgov.domain.audit import GENESIS, AuditEntry, seal, verify
from revgov.domain.audit_view import partner_view
from revgov.domain.billing import BillingPolicy, billed_in
from revgov.domain.billing import overdue as overdue_core
from revgov.domain.billing import tax as tax_core
from revgov.domain.calendar import BusinessCalendar
from revgov.domain.catalog import policy_catalog
from revgov.domain.errors import Forbidden, RuleViolation
from revgov.domain.rebates import settlement_run
from revgov.domain.rebates.engine import rate_period
from revgov.domain.rebates.ledger import SalesLedger
from revgov.domain.rebates.lines import rebate_line
from revgov.domain.rebates.policy import PartnerFacts, Period, compile_rebates
from revgov.domain.rebates.windows import FirstInvoiceWindow, ReferralAcceptance
from revgov.domain.rules import Rule
from revgov.services.catalog import price_lines
from revgov.tenant_files import load_tenant_file

ROOT = Path(__file__).resolve().parents[2]
POLICY = {t: load_tenant_file(ROOT / "tenants" / t / "tenant.yaml")["policy"] for t in ("northwind", "contoso")}
CONTRACTS = {t: " ".join(p.read_text() for p in (ROOT / "tenants" / t / "contracts").glob("*.md")) for t in POLICY}
NW, CT = POLICY["northwind"], POLICY["contoso"]
Check = Callable[[], None]
ACCEPTANCE: dict[tuple[str, str], tuple[str, Check]] = {}


def clause(tenant: str, ref: str, quote: str) -> Callable[[Check], Check]:
    """Register `check` as the acceptance test of `ref` in `tenant`, with the clause text it is written from."""

    def register(check: Check) -> Check:
        ACCEPTANCE[(tenant, ref)] = (quote, check)
        return check

    return register


def tier(policy: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in policy["partner_tiers"] if t["tier"] == name)


def ent(policy: dict[str, Any], name: str, entitlement: str) -> Any:
    return tier(policy, name)["entitlements"][entitlement]["value"]


def route(policy: dict[str, Any], category: str) -> dict[str, Any]:
    return dict(policy["exception_routing"]["categories"][category])


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def partner(certs: dict[str, tuple[str, str]], tier_name: str = "silver") -> dict[str, Any]:
    return {
        "partner_id": "ptr_X",
        "tier": tier_name,
        "status": "active",
        "certifications": {
            cid: {"certification_id": cid, "earned_at": earned, "expires_at": expires}
            for cid, (earned, expires) in certs.items()
        },
    }


# --- business days and SLAs ------------------------------------------------------------------------------------------
@clause(
    "northwind",
    "PA-1.3",
    '"Business day" means Monday to Friday excluding public holidays published in the '
    "Partner Portal for the Program Year.",
)
def _pa_1_3() -> None:
    calendar = BusinessCalendar.from_policy(NW)
    assert calendar.is_business_day(date(2026, 11, 30))  # a Monday
    assert not calendar.is_business_day(date(2026, 11, 28)) and not calendar.is_business_day(date(2026, 11, 29))
    assert not calendar.is_business_day(date(2026, 11, 26))  # Thanksgiving 2026, a published holiday
    assert NW["calendar"]["clause"] == "PA-1.3"
    # one list "for the Program Year", whatever the partner's country (unlike CPA-1.3)
    assert "holidays_by_country" not in NW["calendar"]
    assert BusinessCalendar.from_policy(NW, "IE").holidays == calendar.holidays


@clause(
    "contoso",
    "CPA-1.3",
    '"Business day" means Monday to Friday excluding the public holidays listed in the Partner Portal for the '
    "Partner's country of establishment.",
)
def _cpa_1_3() -> None:
    calendar = BusinessCalendar.from_policy(CT)
    assert not calendar.is_business_day(date(2026, 12, 25)) and calendar.is_business_day(date(2026, 12, 28))
    assert not calendar.is_business_day(date(2026, 12, 27))  # a Sunday
    # "for the Partner's country of establishment": each partner's own country's public holidays
    ireland, germany = BusinessCalendar.from_policy(CT, "IE"), BusinessCalendar.from_policy(CT, "DE")
    assert not ireland.is_business_day(date(2026, 3, 17)) and germany.is_business_day(date(2026, 3, 17))  # St Patrick
    assert germany.is_business_day(date(2026, 10, 26))  # Austria's national day is not Germany's
    assert not BusinessCalendar.from_policy(CT, "AT").is_business_day(date(2026, 10, 26))
    assert not germany.is_business_day(date(2026, 5, 14)) and calendar.is_business_day(date(2026, 5, 14))  # Ascension
    review = cases.route_for(CT, "deal_registration_review", "IE")  # CPA-5.1: 3 business days
    assert review.due("2026-03-16T10:00:00.000Z") == "2026-03-20T10:00:00.000Z"
    assert cases.route_for(CT, "deal_registration_review", "DE").due("2026-03-16T10:00:00.000Z") == (
        "2026-03-19T10:00:00.000Z"
    )


def _type_sets_onboarding_and_tier_sets_the_rest(policy: dict[str, Any], clause: str) -> None:
    types = policy["onboarding"]["partner_types"]
    # "The partner type determines onboarding requirements": each type names its own documents, citing its clause
    assert len({tuple(t["documents"]) + tuple(t["terms"]) for t in types.values()}) >= 3
    # "... the partner tier ... determines pricing, rebates and entitlements": no pricing, rebate or entitlement rule
    # is keyed by partner type
    for section in ("pricing", "rebates", "partner_tiers"):
        assert "partner_type" not in repr(policy.get(section)), section
    # so a partner type faring worse than its tier peers on any outcome is what the equity monitor tests for findings
    declared = policy["equity"]["comparisons"]
    assert declared["clause"] == clause
    family = {d["dimension"]: set(d["measures"]) for d in declared["family"]}
    assert family["partner_type"] == {
        "approval_rate", "discount_to_cap", "exception_rate", "time_to_decision", "disputes_upheld"
    }


@clause(
    "northwind",
    "PA-2.1",
    "The program recognises four partner types. … The partner type determines onboarding requirements; the "
    "partner tier under Section 3 determines pricing, rebates and entitlements.",
)
def _pa_2_1() -> None:
    assert set(NW["onboarding"]["partner_types"]) == {"reseller", "msp", "implementation_partner", "regional_reseller"}
    _type_sets_onboarding_and_tier_sets_the_rest(NW, "PA-2.1")


@clause(
    "contoso",
    "CPA-2.1",
    "Contoso admits Partners in four categories … The category determines admission requirements; the program "
    "tier under Section 3 determines discounts, rebates and entitlements.",
)
def _cpa_2_1() -> None:
    assert len(CT["onboarding"]["partner_types"]) == 4
    _type_sets_onboarding_and_tier_sets_the_rest(CT, "CPA-2.1")


@clause("northwind", "PA-5.2", "Channel Operations approves or rejects a registration within 2 business days.")
def _pa_5_2() -> None:
    review = cases.route_for(NW, "deal_registration_review")
    assert review.queue == "channel_ops"
    # submitted Friday 2026-11-20 10:00: Monday and Tuesday are the two business days
    assert review.due("2026-11-20T10:00:00.000Z") == "2026-11-24T10:00:00.000Z"
    # submitted Wednesday 2026-11-25: Thanksgiving (26th) and the weekend do not count
    assert review.due("2026-11-25T09:00:00.000Z") == "2026-11-30T09:00:00.000Z"


@clause(
    "contoso",
    "CPA-5.1",
    "Partners of all tiers may register opportunities through the Partner Portal, for a "
    "Product Family in which they hold a valid certification, or, for Authorized Partners, for the collaboration "
    "and devices Product Families without certification. … an expected close date within 120 days.",
)
def _cpa_5_1() -> None:
    eligibility = CT["deal_registration"]["eligibility"]
    assert all(ent(CT, t["tier"], "deal_registration") is True for t in CT["partner_tiers"])
    assert deals.certification_exempt(eligibility, "devices", "authorized")
    assert deals.certification_exempt(eligibility, "collaboration", "authorized")
    assert not deals.certification_exempt(eligibility, "devices", "advanced")  # the exemption is Authorized only
    assert not deals.certification_exempt(eligibility, "security", "authorized")
    deals.check_dates("2027-03-01", "2026-11-01T10:00:00.000Z", eligibility["max_close_days"])  # 120 days
    with pytest.raises(RuleViolation):
        deals.check_dates("2027-03-02", "2026-11-01T10:00:00.000Z", eligibility["max_close_days"])  # 121 days
    # "Channel Operations decides within 3 business days": Friday 2026-12-04 -> Wednesday 2026-12-09
    review = cases.route_for(CT, "deal_registration_review")
    assert review.queue == "channel_ops" and review.due("2026-12-04T15:00:00.000Z") == "2026-12-09T15:00:00.000Z"


@clause(
    "northwind",
    "PA-2.9",
    "The Distributor decides on a complete application within 10 business days of "
    "receiving the last required document.",
)
def _pa_2_9() -> None:
    activation = cases.route_for(NW, "partner_activation")
    assert activation.queue == "channel_ops"
    assert activation.due("2026-12-01T12:00:00.000Z") == "2026-12-15T12:00:00.000Z"  # two working weeks
    assert NW["onboarding"]["activation_approval"]["category"] == "partner_activation"


@clause(
    "contoso", "CPA-2.9", "Contoso decides on a complete admission file within 15 business days of the last document."
)
def _cpa_2_9() -> None:
    activation = cases.route_for(CT, "partner_activation")
    # Tuesday 2026-12-15 + 15 business days: 16-18, 21-24, 28-31 Dec (25 Dec a holiday), 4-7 Jan (1 Jan a holiday)
    assert activation.due("2026-12-15T12:00:00.000Z") == "2027-01-07T12:00:00.000Z"


# --- certification (PA-3.2, PA-4.3 / CPA-3.2, CPA-4.3) ------------------------------------------------------------
@clause(
    "northwind",
    "PA-3.2",
    "The Registered tier has no annual commitment (USD 0.00) and requires no "
    "certification. Registered Partners may quote and order Products at the Registered discount caps",
)
def _pa_3_2() -> None:
    registered = tier(NW, "registered")
    assert registered["requirements"] == {"annual_commitment": "0.00", "certifications": []}
    nobody = partner({}, "registered")
    assert partner_rules.barred_families(NW, nobody, date(2026, 11, 1)) == set()  # may quote every family
    assert ent(NW, "registered", "deal_registration") is False  # "not eligible for deal registration"
    assert ent(NW, "registered", "max_support_hours_per_quarter") == 10


@clause("contoso", "CPA-3.2", "The Authorized tier has no annual commitment (EUR 0.00) and requires no certification.")
def _cpa_3_2() -> None:
    assert tier(CT, "authorized")["requirements"] == {"annual_commitment": "0.00", "certifications": []}
    assert partner_rules.barred_families(CT, partner({}, "authorized"), date(2026, 11, 1)) == set()
    assert ent(CT, "authorized", "deal_registration") is True  # "may register opportunities"
    assert (
        ent(CT, "authorized", "sandbox_environments") == 1 and ent(CT, "authorized", "training_vouchers_per_year") == 2
    )


@clause(
    "northwind",
    "PA-4.3",
    "where the Partner holds no other valid certification in the same Product Family, the "
    "Partner may not quote, order or register deals for Products of that Product Family … (d) approved deal "
    "registrations in that Product Family are suspended, with the exclusivity period continuing to run, and they "
    "lapse if a valid certification is not recorded within 30 days after expiry.",
)
def _pa_4_3() -> None:
    lapsed = partner({"cert-security-pro": ("2024-01-10", "2026-01-09")})
    assert partner_rules.barred_families(NW, lapsed, date(2026, 1, 9)) == set()  # valid to 23:59:59 on the last day
    assert partner_rules.barred_families(NW, lapsed, date(2026, 1, 10)) == {"security"}
    both = partner({"cert-network-core": ("2024-01-10", "2026-01-09"), "cert-network-advanced": ("2025-06-01", None)})
    both["certifications"]["cert-network-advanced"]["expires_at"] = "2027-05-31"
    assert partner_rules.barred_families(NW, both, date(2026, 3, 1)) == set()  # another valid one in the family
    assert NW["pricing"]["certification_required"]["clause"] == "PA-4.3"
    # (d): a registration approved before the expiry (last valid day 2026-01-09) ...
    deal = _approved_registration("security", "2025-12-01T10:00:00.000Z", "2026-03-01T10:00:00.000Z")
    assert _hold(NW, lapsed, deal, "2026-01-09T23:59:59.000Z") is None  # still certified
    suspended = _hold(NW, lapsed, deal, "2026-01-10T00:00:00.000Z")
    assert suspended["status"] == "suspended" and suspended["clause"] == "PA-4.3"
    assert deals.protects(deal, suspended, "2026-01-10T00:00:00.000Z")  # "the exclusivity period continuing to run"
    assert deals.view(deal, "2026-01-10T00:00:00.000Z", suspended)["status"] == "suspended"
    # "lapse if a valid certification is not recorded within 30 days after expiry": expiry 2026-01-10T00:00
    assert _hold(NW, lapsed, deal, "2026-02-08T23:59:59.000Z")["status"] == "suspended"
    gone = _hold(NW, lapsed, deal, "2026-02-09T00:00:00.000Z")
    assert gone["status"] == "lapsed" and not deals.protects(deal, gone, "2026-02-09T00:00:00.000Z")
    renewed = partner({"cert-security-pro": ("2026-01-20", "2028-01-19")})  # recorded within the 30 days
    renewed["certifications"]["cert-security-pro"]["expiry_gaps"] = [
        {"expired_on": "2026-01-09", "recorded_again_at": "2026-01-20T08:00:00.000Z"}
    ]
    assert _hold(NW, renewed, deal, "2026-01-25T00:00:00.000Z") is None
    late = partner({"cert-security-pro": ("2026-02-10", "2028-02-09")})  # recorded on day 32: the lapse stands
    late["certifications"]["cert-security-pro"]["expiry_gaps"] = [
        {"expired_on": "2026-01-09", "recorded_again_at": "2026-02-10T08:00:00.000Z"}
    ]
    assert _hold(NW, late, deal, "2026-02-11T00:00:00.000Z")["status"] == "lapsed"
    other_family = _approved_registration("networking", "2025-12-01T10:00:00.000Z", "2026-03-01T10:00:00.000Z")
    assert _hold(NW, lapsed, other_family, "2026-01-20T00:00:00.000Z") is None  # only "in that Product Family"


@clause(
    "contoso",
    "CPA-4.3",
    "where the Partner has no other valid certification in that Product Family, it may not "
    "quote, order or register opportunities for Products of that Product Family … (d) protected opportunity "
    "registrations in that Product Family are frozen and lapse if no valid certification is recorded within 21 days.",
)
def _cpa_4_3() -> None:
    lapsed = partner({"cert-secops-analyst": ("2025-01-01", "2025-12-31")}, "advanced")
    assert partner_rules.barred_families(CT, lapsed, date(2026, 1, 1)) == {"security"}
    assert "devices" not in partner_rules.barred_families(CT, lapsed, date(2026, 1, 1))  # never held: not barred
    deal = _approved_registration("security", "2025-12-15T10:00:00.000Z", "2026-02-13T10:00:00.000Z")
    frozen = _hold(CT, lapsed, deal, "2026-01-01T00:00:00.000Z")
    assert frozen["status"] == "suspended" and frozen["clause"] == "CPA-4.3"
    assert _hold(CT, lapsed, deal, "2026-01-21T23:59:59.000Z")["status"] == "suspended"  # day 21 after expiry
    assert _hold(CT, lapsed, deal, "2026-01-22T00:00:00.000Z")["status"] == "lapsed"


# --- deal registration -------------------------------------------------------------------------------------------
def _approved_registration(family: str, approved_at: str, expires_at: str, **more: Any) -> dict[str, Any]:
    return {
        "deal_id": "dl_1",
        "partner_id": "ptr_X",
        "customer": {"id": "CUST-1"},
        "family": family,
        "status": "approved",
        "registered_at": approved_at,
        "approved_at": approved_at,
        "expires_at": expires_at,
        **more,
    }


def _hold(policy: dict[str, Any], holder: dict[str, Any], deal: dict[str, Any], now: str) -> Any:
    return deals.hold_on(policy, deal, holder, now)


def _pending(deal_id: str, partner_id: str, registered_at: str, status: str = "pending") -> dict[str, Any]:
    return {"deal_id": deal_id, "partner_id": partner_id, "family": "networking", "status": status,
            "registered_at": registered_at}


def _decided_in_order(policy: dict[str, Any], ref: str) -> None:
    first = _pending("dl_A", "ptr_A", "2026-11-02T09:00:00.000Z")
    second = _pending("dl_B", "ptr_B", "2026-11-02T09:05:00.000Z")
    own_earlier = _pending("dl_C", "ptr_B", "2026-11-02T09:02:00.000Z")  # B's own, between them
    assert deals.earlier_pending(second, [own_earlier, first, second]) == first  # another partner's, earlier
    assert deals.earlier_pending(first, [own_earlier, first, second]) is None  # the first submitted goes first
    decided = _pending("dl_A", "ptr_A", "2026-11-02T09:00:00.000Z", status="rejected")
    assert deals.earlier_pending(second, [decided, second]) is None  # once the earlier one is decided
    refused = deals.out_of_order(policy, first)
    assert refused.status == 409 and refused.extra["clause"] == ref and refused.extra["decide_first"] == "dl_A"
    assert refused.extra["refusal"] == "out_of_order"


@clause(
    "northwind",
    "PA-5.1",
    "Deal registration is an entitlement of the Silver, Gold and Platinum tiers. "
    "Registered tier Partners may not register deals. … an expected close date within 180 days.",
)
def _pa_5_1() -> None:
    assert {t["tier"]: ent(NW, t["tier"], "deal_registration") for t in NW["partner_tiers"]} == {
        "registered": False,
        "silver": True,
        "gold": True,
        "platinum": True,
    }
    eligibility = NW["deal_registration"]["eligibility"]
    assert not eligibility.get(
        "certification_exempt_families"
    )  # "only for a Product Family in which it holds a valid certification"
    problems = deals.eligibility_problems(
        NW, partner_status="active", entitled=True, certified=False, family="networking", tier="silver"
    )
    assert problems and problems[0]["clause"] == "PA-5.1"
    deals.check_dates("2027-04-30", "2026-11-01T10:00:00.000Z", eligibility["max_close_days"])  # 180 days
    with pytest.raises(RuleViolation):
        deals.check_dates("2027-05-01", "2026-11-01T10:00:00.000Z", eligibility["max_close_days"])  # 181 days


@clause(
    "northwind",
    "PA-5.3",
    "An approved registration gives the Partner exclusivity for the registered Customer "
    "and Product Family for 90 days from the approval date. … The Partner may request one extension of 30 days, "
    "before the period ends, where the opportunity has reached the proposal stage; Channel Operations decides on the "
    "extension within 2 business days.",
)
def _pa_5_3() -> None:
    approved = deals.decided({"deal_id": "dl_1", "status": "pending"}, "approved", "2026-11-01T10:00:00.000Z", NW)
    assert approved["expires_at"] == "2027-01-30T23:59:59.999Z"  # day 90, to its end (PA-1.3 "to 23:59:59 UTC")
    _one_extension(NW, "PA-5.3", approved, counts_refused=True)
    review = cases.route_for(NW, "deal_extension_review")  # "within 2 business days"
    assert review.queue == "channel_ops" and review.due("2026-11-20T10:00:00.000Z") == "2026-11-24T10:00:00.000Z"


def _one_extension(policy: dict[str, Any], ref: str, approved: dict[str, Any], *, counts_refused: bool) -> None:
    live = {**approved, "partner_id": "ptr_X", "customer": {"id": "C"}, "family": "networking"}
    before_end = "2026-12-01T00:00:00.000Z"
    assert deal_extensions.extension_problem(policy, live, None, before_end) is None
    ended = (at(approved["expires_at"]) + timedelta(milliseconds=1)).isoformat().replace("+00:00", "Z")
    after_end = deal_extensions.extension_problem(policy, live, None, ended)  # "before the period ends"
    assert after_end is not None and after_end.status == 422 and after_end.extra["clause"] == ref
    body = {"proposal_reference": "PROP-1", "proposal_date": "2026-11-30"}
    asked = deal_extensions.extension_requested(policy, live, body, approval_id="apr_1", at=before_end)
    again = deal_extensions.extension_problem(policy, asked, None, before_end)  # "one extension"
    assert again is not None and again.status == 409 and again.extra["clause"] == ref
    granted = deal_extensions.extension_decided(asked, "approved", "2026-12-02T00:00:00.000Z", None)
    assert (at(granted["expires_at"]) - at(approved["expires_at"])).days == 30  # "one extension of 30 days"
    assert deal_extensions.extension_problem(policy, granted, None, before_end) is not None
    refused = deal_extensions.extension_decided(asked, "rejected", "2026-12-02T00:00:00.000Z", "no proposal seen")
    assert refused["expires_at"] == approved["expires_at"]
    # PA-5.3 "may request one extension": one request; CPA-5.2 "may be granted": a refused one may be asked again
    assert (deal_extensions.extension_problem(policy, refused, None, before_end) is not None) is counts_refused


@clause(
    "contoso",
    "CPA-5.2",
    "An approved registration protects the Partner for 60 days from approval … One extension of 30 days may be "
    "granted where the Partner shows a submitted proposal.",
)
def _cpa_5_2() -> None:
    approved = deals.decided({"deal_id": "dl_1", "status": "pending"}, "approved", "2026-11-01T10:00:00.000Z", CT)
    assert approved["expires_at"] == "2026-12-31T23:59:59.999Z"  # day 60, to its end (CPA-1.3 "to 23:59:59 UTC")
    _one_extension(CT, "CPA-5.2", approved, counts_refused=False)


@clause(
    "northwind",
    "PA-5.4",
    "Only one approved registration may exist for a given Customer and Product Family at any time across all Partners.",
)
def _pa_5_4() -> None:
    live = {
        "partner_id": "ptr_A",
        "family": "networking",
        "expires_at": "2027-01-30T10:00:00.000Z",
        "status": "approved",
    }
    assert deals.conflict(NW, live, "ptr_B") is not None and deals.conflict(NW, live, "ptr_A") is None


@clause(
    "contoso",
    "CPA-5.3",
    "only one approved registration may exist for a given End Customer and Product Family across all Partners.",
)
def _cpa_5_3() -> None:
    live = {"partner_id": "ptr_A", "family": "devices", "expires_at": "2027-01-30T10:00:00.000Z", "status": "approved"}
    assert deals.conflict(CT, live, "ptr_B") is not None


def _conflict_cites(policy: dict[str, Any], ref: str) -> None:
    live = {
        "partner_id": "ptr_WINNER",
        "deal_id": "dl_WIN",
        "family": "networking",
        "expires_at": "2027-01-30T10:00:00.000Z",
        "status": "approved",
    }
    refused = deals.conflict(policy, live, "ptr_B")
    assert refused is not None and refused.extra["clause"] == ref
    # the period ends with its last day (PA-1.3 / CPA-1.3 "a day runs from 00:00:00 to 23:59:59 UTC"): a period stored
    # with a time of day (before 1.56.3) is told to the end of that day (1.62.0)
    assert refused.extra["exclusivity_ends"] == "2027-01-30T23:59:59.999Z" and "2027-01-30" in refused.detail
    assert "ptr_WINNER" not in str(refused.extra) + refused.detail and "dl_WIN" not in refused.detail
    reason = deals.conflict_reason(policy, live)
    rejected = deals.rejected_for_conflict({"deal_id": "dl_2", "status": "pending"}, reason, "2026-11-02T00:00:00Z")
    assert rejected["status"] == "rejected" and rejected["rejection"]["clause"] == ref
    assert policy["pricing"]["channel_conflict"]["clause"] == ref


@clause(
    "northwind",
    "PA-5.5",
    "Pending registrations are decided in order of submission time. A registration that conflicts with an approved, "
    "unexpired registration is rejected "
    "with reference to this clause, and the rejected Partner is told the date on which the conflicting "
    "exclusivity period ends but not the identity of the other Partner.",
)
def _pa_5_5() -> None:
    _conflict_cites(NW, "PA-5.5")
    _decided_in_order(NW, "PA-5.5")


@clause(
    "contoso",
    "CPA-5.4",
    "Pending registrations are decided in order of submission. A conflicting registration is refused with reference "
    "to this clause and the refused "
    "Partner is told when the existing protection ends, without the name of the other Partner.",
)
def _cpa_5_4() -> None:
    _conflict_cites(CT, "CPA-5.4")
    _decided_in_order(CT, "CPA-5.4")


@clause(
    "northwind",
    "PA-5.6",
    "A Partner holding an approved registration receives an additional registration discount of 5 percentage points",
)
def _pa_5_6() -> None:
    assert Decimal(NW["pricing"]["registration_discount"]["percent"]) == 5


@clause(
    "contoso",
    "CPA-5.5",
    "An approved registration gives the registering Partner an additional discount of 4 percentage points",
)
def _cpa_5_5() -> None:
    assert Decimal(CT["pricing"]["registration_discount"]["percent"]) == 4


# --- segregation of duties -----------------------------------------------------------------------------------------
def _self_approval_refused(policy: dict[str, Any], ref: str) -> None:
    requester = Principal("t", Role.CHANNEL_OPS, "key_SAME")
    case = cases.new_case(
        case_id="apr_1",
        kind="approval",
        route=cases.route_for(policy, "discount_above_tier_cap"),
        subject_kind="decision",
        subject_id="dec_1",
        reasons=[],
        requested_by=requester,
        opened_at="2026-11-02T09:00:00.000Z",
        risk_score=10,
    )
    with pytest.raises(Forbidden) as refused:
        cases.decide(
            case,
            requester,
            "approved",
            None,
            "2026-11-02T10:00:00.000Z",
            segregation=policy["exception_routing"]["segregation_of_duties"],
        )
    assert refused.value.extra["clause"] == ref and refused.value.extra["refusal"] == "self_approval"


@clause("northwind", "SOP-4.3", "A requester can never approve their own request.")
def _sop_4_3() -> None:
    _self_approval_refused(NW, "SOP-4.3")


@clause("contoso", "COP-4.3", "A requester can never approve their own request.")
def _cop_4_3() -> None:
    _self_approval_refused(CT, "COP-4.3")


def _approvals_expire_with_the_quote(policy: dict[str, Any], ref: str, days: int) -> None:
    """The expiry rule cites the clause; a quote issued 2 November is valid `days` days after, not a day more
    (tests/unit/test_auditor_quote_expiry.py decides approvals either side of it)."""
    rule = policy["pricing"]["quote_approval_expiry"]
    assert rule["clause"] == ref and policy["pricing"]["quote_validity_days"] == days
    issued = "2026-11-02T10:00:00.000Z"
    last = quote_validity.valid_through(issued, days).isoformat()
    assert not quote_validity.expired(issued, days, f"{last}T23:59:59.999Z")
    assert quote_validity.expired(issued, days, f"{date.fromisoformat(last) + timedelta(days=1)}T00:00:00.000Z")
    assert ref in quote_validity.expiry_reason(rule, issued, days)["message"]


def _escalation_ladder(policy: dict[str, Any], ref: str, head_hours: int) -> None:
    """An exception opened 10:00 with an 8-hour SLA: its queue at 16:00, its lead at 18:00, the head `head_hours`
    after opening (tests/n8n/test_escalation_steps.py runs the flow's step code on them)."""
    rule = policy["exception_routing"]["escalation"]
    marks = escalation.marks(rule, "2026-11-02T10:00:00.000Z", "2026-11-02T18:00:00.000Z")
    assert marks["clause"] == ref
    assert (marks["remind_at"], marks["lead_at"]) == ("2026-11-02T16:00:00.000Z", "2026-11-02T18:00:00.000Z")
    head = datetime(2026, 11, 2, 10, tzinfo=UTC) + timedelta(hours=head_hours)
    assert marks["head_at"] == head.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@clause("northwind", "SOP-4.2", "When 75% of an exception's SLA has elapsed, the queue is notified. When the SLA is "
        "breached, the exception is escalated to the queue lead … after twice the SLA it is escalated to the head of "
        "the owning team.")
def _sop_4_2() -> None:
    _escalation_ladder(NW, "SOP-4.2", 16)


@clause("contoso", "COP-4.2", "At 75% of the SLA the queue is reminded; at 100% the exception is escalated to the "
        "queue lead; at 150% to the head of the owning team.")
def _cop_4_2() -> None:
    _escalation_ladder(CT, "COP-4.2", 12)


@clause("northwind", "SOP-4.4", "Approvals of quote exceptions expire with the quote after 30 days.")
def _sop_4_4() -> None:
    _approvals_expire_with_the_quote(NW, "SOP-4.4", 30)


@clause("contoso", "COP-4.4", "Quote approvals lapse with the quote after 21 days.")
def _cop_4_4() -> None:
    _approvals_expire_with_the_quote(CT, "COP-4.4", 21)


# --- routing matrices (SOP-4.1 / COP-4.1): every row of the contract's table is a route -----------------------------
def _matrix(tenant: str, ref: str) -> dict[str, tuple[str, int]]:
    text = CONTRACTS[tenant].split(f"### {ref} ")[1].split("###")[0]
    rows = re.findall(r"^\| ([a-z_]+)(?: \([^)]*\))? \| ([a-z_]+) \| (\d+) \|", text, re.M)
    return {category: (queue, int(hours)) for category, queue, hours in rows}


def _routes_match(policy: dict[str, Any], tenant: str, ref: str) -> None:
    table = _matrix(tenant, ref)
    assert len(table) >= 15
    for category, (queue, hours) in table.items():
        rule = route(policy, category)
        assert (rule["queue"], rule.get("sla_hours")) == (queue, hours), category
    cited = {c for c, r in policy["exception_routing"]["categories"].items() if r["clause"] == ref}
    assert cited <= set(table), cited - set(table)


@clause("northwind", "SOP-4.1", "Exceptions are routed to a queue with an SLA as follows:")
def _sop_4_1() -> None:
    _routes_match(NW, "northwind", "SOP-4.1")
    assert (NW["exception_routing"]["triage"]["queue"], NW["exception_routing"]["triage"]["sla_hours"]) == (
        "channel_ops",
        8,
    )  # "goes to channel_ops for triage within 8 hours"


@clause("contoso", "COP-4.1", "Exceptions are routed as follows:")
def _cop_4_1() -> None:
    _routes_match(CT, "contoso", "COP-4.1")


# --- tiers, caps and pricing guards ----------------------------------------------------------------------------------
def _caps_match(policy: dict[str, Any], tenant: str, ref: str) -> None:
    text = CONTRACTS[tenant].split(f"### {ref} ")[1].split("###")[0]
    header = re.search(r"^\| Tier \|(.*)\|$", text, re.M)
    assert header
    families = [f.strip() for f in header.group(1).split("|")]
    for name, cells in re.findall(r"^\| ([A-Z][a-z]+) \|((?: \d+% \|)+)$", text, re.M):
        values = [c.strip().rstrip("%") for c in cells.strip(" |").split("|")]
        caps = policy["pricing"]["discount_caps"]["caps"][name.lower()]
        assert {f: Decimal(caps[f]) for f in families} == {f: Decimal(v) for f, v in zip(families, values, strict=True)}


@clause(
    "northwind",
    "PA-6.2",
    "The combined discount on a quote line, expressed as a percentage of List Price, may "
    "not exceed the Partner's discount cap for its tier and the line's Product Family without approval under PA-6.6.",
)
def _pa_6_2() -> None:
    _caps_match(NW, "northwind", "PA-6.2")


@clause(
    "contoso",
    "CPA-6.2",
    "The combined discount on a line, as a percentage of List Price, may not exceed the "
    "Partner's tier cap for the line's Product Family without approval under CPA-6.6:",
)
def _cpa_6_2() -> None:
    _caps_match(CT, "contoso", "CPA-6.2")


@clause("northwind", "PA-6.3", "No quote line may be priced with a Line Margin below 12% without Finance approval")
def _pa_6_3() -> None:
    assert Decimal(NW["pricing"]["margin_floor"]["percent"]) == 12 == Decimal(NW["rebates"]["margin_floor"]["percent"])


@clause("contoso", "CPA-6.3", "Each quote line must keep a Line Margin of at least 10%.")
def _cpa_6_3() -> None:
    assert Decimal(CT["pricing"]["margin_floor"]["percent"]) == 10 == Decimal(CT["rebates"]["margin_floor"]["percent"])


@clause("northwind", "PA-6.4", "The combined discount on any line may not exceed 30% of List Price")
def _pa_6_4() -> None:
    stacking = NW["pricing"]["stacking"]
    assert stacking["mode"] == "additive" and Decimal(stacking["max_combined_percent"]) == 30


@clause("contoso", "CPA-6.4", "The combined discount on a line may never exceed 28% of List Price")
def _cpa_6_4() -> None:
    stacking = CT["pricing"]["stacking"]
    assert stacking["mode"] == "additive" and Decimal(stacking["max_combined_percent"]) == 28


@clause("northwind", "PA-6.6", "a combined discount above 25% of List Price requires Finance approval")
def _pa_6_6() -> None:
    assert Decimal(NW["pricing"]["finance_approval"]["above_percent"]) == 25


@clause("contoso", "CPA-6.6", "Finance approval where the combined discount exceeds 22% of List Price")
def _cpa_6_6() -> None:
    assert Decimal(CT["pricing"]["finance_approval"]["above_percent"]) == 22


@clause(
    "northwind",
    "PA-6.7",
    "Standard payment terms are net 30 days from the invoice date. Gold and Platinum "
    "Partners may request net 45 days as a standard term",
)
def _pa_6_7() -> None:
    terms = NW["pricing"]["payment_terms"]
    assert terms["standard_days"] == [30] and terms["standard_days_by_tier"] == {"gold": [30, 45], "platinum": [30, 45]}
    assert route(NW, "partner_activation_nonstandard_terms")["queue"] == "legal"


@clause("contoso", "CPA-6.7", "The standard payment term is 30 days from the invoice date.")
def _cpa_6_7() -> None:
    terms = CT["pricing"]["payment_terms"]
    assert terms["standard_days"] == [30] and terms["max_days"] == 60  # "longer than 60 days are not granted"
    assert route(CT, "partner_activation_nonstandard_terms")["queue"] == "legal"


def _tier_requirements(policy: dict[str, Any], name: str, commitment: str, certifications: list[str]) -> None:
    requirements = tier(policy, name)["requirements"]
    assert requirements["annual_commitment"] == commitment and sorted(requirements["certifications"]) == sorted(
        certifications
    )


@clause(
    "northwind",
    "PA-3.3",
    "The Silver tier requires an annual commitment of USD 250,000.00 and the certification cert-network-core",
)
def _pa_3_3() -> None:
    _tier_requirements(NW, "silver", "250000.00", ["cert-network-core"])


@clause(
    "northwind",
    "PA-3.4",
    "The Gold tier requires an annual commitment of USD 1,000,000.00 and the "
    "certifications cert-network-core (Networking Core Specialist) and cert-security-pro",
)
def _pa_3_4() -> None:
    _tier_requirements(NW, "gold", "1000000.00", ["cert-network-core", "cert-security-pro"])


@clause(
    "northwind",
    "PA-3.5",
    "The Platinum tier requires an annual commitment of USD 3,000,000.00 and the "
    "certifications cert-network-core, cert-network-advanced",
)
def _pa_3_5() -> None:
    _tier_requirements(
        NW,
        "platinum",
        "3000000.00",
        ["cert-network-core", "cert-network-advanced", "cert-security-pro", "cert-cloud-ops", "cert-hw-deploy"],
    )


@clause(
    "contoso",
    "CPA-3.3",
    "The Advanced tier requires an annual commitment of EUR 150,000.00 and the certifications cert-collab-associate",
)
def _cpa_3_3() -> None:
    _tier_requirements(CT, "advanced", "150000.00", ["cert-collab-associate", "cert-secops-analyst"])


@clause("contoso", "CPA-3.4", "The Elite tier requires an annual commitment of EUR 750,000.00")
def _cpa_3_4() -> None:
    _tier_requirements(
        CT,
        "elite",
        "750000.00",
        ["cert-collab-associate", "cert-secops-analyst", "cert-data-engineer", "cert-devices-field"],
    )


def _catalogue_matches(policy: dict[str, Any], tenant: str, ref: str) -> None:
    text = CONTRACTS[tenant].split(f"### {ref} ")[1].split("###")[0]
    rows = re.findall(r"^\| (cert-[a-z-]+) \| [^|]+ \| ([a-z-]+) \| (\d+) months \|", text, re.M)
    assert rows
    held = {c["id"]: (c["product_family"], c["validity_months"]) for c in policy["certifications"]}
    assert held == {cid: (family, int(months)) for cid, family, months in rows}


@clause("northwind", "PA-4.1", "The Distributor recognises the following certifications.")
def _pa_4_1() -> None:
    _catalogue_matches(NW, "northwind", "PA-4.1")


@clause("contoso", "CPA-4.1", "Contoso recognises the following certifications")
def _cpa_4_1() -> None:
    _catalogue_matches(CT, "contoso", "CPA-4.1")


def _departed(policy: dict[str, Any], cert_id: str, last_day: str, notified_at: str) -> partner_rules.Departure:
    """The only holder of `cert_id` (earned 2026-01-05) leaves on `last_day`; channel ops records it then."""
    family = next(c["product_family"] for c in policy["certifications"] if c["id"] == cert_id)
    held = {"certification_id": cert_id, "product_family": family, "earned_at": "2026-01-05",
            "expires_at": "2027-12-31"}
    record = {"partner_id": "ptr_X", "status": "active", "partner_type": "reseller", "certifications": {cert_id: held}}
    ops = Principal("t", Role.CHANNEL_OPS, "key_ops")
    return partner_rules.record_departure(policy, record, {"certification_id": cert_id, "last_day": last_day},
                                          by=ops, at=notified_at)


@clause("northwind", "PA-4.4", "If the only certified individual for a certification leaves the Partner's employment, "
        "that certification ceases to count for the Partner on the individual's last day of employment, with the same "
        "effect as expiry under PA-4.3. The Partner must notify Channel Operations within 10 business days of the "
        "departure. Failure to notify is a material breach where the Partner continues to quote Products of the "
        "affected Product Family.")
def _pa_4_4() -> None:
    departed = _departed(NW, "cert-security-pro", "2026-06-05", "2026-06-23T10:00:00.000Z")  # 19 June: a holiday
    assert partner_rules.valid_on(departed.certification, date(2026, 6, 5))
    assert not partner_rules.valid_on(departed.certification, date(2026, 6, 6))
    assert departed.entry["notice"]["due_on"] == "2026-06-22" and departed.late
    quoted = partner_rules.QuoteSeen("dec_1", "2026-06-10T09:00:00.000Z", frozenset({"security"}))
    meanwhile = partner_rules.quotes_while_unnotified(departed, [quoted], "2026-06-23T10:00:00.000Z")
    assert partner_rules.late_notice_reason(NW, departed, meanwhile)["clause"] == "PA-4.4"
    assert partner_rules.late_notice_reason(NW, departed, []) is None  # no quote of the family: no breach


@clause("northwind", "PA-4.2", "the Distributor sends reminders 60 and 15 days before expiry but the absence of a "
        "reminder does not extend validity")
def _pa_4_2() -> None:
    # auditor6: the reminders are published by the lifecycle sweep (tests/scenarios/test_clause_audit6.py has the days)
    assert NW["onboarding"]["certification_reminders"] == {"id": "PTR-CERTIFICATION-REMINDERS", "clause": "PA-4.2",
                                                           "days_before": [60, 15]}
    assert NW["onboarding"]["insurance_lapse"]["remind_days_before"] == [30, 7]  # PA-2.7 "30 days and 7 days"
    assert CT["onboarding"]["certification_reminders"]["days_before"] == [60, 14]  # CPA-4.2 "60 and 14 days"
    assert CT["onboarding"]["insurance_lapse"]["remind_days_before"] == [30]  # CPA-2.4 "30 days before expiry"
    # and: "Certification records are updated in the Partner Portal within 2 business days of receipt of evidence from
    # the certifying body" (tests/unit/test_certification_recording.py has the instants); contoso's CPA-4.2 has none
    assert NW["onboarding"]["certification_recording"] == {"id": "PTR-CERTIFICATION-RECORDING", "clause": "PA-4.2",
                                                           "within_business_days": 2,
                                                           "category": "certification_recorded_late"}
    assert route(NW, "certification_recorded_late")["queue"] == "channel_ops"
    assert "certification_recording" not in CT["onboarding"]


@clause("contoso", "CPA-4.2", "The Partner notifies Channel Operations within 10 business days when a certified "
        "individual leaves; the certification stops counting on the individual's last working day.")
def _cpa_4_2() -> None:
    departed = _departed(CT, "cert-secops-analyst", "2026-06-05", "2026-07-15T10:00:00.000Z")
    assert not partner_rules.valid_on(departed.certification, date(2026, 6, 6)) and departed.late
    quoted = partner_rules.QuoteSeen("dec_1", "2026-06-10T09:00:00.000Z", frozenset({"security"}))
    assert partner_rules.late_notice_reason(CT, departed, [quoted]) is None  # CPA-4.2 names no breach


# --- entitlements -----------------------------------------------------------------------------------------------------
@clause("northwind", "PA-9.2", "Registered 10 hours, Silver 40 hours, Gold 80 hours and Platinum 160 hours.")
def _pa_9_2() -> None:
    assert {t: ent(NW, t, "max_support_hours_per_quarter") for t in ("registered", "silver", "gold", "platinum")} == {
        "registered": 10,
        "silver": 40,
        "gold": 80,
        "platinum": 160,
    }


@clause("contoso", "CPA-9.2", "Each Quarter includes support hours: Authorized 8, Advanced 30 and Elite 120.")
def _cpa_9_2() -> None:
    assert {t: ent(CT, t, "max_support_hours_per_quarter") for t in ("authorized", "advanced", "elite")} == {
        "authorized": 8,
        "advanced": 30,
        "elite": 120,
    }


@clause("northwind", "PA-9.5", "Silver 2%, Gold 3% and Platinum 4%.")
def _pa_9_5() -> None:
    assert {t: ent(NW, t, "mdf_percent") for t in ("registered", "silver", "gold", "platinum")} == {
        "registered": 0,
        "silver": 2,
        "gold": 3,
        "platinum": 4,
    }
    assert ent(NW, "registered", "mdf_eligible") is False  # "Registered Partners are not eligible for MDF."


@clause("contoso", "CPA-9.5", "at 2% (Advanced) or 5% (Elite)")
def _cpa_9_5() -> None:
    assert {t: ent(CT, t, "mdf_percent") for t in ("authorized", "advanced", "elite")} == {
        "authorized": 0,
        "advanced": 2,
        "elite": 5,
    }


@clause("northwind", "PA-9.3", "Gold and Platinum Partners are entitled to premium onboarding")
def _pa_9_3() -> None:
    assert {t: ent(NW, t, "premium_onboarding") for t in ("registered", "silver", "gold", "platinum")} == {
        "registered": False,
        "silver": False,
        "gold": True,
        "platinum": True,
    }


@clause("contoso", "CPA-9.3", "Advanced and Elite Partners receive premium onboarding")
def _cpa_9_3() -> None:
    assert {t: ent(CT, t, "premium_onboarding") for t in ("authorized", "advanced", "elite")} == {
        "authorized": False,
        "advanced": True,
        "elite": True,
    }


@clause("northwind", "PA-9.4", "Platinum Partners are entitled to managed support")
def _pa_9_4() -> None:
    assert [t for t in ("registered", "silver", "gold", "platinum") if ent(NW, t, "managed_support")] == ["platinum"]


@clause("contoso", "CPA-9.4", "Elite Partners receive managed support")
def _cpa_9_4() -> None:
    assert [t for t in ("authorized", "advanced", "elite") if ent(CT, t, "managed_support")] == ["elite"]


@clause("northwind", "PA-9.6", "All approved Partners are entitled to the Partner Portal")
def _pa_9_6() -> None:
    assert all(ent(NW, t["tier"], "partner_portal_access") is True for t in NW["partner_tiers"])


@clause("contoso", "CPA-9.8", "Every admitted Partner has Partner Portal access")
def _cpa_9_8() -> None:
    assert all(ent(CT, t["tier"], "partner_portal_access") is True for t in CT["partner_tiers"])


@clause("contoso", "CPA-9.6", "Elite Partners are assigned a named technical account manager")
def _cpa_9_6() -> None:
    assert [t for t in ("authorized", "advanced", "elite") if ent(CT, t, "technical_account_manager")] == ["elite"]


@clause(
    "contoso",
    "CPA-9.7",
    "up to 1 (Authorized), 3 (Advanced) or 10 (Elite) at a time, and certification exam "
    "vouchers per Program Year: 2 (Authorized), 6 (Advanced) or 20 (Elite)",
)
def _cpa_9_7() -> None:
    assert [ent(CT, t, "sandbox_environments") for t in ("authorized", "advanced", "elite")] == [1, 3, 10]
    assert [ent(CT, t, "training_vouchers_per_year") for t in ("authorized", "advanced", "elite")] == [2, 6, 20]


@clause("northwind", "PA-9.1", "| standard | Registered |")
def _pa_9_1() -> None:
    assert [ent(NW, t, "support_level") for t in ("registered", "silver", "gold", "platinum")] == [
        "standard",
        "priority",
        "premium",
        "premium_24x7",
    ]


@clause("contoso", "CPA-9.1", "standard for Authorized")
def _cpa_9_1() -> None:
    assert [ent(CT, t, "support_level") for t in ("authorized", "advanced", "elite")] == [
        "standard",
        "priority",
        "premium_24x7",
    ]


# --- rebates ----------------------------------------------------------------------------------------------------------
def _program(policy: dict[str, Any], program_id: str) -> dict[str, Any]:
    return next(p for p in policy["rebates"]["programs"] if p["id"] == program_id)


@clause("northwind", "PA-7.2", "| USD 100,000.00 to 249,999.99 | 1.0% |")
def _pa_7_2() -> None:
    volume = _program(NW, "RBT-VOLUME")
    assert [(Decimal(t["from"]), Decimal(t["percent"])) for t in volume["tiers"]] == [
        (Decimal(0), 0),
        (Decimal(100000), 1),
        (Decimal(250000), 2),
        (Decimal(500000), 3),
        (Decimal(1000000), 4),
    ]
    assert volume["model"] == "tiered_retroactive" and volume["eligibility"]["tiers"] == ["silver", "gold", "platinum"]


@clause("contoso", "CPA-7.2", "Partners of all tiers earn a quarterly volume rebate.")
def _cpa_7_2() -> None:
    volume = _program(CT, "RBT-VOLUME")
    assert [(Decimal(t["from"]), Decimal(t["percent"])) for t in volume["tiers"]] == [
        (Decimal(0), 0),
        (Decimal(75000), Decimal("1.5")),
        (Decimal(200000), Decimal("2.5")),
        (Decimal(500000), Decimal("3.5")),
    ]
    assert not volume["eligibility"].get("tiers")  # every tier


@clause("northwind", "PA-7.3", "earn a growth rebate of 2.0% of incremental Qualifying Revenue")
def _pa_7_3() -> None:
    growth = _program(NW, "RBT-GROWTH")
    assert Decimal(growth["percent"]) == 2 and Decimal(growth["min_growth_percent"]) == 10


@clause("contoso", "CPA-7.3", "Advanced and Elite Partners earn a growth rebate of 3.0%")
def _cpa_7_3() -> None:
    growth = _program(CT, "RBT-GROWTH")
    assert Decimal(growth["percent"]) == 3 and Decimal(growth["min_growth_percent"]) == 8
    assert growth["eligibility"]["tiers"] == ["advanced", "elite"]


@clause("northwind", "PA-7.4", "(b) USD 100,000.00")
def _pa_7_4() -> None:
    assert Decimal(_program(NW, "RBT-GROWTH")["new_partner_baseline"]["minimum"]) == 100000


@clause("contoso", "CPA-7.4", "no less than EUR 50,000.00")
def _cpa_7_4() -> None:
    assert Decimal(_program(CT, "RBT-GROWTH")["new_partner_baseline"]["minimum"]) == 50000


@clause("northwind", "PA-7.5", "The SPIFF is capped at 500 units, that is USD 20,000.00, per Partner per Quarter.")
def _pa_7_5() -> None:
    spiff = _program(NW, "RBT-HW-SPIFF")
    assert Decimal(spiff["amount_per_unit"]) == 40 and spiff["unit_cap"]["units"] == 500
    assert spiff["return_window_days"] == 30 and Decimal(spiff["eligibility"]["max_discount_percent"]) == 25
    assert spiff["return_window_from"] == {"id": "RBT-HW-SPIFF-RETURN-WINDOW", "clause": "PA-7.5", "from": "shipment"}


@clause(
    "northwind",
    "PA-7.6",
    "the lower of (a) 5.0% of the Partner's Qualifying Revenue for that Quarter and (b) "
    "USD 150,000.00. Where the cap applies, the growth rebate is reduced first.",
)
def _pa_7_6() -> None:
    [cap] = NW["rebates"]["caps"]
    assert Decimal(cap["percent"]) == 5 and Decimal(cap["max_amount"]) == 150000
    assert cap["reduce_first"][0] == "RBT-GROWTH"


@clause(
    "contoso",
    "CPA-7.6",
    "the lower of 4.5% of its Qualifying Revenue for the Quarter and EUR 100,000.00; where "
    "the cap applies, the growth rebate is reduced first.",
)
def _cpa_7_6() -> None:
    [cap] = CT["rebates"]["caps"]
    assert Decimal(cap["percent"]) == Decimal("4.5") and Decimal(cap["max_amount"]) == 100000
    assert cap["reduce_first"][0] == "RBT-GROWTH"


@clause("northwind", "PA-7.9", "within 60 days")
def _pa_7_9() -> None:
    assert NW["rebates"]["disputes"]["window_days"] == 60


@clause("contoso", "CPA-7.9", "A Partner may dispute a settlement statement within 60 days of its date")
def _cpa_7_9() -> None:
    assert CT["rebates"]["disputes"]["window_days"] == 60
    assert "separate_credit_note" not in CT["rebates"]["disputes"]  # "Upheld amounts are paid in the next settlement."


@clause("northwind", "PA-7.9", "or by separate credit note if the next settlement is more than 30 days away")
def _pa_7_9_credit_note() -> None:
    note = NW["rebates"]["disputes"]["separate_credit_note"]
    assert note["next_settlement_after_days"] == 30 and route(NW, note["category"])["queue"] == "finance"


@clause("northwind", "SOP-6.3", "An upheld rebate dispute is paid as an adjustment in the next settlement")
def _sop_6_3() -> None:
    assert route(NW, NW["rebates"]["disputes"]["separate_credit_note"]["category"])["clause"] == "SOP-6.3"
    # "The Partner may appeal once, within 10 business days of the decision; the appeal is decided jointly by the head
    # of Finance and Legal": a dispute of section 6, invoice disputes included; no day for the appeal's decision
    appeal = NW["billing"]["invoice_disputes"]["appeal"]
    assert (appeal["clause"], appeal["within_business_days"], appeal.get("decide_within_business_days")) == (
        "SOP-6.3", 10, None)
    assert [route(NW, category)["queue"] for category in appeal["categories"]] == ["finance", "legal"]


@clause("northwind", "PA-14.2", "A Partner may request human review of any automated decision within 30 days of being "
        "notified of it; the review is completed within 10 business days.")
def _pa_14_2() -> None:
    review = NW["human_review"]
    assert (review["clause"], review["request_within_days"]) == ("PA-14.2", 30)
    assert (route(NW, review["category"])["sla_business_days"], route(NW, review["category"])["clause"]) == (
        10, "PA-14.2")


@clause("contoso", "CPA-14.2", "A Partner may request human review of an automated decision within 30 days of "
        "notification; Contoso completes it within 15 business days.")
def _cpa_14_2() -> None:
    review = CT["human_review"]
    assert (review["clause"], review["request_within_days"]) == ("CPA-14.2", 30)
    assert (route(CT, review["category"])["sla_business_days"], route(CT, review["category"])["clause"]) == (
        15, "CPA-14.2")


def _notice_quotes(policy: dict[str, Any], tenant: str, ref: str) -> None:
    from revgov.domain.contracts import parse_contract
    from revgov.domain.copilot import Passage, ai_notice

    rule = policy["copilot_notice"]
    assert rule["clause"] == ref
    markdown = (ROOT / "tenants" / tenant / "contracts" / "partner-agreement.md").read_text()
    (text,) = [c.text for c in parse_contract(markdown).clauses if c.clause_id == ref]
    passage = Passage(tenant, ref.split("-")[0], "", "", ref, "", text, None, "", "")
    assert ai_notice(rule, passage) == {"text": text, "clause": ref, "document": ref.split("-")[0],
                                        "rule_id": rule["id"]}


@clause("northwind", "PA-14.1", "Copilot answers are guidance only and do not amend, waive or interpret this Agreement "
        "bindingly; the cited clause text prevails.")
def _pa_14_1() -> None:
    _notice_quotes(NW, "northwind", "PA-14.1")


@clause("contoso", "CPA-14.1", "Partners interacting with it are informed that they are interacting with an AI system.")
def _cpa_14_1() -> None:
    _notice_quotes(CT, "contoso", "CPA-14.1")


@clause("contoso", "COP-6.3", "A Partner may appeal a dispute decision once, within 10 business days")
def _cop_6_3() -> None:
    # "The appeal is decided by the head of Finance together with Legal within 15 business days."
    appeal = CT["rebates"]["disputes"]["appeal"]
    assert appeal["clause"] == "COP-6.3" and appeal["within_business_days"] == 10
    assert appeal["decide_within_business_days"] == 15
    queues = {route(CT, category)["queue"] for category in appeal["categories"]}
    assert queues == {"finance", "legal"}
    invoices = CT["billing"]["invoice_disputes"]["appeal"]  # "a dispute decision": invoice disputes too (COP-6.1)
    assert (invoices["clause"], invoices["within_business_days"], invoices["decide_within_business_days"]) == (
        "COP-6.3", 10, 15)
    assert [(route(CT, c)["queue"], route(CT, c)["sla_business_days"]) for c in invoices["categories"]] == [
        ("finance", 15), ("legal", 15)]


def _waited(policy: dict[str, Any]) -> dict[str, Any]:
    """An invoice_dispute approval opened Tuesday 2026-11-10 08:00, asked of the partner at 10:00, answered 16:00."""
    rule = cases.route_for(policy, "invoice_dispute")
    case = cases.new_case(case_id="apr_X", kind="approval", route=rule, subject_kind="invoice_dispute",
                          subject_id="ivd_X", reasons=[], requested_by="partner:key_p",
                          opened_at="2026-11-10T08:00:00.000Z", risk_score=50, partner_id="ptr_X")  # fmt: skip
    finance = Principal("t", Role.FINANCE, "key_f")
    asked = sla_pause.ask_partner(case, finance, "the signed delivery note?", "2026-11-10T10:00:00.000Z", "finance")
    assert asked["status"] == "waiting_on_partner"
    return sla_pause.partner_replied(asked, Principal("t", Role.PARTNER, "key_p", "ptr_X"), "attached",
                                     "2026-11-10T16:00:00.000Z", None)  # fmt: skip


@clause("northwind", "SOP-1.3", 'The clock is paused only while an item is in the status "waiting on partner" and '
        "restarts when the Partner responds.")
def _sop_1_3() -> None:
    # invoice_dispute: 24 h (SOP-4.1) from 08:00; 6 h waiting on the partner -> due Wednesday 14:00, not 08:00
    assert NW["exception_routing"]["sla_clock"]["clause"] == "SOP-1.3"
    resumed = _waited(NW)
    assert (resumed["status"], resumed["due_at"]) == ("pending", "2026-11-11T14:00:00.000Z")
    assert sla_pause.clock_seconds(resumed, "2026-11-11T12:00:00.000Z") == 22 * 3600


@clause("contoso", "COP-1.3",
        "The clock stops while an item waits for information from the Partner and resumes when the Partner replies.")
def _cop_1_3() -> None:
    # invoice_dispute: 48 h (COP-4.1) from 08:00; 6 h waiting -> due Thursday 14:00
    assert CT["exception_routing"]["sla_clock"]["clause"] == "COP-1.3"
    resumed = _waited(CT)
    assert (resumed["status"], resumed["due_at"]) == ("pending", "2026-11-12T14:00:00.000Z")


@clause("contoso", "CPA-7.8", "A Partner whose VAT number fails validation")
def _cpa_7_8_vat() -> None:
    rule = CT["rebates"]["vat_validation"]
    assert rule["clause"] == "CPA-7.8" and rule["order_hold"]["clause"] == "CPA-2.3"


@clause(
    "northwind",
    "PA-8.1",
    "the Partner earns a referral commission of 5.0% of the Distributor's Invoiced Revenue from that Customer, net of "
    "credit notes, during the 12 months following the first invoice.",
)
def _pa_8_1() -> None:
    assert Decimal(_program(NW, "RBT-REFERRAL")["percent"]) == 5
    # "the 12 months following" a first invoice dated 2026-09-02 are 2026-09-03 .. 2027-09-02
    window = FirstInvoiceWindow.of(_program(NW, "RBT-REFERRAL")["first_invoice_window"])
    assert window.rule.clause == "PA-8.1" and window.last_day(date(2026, 9, 2)) == date(2027, 9, 2)
    # and: "Where the Distributor accepts the referral and invoices the Customer directly within 180 days": accepted
    # 2026-05-06, a first invoice on 2026-11-02 (day 180) earns, on 2026-11-03 (day 181) does not
    acceptance = ReferralAcceptance.of(_program(NW, "RBT-REFERRAL")["referral_acceptance"])
    accepted = date(2026, 5, 6).toordinal()
    assert acceptance.rule.clause == "PA-8.1" and not acceptance.before_first_contact
    assert not acceptance.fails(accepted, -1, date(2026, 11, 2).toordinal())
    assert acceptance.fails(accepted, -1, date(2026, 11, 3).toordinal()) and acceptance.fails(-1, -1, None)


@clause("northwind", "PA-8.2", "earns a commission of 3.0% of the Distributor's Invoiced Revenue")
def _pa_8_2() -> None:
    assert Decimal(_program(NW, "RBT-SALES-AGENT")["percent"]) == 3
    # and: "Commissions under PA-8.1 and this clause are calculated per Billing Month and paid within 30 days after the
    # end of the month in which the Customer paid the invoice": both earned in the payment month, paid by M + 30
    for program in ("RBT-REFERRAL", "RBT-SALES-AGENT"):
        assert _program(NW, program)["earned_when_paid"]["clause"] == "PA-8.2"
    _commission_deadlines(NW, "PA-8.2", "SOP-7.1")


def _commission_deadlines(policy: dict[str, Any], pay: str, calculate: str) -> None:
    """December 2026 (31 December a Thursday, 1 January a published holiday): calculated by the 3rd business day,
    Wednesday 6 January; paid within 30 days after the month, by 30 January."""
    rule = settlement_run.Review.of(policy, Rule.of(policy["rebates"]["settlement"]))
    due = settlement_run.deadlines(rule, Period.parse("2026-12"))
    assert (due["calculate_by"], due["issue_by"], due["clause"]) == ("2027-01-06", "2027-01-30", pay)
    assert due["calculation"]["clause"] == calculate
    # a month's late run is routed under the month close, to finance (SOP-1.2 / COP-1.2 "rebates")
    route = policy["exception_routing"]["categories"]["commission_run_overdue"]
    assert (route["queue"], route["clause"]) == ("finance", calculate)


@clause(
    "northwind",
    "SOP-7.1",
    "by the 3rd business day, commissions for month M are calculated under PA-8.2",
)
def _sop_7_1() -> None:
    _commission_deadlines(NW, "PA-8.2", "SOP-7.1")


@clause(
    "contoso",
    "CPA-8.1",
    "earns a referral fee of 4.0% of Contoso's Invoiced Revenue from that End Customer, net of credit notes, for 12 "
    "months from the first invoice",
)
def _cpa_8_1() -> None:
    assert Decimal(_program(CT, "RBT-REFERRAL")["percent"]) == 4
    # "for 12 months from" a first invoice dated 2026-09-02: 2026-09-02 .. 2027-09-01
    window = FirstInvoiceWindow.of(_program(CT, "RBT-REFERRAL")["first_invoice_window"])
    assert window.rule.clause == "CPA-8.1" and window.last_day(date(2026, 9, 2)) == date(2027, 9, 1)
    # and: "provided the referral was registered and accepted before Contoso's first contact with the End Customer's
    # decision maker": accepted the day before the contact earns, on the same day does not
    acceptance = ReferralAcceptance.of(_program(CT, "RBT-REFERRAL")["referral_acceptance"])
    contact = date(2026, 9, 2).toordinal()
    assert acceptance.rule.clause == "CPA-8.1" and acceptance.within_days is None
    assert not acceptance.fails(contact - 1, contact, None) and acceptance.fails(contact, contact, None)
    assert acceptance.fails(contact - 1, -1, None)


# --- billing -------------------------------------------------------------------------------------------------------
@clause("northwind", "SOP-2.1", "The invoice SLA is 48 hours.")
def _sop_2_1() -> None:
    assert NW["billing"]["invoice_sla"]["hours"] == 48


@clause("contoso", "COP-2.1", "48 hours")
def _cop_2_1() -> None:
    assert CT["billing"]["invoice_sla"]["hours"] == 48


@clause("northwind", "SOP-3.2", "| 1 | first 1,000 | 0.12 |")
def _sop_3_2() -> None:
    [rate] = [r for r in NW["billing"]["usage_rates"] if r["clause"] == "SOP-3.2"]
    assert [(b["up_to"], Decimal(b["rate"])) for b in rate["bands"]] == [
        (1000, Decimal("0.12")),
        (10000, Decimal("0.10")),
        (50000, Decimal("0.08")),
        (None, Decimal("0.06")),
    ]


@clause("northwind", "SOP-3.3", "| 1 | first 250 | 3.50 |")
def _sop_3_3() -> None:
    [rate] = [r for r in NW["billing"]["usage_rates"] if r["clause"] == "SOP-3.3"]
    assert [(b["up_to"], Decimal(b["rate"])) for b in rate["bands"]] == [
        (250, Decimal("3.50")),
        (1000, Decimal("3.00")),
        (None, Decimal("2.50")),
    ]


@clause(
    "northwind",
    "PA-10.6",
    "milestones are: 30% on project kickoff, 40% on completion of deployment and 30% on final acceptance.",
)
def _pa_10_6() -> None:
    assert NW["billing"]["milestones"]["schedule"] == {"kickoff": 30, "deployment": 40, "acceptance": 30}


@clause("contoso", "CPA-10.5", "20% at kickoff, 50% at go-live and 30% at acceptance.")
def _cpa_10_5() -> None:
    assert CT["billing"]["milestones"]["schedule"] == {"kickoff": 20, "go_live": 50, "acceptance": 30}


@clause("northwind", "SOP-5.4", "billed as overage at USD 150.00 per hour")
def _sop_5_4() -> None:
    assert Decimal(NW["billing"]["support_overage"]["hourly_rate"]) == 150


@clause(
    "northwind", "SOP-2.3", "counts days inclusively from the activation date to the last day of the service period."
)
def _sop_2_3() -> None:
    assert NW["billing"]["proration"]["method"] == "daily_inclusive"


@clause("northwind", "SOP-2.4", "the effective day itself is not credited.")
def _sop_2_4() -> None:
    assert NW["billing"]["cancellation_credit"]["method"] == "unused_full_days"


@clause("contoso", "CPA-10.3", "Part days are not credited.")
def _cpa_10_3() -> None:
    assert CT["billing"]["cancellation_credit"]["method"] == "unused_full_days"


def _committed_term_credit(policy: dict[str, Any], ref: str) -> None:
    """A credit inside an approved renewal's term (renewed from 2026-12-01 for 12 months: through 2027-11-30) is held
    for finance whatever its amount (tests/scenarios/test_clause_audit7.py runs it through billing)."""
    node = policy["billing"]["committed_term_credit"]
    assert (node["id"], node["clause"]) == ("BILL-COMMITTED-TERM-CREDIT", ref)
    assert BillingPolicy.from_policy(policy).committed_term_credit == Rule.of(node)
    sub = {"renewals": [{"renewed_from": "2026-12-01", "term_months": 12, "status": "approved"}]}
    inside = [subscription_renewals.committed_on(sub, date.fromisoformat(d)) is not None
              for d in ("2026-11-30", "2026-12-01", "2027-11-30", "2027-12-01")]
    assert inside == [False, True, True, False]


@clause("northwind", "PA-10.4",
        "Subscriptions with a committed term may be cancelled for credit only as permitted in the order.")
def _pa_10_4() -> None:
    _committed_term_credit(NW, "PA-10.4")


@clause("contoso", "CPA-10.3", "Subscriptions with a committed term are credited only as the order allows.")
def _cpa_10_3_committed_term() -> None:
    _committed_term_credit(CT, "CPA-10.3")


@clause("northwind", "SOP-6.1", "A Partner may dispute an invoice line within 30 days of the invoice date")
def _sop_6_1() -> None:
    disputes = NW["billing"]["invoice_disputes"]
    assert (disputes["window_days"], disputes["category"]) == (30, "invoice_dispute")
    assert route(NW, "invoice_dispute")["queue"] == "finance"  # "Finance decides within 10 business days"
    # "(1) ... acknowledged within 1 business day; ... (3) Finance decides within 10 business days": filed Tuesday
    # 2026-11-10 08:00, Wednesday 11 November a published holiday (PA-1.3) -> Thursday 12 Nov; 10 business days ->
    # Wednesday 25 Nov
    days = invoice_dispute_deadlines.deadlines(disputes, BusinessCalendar.from_policy(NW), at("2026-11-10T08:00:00Z"))
    assert days == {"acknowledge_by": "2026-11-12T08:00:00.000Z", "decide_by": "2026-11-25T08:00:00.000Z"}


@clause("contoso", "COP-6.1", "Partners may dispute invoice lines within 21 days of the invoice date via the Partner")
def _cop_6_1() -> None:
    disputes = CT["billing"]["invoice_disputes"]
    assert (disputes["window_days"], disputes["category"]) == (21, "invoice_dispute")
    assert route(CT, "invoice_dispute")["queue"] == "finance"
    # "acknowledges within 1 business day, ... and decides within 10 business days": filed Thursday 2026-12-24 09:00,
    # 25 and 26 December holidays (CPA-1.3 list) -> Monday 28 Dec; 28,29,30,31 Dec, (1 Jan), 4,5,6,7,8,11 Jan -> 11 Jan
    days = invoice_dispute_deadlines.deadlines(disputes, BusinessCalendar.from_policy(CT), at("2026-12-24T09:00:00Z"))
    assert days == {"acknowledge_by": "2026-12-28T09:00:00.000Z", "decide_by": "2027-01-11T09:00:00.000Z"}


@clause(
    "northwind",
    "SOP-2.5",
    "Every credit note states its reason code (billing error, return, cancellation, dispute outcome, rebate",
)
def _sop_2_5() -> None:
    from revgov.domain.billing import CREDIT_NOTE_REASONS

    assert NW["billing"]["credit_notes"]["clause"] == "SOP-2.5"
    assert CREDIT_NOTE_REASONS == (
        "billing_error", "return", "cancellation", "dispute_outcome", "rebate_settlement", "goodwill"
    )
    # "Credit notes above USD 10,000.00 require approval by a member of the finance queue other than the preparer."
    assert NW["billing"]["credit_notes"]["approval_above"] == "10000.00"
    assert route(NW, NW["billing"]["credit_notes"]["approval_category"])["queue"] == "finance"


@clause("contoso", "COP-2.4", "states a reason code (billing error, return, cancellation, dispute outcome, rebate")
def _cop_2_4() -> None:
    from revgov.domain.billing import CREDIT_NOTE_REASONS

    assert CT["billing"]["credit_notes"]["clause"] == "COP-2.4"
    assert "dispute_outcome" in CREDIT_NOTE_REASONS
    # "Credit notes above EUR 5,000.00 are approved by a finance queue member other than the preparer."
    assert CT["billing"]["credit_notes"]["approval_above"] == "5000.00"  # in the tenant currency, EUR
    assert route(CT, CT["billing"]["credit_notes"]["approval_category"])["queue"] == "finance"


@clause(
    "northwind",
    "PA-13.2",
    "The Distributor may suspend a Partner from new quotes, orders, deal registrations and incentive accrual",
)
def _pa_13_2() -> None:
    assert "deal_registration" in NW["onboarding"]["suspension"]["withholds"]
    assert NW["pricing"]["partner_must_be_active"]["clause"] == "PA-13.2"


@clause("contoso", "CPA-13.2", "Contoso may suspend new quotes, orders, registrations and incentive accrual")
def _cpa_13_2() -> None:
    assert "deal_registration" in CT["onboarding"]["suspension"]["withholds"]


# --- onboarding documents and terms ----------------------------------------------------------------------------------
def _docs(policy: dict[str, Any], group: str) -> set[str]:
    onboarding = policy["onboarding"]
    rule = onboarding["all_partners"] if group == "all" else onboarding["partner_types"][group]
    return set(rule["documents"])


def _doc(policy: dict[str, Any], name: str) -> dict[str, Any]:
    return dict(policy["onboarding"]["document_types"][name])


@clause(
    "northwind", "PA-2.2", "(a) this Agreement, signed by an authorised signatory of the Partner; (b) a valid tax form"
)
def _pa_2_2() -> None:
    assert _docs(NW, "all") == {"signed_agreement", "tax_form", "insurance_certificate", "compliance_screening"}


@clause("northwind", "PA-2.3", "(c) a trade reference or bank reference letter")
def _pa_2_3() -> None:
    assert _docs(NW, "reseller") == {"trade_reference"}


@clause("northwind", "PA-2.4", "issued or renewed within the previous 12 months")
def _pa_2_4() -> None:
    assert _docs(NW, "msp") == {
        "professional_liability_insurance",
        "cyber_liability_insurance",
        "security_attestation",
        "operations_contact",
    }
    assert _doc(NW, "security_attestation")["max_age_months"] == 12


@clause(
    "northwind",
    "PA-2.5",
    "evidence that at least one of its employees holds a valid certification under Section "
    "4 in each Product Family in which it will deliver Services",
)
def _pa_2_5() -> None:
    implementation = NW["onboarding"]["partner_types"]["implementation_partner"]
    assert implementation["min_valid_certifications"] >= 1
    assert set(implementation["documents"]) == {"professional_liability_insurance", "services_terms"}


@clause(
    "northwind",
    "PA-2.6",
    "In addition to the requirements for a Reseller in PA-2.3, a Regional Reseller must "
    "provide a territory declaration",
)
def _pa_2_6() -> None:
    regional = NW["onboarding"]["partner_types"]["regional_reseller"]
    assert _docs(NW, "reseller") <= set(regional["documents"]) and "territory" in regional["terms"]
    # "Quotes, orders and deal registrations for Customers whose billing address is outside the declared territory are
    # rejected" (auditor5: registrations, tests/unit/test_auditor5_territory.py)
    assert NW["deal_registration"]["territory"] == {"id": "DR-TERRITORY", "clause": "PA-2.6"}


@clause("northwind", "PA-2.7", "The Partner must keep each required insurance certificate valid at all times")
def _pa_2_7() -> None:
    for name in ("insurance_certificate", "professional_liability_insurance", "cyber_liability_insurance"):
        assert _doc(NW, name)["has_expiry"] is True, name


@clause("northwind", "PA-2.8", "Screening is repeated at least once every 12 months")
def _pa_2_8() -> None:
    assert _doc(NW, "compliance_screening")["max_age_months"] == 12


@clause(
    "northwind",
    "PA-3.1",
    "has met, or for a new or upgraded Partner has committed in writing to meet, its annual commitment",
)
def _pa_3_1() -> None:
    assert {"annual_commitment", "payment_terms_days"} == {t["term"] for t in NW["onboarding"]["required_terms"]}


@clause("contoso", "CPA-2.2", "(d) an extract from the commercial register dated within the last 3 months")
def _cpa_2_2() -> None:
    assert _docs(CT, "all") == {
        "signed_agreement",
        "tax_form",
        "insurance_certificate",
        "commercial_register_extract",
        "compliance_screening",
    }
    assert _doc(CT, "commercial_register_extract")["max_age_months"] == 3


@clause("contoso", "CPA-2.3", "A Partner established in the European Union must provide its VAT identification number")
def _cpa_2_3() -> None:
    assert "tax_form" in _docs(CT, "all") and _doc(CT, "tax_form")["clause"] == "CPA-2.3"
    # CPA-2.3: "Cross-border supplies within the EU are invoiced under the reverse-charge mechanism only while the
    # number validates": a DE partner of the NL-established tenant, validated two days before issue: reverse charge;
    # the same partner whose latest check failed: VAT.
    tax = tax_core.TaxPolicy.of(CT)
    assert tax is not None
    issue = date(2026, 11, 2)
    valid = {"result": "valid", "checked_at": "2026-10-31T09:00:00Z", "reference": "WAPI-1"}
    assert tax_core.treatment(tax, "DE", valid, issue)["treatment"] == "reverse_charge"
    assert tax_core.treatment(tax, "DE", {**valid, "result": "invalid"}, issue)["treatment"] == "vat"


@clause(
    "contoso",
    "CPA-2.4",
    "MSPs and Implementation Partners additionally maintain professional indemnity "
    "insurance of at least EUR 2,000,000.00 per claim, and MSPs cyber insurance",
)
def _cpa_2_4() -> None:
    assert "professional_liability_insurance" in _docs(CT, "msp") & _docs(CT, "implementation_partner")
    assert "cyber_liability_insurance" in _docs(CT, "msp") - _docs(CT, "implementation_partner")
    assert all(_doc(CT, d)["has_expiry"] for d in ("insurance_certificate", "professional_liability_insurance"))


@clause("contoso", "CPA-2.5", "a bank reference or two trade references and a declaration of its sales channels")
def _cpa_2_5() -> None:
    assert _docs(CT, "reseller") == _docs(CT, "regional_reseller") == {"references", "sales_channel_declaration"}
    assert "territory" in CT["onboarding"]["partner_types"]["regional_reseller"]["terms"]
    # "Orders and opportunity registrations for End Customers established outside those countries are rejected"
    # (auditor5: registrations, tests/unit/test_auditor5_territory.py)
    assert CT["deal_registration"]["territory"] == {"id": "DR-TERRITORY", "clause": "CPA-2.5"}


@clause("contoso", "CPA-2.6", "a description of its service desk hours and escalation contacts, and a signed data "
        "processing agreement with Contoso where it will operate Products processing End Customer personal data")
def _cpa_2_6() -> None:
    assert {"security_attestation", "service_desk_description"} <= _docs(CT, "msp")
    # "and a signed data processing agreement with Contoso where it will operate Products processing End Customer
    # personal data" (auditor5: it was not asked for)
    assert "data_processing_agreement" in _docs(CT, "msp")
    assert _doc(CT, "security_attestation")["max_age_months"] == 12


@clause("contoso", "CPA-2.7", "two reference projects completed within the last 24 months")
def _cpa_2_7() -> None:
    assert "reference_projects" in _docs(CT, "implementation_partner")
    assert CT["onboarding"]["partner_types"]["implementation_partner"]["min_valid_certifications"] >= 1


@clause("contoso", "CPA-2.8", "Screening is repeated every 12 months")
def _cpa_2_8() -> None:
    assert _doc(CT, "compliance_screening")["max_age_months"] == 12


@clause("contoso", "CPA-3.1", "Each tier has an annual commitment measured on the Partner's Qualifying Revenue")
def _cpa_3_1() -> None:
    assert {"annual_commitment", "payment_terms_days"} == {t["term"] for t in CT["onboarding"]["required_terms"]}


# --- price lists, promotions, rebates bookkeeping --------------------------------------------------------------------
def _off_list_line_refused(policy: dict[str, Any], ref: str) -> None:
    """No clause routes an item that is not on the price list to an approval: it is refused, citing the clause."""
    lines = [{"line_id": "ok", "sku": policy["billing"]["price_list"][0]["sku"]}, {"line_id": "x", "sku": "OFF-LIST"}]
    with pytest.raises(RuleViolation) as refused:
        price_lines(policy_catalog(policy), lines, "2026-11-27", policy["pricing"]["price_list_only"])
    assert [e.path for e in refused.value.errors] == ["/lines/1/sku"]
    assert refused.value.extra["clause"] == ref and ref in refused.value.detail


def _price_change_needs_notice(policy: dict[str, Any], ref: str, days: int) -> None:
    """A List Price change (up or down) in force before `days` after the import's day is named; from that day, not."""
    from revgov.domain.price_notice import notice_problems

    notice = policy["pricing"]["price_change_notice"]
    assert (notice["clause"], notice["days"]) == (ref, days)
    listed = policy["billing"]["price_list"][0]
    today = date(2026, 11, 10)
    for price in (Decimal(listed["list_price"]) + 1, Decimal(listed["list_price"]) - 1):
        soon = {**listed, "list_price": f"{price:.2f}", "effective_from": "2026-12-09"}
        named = notice_problems([listed], [soon], today=today, days=days, clause=ref)
        assert [e.path for e in named] == ["/rows/0/list_price"] and ref in named[0].message
        assert notice_problems([listed], [{**soon, "effective_from": "2026-12-10"}], today=today, days=days,
                               clause=ref) == []


@clause(
    "northwind",
    "PA-6.1",
    "Products are quoted from the Distributor's price list in force on the quote date. The Distributor may change "
    "the price list with 30 days' notice in the Partner Portal; … A quote is valid for 30 days from its issue date.",
)
def _pa_6_1() -> None:
    assert NW["pricing"]["quote_validity_days"] == 30
    families = {"networking", "security", "cloud-services", "hardware"}  # PA-1.1: "exactly one Product Family"
    assert all(item["family"] in families for item in NW["billing"]["price_list"])
    _off_list_line_refused(NW, "PA-6.1")
    _price_change_needs_notice(NW, "PA-6.1", 30)


@clause(
    "contoso",
    "CPA-6.1",
    "Prices are taken from the Contoso price list in force on the quote date. Contoso gives 30 days' notice of price "
    "changes in the Partner Portal. Quotes are valid for 21 days.",
)
def _cpa_6_1() -> None:
    assert CT["pricing"]["quote_validity_days"] == 21
    _off_list_line_refused(CT, "CPA-6.1")
    _price_change_needs_notice(CT, "CPA-6.1", 30)


def _change_calendar(policy: dict[str, Any], ref: str) -> None:
    """First day of a Billing Month only; no change made from the 5th last business day of a Quarter, nor until the
    Quarter's rebate run is approved (tests/unit/test_policy_calendar.py runs it through proposals and approvals)."""
    from revgov.domain.change_calendar import ChangeCalendar

    _policy_change_takes_effect_on_month_start(policy, ref)
    calendar = ChangeCalendar.from_policy(policy)
    assert calendar is not None and calendar.freeze == ("POLICY-CHANGE-FREEZE", ref)
    assert calendar.effective == ("POLICY-CHANGE-MONTH-START", ref)
    assert (calendar.freeze_days, calendar.until_rebate_run) == (5, True)
    now = datetime(2026, 11, 10, 10, tzinfo=UTC)
    calendar.check_effective(datetime(2026, 12, 1, tzinfo=UTC), now)
    for refused in (datetime(2026, 12, 2, tzinfo=UTC), None):  # at once on 2026-11-10 is not a first day either
        with pytest.raises(RuleViolation, match=ref):
            calendar.check_effective(refused, now)
    business = BusinessCalendar.from_policy(policy)
    assert calendar.freeze_start(date(2026, 12, 31), business) == date(2026, 12, 24)  # 25 Dec a holiday, 26-27 weekend
    calendar.check_may_be_made(datetime(2026, 12, 23, 23, 59, tzinfo=UTC), business, previous_quarter="2026-Q3",
                               previous_run_pending=False)
    for moment, pending in ((datetime(2026, 12, 24, tzinfo=UTC), False), (now, True)):
        with pytest.raises(RuleViolation, match=ref):
            calendar.check_may_be_made(moment, business, previous_quarter="2026-Q3", previous_run_pending=pending)


@clause(
    "northwind",
    "SOP-7.3",
    "Changes to the tenant policy (tiers, discount caps, rebate programs, rate tables and routing) take effect only on "
    "the first day of a Billing Month and are not made during the last 5 business days of a Quarter or before the "
    "rebate run for the Quarter is approved.",
)
def _sop_7_3() -> None:
    _change_calendar(NW, "SOP-7.3")


def _rate_notice(policy: dict[str, Any], ref: str) -> None:
    """A draft changing the usage rate tables takes effect no sooner than 30 days after it is proposed / decided
    (tests/unit/test_auditor4_rate_notice.py runs it through proposals and approvals)."""
    from revgov.domain.policy_change import notice_problem

    draft = {**policy, "billing": {**policy["billing"], "usage_rates": [{**policy["billing"]["usage_rates"][0],
                                                                         "model": "flat"}]}}  # fmt: skip
    now = datetime(2026, 11, 1, 10, tzinfo=UTC)
    assert notice_problem(policy, draft, datetime(2026, 12, 1, 10, tzinfo=UTC), now) is None  # 30 days
    assert notice_problem(policy, policy, datetime(2026, 11, 2, tzinfo=UTC), now) is None  # no rate changed
    for short in (datetime(2026, 12, 1, tzinfo=UTC), None):
        found = notice_problem(policy, draft, short, now)
        assert found is not None and (found.extra["clause"], found.errors[0].path) == (ref, "/effective_at")


@clause("northwind", "PA-10.5", "Rate tables are published in the SOP and may be changed with 30 days' notice, "
        "effective from the first day of a Billing Month.")
def _pa_10_5() -> None:
    _rate_notice(NW, "PA-10.5")


@clause("contoso", "CPA-10.4", "Rate changes take effect on the first day of a Billing Month after 30 days' notice.")
def _cpa_10_4() -> None:
    _rate_notice(CT, "CPA-10.4")


def _rebate_run_review(policy: dict[str, Any], ref: str) -> None:
    """The run of 2026-Q3 (ended 2026-09-30) is approved by 2026-10-30 and issued by 2026-11-14, by a second member
    of the finance queue: the preparer (or a key it minted since) is refused."""
    node = policy["rebates"]["settlement_approval"]
    assert (node["clause"], node["approve_within_days"], node["issue_within_days"]) == (ref, 30, 45)
    rule = settlement_run.Review.of(policy, Rule.of(policy["rebates"]["settlement"]))
    due = settlement_run.deadlines(rule, Period.parse("2026-Q3"))
    assert (due["approve_by"], due["issue_by"], due["clause"]) == ("2026-10-30", "2026-11-14", ref)
    run = {"settlement_id": "set_x", "status": "prepared", "prepared_by_key": "key_preparer"}
    segregation = Rule.of(policy["exception_routing"]["segregation_of_duties"])
    for holders in (frozenset({"key_preparer"}), frozenset({"key_minted_since", "key_preparer"})):
        with pytest.raises(Forbidden):
            settlement_run.refuse_reviewer(run, holders, segregation, approving=True)
    settlement_run.refuse_reviewer(run, frozenset({"key_second_member"}), segregation, approving=True)


@clause(
    "northwind",
    "SOP-7.2",
    "by Q + 30 days, Finance completes review of the rebate run, approved by a second member of the finance queue; "
    "by Q + 45 days, settlement statements and credit notes are issued under PA-7.8",
)
def _sop_7_2() -> None:
    _rebate_run_review(NW, "SOP-7.2")


@clause(
    "contoso",
    "COP-7.2",
    "Policy changes are not made in the last 5 business days of a Quarter or before the rebate run is approved, and "
    "take effect on the first day of a Billing Month.",
)
def _cop_7_2() -> None:
    _change_calendar(CT, "COP-7.2")
    # and: "rebate run approved by a second finance queue member by Q + 30 days; settlement statements and credit
    # notes issued by Q + 45 days"
    _rebate_run_review(CT, "COP-7.2")


@clause(
    "northwind",
    "PA-6.5",
    "Revenue on lines carrying an exclusive promotion is excluded from the quarterly volume "
    "rebate and the growth rebate under PA-7.7.",
)
def _pa_6_5() -> None:
    assert set(NW["rebates"]["exclusive_promotions"]["excluded_from"]) == {"RBT-VOLUME", "RBT-GROWTH"}
    assert [p["code"] for p in NW["pricing"]["promotions"] if p.get("exclusive")] == ["HW-CLEARANCE-Q4"]


@clause(
    "contoso", "CPA-6.5", "Revenue on lines carrying an exclusive campaign earns no rebate or SPIFF under Section 7."
)
def _cpa_6_5() -> None:
    assert set(CT["rebates"]["exclusive_promotions"]["excluded_from"]) == {
        "RBT-VOLUME",
        "RBT-GROWTH",
        "RBT-DEVICES-SPIFF",
    }


@clause(
    "northwind",
    "PA-7.1",
    "Rebates are not earned on taxes, freight, pass-through fees, MDF-funded purchases or "
    "orders placed while the Partner was suspended.",
)
def _pa_7_1() -> None:
    assert (
        NW["rebates"]["suspended_partners"]["clause"] == "PA-7.1" and route(NW, "rebate_leakage")["queue"] == "finance"
    )
    # "MDF-funded purchases": 80 switches (100,000.00) bought with MDF and 80 with the partner's money earn on
    # 100,000.00 only (1.0%, 1,000.00), not on 200,000.00 (1.0% too, 2,000.00)
    assert NW["rebates"]["mdf_funded"]["clause"] == "PA-7.1"
    assert _rated_volume(NW, "platinum", [("100000.00", True), ("100000.00", False)]) == Decimal("1000.00")


@clause(
    "contoso",
    "CPA-7.1",
    "No incentive is earned on indirect taxes, pass-through charges, MDF-funded purchases or "
    "orders placed during a suspension.",
)
def _cpa_7_1() -> None:
    assert CT["rebates"]["suspended_partners"]["clause"] == "CPA-7.1"
    # "No incentive is earned on ... MDF-funded purchases": EUR 80,000.00 funded and 80,000.00 not: 1.5% of 80,000.00
    assert CT["rebates"]["mdf_funded"]["clause"] == "CPA-7.1"
    assert _rated_volume(CT, "elite", [("80000.00", True), ("80000.00", False)]) == Decimal("1200.00")


def _rated_volume(policy: dict[str, Any], tier_name: str, sales: list[tuple[str, bool]]) -> Decimal:
    """The 2026-Q3 volume rebate of a partner of `tier_name` over sales of (amount, MDF-funded) in August 2026."""
    book = compile_rebates(policy)
    lines = [rebate_line({"line_id": f"inv_a.{n}", "invoice_id": "inv_a", "partner_id": "ptr_A", "period": "2026-08",
                          "service_period": {"start": "2026-08-05", "end": "2026-08-05"}, "kind": "shipment",
                          "family": "networking", "sku": "X", "quantity": "1", "net_amount": amount, "cost": None,
                          "event_id": f"evt_{n}", "order_ref": f"SO-{n}", **({"mdf_funded": True} if funded else {})})
             for n, (amount, funded) in enumerate(sales)]  # fmt: skip
    facts = {"ptr_A": PartnerFacts("ptr_A", tier_name, "reseller", date(2024, 1, 1).toordinal())}
    result = rate_period(book, SalesLedger.from_lines(lines, frozenset()), Period.parse("2026-Q3"), facts)
    return result.payable["ptr_A"]["RBT-VOLUME"]


@clause(
    "northwind",
    "PA-7.7",
    "(b) revenue on hardware lines that earn the SPIFF counts towards the volume rebate but "
    "is excluded from incremental revenue for the growth rebate",
)
def _pa_7_7() -> None:
    rules = {r["id"]: r for r in NW["rebates"]["exclusivity"]}
    assert rules["RBT-SPIFF-NOT-GROWTH"]["excluded_from"] == ["RBT-GROWTH"]  # not the volume rebate
    commission = rules["RBT-COMMISSION-NOT-REBATES"]  # "(c) [...] excluded from all rebates"
    assert set(commission["excluded_from"]) == {"RBT-VOLUME", "RBT-GROWTH", "RBT-HW-SPIFF"}
    assert route(NW, "duplicate_rebate")["queue"] == "finance"  # "(d) no line may earn the same incentive twice"


@clause(
    "contoso",
    "CPA-7.7",
    "(b) Devices lines that earn the SPIFF are excluded from both the volume rebate and the growth rebate.",
)
def _cpa_7_7() -> None:
    rules = {r["id"]: r for r in CT["rebates"]["exclusivity"]}
    assert set(rules["RBT-SPIFF-NOT-REBATES"]["excluded_from"]) == {"RBT-VOLUME", "RBT-GROWTH"}


@clause("contoso", "CPA-8.2", "A referral fee is never paid on revenue that also earns a rebate under Section 7.")
def _cpa_8_2() -> None:
    rules = {r["id"]: r for r in CT["rebates"]["exclusivity"]}
    assert set(rules["RBT-REFERRAL-NOT-REBATES"]["excluded_from"]) == {"RBT-VOLUME", "RBT-GROWTH", "RBT-DEVICES-SPIFF"}
    # and: "Referral fees are calculated per Billing Month and paid within 30 days after the end of the month in which
    # the End Customer paid."
    assert _program(CT, "RBT-REFERRAL")["earned_when_paid"]["clause"] == "CPA-8.2"
    _commission_deadlines(CT, "CPA-8.2", "COP-7.1")


@clause("contoso", "COP-7.1", "referral fees for M calculated by the 3rd business day")
def _cop_7_1() -> None:
    _commission_deadlines(CT, "CPA-8.2", "COP-7.1")


@clause(
    "contoso",
    "CPA-7.5",
    "Partners earn a SPIFF of EUR 15.00 per unit for devices Product Family items marked "
    "SPIFF-eligible in the price list, invoiced in the Quarter and not returned within 14 days of delivery.",
)
def _cpa_7_5() -> None:
    spiff = _program(CT, "RBT-DEVICES-SPIFF")
    assert Decimal(spiff["amount_per_unit"]) == 15 and spiff["unit_cap"]["units"] == 1000
    assert spiff["return_window_days"] == 14 and spiff["eligibility"]["families"] == ["devices"]
    window = {"id": "RBT-DEVICES-SPIFF-RETURN-WINDOW", "clause": "CPA-7.5", "from": "delivery"}
    assert spiff["return_window_from"] == window


@clause("northwind", "PA-7.8", "Finance calculates and settles rebates within 45 days after the end of each Quarter.")
def _pa_7_8() -> None:
    assert {p["payout"] for p in NW["rebates"]["programs"] if p["period"] == "quarter"} == {"credit_note"}


@clause("contoso", "CPA-7.8", "Settlement is by credit note")
def _cpa_7_8() -> None:
    assert {p["payout"] for p in CT["rebates"]["programs"] if p["period"] == "quarter"} == {"credit_note"}


@clause("northwind", "PA-7.10", "the Qualifying Revenue of that Quarter is reduced by the credit note amount")
def _pa_7_10() -> None:
    assert NW["rebates"]["retroactive_credits"]["clause"] == "PA-7.10"


@clause("contoso", "CPA-7.10", "Settled Quarters are not reopened.")
def _cpa_7_10() -> None:
    assert CT["rebates"]["retroactive_credits"]["clause"] == "CPA-7.10"


@clause("northwind", "PA-1.2", "net of all credit notes issued against those invoices, whenever issued")
def _pa_1_2() -> None:
    assert {p["basis"] for p in NW["rebates"]["programs"] if p["period"] == "quarter"} == {"invoiced"}


@clause("contoso", "CPA-1.2", "net of every credit note issued against those invoices, whenever issued")
def _cpa_1_2() -> None:
    assert {p["basis"] for p in CT["rebates"]["programs"] if p["period"] == "quarter"} == {"invoiced"}


# --- billing -------------------------------------------------------------------------------------------------------
@clause("northwind", "PA-10.1", "The Distributor issues one invoice per Partner per Billing Month")
def _pa_10_1() -> None:
    assert NW["billing"]["invoicing"]["clause"] == "PA-10.1"
    # PA-10.1: "Each invoice line identifies the billable event (shipment, activation, subscription period, usage,
    # milestone or adjustment)": a shipment is one billable event, billed once whatever ERP id it comes under
    # (tests/unit/test_shipment_billed_once.py); a repeat is held in a category SOP-4.1's matrix does not name.
    once = NW["billing"]["shipment_once"]
    assert (once["id"], once["clause"], once["category"]) == ("BILL-SHIPMENT-ONCE", "PA-10.1", "duplicate_shipment")
    assert "duplicate_shipment" not in NW["exception_routing"]["categories"]  # SOP-4.1: to triage
    # PA-10.1: "Taxes are calculated per line on the basis of the ship-to or service location and shown separately":
    # sales tax, never VAT; a line with no reported location gets no invented amount; one shipped to Texas is taxed at
    # Texas's rate in the demo table (6.25 %): 100.00 x 6.25 % = 6.25, shown on the line.
    tax = tax_core.TaxPolicy.of(NW)
    assert tax is not None and (tax.regime, tax.rule.clause) == ("sales_tax", "PA-10.1")
    line = {"line_id": "inv_1.1", "amount": "100.00", "service_period": {"start": "2026-10-05", "end": "2026-10-05"}}
    shown = tax_core.line_tax(tax, tax_core.treatment(tax, "US", None, date(2026, 11, 2)), line)
    assert (shown["treatment"], shown["amount"], shown["clause"]) == ("sales_tax", None, "PA-10.1")
    texas = {**line, "detail": {"tax_location": {"country": "US", "region": "US-TX"}}}
    shown = tax_core.line_tax(tax, tax_core.treatment(tax, "US", None, date(2027, 2, 1)), texas)
    assert (shown["jurisdiction"], shown["rate"], shown["amount"]) == ("US-TX", "6.25", "6.25")


@clause("contoso", "CPA-10.1", "Contoso issues one invoice per Partner per Billing Month")
def _cpa_10_1() -> None:
    assert CT["billing"]["invoicing"]["clause"] == "CPA-10.1"
    # CPA-10.1: invoices "identify for each line the event, service period, order reference and Product Family": one
    # shipment, one charge, whatever ERP id it comes under.
    once = CT["billing"]["shipment_once"]
    assert (once["id"], once["clause"], once["category"]) == ("BILL-SHIPMENT-ONCE", "CPA-10.1", "duplicate_shipment")
    # CPA-10.1: invoices "show VAT per line or the reverse-charge notice": 210.00 at the supplier's 21 % is 44.10 of
    # VAT; under the reverse charge no VAT and the notice (Directive 2006/112/EC art. 226(11a) "Reverse charge").
    tax = tax_core.TaxPolicy.of(CT)
    assert tax is not None
    line = {"line_id": "inv_1.1", "amount": "210.00", "service_period": {"start": "2026-10-05", "end": "2026-10-05"}}
    assert tax_core.line_tax(tax, {"treatment": "vat"}, line)["amount"] == "44.10"
    charged = tax_core.line_tax(tax, {"treatment": "reverse_charge"}, line)
    assert (charged["amount"], charged["notice"]) == ("0.00", "Reverse charge")


@clause(
    "northwind",
    "PA-10.7",
    "An event discovered after the invoice for its month was issued is billed on the next "
    "invoice with its original service period.",
)
def _pa_10_7() -> None:
    assert NW["billing"]["late_events"]["clause"] == "PA-10.7"


@clause("contoso", "CPA-10.2", "devices are billed on delivery")
def _cpa_10_2() -> None:
    rule = CT["billing"]["delivery_billing"]
    assert rule["families"] == ["devices"] and rule["clause"] == "CPA-10.2"
    assert {i["family"] for i in CT["billing"]["price_list"] if i["billing"] == "shipment"} == {"devices"}


@clause("contoso", "CPA-10.6", "must be invoiced within 48 hours of the event")
def _cpa_10_6() -> None:
    assert CT["billing"]["invoice_sla"]["hours"] == 48


def _late_invoice(total: str, issued: str) -> dict[str, Any]:
    return {"invoice_id": "inv_A", "partner_id": "ptr_A", "status": "finalized", "total": total,
            "finalized_at": f"{issued}T06:00:00Z", "paid_on": None}  # fmt: skip


@clause("northwind", "PA-10.8", "Overdue amounts bear interest at 1.0% per month or the maximum lawful rate, if "
        "lower. Where any amount is more than 30 days overdue, new orders are placed on credit hold")  # fmt: skip
def _pa_10_8() -> None:
    late = overdue_core.LatePayment.of(NW)
    assert late is not None
    unpaid = _late_invoice("10000.00", "2026-03-31")  # net 30 (PA-6.7): due 2026-04-30
    # 1.0% per month: May 31/31 + June 15/30 -> 10,000.00 x 1% x 1.5 = 150.00
    assert overdue_core.accrue(late, unpaid, 30, date(2026, 6, 15)).interest == Decimal("150.00")
    for on, held in ((date(2026, 5, 30), False), (date(2026, 5, 31), True)):  # 30 days, then 31
        found = overdue_core.overdue_invoices([unpaid], {}, 30, on, late.credit_hold_days).get("ptr_A", [])
        assert (overdue_core.credit_hold(late, found, on) is not None) is held


@clause("contoso", "CPA-10.7", "Late payments bear statutory interest for commercial transactions (the reference "
        "rate plus 8 percentage points) and a fixed compensation of EUR 40.00 per overdue invoice. Amounts overdue "
        "more than 30 days place new orders on credit hold")  # fmt: skip
def _cpa_10_7() -> None:
    late = overdue_core.LatePayment.of(CT)
    assert late is not None
    unpaid = _late_invoice("5000.00", "2026-04-01")  # due 2026-05-01
    # 30 days at 2.15 + 8 = 10.15% a year: 5,000.00 x 10.15% x 30/365 = 41.71; and EUR 40.00 for the invoice
    accrual = overdue_core.accrue(late, unpaid, 30, date(2026, 5, 31))
    assert (accrual.interest, accrual.compensation) == (Decimal("41.71"), Decimal("40.00"))
    found = overdue_core.overdue_invoices([unpaid], {}, 30, date(2026, 6, 1), late.credit_hold_days)["ptr_A"]
    assert overdue_core.credit_hold(late, found, date(2026, 6, 1)) is not None  # 31 days


@clause("northwind", "SOP-2.2", "Invoices with a total of USD 0.00 are not issued.")
def _sop_2_2() -> None:
    assert NW["billing"]["finalization"]["clause"] == "SOP-2.2"
    # SOP-2.2 names no queue for an unknown partner or SKU; SOP-4.1: "An item that matches no category goes to
    # channel_ops for triage within 8 hours." (auditor4: it was routed to finance citing SOP-2.2)
    assert "unknown_partner_or_sku" not in NW["exception_routing"]["categories"]
    triage = NW["exception_routing"]["triage"]
    assert (triage["queue"], triage["sla_hours"]) == ("channel_ops", 8)


@clause("contoso", "COP-2.2", "Invoices totalling EUR 0.00 are not issued")
def _cop_2_2() -> None:
    assert CT["billing"]["finalization"]["clause"] == "COP-2.2"
    # COP-2.2: "the Partner's VAT number must have validated in VIES within the last 30 days for reverse-charge lines,
    # otherwise VAT is charged at the applicable rate": issued 2026-11-01, a check of 2026-10-02 (30 days) holds, one
    # of 2026-10-01 (31 days) does not.
    tax = tax_core.TaxPolicy.of(CT)
    assert tax is not None and tax.within_days == 30
    for checked, kind in (("2026-10-02", "reverse_charge"), ("2026-10-01", "vat")):
        check = {"result": "valid", "checked_at": f"{checked}T09:00:00Z", "reference": "WAPI-2"}
        assert tax_core.treatment(tax, "DE", check, date(2026, 11, 1))["treatment"] == kind
    # COP-4.1: "Items matching no category go to channel_ops for triage within 12 hours." COP-2.2 names no queue.
    assert "unknown_partner_or_sku" not in CT["exception_routing"]["categories"]
    triage = CT["exception_routing"]["triage"]
    assert (triage["queue"], triage["sla_hours"]) == ("channel_ops", 12)


@clause(
    "contoso",
    "COP-2.3",
    "Proration under CPA-10.2 counts the activation day and every following day to the end of the month.",
)
def _cop_2_3() -> None:
    assert CT["billing"]["proration"]["method"] == "daily_inclusive"


@clause("contoso", "COP-3.2", "| 1 | first 500 | 0.40 |")
def _cop_3_2() -> None:
    [rate] = [r for r in CT["billing"]["usage_rates"] if r["clause"] == "COP-3.2"]
    assert [(b["up_to"], Decimal(b["rate"])) for b in rate["bands"]] == [
        (500, Decimal("0.40")),
        (5000, Decimal("0.32")),
        (25000, Decimal("0.25")),
        (None, Decimal("0.18")),
    ]


@clause("contoso", "COP-3.3", "| 1 | first 1,000 | 0.05 |")
def _cop_3_3() -> None:
    [rate] = [r for r in CT["billing"]["usage_rates"] if r["clause"] == "COP-3.3"]
    assert [(b["up_to"], Decimal(b["rate"])) for b in rate["bands"]] == [
        (1000, Decimal("0.05")),
        (10000, Decimal("0.04")),
        (None, Decimal("0.03")),
    ]


@clause("northwind", "SOP-3.4", "Each usage metric is rated once per Partner per Billing Month.")
def _sop_3_4() -> None:
    assert all(r["model"] == "graduated" for r in NW["billing"]["usage_rates"])
    assert "rating_failure" not in NW["exception_routing"]["categories"]  # SOP-3.4 names no queue: SOP-4.1 triage


@clause("contoso", "COP-3.4", "Each metric is rated once per Partner per Billing Month")
def _cop_3_4() -> None:
    assert all(r["model"] == "graduated" for r in CT["billing"]["usage_rates"])


@clause("northwind", "SOP-5.3", "premium onboarding requested by a Registered or Silver Partner")
def _sop_5_3() -> None:
    service = next(s for s in NW["billing"]["services"] if s["clause"] == "SOP-5.3")
    assert service["entitlement"] == "premium_onboarding"
    assert not ent(NW, "registered", "premium_onboarding") and not ent(NW, "silver", "premium_onboarding")
    assert route(NW, "out_of_scope_service")["queue"] == "customer_success"


@clause("contoso", "COP-5.3", "premium onboarding for an Authorized Partner")
def _cop_5_3() -> None:
    service = next(s for s in CT["billing"]["services"] if s["clause"] == "COP-5.3")
    assert service["entitlement"] == "premium_onboarding" and not ent(CT, "authorized", "premium_onboarding")


@clause("contoso", "COP-5.4", "those hours are billed at EUR 130.00 per hour")
def _cop_5_4() -> None:
    assert Decimal(CT["billing"]["support_overage"]["hourly_rate"]) == 130


def _term_notice_days(policy: dict[str, Any], clause_ref: str, last_day: date) -> None:
    """A notice of non-renewal on the last day is in time for this year end; a second later it is not (422 citing the
    clause, naming the next year end); without notice the agreement renews at year end."""
    from revgov.domain import renewals

    rule = renewals.term_rule(policy)
    assert rule is not None and rule.clause == clause_ref
    partner = {"partner_id": "ptr_1", "status": "active", "activated_at": "2026-03-10T09:00:00Z"}
    given = renewals.non_renewal(rule, partner, party="partner", notice={"reason": "leaving"}, by={},
                                 given_at=f"{last_day}T23:59:59Z")
    assert given["term"]["non_renewal"]["effective_at"] == "2026-12-31"
    late = (datetime.combine(last_day + timedelta(days=1), datetime.min.time(), UTC) + timedelta(seconds=1))
    with pytest.raises(RuleViolation) as refused:
        renewals.non_renewal(rule, partner, party="distributor", notice={"reason": "leaving"}, by={},
                             given_at=late.isoformat().replace("+00:00", "Z"))
    assert refused.value.extra["clause"] == clause_ref and refused.value.extra["earliest_effective_at"] == "2027-12-31"
    step = renewals.year_end_step(rule, partner, date(2027, 1, 1))
    assert step is not None and step.kind == "renewed" and step.partner["term"]["year_end"] == "2027-12-31"
    ended = renewals.year_end_step(rule, given, date(2027, 1, 1))
    assert ended is not None and ended.kind == "ended"


@clause("northwind", "PA-13.1", "renews automatically for successive Program Years unless either party gives notice "
        "of non-renewal at least 60 days before the end of the current Program Year")
def _pa_13_1() -> None:
    _term_notice_days(NW, "PA-13.1", date(2026, 11, 1))  # 1 November + 60 days = 31 December


@clause("contoso", "CPA-13.1", "renews for further Program Years unless either party gives notice at least 90 days "
        "before year end")
def _cpa_13_1() -> None:
    _term_notice_days(CT, "CPA-13.1", date(2026, 10, 2))  # 2 October + 90 days = 31 December


@clause("northwind", "PA-13.3", "The Distributor may terminate immediately on a confirmed compliance screening match")
def _pa_13_3() -> None:
    assert NW["onboarding"]["termination"]["clause"] == "PA-13.3"


@clause("contoso", "CPA-13.3", "Contoso may terminate immediately for a confirmed screening match")
def _cpa_13_3() -> None:
    assert CT["onboarding"]["termination"]["clause"] == "CPA-13.3"


def _automation_holds_credit_notes_above(tenant: str, sku: str, quantity: int, amount: str) -> None:
    """The ERP bridge (an automated workflow, `system:billing`) sends a credit note just above the limit: it is
    held for a finance approval, not posted."""
    from memory_store import Ledger
    from revgov.services import billing, credit_notes

    partner = "ptr_01JBNWPARTNER0000000000001"
    ledger = Ledger("2026-08-03T12:00:00Z", tenant=tenant)
    # CPA-10.2 "devices are billed on delivery" (reviewer finding 2): the ERP reports the delivery, the day shipped
    data = {"partner_id": partner, "order_ref": "SO-A", "shipped_on": "2026-08-03", "delivered_on": "2026-08-03",
            "lines": [{"sku": sku, "quantity": quantity}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", data, occurred_at="2026-08-03T10:00:00Z")["status"] == "processed"
    invoice = ledger.invoice(partner, "2026-08")
    ledger.clock.set("2026-08-20T12:00:00Z")
    note = {"partner_id": partner, "credit_note_ref": "CN-A", "invoice_id": invoice["invoice_id"], "line_no": 1,
            "reason": "goodwill", "amount": amount, "issued_on": "2026-08-20"}  # fmt: skip
    assert ledger.bill("credit_note.issued", note, occurred_at="2026-08-20T10:00:00Z")["status"] == "processed"
    lines = ledger.invoice(partner, "2026-08")["lines"]
    assert [x for x in lines if x["kind"] == "credit_note"] == []
    held = ledger.rt.store.query(tenant, credit_notes.HOLDS, limit=10).items
    assert [h.data["amount"] for h in held] == [amount] and held[0].data["prepared_by"] == billing.ACTOR


def _billing_run_holds_cancellation_credits_above(
    tenant: str, sku: str, seats: int, effective: str, amount: str
) -> None:
    """The monthly billing run (an automated workflow) charges November for a subscription whose cancellation it
    already knows: the unused-days credit above the limit is held for finance, not issued by the run."""
    from memory_store import Ledger
    from revgov.services import credit_notes, subscription_billing

    partner = "ptr_01JBNWPARTNER0000000000001"
    ledger = Ledger("2026-10-01T10:00:00Z", tenant=tenant)
    data = {"partner_id": partner, "subscription_id": "SUB-A", "sku": sku, "quantity": seats,
            "activated_on": "2026-10-01", "order_ref": "SO-A"}  # fmt: skip
    assert ledger.bill("subscription.activated", data, occurred_at="2026-10-01T09:00:00Z")["status"] == "processed"
    ledger.clock.set("2026-10-25T10:00:00Z")
    cancel = {"partner_id": partner, "subscription_id": "SUB-A", "effective_on": effective}
    assert ledger.bill("subscription.cancelled", cancel, occurred_at="2026-10-25T09:00:00Z")["status"] == "processed"
    ledger.clock.set("2026-11-01T00:05:00Z")
    assert subscription_billing.run(ledger.rt, tenant)["charged"] == 1
    assert [x["kind"] for x in ledger.invoice(partner, "2026-11")["lines"]] == ["subscription"]
    held = ledger.rt.store.query(tenant, credit_notes.HOLDS, limit=10).items
    assert [(h.data["amount"], h.data["reason"]) for h in held] == [(amount, "cancellation")]


@clause("northwind", "SOP-8.1", "They may not approve exceptions, issue credit notes above USD 10,000.00")
def _sop_8_1() -> None:
    _automation_holds_credit_notes_above("northwind", "NW-SRV-R2", 3, "10000.01")  # 3 x 5,200.00 = 15,600.00
    # 60 x NW-SEC-SUITE at 300.00 = 18,000.00 a month; cancelled after 10 Nov: 18,000.00 x 20 / 30 = 12,000.00
    _billing_run_holds_cancellation_credits_above("northwind", "NW-SEC-SUITE", 60, "2026-11-10", "12000.00")


@clause("contoso", "COP-8.1", "they may not approve exceptions, issue credit notes above EUR 5,000.00")
def _cop_8_1() -> None:
    _automation_holds_credit_notes_above("contoso", "CT-DEV-LAPTOP14", 5, "5000.01")  # 5 x 1,150.00 = 5,750.00
    # 25 x CT-DATA-WORKSPACE at 600.00 = 15,000.00 a month; cancelled after 19 Nov: 15,000.00 x 11 / 30 = 5,500.00
    _billing_run_holds_cancellation_credits_above("contoso", "CT-DATA-WORKSPACE", 25, "2026-11-19", "5500.00")


# --- when a policy change takes effect (SOP-7.3 / COP-7.2) ---------------------------------------------------------
def _policy_change_takes_effect_on_month_start(policy: dict[str, Any], ref: str) -> None:
    from revgov.domain import policy_change

    rule = policy["policy_changes"]["takes_effect"]
    assert rule["clause"] == ref
    for refused in ("2026-12-15T00:00:00Z", "2026-12-01T00:00:01Z", "2026-11-30T23:59:59Z"):
        problem = policy_change.effective_problem(policy, refused, at(refused))
        assert problem is not None and problem.extra["clause"] == ref, refused
    for accepted in ("2026-12-01T00:00:00Z", "2027-01-01T00:00:00.000Z"):
        assert policy_change.effective_problem(policy, accepted, at(accepted)) is None, accepted


# SOP-7.3 / COP-7.2 are registered once, with the freeze, under "price lists, promotions" above.


# --- the tier a certification lapse leaves (auditor) --------------------------------------------------------------
@clause(
    "northwind",
    "PA-3.7",
    "if a Partner does not hold a certification required for its tier for more than 90 consecutive days, the Partner "
    "is downgraded to the highest tier whose certification requirements it meets, effective on the first day of the "
    "following Billing Month. Entitlements are already reduced from the moment of expiry under PA-4.3.",
)
def _pa_3_7() -> None:
    _downgrade_after(NW, "PA-3.7", 90)


@clause(
    "contoso",
    "CPA-3.6",
    "A Partner that lacks a required certification for more than 60 consecutive days is downgraded to the highest "
    "tier whose certification requirements it meets from the first day of the following Billing Month. Entitlements "
    "are already reduced from the moment of expiry under CPA-4.3.",
)
def _cpa_3_6() -> None:
    _downgrade_after(CT, "CPA-3.6", 60)


def _downgrade_after(policy: dict[str, Any], ref: str, days: int) -> None:
    assert policy["tier_downgrade"] == {"id": "TIER-CERT-DOWNGRADE", "clause": ref, "certification_lapse_days": days}
    # PA-3.7 "The Distributor gives 30 days' written notice and the downgrade takes effect on the first day of the next
    # Quarter after the notice period ends" / CPA-3.6 "after 45 days' written notice, from the first day of the next
    # Quarter after the notice period" (auditor5): a review on 20 January, notice ends 19 February / 6 March → 1 April
    # CPA-3.6 "A Partner that does not meet its tier's annual commitment at a review is moved" (auditor6: only then)
    notice, ends = {"PA-3.7": (30, "2027-02-19"), "CPA-3.6": (45, "2027-03-06")}[ref]
    when = {"PA-3.7": {}, "CPA-3.6": {"when": "commitment_missed"}}[ref]
    assert policy["tier_review"]["downgrade"] == {"id": "TIER-COMMITMENT-DOWNGRADE", "clause": ref,
                                                  "notice_days": notice, **when}
    from revgov.domain.partners import tier_review

    assert tier_review.downgrade_effective(date(2027, 1, 20), notice) == (date.fromisoformat(ends), date(2027, 4, 1))


# --- the tier reviews (auditor5; the figures: tests/unit/test_auditor5_tier_review.py) -----------------------------
def _review(policy: dict[str, Any], tier_name: str, certs: list[str], day: str, revenue: str) -> dict[str, Any]:
    from revgov.domain.partners import tier_review

    partner = {"partner_id": "ptr_x", "tier": tier_name,
               "certifications": {c: {"earned_at": "2025-06-01", "expires_at": "2027-12-31"} for c in certs}}
    return tier_review.findings(policy, partner, date.fromisoformat(day), Decimal(revenue))


@clause(
    "northwind",
    "PA-3.6",
    "Channel Operations reviews every Partner's tier once per Program Year, by 31 January, using Annual Revenue for "
    "the previous Program Year and the certifications valid on the review date. … Upgrades take effect on the first "
    "day of the Billing Month following approval. A mid-year review is performed in July; a Partner whose Annual "
    "Revenue to date is below 40% of its tier's annual commitment is placed on watch and notified.",
)
def _pa_3_6() -> None:
    upgrade = _review(NW, "silver", ["cert-network-core", "cert-security-pro"], "2027-01-31", "1000000.00")
    assert (upgrade["basis"], upgrade["outcome"], upgrade["qualified_tier"], upgrade["effective_on"]) == (
        {"from": "2026-01-01", "to": "2026-12-31"}, "upgrade", "gold", "2027-02-01")
    watch = _review(NW, "silver", ["cert-network-core"], "2027-07-01", "99999.99")  # 40% of 250,000.00 = 100,000.00
    assert (watch["outcome"], watch["watch_floor"]) == ("watch", "100000.00")


@clause(
    "contoso",
    "CPA-3.5",
    "Channel Operations reviews tiers twice per Program Year: in January on the previous Program Year's Qualifying "
    "Revenue, and in July on the trailing four Quarters. A Partner meeting the requirements of a higher tier is "
    "upgraded from the first day of the following Billing Month.",
)
def _cpa_3_5() -> None:
    certs = ["cert-collab-associate", "cert-secops-analyst"]
    january = _review(CT, "authorized", certs, "2027-01-31", "150000.00")
    assert (january["basis"], january["outcome"], january["effective_on"]) == (
        {"from": "2026-01-01", "to": "2026-12-31"}, "upgrade", "2027-02-01")
    july = _review(CT, "authorized", certs, "2027-07-31", "150000.00")
    assert (july["basis"], july["outcome"], july["effective_on"]) == (
        {"from": "2026-07-01", "to": "2027-06-30"}, "upgrade", "2027-08-01")


# --- the usage cut-off (auditor) ------------------------------------------------------------------------------------
@clause(
    "northwind",
    "SOP-3.1",
    "Usage records received up to 5 calendar days after the end of the month are included in that month's rating; "
    "later records are rated in the next run as an adjustment carrying their original service period.",
)
def _sop_3_1() -> None:
    _usage_cutoff(NW, "SOP-3.1", 5)


@clause(
    "contoso",
    "COP-3.1",
    "Records received up to 3 calendar days after month end are rated with that month; later records are rated the "
    "following month as adjustments carrying their original service period.",
)
def _cop_3_1() -> None:
    _usage_cutoff(CT, "COP-3.1", 3)


def _usage_cutoff(policy: dict[str, Any], ref: str, days: int) -> None:
    cutoff = policy["billing"]["usage_cutoff"]
    assert cutoff == {"id": "BILL-USAGE-CUTOFF", "clause": ref, "days_after_month_end": days}
    month_end = date(2026, 11, 30)
    assert billed_in("2026-11", month_end + timedelta(days=days), days) == ("2026-12", False)
    assert billed_in("2026-11", month_end + timedelta(days=days + 1), days) == ("2027-01", True)


# --- records relating to the Partner (PA-12.1 / CPA-12.1) ------------------------------------------------------------
def _records_relating_to_the_partner(tenant: str) -> None:
    """The audit trail knows which partner each decision and approval concerns (under the chain's hash), and the
    partner's copy of its records names no other partner and no staff key."""
    mine, rival = "ptr_01JBNWPARTNER0000000000001", "ptr_01JBNWPARTNER0000000000002"
    staff = Principal(tenant, Role.CHANNEL_OPS, "key_01JBNWSTAFF0000000000000A")
    partner_key = Principal(tenant, Role.PARTNER, "key_01JBNWPKEY00000000000000A", partner_id=mine)
    entries = [
        AuditEntry(actor="system:erp", action="invoice_lines.posted", subject="inv_1", outcome="posted",
                   inputs={"partner_id": mine}),  # an automated decision, its subject the invoice
        AuditEntry.by(partner_key, "pricing.checked", "dec_1", "approval_required",
                      inputs={"rivals": {"networking": {"partner_id": rival, "registration_id": "dl_1"}}}),
        AuditEntry.by(staff, "deal.approved", "dl_2", "approved", partner_id=mine),  # an approval
        AuditEntry(actor="system:x", action="policy.activated", subject="v2", outcome="active"),  # no partner's
    ]  # fmt: skip
    records, prev = [], GENESIS
    for seq, entry in enumerate(entries, start=1):
        records.append(seal(entry, tenant_id=tenant, seq=seq, record_id=f"aud_{seq}", at="2026-10-05T10:00:00Z",
                            prev_hash=prev))  # fmt: skip
        prev = records[-1]["hash"]
    assert [r.get("partner_id") for r in records] == [mine, mine, mine, None]
    assert verify(records).valid and not verify([{**records[0], "partner_id": rival}, *records[1:]]).valid
    shown = json.dumps([partner_view(r, mine) for r in records[:3]])
    assert rival not in shown and "dl_1" not in shown and staff.key_id not in shown and partner_key.key_id not in shown


def _incident_notice_hours(policy: Any, hours: int) -> None:
    """A notice at the deadline is within it; a second later it is late; unsent past it, overdue; the late or unsent
    notice is routed to legal."""
    from datetime import UTC, datetime, timedelta

    from revgov.domain import security_incidents as incidents

    rule = incidents.IncidentRule.of(policy)
    assert rule is not None and rule.notify_within_hours == hours
    aware = datetime(2026, 12, 1, 8, tzinfo=UTC)
    deadline = aware + timedelta(hours=hours)
    body = {"became_aware_at": "2026-12-01T08:00:00Z", "summary": "breach"}
    at_deadline = incidents.record(rule, body, incident_id="sin_1", partner_id="ptr_1", by_partner=True,
                                   now=deadline, by="partner")  # fmt: skip
    a_second_late = incidents.record(rule, body, incident_id="sin_2", partner_id="ptr_1", by_partner=True,
                                     now=deadline + timedelta(seconds=1), by="partner")  # fmt: skip
    assert (at_deadline["notice"], a_second_late["notice"]) == ("on_time", "late")
    unsent = incidents.record(rule, body, incident_id="sin_3", partner_id="ptr_1", by_partner=False, now=aware,
                              by="legal")  # fmt: skip
    assert incidents.notice_state(unsent, deadline) == "pending"
    assert incidents.notice_state(unsent, deadline + timedelta(seconds=1)) == "overdue"
    assert policy["exception_routing"]["categories"][rule.category]["queue"] == "legal"


@clause("northwind", "PA-11.2", "Each party notifies the other without undue delay, and in any event within 72 hours, "
        "of a security incident affecting the other's data, and cooperates in its investigation.")
def _pa_11_2() -> None:
    _incident_notice_hours(NW, 72)


@clause("contoso", "CPA-11.2", "Personal data breaches are notified to the other party without undue delay and within "
        "48 hours of becoming aware.")
def _cpa_11_2() -> None:
    _incident_notice_hours(CT, 48)


def _partner_audit_numbers(policy: Any, notice_on: str, earliest: str, too_early: str, percent: str) -> None:
    """The audit's notice (the first day it may start, and the day before it refused) and its percentage (exactly
    it is not "more than"; a cent above is) as the policy's `partner_audits` rule reads them."""
    from datetime import UTC, datetime

    from revgov.domain import partner_audits as audits
    from revgov.domain.calendar import BusinessCalendar

    rule = audits.AuditRule.of(policy)
    assert rule is not None
    calendar = BusinessCalendar.from_policy(policy, "DE")
    start = rule.earliest_start(datetime.fromisoformat(notice_on).replace(tzinfo=UTC), calendar)
    assert start.isoformat() == earliest and too_early < earliest
    zero = {k: Decimal("0.00") for k in audits.INCENTIVES}
    due = {**zero, "rebate": Decimal("1000.00")}
    at = Decimal("1000.00") * (100 + Decimal(percent)) / 100
    exactly = audits.finding(rule, "2026-Q3", {**zero, "rebate": at}, due, at="", by="")
    above = audits.finding(rule, "2026-Q3", {**zero, "rebate": at + Decimal("0.01")}, due, at="", by="")
    assert (exactly["repayable"], above["repayable"]) == (False, True)
    assert above["repayment"] == f"{at - Decimal('1000.00') + Decimal('0.01'):.2f}"


@clause("northwind", "PA-12.1", "On 30 days' written notice, and no more than once per Program Year unless a previous "
        "audit found a discrepancy … Where an audit finds that incentives were overpaid by more than 5% for any "
        "Quarter, the Partner repays the overpayment and bears the reasonable cost of the audit. … The Distributor "
        "keeps an audit trail of every automated decision and approval under this Agreement and provides the Partner, "
        "on request, with the records relating to the Partner.")
def _pa_12_1() -> None:
    _records_relating_to_the_partner("northwind")
    _partner_audit_numbers(NW, "2026-11-02T10:00:00", "2026-12-02", "2026-12-01", "5")


@clause("contoso", "CPA-12.1", "Contoso may audit them on 20 business days' notice, once per Program Year unless a "
        "discrepancy was found … Where incentives were overpaid by more than 3% in a Quarter, the Partner repays them "
        "and bears the audit cost. Contoso keeps an audit trail of every automated decision and approval and provides "
        "the Partner with its own records on request.")
def _cpa_12_1() -> None:
    _records_relating_to_the_partner("contoso")
    _partner_audit_numbers(CT, "2026-11-02T09:00:00", "2026-11-30", "2026-11-27", "3")


# --- the suite's own guarantees --------------------------------------------------------------------------------------
@pytest.mark.parametrize("tenant_ref", sorted(ACCEPTANCE), ids=[f"{t}:{r}" for t, r in sorted(ACCEPTANCE)])
def test_clause(tenant_ref: tuple[str, str]) -> None:
    _, check = ACCEPTANCE[tenant_ref]
    check()


@pytest.mark.parametrize("tenant_ref", sorted(ACCEPTANCE), ids=[f"{t}:{r}" for t, r in sorted(ACCEPTANCE)])
def test_every_quote_is_the_contract_text(tenant_ref: tuple[str, str]) -> None:
    tenant, ref = tenant_ref
    quote, _ = ACCEPTANCE[tenant_ref]
    section = " ".join(CONTRACTS[tenant].split(f"### {ref} ")[1].split("\n### ")[0].split())
    for part in quote.split(" … "):  # a quote may join several passages of the clause
        assert " ".join(part.split()) in section, f"{ref} does not say: {part}"


def cited_clauses(policy: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(policy, dict):
        if isinstance(policy.get("clause"), str):
            found.add(policy["clause"])
        for value in policy.values():
            found |= cited_clauses(value)
    elif isinstance(policy, list):
        for value in policy:
            found |= cited_clauses(value)
    return found


@pytest.mark.parametrize("tenant", sorted(POLICY))
def test_every_clause_a_rule_cites_has_an_acceptance_test(tenant: str) -> None:
    cited = cited_clauses(POLICY[tenant])
    accepted = {ref for t, ref in ACCEPTANCE if t == tenant}
    assert not cited - accepted, (
        f"clauses cited by {tenant}'s rules with no acceptance test: {sorted(cited - accepted)}"
    )
    missing_text = sorted(ref for ref in cited if f"### {ref} " not in CONTRACTS[tenant])
    assert not missing_text, f"{tenant}'s rules cite clauses its contracts do not have: {missing_text}"


def test_business_day_sla_is_not_48_calendar_hours() -> None:
    """The defect: PA-5.2's "2 business days" was 48 elapsed hours, due on a Sunday for a Friday registration."""
    review = cases.route_for(NW, "deal_registration_review")
    friday = "2026-11-20T10:00:00.000Z"
    assert review.due(friday) != "2026-11-22T10:00:00.000Z"
    assert at(review.due(friday)).astimezone(UTC).weekday() < 5
