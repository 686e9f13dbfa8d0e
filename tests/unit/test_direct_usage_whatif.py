"""Clause audit, ninth round (auditor9): the usage what-if counts a referred customer's usage as the Distributor's
direct sale, as GET /v1/kpis and the billing what-if do (docs/clause-audit.md, "Ninth round (auditor9)")."""

from __future__ import annotations

from test_policy_whatif_billing import _billed, _counted_in_kpis
from test_policy_whatif_usage import BAND_3, FINANCE, _draft
from test_rebates_mdf_and_referral_window import P1, accepted

from revgov.services.policy_whatif_usage import whatif_usage


def test_pa_8_1_the_usage_what_if_moves_a_referred_customers_usage_in_the_tenants_figure_not_the_partners_tier():
    """PA-1.2: "'Invoiced Revenue' means the amounts invoiced by the Distributor to the Partner for Products and
    Services"; PA-8.1: "Where the Distributor accepts the referral and invoices the Customer directly". SOP-3.1:
    "Monthly usage is the sum of the Partner's records for the Billing Month". SOP-3.2's example: "12,500 CUH are
    charged 1,000 x 0.12 + 9,000 x 0.10 + 2,500 x 0.08 = USD 1,220.00"; a draft lowering band 3 to 0.07 charges the
    same month 120.00 + 900.00 + 2,500 x 0.07 = 1,195.00, i.e. -25.00.

    P1 (platinum) runs NW-CLOUD-PLATFORM for itself and for CUST-DIR-1, a customer it referred (the Distributor's
    direct invoice, counted by GET /v1/kpis in the tenant's figures and no tier's: docs/kpis.md "Direct sales"); each
    meters 12,500 CUH in October. The usage what-if moves the tenant's revenue by 2 x -25.00 = -50.00 and the platinum
    tier's by -25.00 (P1's own usage only), as the billing what-if moves a direct invoice's line. Before, both
    months moved the platinum tier (-50.00): a tier figure moved by revenue never counted in it."""
    def activation(ref: str, **more: object) -> tuple[str, str, dict]:
        return ("subscription.activated", "2026-10-01T09:00:00Z", {
            "partner_id": P1, "subscription_id": f"SUB-{ref}", "sku": "NW-CLOUD-PLATFORM", "quantity": 1,
            "activated_on": "2026-10-01", "order_ref": f"SO-{ref}", **more})  # fmt: skip

    def usage(ref: str) -> tuple[str, str, dict]:
        return ("usage.reported", "2026-10-20T23:00:00Z", {"partner_id": P1, "subscription_id": f"SUB-{ref}",
                                                           "metric": "cloud_compute", "quantity": "12500",
                                                           "usage_date": "2026-10-20"})  # fmt: skip

    ledger = _billed([activation("OWN"), activation("DIR", channel="referral", customer_id="CUST-DIR-1",
                                                   **accepted("2026-10-01")),
                      usage("OWN"), usage("DIR")])  # fmt: skip
    _counted_in_kpis(ledger)
    report = whatif_usage(ledger.rt, FINANCE, _draft(ledger.rt, BAND_3), {"period": "2026-10"})
    assert [(r["before"], r["after"]) for r in report["changed"]] == [("1220.00", "1195.00")] * 2
    kpis = report["kpis"]
    assert kpis["revenue_change"] == "-50.00"
    assert kpis["by_tier"]["platinum"]["revenue_change"] == "-25.00"
