"""Billing core: the tenant's billing policy, proration, cancellation credits, usage rating and monthly invoices.

Pure and exact: amounts are computed in Decimal and rounded once, half-even, at line level (`money.round_money`).
One module per concern; this package re-exports their public names, so `from revgov.domain import billing as core;
core.prorate(...)` keeps working:
- `periods`: days of a month, quarters, SLA due times, service periods;
- `rating`: usage rate tables and charge models; `usage`: a month's usage re-rated against what was invoiced;
- `policy`: the tenant's `BillingPolicy`;
- `invoices`: line drafts, draft invoices and their lines, finalizing, payment, sales facts;
- `subscriptions`: proration, cancellation credits, charges in advance, quantity changes;
- `reconciliation`: the month's subscription lines against the records (SOP-2.2);
- `milestones`: statements of work and support overage;
- `plausibility`: an ERP event that cannot be true as sent (PA-2.2);
- `credits`: invoice-line disputes, credit notes the ERP issues and returns, and their arithmetic.
"""

from __future__ import annotations

from .credits import (
    CREDIT_NOTE_REASONS,
    Credited,
    check_dispute,
    check_erp_credit,
    credit_note_draft,
    credit_note_needs_approval,
    credited_cost,
    credited_of,
    disputable_amount,
    dispute_window_closes,
    line_units,
    new_line_credits,
    return_amount,
    with_line_credit,
)
from .invoices import (
    LineDraft,
    add_lines,
    draft_as_dict,
    draft_from_dict,
    finalize,
    line_record,
    mark_paid,
    new_invoice,
    rerate_line,
    sales_fact,
    shipment_drafts,
)
from .milestones import (
    beyond_statement_of_work,
    milestone_amount,
    milestone_draft,
    overage_hours,
    with_milestone,
)
from .periods import (
    HUNDRED,
    SLA_TRACKED,
    ZERO,
    ServicePeriod,
    days_in_month,
    period_ended,
    quarter_of,
    sla_due,
)
from .plausibility import (
    BILLABLE_PARTNER_STATUSES,
    FACT_DAYS,
    implausible,
)
from .policy import (
    DEFAULT_CREDIT_NOTES,
    DEFAULT_INVOICE_DISPUTES,
    DEFAULT_PLAUSIBILITY,
    DEFAULT_RECONCILIATION,
    DEFAULT_TOLERANCE,
    BillingPolicy,
    MilestoneService,
)
from .rating import (
    CHARGE_MODELS,
    Band,
    BandCharge,
    ChargeModel,
    RateTable,
    Rating,
    rate_usage,
    rated_units,
)
from .reconciliation import (
    Mismatch,
    reconcile,
)
from .subscriptions import (
    DailyCharge,
    activated_subscription,
    activation_draft,
    cancellation_credit,
    cancellation_draft,
    changes_within,
    charge_entry,
    charge_in_advance,
    charged_month,
    expected_net,
    held_credits,
    month_charge,
    months_between,
    months_due,
    pending_credits,
    posted_against_entry,
    prorate,
    quantity_change,
    quantity_change_draft,
    quantity_on,
    unit_price_of,
)
from .usage import (
    Rerated,
    new_usage,
    rerate_month,
    with_usage,
)

__all__ = [
    "BILLABLE_PARTNER_STATUSES",
    "CHARGE_MODELS",
    "CREDIT_NOTE_REASONS",
    "DEFAULT_CREDIT_NOTES",
    "DEFAULT_INVOICE_DISPUTES",
    "DEFAULT_PLAUSIBILITY",
    "DEFAULT_RECONCILIATION",
    "DEFAULT_TOLERANCE",
    "FACT_DAYS",
    "HUNDRED",
    "SLA_TRACKED",
    "ZERO",
    "Band",
    "BandCharge",
    "BillingPolicy",
    "ChargeModel",
    "Credited",
    "DailyCharge",
    "LineDraft",
    "MilestoneService",
    "Mismatch",
    "RateTable",
    "Rating",
    "Rerated",
    "ServicePeriod",
    "activated_subscription",
    "activation_draft",
    "add_lines",
    "beyond_statement_of_work",
    "cancellation_credit",
    "cancellation_draft",
    "changes_within",
    "charge_entry",
    "charge_in_advance",
    "charged_month",
    "check_dispute",
    "check_erp_credit",
    "credit_note_draft",
    "credit_note_needs_approval",
    "credited_cost",
    "credited_of",
    "days_in_month",
    "disputable_amount",
    "dispute_window_closes",
    "draft_as_dict",
    "draft_from_dict",
    "expected_net",
    "finalize",
    "held_credits",
    "implausible",
    "line_record",
    "line_units",
    "mark_paid",
    "milestone_amount",
    "milestone_draft",
    "month_charge",
    "months_between",
    "months_due",
    "new_invoice",
    "new_line_credits",
    "new_usage",
    "overage_hours",
    "pending_credits",
    "period_ended",
    "posted_against_entry",
    "prorate",
    "quantity_change",
    "quantity_change_draft",
    "quantity_on",
    "quarter_of",
    "rate_usage",
    "rated_units",
    "reconcile",
    "rerate_line",
    "rerate_month",
    "return_amount",
    "sales_fact",
    "shipment_drafts",
    "sla_due",
    "unit_price_of",
    "with_line_credit",
    "with_milestone",
    "with_usage",
]
