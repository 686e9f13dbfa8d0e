"""A partner agreement's term and renewal (PA-13.1 / CPA-13.1): read the term, give notice of non-renewal."""

from __future__ import annotations

from typing import Any

from ...domain.access import Role
from ...services import renewals
from ..http import Call
from ..registry import TENANT, operation

_PARTNER = {"partner_id": "ptr"}
NOTICE_GIVERS = frozenset({Role.PARTNER, Role.CHANNEL_OPS, Role.LEGAL})


@operation(
    "GET",
    "/v1/partners/{partner_id}/term",
    summary="The partner agreement's term (PA-13.1): start, current Program Year end, renewals, a notice of "
    "non-renewal on file, and the last day a notice is in time",
    roles=TENANT,
    tag="partners",
    id_params=_PARTNER,
    response_schema="api/responses/partner-term.schema.json",
)
def get_partner_term(call: Call) -> dict[str, Any]:
    return renewals.get_term(call.runtime, call.who, call.params["partner_id"])


@operation(
    "POST",
    "/v1/partners/{partner_id}/non-renewal",
    summary="Give notice of non-renewal (PA-13.1: at least 60 days before the Program Year ends; CPA-13.1: 90): "
    "the partner for itself, Channel Operations or Legal for the distributor; a late notice is a 422 citing "
    "the clause; the year-end sweep then ends the agreement (PA-13.3 effects)",
    roles=NOTICE_GIVERS,
    tag="partners",
    id_params=_PARTNER,
    body_schema="api/partner-non-renewal.schema.json",
    status=201,
    example={"reason": "the partner is leaving the programme at year end"},
    response_schema="api/responses/partner-term.schema.json",
    open_when_suspended="PA-13.1 'unless either party gives notice of non-renewal at least 60 days before the end of "
                        "the current Program Year' (CPA-13.1: 90): the suspension is 'without terminating this "
                        "Agreement' (PA-13.2) and does not name the notice, whose last day may pass during it",
)
def give_partner_non_renewal(call: Call) -> dict[str, Any]:
    return renewals.give_notice(call.runtime, call.who, call.params["partner_id"], call.body)
