"""Every n8n flow that reads a Revgov list reads all of it.

API.md: "Lists: `?limit=` (max 200) and `?cursor=`; responses `{"items": [...], "next_cursor": ...}`"; the OpenAPI
document (`revgov.edge.openapi.document()`) gives each such GET a `cursor` query parameter. A flow that asks for one
page of at most 200 and stops there silently skips the rest: the hourly escalation flow read only the first 200 open
exceptions of a queue (SOP-4.2 / COP-4.2: each one past 75 % of its SLA is notified), and the invoice release flow only
the first 200 draft invoices (northwind's plan allows 500 partners, each with a draft a month; SOP-2.1 / SOP-2.2 have
every one finalized). The approvals branch already followed `next_cursor`; every list read now does.
"""

from __future__ import annotations

import json
import re
from typing import Any

from revgov.edge import openapi
from support import ROOT

FLOWS = ROOT / "n8n-workflows"


def _listing_paths() -> set[str]:
    paths = openapi.document()["paths"]
    return {path for path, ops in paths.items()
            if any(p.get("name") == "cursor" and p.get("in") == "query"
                   for p in ops.get("get", {}).get("parameters", []))}  # fmt: skip


def _reads() -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path in sorted(FLOWS.glob("*.json")):
        for node in json.loads(path.read_text())["nodes"]:
            params = node.get("parameters", {})
            if node["type"] == "n8n-nodes-base.httpRequest" and params.get("method", "GET") == "GET":
                found.append((path.name, node["name"], params))
    return found


def _api_path(url: str) -> str | None:
    found = re.search(r"\}\}(/v1/[^?{]*)$", url)
    return found.group(1) if found else None


def test_each_flow_read_of_a_list_follows_next_cursor_to_the_last_page():
    lists = _listing_paths()
    read = [(flow, name, params) for flow, name, params in _reads() if _api_path(str(params.get("url", ""))) in lists]
    assert {(flow, name) for flow, name, _ in read} >= {("exception-escalation.json", "Open exceptions"),
                                                        ("invoice-release.json", "Draft invoices")}  # fmt: skip
    for flow, name, params in read:
        pagination = params.get("options", {}).get("pagination", {}).get("pagination", {})
        follows = pagination.get("parameters", {}).get("parameters", [])
        assert pagination.get("paginationMode") == "updateAParameterInEachRequest", (flow, name)
        assert {"type": "qs", "name": "cursor", "value": "={{ $response.body.next_cursor }}"} in follows, (flow, name)
        assert pagination.get("completeExpression") == "={{ !$response.body.next_cursor }}", (flow, name)


NODE = FLOWS / "n8n-nodes-revgov" / "nodes" / "Revgov" / "Revgov.node.ts"


def test_each_community_node_operation_on_a_list_offers_return_all():
    """The Revgov node's list operations follow `next_cursor` when asked (`paginated: true` gives them *Return All*):
    `Get Accruals` read one page of the default 50 with no way to ask for the next (the answer's `next_cursor` is no
    parameter of the operation), so a tenant with more partners and programs than that lost the rest."""
    lists = _listing_paths()
    ops = re.findall(r"\{ resource: '(\w+)', value: '(\w+)'[^}]*?method: 'GET', path: '([^']+)'([^}]*)\}",
                     NODE.read_text())  # fmt: skip
    listed = [(resource, value, rest) for resource, value, path, rest in ops if path in lists]
    assert ("rebate", "accruals") in {(r, v) for r, v, _ in listed}
    for resource, value, rest in listed:
        assert "paginated: true" in rest, (resource, value)
