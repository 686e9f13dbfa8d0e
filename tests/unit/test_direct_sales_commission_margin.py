"""Clause audit, ninth round (auditor9): the commission a direct sale earns is deducted from the direct sales' margin,
not from the referring partner's tier or its own figures (docs/clause-audit.md, "Ninth round (auditor9)").

PA-1.2: "'Invoiced Revenue' means the amounts invoiced by the Distributor to the Partner for Products and Services".
PA-8.1: "Where the Distributor accepts the referral and invoices the Customer directly within 180 days, the Partner
earns a referral commission of 5.0% of the Distributor's Invoiced Revenue from that Customer". PA-7.3: "a growth rebate
of 2.0% of incremental Qualifying Revenue". The seed's KPI table: "Revenue quality | Net realized margin by partner
tier | Shows whether channel growth is profitable". docs/kpis.md: net realized margin = net amount - cost of goods -
rebates (settled, else accrued), by tier "each tier: its partners' rebates"; a direct sale counts in the tenant's
figures and `direct_sales`, never a tier's.

Worked numbers (northwind, 2026-Q4): P1 (platinum) resells 2 x NW-SW-24P (PA-6.1 list 1,250.00, unit cost 900.00):
2,500.00, cost 1,800.00; and refers CUST-DIR-1, shipped 10 x NW-SW-24P: 12,500.00, cost 9,000.00, on the
Distributor's direct invoice. Invoices issued 2026-11-02, paid 2026-11-10: the referral commission 12,500.00 x 5.0% =
625.00 (November, PA-8.2 "the month in which the Customer paid"); P1's own Q4 growth rebate 2,500.00 x 2.0% = 50.00
(no Q4 2025 revenue).
- the tenant: 15,000.00 - 10,800.00 - (625.00 + 50.00) = 3,525.00 (23.50 %), unchanged;
- direct sales: 12,500.00 - 9,000.00 - 625.00 = 2,875.00 (23.00 %) (was: rebates_deducted 0.00, 3,500.00);
- platinum and P1: 2,500.00 - 1,800.00 - 50.00 = 650.00 (26.00 %) (was: 675.00 deducted, 25.00, 1.00 %: a commission
  on revenue the tier never counted).
"""

from __future__ import annotations

from test_commission_paid_month import _feed, _invoice_and_pay
from test_direct_sales_kpis_tax_agents import STAFF, _fold
from test_rebates_mdf_and_referral_window import P1, _ship, accepted

from memory_store import Ledger
from revgov.services import analytics


def _q4() -> Ledger:
    ledger = Ledger("2026-10-05T12:00:00Z")
    _ship(ledger, P1, "2026-10-05", [{"sku": "NW-SW-24P", "quantity": 2}], "SO-OWN-1")
    _ship(ledger, P1, "2026-10-06", [{"sku": "NW-SW-24P", "quantity": 10}], "SO-DIR-1", channel="referral",
          customer_id="CUST-DIR-1", **accepted("2026-10-06"))  # fmt: skip
    _invoice_and_pay(ledger, P1, "2026-10", "2026-11-02", "2026-11-10")
    _fold(ledger)  # the KPI rollups
    _feed(ledger)  # the running rebate accruals
    return ledger


def _figures(margin: dict) -> tuple[str, str, str, str, str | None]:
    return (margin["revenue"], margin["cost"], margin["rebates_deducted"], margin["net_margin"],
            margin["net_margin_percent"])  # fmt: skip


def test_pa_8_1_the_referral_commission_is_deducted_from_the_direct_sales_margin_not_the_partners_tier():
    ledger = _q4()
    margin = analytics.kpis(ledger.rt, STAFF, "2026-Q4", partner_id=None, tier=None)["net_realized_margin"]
    assert _figures(margin) == ("15000.00", "10800.00", "675.00", "3525.00", "23.50")
    assert _figures(margin["direct_sales"]) == ("12500.00", "9000.00", "625.00", "2875.00", "23.00")
    platinum = {t["tier"]: t for t in margin["by_tier"]}["platinum"]
    assert _figures(platinum) == ("2500.00", "1800.00", "50.00", "650.00", "26.00")
    tier = analytics.kpis(ledger.rt, STAFF, "2026-Q4", partner_id=None, tier="platinum")["net_realized_margin"]
    assert _figures(tier) == ("2500.00", "1800.00", "50.00", "650.00", "26.00")
    own = analytics.kpis(ledger.rt, STAFF, "2026-Q4", partner_id=P1, tier=None)["net_realized_margin"]
    assert _figures(own) == ("2500.00", "1800.00", "50.00", "650.00", "26.00")


def test_the_billing_what_if_starts_from_the_same_split():
    """The what-ifs' `before` is what GET /v1/kpis counts (docs/kpis.md): platinum deducts its 50.00, the tenant the
    675.00, the commission on the direct sale no tier's."""
    from revgov.domain.kpis import Period
    from revgov.services.policy_whatif_kpis import moved_kpis
    from revgov.services.tenants import load_tenant

    ledger = _q4()
    tenant, _ = load_tenant(ledger.rt, "northwind")
    kpis = moved_kpis(ledger.rt, tenant, Period.parse("2026-Q4"), [])
    assert kpis["before"]["rebates_deducted"] == "675.00"
    assert {t["tier"]: t["rebates_deducted"] for t in kpis["before"]["by_tier"]}["platinum"] == "50.00"


def test_the_rebates_what_if_deducts_the_direct_commission_from_no_tier():
    """The rebates what-if rates each side itself, then deducts as GET /v1/kpis does: the tenant's figure every
    rebate (625.00 + 50.00), the platinum tier P1's own (50.00). A draft that doubles the referral rate to 10.0 %
    (1,250.00 on 12,500.00) moves the tenant's net margin by -625.00 and platinum's by 0.00."""
    from test_policy_whatif_rebates import _draft

    from revgov.services.policy_whatif_rebates import whatif_rebates
    from revgov.services.tenants import load_tenant

    ledger = _q4()
    programs = load_tenant(ledger.rt, "northwind")[0].policy["rebates"]["programs"]
    referral = next(i for i, p in enumerate(programs) if p["id"] == "RBT-REFERRAL")
    draft_id = _draft(ledger.rt, [{"op": "test", "path": f"/rebates/programs/{referral}/id", "value": "RBT-REFERRAL"},
                                  {"op": "replace", "path": f"/rebates/programs/{referral}/percent", "value": "10.0"}])
    kpis = whatif_rebates(ledger.rt, STAFF, draft_id, {"period": "2026-Q4"})["kpis"]
    before = kpis["before"]["net_realized_margin"]
    assert before["rebates_deducted"] == "675.00"
    assert {t["tier"]: t["rebates_deducted"] for t in before["by_tier"]}["platinum"] == "50.00"
    assert kpis["net_margin_change"] == "-625.00"
    assert kpis["net_margin_change_by_tier"]["platinum"] == "0.00"
