"""Approvals and exceptions: the human-in-the-loop queues of the whole product."""

from __future__ import annotations

from typing import Any

from ...services import cases
from ..http import Call
from ..registry import STAFF, QueryParam, operation

QUEUES = ("finance", "channel_ops", "legal", "customer_success")
_QUEUE = QueryParam("queue", "only this queue", enum=QUEUES)


@operation(
    "GET",
    "/v1/approvals",
    summary="Approvals by status (pending first by due time), optionally one queue",
    roles=STAFF,
    tag="approvals",
    paginated=True,
    query=(
        QueryParam("status", "pending (default), approved or rejected", enum=("pending", "approved", "rejected")),
        _QUEUE,
    ),
)
def list_approvals(call: Call) -> Any:
    return cases.list_cases(
        call.runtime,
        call.who.tenant_id,
        "approval",
        status=call.query.get("status", "pending"),
        queue=call.query.get("queue"),
        limit=call.limit,
        cursor=call.cursor,
    )


@operation(
    "GET",
    "/v1/approvals/{approval_id}",
    summary="Read an approval",
    roles=STAFF,
    tag="approvals",
    id_params={"approval_id": "apr"},
)
def get_approval(call: Call) -> dict[str, Any]:
    return cases.get_case(call.runtime, call.who.tenant_id, "approval", call.params["approval_id"])[0]


@operation(
    "POST",
    "/v1/approvals/{approval_id}/decision",
    summary="Approve or reject (the approving queue; never the requester)",
    roles=STAFF,
    tag="approvals",
    id_params={"approval_id": "apr"},
    body_schema="api/case-decision.schema.json",
    example={"outcome": "approved", "note": "terms checked against PA-2.3"},
)
def decide_approval(call: Call) -> dict[str, Any]:
    return cases.decide_case(
        call.runtime, call.who, "approval", call.params["approval_id"], call.body["outcome"], call.body.get("note")
    )


@operation(
    "GET",
    "/v1/exceptions",
    summary="Exceptions by status (open first by due time), optionally one queue",
    roles=STAFF,
    tag="exceptions",
    paginated=True,
    query=(
        QueryParam("status", "open (default), resolved or dismissed", enum=("open", "resolved", "dismissed")),
        _QUEUE,
    ),
)
def list_exceptions(call: Call) -> Any:
    return cases.list_cases(
        call.runtime,
        call.who.tenant_id,
        "exception",
        status=call.query.get("status", "open"),
        queue=call.query.get("queue"),
        limit=call.limit,
        cursor=call.cursor,
    )


@operation(
    "GET",
    "/v1/exceptions/{exception_id}",
    summary="Read an exception",
    roles=STAFF,
    tag="exceptions",
    id_params={"exception_id": "exc"},
)
def get_exception(call: Call) -> dict[str, Any]:
    return cases.get_case(call.runtime, call.who.tenant_id, "exception", call.params["exception_id"])[0]


@operation(
    "POST",
    "/v1/exceptions/{exception_id}/resolve",
    summary="Resolve or dismiss an exception (its queue only)",
    roles=STAFF,
    tag="exceptions",
    id_params={"exception_id": "exc"},
    body_schema="api/case-resolution.schema.json",
    example={"outcome": "resolved", "note": "invoice line issued by hand"},
)
def resolve_exception(call: Call) -> dict[str, Any]:
    return cases.decide_case(
        call.runtime, call.who, "exception", call.params["exception_id"], call.body["outcome"], call.body.get("note")
    )
