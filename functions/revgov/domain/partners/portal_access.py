"""How long a terminated partner keeps its portal: PA-9.6 "Portal access ends 90 days after termination, after which
the Partner may request an export of its statements"; CPA-9.8 "Access ends 60 days after termination." The days and
the clause are the onboarding policy's `termination.portal_access`; a policy without it grants no access after
termination. Until then the partner's keys reach what each use case allows a terminated partner (no quote under
`partner_must_be_active`, its registrations ended under PA-13.3): the clauses make only a suspended partner
read-only ("A suspended Partner keeps read-only access to its statements and documents"), so a terminated one may
still, for instance, dispute its last statement. Pure: the caller passes the time."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from ..time import instant, iso


def terminated_at(partner: Mapping[str, Any]) -> str | None:
    """When the partner was terminated (its history's step into `terminated`), or None if it is not terminated."""
    if partner.get("status") != "terminated":
        return None
    steps = [step for step in partner.get("history") or [] if step.get("to") == "terminated" and step.get("at")]
    return str(steps[-1]["at"]) if steps else str(partner.get("updated_at"))


def access_refused(policy: Mapping[str, Any], partner: Mapping[str, Any], now: str) -> str | None:
    """Why the partner's keys no longer reach the portal at `now` (its access ended after termination), or None."""
    ended = terminated_at(partner)
    if ended is None:
        return None
    termination = ((policy.get("onboarding") or {}).get("termination")) or {}
    rule = termination.get("portal_access")
    days = int(rule["days"]) if rule else 0
    ends = instant(ended) + timedelta(days=days)
    if instant(now) < ends:
        return None
    cited = (f"{rule['id']}, {rule['clause']}: access ends {days} days after termination" if rule else
             f"{termination.get('id', 'termination')}, {termination.get('clause', 'the agreement')}: "
             "no access after termination")
    return (f"partner {partner.get('partner_id')} was terminated at {ended}; its portal access ended at {iso(ends)} "
            f"({cited}); ask the distributor for an export of its statements")
