"""An escalated agent finding keeps its own kind visible (docs/kpis.md "Agents").

A finding below its confidence bar is escalated: a task of kind `escalation` asking a person to review it. Which
finding it was (a threshold miss, a certification lapse, ...) must stay readable on the task and on its audit record
(PA-14.2 / CPA-14.2: "Each automated decision records the rules and clauses applied and can be explained on
request"; the seed: "immutable audit logs for every [...] AI-generated recommendation"): `finding_kind`, the kind the
same finding's task has when the agent is sure.
"""

from __future__ import annotations

from memory_store import memory_runtime
from revgov.services import tasks
from revgov.services.agents import threshold_watcher
from revgov.services.agents.desk import AgentDesk

OUTLOOK = {"to_date": "20000.00", "projected": "60000.00", "interval_80": ["45000.00", "80000.00"],
           "elapsed_percent": "66.30", "history_months": 12, "method": "seasonal level"}  # fmt: skip
THRESHOLD = {"program_id": "RBT-VOLUME", "program": "Quarterly volume rebate", "level": "1.0%",
             "threshold": "100000.00", "clause": "PA-7.2", "source": "rebate_program", "p_miss": 0.93}  # fmt: skip
PARTNER = {"partner_id": "ptr_01JBNWPARTNER0000000000001", "legal_name": "Contour Networks LLC", "tier": "silver"}


def _opened(history_months: int) -> tuple[dict, dict]:
    rt, _ = memory_runtime("2026-11-20T06:00:00.000Z")
    desk = AgentDesk(rt, threshold_watcher.NAME, "northwind")
    finding = threshold_watcher._finding(PARTNER, "2026-Q4", {**OUTLOOK, "history_months": history_months}, THRESHOLD)
    task_id = desk.handle(finding)
    assert task_id is not None
    stored = rt.store.get("northwind", tasks.TASKS, task_id)
    assert stored is not None
    (record,) = [r for r in rt.store.iter_audit_records("northwind") if r["subject"] == task_id]
    return stored.data, record


def test_an_escalated_finding_keeps_its_kind_on_the_task_and_its_audit_record():
    sure, sure_record = _opened(12)  # twelve months of history: above the bar, a task of the finding's own kind
    unsure, unsure_record = _opened(2)  # two months: confidence 2/6, below the bar, escalated
    assert (sure["escalated"], unsure["escalated"], unsure["kind"]) == (False, True, "escalation")
    assert sure["kind"] != "escalation"
    assert unsure["finding_kind"] == sure["kind"] == sure["finding_kind"]
    assert unsure_record["action"] == "task.escalated"
    assert unsure_record["inputs"]["finding_kind"] == sure["kind"] == sure_record["inputs"]["finding_kind"]
