"""PA-7.1 / CPA-7.1 MDF-funded purchases and the PA-8.1 / CPA-8.1 referral window, through the billing handler and an
approved settlement on the in-memory engine with a fixed clock. Expectations are computed by hand from the clauses.

PA-7.1: "Rebates are not earned on taxes, freight, pass-through fees, MDF-funded purchases or orders placed while the
Partner was suspended." CPA-7.1: "No incentive is earned on indirect taxes, pass-through charges, MDF-funded purchases
or orders placed during a suspension."
PA-9.5: "MDF accrues each Quarter at a percentage of the Partner's Qualifying Revenue in the previous Quarter: Silver
2%, Gold 3% and Platinum 4%." PA-1.2: "Qualifying Revenue" ... "excluding revenue that this Agreement expressly
excludes from a given program": PA-7.1 excludes MDF-funded purchases from rebates, PA-9.5 from nothing, so MDF accrues
on them.
PA-8.1: "the Partner earns a referral commission of 5.0% of the Distributor's Invoiced Revenue from that Customer, net
of credit notes, during the 12 months following the first invoice." CPA-8.1: "earns a referral fee of 4.0% of
Contoso's Invoiced Revenue from that End Customer, net of credit notes, for 12 months from the first invoice".
Read (domain/rebates/windows.py, docs/rebates.md): "the 12 months following" a day begin the day after it, so the last
day inside is the first invoice's anniversary; "for 12 months from" a day begin on that day, so the last day inside is
the day before the anniversary. The first invoice earns; a line earns while its own invoice date is inside.

Prices: NW-SW-24P USD 1,250.00 (networking), NW-SRV-R2 USD 5,200.00 (the SPIFF item, USD 40.00 per unit, PA-7.5);
CT-DEV-DOCK EUR 210.00 (devices, not SPIFF-eligible). P1 is a Platinum partner of the ERP samples.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from memory_store import Ledger
from rebate_runs import settle_approved
from revgov import schemas
from revgov.domain.access import Principal, Role
from revgov.domain.errors import MalformedRequest
from revgov.ports import Changes, Put
from revgov.services import billing, explain_rebates, mdf, rebates
from revgov.services.rebates import first_invoices
from support import ROOT

P1 = "ptr_01JBNWPARTNER0000000000001"
NW_FINANCE = Principal("northwind", Role.FINANCE, "key_fin")
CT_FINANCE = Principal("contoso", Role.FINANCE, "key_fin")
CT_PARTNER = "ptr_01JBCTAVD1TR000000000000A1"
CT_CERTS = {
    cert: {"cert_id": cert, "holder": "A. Auditor", "earned_at": "2025-01-01", "expires_at": "2027-12-31"}
    for cert in ("cert-collab-associate", "cert-secops-analyst", "cert-data-engineer", "cert-devices-field")
}


def _contoso(at: str) -> Ledger:
    ledger = Ledger(at, tenant="contoso")
    partner = {"partner_id": CT_PARTNER, "legal_name": "Auditor Devices GmbH", "partner_type": "reseller",
               "status": "active", "tier": "elite", "country": "DE", "activated_at": "2025-01-01T00:00:00Z",
               "certifications": CT_CERTS}  # fmt: skip
    ledger.rt.store.commit("contoso", Changes(puts=[Put("PARTNER", CT_PARTNER, partner)]))
    return ledger


def _ship(ledger: Ledger, partner: str, on: str, lines: list[dict[str, Any]], order: str, **more: Any) -> None:
    ledger.clock.set(f"{on}T12:00:00Z")
    data = {"partner_id": partner, "order_ref": order, "shipped_on": on, "delivered_on": on, "lines": lines, **more}
    if ledger.tenant_id == "northwind":  # PA-10.1: the ship-to its sales tax is calculated on (docs/billing.md)
        data["tax_location"] = {"country": "US", "region": "US-IL", "postal_code": "60601"}
    answer = ledger.bill("shipment.confirmed", data, occurred_at=f"{on}T10:00:00Z")
    assert answer["status"] == "processed", answer


def accepted(shipped_on: str) -> dict[str, str]:
    """The days the ERP states on a referral line: accepted 30 days before the sale and the decision maker first
    contacted the day after (PA-8.1: first invoiced "within 180 days" of the acceptance; CPA-8.1: "accepted before
    Contoso's first contact with the End Customer's decision maker"; tests/unit/test_referral_acceptance.py holds the
    boundaries)."""
    day = date.fromisoformat(shipped_on)
    return {"referral_accepted_on": (day - timedelta(days=30)).isoformat(),
            "decision_maker_contacted_on": (day - timedelta(days=29)).isoformat()}  # fmt: skip


def _settle(ledger: Ledger, finance: Principal, partner: str, period: str, at: str) -> tuple[str, dict[str, Any]]:
    ledger.clock.set(at)
    _, settled = settle_approved(ledger.rt, finance, {"period": period, "run": 1})
    if partner not in {p["partner_id"] for p in settled["partners"]}:
        return settled["settlement_id"], {}  # nothing earned or adjusted: no statement
    statement = rebates.get_settlement(ledger.rt, finance, settled["settlement_id"], partner)
    return settled["settlement_id"], statement


def _lines(statement: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {line["program_id"]: line for line in statement.get("statement", {}).get("lines", [])}


def _excluded(statement: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every excluded trace of the statement, by its rule id and program."""
    found = {}
    for trace in statement.get("statement", {}).get("traces", []):
        if trace.get("section") == "excluded":
            found[f"{trace['rule_id']}:{trace['program_id']}"] = trace
    return found


