"""PA-8.1 / CPA-8.1: a referral earns only once the referral is accepted as the clause asks. Through the billing
handler (the ERP's signed events), invoice.paid and approved monthly runs on the in-memory engine; by hand from the
clauses.

PA-8.1: "Where the Distributor accepts the referral and invoices the Customer directly within 180 days, the Partner
earns a referral commission of 5.0% of the Distributor's Invoiced Revenue from that Customer". Read: the customer's
first invoice (its invoice date) is at most 180 days after the day the referral was accepted; the ERP states that day
on the referral line (`referral_accepted_on`). First invoice 2026-11-02: accepted 2026-05-06 is day 180 (earns),
2026-05-05 day 181 (does not).
CPA-8.1: "provided the referral was registered and accepted before Contoso's first contact with the End Customer's
decision maker": `referral_accepted_on` before `decision_maker_contacted_on` (the same day is not before).
A referral line without the day the condition needs cannot be shown to meet it: no commission.

NW-SW-24P USD 1,250.00 x 10 = 12,500.00, 5.0% = 625.00; CT-DEV-DOCK EUR 210.00 x 100 = 21,000.00, 4.0% = 840.00.
The invoice is paid on 2026-11-10, so the commission is November's (PA-8.2 / CPA-8.2).
"""

from __future__ import annotations

from typing import Any

import pytest
from test_commission_paid_month import _invoice_and_pay
from test_rebates_mdf_and_referral_window import (
    CT_FINANCE,
    CT_PARTNER,
    NW_FINANCE,
    P1,
    _contoso,
    _excluded,
    _lines,
    _settle,
    _ship,
)

from memory_store import Ledger
from revgov.domain.errors import MalformedRequest


def _referral(tenant: str, **days: str) -> dict[str, Any]:
    """A referral shipped 2026-10-05, first invoiced 2026-11-02, paid 2026-11-10: November's statement."""
    ledger = Ledger("2026-10-05T12:00:00Z") if tenant == "northwind" else _contoso("2026-10-05T12:00:00Z")
    partner, finance, line = (
        (P1, NW_FINANCE, {"sku": "NW-SW-24P", "quantity": 10}) if tenant == "northwind"
        else (CT_PARTNER, CT_FINANCE, {"sku": "CT-DEV-DOCK", "quantity": 100})
    )  # fmt: skip
    _ship(ledger, partner, "2026-10-05", [line], "SO-ACC-1", channel="referral", customer_id="CUST-ACC-1", **days)
    if tenant == "northwind":  # a sales agent line on the same invoice, so November has a statement either way
        _ship(ledger, partner, "2026-10-06", [line], "SO-AGT-1", channel="sales_agent")
    _invoice_and_pay(ledger, partner, "2026-10", "2026-11-02", "2026-11-10")
    return _settle(ledger, finance, partner, "2026-11", "2026-12-02T10:00:00Z")[1]


def _amount(statement: dict[str, Any]) -> str:
    return str(_lines(statement).get("RBT-REFERRAL", {}).get("amount", "0.00"))


@pytest.mark.parametrize(("accepted", "earned"), [("2026-05-06", "625.00"), ("2026-05-05", "0.00")])
def test_pa_8_1_the_customer_is_first_invoiced_within_180_days_of_the_acceptance(accepted, earned):
    statement = _referral("northwind", referral_accepted_on=accepted)
    assert _amount(statement) == earned
    assert _lines(statement)["RBT-SALES-AGENT"]["amount"] == "375.00"  # 3.0% of the agent line, unaffected
    excluded = _excluded(statement).get("RBT-REFERRAL-ACCEPTANCE:RBT-REFERRAL")
    if earned == "0.00":
        assert excluded is not None and excluded["clause"] == "PA-8.1" and "180 days" in excluded["reason"]
        assert [row[3] for row in excluded["lines"]] == ["12500.00"]
    else:
        assert excluded is None


def test_pa_8_1_a_referral_without_an_acceptance_earns_nothing():
    assert _amount(_referral("northwind")) == "0.00"


@pytest.mark.parametrize(
    ("days", "earned"),
    [
        ({"referral_accepted_on": "2026-09-01", "decision_maker_contacted_on": "2026-09-02"}, "840.00"),
        ({"referral_accepted_on": "2026-09-02", "decision_maker_contacted_on": "2026-09-02"}, "0.00"),  # not before
        ({"referral_accepted_on": "2026-09-03", "decision_maker_contacted_on": "2026-09-02"}, "0.00"),
        ({"referral_accepted_on": "2026-09-01"}, "0.00"),  # no first contact stated: cannot be shown before it
        ({"decision_maker_contacted_on": "2026-09-02"}, "0.00"),  # never accepted
    ],
)
def test_cpa_8_1_the_referral_is_accepted_before_the_first_contact_with_the_decision_maker(days, earned):
    assert _amount(_referral("contoso", **days)) == earned


def test_a_northwind_referral_is_not_held_to_contosos_first_contact_rule():
    # PA-8.1 names no first contact: accepted after it, within the 180 days, it earns
    days = {"referral_accepted_on": "2026-09-03", "decision_maker_contacted_on": "2026-09-02"}
    assert _amount(_referral("northwind", **days)) == "625.00"


@pytest.mark.parametrize("bad", ["2026-13-01", "yesterday", "2026-5-6", 20260506])
def test_a_malformed_acceptance_day_is_refused(bad):
    ledger = Ledger("2026-10-05T12:00:00Z")
    data = {"partner_id": P1, "order_ref": "SO-BAD", "shipped_on": "2026-10-05", "channel": "referral",
            "customer_id": "CUST-1", "referral_accepted_on": bad, "lines": [{"sku": "NW-SW-24P", "quantity": 1}],
            "tax_location": {"country": "US", "region": "US-IL", "postal_code": "60601"}}  # fmt: skip
    with pytest.raises(MalformedRequest):
        ledger.bill("shipment.confirmed", data, occurred_at="2026-10-05T10:00:00Z")
