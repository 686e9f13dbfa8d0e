"""Red-team probes of the rebates API as a hostile partner key would send them (issue 21's refactor is where checks
get lost). Each test quotes the clause it holds the product to.

PA-11.1: "The Distributor does not disclose one Partner's pricing, registrations, rebates or Customers to another
Partner". API.md: "a partner never sees another partner's identity, prices or registrations"; "404 not found (also
for another tenant's or partner's object: never confirm it exists)".
"""

from __future__ import annotations

import json
from typing import Any

from test_rebates_api import (  # noqa: F401  (the throwaway rebate tenant fixture)
    FLOWS,
    RebateTenant,
    _approve_held_credit,
    _dispute,
    _settle,
    _statement,
    tenant,
)

from billing_support import wait_until
from support import assert_problem


def _accepted_dispute_of_a(tenant: RebateTenant, settlement_id: str) -> str:  # noqa: F811
    filed = tenant.partner_keys["A"].post("/v1/rebates/disputes", _dispute(tenant, settlement_id))
    assert filed.status_code == 201, filed.text
    dispute_id = filed.json()["dispute_id"]
    decision = {"outcome": "accepted", "amount": "300.00", "reason": "SO-RB-9 was invoiced in Q3; upheld in part"}
    resolved = tenant.finance_2.post(f"/v1/rebates/disputes/{dispute_id}/resolve", decision)
    assert resolved.status_code == 200, resolved.text
    return str(dispute_id)


def test_a_partner_reading_a_run_does_not_learn_a_rival_partners_accepted_dispute(tenant: RebateTenant) -> None:  # noqa: F811
    """PA-11.1: one partner's rebates (here: that it disputed its statement and was paid for it) are not disclosed
    to another partner. A run paying A's accepted dispute and B's retroactive credit adjustment: B reads the run
    with its own key and must not see A's dispute id; A sees its own."""
    tenant.send(FLOWS["q3"])
    tenant.wait_for_accrual("B", "2026-Q3", "1550.00")
    first = _settle(tenant, "2026-Q3").json()
    dispute_id = _accepted_dispute_of_a(tenant, first["settlement_id"])
    tenant.send([FLOWS["q3_cancellation"]])  # B's credit note after settlement: B has a line in run 2 too
    _approve_held_credit(tenant, FLOWS["q3_cancellation"]["credit"])
    tenant.wait_for_accrual("B", "2026-Q3", "0.00")
    second = _settle(tenant, "2026-Q3", run=2)
    assert second.status_code == 201, second.text
    run = second.json()
    assert run["dispute_adjustments"] == [dispute_id]  # staff (finance) read the whole run
    seen_by_b = _statement(tenant, tenant.partner_keys["B"], run["settlement_id"])
    assert seen_by_b.status_code == 200, seen_by_b.text
    assert dispute_id not in seen_by_b.text, seen_by_b.json()
    assert seen_by_b.json()["dispute_adjustments"] == []
    seen_by_a = _statement(tenant, tenant.partner_keys["A"], run["settlement_id"]).json()
    assert seen_by_a["dispute_adjustments"] == [dispute_id]


def test_a_partner_cannot_read_or_decide_a_rival_partners_dispute(tenant: RebateTenant) -> None:  # noqa: F811
    """API.md: another partner's object is a 404 (never confirm it exists); deciding is finance's (403 to a partner,
    as the route table says), and SOP-6.3 "The person who prepared the original settlement may not decide the
    dispute" (403 to the preparer's key)."""
    tenant.send(FLOWS["q3"][:1])
    tenant.wait_for_accrual("A", "2026-Q3", "1092.00")
    settled = _settle(tenant, "2026-Q3").json()
    a, b = tenant.partner_keys["A"], tenant.partner_keys["B"]
    # B files naming A (a rival partner id in the body) and naming itself on A's settlement: one 404 answer
    assert_problem(b.post("/v1/rebates/disputes", _dispute(tenant, settled["settlement_id"])), 404)
    as_itself = _dispute(tenant, settled["settlement_id"], partner_id=tenant.partner_ids["B"])
    assert_problem(b.post("/v1/rebates/disputes", as_itself), 404)
    dispute = a.post("/v1/rebates/disputes", _dispute(tenant, settled["settlement_id"])).json()
    assert_problem(b.get(f"/v1/rebates/disputes/{dispute['dispute_id']}"), 404)
    assert_problem(b.get(f"/v1/approvals/{dispute['approval_id']}"), 403)
    decision = {"outcome": "accepted", "reason": "self-service"}
    assert_problem(a.post(f"/v1/rebates/disputes/{dispute['dispute_id']}/resolve", decision), 403)
    assert_problem(a.post(f"/v1/approvals/{dispute['approval_id']}/decision", {"outcome": "approved"}), 403)
    # the preparer decides through the approvals queue instead of /resolve: still refused (SOP-6.3)
    via_queue = tenant.finance.post(f"/v1/approvals/{dispute['approval_id']}/decision", {"outcome": "approved",
                                    "note": "preparer"})  # fmt: skip
    assert_problem(via_queue, 403)
    # a second filing on the same statement line while the first is open: 409 naming the open one
    again = assert_problem(a.post("/v1/rebates/disputes", _dispute(tenant, settled["settlement_id"])), 409)
    assert again.get("open_dispute_id") == dispute["dispute_id"], again
    assert a.get(f"/v1/rebates/disputes/{dispute['dispute_id']}").json()["status"] == "open"


