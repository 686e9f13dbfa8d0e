"""An auditor's case on the audit chain of agent actions, on the in-memory engine with a fixed clock.

PA-12.1: "The Distributor keeps an audit trail of every automated decision and approval under this Agreement".
PA-14.2: "Each automated decision records the rules and clauses applied and can be explained on request." The seed:
"Maintain immutable audit logs for every automated decision, data source, approval action, and AI-generated
recommendation."

The billing reconciler's finding is an `unbilled_fulfilment` exception raised under SOP-2.1 ("At 36 hours an unposted
event raises a warning to the finance queue"): the exception's audit record names its route's rule and SOP-2.1. The
threshold watcher's finding is a task about a rebate threshold (PA-7.2's volume levels); its audit record must name
that rule and clause too.
"""

from __future__ import annotations

from memory_store import memory_runtime
from revgov.services import cases
from revgov.services.agents import billing_reconciler, certification_watcher, discount_drift, threshold_watcher
from revgov.services.agents.desk import AgentDesk

WATCH = {
    "event_id": "evt_01JBAUDITAGENT00000000000A",
    "erp_event_id": "ERP-AUDIT-1",
    "detail_type": "shipment.confirmed",
    "occurred_at": "2026-11-08T08:00:00.000Z",
    "due_at": "2026-11-10T08:00:00.000Z",
    "age_hours": 38.0,
    "log_status": "received",
    "billed_marker": None,
    "partner_id": "ptr_01JBNWPARTNER0000000000001",
}


def _opened_by_the_agent() -> tuple[dict, dict]:
    rt, _ = memory_runtime("2026-11-09T22:00:00.000Z")
    desk = AgentDesk(rt, billing_reconciler.NAME, "northwind")
    sla = desk.policy["billing"]["invoice_sla"]
    finding = billing_reconciler._finding(WATCH, sla, float(sla["warn_hours"]))
    case_id = desk.handle(finding)
    assert case_id is not None
    case = cases.find(rt, "northwind", case_id)
    assert case is not None
    (record,) = [r for r in rt.store.iter_audit_records("northwind") if r["subject"] == case_id]
    return case.data, record


def test_the_reconcilers_exception_and_its_audit_record_name_its_rule_and_clause():
    case, record = _opened_by_the_agent()
    assert (case["category"], case["queue"]) == ("unbilled_fulfilment", "finance")  # SOP-2.1: "to the finance queue"
    assert record["actor"] == "agent:billing_reconciler" and record["action"] == "exception.opened"
    assert "SOP-2.1" in record["clauses"] and "ROUTE-UNBILLED-FULFILMENT" in record["rule_ids"]


OUTLOOK = {"to_date": "20000.00", "projected": "60000.00", "interval_80": ["45000.00", "80000.00"],
           "elapsed_percent": "66.30", "history_months": 12, "method": "seasonal level"}  # fmt: skip
THRESHOLD = {"program_id": "RBT-VOLUME", "program": "Quarterly volume rebate", "level": "1.0%",
             "threshold": "100000.00", "clause": "PA-7.2", "source": "rebate_program", "p_miss": 0.93}  # fmt: skip


def test_pa_14_2_an_agents_task_is_audited_with_the_rule_and_clause_it_acted_on():
    rt, _ = memory_runtime("2026-11-20T06:00:00.000Z")
    desk = AgentDesk(rt, threshold_watcher.NAME, "northwind")
    partner = {"partner_id": "ptr_01JBNWPARTNER0000000000001", "legal_name": "Contour Networks LLC", "tier": "silver"}
    task_id = desk.handle(threshold_watcher._finding(partner, "2026-Q4", OUTLOOK, THRESHOLD))
    assert task_id is not None
    (record,) = [r for r in rt.store.iter_audit_records("northwind") if r["subject"] == task_id]
    assert record["action"] == "task.opened"
    assert "RBT-VOLUME" in record["rule_ids"] and "PA-7.2" in record["clauses"]


def test_pa_14_2_an_escalated_finding_is_audited_with_its_rule_and_clause_too():
    # Two months of history: confidence 2/6, below the bar, so the watcher asks a person (an escalation task).
    rt, _ = memory_runtime("2026-11-20T06:00:00.000Z")
    desk = AgentDesk(rt, threshold_watcher.NAME, "northwind")
    partner = {"partner_id": "ptr_01JBNWPARTNER0000000000001", "legal_name": "Contour Networks LLC", "tier": "silver"}
    task_id = desk.handle(threshold_watcher._finding(partner, "2026-Q4", {**OUTLOOK, "history_months": 2}, THRESHOLD))
    (record,) = [r for r in rt.store.iter_audit_records("northwind") if r["subject"] == task_id]
    assert record["action"] == "task.escalated"
    assert "RBT-VOLUME" in record["rule_ids"] and "PA-7.2" in record["clauses"]


def test_pa_14_2_the_other_agents_cite_the_tenants_rules():
    # PA-4.3: certifications under a live deal (the deal-registration rule); PA-6.2 / PA-6.6: what makes a quote need
    # an approval, whose rate the discount-drift agent watches.
    rt, _ = memory_runtime("2026-11-20T06:00:00.000Z")
    policy = AgentDesk(rt, certification_watcher.NAME, "northwind").policy
    assert certification_watcher.lapse_rule(policy).as_dict() == {"rule_id": "DR-CERT-LAPSE", "clause": "PA-4.3"}
    cited = [r.as_dict() for r in discount_drift.approval_rules(policy)]
    assert cited == [{"rule_id": "PRC-TIER-CAPS", "clause": "PA-6.2"},
                     {"rule_id": "PRC-FINANCE-THRESHOLD", "clause": "PA-6.6"}]  # fmt: skip
