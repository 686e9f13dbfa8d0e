"""Decisions in words: what was decided, under which rules, with what arithmetic, quoting the clauses cited.

Generic over `reasons: [{rule_id, clause, message}]`; a kind that has arithmetic worth spelling out (pricing: the
discount components, combined discount against the cap, margins) adds its own sentences from the stored result.
Every sentence comes from the record or from a clause's text; nothing is inferred.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .copilot import Citation, Passage, best_quotes

_OUTCOMES = {
    "allow": "allowed",
    "approval_required": "sent for approval",
    "deny": "denied",
}


def _line_words(line: Mapping[str, Any]) -> list[str]:
    components = line.get("discount_components") or []
    parts = " + ".join(f"{c['source']} {c['percent']}%" + _given_by(c) for c in components) or "no discount"
    cap = line.get("tier_cap_percent")
    combined = line.get("combined_discount_percent")
    versus = (
        f"which is {'within' if _num(combined) <= _num(cap) else 'above'} the tier cap of {cap}%"
        if cap is not None and combined is not None
        else "with no tier cap on record"
    )
    # A reader's view may leave out the line margin (internal review, PA-6.1): then the sentence does too.
    margin = f"line margin {line['margin_percent']}%; " if line.get("margin_percent") is not None else ""
    return [
        f"Line {line.get('line_id')} ({line.get('sku')}, {line.get('family')}, quantity {line.get('quantity')}, "
        f"list price {line.get('list_price')}): {parts} = combined discount {combined}%, {versus}; "
        f"net unit price {line.get('net_unit_price')}, net total {line.get('net_total')}, "
        f"{margin}outcome {line.get('outcome', 'n/a')}."
    ]


def _given_by(component: Mapping[str, Any]) -> str:
    """The registration a registration discount came from (PA-5.6 / CPA-5.5), where the decision records it."""
    registration = component.get("registration_id")
    return f" (deal registration {registration}, {component.get('clause')})" if registration else ""


def _num(value: Any) -> float:
    try:
        return float(str(value))
    except ValueError:
        return 0.0


def _pricing(result: Mapping[str, Any]) -> list[str]:
    words: list[str] = []
    for line in result.get("lines", []):
        words.extend(_line_words(line))
    totals = result.get("totals") or {}
    if totals:
        cost, margin = totals.get("cost_total"), totals.get("margin_percent")
        internal = f", cost {cost}, margin {margin}%" if "cost_total" in totals else ""
        words.append(f"Quote totals: list {totals.get('list_total')}, net {totals.get('net_total')}{internal}.")
    categories = result.get("approval_categories") or []
    if categories:
        words.append("Approvals needed: " + ", ".join(categories) + ".")
    return words


# decision kind -> the sentences its stored result supports beyond its reasons
DETAILS: dict[str, Callable[[Mapping[str, Any]], list[str]]] = {"pricing": _pricing}


def explain_decision(record: Mapping[str, Any], clauses: Mapping[str, Passage]) -> dict[str, Any]:
    """The explanation of a stored decision (`DECISION` record) from its reasons and the clause texts."""
    result = record.get("result") or {}
    reasons = list(result.get("reasons") or [])
    outcome = str(record.get("outcome") or result.get("outcome") or "unknown")
    summary = (
        f"Decision {record.get('decision_id')} ({record.get('kind')}) was {_OUTCOMES.get(outcome, outcome)} "
        f"under policy version {record.get('policy_version')}"
        + (f", status {record['status']}" if record.get("status") else "")
        + f", for {_subject(record)}."
    )
    detail = DETAILS.get(str(record.get("kind")))
    details = detail(result) if detail else []
    return _assemble(summary, details, reasons, clauses)


def explain_audit_record(record: Mapping[str, Any], clauses: Mapping[str, Passage]) -> dict[str, Any]:
    """Decisions kept only as audit records (e.g. onboarding): what the record holds, in words."""
    reasons = [
        r for r in (record.get("inputs") or {}).get("reasons", []) if isinstance(r, Mapping) and "rule_id" in r
    ] or [{"rule_id": rule, "clause": clause, "message": ""} for rule, clause in _pairs(record)]
    summary = (
        f"Record {record.get('record_id')}: {record.get('action')} on {record.get('subject')} by "
        f"{record.get('actor')} at {record.get('at')}, outcome {record.get('outcome')}"
        + (f", policy version {record['policy_version']}" if record.get("policy_version") else "")
        + "."
    )
    return _assemble(summary, [], reasons, clauses)


def _pairs(record: Mapping[str, Any]) -> list[tuple[str, str]]:
    rules = list(record.get("rule_ids") or [])
    cited = list(record.get("clauses") or [])
    if len(rules) == len(cited):
        return list(zip(rules, cited, strict=True))
    return [(rule, "") for rule in rules] + [("", clause) for clause in cited]


def _subject(record: Mapping[str, Any]) -> str:
    subject = record.get("subject") or {}
    if isinstance(subject, Mapping) and subject:
        return f"{subject.get('kind')} {subject.get('id')}"
    return "its subject"


def _assemble(
    summary: str, details: list[str], reasons: list[Mapping[str, Any]], clauses: Mapping[str, Passage]
) -> dict[str, Any]:
    explained = []
    citations: list[Citation] = []
    sentences = [summary, *details]
    for reason in reasons:
        clause_id = str(reason.get("clause") or "")
        passage = clauses.get(clause_id)
        quotes = best_quotes(str(reason.get("message") or reason.get("rule_id") or ""), passage, limit=1) if passage \
            else []
        citations.extend(Citation(passage.document, passage.clause_id, q) for q in quotes if passage)
        message = str(reason.get("message") or "")
        sentence = f"Rule {reason.get('rule_id')} ({clause_id or 'no clause'})" + (f": {message}." if message else ".")
        if quotes:
            sentence += f" {clause_id} says: " + " … ".join(f"“{q}”" for q in quotes)
        elif clause_id:
            sentence += f" The text of {clause_id} is not in the index."
        sentences.append(sentence)
        explained.append(
            {
                "rule_id": reason.get("rule_id"),
                "clause": clause_id or None,
                "message": message,
                "clause_title": passage.title if passage else None,
                "quote": quotes[-1] if quotes else None,  # the unit itself; a lead-in or header row precedes it
            }
        )
    if not reasons:
        sentences.append("The record cites no rule: nothing was found against it.")
    return {
        "summary": summary,
        "explanation": "\n".join(sentences),
        "reasons": explained,
        "citations": [c.as_dict() for c in citations],
    }


# The same sentences-and-quotes assembly for the other explainers (domain/explain_rebates.py, explain_entitlements.py).
assemble = _assemble
