"""PA-13.2: "The Distributor may suspend a Partner from new quotes, orders, deal registrations and incentive accrual
[...] Orders already accepted are fulfilled unless the reason is (b)"; CPA-13.2: "Contoso may suspend new quotes,
orders, registrations and incentive accrual". An ERP order (`posting.ORDERS`) that states the day it was accepted
(`order_accepted_on`) and whose order time (`posting.order_time`, the one PA-7.1 / CPA-7.1 compare: the end of that
day if earlier than the event) falls within one of the partner's suspensions (`lifecycle.suspended_when`) is a new
order the partner was suspended from: held, not billed, one exception `order_during_suspension` (a category of no
routing matrix: SOP-4.1 / COP-4.1 "An item that matches no category goes to channel_ops for triage") citing the
policy's suspension rule (PTR-SUSPENSION). Replayable once the order or the partner's record is corrected. No line
is due for a held order, so its invoice-SLA clock stops (SOP-2.1 / COP-2.1): never an `invoice_sla_breach`.

An order accepted before the suspension and fulfilled during it is billed (PA-13.2 "Orders already accepted are
fulfilled"); so is one whose acceptance the ERP does not state (it may fulfil an order accepted before; the rebate
engine still reads it as placed when it shipped). A screening suspension (PA-13.2(b)) holds every order already:
services/billing/screening_hold.py."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ...domain.partners import suspended_when
from ...domain.rules import Rule
from .exceptions import fail
from .posting import Outcome, Posting, order_time

CATEGORY = "order_during_suspension"  # in no routing matrix: channel_ops triage (SOP-4.1 / COP-4.1)


def held_for_suspension(posting: Posting, partner: dict[str, Any]) -> Outcome | None:
    """The hold for an order accepted while its partner was suspended, or None to bill it as usual."""
    accepted = posting.data.get("order_accepted_on")
    at = order_time(posting.detail_type, posting.occurred_at, posting.data) if accepted else None
    since = suspended_when(partner, at) if at else None
    rule = (posting.tenant.policy.get("onboarding") or {}).get("suspension")
    if since is None or rule is None:
        return None
    problem = (f"held, not billed: an order of order_accepted_on {accepted} (read as placed at {at}); partner "
               f"{partner['partner_id']} was suspended from new orders since {since} ({rule['id']}, {rule['clause']}: "
               "only orders already accepted are fulfilled)")
    # SOP-2.1 / COP-2.1 time the posting of a line the event is due; a held order is due none (PA-13.2: not fulfilled,
    # not billed), so its invoice-SLA clock stops here and the sweep never counts it as a late invoice
    return replace(fail(posting, CATEGORY, problem, Rule.of(rule)), settles_sla=True)
