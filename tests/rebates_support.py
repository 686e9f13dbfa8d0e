"""Rebate test helpers: scenario files as a policy, partners and sales facts; and the straightforward per-line
Python loop that the vectorized engine must agree with (the scenario tests and `make bench` both use it)."""

from __future__ import annotations

import copy
import random
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal
from functools import cache
from typing import Any

from revgov.domain.rebates.lines import FIELDS, rebate_line, with_numbers
from revgov.domain.rebates.policy import PartnerFacts, Period, RebateBook, compile_rebates, first_full_period
from revgov.tenant_files import load_tenant_file
from support import ROOT

CENT = Decimal("0.01")


@cache
def tenant_policy(tenant: str) -> dict[str, Any]:
    return load_tenant_file(ROOT / "tenants" / tenant / "tenant.yaml")["policy"]


def scenario_policy(scenario: dict[str, Any]) -> dict[str, Any]:
    """The tenant's policy with only the scenario's programs (and the rules that name them), models overridden."""
    policy = copy.deepcopy(tenant_policy(scenario["tenant"]))
    rebates = policy["rebates"]
    keep = set(scenario.get("programs") or [p["id"] for p in rebates["programs"]])
    rebates["programs"] = [
        {**p, **scenario.get("program_overrides", {}).get(p["id"], {})} for p in rebates["programs"] if p["id"] in keep
    ]
    rebates["exclusivity"] = [
        {
            **e,
            "lines_earning": [x for x in e["lines_earning"] if x in keep],
            "excluded_from": [x for x in e["excluded_from"] if x in keep],
        }
        for e in rebates.get("exclusivity", [])
    ]
    rebates["exclusivity"] = [e for e in rebates["exclusivity"] if e["lines_earning"] and e["excluded_from"]]
    rebates["caps"] = [c for c in rebates.get("caps", []) if set(c["programs"]) <= keep]
    promo = rebates.get("exclusive_promotions")
    if promo:
        promo["excluded_from"] = [x for x in promo["excluded_from"] if x in keep]
        if not promo["excluded_from"]:
            del rebates["exclusive_promotions"]
    return policy


def scenario_book(scenario: dict[str, Any]) -> RebateBook:
    return compile_rebates(scenario_policy(scenario))


def _ordinal(text: str) -> int:
    return date.fromisoformat(text).toordinal()


def scenario_partners(scenario: dict[str, Any]) -> dict[str, PartnerFacts]:
    return {
        pid: PartnerFacts(
            pid,
            p["tier"],
            p.get("type", "reseller"),
            _ordinal(p["activated_on"]) if p.get("activated_on") else None,
            tuple((_ordinal(s), _ordinal(e) if e else None) for s, e in p.get("suspended", [])),
            tuple(sorted((c.casefold(), _ordinal(d)) for c, d in p.get("first_invoices", {}).items())),
        )
        for pid, p in scenario["partners"].items()
    }


def sales_fact(row: dict[str, Any], families: dict[str, str]) -> dict[str, Any]:
    """A sales fact as billing records it, from a scenario row (id, partner, month, amount and optional extras)."""
    sku = row.get("sku", "NW-SW-24P")
    day = row.get("date") or f"{row['month']}-15"
    fact = {
        "line_id": row["id"],
        "invoice_id": f"inv_{row['partner']}_{row['month']}",
        "partner_id": row["partner"],
        "period": row["month"],
        "service_period": {"start": day, "end": day},
        "kind": row.get("kind", "shipment"),
        "family": row.get("family") or families.get(sku, "networking"),
        "sku": sku,
        "quantity": row.get("qty", "1"),
        "net_amount": row["amount"],
        "cost": row.get("cost"),
        "currency": "USD",
        "event_id": row.get("event", f"evt_{row['id']}"),
        "event_ids": [row.get("event", f"evt_{row['id']}")],
    }
    for key in ("order_ref", "promotions", "discount_percent", "paid_on", "channel", "mdf_funded", "customer_id",
                "invoiced_on", "referral_accepted_on", "decision_maker_contacted_on"):
        if key in row:
            fact[key] = row[key]
    return fact