def test_hostile_dispute_bodies_are_refused_and_change_nothing(tenant: RebateTenant) -> None:  # noqa: F811
    """API.md: "Bad input always gets a clear problem+json error"; unknown fields are rejected; money is a decimal
    string. PA-7.9: a dispute identifies "the amount disputed and the evidence relied on"."""
    tenant.send(FLOWS["q3"][:1])
    tenant.wait_for_accrual("A", "2026-Q3", "1092.00")
    settlement_id = _settle(tenant, "2026-Q3").json()["settlement_id"]
    a = tenant.partner_keys["A"]
    bad: list[dict[str, Any]] = [
        {"amount": "-5.00"},
        {"amount": "NaN"},
        {"amount": "Infinity"},
        {"amount": 500},
        {"amount": "1e3"},
        {"amount": "99999999999999.00"},
        {"reason": ""},
        {"reason": "x" * 2001},
        {"evidence": [{"kind": "invoice"}]},
        {"evidence": [{"kind": "invoice", "reference": "r"}] * 51},
        {"tenant_id": "someone-else"},
        {"dispute_id": "dsp_01JX0000000000000000000000"},
        {"approval_id": "apr_01JX0000000000000000000000"},
        {"partner_id": "ptr_01JX0000000000000000000000\u0000"},
    ]
    for change in bad:
        assert_problem(a.post("/v1/rebates/disputes", _dispute(tenant, settlement_id, **change)), 400)
    lower_case = {**_dispute(tenant, settlement_id), "settlement_id": settlement_id.lower()}
    assert_problem(a.post("/v1/rebates/disputes", lower_case), 400)
    rival, own = tenant.partner_ids["B"], tenant.partner_ids["A"]
    duplicate = (  # RFC 8259 4: names "SHOULD be unique"; a second partner_id must not override the first
        f'{{"settlement_id": "{settlement_id}", "partner_id": "{rival}", "partner_id": "{own}", '
        '"program_id": "RBT-VOLUME", "amount": "1.00", "reason": "r", '
        '"evidence": [{"kind": "order", "reference": "x"}]}'
    )
    assert_problem(a.post("/v1/rebates/disputes", raw=duplicate.encode()), 400)
    assert tenant.finance.get("/v1/approvals", status="pending", queue="finance").json()["items"] == []


def test_money_in_non_ascii_digits_is_refused(tenant: RebateTenant) -> None:  # noqa: F811
    """API.md: "Money is a decimal string (`"1234.50"`)"; the schema's pattern `^\\d{1,13}(\\.\\d{1,2})?$` is
    an ECMA-262 regular expression (JSON Schema 2020-12, section 6.4), where `\\d` is `[0-9]`: full-width or
    Arabic-Indic digits are not a decimal string and a client validating with the OpenAPI refuses them, so the
    server must too (400) and file nothing."""
    tenant.send(FLOWS["q3"][:1])
    tenant.wait_for_accrual("A", "2026-Q3", "1092.00")
    settlement_id = _settle(tenant, "2026-Q3").json()["settlement_id"]
    a = tenant.partner_keys["A"]
    for amount in ("１００.00", "\u0661\u0660\u0660"):  # full-width 100.00, Arabic-Indic 100
        assert_problem(a.post("/v1/rebates/disputes", _dispute(tenant, settlement_id, amount=amount)), 400)
    assert tenant.finance.get("/v1/approvals", status="pending", queue="finance").json()["items"] == []


def test_a_partner_statement_tells_a_below_floor_finding_without_the_distributors_margin(
    tenant: RebateTenant,  # noqa: F811
) -> None:
    """API.md: "a partner never sees ... the distributor's costs and margins"; PA-1.2 Line Cost is "the
    Distributor's standard landed cost" and PA-6.1 states Line Margin "for internal review". A's 80 switches sold at
    20% off (1,000.00 each against a 900.00 landed cost: a 10.00% margin, under PA-6.3's 12% floor) earn a finding on
    its statement. Finance reads the figure; A reads that the line is below the floor (rule and clause), never the
    margin, from which its unit cost follows (1,000.00 x (1 - 10%) = 900.00)."""
    event = {**FLOWS["q3"][0], "id": "RB-Q3-A-THIN"}
    event["data"] = {**event["data"], "lines": [{"sku": "NW-SW-24P", "quantity": 80, "discount_percent": "20"}]}
    tenant.send([event])
    wait_until(tenant.all_facts_projected, 60, what="projection")
    settled = _settle(tenant, "2026-Q3")
    assert settled.status_code == 201, settled.text
    settlement_id = settled.json()["settlement_id"]
    staff = _statement(tenant, tenant.finance, settlement_id, "A").json()["statement"]
    thin = [f for f in staff["findings"] if f["kind"] == "below_margin_floor"]
    assert thin and "10.00%" in thin[0]["message"], staff["findings"]  # finance: the figure, for internal review
    own = _statement(tenant, tenant.partner_keys["A"], settlement_id)
    assert own.status_code == 200, own.text
    told = [f for f in own.json()["statement"]["findings"] if f["kind"] == "below_margin_floor"]
    assert told and told[0]["clause"] == "PA-6.3", own.json()["statement"]["findings"]
    assert "10.00" not in json.dumps(told) and "margin 1" not in own.text, told


