"""Red team, fifth round: what a partner key can send on the surfaces that landed on 7 December 2026 (renewal quotes,
sales tax, tax exemptions, settlements list, performance summary).

Each test quotes the rule it holds the product to. STYLE / COMMON: "Bad input gets a clear problem+json error naming
the field and changes nothing" (no 500).
"""

from __future__ import annotations

from typing import Any

import pytest

from billing_support import billing_tenant_in, sample, webhook_body
from support import assert_problem, northwind_silver_partners, scenario

pytestmark = pytest.mark.stack
P1 = "ptr_01JBNWPARTNER0000000000001"


@pytest.fixture
def billing_tenant(api: Any, operator: Any, stack: Any) -> Any:
    yield from billing_tenant_in(api, operator, stack)


def test_a_renewal_quote_from_a_far_year_is_a_problem_naming_renewed_from(billing_tenant: Any, api: Any) -> None:
    """schemas/api/pricing-check.schema.json: `renewed_from` is a date (RFC 3339 full-date: years 0000-9999) and
    `term_months` up to 60. A term from December 9999 for 60 months ends after the last day a date can name: the
    partner's quote is bad input, a 422 naming /renewal/renewed_from, and records no decision (no 500)."""
    tenant = billing_tenant
    tenant.add_partners(scenario("billing/erp-samples.json")["partners"])
    activated = tenant.send(webhook_body(sample("subscription.activated")))  # SUB-7001 from 10 October 2026
    tenant.wait_for([activated["event_id"]])
    own = api.as_key(tenant.admin.post("/v1/keys", {"role": "partner", "label": "p1", "partner_id": P1}).json()["key"])
    for renewed_from, months in (("9999-12-01", 60), ("9999-01-01", 12)):
        renewal = {"subscription_id": "SUB-7001", "renewed_from": renewed_from, "term_months": months}
        quote = {"partner_id": P1, "customer": {"id": "CUST-7001"}, "renewal": renewal,
                 "lines": [{"line_id": "1", "sku": "NW-CLOUD-PLATFORM", "quantity": 1, "discount_percent": "5"}]}
        problem = assert_problem(own.post("/v1/pricing/check", quote), 422)
        assert any(e["path"].startswith("/renewal/renewed_from") for e in problem.get("errors", [])), problem
    assert tenant.finance.get("/v1/decisions", partner_id=P1).json()["items"] == []


def _every_audit(client: Any) -> list[dict[str, Any]]:
    """Every audit record the client reads (GET /v1/audit), page after page."""
    items, cursor = [], None
    while True:
        page = client.get("/v1/audit", limit=200, **({"cursor": cursor} if cursor else {}))
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if not cursor:
            return items


def test_a_partner_reads_its_own_copilot_questions_but_not_what_staff_asked_about_it(stack: Any, api: Any) -> None:
    """PA-6.1: Line Margin is stated "for internal review"; API.md: a partner never sees "the distributor's costs and
    margins"; audit_view: an agent's records, "the distributor's assessment of the partner", are not the partner's to
    read, and what a performance summary told staff only (`staff_only`) is left out of the partner's trail.
    A staff member asking the copilot about a partner (`partner_id`) writes the distributor's own deliberation: the
    partner's trail (PA-12.1) may say the copilot was asked, never the question or the answer staff read. The
    partner's own questions stay readable to it, as asked (masked)."""
    made = northwind_silver_partners(stack, api, ("Asked",), "Transcript")
    (partner_id, own), = made["partners"]
    finance = made["roles"]["finance"]
    secret = "our Line Cost is 1,020.00 so their margin is 8 percent: should we cut their discount cap"
    staff_asked = finance.post("/v1/copilot/ask", {"question": f"{secret}?", "partner_id": partner_id})
    assert staff_asked.status_code == 200, staff_asked.text
    mine = own.post("/v1/copilot/ask", {"question": "What discount cap applies to a Silver reseller?"})
    assert mine.status_code == 200, mine.text
    staff_view = {r["record_id"]: r for r in _every_audit(finance) if r["action"] == "copilot.asked"}
    assert secret in staff_view[staff_asked.json()["audit_id"]]["transcript"]["question"]  # kept for staff
    seen = {r["record_id"]: r for r in _every_audit(own) if r["action"] == "copilot.asked"}
    assert staff_asked.json()["audit_id"] in seen  # the trail says staff asked the copilot about it
    assert "Line Cost" not in str(seen[staff_asked.json()["audit_id"]]), seen[staff_asked.json()["audit_id"]]
    assert "Silver reseller" in seen[mine.json()["audit_id"]]["transcript"]["question"]


