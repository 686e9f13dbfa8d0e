"""The tenant's data retention policy: how long each class of record is kept, the floors the product refuses to go
below (the contracts' record-keeping clauses and the law), which records a legal hold keeps, and the masked form a
copilot question may be reduced to. Pure: the caller passes the configuration, the records and the time.

Sources (docs/retention.md says more):
- invoices, credit notes, decisions and the audit chain: the contract's record-keeping period (PA-12.1: "for 7 years";
  CPA-12.1: "for 10 years, or longer where law requires"), and never less than 7 years: the US IRS's guidance ("How
  long should I keep records?": 3 years, 6 for unreported income over 25 %, 7 for a bad-debt or worthless-securities
  deduction) and the EU VAT Directive 2006/112/EC art. 247 (each member state sets the period invoices are kept;
  commonly 5 to 10 years);
- copilot questions and answers: PA-14.1 / CPA-14.1 ("Questions and answers are logged with sensitive fields masked")
  and PA-14.2 / CPA-14.2 (human review may be requested "within 30 days"): at least 30 days in full;
- onboarding documents and contact of a rejected, lapsed or terminated partner: PA-11.2 / CPA-11.2 (personal data
  "only as necessary", GDPR art. 5(1)(e) storage limitation), at least the 30-day review window plus its 10 business
  days (45 days), and at least the portal access a terminated partner keeps (PA-9.6: 90 days; CPA-9.8: 60 days);
- webhook delivery logs: at least 7 days (the 8 attempts end within half an hour; a week to investigate a failure).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from .errors import FieldError
from .masking import mask_sensitive
from .time import instant

STATUTORY_YEARS = 7
STATUTORY_SOURCE = ("US IRS record-keeping guidance (up to 7 years); EU VAT Directive 2006/112/EC art. 247 "
                    "(the member state's period, commonly 5 to 10 years)")
COPILOT_TEXT_MIN_DAYS = 30
COPILOT_TEXT_SOURCE = ("PA-14.1 / CPA-14.1: questions and answers are logged; PA-14.2 / CPA-14.2: human review may be "
                       "requested within 30 days")
DOCUMENTS_MIN_DAYS = 45
DOCUMENTS_SOURCE = "PA-14.2 / CPA-14.2: review requested within 30 days and completed within 10 (15) business days"
DELIVERIES_MIN_DAYS = 7
DELIVERIES_SOURCE = "8 delivery attempts end within half an hour; a week to investigate a failed delivery"
MAX_DAYS = 3650
MAX_YEARS = 30
THEN = ("erase", "mask")
ENDED = frozenset({"rejected", "lapsed", "terminated"})  # a partner whose onboarding papers are no longer needed
DEFAULTS: dict[str, dict[str, Any]] = {
    "copilot_text": {"days": 365, "then": "mask"},
    "partner_documents": {"days": 365},
    "webhook_deliveries": {"days": DELIVERIES_MIN_DAYS},
}
CLASSES = ("financial_records", "copilot_text", "partner_documents", "webhook_deliveries")


@dataclass(frozen=True)
class Floor:
    """The least a class may be kept (`value` in `unit`) and why."""

    value: int
    unit: str
    sources: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {self.unit: self.value, "sources": list(self.sources)}


def _section(config: Mapping[str, Any]) -> Mapping[str, Any]:
    return config.get("retention") or {}


def record_keeping(config: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The contract's record-keeping rule (`retention.record_keeping`: id, clause, years), or None."""
    rule = _section(config).get("record_keeping")
    return rule if isinstance(rule, Mapping) else None


def _portal_access(config: Mapping[str, Any]) -> Mapping[str, Any] | None:
    onboarding = (config.get("policy") or {}).get("onboarding") or {}
    rule = (onboarding.get("termination") or {}).get("portal_access")
    return rule if isinstance(rule, Mapping) else None


def floors(config: Mapping[str, Any]) -> dict[str, Floor]:
    """The floor of each class for this tenant: the contract's and the law's, whichever is longer."""
    kept = record_keeping(config)
    years, sources = STATUTORY_YEARS, [STATUTORY_SOURCE]
    if kept is not None:
        years = max(years, int(kept["years"]))
        sources.insert(0, f"{kept['id']}, {kept['clause']}: records kept {kept['years']} years")
    access = _portal_access(config)
    days, document_sources = DOCUMENTS_MIN_DAYS, [DOCUMENTS_SOURCE]
    if access is not None:
        days = max(days, int(access["days"]))
        document_sources.append(f"{access['id']}, {access['clause']}: a terminated partner reads its documents "
                                f"for {access['days']} days")
    return {
        "financial_records": Floor(years, "years", tuple(sources)),
        "copilot_text": Floor(COPILOT_TEXT_MIN_DAYS, "days", (COPILOT_TEXT_SOURCE,)),
        "partner_documents": Floor(days, "days", tuple(document_sources)),
        "webhook_deliveries": Floor(DELIVERIES_MIN_DAYS, "days", (DELIVERIES_SOURCE,)),
    }


def chosen(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The tenant's chosen period of each class: `retention.<class>` over the defaults (financial records: the
    floor; a class the tenant never chose is never kept shorter than its floor)."""
    section, bounds = _section(config), floors(config)
    found: dict[str, dict[str, Any]] = {"financial_records": {"years": bounds["financial_records"].value}}
    for name, default in DEFAULTS.items():
        found[name] = {**default, "days": max(int(default["days"]), bounds[name].value)}
    for name in CLASSES:
        if isinstance(section.get(name), Mapping):
            found[name] = {**found[name], **section[name]}
    return found


def problems(config: Mapping[str, Any], values: Mapping[str, Any], *, at: str = "") -> list[FieldError]:
    """Each chosen period below its floor, as a field error naming it and the floor's sources."""
    errors = []
    for name, floor in floors(config).items():
        value = (values.get(name) or {}).get(floor.unit)
        if isinstance(value, int) and value < floor.value:
            errors.append(FieldError(f"{at}/{name}/{floor.unit}",
                                     f"at least {floor.value} {floor.unit} ({'; '.join(floor.sources)})"))
    return errors


