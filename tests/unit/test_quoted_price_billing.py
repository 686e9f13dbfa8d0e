"""Clause audit 10: a shipment is billed at the List Price of the quote it was ordered on, not the ship day's.

PA-1.2: ""List Price" means the price of an item in the Distributor's price list in force on the quote date. "Net
Price" means the List Price less all discounts applied to the line."
PA-6.1: "Products are quoted from the Distributor's price list in force on the quote date. The Distributor may change
the price list with 30 days' notice in the Partner Portal; price increases do not apply to quotes issued and accepted
before the effective date."
CPA-6.1: "Prices are taken from the Contoso price list in force on the quote date. Contoso gives 30 days' notice of
price changes in the Partner Portal."

Before this round a shipment was always priced from the list in force on the day it shipped: an order quoted and
accepted at USD 1,250.00 a unit and shipped after a notified increase to 1,300.00 was invoiced at 1,300.00, a price
the partner was never quoted (docs/clause-audit.md, tenth round). The ERP now states the quote's issue day
(`quoted_on`) and the day the order was accepted (`order_accepted_on`); without them the ship day's list applies, as
before (an ERP that cannot say which quote an order came from).

Every figure below is worked out by hand from the clauses (PA-1.3 / CPA-1.3: exact decimals, rounded once per line).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from memory_store import Ledger
from revgov.domain.access import Principal, Role
from revgov.domain.time import parse_day
from revgov.ports import Changes, Put
from revgov.services import catalog

P1 = "ptr_01JBNWPARTNER0000000000001"  # the sample Platinum partner (erp-samples.json)
NW_FINANCE = Principal("northwind", Role.FINANCE, "key_01JX00000000000000000FINA")
CT_FINANCE = Principal("contoso", Role.FINANCE, "key_01JX00000000000000000FINC")
CT_PARTNER = "ptr_01JBCTAVD4TR000000000000A4"
NOTIFIED = "2026-11-10T10:00:00.000Z"  # the import giving notice of the price change (PA-6.1 / CPA-6.1: 30 days)
EFFECTIVE = "2026-12-10"  # 30 days after 2026-11-10: the first day the new price may apply


def _reprice(ledger: Ledger, who: Principal, sku: str, new_price: str, currency: str) -> None:
    """Import the tenant's price list with `sku` at `new_price` from EFFECTIVE (the old price until the day before)."""
    ledger.clock.set(NOTIFIED)
    assert (parse_day(NOTIFIED[:10]) + timedelta(days=30)).isoformat() == EFFECTIVE
    policy = ledger.rt.store.get(ledger.tenant_id, "TENANT", "PROFILE").data["config"]["policy"]
    rows: list[dict[str, Any]] = []
    for entry in policy["billing"]["price_list"]:
        row = {k: entry[k] for k in ("sku", "name", "family", "billing", "list_price", "unit_cost")}
        row["currency"] = currency
        if entry["sku"] == sku:
            rows += [{**row, "effective_to": EFFECTIVE}, {**row, "list_price": new_price, "effective_from": EFFECTIVE}]
        else:
            rows.append(row)
    catalog.import_catalog(ledger.rt, who, rows, source="price-change.csv")


def _northwind(new_price: str = "1300.00") -> Ledger:
    ledger = Ledger(NOTIFIED)
    _reprice(ledger, NW_FINANCE, "NW-SW-24P", new_price, "USD")  # List Price 1,250.00 on northwind's list
    return ledger


def _ship(ledger: Ledger, partner_id: str, sku: str, *, shipped_on: str, **extra: Any) -> dict[str, Any]:
    at = f"{extra.get('delivered_on', shipped_on)}T12:00:00Z"
    ledger.clock.set(at)
    data = {"partner_id": partner_id, "order_ref": "SO-Q10-1", "shipped_on": shipped_on,
            "lines": [{"sku": sku, "quantity": 4, "discount_percent": "10"}], **extra}  # fmt: skip
    if ledger.tenant_id == "northwind":
        data["tax_location"] = {"country": "US", "region": "US-WA", "postal_code": "98101"}
    return ledger.bill("shipment.confirmed", data, occurred_at=at)


def _line(ledger: Ledger, partner_id: str, period: str, sku: str) -> dict[str, Any]:
    (line,) = [ln for ln in ledger.invoice(partner_id, period)["lines"] if ln.get("sku") == sku]
    return line


