"""The running accrual (#17: incremental accrual projection) equals a full re-rating of the period after every event,
to the cent, on random event sequences: sales, tier crossings, repeats, returns and credit notes, usage lines
re-rated, lines of other months.

Clauses the sequences exercise (tenants/northwind/contracts/partner-agreement.md, northwind policy):
- PA-7.2: "the rebate percentage of the highest tier reached applies to all Qualifying Revenue in the Quarter"
  (retroactive tiers: a threshold crossing re-prices every earlier line of the quarter).
- PA-7.3 / PA-7.4: growth over the same quarter of the previous year; a new partner against its first full quarter.
- PA-7.5: SPIFF per unit, "not returned within 30 days of shipment"; CPA-7.5 counts 14 days from delivery.
- PA-7.6: the cap on volume + growth (5% of the volume basis, at most 150,000.00).
- PA-7.7(d): a line billed twice counts once; PA-1.2: Qualifying Revenue is net of credit notes.
- PA-6.3: lines sold below the margin floor are findings.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from rebates_support import sales_fact, scenario_policy
from revgov.domain.rebates.engine import rate_period
from revgov.domain.rebates.ledger import SalesLedger
from revgov.domain.rebates.lines import duplicate_keys, rebate_line
from revgov.domain.rebates.policy import PartnerFacts, Period, compile_rebates
from revgov.domain.rebates.running import Running, add_lines, result_of, running_of

P = "ptr_RUN"
SEEDS = 6
QUARTER = Period.parse("2026-Q4")
FAMILIES = {"NW-SW-24P": "networking", "NW-SRV-R2": "hardware", "NW-AP-6E": "wireless"}


def _rate(book: Any, lines: list[dict[str, Any]], facts: PartnerFacts, period: Period = QUARTER) -> Any:
    ordered = sorted(lines, key=lambda ln: (ln["month"], ln["line_id"]))
    return rate_period(book, SalesLedger.from_lines(ordered, book.exclusive_promotions), period, {P: facts})


def _view(result: Any) -> dict[str, Any]:
    return {"total": result.total(P), "programs": result.programs_view(P)}


def _row(rng: random.Random, n: int, month: str, marks: bool = False) -> dict[str, Any]:
    sku = rng.choice(list(FAMILIES))
    amount = rng.choice(["1200.00", "9999.99", "25000.00", "48750.55", "60000.00", "150.01", "0.00"])
    row = {"id": f"inv_{month}.{n}", "partner": P, "month": month, "sku": sku, "amount": amount,
           "qty": str(rng.randint(1, 40)), "date": f"{month}-{rng.randint(1, 28):02d}",
           "order_ref": f"SO-{rng.randint(1, 10_000)}", "event": f"evt_{n}"}  # fmt: skip
    if rng.random() < 0.2:
        row["channel"] = rng.choice(["referral", "sales_agent"])
    if rng.random() < 0.15:
        row["cost"] = str(round(float(amount) * 0.95, 2))  # below PA-6.3's 12% floor
    if rng.random() < 0.1:
        row["discount_percent"] = "30"
    if marks and rng.random() < 0.15:  # PA-7.1: an MDF-funded purchase
        row["mdf_funded"] = True
    if marks and row.get("channel") == "referral":  # PA-8.1: the referred customer and the invoice date
        row["customer_id"] = rng.choice(["CUST-A", "cust-a", "CUST-B", "CUST-C"])
        row["invoiced_on"] = rng.choice(["2026-11-02", "2026-12-02", "2027-01-04"])
        row["paid_on"] = "2027-01-10"  # a commission's basis is paid revenue (PA-8.2)
    return row


def _event(rng: random.Random, n: int, facts: dict[str, dict[str, Any]], marks: bool = False) -> list[dict[str, Any]]:
    """One event's sales facts: mostly new sales in the quarter; some repeats, credit notes, re-rated lines, and
    lines of last year's quarter."""
    roll, month = rng.random(), rng.choice(["2026-10", "2026-11", "2026-12"])
    if roll < 0.08 and facts:  # the same order line billed again under another line id (PA-7.7(d))
        again = dict(rng.choice(list(facts.values())))
        return [{**again, "line_id": f"inv_dup.{n}", "event_id": f"evt_dup_{n}", "event_ids": [f"evt_dup_{n}"]}]
    sales = [f for f in facts.values() if not f.get("references_line")]
    if roll < 0.18 and sales:  # a credit note against a sale (a return inside or outside the SPIFF window)
        credited = rng.choice(sales)
        day = date.fromisoformat(credited["service_period"]["start"]) + timedelta(days=rng.choice([3, 45]))
        return [{**credited, "line_id": f"inv_cn.{n}", "period": credited["period"],
                 "service_period": {"start": day.isoformat(), "end": day.isoformat()}, "kind": "credit_note",
                 "net_amount": f"-{credited['net_amount']}", "references_line": credited["line_id"],
                 "event_id": f"evt_cn_{n}", "event_ids": [f"evt_cn_{n}"]}]  # fmt: skip
    if roll < 0.24 and facts:  # a usage line re-rated: same line id, a new amount
        old = rng.choice(list(facts.values()))
        return [{**old, "net_amount": f"{float(old['net_amount']) + 100:.2f}"}]
    if roll < 0.28:
        month = rng.choice(["2025-10", "2025-12"])  # last year's quarter: the growth baseline moves
    return [sales_fact(_row(rng, n * 10 + i, month, marks), FAMILIES) for i in range(rng.randint(1, 3))]


