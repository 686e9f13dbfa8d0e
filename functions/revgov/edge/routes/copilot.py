"""The contract copilot: questions answered with quoted, checked citations, and decisions explained in words."""

from __future__ import annotations

from typing import Any

from ...domain.access import Role
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
    description=(
        "Questions about the contracts are answered by retrieval: the clauses that support an answer, quoted and "
        "checked, or a refusal naming the documents searched. A partner key's question about its own tier, "
        "entitlements, rebates or invoices (PA-14.1 / CPA-14.1: the copilot \"answers questions about this Agreement, "
        "the Partner's own tier, entitlements, rebates and invoices\" and \"only accesses data of the Partner "
        "asking\"), told by rules on the question (my/our, or I/we with a verb of having, and one of those subjects; "
        "never a condition, a modal, an amount, a tier named in general or the words agreement/contract/clause), "
        "is answered from that partner's own records, read through the same reads as `GET /v1/partners/{id}`, "
        "`/entitlements`, `GET /v1/rebates/accruals` and `GET /v1/invoices`: `own_data` holds the figures as stored "
        "(money as Decimal strings, `currency`) and the ids of the records read, `searched.mode` is `records`, and "
        "each statement cites the clause that defines its figure, quoted verbatim and checked like any citation "
        "(no checked citation: refused). Nothing applies (no invoices, no accrual): said so, never invented. The "
        "partner is always the key's own: an id in the question or a rival's `partner_id` reads nothing of another "
        "partner (the latter is 404). E.g. `{\"question\": \"Which of my invoices are open and when are they "
        "due?\"}`. Staff keys: retrieval only, as before. The `copilot.asked` audit record names the records read "
        "(`inputs.records_read`). Every answer, a refusal too, carries `notice`: the tenant's AI notice, the clause "
        "its policy names in `copilot_notice` quoted verbatim (PA-14.1 / CPA-14.1: users \"are informed that they are "
        "interacting with an AI system\"; answers \"are guidance only [...] the cited clause text prevails\")."
    ),
)
def ask_copilot(call: Call) -> dict[str, Any]:
    from ...services import copilot  # loaded by the first question, not at every API cold start (~50-80 ms)

    return copilot.ask(call.runtime, call.who, call.body)


@operation(
    "GET", "/v1/decisions/{decision_id}/explain",
    summary="A decision in words: outcome, rules, arithmetic and the text of the clauses it cites",
    roles=ASKERS, tag="decisions", id_params={"decision_id": "dec|aud"},  # a decision, or an audit record
    response_schema="api/decision-explanation.schema.json", response_example="decision-explanation.json",
)
def explain_decision(call: Call) -> dict[str, Any]:
    from ...services import copilot  # loaded by the first explanation, not at every API cold start

    return copilot.explain(call.runtime, call.who, call.params["decision_id"])
