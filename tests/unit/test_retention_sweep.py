"""The daily retention sweep on the in-memory engine with a fixed clock: copilot transcripts and the papers of ended
partners purged after the tenant's days, each purge audited, nothing under legal hold, the chain still verifying.

Seed whitepaper: "Enterprises should implement ... data retention policies ... Where LLMs are used, prompts and outputs
should be logged according to policy, sensitive fields should be masked where appropriate."
PA-14.1: "Questions and answers are logged with sensitive fields masked and are not used to train models shared with
other customers." CPA-14.1: "questions and answers are logged with personal data masked".
PA-11.2: "Each party processes personal data of the other's staff and of Customers only as necessary to perform this
Agreement"; "Personal data in logs, prompts and audit records is masked where it is not needed for the record's
purpose."
tenants/northwind/tenant.yaml: `copilot_text: {days: 180, then: mask}`, `partner_documents: {days: 365}`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from memory_store import memory_runtime
from revgov.adapters.answerers import LocalAnswerer
from revgov.adapters.local_index import SqliteClauseIndex
from revgov.domain import retention as rules
from revgov.domain.access import PLATFORM, Principal, Role
from revgov.domain.copilot import mask_sensitive
from revgov.domain.errors import RuleViolation
from revgov.domain.partners import tiers_by_rank
from revgov.local.demo_partners import demo_application
from revgov.ports import Changes
from revgov.services import audit, cases, copilot, copilot_transcripts, partners, retention, tenants
from revgov.services.copilot import index_tenant
from revgov.tenant_files import load_tenant_file
from support import ROOT

ADMIN = Principal("northwind", Role.ADMIN, "key_01JX0000000000000000ADMIN0")
FINANCE = Principal("northwind", Role.FINANCE, "key_01JX000000000000000FINANCE")
SALES = Principal("northwind", Role.SALES, "key_01JX00000000000000000SALES")
QUESTION = "How long do I have to dispute an invoice? Write to me at jane.doe@reseller.example"
CHECKSUM = "sha256:" + "ab" * 32


class FakeEmbedder:
    model_id, dimension = "fake-4", 4

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [[1.0, 0.0, 0.0, 0.0] for _ in texts]


def _copilot_runtime(tmp_path: Path, at: str = "2026-01-05T09:00:00.000Z") -> tuple[Any, Any]:
    rt, clock = memory_runtime(at)
    index = SqliteClauseIndex(tmp_path / "index.sqlite", FakeEmbedder())
    index_tenant(index, ROOT / "tenants", "northwind")
    return replace(rt, clause_index=index, answerer=LocalAnswerer()), clock


def _partner(rt: Any, name: str = "Retention Networks") -> str:
    policy = rt.store.get("northwind", "TENANT", "PROFILE").data["config"]["policy"]
    return str(partners.apply(rt, SALES, demo_application(name, "reseller", tiers_by_rank(policy)[0]))["partner_id"])


def _records(rt: Any, action: str) -> list[dict[str, Any]]:
    return [r for r in rt.store.iter_audit_records("northwind") if r["action"] == action]


def _listed(rt: Any, record_id: str) -> dict[str, Any]:
    page = audit.list_records(rt, "northwind", subject=None, limit=200, cursor=None)
    return next(r for r in page["items"] if r["record_id"] == record_id)


def test_a_question_is_sealed_by_digest_and_its_masked_text_kept_beside_the_record(tmp_path):
    rt, _ = _copilot_runtime(tmp_path)
    asked = copilot.ask(rt, ADMIN, {"question": QUESTION})
    (record,) = _records(rt, "copilot.asked")
    assert "question" not in record["inputs"] and "answer" not in record["inputs"]
    assert set(record["inputs"]) >= {"transcript_id", "question_sha256", "answer_sha256"}
    shown = _listed(rt, asked["audit_id"])["transcript"]
    assert shown["form"] == "full" and shown["digest_matches"] is True
    assert "[email]" in shown["question"] and "jane.doe" not in shown["question"]  # PA-14.1: masked when logged
    assert shown["answer"] == mask_sensitive(asked["answer"])  # logged masked, as the question
    assert audit.verify_chain(rt, "northwind")["valid"]


def test_after_180_days_northwind_keeps_only_a_masked_form_and_the_chain_still_verifies(tmp_path):
    rt, clock = _copilot_runtime(tmp_path)
    question = "What rebate applies above USD 250,000.00 for ptr_01JBNWPARTNER0000000000001?"
    asked = copilot.ask(rt, ADMIN, {"question": question})
    sealed = _listed(rt, asked["audit_id"])
    clock.advance(days=179)
    assert retention.sweep(rt, "northwind")["transcripts_masked"] == 0
    clock.advance(days=2)
    assert retention.sweep(rt, "northwind")["transcripts_masked"] == 1
    after = _listed(rt, asked["audit_id"])
    assert after["hash"] == sealed["hash"] and after["inputs"] == sealed["inputs"]  # the sealed record is untouched
    assert after["transcript"]["form"] == "masked" and "digest_matches" not in after["transcript"]
    assert "250,000" not in after["transcript"]["question"] and "ptr_01JBNW" not in after["transcript"]["question"]
    (purge,) = _records(rt, "retention.transcripts_masked")
    assert purge["inputs"]["transcript_ids"] == [sealed["inputs"]["transcript_id"]]
    assert purge["actor"] == retention.ACTOR and purge["rule_ids"] == ["RET-COPILOT-TEXT"]
    verified = audit.verify_chain(rt, "northwind")
    assert verified.pop("pointers")["valid"] is True  # each partner's audit pointers hold too
    assert verified == {"records": len(list(rt.store.iter_audit_records("northwind"))), "valid": True,
                        "first_invalid": None}
    assert retention.sweep(rt, "northwind")["transcripts_masked"] == 0  # idempotent


def test_a_tenant_that_erases_keeps_no_text_and_no_salt_so_the_digest_confirms_no_guess(tmp_path):
    rt, clock = _copilot_runtime(tmp_path)
    body = {"financial_records": {"years": 7}, "copilot_text": {"days": 30, "then": "erase"},
            "partner_documents": {"days": 365}, "webhook_deliveries": {"days": 7}}
    retention.set_policy(rt, ADMIN, body)
    asked = copilot.ask(rt, ADMIN, {"question": QUESTION})
    clock.advance(days=31)
    assert retention.sweep(rt, "northwind")["transcripts_erased"] == 1
    kept = rt.store.get("northwind", "COPILOTTEXT", _listed(rt, asked["audit_id"])["inputs"]["transcript_id"]).data
    assert kept["form"] == "erased" and not {"question", "answer", "salt"} & set(kept)
    assert _listed(rt, asked["audit_id"])["transcript"] == {"form": "erased", "erased_at": kept["erased_at"]}
    assert audit.verify_chain(rt, "northwind")["valid"]


def test_an_open_exception_of_the_partner_holds_its_transcripts_until_it_is_decided(tmp_path):
    """Legal hold: an open dispute, exception or appeal holds the records relating to its partner."""
    rt, clock = _copilot_runtime(tmp_path)
    partner_id = _partner(rt)
    asked = copilot.ask(rt, ADMIN, {"question": "What is my support allowance?", "partner_id": partner_id})
    policy = rt.store.get("northwind", "TENANT", "PROFILE").data["config"]["policy"]
    case, changes = cases.open_case(rt, policy, kind="exception", category="margin_below_floor",
                                    subject_kind="partner", subject_id=partner_id, requested_by="system",
                                    partner_id=partner_id)
    rt.commit("northwind", changes)
    clock.advance(days=200)
    assert retention.policy_view(rt, "northwind")["legal_holds"] == [{"partner_id": partner_id,
                                                                       "case_ids": [case["case_id"]], "hold_ids": []}]
    swept = retention.sweep(rt, "northwind")
    assert swept["held"] == 1 and swept["transcripts_masked"] == 0
    assert _listed(rt, asked["audit_id"])["transcript"]["form"] == "full"
    cases.decide_case(rt, FINANCE, "exception", case["case_id"], "resolved", "margin confirmed")
    assert retention.sweep(rt, "northwind")["transcripts_masked"] == 1
    assert retention.policy_view(rt, "northwind")["last_sweep"]["transcripts_masked"] == 1


def test_the_papers_of_a_lapsed_application_are_purged_365_days_after_it_lapsed_and_audited_in_its_trail():
    """PA-2.9: "Applications that remain incomplete for 60 days after submission lapse". PA-11.2: personal data only
    as necessary. What was verified (type, checksum, dates) stays; where the document is and the contact go."""
    rt, clock = memory_runtime("2026-01-05T09:00:00.000Z")
    partner_id = _partner(rt)
    partners.add_document(rt, SALES, partner_id, {"document_type": "signed_agreement", "reference": "dms://nw/1",
                                                  "checksum": CHECKSUM, "issued_at": "2026-01-02"})
    assert partners.submit(rt, SALES, partner_id)["outcome"] == "pending_documents"
    clock.set("2026-03-07T01:00:00.000Z")
    assert partners.sweep_standing(rt, "northwind")["lapsed"] == 1
    clock.advance(days=364)
    assert retention.sweep(rt, "northwind")["documents_purged"] == 0
    clock.advance(days=2)
    assert retention.sweep(rt, "northwind")["documents_purged"] == 1
    stored, _ = partners.load_partner(rt, "northwind", partner_id)
    document = stored["documents"]["signed_agreement"]
    assert stored["contact"] is None and document["reference"] is None and "recorded_by" not in document
    assert document["checksum"] == CHECKSUM and document["issued_at"] == "2026-01-02" and document["purged_at"]
    (record,) = _records(rt, "partner.papers_purged")
    assert record["partner_id"] == partner_id and record["inputs"]["document_types"] == ["signed_agreement"]
    assert record["inputs"]["status"] == "lapsed" and record["inputs"]["contact_erased"] is True
    assert retention.sweep(rt, "northwind")["documents_purged"] == 0  # idempotent
    assert audit.verify_chain(rt, "northwind")["valid"]


def test_an_active_partners_papers_are_never_purged():
    rt, clock = memory_runtime("2026-01-05T09:00:00.000Z")
    partner_id = _partner(rt)
    clock.advance(days=4000)
    assert retention.sweep(rt, "northwind")["documents_purged"] == 0
    assert partners.load_partner(rt, "northwind", partner_id)[0]["contact"] is not None


def test_the_policy_change_is_audited_with_before_and_after_and_a_short_period_changes_nothing():
    rt, _ = memory_runtime("2026-01-05T09:00:00.000Z")
    body = {"financial_records": {"years": 10}, "copilot_text": {"days": 90, "then": "erase"},
            "partner_documents": {"days": 400}, "webhook_deliveries": {"days": 14}}
    shown = retention.set_policy(rt, ADMIN, body)
    assert shown["classes"]["copilot_text"]["days"] == 90 and shown["record_keeping"]["clause"] == "PA-12.1"
    (record,) = _records(rt, "retention.policy_changed")
    assert record["inputs"]["before"]["copilot_text"] == {"days": 180, "then": "mask"}
    assert record["inputs"]["after"]["financial_records"] == {"years": 10} and record["clauses"] == ["PA-12.1"]
    assert rules.days_of(rt.store.get("northwind", "TENANT", "PROFILE").data["config"], "webhook_deliveries") == 14


def test_a_tenant_is_not_provisioned_with_a_period_below_its_floor():
    """CPA-12.1: records "for 10 years, or longer where law requires": contoso's financial records cannot be 9."""
    rt, _ = memory_runtime("2026-01-05T09:00:00.000Z")
    config = load_tenant_file(ROOT / "tenants" / "contoso" / "tenant.yaml")
    config["retention"] = {**config["retention"], "financial_records": {"years": 9}}
    with pytest.raises(RuleViolation) as refused:
        tenants.create_tenant(rt, Principal(PLATFORM, Role.OPERATOR, "key_test"), config)
    assert [e.path for e in refused.value.errors] == ["/retention/financial_records/years"]
    assert "CPA-12.1" in refused.value.errors[0].message and not tenants.exists(rt, "contoso")


