"""The checks that gate activation: terms complete, documents present and current, certifications valid, the tier
the partner earns, and whether its terms need the non-standard approval; then the submission those checks decide."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ..access import Principal
from ..errors import Conflict, RuleViolation
from ..money import format_money, parse_money
from ..time import add_months, parse_day, parse_instant
from .evidence import counts_until, last_counted_before, valid_certifications, valid_on
from .lifecycle import TAKES_SUBMISSION, moved, require
from .rules import onboarding, payment_terms, required_documents, required_terms, rule_ref, tier, tiers_by_rank
from .standing import application_lapse


@dataclass(frozen=True)
class Assessment:
    """What a submission found: the gaps to close, the tier the partner qualifies for, and why."""

    checked_at: str
    requested_tier: str
    qualified_tier: str | None
    missing: tuple[dict[str, Any], ...]
    tier_shortfall: tuple[dict[str, Any], ...]
    nonstandard_terms: tuple[dict[str, Any], ...]
    reasons: tuple[dict[str, Any], ...]

    @property
    def complete(self) -> bool:
        return not self.missing and self.qualified_tier is not None

    def rule_refs(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        rule_ids = tuple(dict.fromkeys(r["rule_id"] for r in self.reasons))
        clauses = tuple(dict.fromkeys(r["clause"] for r in self.reasons))
        return rule_ids, clauses

    def as_dict(self) -> dict[str, Any]:
        """The fields in order (tuples as lists), with `complete` after `checked_at`."""
        shown = {name: list(value) if isinstance(value, tuple) else value for name, value in vars(self).items()}
        return {"checked_at": shown.pop("checked_at"), "complete": self.complete, **shown}


def _gap(kind: str, name: str, problem: str, rule: Mapping[str, Any], message: str, action: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "name": name,
        "problem": problem,
        "rule_id": rule["id"],
        "clause": rule["clause"],
        "message": message,
        "action": action,
    }


# --- gaps ------------------------------------------------------------------------------------
def term_gaps(policy: Mapping[str, Any], partner: Mapping[str, Any]) -> list[dict[str, Any]]:
    terms = partner.get("terms", {})
    return [
        _gap("term", term, "missing", rule, f"the commercial term {term} is not given", f"add {term} to the terms")
        for term, rule in required_terms(policy, partner["partner_type"]).items()
        if terms.get(term) is None or terms.get(term) in ("", [])
    ]


def max_age_months(rule: Mapping[str, Any], country: str | None) -> int | None:
    """How many months old the document may be for a partner established in `country`: `max_age_months`, else
    `max_age_outside.months` where the country is recorded and not one of its `countries` (CPA-2.3: a partner
    "established outside the EU must provide a certificate of tax residence issued within the last 12 months")."""
    outside = rule.get("max_age_outside")
    if outside and country and country not in outside["countries"]:
        return int(outside["months"])
    months = rule.get("max_age_months")
    return int(months) if months else None


def _document_gap(kind: str, requirement: Mapping[str, Any], rule: Mapping[str, Any],
                  record: Mapping[str, Any] | None, day: date, country: str | None) -> dict[str, Any] | None:
    """What is wrong with the document of type `kind` on file on `day` for a partner established in `country`
    (missing, expired, too old), or None."""
    if record is None:
        return _gap("document", kind, "missing", requirement, f"no {kind} is on file",
                    f"file a {kind} document ({rule.get('name', kind)})")
    if not valid_on(record, day):
        return _gap("document", kind, "expired", rule,
                    f"the {kind} on file expired on {record['expires_at']}; an expired document counts as missing",
                    f"file a renewed {kind} document")
    months = max_age_months(rule, country)
    if months and add_months(parse_day(record["issued_at"]), months) < day:
        return _gap("document", kind, "too_old", rule,
                    f"the {kind} on file was issued on {record['issued_at']}, more than {months} months ago",
                    f"file a {kind} document issued within the last {months} months")
    return None


def document_gaps(policy: Mapping[str, Any], partner: Mapping[str, Any], day: date) -> list[dict[str, Any]]:
    catalogue = onboarding(policy).get("document_types", {})
    on_file, country = partner.get("documents", {}), partner.get("country")
    found = (
        _document_gap(kind, requirement, catalogue.get(kind, requirement), on_file.get(kind), day, country)
        for kind, requirement in required_documents(policy, partner["partner_type"]).items()
    )
    return [gap for gap in found if gap is not None]


def certification_gaps(policy: Mapping[str, Any], partner: Mapping[str, Any], day: date) -> list[dict[str, Any]]:
    type_rule = onboarding(policy)["partner_types"][partner["partner_type"]]
    needed = int(type_rule.get("min_valid_certifications", 0))
    if len(valid_certifications(partner, day)) >= needed:
        return []
    return [_gap("certification", "any", "missing", type_rule,
                 f"a {partner['partner_type']} needs at least {needed} valid certification(s)",
                 "record a valid certification from the catalogue")]


# --- tiers and terms -------------------------------------------------------------------------
def _ended(record: Mapping[str, Any]) -> str:
    """Why a certification earned by `day` no longer counts: its expiry, or its last holder's departure (PA-4.4)."""
    end = counts_until(record)
    if end is None:
        return "is not yet valid"
    if record.get("holder_left_on") and end == parse_day(record["holder_left_on"]):
        return f"stopped counting on {end.isoformat()}, its last certified individual's last day of employment"
    return f"expired on {end.isoformat()}"


