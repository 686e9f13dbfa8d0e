"""An auditor's Contoso rebate cases on the in-memory engine, written from the Contoso Channel Partner Agreement alone.

Sales go in as ERP `shipment.confirmed` events through the billing handler; the Quarter is settled by a finance key and
read back from the partner's statement. Docking stations (CT-DEV-DOCK, EUR 210.00, devices, not SPIFF-eligible) make
round amounts; laptops (CT-DEV-LAPTOP14, EUR 1,150.00) are the SPIFF-eligible item. A fixed clock: nothing depends on
today's date. Each expectation is computed by hand beside it.

CPA-7.2: "The rebate is tiered and retroactive: the rate of the highest band reached applies to the whole Qualifying
Revenue of the Quarter." (EUR 75,000.00 to 199,999.99: 1.5%; EUR 200,000.00 to 499,999.99: 2.5%.) "For example,
Qualifying Revenue of EUR 210,000.00 earns 2.5% on the full amount, a rebate of EUR 5,250.00."
CPA-7.3: "Advanced and Elite Partners earn a growth rebate of 3.0% of the amount by which the Quarter's Qualifying
Revenue exceeds the baseline, provided it exceeds the baseline by at least 8%. The baseline is the Partner's Qualifying
Revenue in the same Quarter of the previous Program Year".
CPA-7.4: "Where the Partner was not admitted for the whole of the same Quarter of the previous Program Year, the
baseline is its Qualifying Revenue in its first full Quarter after admission, and no less than EUR 50,000.00. No growth
rebate is earned up to and including the first full Quarter."
CPA-7.6: "The sum of the volume rebate and the growth rebate for a Partner for a Quarter may not exceed the lower of
4.5% of its Qualifying Revenue for the Quarter and EUR 100,000.00; where the cap applies, the growth rebate is reduced
first."
CPA-7.7(b): "Devices lines that earn the SPIFF are excluded from both the volume rebate and the growth rebate."
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from memory_store import Ledger
from rebate_runs import SECOND_KEY, settle_approved
from revgov.domain.access import Principal, Role
from revgov.domain.partners import effective_tier, held_tier
from revgov.ports import Changes, Put
from revgov.services import billing, pricing, rebates
from revgov.tenant_files import load_tenant_file
from support import ROOT

FINANCE = Principal("contoso", Role.FINANCE, "key_fin")
PARTNER = "ptr_01JBCTAVD1TR000000000000A1"
DOCK, LAPTOP = "CT-DEV-DOCK", "CT-DEV-LAPTOP14"
CERTS = {  # CPA-3.3/3.4: every certification the tier requires, valid throughout 2025-2027
    cert: {"cert_id": cert, "holder": "A. Auditor", "earned_at": "2025-01-01", "expires_at": "2027-12-31"}
    for cert in ("cert-collab-associate", "cert-secops-analyst", "cert-data-engineer", "cert-devices-field")
}


def _ledger(tier: str, activated_at: str, start: str) -> Ledger:
    ledger = Ledger(start, tenant="contoso")
    partner = {"partner_id": PARTNER, "legal_name": "Auditor Devices GmbH", "partner_type": "reseller",
               "status": "active", "tier": tier, "country": "DE", "activated_at": activated_at,
               "certifications": CERTS}  # fmt: skip
    ledger.rt.store.commit("contoso", Changes(puts=[Put("PARTNER", PARTNER, partner)]))
    return ledger


def _ship(ledger: Ledger, on: str, lines: list[tuple[str, int]]) -> None:
    ledger.clock.set(f"{on}T12:00:00Z")
    data = {"partner_id": PARTNER, "order_ref": f"SO-{on}-{len(lines)}-{lines[0][1]}", "shipped_on": on,
            "delivered_on": on, "lines": [{"sku": sku, "quantity": qty} for sku, qty in lines]}  # fmt: skip
    answer = ledger.bill("shipment.confirmed", data, occurred_at=f"{on}T10:00:00Z")
    assert answer["status"] == "processed", answer


def _statement(ledger: Ledger, period: str, settle_at: str) -> dict[str, dict[str, Any]]:
    ledger.clock.set(settle_at)
    _, settled = settle_approved(ledger.rt, FINANCE, {"period": period, "run": 1})
    statement = rebates.get_settlement(ledger.rt, FINANCE, settled["settlement_id"], PARTNER)["statement"]
    return {line["program_id"]: line for line in statement["lines"]}


def test_cpa_7_2_the_clause_example_210_000_earns_2_5_percent_on_the_full_amount():
    # 1,000 docks x 210.00 = 210,000.00 in 2026-Q3 -> band EUR 200,000.00 to 499,999.99 -> 2.5% x 210,000.00 = 5,250.00
    ledger = _ledger("authorized", "2025-01-01T00:00:00Z", "2026-08-03T10:00:00Z")
    _ship(ledger, "2026-08-03", [(DOCK, 1000)])
    lines = _statement(ledger, "2026-Q3", "2026-10-05T09:00:00Z")
    assert lines["RBT-VOLUME"]["amount"] == "5250.00"


def test_cpa_7_7_b_laptops_earning_the_spiff_do_not_count_toward_the_volume_rebate():
    # 1,000 docks (210,000.00) and 20 delivered laptops (23,000.00) in 2026-Q3. The laptops earn the SPIFF:
    # 20 x 15.00 = 300.00 (CPA-7.5), so the volume basis is the docks alone: 2.5% x 210,000.00 = 5,250.00
    # (not 2.5% x 233,000.00 = 5,825.00).
    ledger = _ledger("authorized", "2025-01-01T00:00:00Z", "2026-08-03T10:00:00Z")
    _ship(ledger, "2026-08-03", [(DOCK, 1000), (LAPTOP, 20)])
    lines = _statement(ledger, "2026-Q3", "2026-10-05T09:00:00Z")
    assert lines["RBT-DEVICES-SPIFF"]["amount"] == "300.00"
    assert lines["RBT-VOLUME"]["amount"] == "5250.00"


@pytest.mark.parametrize(
    ("docks", "growth"),
    [
        # baseline 2025-Q3: 500 docks = 105,000.00; 8% above it is 113,400.00 = 540 docks.
        (540, "252.00"),  # 113,400.00 exceeds the baseline by exactly 8%: 3.0% x 8,400.00 = 252.00
        (539, "0.00"),  # 113,190.00 is 7.8% above: no growth rebate
    ],
)
def test_cpa_7_3_growth_is_paid_from_exactly_8_percent_above_last_years_quarter(docks, growth):
    ledger = _ledger("advanced", "2025-01-01T00:00:00Z", "2025-08-04T10:00:00Z")
    _ship(ledger, "2025-08-04", [(DOCK, 500)])
    _ship(ledger, "2026-08-03", [(DOCK, docks)])
    lines = _statement(ledger, "2026-Q3", "2026-10-05T09:00:00Z")
    assert lines["RBT-GROWTH"]["amount"] == growth
    assert lines["RBT-VOLUME"]["amount"] == {540: "1701.00", 539: "1697.85"}[docks]  # 1.5% x 113,400.00 / 113,190.00


def test_cpa_7_4_a_new_partners_baseline_is_its_first_full_quarter_but_no_less_than_50_000():
    # Admitted 2026-02-15: not admitted for the whole of 2025-Q3, first full Quarter 2026-Q2.
    # 2026-Q2: 191 docks = 40,110.00; no growth rebate in the first full Quarter (CPA-7.4).
    # Baseline for 2026-Q3 = max(40,110.00, 50,000.00) = 50,000.00; 8% above = 54,000.00.
    # 2026-Q3: 258 docks = 54,180.00 -> 3.0% x (54,180.00 - 50,000.00) = 3.0% x 4,180.00 = 125.40.
    ledger = _ledger("advanced", "2026-02-15T09:00:00Z", "2026-05-04T10:00:00Z")
    _ship(ledger, "2026-05-04", [(DOCK, 191)])
    assert _statement(ledger, "2026-Q2", "2026-07-06T09:00:00Z")["RBT-GROWTH"]["amount"] == "0.00"
    _ship(ledger, "2026-08-03", [(DOCK, 258)])
    assert _statement(ledger, "2026-Q3", "2026-10-05T09:00:00Z")["RBT-GROWTH"]["amount"] == "125.40"


def test_cpa_7_6_the_cap_is_4_5_percent_and_reduces_the_growth_rebate_first():
    # Elite, 2025-Q3 baseline 500 docks = 105,000.00; 2026-Q3 2,000 docks = 420,000.00.
    # Volume: 2.5% x 420,000.00 = 10,500.00. Growth: 3.0% x (420,000.00 - 105,000.00) = 9,450.00. Sum 19,950.00.
    # Cap: lower of 4.5% x 420,000.00 = 18,900.00 and 100,000.00 -> 18,900.00; growth reduced first by 1,050.00:
    # volume 10,500.00, growth 8,400.00.
    ledger = _ledger("elite", "2025-01-01T00:00:00Z", "2025-08-04T10:00:00Z")
    _ship(ledger, "2025-08-04", [(DOCK, 500)])
    _ship(ledger, "2026-08-03", [(DOCK, 2000)])
    lines = _statement(ledger, "2026-Q3", "2026-10-05T09:00:00Z")
    assert lines["RBT-VOLUME"]["amount"] == "10500.00"
    assert lines["RBT-GROWTH"]["amount"] == "8400.00"


def test_cpa_3_6_an_advanced_partner_not_yet_downgraded_still_earns_the_growth_rebate():
    # CPA-2.1: "the program tier under Section 3 determines discounts, rebates and entitlements."
    # CPA-3.6: "A Partner that lacks a required certification for more than 60 consecutive days is downgraded to the
    # highest tier whose certification requirements it meets from the first day of the following Billing Month.
    # Entitlements are already reduced from the moment of expiry under CPA-4.3."
    # cert-secops-analyst (required for Advanced, CPA-3.3) expires 2026-09-10: on 2026-09-30 it has been lacking for
    # 20 days, so the partner still holds Advanced for 2026-Q3 (its support entitlements drop at once, CPA-4.3(a), but
    # the growth rebate is a rebate of its tier, CPA-7.3). Baseline 2025-Q3 500 docks = 105,000.00; 2026-Q3 540 docks
    # = 113,400.00 (8% above): growth 3.0% x 8,400.00 = 252.00.
    ledger = _ledger("advanced", "2025-01-01T00:00:00Z", "2025-08-04T10:00:00Z")
    partner = ledger.rt.store.get("contoso", "PARTNER", PARTNER)
    assert partner is not None
    lapsing = {"cert_id": "cert-secops-analyst", "holder": "A. Auditor", "earned_at": "2025-09-11",
               "expires_at": "2026-09-10"}  # fmt: skip
    certs = {**partner.data["certifications"], "cert-secops-analyst": lapsing}
    record = {**partner.data, "certifications": certs}
    ledger.rt.store.commit("contoso", Changes(puts=[Put("PARTNER", PARTNER, record)]))
    _ship(ledger, "2025-08-04", [(DOCK, 500)])
    _ship(ledger, "2026-08-03", [(DOCK, 540)])
    lines = _statement(ledger, "2026-Q3", "2026-10-05T09:00:00Z")
    assert lines["RBT-GROWTH"]["amount"] == "252.00"


@pytest.mark.parametrize(
    ("secops_expires", "held"),
    [
        # Lacking from 2026-07-03; more than 60 days from 2026-09-01 -> downgraded from 2026-10-01: Advanced on 09-30.
        ("2026-07-02", "advanced"),
        # Lacking from 2026-07-02; more than 60 days from 2026-08-31 -> downgraded from 2026-09-01 to Authorized.
        ("2026-07-01", "authorized"),
    ],
)
def test_cpa_3_6_the_downgrade_takes_effect_on_the_first_day_of_the_month_after_60_days(secops_expires, held):
    # CPA-3.6 quoted above; CPA-4.3(a): "all entitlements that depend on it are withdrawn" from the moment of expiry,
    # so the entitlements' tier is Authorized on 2026-09-30 in both cases.
    policy = load_tenant_file(ROOT / "tenants" / "contoso" / "tenant.yaml")["policy"]
    lapsing = {"cert_id": "cert-secops-analyst", "earned_at": "2025-07-03", "expires_at": secops_expires}
    partner = {"partner_id": PARTNER, "tier": "advanced", "certifications": {**CERTS, "cert-secops-analyst": lapsing}}
    assert held_tier(policy, partner, date(2026, 9, 30))["tier"] == held
    assert effective_tier(policy, partner, date(2026, 9, 30))["tier"] == "authorized"


def test_cpa_6_2_the_discount_cap_is_that_of_the_tier_held_until_the_cpa_3_6_downgrade():
    # CPA-2.1: "the program tier under Section 3 determines discounts, rebates and entitlements"; CPA-6.2: "The
    # combined discount on a line ... may not exceed the Partner's tier cap for the line's Product Family without
    # approval" (Advanced collaboration 9%). secops lapsed on 2026-09-10: on 2026-09-30 the partner still holds
    # Advanced (CPA-3.6), so a collaboration line is capped at 9%, not Authorized's 4%.
    policy = load_tenant_file(ROOT / "tenants" / "contoso" / "tenant.yaml")["policy"]
    lapsing = {"cert_id": "cert-secops-analyst", "earned_at": "2025-09-11", "expires_at": "2026-09-10"}
    partner = {"partner_id": PARTNER, "status": "active", "tier": "advanced",
               "certifications": {**CERTS, "cert-secops-analyst": lapsing}}  # fmt: skip
    assert pricing.partner_facts(policy, partner, "2026-09-30T12:00:00Z")["tier"] == "advanced"


def test_cpa_7_8_a_partner_with_an_invoice_more_than_45_days_overdue_has_its_settlement_withheld():
    # CPA-7.8: "A Partner whose VAT number fails validation, or that has an invoice more than 45 days overdue, has its
    # settlement withheld until resolved." CPA-6.7: "The standard payment term is 30 days from the invoice date."
    # July's invoice (1,000 docks, 210,000.00) is issued on 2026-08-01, due 2026-08-31 and never paid: on 2026-10-20
    # it is 50 days overdue, so the 2026-Q3 volume rebate (2.5% x 210,000.00 = 5,250.00) is withheld, not payable.
    ledger = _ledger("authorized", "2025-01-01T00:00:00Z", "2026-07-06T10:00:00Z")
    _ship(ledger, "2026-07-06", [(DOCK, 1000)])
    ledger.clock.set("2026-08-01T06:00:00Z")
    billing.finalize_invoice(ledger.rt, FINANCE, ledger.invoice(PARTNER, "2026-07")["invoice_id"])
    ledger.clock.set("2026-10-20T09:00:00Z")
    _, settled = settle_approved(ledger.rt, FINANCE, {"period": "2026-Q3", "run": 1})
    view = rebates.get_settlement(ledger.rt, FINANCE, settled["settlement_id"], PARTNER)
    assert view["statement"]["total"] == "5250.00"
    assert view["totals"]["payable"] == "0.00"


def test_cpa_7_5_the_spiff_is_capped_at_1000_units_per_partner_per_quarter():
    # CPA-7.5: "EUR 15.00 per unit ... The SPIFF is capped at 1,000 units, EUR 15,000.00, per Partner per Quarter."
    # 1,050 laptops delivered and kept in 2026-Q3: 1,050 x 15.00 = 15,750.00, capped at 1,000 units = 15,000.00.
    ledger = _ledger("authorized", "2025-01-01T00:00:00Z", "2026-08-03T10:00:00Z")
    _ship(ledger, "2026-08-03", [(LAPTOP, 1050)])
    assert _statement(ledger, "2026-Q3", "2026-10-05T09:00:00Z")["RBT-DEVICES-SPIFF"]["amount"] == "15000.00"


def test_cpa_14_2_the_settlement_is_audited_naming_the_rules_and_clauses_it_applied():
    # CPA-14.2: "Each automated decision records the rules and clauses applied and can be explained on request."
    # CPA-12.1: "Contoso keeps an audit trail of every automated decision and approval". The 2026-Q3 run of the
    # CPA-7.2 example above (5,250.00 volume rebate) is one audit record naming RBT-VOLUME and CPA-7.2, by the finance
    # key that ran it.
    ledger = _ledger("authorized", "2025-01-01T00:00:00Z", "2026-08-03T10:00:00Z")
    _ship(ledger, "2026-08-03", [(DOCK, 1000)])
    _statement(ledger, "2026-Q3", "2026-10-05T09:00:00Z")
    # COP-7.2: the run is "approved by a second finance queue member": one record when it is prepared (by the finance
    # key that ran it) and one when it is approved and issued (by the second member), each naming the rules applied.
    runs = [r for r in ledger.rt.store.audit_records("contoso") if "RBT-SETTLEMENT" in (r.get("rule_ids") or [])]
    assert [r["action"] for r in runs] == ["rebate_settlement.prepared", "rebate_settlement.settled"]
    for run in runs:
        assert "RBT-VOLUME" in run["rule_ids"] and "CPA-7.2" in run["clauses"] and "COP-7.2" in run["clauses"]
    assert "key_fin" in str(runs[0]["actor"]) and SECOND_KEY in str(runs[1]["actor"])


def test_cpa_7_6_the_eur_100_000_cap_takes_all_growth_then_reduces_the_volume_rebate():
    # Elite, 2025-Q3 baseline 500 docks = 105,000.00; 2026-Q3 14,300 docks = 3,003,000.00.
    # Volume 3.5% x 3,003,000.00 = 105,105.00; growth 3.0% x 2,898,000.00 = 86,940.00; sum 192,045.00.
    # Cap: lower of 4.5% x 3,003,000.00 = 135,135.00 and 100,000.00 -> 100,000.00. "The growth rebate is reduced
    # first": growth 0.00, then the volume rebate to 100,000.00 ("Amounts above a cap are forfeited").
    ledger = _ledger("elite", "2025-01-01T00:00:00Z", "2025-08-04T10:00:00Z")
    _ship(ledger, "2025-08-04", [(DOCK, 500)])
    _ship(ledger, "2026-08-03", [(DOCK, 14300)])
    lines = _statement(ledger, "2026-Q3", "2026-10-05T09:00:00Z")
    assert (lines["RBT-GROWTH"]["amount"], lines["RBT-VOLUME"]["amount"]) == ("0.00", "100000.00")
