"""Partners and onboarding: applications, documents, certifications, submission, lifecycle and entitlements."""

from __future__ import annotations

import re
from typing import Any

from ...domain.access import Role
from ...domain.errors import NotFound
from ...domain.partners import STATUSES
from ...domain.time import parse_instant
from ...services import partner_departures, partner_ownership, partner_type_changes, partners, support_hours
from ..http import Call
from ..registry import STAFF, TENANT, QueryParam, operation
from .status_changes import StatusChanges

ONBOARDING = frozenset({Role.ADMIN, Role.CHANNEL_OPS, Role.SALES})
EVIDENCE = ONBOARDING | {Role.PARTNER}
SUSPENDERS = frozenset({Role.ADMIN, Role.CHANNEL_OPS, Role.LEGAL, Role.FINANCE})
TERMINATORS = frozenset({Role.ADMIN, Role.CHANNEL_OPS, Role.LEGAL})
DEPARTURES = frozenset({Role.ADMIN, Role.CHANNEL_OPS, Role.PARTNER})
_PARTNER = {"partner_id": "ptr"}
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_AT = QueryParam(
    "at",
    "evaluate as of this UTC time (default: now), e.g. 2027-03-10T00:00:00Z",
    pattern=r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z",
)
_TERMS_EXAMPLE = {"annual_commitment": "300000.00", "payment_terms_days": 30}


def _partner_id(call: Call) -> str:
    """The path's partner id. Who may reach it is the use case's rule (`partners.visible_id`: a partner key its own
    partner only, any other id a 404), not checked a second time here."""
    return str(call.params["partner_id"])


def _at(call: Call) -> str:
    """The `at` query parameter (a real UTC instant, else a 400 naming `/query/at`), or now."""
    at: str | None = call.query.get("at")
    if at is None:
        return str(call.runtime.clock.now_iso())
    parse_instant(at, field_path="/query/at")
    return at


@operation(
    "POST",
    "/v1/partners",
    summary="Apply: a new partner application (status applied); the creator may never approve it",
    roles=ONBOARDING,
    tag="partners",
    body_schema="api/partner-application.schema.json",
    status=201,
    example={
        "legal_name": "Contour Networks LLC",
        "partner_type": "reseller",
        "requested_tier": "silver",
        "terms": _TERMS_EXAMPLE,
        "contact": {"name": "Dana Reyes", "email": "dana.reyes@contour.example"},
    },
    response_schema="api/responses/partner.schema.json",
)
def create_partner(call: Call) -> dict[str, Any]:
    return partners.apply(call.runtime, call.who, call.body)


@operation(
    "GET",
    "/v1/partners",
    summary="Partners, optionally by status and tier",
    roles=STAFF,
    tag="partners",
    paginated=True,
    query=(
        QueryParam("status", "only partners in this status", enum=STATUSES),
        QueryParam("tier", "only partners holding this tier", pattern=r"[a-z][a-z0-9_]{0,39}"),
    ),
    response_schema="api/responses/partner-page.schema.json",
)
def list_partners(call: Call) -> dict[str, Any]:
    return partners.list_partners(
        call.runtime,
        call.who.tenant_id,
        status=call.query.get("status"),
        tier=call.query.get("tier"),
        limit=call.limit,
        cursor=call.cursor,
    )


@operation(
    "GET",
    "/v1/partners/{partner_id}",
    summary="Read a partner (a partner key: only its own)",
    roles=TENANT,
    tag="partners",
    id_params=_PARTNER,
    response_schema="api/responses/partner.schema.json",
)
def get_partner(call: Call) -> dict[str, Any]:
    return partners.get_partner(call.runtime, call.who, _partner_id(call))


@operation(
    "POST",
    "/v1/partners/{partner_id}/terms",
    summary="Complete or correct the commercial terms before the application goes to approval",
    roles=ONBOARDING,
    tag="partners",
    id_params=_PARTNER,
    body_schema="api/partner-terms.schema.json",
    example=_TERMS_EXAMPLE,
    response_schema="api/responses/partner.schema.json",
)
def amend_partner_terms(call: Call) -> dict[str, Any]:
    return partners.amend_terms(call.runtime, call.who, _partner_id(call), call.body)


