"""Observability on the running stack: each of the seed's six signals has metrics that move when a failure of its
kind is driven, readable at GET /v1/metrics; the channel-equity monitor opens one exception per unexplained gap.

The seed whitepaper: "Monitoring and observability should cover workflow failures, model drift, retrieval quality,
latency, exception volumes, and user override patterns."
"""

import dataclasses
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from analytics_support import analytics_tenant_in, monthly_revenue_rollups
from billing_support import wait_until
from engine_support import put_on_bus
from revgov import metrics
from revgov.domain import cases as case_rules
from revgov.domain.access import Principal, Role
from revgov.domain.copilot import Citation, Draft
from revgov.ports import Changes, Put
from revgov.services import analytics, case_repository, cases, drift, equity, kpi_gauges
from revgov.services import copilot as copilot_service
from revgov.services.partner_repository import PARTNERS
from support import assert_problem, scenario

pytestmark = pytest.mark.stack

QUOTES = scenario("pricing/http.json")


def recorded(name, **labels):
    return metrics.recorder().total(name, **labels)


def counted(name, **labels):
    return metrics.recorder().count(name, **labels)


class FixedClock:
    def __init__(self, iso):
        self.iso = iso

    def now_iso(self):
        return self.iso

    def now_ms(self):
        return int(datetime.fromisoformat(self.iso.replace("Z", "+00:00")).timestamp() * 1000)


@pytest.fixture(scope="module")
def shop(api, operator, stack):
    """A fresh tenant with northwind's policy and two active partners."""
    for tenant in analytics_tenant_in(api, operator, stack):
        tenant.onboard("a", 1)
        tenant.onboard("b", 2)
        yield tenant


@pytest.fixture
def nw(api, keys):
    tenant = keys["tenants"]["northwind"]
    return {role: api.as_key(key) for role, key in tenant["keys"].items() if not role.startswith("ptr_")}


# --- latency ---------
def test_a_slow_failing_operation_moves_its_latency_and_5xx_count(nw, monkeypatch):
    def slow_failure(*args, **kwargs):
        time.sleep(0.3)
        raise RuntimeError("injected KPI failure")

    labels = {"operation": "get_kpis", "tenant": "northwind"}
    before_5xx = recorded("Requests", status_class="5xx", **labels)
    before_4xx = recorded("Requests", status_class="4xx", **labels)
    monkeypatch.setattr(analytics, "kpis", slow_failure)
    assert_problem(nw["finance"].get("/v1/kpis", period="2026-11"), 500)
    assert_problem(nw["finance"].get("/v1/kpis", period="2026-13"), 400)
    assert recorded("Requests", status_class="5xx", **labels) == before_5xx + 1
    assert recorded("Requests", status_class="4xx", **labels) == before_4xx + 1
    view = nw["finance"].get("/v1/metrics", signal="latency").json()
    slow = [s for s in view["metrics"]["RequestLatency"]["series"]
            if s["labels"] == {"operation": "get_kpis", "status_class": "5xx"}]
    assert slow and slow[0]["max"] >= 300 and slow[0]["count"] >= 1
    assert view["metrics"]["RequestLatency"]["unit"] == "Milliseconds"


def test_metrics_are_for_staff_and_each_tenant_sees_only_its_own_series(api, keys, nw, contoso, operator):
    nw["finance"].get("/v1/partners")
    contoso.get("/v1/partners", limit=1)
    contoso_view = contoso.get("/v1/metrics").json()
    assert all("tenant" not in s["labels"] for m in contoso_view["metrics"].values() for s in m["series"])
    everyone = metrics.snapshot(None)
    tenants = {s["labels"].get("tenant") for s in everyone["metrics"]["Requests"]["series"]}
    assert {"northwind", "contoso"} <= tenants
    ours = sum(s["count"] for s in contoso_view["metrics"]["Requests"]["series"]
               if s["labels"]["operation"] != "get_metrics")  # the metrics request itself is counted after it
    theirs = sum(s["count"] for s in everyone["metrics"]["Requests"]["series"]
                 if s["labels"]["tenant"] == "contoso" and s["labels"]["operation"] != "get_metrics")
    assert ours == theirs  # contoso's view holds contoso's requests and nothing of northwind's
    assert_problem(operator.get("/v1/metrics"), 403)  # the platform operator reads CloudWatch, not tenants' figures
    northwind = keys["tenants"]["northwind"]
    partner_key = next(k for role, k in northwind["keys"].items() if role.startswith("ptr_"))
    assert_problem(api.as_key(partner_key).get("/v1/metrics"), 403)
    assert_problem(nw["finance"].get("/v1/metrics", signal="everything"), 400)
    assert_problem(nw["finance"].get("/v1/metrics", tenant="contoso"), 400)
    text = nw["finance"].get("/v1/metrics/prometheus")
    assert text.status_code == 200 and text.headers["Content-Type"].startswith("text/plain")
    assert "# TYPE revgov_requests_total counter" in text.text
    p50 = 'revgov_request_latency_milliseconds{operation="list_partners",quantile="0.5",status_class="2xx"}'
    assert p50 in text.text
    assert "tenant=" not in text.text


