"""Approvals and exceptions: the human-in-the-loop queues of the whole product."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...domain import cases as domain
from ...domain.access import Role
from ...domain.cases import OPEN, OUTCOMES
from ...domain.sla_pause import WAITING
from ...domain.time import parse_instant
from ...services import case_assignment, case_waiting, cases
from ..http import Call
from ..registry import STAFF, QueryParam, operation

QUEUES = ("finance", "channel_ops", "legal", "customer_success")
_QUEUE = QueryParam("queue", "only this queue", enum=QUEUES)
_DUE_BEFORE = QueryParam(
    "due_before",
    "only those due before this UTC time, e.g. the escalation flow's now (PA-5.2: not decided in time is escalated)",
    pattern=r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z",
)
_ASSIGNEE = QueryParam("assignee", "only those assigned to this key id (POST .../assign), or `me`: the caller's key",
                       pattern=r"^(me|key_[0-9A-HJKMNP-TV-Z]{26})$")  # fmt: skip

_WAITING_ON = QueryParam("partner_id", "the partner (staff: required; a partner key: its own, else 404)",
                         pattern=r"ptr_[0-9A-HJKMNP-TV-Z]{26}")  # fmt: skip


@dataclass(frozen=True)
class CaseKind:
    """One kind of case and the words of its three operations."""

    kind: str
    id_prefix: str
    listing: str
    reading: str
    verb: str
    action: str
    deciding: str
    body_schema: str
    example: dict[str, str]

    @property
    def collection(self) -> str:
        return f"/v1/{self.kind}s"

    @property
    def id_param(self) -> str:
        return f"{self.kind}_id"


def _case_routes(case: CaseKind) -> None:
    """Declare one kind of case's operations: `list_{kind}s`, `get_{kind}` and `{verb}_{kind}` (POST `/{action}`)."""
    _list_route(case)
    _get_route(case)
    _decide_route(case)
    _ask_partner_route(case)
    _partner_reply_route(case)
    _assign_route(case)


def _list_route(case: CaseKind) -> None:
    kind = case.kind
    opened, (done, dropped) = OPEN[kind], OUTCOMES[kind]
    status = QueryParam("status", f"{opened} (default), {WAITING} (its SLA clock paused, SOP-1.3), {done} or {dropped}",
                        enum=(opened, WAITING, done, dropped))

    @operation(
        "GET",
        case.collection,
        name=f"list_{kind}s",
        summary=case.listing,
        roles=STAFF,
        tag=f"{kind}s",
        paginated=True,
        query=(status, _QUEUE, _DUE_BEFORE, _ASSIGNEE),
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
            due_before=parse_instant(due, field_path="/query/due_before") if (due := call.query.get("due_before"))
            else None,
            assignee=call.who.key_id if (who := call.query.get("assignee")) == "me" else who,
        )
        now = call.runtime.clock.now_iso()
        return {"items": [domain.queue_view(item.data, now) for item in page.items], "next_cursor": page.next_cursor}


def _get_route(case: CaseKind) -> None:
    kind, id_param = case.kind, case.id_param

    @operation(
        "GET",
        f"{case.collection}/{{{id_param}}}",
        name=f"get_{kind}",
        summary=case.reading,
        roles=STAFF,
        tag=f"{kind}s",
        id_params={id_param: case.id_prefix},
        response_schema="api/responses/case.schema.json",
    )
    def get_case(call: Call) -> dict[str, Any]:
        case_read = cases.get_case(call.runtime, call.who.tenant_id, kind, call.params[id_param])[0]
        return domain.queue_view(case_read, call.runtime.clock.now_iso())


def _decide_route(case: CaseKind) -> None:
    kind, id_param = case.kind, case.id_param

    @operation(
        "POST",
        f"{case.collection}/{{{id_param}}}/{case.action}",
        name=f"{case.verb}_{kind}",
        summary=case.deciding,
        # a partner key is admitted only to be refused on its own case and have the attempt recorded (SOP-4.3 /
        # COP-4.3 "Partner users [...] may request but never approve [...] Any attempt to self-approve is rejected
        # and recorded in the audit log"); another partner's case is a 404
        roles=frozenset(STAFF | {Role.PARTNER}),
        tag=f"{kind}s",
        id_params={id_param: case.id_prefix},
        body_schema=case.body_schema,
        example=case.example,
        response_schema="api/responses/case.schema.json",
    )
    def decide_case(call: Call) -> dict[str, Any]:
        return domain.view(
            cases.decide_case(
                call.runtime, call.who, kind, call.params[id_param], call.body["outcome"], call.body.get("note")
            )
        )


def _ask_partner_route(case: CaseKind) -> None:
    kind, id_param = case.kind, case.id_param

    @operation(
        "POST",
        f"{case.collection}/{{{id_param}}}/ask-partner",
        name=f"ask_partner_{kind}",
        summary=f"A member of the {kind}'s queue asks its partner for information: the {kind} is waiting_on_partner "
        "and its SLA clock is paused until the partner replies (SOP-1.3 / COP-1.3)",
        roles=STAFF,
        tag=f"{kind}s",
        id_params={id_param: case.id_prefix},
        body_schema="api/case-question.schema.json",
        example={"question": "Please send the signed delivery note for SO-1-2026-10-12"},
        response_schema="api/responses/case.schema.json",
    )
    def ask_partner(call: Call) -> dict[str, Any]:
        asked = case_waiting.ask_partner(call.runtime, call.who, kind, call.params[id_param], call.body["question"])
        return domain.view(asked)


