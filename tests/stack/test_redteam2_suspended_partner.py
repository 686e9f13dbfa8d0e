"""Red team 2: what a SUSPENDED partner's own key can still change, over HTTP.

PA-9.6: "A suspended Partner keeps read-only access to its statements and documents." CPA-9.8: "Suspended Partners
keep read-only access." PA-13.2: the Distributor "may suspend a Partner from new quotes, orders, deal registrations
and incentive accrual". docs/onboarding.md says "the clauses make only a suspended partner read-only", but nothing
enforced it: probed on the running product, a suspended partner's key was answered 201 for an MDF activity request
(PA-9.5 incentive), a certification departure (PA-4.4) and an onboarding document; its quote check was denied
(PRC-PARTNER-ACTIVE), as it should be.

Now the edge refuses every write of a suspended partner's key (403 naming PA-9.6) except the operations the route table
declares `open_when_suspended`: the cure PA-2.7 names ("upload a renewed certificate before the expiry date [...] the
Partner is suspended [...] until a valid certificate is verified"; PA-13.2 "is lifted when the reason is cured"), the
copilot question (changes nothing) and the quote check (denied by its own rule, with a recorded decision). API 1.46.2
narrows the cure to the insurance certificates and opens, from their clauses, the notices PA-4.4 and PA-13.1 still ask
for (a departure, non-renewal); disputes, appeals and replies: tests/stack/test_suspended_partner_writes.py.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

import clock_support
from support import northwind_silver_partners

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def suspended(stack: Any, api: Any) -> dict[str, Any]:
    pair = northwind_silver_partners(stack, api, ("Suspended",), "Read Only")
    (partner_id, _key), = pair["partners"]
    moved = pair["roles"]["channel_ops"].post(f"/v1/partners/{partner_id}/suspend",
                                              {"reason": "PA-13.2(e) suspension for the probe"})
    assert moved.status_code == 200 and moved.json()["status"] == "suspended", moved.text
    return pair


def test_a_suspended_partner_still_reads_its_own_records(suspended: dict[str, Any]) -> None:
    (partner_id, key), = suspended["partners"]
    for path in (f"/v1/partners/{partner_id}", f"/v1/partners/{partner_id}/mdf", f"/v1/partners/{partner_id}/term"):
        assert key.get(path).status_code == 200, path


def test_pa_9_6_a_suspended_partner_cannot_ask_for_mdf(suspended: dict[str, Any]) -> None:
    (partner_id, key), = suspended["partners"]
    starts = clock_support.today() + timedelta(days=30)
    asked = key.post(f"/v1/partners/{partner_id}/mdf/activities",
                     {"title": "Roadshow while suspended", "starts_on": starts.isoformat(),
                      "ends_on": (starts + timedelta(days=1)).isoformat(), "planned_amount": "100.00"})
    assert asked.status_code == 403, asked.text
    problem = asked.json()
    assert asked.headers["content-type"].startswith("application/problem+json")
    assert problem["clause"] == "PA-9.6" and "read-only" in problem["detail"] and "PA-13.2" in problem["detail"]
    assert key.get(f"/v1/partners/{partner_id}/mdf").json()["activities"] == []  # nothing was recorded


def test_pa_9_6_every_other_write_is_refused_too(suspended: dict[str, Any]) -> None:
    """A deal registration and its extension (PA-13.2 "new [...] deal registrations"), a withdrawal (no clause keeps it
    open): 403 naming PA-9.6."""
    (partner_id, key), = suspended["partners"]
    today = clock_support.today().isoformat()
    for path, body in (
        ("/v1/deals/dl_01JX0000000000000000000000/extension",
         {"proposal_reference": "PROP-SUSP-1", "proposal_date": today}),
        ("/v1/deals/dl_01JX0000000000000000000000/withdraw", {}),
        ("/v1/deals", {"partner_id": partner_id, "customer": {"id": "C-SUSP-1", "name": "Harbor"},
                       "family": "networking", "estimated_value": "1000.00", "expected_close": today}),
    ):
        refused = key.post(path, body)
        assert refused.status_code == 403 and refused.json()["clause"] == "PA-9.6", (path, refused.text)


def test_notices_the_agreement_still_asks_for_are_given_while_suspended(suspended: dict[str, Any]) -> None:
    """PA-13.2 suspends "without terminating this Agreement" and only "from new quotes, orders, deal registrations and
    incentive accrual"; two notices with a deadline go on. PA-4.4: "The Partner must notify Channel Operations within
    10 business days of the departure"; PA-13.1: "either party gives notice of non-renewal at least 60 days before the
    end of the current Program Year". Red team 2 had both refused (PA-9.6); the clauses keep them open."""
    (partner_id, key), = suspended["partners"]
    held = suspended["roles"]["channel_ops"].get(f"/v1/partners/{partner_id}").json()["certifications"]
    cert_id, cert = next(iter(held.items()))
    left = key.post(f"/v1/partners/{partner_id}/certification-departures",
                    {"certification_id": cert_id, "last_day": max(cert["earned_at"][:10],
                                                                  clock_support.today().isoformat())})  # fmt: skip
    assert left.status_code == 201, left.text
    notice = key.post(f"/v1/partners/{partner_id}/non-renewal", {"reason": "leaving the program at year end"})
    # the clause's own answer, never PA-9.6's 403: 201 while 60 days remain to 31 December, then its 422
    days_left = (date(clock_support.today().year, 12, 31) - clock_support.today()).days
    if days_left > 61:
        assert notice.status_code == 201, notice.text
    elif days_left < 59:
        assert notice.status_code == 422 and "PA-13.1" in notice.json()["detail"], notice.text