# --- workflow failures ---------
def test_a_poison_event_moves_handler_failures_retries_and_dead_letters(api, fresh_tenant, stack):
    tid = fresh_tenant["tenant"]["tenant_id"]
    rt = stack.runtime
    poison = {"tenant_id": tid, "event_id": rt.ids.new("evt"), "poison": True}
    put_on_bus(rt, tid, "revgov.test", "probe.poison", poison)
    wait_until(lambda: recorded("DeadLetters", tenant=tid) >= 1, 45, what="the dead letter")
    assert recorded("HandlerFailures", handler="log_event", tenant=tid) >= 2  # every delivery failed
    assert recorded("HandlerRetries", handler="log_event", tenant=tid) >= 1  # delivered again after a failure


class Receiver:
    """A subscriber on loopback that answers 503 to everything."""

    def __init__(self):
        self.calls = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                owner.calls += 1
                self.send_response(503)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_a_failing_subscriber_moves_the_webhook_failure_count(shop):
    receiver = Receiver()
    try:
        created = shop.roles["admin"].post("/v1/subscriptions", {"url": receiver.url, "event_types": ["quote.*"]})
        assert created.status_code == 201, created.text
        before = recorded("WebhookDeliveries", tenant=shop.tenant_id, outcome="retrying")
        body = {**QUOTES["within_cap"], "partner_id": shop.partners["a"]["partner_id"]}
        assert shop.roles["sales"].post("/v1/pricing/check", body).status_code == 200
        wait_until(lambda: recorded("WebhookDeliveries", tenant=shop.tenant_id, outcome="retrying") > before, 30,
                   what="a failed delivery")
        shop.roles["admin"].delete(f"/v1/subscriptions/{created.json()['subscription_id']}")
    finally:
        receiver.server.shutdown()


# --- exception volumes and user overrides ---------
def test_an_approval_opened_and_approved_moves_volumes_overrides_and_time_to_decision(shop):
    labels = {"tenant": shop.tenant_id, "kind": "approval", "queue": "channel_ops"}
    opened_before = recorded("CasesOpened", category="discount_above_tier_cap", **labels)
    body = {**QUOTES["above_cap"], "partner_id": shop.partners["a"]["partner_id"]}
    checked = shop.roles["sales"].post("/v1/pricing/check", body).json()
    assert checked["outcome"] == "approval_required", checked
    assert recorded("CasesOpened", category="discount_above_tier_cap", **labels) == opened_before + 1
    overrides_before = recorded("Overrides", tenant=shop.tenant_id, rule="PRC-TIER-CAPS")
    decisions_before = counted("TimeToDecision", tenant=shop.tenant_id, queue="channel_ops")
    approval = next(a for a in checked["approvals"] if a["queue"] == "channel_ops")["approval_id"]
    decided = shop.roles["channel_ops"].post(f"/v1/approvals/{approval}/decision", {"outcome": "approved",
                                                                                     "note": "override"})
    assert decided.status_code == 200, decided.text
    assert recorded("Overrides", tenant=shop.tenant_id, rule="PRC-TIER-CAPS") == overrides_before + 1
    approvers = {labels["approver"] for m, labels, _ in metrics.recorder().series()
                 if m.name == "Overrides" and labels["tenant"] == shop.tenant_id and labels["rule"] == "PRC-TIER-CAPS"}
    assert approvers == {decided.json()["decision"]["by"]}  # per approver: the deciding key
    assert counted("TimeToDecision", tenant=shop.tenant_id, queue="channel_ops") == decisions_before + 1
    assert recorded("CaseDecisions", tenant=shop.tenant_id, kind="approval", outcome="approved") >= 1


