"""PA-7.8: "The settlement statement lists, per program, the Qualifying Revenue, the rate or unit amount applied, the
caps applied, adjustments carried from previous Quarters under PA-7.10 and the amount payable, with the rule and
clause references used." So every program the partner is eligible for in the Quarter has its line, 0.00 included,
with why it pays nothing; a program the partner is not eligible for has none.

PA-7.5: "All Partners, including Registered Partners, earn a sales performance incentive (SPIFF) of USD 40.00 per unit
for units of hardware Product Family items flagged as SPIFF-eligible"; PA-3.2: Registered Partners "do not participate
in the quarterly volume or growth rebates. They may earn the hardware unit SPIFF under PA-7.5."

By hand (NW-SW-24P, software, list 1,250.00):
- P1 (platinum) buys 100 x NW-SW-24P in August 2025 and again in September 2026: 125,000.00 each Quarter.
  2026-Q3: volume (PA-7.2) 1.0% x 125,000.00 = 1,250.00; growth (PA-7.3) 0% above the 2025-Q3 baseline of
  125,000.00, under 10%: 0.00; SPIFF (PA-7.5) no hardware unit: 0.00, every line turned away by the family rule.
  Total 1,250.00. Its August 2025 invoice is paid and September's is not yet due: nothing is withheld (PA-7.8).
- P2 (registered) buys 10 x NW-SW-24P in September 2026 (12,500.00): volume and growth not listed (PA-3.2); SPIFF
  0.00 (PA-7.5), listed. Total 0.00.
- The 2026-09 monthly run (commissions, PA-8.1 / PA-8.2) lists no quarterly program: neither partner has a referral
  or sales-agent line, so neither has a statement there.
"""

from __future__ import annotations

from typing import Any

from memory_store import Ledger
from rebate_runs import issue, pay, second_finance, settle_approved, ship
from revgov.domain.access import Principal, Role
from revgov.ports import Changes, Put
from revgov.services import rebates

P1, P2 = "ptr_01JBNWPARTNER0000000000001", "ptr_01JBNWPARTNER0000000000002"
FINANCE = Principal("northwind", Role.FINANCE, "key_fin8")
AS_P2 = Principal("northwind", Role.PARTNER, "key_p2_8", P2)
SPIFF = "RBT-HW-SPIFF"


def _quarter() -> tuple[Ledger, dict[str, Any]]:
    ledger = Ledger("2025-08-01T09:00:00Z")
    p1 = {**next(p for p in ledger.partners if p["partner_id"] == P1), "activated_at": "2024-01-10T00:00:00.000Z"}
    ledger.rt.store.commit("northwind", Changes(puts=[Put("PARTNER", P1, p1)]))
    ship(ledger, P1, "2025-08-12", sku="NW-SW-24P", quantity=100, order_prefix="SO-8")
    baseline = issue(ledger, FINANCE, P1, "2025-08", "2025-09-01T06:00:00Z")
    pay(ledger, P1, baseline, "2025-09-20")  # paid: nothing withheld under PA-7.8's 60 days overdue
    ship(ledger, P1, "2026-09-08", sku="NW-SW-24P", quantity=100, order_prefix="SO-8")
    ship(ledger, P2, "2026-09-09", sku="NW-SW-24P", quantity=10, order_prefix="SO-8")
    issue(ledger, FINANCE, P1, "2026-09", "2026-10-01T06:00:00Z")
    issue(ledger, FINANCE, P2, "2026-09", "2026-10-01T06:05:00Z")
    ledger.clock.set("2026-10-10T09:00:00Z")
    status, run = settle_approved(ledger.rt, FINANCE, {"period": "2026-Q3"})
    assert status == 201 and run["status"] == "settled", run
    return ledger, run


def _statement(ledger: Ledger, run: dict[str, Any], partner_id: str, who: Principal = FINANCE) -> dict[str, Any]:
    statement: dict[str, Any] = rebates.get_settlement(ledger.rt, who, run["settlement_id"], partner_id)["statement"]
    return statement


def test_pa_7_8_a_partner_without_hardware_still_has_its_spiff_line_at_zero_with_why():
    ledger, run = _quarter()
    statement = _statement(ledger, run, P1)
    amounts = {line["program_id"]: line["amount"] for line in statement["lines"]}
    assert amounts == {"RBT-VOLUME": "1250.00", "RBT-GROWTH": "0.00", SPIFF: "0.00"}
    assert statement["total"] == "1250.00"
    spiff = next(line for line in statement["lines"] if line["program_id"] == SPIFF)
    assert (spiff["clause"], spiff["units"], spiff["units_paid"], spiff["basis_revenue"]) == ("PA-7.5", 0, 0, None)
    assert spiff["rate"] == "40.00/unit"  # PA-7.5 "USD 40.00 per unit": the unit amount applied
    (why,) = spiff["why_zero"]
    assert (why["clause"], why["lines"]) == ("PA-7.5", 1)
    assert "hardware" in why["reason"]
    # the trace names the same line, turned away from the SPIFF by the same rule
    pages = [p for p in statement["traces"] if p["program_id"] == SPIFF and p["section"] == "excluded"]
    assert [len(p["lines"]) for p in pages] == [1] and pages[0]["clause"] == "PA-7.5"


def test_pa_3_2_a_registered_partner_is_listed_for_the_spiff_only():
    ledger, run = _quarter()
    statement = _statement(ledger, run, P2)
    assert [(line["program_id"], line["amount"]) for line in statement["lines"]] == [(SPIFF, "0.00")]
    assert statement["total"] == "0.00" and statement["status"] == "payable"
    own = _statement(ledger, run, P2, AS_P2)  # the partner reads the same line, with why
    assert [(line["program_id"], line["amount"]) for line in own["lines"]] == [(SPIFF, "0.00")]
    assert own["lines"][0]["why_zero"][0]["clause"] == "PA-7.5"
    assert {p["partner_id"]: p["total"] for p in run["partners"]} == {P1: "1250.00", P2: "0.00"}
    assert run["totals"]["payable"] == "1250.00"


def test_a_monthly_run_lists_no_quarterly_program():
    ledger, _ = _quarter()
    ledger.clock.set("2026-10-05T09:00:00Z")
    status, run = settle_approved(ledger.rt, FINANCE, {"period": "2026-09"})
    assert status == 201 and run["status"] == "settled", run
    assert run["partners"] == []


def test_sop_7_2_the_statement_names_who_prepared_and_who_approved_each_in_its_own_field():
    """SOP-7.2: "by Q + 30 days, Finance completes review of the rebate run, approved by a second member of the finance
    queue; by Q + 45 days, settlement statements and credit notes are issued under PA-7.8". The statement says who
    prepared it (`prepared_by`, the header's `settled_by` as API.md's settlement documents it) and who approved it
    (`approved_by`); both are staff only, as on the header (a partner reads the header's `settled_by` as the team)."""
    ledger, run = _quarter()
    preparer, approver = FINANCE.actor, second_finance("northwind").actor
    assert preparer != approver
    assert (run["settled_by"], run["prepared_by"], run["approved_by"]) == (preparer, preparer, approver)
    statement = _statement(ledger, run, P1)
    assert (statement["prepared_by"], statement["approved_by"]) == (preparer, approver)
    own = rebates.get_settlement(ledger.rt, AS_P2, run["settlement_id"], None)
    assert "prepared_by" not in own["statement"] and "approved_by" not in own["statement"]
    assert own["settled_by"] == "finance" and "key_" not in str(own)
