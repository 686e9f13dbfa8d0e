"""One partner's KPIs (`GET /v1/kpis?partner_id=`, a partner key's own, and the staff performance summary that reads
them) read that partner's accrual and subscription renewals, not every partner's of the period.

docs/kpis.md: rebates deducted are "the accruals for an open one [period]", "a tier's are its partners'", so one
partner's margin deducts its own accrual; `subscription_renewals` counts "the customer subscription renewals whose
renewed term starts in the period [...] narrowed by `partner_id` / `tier` the same way". PA-11.1: one partner's data is
no part of another's. P1 accrued 1,250.00 for 2026-Q4 (open) and renewed one subscription from 2026-12-01 (approved):
its Q4 figure deducts 1,250.00 and counts 1 approved renewal, whatever 40 rival partners accrued or renewed. The
reads are counted (the team's standard: store calls, not time). The staff figure's renewal probability keeps the
tenant's base rate (PA-13.1 / CPA-13.1, docs/kpis.md "the base rate stays the tenant's": "every Program Year end passed
by any partner, renewed ÷ (renewed + ended)"): the daily term sweep, which reads every partner record anyway, keeps its
counts, so one partner's figure reads them, not every partner record, until the next year end passes.
"""

from __future__ import annotations

import json
from typing import Any

from memory_store import Ledger
from revgov.domain.access import Principal, Role
from revgov.ports import Changes, Put
from revgov.services import analytics, billing, renewals
from revgov.services.billing.repository import renewal_put, subscription_put
from revgov.services.rebates import repository as rebate_records
from store_counting import Counting

P1, P2 = "ptr_01JBNWPARTNER0000000000001", "ptr_01JBNWPARTNER0000000000002"
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")
AS_P1 = Principal("northwind", Role.PARTNER, "key_p1", partner_id=P1)


def _renewed_and_accrued(partner_id: str, n: int, total: str) -> list[Put]:
    """A subscription renewed from 2026-12-01 (approved) and the partner's open 2026-Q4 accrual, as billing and the
    accrual runs store them (the subscription under its partner's lookup, the renewal by month)."""
    entry = {"renewed_from": "2026-12-01", "status": "approved", "decision_id": f"dec_{n}", "annual_value": "1200.00"}
    subscription = {"subscription_id": f"SUB-K{n}", "partner_id": partner_id, "sku": "NW-SEC-SUITE", "quantity": 1,
                    "status": "active", "renewals": [entry]}
    accrual = {"period": "2026-Q4", "partner_id": partner_id, "total": total}
    return [subscription_put(subscription, None), renewal_put(subscription, entry),
            rebate_records.accrual_put(accrual, None)]  # type: ignore[arg-type]


def _read(rivals: int, who: Principal) -> tuple[dict[str, Any], Counting]:
    ledger = Ledger("2026-12-10T12:00:00Z")
    p2 = next(p for p in ledger.partners if p["partner_id"] == P2)
    others = [{**p2, "partner_id": f"ptr_01JBNWRXVS{n:016d}"} for n in range(rivals)]
    ledger.add_partners(others)
    puts = [*_renewed_and_accrued(P1, 0, "1250.00")]
    for n, rival in enumerate(others, start=1):
        puts += _renewed_and_accrued(rival["partner_id"], n, "900.00")
    for start in range(0, len(puts), 48):
        ledger.rt.store.commit("northwind", Changes(puts=puts[start:start + 48]))
    renewals.sweep_terms(ledger.rt, "northwind")  # the daily term sweep (`partner_term_sweep`) has run today
    with Counting(ledger.rt.store) as counted:
        found = analytics.kpis(ledger.rt, who, "2026-Q4", partner_id=P1, tier=None)
    return found, counted


