"""Red team: a partner claims an ultimate parent to step around a rival's registration (PA-5.4 / PA-5.5).

PA-5.4: "Only one approved registration may exist for a given Customer and Product Family at any time across all
Partners. [...] Affiliates of a Customer are treated as the same Customer where they share the same ultimate parent
and purchase centrally."
PA-5.5: "If two or more Partners register the same Customer and Product Family, the first approved registration wins.
Pending registrations are decided in order of submission time. A registration that conflicts with an approved,
unexpired registration is rejected with reference to this clause".
PA-5.6: the registration discount applies "only to the registering Partner's quotes".

Grouping affiliates widens who counts as the registered Customer; it never makes a Customer someone else. Before the
fix an opportunity was keyed by the group alone: a partner key that registered its rival's registered Customer (the
same company registration number) with any `ultimate_parent_id` and `purchases_centrally: true` landed on another
key, found no conflict, and its registration could be approved beside the rival's, with the registration discount on
its quotes for that Customer. The reverse worked too (a rival registered the Customer as an affiliate of its group;
the attacker registered it plainly).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from test_auditor2_deals import OPS, T0, _partner, _policy, _terminate  # certified silver resellers

from memory_store import memory_runtime
from revgov import schemas
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Conflict, RuleViolation
from revgov.services import cases
from revgov.services import deals as deal_service
from revgov.services.deals.live import registration_for_quote


def _key(partner_id: str) -> Principal:
    return Principal("northwind", Role.PARTNER, f"key_01JX0000000000000{partner_id[-7:]}", partner_id=partner_id)


def _register(rt: Any, partner_id: str, customer: dict[str, Any]) -> dict[str, Any]:
    body = {
        "partner_id": partner_id,
        "customer": {"name": "Harbor Logistics GmbH", "contact": "Dana Ortiz", **customer},
        "family": "networking",
        "estimated_value": "84000.00",
        "expected_close": "2027-01-15",
    }
    return deal_service.register(rt, _key(partner_id), body)


def _decide(rt: Any, deal: dict[str, Any]) -> dict[str, Any]:
    cases.decide_case(rt, OPS, "approval", deal["approval_id"], "approved", None)
    return dict(deal_service.get(rt, OPS, deal["deal_id"]))


@pytest.fixture()
def world() -> dict[str, Any]:
    rt, clock = memory_runtime(T0)
    return {"rt": rt, "clock": clock, "rival": _partner(rt, "rival"), "attacker": _partner(rt, "attacker")}


def _customer() -> str:
    return f"DE{uuid.uuid4().int % 10**9:09d}"


def test_claiming_a_made_up_parent_does_not_escape_a_rivals_registration_of_the_same_customer(world):
    rt, rival, attacker = world["rt"], world["rival"], world["attacker"]
    customer = _customer()
    assert _decide(rt, _register(rt, rival, {"id": customer}))["status"] == "approved"
    claimed = {"id": customer, "ultimate_parent_id": f"US-EIN-{uuid.uuid4().hex[:8]}", "purchases_centrally": True}
    # PA-5.5: "A registration that conflicts with an approved, unexpired registration is rejected with reference to
    # this clause" — the registered Customer is still this company, whatever group it is said to belong to
    with pytest.raises(Conflict) as refused:
        _register(rt, attacker, claimed)
    assert refused.value.extra["clause"] == "PA-5.5"
    assert rival not in refused.value.detail  # "but not the identity of the other Partner"


def test_registering_plainly_a_customer_a_rival_registered_as_an_affiliate_is_refused(world):
    rt, rival, attacker = world["rt"], world["rival"], world["attacker"]
    customer, parent = _customer(), f"US-EIN-{uuid.uuid4().hex[:8]}"
    grouped = {"id": customer, "ultimate_parent_id": parent, "purchases_centrally": True}
    assert _decide(rt, _register(rt, rival, grouped))["status"] == "approved"
    for same in ({"id": customer}, {"id": customer.lower()},
                 {"id": customer, "ultimate_parent_id": "US-EIN-OTHER", "purchases_centrally": True}):
        with pytest.raises(Conflict) as refused:
            _register(rt, attacker, same)
        assert refused.value.extra["clause"] == "PA-5.5"


def test_a_pending_claim_of_another_group_cannot_be_approved_beside_the_rivals_registration(world):
    """The attacker registers first (pending, under a made-up parent); the rival's plain registration of the same
    Customer is submitted after it. PA-5.5: "Pending registrations are decided in order of submission time" and "the
    first approved registration wins": channel ops cannot approve the rival's before the attacker's is decided, and
    once one is approved the other is rejected — never two approved registrations for one Customer (PA-5.4)."""
    rt, rival, attacker = world["rt"], world["rival"], world["attacker"]
    customer = _customer()
    claimed = {"id": customer, "ultimate_parent_id": f"US-EIN-{uuid.uuid4().hex[:8]}", "purchases_centrally": True}
    first = _register(rt, attacker, claimed)
    world["clock"].advance(seconds=1)  # submitted after it (at one instant, the ids would order them)
    second = _register(rt, rival, {"id": customer})
    with pytest.raises(Conflict):  # out of order: the attacker's was submitted first
        cases.decide_case(rt, OPS, "approval", second["approval_id"], "approved", None)
    assert _decide(rt, first)["status"] == "approved"
    assert _decide(rt, second)["status"] == "rejected"
    approved = [d for d in (deal_service.get(rt, OPS, first["deal_id"]), deal_service.get(rt, OPS, second["deal_id"]))
                if d["status"] == "approved"]
    assert len(approved) == 1


def test_only_the_registering_partner_gets_the_registration_discount_for_the_customer(world):
    """PA-5.6: the registration discount applies "only to the registering Partner's quotes": a refused claim leaves
    the attacker no registration to quote with; the rival's still applies for the rival."""
    rt, rival, attacker = world["rt"], world["rival"], world["attacker"]
    customer = _customer()
    deal = _decide(rt, _register(rt, rival, {"id": customer}))
    with pytest.raises(Conflict):
        _register(rt, attacker, {"id": customer, "ultimate_parent_id": "US-EIN-1", "purchases_centrally": True})
    facts = registration_for_quote(rt, "northwind", deal["deal_id"], rival, customer, T0, _policy(rt))
    assert facts["partner_id"] == rival


