"""Bounded agents, the pure part: what a finding is, when an agent may act on it, and the tests behind findings.

An agent only ever opens work for people: a task (with evidence and a drafted message) or an exception. It never
approves, settles, prices or sends. Below its confidence threshold it escalates (a task that asks a person to
judge) instead of acting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from statistics import NormalDist
from typing import Any

from .partners.evidence import counts_until, valid_on
from .rules import Rule

MIN_CONFIDENCE = 0.7  # no agent acts below this, whatever it asks for
_NORMAL = NormalDist()


@dataclass(frozen=True)
class Finding:
    """Something an agent noticed, and what it proposes: open a task for a queue, or an exception of a category."""

    agent: str
    key: str  # one finding, one piece of work: the dedupe key
    action: str  # task | exception
    title: str
    subject: dict[str, Any]
    evidence: dict[str, Any]
    confidence: float  # 0..1: how sure the agent is that the finding is real and complete
    queue: str = "channel_ops"  # for tasks (an exception is routed by its category through the policy)
    category: str | None = None  # for exceptions
    kind: str = "review"
    partner_id: str | None = None
    draft_message: dict[str, Any] | None = None
    min_confidence: float = MIN_CONFIDENCE
    why_unsure: str | None = None
    # the policy rules (tenant.yaml id and clause) the agent acted on: its task or exception is audited citing them
    # (PA-14.2 / CPA-14.2: "Each automated decision records the rules and clauses applied")
    rules: tuple[Rule, ...] = ()

    def __post_init__(self) -> None:
        if self.action not in ("task", "exception"):
            raise ValueError(f"an agent opens a task or an exception, not {self.action!r}")
        if self.action == "exception" and not self.category:
            raise ValueError("an exception finding names its category")
        if not self.rules:
            raise ValueError("a finding names the policy rule and clause it acted on (PA-14.2)")

    @property
    def acts(self) -> bool:
        """Sure enough to act; otherwise escalate. The bar is never below MIN_CONFIDENCE."""
        return self.confidence >= max(MIN_CONFIDENCE, self.min_confidence)


def note_to_partner(partner: dict[str, Any], subject: str, text: str) -> dict[str, Any]:
    """A message drafted for channel operations to send to the partner's contact (an agent never sends it)."""
    name = partner.get("legal_name", partner["partner_id"])
    return {
        "to": (partner.get("contact") or {}).get("email"),
        "subject": subject,
        "body": f"Hello {name},\n\n{text}\n\nChannel Operations",
    }


@dataclass
class RunReport:
    agent: str
    tenant_id: str
    looked_at: int = 0
    tasks_opened: int = 0
    exceptions_opened: int = 0
    escalated: int = 0
    already_open: int = 0
    opened: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "tenant_id": self.tenant_id,
            "looked_at": self.looked_at,
            "tasks_opened": self.tasks_opened,
            "exceptions_opened": self.exceptions_opened,
            "escalated": self.escalated,
            "already_open": self.already_open,
            "opened": self.opened,
        }


# --- discount drift ----------------------------------------------------------------------------------------
MIN_RISE_POINTS = 10.0
MIN_RECENT_QUOTES = 5


@dataclass(frozen=True)
class Drift:
    recent_rate: float
    baseline_rate: float
    rise_points: float
    z: float
    confidence: float  # one-sided: 1 - p-value of "the override rate did not rise"


def override_drift(recent_quotes: int, recent_overrides: int, base_quotes: int, base_overrides: int) -> Drift | None:
    """A rise of the override rate of at least MIN_RISE_POINTS over the baseline, with a two-proportion z test;
    None when there is no such rise or too few recent quotes to say."""
    if recent_quotes < MIN_RECENT_QUOTES:
        return None
    recent = recent_overrides / recent_quotes
    base = base_overrides / base_quotes if base_quotes else 0.0
    rise = (recent - base) * 100
    if rise < MIN_RISE_POINTS:
        return None
    pooled = (recent_overrides + base_overrides) / (recent_quotes + base_quotes)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / recent_quotes + (1 / base_quotes if base_quotes else 1.0)))
    z = (recent - base) / spread if spread > 0 else 10.0
    return Drift(recent, base, rise, z, _NORMAL.cdf(z))


# --- certifications on live deals ----------------------------------------------------------------------------
@dataclass(frozen=True)
class CertificationGap:
    certification_id: str | None
    expires_on: date | None
    expired: bool


def certification_gap(
    family_certifications: list[str], held: dict[str, dict[str, Any]], today: date, until: date
) -> CertificationGap | None:
    """For a live deal of a family: None when a certification for it stays valid through `until`; otherwise the
    best one held (expired: none is valid today; else it lapses before `until`). No record at all is a gap with
    no certification id."""
    records = [(cid, held[cid]) for cid in family_certifications if cid in held]
    if not records:
        return CertificationGap(None, None, True)

    def expiry(record: dict[str, Any]) -> date | None:
        return counts_until(record)  # its expiry, or its last holder's last day (PA-4.4): one expiry path

    def valid_today(record: dict[str, Any]) -> bool:
        return valid_on(record, today)  # one validity reading (PA-4.2, PA-4.4)

    valid = [(cid, r) for cid, r in records if valid_today(r)]
    if not valid:
        cid, record = max(records, key=lambda x: expiry(x[1]) or date.max)
        return CertificationGap(cid, expiry(record), True)
    cid, record = max(valid, key=lambda x: expiry(x[1]) or date.max)
    end = expiry(record)
    if end is None or end >= until:
        return None
    return CertificationGap(cid, end, False)
