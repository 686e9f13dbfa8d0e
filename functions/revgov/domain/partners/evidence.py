"""The evidence a partner files: onboarding documents and certifications, checked against the policy's catalogue when
recorded (PA-4.2), and read back as of a day: which are valid, which product families an expiry bars (PA-4.3).

A certification stops counting at the end of its last counting day (`counts_until`): its expiry (PA-4.2), or the last
day of employment of its last certified individual where that is earlier (PA-4.4: "with the same effect as expiry under
PA-4.3"; CPA-4.2 / CPA-4.3 "expires or stops counting"). Every reading below goes through it: one expiry path."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from ..access import Principal, Role
from ..calendar import BusinessCalendar
from ..errors import FieldError, RuleViolation
from ..money import format_money, parse_money
from ..time import add_months, parse_day, parse_instant
from . import screening
from .lifecycle import TAKES_EVIDENCE, require
from .portal_access import check_suspended_filing
from .rules import accepted_documents, certification_families, document_key, exemption_document, onboarding
from .rules import certification as certification_rule

_EXPIRY_GAPS_KEPT = 20


def counts_until(record: Mapping[str, Any]) -> date | None:
    """The last day a dated record counts (to 23:59:59 UTC): its expiry day (PA-4.2), or, for a certification whose
    last certified individual left, that individual's last day of employment if earlier (PA-4.4: "ceases to count for
    the Partner on the individual's last day of employment, with the same effect as expiry"). None: no end."""
    ends = [parse_day(day) for day in (record.get("expires_at"), record.get("holder_left_on")) if day]
    return min(ends) if ends else None


def valid_since(record: Mapping[str, Any]) -> date:
    """The first day of the record's current unbroken validity: its start day, or, for a certification renewed
    without a day uncovered, the first day of the validity the renewal extended (PA-4.2 "Renewal before expiry
    extends validity by a full validity period from the previous expiry date": the days already certified stay
    certified)."""
    return parse_day(record.get("valid_since") or record.get("earned_at") or record["issued_at"])


def _earlier_validity(record: Mapping[str, Any]) -> list[tuple[date, date]]:
    """Spells of validity of the same certification that ended before the current one began (renewed after a
    lapse), as (first day, last day)."""
    return [(parse_day(s["from"]), parse_day(s["to"])) for s in record.get("earlier_validity", [])]


def valid_on(record: Mapping[str, Any], day: date) -> bool:
    """A dated record counts from its start day (`valid_since`) through its last counting day (`counts_until`), and
    on the days of the spells it counted before a lapse (`earlier_validity`)."""
    end = counts_until(record)
    if valid_since(record) <= day and (end is None or day <= end):
        return True
    return any(first <= day <= last for first, last in _earlier_validity(record))


def last_counted_before(record: Mapping[str, Any], day: date) -> date | None:
    """The last day before `day` on which the record counted, or None: it never counted before `day`."""
    end = counts_until(record)
    ends = [last for first, last in _earlier_validity(record) if last < day]
    if end is not None and valid_since(record) <= end < day:
        ends.append(end)
    return max(ends) if ends else None


def valid_certifications(partner: Mapping[str, Any], day: date) -> set[str]:
    return {cid for cid, record in partner.get("certifications", {}).items() if valid_on(record, day)}


# --- documents -------------------------------------------------------------------------------
def _check_document_dates(document: Mapping[str, Any], rule: Mapping[str, Any], kind: str, today: date) -> None:
    issued, expires = parse_day(document["issued_at"]), document.get("expires_at")
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


# ISO 3166-2:US: the 50 states, the District of Columbia and the outlying areas (the codes sales tax is levied under)
US_STATES = frozenset(f"US-{code}" for code in (
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA "
    "RI SC SD TN TX UT VT VA WA WV WI WY DC AS GU MP PR UM VI").split())