@operation(
    "POST",
    "/v1/partners/{partner_id}/documents",
    summary="File an onboarding document (reference, checksum, dates) or a compliance screening with its outcome; a "
            "partner key: only its own, never a screening outcome",
    roles=EVIDENCE | {Role.LEGAL},  # legal: screenings only (PA-2.8; SOP-1.2 "compliance screening matches")
    tag="partners",
    id_params=_PARTNER,
    body_schema="api/partner-document.schema.json",
    status=201,
    example={
        "document_type": "signed_agreement",
        "reference": "dms://partner-agreements/contour-networks-2026.pdf",
        "checksum": "sha256:" + "5" * 64,
        "issued_at": "2026-11-02",
    },
    response_schema="api/responses/partner-document-recorded.schema.json",
    open_when_suspended="the cure, and only it: PA-2.7 'upload a renewed certificate' (suspended 'until a valid "
                        "certificate is verified'), CPA-13.2 'the suspension ends when the reason is cured'; a "
                        "suspended partner's key files only the insurance certificates its type requires (403 "
                        "naming PA-9.6 / CPA-9.8 for any other document)",
)
def add_partner_document(call: Call) -> dict[str, Any]:
    return partners.add_document(call.runtime, call.who, _partner_id(call), call.body)


@operation(
    "POST",
    "/v1/partners/{partner_id}/certifications",
    summary="Record a certification from the catalogue on the certifying body's evidence (a renewal replaces it)",
    # PA-4.2: the Distributor updates the records on the certifying body's evidence; a partner key recording its own
    # would lift PA-4.3's bar on a family and reinstate its suspended registrations by saying so
    roles=ONBOARDING,
    tag="partners",
    id_params=_PARTNER,
    body_schema="api/partner-certification.schema.json",
    status=201,
    example={"certification_id": "cert-network-core", "earned_at": "2026-10-01"},
    response_schema="api/responses/partner-certification-recorded.schema.json",
)
def add_partner_certification(call: Call) -> dict[str, Any]:
    return partners.add_certification(call.runtime, call.who, _partner_id(call), call.body)


@operation(
    "POST",
    "/v1/partners/{partner_id}/certification-departures",
    summary="Record that a certified individual left (PA-4.4): the last one leaving ends the certification like expiry",
    # PA-4.4: "The Partner must notify Channel Operations": the partner's own key records it (its own certifications
    # only), or Channel Operations on its notice; it can only take validity away, never lift a bar
    roles=DEPARTURES,
    tag="partners",
    id_params=_PARTNER,
    body_schema="api/certification-departure.schema.json",
    status=201,
    example={"certification_id": "cert-security-pro", "last_day": "2026-11-20"},
    response_schema="api/responses/certification-departure-recorded.schema.json",
    open_when_suspended="PA-4.4 'The Partner must notify Channel Operations within 10 business days of the departure' "
                        "(a notice due, like PA-11.2's): a suspension stops new quotes, orders, registrations and "
                        "incentive accrual (PA-13.2), not the duty; the record only takes validity away",
)
def record_certification_departure(call: Call) -> dict[str, Any]:
    return partner_departures.record(call.runtime, call.who, _partner_id(call), call.body)


@operation(
    "POST",
    "/v1/partners/{partner_id}/submit",
    summary="Run the onboarding checks: gaps → pending_documents with the list; complete → pending_approval",
    roles=ONBOARDING,
    tag="partners",
    id_params=_PARTNER,
    response_schema="api/responses/partner-submission.schema.json",
)
def submit_partner(call: Call) -> dict[str, Any]:
    return partners.submit(call.runtime, call.who, _partner_id(call))


