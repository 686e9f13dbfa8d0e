"""PA-2.2 / CPA-2.2 and the demo partners' onboarding history.

PA-2.2: "Before the Partner may quote, order, register deals or accrue any incentive, the following must be received
and verified in the Partner Portal: (a) this Agreement, signed ...; (b) a valid tax form ...; (c) a certificate of
insurance ...; and (d) a completed background and compliance check under PA-2.8. Each document is recorded with the
date received, the verifier and, where applicable, its expiry date. A document that has expired is treated as not
provided."
CPA-2.2: "No Partner may quote, order, register opportunities or accrue incentives until Contoso has received and
verified: ... (d) an extract from the commercial register dated within the last 3 months ..."

The demo's active partner was onboarded at the demo program's start (1 January of the year before the first start):
on evidence dated before then, activated then, recorded as a backfill (no approval pretended), and current today.
No test reads today's date: the days are given.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from memory_store import Ledger
from revgov.domain import partners
from revgov.domain.access import Principal, Role
from revgov.domain.errors import RuleViolation
from revgov.domain.partners.backfill import OnboardingHistory
from revgov.domain.time import parse_day
from revgov.local.demo_partners import demo_application, onboarding_history, program_start

ROOT = Path(__file__).resolve().parents[2]
RECORDER = Principal("northwind", Role.ADMIN, "key_01JX0000000000000000ADMIN0")


def _policy(tenant: str) -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "tenants" / tenant / "tenant.yaml").read_text())["policy"])


def _demo(tenant: str, today: date, partner_type: str = "reseller") -> tuple[dict[str, Any], OnboardingHistory,
                                                                              dict[str, Any]]:
    policy = _policy(tenant)
    tier = partners.tiers_by_rank(policy)[1]
    application = demo_application("Demo Reseller", partner_type, tier)
    history = onboarding_history(policy, application, today)
    record = partners.backfilled(policy, application, history, partner_id="ptr_01JX00000000000000000DEMO0",
                                 recorded_by=RECORDER, recorded_at=f"{today.isoformat()}T08:00:00.000Z")
    return policy, history, record


TODAYS = [date(2026, 12, 6), date(2027, 1, 1), date(2027, 3, 31), date(2027, 6, 30), date(2029, 2, 28)]


@pytest.mark.parametrize("tenant", ["northwind", "contoso"])
@pytest.mark.parametrize("today", TODAYS)
def test_the_demo_partner_was_onboarded_at_the_program_start_on_evidence_dated_before_it(tenant, today):
    policy, history, record = _demo(tenant, today)
    start = program_start(today)
    assert start == date(today.year - 1, 1, 1)
    assert record["status"] == "active" and record["activated_at"] == f"{start.isoformat()}T09:00:00Z"
    assert record["tier"] == partners.tiers_by_rank(policy)[1]["tier"]
    # the evidence verified at onboarding: every document PA-2.2 / CPA-2.2 and the type ask for, issued and received
    # before the submission, and current on the day of activation (the submission's assessment was complete then)
    at_onboarding = [f for f in history.evidence if f.received_at <= history.submitted_at]
    kinds = {f.item["document_type"] for f in at_onboarding if "document_type" in f.item}
    assert kinds == set(partners.required_documents(policy, "reseller"))
    for filed in at_onboarding:
        issued = filed.item.get("issued_at") or filed.item["earned_at"]
        assert parse_day(issued) <= parse_day(filed.received_at[:10]) <= start
    assessment = record["assessment"]
    assert assessment["checked_at"] == history.submitted_at and assessment["complete"] and not assessment["missing"]
    # ... and what is on file is current today: nothing expired or too old (CPA-2.2's 3-month register extract, the
    # yearly screening of PA-2.8 / CPA-2.8), every certification the tier needs valid
    assert partners.assess(policy, record, f"{today.isoformat()}T08:00:00Z").missing == ()
    for document in record["documents"].values():
        assert parse_day(document["issued_at"]) <= today
        assert document["expires_at"] is None or parse_day(document["expires_at"]) >= today
        assert document["recorded_at"] <= f"{today.isoformat()}T08:00:00Z" and document["recorded_by"] == "backfill"


@pytest.mark.parametrize("tenant", ["northwind", "contoso"])
def test_the_backfill_is_labelled_and_pretends_no_approval(tenant):
    """PA-2.9: "An approval records the partner type, the initial tier ... The same person may not both submit and
    approve an application." Nobody approved the demo partner in Revgov: every historical step is by `backfill`, the
    decision has no approval id, and the record says who recorded it and when."""
    _, history, record = _demo(tenant, date(2026, 12, 6))
    assert [step["to"] for step in record["history"]] == ["applied", "pending_approval", "active"]
    assert {step["by"] for step in record["history"]} == {"backfill"}
    assert [step["at"] for step in record["history"]] == [history.applied_at, history.submitted_at,
                                                          history.activated_at]
    assert record["decision"]["approval_id"] is None and record["decision"]["by"] == "backfill"
    assert "backfill" in record["decision"]["note"] and record["approval_id"] is None
    assert record["created_by"] == "backfill" and record["submitted_by"] == "backfill"
    assert record["backfill"] == {"recorded_at": "2026-12-06T08:00:00.000Z", "recorded_by": RECORDER.actor,
                                  "note": history.note}


def test_a_backfill_out_of_order_or_incomplete_is_refused_naming_what():
    policy = _policy("northwind")
    application = demo_application("Demo Reseller", "reseller", partners.tiers_by_rank(policy)[1])
    history = onboarding_history(policy, application, date(2026, 12, 6))

    def backfill(changed: OnboardingHistory, recorded_at: str = "2026-12-06T08:00:00.000Z") -> dict[str, Any]:
        return partners.backfilled(policy, application, changed, partner_id="ptr_01JX00000000000000000DEMO0",
                                   recorded_by=RECORDER, recorded_at=recorded_at)

    bad = [
        (OnboardingHistory(history.applied_at, "2024-01-01T09:00:00Z", history.activated_at, history.evidence,
                           history.note), "/submitted_at"),
        (OnboardingHistory(history.applied_at, history.submitted_at, "2024-12-01T09:00:00Z", history.evidence,
                           history.note), "/activated_at"),
        (OnboardingHistory(history.applied_at, history.submitted_at, "2025-01-01 09:00", history.evidence,
                           history.note), "/activated_at"),
        # activated after the recording: a backfill records what happened, not what will
        (OnboardingHistory(history.applied_at, history.submitted_at, "2027-01-01T09:00:00Z", history.evidence,
                           history.note), "recorded_at"),
        # evidence received before the application existed
        (OnboardingHistory(history.applied_at, history.submitted_at, history.activated_at,
                           (partners.Filed("2024-01-01T09:00:00Z", history.evidence[0].item), *history.evidence[1:]),
                           history.note), "/evidence/0/received_at"),
        # a document received (verified) before the day it was issued
        (OnboardingHistory(history.applied_at, history.submitted_at, history.activated_at,
                           (partners.Filed(history.applied_at, {**history.evidence[0].item,
                                                                "issued_at": "2024-12-31"}), *history.evidence[1:]),
                           history.note), "/issued_at"),
        # no insurance certificate on file at submission: PA-2.2(c) unmet, no activation
        (OnboardingHistory(history.applied_at, history.submitted_at, history.activated_at,
                           tuple(f for f in history.evidence if f.item.get("document_type") != "insurance_certificate"),
                           history.note), "/evidence"),
    ]
    for changed, path in bad:
        with pytest.raises(RuleViolation) as refused:
            backfill(changed)
        assert [e.path for e in refused.value.errors] == [path], (path, refused.value.detail)


@pytest.mark.parametrize(
    ("partner", "day", "held"),
    [
        ({"status": "active", "activated_at": "2026-08-01T09:00:00Z"}, "2026-07-31", True),
        ({"status": "active", "activated_at": "2026-08-01T09:00:00Z"}, "1999-01-05", True),
        # the activation is an instant; the day it falls on is after verification
        ({"status": "active", "activated_at": "2026-08-01T09:00:00Z"}, "2026-08-01", False),
        ({"status": "suspended", "activated_at": "2026-08-01T09:00:00Z"}, "2026-09-01", False),
        ({"status": "terminated", "activated_at": "2026-08-01T09:00:00Z"}, "2026-07-01", True),
        ({"status": "pending_approval"}, "2026-09-01", True),
        ({"status": "pending_documents"}, "2026-09-01", True),
        ({"status": "rejected"}, "2026-09-01", True),
        # onboarded before activations were recorded: judged by its status alone
        ({"status": "active"}, "1999-01-05", False),
    ],
)
def test_a_partner_could_not_order_before_it_was_onboarded(partner, day, held):
    why = partners.not_onboarded_on({"partner_id": "ptr_X", **partner}, parse_day(day))
    assert (why is not None) == held, why


# --- the hold in billing -------------------------------------------------------------------------------------------
def _sample(detail_type: str) -> dict[str, Any]:
    return dict(json.loads((ROOT / "events" / "revgov.erp" / f"{detail_type}.json").read_text())["detail"])


ORDERS = {"shipment.confirmed": "shipped_on", "subscription.activated": "activated_on",
          "service.completed": "accepted_on", "usage.reported": "usage_date", "support.logged": "performed_on"}


def _billed(detail_type: str, activated_at: str) -> tuple[Ledger, dict[str, Any]]:
    """The sample event billed at 2026-11-20 for its partner, activated at `activated_at`."""
    sample = _sample(detail_type)
    ledger = Ledger("2026-11-20T12:00:00Z")
    partner = next(p for p in ledger.partners if p["partner_id"] == sample["data"]["partner_id"])
    ledger.add_partners([{**partner, "activated_at": activated_at}])
    return ledger, ledger.bill(detail_type, sample["data"], occurred_at=sample["occurred_at"])


@pytest.mark.parametrize("detail_type", sorted(ORDERS))
def test_an_order_dated_before_the_partners_activation_is_held_for_channel_ops(detail_type):
    """PA-2.2: an order placed before onboarding was verified is not billed. SOP-4.1 routes
    `onboarding_document_missing_or_expired` to channel_ops (SOP-1.2: channel_ops holds "partner onboarding"); the
    exception cites ONB-ALL-PARTNERS, PA-2.2. The same order with the partner activated on its day bills."""
    day = _sample(detail_type)["data"][ORDERS[detail_type]]
    after = (parse_day(day) + timedelta(days=1)).isoformat()
    ledger, answer = _billed(detail_type, f"{after}T09:00:00Z")
    assert answer["status"] == "failed" and f"activated on {after}" in answer["reason"], answer
    (case,) = ledger.exceptions()
    assert case["category"] == "onboarding_document_missing_or_expired" and case["queue"] == "channel_ops"
    assert {"rule_id": "ONB-ALL-PARTNERS", "clause": "PA-2.2"} in [
        {k: r[k] for k in ("rule_id", "clause")} for r in case["reasons"]]
    assert ledger.rt.store.query("northwind", "INVOICEKEY", limit=10).items == []
    ledger, answer = _billed(detail_type, f"{day}T23:59:59Z")
    assert answer["status"] != "failed", answer
    assert all(c["category"] != "onboarding_document_missing_or_expired" for c in ledger.exceptions())


def test_a_payment_or_credit_is_no_order_and_is_not_held_by_onboarding():
    """PA-2.2 is about quoting, ordering, registering deals and accruing incentives; a payment or an ERP credit note
    corrects an invoice already issued. Dated before an activation, they are not held as an order."""
    for detail_type in ("invoice.paid", "credit_note.issued", "return.received", "subscription.cancelled"):
        ledger, _ = _billed(detail_type, "2026-11-20T09:00:00Z")
        assert all(c["category"] != "onboarding_document_missing_or_expired" for c in ledger.exceptions()), detail_type


@pytest.mark.parametrize("tenant", ["northwind", "contoso"])
def test_the_demo_seeds_just_after_midnight_on_any_day_with_no_evidence_received_later_that_day(tenant):
    """Found by the final fresh clone of the fourteenth session (00:17 UTC, 2026-12-08): `make run` refused to start,
    "evidence 17 was received at 2026-12-08T09:00:00Z, outside the application's life" — a renewal due that day was
    received at 09:00, after the clock's 00:17, and the backfill rightly refuses evidence received after it is recorded
    (PA-2.2: "Each document is recorded with the date received"; a record cannot hold a receipt still to come). So
    every piece of demo evidence is received on a day before the seeding day, whatever the day and the hour."""
    policy = _policy(tenant)
    tier = partners.tiers_by_rank(policy)[1]
    application = demo_application("Demo Reseller", "reseller", tier)
    for offset in range(0, 800):
        today = date(2026, 11, 1) + timedelta(days=offset)
        history = onboarding_history(policy, application, today)
        partners.backfilled(policy, application, history, partner_id="ptr_01JX00000000000000000DEMO0",
                            recorded_by=RECORDER, recorded_at=f"{today.isoformat()}T00:00:30.000Z")