def test_channel_ops_sees_the_group_a_registration_claims_before_approving_it(world):
    """PA-5.2: "Channel Operations approves or rejects a registration"; approved, a registration of an affiliate
    purchasing centrally bars every other partner from its ultimate parent and the parent's other affiliates (PA-5.4).
    The claim is the partner's word: the approval channel ops decides names it, not only the affiliate's id."""
    rt, attacker = world["rt"], world["attacker"]
    claimed = {"id": _customer(), "ultimate_parent_id": "US-EIN-BIGCORP", "purchases_centrally": True}
    deal = _register(rt, attacker, claimed)
    case, _ = cases.get_case(rt, "northwind", "approval", deal["approval_id"])
    assert case["context"]["ultimate_parent_id"] == "US-EIN-BIGCORP"
    assert case["context"]["purchases_centrally"] is True
    plain = _register(rt, world["rival"], {"id": _customer()})
    assert "ultimate_parent_id" not in cases.get_case(rt, "northwind", "approval", plain["approval_id"])[0]["context"]


# --- what channel ops reads of a registration: the customer's name and its named contact --------------------------
# PA-5.1: a registration is "evidenced by a named Customer contact"; PA-5.2: "Channel Operations approves or rejects a
# registration". The customer's name and contact are the partner's text that the reviewer reads (and n8n's messages
# and the portal show). As for invoice-dispute reasons (SOP-6.1, fixed last round), control characters and
# bidirectional overrides would let a partner make the name read as another company's; and a contact that is only
# invisible characters is no named contact.
_SPOOFS = ["Harbor Logistics\u202eHbmG", "Harbor\u0000Logistics", "Harbor\u001b[2JLogistics", "\u2066Harbor\u2069"]


@pytest.mark.parametrize("text", _SPOOFS)
@pytest.mark.parametrize("field", ["name", "contact"])
def test_a_registrations_customer_name_and_contact_carry_no_control_or_bidi_characters(world, field, text):
    body = {"partner_id": world["attacker"], "customer": {"id": _customer(), "name": "Harbor", "contact": "Dana",
                                                          field: text},
            "family": "networking", "estimated_value": "1.00", "expected_close": "2027-01-15"}  # fmt: skip
    assert [e.path for e in schemas.problems("api/deal-registration.schema.json", body)] == [f"/customer/{field}"]


@pytest.mark.parametrize("contact", ["\u200b", "\u200b\u200c\u2060", "\u3000", "."])
def test_a_named_contact_names_someone(world, contact):
    """PA-5.1 (northwind asks for it, `requires_contact`): zero-width characters, an ideographic space or a dot are no
    named Customer contact (blank was already refused)."""
    with pytest.raises(RuleViolation) as refused:
        _register(world["rt"], world["attacker"], {"id": _customer(), "contact": contact})
    assert [e.path for e in refused.value.errors] == ["/customer/contact"]


@pytest.mark.parametrize("text", _SPOOFS)
@pytest.mark.parametrize("field", ["proposal_reference", "note"])
def test_an_extension_request_carries_no_control_or_bidi_characters(field, text):
    """PA-5.3: "Channel Operations decides on the extension": the proposal reference and note are the partner's text
    it reads to decide (line breaks and tabs in a note are kept)."""
    body = {"proposal_reference": "PROP-2026-114", "proposal_date": "2026-11-20", "note": "sent\n\tto procurement",
            field: text}  # fmt: skip
    assert [e.path for e in schemas.problems("api/deal-extension.schema.json", body)] == [f"/{field}"]


def test_a_terminated_partners_pending_registration_does_not_hold_up_the_queue(world):
    """PA-13.3: "On termination: [...] deal registrations end"; PA-5.5: "Pending registrations are decided in order of
    submission time". A terminated partner's registration has ended: it is no longer a pending one to wait for, so
    channel ops decides the next registration without first deciding the ended one (before, it was refused as out of
    order until someone rejected the terminated partner's)."""
    rt, clock, rival, attacker = world["rt"], world["clock"], world["rival"], world["attacker"]
    customer = _customer()
    first = _register(rt, rival, {"id": customer})
    clock.advance(seconds=1)
    second = _register(rt, attacker, {"id": customer})
    _terminate(rt, rival)
    assert _decide(rt, second)["status"] == "approved"
    # the ended one is still decided as PA-13.3 says: never approved
    assert _decide(rt, first)["status"] in ("rejected", "ended")
