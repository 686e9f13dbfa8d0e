"""Auditor 4: Contoso billing computed by hand from the clauses (COP-2.x, COP-3.x, CPA-10.x, CPA-1.3), driven through
the billing use cases with signed-event payloads on the in-memory engine (tests/memory_store.py Ledger), fixed clock.

CPA-1.3: "All amounts are in euro (EUR). Calculations use exact decimal arithmetic and are rounded once per line to two
decimal places, half to even."
"""

from __future__ import annotations

from typing import Any

import pytest

from memory_store import Ledger
from revgov.domain.access import Principal, Role
from revgov.ports import Changes, Put
from revgov.services import billing

PARTNER = "ptr_01JBCTAVD4TR000000000000A4"
FAMILY_CERTS = ("cert-collab-associate", "cert-secops-analyst", "cert-data-engineer", "cert-devices-field")
CERTS = {c: {"cert_id": c, "holder": "A. Auditor", "earned_at": "2025-01-01", "expires_at": "2029-12-31"}
         for c in FAMILY_CERTS}  # fmt: skip
FINANCE = Principal("contoso", Role.FINANCE, "key_fin_ct4")


def _ledger(at: str) -> Ledger:
    ledger = Ledger(at, tenant="contoso")
    partner = {"partner_id": PARTNER, "legal_name": "Auditor Vier GmbH", "partner_type": "msp", "status": "active",
               "tier": "elite", "country": "DE", "activated_at": "2025-01-01T00:00:00Z",
               "certifications": CERTS}  # fmt: skip
    ledger.rt.store.commit("contoso", Changes(puts=[Put("PARTNER", PARTNER, partner)]))
    return ledger


def _activate(ledger: Ledger, sub: str, sku: str, on: str, *, quantity: int = 1, at: str | None = None) -> dict:
    data = {"partner_id": PARTNER, "subscription_id": sub, "sku": sku, "quantity": quantity, "activated_on": on,
            "order_ref": f"SO-{sub}"}  # fmt: skip
    answer = ledger.bill("subscription.activated", data, occurred_at=at or f"{on}T09:00:00Z")
    assert answer["status"] == "processed", answer
    return answer