def test_whoever_files_a_dispute_cannot_decide_it_even_through_a_key_minted_after(
    tenant: RebateTenant, api: Any  # noqa: F811
) -> None:
    """SOP-4.3: "A requester can never approve their own request ... even if they are a member of the approving
    queue or hold an admin role". Finance files a dispute for partner A and tries to decide it (403); an admin files
    one for B, mints a finance key afterwards and decides with it (403: the new key is in the filer's hands,
    services/key_lineage.py); another finance member decides (200)."""
    tenant.send(FLOWS["q3"])
    tenant.wait_for_accrual("B", "2026-Q3", "1550.00")
    settlement_id = _settle(tenant, "2026-Q3").json()["settlement_id"]
    decision = {"outcome": "rejected", "reason": "no evidence of a missing order"}
    by_finance = tenant.finance_2.post("/v1/rebates/disputes", _dispute(tenant, settlement_id))
    assert by_finance.status_code == 201, by_finance.text
    assert_problem(tenant.finance_2.post(f"/v1/rebates/disputes/{by_finance.json()['dispute_id']}/resolve",
                                         decision), 403)  # fmt: skip
    for_b = _dispute(tenant, settlement_id, partner_id=tenant.partner_ids["B"])
    by_admin = tenant.admin.post("/v1/rebates/disputes", for_b)
    assert by_admin.status_code == 201, by_admin.text
    minted = tenant.admin.post("/v1/keys", {"role": "finance", "label": "minted after filing"})
    assert minted.status_code == 201, minted.text
    own_finance = api.as_key(minted.json()["key"])
    dispute_id = by_admin.json()["dispute_id"]
    assert_problem(own_finance.post(f"/v1/rebates/disputes/{dispute_id}/resolve", decision), 403)
    path = f"/v1/approvals/{by_admin.json()['approval_id']}/decision"
    assert_problem(own_finance.post(path, {"outcome": "rejected", "note": "mine"}), 403)
    assert tenant.partner_keys["B"].get(f"/v1/rebates/disputes/{dispute_id}").json()["status"] == "open"
    decided = tenant.finance_2.post(f"/v1/rebates/disputes/{dispute_id}/resolve", decision)
    assert decided.status_code == 200, decided.text


def test_a_dispute_upheld_through_the_approvals_queue_states_its_reason(tenant: RebateTenant) -> None:  # noqa: F811
    """PA-7.9: Finance "decides it within 15 business days, giving reasons and clause references"; SOP-6.3: "Every
    decision states the reason, the amounts before and after". /resolve requires `reason`; the approvals queue takes
    a note only for a rejection, so upholding the dispute's approval without a note must be refused (422, nothing
    decided) rather than record an accepted dispute with no reason."""
    tenant.send(FLOWS["q3"][:1])
    tenant.wait_for_accrual("A", "2026-Q3", "1092.00")
    settlement_id = _settle(tenant, "2026-Q3").json()["settlement_id"]
    dispute = tenant.partner_keys["A"].post("/v1/rebates/disputes", _dispute(tenant, settlement_id)).json()
    path = f"/v1/approvals/{dispute['approval_id']}/decision"
    refused = assert_problem(tenant.finance_2.post(path, {"outcome": "approved"}), 422)
    assert "PA-7.9" in refused["detail"], refused
    assert tenant.finance.get(f"/v1/approvals/{dispute['approval_id']}").json()["status"] == "pending"
    assert tenant.partner_keys["A"].get(f"/v1/rebates/disputes/{dispute['dispute_id']}").json()["status"] == "open"
    decided = tenant.finance_2.post(path, {"outcome": "approved", "note": "SO-RB-9 was invoiced in Q3 (PA-7.9)"})
    assert decided.status_code == 200, decided.text
    after = tenant.partner_keys["A"].get(f"/v1/rebates/disputes/{dispute['dispute_id']}").json()
    assert after["status"] == "accepted" and after["resolution"]["reason"] == "SO-RB-9 was invoiced in Q3 (PA-7.9)"
