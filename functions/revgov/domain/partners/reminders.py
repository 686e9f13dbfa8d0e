"""Reminders before an insurance certificate or a certification expires. Pure: the day is given.

PA-2.7: "The Distributor sends reminders 30 days and 7 days before expiry." CPA-2.4: "Certificates must be renewed
before expiry; Contoso reminds the Partner 30 days before expiry." → `onboarding.insurance_lapse.remind_days_before`
(the insurance documents the rule watches, of those the partner's type requires).
PA-4.2: "the Distributor sends reminders 60 and 15 days before expiry but the absence of a reminder does not extend
validity." CPA-4.2: "Contoso sends reminders 60 and 14 days before expiry, but validity is never extended because a
reminder was not received." → `onboarding.certification_reminders` {id, clause, days_before}.

A reminder N days before falls due on the expiry day less N and stays due through the expiry day (a sweep that
missed a day still sends it). Where two are due at once, only the nearer one is sent (the partner hears once a day,
and the earlier one is then moot). Each is sent once per item and expiry day: a renewal, with its new expiry, is
reminded afresh. Only a partner under the agreement (active or suspended) is reminded. Nothing here extends validity.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ..time import parse_day
from .evidence import counts_until
from .rules import onboarding, required_documents

_UNDER_AGREEMENT = ("active", "suspended")
_SENT_KEPT = 50  # the reminders remembered per partner (the newest); older ones are long past their expiry


@dataclass(frozen=True)
class Reminder:
    """One reminder due: the document type or certification id, its last valid day and how many days before."""

    kind: str  # document | certification
    name: str
    expires_at: date
    days_before: int
    rule_id: str
    clause: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.name}:{self.expires_at.isoformat()}:{self.days_before}"

    def as_detail(self) -> dict[str, Any]:
        named = {"document_type": self.name} if self.kind == "document" else {"certification_id": self.name}
        return {**named, "expires_at": self.expires_at.isoformat(), "days_before": self.days_before,
                "rule_id": self.rule_id, "clause": self.clause}


Watched = tuple[str, str, date, Mapping[str, Any]]  # (kind, name, last valid day, the rule that reminds)


def _watched(policy: Mapping[str, Any], partner: Mapping[str, Any]) -> Iterator[Watched]:
    """(kind, name, last valid day, rule) of each dated item the policy asks to be reminded of."""
    rules = onboarding(policy)
    insurance = rules.get("insurance_lapse") or {}
    if insurance.get("remind_days_before") and partner.get("partner_type"):
        required = required_documents(policy, str(partner["partner_type"]))
        for name in insurance["documents"]:
            expires = (partner.get("documents", {}).get(name) or {}).get("expires_at")
            if name in required and expires:
                yield "document", name, parse_day(str(expires)), insurance
    certifications = rules.get("certification_reminders")
    if certifications:
        for cert_id, record in sorted(partner.get("certifications", {}).items()):
            if record.get("holder_left_on"):
                continue  # stopped counting with its last holder (PA-4.4 / CPA-4.2): nothing left to renew
            end = counts_until(record)
            if end is not None:
                yield "certification", cert_id, end, certifications


def due(policy: Mapping[str, Any], partner: Mapping[str, Any], day: date) -> list[Reminder]:
    """The reminders to send the partner on `day`, not sent before."""
    if partner.get("status") not in _UNDER_AGREEMENT:
        return []
    sent = set(partner.get("reminders_sent") or ())
    found = []
    for kind, name, expires, rule in _watched(policy, partner):
        days = rule.get("remind_days_before") or rule.get("days_before") or []
        reached = [int(d) for d in days if expires - timedelta(days=int(d)) <= day <= expires]
        if not reached:
            continue
        reminder = Reminder(kind, name, expires, min(reached), str(rule["id"]), str(rule["clause"]))
        if reminder.key not in sent:
            found.append(reminder)
    return found


def reminded(partner: Mapping[str, Any], reminders: list[Reminder], at: str) -> dict[str, Any]:
    """The partner with the reminders recorded as sent (the newest `_SENT_KEPT` kept)."""
    sent = [*(partner.get("reminders_sent") or []), *(r.key for r in reminders)]
    return {**partner, "reminders_sent": sent[-_SENT_KEPT:], "updated_at": at}
