"""An audit record as its partner reads it (PA-12.1 / CPA-12.1: the Distributor "provides the Partner, on request,
with the records relating to the Partner"; PA-11.1 / CPA-11.1: neither party's confidential information reaches a
third party). Pure.

What the partner reads of each of its records:
- who acted as the team (`finance`, `channel_ops`, `partner`, `system`), never a key id, a staff user name or an
  e-mail address: the record's `actor` and every `by` / `…_by` field (except a day or an instant: a deadline such as
  SOP-6.1's `acknowledge_by`; an amount; an id), a name with no team (the ERP's `prepared_by` of a credit note, "a
  user name") read as `staff`, and any key id or e-mail address in any text;
- the inputs as a partner reads a decision's (`audience.partner_inputs`: no `rivals`, no Line Cost or margin);
- no other partner's id anywhere: a member whose name is another partner's id is left out, and another partner's id
  inside any text reads `another partner`.

- no `risk_score`: the queue's triage score of a case, computed from what the partner may not read (a quote's is 20
  per approval category plus how far its Line Margin is below 30 %, `services.pricing._risk`), so the margin and the
  Line Cost behind it could be read back from it (PA-6.1: Line Margin is "for internal review");
- no `hash`, `inputs_hash` or `prev_hash`: each is a SHA-256 over what was masked (the inputs with their unit costs
  and rivals, or a neighbouring record), so a partner holding the rest could confirm guesses of a Line Cost against
  it; staff verify the chain (`GET /v1/audit/verify`).

`partner_view: true` says that what is shown was masked from the record as kept.

A staff member's copilot question about the partner (`copilot.asked` by a staff key) is listed without its question
and answer (`transcript`): the distributor's own deliberation about the partner, its costs and margins among it (PA-6.1
"for internal review"), as what a performance summary told staff only. The partner's own questions read as asked.

An agent's record (`actor_role` `agent`: a task it opened for the staff) is not the partner's to read at all
(`shown_to_partner`): PA-12.1 provides the records of "every automated decision and approval", and an agent decides
nothing, it opens work for people; its kind, rules and evidence are the distributor's assessment of the partner (a
churn risk: the renewal outlook `GET /v1/kpis` withholds from a partner key; the support agent's net realized margin
per Quarter).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .access import Role
from .audience import partner_inputs
from .email_address import EMAIL_ADDRESS

ANOTHER_PARTNER = "another partner"
HASHES = frozenset({"hash", "inputs_hash", "prev_hash"})
INTERNAL = frozenset({"risk_score"})  # the queue's own triage figures, left out at any depth
KEY = "key"
EMAIL = "e-mail address"
_PARTNER_ID = re.compile(r"ptr_[0-9A-HJKMNP-TV-Z]{26}")
_KEY_ID = re.compile(r"\bkey_[0-9A-Za-z]{8,}")
_TEAM = re.compile(r"^[a-z][a-z_]*")
_AMOUNT = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
_TYPED_ID = re.compile(r"^[a-z]{2,4}_[0-9A-HJKMNP-TV-Z]{26}$")
STAFF = "staff"
TEAMS = frozenset({*(role.value for role in Role), "system", "agent", STAFF})
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9:.]+Z)?$")


def team_of(actor: str) -> str:
    """The team part of a stored actor (`finance:key_…` → `finance`, `operator:cli-jane` → `operator`); `staff` for
    an e-mail address or anything else without a team."""
    match = _TEAM.match(actor)
    return match.group(0) if match and actor[match.end():match.end() + 1] == ":" else STAFF


def shown_to_partner(record: Mapping[str, Any]) -> bool:
    """Whether the partner reads `record` at all: not an agent's (see the module docstring)."""
    return record.get("actor_role") != "agent"


def partner_view(record: Mapping[str, Any], partner_id: str) -> dict[str, Any]:
    """`record` as partner `partner_id` may read it (see the module docstring)."""
    staff_asked = record.get("action") == "copilot.asked" and record.get("actor_role") != Role.PARTNER.value
    shown = {k: v for k, v in record.items() if k not in HASHES and not (staff_asked and k == "transcript")}
    inputs = shown.get("inputs")
    if isinstance(inputs, Mapping):
        shown["inputs"] = partner_inputs(inputs)
        if staff_asked:  # a record sealed before API 1.30.0 holds its text in its inputs
            shown["inputs"] = {k: v for k, v in shown["inputs"].items() if k not in ("question", "answer")}
    masked: dict[str, Any] = _masked(shown, partner_id)
    return {**masked, "partner_view": True}


def _masked(value: Any, partner_id: str) -> Any:
    if isinstance(value, Mapping):
        return {key: _member(key, item, partner_id) for key, item in value.items()
                if not (isinstance(key, str) and (key in INTERNAL or _foreign(key, partner_id)))}  # fmt: skip
    if isinstance(value, list | tuple):
        return [_masked(item, partner_id) for item in value]
    if isinstance(value, str):
        return _text(value, partner_id)
    return value


def _member(name: Any, value: Any, partner_id: str) -> Any:
    if isinstance(name, str) and name.endswith("_by_key"):
        return None  # the requester's key, kept for segregation of duties
    if isinstance(name, str) and isinstance(value, str) and (name in ("actor", "by") or name.endswith("_by")):
        if _DAY.match(value) or _AMOUNT.match(value) or value in TEAMS:  # a deadline (`acknowledge_by`), an
            return value  # amount (`reduced_by`), a team (`filed_by: partner`)
        if ":" in value or "@" in value:
            return team_of(value)
        return _text(value, partner_id) if _TYPED_ID.match(value) else STAFF  # a name: the ERP's preparer
    return _masked(value, partner_id)


def _foreign(text: str, partner_id: str) -> bool:
    return any(found != partner_id for found in _PARTNER_ID.findall(text))


def _text(text: str, partner_id: str) -> str:
    if "ptr_" in text:
        text = _PARTNER_ID.sub(lambda m: m.group(0) if m.group(0) == partner_id else ANOTHER_PARTNER, text)
    if "key_" in text:
        text = _KEY_ID.sub(KEY, text)
    if "@" in text:
        text = EMAIL_ADDRESS.sub(EMAIL, text)
    return text
