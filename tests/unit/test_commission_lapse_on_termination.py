"""PA-13.3: on termination "unpaid commissions not yet earned lapse" -- which are earned, and which lapse.

PA-8.1: "the Partner earns a referral commission of 5.0% of the Distributor's Invoiced Revenue from that Customer, net
of credit notes, during the 12 months following the first invoice". PA-8.2: "A Partner appointed in writing as a sales
agent [...] earns a commission of 3.0% of the Distributor's Invoiced Revenue [...]. Commissions under PA-8.1 and this
clause are calculated per Billing Month and paid within 30 days after the end of the month in which the Customer paid
the invoice." PA-13.3: "On termination: [...] unclaimed MDF and unpaid commissions not yet earned lapse".

Reading: a commission is earned on the Distributor's Invoiced Revenue, i.e. when the invoice is issued; the customer's
payment only sets when it is paid ("paid within 30 days after the end of the month in which the Customer paid"). So at
termination a commission on an invoice issued by the termination day is earned though unpaid, and is still paid after
the customer pays; one on an invoice issued after the termination day is not yet earned and lapses. PA-1.3: "a day
runs from 00:00:00 to 23:59:59 UTC": the termination day itself is inside.

Worked numbers (a September sales agent sale invoiced 2026-10-02 earns 3.0 % x 5,000.00 = 150.00 either way): a
referral of 10 x NW-SW-24P (12,500.00) shipped 2026-10-05; P1 terminated 2026-11-02 12:00 UTC. Invoice issued
2026-11-02 (the termination day), paid 2026-12-10: December's commission 5.0 % = 625.00. Issued 2026-11-03 (the day
after): nothing, the trace citing PA-13.3. A sales agent line the same way: 3.0 % = 375.00 (with September's,
525.00) or nothing (150.00).
Contoso's CPA-13.3 has no such sentence ("incentives earned for completed Quarters are settled in the normal cycle"):
its policy keeps `unearned_commissions_lapse` off and its referral fee is paid as before.
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
    accepted,
)

from memory_store import Ledger
from revgov.ports import Changes, Put

TERMINATED_AT = "2026-11-02T12:00:00Z"


def _terminate(ledger: Ledger, partner_id: str, at: str) -> None:
    """The partner's agreement ended at `at` (its status history, as offboarding records it)."""
    stored = ledger.rt.store.get(ledger.tenant_id, "PARTNER", partner_id)
    assert stored is not None
    step = {"from": "active", "to": "terminated", "at": at, "by": "key_ops", "reason": "convenience (PA-13.3)"}
    partner = {**stored.data, "status": "terminated", "history": [*stored.data.get("history", []), step]}
    ledger.rt.store.commit(ledger.tenant_id, Changes(puts=[Put("PARTNER", partner_id, partner,
                                                               expected_version=stored.version)]))  # fmt: skip


def _december(tenant: str, channel: str, issued_on: str) -> dict[str, Any]:
    """An October sale of the channel, the partner terminated on 2026-11-02, the month's invoices issued on
    `issued_on` and paid by the customer on 2026-12-10: December's statement (PA-8.2: the payment month)."""
    ledger = Ledger("2026-10-05T12:00:00Z") if tenant == "northwind" else _contoso("2026-10-05T12:00:00Z")
    partner, line = ((P1, {"sku": "NW-SW-24P", "quantity": 10}) if tenant == "northwind"
                     else (CT_PARTNER, {"sku": "CT-DEV-DOCK", "quantity": 100}))  # fmt: skip
    if tenant == "northwind":  # a September sales agent sale invoiced 2026-10-02 and paid with the others: earned
        # before the termination (150.00), so December has a statement whose trace shows what lapsed
        _ship(ledger, partner, "2026-09-07", [{"sku": "NW-SW-24P", "quantity": 4}], "SO-SEP-1", channel="sales_agent",
              customer_id="CUST-SEP-1")  # fmt: skip
        _invoice_and_pay(ledger, partner, "2026-09", "2026-10-02", "2026-12-10")
    ledger.clock.set("2026-10-05T12:00:00Z")
    _ship(ledger, partner, "2026-10-05", [line], "SO-END-1", channel=channel, customer_id="CUST-END-1",
          **accepted("2026-10-05"))  # fmt: skip
    _terminate(ledger, partner, TERMINATED_AT)
    _invoice_and_pay(ledger, partner, "2026-10", issued_on, "2026-12-10")
    finance = NW_FINANCE if tenant == "northwind" else CT_FINANCE
    return _settle(ledger, finance, partner, "2026-12", "2027-01-05T10:00:00Z")[1]


@pytest.mark.parametrize(
    ("channel", "program", "commission", "without"),
    [("referral", "RBT-REFERRAL", "625.00", "0.00"),
     ("sales_agent", "RBT-SALES-AGENT", "525.00", "150.00")],  # 375.00 + September's 150.00, or September's alone
)  # fmt: skip
@pytest.mark.parametrize(
    ("issued_on", "earned"),
    [
        ("2026-11-01", True),  # invoiced the day before the termination: earned
        ("2026-11-02", True),  # on the termination day (PA-1.3: the day runs to 23:59:59): earned
        ("2026-11-03", False),  # the day after: not yet earned at termination, lapses
    ],
)
def test_pa_13_3_a_commission_invoiced_by_the_termination_day_is_paid_and_a_later_one_lapses(
    channel, program, commission, without, issued_on, earned
):
    statement = _december("northwind", channel, issued_on)
    assert _lines(statement).get(program, {}).get("amount", "0.00") == (commission if earned else without)
    lapsed = _excluded(statement).get(f"RBT-TERMINATION:{program}")
    if earned:
        assert lapsed is None
    else:
        assert lapsed is not None and lapsed["clause"] == "PA-13.3"
        assert "commission not yet earned lapses" in lapsed["reason"]


def test_cpa_13_3_has_no_lapse_of_unearned_commissions():
    """CPA-13.3 lists what happens on termination without PA-13.3's lapse of commissions: contoso's referral fee on an
    invoice issued after the termination day is still paid when the End Customer pays (CPA-8.2): 4.0 % x 21,000.00 =
    840.00."""
    statement = _december("contoso", "referral", "2026-11-03")
    assert _lines(statement)["RBT-REFERRAL"]["amount"] == "840.00"
