"""Finance's tenant-wide list of overdue invoices (GET /v1/billing/overdue/invoices).

PA-10.8: "Invoices are payable within the Partner's payment term under PA-6.7 ... Overdue amounts bear" interest;
SOP-1.2: the finance queue handles invoices; a partner key reads only its own (COMMON / SECURITY.md: "A partner key
reads/changes only its own objects; a rival's or unknown id is 404"). P1's September invoice (issued 2026-10-01,
PA-6.7 net 30: due 2026-10-31) and P2's, issued the same day: on 2026-11-10 both are overdue (10 days), neither named
by a partner id in the request.
"""

from __future__ import annotations

import pytest

from overdue_support import AS_P1, AS_P2, FINANCE, P1, P2, september
from revgov.domain.errors import NotFound
from revgov.services import billing
from revgov.services.billing import overdue


def _two_overdue():
    ledger, p1_invoice = september()
    ledger.clock.set("2026-09-06T12:00:00Z")
    data = {"partner_id": P2, "order_ref": "SO-2", "shipped_on": "2026-09-06",
            "lines": [{"sku": "NW-SRV-R2", "quantity": 1}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", data, occurred_at="2026-09-06T10:00:00Z")["status"] == "processed"
    ledger.clock.set("2026-10-01T07:00:00Z")
    p2_invoice = billing.finalize_invoice(ledger.rt, FINANCE, ledger.invoice(P2, "2026-09")["invoice_id"])["invoice_id"]
    ledger.clock.set("2026-11-10T09:00:00Z")
    return ledger, p1_invoice, p2_invoice


def _all(ledger, who, **kw):
    items, cursor = [], None
    while True:
        page = overdue.overdue_invoices(ledger.rt, who, limit=1, cursor=cursor, **kw)
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return page, items


def test_finance_lists_every_partners_overdue_invoice_without_naming_a_partner_page_by_page():
    ledger, p1_invoice, p2_invoice = _two_overdue()
    page, items = _all(ledger, FINANCE, partner_id=None, as_of=None)
    mine = {i["overdue"]["invoice_id"]: i for i in items if i["overdue"]["invoice_id"] in (p1_invoice, p2_invoice)}
    assert set(mine) == {p1_invoice, p2_invoice}
    assert (mine[p1_invoice]["partner_id"], mine[p2_invoice]["partner_id"]) == (P1, P2)
    assert mine[p1_invoice]["overdue"]["due_on"] == "2026-10-31" and mine[p1_invoice]["overdue"]["days_overdue"] == 10
    assert (page["rule_id"], page["clause"]) == ("BILL-LATE-PAYMENT", "PA-10.8") and page["as_of"] == "2026-11-10"


def test_on_its_due_day_an_unpaid_invoice_is_not_yet_listed():
    ledger, p1_invoice, _ = _two_overdue()
    _, items = _all(ledger, FINANCE, partner_id=None, as_of="2026-10-31")  # "not paid when due": the due day itself
    assert [i for i in items if i["overdue"]["invoice_id"] == p1_invoice] == []


def test_a_partner_key_lists_only_its_own_and_a_rivals_id_is_404():
    ledger, p1_invoice, p2_invoice = _two_overdue()
    _, items = _all(ledger, AS_P1, partner_id=None, as_of=None)
    assert {i["overdue"]["invoice_id"] for i in items} == {p1_invoice} and {i["partner_id"] for i in items} == {P1}
    with pytest.raises(NotFound) as rival:
        overdue.overdue_invoices(ledger.rt, AS_P2, partner_id=P1, as_of=None, limit=50, cursor=None)
    assert "no partner" in rival.value.detail
    _, only_p2 = _all(ledger, FINANCE, partner_id=P2, as_of=None)
    assert {i["overdue"]["invoice_id"] for i in only_p2} == {p2_invoice}
