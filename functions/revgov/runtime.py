"""The composition root's types: the `Runtime` every use case receives (its ports and its one commit) and the `Registry`
of use cases dispatched by name. The adapters are built in `bootstrap.py`; this module imports none of them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from . import observe
from .domain.access import Principal
from .domain.audit import AuditEntry
from .logs import logger
from .ports import Answerer, Changes, ClauseIndex, Clock, Delete, DocumentStore, EventPublisher, IdGenerator, Put
from .settings import Settings

if TYPE_CHECKING:
    from .services.agents.desk import AgentDesk
    from .services.cases import Resolved

OUTBOX = "OUTBOX"

# What one use case hands to another by name (the name is stored: on a case, a decision, a schedule).
Effect = Callable[["Runtime", dict[str, Any], Principal], "Changes | Resolved"]  # an approval decided → its changes
Evaluator = Callable[[dict[str, Any], str, dict[str, Any]], dict[str, Any]]  # (policy, version, inputs) → result
View = Callable[["Runtime", Principal, dict[str, Any]], dict[str, Any]]  # (rt, reader, decision) → what it may read
Agent = Callable[["AgentDesk"], None]


class Registry:
    """The use cases dispatched by name, wired here with real imports (cf. cosmicpython's `bootstrap.py`).

    Each table is built on first use: every service imports this module for `Runtime`, so the services cannot be
    imported at its top, and a Lambda handler that decides no case, replays no decision and runs no agent never
    loads them (cold start). `services.cases.decide_case`, `services.decisions` and `services.agents.run` read the
    tables through `rt.registry`; a test may give a Runtime its own."""

    @cached_property
    def effects(self) -> Mapping[str, Effect]:
        """Effect name (stored on the case) → the effect applied in the decision's own commit."""
        # imported on first use (cold start; these services import this module)
        from .services import (
            credit_notes,
            deals,
            decision_reviews,
            invoice_dispute_appeals,
            invoice_disputes,
            partner_audits,
            partner_type_changes,
            partners,
            pricing,
            rebates,
        )
        from .services.billing import overdue_charges

        return {
            "pricing.approval": pricing.apply_approval,
            "rebate.dispute": rebates.apply_dispute_decision,
            "rebate.credit_note": rebates.apply_credit_note_decision,
            "rebate.dispute_appeal": rebates.apply_appeal_decision,
            "invoice.dispute": invoice_disputes.apply_decision,
            "invoice.dispute_appeal": invoice_dispute_appeals.apply_appeal_decision,
            "credit_note.approval": credit_notes.apply_decision,
            "late_payment.charge": overdue_charges.apply_decision,
            "partner_audit.repayment": partner_audits.apply_decision,
            "deal.registration": deals.apply_review,
            "deal.extension": deals.apply_extension,
            "decision.human_review": decision_reviews.apply_review_decision,
            "partner.activation": partners.apply_activation_decision,
            "partner.type_change": partner_type_changes.apply_decision,
        }

    @cached_property
    def evaluators(self) -> Mapping[str, Evaluator]:
        """Decision kind → the pure evaluation a replay runs again on the stored inputs."""
        from .services import pricing  # imported on first use (cold start; it imports this module)

        return {"pricing": pricing.evaluate}

    @cached_property
    def views(self) -> Mapping[str, View]:
        """Decision kind → the record as a partner may read it (a kind without one: the outcome only)."""
        from .services import pricing  # imported on first use (cold start; it imports this module)

        return {"pricing": pricing.partner_view}

    @cached_property
    def agents(self) -> Mapping[str, Agent]:
        """Agent name (its handler `agent_<name>`, `revgov agents run NAME`) → its run over one tenant's desk."""
        # imported on first use: an agent's Lambda loads the agents, no other service (cold start)
        from .services.agents import (
            billing_reconciler,
            certification_watcher,
            discount_churn,
            discount_drift,
            milestones_at_risk,
            support_margin,
            threshold_watcher,
        )

        return {
            "threshold_watcher": threshold_watcher.run,
            "billing_reconciler": billing_reconciler.run,
            "certification_watcher": certification_watcher.run,
            "discount_drift": discount_drift.run,
            "support_margin": support_margin.run,
            "milestones_at_risk": milestones_at_risk.run,
            "discount_churn": discount_churn.run,
        }


REGISTRY = Registry()  # one per process, like the Runtime


@dataclass
class Runtime:
    settings: Settings
    store: DocumentStore
    publisher: EventPublisher
    clock: Clock
    ids: IdGenerator
    clause_index: ClauseIndex | None = None  # the copilot's retrieval; None where the copilot is not wired
    answerer: Answerer | None = None
    rate_limiter: Any = None  # adapters.ratelimit.DynamoRateLimiter; None: requests are not rate limited
    queues: Any = None  # the rules' queues, SQS-shaped (adapters.sqlite_bus.SqliteQueues); None: SQS itself
    registry: Registry = field(default=REGISTRY)  # the use cases dispatched by name

    def commit(self, tenant_id: str, changes: Changes) -> list[dict[str, Any]]:
        """Commit the change, its audit records and its events (as outbox items) atomically, then publish.

        An event whose publish fails stays in the outbox and is retried by `flush_outbox`, so none is lost.
        """
        envelopes = [
            self._envelope(tenant_id, e.source, e.detail_type, e.detail, e.event_id, e.occurred_at)
            for e in changes.events
        ]
        changes.puts.extend(Put(OUTBOX, env["detail"]["event_id"], env) for env in envelopes)
        store: Any = self.store
        if envelopes and getattr(store, "bus", None) is self.publisher and hasattr(store, "publishing"):
            # The embedded engine: its store puts the outbox items on the queues in the change's own transaction,
            # so there is nothing left to publish or to delete from the outbox afterwards.
            with store.publishing():
                sealed = list(store.commit(tenant_id, changes))
            observe.committed(tenant_id, changes.audit)
            return sealed
        sealed = self.store.commit(tenant_id, changes)
        observe.committed(tenant_id, changes.audit)
        if envelopes:
            self._publish(tenant_id, envelopes)
        return sealed

    def _envelope(
        self,
        tenant_id: str,
        source: str,
        detail_type: str,
        detail: dict[str, Any],
        event_id: str | None = None,
        occurred_at: str | None = None,
    ) -> dict[str, Any]:
        full = {
            **detail,
            "tenant_id": tenant_id,
            "event_id": event_id or self.ids.new("evt"),
            "occurred_at": occurred_at or self.clock.now_iso(),
        }
        return {"source": source, "detail_type": detail_type, "detail": full}

    def _publish(self, tenant_id: str, envelopes: list[dict[str, Any]]) -> int:
        try:
            failed = set(self.publisher.publish(tenant_id, envelopes))
        except Exception:  # the bus is down: everything stays in the outbox for the next flush
            logger.exception(
                "event publish failed; the events stay in the outbox for the next flush",
                extra={"tenant_id": tenant_id, "events": len(envelopes)},
            )
            return 0
        done = [env["detail"]["event_id"] for env in envelopes if env["detail"]["event_id"] not in failed]
        for start in range(0, len(done), 25):
            self.store.commit(tenant_id, Changes(deletes=[Delete(OUTBOX, eid) for eid in done[start : start + 25]]))
        return len(done)

    def flush_outbox(self, tenant_id: str) -> int:
        """Publish what a failed publish left behind; returns how many went out."""
        page = self.store.query(tenant_id, OUTBOX, limit=100)
        return self._publish(tenant_id, [item.data for item in page.items]) if page.items else 0

    def audit_only(self, tenant_id: str, entry: AuditEntry) -> dict[str, Any]:
        """Record an action that changes no document (an AI answer, a refused request worth keeping)."""
        return self.store.commit(tenant_id, Changes(audit=[entry]))[0]
