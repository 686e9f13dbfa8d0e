"""Auditor 5: contoso's registration clauses through the service tier (northwind's: tests/integration/
test_auditor2_deals.py). Fixed clocks only.

COP-4.3: "Whoever created or last modified a quote, discount request, credit note, territory exception, registration or
rebate adjustment may not approve it, whatever their queue membership or role."
CPA-5.3: "At any time, only one approved registration may exist for a given End Customer and Product Family across all
Partners. Group companies purchasing through a central procurement function count as one End Customer."
CPA-5.4: "Where registrations conflict, the first approved registration wins. Pending registrations are decided in
order of submission. A conflicting registration is refused with reference to this clause and the refused Partner is
told when the existing protection ends, without the name of the other Partner."
CPA-5.2: "An approved registration protects the Partner for 60 days from approval".
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from test_auditor5_territory import _partner, _who

from memory_store import memory_runtime
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Conflict, Forbidden
from revgov.services import cases
from revgov.services import deals as deal_service

T0 = "2026-11-02T09:00:00.000Z"
T = "contoso"
OPS_2 = Principal(T, Role.CHANNEL_OPS, "key_01JX000000000000000000OPS2")


def _body(partner_id: str, customer: dict[str, Any]) -> dict[str, Any]:
    return {"partner_id": partner_id, "customer": {"name": "Rhein Logistik GmbH", **customer},
            "family": "collaboration", "estimated_value": "60000.00", "expected_close": "2027-01-15"}


def test_cop_4_3_whoever_created_a_registration_may_not_approve_it():
    rt, _ = memory_runtime(T0, tenant=T)
    partner_id = _partner(rt, T, "reseller", None)
    creator = _who(T, Role.CHANNEL_OPS)  # channel ops registers for the partner, so it is the registration's creator
    deal = deal_service.register(rt, creator, _body(partner_id, {"id": "DE-HRB-1001"}))
    with pytest.raises(Forbidden) as refused:
        cases.decide_case(rt, creator, "approval", deal["approval_id"], "approved", None)
    assert refused.value.extra["clause"] == "COP-4.3"
    assert deal_service.get(rt, creator, deal["deal_id"])["status"] == "pending"
    assert cases.decide_case(rt, OPS_2, "approval", deal["approval_id"], "approved", None)["status"] == "approved"


def test_cpa_5_4_the_refused_partner_learns_when_protection_ends_never_who_holds_it():
    """Approved on 2026-11-02 09:00: protected 60 days, to 2027-01-01 (CPA-5.2). A rival's registration for the same
    End Customer and family is refused citing CPA-5.4 with that date; neither the winner's id nor its name appears.
    An affiliate of the group buying centrally is the same End Customer (CPA-5.3)."""
    rt, _ = memory_runtime(T0, tenant=T)
    first, rival = _partner(rt, T, "reseller", None), _partner(rt, T, "reseller", None)
    winner = rt.store.get(T, "PARTNER", first).data
    deal = deal_service.register(rt, _who(T, Role.SALES), _body(first, {"id": "DE-HRB-2002"}))
    cases.decide_case(rt, OPS_2, "approval", deal["approval_id"], "approved", None)
    approved = deal_service.get(rt, OPS_2, deal["deal_id"])
    assert approved["expires_at"][:10] == "2027-01-01"
    for customer in ({"id": "DE-HRB-2002"},
                     {"id": "DE-HRB-2099", "ultimate_parent_id": "DE-HRB-2002", "purchases_centrally": True}):
        with pytest.raises(Conflict) as refused:
            deal_service.register(rt, Principal(T, Role.PARTNER, "key_rival", partner_id=rival),
                                  _body(rival, customer))
        shown = json.dumps({"detail": refused.value.detail, "extra": refused.value.extra})
        assert refused.value.extra["clause"] == "CPA-5.4" and "2027-01-01" in shown
        assert first not in shown and winner["legal_name"] not in shown and deal["deal_id"] not in shown
