"""Demo partners for the local stack, onboarded through the same use cases as the API and shaped by each policy:
one active (with a partner key), one waiting for approval, one waiting for documents.

The active one has an onboarding history: it was activated at the demo program's start (PROGRAM_START_NOTE: 1 January
of the year before the first start, 09:00 UTC), well before any sample ERP event, on the evidence it had filed before
then, and has renewed since what its program asks to be kept current (insurance before expiry, the yearly screening,
documents with a maximum age, certifications before expiry), so that it was onboarded at X on evidence dated before X
and is current today. It is recorded as a backfill (`partners.backfill_onboarding`): no approval is pretended."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from ..domain.access import Principal, Role
from ..domain.partners import Filed, OnboardingHistory, insurance_minimum, required_documents, tiers_by_rank
from ..domain.time import add_months, instant
from ..runtime import Runtime
from ..services import cases, keys, partners


def demo_application(name: str, partner_type: str, tier: dict[str, Any]) -> dict[str, Any]:
    """An application at the tier's commitment on net 30 (a regional reseller has yet to declare its territory)."""
    slug = name.lower().replace(" ", "-")
    return {
        "legal_name": name,
        "partner_type": partner_type,
        "requested_tier": tier["tier"],
        "terms": {"annual_commitment": tier["requirements"]["annual_commitment"], "payment_terms_days": 30},
        "contact": {"name": "Onboarding Desk", "email": f"onboarding@{slug}.example"},
    }


PROGRAM_START_NOTE = (
    "demo data: onboarded at the demo program's start (1 January of the year before the first start), recorded as a "
    "backfill when the demo was seeded; no approval was decided in Revgov"
)
_RENEW_AHEAD = timedelta(days=30)  # renewed a month before it expires or grows too old
_RECEIVED_AFTER = timedelta(days=5)  # received (and verified) five days after it was issued


def program_start(today: date) -> date:
    """The demo program's first day: 1 January of the year before `today`, the day of the first start."""
    return date(today.year - 1, 1, 1)


def _at(day: date) -> str:
    return f"{day.isoformat()}T09:00:00Z"


def _renewals(issued: date, months: int | None, today: date) -> Iterator[tuple[date, date]]:
    """(issued, received) of a document issued on `issued` and of each renewal since: a document that counts for
    `months` (None: for good) is renewed a month before it stops counting, and received five days after it was
    issued, up to the day before `today` (received at 09:00: today's may be still to come)."""
    while True:
        yield issued, issued + _RECEIVED_AFTER
        if months is None:
            return
        renewed = add_months(issued, months) - _RENEW_AHEAD
        if renewed + _RECEIVED_AFTER >= today:  # received on a day before today: at 09:00 today may be still to come
            return
        issued = renewed


def _document_history(policy: dict[str, Any], partner_type: str, start: date, today: date) -> list[Filed]:
    """Each required document, issued five weeks before the program start, and its renewals since: a document with
    an expiry runs a year (its expiry day the day before the anniversary); one with a maximum age is filed again
    before it grows too old."""
    catalogue = policy["onboarding"]["document_types"]
    filed = []
    for kind in required_documents(policy, partner_type):
        rule = catalogue[kind]
        months = 12 if rule["has_expiry"] else rule.get("max_age_months")
        for issued, received in _renewals(start - timedelta(days=35), months, today):
            document = {"document_type": kind, "reference": f"dms://demo/{kind}/{issued.isoformat()}.pdf",
                        "checksum": "sha256:" + "0" * 64, "issued_at": issued.isoformat()}
            if rule["has_expiry"]:
                document["expires_at"] = (add_months(issued, 12) - timedelta(days=1)).isoformat()
            document.update(_coverage(policy, partner_type, kind))
            filed.append(Filed(_at(received), document))
    return filed


def _coverage(policy: dict[str, Any], partner_type: str, kind: str) -> dict[str, str]:
    """A demo insurance certificate states the coverage the clause asks of the partner type, no more (PA-2.2(c) /
    CPA-2.2(c): the certificate shows its coverage amounts; PA-2.3-2.5 / CPA-2.4 minimums); other documents none."""
    amount = insurance_minimum(policy, partner_type, kind)
    return {"coverage_amount": amount} if amount is not None else {}


def _certification_history(policy: dict[str, Any], cert_ids: list[str], start: date, today: date) -> list[Filed]:
    """Each certification earned two months before the program start (filed a month before it) and renewed a month
    before each expiry (a renewal before expiry extends it by a full validity period, PA-4.2)."""
    filed = []
    for cert_id in cert_ids:
        months = int(next(c for c in policy["certifications"] if c["id"] == cert_id)["validity_months"])
        earned, expires = start - timedelta(days=60), add_months(start - timedelta(days=60), months)
        received = start - timedelta(days=30)  # filed with the application's documents
        while True:
            filed.append(Filed(_at(received), {"certification_id": cert_id, "earned_at": earned.isoformat()}))
            if expires - _RENEW_AHEAD + _RECEIVED_AFTER >= today:  # received before today, as documents are
                break
            earned, expires = expires - _RENEW_AHEAD, add_months(expires, months)
            received = earned + _RECEIVED_AFTER
    return filed


