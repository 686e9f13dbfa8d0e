"""The agent desk: everything an agent may do, and nothing else.

An agent is handed an `AgentDesk` for one tenant. It can read (partners, live deals, unbilled fulfilments, KPI
rollups, forecasts, rebates per partner, statements of work) and it can hand in a `Finding`; the desk then opens a
task, opens an exception, or, below the confidence bar, escalates: each once per finding, each audited with the actor
`agent:<name>`. There is no method that approves, decides, settles, finalizes, prices or sends, and the desk's one
write path refuses any document other than tasks, their dedupe keys, exceptions and the outbox
(`BoundaryViolation`), so an agent cannot move money even by mistake.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ...domain import agents as core
from ...domain import forecast as projections
from ...domain.cases import route_for
from ...domain.deals import is_live
from ...domain.errors import Conflict
from ...domain.kpis import Period
from ...domain.time import instant
from ...ports import Changes, Put
from ...runtime import OUTBOX, Runtime
from .. import analytics, billing, cases, erp, events, partner_repository, tasks, tenants
from ..case_repository import CASES, UNDECIDED_POINTERS
from ..deals import DEALS
from ..toolkit import lookup_pages, pages

# an exception an agent opens carries its partner's open-case pointer (case_repository.UNDECIDED_POINTERS)
WRITABLE = frozenset({tasks.TASKS, tasks.TASK_KEYS, CASES, UNDECIDED_POINTERS, OUTBOX})
# The desk's whole public surface; tests hold it to exactly this.
CAPABILITIES = frozenset(
    {
        "agent", "tenant_id", "now", "today", "policy", "report",  # who, when, under which policy
        "active_partners", "live_deals", "unbilled_fulfilments", "rollups", "forecast",  # reads
        "rebates", "statements_of_work", "partners",  # reads (support vs margin, milestones, churn)
        "handle",  # hand in a finding: opens a task or an exception, or escalates
    }
)


class BoundaryViolation(RuntimeError):
    """An agent's change tried to write something an agent may not write."""


