"""The partner-lifecycle sweep and the time limits it applies, on the in-memory engine with a fixed clock.

PA-2.9: "Applications that remain incomplete for 60 days after submission lapse and must be resubmitted." (CPA-2.9:
"Files incomplete 45 days after submission are closed.")
PA-2.7: "If a renewed certificate is not verified within 15 days after the expiry date, the Partner is suspended from
new quotes, new orders and new deal registrations under PA-13.2 until a valid certificate is verified." (CPA-2.4: "If
a renewed certificate is not verified within 10 days after expiry, the Partner is suspended under CPA-13.2".)
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from memory_store import memory_runtime
from revgov.domain import partners as partner_rules
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Conflict
from revgov.domain.partners import tiers_by_rank
from revgov.edge import handlers
from revgov.local.demo_partners import demo_application, onboard
from revgov.services import partners
from revgov.tenant_files import load_tenant_file
from support import ROOT, for_this_thread

SALES = Principal("northwind", Role.SALES, "key_01JX00000000000000000SALES")
OPS = Principal("northwind", Role.CHANNEL_OPS, "key_01JX000000000000000000OPS0")
CONTOSO = load_tenant_file(ROOT / "tenants" / "contoso" / "tenant.yaml")["policy"]


def _policy(rt: Any) -> dict[str, Any]:
    return rt.store.get("northwind", "TENANT", "PROFILE").data["config"]["policy"]  # type: ignore[no-any-return]


def _audit(rt: Any, partner_id: str, action: str) -> list[dict[str, Any]]:
    return [r for r in rt.store.iter_audit_records("northwind") if r["subject"] == partner_id and r["action"] == action]


def _incomplete_application() -> tuple[Any, Any, dict[str, Any]]:
    rt, clock = memory_runtime("2026-01-05T09:00:00.000Z")
    application = demo_application("Lapse Sweep Networks", "reseller", tiers_by_rank(_policy(rt))[0])
    partner = partners.apply(rt, SALES, application)
    assert partners.submit(rt, SALES, partner["partner_id"])["outcome"] == "pending_documents"
    return rt, clock, partner


def test_pa_2_9_the_sweep_lapses_an_application_incomplete_60_days_after_submission_once():
    rt, clock, partner = _incomplete_application()
    clock.set("2026-03-06T23:00:00.000Z")  # 60 days after 5 January: not yet
    assert partners.sweep_standing(rt, "northwind")["lapsed"] == 0
    clock.set("2026-03-07T01:00:00.000Z")  # the 61st day
    assert partners.sweep_standing(rt, "northwind")["lapsed"] == 1
    stored, _ = partners.load_partner(rt, "northwind", partner["partner_id"])
    assert stored["status"] == "lapsed" and stored["history"][-1]["by"] == partner_rules.STANDING_ACTOR
    (record,) = _audit(rt, partner["partner_id"], "partner.lapsed")
    assert record["rule_ids"] == ["PTR-APPLICATION-LAPSE"] and record["clauses"] == ["PA-2.9"]
    (event,) = [e for e in rt.publisher.published if e["detail_type"] == "partner.lapsed"]
    assert event["detail"]["clause"] == "PA-2.9" and event["detail"]["previous_status"] == "pending_documents"
    assert partners.sweep_standing(rt, "northwind")["lapsed"] == 0  # idempotent
    assert len(_audit(rt, partner["partner_id"], "partner.lapsed")) == 1
    with pytest.raises(Conflict):  # "must be resubmitted": a lapsed application takes no submission
        partners.submit(rt, SALES, partner["partner_id"])


def test_pa_2_9_submitting_a_lapsed_application_before_the_sweep_is_refused_naming_the_rule_and_changes_nothing():
    rt, clock, partner = _incomplete_application()
    clock.set("2026-03-07T01:00:00.000Z")
    before = partners.load_partner(rt, "northwind", partner["partner_id"])
    with pytest.raises(Conflict) as refused:
        partners.submit(rt, SALES, partner["partner_id"])
    assert refused.value.extra["clause"] == "PA-2.9" and "2026-03-06" in str(refused.value)
    assert partners.load_partner(rt, "northwind", partner["partner_id"]) == before


def _insured_partner() -> tuple[Any, Any, dict[str, Any]]:
    rt, clock = memory_runtime("2026-01-05T09:00:00.000Z")
    application = demo_application("Insured Sweep Networks", "reseller", tiers_by_rank(_policy(rt))[0])
    partner = onboard(rt, _policy(rt), application, "active", sales=SALES, approver=OPS)
    assert partner["documents"]["insurance_certificate"]["expires_at"] == "2026-12-01"
    return rt, clock, partner


def test_pa_2_7_the_sweep_suspends_after_15_days_and_reinstates_once_a_valid_certificate_is_filed():
    rt, clock, partner = _insured_partner()
    partner_id = partner["partner_id"]
    clock.set("2026-12-16T12:00:00.000Z")  # 15 days after the expiry date: a renewal may still be verified
    assert partners.sweep_standing(rt, "northwind")["suspended"] == 0
    clock.set("2026-12-17T12:00:00.000Z")
    assert partners.sweep_standing(rt, "northwind")["suspended"] == 1
    assert partners.sweep_standing(rt, "northwind")["suspended"] == 0  # idempotent
    assert partners.load_partner(rt, "northwind", partner_id)[0]["status"] == "suspended"
    (record,) = _audit(rt, partner_id, "partner.suspended")
    assert record["rule_ids"] == ["PTR-INSURANCE-LAPSE"] and record["clauses"] == ["PA-2.7"]
    renewal = {"document_type": "insurance_certificate", "reference": "dms://renewal.pdf",
               "checksum": "sha256:" + "1" * 64, "issued_at": "2026-12-17", "expires_at": "2027-12-17",
               "coverage_amount": "1000000.00"}  # fmt: skip  (PA-2.2(c): the certificate shows its coverage)
    partners.add_document(rt, OPS, partner_id, renewal)
    assert partners.sweep_standing(rt, "northwind")["reinstated"] == 1  # "until a valid certificate is verified"
    assert partners.load_partner(rt, "northwind", partner_id)[0]["status"] == "active"
    assert [e["detail_type"] for e in rt.publisher.published if e["detail"].get("rule_id") == "PTR-INSURANCE-LAPSE"] \
        == ["partner.suspended", "partner.reinstated"]


# redteam4: PA-2.7 "until a valid certificate is verified" and "If a renewed certificate is not verified within 15 days
# after the expiry date, the Partner is suspended" (CPA-2.4 the same in 10 days). The partner may upload its renewal,
# suspended or not (the cure stays open: tests/stack/test_redteam2_suspended_partner.py), but what it uploads is its
# declaration (its reference, checksum, dates and coverage amount); Channel Operations verify it by filing it with their
# own key, as they verified the file at activation (PA-2.9). Before, the partner's own upload of any certificate ended
# the suspension at the next sweep, and kept an expired partner from being suspended at all.
RENEWAL = {"document_type": "insurance_certificate", "reference": "dms://renewal.pdf", "checksum": "sha256:" + "1" * 64,
           "issued_at": "2026-12-10", "expires_at": "2099-12-31", "coverage_amount": "1000000.00"}


def test_pa_2_7_a_certificate_the_partner_uploads_counts_once_channel_operations_verify_it():
    rt, clock, partner = _insured_partner()
    partner_id = partner["partner_id"]
    own = Principal("northwind", Role.PARTNER, "key_01JX000000000000000PARTNER", partner_id)
    clock.set("2026-12-10T12:00:00.000Z")  # expired on 1 December: within the 15 days a renewal may be verified
    filed = partners.add_document(rt, own, partner_id, RENEWAL)
    assert filed["document"]["expires_at"] == "2099-12-31"  # recorded as the partner declared it
    clock.set("2026-12-17T12:00:00.000Z")  # not verified within 15 days: suspended all the same
    assert partners.sweep_standing(rt, "northwind")["suspended"] == 1
    partners.add_document(rt, own, partner_id, {**RENEWAL, "reference": "dms://renewal-2.pdf"})  # uploaded again
    assert partners.sweep_standing(rt, "northwind")["reinstated"] == 0
    assert partners.load_partner(rt, "northwind", partner_id)[0]["status"] == "suspended"
    partners.add_document(rt, OPS, partner_id, {**RENEWAL, "reference": "dms://renewal-2.pdf"})  # verified
    assert partners.sweep_standing(rt, "northwind")["reinstated"] == 1
    assert partners.load_partner(rt, "northwind", partner_id)[0]["status"] == "active"


def test_a_partner_suspended_by_a_person_is_not_reinstated_by_the_sweep():
    rt, _clock, partner = _insured_partner()
    partners.change_status(rt, OPS, partner["partner_id"], "suspended", "compliance review")
    assert partners.sweep_standing(rt, "northwind")["reinstated"] == 0
    assert partners.load_partner(rt, "northwind", partner["partner_id"])[0]["status"] == "suspended"


def test_the_scheduled_handler_sweeps_every_tenant(monkeypatch: pytest.MonkeyPatch):
    rt, clock, _partner = _incomplete_application()
    clock.set("2026-03-08T00:00:00.000Z")
    for_this_thread(monkeypatch, handlers, "runtime", lambda: rt)
    for_this_thread(monkeypatch, handlers, "_tenant_ids", lambda: ["northwind"])
    assert handlers.partner_lifecycle_sweep({}, None)["lapsed"] == 1


def test_cpa_2_9_and_cpa_2_4_contoso_counts_45_and_10_days():
    submitted = {"from": "applied", "to": "pending_documents", "at": "2026-01-05T09:00:00Z"}
    application = {"partner_id": "ptr_1", "status": "pending_documents", "partner_type": "reseller",
                   "history": [submitted]}  # fmt: skip
    assert partner_rules.application_lapse(CONTOSO, application, date(2026, 2, 19)) is None  # 45 days after
    lapse = partner_rules.application_lapse(CONTOSO, application, date(2026, 2, 20))
    assert lapse is not None and lapse["clause"] == "CPA-2.9"
    insured = {"partner_id": "ptr_1", "status": "active", "partner_type": "msp",
               "documents": {"cyber_liability_insurance": {"expires_at": "2026-12-01"}}}  # fmt: skip
    assert partner_rules.insurance_lapse(CONTOSO, insured, date(2026, 12, 11)) is None  # 10 days after expiry
    lapse = partner_rules.insurance_lapse(CONTOSO, insured, date(2026, 12, 12))
    assert lapse is not None and lapse["clause"] == "CPA-2.4" and "cyber_liability_insurance" in lapse["message"]