def scenario_lines(scenario: dict[str, Any]) -> list[dict[str, Any]]:
    """The scenario's rows as rebate lines, in file order; a row with `credits` is a credit note against that row."""
    families = {
        p["sku"]: p["family"] for p in tenant_policy(scenario["tenant"]).get("billing", {}).get("price_list", [])
    }
    facts = [(row, sales_fact(row, families)) for row in scenario["lines"]]
    by_id = {fact["line_id"]: fact for _, fact in facts}
    return [rebate_line(fact, by_id[row["credits"]] if row.get("credits") else None) for row, fact in facts]


# --- the straightforward loop -------------------------------------------------------------------------------------
(
    LINE_ID, INVOICE_ID, PARTNER_ID, FAMILY, SKU, KIND, RULE_KIND, CHANNEL, NET_CENTS, COST_CENTS, UNITS_MILLI,
    MONTH_INDEX, DAY, CREDITED_DAY, CREDITED_LINE, PROMOTIONS, DISCOUNT, PAID_ON, EVENT_ID, ORDER_REF, DELIVERED_DAY,
    MDF_FUNDED, CUSTOMER, INVOICED_DAY, EVENT_SECOND, ACCEPTED_DAY, CONTACTED_DAY,
) = range(len(FIELDS))  # fmt: skip
assert FIELDS[CREDITED_LINE] == "credited_line" and FIELDS[ORDER_REF] == "order_ref"


