"""Subscriptions as billing knows them, over HTTP on the running stack: what each month was charged, who may read it,
and what bad requests get. The arithmetic is tested on the core and use cases (tests/unit/test_billing_lifecycle.py).
"""

import pytest

from billing_support import billing_tenant_in, sample, webhook_body
from revgov.services import subscription_billing
from support import assert_problem

pytestmark = pytest.mark.stack
P1 = "ptr_01JBNWPARTNER0000000000001"
P2 = "ptr_01JBNWPARTNER0000000000002"


@pytest.fixture
def billing_tenant(api, operator, stack):
    yield from billing_tenant_in(api, operator, stack)


def test_a_partner_reads_its_subscriptions_charged_month_by_month_and_nothing_of_another(billing_tenant, api):
    from support import scenario

    tenant = billing_tenant
    tenant.add_partners(scenario("billing/erp-samples.json")["partners"])
    received = tenant.send(webhook_body(sample("subscription.activated")))  # SUB-7001, 310.00, 10 October 2026
    tenant.wait_for([received["event_id"]])
    charged = subscription_billing.run(tenant.rt, tenant.tenant_id, through="2026-11")
    assert charged["charged"] == 1
    own = api.as_key(tenant.admin.post("/v1/keys", {"role": "partner", "label": "p1", "partner_id": P1}).json()["key"])
    other = api.as_key(
        tenant.admin.post("/v1/keys", {"role": "partner", "label": "p2", "partner_id": P2}).json()["key"]
    )
    mine = own.get("/v1/billing/subscriptions/SUB-7001")
    assert mine.status_code == 200, mine.text
    # PA-10.3: 310.00 x 22 / 31 = 220.00 for October; PA-10.2: November in advance, in full
    assert [(m["month"], m["net"]) for m in mine.json()["months"]] == [("2026-10", "220.00"), ("2026-11", "310.00")]
    assert [s["subscription_id"] for s in own.get("/v1/billing/subscriptions").json()["items"]] == ["SUB-7001"]
    assert_problem(other.get("/v1/billing/subscriptions/SUB-7001"), 404)
    assert_problem(other.get("/v1/billing/subscriptions", partner_id=P1), 404)  # as an unknown partner's id
    staff = tenant.finance.get("/v1/billing/subscriptions", partner_id=P1).json()["items"]
    assert [s["subscription_id"] for s in staff] == ["SUB-7001"]
    # bad input: a malformed partner id, an unknown query parameter, an id no ERP reference can be, an unknown id
    assert_problem(tenant.finance.get("/v1/billing/subscriptions", partner_id="ptr_../../x"), 400)
    assert_problem(tenant.finance.get("/v1/billing/subscriptions", status="active"), 400)
    assert_problem(tenant.finance.get("/v1/billing/subscriptions/..%2F..%2Fetc"), 404)
    assert_problem(tenant.finance.get("/v1/billing/subscriptions/SUB-NOPE"), 404)
    assert_problem(tenant.finance.post("/v1/billing/subscriptions", {}), 405)


def test_a_partner_quotes_its_subscriptions_renewal_and_the_erps_renewal_is_recorded_under_it(billing_tenant, api):
    """docs/renewals.md over HTTP: the renewal quote is a pricing check with `renewal` (PA-6.2 tier caps, PA-6.3 margin
    floor, like any quote); the ERP's subscription.renewed names its decision. SUB-7001 is 1 seat of 310.00 a month
    (the activation sample): 5% off is 294.50 a month, 294.50 x 12 = 3,534.00 a year, below the USD 100,000.00
    renewal approval threshold (a policy setting; the seed's "human-in-the-loop checkpoints for ... high-value
    renewals"): allowed at once, the renewal recorded as approved."""
    import clock_support
    from support import scenario

    tenant = billing_tenant
    tenant.add_partners(scenario("billing/erp-samples.json")["partners"])
    activated = tenant.send(webhook_body(sample("subscription.activated")))  # SUB-7001 from 10 October 2026
    tenant.wait_for([activated["event_id"]])
    own = api.as_key(tenant.admin.post("/v1/keys", {"role": "partner", "label": "p1", "partner_id": P1}).json()["key"])
    rival = api.as_key(
        tenant.admin.post("/v1/keys", {"role": "partner", "label": "p2", "partner_id": P2}).json()["key"]
    )
    today = max(clock_support.today().isoformat(), "2026-10-10")
    first = f"{int(today[:4]) + (today[5:7] == '12'):04d}-{int(today[5:7]) % 12 + 1:02d}-01"  # the next month's first
    renewal = {"subscription_id": "SUB-7001", "renewed_from": first, "term_months": 12}
    quote = {"partner_id": P1, "customer": {"id": "CUST-7001"}, "renewal": renewal,
             "lines": [{"line_id": "1", "sku": "NW-CLOUD-PLATFORM", "quantity": 1, "discount_percent": "5"}]}
    # bad input first, nothing recorded: a rival's subscription does not exist for it; a term of 0 months is malformed;
    # a term from the 15th is malformed too (a renewed term starts a Billing Month, PA-10.2)
    assert_problem(rival.post("/v1/pricing/check", {**quote, "partner_id": P2}), 404)
    bad = assert_problem(own.post("/v1/pricing/check", {**quote, "renewal": {**renewal, "term_months": 0}}), 400)
    assert any(e["path"].startswith("/renewal/term_months") for e in bad["errors"]), bad
    mid_month = {**quote, "renewal": {**renewal, "renewed_from": first[:8] + "15"}}
    mid = assert_problem(own.post("/v1/pricing/check", mid_month), 400)  # the schema's pattern: a month's first day
    assert any(e["path"].startswith("/renewal/renewed_from") for e in mid["errors"]), mid
    assert tenant.finance.get("/v1/decisions", partner_id=P1).json()["items"] == []
    checked = own.post("/v1/pricing/check", quote)
    assert checked.status_code == 200, checked.text
    answer = checked.json()
    if answer["outcome"] != "allow":  # the stack's clock may run past the partner's certifications (PA-4.3)
        pytest.skip(f"the renewal quote is {answer['outcome']} on this clock: {answer['reasons']}")
    assert {k: answer["renewal"][k] for k in ("previous_unit_price", "unit_price", "uplift_percent", "annual_value",
                                              "approval_threshold")} == {
        "previous_unit_price": "310.00", "unit_price": "294.50", "uplift_percent": "-5.00", "annual_value": "3534.00",
        "approval_threshold": "100000.00"}  # fmt: skip
    data = {**sample("subscription.renewed")["detail"]["data"], "decision_id": answer["decision_id"],
            "renewed_from": first, "term_months": 12}
    body = {**webhook_body(sample("subscription.renewed")), "data": data,
            "occurred_at": clock_support.now().strftime("%Y-%m-%dT%H:%M:%SZ")}
    renewed = tenant.send(body)
    tenant.wait_for([renewed["event_id"]], statuses=("processed", "failed"))
    seen = tenant.event(renewed["event_id"])
    assert seen["status"] == "processed", seen.get("reason")
    (recorded,) = own.get("/v1/billing/subscriptions/SUB-7001").json()["renewals"]
    assert (recorded["status"], recorded["renewed_from"], recorded["unit_price"]) == ("approved", first, "294.50")
    assert_problem(rival.get("/v1/billing/subscriptions/SUB-7001"), 404)