def test_pa_6_1_an_order_quoted_and_accepted_before_an_increase_is_billed_at_the_quoted_list_price() -> None:
    """Quote issued 2026-11-20, order accepted 2026-11-25, both before the increase of 2026-12-10 (1,250.00 ->
    1,300.00); 4 units shipped 2026-12-14 at 10 % discount. PA-1.2 / PA-6.1: List Price 1,250.00 (the quote date's;
    the increase does not apply to a quote issued and accepted before its effective date): Net Price 1,125.00,
    4 x 1,250.00 x 0.90 = 4,500.00 (it was 4 x 1,300.00 x 0.90 = 4,680.00)."""
    ledger = _northwind()
    answer = _ship(ledger, P1, "NW-SW-24P", shipped_on="2026-12-14", quoted_on="2026-11-20",
                   order_accepted_on="2026-11-25")
    assert answer["status"] == "processed", answer
    line = _line(ledger, P1, "2026-12", "NW-SW-24P")
    assert (line["amount"], line["unit_price"]) == ("4500.00", "1125.00")
    assert line["detail"]["priced_on"] == "2026-11-20"
    assert "BILL-QUOTED-PRICE" in line["rule_ids"] and "PA-6.1" in line["clauses"]


def test_pa_6_1_an_increase_effective_before_the_order_was_accepted_applies() -> None:
    """Quote issued 2026-11-20 (valid 30 days, PA-6.1: through 2026-12-19), accepted 2026-12-11, after the increase
    took effect on 2026-12-10: PA-6.1 exempts only quotes "issued and accepted before the effective date", so the
    increase applies: 4 x 1,300.00 x 0.90 = 4,680.00."""
    ledger = _northwind()
    _ship(ledger, P1, "NW-SW-24P", shipped_on="2026-12-14", quoted_on="2026-11-20", order_accepted_on="2026-12-11")
    line = _line(ledger, P1, "2026-12", "NW-SW-24P")
    assert (line["amount"], line["detail"]["priced_on"]) == ("4680.00", "2026-12-11")


def test_pa_1_2_a_decrease_after_the_quote_does_not_change_the_quoted_list_price() -> None:
    """PA-1.2: "List Price" is the price "in force on the quote date". A decrease to 1,200.00 from 2026-12-10; the
    quote of 2026-11-20 (1,250.00) accepted 2026-12-11: PA-6.1's exception is for increases only, so the quoted
    1,250.00 stands: 4 x 1,250.00 x 0.90 = 4,500.00 (the ship day's list would give 4 x 1,200.00 x 0.90 = 4,320.00)."""
    ledger = _northwind(new_price="1200.00")
    _ship(ledger, P1, "NW-SW-24P", shipped_on="2026-12-14", quoted_on="2026-11-20", order_accepted_on="2026-12-11")
    assert _line(ledger, P1, "2026-12", "NW-SW-24P")["amount"] == "4500.00"


def test_without_the_quote_day_the_ship_days_list_applies_as_before() -> None:
    """An ERP that does not say which quote the order came from: the list in force on the ship day (2026-12-14:
    1,300.00), 4 x 1,300.00 x 0.90 = 4,680.00, as every shipment was priced before."""
    ledger = _northwind()
    _ship(ledger, P1, "NW-SW-24P", shipped_on="2026-12-14")
    line = _line(ledger, P1, "2026-12", "NW-SW-24P")
    assert line["amount"] == "4680.00" and "priced_on" not in line["detail"]


def test_cpa_6_1_contoso_bills_the_quote_dates_price_even_for_an_order_accepted_after_an_increase() -> None:
    """CPA-6.1 "Prices are taken from the Contoso price list in force on the quote date" (no exception for the day
    of acceptance). CT-DEV-DOCK 210.00, raised to 230.00 from 2026-12-10; quoted 2026-11-20, accepted 2026-12-11,
    shipped 2026-12-14 and delivered 2026-12-15 (CPA-10.2: devices billed on delivery): 4 x 210.00 x 0.90 = 756.00
    (the ship or acceptance day's list: 4 x 230.00 x 0.90 = 828.00)."""
    ledger = Ledger(NOTIFIED, tenant="contoso")
    certs = {c: {"cert_id": c, "holder": "A. Auditor", "earned_at": "2025-01-01", "expires_at": "2029-12-31"}
             for c in ("cert-collab-associate", "cert-secops-analyst", "cert-data-engineer", "cert-devices-field")}
    partner = {"partner_id": CT_PARTNER, "legal_name": "Auditor Zehn GmbH", "partner_type": "reseller",
               "status": "active", "tier": "elite", "country": "DE", "activated_at": "2025-01-01T00:00:00Z",
               "certifications": certs}  # fmt: skip
    ledger.rt.store.commit("contoso", Changes(puts=[Put("PARTNER", CT_PARTNER, partner)]))
    _reprice(ledger, CT_FINANCE, "CT-DEV-DOCK", "230.00", "EUR")
    answer = _ship(ledger, CT_PARTNER, "CT-DEV-DOCK", shipped_on="2026-12-14", delivered_on="2026-12-15",
                   quoted_on="2026-11-20", order_accepted_on="2026-12-11")
    assert answer["status"] == "processed", answer
    line = _line(ledger, CT_PARTNER, "2026-12", "CT-DEV-DOCK")
    assert (line["amount"], line["detail"]["priced_on"]) == ("756.00", "2026-11-20")
    assert "CPA-6.1" in line["clauses"]