def tier_unmet(
    rule: Mapping[str, Any], partner: Mapping[str, Any], day: date, commitment: Decimal | None
) -> list[dict[str, Any]]:
    """What keeps the partner from the tier `rule`; commitment None means: do not judge the commitment."""
    unmet = []
    need = parse_money(rule["requirements"]["annual_commitment"])
    if commitment is not None and commitment < need:
        unmet.append(rule_ref(rule, f"the annual commitment {format_money(commitment)} is below the {rule['name']} "
                                    f"tier's {format_money(need)}"))
    held = partner.get("certifications", {})
    for cert_id in rule["requirements"]["certifications"]:
        record = held.get(cert_id)
        if record is None:
            unmet.append(rule_ref(rule, f"{cert_id}, required for {rule['name']}, is not held"))
        elif not valid_on(record, day):
            lapsed = last_counted_before(record, day)
            if lapsed is None:
                when = f"was not yet earned ({record['earned_at']})"
            elif lapsed == counts_until(record):
                when = _ended(record)
            else:  # a day between a lapse and the renewal recorded after it
                when = f"expired on {lapsed.isoformat()}"
            unmet.append(rule_ref(rule, f"{cert_id}, required for {rule['name']}, {when}"))
    return unmet


def _nonstandard(policy: Mapping[str, Any], terms: Mapping[str, Any], tier_name: str | None) -> list[dict[str, Any]]:
    """Terms that need the non-standard approval: payment terms outside the tier's standard, or special terms."""
    found = []
    days = terms.get("payment_terms_days")
    standard = payment_terms(policy)
    if days is not None and standard is not None:
        allowed = set(standard.get("standard_days_by_tier", {}).get(tier_name, standard["standard_days"]))
        if days not in allowed:
            shown = " or ".join(f"net {d}" for d in sorted(allowed))
            found.append(rule_ref(standard, f"payment terms of net {days} are not standard for this tier ({shown})"))
    if terms.get("special_terms"):
        rule = onboarding(policy)["nonstandard_terms_approval"]
        found.append(rule_ref(rule, "the application asks for special terms, which are not standard"))
    return found


@dataclass(frozen=True)
class _TierVerdict:
    qualified: dict[str, Any] | None
    shortfall: list[dict[str, Any]]
    gaps: list[dict[str, Any]]
    reasons: list[dict[str, Any]]