def _replay(
    policy: dict[str, Any], facts: PartnerFacts, seed: int, events: int, marks: bool = False, period: Period = QUARTER
) -> tuple[int, int]:
    book, rng = compile_rebates(policy), random.Random(seed)
    stored: dict[str, dict[str, Any]] = {}  # line id -> sales fact
    lines: dict[str, dict[str, Any]] = {}  # line id -> rebate line
    keys: set[str] = set()
    running: Running | None = None
    fast = 0
    for n in range(events):
        event = _event(rng, n, stored, marks)
        new = [f for f in event if f["line_id"] not in lines]
        for fact in event:
            stored[fact["line_id"]] = fact
            credited = stored.get(str(fact.get("references_line"))) if fact.get("references_line") else None
            lines[fact["line_id"]] = rebate_line(fact, credited)
        full = _rate(book, list(lines.values()), facts, period)
        added = [lines[f["line_id"]] for f in new]
        incremental = None
        if (
            running is not None
            and len(new) == len(event)
            and not keys.intersection(k for ln in added for k in duplicate_keys(ln))
        ):
            incremental = add_lines(running, book, "v1", _rate(book, added, facts, period), facts)
        running = incremental or running_of(full, P, facts, "v1")
        fast += incremental is not None
        keys.update(k for ln in lines.values() for k in duplicate_keys(ln))
        assert _view(result_of(running, book, period, facts)) == _view(full), f"seed {seed}, event {n}: {event}"
        in_period = full.ledger.in_months(period.first, period.last)
        assert (running.line_count, running.findings) == (int(in_period.sum()), len(full.findings))
    return fast, events


def _policy(**overrides: dict[str, Any]) -> dict[str, Any]:
    return scenario_policy({"tenant": "northwind", "program_overrides": overrides})


ESTABLISHED = PartnerFacts(P, "platinum", "reseller", date(2024, 1, 10).toordinal())
NEW_PARTNER = PartnerFacts(P, "gold", "reseller", date(2026, 2, 20).toordinal())  # first full quarter 2026-Q2


@pytest.mark.parametrize("seed", range(SEEDS))
def test_the_running_accrual_equals_a_full_rerating_after_every_event(seed):
    fast, events = _replay(_policy(), ESTABLISHED if seed % 2 else NEW_PARTNER, seed, 120)
    assert fast > events // 2  # most events are added in O(programs), not re-rated


@pytest.mark.parametrize("seed", range(3))
def test_mdf_funded_lines_and_the_referral_window_keep_the_running_accrual_exact(seed):
    # PA-7.1: MDF-funded lines earn in no program; PA-8.1: a referral invoiced after the window from its customer's
    # first invoice earns nothing. Both are decided by the line and the partner's facts alone: the sums stay exact.
    # CUST-A (and cust-a, the same customer) was first invoiced on 2025-11-03 (window through 2026-11-03), CUST-B
    # on 2026-06-02; CUST-C has no first invoice stored (its own invoice is its first).
    firsts = {"cust-a": "2025-11-03", "cust-b": "2026-06-02"}
    facts = replace(ESTABLISHED, first_invoices=tuple(sorted((c, date.fromisoformat(d).toordinal())
                                                             for c, d in firsts.items())))  # fmt: skip
    fast, events = _replay(_policy(), facts, 200 + seed, 80, marks=True)
    assert fast > events // 3
    # the monthly commissions (PA-8.1's window) of a month of the quarter
    _replay(_policy(), facts, 300 + seed, 80, marks=True, period=Period.parse("2026-11"))


@pytest.mark.parametrize("seed", range(3))
def test_incremental_tiers_equal_a_full_rerating_too(seed):
    # PA-7.2's tiers rated marginally (each rate on the revenue inside its band) instead of retroactively.
    _replay(_policy(**{"RBT-VOLUME": {"model": "tiered_incremental"}}), ESTABLISHED, 100 + seed, 100)


def test_a_spiff_counted_from_delivery_is_re_rated_in_full():
    # CPA-7.5: units earn "not returned within 14 days of delivery"; undelivered units are held, so the sums alone
    # cannot carry them: every event re-rates (and still equals the full rating).
    policy = _policy(**{"RBT-HW-SPIFF": {"return_window_from": {"id": "RBT-HW-SPIFF-RETURN-WINDOW", "clause":
                                                                  "PA-7.5", "from": "delivery"}}})  # fmt: skip
    fast, _ = _replay(policy, ESTABLISHED, 7, 40)
    assert fast == 0


def test_a_policy_or_partner_change_re_rates_in_full():
    book = compile_rebates(_policy())
    line = rebate_line(sales_fact(_row(random.Random(1), 1, "2026-10"), FAMILIES))
    running = running_of(_rate(book, [line], ESTABLISHED), P, ESTABLISHED, "v1")
    other = rebate_line(sales_fact(_row(random.Random(2), 2, "2026-11"), FAMILIES))
    mini = _rate(book, [other], ESTABLISHED)
    assert add_lines(running, book, "v1", mini, ESTABLISHED) is not None
    assert add_lines(running, book, "v2", mini, ESTABLISHED) is None  # another policy version
    gold = PartnerFacts(P, "gold", "reseller", ESTABLISHED.activated_on)
    assert add_lines(running, book, "v1", _rate(book, [other], gold), gold) is None  # the tier changed


def test_a_running_accrual_survives_its_record():
    book = compile_rebates(_policy())
    line = rebate_line(sales_fact(_row(random.Random(3), 1, "2026-10"), FAMILIES))
    running = running_of(_rate(book, [line], ESTABLISHED), P, ESTABLISHED, "v1")
    assert Running.from_record(running.as_record()) == running
