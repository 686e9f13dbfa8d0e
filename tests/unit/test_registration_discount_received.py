"""The registration discount is received by the registration's holder, whether or not its quote names it.

PA-5.6: "A Partner holding an approved registration receives an additional registration discount of 5 percentage
points on quote lines for the registered Customer and Product Family during the exclusivity period. The registration
discount counts towards the combined discount under PA-6.4 and the approval thresholds under PA-6.6, and cannot be
combined with an exclusive promotion under PA-6.5."
PA-5.3: "During the exclusivity period, the Distributor [...] applies the registration discount under PA-5.6 only to
the registering Partner's quotes."
PA-6.4: "Discount components on a line [...] combine additively: their percentages are added, not compounded, and the
total is applied to List Price."
PA-6.5: "A quote line that combines an exclusive promotion with another promotion or with the registration discount
is rejected."
CPA-5.5: "An approved registration gives the registering Partner an additional discount of 4 percentage points on lines
of the registered Product Family for that End Customer during the protection period."

Before, a quote got the discount only by naming `deal_registration_id`: the holder's quote that did not name it was
priced as if it held nothing. Prices from the tenants' price lists (PA-6.1 / CPA-6.1): NW-SW-24P 1250.00 (cost
900.00), NW-NET-MGMT 99.00 (cost 35.00), NW-SRV-R2 5200.00 (cost 4160.00); CT-DEV-LAPTOP14 1150.00 (cost 920.00).
Net price = List Price x (1 - total %), the line rounded once (PA-1.3).
"""

from __future__ import annotations

from typing import Any

import pytest

from memory_store import memory_runtime
from revgov.domain import explain
from revgov.domain.access import Principal, Role
from revgov.domain.errors import RuleViolation
from revgov.domain.partners import tiers_by_rank
from revgov.local.demo_partners import demo_application, onboard
from revgov.services import cases, deals, decisions, pricing
from store_counting import Counting

AT = "2026-11-10T10:00:00.000Z"  # NET-REFRESH-26 and HW-CLEARANCE-Q4 (exclusive) run; both contracts in force
CUSTOMER = {"id": "US-EIN-55-5550001", "name": "Harbor Logistics", "contact": "Dana Ortiz, IT director"}


def _party(tenant: str, tier: str) -> tuple[Any, dict[str, Principal], Principal]:
    """The tenant on the in-memory runtime with two active partners of `tier` (each with its partner key): the
    holder and a rival. Returns the runtime, the partner keys by role and channel ops."""
    rt, _ = memory_runtime(AT, tenant=tenant)
    sales = Principal(tenant, Role.SALES, "key_01JX00000000000000000SALES")
    ops = Principal(tenant, Role.CHANNEL_OPS, "key_01JX0000000000000000000OPS")
    policy = rt.store.get(tenant, "TENANT", "PROFILE").data["config"]["policy"]
    level = next(t for t in tiers_by_rank(policy) if t["tier"] == tier)
    keys = {}
    for n, name in enumerate(("holder", "rival")):
        partner = onboard(rt, policy, demo_application(f"{name} {tier}", "reseller", level), "active",
                          sales=sales, approver=ops)
        keys[name] = Principal(tenant, Role.PARTNER, f"key_01JX00000000000000PARTNR{n}", partner["partner_id"])
    return rt, keys, ops


def _register(rt: Any, who: Principal, ops: Principal, family: str) -> str:
    made = deals.register(rt, who, {"partner_id": who.partner_id, "customer": CUSTOMER, "family": family,
                                    "estimated_value": "48000.00", "expected_close": "2027-01-15"})
    cases.decide_case(rt, ops, "approval", made["approval_id"], "approved", "engaged, PA-5.2")
    assert deals.get(rt, who, made["deal_id"])["status"] == "approved"
    return str(made["deal_id"])


