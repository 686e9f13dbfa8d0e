"""Why a rebate is what it is: a settlement statement explained from its stored lines and traces, quoting clauses.

Northwind partner-agreement.md, PA-7.2: "The rebate is tiered and retroactive: the rate of the highest threshold
reached applies to all Qualifying Revenue of the Quarter, from the first dollar." with "USD 100,000.00 to
249,999.99 | 1.0%". PA-7.5: "a sales performance incentive (SPIFF) of USD 40.00 per unit". PA-7.7 (b): "revenue on
hardware lines that earn the SPIFF counts towards the volume rebate but is excluded from incremental revenue for the
growth rebate". PA-11.1 / SOP-7.2: a partner reads only its own statement, and only once the run is approved.

P1 ships 30 x NW-SRV-R2 (USD 5,200.00 list each: USD 156,000.00) in September 2026; the 2026-Q3 run is prepared and
approved. Expected figures come from the clauses: 156,000.00 x 1.0% = 1,560.00; 30 x 40.00 = 1,200.00.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_erp_credit_notes_returns import _credit_note, _finalize, _ship, _statement

from memory_store import Ledger
from rebate_runs import prepare, second_finance, settle_approved
from revgov import schemas
from revgov.domain.access import Principal, Role
from revgov.domain.copilot import Passage, Scope
from revgov.domain.errors import MalformedRequest, NotFound
from revgov.services import billing, explain_rebates, rebates

P1 = "ptr_01JBNWPARTNER0000000000001"
P2 = "ptr_01JBNWPARTNER0000000000002"
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")
AS_P1 = Principal("northwind", Role.PARTNER, "key_p1", P1)
AS_P2 = Principal("northwind", Role.PARTNER, "key_p2", P2)
AGREEMENT = Path(__file__).resolve().parents[2] / "tenants" / "northwind" / "contracts" / "partner-agreement.md"


class ContractIndex:
    """The northwind agreement's clauses, as a clause index hands them out (only `get` is used)."""

    def __init__(self) -> None:
        text = AGREEMENT.read_text(encoding="utf-8")
        found = re.findall(r"^### (PA-[0-9.]+) ([^\n]+)\n(.*?)(?=^#|\Z)", text, flags=re.M | re.S)
        self.passages = {c: Passage("northwind", "PA", "Partner Agreement", "1", c, t, body.strip(), None, "h", "h")
                         for c, t, body in found}
        self.asked: list[tuple[Scope, list[str]]] = []

    def get(self, scope: Scope, clause_ids: list[str]) -> list[Passage]:
        self.asked.append((scope, clause_ids))
        return [self.passages[c] for c in clause_ids if c in self.passages]