def test_a_partners_own_figures_read_the_same_whatever_its_rivals_accrued_or_renewed() -> None:
    quiet_staff, alone = _read(0, FINANCE)
    busy_staff, crowded = _read(40, FINANCE)
    assert quiet_staff["net_realized_margin"]["rebates_deducted"] == "1250.00"  # its own accrual only
    assert quiet_staff["renewal_probability"]["subscription_renewals"] == {"approved": 1, "lost": 0, "pending": 0}
    assert json.dumps(quiet_staff, sort_keys=True) == json.dumps(busy_staff, sort_keys=True)
    assert (dict(alone.calls), alone.documents) == (dict(crowded.calls), crowded.documents)
    assert not [p for p in crowded.partitions if p.startswith("PARTNER#")]  # no partner listed for the base rate


def _agreement(partner: dict[str, Any], partner_id: str, **term: Any) -> dict[str, Any]:
    """An approved partner (PA-13.1: the Agreement "starts on the date the Partner is approved and continues until the
    end of the Program Year, and then renews automatically") approved on 2024-03-01, or with the term given."""
    shaped = {**partner, "partner_id": partner_id, "activated_at": "2024-03-01T09:00:00Z"}
    return {**shaped, "term": term} if term else shaped


def test_one_partners_renewal_figure_reads_the_base_rate_the_sweep_kept_and_counts_as_every_record_does() -> None:
    """P1 and two rivals approved on 2024-03-01 renewed at 2024-12-31 and 2025-12-31 (2 each); a third rival's notice
    of non-renewal took effect at 2025-12-31 after one renewal (PA-13.1 "unless either party gives notice of
    non-renewal"): 7 renewed, 1 ended, so the tenant's rate is 7 / 8 = 87.50 %, and P1's running agreement (no notice
    for 2026-12-31) is forecast at it. The same figure from the sweep's counts (no rival record read) and from every
    record; past the next year end before the sweep has run, the counts are stale and every record is read again."""
    ledger = Ledger("2026-12-10T12:00:00Z")
    p2 = next(p for p in ledger.partners if p["partner_id"] == P2)
    notice = {"party": "partner", "given_at": "2025-09-01T10:00:00Z", "effective_at": "2025-12-31"}
    ledger.add_partners([
        _agreement(p2, P1), _agreement(p2, "ptr_01JBNWRXVR0000000000000001"),
        _agreement(p2, "ptr_01JBNWRXVR0000000000000002"),
        _agreement(p2, "ptr_01JBNWRXVR0000000000000003", started_on="2024-03-01", year_end="2025-12-31",
                   renewals=["2024-12-31"], renewal_due_for=None, non_renewal=notice),
    ])

    def figure() -> tuple[dict[str, Any], Counting]:
        with Counting(ledger.rt.store) as counted:
            found = analytics.kpis(ledger.rt, FINANCE, "2026-Q4", partner_id=P1, tier=None)["renewal_probability"]
        return found, counted

    every_record, read_all = figure()  # the sweep has not run: every partner record is read
    assert every_record["history"] == {"year_ends": 8, "renewed": 7, "ended": 1}
    assert every_record["renewal_rate_percent"] == "87.50" and every_record["renewal_probability_percent"] == "87.50"
    renewals.sweep_terms(ledger.rt, "northwind")
    kept, read_kept = figure()
    assert kept == every_record
    assert read_all.documents - read_kept.documents >= 3  # the rivals' records are no longer read
    assert "query" not in read_kept.calls, read_kept.calls
    ledger.clock.set("2027-01-02T12:00:00Z")  # 2026-12-31 passed; the sweep has not run since
    after, read_after = figure()
    assert after["history"] == {"year_ends": 11, "renewed": 10, "ended": 1}  # P1 and two rivals renewed at 2026-12-31
    assert read_after.calls["query"] >= 1  # the counts kept are of 2025-12-31: every record read again


def test_a_partner_keys_figures_read_the_same_whatever_its_rivals_accrued() -> None:
    quiet, alone = _read(0, AS_P1)
    busy, crowded = _read(40, AS_P1)
    assert json.dumps(quiet, sort_keys=True) == json.dumps(busy, sort_keys=True)
    assert (dict(alone.calls), alone.documents) == (dict(crowded.calls), crowded.documents)
    assert billing.SUBSCRIPTIONS not in " ".join(crowded.partitions)  # withheld from a partner key: not read
