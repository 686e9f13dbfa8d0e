"""An auditor's case on the audit chain of agent actions, on the in-memory engine with a fixed clock.

PA-12.1: "The Distributor keeps an audit trail of every automated decision and approval under this Agreement".
PA-14.2: "Each automated decision records the rules and clauses applied and can be explained on request." The seed:
"Maintain immutable audit logs for every automated decision, data source, approval action, and AI-generated
recommendation."

The billing reconciler's finding is an `unbilled_fulfilment` exception raised under SOP-2.1 ("At 36 hours an unposted
event raises a warning to the finance queue"); the agent itself knows that rule (it puts it in the evidence). The
exception it opens, and the audit record of its opening, must name that rule and clause.
"""

from __future__ import annotations

import pytest

from memory_store import memory_runtime
from revgov.services import cases
from revgov.services.agents import billing_reconciler
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
    case = rt.store.get("northwind", cases.CASES, case_id)
    assert case is not None
    (record,) = [r for r in rt.store.iter_audit_records("northwind") if r["subject"] == case_id]
    return case.data, record


def test_the_agent_opens_an_unbilled_fulfilment_exception_for_finance_on_the_audit_chain():
    case, record = _opened_by_the_agent()
    assert (case["category"], case["queue"]) == ("unbilled_fulfilment", "finance")  # SOP-2.1: "to the finance queue"
    assert record["actor"] == "agent:billing_reconciler" and record["action"] == "exception.opened"


@pytest.mark.xfail(
    strict=True,
    reason="auditor: services/agents/desk._exception opens an agent's exception with reasons "
    "[{rule_id: None, clause: None}] and tasks.new_task audits task.opened without rule_ids/clauses, so no agent "
    "action names its rule and clause on the audit chain (PA-14.2, PA-12.1)",
)
def test_pa_14_2_the_agents_exception_and_its_audit_record_name_the_rule_and_clause():
    case, record = _opened_by_the_agent()
    assert {(r["rule_id"], r["clause"]) for r in case["reasons"]} == {("BILL-INVOICE-SLA", "SOP-2.1")}
    assert ("BILL-INVOICE-SLA", "SOP-2.1") in set(zip(record["rule_ids"], record["clauses"], strict=True))
