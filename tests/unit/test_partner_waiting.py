"""What waits on a partner (GET /v1/waiting; SOP-1.3 / COP-1.3): its own items only, page by page, gone once answered.

SOP-1.3: "The clock is paused only while an item is in the status "waiting on partner" and restarts when the Partner
responds." PA-11.1 / CPA-11.1: the Distributor does not disclose one Partner's data to another; a key id is the
distributor's own. The clock is fixed (tests/unit/test_sla_pause.py's October invoices, disputed 2026-11-10).
"""

from __future__ import annotations

import pytest
from test_sla_pause import CHANNEL, FINANCE, P1, P2, PARTNER1, PARTNER2, QUESTION, _disputed

from revgov.domain.access import Principal, Role
from revgov.domain.errors import MalformedRequest, NotFound
from revgov.ports import Changes, Delete
from revgov.services import case_repository, case_waiting, case_waiting_backfill, cases, tenants


def _two_waiting_on_p1():
    """Partner 1's dispute approval (finance) and an exception about it (channel ops), both asked about."""
    ledger, dispute = _disputed()
    policy = tenants.load_tenant(ledger.rt, "northwind")[0].policy
    requester = Principal("northwind", Role.SALES, "key_sales")
    case, changes = cases.open_case(ledger.rt, policy, kind="exception", category="discount_above_tier_cap",
                                    subject_kind="deal", subject_id="dl_probe", requested_by=requester,
                                    partner_id=P1)  # fmt: skip
    ledger.rt.commit("northwind", changes)
    assert case["queue"] == "channel_ops", case["queue"]
    case_waiting.ask_partner(ledger.rt, FINANCE, "approval", dispute["approval_id"], QUESTION)
    ledger.clock.set("2026-11-10T09:00:00Z")
    case_waiting.ask_partner(ledger.rt, CHANNEL, "exception", case["case_id"], "which end customer?")
    return ledger, dispute["approval_id"], case["case_id"]


def test_the_partner_reads_its_own_waiting_items_page_by_page_and_nothing_of_the_staff():
    ledger, approval, exception = _two_waiting_on_p1()
    items, cursor = case_waiting.waiting_on(ledger.rt, PARTNER1, None, limit=50, cursor=None)
    assert cursor is None
    assert {(i["kind"], i.get("approval_id") or i.get("exception_id")) for i in items} == {
        ("approval", approval), ("exception", exception)}
    by_kind = {i["kind"]: i for i in items}
    assert by_kind["approval"]["question"] == QUESTION
    assert by_kind["approval"]["asked_at"] == "2026-11-10T08:00:00.000Z"
    assert by_kind["exception"]["asked_at"] == "2026-11-10T09:00:00.000Z"
    assert by_kind["exception"]["category"] == "discount_above_tier_cap"
    assert by_kind["exception"]["reply"] == {"method": "POST", "path": f"/v1/exceptions/{exception}/partner-reply"}
    # PA-11.1: no key id (the asker's, the requester's), no reasons, context, queue or requester
    assert "key_" not in repr(items)
    assert not {"queue", "reasons", "context", "requested_by", "requested_by_key", "waiting"} & set().union(*items)
    # page by page: one at a time, the same two, then the end
    first, cursor = case_waiting.waiting_on(ledger.rt, PARTNER1, None, limit=1, cursor=None)
    assert len(first) == 1 and cursor
    second, last = case_waiting.waiting_on(ledger.rt, PARTNER1, None, limit=1, cursor=cursor)
    rest = [*second, *case_waiting.waiting_on(ledger.rt, PARTNER1, None, limit=1, cursor=last)[0]] if last else second
    assert [*first, *rest] == sorted(items, key=lambda i: i.get("approval_id") or i["exception_id"])
    # staff name the partner and read the same; the rival has none and cannot read partner 1's
    assert case_waiting.waiting_on(ledger.rt, FINANCE, P1, limit=50, cursor=None)[0] == items
    assert case_waiting.waiting_on(ledger.rt, PARTNER2, None, limit=50, cursor=None) == ([], None)
    with pytest.raises(NotFound):
        case_waiting.waiting_on(ledger.rt, PARTNER2, P1, limit=50, cursor=None)


def test_staff_name_a_partner_of_the_tenant():
    ledger, _, _ = _two_waiting_on_p1()
    with pytest.raises(MalformedRequest):
        case_waiting.waiting_on(ledger.rt, FINANCE, None, limit=50, cursor=None)
    with pytest.raises(NotFound):
        case_waiting.waiting_on(ledger.rt, FINANCE, "ptr_01JBNWPARTNER0000000000009", limit=50, cursor=None)
    assert case_waiting.waiting_on(ledger.rt, FINANCE, P2, limit=50, cursor=None) == ([], None)


def test_an_answered_or_decided_item_no_longer_waits():
    """SOP-1.3: the pause ends when the Partner responds; a decision ends it too (domain.cases.decide)."""
    ledger, approval, exception = _two_waiting_on_p1()
    ledger.clock.set("2026-11-10T12:00:00Z")
    case_waiting.partner_reply(ledger.rt, PARTNER1, "exception", exception, "Contoso GmbH")
    items, _ = case_waiting.waiting_on(ledger.rt, PARTNER1, None, limit=50, cursor=None)
    assert [i.get("approval_id") for i in items] == [approval]
    cases.decide_case(ledger.rt, FINANCE, "approval", approval, "rejected", "no delivery note")
    assert case_waiting.waiting_on(ledger.rt, PARTNER1, None, limit=50, cursor=None)[0] == []
    # decided while it waited: its pointer goes with it, so a page of `limit` is never short for a stale pointer
    left = ledger.rt.store.get("northwind", case_repository.WAITING_POINTERS, f"{P1}#{approval}")
    assert left is None


def test_items_asked_before_the_pointers_existed_are_listed_after_the_backfill_and_a_second_run_writes_nothing():
    """An item waiting on its partner when 1.28.0 came has no pointer: not listed until the backfill gives it one."""
    ledger, approval, exception = _two_waiting_on_p1()
    before = case_repository.WAITING_POINTERS
    ledger.rt.commit("northwind", Changes(deletes=[
        Delete(before, f"{P1}#{approval}"), Delete(before, f"{P1}#{exception}")]))  # as stored by 1.27.0
    assert case_waiting.waiting_on(ledger.rt, PARTNER1, None, limit=50, cursor=None) == ([], None)
    ran = case_waiting_backfill.backfill_waiting_pointers(ledger.rt, "northwind", actor="operator:cli-test")
    assert ran == {"tenant_id": "northwind", "scanned": 2, "backfilled": 2}
    items, _ = case_waiting.waiting_on(ledger.rt, PARTNER1, None, limit=50, cursor=None)
    assert {i.get("approval_id") or i.get("exception_id") for i in items} == {approval, exception}
    again = case_waiting_backfill.backfill_waiting_pointers(ledger.rt, "northwind", actor="operator:cli-test")
    assert again == {"tenant_id": "northwind", "scanned": 2, "backfilled": 0}
    with pytest.raises(NotFound):
        case_waiting_backfill.backfill_waiting_pointers(ledger.rt, "nosuchtenant", actor="operator:cli-test")