def test_a_staff_question_about_a_decision_under_an_open_approval_is_held():
    """The related records of an open case include the questions asked about its subject, whoever asked them."""
    rt, clock = memory_runtime("2026-01-05T09:00:00.000Z")
    decision_id = rt.ids.new("dec")
    sealed, kept = copilot_transcripts.recorded(rt, "Why does this quote need finance?", "PA-6.6 says so.",
                                                partner_id=None, decision_id=decision_id)
    rt.commit("northwind", Changes(puts=[kept]))
    policy = rt.store.get("northwind", "TENANT", "PROFILE").data["config"]["policy"]
    case, changes = cases.open_case(rt, policy, kind="approval", category="margin_below_floor",
                                    subject_kind="decision", subject_id=decision_id, requested_by="system")
    rt.commit("northwind", changes)
    clock.advance(days=181)
    assert retention.sweep(rt, "northwind")["held"] == 1
    assert rt.store.get("northwind", "COPILOTTEXT", sealed["transcript_id"]).data["form"] == "full"
    cases.decide_case(rt, FINANCE, "approval", case["case_id"], "approved", "margin accepted")
    assert retention.sweep(rt, "northwind")["transcripts_masked"] == 1


def test_a_partner_reads_the_transcript_of_its_own_question_and_no_other(tmp_path):
    """PA-12.1: the Distributor "provides the Partner, on request, with the records relating to the Partner";
    PA-11.1: nothing of another Partner."""
    rt, _ = _copilot_runtime(tmp_path)
    own, rival = _partner(rt), _partner(rt, "Rival Networks")
    key = Principal("northwind", Role.PARTNER, "key_01JX000000000000000PARTNER", partner_id=own)
    mine = copilot.ask(rt, key, {"question": "What is my support allowance?"})
    copilot.ask(rt, Principal("northwind", Role.PARTNER, "key_01JX00000000000000RIVAL0", partner_id=rival),
                {"question": "What rebate does Retention Networks earn?"})
    listed = audit.list_for(rt, key, subject=None, partner_id=None, limit=200, cursor=None)["items"]
    asked = [r for r in listed if r["action"] == "copilot.asked"]
    assert [r["record_id"] for r in asked] == [mine["audit_id"]]
    assert asked[0]["transcript"]["question"] == "What is my support allowance?"
    assert "hash" not in asked[0] and asked[0]["partner_view"] is True
