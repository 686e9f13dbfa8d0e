"""Partners: the onboarding lifecycle as a state machine, the checks that gate activation, entitlements as of a time.

Pure: the tenant policy, the partner record and the time are handed in. Every answer cites the rule id and the
contract clause it rests on, taken from `policy.onboarding`, `policy.partner_tiers` and `policy.certifications`.

- `rules`: lookups into the policy, the rule reference answers cite, the policy's consistency check;
- `lifecycle`: the state machine, an application, its terms, the approval decided, suspend / reinstate / terminate;
- `evidence`: documents and certifications recorded and valid as of a day, product families an expiry bars;
- `assessment`: the checks that gate activation and the submission they decide;
- `entitlements`: what the partner is entitled to at a time;
- `backfill`: an onboarding that happened before Revgov recorded it, replayed at its own instants;
- `departures`: a certified individual leaving (PA-4.4 / CPA-4.2), the notice owed and its breach.
"""

from .assessment import Assessment, activation_route, assess, submitted, tier_unmet
from .backfill import BACKFILL_ACTOR, Filed, OnboardingHistory, backfilled
from .departures import Departure, QuoteSeen, late_notice_reason, quotes_while_unnotified, record_departure
from .entitlements import below_deployment_floor, effective_tier, entitlement, entitlements, held_tier
from .evidence import (
    accepted_for_filing,
    barred_families,
    certified_families,
    counts_until,
    family_expired_on,
    family_expiry_gaps,
    insurance_minimum,
    record_certification,
    record_document,
    valid_certifications,
    valid_on,
)
from .lifecycle import (
    STATUSES,
    TAKES_EVIDENCE,
    TAKES_TERMS,
    TRANSITIONS,
    amended_terms,
    awaiting_approval,
    decided,
    moved_to,
    new_application,
    not_onboarded_on,
    suspended_when,
)
from .model import Partner
from .rules import (
    accepted_documents,
    document_key,
    entitlement_names,
    onboarding_problems,
    required_documents,
    required_terms,
    rule_ref,
    tiers_by_rank,
)
from .standing import ACTOR as STANDING_ACTOR
from .standing import application_lapse, insurance_lapse, moved_by_rule, standing_step

__all__ = [
    "BACKFILL_ACTOR",
    "STANDING_ACTOR",
    "STATUSES",
    "TAKES_EVIDENCE",
    "TAKES_TERMS",
    "TRANSITIONS",
    "Assessment",
    "Departure",
    "Filed",
    "OnboardingHistory",
    "Partner",
    "QuoteSeen",
    "accepted_documents",
    "accepted_for_filing",
    "activation_route",
    "amended_terms",
    "application_lapse",
    "assess",
    "awaiting_approval",
    "backfilled",
    "barred_families",
    "below_deployment_floor",
    "certified_families",
    "counts_until",
    "decided",
    "document_key",
    "effective_tier",
    "entitlement",
    "entitlement_names",
    "entitlements",
    "family_expired_on",
    "family_expiry_gaps",
    "held_tier",
    "insurance_lapse",
    "insurance_minimum",
    "late_notice_reason",
    "moved_by_rule",
    "moved_to",
    "new_application",
    "not_onboarded_on",
    "onboarding_problems",
    "quotes_while_unnotified",
    "record_certification",
    "record_departure",
    "record_document",
    "required_documents",
    "required_terms",
    "rule_ref",
    "standing_step",
    "submitted",
    "suspended_when",
    "tier_unmet",
    "tiers_by_rank",
    "valid_certifications",
    "valid_on",
]