# --- PA-7.1 / CPA-7.1: MDF-funded purchases ------------------------------------------------------------------------
def test_pa_7_1_mdf_funded_switches_count_for_no_rebate_and_the_trace_and_explanation_say_why():
    # 240 MDF-funded switches (300,000.00) and 100 bought with the partner's money (125,000.00) in 2026-08: the volume
    # rebate counts 125,000.00 -> 1.0% = 1,250.00 (with the funded ones 425,000.00 would earn 2.0% = 8,500.00); the
    # growth rebate 2.0% x 125,000.00 above a 0.00 baseline = 2,500.00
    ledger = Ledger("2026-08-05T12:00:00Z")
    _ship(ledger, P1, "2026-08-05", [{"sku": "NW-SW-24P", "quantity": 240, "mdf_funded": True},
                                     {"sku": "NW-SW-24P", "quantity": 100}], "SO-MDF")  # fmt: skip
    settlement_id, statement = _settle(ledger, NW_FINANCE, P1, "2026-Q3", "2026-10-03T10:00:00Z")
    lines = _lines(statement)
    assert (lines["RBT-VOLUME"]["amount"], lines["RBT-VOLUME"]["basis_revenue"]) == ("1250.00", "125000.00")
    assert (lines["RBT-GROWTH"]["amount"], lines["RBT-GROWTH"]["basis_revenue"]) == ("2500.00", "125000.00")
    excluded = _excluded(statement)
    volume = excluded["RBT-MDF-FUNDED:RBT-VOLUME"]
    assert (volume["clause"], volume["reason"]) == ("PA-7.1", "an MDF-funded purchase")
    assert [row[3] for row in volume["lines"]] == ["300000.00"]
    assert "RBT-MDF-FUNDED:RBT-GROWTH" in excluded
    words = explain_rebates.explain_settlement(ledger.rt, NW_FINANCE, settlement_id, P1)
    text = str(words)
    assert "RBT-MDF-FUNDED" in text and "PA-7.1" in text and "an MDF-funded purchase" in text


