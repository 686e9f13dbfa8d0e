"""A tenant's contract documents: read by staff; uploaded, replaced, amended and removed by legal or an admin."""

from __future__ import annotations

from typing import Any

from ...domain.access import Role
from ...domain.contract_set import DOCUMENT_CODE
from ...domain.errors import NotFound
from ...services import contracts
from ..http import Call
from ..registry import STAFF, QueryParam, operation

EDITORS = frozenset({Role.LEGAL, Role.ADMIN})

_EXAMPLE = """# Fabrikam Reseller Agreement

Document: FRA
Version: 2026.1
Effective: 2026-01-01

## 1. Pricing

### FRA-1.1 Payment terms
Invoices are payable within 30 days of the invoice date.

### FRA-1.2 Discount cap
The combined discount on a line may not exceed 20% of list price.
"""


def _document(call: Call) -> str:
    document = call.params["document"]
    if not DOCUMENT_CODE.fullmatch(document):
        raise NotFound(f"no contract {document}")
    return document


@operation("GET", "/v1/contracts", summary="The tenant's contract documents (current revision of each)", roles=STAFF,
           tag="contracts", response_schema="api/responses/contract-page.schema.json")
def list_contracts(call: Call) -> dict[str, Any]:
    return contracts.list_contracts(call.runtime, call.who)


@operation("GET", "/v1/contracts/{document}", summary="A contract document: its current text and every revision",
           roles=STAFF, tag="contracts", response_schema="api/responses/contract-read.schema.json",
           query=(QueryParam("revision", "also this earlier revision with its text, as `revision` (404 when the "
                             "document never had it)", pattern="^[1-9][0-9]{0,5}$"),))
def get_contract(call: Call) -> dict[str, Any]:
    asked = call.query.get("revision")
    return contracts.get_contract(call.runtime, call.who, _document(call), int(asked) if asked else None)


@operation(
    "PUT", "/v1/contracts/{document}",
    summary="Upload or replace a contract document: validated, versioned, audited and re-indexed for the copilot",
    roles=EDITORS, tag="contracts", body_schema="api/contract-document.schema.json",
    example={"name": "fabrikam-reseller-agreement.md", "markdown": _EXAMPLE, "reason": "signed 2026 agreement"},
    description="The text is split into clauses by `### FRA-1.1 Title` headings under a `Document: FRA` header that "
    "must match the path (422 naming `/markdown` otherwise). A document code is 2 to 5 capital letters: any other "
    "path names no contract (404). Refused (422) if a clause id is in another document, if the policy cites a "
    "clause the contracts would no longer contain, or if a clause would no longer write a figure a policy rule in "
    "force sets from it (`errors` name each figure by its pointer under `/policy`, e.g. "
    "`/policy/pricing/margin_floor/percent`): a figure moves with its rule, in a policy draft carrying the amendment "
    "(`PUT /v1/policy/drafts/{draft_id}/amendment`). The same text again is a no-op (`status: unchanged`). "
    "`policy_rules_to_review` names each policy rule citing a clause whose words changed (figures kept) for review.",
    response_schema="api/responses/contract-changed.schema.json",
)
def put_contract(call: Call) -> dict[str, Any]:
    return contracts.put_contract(call.runtime, call.who, _document(call), call.body)


@operation(
    "POST", "/v1/contracts/{document}/amendments",
    summary="Amend clauses of a contract document (replace their text or add clauses): a new revision",
    roles=EDITORS, tag="contracts", body_schema="api/contract-amendment.schema.json", status=200,
    example={"reason": "amendment no. 1 signed 2026-03-01",
             "clauses": [{"clause_id": "FRA-1.1", "title": "Payment terms",
                          "text": "Invoices are payable within 45 days of the invoice date."}]},
    description="Refused (422) like a replacement that would drop a clause the policy cites or stop writing a figure "
    "a policy rule in force sets from it (`errors` name each figure's pointer under `/policy`): such an amendment is "
    "attached to the policy draft that moves the rules (`PUT /v1/policy/drafts/{draft_id}/amendment`), so both take "
    "effect together (docs/policy.md). `policy_rules_to_review` names each policy rule citing an amended clause "
    "whose figures it keeps, for review.",
    response_schema="api/responses/contract-changed.schema.json",
)
def amend_contract(call: Call) -> dict[str, Any]:
    return contracts.amend_contract(call.runtime, call.who, _document(call), call.body)


@operation(
    "DELETE", "/v1/contracts/{document}",
    summary="Withdraw a contract document (refused while the policy cites its clauses); its revisions are kept",
    roles=EDITORS, tag="contracts",
    response_schema="api/responses/contract-removed.schema.json",
)
def remove_contract(call: Call) -> dict[str, Any]:
    return contracts.remove_contract(call.runtime, call.who, _document(call), None)
