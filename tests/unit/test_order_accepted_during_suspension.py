"""An ERP order the ERP says was ACCEPTED while its partner was suspended is held, not billed (both tenants).

PA-13.2: "The Distributor may suspend a Partner from new quotes, orders, deal registrations and incentive accrual
[...] Orders already accepted are fulfilled unless the reason is (b)." CPA-13.2: "Contoso may suspend new quotes,
orders, registrations and incentive accrual where: [...]". SOP-4.1 / COP-4.1: "An item that matches no category goes
to channel_ops for triage" (no category of the matrix names a suspension).

Reading: a suspension suspends new orders; only orders accepted before it are fulfilled (and so billed). An order the
ERP reports with `order_accepted_on` during the suspension is a new order the partner was suspended from: it is held
(no line, no invoice, so no incentive either) with one exception for channel ops citing the suspension's rule
(PTR-SUSPENSION, PA-13.2 / CPA-13.2). Before, it was billed (red team 11 only kept it from earning). An order accepted
before the suspension and shipped during it is billed as before; so is one whose acceptance the ERP does not state
(its shipment may fulfil an order accepted before: the rebate engine reads it as placed during the suspension,
tests/unit/test_same_day_suspension_rebates.py). The order's time is the one PA-7.1 compares (the end of the
acceptance day, if earlier than the event: services/billing/lines.order_time), so billing and rebates read one
order time. In-memory engine, fixed clock.
"""

from __future__ import annotations

from typing import Any

import pytest

from memory_store import Ledger
from revgov.ports import Changes, Put

HISTORY = [{"at": "2025-01-01T00:00:00Z", "from": "pending_approval", "to": "active"},
           {"at": "2026-10-05T14:00:00Z", "from": "active", "to": "suspended", "rule_id": "PTR-INSURANCE-LAPSE"},
           {"at": "2026-10-20T09:00:00Z", "from": "suspended", "to": "active"}]  # fmt: skip
NW_PARTNER = "ptr_01JBNWPARTNER0000000000001"
CT_PARTNER = "ptr_01JBCTAVD1TR000000000000A1"
CASES = {  # tenant -> (partner, sku, the suspension clause, the routing clause whose triage takes it)
    "northwind": (NW_PARTNER, "NW-SW-24P", "PA-13.2", "SOP-4.1"),
    "contoso": (CT_PARTNER, "CT-DEV-DOCK", "CPA-13.2", "COP-4.1"),
}


def _ledger(tenant: str) -> Ledger:
    ledger = Ledger("2026-10-01T08:00:00Z", tenant=tenant)
    if tenant == "northwind":
        ledger.add_partners([{**ledger.partners[0], "history": HISTORY}])
        return ledger
    certs = {c: {"cert_id": c, "holder": "A. Auditor", "earned_at": "2025-01-01", "expires_at": "2027-12-31"}
             for c in ("cert-collab-associate", "cert-secops-analyst", "cert-data-engineer", "cert-devices-field")}
    partner = {"partner_id": CT_PARTNER, "legal_name": "Auditor Devices GmbH", "partner_type": "reseller",
               "status": "active", "tier": "authorized", "country": "DE", "activated_at": "2025-01-01T00:00:00Z",
               "certifications": certs, "history": HISTORY}  # fmt: skip
    ledger.rt.store.commit(tenant, Changes(puts=[Put("PARTNER", CT_PARTNER, partner)]))
    return ledger


def _ship(ledger: Ledger, tenant: str, order: str, at: str, accepted_on: str | None) -> dict[str, Any]:
    partner, sku, _, _ = CASES[tenant]
    data: dict[str, Any] = {"partner_id": partner, "order_ref": order, "shipped_on": at[:10], "delivered_on": at[:10],
                            "lines": [{"sku": sku, "quantity": 10}]}  # fmt: skip
    if accepted_on:
        data |= {"quoted_on": accepted_on, "order_accepted_on": accepted_on}
    ledger.clock.set(at)
    return ledger.bill("shipment.confirmed", data, occurred_at=at)


def _billed_orders(ledger: Ledger, tenant: str) -> list[str]:
    partner = CASES[tenant][0]
    return sorted(ln["order_ref"] for ln in ledger.invoice(partner, "2026-10")["lines"])


