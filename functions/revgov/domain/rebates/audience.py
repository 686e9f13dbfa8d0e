"""What a partner may read of a settlement: its own statement, its own accepted disputes, and its findings told in
words that state neither the Distributor's cost nor its margin.

PA-11.1: "The Distributor does not disclose one Partner's pricing, registrations, rebates or Customers to another
Partner"; PA-1.2 / PA-6.1: Line Cost is the Distributor's and Line Margin is stated "for internal review". A finding
whose message states a margin (a line below PA-6.3's floor) is still told to the partner, by its rule and clause.
Pure: services.rebates.settlement reads the documents and calls this.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# finding kind -> what a partner reads instead of the message, which states the line's margin
PARTNER_WORDING = {"below_margin_floor": "the line margin is below the floor; Finance reviews the line"}


def partner_finding(finding: Mapping[str, Any]) -> dict[str, Any]:
    said = PARTNER_WORDING.get(str(finding.get("kind")))
    return {**finding, "message": said} if said is not None else dict(finding)


def partner_statement(statement: Mapping[str, Any]) -> dict[str, Any]:
    """The partner's own statement with every finding in words without the Distributor's figures, and without who
    prepared and approved it (staff only, as on the header: a partner reads the header's `settled_by` team)."""
    shown = {k: v for k, v in statement.items() if k not in ("prepared_by", "approved_by")}
    return {**shown, "findings": [partner_finding(f) for f in statement.get("findings", [])]}


def own_disputes(header: Mapping[str, Any], statement: Mapping[str, Any]) -> list[str]:
    """The accepted disputes a run paid that are the partner's own: those its statement has a line for."""
    lines = statement.get("lines", [])
    own = {ln["references"].get("dispute_id") for ln in lines if ln.get("kind") == "dispute_adjustment"}
    return [d for d in header.get("dispute_adjustments", []) if d in own]
