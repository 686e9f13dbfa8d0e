"""The partner record as stored: the fields of `schemas/api/responses/partner.schema.json` plus the key ids kept for
segregation of duties (never shown to callers)."""

from __future__ import annotations

from typing import Any, TypedDict


class Partner(TypedDict, total=False):
    partner_id: str
    legal_name: str
    partner_type: str
    requested_tier: str
    proposed_tier: str | None
    tier: str | None
    status: str
    terms: dict[str, Any]
    contact: dict[str, Any]
    country: str | None
    documents: dict[str, dict[str, Any]]
    certifications: dict[str, dict[str, Any]]
    assessment: dict[str, Any] | None
    approval_id: str | None
    decision: dict[str, Any] | None
    created_at: str
    created_by: str
    created_by_role: str
    created_by_key: str
    submitted_at: str | None
    submitted_by: str | None
    submitted_by_key: str | None
    activated_at: str
    updated_at: str
    history: list[dict[str, Any]]
    allowances: dict[str, Any]  # CPA-9.7: sandboxes held, vouchers issued per Program Year (allowances.py)
    term: dict[str, Any]  # the agreement's term (PA-13.1 / CPA-13.1), stored once it renews or a notice is given
    backfill: dict[str, Any]  # recorded_at, recorded_by, note: an onboarding recorded after it happened
    tier_changes: list[dict[str, Any]]  # PA-3.6 / PA-3.7, CPA-3.5 / CPA-3.6: review outcomes recorded (tier_changes.py)
    tier_watches: list[dict[str, Any]]  # PA-3.6: July reviews that placed the partner on watch (tier_changes.py)