def _lines(ledger: Ledger, period: str, sku: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
    return [
        ln
        for ln in ledger.invoice(PARTNER, period)["lines"]
        if (sku is None or ln.get("sku") == sku) and (kind is None or ln["kind"] == kind)
    ]


def _usage_ledger() -> Ledger:
    ledger = _ledger("2026-11-01T08:00:00Z")
    _activate(ledger, "SUB-DATA", "CT-DATA-WORKSPACE", "2026-11-01", at="2026-11-01T07:00:00Z")
    return ledger


def _usage(ledger: Ledger, metric: str, quantity: str, used_on: str, received_at: str) -> None:
    ledger.clock.set(received_at)
    data = {"partner_id": PARTNER, "subscription_id": "SUB-DATA", "metric": metric, "quantity": quantity,
            "usage_date": used_on}  # fmt: skip
    answer = ledger.bill("usage.reported", data, occurred_at=received_at)
    assert answer["status"] == "processed", answer


# COP-3.2: "| 1 | first 500 | 0.40 | 2 | next 4,500 (501 to 5,000) | 0.32 | 3 | next 20,000 (5,001 to 25,000) | 0.25 |
# 4 | above 25,000 | 0.18 |" "each band is charged at its own rate only"
DPU = [
    ("1", "0.40"),
    ("500", "200.00"),
    ("501", "200.32"),
    ("5000", "1640.00"),  # 200.00 + 4,500 x 0.32
    ("5001", "1640.25"),
    ("8000", "2390.00"),  # COP-3.2's own example
    ("25000", "6640.00"),  # 1,640.00 + 20,000 x 0.25
    ("25001", "6640.18"),
    ("30000", "7540.00"),  # 6,640.00 + 5,000 x 0.18
    ("499.5", "200.00"),  # COP-3.1 "rounded up to a whole unit": 500
]


@pytest.mark.parametrize(("dpu", "amount"), DPU)
def test_cop_3_2_processing_is_rated_graduated_at_every_band_boundary(dpu: str, amount: str) -> None:
    # CPA-10.2: "Usage-based services are billed in arrears for the previous Billing Month": November's DPU are a line
    # of the December invoice with November as its service period.
    ledger = _usage_ledger()
    _usage(ledger, "data_processing", dpu, "2026-11-10", "2026-11-11T06:00:00Z")
    (line,) = _lines(ledger, "2026-12", "CT-DATA-DPU")
    assert (line["kind"], line["amount"]) == ("usage", amount)
    assert line["service_period"] == {"start": "2026-11-01", "end": "2026-11-30"}
    assert "COP-3.2" in line["clauses"]
    assert ledger.invoice(PARTNER, "2026-12")["currency"] == "EUR"


# COP-3.3: "| 1 | first 1,000 | 0.05 | 2 | next 9,000 (1,001 to 10,000) | 0.04 | 3 | above 10,000 | 0.03 |"
# COP-3.1: GB-month is "the average stored volume over the month" and "Source systems send usage records daily": each
# level below is stored every day of November (30 daily records), so the month's average is the level itself.
STORAGE = [
    ("1000", "50.00"),
    ("1001", "50.04"),
    ("10000", "410.00"),  # 50.00 + 9,000 x 0.04
    ("10001", "410.03"),
    ("15000", "560.00"),  # COP-3.3's own example
    ("0.2", "0.05"),  # one whole GB-month
]


@pytest.mark.parametrize(("gb", "amount"), STORAGE)
def test_cop_3_3_storage_is_rated_graduated_at_every_band_boundary(gb: str, amount: str) -> None:
    ledger = _usage_ledger()
    for day in range(1, 31):
        _usage(ledger, "data_storage", gb, f"2026-11-{day:02d}", f"2026-11-{day:02d}T23:00:00Z")
    (line,) = _lines(ledger, "2026-12", "CT-DATA-STORAGE")
    assert line["amount"] == amount and "COP-3.3" in line["clauses"]


def test_cop_3_4_metrics_are_rated_separately_and_bands_restart_each_month() -> None:
    # COP-3.4: "Bands restart each month and are separate per metric." 400 DPU in November = 160.00 and 400 DPU in
    # December = 160.00 (not 100 x 0.40 + 300 x 0.32); 1,000 GB stored on one day of November (COP-3.1 "the average
    # stored volume over the month": 1,000 / 30 = 33.3 -> 34 GB-month) = 34 x 0.05 = 1.70 in storage's own band 1.
    ledger = _usage_ledger()
    _usage(ledger, "data_processing", "400", "2026-11-10", "2026-11-11T06:00:00Z")
    _usage(ledger, "data_storage", "1000", "2026-11-10", "2026-11-11T07:00:00Z")
    _usage(ledger, "data_processing", "400", "2026-12-10", "2026-12-11T06:00:00Z")
    assert [ln["amount"] for ln in _lines(ledger, "2026-12", "CT-DATA-DPU")] == ["160.00"]
    assert [ln["amount"] for ln in _lines(ledger, "2026-12", "CT-DATA-STORAGE")] == ["1.70"]
    assert [ln["amount"] for ln in _lines(ledger, "2027-01", "CT-DATA-DPU")] == ["160.00"]


def test_cop_3_4_an_adjustment_is_the_re_rated_month_less_what_was_invoiced() -> None:
    # COP-3.4: "Adjustments for a previous month are rated as the difference between the re-rated month and the amount
    # already invoiced." November 4,900 DPU = 200.00 + 4,400 x 0.32 = 1,608.00 on December's invoice, issued. 200 DPU
    # more for November received 10 December (after COP-3.1's 3-day cut-off): November re-rated at 5,100 DPU =
    # 1,640.00 + 100 x 0.25 = 1,665.00, the adjustment 57.00 (not 200 x 0.32 = 64.00), November's service period,
    # rated "the following month" (COP-7.1: on the 4th calendar day, posted to the following month's open invoice):
    # the January invoice.
    ledger = _usage_ledger()
    _usage(ledger, "data_processing", "4900", "2026-11-10", "2026-11-11T06:00:00Z")
    ledger.clock.set("2027-01-02T10:00:00Z")
    billing.finalize_invoice(ledger.rt, FINANCE, ledger.invoice(PARTNER, "2026-12")["invoice_id"])
    _usage(ledger, "data_processing", "200", "2026-11-30", "2026-12-10T06:00:00Z")
    (adjustment,) = _lines(ledger, "2027-01", "CT-DATA-DPU")
    assert (adjustment["kind"], adjustment["amount"]) == ("usage_adjustment", "57.00")
    assert adjustment["service_period"] == {"start": "2026-11-01", "end": "2026-11-30"}


# --- COP-2.3 / CPA-10.2 / CPA-10.3: proration and cancellation credits ----------------------------------------------
PRORATION = [
    # COP-2.3: "EUR 45.00 per month activated on 2026-06-11 (30 days) is charged 45.00 x 20 / 30 = EUR 30.00"
    ("CT-COLLAB-SEAT", "2026-06-11", 1, "30.00"),
    # A 31-day month: 120.00 from 2026-07-11 = 21 days: 120.00 x 21 / 31 = 81.2903... = 81.29
    ("CT-SEC-XDR", "2026-07-11", 1, "81.29"),
    # Last day of a 31-day month: 600.00 x 1 / 31 = 19.3548... = 19.35
    ("CT-DATA-WORKSPACE", "2026-12-31", 1, "19.35"),
    # Leap February 2028, last day: 600.00 x 1 / 29 = 20.6896... = 20.69;
    # February 2027: 600.00 / 28 = 21.4285... = 21.43
    ("CT-DATA-WORKSPACE", "2028-02-29", 1, "20.69"),
    ("CT-DATA-WORKSPACE", "2027-02-28", 1, "21.43"),
    # First day: the whole month (CPA-10.2 "from the activation date to the last day of the month, both included")
    ("CT-COLLAB-SEAT", "2026-07-01", 3, "135.00"),
    # 7 seats of 45.00 from 2026-07-17 = 15 days: 315.00 x 15 / 31 = 152.4193... = 152.42 (rounded once per line:
    # 7 x 21.77 = 152.39 would be rounding per seat)
    ("CT-COLLAB-SEAT", "2026-07-17", 7, "152.42"),
]


@pytest.mark.parametrize(("sku", "on", "quantity", "amount"), PRORATION)
def test_cop_2_3_activation_is_prorated_from_the_activation_day_both_included(
    sku: str, on: str, quantity: int, amount: str
) -> None:
    ledger = _ledger(f"{on}T10:00:00Z")
    _activate(ledger, "SUB-P", sku, on, quantity=quantity)
    (line,) = _lines(ledger, on[:7], sku)
    assert (line["kind"], line["amount"], line["service_period"]["start"]) == ("subscription", amount, on)


CREDITS = [
    # COP-2.3: "the same subscription cancelled with effect from the end of 2026-06-25 is credited 45.00 x 5 / 30 =
    # EUR 7.50."
    ("CT-COLLAB-SEAT", "2026-06-01", "2026-06-25", "-7.50"),
    # 31-day month: 120.00 cancelled at the end of 2026-07-20 credits 21..31 July = 11 days: 120.00 x 11 / 31 =
    # 42.5806... = 42.58
    ("CT-SEC-XDR", "2026-07-01", "2026-07-20", "-42.58"),
]


@pytest.mark.parametrize(("sku", "activated", "effective", "credit"), CREDITS)
def test_cpa_10_3_cancellation_credits_only_the_full_days_after_the_effective_day(
    sku: str, activated: str, effective: str, credit: str
) -> None:
    ledger = _ledger(f"{activated}T10:00:00Z")
    _activate(ledger, "SUB-X", sku, activated)
    ledger.clock.set(f"{effective}T18:00:00Z")
    cancel = {"partner_id": PARTNER, "subscription_id": "SUB-X", "effective_on": effective}
    assert ledger.bill("subscription.cancelled", cancel, occurred_at=f"{effective}T17:00:00Z")["status"] == "processed"
    (charge,) = _lines(ledger, activated[:7], sku, "subscription")
    (credited,) = _lines(ledger, activated[:7], sku, "credit")
    assert credited["amount"] == credit and credited["references_line"] == charge["line_id"]


def test_cpa_10_3_a_cancellation_on_the_last_day_of_a_31_day_month_credits_nothing() -> None:
    # CPA-10.3: "credits the unused full days after the effective day to the end of the month": none after 31 July.
    ledger = _ledger("2026-07-01T10:00:00Z")
    _activate(ledger, "SUB-X", "CT-SEC-XDR", "2026-07-01")
    ledger.clock.set("2026-07-31T18:00:00Z")
    cancel = {"partner_id": PARTNER, "subscription_id": "SUB-X", "effective_on": "2026-07-31"}
    assert ledger.bill("subscription.cancelled", cancel, occurred_at="2026-07-31T17:00:00Z")["status"] == "processed"
    assert not _lines(ledger, "2026-07", "CT-SEC-XDR", "credit")


# --- CPA-10.5: milestones ------------------------------------------------------------------------------------------
def test_cpa_10_5_milestones_are_20_50_30_percent_of_the_statement_of_work_each_rounded_once() -> None:
    # CPA-10.5: "unless the statement of work says otherwise, 20% at kickoff, 50% at go-live and 30% at acceptance."
    # CPA-1.3: rounded once per line, half to even. SOW value EUR 12,345.67: kickoff 2,469.134 = 2,469.13; go-live
    # 6,172.835 = 6,172.84 (half to even: 3 is odd, up); acceptance 3,703.701 = 3,703.70. Each on the invoice of the
    # month it was accepted, its service period the acceptance day.
    ledger = _ledger("2026-09-01T10:00:00Z")
    steps = (("kickoff", "2026-09-01", "2469.13"), ("go_live", "2026-10-15", "6172.84"),
             ("acceptance", "2026-11-30", "3703.70"))  # fmt: skip
    for milestone, accepted, _ in steps:
        ledger.clock.set(f"{accepted}T12:00:00Z")
        data = {"partner_id": PARTNER, "sow_ref": "SOW-A4-1", "service": "implementation", "family": "data-platform",
                "milestone": milestone, "sow_value": "12345.67", "accepted_on": accepted}  # fmt: skip
        answer = ledger.bill("service.completed", data, occurred_at=f"{accepted}T11:00:00Z")
        assert answer["status"] == "processed", answer
    for milestone, accepted, amount in steps:
        (line,) = _lines(ledger, accepted[:7], kind="milestone")
        assert (line["detail"]["milestone"], line["amount"]) == (milestone, amount)
        assert line["service_period"] == {"start": accepted, "end": accepted}
        assert "CPA-10.5" in line["clauses"] and line["order_ref"] == "SOW-A4-1"


# --- COP-2.1 / CPA-10.6: invoice timeliness ------------------------------------------------------------------------
@pytest.mark.parametrize(("posted_at", "breach"), [("2026-10-07T09:00:00Z", False), ("2026-10-07T09:00:01Z", True)])
def test_cop_2_1_a_device_delivery_posted_after_48_hours_is_an_invoice_sla_breach_for_finance(
    posted_at: str, breach: bool
) -> None:
    # COP-2.1: "The contractual invoice SLA is 48 hours from the time a device delivery ... occurred ... at 48 hours
    # an invoice_sla_breach exception is raised". COP-4.1: "| invoice_sla_breach | finance | 8 |".
    ledger = _ledger(posted_at)
    # CPA-10.2 "devices are billed on delivery" (reviewer finding 2): the ERP reports the delivery, the day shipped
    data = {"partner_id": PARTNER, "order_ref": "SO-A4-SLA", "shipped_on": "2026-10-05", "delivered_on": "2026-10-05",
            "lines": [{"sku": "CT-DEV-DOCK", "quantity": 2}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", data, occurred_at="2026-10-05T09:00:00Z")["status"] == "processed"
    (line,) = _lines(ledger, "2026-10", "CT-DEV-DOCK")
    assert line["amount"] == "420.00"  # 2 x 210.00
    found = [c for c in ledger.exceptions() if c.get("category") == "invoice_sla_breach"]
    assert bool(found) is breach
    if breach:
        (case,) = found
        assert (case["queue"], case["sla_hours"]) == ("finance", 8)


def test_cpa_1_3_a_device_line_is_rounded_once_half_to_even() -> None:
    # CPA-1.3 "rounded once per line to two decimal places, half to even": CT-DEV-DOCK EUR 210.00 less 12.35% =
    # 210.00 x 0.8765 = 184.065 -> 184.06 (6 is even; half-up would give 184.07).
    ledger = _ledger("2026-10-05T10:00:00Z")
    # CPA-10.2 "devices are billed on delivery" (reviewer finding 2): the ERP reports the delivery, the day shipped
    data = {"partner_id": PARTNER, "order_ref": "SO-A4-HE", "shipped_on": "2026-10-05", "delivered_on": "2026-10-05",
            "lines": [{"sku": "CT-DEV-DOCK", "quantity": 1, "discount_percent": "12.35"}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", data, occurred_at="2026-10-05T09:00:00Z")["status"] == "processed"
    assert [ln["amount"] for ln in _lines(ledger, "2026-10", "CT-DEV-DOCK")] == ["184.06"]


def test_cpa_10_1_each_invoice_line_shows_vat_or_the_reverse_charge_notice() -> None:
    ledger = _ledger("2026-10-05T10:00:00Z")
    # CPA-10.2 "devices are billed on delivery" (reviewer finding 2): the ERP reports the delivery, the day shipped
    data = {"partner_id": PARTNER, "order_ref": "SO-A4-VAT", "shipped_on": "2026-10-05", "delivered_on": "2026-10-05",
            "lines": [{"sku": "CT-DEV-DOCK", "quantity": 1}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", data, occurred_at="2026-10-05T09:00:00Z")["status"] == "processed"
    (line,) = _lines(ledger, "2026-10", "CT-DEV-DOCK")
    assert any(key in line for key in ("vat", "tax", "reverse_charge", "vat_treatment"))
    # No VIES check is recorded for the partner: COP-2.2 "otherwise VAT is charged at the applicable rate" (the
    # supplier's 21 %, policy.billing.tax): 210.00 x 21 % = 44.10. The reverse charge: tests/unit/test_invoice_tax.py.
    assert (line["tax"]["treatment"], line["tax"]["rate"], line["tax"]["amount"]) == ("vat", "21", "44.10")


def test_cop_2_1_a_monthly_invoice_not_issued_48_hours_after_month_end_is_a_breach_for_finance() -> None:
    # COP-2.1: "monthly invoices are issued within 48 hours after month end ... at 48 hours an invoice_sla_breach
    # exception is raised". COP-4.1: "| invoice_sla_breach | finance | 8 |". October ends 1 November 00:00: issued by
    # 3 November 00:00.
    from revgov.services import month_close

    ledger = _ledger("2026-10-12T10:00:00Z")
    # CPA-10.2 "devices are billed on delivery" (reviewer finding 2): the ERP reports the delivery, the day shipped
    data = {"partner_id": PARTNER, "order_ref": "SO-A4-CLOSE", "shipped_on": "2026-10-12", "delivered_on": "2026-10-12",
            "lines": [{"sku": "CT-DEV-DOCK", "quantity": 1}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", data, occurred_at="2026-10-12T09:00:00Z")["status"] == "processed"
    ledger.clock.set("2026-11-03T00:00:00Z")
    assert month_close.watch(ledger.rt, "contoso")["opened"] == 0
    ledger.clock.set("2026-11-03T00:00:01Z")
    assert month_close.watch(ledger.rt, "contoso")["opened"] == 1
    (case,) = [c for c in ledger.exceptions() if c["category"] == "invoice_sla_breach"]
    assert (case["queue"], case["sla_hours"], case["partner_id"]) == ("finance", 8, PARTNER)
    assert "COP-2.1" in [r["clause"] for r in case["reasons"]]