def test_an_approval_decided_after_its_sla_moves_the_breach_count(shop, rt):
    body = {**QUOTES["above_cap"], "partner_id": shop.partners["a"]["partner_id"]}
    checked = shop.roles["sales"].post("/v1/pricing/check", body).json()
    approval = next(a for a in checked["approvals"] if a["queue"] == "channel_ops")
    # the policy: discount_above_tier_cap -> channel_ops, sla_hours 8 (tenants/northwind/tenant.yaml, SOP-4.1)
    late = datetime.fromisoformat(approval["due_at"].replace("Z", "+00:00")) + timedelta(minutes=1)
    later_rt = dataclasses.replace(rt, clock=FixedClock(late.isoformat().replace("+00:00", "Z")))
    before = recorded("ApprovalSlaBreaches", tenant=shop.tenant_id, queue="channel_ops")
    ops = Principal(shop.tenant_id, Role.CHANNEL_OPS, "key_01JX00000000000000000LATE0")
    cases.decide_case(later_rt, ops, "approval", approval["approval_id"], "rejected", "too late, too deep")
    assert recorded("ApprovalSlaBreaches", tenant=shop.tenant_id, queue="channel_ops") == before + 1


# --- retrieval quality ---------
def test_a_refused_question_moves_the_refusal_count_latency_evidence_score_and_refusal_drift(nw):
    before = recorded("CopilotAnswers", tenant="northwind", outcome="refused")
    latency_before = counted("CopilotAnswerLatency", tenant="northwind")
    for _ in range(3):
        body = nw["finance"].post("/v1/copilot/ask", {"question": "What is the dress code for the kickoff party?"})
        assert body.json()["refused"] is True
    assert recorded("CopilotAnswers", tenant="northwind", outcome="refused") == before + 3
    assert counted("CopilotAnswerLatency", tenant="northwind") == latency_before + 3
    assert counted("CopilotTopEvidenceScore", tenant="northwind") >= 3
    drift_view = nw["finance"].get("/v1/metrics", signal="model_drift").json()["metrics"]["CopilotRefusalDrift"]
    assert drift_view["series"][0]["value"] > -0.28  # the live refusal rate (some refusals) minus the 0.28 baseline


class CitingOutsideRetrieval:
    """An answerer that cites a clause nobody retrieved (what a hallucinating model does)."""

    def answer(self, question, hits, *, context):
        return Draft("See clause PA-99.9.", (Citation("PA", "PA-99.9", "invented text"),))


def test_a_citation_outside_retrieval_moves_the_citation_rejection_count(rt):
    lying = dataclasses.replace(rt, answerer=CitingOutsideRetrieval())
    who = Principal("northwind", Role.FINANCE, "key_01JX00000000000000000FIN00")
    before = recorded("CitationRejections", tenant="northwind")
    reply = copilot_service.ask(lying, who, {"question": "What minimum line margin must a quote line keep?"})
    assert reply["refused"] is True
    assert recorded("CitationRejections", tenant="northwind") == before + 1


# --- model drift ---------
def test_a_forecast_that_misses_on_a_closed_quarter_moves_the_brier_gauges(shop, rt):
    partner = shop.partners["b"]
    history = {f"2025-{m:02d}": 60_000.0 for m in range(1, 10)}
    at = FixedClock("2026-02-15T00:00:00.000Z")  # 2025-Q4 has closed
    clocked = dataclasses.replace(rt, clock=at)
    shop.write_rollups(monthly_revenue_rollups(partner["partner_id"], partner["tier"],
                                               {**history, "2025-10": 60_000.0, "2025-11": 60_000.0,
                                                "2025-12": 60_000.0}))
    steady = drift.forecast_calibration(clocked, shop.tenant_id, "2025-Q4")
    assert steady["predictions"] >= 1
    calm = metrics.recorder().last("ForecastBrierScore", tenant=shop.tenant_id, period="2025-Q4")
    # the partner collapses after October: a forecast made a month in should not have seen it coming
    shop.write_rollups(monthly_revenue_rollups(partner["partner_id"], partner["tier"],
                                               {"2025-11": 1_000.0, "2025-12": 1_000.0}))
    drift.forecast_calibration(clocked, shop.tenant_id, "2025-Q4")
    assert metrics.recorder().last("ForecastBrierScore", tenant=shop.tenant_id, period="2025-Q4") > calm
    assert metrics.recorder().last("ForecastBrierVsNaive", tenant=shop.tenant_id, period="2025-Q4") is not None


