"""Reviewer round: a certification renewed keeps counting for the days it was already valid.

PA-4.2: "A certification is valid from the date it is earned or renewed until the end of the validity period shown in
PA-4.1 [...]. Renewal before expiry extends validity by a full validity period from the previous expiry date."
PA-7.2: "Eligibility is determined by the Partner's tier on the last day of the Quarter." PA-3.7: "if a Partner does
not hold a certification required for its tier for more than 90 consecutive days, the Partner is downgraded [...]
effective on the first day of the following Billing Month."

Found over HTTP: the demo Silver reseller, certified in cert-network-core since 2024-11-02 and renewed on 2026-10-03
(before its expiry on 2026-11-01), showed tier "registered" in its 2026-Q3 accrual and earned no volume or growth
rebate on USD 100,800.00 invoiced in September (expected 1.0% = 1,008.00 and 2.0% = 2,016.00): recording the renewal
replaced the certification record, so every day before the renewal's `earned_at` read as "not yet earned". A quarter
is settled after it ends (PA-7.8: "within 45 days after the end of each Quarter"), so an early renewal in the weeks
after a quarter's end took that quarter's rebates away.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from memory_store import Ledger
from rebate_runs import settle_approved
from revgov.domain import partners as partner_rules
from revgov.domain.access import Principal, Role
from revgov.ports import Changes, Put
from revgov.services import rebates
from revgov.tenant_files import load_tenant_file
from support import ROOT

POLICY = load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml")["policy"]
OPS = Principal("northwind", Role.CHANNEL_OPS, "key_ops")
NOW = "2026-12-07T09:00:00Z"


def _gold(*certifications: tuple[str, str]) -> dict[str, Any]:
    """An active Gold reseller with the certifications recorded in this order (id, earned_at)."""
    partner: dict[str, Any] = {"partner_id": "ptr_01JBNWPARTNER0000000000009", "partner_type": "reseller",
                               "status": "active", "tier": "gold", "certifications": {}}  # fmt: skip
    for cert_id, earned in certifications:
        partner = partner_rules.record_certification(
            POLICY, partner, {"certification_id": cert_id, "earned_at": earned}, by=OPS, at=NOW
        )
    return partner


def _tier(partner: dict[str, Any], day: str) -> tuple[str | None, str | None]:
    held = partner_rules.held_tier(POLICY, partner, date.fromisoformat(day))
    effective = partner_rules.effective_tier(POLICY, partner, date.fromisoformat(day))
    return (held or {}).get("tier"), (effective or {}).get("tier")


def test_pa_4_2_a_renewal_before_expiry_keeps_the_days_already_certified():
    """Both of Gold's certifications earned 2024-11-02 (24 months: valid through 2026-11-01), renewed 2026-10-03,
    before that expiry: valid through 2028-11-01 and, without a gap, on every day since 2024-11-02. On 2026-09-30,
    the last day of 2026-Q3, the partner held Gold (PA-7.2) and had Gold's entitlements (PA-4.3(a))."""
    partner = _gold(("cert-network-core", "2024-11-02"), ("cert-security-pro", "2024-11-02"),
                    ("cert-network-core", "2026-10-03"), ("cert-security-pro", "2026-10-03"))  # fmt: skip
    assert partner["certifications"]["cert-network-core"]["expires_at"] == "2028-11-01"
    assert _tier(partner, "2026-09-30") == ("gold", "gold")
    assert _tier(partner, "2025-03-31") == ("gold", "gold")
    assert partner_rules.valid_certifications(partner, date(2026, 9, 30)) == {"cert-network-core", "cert-security-pro"}
    assert _tier(partner, "2024-11-01") == ("registered", "registered")  # before it was first earned (PA-3.2: none)


def test_pa_3_7_a_renewal_after_a_short_lapse_keeps_the_tier_held_before_and_during_the_grace():
    """cert-security-pro earned 2024-11-02 (valid through 2026-11-01), renewed after it expired, on 2026-12-01: a new
    period from that day (PA-4.2). 2026-09-30: held and valid, Gold. 2026-11-15: lacking since 2026-11-02, 14 days,
    not "more than 90 consecutive days" (PA-3.7), so Gold is still held, while the entitlements are Silver's from the
    moment of expiry (PA-4.3(a)). 2026-12-01 onwards: valid again, Gold."""
    partner = _gold(("cert-network-core", "2026-01-05"), ("cert-security-pro", "2024-11-02"),
                    ("cert-security-pro", "2026-12-01"))  # fmt: skip
    assert partner["certifications"]["cert-security-pro"]["expires_at"] == "2028-11-30"
    assert _tier(partner, "2026-09-30") == ("gold", "gold")
    assert _tier(partner, "2026-11-15") == ("gold", "silver")
    assert _tier(partner, "2026-12-01") == ("gold", "gold")
    assert partner_rules.valid_certifications(partner, date(2026, 11, 15)) == {"cert-network-core"}


def test_pa_7_2_a_quarter_settled_after_an_early_renewal_pays_the_rebates_of_the_tier_held_on_its_last_day():
    """The case found over HTTP, through billing and a settlement run: a Silver reseller active since 2025-01-01,
    cert-network-core earned 2024-11-02 (valid through 2026-11-01) and renewed 2026-10-03. 48 x NW-RTR-EDGE at
    2,100.00 shipped 2026-09-15 = 100,800.00 of 2026-Q3 Qualifying Revenue. PA-7.2: "USD 100,000.00 to 249,999.99 |
    1.0%" -> 1,008.00; PA-7.3: 2.0% of the increment over 2025-Q3 (nothing invoiced: 0.00) -> 2,016.00; PA-7.6 cap
    5.0% = 5,040.00 not reached. Settled on 2026-10-05, after the renewal."""
    partner_id = "ptr_01JBNWPARTNER0000000000008"
    ledger = Ledger("2026-09-15T12:00:00Z")
    partner: dict[str, Any] = {"partner_id": partner_id, "legal_name": "Renewed Silver Inc", "partner_type": "reseller",
                               "status": "active", "tier": "silver", "activated_at": "2025-01-01T00:00:00Z",
                               "certifications": {}}  # fmt: skip
    for earned in ("2024-11-02", "2026-10-03"):
        partner = partner_rules.record_certification(
            POLICY, partner, {"certification_id": "cert-network-core", "earned_at": earned}, by=OPS, at=NOW
        )
    ledger.rt.store.commit("northwind", Changes(puts=[Put("PARTNER", partner_id, partner)]))
    ship = {"partner_id": partner_id, "order_ref": "SO-RV-Q3", "shipped_on": "2026-09-15",
            "lines": [{"sku": "NW-RTR-EDGE", "quantity": 48}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", ship, occurred_at="2026-09-15T10:00:00Z")["status"] == "processed"
    ledger.clock.set("2026-10-05T09:00:00Z")
    finance = Principal("northwind", Role.FINANCE, "key_fin")
    _, settled = settle_approved(ledger.rt, finance, {"period": "2026-Q3", "run": 1})
    statement = rebates.get_settlement(ledger.rt, finance, settled["settlement_id"], partner_id)["statement"]
    amounts = {line["program_id"]: line["amount"] for line in statement["lines"]}
    assert amounts["RBT-VOLUME"] == "1008.00"
    assert amounts["RBT-GROWTH"] == "2016.00"
