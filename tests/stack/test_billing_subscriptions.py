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
    assert other.get("/v1/billing/subscriptions", partner_id=P1).json()["items"] == []
    staff = tenant.finance.get("/v1/billing/subscriptions", partner_id=P1).json()["items"]
    assert [s["subscription_id"] for s in staff] == ["SUB-7001"]
    # bad input: a malformed partner id, an unknown query parameter, an id no ERP reference can be, an unknown id
    assert_problem(tenant.finance.get("/v1/billing/subscriptions", partner_id="ptr_../../x"), 400)
    assert_problem(tenant.finance.get("/v1/billing/subscriptions", status="active"), 400)
    assert_problem(tenant.finance.get("/v1/billing/subscriptions/..%2F..%2Fetc"), 404)
    assert_problem(tenant.finance.get("/v1/billing/subscriptions/SUB-NOPE"), 404)
    assert_problem(tenant.finance.post("/v1/billing/subscriptions", {}), 405)
