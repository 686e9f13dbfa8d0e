"""Which ledger lines a referral commission turns away (PA-8.1 / CPA-8.1): lines naming no customer, lines invoiced
after the window from the customer's first invoice closed, and lines whose referral is not shown accepted.

Masks over the ledger's columns, decided by the line and the partner's facts alone (the running accrual relies on it);
the engine notes each as an exclusion with the clause it cites. Numpy, like the engine that calls them.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .ledger import Flags, SalesLedger
from .policy import PartnerFacts
from .programs import Program


def outside_window(ledger: SalesLedger, partners: Mapping[str, PartnerFacts], program: Program) -> Flags:
    """Lines invoiced after the window from their customer's first invoice closed (PA-8.1 / CPA-8.1,
    `windows.FirstInvoiceWindow`). The first invoice is the partner's stored one for the customer; a line naming no
    customer, on an invoice not issued yet, or whose customer has no first invoice stored (its own invoice is then
    the first) is not outside. Decided by the line and the partner's facts alone (the running accrual relies on it)."""
    window, mask = program.first_invoice_window, np.zeros(len(ledger), dtype=np.bool_)
    if window is None or all(c is None for c in ledger.customers):
        return mask
    unnamed = ledger.customers.index(None) if None in ledger.customers else -1
    rows = np.flatnonzero((ledger.customer != unnamed) & (ledger.invoiced_day >= 0))
    last: dict[tuple[int, int], int | None] = {}
    for i in rows.tolist():
        pair = (int(ledger.partner[i]), int(ledger.customer[i]))
        if pair not in last:
            facts = partners.get(ledger.partners[pair[0]])
            first = dict(facts.first_invoices).get(str(ledger.customers[pair[1]])) if facts else None
            last[pair] = None if first is None else window.last_ordinal(first)
        limit = last[pair]
        mask[i] = limit is not None and int(ledger.invoiced_day[i]) > limit
    return mask


def not_accepted(
    ledger: SalesLedger, partners: Mapping[str, PartnerFacts], program: Program, candidates: Flags
) -> Flags:
    """Lines whose referral is not shown accepted as the clause asks (PA-8.1: the customer first invoiced within 180
    days of the acceptance; CPA-8.1: accepted before the first contact with the decision maker;
    `windows.ReferralAcceptance`). The first invoice is the partner's stored one for the line's customer, else the
    line's own invoice date (None when not issued yet). Decided by the line and the partner's facts alone; only the
    `candidates` (the lines the program would count so far) are looked at."""
    acceptance, mask = program.referral_acceptance, np.zeros(len(ledger), dtype=np.bool_)
    if acceptance is None:
        return mask
    firsts: dict[tuple[int, int], int | None] = {}
    for i in np.flatnonzero(candidates).tolist():
        pair = (int(ledger.partner[i]), int(ledger.customer[i]))
        if pair not in firsts:
            facts = partners.get(ledger.partners[pair[0]])
            customer = ledger.customers[pair[1]]
            firsts[pair] = dict(facts.first_invoices).get(str(customer)) if facts and customer is not None else None
        first = firsts[pair]
        if first is None and int(ledger.invoiced_day[i]) >= 0:
            first = int(ledger.invoiced_day[i])
        mask[i] = acceptance.fails(int(ledger.accepted_day[i]), int(ledger.contacted_day[i]), first)
    return mask


def no_customer(ledger: SalesLedger) -> Flags:
    """Lines naming no referred customer (the ERP event carried no `customer_id`). PA-8.1 pays "Invoiced Revenue
    from that Customer ... during the 12 months following the first invoice" (CPA-8.1: "from that End Customer ...
    for 12 months from the first invoice"): a line tied to no customer has no first invoice to count the window
    from, so the commission's condition cannot be shown to hold and the line does not earn (a credit note follows
    the line it credits, so it is excluded with it)."""
    if None not in ledger.customers:
        return np.zeros(len(ledger), dtype=np.bool_)
    return np.asarray(ledger.customer == ledger.customers.index(None), dtype=np.bool_)
