"""Red team, eleventh round: the ERP's `quoted_on` / `order_accepted_on` (API 1.53.0) against PA-2.2's onboarding.

PA-2.2: "Before the Partner may quote, order, register deals or accrue any incentive, the following must be received
and verified" (CPA-2.2: "No Partner may quote, order, register opportunities or accrue incentives until Contoso has
received and verified"). An ERP event dated before the partner's activation is held (services/billing/
onboarding_hold.py), judged by the day it shipped (activated). Since 1.53.0 an event also names the day the quote
was issued and the order accepted, and its lines are priced from the list in force on the quote day (PA-1.2): an
order quoted and accepted before the partner was onboarded, shipped after, was billed at that quote's price (an old,
cheaper list) although the partner could not quote or order then. Now such an event is held as one shipped before
the activation is, naming the day. A fixed clock, the in-memory runtime (tests/memory_store.Ledger).
"""

from __future__ import annotations

from typing import Any

import pytest

from memory_store import Ledger

P1 = "ptr_01JBNWPARTNER0000000000001"  # the sample Platinum partner (erp-samples.json)
ACTIVATED = "2026-11-10T09:00:00.000Z"
WHERE = {"country": "US", "region": "US-WA", "postal_code": "98101"}


def _ledger() -> Ledger:
    ledger = Ledger("2026-11-20T12:00:00Z")
    partner = next(p for p in ledger.partners if p["partner_id"] == P1)
    ledger.add_partners([{**partner, "activated_at": ACTIVATED}])
    return ledger


def _event(detail_type: str, quoted_on: str, accepted_on: str) -> dict[str, Any]:
    quote = {"quoted_on": quoted_on, "order_accepted_on": accepted_on}
    if detail_type == "shipment.confirmed":
        return {"partner_id": P1, "order_ref": "SO-RT11-1", "shipped_on": "2026-11-18", "tax_location": WHERE,
                "lines": [{"sku": "NW-SW-24P", "quantity": 4}], **quote}
    return {"partner_id": P1, "subscription_id": "SUB-RT11-1", "sku": "NW-NET-MGMT", "quantity": 10,
            "activated_on": "2026-11-18", "order_ref": "SO-RT11-2", "tax_location": WHERE, **quote}


@pytest.mark.parametrize("detail_type", ["shipment.confirmed", "subscription.activated"])
@pytest.mark.parametrize("quoted_on, accepted_on, held_day", [
    ("2026-11-01", "2026-11-05", "2026-11-01"),  # quoted and accepted before the activation of 10 November
    ("2026-11-01", "2026-11-12", "2026-11-01"),  # quoted before it, accepted after
], ids=["quoted-and-accepted-before", "quoted-before"])
def test_pa_2_2_an_order_quoted_before_the_partners_activation_is_held_not_billed(
        detail_type: str, quoted_on: str, accepted_on: str, held_day: str) -> None:
    """The partner was activated on 10 November; the goods shipped (the subscription activated) on the 18th, on a
    quote the ERP says was issued on 1 November. PA-2.2: the partner could not quote then, so the order is held as an
    order dated before the activation is: `onboarding_document_missing_or_expired` (SOP-4.1: channel_ops), citing
    ONB-ALL-PARTNERS / PA-2.2 and naming the quote's day; no invoice."""
    ledger = _ledger()
    answer = ledger.bill(detail_type, _event(detail_type, quoted_on, accepted_on), occurred_at="2026-11-18T12:00:00Z")
    assert answer["status"] == "failed", answer
    assert f"quoted_on {held_day}" in answer["reason"] and "activated on 2026-11-10" in answer["reason"], answer
    (case,) = ledger.exceptions()
    assert case["category"] == "onboarding_document_missing_or_expired", case
    assert {"rule_id": "ONB-ALL-PARTNERS", "clause": "PA-2.2"} in [
        {k: r[k] for k in ("rule_id", "clause")} for r in case["reasons"]]
    assert ledger.rt.store.query("northwind", "INVOICEKEY", limit=10).items == []


@pytest.mark.parametrize("detail_type", ["shipment.confirmed", "subscription.activated"])
def test_an_order_quoted_on_the_activation_day_bills(detail_type: str) -> None:
    """The positive control: quoted on the day of the activation (the day counts as onboarded,
    lifecycle.not_onboarded_on) and accepted after it, the order bills."""
    ledger = _ledger()
    answer = ledger.bill(detail_type, _event(detail_type, "2026-11-10", "2026-11-12"),
                         occurred_at="2026-11-18T12:00:00Z")
    assert answer["status"] == "processed", answer
    assert all(c["category"] != "onboarding_document_missing_or_expired" for c in ledger.exceptions())
