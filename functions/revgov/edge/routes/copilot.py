"""The contract copilot: questions answered with quoted, checked citations, and decisions explained in words."""

from __future__ import annotations

from typing import Any

from ...domain.access import Role
from ...services import copilot
from ..http import Call
from ..registry import STAFF, operation

ASKERS = frozenset(STAFF | {Role.PARTNER})


@operation(
    "POST", "/v1/copilot/ask",
    summary="Ask about the contracts: an answer quoting the clauses it rests on, or a refusal naming what was searched",
    roles=ASKERS, tag="copilot", body_schema="api/copilot-ask.schema.json",
    example={"question": "What is the margin floor on a quote line, and who approves a line below it?"},
    response_schema="api/copilot-answer.schema.json", response_example="copilot-answer.json",
    open_when_suspended="a question about the contracts: it changes no record (read access, PA-9.6 / CPA-9.8)",
)
def ask_copilot(call: Call) -> dict[str, Any]:
    return copilot.ask(call.runtime, call.who, call.body)


@operation(
    "GET", "/v1/decisions/{decision_id}/explain",
    summary="A decision in words: outcome, rules, arithmetic and the text of the clauses it cites",
    roles=ASKERS, tag="decisions",
    response_schema="api/decision-explanation.schema.json", response_example="decision-explanation.json",
)
def explain_decision(call: Call) -> dict[str, Any]:
    return copilot.explain(call.runtime, call.who, call.params["decision_id"])
