"""How long a quote is valid, and its approvals with it.

PA-6.1: "A quote is valid for 30 days from its issue date." PA-6.6: "Approvals are recorded against the specific quote
and quote version, expire with the quote". SOP-4.4: "Approvals of quote exceptions expire with the quote after 30
days." (CPA-6.1 "Quotes are valid for 21 days"; CPA-6.6 "lapse with the quote"; COP-4.4 "Quote approvals lapse with
the quote after 21 days".)

Days count from the day after the issue date, in UTC: a quote issued on 2 November with 30 days' validity is valid
through 2 December and has expired on 3 December.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from .time import instant


def valid_through(issued_at: str, days: int) -> date:
    """The last day (UTC) on which a quote issued at `issued_at` is valid."""
    return instant(issued_at).date() + timedelta(days=days)


def expired(issued_at: str, days: int, at: str) -> bool:
    """Whether the quote has expired at the instant `at`."""
    return instant(at).date() > valid_through(issued_at, days)


def expiry_reason(rule: dict[str, Any], issued_at: str, days: int) -> dict[str, str]:
    """The reason an approval given after the quote expired approves nothing: the rule, its clause and the dates."""
    last = valid_through(issued_at, days).isoformat()
    return {
        "rule_id": rule["id"],
        "clause": rule["clause"],
        "message": f"the quote issued on {issued_at[:10]} was valid for {days} days, through {last}; its approvals "
        f"expire with it ({rule['clause']}): check the quote again for a new decision",
    }
