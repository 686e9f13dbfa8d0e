"""Red team, twelfth round: a go-live history file paying an invoice on a day that has not come.

docs/history.md: "History is what came before" and a payment row is refused when "dated before its invoice's month
or paid twice" (422, nothing written). A finance key's file could pay a past invoice on a day after today
(`paid_on: 2030-01-31`): the invoice stood paid on a day no one has reached, which the `paid`-basis programs
(commissions, PA-8.2) and the open balance that decides a bank-transfer settlement (PA-7.8: "where the Partner has no
open balance") read. A live ERP event from the future is held as implausible (PA-2.2, BILL-PLAUSIBILITY); a history
row dated after today is the 422 naming `/payments/N/paid_on`. A payment up to today is taken as before.
"""

from __future__ import annotations

import pytest

from memory_store import Ledger
from revgov.domain.access import Principal, Role
from revgov.domain.errors import RuleViolation
from revgov.services import history

PARTNER = "ptr_01JBNWPARTNER0000000000001"
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")
TODAY = "2026-12-10T08:00:00Z"  # go-live 2026-10-01: October and November 2026 are past months before today
ROW = {"partner_id": PARTNER, "invoice_ref": "INV-A100", "invoice_date": "2025-10-31", "line_ref": "A100-1",
       "sku": "NW-SW-24P", "quantity": "40", "amount": "50000.00"}  # fmt: skip


def _file(paid_on: str) -> dict:
    return {"source": "rt12.csv", "lines": [ROW],
            "payments": [{"partner_id": PARTNER, "invoice_ref": "INV-A100", "paid_on": paid_on}]}  # fmt: skip


@pytest.mark.parametrize("paid_on", ["2026-12-11", "2030-01-31"])
def test_a_payment_dated_after_today_is_refused(paid_on):
    ledger = Ledger("2026-10-01T08:00:00Z")
    ledger.clock.set(TODAY)
    with pytest.raises(RuleViolation) as refused:
        history.import_history(ledger.rt, FINANCE, _file(paid_on))
    assert [e.path for e in refused.value.errors] == ["/payments/0/paid_on"]
    assert not ledger.rt.store.query("northwind", history.IMPORTS, limit=5).items  # nothing imported


def test_a_payment_up_to_today_is_taken():
    ledger = Ledger("2026-10-01T08:00:00Z")
    ledger.clock.set(TODAY)
    assert history.import_history(ledger.rt, FINANCE, _file("2026-12-10"))["invoices"] == 1
