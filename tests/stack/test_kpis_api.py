"""KPIs on the running stack, checked against figures computed by hand (tests/scenarios/kpis/small-month.json):
facts go in through the real paths (signed ERP webhook, pricing checks, approvals) and the update_kpis handler."""

from datetime import timedelta
from typing import Any

import pytest

import clock_support
from analytics_support import analytics_tenant_in
from billing_support import wait_until
from revgov.ports import Changes
from revgov.services import partner_repository
from support import assert_problem, scenario

SCENARIO = scenario("kpis/small-month.json")
QUOTES = scenario("pricing/http.json")
EARLIEST_HOURS = max(event["hours_ago"] for event in SCENARIO["erp_events"])


@pytest.fixture(scope="module")
def month(stack):
    """The month every fact of the scenario falls in, on the product's clock. The facts go back EARLIEST_HOURS, so in
    the first hours of a month (or its last minutes) the stack's clock first moves on to where a whole scenario fits
    in one month: the figures are those of "a small month", whatever day the suite runs (issue #22)."""
    return clock_support.within_one_month(EARLIEST_HOURS)


def _activated_before_the_scenario(tenant: Any) -> None:
    """PA-2.2: "Before the Partner may quote, order, register deals or accrue any incentive, the following must be
    received and verified": an order dated before its partner's activation is held, not billed. The use cases
    activate only "now", and the scenario's facts go back EARLIEST_HOURS, so its partners are recorded as activated
    then (written with the partner repository's writer: same lookup, same version check)."""
    at = (clock_support.now() - timedelta(hours=EARLIEST_HOURS)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    puts = []
    for partner in tenant.partners.values():
        stored = tenant.rt.store.get(tenant.tenant_id, partner_repository.PARTNERS, partner["partner_id"])
        puts.append(partner_repository.put({**stored.data, "activated_at": at}, version=stored.version))
    tenant.rt.store.commit(tenant.tenant_id, Changes(puts=puts))


@pytest.fixture(scope="module")
def kpi_tenant(api, operator, stack, month):
    for tenant in analytics_tenant_in(api, operator, stack):
        for partner in SCENARIO["partners"]:
            tenant.onboard(partner["label"], partner["tier_rank"])
        _activated_before_the_scenario(tenant)
        sent = []
        for event in SCENARIO["erp_events"]:
            data = {**event["data"], "partner_id": tenant.partners[event["partner"]]["partner_id"]}
            day = {"shipment.confirmed": "shipped_on", "service.completed": "accepted_on",
                   "support.logged": "performed_on"}[event["type"]]
            # the fact is dated the day its event occurred: a shipment cannot be dated after the event reporting it
            # (BILL-PLAUSIBILITY, PA-2.2)
            occurred_on = (clock_support.now() - timedelta(hours=event["hours_ago"])).date().isoformat()
            sent.append(tenant.send(event["type"], {**data, day: occurred_on}, hours_ago=event["hours_ago"]))
        tenant.wait_for(sent)
        for step in SCENARIO["quotes"]:
            body = {**QUOTES[step["quote"]], "partner_id": tenant.partners[step["partner"]]["partner_id"]}
            checked = tenant.roles["sales"].post("/v1/pricing/check", body).json()
            if "decide" in step:
                approval = checked["approvals"][0]["approval_id"]
                decided = tenant.roles["channel_ops"].post(
                    f"/v1/approvals/{approval}/decision", {"outcome": step["decide"], "note": "kpi scenario"}
                )
                assert decided.status_code == 200, decided.text
        yield tenant


def _settled(tenant, month, **query):
    """The KPIs once every fact of the scenario has been counted (the handler runs behind the bus)."""
    expected = SCENARIO["expected"]["all"]
    want = (expected["policy_exceptions_per_100_transactions"]["transactions"],
            expected["overrides_and_approvals"]["approvals_decided"],
            expected["support_hours_per_revenue_dollar"]["support_hours"],
            expected["policy_exceptions_per_100_transactions"]["exceptions"],
            expected["net_realized_margin"]["revenue"])
    seen = {}

    def counted():
        seen["kpis"] = tenant.roles["finance"].get("/v1/kpis", period=month).json()
        k = seen["kpis"]
        return (k["policy_exceptions_per_100_transactions"]["transactions"],
                k["overrides_and_approvals"]["approvals_decided"],
                k["support_hours_per_revenue_dollar"]["support_hours"],
                k["policy_exceptions_per_100_transactions"]["exceptions"],
                k["net_realized_margin"]["revenue"]) == want

    wait_until(counted, 40, what="the KPI rollups")
    return tenant.roles["finance"].get("/v1/kpis", period=month, **query).json() if query else seen["kpis"]


def test_kpis_of_the_month_match_the_hand_computed_figures(kpi_tenant, month):
    k = _settled(kpi_tenant, month)
    expected = SCENARIO["expected"]["all"]
    assert k["period"] == month and k["months"] == [month] and k["currency"] == "USD"
    assert {key: k["net_realized_margin"][key] for key in expected["net_realized_margin"]} == (
        expected["net_realized_margin"]
    )
    by_tier = {row["tier"]: row for row in k["net_realized_margin"]["by_tier"]}
    for tier, figures in expected["by_tier"].items():
        assert {key: by_tier[tier][key] for key in figures} == figures, tier
    rebates = k["net_realized_margin"]["rebates"]  # northwind's monthly commissions: nothing accrued this month
    assert rebates["included"] is True and rebates["periods"] == [{"period": month, "source": "accrued"}]
    for section in ("invoice_cycle_time", "support_hours_per_revenue_dollar",
                    "policy_exceptions_per_100_transactions", "overrides_and_approvals"):
        assert {key: k[section][key] for key in expected[section]} == expected[section], section
    rows = k["threshold_attainment"]["thresholds"]
    programs = k["threshold_attainment"]["rebate_programs"]["available"]
    for figures in expected["threshold_attainment"]:
        figures = {key: value for key, value in figures.items() if key != "note"}
        if figures["source"] == "rebate_program" and not programs:
            continue  # the tenant's policy has no rebate programs: only tier commitments are measured
        (row,) = [r for r in rows if r["program_id"] == figures["program_id"] and r["level"] == figures.get(
            "level", r["level"])]
        assert {key: row[key] for key in figures} == figures, figures["program_id"]
        assert row["clause"].startswith("PA-")


def test_a_quarter_is_its_months_merged(kpi_tenant, month):
    of_month = _settled(kpi_tenant, month)
    quarter = f"{month[:4]}-Q{(int(month[5:]) - 1) // 3 + 1}"
    q = kpi_tenant.roles["finance"].get("/v1/kpis", period=quarter).json()
    assert len(q["months"]) == 3 and month in q["months"]
    assert q["net_realized_margin"]["revenue"] == of_month["net_realized_margin"]["revenue"]
    # each section also holds its baseline, which is the quarter before go-live here and the month before there
    def current(section):
        return {k: v for k, v in section.items() if k != "baseline"}

    assert current(q["invoice_cycle_time"]) == current(of_month["invoice_cycle_time"])


def test_one_partner_and_one_tier(kpi_tenant, month):
    _settled(kpi_tenant, month)
    a = SCENARIO["expected"]["partner_A"]
    partner_id = kpi_tenant.partners["A"]["partner_id"]
    k = kpi_tenant.roles["finance"].get("/v1/kpis", period=month, partner_id=partner_id).json()
    assert k["scope"] == {"partner_id": partner_id, "tier": None}
    assert k["net_realized_margin"]["revenue"] == a["revenue"]
    assert {key: k["invoice_cycle_time"][key] for key in a["invoice_cycle_time"]} == a["invoice_cycle_time"]
    assert k["support_hours_per_revenue_dollar"]["support_hours"] == a["support_hours"]
    compliance = k["policy_exceptions_per_100_transactions"]
    assert (compliance["exceptions"], compliance["transactions"], compliance["per_100_transactions"]) == (
        a["exceptions"], a["transactions"], a["per_100_transactions"])
    gold = kpi_tenant.roles["finance"].get("/v1/kpis", period=month, tier="gold").json()
    assert gold["net_realized_margin"]["revenue"] == SCENARIO["expected"]["all"]["by_tier"]["gold"]["revenue"]
    assert [row["tier"] for row in gold["net_realized_margin"]["by_tier"]] == ["gold"]


def test_a_partner_key_sees_its_own_figures_without_the_distributors_margin(kpi_tenant, month):
    _settled(kpi_tenant, month)
    a, b = kpi_tenant.partner_keys["A"], kpi_tenant.partners["B"]["partner_id"]
    own = a.get("/v1/kpis", period=month).json()
    assert own["scope"]["partner_id"] == kpi_tenant.partners["A"]["partner_id"]
    assert "withheld" in own["net_realized_margin"]
    assert own["support_hours_per_revenue_dollar"]["revenue"] == SCENARIO["expected"]["partner_A"]["revenue"]
    assert_problem(a.get("/v1/kpis", period=month, partner_id=b), 404)
    assert_problem(a.get("/v1/kpis", period=month, tier="gold"), 403)
    assert_problem(a.get("/v1/tasks"), 403)


def test_bad_kpi_queries_are_refused(kpi_tenant, northwind, month):
    finance = kpi_tenant.roles["finance"]
    assert_problem(finance.get("/v1/kpis"), 400)
    assert_problem(finance.get("/v1/kpis", period="2026-13"), 400)
    assert_problem(finance.get("/v1/kpis", period="2026-Q5"), 400)
    for year_out_of_range in ("0000-Q1", "9999-12", "1899-12"):  # periods are named in years 1900-2199
        assert_problem(finance.get("/v1/kpis", period=year_out_of_range), 400)
    assert_problem(finance.get("/v1/kpis", period=month, tier="diamond"), 404)
    other = kpi_tenant.partners["A"]["partner_id"]
    assert_problem(northwind.get("/v1/kpis", period=month, partner_id=other), 404)  # another tenant's partner


def test_a_fact_delivered_again_is_not_counted_twice(kpi_tenant, stack, month):
    from revgov.services import analytics

    before = _settled(kpi_tenant, month)
    rt = stack.runtime
    line = next(
        item.data for item in rt.store.query(kpi_tenant.tenant_id, "SALESFACT", limit=50).items
    )
    again = {
        "source": "revgov.billing",
        "detail-type": "invoice.lines_posted",
        "detail": {"tenant_id": kpi_tenant.tenant_id, "event_id": "evt_01JX0000000000000000000001",
                   "occurred_at": clock_support.now_iso(),
                   "invoice_id": line["invoice_id"], "partner_id": line["partner_id"], "period": line["period"],
                   "line_ids": [line["line_id"]], "source_event_id": line["event_id"]},
    }
    assert analytics.record_fact(rt, again) == "already counted"
    after = kpi_tenant.roles["finance"].get("/v1/kpis", period=month).json()
    assert after == before


def test_the_forecast_states_its_method_and_a_probability_per_threshold(kpi_tenant, month):
    _settled(kpi_tenant, month)
    partner_id = kpi_tenant.partners["A"]["partner_id"]
    quarter = f"{month[:4]}-Q{(int(month[5:]) - 1) // 3 + 1}"
    f = kpi_tenant.partner_keys["A"].get(f"/v1/partners/{partner_id}/forecast", period=quarter).json()
    assert f["partner_id"] == partner_id and f["tier"] == "silver" and "seasonal run-rate" in f["method"]
    assert float(f["to_date"]) == 10200.0 and float(f["projected"]) >= 10200.0
    (commitment,) = [t for t in f["thresholds"] if t["source"] == "tier_commitment"]
    assert commitment["threshold"] == "62500.00" and 0 <= commitment["p_miss"] <= 1
    other = kpi_tenant.partners["B"]["partner_id"]
    assert_problem(kpi_tenant.partner_keys["A"].get(f"/v1/partners/{other}/forecast", period=quarter), 404)
    assert_problem(kpi_tenant.roles["finance"].get(f"/v1/partners/{partner_id}/forecast"), 400)
