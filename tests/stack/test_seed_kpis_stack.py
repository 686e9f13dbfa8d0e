"""The seed's "Net realized margin by partner tier" on the running stack, by hand, with credit notes sent through the
signed ERP webhook (docs/seed-coverage.md; the same figures on the in-memory store: tests/unit/test_seed_kpis.py).

PA-1.2: "'Invoiced Revenue' means the amounts invoiced by the Distributor to the Partner for Products and Services";
PA-7.8: "Settlement is made by credit note"; SOP-2.5: every credit note "states its reason code (billing error,
return, cancellation, dispute outcome, rebate settlement, goodwill)". NW-SW-24P: list 1,250.00, unit cost 900.00.
"""

from datetime import timedelta

import pytest

import clock_support
from analytics_support import analytics_tenant_in
from billing_support import wait_until
from revgov.ports import Changes
from revgov.services import partner_repository

HOURS_BACK = 4


@pytest.fixture(scope="module")
def month(stack):
    return clock_support.within_one_month(HOURS_BACK)


@pytest.fixture(scope="module")
def credited(api, operator, stack, month):
    """A gold partner ships 2 switches (2,500.00, cost 1,800.00); the ERP then credits 100.00 of the line as a rebate
    settlement and 50.00 as goodwill."""
    for tenant in analytics_tenant_in(api, operator, stack):
        partner = tenant.onboard("A", 2)
        stored = tenant.rt.store.get(tenant.tenant_id, partner_repository.PARTNERS, partner["partner_id"])
        at = (clock_support.now() - timedelta(hours=HOURS_BACK)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        tenant.rt.store.commit(tenant.tenant_id, Changes(
            puts=[partner_repository.put({**stored.data, "activated_at": at}, version=stored.version)]))  # PA-2.2
        day = (clock_support.now() - timedelta(hours=3)).date().isoformat()
        shipped = tenant.send("shipment.confirmed", {"partner_id": partner["partner_id"], "order_ref": "SO-SEED-1",
                              "shipped_on": day, "lines": [{"sku": "NW-SW-24P", "quantity": 2}]}, hours_ago=3)
        tenant.wait_for([shipped])
        (invoice,) = tenant.roles["finance"].get("/v1/invoices", status="draft").json()["items"]
        today = clock_support.now().date().isoformat()
        sent = [
            tenant.send("credit_note.issued", {"partner_id": partner["partner_id"], "credit_note_ref": f"CN-{reason}",
                        "invoice_id": invoice["invoice_id"], "line_no": 1, "reason": reason, "amount": amount,
                        "issued_on": today}, hours_ago=1)
            for reason, amount in (("rebate_settlement", "100.00"), ("goodwill", "50.00"))
        ]  # fmt: skip
        tenant.wait_for(sent)
        yield tenant, partner


def test_a_rebate_credit_is_not_revenue_and_a_goodwill_credit_lowers_the_margin(credited, month):
    # By hand: revenue 2,500.00 - 50.00 (goodwill) = 2,450.00; the rebate settlement's 100.00 is not revenue (the
    # rebate is `rebates_deducted`); margin base 2,450.00, cost 1,800.00, net margin 650.00 = 26.53 %.
    tenant, _ = credited
    seen = {}

    def counted():
        seen["k"] = tenant.roles["finance"].get("/v1/kpis", period=month).json()
        return seen["k"]["policy_exceptions_per_100_transactions"]["erp_events_billed"] == 3

    wait_until(counted, 40, what="the KPI rollups")
    margin = seen["k"]["net_realized_margin"]
    assert (margin["revenue"], margin["margin_base_revenue"], margin["cost"]) == ("2450.00", "2450.00", "1800.00")
    assert (margin["rebates_deducted"], margin["net_margin"], margin["net_margin_percent"]) == (
        "0.00", "650.00", "26.53")
    (gold,) = [row for row in margin["by_tier"] if row["tier"] == "gold"]
    assert (gold["revenue"], gold["net_margin_percent"]) == ("2450.00", "26.53")
    assert seen["k"]["support_hours_per_revenue_dollar"]["revenue"] == "2450.00"
    own = tenant.partner_keys["A"].get("/v1/kpis", period=month).json()
    assert own["support_hours_per_revenue_dollar"]["revenue"] == "2450.00"
    assert "withheld" in own["net_realized_margin"] and "withheld" in own["renewal_probability"]
