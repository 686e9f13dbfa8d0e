"""An event's new lines are rated once for all the periods they fall in, not once per period.

A shipment's line counts in its Quarter (PA-7.2 volume, PA-7.3 growth, PA-7.5 SPIFF) and in its month (PA-8.1 / PA-8.2
commissions): the running accrual (services/rebates/running.py) used to build a ledger of the event's one line and
work out every program's eligibility over it for the Quarter, then again for the month. Now one ledger, each
program's eligibility once (`engine.rate_periods`); each period's result is the one it had rated alone (the full
re-rating equivalence of tests/unit/test_running_accrual_service.py still holds, and below over generated lines).
"""

from __future__ import annotations

from memory_store import Ledger
from rebates_support import generated, tenant_policy
from revgov.domain.rebates import engine, line_masks
from revgov.domain.rebates.ledger import SalesLedger
from revgov.domain.rebates.policy import Period, compile_rebates
from revgov.services import rebates
from revgov.services.rebates.book import book

P1 = "ptr_01JBNWPARTNER0000000000001"


def _ship(ledger: Ledger, n: int) -> dict:
    ledger.bill("shipment.confirmed", {"partner_id": P1, "order_ref": f"SO-ONCE-{n}", "shipped_on": "2026-10-05",
                "lines": [{"sku": "NW-SW-24P", "quantity": 5}]}, occurred_at="2026-10-05T10:00:00Z")  # fmt: skip
    event = ledger.rt.publisher.published[-1]
    assert event["detail_type"] == "invoice.lines_posted"
    return {"source": event["source"], "detail-type": event["detail_type"], "detail": event["detail"]}


def test_a_shipment_added_to_the_running_sums_rates_its_line_once_for_quarter_and_month(monkeypatch):
    ledger = Ledger("2026-10-05T12:00:00Z")
    for n in range(2):  # the first event stores the sums (a full re-rating); the second is added to them
        outcome, due = rebates.project_event(ledger.rt, _ship(ledger, n))
        for refresh in due:
            refresh.run(ledger.rt)
    passes, eligibility, built = [], [], []
    rate_periods, lines_eligible, from_lines = engine.rate_periods, line_masks._lines_eligible, SalesLedger.from_lines
    monkeypatch.setattr(engine, "rate_periods", lambda *a, **k: passes.append(a[2]) or rate_periods(*a, **k))
    monkeypatch.setattr(line_masks, "_lines_eligible",
                        lambda *a: eligibility.append(a[2].program_id) or lines_eligible(*a))
    monkeypatch.setattr(SalesLedger, "from_lines", classmethod(
        lambda cls, lines, *a: built.append(len(lines)) or from_lines.__func__(cls, lines, *a)))  # type: ignore[attr-defined]
    outcome, due = rebates.project_event(ledger.rt, _ship(ledger, 2))
    assert outcome["status"] == "processed" and due == []  # added to the sums: no full re-rating
    assert [sorted(p.name for p in periods) for periods in passes] == [["2026-10", "2026-Q4"]]  # one pass, both
    programs = [p.program_id for p in book(ledger.rt, ledger.tenant_id)[1].programs]
    assert sorted(eligibility) == sorted(programs)  # each program's eligibility once, not once per period
    # one ledger of the event's line; the other two are each period's sums rated as synthetic lines (`result_of`)
    assert built.count(1) == 1


def test_rating_periods_together_gives_each_period_what_it_gives_alone():
    programs = compile_rebates(tenant_policy("northwind"))
    lines, partners, _ = generated(3000, 12, seed=11, duplicates=20)
    ledger = SalesLedger.from_lines(lines, programs.exclusive_promotions)
    # the generated paid lines were paid on 2026-10-01: 2026-10's commissions (PA-8.2) earn too
    periods = [Period.parse(p) for p in ("2026-Q3", "2026-07", "2026-08", "2026-09", "2026-10")]
    together = engine.rate_periods(programs, ledger, periods, partners)
    for period, result in zip(periods, together, strict=True):
        alone = engine.rate_period(programs, SalesLedger.from_lines(lines, programs.exclusive_promotions), period,
                                   partners)  # fmt: skip
        assert result.payable == alone.payable
        assert [f.as_dict() for f in result.findings] == [f.as_dict() for f in alone.findings]
        assert {k: (r.rule_id, m.tolist()) for k, (r, m) in result.excluded.items()} == {
            k: (r.rule_id, m.tolist()) for k, (r, m) in alone.excluded.items()}
        assert result.caps == alone.caps
    assert together[0].payable and together[-1].payable and together[0].findings  # not empty results compared
