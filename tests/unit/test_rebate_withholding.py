"""A partner with an invoice overdue beyond the policy's limit has its rebate settlement withheld, and released later.

PA-7.8 (northwind): "Rebates are withheld while the Partner has an invoice more than 60 days overdue and are released
in the first settlement after the overdue amount is paid."
CPA-7.8 (contoso): "A Partner whose VAT number fails validation, or that has an invoice more than 45 days overdue,
has its settlement withheld until resolved." (VAT validation is not built.)
PA-6.7: "Standard payment terms are net 30 days from the invoice date. Gold and Platinum Partners may request net 45
days as a standard term". An invoice is dated the day it is issued (finalized), so it falls due that day + the term.

September's invoice of P1 (30 x NW-SRV-R2) is issued on 2026-10-01 and so due on 2026-10-31 (net 30). On 2026-12-30
it is 60 days overdue (not "more than 60"): nothing is withheld. On 2026-12-31 it is 61 days overdue: the 2026-Q3
statement is withheld, left out of the run's payable total, and carried until the first settlement after payment.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from memory_store import Ledger
from rebate_runs import pay, september, settle_run, ship
from revgov import schemas
from revgov.domain.access import Principal, Role
from revgov.domain.rebates.withholding import Withholding
from revgov.domain.rules import Rule
from revgov.ports import Changes, Put
from revgov.services import rebates
from revgov.services.billing.overdue import owing_beyond
from revgov.tenant_files import load_tenant_file
from support import ROOT

P1, P2 = "ptr_01JBNWPARTNER0000000000001", "ptr_01JBNWPARTNER0000000000002"
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")
AS_P1 = Principal("northwind", Role.PARTNER, "key_p1", P1)
AS_P2 = Principal("northwind", Role.PARTNER, "key_p2", P2)


@pytest.mark.parametrize(
    ("terms_days", "settle_at", "withheld"),
    [
        (None, "2026-12-30T09:00:00Z", False),  # due 2026-10-31 (net 30): 60 days overdue is not "more than 60"
        (None, "2026-12-31T09:00:00Z", True),  # 61 days overdue
        (45, "2027-01-14T09:00:00Z", False),  # net 45 (PA-6.7): due 2026-11-15, 60 days overdue
        (45, "2027-01-15T09:00:00Z", True),  # 61 days overdue
    ],
)
def test_pa_7_8_rebates_are_withheld_while_an_invoice_is_more_than_60_days_overdue(terms_days, settle_at, withheld):
    ledger, invoice_id = september(FINANCE, terms_days)
    settled = settle_run(ledger, FINANCE, "2026-Q3", settle_at)
    view = rebates.get_settlement(ledger.rt, FINANCE, settled["settlement_id"], P1)
    statement = view["statement"]
    total = Decimal(statement["total"])
    assert total > 0  # the statement states what the quarter earned either way
    assert statement["status"] == ("withheld" if withheld else "payable")
    assert view["partners"][0]["status"] == statement["status"]
    if withheld:
        assert view["totals"]["payable"] == "0.00" and view["withheld"]["total"] == statement["total"]
        assert view["withheld"]["partners"] == [P1]
        held = statement["withholding"]
        assert (held["rule_id"], held["clause"], held["overdue_days"]) == ("RBT-WITHHOLDING", "PA-7.8", 60)
        assert [i["invoice_id"] for i in held["overdue_invoices"]] == [invoice_id]
        assert held["overdue_invoices"][0]["days_overdue"] == 61
    else:
        assert view["totals"]["payable"] == statement["total"] and view["withheld"]["total"] == "0.00"
        assert "withholding" not in statement
    audit = [r for r in ledger.rt.store.audit_records("northwind") if r["action"] == "rebate_settlement.settled"]
    assert len(audit) == 1
    assert ("RBT-WITHHOLDING" in audit[0]["rule_ids"]) is withheld and "PA-7.8" in audit[0]["clauses"]
    if withheld:
        assert audit[0]["inputs"]["withheld"] == {P1: {"amount": statement["total"], "invoices": [invoice_id]}}


def test_pa_7_8_the_withheld_amount_is_released_in_the_first_settlement_after_payment():
    # "... and are released in the first settlement after the overdue amount is paid."
    ledger, invoice_id = september(FINANCE)
    q3 = settle_run(ledger, FINANCE, "2026-Q3", "2026-12-31T09:00:00Z")
    withheld = rebates.get_settlement(ledger.rt, FINANCE, q3["settlement_id"], P1)["statement"]["total"]
    assert q3["totals"]["payable"] == "0.00"
    pay(ledger, P1, invoice_id, "2027-01-05")
    q4 = settle_run(ledger, FINANCE, "2026-Q4", "2027-01-06T09:00:00Z")  # nothing sold in Q4: the release alone
    statement = rebates.get_settlement(ledger.rt, FINANCE, q4["settlement_id"], P1)["statement"]
    releases = [ln for ln in statement["lines"] if ln["kind"] == "withheld_release"]
    assert [(r["amount"], r["references"]["settlement_id"], r["clause"]) for r in releases] == [
        (withheld, q3["settlement_id"], "PA-7.8")
    ]
    assert statement["status"] == "payable" and q4["totals"]["payable"] == withheld
    assert q4["withheld"] == {"total": "0.00", "partners": [], "released": [
        {"partner_id": P1, "settlement_id": q3["settlement_id"], "amount": withheld}
    ]}  # fmt: skip
    audit = [r for r in ledger.rt.store.audit_records("northwind") if r["action"] == "rebate_settlement.settled"]
    assert "RBT-WITHHOLDING" in audit[-1]["rule_ids"] and audit[-1]["inputs"]["released"] == [
        f"{P1}#{q3['settlement_id']}"
    ]
    # released once: the next quarter pays it no more
    q1 = settle_run(ledger, FINANCE, "2027-Q1", "2027-04-06T09:00:00Z")
    assert q1["totals"]["payable"] == "0.00"


def test_pa_7_8_an_unpaid_invoice_keeps_the_amount_withheld_in_the_next_run():
    ledger, _ = september(FINANCE)
    settle_run(ledger, FINANCE, "2026-Q3", "2026-12-31T09:00:00Z")
    q4 = settle_run(ledger, FINANCE, "2026-Q4", "2027-01-06T09:00:00Z")
    assert q4["totals"]["payable"] == "0.00" and q4["partners"] == []  # still overdue: nothing released


def test_a_partner_reads_its_own_overdue_invoices_and_never_another_partners():
    ledger, invoice_id = september(FINANCE)
    ship(ledger, P2, "2026-09-07", quantity=5)
    settled = settle_run(ledger, FINANCE, "2026-Q3", "2026-12-31T09:00:00Z")
    mine = rebates.get_settlement(ledger.rt, AS_P1, settled["settlement_id"], None)
    assert [i["invoice_id"] for i in mine["statement"]["withholding"]["overdue_invoices"]] == [invoice_id]
    assert "totals" not in mine and "withheld" not in mine and [p["partner_id"] for p in mine["partners"]] == [P1]
    if any(p["partner_id"] == P2 for p in settled["partners"]):
        theirs = rebates.get_settlement(ledger.rt, AS_P2, settled["settlement_id"], None)
        assert invoice_id not in str(theirs)


# --- the pure rule -------------------------------------------------------------------------------------------------
RULE = Withholding(Rule("RBT-WITHHOLDING", "CPA-7.8"), 45)


def _invoice(invoice_id: str, issued: str, paid_on: str | None = None, status: str = "finalized") -> dict[str, Any]:
    return {"invoice_id": invoice_id, "partner_id": "p", "status": status, "finalized_at": f"{issued}T06:00:00Z",
            "paid_on": paid_on}  # fmt: skip


@pytest.mark.parametrize(
    ("invoice", "on", "late"),
    [
        (_invoice("i1", "2026-08-01"), "2026-10-15", None),  # due 08-31, 45 days: not "more than 45"
        (_invoice("i1", "2026-08-01"), "2026-10-16", 46),
        (_invoice("i1", "2026-08-01", paid_on="2026-10-10"), "2026-10-20", None),  # paid before the as-of day
        (_invoice("i1", "2026-08-01", paid_on="2026-10-25"), "2026-10-20", 50),  # paid after it: overdue as of then
        (_invoice("i1", "2026-08-01", status="draft"), "2026-12-20", None),  # never issued
        (_invoice("i1", "2026-12-01"), "2026-10-20", None),  # issued after the as-of day
    ],
)
def test_cpa_7_8_an_invoice_is_overdue_more_than_45_days_after_its_due_day(invoice, on, late):
    # CPA-6.7: "The standard payment term is 30 days from the invoice date."
    rt = Ledger("2026-12-31T00:00:00Z").rt  # billing's one notion of overdue, as the settlement run asks it
    day = date.fromisoformat(on)
    found = owing_beyond(rt, "contoso", [invoice], {}, RULE.standard_terms_days, day, RULE.overdue_days)
    assert found == (
        {} if late is None else {"p": [{"invoice_id": "i1", "due_on": "2026-08-31", "days_overdue": late}]}
    )


@pytest.mark.parametrize(
    "bad",
    [
        {"id": "RBT-WITHHOLDING", "clause": "PA-7.8", "overdue_days": -1},
        {"id": "RBT-WITHHOLDING", "clause": "PA-7.8", "overdue_days": "60"},
        {"id": "RBT-WITHHOLDING", "overdue_days": 60},
        {"id": "RBT-WITHHOLDING", "clause": "PA-7.8", "overdue_days": 60, "grace": 5},
    ],
)
def test_a_malformed_withholding_rule_is_refused_by_the_policy_schema(bad):
    rebates_policy = load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml")["policy"]["rebates"]
    assert schemas.problems("policy/rebates.schema.json", rebates_policy) == []
    assert schemas.problems("policy/rebates.schema.json", {**rebates_policy, "withholding": bad}) != []


def test_pa_2_8_no_incentive_is_processed_while_a_screening_match_is_unresolved():
    """PA-2.8: "no quote, order or incentive may be processed for the Partner while the match is unresolved" (CPA-2.8:
    "no quote, order, payment or incentive is processed for the Partner until Legal resolves it"). P1's September
    invoice is issued on 2026-10-01 and not yet due on 2026-10-15; a potential match recorded on 2026-10-10 withholds
    its Q3 statement citing PA-2.8, the amount carried until Legal clears the partner."""
    ledger, _invoice_id = september(FINANCE)
    p1 = next(p for p in ledger.partners if p["partner_id"] == P1)
    match = {"document_type": "compliance_screening", "reference": "dms://screening/p1.pdf",
             "checksum": "sha256:" + "7" * 64, "issued_at": "2026-10-10", "outcome": "potential_match"}  # fmt: skip
    ledger.rt.store.commit("northwind", Changes(puts=[Put("PARTNER", P1, {
        **p1, "documents": {**p1.get("documents", {}), "compliance_screening": match}})]))
    settled = settle_run(ledger, FINANCE, "2026-Q3", "2026-10-15T09:00:00Z")
    statement = rebates.get_settlement(ledger.rt, FINANCE, settled["settlement_id"], P1)["statement"]
    assert Decimal(statement["total"]) > 0 and statement["status"] == "withheld"
    held = statement["withholding"]
    assert (held["rule_id"], held["clause"], held["overdue_invoice_count"]) == ("ONB-SCREENING", "PA-2.8", 0)
    assert "2026-10-10" in held["reason"]
