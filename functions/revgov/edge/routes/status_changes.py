"""The "move a subject to another status, citing a reason" operation shape: suspend, reinstate, terminate, resume."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...domain.access import Principal, Role
from ...runtime import Runtime
from ..http import Call
from ..registry import operation

ChangeStatus = Callable[[Runtime, Principal, str, str, str], dict[str, Any]]


@dataclass(frozen=True)
class StatusChanges:
    """Declares `POST {item}/{verb}` operations (ids `{verb}_{subject}`) that pass the body's reason to `change`."""

    item: str  # the subject's path, e.g. /v1/partners/{partner_id}
    subject: str
    tag: str
    subject_id: Callable[[Call], str]  # the path's id, once the caller may act on it
    change: ChangeStatus  # (runtime, who, id, status, reason) -> the changed subject
    id_params: dict[str, str] = field(default_factory=dict)
    response_schema: str | None = None  # the changed subject's schema under schemas/

    def declare(self, verb: str, *, to: str, summary: str, roles: frozenset[Role], reason: str) -> None:
        """`reason` is the documented example of why."""

        def change_status(call: Call) -> dict[str, Any]:
            return self.change(call.runtime, call.who, self.subject_id(call), to, call.body["reason"])

        operation(
            "POST",
            f"{self.item}/{verb}",
            name=f"{verb}_{self.subject}",
            summary=summary,
            roles=roles,
            tag=self.tag,
            id_params=self.id_params,
            body_schema="api/status-change.schema.json",
            example={"reason": reason},
            response_schema=self.response_schema,
        )(change_status)