@pytest.mark.parametrize("tenant", sorted(CASES))
def test_pa_13_2_an_order_accepted_during_the_suspension_is_held_for_channel_ops(tenant: str) -> None:
    ledger = _ledger(tenant)
    clause, routing = CASES[tenant][2:]
    # accepted 12 October, during the suspension (5 October 14:00 to 20 October 09:00), shipped after the lift
    held = _ship(ledger, tenant, "SO-ACCEPTED-DURING", "2026-10-25T10:00:00Z", "2026-10-12")
    assert held["status"] == "failed", held
    assert "suspended" in held["reason"] and clause in held["reason"], held
    (case,) = [c for c in ledger.exceptions() if c["subject"]["id"] == held["event_id"]]
    assert case["category"] == "order_during_suspension" and case["queue"] == "channel_ops"  # SOP-4.1 triage
    assert [(r["rule_id"], r["clause"]) for r in case["reasons"]] == [("ROUTE-TRIAGE", routing),
                                                                      ("PTR-SUSPENSION", clause)]
    # accepted on the suspension's day (its time not stated): the latest it can have been accepted is that evening,
    # during it, as PA-7.1's order time reads it
    assert _ship(ledger, tenant, "SO-ACCEPTED-THAT-DAY", "2026-10-26T10:00:00Z", "2026-10-05")["status"] == "failed"
    # PA-13.2 "Orders already accepted are fulfilled": accepted before the suspension, shipped during it, bills
    assert _ship(ledger, tenant, "SO-ACCEPTED-BEFORE", "2026-10-12T10:00:00Z", "2026-10-01")["status"] == "processed"
    # accepted on the lift day: the latest it can have been is after 09:00, when it was lifted: bills
    assert _ship(ledger, tenant, "SO-ACCEPTED-LIFT-DAY", "2026-10-27T10:00:00Z", "2026-10-20")["status"] == "processed"
    # acceptance not stated: it may fulfil an order accepted before the suspension, bills as before
    assert _ship(ledger, tenant, "SO-NO-ACCEPTANCE", "2026-10-13T10:00:00Z", None)["status"] == "processed"
    assert _billed_orders(ledger, tenant) == ["SO-ACCEPTED-BEFORE", "SO-ACCEPTED-LIFT-DAY", "SO-NO-ACCEPTANCE"]


def test_the_same_event_replayed_opens_no_second_exception_and_stays_held() -> None:
    """Replayed after the lift, the order was still accepted during the suspension: held again, one exception."""
    ledger = _ledger("northwind")
    first = _ship(ledger, "northwind", "SO-REPLAYED", "2026-10-25T10:00:00Z", "2026-10-12")
    partner, sku, _, _ = CASES["northwind"]
    data = {"partner_id": partner, "order_ref": "SO-REPLAYED", "shipped_on": "2026-10-25", "delivered_on": "2026-10-25",
            "lines": [{"sku": sku, "quantity": 10}], "quoted_on": "2026-10-12", "order_accepted_on": "2026-10-12"}
    again = ledger.bill("shipment.confirmed", data, occurred_at="2026-10-25T10:00:00Z", erp_id="ERP-00000001")
    assert first["status"] == again["status"] == "failed", again
    assert len([c for c in ledger.exceptions() if c["category"] == "order_during_suspension"]) == 1


@pytest.mark.parametrize("tenant", sorted(CASES))
def test_sop_2_1_a_held_order_is_no_late_invoice_and_never_an_invoice_sla_breach(tenant: str) -> None:
    """SOP-2.1 / COP-2.1: "A shipment, activation or milestone acceptance must be posted as a line on the Partner's
    open invoice for the Billing Month within 48 hours of the time the event occurred ... at 48 hours it raises an
    invoice_sla_breach exception". An order PA-13.2 / CPA-13.2 hold is not to be billed at all: no line is due, so its
    SLA clock stops when it is held (as for an event out of scope), and the sweep days later opens no breach."""
    from revgov.services import billing, erp

    ledger = _ledger(tenant)
    partner, sku, _, _ = CASES[tenant]
    data = {"partner_id": partner, "order_ref": "SO-HELD-SLA", "shipped_on": "2026-10-25",
            "delivered_on": "2026-10-25", "lines": [{"sku": sku, "quantity": 10}],
            "quoted_on": "2026-10-12", "order_accepted_on": "2026-10-12"}  # fmt: skip
    ledger.clock.set("2026-10-25T10:05:00Z")
    held = ledger.receive("shipment.confirmed", data, occurred_at="2026-10-25T10:00:00Z")  # the webhook: clock starts
    assert held["status"] == "failed" and "suspended" in held["reason"], held
    assert ledger.rt.store.get(tenant, erp.SLA_WATCH, held["event_id"]) is None  # the clock is stopped
    ledger.clock.set("2026-10-28T10:00:00Z")  # 72 h after it occurred
    billing.sweep_sla(ledger.rt, tenant)
    assert [c for c in ledger.exceptions() if c["category"] == "invoice_sla_breach"] == []
