"""A generated year of ERP events for N partners (subscriptions activated and cancelled through the year, shipments
between them), delivered in time order through the billing use case, with the scheduled billing run on the first of
every month; and the contract's own arithmetic to check the result against (PA-10.2 to PA-10.4, SOP-2.3/2.4).

Used by tests/unit/test_billing_year.py and the `billing_run` section of tests/perf/bench.py.
"""

from __future__ import annotations

import calendar
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from memory_store import Ledger

SUBSCRIPTION_PRICES = {"NW-NET-MGMT": Decimal("99.00"), "NW-CLOUD-PLATFORM": Decimal("310.00"),
                       "NW-SEC-SUITE": Decimal("300.00")}  # fmt: skip


def partner_id(n: int) -> str:
    return f"ptr_01JBYEAR{n:018d}"


@dataclass
class Subscription:
    subscription_id: str
    partner_id: str
    sku: str
    quantity: int
    activated_on: date
    cancelled_on: date | None = None  # effective day
    cancel_requested_on: date | None = None
    changed_on: date | None = None  # a quantity change effective that day
    new_quantity: int | None = None

    @property
    def unit(self) -> Decimal:
        return SUBSCRIPTION_PRICES[self.sku]

    def quantity_on(self, day: date) -> int:
        """PA-10.3: an increase counts "from the date the increase takes effect"; SOP-2.4: a reduction "takes effect
        at the end of that day"."""
        if self.changed_on is None or self.new_quantity is None:
            return self.quantity
        increase = self.new_quantity > self.quantity
        in_force = self.changed_on <= day if increase else self.changed_on < day
        return self.new_quantity if in_force else self.quantity


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def expected_net(sub: Subscription, year: int, month: int) -> Decimal:
    """PA-10.2: billed in advance for the Billing Month; PA-10.3: "monthly price multiplied by the number of
    remaining days and divided by the number of days in the month", activation day included; PA-10.4: credit
    "monthly price multiplied by the number of full days after the effective date of cancellation to the end of
    the period, divided by the number of days in the month". Each rounded once, half to even (PA-1.3)."""
    days = calendar.monthrange(year, month)[1]
    first, last = date(year, month, 1), date(year, month, days)
    if sub.activated_on > last or (sub.cancelled_on and sub.cancelled_on < first):
        return Decimal(0)
    start = max(first, sub.activated_on)
    charge = _cents(sub.unit * sub.quantity_on(start) * ((last - start).days + 1) / days)
    change = Decimal(0)
    if (
        sub.changed_on
        and sub.new_quantity
        and first <= sub.changed_on <= last
        and sub.quantity_on(start) == sub.quantity
    ):
        delta = sub.new_quantity - sub.quantity
        from_day = sub.changed_on if delta > 0 else sub.changed_on + timedelta(days=1)
        if from_day <= last:
            change = _cents(sub.unit * delta * ((last - from_day).days + 1) / days)
    credit = Decimal(0)
    if sub.cancelled_on and sub.cancelled_on <= last:
        final = sub.new_quantity or sub.quantity
        credit = _cents(sub.unit * final * (last - sub.cancelled_on).days / days)
    return charge + change - credit


def active_months(sub: Subscription, year: int) -> list[str]:
    """Every Billing Month of the year the subscription was active on at least one day."""
    months = []
    for month in range(1, 13):
        first = date(year, month, 1)
        last = date(year, month, calendar.monthrange(year, month)[1])
        if sub.activated_on <= last and not (sub.cancelled_on and sub.cancelled_on < first):
            months.append(f"{year}-{month:02d}")
    return months