def test_the_executive_kpis_are_sampled_as_gauges(shop, rt):
    rollup = {"period": "2026-03", "scope": "all", "revenue_minor": 100_000, "margin_revenue_minor": 100_000,
              "cost_minor": 60_000, "lines": 4}
    base = analytics.core.empty("2026-03", "all")
    shop.write_rollups([{**base, **rollup}])
    clocked = dataclasses.replace(rt, clock=FixedClock("2026-03-20T12:00:00.000Z"))
    sampled = kpi_gauges.record_kpi_gauges(clocked, shop.tenant_id)
    # docs/kpis.md: net margin % = (net amount - cost - rebates) / net amount = (1000 - 600 - 0) / 1000
    assert sampled["KpiNetMarginPercent"] == 40.0
    assert metrics.recorder().last("KpiNetMarginPercent", tenant=shop.tenant_id) == 40.0


# --- channel equity ---------
def _history_with_a_gap(rt, tenant_id, policy):
    """40 partners (silver and gold; resellers and msps in each) and 240 pricing approvals decided in the last
    30 days; msps approved 40% of the time, resellers 85%, whatever their tier."""
    rng = np.random.default_rng(5)
    partners = []
    puts = []
    for i in range(40):
        pid = rt.ids.new("ptr")
        kind = "msp" if i % 2 else "reseller"
        tier = "silver" if i % 4 < 2 else "gold"
        partners.append((pid, kind))
        puts.append(Put(PARTNERS, pid, {"partner_id": pid, "tier": tier, "partner_type": kind, "status": "active",
                                        "terms": {"territory": ["US"], "annual_commitment": "50000.00"}}))
    now = datetime.fromisoformat(rt.clock.now_iso().replace("Z", "+00:00"))
    route = case_rules.route_for(policy, "discount_above_tier_cap")
    ops = Principal(tenant_id, Role.CHANNEL_OPS, "key_01JX0000000000000000EQUOPS")
    for n in range(240):
        pid, kind = partners[int(rng.integers(len(partners)))]
        opened = (now - timedelta(days=20, hours=n % 48)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        case = case_rules.new_case(
            case_id=rt.ids.new("apr"), kind="approval", route=route, subject_kind="decision",
            subject_id=rt.ids.new("dec"), requested_by="sales:key_x", opened_at=opened, risk_score=50,
            partner_id=pid, reasons=[{"rule_id": "PRC-TIER-CAPS", "clause": "PA-6.2", "message": "above cap"}],
        )
        outcome = "approved" if rng.random() < (0.4 if kind == "msp" else 0.85) else "rejected"
        at = (datetime.fromisoformat(opened.replace("Z", "+00:00")) + timedelta(hours=3)).isoformat(
            timespec="milliseconds").replace("+00:00", "Z")
        puts.append(case_repository.put(case_rules.decide(case, ops, outcome, "equity history", at), version=None))
    for start in range(0, len(puts), 25):
        rt.store.commit(tenant_id, Changes(puts=puts[start:start + 25]))


def test_an_unexplained_gap_opens_one_exception_for_the_policy_owner_with_evidence_and_rule_ids(
    api, operator, stack
):
    for tenant in analytics_tenant_in(api, operator, stack):
        rt = stack.runtime
        _history_with_a_gap(rt, tenant.tenant_id, tenant.policy)
        before = recorded("EquityFindings", tenant=tenant.tenant_id)
        first = equity.run(rt, tenant.tenant_id)
        assert len(first["opened"]) == 1, first
        assert recorded("EquityFindings", tenant=tenant.tenant_id) == before + 1
        case = tenant.roles["channel_ops"].get(f"/v1/exceptions/{first['opened'][0]}").json()
        # SOP-4.1's matrix has no channel_equity row: "An item that matches no category goes to channel_ops for
        # triage within 8 hours."
        assert case["category"] == "channel_equity" and case["queue"] == "channel_ops"
        assert case["reasons"][0]["rule_id"] == "ROUTE-TRIAGE" and case["sla_hours"] == 8
        assert {"rule_id": "PRC-TIER-CAPS", "clause": "PA-6.2"}.items() <= case["reasons"][2].items()
        comparison = case["context"]["comparison"]
        assert (comparison["measure"], comparison["dimension"], comparison["segment"]) == (
            "approval_rate", "partner_type", "msp")
        assert comparison["disadvantaged"] == "msp" and comparison["evidence_ids"]
        again = equity.run(rt, tenant.tenant_id)
        assert again["opened"] == [] and again["already_open"] == first["opened"]  # deduplicated across runs
        report = tenant.roles["finance"].get("/v1/equity", window_days="60").json()
        assert report["window"]["days"] == 60 and report["correction"] == "Holm"
        assert [(f["measure"], f["segment"]) for f in report["findings"]] == [("approval_rate", "msp")]
        assert_problem(tenant.roles["finance"].get("/v1/equity", window_days="3"), 400)
        assert_problem(tenant.roles["finance"].get("/v1/equity", window_days="abc"), 400)
        assert_problem(tenant.api.get("/v1/equity"), 401)


def test_a_partner_key_cannot_read_equity_or_metrics(api, keys):
    northwind = keys["tenants"]["northwind"]
    partner = api.as_key(next(k for role, k in northwind["keys"].items() if role.startswith("ptr_")))
    assert_problem(partner.get("/v1/equity"), 403)
    assert_problem(partner.get("/v1/metrics"), 403)
    assert_problem(partner.get("/v1/metrics/prometheus"), 403)
    assert_problem(partner.get("/v1/metrics/workflow", period="2026-11"), 403)


# --- baselines ---------
def test_each_kpi_shows_the_configured_baseline_period_beside_the_current_one(api, operator, stack):
    for tenant in analytics_tenant_in(api, operator, stack, kpi_baseline_period="2025-06"):
        tenant.onboard("a", 1)
        partner = tenant.partners["a"]
        rollups = monthly_revenue_rollups(partner["partner_id"], partner["tier"], {"2025-06": 1_000.0,
                                                                                   "2026-03": 3_000.0})
        alls = []
        for r in rollups:
            for scope in ("all", f"tier:{partner['tier']}"):
                alls.append({**r, "scope": scope, "partners": {partner["partner_id"]: r["revenue_minor"]}})
        tenant.write_rollups(rollups + alls)
        k = tenant.roles["finance"].get("/v1/kpis", period="2026-03").json()
        assert k["baseline"]["period"] == "2025-06" and k["baseline"]["source"] == "configured"
        assert k["net_realized_margin"]["revenue"] == "3000.00"
        assert k["net_realized_margin"]["baseline"]["revenue"] == "1000.00"
        assert k["net_realized_margin"]["baseline"]["period"] == "2025-06"
        assert "baseline" in k["overrides_and_approvals"] and "baseline" in k["invoice_cycle_time"]


def test_equity_with_no_history_compares_nothing_and_refuses_bad_windows(shop):
    report = shop.roles["viewer"].get("/v1/equity")
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["window"]["days"] == 90 and body["findings"] == [] and set(body["measures"]) == {
        "approval_rate", "discount_to_cap", "exception_rate", "time_to_decision", "disputes_upheld"}
    for bad in ("0", "6", "366", "999", "-1", "1e2", ""):
        assert_problem(shop.roles["viewer"].get("/v1/equity", window_days=bad), 400)
    assert_problem(shop.roles["viewer"].get("/v1/equity", window=30), 400)


def test_each_workflow_metric_shows_the_baseline_period_beside_the_current_one_over_http(shop):
    """#18: "each KPI and workflow metric keeps the value of the period before a tenant went live (or a configured
    baseline period) beside its current value" (figures worked in tests/unit/test_workflow_metrics.py)."""
    answer = shop.roles["viewer"].get("/v1/metrics/workflow", period="2026-Q4")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["period"] == "2026-Q4" and body["baseline"]["source"] in ("before_go_live", "configured")
    assert body["metrics"] and all("baseline" in m and "value" in m for m in body["metrics"].values())
    for bad in ("", "2026-13", "2026-Q0", "11-2026", "2026-11-01", "0000-Q1", "9999-12"):
        assert_problem(shop.roles["viewer"].get("/v1/metrics/workflow", period=bad), 400)
    assert_problem(shop.roles["viewer"].get("/v1/metrics/workflow"), 400)
    assert_problem(shop.api.get("/v1/metrics/workflow", period="2026-11"), 401)