def _month(text: str) -> int:
    year, month = text.split("-")
    return int(year) * 12 + int(month) - 1


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def settle_by_loop(
    book: RebateBook, lines: Sequence[Sequence[Any]], period: Period, partners: dict[str, PartnerFacts]
) -> tuple[dict[str, dict[str, str]], set[tuple[str, str]]]:
    """Rate a period one line at a time (rows as `rebate_row` gives them), amounts per partner in Decimal: payable
    per partner and program, and (kind, line id) of every line found a duplicate or a leak."""
    duplicate: dict[int, str] = {}
    seen_line: dict[str, int] = {}
    seen_event: set[tuple[Any, ...]] = set()
    seen_order: set[tuple[Any, ...]] = set()
    for i, ln in enumerate(lines):
        if ln[LINE_ID] in seen_line:
            duplicate[i] = "same_line_twice"
            continue
        seen_line[ln[LINE_ID]] = i
        what = (ln[PARTNER_ID], ln[KIND], ln[SKU], ln[CREDITED_LINE], ln[UNITS_MILLI], ln[NET_CENTS])
        if ln[EVENT_ID]:
            if (ln[EVENT_ID], *what) in seen_event:
                duplicate[i] = "billed_twice"
                continue
            seen_event.add((ln[EVENT_ID], *what))
        if ln[ORDER_REF] and ln[NET_CENTS] >= 0:  # PA-1.2: every credit note counts; a credit is never a repeat
            if (ln[ORDER_REF], ln[DAY], *what) in seen_order:
                duplicate[i] = "order_line_twice"
                continue
            seen_order.add((ln[ORDER_REF], ln[DAY], *what))

    def suspended(ln: Sequence[Any]) -> bool:
        facts = partners.get(ln[PARTNER_ID])
        if facts is not None and ln[EVENT_SECOND] >= 0:  # PA-7.1: the order's recorded time against the suspension's
            at = ln[EVENT_SECOND]
            return any(s <= at and (e is None or at < e) for s, e in facts.suspended_at)
        day = ln[DAY]
        return any(s <= day and (e is None or day <= e) for s, e in (facts.suspended if facts else ()))

    def before_activation(ln: Sequence[Any]) -> bool:
        """PA-2.2: nothing accrues before activation; a credit is dated where the line it credits was."""
        facts = partners.get(ln[PARTNER_ID])
        day = ln[CREDITED_DAY] if ln[CREDITED_DAY] >= 0 else ln[DAY]
        return bool(facts and facts.activated_on is not None and day < facts.activated_on)

    def after_window(program: Any, ln: Sequence[Any]) -> bool:
        """PA-8.1 / CPA-8.1: invoiced after the window from the customer's stored first invoice."""
        facts, window = partners.get(ln[PARTNER_ID]), program.first_invoice_window
        first = dict(facts.first_invoices).get(ln[CUSTOMER]) if facts and ln[CUSTOMER] else None
        if window and not ln[CUSTOMER]:  # PA-8.1: "from that Customer": a line naming none has no window to earn in
            return True
        return bool(window and first is not None and ln[INVOICED_DAY] > window.last_ordinal(first))

    def unaccepted(program: Any, ln: Sequence[Any]) -> bool:
        """PA-8.1: first invoiced within 180 days of the acceptance; CPA-8.1: accepted before the first contact."""
        rule = program.referral_acceptance
        if rule is None:
            return False
        accepted, contacted = ln[ACCEPTED_DAY], ln[CONTACTED_DAY]
        if accepted < 0:
            return True
        facts = partners.get(ln[PARTNER_ID])
        first = dict(facts.first_invoices).get(ln[CUSTOMER]) if facts and ln[CUSTOMER] else None
        if first is None and ln[INVOICED_DAY] >= 0:
            first = ln[INVOICED_DAY]
        if rule.within_days is not None and first is not None and first - accepted > rule.within_days:
            return True
        return rule.before_first_contact and (contacted < 0 or not accepted < contacted)

    def admits(program: Any, ln: Sequence[Any]) -> bool:
        e = program.eligibility
        facts = partners.get(ln[PARTNER_ID])
        tier = facts.tier if facts else None
        kind = facts.partner_type if facts else None
        return (
            (e.families is None or ln[FAMILY] in e.families)
            and (e.skus is None or ln[SKU] in e.skus)
            and (e.kinds is None or ln[RULE_KIND] in e.kinds)
            and ln[CHANNEL] in e.channels
            and (e.tiers is None or tier in e.tiers)
            and (e.partner_types is None or kind in e.partner_types)
            and (e.max_discount_percent is None or Decimal(ln[DISCOUNT] or 0) <= e.max_discount_percent)
            and (program.basis != "paid" or ln[PAID_ON] is not None)
        )

    in_period = [period.first <= ln[MONTH_INDEX] <= period.last for ln in lines]
    # PA-8.2 / CPA-8.2: a program earned when paid counts the lines whose invoice was paid in the period
    paid_in_period = [ln[PAID_ON] is not None and period.first <= _month(ln[PAID_ON][:7]) <= period.last
                      for ln in lines]  # fmt: skip
    claimed: dict[str, set[int]] = {}
    amounts: dict[str, dict[str, Decimal]] = defaultdict(dict)
    bases: dict[str, dict[str, Decimal]] = defaultdict(dict)
    counted_any: set[int] = set()
    admitted_any: set[int] = set()
    found: set[tuple[str, str]] = set()
    for program in book.programs:
        pid = program.program_id
        eligible: set[int] = set()
        for i, ln in enumerate(lines):
            if not admits(program, ln):
                continue
            if program.period == period.kind:
                admitted_any.add(i)
            if i in duplicate or suspended(ln) or before_activation(ln):
                continue
            if any(i in claimed.get(x, ()) for ex in book.excluded_from(pid) for x in ex.earning):
                continue
            exclusive = set(ln[PROMOTIONS]) & book.exclusive_promotions
            if pid in book.excluded_by_promotion and exclusive:
                continue
            if book.mdf_funded_rule is not None and ln[MDF_FUNDED]:  # PA-7.1: MDF-funded purchases earn nothing
                continue
            if after_window(program, ln) or unaccepted(program, ln):
                continue
            eligible.add(i)
        claimed[pid] = eligible
        if program.period != period.kind:
            continue
        current: dict[str, int] = defaultdict(int)
        units: dict[str, int] = defaultdict(int)
        for i in sorted(eligible):
            ln = lines[i]
            if not (paid_in_period[i] if program.earned_when_paid is not None else in_period[i]):
                continue
            amount = ln[NET_CENTS]
            if program.model == "per_unit":
                if program.return_window_days is not None and program.return_window_from == "delivery":
                    # CPA-7.5 "not returned within 14 days of delivery": undelivered units have not earned yet
                    delivered = ln[DELIVERED_DAY]
                    if delivered < 0 or (amount < 0 and ln[DAY] - delivered > program.return_window_days):
                        continue
                elif amount < 0 and program.return_window_days is not None:
                    credited = ln[CREDITED_DAY]
                    if credited < 0 or ln[DAY] - credited > program.return_window_days:
                        continue
                units[ln[PARTNER_ID]] += ln[UNITS_MILLI]
            current[ln[PARTNER_ID]] += amount
            counted_any.add(i)
        by_month: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        if program.model == "growth":
            for i in eligible:
                by_month[lines[i][PARTNER_ID]][lines[i][MONTH_INDEX]] += lines[i][NET_CENTS]
        for partner_id in sorted(current if program.model != "per_unit" else units):
            revenue = Decimal(current[partner_id]) / 100
            bases[partner_id][pid] = revenue
            amount = _loop_amount(program, revenue, units[partner_id] // 1000, partner_id, partners, by_month, period)
            if amount is not None:
                amounts[partner_id][pid] = amount
    for i in sorted(admitted_any):
        ln = lines[i]
        if not in_period[i]:
            continue
        if i in duplicate:
            found.add((duplicate[i], ln[LINE_ID]))
        elif suspended(ln):
            found.add(("partner_suspended", ln[LINE_ID]))
    for i in counted_any:
        ln = lines[i]
        amount = ln[NET_CENTS]
        if ln[COST_CENTS] is not None and amount > 0 and (amount - ln[COST_CENTS]) * 100 < book.margin_floor * amount:
            found.add(("below_margin_floor", ln[LINE_ID]))
    for cap in book.caps:
        if not all(book.program(p).period == period.kind for p in cap.programs):
            continue
        for partner_id, by_program in amounts.items():
            total = sum((by_program.get(p, Decimal(0)) for p in cap.programs), Decimal(0))
            limits = [Decimal(cap.max_amount) / 100] if cap.max_amount is not None else []
            if cap.percent is not None and cap.of_program:
                base = max(bases[partner_id].get(cap.of_program, Decimal(0)), Decimal(0))
                limits.append(_round(base * cap.percent / 100))
            excess = total - min(limits)
            for p in cap.reduce_first:
                if excess <= 0:
                    break
                cut = min(excess, by_program.get(p, Decimal(0)))
                if p in by_program:
                    by_program[p] -= cut
                excess -= cut
    payable = {
        partner_id: {p: f"{_round(v):f}" for p, v in by_program.items()} for partner_id, by_program in amounts.items()
    }
    return {k: v for k, v in payable.items() if v}, found


def _loop_amount(
    program: Any,
    revenue: Decimal,
    units: int,
    partner_id: str,
    partners: dict[str, PartnerFacts],
    by_month: dict[str, dict[int, int]],
    period: Period,
) -> Decimal | None:
    positive = max(revenue, Decimal(0))
    if program.model == "tiered_retroactive":
        rate = [t.percent for t in program.tiers if Decimal(t.threshold) / 100 <= positive][-1]
        return _round(positive * rate / 100)
    if program.model == "tiered_incremental":
        total = Decimal(0)
        for i, tier in enumerate(program.tiers):
            low = Decimal(tier.threshold) / 100
            high = Decimal(program.tiers[i + 1].threshold) / 100 if i + 1 < len(program.tiers) else None
            inside = (positive if high is None else min(positive, high)) - low
            total += max(inside, Decimal(0)) * tier.percent / 100
        return _round(total)
    if program.model == "per_unit":
        earned = max(int(units), 0)
        return Decimal(min(earned, program.unit_cap or earned) * program.amount_per_unit) / 100
    if program.model == "commission":
        tier = partners[partner_id].tier if partner_id in partners else None
        rate = program.percent_by_tier[tier][1] if tier in program.percent_by_tier else program.percent
        return None if rate is None else _round(positive * rate / 100)
    # growth
    facts = partners.get(partner_id)
    last_year = period.year_before

    def revenue_in(p: Period) -> Decimal:
        return Decimal(sum(by_month[partner_id].get(m, 0) for m in p.months)) / 100

    if program.new_partner_rule and facts and facts.activated_on and facts.activated_on > last_year.start.toordinal():
        first = first_full_period(date.fromordinal(facts.activated_on), period.kind)
        if period.first <= first.first:
            return Decimal(0)
        baseline = max(revenue_in(first), Decimal(program.new_partner_minimum) / 100)
    else:
        baseline = revenue_in(last_year)
    threshold = (baseline * 100 * (1 + program.min_growth_percent / 100)).to_integral_value(ROUND_CEILING) / 100
    return _round((revenue - baseline) * program.percent / 100) if revenue > 0 and revenue >= threshold else Decimal(0)


# --- generated sales ----------------------------------------------------------------------------------------------
SKUS = [
    ("NW-SW-24P", "networking", "1250.00", "900.00"),
    ("NW-RTR-EDGE", "networking", "2100.00", "1470.00"),
    ("NW-FW-200", "security", "3400.00", "2380.00"),
    ("NW-SRV-R2", "hardware", "5200.00", "4160.00"),
    ("NW-CLOUD-CUH", "cloud-services", "0.12", "0.03"),
]
TIERS = ["registered", "silver", "gold", "platinum"]


def generated(
    lines: int, partners: int, seed: int = 7, period: str = "2026-Q3", duplicates: int = 0
) -> tuple[list[dict[str, Any]], dict[str, PartnerFacts], set[tuple[str, str]]]:
    """Sales of a quarter and its baseline year for `partners` partners (every feature: credits, returns, paid and
    channel lines, exclusive promotions, discounts, suspensions, thin margins), and `duplicates` planted duplicates
    of three kinds. Returns rebate lines, partners and the planted (kind, line id)."""
    rng = random.Random(seed)
    target = Period.parse(period)
    months = [*target.months, *target.year_before.months, *Period.parse("2026-Q2").months]
    facts = {}
    for n in range(partners):
        pid = f"ptr_{n:05d}"
        activated = date(2024, 1, 10) if n % 10 else date(2026, 2, 10) if n % 20 else date(2026, 8, 1)
        suspended = ((date(2026, 8, 1).toordinal(), date(2026, 8, 20).toordinal()),) if n % 97 == 5 else ()
        facts[pid] = PartnerFacts(pid, TIERS[n % 4], "reseller", activated.toordinal(), suspended)
    rows: list[dict[str, Any]] = []
    for i in range(lines):
        pid = f"ptr_{rng.randrange(partners):05d}"
        sku, family, price, cost = SKUS[rng.randrange(len(SKUS))]
        month = months[rng.randrange(len(months))]
        year, mon = divmod(month, 12)
        day = date(year, mon + 1, rng.randrange(1, 28))
        qty = rng.randrange(1, 40)
        amount = Decimal(price) * qty * (Decimal(100 - rng.randrange(0, 30)) / 100)
        row = {
            "line_id": f"inv_{i // 20:07d}.{i % 20}",
            "invoice_id": f"inv_{i // 20:07d}",
            "partner_id": pid,
            "invoice_period": f"{year:04d}-{mon + 1:02d}",
            "month": f"{year:04d}-{mon + 1:02d}",
            "kind": "shipment",
            "rule_kind": "shipment",
            "family": family,
            "sku": sku,
            "quantity": str(qty),
            "net_amount": f"{_round(amount):f}",
            "cost": f"{Decimal(cost) * qty:.2f}" if rng.random() < 0.9 else None,
            "service_date": day.isoformat(),
            "credited_line": None,
            "credited_service_date": None,
            "event_id": f"evt_{i:08d}",
            "order_ref": f"SO-{i:08d}",
            "promotions": ["HW-CLEARANCE-Q4"] if rng.random() < 0.02 else [],
            "discount_percent": f"{rng.randrange(0, 30)}.00" if rng.random() < 0.3 else None,
            "paid_on": "2026-10-01" if rng.random() < 0.6 else None,
            "channel": "resale" if rng.random() < 0.93 else rng.choice(["sales_agent", "referral"]),
            "fact_hash": "",
        }
        if rows and rng.random() < 0.05:  # a credit note against an earlier line, within or after the return window
            credited = rows[rng.randrange(len(rows))]
            if credited["kind"] == "shipment":
                back = int(credited["quantity"]) // 2 or 1
                share = Decimal(back) / Decimal(credited["quantity"])
                later = date.fromisoformat(credited["service_date"]) + timedelta(days=rng.choice([5, 20, 45]))
                row.update(
                    partner_id=credited["partner_id"],
                    kind="credit",
                    rule_kind=credited["rule_kind"],
                    family=credited["family"],
                    sku=credited["sku"],
                    quantity=str(back),
                    net_amount=f"{-_round(Decimal(credited['net_amount']) * share):f}",
                    cost=None,
                    month=credited["month"],
                    service_date=later.isoformat(),
                    credited_line=credited["line_id"],
                    credited_service_date=credited["service_date"],
                    promotions=credited["promotions"],
                    discount_percent=credited["discount_percent"],
                    paid_on=credited["paid_on"],
                    channel=credited["channel"],
                )
        rows.append(with_numbers(row))
    planted: set[tuple[str, str]] = set()
    counted = [
        r
        for r in rows
        if target.first <= _month(r["month"]) <= target.last
        and r["kind"] == "shipment"
        and r["channel"] == "resale"
        and facts[r["partner_id"]].tier != "registered"
    ]
    position = {id(r): n for n, r in enumerate(rows)}
    later: list[tuple[int, dict[str, Any]]] = []
    for n, original in enumerate(rng.sample(counted, duplicates)):
        kind = ("same_line_twice", "billed_twice", "order_line_twice")[n % 3]
        copy_ = dict(original)
        if kind != "same_line_twice":
            copy_["line_id"] = f"inv_dup{n:06d}.1"
            copy_["invoice_id"] = f"inv_dup{n:06d}"
        if kind == "order_line_twice":
            copy_["event_id"] = f"evt_dup{n:06d}"
        later.append((rng.randrange(position[id(original)] + 1, len(rows) + 1), copy_))
        planted.add((kind, copy_["line_id"]))
    for at, copy_ in sorted(later, key=lambda x: -x[0]):  # from the end, so earlier positions stay put
        rows.insert(at, copy_)
    return rows, facts, planted


def generated_rows(
    lines: int, partners: int, seed: int = 5, period: str = "2026-Q3"
) -> tuple[list[tuple[Any, ...]], dict[str, PartnerFacts]]:
    """Like `generated`, at bench scale: rows (FIELDS order) of a quarter, the months around it and its baseline
    year, built with numpy so a million lines take seconds. ~5% are credit notes against earlier lines (half the
    units, 5 to 45 days later), ~7% are sold by agents or referrals, ~60% paid, ~2% carry an exclusive promotion,
    ~30% a discount; one partner in 97 was suspended for three weeks of August."""
    import numpy as np

    rng = np.random.default_rng(seed)
    target = Period.parse(period)
    months = np.asarray([*target.months, *target.year_before.months, *Period.parse("2026-Q2").months])
    prices = np.asarray([125000, 210000, 340000, 520000, 12], dtype=np.int64)
    costs = np.asarray([90000, 147000, 238000, 416000, 3], dtype=np.int64)
    skus = [s[0] for s in SKUS]
    families = [s[1] for s in SKUS]
    partner = rng.integers(0, partners, lines)
    sku = rng.integers(0, len(SKUS), lines)
    month = months[rng.integers(0, len(months), lines)]
    day_of_month = rng.integers(1, 28, lines)
    first_days = {int(m): date(int(m) // 12, int(m) % 12 + 1, 1).toordinal() for m in months}
    day = np.asarray([first_days[int(m)] for m in month]) + day_of_month - 1
    qty = rng.integers(1, 40, lines)
    net = prices[sku] * qty * (100 - rng.integers(0, 30, lines)) // 100
    cost = np.where(rng.random(lines) < 0.9, costs[sku] * qty, -1)
    channel = np.where(rng.random(lines) < 0.93, 0, rng.integers(1, 3, lines))
    promo = rng.random(lines) < 0.02
    discount = np.where(rng.random(lines) < 0.3, rng.integers(0, 30, lines), -1)
    paid = rng.random(lines) < 0.6
    credit = (rng.random(lines) < 0.05) & (np.arange(lines) > 0)
    credited = np.where(credit, (rng.random(lines) * np.arange(lines)).astype(np.int64), -1)
    credited = np.where(credit & credit[np.maximum(credited, 0)], -1, credited)  # never a credit of a credit
    credit = credited >= 0
    src = np.where(credit, credited, np.arange(lines))
    back = np.maximum(qty[src] // 2, 1)
    whole, rest = np.divmod(net[src] * back, qty[src])
    half_even = whole + ((2 * rest > qty[src]) | ((2 * rest == qty[src]) & (whole % 2 == 1)))
    net = np.where(credit, -half_even, net)
    qty = np.where(credit, back, qty)
    cost = np.where(credit, -1, cost)
    credited_day = np.where(credit, day[src], -1)
    # Delivered two days after shipping (the credited line's delivery for a credit); every 13th line not yet.
    delivered_day = np.where(credit, day[src] + 2, day + 2)
    delivered_day = np.where(np.where(credit, src, np.arange(lines)) % 13 == 0, -1, delivered_day)
    day = np.where(credit, day[src] + rng.choice([5, 20, 45], lines), day)
    for values in (partner, sku, month, channel, promo, discount, paid):  # a credit follows the line it credits
        values[credit] = values[src[credit]]
    channels = ["resale", "sales_agent", "referral"]
    names = [f"ptr_{n:05d}" for n in range(partners)]
    line_ids = [f"inv_{i // 20:07d}.{i % 20}" for i in range(lines)]
    paid_on = [None, "2026-10-01"]
    rows = list(
        zip(
            line_ids,
            [x[: x.index(".")] for x in line_ids],
            [names[p] for p in partner.tolist()],
            [families[s] for s in sku.tolist()],
            [skus[s] for s in sku.tolist()],
            ["credit" if c else "shipment" for c in credit.tolist()],
            ["shipment"] * lines,
            [channels[c] for c in channel.tolist()],
            net.tolist(),
            [None if c < 0 else c for c in cost.tolist()],
            np.where(credit, -qty * 1000, qty * 1000).tolist(),
            month.tolist(),
            day.tolist(),
            credited_day.tolist(),
            [None if c < 0 else line_ids[c] for c in credited.tolist()],
            [["HW-CLEARANCE-Q4"] if p else [] for p in promo.tolist()],
            [None if d < 0 else f"{d}.00" for d in discount.tolist()],
            [paid_on[p] for p in paid.tolist()],
            [f"evt_{i:08d}" for i in range(lines)],
            [f"SO-{i:08d}" for i in range(lines)],
            delivered_day.tolist(),
            strict=True,
        )
    )
    facts = {}
    for n in range(partners):
        activated = date(2024, 1, 10) if n % 10 else date(2026, 2, 10) if n % 20 else date(2026, 8, 1)
        suspended = ((date(2026, 8, 1).toordinal(), date(2026, 8, 20).toordinal()),) if n % 97 == 5 else ()
        facts[names[n]] = PartnerFacts(names[n], TIERS[n % 4], "reseller", activated.toordinal(), suspended)
    return rows, facts