def _check_jurisdiction(policy: Mapping[str, Any], document: Mapping[str, Any]) -> None:
    """An exemption certificate names the jurisdiction it exempts in (PA-10.1; PA-2.3(b) "for each United States
    state"), a United States one (`US_STATES`): each is kept on the partner as a document of its own, so a made-up
    one would let a partner grow its record without end; no other document names one."""
    exemption = exemption_document(policy)
    is_certificate = exemption is not None and document["document_type"] == exemption[0]
    if is_certificate and not document.get("jurisdiction"):
        assert exemption is not None
        raise RuleViolation(
            f"an exemption certificate names its jurisdiction ({exemption[1]['id']}, {exemption[1]['clause']})",
            errors=[FieldError("/jurisdiction", "required for this document type (ISO 3166-2, e.g. US-CA)")],
        )
    if is_certificate and document["jurisdiction"] not in US_STATES:
        assert exemption is not None
        raise RuleViolation(
            f"{document['jurisdiction']} is not a United States state: an exemption certificate is for a state the "
            f"partner takes delivery in ({exemption[1]['id']}, {exemption[1]['clause']}; PA-2.3(b))",
            errors=[FieldError("/jurisdiction", "an ISO 3166-2:US code, e.g. US-CA")],
        )
    if not is_certificate and document.get("jurisdiction"):
        raise RuleViolation(
            f"a {document['document_type']} names no jurisdiction",
            errors=[FieldError("/jurisdiction", "only on an exemption certificate")],
        )


def insurance_minimum(policy: Mapping[str, Any], partner_type: str, kind: str) -> str | None:
    """The least coverage an insurance document of `kind` states for `partner_type` (`onboarding.insurance_minimums`,
    PA-2.3 / PA-2.4 / PA-2.5 / CPA-2.4): the partner type's own minimum, else the lowest any partner type is held to
    for that document (an MSP's general certificate at northwind). None: `kind` is not an insurance certificate."""
    rules = [rule for rule in onboarding(policy).get("insurance_minimums", []) if rule["document"] == kind]
    own = [rule["amount"] for rule in rules if partner_type in rule["partner_types"]]
    amounts = own or [rule["amount"] for rule in rules]
    return min(amounts, key=parse_money) if amounts else None


def _check_coverage(policy: Mapping[str, Any], partner_type: str, kind: str, coverage: str | None) -> None:
    """PA-2.2(c) "a certificate of insurance [...] showing the insurer, policy number, coverage amounts and expiry
    date" / CPA-2.2(c) "stating insurer, policy number, amounts and expiry date": an insurance certificate states its
    coverage, whoever files it. PA-2.3 / PA-2.4 / PA-2.5 / CPA-2.4: at least the minimum for the partner type
    (`onboarding.insurance_minimums`); a coverage below it is refused, naming the field and the rule. The amount is
    the partner's declaration (at most 15 digits, the schema): the verifier reads it on the certificate."""
    if coverage is None:
        if insurance_minimum(policy, partner_type, kind) is not None:
            baseline = onboarding(policy)["all_partners"]
            raise RuleViolation(
                f"an insurance certificate states its coverage amount ({baseline['id']}, {baseline['clause']}(c))",
                errors=[FieldError("/coverage_amount", "required for this document type")],
                extra={"rule_id": baseline["id"], "clause": baseline["clause"]},
            )
        return
    for rule in onboarding(policy).get("insurance_minimums", []):
        if rule["document"] != kind or partner_type not in rule["partner_types"]:
            continue
        if parse_money(coverage) < parse_money(rule["amount"]):
            raise RuleViolation(
                f"a {partner_type}'s {kind} covers at least {rule['amount']} ({rule['id']}, {rule['clause']}); "
                f"this one states {coverage}",
                errors=[FieldError("/coverage_amount", f"at least {rule['amount']}")],
                extra={"rule_id": rule["id"], "clause": rule["clause"]},
            )


def filing_types(partner: Mapping[str, Any]) -> list[str]:
    """The partner types whose documents the partner files: its own, and the type a pending change asks for (PA-2.1:
    "A Partner may apply to change its partner type by submitting the onboarding documents required for the new
    type")."""
    change = partner.get("type_change") or {}
    return [str(partner["partner_type"]), *([str(change["to"])] if change.get("status") == "pending" else [])]


