"""Partners: the onboarding lifecycle as a state machine, the checks that gate activation, entitlements as of a time.

Pure: the tenant policy, the partner record and the time are handed in. Every answer cites the rule id and the
contract clause it rests on, taken from `policy.onboarding`, `policy.partner_tiers` and `policy.certifications`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from .access import Principal
from .errors import Conflict, FieldError, Forbidden, NotFound, RuleViolation
from .money import format_money, parse_money
from .time import add_months, parse_day, parse_instant

# applied → pending_documents ⇄ (resubmit) → pending_approval → active ⇄ suspended → terminated; or rejected.
TRANSITIONS: dict[str, frozenset[str]] = {
    "applied": frozenset({"pending_documents", "pending_approval"}),
    "pending_documents": frozenset({"pending_documents", "pending_approval"}),
    "pending_approval": frozenset({"active", "rejected"}),
    "active": frozenset({"suspended", "terminated"}),
    "suspended": frozenset({"active", "terminated"}),
    "rejected": frozenset(),
    "terminated": frozenset(),
}
STATUSES = tuple(TRANSITIONS)
TAKES_EVIDENCE = frozenset({"applied", "pending_documents", "pending_approval", "active", "suspended"})
TAKES_TERMS = frozenset({"applied", "pending_documents"})
_MONEY = re.compile(r"^\d{1,15}(\.\d{1,2})?$")


def valid_on(record: dict[str, Any], day: date) -> bool:
    """A dated record counts from its start day through its expiry day (to 23:59:59 UTC, PA-4.2)."""
    start = parse_day(record.get("earned_at") or record["issued_at"])
    expires = record.get("expires_at")
    return start <= day and (expires is None or day <= parse_day(expires))


# --- policy lookups --------------------------------------------------------------------------
def _onboarding(policy: dict[str, Any]) -> dict[str, Any]:
    onboarding = policy.get("onboarding")
    if not isinstance(onboarding, dict):
        raise RuleViolation("this tenant's policy has no onboarding rules, so it cannot onboard partners")
    return onboarding


def rule_ref(rule: dict[str, Any], message: str) -> dict[str, Any]:
    return {"rule_id": rule["id"], "clause": rule["clause"], "message": message}


def tiers_by_rank(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(policy.get("partner_tiers", []), key=lambda t: int(t["rank"]))


def _tier(policy: dict[str, Any], name: str | None) -> dict[str, Any] | None:
    return next((t for t in policy.get("partner_tiers", []) if t["tier"] == name), None)


def _certification(policy: dict[str, Any], cert_id: str) -> dict[str, Any] | None:
    return next((c for c in policy.get("certifications", []) if c["id"] == cert_id), None)


def required_documents(policy: dict[str, Any], partner_type: str) -> dict[str, dict[str, Any]]:
    """Document type → the requirement (every partner's, or the partner type's) that asks for it."""
    onboarding = _onboarding(policy)
    baseline = onboarding["all_partners"]
    type_rule = onboarding["partner_types"].get(partner_type, {})
    required = {name: baseline for name in baseline.get("documents", [])}
    required.update({name: type_rule for name in type_rule.get("documents", []) if name not in required})
    return required


def required_terms(policy: dict[str, Any], partner_type: str) -> dict[str, dict[str, Any]]:
    """Commercial term → the rule that requires it (every partner's, or the partner type's)."""
    onboarding = _onboarding(policy)
    required = {rule["term"]: rule for rule in onboarding.get("required_terms", [])}
    type_rule = onboarding["partner_types"].get(partner_type, {})
    required.update({term: type_rule for term in type_rule.get("terms", []) if term not in required})
    return required


# --- lifecycle -------------------------------------------------------------------------------
def _moved(partner: dict[str, Any], status: str, *, at: str, by: Principal, reason: str | None) -> dict[str, Any]:
    current = partner["status"]
    allowed = TRANSITIONS.get(current, frozenset())
    if status not in allowed:
        raise Conflict(
            f"partner {partner['partner_id']} is {current}; it cannot become {status}",
            extra={"current_status": current, "allowed_next": sorted(allowed)},
        )
    step = {"from": current, "to": status, "at": at, "by": by.actor, "reason": reason}
    return {**partner, "status": status, "updated_at": at, "history": [*partner.get("history", []), step]}


def _require(partner: dict[str, Any], statuses: frozenset[str], action: str) -> None:
    if partner["status"] not in statuses:
        allowed = TRANSITIONS.get(partner["status"], frozenset())
        raise Conflict(
            f"partner {partner['partner_id']} is {partner['status']}; it cannot {action}",
            extra={"current_status": partner["status"], "allowed_next": sorted(allowed)},
        )


def _payment_terms(policy: dict[str, Any]) -> dict[str, Any] | None:
    """The standard payment terms are pricing policy (`pricing.payment_terms`); onboarding reads, never repeats them."""
    terms = policy.get("pricing", {}).get("payment_terms")
    return terms if isinstance(terms, dict) else None


def _normal_terms(policy: dict[str, Any], terms: dict[str, Any], path: str) -> dict[str, Any]:
    normal = dict(terms)
    if "annual_commitment" in normal:
        normal["annual_commitment"] = format_money(parse_money(normal["annual_commitment"]))
    days = normal.get("payment_terms_days")
    rule = _payment_terms(policy) or {}
    limit = rule.get("max_days")
    if days is not None and limit is not None and days > limit:
        raise RuleViolation(
            f"payment terms longer than {limit} days are not granted ({rule['id']}, {rule['clause']})",
            errors=[FieldError(f"{path}/payment_terms_days", f"at most {limit}")],
        )
    return normal


def new_application(
    policy: dict[str, Any], *, partner_id: str, application: dict[str, Any], created_by: Principal, at: str
) -> dict[str, Any]:
    """An application as received: its type and requested tier must exist in the policy; nothing is checked yet."""
    onboarding = _onboarding(policy)
    partner_type = application["partner_type"]
    if partner_type not in onboarding["partner_types"]:
        raise RuleViolation(
            f"this program does not admit partner type {partner_type}",
            errors=[FieldError("/partner_type", f"one of {', '.join(sorted(onboarding['partner_types']))}")],
        )
    if _tier(policy, application["requested_tier"]) is None:
        names = ", ".join(t["tier"] for t in tiers_by_rank(policy))
        raise RuleViolation(
            f"there is no tier {application['requested_tier']}",
            errors=[FieldError("/requested_tier", f"one of {names}")],
        )
    return {
        "partner_id": partner_id,
        "legal_name": application["legal_name"],
        "partner_type": partner_type,
        "requested_tier": application["requested_tier"],
        "proposed_tier": None,
        "tier": None,
        "status": "applied",
        "terms": _normal_terms(policy, application.get("terms", {}), "/terms"),
        "contact": application["contact"],
        "country": application.get("country"),
        "documents": {},
        "certifications": {},
        "assessment": None,
        "approval_id": None,
        "decision": None,
        "created_at": at,
        "created_by": created_by.actor,
        "created_by_role": created_by.role.value,
        "created_by_key": created_by.key_id,
        "submitted_at": None,
        "submitted_by": None,
        "submitted_by_key": None,
        "updated_at": at,
        "history": [{"from": None, "to": "applied", "at": at, "by": created_by.actor, "reason": None}],
    }


def amended_terms(policy: dict[str, Any], partner: dict[str, Any], terms: dict[str, Any], *, at: str) -> dict[str, Any]:
    """Complete or correct the commercial terms before the application goes to approval."""
    _require(partner, TAKES_TERMS, "change its terms once submitted for approval")
    merged = _normal_terms(policy, {**partner.get("terms", {}), **terms}, "")
    return {**partner, "terms": merged, "updated_at": at}


def record_document(
    policy: dict[str, Any], partner: dict[str, Any], document: dict[str, Any], *, by: Principal, at: str
) -> dict[str, Any]:
    """File one onboarding document; a document of the same type replaces the one on file (a renewal)."""
    _require(partner, TAKES_EVIDENCE, "take documents")
    kind = document["document_type"]
    required = required_documents(policy, partner["partner_type"])
    catalogue = _onboarding(policy).get("document_types", {})
    if kind not in required or kind not in catalogue:
        raise RuleViolation(
            f"a {partner['partner_type']} is not asked for a {kind} document",
            errors=[FieldError("/document_type", f"one of {', '.join(sorted(required))}")],
        )
    rule = catalogue[kind]
    issued, expires = parse_day(document["issued_at"]), document.get("expires_at")
    today = parse_instant(at).date()
    if issued > today:
        raise RuleViolation(
            f"a document cannot be issued in the future ({document['issued_at']})",
            errors=[FieldError("/issued_at", "on or before today")],
        )
    if expires is None and rule.get("has_expiry"):
        raise RuleViolation(
            f"a {kind} carries an expiry date ({rule['id']}, {rule['clause']})",
            errors=[FieldError("/expires_at", "required for this document type")],
        )
    if expires is not None and parse_day(expires) <= issued:
        raise RuleViolation(
            f"expires_at {expires} is not after issued_at {document['issued_at']}",
            errors=[FieldError("/expires_at", "must be after issued_at")],
        )
    record = {
        "document_type": kind,
        "reference": document["reference"],
        "checksum": document["checksum"],
        "issued_at": document["issued_at"],
        "expires_at": expires,
        "recorded_at": at,
        "recorded_by": by.actor,
    }
    documents = {**partner.get("documents", {}), kind: record}
    return {**partner, "documents": documents, "updated_at": at}


def record_certification(
    policy: dict[str, Any], partner: dict[str, Any], certification: dict[str, Any], *, by: Principal, at: str
) -> dict[str, Any]:
    """Record a certification from the catalogue. Without `expires_at` it runs its full validity period;
    a renewal before expiry extends the previous expiry by a full period (PA-4.2)."""
    _require(partner, TAKES_EVIDENCE, "take certifications")
    cert_id = certification["certification_id"]
    rule = _certification(policy, cert_id)
    if rule is None:
        known = ", ".join(sorted(c["id"] for c in policy.get("certifications", [])))
        raise RuleViolation(
            f"{cert_id} is not in this program's certification catalogue",
            errors=[FieldError("/certification_id", f"one of {known}")],
        )
    earned = parse_day(certification["earned_at"])
    if earned > parse_instant(at).date():
        raise RuleViolation(
            f"a certification cannot be earned in the future ({certification['earned_at']})",
            errors=[FieldError("/earned_at", "on or before today")],
        )
    months = int(rule["validity_months"])
    previous = partner.get("certifications", {}).get(cert_id)
    if previous and previous.get("expires_at") and earned <= parse_day(previous["expires_at"]):
        latest = add_months(parse_day(previous["expires_at"]), months)
    else:
        latest = add_months(earned, months) - timedelta(days=1)
    given = certification.get("expires_at")
    if given is not None and parse_day(given) <= earned:
        raise RuleViolation(
            f"expires_at {given} is not after earned_at {certification['earned_at']}",
            errors=[FieldError("/expires_at", "must be after earned_at")],
        )
    if given is not None and parse_day(given) > latest:
        raise RuleViolation(
            f"{cert_id} is valid for {months} months, so it expires by {latest.isoformat()} ({rule['clause']})",
            errors=[FieldError("/expires_at", f"on or before {latest.isoformat()}")],
        )
    record = {
        "certification_id": cert_id,
        "product_family": rule["product_family"],
        "earned_at": certification["earned_at"],
        "expires_at": given or latest.isoformat(),
        "recorded_at": at,
        "recorded_by": by.actor,
    }
    gaps = list((previous or {}).get("expiry_gaps", []))
    if previous and previous.get("expires_at") and parse_day(previous["expires_at"]) < parse_instant(at).date():
        # recorded after the previous one had expired: keep when it expired and when validity was recorded again,
        # which PA-4.3(d) / CPA-4.3(d) measure ("lapse if a valid certification is not recorded within 30 days")
        gaps.append({"expired_on": previous["expires_at"], "recorded_again_at": at})
    if gaps:
        record["expiry_gaps"] = gaps[-20:]
    certifications = {**partner.get("certifications", {}), cert_id: record}
    return {**partner, "certifications": certifications, "updated_at": at}


# --- the checks that gate activation ---------------------------------------------------------
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
        return {
            "checked_at": self.checked_at,
            "complete": self.complete,
            "requested_tier": self.requested_tier,
            "qualified_tier": self.qualified_tier,
            "missing": list(self.missing),
            "tier_shortfall": list(self.tier_shortfall),
            "nonstandard_terms": list(self.nonstandard_terms),
            "reasons": list(self.reasons),
        }


def _gap(kind: str, name: str, problem: str, rule: dict[str, Any], message: str, action: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "name": name,
        "problem": problem,
        "rule_id": rule["id"],
        "clause": rule["clause"],
        "message": message,
        "action": action,
    }


def _term_missing(terms: dict[str, Any], term: str) -> bool:
    value = terms.get(term)
    return value is None or value in ("", [])


def _document_gaps(policy: dict[str, Any], partner: dict[str, Any], day: date) -> list[dict[str, Any]]:
    gaps = []
    catalogue = _onboarding(policy).get("document_types", {})
    on_file = partner.get("documents", {})
    for kind, requirement in required_documents(policy, partner["partner_type"]).items():
        rule = catalogue.get(kind, requirement)
        record = on_file.get(kind)
        if record is None:
            gaps.append(
                _gap(
                    "document",
                    kind,
                    "missing",
                    requirement,
                    f"no {kind} is on file",
                    f"file a {kind} document ({rule.get('name', kind)})",
                )
            )
        elif not valid_on(record, day):
            gaps.append(
                _gap(
                    "document",
                    kind,
                    "expired",
                    rule,
                    f"the {kind} on file expired on {record['expires_at']}; an expired document counts as missing",
                    f"file a renewed {kind} document",
                )
            )
        elif rule.get("max_age_months") and add_months(parse_day(record["issued_at"]), rule["max_age_months"]) < day:
            gaps.append(
                _gap(
                    "document",
                    kind,
                    "too_old",
                    rule,
                    f"the {kind} on file was issued on {record['issued_at']}, more than "
                    f"{rule['max_age_months']} months ago",
                    f"file a {kind} document issued within the last {rule['max_age_months']} months",
                )
            )
    return gaps


def valid_certifications(partner: dict[str, Any], day: date) -> set[str]:
    return {cid for cid, record in partner.get("certifications", {}).items() if valid_on(record, day)}


def barred_families(policy: dict[str, Any], partner: dict[str, Any], day: date) -> set[str]:
    """Families the partner may not quote, order or register on `day` (PA-4.3(b) / CPA-4.3(b)): a certification it
    held there has expired, and it holds no other valid certification in that family. A family where it never held
    one is not barred by expiry (eligibility rules such as PA-5.1 still ask for a valid certification)."""
    families = {c["id"]: c["product_family"] for c in policy.get("certifications", [])}
    held = partner.get("certifications", {})
    lapsed = {
        families[cid]
        for cid, record in held.items()
        if cid in families and record.get("expires_at") and parse_day(record["expires_at"]) < day
    }
    certified = {families[cid] for cid in valid_certifications(partner, day) if cid in families}
    return lapsed - certified


def family_expired_on(policy: dict[str, Any], partner: dict[str, Any], family: str, day: date) -> date | None:
    """When `family` is barred on `day` (see `barred_families`): the last day of the latest certification the partner
    held in it, i.e. the expiry that put it there; else None."""
    if family not in barred_families(policy, partner, day):
        return None
    families = {c["id"]: c["product_family"] for c in policy.get("certifications", [])}
    held = partner.get("certifications", {})
    return max(
        parse_day(record["expires_at"])
        for cid, record in held.items()
        if families.get(cid) == family and record.get("expires_at")
    )


def family_expiry_gaps(policy: dict[str, Any], partner: dict[str, Any], family: str) -> list[tuple[date, str]]:
    """Past spells without a valid certification in `family` that ended when one was recorded again: (last valid day,
    when validity was recorded again), for each such spell no other certification of the family covered."""
    families = {c["id"]: c["product_family"] for c in policy.get("certifications", [])}
    held = [r for cid, r in partner.get("certifications", {}).items() if families.get(cid) == family]
    found = []
    for record in held:
        for gap in record.get("expiry_gaps", []):
            first_day_out = parse_day(gap["expired_on"]) + timedelta(days=1)
            covered = any(
                other is not record and valid_on(other, first_day_out) for other in held
            )
            if not covered:
                found.append((parse_day(gap["expired_on"]), str(gap["recorded_again_at"])))
    return found


def _tier_unmet(
    tier: dict[str, Any], partner: dict[str, Any], day: date, commitment: Decimal | None
) -> list[dict[str, Any]]:
    """What keeps the partner from `tier`; commitment None means: do not judge the commitment."""
    unmet = []
    need = parse_money(tier["requirements"]["annual_commitment"])
    if commitment is not None and commitment < need:
        unmet.append(
            rule_ref(
                tier,
                f"the annual commitment {format_money(commitment)} is below the {tier['name']} tier's "
                f"{format_money(need)}",
            )
        )
    held = partner.get("certifications", {})
    for cert_id in tier["requirements"]["certifications"]:
        record = held.get(cert_id)
        if record is None:
            unmet.append(rule_ref(tier, f"{cert_id}, required for {tier['name']}, is not held"))
        elif not valid_on(record, day):
            when = f"expired on {record['expires_at']}" if record.get("expires_at") else "is not yet valid"
            if parse_day(record["earned_at"]) > day:
                when = f"was not yet earned ({record['earned_at']})"
            unmet.append(rule_ref(tier, f"{cert_id}, required for {tier['name']}, {when}"))
    return unmet


def _nonstandard(policy: dict[str, Any], terms: dict[str, Any], tier: str | None) -> list[dict[str, Any]]:
    """Terms that need the non-standard approval: payment terms outside the tier's standard, or special terms."""
    found = []
    days = terms.get("payment_terms_days")
    standard = _payment_terms(policy)
    if days is not None and standard is not None:
        allowed = set(standard.get("standard_days_by_tier", {}).get(tier, standard["standard_days"]))
        if days not in allowed:
            shown = " or ".join(f"net {d}" for d in sorted(allowed))
            found.append(rule_ref(standard, f"payment terms of net {days} are not standard for this tier ({shown})"))
    if terms.get("special_terms"):
        rule = _onboarding(policy)["nonstandard_terms_approval"]
        found.append(rule_ref(rule, "the application asks for special terms, which are not standard"))
    return found


