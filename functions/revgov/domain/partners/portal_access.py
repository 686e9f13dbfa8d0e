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

from ..access import Principal, Role
from ..errors import FieldError, Forbidden
from ..time import instant, iso
from .rules import onboarding, required_documents


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


def read_only(policy: Mapping[str, Any], partner: Mapping[str, Any]) -> tuple[str, str] | None:
    """Why the partner's keys may only read (its clause, and the sentence a refused write answers), or None.

    PA-9.6: "A suspended Partner keeps read-only access to its statements and documents"; CPA-9.8: "Suspended
    Partners keep read-only access." The clause is the policy's portal-access rule (PA-9.6 / CPA-9.8), the
    suspension's own rule (PA-13.2 / CPA-13.2) names why. What a suspended partner may still send (the cure PA-2.7 /
    CPA-2.4 name, a renewed certificate) is declared per operation in the route table (`open_when_suspended`)."""
    if partner.get("status") != "suspended":
        return None
    onboarding = policy.get("onboarding") or {}
    suspension = onboarding.get("suspension") or {}
    portal = (onboarding.get("termination") or {}).get("portal_access") or {}
    clause = str(portal.get("clause") or suspension.get("clause") or "the agreement")
    because = f"{suspension.get('id', 'suspension')}, {suspension.get('clause', 'the agreement')}"
    return clause, (f"partner {partner.get('partner_id')} is suspended ({because}): a suspended partner keeps "
                    f"read-only access ({clause}); it may still send what lifts the suspension, such as a renewed "
                    "certificate, and read its records")


def cure_documents(policy: Mapping[str, Any], partner: Mapping[str, Any]) -> list[str]:
    """The documents a suspended partner may still file itself: the insurance certificates `insurance_lapse` watches
    that its type requires. PA-2.7: "The Partner must keep each required insurance certificate valid at all times and
    upload a renewed certificate before the expiry date [...] the Partner is suspended [...] until a valid certificate
    is verified" (CPA-2.4 likewise): the cure of PA-13.2(a), and a duty a suspension "without terminating this
    Agreement" does not lift. No other document cures a reason PA-13.2 / CPA-13.2 names (a screening is Legal's,
    an overdue amount is paid, a breach or harm is cured outside the file), so PA-9.6 read-only holds for the rest."""
    watched = (onboarding(policy).get("insurance_lapse") or {}).get("documents") or []
    required = required_documents(policy, str(partner.get("partner_type") or ""))
    return [name for name in watched if name in required]


def check_suspended_filing(policy: Mapping[str, Any], partner: Mapping[str, Any], document_type: str,
                           by: Principal) -> None:
    """A suspended partner's own key files only the cure (`cure_documents`); staff file anything (403 otherwise,
    naming the portal-access clause, as the edge's refusal of any other write: `read_only`)."""
    refused = read_only(policy, partner) if by.role is Role.PARTNER else None
    if refused is None:
        return
    cures = cure_documents(policy, partner)
    if document_type in cures:
        return
    clause, why = refused
    raise Forbidden(f"{why}; of the documents it may file only the cure, a renewed insurance certificate "
                    f"({', '.join(cures) or 'none its type requires'}), not {document_type}",
                    errors=[FieldError("/document_type", f"one of {', '.join(cures)}" if cures else
                                       "no document is open to a suspended partner")],
                    extra={"clause": clause})