def _tier_verdict(policy: Mapping[str, Any], partner: Mapping[str, Any], day: date) -> _TierVerdict:
    """The highest tier up to the requested one the partner meets, what the requested one lacks, and why."""
    terms = partner.get("terms", {})
    commitment = parse_money(terms["annual_commitment"]) if terms.get("annual_commitment") else Decimal(0)
    requested = tier(policy, partner["requested_tier"])
    if requested is None:
        raise RuleViolation(f"the requested tier {partner['requested_tier']} is no longer in the policy")
    eligible = [t for t in tiers_by_rank(policy) if int(t["rank"]) <= int(requested["rank"])]
    qualified = next((t for t in reversed(eligible) if not tier_unmet(t, partner, day, commitment)), None)
    shortfall = tier_unmet(requested, partner, day, commitment)
    if qualified is None:
        lowest = eligible[0]
        gap = _gap("tier", lowest["tier"], "unmet", lowest, f"the partner meets no tier up to {requested['name']}",
                   "record the certifications or commitment the lowest tier requires")
        return _TierVerdict(None, shortfall, [gap], [])
    reasons = [rule_ref(qualified, f"qualifies for the {qualified['name']} tier")]
    if qualified is not requested:
        note = f"{requested['name']} was requested but is not met; assigned {qualified['name']}"
        reasons += [rule_ref(requested, note), *shortfall]
    return _TierVerdict(qualified, shortfall, [], reasons)


def assess(policy: Mapping[str, Any], partner: Mapping[str, Any], at: str) -> Assessment:
    """Completeness of terms, documents present and current, certifications valid, and the tier it earns."""
    day = parse_instant(at).date()
    missing = term_gaps(policy, partner) + document_gaps(policy, partner, day)
    missing += certification_gaps(policy, partner, day)
    verdict = _tier_verdict(policy, partner, day)
    missing += verdict.gaps
    qualified = verdict.qualified["tier"] if verdict.qualified else None
    nonstandard = _nonstandard(policy, partner.get("terms", {}), qualified)
    reasons = [*verdict.reasons, *nonstandard, *({k: gap[k] for k in ("rule_id", "clause", "message")}
                                                 for gap in missing)]
    return Assessment(
        checked_at=at,
        requested_tier=partner["requested_tier"],
        qualified_tier=qualified,
        missing=tuple(missing),
        tier_shortfall=tuple(verdict.shortfall),
        nonstandard_terms=tuple(nonstandard),
        reasons=tuple(reasons),
    )


def activation_route(policy: Mapping[str, Any], assessment: Assessment) -> tuple[str, dict[str, Any]]:
    """The approval category for activation: the default queue, or the one for non-standard terms."""
    rule = onboarding(policy)["nonstandard_terms_approval" if assessment.nonstandard_terms else "activation_approval"]
    return rule["category"], rule


def submitted(
    policy: Mapping[str, Any], partner: Mapping[str, Any], *, by: Principal, at: str
) -> tuple[dict[str, Any], Assessment]:
    """Run the checks: with gaps the partner waits for documents; complete, it waits for approval."""
    require(partner, TAKES_SUBMISSION, "be submitted")
    lapse = application_lapse(policy, partner, parse_instant(at).date())
    if lapse is not None:  # PA-2.9 / CPA-2.9: lapsed, "must be resubmitted" as a new application
        raise Conflict(lapse["message"], extra={"current_status": partner["status"], "allowed_next": ["lapsed"],
                                                "rule_id": lapse["rule_id"], "clause": lapse["clause"]})
    assessment = assess(policy, partner, at)
    target = "pending_approval" if assessment.complete else "pending_documents"
    moved_partner = moved(partner, target, at=at, by=by, reason=None)
    return {
        **moved_partner,
        "assessment": assessment.as_dict(),
        "proposed_tier": assessment.qualified_tier,
        "submitted_at": at,
        "submitted_by": by.actor,
        "submitted_by_key": by.key_id,
    }, assessment