def accepted_for_filing(policy: Mapping[str, Any], partner: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Document type -> the rule under which the partner may file it now (`accepted_documents` of `filing_types`)."""
    accepted: dict[str, dict[str, Any]] = {}
    for partner_type in filing_types(partner):
        accepted = {**accepted_documents(policy, partner_type), **accepted}
    return accepted


def record_document(
    policy: Mapping[str, Any], partner: Mapping[str, Any], document: Mapping[str, Any], *, by: Principal, at: str
) -> dict[str, Any]:
    """File one onboarding document; a document of the same type replaces the one on file (a renewal)."""
    require(partner, TAKES_EVIDENCE, "take documents")
    kind = document["document_type"]
    check_suspended_filing(policy, partner, kind, by)  # PA-9.6 read-only but for the cure PA-2.7 names
    types = filing_types(partner)
    required = accepted_for_filing(policy, partner)
    catalogue = onboarding(policy).get("document_types", {})
    if kind not in required or kind not in catalogue:
        raise RuleViolation(
            f"a {' applying to become a '.join(types)} is not asked for a {kind} document",
            errors=[FieldError("/document_type", f"one of {', '.join(sorted(required))}")],
        )
    _check_jurisdiction(policy, document)
    screening.check_outcome(policy, partner, document, by)
    _check_document_dates(document, catalogue[kind], kind, parse_instant(at).date())
    for partner_type in types:  # the coverage each type asks of this document
        if kind in accepted_documents(policy, partner_type):
            _check_coverage(policy, partner_type, kind, document.get("coverage_amount"))
    record = {
        "document_type": kind,
        "reference": document["reference"],
        "checksum": document["checksum"],
        "issued_at": document["issued_at"],
        "expires_at": document.get("expires_at"),
        **({"jurisdiction": document["jurisdiction"]} if document.get("jurisdiction") else {}),
        **({"outcome": document["outcome"]} if document.get("outcome") else {}),
        **({"coverage_amount": format_money(parse_money(document["coverage_amount"]))}
           if document.get("coverage_amount") is not None else {}),
        "recorded_at": at,
        "recorded_by": by.actor,
    }
    key = document_key(policy, document)
    on_file = verified_document(partner, partner.get("documents", {}).get(key))
    if not _verified(partner, record) and on_file is not None:  # PA-2.7: kept until Channel Operations verify this
        record["verified_on_file"] = on_file
    documents = {**partner.get("documents", {}), key: record}
    return {**partner, "documents": documents, "updated_at": at}


def verified_document(partner: Mapping[str, Any], document: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The document as verified (PA-2.7 "until a valid certificate is verified"): `document` itself when staff filed
    it or the partner filed it before its activation (the activation approval verified the file, PA-2.9); else the
    verified one it was filed over, which it does not replace until Channel Operations verify it by filing it with
    their own key. None: nothing verified on file."""
    if document is None:
        return None
    if _verified(partner, document):
        return dict(document)
    kept = document.get("verified_on_file")
    return dict(kept) if isinstance(kept, Mapping) else None


def _verified(partner: Mapping[str, Any], document: Mapping[str, Any]) -> bool:
    if not str(document.get("recorded_by") or "").startswith(f"{Role.PARTNER.value}:"):
        return True
    activated = partner.get("activated_at")
    return not activated or parse_instant(str(document["recorded_at"])) <= parse_instant(str(activated))


# --- certifications --------------------------------------------------------------------------
def _catalogued(policy: Mapping[str, Any], cert_id: str) -> dict[str, Any]:
    rule = certification_rule(policy, cert_id)
    if rule is None:
        known = ", ".join(sorted(c["id"] for c in policy.get("certifications", [])))
        raise RuleViolation(
            f"{cert_id} is not in this program's certification catalogue",
            errors=[FieldError("/certification_id", f"one of {known}")],
        )
    return rule


def _latest_expiry(previous: Mapping[str, Any] | None, earned: date, months: int) -> date:
    """Without a renewal a certification runs its full validity period from `earned`; a renewal before expiry
    extends the previous expiry by a full period (PA-4.2). One whose certified individuals all left is not renewed by
    someone else's certificate: that one runs from its own `earned` day (PA-4.1: "held by an individual employee")."""
    renewable = previous and previous.get("expires_at") and not previous.get("holder_left_on")
    if previous and renewable and earned <= parse_day(previous["expires_at"]):
        return add_months(parse_day(previous["expires_at"]), months)
    return add_months(earned, months) - timedelta(days=1)


def _check_given_expiry(certification: Mapping[str, Any], rule: Mapping[str, Any], earned: date, latest: date) -> None:
    given = certification.get("expires_at")
    if given is not None and parse_day(given) <= earned:
        raise RuleViolation(
            f"expires_at {given} is not after earned_at {certification['earned_at']}",
            errors=[FieldError("/expires_at", "must be after earned_at")],
        )
    if given is not None and parse_day(given) > latest:
        months = int(rule["validity_months"])
        raise RuleViolation(
            f"{rule['id']} is valid for {months} months, so it expires by {latest.isoformat()} ({rule['clause']})",
            errors=[FieldError("/expires_at", f"on or before {latest.isoformat()}")],
        )


def _expiry_gaps(previous: Mapping[str, Any] | None, at: str) -> list[dict[str, Any]]:
    """Recorded after the previous one had expired: keep when it expired and when validity was recorded again, which
    PA-4.3(d) / CPA-4.3(d) measure ("lapse if a valid certification is not recorded within 30 days")."""
    gaps = list((previous or {}).get("expiry_gaps", []))
    ended = counts_until(previous) if previous else None
    if ended is not None and ended < parse_instant(at).date():
        gaps.append({"expired_on": ended.isoformat(), "recorded_again_at": at})
    return gaps[-_EXPIRY_GAPS_KEPT:]


def _validity(previous: Mapping[str, Any] | None, earned: date) -> dict[str, Any]:
    """What a renewal keeps of the validity it follows (PA-4.2, CPA-4.2): recorded while the previous one still
    counted, or from the day after it stopped, it continues that validity (`valid_since`, its first day); recorded
    after a lapse it starts a new one, and the spell before the lapse is kept (`earlier_validity`), so the days the
    partner was certified stay certified for every reading of a past day (the tier held on a quarter's last day,
    PA-7.2; the days lacking before a downgrade, PA-3.7)."""
    if previous is None:
        return {}
    earlier = list(previous.get("earlier_validity", []))
    first, last = valid_since(previous), counts_until(previous)
    if last is None or earned <= last + timedelta(days=1):
        kept: dict[str, Any] = {"valid_since": min(first, earned).isoformat()} if first < earned else {}
    else:
        earlier.append({"from": first.isoformat(), "to": last.isoformat()})
        kept = {}
    if earlier:
        kept["earlier_validity"] = earlier[-_EXPIRY_GAPS_KEPT:]
    return kept


def _holders(previous: Mapping[str, Any] | None, certification: Mapping[str, Any]) -> dict[str, Any]:
    """How many of the partner's staff hold it (PA-4.4 turns on "the only certified individual"): as given, else as
    on file while someone still holds it, else one. The departures of a spell someone still holds stay on record."""
    spell_goes_on = previous is not None and not previous.get("holder_left_on")
    carried = int(previous.get("holders", 1)) if previous is not None and spell_goes_on else 1
    kept: dict[str, Any] = {"holders": int(certification.get("holders") or carried)}
    if previous is not None and spell_goes_on and previous.get("departures"):
        kept["departures"] = list(previous["departures"])
    return kept


def late_recording(policy: Mapping[str, Any], certification: Mapping[str, Any], at: str) -> dict[str, Any] | None:
    """PA-4.2: "Certification records are updated in the Partner Portal within 2 business days of receipt of evidence
    from the certifying body" (`onboarding.certification_recording`). With `evidence_received_at`, the recording at
    `at` is late when it comes after that instant plus the business days on the tenant's calendar: the rule, the
    instants and the deadline; None when it is in time, not measured (no receipt given) or the policy has no rule.
    A receipt in the future is refused (422 naming the field)."""
    received = certification.get("evidence_received_at")
    if received is None:
        return None
    if parse_instant(str(received)) > parse_instant(at):
        raise RuleViolation(
            f"the evidence cannot be received in the future ({received})",
            errors=[FieldError("/evidence_received_at", "at or before now")],
        )
    rule = onboarding(policy).get("certification_recording")
    if not rule:
        return None
    calendar = BusinessCalendar.from_policy(dict(policy))
    due = calendar.add_business_days(parse_instant(str(received)), int(rule["within_business_days"]))
    if parse_instant(at) <= due:
        return None
    return {"rule": rule, "received_at": received, "due_by": due.isoformat().replace("+00:00", "Z"), "recorded_at": at}


def record_certification(
    policy: Mapping[str, Any], partner: Mapping[str, Any], certification: Mapping[str, Any], *, by: Principal, at: str
) -> dict[str, Any]:
    """Record a certification from the catalogue. Without `expires_at` it runs its full validity period;
    a renewal before expiry extends the previous expiry by a full period (PA-4.2)."""
    require(partner, TAKES_EVIDENCE, "take certifications")
    cert_id = certification["certification_id"]
    rule = _catalogued(policy, cert_id)
    earned = parse_day(certification["earned_at"])
    if earned > parse_instant(at).date():
        raise RuleViolation(
            f"a certification cannot be earned in the future ({certification['earned_at']})",
            errors=[FieldError("/earned_at", "on or before today")],
        )
    previous = partner.get("certifications", {}).get(cert_id)
    latest = _latest_expiry(previous, earned, int(rule["validity_months"]))
    _check_given_expiry(certification, rule, earned, latest)
    record: dict[str, Any] = {
        "certification_id": cert_id,
        "product_family": rule["product_family"],
        "earned_at": certification["earned_at"],
        "expires_at": certification.get("expires_at") or latest.isoformat(),
        "recorded_at": at,
        "recorded_by": by.actor,
        **_holders(previous, certification),
        **_validity(previous, earned),
    }
    gaps = _expiry_gaps(previous, at)
    if gaps:
        record["expiry_gaps"] = gaps
    certifications = {**partner.get("certifications", {}), cert_id: record}
    return {**partner, "certifications": certifications, "updated_at": at}


# --- product families ------------------------------------------------------------------------
def barred_families(policy: Mapping[str, Any], partner: Mapping[str, Any], day: date) -> set[str]:
    """Families the partner may not quote, order or register on `day` (PA-4.3(b) / CPA-4.3(b)): a certification it
    held there has expired, and it holds no other valid certification in that family. A family where it never held
    one is not barred by expiry (eligibility rules such as PA-5.1 still ask for a valid certification)."""
    families = certification_families(policy)
    held = partner.get("certifications", {})
    lapsed = {
        families[cid]
        for cid, record in held.items()
        if cid in families and (end := counts_until(record)) is not None and end < day
    }
    return lapsed - certified_families(policy, partner, day)


def certified_families(policy: Mapping[str, Any], partner: Mapping[str, Any], day: date) -> set[str]:
    """The Product Families in which the partner holds a valid certification on `day` (PA-4.x / CPA-4.x)."""
    families = certification_families(policy)
    return {families[cid] for cid in valid_certifications(partner, day) if cid in families}


def family_expired_on(policy: Mapping[str, Any], partner: Mapping[str, Any], family: str, day: date) -> date | None:
    """When `family` is barred on `day` (see `barred_families`): the last day of the latest certification the partner
    held in it, i.e. the expiry that put it there; else None."""
    if family not in barred_families(policy, partner, day):
        return None
    families = certification_families(policy)
    held = partner.get("certifications", {})
    return max(
        end
        for cid, record in held.items()
        if families.get(cid) == family and (end := counts_until(record)) is not None
    )


def family_expiry_gaps(policy: Mapping[str, Any], partner: Mapping[str, Any], family: str) -> list[tuple[date, str]]:
    """Past spells without a valid certification in `family` that ended when one was recorded again: (last valid day,
    when validity was recorded again), for each such spell no other certification of the family covered."""
    families = certification_families(policy)
    held = [r for cid, r in partner.get("certifications", {}).items() if families.get(cid) == family]
    found = []
    for record in held:
        for gap in record.get("expiry_gaps", []):
            first_day_out = parse_day(gap["expired_on"]) + timedelta(days=1)
            covered = any(other is not record and valid_on(other, first_day_out) for other in held)
            if not covered:
                found.append((parse_day(gap["expired_on"]), str(gap["recorded_again_at"])))
    return found
