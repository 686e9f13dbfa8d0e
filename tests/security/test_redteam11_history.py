"""Red team, eleventh round: two history files for one partner-month imported at the same time (`POST
/v1/history/imports`, a finance key; docs/history.md: n8n "can simply resend a part that got no answer", and a part
holds "whole partner-months").

docs/history.md "Checks": a file is refused for "a partner-month Revgov already billed, or another file imported";
PA-10.1: one invoice per partner and month. Both files were checked before either wrote (each read no import of the
month), then both wrote the month's invoice under the same derived id: the second file's lines overwrote the first's
line for line (the line keys are the invoice's and the line's number), so October's 50,000.00 of the first file was
never counted while its import stood as done. Now a file claims its partner-months before writing any: the second
file is a 409 naming the month and the import holding it, nothing of it written. A fixed clock, the in-memory
runtime; the second request's check is made to read what it read concurrently (before the first wrote), for this
test's own thread only.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest

from memory_store import Ledger
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Conflict
from revgov.ports import Changes, Put
from revgov.services import billing, history

P1 = "ptr_01JBNWPARTNER0000000000001"
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")


def _file(ref: str, amount: str) -> dict[str, Any]:
    return {"source": f"{ref}.csv", "payments": [], "lines": [
        {"partner_id": P1, "invoice_ref": f"INV-{ref}", "invoice_date": "2025-10-31", "line_ref": f"{ref}-1",
         "sku": "NW-SW-24P", "quantity": "40", "amount": amount}]}


def _ledger() -> Ledger:
    ledger = Ledger("2026-10-01T08:00:00Z")
    partner = ledger.rt.store.get("northwind", "PARTNER", P1)
    assert partner is not None
    ledger.rt.store.commit(
        "northwind", Changes(puts=[Put("PARTNER", P1, {**partner.data, "activated_at": "2024-01-10T09:00:00Z"})]))
    return ledger


def test_two_files_of_one_partner_month_at_once_the_second_is_refused_and_the_first_kept(
        monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = _ledger()
    first, second = _file("A100", "50000.00"), _file("B200", "30000.00")
    original = history._known
    # what the second request's check read: the month before the first file wrote it (the two ran at once)
    stale = original(ledger.rt, "northwind", second["lines"], [], *_catalog_and_policy(ledger))
    me = threading.get_ident()

    def known(*args: Any, **kwargs: Any) -> Any:
        if threading.get_ident() == me and args[2] == second["lines"]:
            return stale
        return original(*args, **kwargs)

    monkeypatch.setattr(history, "_known", known)
    assert history.import_history(ledger.rt, FINANCE, first)["invoices"] == 1
    with pytest.raises(Conflict) as refused:
        history.import_history(ledger.rt, FINANCE, second)
    assert "2025-10" in str(refused.value) and P1 in str(refused.value), refused.value
    pointer = ledger.rt.store.get("northwind", billing.INVOICE_KEYS, f"{P1}#2025-10")
    invoice = billing.get_invoice(ledger.rt, "northwind", pointer.data["invoice_id"])
    assert [(ln["amount"], ln["detail"]["erp_line_ref"]) for ln in invoice["lines"]] == [("50000.00", "A100-1")]
    facts = [f.data for f in ledger.rt.store.query("northwind", billing.SALES_FACTS, limit=100).items]
    assert sum(Decimal(f["net_amount"]) for f in facts if f["partner_id"] == P1) == Decimal("50000.00"), facts
    assert ledger.rt.store.get("northwind", history.HISTORY_LINES, f"{P1}#B200-1") is None


def _catalog_and_policy(ledger: Ledger) -> tuple[Any, dict[str, Any]]:
    from revgov.services import tenants
    from revgov.services.catalog import tenant_catalog

    tenant, _ = tenants.load_tenant(ledger.rt, "northwind")
    return tenant_catalog(ledger.rt, "northwind", tenant.policy), tenant.policy
