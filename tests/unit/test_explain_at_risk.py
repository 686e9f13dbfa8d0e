"""Which partners are at risk of missing quarterly thresholds: one staff call over every active partner's forecast.

Northwind PA-7.2 (quarterly volume rebate): "| USD 100,000.00 to 249,999.99 | 1.0% |", "| USD 250,000.00 to
499,999.99 | 2.0% |": a partner with USD 156,000.00 invoiced in the Quarter has reached the 1.0% level; the level
still ahead is 250,000.00 (gap 94,000.00). PA-3.2: "Registered Partners ... do not participate in the quarterly
volume or growth rebates": P2 (registered) has no volume level at risk.
The forecast is the one `GET /v1/partners/{id}/forecast` gives; clock injected (2026-08-15, mid 2026-Q3).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from memory_store import Ledger
from revgov import schemas
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Forbidden, MalformedRequest
from revgov.services import analytics, explain_at_risk

P1 = "ptr_01JBNWPARTNER0000000000001"
P2 = "ptr_01JBNWPARTNER0000000000002"
OPS = Principal("northwind", Role.CHANNEL_OPS, "key_ops")


def _ledger() -> Ledger:
    ledger = Ledger("2026-07-10T12:00:00Z")
    data = {"partner_id": P1, "order_ref": "SO-1", "shipped_on": "2026-07-10",
            "lines": [{"sku": "NW-SRV-R2", "quantity": 30}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", data, occurred_at="2026-07-10T10:00:00Z")["status"] == "processed"
    for envelope in [e for e in ledger.rt.publisher.published if e["detail_type"] == "invoice.lines_posted"]:
        analytics.record_fact(ledger.rt, {"source": envelope["source"], "detail-type": envelope["detail_type"],
                                          "detail": envelope["detail"]})
    ledger.clock.set("2026-08-15T12:00:00Z")
    return ledger


def test_pa_7_2_the_level_ahead_per_partner_with_the_gap_the_clause_and_p_miss():
    ledger = _ledger()
    body = explain_at_risk.at_risk_partners(ledger.rt, OPS, "2026-Q3", "0")
    assert not schemas.problems("api/responses/at-risk-partners.schema.json", body)
    volume = {i["partner_id"]: i for i in body["items"] if i["program_id"] == "RBT-VOLUME"}
    assert volume[P1]["to_date"] == "156000.00"
    assert (volume[P1]["threshold"], volume[P1]["gap"], volume[P1]["clause"]) == ("250000.00", "94000.00", "PA-7.2")
    assert P2 not in volume
    # the figures are the partner's own forecast's
    own = analytics.forecast(ledger.rt, OPS, P1, "2026-Q3")
    level = next(t for t in own["thresholds"] if t["program_id"] == "RBT-VOLUME" and t["threshold"] == "250000.00")
    assert volume[P1]["p_miss"] == level["p_miss"] and volume[P1]["projected"] == own["projected"]
    assert body["partners_looked_at"] == 2
    probabilities = [Decimal(str(i["p_miss"])) for i in body["items"]]
    assert probabilities == sorted(probabilities, reverse=True)


def test_the_floor_keeps_only_levels_at_least_that_likely_to_be_missed():
    ledger = _ledger()
    body = explain_at_risk.at_risk_partners(ledger.rt, OPS, "2026-Q3", "0.99")
    assert all(i["p_miss"] >= 0.99 for i in body["items"]) and body["min_p_miss"] == "0.99"
    default = explain_at_risk.at_risk_partners(ledger.rt, OPS, "2026-Q3")
    assert default["min_p_miss"] == "0.5" and all(i["p_miss"] >= 0.5 for i in default["items"])


@pytest.mark.parametrize("floor", ["1.5", "-0.1", "abc", "０.5", "NaN", "Infinity", ""])
def test_a_bad_floor_is_a_problem_naming_the_field(floor):
    with pytest.raises(MalformedRequest) as bad:
        explain_at_risk.at_risk_partners(_ledger().rt, OPS, "2026-Q3", floor)
    assert bad.value.errors[0].path == "/query/min_p_miss"


def test_a_partner_key_may_not_list_other_partners():
    with pytest.raises(Forbidden):
        explain_at_risk.at_risk_partners(_ledger().rt, Principal("northwind", Role.PARTNER, "k", P1), "2026-Q3")