def test_pa_2_7_the_cure_stays_open_a_renewed_certificate_can_be_uploaded(suspended: dict[str, Any]) -> None:
    """PA-2.7: "upload a renewed certificate [...] suspended [...] until a valid certificate is verified"."""
    (partner_id, key), = suspended["partners"]
    today = clock_support.today()
    uploaded = key.post(f"/v1/partners/{partner_id}/documents", {
        "document_type": "insurance_certificate", "reference": "dms://insurance/renewed.pdf",
        "checksum": "sha256:" + "a" * 64, "issued_at": today.isoformat(),
        "expires_at": (today + timedelta(days=365)).isoformat(), "coverage_amount": "1000000.00"})
    assert uploaded.status_code == 201, uploaded.text


def test_pa_9_6_the_cure_is_the_only_document_a_suspended_partner_files(suspended: dict[str, Any]) -> None:
    """PA-9.6 "read-only access to its statements and documents": the opening is the cure alone. PA-2.7 names the
    insurance certificate ("upload a renewed certificate"); PA-13.2's other reasons are not cured by a document the
    partner files (a screening match is Legal's, an overdue amount is paid, a breach or harm is cured outside the
    file). A trade reference, or an insurance certificate its type does not require (a reseller's cyber cover), is
    refused with 403 naming PA-9.6 and nothing is recorded; staff still file any document."""
    (partner_id, key), = suspended["partners"]
    today = clock_support.today()
    before = suspended["roles"]["channel_ops"].get(f"/v1/partners/{partner_id}").json()["documents"]
    for kind, extra in (("trade_reference", {}), ("signed_agreement", {}),
                        ("cyber_liability_insurance", {"expires_at": (today + timedelta(days=365)).isoformat(),
                                                       "coverage_amount": "2000000.00"})):
        refused = key.post(f"/v1/partners/{partner_id}/documents", {
            "document_type": kind, "reference": f"dms://{kind}.pdf", "checksum": "sha256:" + "b" * 64,
            "issued_at": today.isoformat(), **extra})
        assert refused.status_code == 403, (kind, refused.text)
        problem = refused.json()
        assert problem["clause"] == "PA-9.6" and "insurance_certificate" in problem["detail"], problem
        assert problem["errors"][0]["path"] == "/document_type"
    after = suspended["roles"]["channel_ops"].get(f"/v1/partners/{partner_id}").json()["documents"]
    assert {k: v for k, v in after.items() if k != "insurance_certificate"} == \
        {k: v for k, v in before.items() if k != "insurance_certificate"}  # fmt: skip
    filed = suspended["roles"]["channel_ops"].post(f"/v1/partners/{partner_id}/documents", {
        "document_type": "trade_reference", "reference": "dms://staff/trade.pdf", "checksum": "sha256:" + "c" * 64,
        "issued_at": today.isoformat()})
    assert filed.status_code == 201, filed.text


def test_pa_13_2_a_suspended_partners_quote_check_is_answered_by_its_rule(suspended: dict[str, Any]) -> None:
    """PA-13.2: "suspend a Partner from new quotes": the check answers deny citing PRC-PARTNER-ACTIVE, not a 403."""
    (partner_id, key), = suspended["partners"]
    answer = key.post("/v1/pricing/check", {"partner_id": partner_id, "quote_ref": "Q-SUSP-1",
                                            "customer": {"id": "C-SUSP-2", "name": "Harbor Logistics"},
                                            "lines": [{"line_id": "1", "sku": "NW-SW-24P", "quantity": 1,
                                                       "discount_percent": "0"}]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "deny"
    assert "PRC-PARTNER-ACTIVE" in {r["rule_id"] for r in answer.json()["reasons"]}


def test_a_reinstated_partner_writes_again(stack: Any, api: Any) -> None:
    """PA-13.2: the suspension "is lifted when the reason is cured": nothing about the key is cached."""
    pair = northwind_silver_partners(stack, api, ("Reinstated",), "Read Only")
    (partner_id, key), = pair["partners"]
    ops = pair["roles"]["channel_ops"]
    starts = clock_support.today() + timedelta(days=30)
    body = {"title": "Roadshow", "starts_on": starts.isoformat(),
            "ends_on": (starts + timedelta(days=1)).isoformat(), "planned_amount": "100.00"}
    assert ops.post(f"/v1/partners/{partner_id}/suspend", {"reason": "PA-13.2(e) probe"}).status_code == 200
    assert key.post(f"/v1/partners/{partner_id}/mdf/activities", body).status_code == 403
    assert ops.post(f"/v1/partners/{partner_id}/reinstate", {"reason": "cured"}).status_code == 200
    asked = key.post(f"/v1/partners/{partner_id}/mdf/activities", body)
    assert asked.status_code == 201, asked.text