def test_pa_7_1_mdf_funded_servers_earn_no_spiff_and_an_mdf_funded_referral_no_commission():
    # PA-7.5 pays USD 40.00 per SPIFF-eligible server; 10 MDF-funded servers earn nothing, 5 others 200.00
    ledger = Ledger("2026-08-05T12:00:00Z")
    _ship(ledger, P1, "2026-08-05", [{"sku": "NW-SRV-R2", "quantity": 10, "mdf_funded": True},
                                     {"sku": "NW-SRV-R2", "quantity": 5}], "SO-SRV")  # fmt: skip
    _, statement = _settle(ledger, NW_FINANCE, P1, "2026-Q3", "2026-10-03T10:00:00Z")
    assert _lines(statement)["RBT-HW-SPIFF"]["amount"] == "200.00"
    assert "RBT-MDF-FUNDED:RBT-HW-SPIFF" in _excluded(statement)
    # an MDF-funded referral, paid: no commission (PA-7.1 names MDF-funded purchases, CPA-7.1 "No incentive")
    ledger = Ledger("2026-08-05T12:00:00Z")
    _ship(
        ledger,
        P1,
        "2026-08-05",
        [{"sku": "NW-SW-24P", "quantity": 100, "mdf_funded": True}, {"sku": "NW-SW-24P", "quantity": 10}],
        "SO-REF",
        channel="referral",
        customer_id="CUST-1",
        **accepted("2026-08-05"),
    )
    _issue_and_pay(ledger, P1, "2026-08", "2026-09-02")
    # PA-8.2: earned "in the month in which the Customer paid the invoice": September's run
    _, statement = _settle(ledger, NW_FINANCE, P1, "2026-09", "2026-10-03T10:00:00Z")
    # only the 10 switches bought with the partner's money earn: 5.0% of 12,500.00
    assert _lines(statement)["RBT-REFERRAL"]["amount"] == "625.00"
    assert [row[3] for row in _excluded(statement)["RBT-MDF-FUNDED:RBT-REFERRAL"]["lines"]] == ["125000.00"]


def test_cpa_7_1_an_mdf_funded_subscription_and_mdf_funded_docks_earn_no_incentive():
    # 1,000 docks (210,000.00) of which 600 MDF-funded (126,000.00): the volume rebate counts 84,000.00 -> band EUR
    # 75,000.00 to 199,999.99 -> 1.5% = 1,260.00
    ledger = _contoso("2026-08-03T10:00:00Z")
    _ship(ledger, CT_PARTNER, "2026-08-03", [{"sku": "CT-DEV-DOCK", "quantity": 600, "mdf_funded": True},
                                             {"sku": "CT-DEV-DOCK", "quantity": 400}], "SO-CT")  # fmt: skip
    subscription = {
        "partner_id": CT_PARTNER,
        "subscription_id": "SUB-MDF-1",
        "sku": _contoso_subscription_sku(),
        "quantity": 10,
        "activated_on": "2026-08-03",
        "order_ref": "SO-SUB",
        "mdf_funded": True,
    }
    assert ledger.bill("subscription.activated", subscription, occurred_at="2026-08-03T10:00:00Z")["status"] == \
        "processed"  # fmt: skip
    _, statement = _settle(ledger, CT_FINANCE, CT_PARTNER, "2026-Q3", "2026-10-05T09:00:00Z")
    volume = _lines(statement)["RBT-VOLUME"]
    assert (volume["amount"], volume["basis_revenue"]) == ("1260.00", "84000.00")
    trace = _excluded(statement)["RBT-MDF-FUNDED:RBT-VOLUME"]
    assert trace["clause"] == "CPA-7.1" and len(trace["lines"]) == 2  # the funded docks and the subscription line


def _contoso_subscription_sku() -> str:
    from revgov.tenant_files import load_tenant_file

    policy = load_tenant_file(ROOT / "tenants" / "contoso" / "tenant.yaml")["policy"]
    return next(str(p["sku"]) for p in policy["billing"]["price_list"] if p.get("billing") == "subscription")


