"""The retention policy's rules (domain.retention), with no fakes: floors from the contracts and the law, refusals
naming the field, the masked form, when an ended partner's papers are due, legal holds.

PA-12.1: "The Partner keeps complete records of quotes, Customer orders, deal registrations, MDF activities and
services delivered under this Agreement for 7 years. ... The Distributor keeps an audit trail of every automated
decision and approval under this Agreement and provides the Partner, on request, with the records relating to the
Partner." CPA-12.1: "The Partner keeps records of quotes, orders, registrations, MDF activities and Services for 10
years, or longer where law requires."
PA-14.2 / CPA-14.2: "A Partner may request human review of an automated decision within 30 days".
PA-9.6: "Portal access ends 90 days after termination"; CPA-9.8: "Access ends 60 days after termination."
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from revgov.domain import retention
from revgov.tenant_files import load_tenant_file
from support import ROOT


def _config(tenant: str) -> dict[str, Any]:
    return load_tenant_file(ROOT / "tenants" / tenant / "tenant.yaml")


def _valid(config: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**retention.chosen(config), **changes}


@pytest.mark.parametrize(("tenant", "clause", "years"), [("northwind", "PA-12.1", 7), ("contoso", "CPA-12.1", 10)])
def test_financial_records_are_kept_at_least_the_contracts_record_keeping_years(tenant, clause, years):
    config = _config(tenant)
    floor = retention.floors(config)["financial_records"]
    assert floor.value == years and floor.unit == "years" and clause in floor.sources[0]
    (error,) = retention.problems(config, _valid(config, financial_records={"years": years - 1}))
    assert error.path == "/financial_records/years" and f"at least {years} years" in error.message
    assert clause in error.message
    assert retention.problems(config, _valid(config, financial_records={"years": years})) == []


def test_without_a_contract_clause_the_law_keeps_financial_records_7_years():
    """US IRS guidance: up to 7 years; EU VAT Directive art. 247: the member state's period."""
    config = {k: v for k, v in _config("northwind").items() if k != "retention"}
    floor = retention.floors(config)["financial_records"]
    assert floor.value == 7 and "art. 247" in floor.sources[0] and "IRS" in floor.sources[0]
    assert retention.chosen(config)["financial_records"] == {"years": 7}


def test_the_record_keeping_clause_each_tenant_cites_is_in_its_contracts():
    for tenant in ("northwind", "contoso"):
        rule = retention.record_keeping(_config(tenant))
        assert rule is not None
        text = "\n".join(p.read_text() for p in (ROOT / "tenants" / tenant / "contracts").glob("*.md"))
        heading = re.search(rf"^### {re.escape(rule['clause'])} .*\n(.*)$", text, re.MULTILINE)
        assert heading is not None and f"for {rule['years']} years" in heading.group(1)


def test_copilot_text_is_kept_at_least_30_days_in_full():
    config = _config("northwind")
    (error,) = retention.problems(config, _valid(config, copilot_text={"days": 29, "then": "erase"}))
    assert error.path == "/copilot_text/days" and "PA-14.2" in error.message
    assert retention.problems(config, _valid(config, copilot_text={"days": 30, "then": "erase"})) == []


@pytest.mark.parametrize(("tenant", "days"), [("northwind", 90), ("contoso", 60)])
def test_a_terminated_partners_papers_are_kept_at_least_its_portal_access(tenant, days):
    config = _config(tenant)
    floor = retention.floors(config)["partner_documents"]
    assert floor.value == days
    (error,) = retention.problems(config, _valid(config, partner_documents={"days": days - 1}))
    assert error.path == "/partner_documents/days"


def test_the_review_window_is_the_floor_of_the_papers_where_no_portal_access_is_granted():
    config = {"policy": {"onboarding": {}}}
    assert retention.floors(config)["partner_documents"].value == 45


def test_webhook_delivery_logs_are_kept_at_least_7_days_and_a_tenant_without_a_choice_gets_the_defaults():
    config = {"policy": {}}
    assert retention.chosen(config) == {"financial_records": {"years": 7},
                                        "copilot_text": {"days": 365, "then": "mask"},
                                        "partner_documents": {"days": 365}, "webhook_deliveries": {"days": 7}}
    (error,) = retention.problems(config, _valid(config, webhook_deliveries={"days": 6}))
    assert error.path == "/webhook_deliveries/days"


def test_the_masked_form_keeps_the_shape_and_clause_references_but_no_particulars():
    text = 'Why was the rebate of inv_01JBNWPARTNER0000000000001 cut by $1,200.50 under PA-7.2, says "Jane"?'
    masked = retention.masked_form(text)
    assert masked == "Why was the rebate of [id] cut by [number] under PA-7.2, says [quote]?"
    other = retention.masked_form("Call Acme Corp on +49 30 1234567 or a@b.example")
    assert other.startswith("Call [name] [name] on ") and other.endswith(" or [email]")
    assert not re.search(r"\d", other)


def _ended(status: str, at: str) -> dict[str, Any]:
    return {"partner_id": "ptr_x", "status": status, "contact": {"name": "A", "email": "a@b.example"},
            "documents": {"tax_form": {"reference": "dms://1", "checksum": "sha256:00", "recorded_by": "sales:key_1"}},
            "history": [{"to": "pending_documents", "at": "2026-01-01T00:00:00.000Z"}, {"to": status, "at": at}]}


@pytest.mark.parametrize("status", ["rejected", "lapsed", "terminated"])
def test_an_ended_partners_papers_are_due_the_given_days_after_it_ended(status):
    partner = _ended(status, "2026-02-01T00:00:00.000Z")
    assert not retention.documents_due(partner, 90, "2026-05-01T23:59:59.000Z")
    assert retention.documents_due(partner, 90, "2026-05-02T00:00:00.000Z")
    purged = retention.purged_partner(partner, "2026-05-02T00:00:00.000Z")
    assert not retention.documents_due(purged, 90, "2027-01-01T00:00:00.000Z")  # nothing left to purge


def test_a_suspended_or_active_partners_papers_are_never_due():
    for status in ("active", "suspended", "pending_documents"):
        assert not retention.documents_due(_ended(status, "2020-01-01T00:00:00.000Z"), 45, "2030-01-01T00:00:00.000Z")


def test_a_legal_hold_names_each_partner_with_an_open_case():
    held = retention.held_partners([{"case_id": "exc_1", "partner_id": "ptr_a"},
                                    {"case_id": "apr_2", "partner_id": None},
                                    {"case_id": "apr_3", "partner_id": "ptr_a"}])
    assert held == {"ptr_a": ["exc_1", "apr_3"]}


def test_a_transcript_digest_depends_on_its_salt():
    assert retention.transcript_digest("s1", "q") != retention.transcript_digest("s2", "q")
    assert retention.transcript_digest("s1", "q") == retention.transcript_digest("s1", "q")
