"""Approvals and exceptions: the human-in-the-loop queues of the whole product."""

from __future__ import annotations

from typing import Any

from ...domain import cases as domain
from ...domain.cases import OPEN, OUTCOMES
from ...services import cases
from ..http import Call
from ..registry import STAFF, QueryParam, operation

QUEUES = ("finance", "channel_ops", "legal", "customer_success")
_QUEUE = QueryParam("queue", "only this queue", enum=QUEUES)


def _case_routes(
    kind: str,
    *,
    id_prefix: str,
    listing: str,
    reading: str,
    verb: str,
    action: str,
    deciding: str,
    body_schema: str,
    example: dict[str, str],
) -> None:
    """Declare one kind of case's operations: `list_{kind}s`, `get_{kind}` and `{verb}_{kind}` (POST `/{action}`)."""
    collection, id_param = f"/v1/{kind}s", f"{kind}_id"
    ids = {id_param: id_prefix}
    opened, (done, dropped) = OPEN[kind], OUTCOMES[kind]
    status = QueryParam("status", f"{opened} (default), {done} or {dropped}", enum=(opened, done, dropped))

    @operation(
        "GET",
        collection,
        name=f"list_{kind}s",
        summary=listing,
        roles=STAFF,
        tag=f"{kind}s",
        paginated=True,
        query=(status, _QUEUE),
        response_schema="api/responses/case-page.schema.json",
    )
    def list_cases(call: Call) -> Any:
        page = cases.list_cases(
            call.runtime,
            call.who.tenant_id,
            kind,
            status=call.query.get("status", opened),
            queue=call.query.get("queue"),
            limit=call.limit,
            cursor=call.cursor,
        )
        return {"items": [domain.view(item.data) for item in page.items], "next_cursor": page.next_cursor}

    @operation(
        "GET",
        f"{collection}/{{{id_param}}}",
        name=f"get_{kind}",
        summary=reading,
        roles=STAFF,
        tag=f"{kind}s",
        id_params=ids,
        response_schema="api/responses/case.schema.json",
    )
    def get_case(call: Call) -> dict[str, Any]:
        return domain.view(cases.get_case(call.runtime, call.who.tenant_id, kind, call.params[id_param])[0])

    @operation(
        "POST",
        f"{collection}/{{{id_param}}}/{action}",
        name=f"{verb}_{kind}",
        summary=deciding,
        roles=STAFF,
        tag=f"{kind}s",
        id_params=ids,
        body_schema=body_schema,
        example=example,
        response_schema="api/responses/case.schema.json",
    )
    def decide_case(call: Call) -> dict[str, Any]:
        return domain.view(
            cases.decide_case(
                call.runtime, call.who, kind, call.params[id_param], call.body["outcome"], call.body.get("note")
            )
        )


_case_routes(
    "approval",
    id_prefix="apr",
    listing="Approvals by status (pending first by due time), optionally one queue",
    reading="Read an approval",
    verb="decide",
    action="decision",
    deciding="Approve or reject (the approving queue; never the requester)",
    body_schema="api/case-decision.schema.json",
    example={"outcome": "approved", "note": "terms checked against PA-2.3"},
)
_case_routes(
    "exception",
    id_prefix="exc",
    listing="Exceptions by status (open first by due time), optionally one queue",
    reading="Read an exception",
    verb="resolve",
    action="resolve",
    deciding="Resolve or dismiss an exception (its queue only)",
    body_schema="api/case-resolution.schema.json",
    example={"outcome": "resolved", "note": "invoice line issued by hand"},
)