def test_a_quote_day_after_the_acceptance_or_the_shipment_is_held_as_implausible() -> None:
    """A quote cannot be issued after the order it led to was accepted, nor an order accepted after it shipped or
    after the quote lapsed (PA-2.2 plausibility: the event cannot be true as sent): held as implausible_event, nothing
    billed. The last day of validity is accepted: issued 2026-11-10, accepted 2026-12-10, the day the increase took
    effect, so the quote was not "accepted before the effective date" (PA-6.1) and the line is priced on 2026-12-10."""
    ledger = _northwind()
    # PA-6.1: "A quote is valid for 30 days from its issue date": issued 2026-11-10, valid through 2026-12-10; an order
    # accepted on 2026-12-11 was not accepted on it, so its price is not that quote's
    for days in ({"quoted_on": "2026-12-01", "order_accepted_on": "2026-11-25"},
                 {"quoted_on": "2026-11-20", "order_accepted_on": "2026-12-15"},
                 {"quoted_on": "2026-11-10", "order_accepted_on": "2026-12-11"}):
        answer = _ship(ledger, P1, "NW-SW-24P", shipped_on="2026-12-14", **days)
        assert answer["status"] == "failed", answer
        assert "order_accepted_on" in str(answer), answer
    assert ledger.month_invoice_ids(P1, "2026-12") == []  # nothing billed: no invoice was opened for December
    assert "implausible_event" in {x["category"] for x in ledger.exceptions()}
    answer = _ship(ledger, P1, "NW-SW-24P", shipped_on="2026-12-14", quoted_on="2026-11-10",
                   order_accepted_on="2026-12-10")
    assert answer["status"] == "processed", answer
    assert _line(ledger, P1, "2026-12", "NW-SW-24P")["detail"]["priced_on"] == "2026-12-10"


def test_the_billing_whatif_replays_a_quoted_line_at_its_quoted_price() -> None:
    """The billing what-if replays each line with the function that billed it (docs/policy.md): the quoted shipment
    of the first test (4 x 1,250.00 x 0.90 = 4,500.00) replays at 4,500.00 under the policy in force and under a
    draft that changes only the credit note limit, not at the ship day's 4,680.00; nothing reads as not invoiced as
    the policy in force bills it."""
    from revgov.services import policy_drafts
    from revgov.services.policy_whatif_billing import whatif_billing

    ledger = _northwind()
    _ship(ledger, P1, "NW-SW-24P", shipped_on="2026-12-14", quoted_on="2026-11-20", order_accepted_on="2026-11-25")
    ledger.clock.set("2027-01-10T10:00:00Z")
    channel_ops = Principal("northwind", Role.CHANNEL_OPS, "key_01JX00000000000000000CHOP")
    draft = policy_drafts.create_draft(ledger.rt, channel_ops, {"reason": "credit note limit"})
    limit = [{"op": "replace", "path": "/billing/credit_notes/approval_above", "value": "50.00"}]
    policy_drafts.patch_policy(ledger.rt, channel_ops, draft["draft_id"], {"operations": limit})
    report = whatif_billing(ledger.rt, NW_FINANCE, str(draft["draft_id"]), {"period": "2026-12", "examples": 5})
    shipments = report["by_kind"]["shipment"]
    assert (shipments["lines"], shipments["before"], shipments["after"], shipments["changed"]) == (
        1, "4500.00", "4500.00", 0)
    assert report["not_as_invoiced"]["count"] == 0