def _assign_route(case: CaseKind) -> None:
    kind, id_param = case.kind, case.id_param

    @operation(
        "POST",
        f"{case.collection}/{{{id_param}}}/assign",
        name=f"assign_{kind}",
        summary=f"A member of the {kind}'s queue assigns it to a member of that queue (a live key of the queue's "
        "role): `assignee` and `assignments` show who works it; its SLA clock and escalation instants are kept "
        "(SOP-1.3 / COP-1.3) and any member of the queue may still decide it; never to its requester (SOP-4.3 / "
        "COP-4.3: a 422 naming `/assignee`)",
        roles=STAFF,
        tag=f"{kind}s",
        id_params={id_param: case.id_prefix},
        body_schema="api/case-assignment.schema.json",
        example={"assignee": "key_01JX0000000000000000000ANA", "note": "Ana knows this partner's distributor contact"},
        response_schema="api/responses/case.schema.json",
    )
    def assign(call: Call) -> dict[str, Any]:
        assigned = case_assignment.assign(call.runtime, call.who, kind, call.params[id_param], call.body["assignee"],
                                          call.body.get("note"))  # fmt: skip
        return domain.view(assigned)


def _partner_reply_route(case: CaseKind) -> None:
    kind, id_param = case.kind, case.id_param

    @operation(
        "POST",
        f"{case.collection}/{{{id_param}}}/partner-reply",
        name=f"partner_reply_{kind}",
        summary=f"The partner answers the question its own {kind} waits on: back in its queue, its due time and "
        "escalation instants moved by the wait (SOP-1.3 / COP-1.3); another partner's is a 404",
        roles=frozenset({Role.PARTNER}),
        tag=f"{kind}s",
        id_params={id_param: case.id_prefix},
        body_schema="api/case-partner-reply.schema.json",
        example={"reply": "DN-1182 attached: 4 switches signed for"},
        response_schema="api/responses/partner-case.schema.json",
        open_when_suspended="SOP-1.3 'The clock is paused only while an item is in the status \"waiting on partner\" "
                            "and restarts when the Partner responds' (COP-1.3): only the answer its own waiting item "
                            "asks for (409 otherwise); without it the item would wait for ever",
    )
    def partner_reply(call: Call) -> dict[str, Any]:
        return case_waiting.partner_reply(call.runtime, call.who, kind, call.params[id_param], call.body["reply"])


@operation(
    "POST",
    "/v1/exceptions/{exception_id}/reroute",
    summary="A member of the exception's queue moves it to the queue the policy routes `category` to: a new SLA clock "
    "for that queue, the original entry time kept (SOP-1.3 / COP-1.3); a move within the same queue keeps its clock",
    roles=STAFF,
    tag="exceptions",
    id_params={"exception_id": "exc"},
    body_schema="api/case-reroute.schema.json",
    example={"category": "out_of_scope_service", "note": "on-site work the partner is not entitled to (SOP-5.3)"},
    response_schema="api/responses/case.schema.json",
)
def reroute_exception(call: Call) -> dict[str, Any]:
    moved = case_waiting.reroute_exception(call.runtime, call.who, call.params["exception_id"], call.body["category"],
                                           call.body["note"])  # fmt: skip
    return domain.view(moved)


@operation(
    "GET",
    "/v1/waiting",
    summary="The approvals and exceptions waiting on a partner (their SLA clock paused, SOP-1.3 / COP-1.3), each with "
    "its question, when it was asked and the route to answer by (a partner key: its own; staff name the partner)",
    roles=frozenset(STAFF | {Role.PARTNER}),
    tag="approvals",
    paginated=True,
    query=(_WAITING_ON,),
    response_schema="api/responses/waiting-page.schema.json",
)
def list_waiting(call: Call) -> dict[str, Any]:
    items, next_cursor = case_waiting.waiting_on(
        call.runtime, call.who, call.query.get("partner_id"), limit=call.limit, cursor=call.cursor
    )
    return {"items": items, "next_cursor": next_cursor}


CASE_KINDS = (
    CaseKind(
        "approval",
        id_prefix="apr",
        listing="Approvals by status (pending first by due time), optionally one queue",
        reading="Read an approval",
        verb="decide",
        action="decision",
        deciding="Approve or reject (the approving queue; never the requester; a partner key's attempt on its own is "
        "refused and recorded, SOP-4.3)",
        body_schema="api/case-decision.schema.json",
        example={"outcome": "approved", "note": "terms checked against PA-2.3"},
    ),
    CaseKind(
        "exception",
        id_prefix="exc",
        listing="Exceptions by status (open first by due time), optionally one queue",
        reading="Read an exception",
        verb="resolve",
        action="resolve",
        deciding="Resolve or dismiss an exception (its queue only; a partner key's attempt on its own is refused and "
        "recorded, SOP-4.3)",
        body_schema="api/case-resolution.schema.json",
        example={"outcome": "resolved", "note": "invoice line issued by hand"},
    ),
)
for _case in CASE_KINDS:
    _case_routes(_case)