def generate(
    partners: int, year: int = 2026, seed: int = 23
) -> tuple[list[dict[str, Any]], list[Subscription], list[tuple[str, str, dict[str, Any]]]]:
    """Partner records, subscriptions, and the year's events as (occurred_at, detail_type, data), in time order."""
    rng = random.Random(seed)
    records, subs, events = [], [], []
    for n in range(partners):
        pid = partner_id(n)
        records.append({"partner_id": pid, "legal_name": f"Year Partner {n}", "partner_type": "msp",
                        "status": "active", "tier": "silver", "certifications": {}})  # fmt: skip
        for k in range(rng.randint(1, 3)):
            activated = date(year, 1, 1) + timedelta(days=rng.randint(0, 330))
            sub = Subscription(f"SUB-Y{n:03d}-{k}", pid, rng.choice(sorted(SUBSCRIPTION_PRICES)), rng.randint(1, 5),
                               activated)  # fmt: skip
            if rng.random() < 0.35:
                requested = activated + timedelta(days=rng.randint(20, 200))
                if requested.year == year:
                    later = rng.random() < 0.3  # the partner names a later effective date (SOP-2.4)
                    sub.cancel_requested_on = requested
                    sub.cancelled_on = requested + timedelta(days=rng.randint(1, 25)) if later else requested
            end = sub.cancelled_on or date(year, 12, 31)
            if rng.random() < 0.3 and (end - activated).days > 10:
                sub.changed_on = activated + timedelta(days=rng.randint(5, (end - activated).days - 1))
                sub.new_quantity = rng.choice([q for q in range(1, 7) if q != sub.quantity])
            subs.append(sub)
            events.append((f"{activated}T09:00:00Z", "subscription.activated",
                           {"partner_id": pid, "subscription_id": sub.subscription_id, "sku": sub.sku,
                            "quantity": sub.quantity, "activated_on": activated.isoformat(),
                            "order_ref": f"SO-{sub.subscription_id}"}))  # fmt: skip
            if sub.changed_on and sub.new_quantity:
                known = min(sub.changed_on, sub.cancel_requested_on or sub.changed_on)  # before any cancellation
                events.append((f"{known}T07:00:00Z", "subscription.changed",
                               {"partner_id": pid, "subscription_id": sub.subscription_id,
                                "quantity": sub.new_quantity, "effective_on": sub.changed_on.isoformat()}))  # fmt: skip
            if sub.cancel_requested_on and sub.cancelled_on:
                events.append((f"{sub.cancel_requested_on}T15:00:00Z", "subscription.cancelled",
                               {"partner_id": pid, "subscription_id": sub.subscription_id,
                                "effective_on": sub.cancelled_on.isoformat()}))  # fmt: skip
        for _ in range(rng.randint(0, 3)):
            shipped = date(year, 1, 1) + timedelta(days=rng.randint(0, 360))
            events.append((f"{shipped}T11:00:00Z", "shipment.confirmed",
                           {"partner_id": pid, "order_ref": f"SO-SHIP-{n}-{shipped}", "shipped_on": shipped.isoformat(),
                            "lines": [{"sku": "NW-SW-24P", "quantity": rng.randint(1, 4)}]}))  # fmt: skip
    events.sort(key=lambda e: e[0])
    return records, subs, events


def replay_year(partners: int, year: int = 2026) -> tuple[Ledger, list[Subscription]]:
    """The year delivered: each event an hour after it occurred, the billing run at 00:05 on each first."""
    from revgov.services import subscription_billing

    records, subs, events = generate(partners, year)
    ledger = Ledger(f"{year}-01-01T00:00:00Z")
    ledger.add_partners(records)
    runs = [f"{year}-{m:02d}-01T00:05:00Z" for m in range(1, 13)]
    timeline = sorted([(at, "run", {}) for at in runs] + events, key=lambda e: e[0])
    for at, what, data in timeline:
        if what == "run":
            ledger.clock.set(at)
            subscription_billing.run(ledger.rt, ledger.tenant_id)
            continue
        ledger.clock.set(at)
        ledger.clock.advance(hours=1)
        answer = ledger.bill(what, data, occurred_at=at)
        assert answer["status"] == "processed", (what, data, answer)
    return ledger, subs