def test_pa_9_5_mdf_accrues_on_mdf_funded_purchases_too():
    # Q3 2026: 240 MDF-funded switches (300,000.00) and 100 others (125,000.00): Qualifying Revenue for MDF (PA-9.5,
    # PA-1.2: nothing excludes them from MDF) is 425,000.00; Platinum 4% -> Q4's accrual 17,000.00 (the volume
    # rebate's own basis, 125,000.00, would give 5,000.00)
    ledger = Ledger("2026-08-05T12:00:00Z")
    _ship(ledger, P1, "2026-08-05", [{"sku": "NW-SW-24P", "quantity": 240, "mdf_funded": True},
                                     {"sku": "NW-SW-24P", "quantity": 100}], "SO-MDF")  # fmt: skip
    ledger.clock.set("2026-10-03T10:00:00Z")
    settle_approved(ledger.rt, NW_FINANCE, {"period": "2026-Q3", "run": 1})  # the lines projected
    ledger.clock.set("2026-10-05T10:00:00Z")
    q4 = next(a for a in mdf.ledger(ledger.rt, NW_FINANCE, P1)["accruals"] if a["quarter"] == "2026-Q4")
    assert (q4["qualifying_revenue"], q4["accrued"]) == ("425000.00", "17000.00")


def test_pa_9_5_mdf_accrues_on_revenue_an_exclusive_promotion_keeps_out_of_the_volume_rebate():
    """PA-9.5: "MDF accrues each Quarter at a percentage of the Partner's Qualifying Revenue in the previous Quarter:
    [...] Platinum 4%". PA-1.2: "Qualifying Revenue" [...] "excluding revenue that this Agreement expressly excludes
    from a given program". PA-7.7(a): "revenue on lines carrying an exclusive promotion is excluded from the volume
    rebate and the growth rebate" (PA-6.5 likewise): an exclusion from those two programs, not from MDF, which PA-9.5
    measures on Qualifying Revenue with nothing excluded (as MDF-funded purchases above).

    Q4 2026: 100 NW-SW-24P (125,000.00) and 10 NW-SRV-R2 under the exclusive HW-CLEARANCE-Q4 (10 x 5,200.00 =
    52,000.00): Qualifying Revenue for MDF 177,000.00, Platinum 4 % -> 2027-Q1's accrual 7,080.00. Before (auditor8),
    the volume rebate's basis was taken whole: 125,000.00, 5,000.00."""
    ledger = Ledger("2026-11-05T12:00:00Z")
    _ship(ledger, P1, "2026-11-05", [{"sku": "NW-SW-24P", "quantity": 100},
                                     {"sku": "NW-SRV-R2", "quantity": 10, "promotions": ["HW-CLEARANCE-Q4"]}],
          "SO-MDF-PROMO")  # fmt: skip
    # a referral sale the Distributor invoices the Customer for (PA-8.1 "invoices the Customer directly"): 8 x
    # 1,250.00 = 10,000.00 earns the commission and is no Invoiced Revenue of the Partner (PA-1.2): not counted
    _ship(ledger, P1, "2026-11-06", [{"sku": "NW-SW-24P", "quantity": 8}], "SO-MDF-REF", channel="referral",
          customer_id="CUST-MDF-1", **accepted("2026-11-06"))  # fmt: skip
    ledger.clock.set("2027-01-04T10:00:00Z")
    settle_approved(ledger.rt, NW_FINANCE, {"period": "2026-Q4", "run": 1})  # the lines projected
    q1 = next(a for a in mdf.ledger(ledger.rt, NW_FINANCE, P1)["accruals"] if a["quarter"] == "2027-Q1")
    assert (q1["qualifying_revenue"], q1["accrued"]) == ("177000.00", "7080.00")


