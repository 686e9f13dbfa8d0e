"""What each audience may see of a pricing decision: staff read the whole record, a partner its own view.

A partner's view never carries another partner's identity or registration (PA-5.5, PA-11.1 / CPA-11.1: the
refused partner learns when the other's exclusivity ends, never who holds it), nor the Distributor's Line Cost or
Line Margin (PA-1.2, and PA-6.1: Line Margin is stated "for internal review"). The finding that a line is below the
margin floor or below cost is still told, in words that name neither the cost nor the margin.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Fields of a priced line, of the quote totals and of a catalog item that are the Distributor's own.
INTERNAL_LINE_FIELDS = frozenset({"cost_total", "margin_percent", "unit_cost"})
INTERNAL_TOTAL_FIELDS = frozenset({"cost_total", "margin_percent"})


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


def partner_inputs(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The facts a partner may see: its own quote and partner facts; no rival, no cost."""
    seen = {k: v for k, v in inputs.items() if k != "rivals"}
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
