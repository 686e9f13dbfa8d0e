"""Revenue recognition on the AWS engine (DynamoDB, EventBridge and SQS on moto): the figures are read from the stored
invoices through the store port, with no table of their own, so the DynamoDB adapter answers what the embedded engine
answers (tests/stack/test_revenue_recognition_api.py, where the samples' figures are worked).

IFRS 15.31: revenue is recognised "when (or as) the entity satisfies a performance obligation"; PA-10.2 "Usage-based
services are billed in arrears for the previous Billing Month": October's usage (1,220.00) is earned in October and
billed on November's invoice.
"""

from __future__ import annotations

import json

import pytest

from billing_support import billing_tenant_in, sample, webhook_body
from support import ROOT

pytestmark = [pytest.mark.aws]

SAMPLES = json.loads((ROOT / "tests/scenarios/billing/erp-samples.json").read_text())


def test_the_samples_recognise_the_same_on_dynamodb(api, operator, stack):
    assert stack.runtime.settings.backend == "dynamodb"
    for tenant in billing_tenant_in(api, operator, stack):
        tenant.add_partners(SAMPLES["partners"])
        sent = [tenant.send(webhook_body(sample(name))) for name in SAMPLES["samples"]]
        tenant.wait_for([s["event_id"] for s in sent], seconds=60)
        october = tenant.finance.get("/v1/revenue/recognition", period="2026-10").json()
        assert (october["recognised"], october["billed"]) == ("15105.00", "13885.00")
        assert october["closing"] == {"deferred": "0.00", "unbilled": "1220.00"}
        pages, cursor = [], None
        while True:
            query = {"period": "2026-Q4", "limit": 3, **({"cursor": cursor} if cursor else {})}
            page = tenant.finance.get("/v1/revenue/recognition", **query).json()
            pages += page["items"]
            if not (cursor := page["next_cursor"]):
                break
        # the 6 lines on October's invoices and the usage on November's, each once across the pages
        assert len({i["line_id"] for i in pages}) == len(pages) == 7
