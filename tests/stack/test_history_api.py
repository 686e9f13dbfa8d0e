"""The go-live history import over HTTP and the CLI (issue 24): finance and admin import, nobody else; a bad row is a
422 problem+json naming it and nothing changes; the same file again is the same import; a partner key reads its own
imported invoices and no one else's. Dates are relative to the stack's clock (months that have ended)."""

from __future__ import annotations

import csv
from datetime import date
from typing import Any

import pytest

import clock_support
from revgov import cli
from revgov.domain.time import period_bounds, period_of
from security_support import make_party, offboard
from support import assert_problem

pytestmark = pytest.mark.xdist_group("history-import")


@pytest.fixture(scope="module")
def party(api: Any, operator: Any, stack: Any) -> Any:
    made = make_party(api, operator, stack, "northwind")
    yield made
    offboard(operator, made)


def _months_ago(n: int) -> str:
    """The last day of the month n months before this one (an ended month)."""
    today = clock_support.today()
    index = today.year * 12 + today.month - 1 - n
    return period_bounds(f"{index // 12:04d}-{index % 12 + 1:02d}")[1].isoformat()


def _body(partner_id: str, tag: str, months_ago: int = 13) -> dict[str, Any]:
    day = _months_ago(months_ago)
    return {
        "source": f"{tag}.json",
        "lines": [
            {"partner_id": partner_id, "invoice_ref": f"INV-{tag}", "invoice_date": day, "line_ref": f"{tag}-1",
             "sku": "NW-SW-24P", "quantity": "4", "amount": "5000.00"},
        ],
        "payments": [{"partner_id": partner_id, "invoice_ref": f"INV-{tag}", "paid_on": day}],
    }  # fmt: skip


def test_only_finance_and_admin_import_history(party):
    body = _body(party.partners[0], "ROLES")
    for role in ("channel_ops", "viewer"):
        if role in party.by_role:
            assert_problem(party.by_role[role].post("/v1/history/imports", body), 403)
    for partner_id in party.partners:  # a partner key imports nothing, not even its own history
        assert_problem(party.partner_keys[partner_id].post("/v1/history/imports", body), 403)


def test_a_bad_row_is_a_422_naming_it_and_nothing_changes(party):
    finance = party.by_role["finance"]
    body = _body(party.partners[0], "BAD")
    body["lines"].append({**body["lines"][0], "line_ref": "BAD-2", "amount": "12.345"})
    body["lines"].append({**body["lines"][0], "line_ref": "BAD-3", "partner_id": "ptr_01JBNWPARTNER000000000000Z"})
    problem = assert_problem(finance.post("/v1/history/imports", body), 422)
    paths = {e["path"] for e in problem["errors"]}
    assert {"/lines/1/amount", "/lines/2/partner_id"} <= paths and not any(p.startswith("/lines/0") for p in paths)
    schema = assert_problem(finance.post("/v1/history/imports", {"lines": [{"amount": 5}]}), 400)
    assert schema["errors"][0]["path"].startswith("/lines/0/amount")
    listed = finance.get("/v1/invoices", status="finalized", partner_id=party.partners[0]).json()["items"]
    assert listed == []


def test_imported_invoices_are_read_by_their_partner_only_and_the_same_file_is_one_import(party):
    finance = party.by_role["finance"]
    mine, theirs = party.partners
    body = _body(mine, "OWN")
    first = finance.post("/v1/history/imports", body)
    assert first.status_code == 201, first.text
    assert first.json()["replayed"] is False and first.json()["invoices"] == 1
    again = finance.post("/v1/history/imports", body)
    assert again.status_code == 201 and again.json()["replayed"] is True
    assert again.json()["import_id"] == first.json()["import_id"]
    period = body["lines"][0]["invoice_date"][:7]
    own = party.partner_keys[mine].get("/v1/invoices", status="finalized", period=period).json()["items"]
    assert [(i["partner_id"], i["total"], i["paid_on"]) for i in own] == [
        (mine, "5000.00", body["payments"][0]["paid_on"])
    ]
    invoice_id = own[0]["invoice_id"]
    assert party.partner_keys[mine].get(f"/v1/invoices/{invoice_id}").json()["lines"][0]["amount"] == "5000.00"
    assert_problem(party.partner_keys[theirs].get(f"/v1/invoices/{invoice_id}"), 404)
    # API.md: 404 "also for another tenant's or partner's object: never confirm it exists" (since 1.56.1 the same 404
    # on every list route a partner key filters by another partner's id)
    asked = party.partner_keys[theirs].get("/v1/invoices", status="finalized", partner_id=mine)
    assert_problem(asked, 404)
    assert invoice_id not in asked.text
    records = party.admin.get("/v1/audit", subject=first.json()["import_id"]).json()["items"]
    assert [r["action"] for r in records] == ["history.imported"]


def test_the_cli_imports_a_csv_of_lines_and_one_of_payments_once(party, tmp_path, capsys):
    partner_id = party.partners[1]
    body = _body(partner_id, "CLI", months_ago=14)
    lines, payments = tmp_path / "lines.csv", tmp_path / "payments.csv"
    for path, rows in ((lines, body["lines"]), (payments, body["payments"])):
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    args = ["history", "import", str(lines), "--payments", str(payments), "--tenant", party.tenant_id]
    assert cli.main(args) == 0
    assert '"replayed": false' in capsys.readouterr().out
    assert cli.main(args) == 0
    assert '"replayed": true' in capsys.readouterr().out
    period = period_of(date.fromisoformat(body["lines"][0]["invoice_date"]))
    listed = party.by_role["finance"].get("/v1/invoices", status="finalized", period=period, partner_id=partner_id)
    assert [i["total"] for i in listed.json()["items"]] == ["5000.00"]
