"""The accrual kept current from billing's events (#17), on the in-memory engine: after every event the stored accrual
equals a full re-rating of the partner's period, and most events update it without re-rating.

Random ERP sequences for northwind's platinum partner in 2026-Q4: shipments of switches (list 1,250.00), servers
(SPIFF-eligible NW-SRV-R2) and access points, large enough to cross PA-7.2's retroactive tiers ("the rebate percentage
of the highest tier reached applies to all Qualifying Revenue in the Quarter": 1% from 100,000.00, 2% from 250,000.00,
3% from 500,000.00); returns (PA-7.5: SPIFF units "not returned within 30 days of shipment") and credit notes
(PA-1.2: Qualifying Revenue is "net of all credit notes issued against those invoices, whenever issued"); usage
reports (SOP-3.4: the month re-rated as a whole, so its line changes: a full re-rating); the same order line shipped
twice (PA-7.7(d): counted once).
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from memory_store import Ledger
from revgov.domain.rebates.policy import Period, facts_of_partner
from revgov.services import rebates
from revgov.services.rebates import repository
from revgov.services.rebates.accrual_record import accrual_of
from revgov.services.rebates.book import book, today
from revgov.services.rebates.rating import rate_partner

P1 = "ptr_01JBNWPARTNER0000000000001"
SKUS = ("NW-SW-24P", "NW-SRV-R2", "NW-AP-6E")


def _accrue(ledger: Ledger) -> bool:
    """Deliver billing's last event to the accrual rule as the handler does; True if nothing had to be re-rated."""
    event = ledger.rt.publisher.published[-1]
    if event["detail_type"] != "invoice.lines_posted":
        return True
    bus_event = {"source": event["source"], "detail-type": event["detail_type"], "detail": event["detail"]}
    outcome, due = rebates.project_event(ledger.rt, bus_event)
    assert outcome["status"] == "processed", outcome
    for refresh in due:
        refresh.run(ledger.rt)
    return not due


def _stored(ledger: Ledger, period: str) -> dict[str, Any] | None:
    found = repository.accrual(ledger.rt, ledger.tenant_id, period, P1)
    return None if found is None else {k: v for k, v in found.data.items() if k != "as_of"}


def _full(ledger: Ledger, period: str) -> dict[str, Any] | None:
    """The accrual a full re-rating of every line of the period gives (computed here, stored nowhere)."""
    tenant, programs = book(ledger.rt, ledger.tenant_id)
    if _stored(ledger, period) is None:
        return None
    rated = Period.parse(period)
    record = repository.partner(ledger.rt, ledger.tenant_id, P1)
    assert record is not None
    facts = facts_of_partner(tenant.policy, record, rated, today(ledger.rt))
    result = rate_partner(ledger.rt, ledger.tenant_id, programs, rated, P1, facts)
    in_period = int(sum(1 for m in result.ledger.month if rated.first <= m <= rated.last))
    accrual = accrual_of(tenant, facts, result, line_count=in_period, findings=len(result.findings), now="")
    return {k: v for k, v in accrual.items() if k != "as_of"}


def _lines(ledger: Ledger) -> list[dict[str, Any]]:
    pointer = ledger.rt.store.get(ledger.tenant_id, "INVOICEKEY", f"{P1}#2026-10")
    return [] if pointer is None else ledger.invoice(P1, "2026-10")["lines"]