def assess(policy: dict[str, Any], partner: dict[str, Any], at: str) -> Assessment:
    """Completeness of terms, documents present and current, certifications valid, and the tier it earns."""
    day = parse_instant(at).date()
    onboarding = _onboarding(policy)
    terms = partner.get("terms", {})
    missing = [
        _gap("term", term, "missing", rule, f"the commercial term {term} is not given", f"add {term} to the terms")
        for term, rule in required_terms(policy, partner["partner_type"]).items()
        if _term_missing(terms, term)
    ]
    missing += _document_gaps(policy, partner, day)
    type_rule = onboarding["partner_types"][partner["partner_type"]]
    needed = int(type_rule.get("min_valid_certifications", 0))
    if len(valid_certifications(partner, day)) < needed:
        missing.append(
            _gap(
                "certification",
                "any",
                "missing",
                type_rule,
                f"a {partner['partner_type']} needs at least {needed} valid certification(s)",
                "record a valid certification from the catalogue",
            )
        )
    commitment = parse_money(terms["annual_commitment"]) if terms.get("annual_commitment") else Decimal(0)
    requested = _tier(policy, partner["requested_tier"])
    if requested is None:
        raise RuleViolation(f"the requested tier {partner['requested_tier']} is no longer in the policy")
    eligible = [t for t in tiers_by_rank(policy) if int(t["rank"]) <= int(requested["rank"])]
    qualified = next((t for t in reversed(eligible) if not _tier_unmet(t, partner, day, commitment)), None)
    shortfall = _tier_unmet(requested, partner, day, commitment)
    reasons: list[dict[str, Any]] = []
    if qualified is None:
        lowest = eligible[0]
        missing.append(
            _gap(
                "tier",
                lowest["tier"],
                "unmet",
                lowest,
                f"the partner meets no tier up to {requested['name']}",
                "record the certifications or commitment the lowest tier requires",
            )
        )
    else:
        reasons.append(rule_ref(qualified, f"qualifies for the {qualified['name']} tier"))
        if qualified is not requested:
            reasons.append(
                rule_ref(requested, f"{requested['name']} was requested but is not met; assigned {qualified['name']}")
            )
            reasons += shortfall
    nonstandard = _nonstandard(policy, terms, qualified["tier"] if qualified else None)
    reasons += nonstandard
    reasons += [{k: gap[k] for k in ("rule_id", "clause", "message")} for gap in missing]
    return Assessment(
        checked_at=at,
        requested_tier=partner["requested_tier"],
        qualified_tier=qualified["tier"] if qualified else None,
        missing=tuple(missing),
        tier_shortfall=tuple(shortfall),
        nonstandard_terms=tuple(nonstandard),
        reasons=tuple(reasons),
    )


