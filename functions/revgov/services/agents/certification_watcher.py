"""Certification watcher: a live deal registration whose partner's certification for the deal's family has expired
becomes a `certification_expired_active_deal` exception (where the policy holds registrations under PA-4.3(d) /
CPA-4.3(d), the deal-certification sweep of revgov.services.deal_holds opens it instead, once); one that lapses
before the deal closes (or within 30 days) gets a renewal task with a drafted reminder. A family the partner never
held a certification for is escalated."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from ...domain.agents import CertificationGap, Finding, certification_gap, note_to_partner
from ...domain.deals import ends_at
from ...domain.rules import Rule
from .desk import AgentDesk

NAME = "certification_watcher"
HORIZON_DAYS = 30


def run(desk: AgentDesk) -> None:
    by_family: dict[str, list[str]] = {}
    for cert in desk.policy.get("certifications", []):
        by_family.setdefault(cert["product_family"], []).append(cert["id"])
    partners = {p["partner_id"]: p for p in desk.active_partners()}
    held_by_sweep = "certification_lapse" in desk.policy.get("deal_registration", {})  # PA-4.3(d) / CPA-4.3(d)
    for deal in desk.live_deals():
        desk.report.looked_at += 1
        partner = partners.get(deal["partner_id"])
        if partner is None:
            continue
        until = max(date.fromisoformat(deal["expected_close"]), desk.today + timedelta(days=HORIZON_DAYS))
        gap = certification_gap(by_family.get(deal["family"], []), partner.get("certifications", {}), desk.today,
                                until)
        if gap is not None and gap.expired and gap.certification_id and held_by_sweep:
            continue  # the deal-certification sweep owns this exception (revgov.services.deal_holds): never two
        if gap is not None:
            desk.handle(_finding(deal, partner, gap, until, lapse_rule(desk.policy)))


def lapse_rule(policy: dict[str, Any]) -> Rule:
    """The rule a lapsing or lapsed certification under a live deal falls under: PA-4.3 / CPA-4.3 ("approved deal
    registrations in that Product Family are suspended"), the deal's own rule where the policy holds deals, else the
    partner's certification lapse."""
    node = policy.get("deal_registration", {}).get("certification_lapse") or policy["onboarding"]["certification_lapse"]
    return Rule.of(node)


def _evidence(deal: dict[str, Any], gap: CertificationGap, until: date) -> dict[str, Any]:
    return {
        "deal_id": deal["deal_id"],
        "customer": deal["customer"],
        "family": deal["family"],
        "expected_close": deal["expected_close"],
        "exclusivity_ends": ends_at(deal["expires_at"]),
        "certification_id": gap.certification_id,
        "certification_expires_on": gap.expires_on.isoformat() if gap.expires_on else None,
        "checked_through": until.isoformat(),
    }


def _renewal_note(
    deal: dict[str, Any], partner: dict[str, Any], gap: CertificationGap, expires_on: str, rule: Rule
) -> dict[str, Any]:
    """The note to the partner, citing its own agreement's clause (PA-4.3 / CPA-4.3: the rule's)."""
    customer = deal["customer"].get("name", deal["customer"]["id"])
    return note_to_partner(
        partner,
        f"Renew {gap.certification_id} before {expires_on}",
        f"Your certification {gap.certification_id} expires on {expires_on}. Your registered {deal['family']} deal "
        f"for {customer} is expected to close on {deal['expected_close']}; without a valid certification the deal's "
        f"entitlements lapse ({rule.clause}). Please renew in time.",
    )


def _finding(
    deal: dict[str, Any], partner: dict[str, Any], gap: CertificationGap, until: date, rule: Rule
) -> Finding:
    """No certification on record (unsure: escalated), one expired (an exception), or one lapsing (a renewal task)."""
    name = partner.get("legal_name", partner["partner_id"])
    evidence = _evidence(deal, gap, until)
    expires_on, deal_id, family = evidence["certification_expires_on"], deal["deal_id"], deal["family"]
    about: dict[str, Any] = {"agent": NAME, "subject": {"kind": "deal", "id": deal_id},
                             "partner_id": partner["partner_id"], "evidence": evidence, "rules": (rule,)}
    if gap.certification_id is None:
        return Finding(**about, key=f"{NAME}#{deal_id}#none", action="exception", confidence=0.5,
                       category="certification_expired_active_deal", kind="certification_missing",
                       title=f"{name} holds no {family} certification on record for live deal {deal_id}",
                       why_unsure="no certification record at all: the family may be exempt or the record incomplete")
    if gap.expired:
        return Finding(**about, key=f"{NAME}#{deal_id}#{gap.certification_id}#expired", action="exception",
                       category="certification_expired_active_deal", kind="certification_expired", confidence=1.0,
                       title=f"{gap.certification_id} of {name} expired on {expires_on} while deal {deal_id} "
                       f"({family}) is live")
    return Finding(**about, key=f"{NAME}#{deal_id}#{gap.certification_id}#{gap.expires_on}", action="task",
                   kind="certification_renewal", queue="channel_ops", confidence=0.9,
                   title=f"{gap.certification_id} of {name} lapses on {expires_on}, before live deal {deal_id} closes "
                   f"({deal['expected_close']})",
                   draft_message=_renewal_note(deal, partner, gap, expires_on, rule))