def _event(ledger: Ledger, rng: random.Random, n: int, shipped: list[dict[str, Any]]) -> None:
    lines = [ln for ln in _lines(ledger) if ln["kind"] == "shipment"]
    roll = rng.random()
    if roll < 0.1 and lines:
        line = rng.choice(lines)
        ledger.bill("return.received", {"partner_id": P1, "rma_ref": f"RMA-{n}", "invoice_id": line["invoice_id"],
                    "line_no": line["number"], "quantity": 1, "returned_on": rng.choice(["2026-10-20", "2026-11-30"])},
                    occurred_at="2026-11-30T10:00:00Z")  # fmt: skip
    elif roll < 0.2 and lines:
        line = rng.choice(lines)
        ledger.bill("credit_note.issued", {"partner_id": P1, "credit_note_ref": f"CN-{n}", "invoice_id":
                    line["invoice_id"], "line_no": line["number"], "reason": "billing_error", "amount": "100.00",
                    "quantity": 1, "issued_on": "2026-10-25"}, occurred_at="2026-10-25T10:00:00Z")  # fmt: skip
    elif roll < 0.27:
        ledger.bill("usage.reported", {"partner_id": P1, "subscription_id": "SUB-R1", "metric": "cloud_compute",
                    "quantity": str(rng.randint(100, 5000)), "usage_date": "2026-10-15"},
                    occurred_at="2026-10-15T23:30:00Z")  # fmt: skip
    elif roll < 0.37 and shipped:  # the same order line sent again under another ERP event id (PA-7.7(d))
        ledger.bill("shipment.confirmed", rng.choice(shipped), occurred_at="2026-10-05T10:00:00Z")
    else:
        shipment = {"partner_id": P1, "order_ref": f"SO-{n}", "shipped_on": "2026-10-05",
                    "lines": [{"sku": rng.choice(SKUS), "quantity": rng.choice([1, 5, 40])}]}  # fmt: skip
        ledger.bill("shipment.confirmed", shipment, occurred_at="2026-10-05T10:00:00Z")
        shipped.append(shipment)


@pytest.mark.parametrize("seed", range(3))
def test_the_stored_accrual_equals_a_full_rerating_after_every_event(seed):
    rng, ledger = random.Random(seed), Ledger("2026-11-30T12:00:00Z")
    ledger.bill("subscription.activated", {"partner_id": P1, "subscription_id": "SUB-R1", "sku": "NW-CLOUD-PLATFORM",
                "quantity": 1, "activated_on": "2026-09-01", "order_ref": "SO-R1"},
                occurred_at="2026-09-01T09:00:00Z")  # fmt: skip
    _accrue(ledger)
    running, shipped = 0, []
    for n in range(60):
        _event(ledger, rng, n, shipped)
        running += _accrue(ledger)
        for period in ("2026-Q4", "2026-10"):
            assert _stored(ledger, period) == _full(ledger, period), f"seed {seed}, event {n}, {period}"
    assert running > 30  # most events are added to the running sums, not re-rated


def test_lines_projected_without_sums_make_the_next_refresh_rerate():
    # A settlement brings the projection level with billing (`projection.sync`): lines written that way mark their
    # periods stale, so the next event re-rates in full rather than adding to sums that miss them.
    ledger = Ledger("2026-11-30T12:00:00Z")
    for n in range(3):
        ledger.bill("shipment.confirmed", {"partner_id": P1, "order_ref": f"SO-{n}", "shipped_on": "2026-10-05",
                    "lines": [{"sku": "NW-SW-24P", "quantity": 50}]}, occurred_at="2026-10-05T10:00:00Z")  # fmt: skip
        if n < 2:
            assert _accrue(ledger) is (n > 0)  # the first event re-rates (no sums yet), the second adds
    facts = repository.month_sales_facts(ledger.rt, ledger.tenant_id, "2026-10")
    rebates.project(ledger.rt, ledger.tenant_id, facts)  # the third event's line, projected by a settlement's sync
    ledger.bill("shipment.confirmed", {"partner_id": P1, "order_ref": "SO-9", "shipped_on": "2026-10-06",
                "lines": [{"sku": "NW-SW-24P", "quantity": 1}]}, occurred_at="2026-10-06T10:00:00Z")  # fmt: skip
    assert _accrue(ledger) is False  # stale: re-rated in full
    accrual = _stored(ledger, "2026-Q4")
    assert accrual is not None and accrual["line_count"] == 4
    # 151 switches x 1,250.00 = 188,750.00 of Qualifying Revenue: tier 1, 1% (PA-7.2) = 1,887.50
    volume = next(p for p in accrual["programs"] if p["program_id"] == "RBT-VOLUME")
    assert (volume["basis_revenue"], volume["amount"]) == ("188750.00", "1887.50")