def activation_route(policy: dict[str, Any], assessment: Assessment) -> tuple[str, dict[str, Any]]:
    """The approval category for activation: the default queue, or the one for non-standard terms."""
    onboarding = _onboarding(policy)
    rule = onboarding["nonstandard_terms_approval" if assessment.nonstandard_terms else "activation_approval"]
    return rule["category"], rule


def submitted(
    policy: dict[str, Any], partner: dict[str, Any], *, by: Principal, at: str
) -> tuple[dict[str, Any], Assessment]:
    """Run the checks: with gaps the partner waits for documents; complete, it waits for approval."""
    _require(partner, frozenset({"applied", "pending_documents"}), "be submitted")
    assessment = assess(policy, partner, at)
    target = "pending_approval" if assessment.complete else "pending_documents"
    moved = _moved(partner, target, at=at, by=by, reason=None)
    return {
        **moved,
        "assessment": assessment.as_dict(),
        "proposed_tier": assessment.qualified_tier,
        "submitted_at": at,
        "submitted_by": by.actor,
        "submitted_by_key": by.key_id,
    }, assessment


def awaiting_approval(partner: dict[str, Any], approval_id: str) -> dict[str, Any]:
    return {**partner, "approval_id": approval_id}


def decided(
    partner: dict[str, Any], *, approval_id: str, outcome: str, note: str | None, by: Principal, at: str
) -> dict[str, Any]:
    """The activation approval was decided: approved activates at the proposed tier; rejected records why."""
    if partner.get("approval_id") != approval_id:
        raise Conflict(
            f"approval {approval_id} is not the pending activation of partner {partner['partner_id']}",
            extra={"current_status": partner["status"], "allowed_next": sorted(TRANSITIONS[partner["status"]])},
        )
    if by.key_id in {partner.get("created_by_key"), partner.get("submitted_by_key")}:
        raise Forbidden("segregation of duties: whoever created or submitted an application may not decide it")
    decision = {"outcome": outcome, "approval_id": approval_id, "by": by.actor, "at": at, "note": note}
    if outcome == "approved":
        active = _moved(partner, "active", at=at, by=by, reason=note)
        return {**active, "tier": partner["proposed_tier"], "activated_at": at, "decision": decision}
    rejected = _moved(partner, "rejected", at=at, by=by, reason=note)
    return {**rejected, "decision": decision}


