"""Reviewer case: approval routing and segregation of duties on a quote that needs three approvals.

PA-6.6: "(a) a combined discount above the Partner's tier cap for the line's Product Family requires Channel
Operations approval; (b) a combined discount above 25% of List Price requires Finance approval, in addition to any
approval required under (a); (c) a Line Margin below 12% requires Finance approval ... Approvals ... cannot be granted
by the person who requested them. A quote requiring more than one approval is released only when all are granted."
SOP-4.1: "An item that matches more than one category is split into one exception per category, and the underlying
request is released only when every exception is approved."
SOP-4.3: "A requester can never approve their own request. ... Where a request needs two approvals, for example Channel
Operations and Finance under PA-6.6, they must be given by two different people, neither of whom is the requester.
... Any attempt to self-approve is rejected and recorded in the audit log." (COP-4.3: "Where two approvals are
required, two different people give them, neither being the requester.")
SOP-1.2: "The admin role manages users, keys and queue membership but does not approve exceptions. A member of a queue
may act only on items in that queue."

By hand: platinum partner, 2 x NW-SW-24P (list 1,250.00, cost 900.00) at 26% off: 26% > the platinum networking cap
of 20% (a: channel_ops), 26% > 25% (b: finance), net 925.00, margin (925.00 - 900.00) / 925.00 = 2.70% < 12%
(c: finance). Three approvals, two of them finance's: one finance member gives one of them, never both.
"""

from __future__ import annotations

import pytest

from memory_store import Ledger
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Forbidden
from revgov.services import cases, pricing

PLATINUM = "ptr_01JBNWPARTNER0000000000001"
SALES = Principal("northwind", Role.SALES, "key_rv2_sales")
FINANCE_A = Principal("northwind", Role.FINANCE, "key_rv2_fin_a")
FINANCE_B = Principal("northwind", Role.FINANCE, "key_rv2_fin_b")
OPS = Principal("northwind", Role.CHANNEL_OPS, "key_rv2_ops")
ADMIN = Principal("northwind", Role.ADMIN, "key_rv2_admin")


def _quote(ledger: Ledger, who: Principal, ref: str) -> dict[str, str]:
    quote = {"partner_id": PLATINUM, "quote_ref": ref, "customer": {"id": "US-EIN-44-4444444", "name": "Rev Two"},
             "lines": [{"line_id": "1", "sku": "NW-SW-24P", "quantity": 2, "discount_percent": "26.00"}],
             "terms": {"payment_days": 30}}  # fmt: skip
    decision = pricing.check(ledger.rt, who, quote)
    assert decision["outcome"] == "approval_required", decision
    assert sorted((r["rule_id"], r["clause"]) for r in decision["reasons"]) == [
        ("PRC-FINANCE-THRESHOLD", "PA-6.6"), ("PRC-MARGIN-FLOOR", "PA-6.3"), ("PRC-TIER-CAPS", "PA-6.2")]
    routed = {a["category"]: (a["queue"], a["approval_id"]) for a in decision["approvals"]}
    assert {c: q for c, (q, _) in routed.items()} == {  # SOP-4.1's matrix
        "discount_above_tier_cap": "channel_ops", "discount_above_finance_threshold": "finance",
        "margin_below_floor": "finance"}
    return {"decision_id": decision["decision_id"], **{c: a for c, (_, a) in routed.items()}}


def _decide(ledger: Ledger, who: Principal, approval_id: str) -> str:
    return str(cases.decide_case(ledger.rt, who, "approval", approval_id, "approved", "checked")["status"])


def _quote_status(ledger: Ledger, decision_id: str) -> str:
    from revgov.services import decisions

    return str(decisions.head(ledger.rt, "northwind", decision_id).data["outcome"])


def test_one_finance_member_gives_one_of_a_quotes_two_finance_approvals_not_both():
    ledger = Ledger("2026-11-10T10:00:00Z")
    quote = _quote(ledger, SALES, "Q-RV2-1")
    assert _decide(ledger, FINANCE_A, quote["discount_above_finance_threshold"]) == "approved"
    with pytest.raises(Forbidden, match="two different people"):
        _decide(ledger, FINANCE_A, quote["margin_below_floor"])
    assert cases.find(ledger.rt, "northwind", quote["margin_below_floor"]).data["status"] == "pending"
    trail = ledger.rt.store.query("northwind", "AUDIT", limit=1000).items
    refused = [r.data for r in trail if r.data.get("subject") == quote["margin_below_floor"]
               and r.data.get("outcome") == "refused"]
    assert [r["actor"] for r in refused] == [FINANCE_A.actor], refused  # "recorded in the audit log"
    assert _decide(ledger, OPS, quote["discount_above_tier_cap"]) == "approved"
    assert _quote_status(ledger, quote["decision_id"]) == "approval_required"  # not released: one still pending
    assert _decide(ledger, FINANCE_B, quote["margin_below_floor"]) == "approved"
    assert _quote_status(ledger, quote["decision_id"]) == "allow"  # every approval granted, by three people


def test_neither_the_requester_nor_an_admin_nor_another_queue_approves():
    ledger = Ledger("2026-11-10T10:00:00Z")
    quote = _quote(ledger, FINANCE_A, "Q-RV2-2")  # a finance member requested it
    with pytest.raises(Forbidden, match="requester"):
        _decide(ledger, FINANCE_A, quote["discount_above_finance_threshold"])
    for who in (ADMIN, FINANCE_B, SALES):  # SOP-1.2: only the channel_ops queue acts on its item
        with pytest.raises(Forbidden, match="channel_ops"):
            _decide(ledger, who, quote["discount_above_tier_cap"])
    assert _decide(ledger, FINANCE_B, quote["discount_above_finance_threshold"]) == "approved"