_LIFECYCLE = StatusChanges(
    "/v1/partners/{partner_id}", "partner", "partners", _partner_id, partners.change_status, _PARTNER,
    "api/responses/partner.schema.json",
)
_LIFECYCLE.declare(
    "suspend",
    to="suspended",
    summary="Suspend an active partner (entitlements the policy withholds stop)",
    roles=SUSPENDERS,
    reason="insurance certificate expired more than 15 days ago (PA-2.7)",
)
_LIFECYCLE.declare(
    "reinstate",
    to="active",
    summary="Lift a suspension once its reason is cured",
    roles=SUSPENDERS,
    reason="renewed insurance certificate verified",
)
_LIFECYCLE.declare(
    "terminate",
    to="terminated",
    summary="Terminate an active or suspended partner: every entitlement ends",
    roles=TERMINATORS,
    reason="notice of termination for convenience, 90 days elapsed",
)


@operation(
    "POST",
    "/v1/partners/{partner_id}/type-changes",
    summary="Apply to change the partner's type (PA-2.1: by submitting the documents the new type requires; effective "
            "when Channel Operations approves it): opens a channel ops approval, the change pending on the partner "
            "(`type_change`) with what the new type still lacks (`outstanding`); tier, pricing, rebates and "
            "entitlements do not change (the tier determines them). 422 where the agreement provides none (CPA-2.1)",
    roles=frozenset({Role.PARTNER, Role.CHANNEL_OPS, Role.ADMIN}),
    tag="partners",
    id_params=_PARTNER,
    body_schema="api/partner-type-change.schema.json",
    status=201,
    example={"partner_type": "msp", "reason": "We now operate our customers' networks under managed service contracts"},
    response_schema="api/responses/partner.schema.json",
)
def request_partner_type_change(call: Call) -> dict[str, Any]:
    return partner_type_changes.request_change(call.runtime, call.who, _partner_id(call), call.body)


@operation(
    "POST",
    "/v1/partners/{partner_id}/ownership-changes",
    summary="Record a change of the partner's beneficial ownership (PA-2.8 / CPA-2.8: screening is repeated "
            "'whenever ownership changes' / 'on any change of control'): the partner tells of its own, channel ops or "
            "legal record it; a change after the latest screening makes one due and opens Legal's screening "
            "exception; the partner is not held (only a potential match holds it)",
    roles=frozenset({Role.PARTNER, Role.CHANNEL_OPS, Role.LEGAL}),
    tag="partners",
    id_params=_PARTNER,
    body_schema="api/partner-ownership-change.schema.json",
    status=201,
    example={"changed_on": "2026-11-02", "description": "Harbor Capital acquired 40% of the shares",
             "beneficial_owners": [{"name": "Harbor Capital LP", "share_percent": "40.00"}]},
    response_schema="api/responses/partner.schema.json",
    open_when_suspended="PA-2.8 'whenever ownership changes': the screening the change calls for may be the cure "
                        "of a suspension under PA-13.2(b) / CPA-13.2",
)
def record_partner_ownership_change(call: Call) -> dict[str, Any]:
    return partner_ownership.record_ownership_change(call.runtime, call.who, _partner_id(call), call.body)


@operation(
    "GET",
    "/v1/partners/{partner_id}/entitlements",
    summary="Every entitlement, from the tier and the certifications valid at `at`",
    roles=TENANT,
    tag="partners",
    id_params=_PARTNER,
    query=(_AT,),
    response_schema="api/responses/entitlements.schema.json",
)
def list_partner_entitlements(call: Call) -> dict[str, Any]:
    at = _at(call)
    return support_hours.read_entitlements(call.runtime, call.who, _partner_id(call), at)


@operation(
    "GET",
    "/v1/partners/{partner_id}/entitlements/{name}",
    summary="One entitlement at `at`: {entitled, value, reason, rule_id, clause}",
    roles=TENANT,
    tag="partners",
    id_params=_PARTNER,
    query=(_AT,),
    response_schema="api/responses/entitlement.schema.json",
)
def get_partner_entitlement(call: Call) -> dict[str, Any]:
    name = call.params["name"]
    if not _NAME.fullmatch(name):
        raise NotFound(f"no entitlement {name}")
    at = _at(call)
    return support_hours.read_entitlement(call.runtime, call.who, _partner_id(call), name, at)
