"""Billing: every ERP event becomes lines on the partner's draft invoice for its month, exactly once.

One module per use case; this package re-exports what callers use, so `from revgov.services import billing;
billing.bill_erp_event(...)` keeps working:
- `intake`: the handler's use case (`bill_erp_event`): validate, load the tenant's policy, decide, retry a lost race;
- `posting`, `lines`, `exceptions`, `unit_of_work`: one ERP event being billed (`Posting`), the lines it puts on draft
  invoices, the exceptions it opens, and its single commit with the BILLED marker that makes it once-only;
- one module per ERP event kind: `shipment`, `activation`, `cancellation`, `quantity_change`, `usage`, `milestones`,
  `support`, `payment`, `credits` (credit notes and returns), `renewal` (a renewal under its approved quote);
  `subscription_records` for what they keep;
- `sla`: the invoice SLA watch and sweep; `invoices`: read, list, correct, finalize; `tax`: the tax each line carries
  (CPA-10.1 / COP-2.2, PA-10.1), provisional on a draft and fixed at issue;
- `onboarding_hold` (PA-2.2 / CPA-2.2) and `vat_hold` (CPA-2.3): orders held before they bill;
- `repository`: the collection names billing owns and how its records are written and read.
A use case decides with the pure core (`domain/billing/`) and returns an `Outcome`; a lost race (another delivery of
the event, another line on the same invoice) is a Conflict: read again and decide again.
"""

from __future__ import annotations

from ...domain.billing import charge_entry, posted_against_entry
from .activation import release_parked, subscription_activated
from .cancellation import subscription_cancelled
from .credits import credit_note_issued, return_received
from .exceptions import fail, open_exception
from .intake import USE_CASES, bill_erp_event
from .invoices import finalize_invoice, get_invoice, list_invoices_for, post_correction, read_invoice
from .lines import post_lines, record_lines, stage_invoices
from .milestones import service_completed
from .payment import invoice_paid
from .posting import ACTOR, Outcome, Posting, entitlement, load_partner
from .quantity_change import subscription_changed
from .renewal import settle_decided, subscription_renewed
from .repository import (
    BILLED,
    CASE_MARKERS,
    CREDIT_NOTE_HOLDS,
    DISPUTED_LINES,
    INVOICE_KEYS,
    INVOICES,
    LINE_CREDITS,
    LINES,
    SALES_FACTS,
    STATEMENTS_OF_WORK,
    SUBSCRIPTIONS,
    SUPPORT_HOURS,
    USAGE,
    credited_against,
    invoice_lines,
    invoice_put,
    invoices_in,
    line_key,
    line_of,
    list_invoices,
    load_invoice,
    partner_subscriptions,
    sees_invoice,
    subscription_put,
)
from .shipment import shipment_confirmed
from .sla import sweep_sla
from .support import support_logged
from .usage import usage_reported

__all__ = [
    "ACTOR",
    "BILLED",
    "CASE_MARKERS",
    "CREDIT_NOTE_HOLDS",
    "DISPUTED_LINES",
    "INVOICES",
    "INVOICE_KEYS",
    "LINES",
    "LINE_CREDITS",
    "SALES_FACTS",
    "STATEMENTS_OF_WORK",
    "SUBSCRIPTIONS",
    "SUPPORT_HOURS",
    "USAGE",
    "USE_CASES",
    "Outcome",
    "Posting",
    "bill_erp_event",
    "charge_entry",
    "credit_note_issued",
    "credited_against",
    "entitlement",
    "fail",
    "finalize_invoice",
    "get_invoice",
    "invoice_lines",
    "invoice_paid",
    "invoice_put",
    "invoices_in",
    "line_key",
    "line_of",
    "list_invoices",
    "list_invoices_for",
    "load_invoice",
    "load_partner",
    "open_exception",
    "partner_subscriptions",
    "post_correction",
    "post_lines",
    "posted_against_entry",
    "read_invoice",
    "record_lines",
    "release_parked",
    "return_received",
    "sees_invoice",
    "service_completed",
    "settle_decided",
    "shipment_confirmed",
    "stage_invoices",
    "subscription_activated",
    "subscription_cancelled",
    "subscription_changed",
    "subscription_put",
    "subscription_renewed",
    "support_logged",
    "sweep_sla",
    "usage_reported",
]