def test_a_quote_day_without_the_acceptance_day_is_refused_at_the_webhook_naming_the_field() -> None:
    """PA-6.1 exempts quotes "issued and accepted before the effective date": the price cannot be chosen from the quote
    day alone, so `quoted_on` and `order_accepted_on` come together; one without the other is refused at intake
    (problem+json naming the missing field), nothing received or billed."""
    import pytest

    from revgov.domain.errors import MalformedRequest
    from revgov.services import erp, tenants

    ledger = _northwind()
    tenant, _ = tenants.load_tenant(ledger.rt, "northwind")
    ledger.clock.set("2026-12-14T12:00:00Z")
    for given, missing in (({"quoted_on": "2026-11-20"}, "order_accepted_on"),
                           ({"order_accepted_on": "2026-11-25"}, "quoted_on")):
        data = {"partner_id": P1, "order_ref": "SO-Q10-2", "shipped_on": "2026-12-14",
                "lines": [{"sku": "NW-SW-24P", "quantity": 1}], **given}  # fmt: skip
        event = {"id": f"ERP-Q10-{missing}", "type": "shipment.confirmed", "occurred_at": "2026-12-14T12:00:00Z",
                 "data": data}  # fmt: skip
        with pytest.raises(MalformedRequest) as refused:
            erp.accept(ledger.rt, tenant, event)
        assert any(missing in f"{e.path} {e.message}" for e in refused.value.errors), refused.value.errors
    assert ledger.month_invoice_ids(P1, "2026-12") == []


def test_pa_6_1_a_subscription_quoted_and_accepted_before_an_increase_keeps_the_quoted_price() -> None:
    """Subscriptions are Products too (PA-1.1), quoted from the list "in force on the quote date" (PA-6.1).
    NW-SEC-SUITE 300.00 a month, raised to 330.00 from 2026-12-10; quoted 2026-11-20, accepted 2026-11-25, 2 seats
    activated 2026-12-11. PA-10.3 / SOP-2.3: December 2 x 300.00 x 21 / 31 = 406.4516... = 406.45 (the activation
    day's list: 2 x 330.00 x 21 / 31 = 447.10); January in advance (PA-10.2) 600.00 (not 660.00); cancelled with effect
    from the end of 2027-01-20 (SOP-2.4: the full days after it, 21..31 January): 600.00 x 11 / 31 = 212.9032... =
    212.90 credited (not 660.00 x 11 / 31 = 234.19)."""
    from revgov.services import subscription_billing

    ledger = Ledger(NOTIFIED)
    _reprice(ledger, NW_FINANCE, "NW-SEC-SUITE", "330.00", "USD")
    ledger.clock.set("2026-12-11T09:00:00Z")
    data = {"partner_id": P1, "subscription_id": "SUB-Q10", "sku": "NW-SEC-SUITE", "quantity": 2,
            "activated_on": "2026-12-11", "order_ref": "SO-Q10-S", "quoted_on": "2026-11-20",
            "order_accepted_on": "2026-11-25",
            "tax_location": {"country": "US", "region": "US-WA", "postal_code": "98101"}}  # fmt: skip
    answer = ledger.bill("subscription.activated", data, occurred_at="2026-12-11T09:00:00Z")
    assert answer["status"] == "processed", answer
    december = _line(ledger, P1, "2026-12", "NW-SEC-SUITE")
    assert (december["amount"], december["unit_price"], december["detail"]["priced_on"]) == (
        "406.45", "300.00", "2026-11-20")
    assert "BILL-QUOTED-PRICE" in december["rule_ids"]
    ledger.clock.set("2027-01-01T00:05:00Z")
    subscription_billing.run(ledger.rt, "northwind")
    assert _line(ledger, P1, "2027-01", "NW-SEC-SUITE")["amount"] == "600.00"
    ledger.clock.set("2027-01-20T11:00:00Z")
    cancel = {"partner_id": P1, "subscription_id": "SUB-Q10", "effective_on": "2027-01-20"}
    assert ledger.bill("subscription.cancelled", cancel, occurred_at="2027-01-20T11:00:00Z")["status"] == "processed"
    credits = [ln["amount"] for ln in ledger.invoice(P1, "2027-01")["lines"]
               if ln.get("sku") == "NW-SEC-SUITE" and ln["kind"] == "credit"]  # fmt: skip
    assert credits == ["-212.90"]


def test_the_webhook_accepts_the_quote_days_and_bills_at_the_quoted_price() -> None:
    """The same shipment as the first test, received through the ERP webhook's intake (erp.accept: schema, signature
    already checked by the edge, stored, then billed): 4 x 1,250.00 x 0.90 = 4,500.00."""
    ledger = _northwind()
    ledger.clock.set("2026-12-14T12:00:00Z")
    data = {"partner_id": P1, "order_ref": "SO-Q10-W", "shipped_on": "2026-12-14", "quoted_on": "2026-11-20",
            "order_accepted_on": "2026-11-25", "lines": [{"sku": "NW-SW-24P", "quantity": 4, "discount_percent": "10"}],
            "tax_location": {"country": "US", "region": "US-WA", "postal_code": "98101"}}  # fmt: skip
    answer = ledger.receive("shipment.confirmed", data, occurred_at="2026-12-14T12:00:00Z")
    assert answer["status"] == "processed", answer
    assert _line(ledger, P1, "2026-12", "NW-SW-24P")["amount"] == "4500.00"