class AgentDesk:
    __slots__ = ("_now", "_policy", "_policy_version", "_rt", "agent", "report", "tenant_id")

    def __init__(self, rt: Runtime, agent: str, tenant_id: str) -> None:
        self._rt = rt
        self.agent = agent
        self.tenant_id = tenant_id
        tenant, _ = tenants.load_tenant(rt, tenant_id)
        self._policy = tenant.policy
        # the version the agent read its rules under: its records name it, as every decision's does (DESIGN.md
        # "Decisions and the audit chain": "policy version, rule ids, clause refs")
        self._policy_version = tenant.policy_version
        self._now = rt.clock.now_iso()
        self.report = core.RunReport(agent, tenant_id)

    # --- when, and under which policy -------------------------------------------------------------------------
    @property
    def now(self) -> str:
        return self._now

    @property
    def today(self) -> date:
        return instant(self._now).date()

    @property
    def policy(self) -> dict[str, Any]:
        return self._policy

    # --- reads ------------------------------------------------------------------------------------------------
    def _all(self, collection: str) -> list[dict[str, Any]]:
        return [item.data for item in pages(self._rt.store, self.tenant_id, collection)]

    def active_partners(self) -> list[dict[str, Any]]:
        return partner_repository.active(self._rt.store, self.tenant_id)

    def partners(self) -> list[dict[str, Any]]:
        """Every partner of the tenant, whatever its status (terminated ones are what churn is learned from)."""
        return list(partner_repository.every(self._rt.store, self.tenant_id))

    def live_deals(self) -> list[dict[str, Any]]:
        return [d for d in self._all(DEALS) if is_live(d, self._now)]

    def unbilled_fulfilments(self) -> list[dict[str, Any]]:
        """Billable ERP events (shipments, activations, milestones) with no invoice line yet, oldest first, with
        what billing says about each: its settled marker and its event-log status."""
        found = []
        for item in lookup_pages(self._rt.store, self.tenant_id, f"{erp.SLA_WATCH}#open", page_size=100):
            watch = self._rt.store.get(self.tenant_id, erp.SLA_WATCH, item.key)  # the index may lag
            if watch is None:
                continue
            settled = self._rt.store.get(self.tenant_id, billing.BILLED, watch.data["erp_event_id"])
            logged = self._rt.store.get(self.tenant_id, events.EVENTS, item.key)
            age = (instant(self._now) - instant(watch.data["occurred_at"])).total_seconds() / 3600
            found.append(
                {
                    **watch.data,
                    "age_hours": round(age, 2),
                    "billed_marker": settled.data if settled else None,
                    "log_status": logged.data.get("status") if logged else None,
                    "log_reason": logged.data.get("reason") if logged else None,
                }
            )
        return found

    def rollups(self, scope: str, months: list[str]) -> dict[str, dict[str, Any]]:
        """KPI rollups (month -> rollup) of one scope: `all`, `tier:<tier>` or `partner:<id>`."""
        refs = [(self.tenant_id, analytics.ROLLUPS, analytics.rollup_key(m, scope)) for m in months]
        stored = self._rt.store.get_many(refs)
        return {ref[2].split("#", 1)[0]: item.data for ref, item in stored.items()}

    def forecast(self, partner: dict[str, Any], period: str) -> dict[str, Any]:
        """The partner's projection for the period and P(miss) for each threshold that applies to its tier."""
        target = Period.parse(period)
        history, to_date = analytics.partner_history(self._rt, self.tenant_id, partner["partner_id"], target)
        projection = projections.project(history, target.name, self.today, to_date)
        applicable = [
            t for t in analytics.thresholds(self._policy, len(target.months))
            if t.tiers is None or partner.get("tier") in t.tiers
        ]
        return projections.describe(projection, [(t.as_dict(), float(t.amount)) for t in applicable])

    def rebates(self, quarter: str) -> dict[str, int]:
        """Rebates and commissions per partner (minor units) of the program periods the Quarter holds whole, as the
        net realized margin KPI deducts them: settled amounts, or accruals while the period is open."""
        return analytics.rebates_by_partner(self._rt, self.tenant_id, self._policy, quarter)

    def statements_of_work(self) -> list[dict[str, Any]]:
        """Billing's statement-of-work records (partner#sow_ref: the milestones billed so far), each billed
        milestone with `accepted_on`: the day its line is dated (the milestone's acceptance, PA-10.6 / CPA-10.5)."""
        sows = [item.data for item in pages(self._rt.store, self.tenant_id, billing.STATEMENTS_OF_WORK)]
        line_ids = sorted({m["line_id"] for sow in sows for m in sow["milestones"].values()})
        facts: dict[str, dict[str, Any]] = {}
        for start in range(0, len(line_ids), 100):
            refs = [(self.tenant_id, billing.SALES_FACTS, line_id) for line_id in line_ids[start:start + 100]]
            facts.update({ref[2]: item.data for ref, item in self._rt.store.get_many(refs).items()})
        return [
            {**sow, "milestones": {
                name: {**billed, "accepted_on": (facts.get(billed["line_id"]) or {}).get("service_period", {}).get(
                    "start")}
                for name, billed in sow["milestones"].items()}}
            for sow in sows
        ]

    # --- the one way to act -----------------------------------------------------------------------------------
    def handle(self, finding: core.Finding) -> str | None:
        """Open the finding's task or exception, or escalate it; nothing when it is already open. Returns the id."""
        if finding.agent != self.agent:
            raise BoundaryViolation(f"agent {self.agent} handed in a finding of {finding.agent}")
        if tasks.already_opened(self._rt, self.tenant_id, finding.key):
            self.report.already_open += 1
            return None
        if not finding.acts:
            opened = self._task(finding, escalated=True)
            self.report.escalated += int(opened is not None)
        elif finding.action == "exception":
            opened = self._exception(finding)
            self.report.exceptions_opened += int(opened is not None)
        else:
            opened = self._task(finding, escalated=False)
            self.report.tasks_opened += int(opened is not None)
        if opened:
            self.report.opened.append(opened)
        return opened

    def _task(self, finding: core.Finding, *, escalated: bool) -> str | None:
        queue = finding.queue
        if finding.action == "exception" and finding.category:
            queue = route_for(self._policy, finding.category).queue
        evidence = dict(finding.evidence)
        if escalated:
            evidence["escalation"] = {
                "proposed": finding.action if finding.action == "task" else f"exception {finding.category}",
                "confidence": round(finding.confidence, 4),
                "required": max(core.MIN_CONFIDENCE, finding.min_confidence),
                "why": finding.why_unsure or "confidence below the agent's threshold",
            }
        task, changes = tasks.new_task(
            self._rt,
            agent=self.agent,
            kind="escalation" if escalated else finding.kind,
            finding_kind=finding.kind,  # an escalation keeps which finding it was (docs/kpis.md)
            queue=queue,
            title=("Please review: " if escalated else "") + finding.title,
            dedupe_key=finding.key,
            subject=finding.subject,
            partner_id=finding.partner_id,
            evidence=evidence,
            confidence=finding.confidence,
            draft_message=None if escalated else finding.draft_message,
            escalated=escalated,
            rules=finding.rules,
            policy_version=self._policy_version,
        )
        return task["task_id"] if self._commit(changes) else None

    def _exception(self, finding: core.Finding) -> str | None:
        assert finding.category is not None
        case, changes = cases.open_case(
            self._rt,
            self._policy,
            kind="exception",
            category=finding.category,
            subject_kind=str(finding.subject.get("kind", "agent_finding")),
            subject_id=str(finding.subject.get("id", finding.key)),
            requested_by=f"agent:{self.agent}",
            reasons=[{**rule.as_dict(), "message": finding.title} for rule in finding.rules],
            risk_score=round(finding.confidence * 60),
            partner_id=finding.partner_id,
            context={"agent": self.agent, "dedupe_key": finding.key, "evidence": finding.evidence,
                     "confidence": round(finding.confidence, 4), "draft_message": finding.draft_message},
            policy_version=self._policy_version,
        )
        changes.puts.append(  # the exception is the work item; its dedupe key makes it once per finding
            Put(tasks.TASK_KEYS, finding.key, {"case_id": case["case_id"], "agent": self.agent}, must_be_absent=True)
        )
        return case["case_id"] if self._commit(changes) else None

    def _commit(self, changes: Changes) -> bool:
        for put in changes.puts:
            if put.collection not in WRITABLE or put.tenant_id not in (None, self.tenant_id):
                raise BoundaryViolation(f"agent {self.agent} may not write {put.collection}")
            if put.collection in (CASES, UNDECIDED_POINTERS) and (put.data.get("kind") != "exception"
                                                                   or put.expected_version):
                raise BoundaryViolation(f"agent {self.agent} may only open exceptions, never decide a case")
        if changes.deletes:
            raise BoundaryViolation(f"agent {self.agent} may not delete anything")
        try:
            self._rt.commit(self.tenant_id, changes)
        except Conflict:  # another run opened the same finding first
            self.report.already_open += 1
            return False
        return True
