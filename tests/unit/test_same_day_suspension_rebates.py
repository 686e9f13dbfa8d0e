"""An order shipped earlier on the day a partner is suspended still earns its rebate (reviewer finding 4,
docs/clause-audit.md). In-memory engine, fixed clock: ERP shipments billed, projected and rated as the accrual does.

PA-7.1: "Rebates are not earned on taxes, freight, pass-through fees, MDF-funded purchases or orders placed while the
Partner was suspended." CPA-7.1: "No incentive is earned on [...] orders placed during a suspension." PA-13.2: "The
Distributor may suspend a Partner from new quotes, orders, deal registrations and incentive accrual". PA-1.3: "All
times are Coordinated Universal Time (UTC)".

Reading: "while the Partner was suspended" is an interval of time, from the moment of the suspension (its recorded
time) to the moment it is lifted, not whole days. An order the ERP records as shipped at 10:00 on the day of a
suspension at 14:00 was placed before it (an order is placed before it ships) and earns; one shipped at 16:00 that
day is counted as placed during it (the order's own time is not reported; the shipment's is the latest it can have
been placed), and so is every later one until the suspension is lifted. An order the ERP records after the lift
earns again, on the lift day too.
"""

from __future__ import annotations

import numpy as np

from memory_store import Ledger
from revgov.domain.rebates.policy import Period, facts_of_partner
from revgov.services import rebates
from revgov.services.rebates import repository
from revgov.services.rebates.book import book, today
from revgov.services.rebates.rating import rate_partner

P1 = "ptr_01JBNWPARTNER0000000000001"
HISTORY = [{"at": "2025-01-01T00:00:00Z", "from": "pending_approval", "to": "active"},
           {"at": "2026-10-05T14:00:00Z", "from": "active", "to": "suspended"},
           {"at": "2026-10-20T09:00:00Z", "from": "suspended", "to": "active"}]  # fmt: skip


def _ship(ledger: Ledger, order: str, day: str, at: str) -> None:
    data = {"partner_id": P1, "order_ref": order, "shipped_on": day, "lines": [{"sku": "NW-SW-24P", "quantity": 10}]}
    ledger.clock.set(at)
    assert ledger.bill("shipment.confirmed", data, occurred_at=at)["status"] == "processed"
    event = ledger.rt.publisher.published[-1]
    bus_event = {"source": event["source"], "detail-type": event["detail_type"], "detail": event["detail"]}
    outcome, due = rebates.project_event(ledger.rt, bus_event)
    assert outcome["status"] == "processed", outcome
    for refresh in due:
        refresh.run(ledger.rt)


def _result(ledger: Ledger):  # type: ignore[no-untyped-def]
    tenant, programs = book(ledger.rt, ledger.tenant_id)
    record = repository.partner(ledger.rt, ledger.tenant_id, P1)
    assert record is not None
    rated = Period.parse("2026-Q4")
    facts = facts_of_partner(tenant.policy, record, rated, today(ledger.rt))
    return rate_partner(ledger.rt, ledger.tenant_id, programs, rated, P1, facts)


def _suspended_orders(ledger: Ledger) -> list[str]:
    tenant, programs = book(ledger.rt, ledger.tenant_id)
    record = repository.partner(ledger.rt, ledger.tenant_id, P1)
    assert record is not None
    rated = Period.parse("2026-Q4")
    facts = facts_of_partner(tenant.policy, record, rated, today(ledger.rt))
    result = rate_partner(ledger.rt, ledger.tenant_id, programs, rated, P1, facts)
    invoice = {ln["line_id"]: ln["order_ref"] for ln in ledger.invoice(P1, "2026-10")["lines"]}
    _, flags = result.excluded.get("RBT-SUSPENDED-PARTNER", (None, np.zeros(len(result.ledger), dtype=np.bool_)))
    return sorted(invoice[result.ledger.line_ids[i]] for i in np.flatnonzero(flags))


def test_pa_7_1_an_order_shipped_before_the_suspension_on_its_day_earns():
    ledger = Ledger("2026-10-05T08:00:00Z")
    ledger.add_partners([{**ledger.partners[0], "history": HISTORY}])
    _ship(ledger, "SO-MORNING", "2026-10-05", "2026-10-05T10:00:00Z")  # before 14:00: earns
    _ship(ledger, "SO-JUST-BEFORE", "2026-10-05", "2026-10-05T13:59:59Z")  # one second before: earns
    _ship(ledger, "SO-AT", "2026-10-05", "2026-10-05T14:00:00Z")  # at the suspension: during it
    _ship(ledger, "SO-AFTERNOON", "2026-10-05", "2026-10-05T16:00:00Z")  # after it: placed during it
    _ship(ledger, "SO-DURING", "2026-10-12", "2026-10-12T10:00:00Z")
    _ship(ledger, "SO-LIFT-DAY-EARLY", "2026-10-20", "2026-10-20T08:59:59Z")  # still suspended until 09:00
    _ship(ledger, "SO-LIFT-DAY-LATE", "2026-10-20", "2026-10-20T09:00:00Z")  # lifted: earns
    assert _suspended_orders(ledger) == ["SO-AFTERNOON", "SO-AT", "SO-DURING", "SO-LIFT-DAY-EARLY"]


def test_the_leak_finding_states_the_order_time_it_compared():
    """The rebate_leakage finding of an excluded order names the time compared with the suspension (PA-7.1)."""
    ledger = Ledger("2026-10-05T08:00:00Z")
    ledger.add_partners([{**ledger.partners[0], "history": HISTORY}])
    _ship(ledger, "SO-AFTERNOON", "2026-10-05", "2026-10-05T16:00:00Z")
    (finding,) = [f for f in _result(ledger).findings if f.rule.rule_id == "RBT-SUSPENDED-PARTNER"]
    assert finding.message == "ordered at 2026-10-05T16:00:00Z while the partner was suspended: earns nothing"
    assert finding.rule.clause == "PA-7.1"