def moved_to(
    policy: dict[str, Any], partner: dict[str, Any], status: str, *, by: Principal, at: str, reason: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Suspend, reinstate or terminate; returns the partner and the rule (id, clause) that allows it."""
    onboarding = _onboarding(policy)
    rule = onboarding["termination"] if status == "terminated" else onboarding["suspension"]
    return _moved(partner, status, at=at, by=by, reason=reason), rule


# --- entitlements ----------------------------------------------------------------------------
def _entitled(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value > 0
    if isinstance(value, str) and _MONEY.match(value):
        return Decimal(value) > 0
    return bool(value)


def _shown(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def entitlement_names(policy: dict[str, Any]) -> list[str]:
    return sorted({name for tier in policy.get("partner_tiers", []) for name in tier["entitlements"]})


def effective_tier(policy: dict[str, Any], partner: dict[str, Any], day: date) -> dict[str, Any] | None:
    """The highest tier, up to the assigned one, whose certification requirements hold on `day` (PA-4.3)."""
    assigned = _tier(policy, partner.get("tier"))
    if assigned is None:
        return None
    eligible = [t for t in tiers_by_rank(policy) if int(t["rank"]) <= int(assigned["rank"])]
    return next((t for t in reversed(eligible) if not _tier_unmet(t, partner, day, None)), None)


def _answer(name: str, entitled: bool, value: Any, rule: dict[str, Any], reason: str) -> dict[str, Any]:
    return {
        "name": name,
        "entitled": entitled,
        "value": value,
        "reason": reason,
        "rule_id": rule["id"],
        "clause": rule["clause"],
    }


def entitlements(policy: dict[str, Any], partner: dict[str, Any], at_iso: str) -> dict[str, Any]:
    """Every entitlement the partner has at `at_iso`, from its tier and the certifications valid then."""
    day = parse_instant(at_iso).date()
    onboarding = _onboarding(policy)
    status = partner["status"]
    standing = status in ("active", "suspended")
    effective = effective_tier(policy, partner, day) if standing else None
    lapsed = [m["message"] for m in _tier_unmet(_assigned(policy, partner), partner, day, None)] if standing else []
    answers = {name: _one(policy, partner, name, effective, lapsed) for name in entitlement_names(policy)}
    reasons = []
    if status == "terminated":
        reasons.append(rule_ref(onboarding["termination"], "a terminated partner has no entitlements"))
    elif not standing:
        reasons.append(
            rule_ref(onboarding["activation_approval"], f"the partner is {status}; entitlements start at activation")
        )
    if effective is not None:
        reasons.append(rule_ref(effective, f"entitlements of the {effective['name']} tier apply"))
    if lapsed:
        reasons.append(rule_ref(onboarding["certification_lapse"], "; ".join(lapsed)))
    if status == "suspended":
        reasons.append(
            rule_ref(onboarding["suspension"], "some entitlements are withheld while the partner is suspended")
        )
    return {
        "partner_id": partner["partner_id"],
        "as_of": at_iso,
        "status": status,
        "tier": partner.get("tier"),
        "effective_tier": effective["tier"] if effective else None,
        "entitlements": answers,
        "reasons": reasons,
    }


def _assigned(policy: dict[str, Any], partner: dict[str, Any]) -> dict[str, Any]:
    tier = _tier(policy, partner.get("tier"))
    if tier is None:
        raise RuleViolation(f"partner {partner['partner_id']} holds tier {partner.get('tier')}, which the policy lacks")
    return tier


def _one(
    policy: dict[str, Any], partner: dict[str, Any], name: str, effective: dict[str, Any] | None, lapsed: list[str]
) -> dict[str, Any]:
    onboarding = _onboarding(policy)
    status = partner["status"]
    if status == "terminated":
        return _answer(name, False, None, onboarding["termination"], "the partner is terminated")
    if status not in ("active", "suspended"):
        rule = onboarding["activation_approval"]
        return _answer(name, False, None, rule, f"the partner is {status}; entitlements start at activation")
    if status == "suspended" and name in onboarding["suspension"].get("withholds", []):
        return _answer(
            name, False, None, onboarding["suspension"], f"{name} is withheld while the partner is suspended"
        )
    if effective is None:
        rule = onboarding["certification_lapse"]
        return _answer(name, False, None, rule, "no tier's certification requirements are met: " + "; ".join(lapsed))
    grant = effective["entitlements"].get(name)
    if grant is None:
        return _answer(name, False, None, effective, f"the {effective['name']} tier does not grant {name}")
    value = grant["value"]
    original = _assigned(policy, partner)["entitlements"].get(name, {}).get("value")
    if lapsed and original != value:
        reason = (
            f"{name} is {_shown(value)} under the {effective['name']} tier instead of {_shown(original)}, "
            f"from the moment a required certification lapsed: {'; '.join(lapsed)}"
        )
        return _answer(name, _entitled(value), value, onboarding["certification_lapse"], reason)
    return _answer(name, _entitled(value), value, grant, f"the {effective['name']} tier sets {name} to {_shown(value)}")


def entitlement(policy: dict[str, Any], partner: dict[str, Any], name: str, at_iso: str) -> dict[str, Any]:
    """One entitlement at `at_iso`; a name no tier grants is not found."""
    if name not in entitlement_names(policy):
        raise NotFound(f"no entitlement {name} in this program")
    every = entitlements(policy, partner, at_iso)
    return {
        **every["entitlements"][name],
        "as_of": at_iso,
        "tier": every["tier"],
        "effective_tier": every["effective_tier"],
    }


# --- policy consistency ----------------------------------------------------------------------
def onboarding_problems(policy: dict[str, Any]) -> list[FieldError]:
    """What the schema cannot say about `policy.onboarding`: every reference it makes must resolve."""
    onboarding = policy.get("onboarding")
    if not isinstance(onboarding, dict):
        return []
    problems: list[FieldError] = []
    documents = set(onboarding.get("document_types", {}))
    base = "/policy/onboarding"

    def unknown(path: str, names: Iterable[str], known: set[str], what: str) -> None:
        problems.extend(FieldError(path, f"unknown {what} {n}") for n in names if n not in known)

    unknown(f"{base}/all_partners/documents", onboarding["all_partners"].get("documents", []), documents, "document")
    for name, rule in onboarding.get("partner_types", {}).items():
        unknown(f"{base}/partner_types/{name}/documents", rule.get("documents", []), documents, "document")
    categories = set(policy.get("exception_routing", {}).get("categories", {}))
    for name in ("activation_approval", "nonstandard_terms_approval"):
        unknown(f"{base}/{name}/category", [onboarding[name]["category"]], categories, "exception_routing category")
    names = set(entitlement_names(policy))
    unknown(f"{base}/suspension/withholds", onboarding["suspension"].get("withholds", []), names, "entitlement")
    return problems