def test_cpa_9_5_mdf_accrues_on_devices_lines_that_earn_the_spiff():
    """CPA-9.5: "Advanced and Elite Partners accrue market development funds each Quarter at 2% (Advanced) or 5%
    (Elite) of the previous Quarter's Qualifying Revenue". CPA-1.2: "Qualifying Revenue" [...] "excluding revenue
    that this Agreement excludes from a particular program". CPA-7.7(b): "Devices lines that earn the SPIFF are
    excluded from both the volume rebate and the growth rebate": not from MDF.

    Q3 2026, an Elite partner: 20 CT-DEV-LAPTOP14 earning the SPIFF (20 x 1,150.00 = 23,000.00) and 100 CT-DEV-DOCK
    (not SPIFF-eligible, 100 x 210.00 = 21,000.00): Qualifying Revenue for MDF 44,000.00, 5 % -> 2026-Q4's accrual
    2,200.00. Before (auditor8), the volume rebate's basis: 21,000.00, 1,050.00."""
    ledger = _contoso("2026-08-05T12:00:00Z")
    _ship(ledger, CT_PARTNER, "2026-08-05", [{"sku": "CT-DEV-LAPTOP14", "quantity": 20},
                                             {"sku": "CT-DEV-DOCK", "quantity": 100}], "SO-MDF-SPIFF")  # fmt: skip
    ledger.clock.set("2026-10-03T10:00:00Z")
    _, settled = settle_approved(ledger.rt, CT_FINANCE, {"period": "2026-Q3", "run": 1})
    statement = rebates.get_settlement(ledger.rt, CT_FINANCE, settled["settlement_id"], CT_PARTNER)
    assert _lines(statement)["RBT-DEVICES-SPIFF"]["amount"] == "300.00"  # 20 units x 15.00: the laptops earn it
    q4 = next(a for a in mdf.ledger(ledger.rt, CT_FINANCE, CT_PARTNER)["accruals"] if a["quarter"] == "2026-Q4")
    assert (q4["qualifying_revenue"], q4["accrued"]) == ("44000.00", "2200.00")


@pytest.mark.parametrize("bad", ["", "../CUST", "CUST 1", "C" * 65, "-CUST", 42, "CÜST"])
def test_a_malformed_customer_id_is_refused(bad):
    event = {"source": "revgov.erp", "detail-type": "subscription.activated",
             "detail": {"tenant_id": "northwind", "event_id": "evt_01JBNW00000000000000000000", "occurred_at":
                        "2026-08-05T10:00:00Z", "erp_event_id": "ERP-BAD", "replay": 0,
                        "data": {"partner_id": P1, "subscription_id": "SUB-1", "sku": "NW-CLOUD-PLATFORM",
                                 "quantity": 1, "activated_on": "2026-08-05", "order_ref": "SO-1",
                                 "channel": "referral", "customer_id": bad}}}  # fmt: skip
    with pytest.raises(MalformedRequest):
        schemas.validate("events/subscription.activated.schema.json", event, what="subscription")
    event["detail"]["data"]["customer_id"] = "CUST-1.de_x"
    schemas.validate("events/subscription.activated.schema.json", event, what="subscription")


@pytest.mark.parametrize("bad", ["yes", 1, None, "true"])
def test_mdf_funded_is_a_boolean_or_the_erp_event_is_refused(bad):
    data = {
        "partner_id": P1,
        "order_ref": "SO-BAD",
        "shipped_on": "2026-08-05",
        "lines": [{"sku": "NW-SW-24P", "quantity": 1, "mdf_funded": bad}],
    }
    event = {
        "source": "revgov.erp",
        "detail-type": "shipment.confirmed",
        "detail": {
            "tenant_id": "northwind",
            "event_id": "evt_01JBNW00000000000000000000",
            "occurred_at": "2026-08-05T10:00:00Z",
            "erp_event_id": "ERP-BAD",
            "replay": 0,
            "data": data,
        },
    }
    with pytest.raises(MalformedRequest):
        schemas.validate("events/shipment.confirmed.schema.json", event, what="shipment")
    data["lines"][0]["mdf_funded"] = True
    schemas.validate("events/shipment.confirmed.schema.json", event, what="shipment")
    # through the billing handler: refused, nothing billed (no invoice opened for the month)
    ledger = Ledger("2026-08-05T12:00:00Z")
    data["lines"][0]["mdf_funded"] = bad
    with pytest.raises(MalformedRequest):
        ledger.bill("shipment.confirmed", data, occurred_at="2026-08-05T10:00:00Z")
    assert ledger.rt.store.get("northwind", billing.INVOICE_KEYS, f"{P1}#2026-08") is None


