"""Done-when of issue 23: a year of generated ERP events for 100 partners bills every subscription every month it was
active, and the year's invoices reconcile to the subscription records to the cent.

PA-10.2: "Recurring subscriptions are billed in advance for a service period equal to the Billing Month".
SOP-2.2: "subscription lines match the active subscription records".
The expected amounts are computed here from the clauses (tests/billing_year.py `expected_net`), not by the code.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest

from billing_year import active_months, expected_net, replay_year
from revgov.services import billing, subscription_billing

YEAR = 2026


@pytest.fixture(scope="module")
def year():
    return replay_year(100, YEAR)


def _lines_by_month(ledger):
    lines = defaultdict(list)  # (partner, month) -> lines of its invoice
    for stored in ledger.rt.store.query(ledger.tenant_id, billing.LINES, limit=10**6).items:
        lines[(stored.data["partner_id"], stored.data["invoice_id"])].append(stored.data)
    invoices = {
        s.data["invoice_id"]: s.data
        for s in ledger.rt.store.query(ledger.tenant_id, billing.INVOICES, limit=10**6).items
    }
    by_month = defaultdict(list)
    for (partner_id, invoice_id), found in lines.items():
        by_month[(partner_id, invoices[invoice_id]["period"])] += found
    return by_month


def test_every_subscription_is_charged_every_month_it_was_active(year):
    ledger, subs = year
    assert len(subs) >= 150
    charged = defaultdict(list)
    for stored in ledger.rt.store.query(ledger.tenant_id, billing.LINES, limit=10**6).items:
        line = stored.data
        if line["kind"] == "subscription" and "quantity_change" not in line["detail"]:
            charged[line["detail"]["subscription_id"]].append(line["service_period"]["start"][:7])
    for sub in subs:
        assert charged[sub.subscription_id] == active_months(sub, YEAR), sub


def test_the_years_invoices_reconcile_to_the_subscription_records_to_the_cent(year):
    ledger, subs = year
    by_month = _lines_by_month(ledger)
    expected = defaultdict(Decimal)
    for sub in subs:
        for month in range(1, 13):
            expected[(sub.partner_id, f"{YEAR}-{month:02d}")] += expected_net(sub, YEAR, month)
    for key, amount in expected.items():
        invoiced = sum(
            (Decimal(x["amount"]) for x in by_month.get(key, []) if x["detail"].get("subscription_id")), Decimal(0)
        )
        assert invoiced == amount, key
    assert sum(expected.values()) > 0
    for month in range(1, 13):
        assert subscription_billing.reconcile(ledger.rt, ledger.tenant_id, f"{YEAR}-{month:02d}") == []
    assert not [c for c in ledger.exceptions() if c["category"] == "subscription_mismatch"]


def test_every_credit_references_the_charge_it_credits(year):
    ledger, _ = year
    lines = {
        s.data["line_id"]: s.data for s in ledger.rt.store.query(ledger.tenant_id, billing.LINES, limit=10**6).items
    }
    credits = [x for x in lines.values() if x["kind"] == "credit" or "quantity_change" in x["detail"]]
    assert any("quantity_change" in x["detail"] for x in credits)
    assert credits
    for credit in credits:
        charge = lines[credit["references_line"]]
        assert charge["kind"] == "subscription" and "quantity_change" not in charge["detail"]
        assert charge["detail"]["subscription_id"] == credit["detail"]["subscription_id"]
        assert charge["service_period"]["start"][:7] == credit["service_period"]["start"][:7]
