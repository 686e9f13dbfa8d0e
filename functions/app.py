"""Chalice entry point: `chalice local`, `chalice package` and Lambda all load `app` from here."""

from revgov.edge.api import api_key, app  # noqa: F401  (the API and its authorizer)
from revgov.edge.handlers import (  # noqa: F401  (event and scheduled handlers)
    accrue_rebates,
    agent_billing_reconciler,
    agent_certification_watcher,
    agent_discount_drift,
    agent_threshold_watcher,
    bill_erp_event,
    billing_sla_sweep,
    credit_hold_sweep,
    deal_certification_sweep,
    deliver_webhooks,
    equity_monitor,
    flush_outbox,
    index_contracts,
    kpi_gauges,
    log_event,
    model_drift,
    month_close_watch,
    partner_lifecycle_sweep,
    policy_activation,
    shadow_policy_drafts,
    subscription_billing_run,
    sync_tenant_registry,
    update_kpis,
)