def test_a_renewal_quote_names_the_customer_of_the_subscription_it_renews(billing_tenant: Any, api: Any) -> None:
    """PA-5.6: the registration discount applies "on quote lines for the registered Customer"; PA-5.3: during a
    registration's exclusivity the Distributor "applies the registration discount under PA-5.6 only to the registering
    Partner's quotes". The quote's `customer.id` is what the pricing check looks registrations up by (the partner's
    own, and every rival's live one for that customer). A renewal quote of SUB-7001, whose ERP activation names its
    customer CUST-7001, naming another customer would price the renewal under another customer's registrations (a
    discount registered for that customer, no rival registered for the real one): a 422 naming /customer/id, nothing
    recorded. The same quote naming CUST-7001 is checked."""
    import clock_support

    tenant = billing_tenant
    tenant.add_partners(scenario("billing/erp-samples.json")["partners"])
    body = webhook_body(sample("subscription.activated"))  # SUB-7001 from 10 October 2026
    activated = tenant.send({**body, "data": {**body["data"], "customer_id": "CUST-7001"}})
    tenant.wait_for([activated["event_id"]])
    own = api.as_key(tenant.admin.post("/v1/keys", {"role": "partner", "label": "p1", "partner_id": P1}).json()["key"])
    today = max(clock_support.today().isoformat(), "2026-10-10")
    first = f"{int(today[:4]) + (today[5:7] == '12'):04d}-{int(today[5:7]) % 12 + 1:02d}-01"  # the next month's first
    quote = {"partner_id": P1, "customer": {"id": "CUST-ELSEWHERE"},
             "renewal": {"subscription_id": "SUB-7001", "renewed_from": first, "term_months": 12},
             "lines": [{"line_id": "1", "sku": "NW-CLOUD-PLATFORM", "quantity": 1, "discount_percent": "5"}]}
    problem = assert_problem(own.post("/v1/pricing/check", quote), 422)
    assert [e["path"] for e in problem["errors"]] == ["/customer/id"], problem
    assert tenant.finance.get("/v1/decisions", partner_id=P1).json()["items"] == []
    checked = own.post("/v1/pricing/check", {**quote, "customer": {"id": "CUST-7001"}})
    assert checked.status_code == 200, checked.text


@pytest.mark.parametrize(("change", "path"), [
    ({"jurisdiction": "US-CA\u200b"}, "/jurisdiction"),  # an invisible character after a real code
    ({"jurisdiction": ["US-CA"]}, "/jurisdiction"),
    ({"reference": "dms://exemptions/ca.pdf\u202e"}, "/reference"),  # a bidirectional override
    ({"expires_at": 20271231}, "/expires_at"),
    ({"expires_at": "2027-02-30"}, "/expires_at"),
    ({"expires_at": "+10000-01-01"}, "/expires_at"),
    ({"verified_by": "finance:key_01JX0000000000000000000000"}, "/verified_by"),  # not the caller's to say
])
def test_a_bad_tax_exemption_verification_is_a_400_naming_the_field_and_records_nothing(
    stack: Any, api: Any, change: dict[str, Any], path: str
) -> None:
    """COMMON / API.md: bad input gets a problem+json naming the field and changes nothing (no 500). PA-10.1's
    certificate is verified by staff with a jurisdiction of the table, the reference on file and the expiry read on
    it (schemas/api/tax-exemption.schema.json); anything else recorded would exempt lines on words nobody checked."""
    made = northwind_silver_partners(stack, api, ("Exempt",), "Exemption")
    (partner_id, own), = made["partners"]
    finance = made["roles"]["finance"]
    body = {"jurisdiction": "US-CA", "reference": "dms://exemptions/ca.pdf", "expires_at": "2027-12-31", **change}
    problem = assert_problem(finance.post(f"/v1/partners/{partner_id}/tax-exemptions", body), 400)
    assert any(e["path"].startswith(path) for e in problem["errors"]), problem
    assert own.get(f"/v1/partners/{partner_id}/tax-exemptions").json()["history"] == []