def test_only_the_signed_erp_event_can_say_a_purchase_is_mdf_funded_or_name_the_referred_customer():
    """A partner key cannot make a purchase MDF-funded (to dodge the PA-7.6 cap's basis, say) nor un-fund one, nor
    move a customer's first invoice: `mdf_funded` and `customer_id` exist only in the ERP event schemas (which the
    ERP signs, POST /v1/webhooks/erp), and every API request schema is closed, so a partner's quote, deal or dispute
    body carrying them is refused."""
    api = sorted((ROOT / "schemas" / "api").glob("*.schema.json"))
    assert api and not [p.name for p in api if "mdf_funded" in p.read_text()]
    events = {p.name for p in (ROOT / "schemas" / "events").glob("*.json") if '"mdf_funded"' in p.read_text()}
    assert events == {"erp-event.schema.json", "shipment.confirmed.schema.json", "subscription.activated.schema.json"}
    quote = {
        "partner_id": P1,
        "quote_ref": "Q-2026-1042",
        "customer": {"id": "US-EIN-12-3456789", "name": "Lakeside"},
        "lines": [{"line_id": "1", "sku": "NW-SW-24P", "quantity": 12, "discount_percent": "8.00"}],
    }
    assert schemas.problems("api/pricing-check.schema.json", quote) == []
    for field, value in (("mdf_funded", True), ("customer_id", "CUST-1")):
        changed = {**quote, "lines": [{**quote["lines"][0], field: value}]}
        assert {e.path for e in schemas.problems("api/pricing-check.schema.json", changed)} == {f"/lines/0/{field}"}


# --- PA-8.1 / CPA-8.1: the referral window ------------------------------------------------------------------------
def _issue_and_pay(ledger: Ledger, partner: str, month: str, issued_on: str) -> None:
    """Finance issues the month's invoices on `issued_on` (their invoice date: the partner's, and the Distributor's
    direct invoices to the customers it referred, PA-8.1 "invoices the Customer directly") and the ERP reports them
    paid that day."""
    finance = Principal(ledger.tenant_id, Role.FINANCE, "key_fin")
    invoice_ids = ledger.month_invoice_ids(partner, month)
    assert invoice_ids, f"no invoice of {partner} for {month}"
    for number, invoice_id in enumerate(invoice_ids):
        ledger.clock.set(f"{issued_on}T06:00:00Z")
        billing.finalize_invoice(ledger.rt, finance, invoice_id)
        ledger.clock.set(f"{issued_on}T10:00:00Z")
        paid = {"partner_id": partner, "invoice_id": invoice_id, "paid_on": issued_on,
                "payment_ref": f"RCPT-{month}-{number}"}  # fmt: skip
        assert ledger.bill("invoice.paid", paid, occurred_at=f"{issued_on}T09:00:00Z")["status"] == "processed"


REFERRAL = {
    "northwind": (P1, NW_FINANCE, "NW-SW-24P", "6250.00", "PA-8.1"),  # 100 x 1,250.00 x 5.0%
    "contoso": (CT_PARTNER, CT_FINANCE, "CT-DEV-DOCK", "840.00", "CPA-8.1"),  # 100 x 210.00 x 4.0%
}