def _settled(approve: bool = True) -> tuple[Ledger, str]:
    ledger = Ledger("2026-09-05T12:00:00Z")
    data = {"partner_id": P1, "order_ref": "SO-1", "shipped_on": "2026-09-05",
            "lines": [{"sku": "NW-SRV-R2", "quantity": 30}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", data, occurred_at="2026-09-05T10:00:00Z")["status"] == "processed"
    ledger.clock.set("2026-10-20T09:00:00Z")
    status, prepared = prepare(ledger.rt, FINANCE, {"period": "2026-Q3"})
    assert status == 201
    if approve:
        rebates.approve_settlement(ledger.rt, second_finance("northwind"), prepared["settlement_id"], {})
    ledger.rt.clause_index = ContractIndex()  # type: ignore[assignment]
    return ledger, prepared["settlement_id"]


def _invoice(ledger: Ledger, settlement_id: str) -> str:
    traces = rebates.get_settlement(ledger.rt, FINANCE, settlement_id, P1)["statement"]["traces"]
    return str(traces[0]["lines"][0][1])


def test_pa_7_2_and_7_5_each_line_names_its_clause_basis_invoices_rate_and_quotes_the_clause():
    ledger, settlement_id = _settled()
    invoice = _invoice(ledger, settlement_id)
    body = explain_rebates.explain_settlement(ledger.rt, AS_P1, settlement_id, None)
    assert not schemas.problems("api/responses/statement-explanation.schema.json", body)
    assert body["partner_id"] == P1 and body["total"] == "2760.00" and body["status"] == "payable"
    words = body["explanation"]
    # PA-7.2: 156,000.00 reaches the 1.0% threshold (from 100,000.00), applied from the first dollar
    assert "RBT-VOLUME-T1 (PA-7.2)" in words and "qualifying revenue 156000.00 USD, rate 1.0%" in words
    assert "from 100000.00 at 1.0%" in words and "1560.00 USD" in words
    # PA-7.5: 30 units at 40.00
    assert "30 qualifying unit(s), rate 40.00/unit" in words and "1200.00 USD" in words
    # the transactions behind the numbers: the invoice id and the sum of its counted lines
    assert f"1 sales line(s) totalling 156000.00 USD, on invoice(s) {invoice}" in words
    # PA-7.7 (b): the SPIFF line's revenue excluded from the growth rebate, with the reason
    assert "Excluded from RBT-GROWTH under RBT-SPIFF-NOT-GROWTH (PA-7.7), earns RBT-HW-SPIFF" in words
    volume = next(ln for ln in body["lines"] if ln["program_id"] == "RBT-VOLUME")
    assert volume["invoices"] == [invoice] and volume["sales_line_count"] == 1 and volume["clause"] == "PA-7.2"
    # clauses quoted verbatim from the agreement
    index = ledger.rt.clause_index
    for citation in body["citations"]:
        assert citation["quote"] in index.passages[citation["clause"]].text  # type: ignore[union-attr]
    assert {"PA-7.2", "PA-7.5", "PA-7.8"} <= {c["clause"] for c in body["citations"]}
    # the tier's quote is the PA-7.2 table row of the level reached
    tier = next(r for r in body["reasons"] if r["rule_id"] == "RBT-VOLUME-T1")
    assert tier["quote"] == "| USD 100,000.00 to 249,999.99 | 1.0% |"
    assert "The statement is payable: no withholding applies." in words
    audit = [r for r in ledger.rt.store.audit_records("northwind") if r["action"] == "copilot.explained"]
    assert len(audit) == 1 and audit[0]["subject"] == settlement_id and audit[0]["actor_role"] == "partner"
    assert "PA-7.2" in audit[0]["clauses"]


def test_one_line_explains_that_line_only_and_staff_name_the_partner():
    ledger, settlement_id = _settled()
    body = explain_rebates.explain_settlement(ledger.rt, FINANCE, settlement_id, P1, "2")
    assert body["line"] == 2 and [ln["program_id"] for ln in body["lines"]] == ["RBT-HW-SPIFF"]
    assert "RBT-VOLUME-T1" not in body["explanation"] and "PA-7.5" in body["explanation"]
    audit = [r for r in ledger.rt.store.audit_records("northwind") if r["action"] == "copilot.explained"]
    assert audit[-1]["subject"] == f"{settlement_id}#{P1}#2" and audit[-1]["inputs"]["line"] == 2


@pytest.mark.parametrize("line", ["0", "x", "１", "-1", "10000", ""])
def test_bad_line_numbers_are_a_problem_naming_the_field(line):
    ledger, settlement_id = _settled()
    with pytest.raises(MalformedRequest) as bad:
        explain_rebates.explain_settlement(ledger.rt, FINANCE, settlement_id, P1, line)
    assert bad.value.errors[0].path == "/query/line"


def test_unknown_line_and_staff_without_partner_and_nothing_audited():
    ledger, settlement_id = _settled()
    with pytest.raises(NotFound):
        # three lines: volume, SPIFF and growth at 0.00 (PA-7.8 lists every program; PA-7.7(b) turns the SPIFF's
        # hardware lines away from growth): there is no line 4
        explain_rebates.explain_settlement(ledger.rt, FINANCE, settlement_id, P1, "4")
    with pytest.raises(MalformedRequest) as bad:
        explain_rebates.explain_settlement(ledger.rt, FINANCE, settlement_id, None)
    assert bad.value.errors[0].path == "/query/partner_id"
    assert not [r for r in ledger.rt.store.audit_records("northwind") if r["action"] == "copilot.explained"]


def test_pa_11_1_a_partner_reads_neither_a_rivals_statement_nor_an_unapproved_run():
    ledger, settlement_id = _settled()
    for who, partner in ((AS_P2, None), (AS_P2, P1), (AS_P1, P2)):
        with pytest.raises(NotFound):
            explain_rebates.explain_settlement(ledger.rt, who, settlement_id, partner)
    prepared_ledger, prepared_id = _settled(approve=False)
    with pytest.raises(NotFound):
        explain_rebates.explain_settlement(prepared_ledger.rt, AS_P1, prepared_id, None)
    # finance reviews the prepared run's statement before approving it
    assert explain_rebates.explain_settlement(prepared_ledger.rt, FINANCE, prepared_id, P1)["total"] == "2760.00"


def test_pa_7_8_a_withheld_statement_says_why_and_names_the_overdue_invoice():
    # PA-7.8: "Rebates are withheld while the Partner has an invoice more than 60 days overdue". September's invoice
    # issued 2026-10-01 (net 30, PA-6.7: due 2026-10-31) and unpaid is 61 days overdue on 2026-12-31.
    ledger = Ledger("2026-09-05T12:00:00Z")
    data = {"partner_id": P1, "order_ref": "SO-1", "shipped_on": "2026-09-05",
            "lines": [{"sku": "NW-SRV-R2", "quantity": 30}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", data, occurred_at="2026-09-05T10:00:00Z")["status"] == "processed"
    ledger.clock.set("2026-10-01T06:00:00Z")
    invoice_id = ledger.invoice(P1, "2026-09")["invoice_id"]
    billing.finalize_invoice(ledger.rt, FINANCE, invoice_id)
    ledger.clock.set("2026-12-31T09:00:00Z")
    settled = settle_approved(ledger.rt, FINANCE, {"period": "2026-Q3", "run": 1})[1]
    ledger.rt.clause_index = ContractIndex()  # type: ignore[assignment]
    body = explain_rebates.explain_settlement(ledger.rt, AS_P1, settled["settlement_id"], None)
    assert body["status"] == "withheld"
    assert (f"The statement total 2760.00 is withheld under RBT-WITHHOLDING (PA-7.8): as of 2026-12-31, 1 invoice(s) "
            f"overdue beyond 60 days: {invoice_id} (due 2026-10-31, 61 days overdue).") in body["explanation"]
    assert any(r["rule_id"] == "RBT-WITHHOLDING" and r["clause"] == "PA-7.8" for r in body["reasons"])


def test_pa_7_10_an_adjustment_line_names_the_credit_note_the_settled_and_recomputed_amounts_and_quotes_the_clause():
    # PA-7.10: "Where a credit note is issued after a Quarter has been settled and relates to an invoice dated within
    # that Quarter, ... the difference between the recomputed and the settled amount" as a separate, referenced line.
    # Settled Q3: 20 servers = 104,000.00 -> 1.0% = 1,040.00; a 5,200.00 credit note on 2026-10-20 leaves 98,800.00,
    # below the 100,000.00 level (PA-7.2): recomputed 0.00, adjustment -1,040.00.
    ledger = Ledger("2026-08-10T10:00:00Z")
    _ship(ledger, P1, "NW-SRV-R2", 20, "2026-08-10", "SO-6")
    issued = _finalize(ledger, P1, "2026-08", "2026-09-01T09:00:00Z")
    _statement(ledger, "2026-Q3", 1, "2026-10-03T09:00:00Z")
    assert _credit_note(ledger, issued, "5200.00", "2026-10-20", "CN-6", quantity=1)["status"] == "processed"
    (note,) = ledger.invoice(P1, "2026-10")["lines"]
    second = _statement(ledger, "2026-Q3", 2, "2026-10-25T09:00:00Z")
    ledger.rt.clause_index = ContractIndex()  # type: ignore[assignment]
    volume = next(ln for ln in second["lines"] if ln["program_id"] == "RBT-VOLUME")
    body = explain_rebates.explain_settlement(ledger.rt, AS_P1, second["settlement_id"], None, str(volume["line_no"]))
    words = body["explanation"]
    assert "-1040.00 USD, an adjustment of a settled period" in words
    assert f"previously settled 1040.00, recomputed 0.00, after credit-note line(s) {note['line_id']}" in words
    assert body["lines"][0]["references"] == {"credit_notes": [note["line_id"]]}
    assert note["line_id"] in body["lines"][0]["sales_lines"]  # the credit note is among the traced lines
    assert f"credit-note line(s) {note['line_id']} reduce it" in words
    assert "PA-7.10" in {c["clause"] for c in body["citations"]}


def test_pa_7_5_and_7_6_the_caps_applied_are_named_with_their_clause_and_reduction():
    # PA-7.5: "The SPIFF is capped at 500 units, that is USD 20,000.00, per Partner per Quarter." 600 servers: 500 x
    # 40.00 = 20,000.00 paid, 100 units (4,000.00) not. PA-7.6: volume + growth "may not exceed the lower of (a) 5.0%
    # ... and (b) USD 150,000.00"; 960 switches + 600 servers: growth 24,000.00 -> 0.00, volume reduced by 22,800.00.
    ledger = Ledger("2026-08-05T12:00:00Z")
    shipment = {"partner_id": P1, "order_ref": "SO-CAP", "shipped_on": "2026-08-05",
                "lines": [{"sku": "NW-SW-24P", "quantity": 960}, {"sku": "NW-SRV-R2", "quantity": 600}]}
    assert ledger.bill("shipment.confirmed", shipment, occurred_at="2026-08-05T10:00:00Z")["status"] == "processed"
    ledger.clock.set("2026-10-03T10:00:00Z")
    settled = settle_approved(ledger.rt, FINANCE, {"period": "2026-Q3", "run": 1})[1]
    ledger.rt.clause_index = ContractIndex()  # type: ignore[assignment]
    words = explain_rebates.explain_settlement(ledger.rt, FINANCE, settled["settlement_id"], P1)["explanation"]
    assert ("cap RBT-HW-SPIFF-CAP (PA-7.5) reduced it by 4000.00 (100 unit(s) over the 500-unit cap not paid)"
            in words)
    assert "cap RBT-CAP-VOLUME-GROWTH (PA-7.6) reduced it by 22800.00 (limit 150000.00)" in words
    assert "cap RBT-CAP-VOLUME-GROWTH (PA-7.6) reduced it by 24000.00 (limit 150000.00)" in words
    assert "Rule RBT-CAP-VOLUME-GROWTH (PA-7.6)" in words and "PA-7.6 says:" in words
