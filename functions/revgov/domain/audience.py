"""What each audience may see of a pricing decision: staff read the whole record, a partner its own view.

A partner's view never carries another partner's identity or registration (PA-5.5, PA-11.1 / CPA-11.1: the
refused partner learns when the other's exclusivity ends, never who holds it), nor the Distributor's Line Cost or
Line Margin (PA-1.2, and PA-6.1: Line Margin is stated "for internal review"). The finding that a line is below the
margin floor or below cost is still told, in words that name neither the cost nor the margin.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Fields of a priced line, of the quote totals and of a catalog item that are the Distributor's own.
INTERNAL_LINE_FIELDS = frozenset({"cost_total", "margin_percent", "unit_cost"})
INTERNAL_TOTAL_FIELDS = frozenset({"cost_total", "margin_percent"})
INTERNAL_INVOICE_LINE_FIELDS = frozenset({"cost"})  # an invoice line's Line Cost (PA-1.2), kept for margin KPIs
INTERNAL_INVOICE_DETAIL_FIELDS = frozenset({"prepared_by"})  # who at the Distributor prepared a credit note


def _without(node: Mapping[str, Any], fields: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in node.items() if k not in fields}


def _finding(finding: Mapping[str, Any], internal: Mapping[str, str]) -> dict[str, Any]:
    """A finding as a partner reads it: a rule about cost or margin keeps its rule and clause, not its figures."""
    said = internal.get(str(finding.get("rule_id")))
    return {**finding, "message": said} if said is not None else dict(finding)


def partner_result(result: Mapping[str, Any], internal: Mapping[str, str]) -> dict[str, Any]:
    """`internal`: rule id -> the words a partner reads instead of the finding's message (cost and margin rules)."""
    lines = [
        {
            **_without(line, INTERNAL_LINE_FIELDS),
            "findings": [_finding(f, internal) for f in line.get("findings", [])],
        }
        for line in result.get("lines", [])
    ]
    return {
        **result,
        "lines": lines,
        "totals": _without(result.get("totals") or {}, INTERNAL_TOTAL_FIELDS),
        "findings": [_finding(f, internal) for f in result.get("findings", [])],
        "reasons": [_finding(r, internal) for r in result.get("reasons", [])],
    }


STAFF_ONLY = "staff_only"


def partner_inputs(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The facts a partner may see: its own quote and partner facts; no rival, no cost, and nothing recorded as told
    to staff only (`staff_only`: e.g. the tier review outlook of a performance summary a staff member read)."""
    seen = {k: v for k, v in inputs.items() if k not in ("rivals", STAFF_ONLY)}
    quote = inputs.get("quote")
    if isinstance(quote, Mapping):
        seen["quote"] = {
            **quote,
            "lines": [_without(line, INTERNAL_LINE_FIELDS) for line in quote.get("lines", [])],
        }
    catalog = inputs.get("catalog")
    if isinstance(catalog, Mapping):
        seen["catalog"] = {
            **catalog,
            "items": {sku: _without(item, INTERNAL_LINE_FIELDS) for sku, item in catalog.get("items", {}).items()},
        }
    return seen


def partner_decision(decision: Mapping[str, Any], internal: Mapping[str, str]) -> dict[str, Any]:
    return {
        **decision,
        "inputs": partner_inputs(decision.get("inputs") or {}),
        "result": partner_result(decision.get("result") or {}, internal),
    }


def partner_invoice(invoice: Mapping[str, Any]) -> dict[str, Any]:
    """An invoice as its partner reads it: every line without the Distributor's Line Cost (`cost`, PA-1.2), and who
    acted read as the team, as everywhere a partner reads a record: a credit note's `approved_by` as `finance`, its
    `prepared_by` (the ERP's preparer, free text naming one of the Distributor's staff) not at all."""
    return actors_as_roles({**invoice, "lines": [_partner_line(line) for line in invoice.get("lines", [])]})  # type: ignore[no-any-return]


def _partner_line(line: Mapping[str, Any]) -> dict[str, Any]:
    shown = _without(line, INTERNAL_INVOICE_LINE_FIELDS)
    if isinstance(shown.get("detail"), Mapping):
        shown["detail"] = _without(shown["detail"], INTERNAL_INVOICE_DETAIL_FIELDS)
    return shown


# An actor as records keep it: "<role>:<key id>" (Principal.actor).
_ACTOR = re.compile(r"^([a-z][a-z_]*):key_[0-9A-Za-z]+$")
_ACTORS = re.compile(r"\b([a-z][a-z_]*):key_[0-9A-Za-z]+\b")  # several in one text: "finance:key_… and legal:key_…"


def _is_actor_field(name: str) -> bool:
    return name == "by" or name.endswith("_by")


def partner_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record (a decision, an audit record) as a partner may read it before it is put in words: every actor read
    as its team, the audit record's own `actor` included, so no explanation quotes a staff key id."""
    shown: dict[str, Any] = actors_as_roles(record)
    actor = _ACTOR.match(str(shown.get("actor") or ""))
    if actor:
        shown["actor"] = actor.group(1)
    return shown


def actors_as_roles(value: Any) -> Any:
    """What a partner reads of who acted: the team (`finance`), never which of the distributor's keys (PA-11.1 /
    CPA-11.1 keep the parties' confidential information between them; a key id is the distributor's own).

    Every `by` / `…_by` field holding an actor (`finance:key_…`) reads as its role, and every `…_by_key` field (the
    requester's key id kept for segregation of duties) reads as null, at any depth: decisions' `history[].by` and
    `decided_by`, deals' `registered_by`, approvals' `requested_by` and `decision.by`, invoices' `finalized_by`."""
    if isinstance(value, Mapping):
        shown: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(key, str) and key.endswith("_by_key"):
                shown[key] = None
            elif isinstance(key, str) and _is_actor_field(key) and isinstance(item, str):
                actor = _ACTOR.match(item)
                shown[key] = actor.group(1) if actor else _ACTORS.sub(r"\1", item)
            else:
                shown[key] = actors_as_roles(item)
        return shown
    if isinstance(value, list | tuple):
        return [actors_as_roles(item) for item in value]
    return value