def _referral_year(
    tenant: str, second_issued_on: str, customer: str = "CUST-REF-1", *, newcomer: bool = False
) -> dict[str, Any]:
    """A referred customer first invoiced on 2026-09-02 (its 2026-08 invoice), invoiced again for 2027-08 on
    `second_issued_on` (with `newcomer`, a second customer first invoiced on that same invoice) and paid that day: the
    2027-09 commission statement (PA-8.2 / CPA-8.2: the month in which the customer paid)."""
    partner, finance, sku, _, _ = REFERRAL[tenant]
    ledger = Ledger("2026-08-05T12:00:00Z") if tenant == "northwind" else _contoso("2026-08-05T12:00:00Z")
    lines = [{"sku": sku, "quantity": 100}]
    _ship(ledger, partner, "2026-08-05", lines, "SO-REF-1", channel="referral", customer_id="CUST-REF-1",
          **accepted("2026-08-05"))
    _issue_and_pay(ledger, partner, "2026-08", "2026-09-02")
    _ship(ledger, partner, "2027-08-05", lines, "SO-REF-2", channel="referral", customer_id=customer,
          **accepted("2027-08-05"))
    if newcomer:
        _ship(ledger, partner, "2027-08-06", lines, "SO-REF-3", channel="referral", customer_id="CUST-NEW",
              **accepted("2027-08-06"))
    _issue_and_pay(ledger, partner, "2027-08", second_issued_on)
    # PA-8.2 / CPA-8.2: the commission is the month's in which the customer paid (2027-09), not the invoice's
    return {**_settle(ledger, finance, partner, "2027-09", "2027-10-20T10:00:00Z")[1], "_rt": ledger.rt}


@pytest.mark.parametrize(
    ("tenant", "last_inside", "first_outside"),
    [
        # PA-8.1 "during the 12 months following the first invoice" (2026-09-02): 2026-09-03 .. 2027-09-02
        ("northwind", "2027-09-02", "2027-09-03"),
        # CPA-8.1 "for 12 months from the first invoice" (2026-09-02): 2026-09-02 .. 2027-09-01
        ("contoso", "2027-09-01", "2027-09-02"),
    ],
)
def test_the_referral_commission_is_paid_through_the_last_day_of_the_window_and_not_after(
    tenant, last_inside, first_outside
):
    _, _, _, commission, clause = REFERRAL[tenant]
    inside = _referral_year(tenant, last_inside)
    assert _lines(inside)["RBT-REFERRAL"]["amount"] == commission
    assert _lines(_referral_year(tenant, first_outside)).get("RBT-REFERRAL", {}).get("amount", "0.00") == "0.00"
    # with a second customer first invoiced on the same invoice, the statement pays it and says why the first is not
    outside = _referral_year(tenant, first_outside, newcomer=True)
    assert _lines(outside)["RBT-REFERRAL"]["amount"] == commission
    trace = _excluded(outside)["RBT-REFERRAL-WINDOW:RBT-REFERRAL"]
    assert trace["clause"] == clause and "first invoice" in trace["reason"]
    assert [row[3] for row in trace["lines"]] == ["125000.00" if tenant == "northwind" else "21000.00"]
    partner, finance = REFERRAL[tenant][:2]
    rt = outside["_rt"]
    words = str(explain_rebates.explain_settlement(rt, finance, outside["settlement_id"], partner))
    assert "RBT-REFERRAL-WINDOW" in words and clause in words and "first invoice" in words


def test_another_customer_has_its_own_first_invoice_and_case_does_not_make_a_new_customer():
    # the 2027-08 invoice (issued 2027-09-03, outside CUST-REF-1's window) names CUST-REF-2: first invoiced then, earns
    assert _lines(_referral_year("northwind", "2027-09-03", "CUST-REF-2"))["RBT-REFERRAL"]["amount"] == "6250.00"
    # the same customer spelt in lower case is the same customer: still outside its window
    lower = _lines(_referral_year("northwind", "2027-09-03", "cust-ref-1"))
    assert lower.get("RBT-REFERRAL", {}).get("amount", "0.00") == "0.00"