def _quote(rt: Any, who: Principal, sku: str, quantity: int, discount: str, *, customer: dict[str, Any] = CUSTOMER,
           promotions: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    return pricing.check(rt, who, {"partner_id": who.partner_id, "customer": customer, "promotions": list(promotions),
                                   "lines": [{"line_id": "1", "sku": sku, "quantity": quantity,
                                              "discount_percent": discount}], **extra})


def _components(line: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["source"]: c for c in line["discount_components"]}


@pytest.fixture(scope="module")
def northwind() -> tuple[Any, dict[str, Principal], Principal, dict[str, str]]:
    rt, keys, ops = _party("northwind", "platinum")  # certified in networking and hardware (PA-5.1)
    registered = {family: _register(rt, keys["holder"], ops, family) for family in ("networking", "hardware")}
    return rt, keys, ops, registered


def test_pa_5_6_the_holder_receives_the_discount_without_naming_its_registration(northwind):
    rt, keys, _, registered = northwind
    checked = _quote(rt, keys["holder"], "NW-SW-24P", 2, "4.00")
    line = checked["lines"][0]
    # 4% discretionary + 5% registration = 9% (PA-6.4 additive): 1250.00 x 0.91 = 1137.50 a unit, x 2 = 2275.00
    assert _components(line)["registration"] == {"source": "registration", "percent": "5.00",
                                                 "rule_id": "PRC-DEALREG-DISCOUNT", "clause": "PA-5.6",
                                                 "registration_id": registered["networking"]}
    assert line["combined_discount_percent"] == "9.00"
    assert line["net_unit_price"] == "1137.50" and line["net_total"] == "2275.00"
    assert checked["outcome"] == "allow"  # 9% is within the platinum networking cap of 20% (PA-6.2)
    # the explanation says which registration gave it, and the decision replays as made
    record, _ = decisions.load(rt, keys["holder"], checked["decision_id"])
    words = explain.explain_decision(record, {})["explanation"]
    assert f"registration 5.00% (deal registration {registered['networking']}, PA-5.6)" in words
    assert decisions.replay(rt, keys["holder"], checked["decision_id"])["identical"] is True


def test_pa_5_6_naming_the_registration_gives_the_same_discount_once(northwind):
    rt, keys, _, registered = northwind
    named = _quote(rt, keys["holder"], "NW-SW-24P", 2, "4.00", deal_registration_id=registered["networking"])
    line = named["lines"][0]
    assert [c["source"] for c in line["discount_components"]] == ["discretionary", "registration"]
    assert line["net_total"] == "2275.00"  # 1250.00 x (1 - 0.09) x 2, as without naming it


def test_pa_5_3_a_rival_quoting_the_registered_customer_gets_no_registration_discount(northwind):
    rt, keys, _, registered = northwind
    checked = _quote(rt, keys["rival"], "NW-SW-24P", 2, "4.00")
    line = checked["lines"][0]
    # 4% discretionary only: 1250.00 x 0.96 = 1200.00 a unit, x 2 = 2400.00
    assert list(_components(line)) == ["discretionary"] and line["net_total"] == "2400.00"
    assert "PRC-CHANNEL-CONFLICT" in {r["rule_id"] for r in checked["reasons"]}
    # naming the holder's registration is refused as before: it is not the rival's
    with pytest.raises(RuleViolation, match="not this partner's"):
        _quote(rt, keys["rival"], "NW-SW-24P", 2, "4.00", deal_registration_id=registered["networking"])


def test_pa_5_6_only_for_the_registered_customer_and_family(northwind):
    rt, keys, _, registered = northwind
    other = {"id": "US-EIN-55-5550002", "name": "Summit Schools"}
    elsewhere = _quote(rt, keys["holder"], "NW-SW-24P", 2, "4.00", customer=other)
    assert list(_components(elsewhere["lines"][0])) == ["discretionary"]
    assert elsewhere["lines"][0]["net_total"] == "2400.00"  # 1250.00 x 0.96 x 2
    # naming a registration that does not match the quote stays an error
    with pytest.raises(RuleViolation, match="another customer"):
        _quote(rt, keys["holder"], "NW-SW-24P", 2, "4.00", customer=other,
               deal_registration_id=registered["networking"])
    # security is not registered for this customer: no registration component on its line
    security = _quote(rt, keys["holder"], "NW-FW-200", 1, "2.00")
    assert list(_components(security["lines"][0])) == ["discretionary"]
    assert security["lines"][0]["net_total"] == "3332.00"  # 3400.00 x 0.98


def test_pa_6_6_the_received_discount_counts_towards_the_approval_thresholds(northwind):
    rt, keys, _, _ = northwind
    # 16% discretionary + 5% registration = 21% > the platinum networking cap of 20%: Channel Operations approves
    # (PA-6.6(a)); 99.00 x 0.79 = 78.21 a unit, x 10 = 782.10
    checked = _quote(rt, keys["holder"], "NW-NET-MGMT", 10, "16.00")
    line = checked["lines"][0]
    assert line["combined_discount_percent"] == "21.00" and line["net_total"] == "782.10"
    assert checked["outcome"] == "approval_required"
    assert [a["category"] for a in checked["approvals"]] == ["discount_above_tier_cap"]
    # the same 16% for a customer the holder has not registered is within the cap: allowed, 99.00 x 0.84 x 10
    other = _quote(rt, keys["holder"], "NW-NET-MGMT", 10, "16.00", customer={"id": "US-EIN-55-5550003", "name": "X"})
    assert other["outcome"] == "allow" and other["lines"][0]["net_total"] == "831.60"


def test_pa_6_5_the_received_discount_and_an_exclusive_promotion_are_rejected_together(northwind):
    rt, keys, _, _ = northwind
    # HW-CLEARANCE-Q4 (8%, exclusive) on a hardware line the holder registered: the line combines it with the
    # registration discount it receives, "is rejected" (PA-6.5)
    combined = _quote(rt, keys["holder"], "NW-SRV-R2", 1, "0", promotions=("HW-CLEARANCE-Q4",))
    assert combined["outcome"] == "deny"
    assert "PRC-EXCLUSIVE-PROMO" in {r["rule_id"] for r in combined["reasons"]}
    assert set(_components(combined["lines"][0])) == {"discretionary", "registration", "promotion:HW-CLEARANCE-Q4"}
    # without the promotion the holder gets its 5%: 5200.00 x 0.95 = 4940.00
    plain = _quote(rt, keys["holder"], "NW-SRV-R2", 1, "0")
    assert plain["outcome"] == "allow" and plain["lines"][0]["net_total"] == "4940.00"
    # the rival receives no registration discount, so the exclusive promotion alone is no combination:
    # 5200.00 x 0.92 = 4784.00; it waits only for the channel conflict approval (the customer is registered)
    rival = _quote(rt, keys["rival"], "NW-SRV-R2", 1, "0", promotions=("HW-CLEARANCE-Q4",))
    assert rival["lines"][0]["net_total"] == "4784.00"
    assert "PRC-EXCLUSIVE-PROMO" not in {r["rule_id"] for r in rival["reasons"]}
    assert [a["category"] for a in rival["approvals"]] == ["deal_registration_conflict"]


def test_pa_5_6_the_quote_reads_registrations_by_customer_and_family_not_by_scanning(northwind):
    """The check reads the opportunity locks of the quote's families in one call, whatever the partner holds: the
    holder's quote for its registered customer costs the same reads as its quote for a customer it holds nothing
    for, and neither lists registrations."""
    rt, keys, _, _ = northwind
    reads = []
    for customer in (CUSTOMER, {"id": "US-EIN-55-5550004", "name": "Unregistered Co"}):
        with Counting(rt.store) as counted:
            _quote(rt, keys["holder"], "NW-SW-24P", 1, "1.00", customer=customer)
        assert not [p for p in counted.partitions if str(p).startswith("DEAL")], counted.partitions
        reads.append(dict(counted.calls))
    assert reads[0] == reads[1], reads


def test_cpa_5_5_contoso_the_holder_receives_4_points_on_the_registered_family():
    rt, keys, ops = _party("contoso", "elite")
    deal_id = _register(rt, keys["holder"], ops, "devices")  # elite partners hold cert-devices-field (CPA-5.1)
    checked = _quote(rt, keys["holder"], "CT-DEV-LAPTOP14", 1, "2.00")
    line = checked["lines"][0]
    # 2% discretionary + 4% registration = 6%: 1150.00 x 0.94 = 1081.00
    assert _components(line)["registration"]["registration_id"] == deal_id
    assert _components(line)["registration"]["clause"] == "CPA-5.5"
    assert line["net_total"] == "1081.00" and checked["outcome"] == "allow"  # elite devices cap 16% (CPA-6.2)
    rival = _quote(rt, keys["rival"], "CT-DEV-LAPTOP14", 1, "2.00")
    assert list(_components(rival["lines"][0])) == ["discretionary"]
    assert rival["lines"][0]["net_total"] == "1127.00"  # 1150.00 x 0.98
    # CPA-6.5: "A line combining an exclusive campaign with [...] a registration discount is refused."
    flash = _quote(rt, keys["holder"], "CT-DEV-LAPTOP14", 1, "0", promotions=("DEVICES-FLASH",))
    assert flash["outcome"] == "deny" and "PRC-EXCLUSIVE-CAMPAIGN" in {r["rule_id"] for r in flash["reasons"]}


def test_pa_4_3_d_a_suspended_registration_gives_its_holder_no_discount_named_or_not():
    """PA-4.3(d): on a certification's expiry "approved deal registrations in that Product Family are suspended, with
    the exclusivity period continuing to run". The holder's security registration is suspended after its only
    cert-security-pro holder left (PA-4.4, `partner_departures`): a quote naming it is refused (as before), one that
    does not gets no registration discount (and the family is barred, PA-4.3(b))."""
    from revgov.services import partner_departures

    rt, clock = memory_runtime("2026-05-04T10:00:00.000Z")
    sales = Principal("northwind", Role.SALES, "key_01JX00000000000000000SALES")
    ops = Principal("northwind", Role.CHANNEL_OPS, "key_01JX0000000000000000000OPS")
    policy = rt.store.get("northwind", "TENANT", "PROFILE").data["config"]["policy"]
    gold = next(t for t in tiers_by_rank(policy) if t["tier"] == "gold")
    partner = onboard(rt, policy, demo_application("Held Discount Networks", "reseller", gold), "active",
                      sales=sales, approver=ops)
    holder = Principal("northwind", Role.PARTNER, "key_01JX00000000000000PARTNR9", partner["partner_id"])
    made = deals.register(rt, sales, {"partner_id": partner["partner_id"], "customer": CUSTOMER, "family": "security",
                                      "estimated_value": "9000.00", "expected_close": "2026-06-30"})
    cases.decide_case(rt, ops, "approval", made["approval_id"], "approved", "engaged, PA-5.2")
    # before the departure: 2% + 5% = 7% on NW-FW-200, 3400.00 x 0.93 = 3162.00
    assert _quote(rt, holder, "NW-FW-200", 1, "2.00")["lines"][0]["net_total"] == "3162.00"
    clock.set("2026-06-08T10:00:00.000Z")
    partner_departures.record(rt, ops, partner["partner_id"], {"certification_id": "cert-security-pro",
                                                               "last_day": "2026-06-05"})
    assert deals.get(rt, holder, made["deal_id"])["status"] == "suspended"
    unnamed = _quote(rt, holder, "NW-FW-200", 1, "2.00")
    assert list(_components(unnamed["lines"][0])) == ["discretionary"]
    assert unnamed["lines"][0]["net_total"] == "3332.00"  # 3400.00 x 0.98
    with pytest.raises(RuleViolation, match="suspended"):
        _quote(rt, holder, "NW-FW-200", 1, "2.00", deal_registration_id=made["deal_id"])


@pytest.mark.parametrize(("tenant", "tier", "family", "sku", "after"), [
    # PA-5.3 "A registration expires at the end of its exclusivity period unless an order has been accepted": kept,
    # it bars rivals, but PA-5.6 gives the discount "during the exclusivity period" only: 1250.00 x 0.98 = 1225.00
    ("northwind", "platinum", "networking", "NW-SW-24P", "1225.00"),
    # CPA-5.2 "Protection ends at the end of the period unless an order has been accepted": the protection goes on,
    # and CPA-5.5 gives the discount "during the protection period": 2% + 4%, 1150.00 x 0.94 = 1081.00
    ("contoso", "elite", "devices", "CT-DEV-LAPTOP14", "1081.00"),
])
def test_after_the_period_an_accepted_order_keeps_the_discount_only_where_the_clause_does(
    tenant, tier, family, sku, after
):
    rt, keys, ops = _party(tenant, tier)
    deal_id = _register(rt, keys["holder"], ops, family)
    deals.record_order(rt, ops, deal_id, {"order_ref": "SO-KEPT-1", "accepted_at": AT})
    rt.clock.advance(days=120)  # past northwind's 90 and contoso's 60 days (no extension asked)
    checked = _quote(rt, keys["holder"], sku, 1, "2.00")
    assert checked["lines"][0]["net_total"] == after
    rival = _quote(rt, keys["rival"], sku, 1, "2.00")
    assert "PRC-CHANNEL-CONFLICT" in {r["rule_id"] for r in rival["reasons"]}  # still registered to the holder


def test_pa_4_3_d_the_quote_says_why_its_holder_gets_no_discount_and_a_rival_never_reads_whose():
    """PA-4.3(d): "approved deal registrations in that Product Family are suspended, with the exclusivity period
    continuing to run, and they lapse if a valid certification is not recorded within 30 days after expiry" (the
    policy's `deal_registration.certification_lapse`, DR-CERT-LAPSE, PA-4.3). PA-5.6 gives the discount to "A Partner
    holding an approved registration"; a suspended one gives none. The holder's quote that does not name it is told
    why, naming its registration, the status and the clause; a rival quoting the same customer (PA-5.5: told "not the
    identity of the other Partner") reads the channel conflict but never that registration."""
    from revgov.services import partner_departures

    rt, clock = memory_runtime("2026-05-04T10:00:00.000Z")
    sales = Principal("northwind", Role.SALES, "key_01JX00000000000000000SALES")
    ops = Principal("northwind", Role.CHANNEL_OPS, "key_01JX0000000000000000000OPS")
    policy = rt.store.get("northwind", "TENANT", "PROFILE").data["config"]["policy"]
    gold = next(t for t in tiers_by_rank(policy) if t["tier"] == "gold")
    keys = []
    for n, name in enumerate(("Withheld Networks", "Rival Withheld Networks")):
        partner = onboard(rt, policy, demo_application(name, "reseller", gold), "active", sales=sales, approver=ops)
        keys.append(Principal("northwind", Role.PARTNER, f"key_01JX0000000000000PARTNRW{n}", partner["partner_id"]))
    holder, rival = keys
    made = deals.register(rt, sales, {"partner_id": holder.partner_id, "customer": CUSTOMER, "family": "security",
                                      "estimated_value": "9000.00", "expected_close": "2026-06-30"})
    cases.decide_case(rt, ops, "approval", made["approval_id"], "approved", "engaged, PA-5.2")
    deal_id = made["deal_id"]
    clock.set("2026-06-08T10:00:00.000Z")
    partner_departures.record(rt, ops, holder.partner_id, {"certification_id": "cert-security-pro",
                                                           "last_day": "2026-06-05"})
    for status, when in (("suspended", "2026-06-08T10:00:00.000Z"), ("lapsed", "2026-07-08T10:00:00.000Z")):
        clock.set(when)  # lapsed: 30 days after the expiry on 2026-06-05 (PA-4.3(d))
        assert deals.get(rt, holder, deal_id)["status"] == status
        checked = _quote(rt, holder, "NW-FW-200", 1, "2.00")
        assert list(_components(checked["lines"][0])) == ["discretionary"]  # no registration discount, as before
        (why,) = [r for r in checked["reasons"] if deal_id in r["message"]]
        assert (why["rule_id"], why["clause"]) == ("DR-CERT-LAPSE", "PA-4.3")
        assert f"deal registration {deal_id} is {status}" in why["message"] and "PA-5.6" in why["message"]
        assert why in [{k: f[k] for k in ("rule_id", "clause", "message")} for f in checked["lines"][0]["findings"]]
        # the holder reads it in its own view and in the decision's explanation
        seen = decisions.view(rt, holder, checked["decision_id"])
        assert seen["inputs"]["withheld_registrations"]["security"]["registration_id"] == deal_id
        words = explain.explain_decision(seen, {})["explanation"]
        assert f"deal registration {deal_id} is {status}" in words
        assert decisions.replay(rt, holder, checked["decision_id"])["identical"] is True
    # a rival quoting the same customer: the (suspended) registration still bars it, but nothing names it
    clock.set("2026-06-09T10:00:00.000Z")
    other = _quote(rt, rival, "NW-FW-200", 1, "2.00")
    assert "PRC-CHANNEL-CONFLICT" in {r["rule_id"] for r in other["reasons"]}
    seen = decisions.view(rt, rival, other["decision_id"])
    assert deal_id not in repr(other) and deal_id not in repr(seen), seen
    assert deal_id not in explain.explain_decision(seen, {})["explanation"]