def onboarding_history(policy: dict[str, Any], application: dict[str, Any], today: date) -> OnboardingHistory:
    """Applied six weeks before the program start, evidence received from then on, submitted two weeks before it,
    activated on it; renewals since, up to `today`."""
    start = program_start(today)
    evidence = _document_history(policy, application["partner_type"], start, today)
    evidence += _certification_history(policy, _tier_certifications(policy, application["requested_tier"]), start,
                                       today)
    return OnboardingHistory(applied_at=_at(start - timedelta(days=42)), submitted_at=_at(start - timedelta(days=14)),
                             activated_at=_at(start), evidence=tuple(evidence), note=PROGRAM_START_NOTE)


def _tier_certifications(policy: dict[str, Any], tier_name: str) -> list[str]:
    """The certifications the tier requires, or the catalogue's first for a tier that requires none."""
    tier = next(t for t in tiers_by_rank(policy) if t["tier"] == tier_name)
    return list(tier["requirements"]["certifications"] or [c["id"] for c in policy["certifications"][:1]])


def _evidence(rt: Runtime, who: Principal, policy: dict[str, Any], partner: dict[str, Any], today: date) -> None:
    """Every document the partner type needs (current) and every certification its requested tier needs."""
    catalogue = policy["onboarding"]["document_types"]
    for kind in required_documents(policy, partner["partner_type"]):
        expiry = (today + timedelta(days=330)).isoformat() if catalogue[kind]["has_expiry"] else None
        document = {
            "document_type": kind,
            "reference": f"dms://demo/{partner['partner_id']}/{kind}.pdf",
            "checksum": "sha256:" + "0" * 64,
            "issued_at": (today - timedelta(days=20)).isoformat(),
            **({"expires_at": expiry} if expiry else {}),
            **_coverage(policy, partner["partner_type"], kind),
        }
        partners.add_document(rt, who, partner["partner_id"], document)
    for cert_id in _tier_certifications(policy, partner["requested_tier"]):
        earned = (today - timedelta(days=60)).isoformat()
        partners.add_certification(rt, who, partner["partner_id"], {"certification_id": cert_id, "earned_at": earned})


def onboard(rt: Runtime, policy: dict[str, Any], application: dict[str, Any], goal: str, *, sales: Principal,
            approver: Principal) -> dict[str, Any]:
    """Take one application to `goal` (pending_documents, pending_approval or active) through the use cases, today."""
    partner = partners.apply(rt, sales, application)
    if goal != "pending_documents":
        _evidence(rt, sales, policy, partner, instant(rt.clock.now_iso()).date())
    submitted = partners.submit(rt, sales, partner["partner_id"])
    if goal == "active" and submitted["approval"]:
        approval = submitted["approval"]
        decider = (
            approver
            if approval["queue"] == "channel_ops"
            else Principal(approver.tenant_id, Role.LEGAL, approver.key_id)
        )
        cases.decide_case(rt, decider, "approval", approval["case_id"], "approved", "demo data")
    return partners.load_partner(rt, sales.tenant_id, partner["partner_id"])[0]


def onboarded_at_program_start(
    rt: Runtime, policy: dict[str, Any], application: dict[str, Any], *, recorder: Principal
) -> dict[str, Any]:
    """An active partner with the demo onboarding history (see the module), recorded now by `recorder`."""
    history = onboarding_history(policy, application, instant(rt.clock.now_iso()).date())
    return partners.backfill_onboarding(rt, recorder, application, history)


def seed_partners(
    rt: Runtime, policy: dict[str, Any], display_name: str, *, admin: Principal, sales: Principal, approver: Principal
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The active partner onboarded at the program start (a backfill the admin records), the others applied and
    submitted today by sales; the admin mints the active partner's key.

    Returns the partners (id, name, type, status, tier) and a partner key per active partner."""
    if "onboarding" not in policy:
        return [], {}
    tiers = tiers_by_rank(policy)
    second = tiers[1] if len(tiers) > 1 else tiers[0]
    plan = [
        (f"{display_name} Demo Reseller", "reseller", second, "active"),
        (f"{display_name} Demo MSP", "msp", tiers[0], "pending_approval"),
        (f"{display_name} Demo Regional Reseller", "regional_reseller", tiers[0], "pending_documents"),
    ]
    seeded, partner_keys = [], {}
    for name, partner_type, tier, goal in plan:
        application = demo_application(name, partner_type, tier)
        if goal == "active":
            partner = onboarded_at_program_start(rt, policy, application, recorder=admin)
        else:
            partner = onboard(rt, policy, application, goal, sales=sales, approver=approver)
        if partner["status"] == "active":
            key = keys.create_key(rt, admin, admin.tenant_id, Role.PARTNER, partner["partner_id"], f"{name} portal")
            partner_keys[partner["partner_id"]] = str(key["key"])
        seeded.append({k: partner[k] for k in ("partner_id", "legal_name", "partner_type", "status", "tier")})
    return seeded, partner_keys