def days_of(config: Mapping[str, Any], name: str) -> int:
    """How many days the tenant keeps a class counted in days."""
    return int(chosen(config)[name]["days"])


# --- what a sweep purges -------------------------------------------------------------------
def cutoff(now: str, days: int) -> str:
    """The instant before which a record of a class kept `days` days is due (ISO, comparable as text)."""
    moment = instant(now) - timedelta(days=days)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def ended_at(partner: Mapping[str, Any]) -> str | None:
    """When the partner was rejected, lapsed or terminated (its history's last step into that status), else None."""
    status = partner.get("status")
    if status not in ENDED:
        return None
    steps = [step for step in partner.get("history") or [] if step.get("to") == status and step.get("at")]
    return str(steps[-1]["at"]) if steps else str(partner.get("updated_at"))


def documents_due(partner: Mapping[str, Any], days: int, now: str) -> bool:
    """Whether the partner's onboarding papers (document references, contact) are due for purging at `now`."""
    ended = ended_at(partner)
    if ended is None or instant(ended) + timedelta(days=days) > instant(now):
        return False
    filed = partner.get("documents") or {}
    return bool(partner.get("contact")) or any(isinstance(d, Mapping) and d.get("reference") for d in filed.values())


def purged_partner(partner: Mapping[str, Any], at: str) -> dict[str, Any]:
    """The partner without its onboarding papers: each document keeps its type, checksum and dates (what was verified,
    CPA-2.9 / PA-2.9) but no longer says where it is kept; the applicant's contact is erased."""
    documents = {
        kind: ({key: value for key, value in document.items() if key not in ("reference", "recorded_by")}
               | {"reference": None, "purged_at": at}) if isinstance(document, Mapping) else document
        for kind, document in (partner.get("documents") or {}).items()
    }
    return {**partner, "documents": documents, "contact": None, "updated_at": at}


def held_partners(cases: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Legal hold: each partner with an open approval or exception (a dispute, an appeal, a pending decision) and the
    cases that hold it. Its records are not purged while any is open."""
    held: dict[str, list[str]] = {}
    for case in cases:
        partner_id = case.get("partner_id")
        if partner_id:
            held.setdefault(str(partner_id), []).append(str(case["case_id"]))
    return held


HOLD_ACTIVE, HOLD_LIFTED = "active", "lifted"
HOLD_MATTERS = ("dispute", "litigation", "investigation", "regulatory")


def placed_hold(hold_id: str, partner_id: str, body: Mapping[str, Any], *, by: str, at: str) -> dict[str, Any]:
    """A legal hold placed by hand on a partner's records, for a matter outside any case (a dispute, litigation)."""
    return {"hold_id": hold_id, "partner_id": partner_id, "matter": body["matter"], "reason": body["reason"],
            "status": HOLD_ACTIVE, "placed_by": by, "placed_at": at, "lifted_by": None, "lifted_at": None,
            "lift_reason": None}  # fmt: skip


def lifted_hold(hold: Mapping[str, Any], *, reason: str, by: str, at: str) -> dict[str, Any]:
    """The hold lifted, with why and by whom."""
    return {**hold, "status": HOLD_LIFTED, "lifted_by": by, "lifted_at": at, "lift_reason": reason}


def held_subjects(cases: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """What open cases are about (a decision, a dispute, a deal): a copilot question about one of them is held too,
    whoever asked it."""
    return frozenset(str(case["subject"]["id"]) for case in cases
                     if isinstance(case.get("subject"), Mapping) and case["subject"].get("id"))


# --- copilot transcripts -------------------------------------------------------------------
def transcript_digest(salt: str, text: str) -> str:
    """What the audit record seals of a question or answer: SHA-256 of a per-question salt and the text. The salt
    is kept beside the text and erased with it, so once the text is gone the digest confirms no guess of it."""
    return hashlib.sha256(f"{salt}\n{text}".encode()).hexdigest()


_CLAUSE = r"[A-Z]{1,4}-\d+(?:\.\d+)*"
_ID = r"\b[a-z]{3}_[0-9A-Z]{26}\b"
_NUMBER = r"(?<![\w.-])[$€£]?\d[\d,.']*%?"
_QUOTED = r"\"[^\"]*\"|“[^”]*”"
_NAME = r"(?<=[^\s.?!:]\s)[A-Z][\w&'-]+"
_MASKED = re.compile(f"(?P<clause>{_CLAUSE})|(?P<id>{_ID})|(?P<quote>{_QUOTED})|(?P<number>{_NUMBER})|"
                     f"(?P<name>{_NAME})")


def masked_form(text: str) -> str:
    """The shape of a question without its particulars: personal data masked as at logging (`mask_sensitive`), then
    ids, quoted text, numbers and amounts, and capitalised words inside a sentence (names) replaced; clause
    references (PA-7.2) are kept."""

    def replace(match: re.Match[str]) -> str:
        kind = match.lastgroup or "text"
        return match.group(0) if kind == "clause" else f"[{kind}]"

    return _MASKED.sub(replace, mask_sensitive(text))
