"""Lambda handlers fed by SQS queues behind EventBridge rules (see events/rules.json) and by schedules.

Each takes an SQS batch and answers with `batchItemFailures`, so one poison message never blocks the rest;
the stacks declare the event-source mappings with ReportBatchItemFailures.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from .. import observe
from ..bootstrap import runtime
from ..domain.access import PLATFORM
from ..domain.time import instant, period_bounds, period_of
from ..logs import logger
from ..services import events as event_log
from ..services import renewals, tenant_repository
from ..services.billing import overdue as credit_holds
from .agent_handlers import (  # noqa: F401  (re-exported: app.py and the local scheduler find every handler here)
    agent_billing_reconciler,
    agent_certification_watcher,
    agent_discount_churn,
    agent_discount_drift,
    agent_milestones_at_risk,
    agent_support_margin,
    agent_threshold_watcher,
)
from .api import app
from .offboarded import dropped, each_tenant, event_refused, refused_for
from .redelivery import come_back_in
from .scheduled import scheduled as _scheduled
from .scheduled import sweep_tenants

BusHandler = Callable[[dict[str, Any]], None]


def drain(
    records: list[dict[str, Any]],
    handle: BusHandler,
    *,
    retry_in: Callable[[Exception], int | None] | None = None,
    handler: str = "unnamed",
) -> dict[str, Any]:
    """Run `handle` on each bus event in the batch; report the ones that failed for redelivery. `retry_in` may say
    when a failed one should come back (seconds); otherwise the queue's visibility timeout decides. `handler` names
    the handler in the workflow metrics (failures, retries)."""

    def each(bus_events: list[dict[str, Any]]) -> list[Exception | None]:
        return [_outcome(handle, bus_event) for bus_event in bus_events]

    return drain_batch(records, each, retry_in=retry_in, handler=handler)


def _outcome(handle: BusHandler, bus_event: dict[str, Any]) -> Exception | None:
    try:
        handle(bus_event)
    except Exception as failed:
        return failed
    return None


def drain_batch(
    records: list[dict[str, Any]],
    handle_all: Callable[[list[dict[str, Any]]], list[Any]],
    *,
    retry_in: Callable[[Exception], int | None] | None = None,
    handler: str = "unnamed",
) -> dict[str, Any]:
    """`drain` for a use case that takes the batch's bus events at once (one commit for many): it returns each
    event's outcome in order, an exception in place of an event that failed, which fails that record only.
    A record whose body is not JSON fails; an event of a tenant offboarded meanwhile is dropped (each tenant is
    checked once for the batch)."""
    failures: list[dict[str, str]] = []
    taken: list[tuple[dict[str, Any], Any]] = []
    gone: dict[str, bool] = {}
    for record in records:
        try:
            bus_event = json.loads(record["body"])
            if _tenant_gone(bus_event, gone):
                logger.info("event for an offboarded tenant dropped", extra={"message_id": record.get("messageId")})
                continue
            taken.append((record, bus_event))
        except Exception as failed:
            _report(record, None, failed, failures, retry_in=retry_in, handler=handler)
    try:
        outcomes = handle_all([bus_event for _, bus_event in taken]) if taken else []
    except Exception as whole:  # the whole batch failed
        outcomes = [whole] * len(taken)
    for (record, bus_event), outcome in zip(taken, outcomes, strict=True):
        if event_refused(bus_event, outcome):
            dropped(record, bus_event, handler)
        elif isinstance(outcome, Exception):
            _report(record, bus_event, outcome, failures, retry_in=retry_in, handler=handler)
        else:
            observe.handler_record(handler, bus_event, record.get("attributes") or {}, failed=False)
    return {"batchItemFailures": failures}


def _report(record: dict[str, Any], bus_event: Any, failed: Exception, failures: list[dict[str, str]], *,
            retry_in: Callable[[Exception], int | None] | None, handler: str) -> None:  # fmt: skip
    """A record that failed: logged with its traceback, counted, left on the queue (back in `retry_in` seconds).
    The line names the event as the API does (`GET /v1/events/{event_id}`), so its traceback can be found by that id."""
    logger.error("event handling failed", exc_info=failed, extra={
        "message_id": record.get("messageId"), "handler": handler, **_named(bus_event)})
    observe.handler_record(handler, bus_event, record.get("attributes") or {}, failed=True)
    failures.append({"itemIdentifier": record["messageId"]})
    seconds = retry_in(failed) if retry_in else None
    if seconds is not None:
        come_back_in(record, seconds)


def _named(bus_event: Any) -> dict[str, Any]:
    """The tenant, event ids and detail-type of a bus event, those it has (none of a body that was not JSON)."""
    if not isinstance(bus_event, dict):
        return {}
    found = bus_event.get("detail")
    detail: dict[str, Any] = found if isinstance(found, dict) else {}
    named = {"tenant_id": detail.get("tenant_id"), "event_id": detail.get("event_id"),
             "erp_event_id": detail.get("erp_event_id"), "detail_type": bus_event.get("detail-type")}
    return {k: v for k, v in named.items() if isinstance(v, str)}


def _tenant_gone(bus_event: Any, known: dict[str, bool] | None = None) -> bool:
    """A late event for a tenant that was offboarded meanwhile must not write its items back. `known`: the answers
    for a batch handled at once (each tenant checked once)."""
    detail = bus_event.get("detail") if isinstance(bus_event, dict) else None
    tenant_id = detail.get("tenant_id") if isinstance(detail, dict) else None
    if not isinstance(tenant_id, str) or tenant_id == PLATFORM:
        return False
    if known is not None and tenant_id in known:
        return known[tenant_id]
    from ..services import tenants

    gone = not tenants.exists(runtime(), tenant_id)
    if known is not None:
        known[tenant_id] = gone
    return gone


def _log(bus_events: list[dict[str, Any]]) -> list[Any]:
    return event_log.accept_many(runtime(), bus_events)


@app.lambda_function(name="log_event")
def log_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Every domain event (rule event-log) in the tenant's event log as processed; a batch's entries in one commit."""
    return drain_batch(event.get("Records", []), _log, handler="log_event")