def test_the_first_invoice_is_kept_once_and_only_an_earlier_one_replaces_it():
    ledger = Ledger("2026-08-05T12:00:00Z")
    rt = ledger.rt

    def line(day: str, invoice: str, channel: str = "referral") -> dict[str, Any]:
        return {"partner_id": P1, "customer": "cust-9", "customer_id": "CUST-9", "invoiced_on": day,
                "invoice_id": invoice, "line_id": f"{invoice}.1", "channel": channel}  # fmt: skip

    first_invoices.record(rt, "northwind", [line("2026-09-02", "inv_a")])
    first_invoices.record(rt, "northwind", [line("2026-09-02", "inv_a")])  # redelivered: unchanged
    first_invoices.record(rt, "northwind", [line("2026-10-02", "inv_b")])  # later: not the first
    first_invoices.record(rt, "northwind", [line("2026-07-01", "inv_c", "resale")])  # not a referral invoice
    assert first_invoices.of_partner(rt, "northwind", P1) == {"cust-9": "2026-09-02"}
    stored = rt.store.get("northwind", first_invoices.FIRST_INVOICES, f"{P1}#cust-9")
    assert stored is not None and stored.version == 1 and stored.data["invoice_id"] == "inv_a"
    first_invoices.record(rt, "northwind", [line("2026-08-30", "inv_d")])  # an earlier one found later
    assert first_invoices.of_partner(rt, "northwind", P1) == {"cust-9": "2026-08-30"}


@pytest.mark.parametrize("tenant", ["northwind", "contoso"])
def test_a_referral_line_naming_no_customer_earns_no_commission_and_the_statement_says_why(tenant):
    """PA-8.1: "the Partner earns a referral commission of 5.0% of the Distributor's Invoiced Revenue from that
    Customer, net of credit notes, during the 12 months following the first invoice." CPA-8.1: "earns a referral fee
    of 4.0% of Contoso's Invoiced Revenue from that End Customer, net of credit notes, for 12 months from the first
    invoice". A line whose ERP event named no customer is revenue from no known customer and has no first invoice to
    count the 12 months from: it earns nothing. The same month's line naming its customer earns as before."""
    partner, finance, sku, commission, clause = REFERRAL[tenant]
    ledger = Ledger("2026-08-05T12:00:00Z") if tenant == "northwind" else _contoso("2026-08-05T12:00:00Z")
    lines = [{"sku": sku, "quantity": 100}]
    _ship(ledger, partner, "2026-08-05", lines, "SO-REF-NAMED", channel="referral", customer_id="CUST-REF-1",
          **accepted("2026-08-05"))
    _ship(ledger, partner, "2026-08-06", lines, "SO-REF-UNNAMED", channel="referral", **accepted("2026-08-06"))
    _issue_and_pay(ledger, partner, "2026-08", "2026-09-02")
    # PA-8.2 / CPA-8.2: earned in the month the customer paid (2026-09)
    settlement_id, statement = _settle(ledger, finance, partner, "2026-09", "2026-10-20T10:00:00Z")
    assert _lines(statement)["RBT-REFERRAL"]["amount"] == commission  # the named line only, not twice as much
    trace = _excluded(statement)["RBT-REFERRAL-WINDOW:RBT-REFERRAL"]
    assert trace["clause"] == clause and "names no referred customer" in trace["reason"]
    assert [row[3] for row in trace["lines"]] == ["125000.00" if tenant == "northwind" else "21000.00"]
    words = str(explain_rebates.explain_settlement(ledger.rt, finance, settlement_id, partner))
    assert "names no referred customer" in words and clause in words
