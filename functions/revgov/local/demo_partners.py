"""Demo partners for the local stack, onboarded through the same use cases as the API and shaped by each policy:
one active (with a partner key), one waiting for approval, one waiting for documents."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from ..domain.access import Principal, Role
from ..domain.partners import required_documents, tiers_by_rank
from ..domain.time import instant
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
        }
        partners.add_document(rt, who, partner["partner_id"], document)
    tier = next(t for t in tiers_by_rank(policy) if t["tier"] == partner["requested_tier"])
    certs = tier["requirements"]["certifications"] or [c["id"] for c in policy["certifications"][:1]]
    for cert_id in certs:
        earned = (today - timedelta(days=60)).isoformat()
        partners.add_certification(rt, who, partner["partner_id"], {"certification_id": cert_id, "earned_at": earned})


def onboard(
    rt: Runtime,
    policy: dict[str, Any],
    application: dict[str, Any],
    goal: str,
    *,
    sales: Principal,
    approver: Principal,
) -> dict[str, Any]:
    """Take one application to `goal` (pending_documents, pending_approval or active) through the use cases."""
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


def seed_partners(
    rt: Runtime, policy: dict[str, Any], display_name: str, *, admin: Principal, sales: Principal, approver: Principal
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Sales applies and submits, channel ops approves, the admin mints the active partner's key.

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
        partner = onboard(rt, policy, application, goal, sales=sales, approver=approver)
        if partner["status"] == "active":
            key = keys.create_key(rt, admin, admin.tenant_id, Role.PARTNER, partner["partner_id"], f"{name} portal")
            partner_keys[partner["partner_id"]] = str(key["key"])
        seeded.append({k: partner[k] for k in ("partner_id", "legal_name", "partner_type", "status", "tier")})
    return seeded, partner_keys