def _bill(bus_event: dict[str, Any], context: Any) -> None:
    from ..adapters.idempotency import once
    from ..services import billing

    rt = runtime()
    detail = bus_event.get("detail")
    tenant_id = detail.get("tenant_id") if isinstance(detail, dict) else None
    if not isinstance(tenant_id, str) or not tenant_id:
        billing.bill_erp_event(rt, bus_event)  # refuses it: poison, to the DLQ
        return
    once(rt.settings, tenant_id, "bill_erp_event", billing.bill_erp_event, context)(rt, bus_event=bus_event)


@app.lambda_function(name="bill_erp_event")
def bill_erp_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """ERP events from the erp-billing rule: invoice lines, sales facts and exceptions, each event once."""
    return drain(event.get("Records", []), lambda bus_event: _bill(bus_event, context), handler="bill_erp_event")


def _deliver(bus_event: dict[str, Any], read: dict[str, list[dict[str, Any]]]) -> None:
    from ..services import subscriptions

    subscriptions.deliver(runtime(), bus_event, read=read)


@app.lambda_function(name="deliver_webhooks")
def deliver_webhooks(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Domain events from the outbound-webhooks rule: POSTed, signed, to each subscription that wants them.

    A subscriber that does not answer 2xx fails the record, so the queue delivers it again (to that subscriber
    only), backing off exponentially with jitter (the message's visibility is changed to the delay), until the
    subscriber answers or its delivery is `failed` after MAX_DELIVERY_ATTEMPTS."""
    from ..services.subscriptions import DeliveryFailed

    def retry_in(failed: Exception) -> int | None:
        return failed.retry_in if isinstance(failed, DeliveryFailed) else None

    read: dict[str, list[dict[str, Any]]] = {}  # each tenant's subscriptions, read once for the batch
    return drain(event.get("Records", []), lambda bus_event: _deliver(bus_event, read), retry_in=retry_in,
                 handler="deliver_webhooks")


@app.lambda_function(name="accrue_rebates")
def accrue_rebates(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lines billed (invoice.lines_posted) and paid (invoice.paid), rule rebate-accruals, become rebate lines and
    re-rate each touched partner's accrual. Idempotent by construction: lines are upserted by id and content hash,
    accruals recomputed from them, so a redelivery changes nothing.

    The batch's lines are projected record by record, then each touched accrual is re-rated once, after the last
    record that touched it (a re-rating reads every line of the partner's period, so one per event would cost a
    busy month's billing quadratically). A failed re-rating fails every record that touched that accrual: they
    come back, project nothing new, and re-rate it again."""
    from ..services import rebates

    rt = runtime()
    failures: list[dict[str, str]] = []
    due: dict[tuple[str, str, str], tuple[rebates.DueRefresh, list[str]]] = {}
    for record in event.get("Records", []):

        def project(bus_event: dict[str, Any], message_id: str = record["messageId"]) -> None:
            for refresh in rebates.project_event(rt, bus_event)[1]:
                touched_by = due.pop(refresh.key, (refresh, []))[1]
                due[refresh.key] = (refresh, [*touched_by, message_id])  # the latest record's event is cited

        failures += drain([record], project, handler="accrue_rebates")["batchItemFailures"]
    failed = {f["itemIdentifier"] for f in failures}
    for refresh, message_ids in due.values():
        try:
            refresh.run(rt)
        except Exception as error:
            if refused_for(error, refresh.key[0]):  # its offboarding began meanwhile: its events dropped, not failed
                logger.info("event for an offboarded tenant dropped", extra={
                    "message_ids": message_ids, "handler": "accrue_rebates", "while_handled": True})
                continue
            logger.exception("accrual re-rating failed", extra={"accrual": refresh.key, "message_ids": message_ids})
            failures += [{"itemIdentifier": m} for m in message_ids if m not in failed]
            failed.update(message_ids)
    return {"batchItemFailures": failures}


def _index_contracts(bus_event: dict[str, Any]) -> None:
    from ..services import contracts

    contracts.index_from_event(runtime(), bus_event)


@app.lambda_function(name="index_contracts")
def index_contracts(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Contract documents changed (contract.changed), rule contract-index: the tenant's clause index is made to
    match its stored contracts. A failure (the index unreachable) is redelivered, then dead-lettered."""
    return drain(event.get("Records", []), _index_contracts)


def _sync_tenant_registry(bus_event: dict[str, Any]) -> None:
    from ..services import tenant_registry

    tenant_registry.sync_from_event(runtime(), bus_event)


@app.lambda_function(name="sync_tenant_registry")
def sync_tenant_registry(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A policy activated (policy.activated), rule tenant-registry: the platform's registry entry of the tenant is
    made to match its profile (policy_version), which the tenant-scoped activation commit cannot write."""
    return drain(event.get("Records", []), _sync_tenant_registry, handler="sync_tenant_registry")


def _shadow_quote(bus_event: dict[str, Any]) -> None:
    from ..services import policy_shadow

    policy_shadow.shadow_event(runtime(), bus_event)


@app.lambda_function(name="shadow_policy_drafts")
def shadow_policy_drafts(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A quote checked (quote.checked) or invoice lines posted (invoice.lines_posted), rule policy-shadow: the
    decision or the lines are evaluated under each policy draft in shadow mode and the comparison recorded, without
    effect on them."""
    return drain(event.get("Records", []), _shadow_quote, handler="shadow_policy_drafts")


def _tenant_ids() -> Iterator[str]:
    yield from tenant_repository.tenant_ids(runtime().store)


def _sweep_tenants(job: str, totals: dict[str, int], *sweeps: Callable[[Any, str], dict[str, int]]) -> dict[str, int]:
    return sweep_tenants(job, runtime(), _tenant_ids(), totals, *sweeps)


@app.lambda_function(name="flush_outbox")
def flush_outbox(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Scheduled: publish events a failed publish left in any tenant's outbox."""
    rt = runtime()
    with _scheduled("flush-outbox"):
        published = rt.flush_outbox(PLATFORM)
        published += sum(rt.flush_outbox(tenant_id) for tenant_id in _tenant_ids())
    return {"published": published}


@app.lambda_function(name="policy_activation")
def policy_activation(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Scheduled: every approved policy draft whose effective time has come takes effect (services.policy_drafts)."""
    from ..services import policy_drafts

    rt = runtime()
    with _scheduled("policy-activation"):
        activated = each_tenant("policy-activation", _tenant_ids(), lambda t: policy_drafts.activate_due(rt, t))
    return {"activated": {t: ids for t, ids in activated.items() if ids}}


@app.lambda_function(name="billing_sla_sweep")
def billing_sla_sweep(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Scheduled: an invoice_sla_breach exception for each billable ERP event still without a line past the SLA."""
    from ..services import billing

    rt = runtime()
    with _scheduled("billing-sla-sweep"):
        opened = sum(each_tenant("billing-sla-sweep", _tenant_ids(), lambda t: billing.sweep_sla(rt, t)).values())
    return {"opened": opened}


@app.lambda_function(name="equity_monitor")
def equity_monitor(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Scheduled: compare outcomes across partner segments for every tenant; each new significant unexplained gap
    becomes a channel_equity exception for the policy's owner (revgov.services.equity)."""
    from ..services import equity

    rt = runtime()
    with _scheduled("equity-monitor"):
        runs = each_tenant("equity-monitor", _tenant_ids(), lambda tenant_id: equity.run(rt, tenant_id))
    return {"opened": sum(len(r["opened"]) for r in runs.values())}


@app.lambda_function(name="model_drift")
def model_drift(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Scheduled: score every tenant's threshold forecasts on the last closed quarter against the naive rule
    (gauges ForecastBrierScore and ForecastBrierVsNaive; revgov.services.drift)."""
    from ..services import drift

    rt = runtime()
    with _scheduled("model-drift"):
        scored = each_tenant("model-drift", _tenant_ids(), lambda tenant_id: drift.forecast_calibration(rt, tenant_id))
    return {"scored": {t: s.get("predictions", 0) for t, s in scored.items()}}


@app.lambda_function(name="kpi_gauges")
def kpi_gauges(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Scheduled: every tenant's current KPIs (margin, cycle time, exceptions, attainment) as gauges for the
    executive dashboard (revgov.services.kpi_gauges)."""
    from ..services.kpi_gauges import record_kpi_gauges

    rt = runtime()
    with _scheduled("kpi-gauges"):
        sampled = each_tenant("kpi-gauges", _tenant_ids(), lambda tenant_id: record_kpi_gauges(rt, tenant_id))
    return {"sampled": {t: len(s) for t, s in sampled.items()}}


@app.lambda_function(name="subscription_billing_run")
def subscription_billing_run(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Scheduled: every active subscription charged in advance for the current Billing Month (and any month it
    missed), once per subscription and month; in a month's first three days, the previous month reconciled with the
    subscription records (before its invoices are issued, 48 h after month end)."""
    from ..services import subscription_billing

    rt = runtime()
    month = period_of(instant(rt.clock.now_iso()).date())
    previous = period_of(period_bounds(month)[0] - timedelta(days=1))
    closing = instant(rt.clock.now_iso()).day <= 3  # finance validates last month's invoices (SOP-2.2)

    def each(tenant_id: str) -> tuple[int, int]:
        charged = subscription_billing.run(rt, tenant_id, through=month)["charged"]
        return charged, len(subscription_billing.reconcile(rt, tenant_id, previous)) if closing else 0

    with _scheduled("subscription-billing-run"):
        runs = each_tenant("subscription-billing-run", _tenant_ids(), each).values()
    return {"charged": sum(c for c, _ in runs), "mismatches": sum(m for _, m in runs)}


@app.lambda_function(name="month_close_watch")
def month_close_watch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Scheduled: drafts of ended months not issued within the invoice SLA after month end (SOP-2.1), and events
    parked past that window, become exceptions for finance: one per finding, refreshed on later runs; so does a
    Quarter's rebate run not approved by its deadlines (SOP-7.2 / COP-7.2, services.rebates.run_watch), and a month's
    commission run not calculated by the 3rd business day or not paid within 30 days after the month (SOP-7.1 /
    COP-7.1, PA-8.2 / CPA-8.2, run_watch.watch_months)."""
    from ..services import month_close
    from ..services.rebates import run_watch

    return _sweep_tenants("month-close-watch", {"opened": 0, "refreshed": 0, "looked_at": 0},
                          month_close.watch, run_watch.watch, run_watch.watch_months)


@app.lambda_function(name="partner_lifecycle_sweep")
def partner_lifecycle_sweep(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Scheduled: applications incomplete too long after submission lapse (PA-2.9 / CPA-2.9); partners whose
    insurance certificate was not renewed within the grace days are suspended, and reinstated once a valid one is
    filed (PA-2.7 / CPA-2.4); each move audited with its rule and published (revgov.services.partners); a tier change
    recorded from a tier review moves the partner's tier on its effective day (PA-3.6 / PA-3.7, CPA-3.5 / CPA-3.6;
    revgov.services.tier_changes). The reminders before an insurance certificate or a certification expires go out on
    the same run (PA-2.7 / CPA-2.4, PA-4.2 / CPA-4.2), and the exception asking for a partner's yearly compliance
    screening once its latest is older than 12 months (PA-2.8 / CPA-2.8; revgov.services.screening)."""
    from ..services import partners, screening, tier_changes

    totals = {"looked_at": 0, "lapsed": 0, "suspended": 0, "reinstated": 0, "tier_changed": 0, "reminded": 0,
              "screening_due": 0}
    return _sweep_tenants("partner-lifecycle-sweep", totals, partners.sweep_standing, tier_changes.sweep_tier_changes,
                          partners.send_expiry_reminders, screening.sweep_repeats)


@app.lambda_function(name="partner_term_sweep")
def partner_term_sweep(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Scheduled daily: the partner agreement's term (PA-13.1 / CPA-13.1): a reminder before the last day for notice
    of non-renewal, renewal at the end of the Program Year, or the end of the agreement where notice was given
    (the termination's PA-13.3 / CPA-13.3 effects); audited and published (revgov.services.renewals)."""
    return _sweep_tenants("partner-term-sweep", {"looked_at": 0, "renewal_due": 0, "renewed": 0, "terminated": 0},
                          renewals.sweep_terms)


@app.lambda_function(name="deal_certification_sweep")
def deal_certification_sweep(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Scheduled: approved registrations suspended under PA-4.3(d) / CPA-4.3(d) become one
    certification_expired_active_deal exception each (SOP-4.1 / COP-4.1), refreshed, annotated on a lapse and
    closed when the hold lifts (revgov.services.deal_holds)."""
    from ..services import deal_holds

    return _sweep_tenants("deal-certification-sweep",
                          {"looked_at": 0, "opened": 0, "refreshed": 0, "annotated": 0, "closed": 0}, deal_holds.sweep)


@app.lambda_function(name="credit_hold_sweep")
def credit_hold_sweep(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Scheduled daily: a partner with an invoice more than the policy's days overdue is placed on credit hold, and
    lifted once it has none (PA-10.8 / CPA-10.7; revgov.services.billing.overdue)."""
    return _sweep_tenants("credit-hold-sweep", {"looked_at": 0, "placed": 0, "lifted": 0, "refreshed": 0},
                          credit_holds.sweep_credit_holds)


@app.lambda_function(name="mdf_expiry_sweep")
def mdf_expiry_sweep(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Scheduled daily: MDF accrued and not claimed by the end of its expiry Quarter expires (PA-9.5 / CPA-9.5), once
    per partner and accrual Quarter, audited and published as mdf.expired (revgov.services.mdf)."""
    from ..services import mdf  # loaded by this handler only (the rebate rating it reads): cold start

    return _sweep_tenants("mdf-expiry-sweep", {"looked_at": 0, "expired": 0}, mdf.sweep_expiry)


@app.lambda_function(name="security_incident_watch")
def security_incident_watch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Scheduled hourly: a notice of a security incident sent after its deadline, or unsent past it (PA-11.2: 72 hours;
    CPA-11.2: 48), becomes one exception for legal (revgov.services.security_incidents)."""
    from ..services import security_incidents

    return _sweep_tenants("security-incident-watch", {"looked_at": 0, "opened": 0},
                          security_incidents.watch_security_incidents)


@app.lambda_function(name="retention_sweep")
def retention_sweep(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Scheduled daily: each tenant's retention policy applied (revgov.services.retention, docs/retention.md):
    copilot transcripts past their days erased or masked, the papers of partners rejected, lapsed or terminated
    long enough purged, each purge audited; nothing of a partner under legal hold; the audit chain never touched."""
    from ..services import retention

    return _sweep_tenants("retention-sweep", dict.fromkeys(
        ("transcripts_erased", "transcripts_masked", "documents_purged", "held"), 0), retention.sweep)


def _count(bus_events: list[dict[str, Any]]) -> list[Any]:
    from ..services import analytics

    return list(analytics.record_facts(runtime(), bus_events))


@app.lambda_function(name="update_kpis")
def update_kpis(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Facts from the kpi-rollups rule (lines posted, quotes checked, pricing approvals decided, exceptions opened,
    support time logged, partner changes) fold into the tenant's per-month KPI rollups, each fact once; a batch's
    facts counted once (quotes, approvals, exceptions, support time) in one commit per tenant."""
    return drain_batch(event.get("Records", []), _count, handler="update_kpis")


HANDLERS: dict[str, Callable[[dict[str, Any], Any], dict[str, Any]]] = {
    "log_event": log_event,
    "update_kpis": update_kpis,
    "bill_erp_event": bill_erp_event,
    "deliver_webhooks": deliver_webhooks,
    "accrue_rebates": accrue_rebates,
    "index_contracts": index_contracts,
    "sync_tenant_registry": sync_tenant_registry,
    "shadow_policy_drafts": shadow_policy_drafts,
}
