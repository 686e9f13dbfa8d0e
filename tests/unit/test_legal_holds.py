"""A manual legal hold (a dispute, litigation) placed and lifted by Legal keeps a partner's records from the retention
sweep (docs/retention.md "Legal hold"), on the in-memory engine with a fixed clock.

docs/retention.md: "A partner with an open approval or exception [...] is under legal hold: the sweep purges none of
its transcripts or papers". A litigation or a dispute outside any case holds them too, once Legal places the hold;
SOP-1.2: legal handles "contract deviations, compliance screening matches, contract interpretation questions" (the
queue of the distributor's legal matters). PA-2.9: "Applications that remain incomplete for 60 days after submission
lapse"; northwind keeps an ended partner's papers `partner_documents: {days: 365}`.
"""

from __future__ import annotations

from typing import Any

import pytest

from memory_store import memory_runtime
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Conflict, Forbidden, NotFound
from revgov.domain.partners import tiers_by_rank
from revgov.local.demo_partners import demo_application
from revgov.services import audit, partners, retention

LEGAL = Principal("northwind", Role.LEGAL, "key_01JX00000000000000000LEGAL")
LEGAL2 = Principal("northwind", Role.LEGAL, "key_01JX0000000000000000LEGAL2")
ADMIN = Principal("northwind", Role.ADMIN, "key_01JX0000000000000000ADMIN0")
SALES = Principal("northwind", Role.SALES, "key_01JX00000000000000000SALES")
CHECKSUM = "sha256:" + "ab" * 32
HOLD = {"matter": "litigation", "reason": "Claim filed by Lakeside Clinics, case 26-CV-1042: preserve everything"}


def _lapsed_a_year_ago() -> tuple[Any, Any, str]:
    """An application that lapsed on 7 Mar 2026; on 9 Mar 2027 its papers are due to be purged (365 days)."""
    rt, clock = memory_runtime("2026-01-05T09:00:00.000Z")
    policy = rt.store.get("northwind", "TENANT", "PROFILE").data["config"]["policy"]  # type: ignore[union-attr]
    partner_id = str(partners.apply(rt, SALES, demo_application("Held Networks", "reseller",
                                                                tiers_by_rank(policy)[0]))["partner_id"])  # fmt: skip
    partners.add_document(rt, SALES, partner_id, {"document_type": "signed_agreement", "reference": "dms://nw/1",
                                                  "checksum": CHECKSUM, "issued_at": "2026-01-02"})  # fmt: skip
    partners.submit(rt, SALES, partner_id)
    clock.set("2026-03-07T01:00:00.000Z")
    assert partners.sweep_standing(rt, "northwind")["lapsed"] == 1
    clock.set("2027-03-09T01:00:00.000Z")
    return rt, clock, partner_id


def test_a_legal_hold_keeps_the_papers_from_the_sweep_until_legal_lifts_it_each_step_audited():
    rt, _, partner_id = _lapsed_a_year_ago()
    hold = retention.place_hold(rt, LEGAL, {**HOLD, "partner_id": partner_id})
    assert (hold["status"], hold["partner_id"], hold["matter"]) == ("active", partner_id, "litigation")
    held = retention.policy_view(rt, "northwind")["legal_holds"]
    assert held == [{"partner_id": partner_id, "case_ids": [], "hold_ids": [hold["hold_id"]]}]
    swept = retention.sweep(rt, "northwind")
    assert (swept["documents_purged"], swept["held"]) == (0, 1)
    stored, _ = partners.load_partner(rt, "northwind", partner_id)
    assert stored["documents"]["signed_agreement"]["reference"] == "dms://nw/1"
    lifted = retention.lift_hold(rt, LEGAL2, hold["hold_id"], {"reason": "Settled; the court closed the case"})
    assert (lifted["status"], lifted["lifted_by"]) == ("lifted", "legal:key_01JX0000000000000000LEGAL2")
    assert retention.policy_view(rt, "northwind")["legal_holds"] == []
    assert retention.sweep(rt, "northwind")["documents_purged"] == 1
    actions = [r["action"] for r in rt.store.iter_audit_records("northwind") if r["subject"] == hold["hold_id"]]
    assert actions == ["retention.legal_hold_placed", "retention.legal_hold_lifted"]
    assert audit.verify_chain(rt, "northwind")["valid"]


def test_only_legal_places_or_lifts_a_hold_an_unknown_partner_is_not_found_and_a_hold_is_lifted_once():
    rt, _, partner_id = _lapsed_a_year_ago()
    for who in (ADMIN, SALES, Principal("northwind", Role.PARTNER, "key_p", partner_id)):
        with pytest.raises(Forbidden):
            retention.place_hold(rt, who, {**HOLD, "partner_id": partner_id})
    with pytest.raises(NotFound):
        retention.place_hold(rt, LEGAL, {**HOLD, "partner_id": "ptr_01JX0000000000000000000000"})
    assert retention.policy_view(rt, "northwind")["legal_holds"] == []
    hold = retention.place_hold(rt, LEGAL, {**HOLD, "partner_id": partner_id})
    with pytest.raises(Forbidden):
        retention.lift_hold(rt, ADMIN, hold["hold_id"], {"reason": "cleanup"})
    retention.lift_hold(rt, LEGAL, hold["hold_id"], {"reason": "withdrawn"})
    with pytest.raises(Conflict):
        retention.lift_hold(rt, LEGAL, hold["hold_id"], {"reason": "again"})
    with pytest.raises(NotFound):
        retention.lift_hold(rt, LEGAL, "lgh_01JX0000000000000000000000", {"reason": "none"})


def test_two_holds_on_one_partner_keep_it_held_until_both_are_lifted():
    rt, _, partner_id = _lapsed_a_year_ago()
    first = retention.place_hold(rt, LEGAL, {**HOLD, "partner_id": partner_id})
    second = retention.place_hold(rt, LEGAL, {"matter": "dispute", "reason": "Rebate claim", "partner_id": partner_id})
    retention.lift_hold(rt, LEGAL, first["hold_id"], {"reason": "settled"})
    assert retention.sweep(rt, "northwind")["documents_purged"] == 0
    assert retention.policy_view(rt, "northwind")["legal_holds"][0]["hold_ids"] == [second["hold_id"]]
