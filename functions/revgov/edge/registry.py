"""The one route table: every operation, who may call it, what body it takes. Chalice and OpenAPI both read it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ..domain.access import STAFF_ROLES, TENANT_ROLES, Role

# Role sets used in the table below: deny by default, allow explicitly.
OPERATOR = frozenset({Role.OPERATOR})
ADMIN = frozenset({Role.ADMIN})
STAFF = frozenset(STAFF_ROLES)
TENANT = frozenset(TENANT_ROLES)
PUBLIC: frozenset[Role] = frozenset()


# A billing month (2026-11) or a quarter (2026-Q4) in a query: one pattern for every route that takes a period, years
# bounded to 1900-2199 like the rebate programs' years (`0000-Q1` and `9999-12` are 400s, not empty answers).
PERIOD_PATTERN = r"(19|20|21)[0-9]{2}-(Q[1-4]|0[1-9]|1[0-2])"


@dataclass(frozen=True)
class QueryParam:
    name: str
    description: str
    pattern: str | None = None
    enum: tuple[str, ...] | None = None
    required: bool = False  # the operation answers 400 naming it when it is missing, whoever calls (OpenAPI `required`)


@dataclass(frozen=True)
class HeaderParam:
    """A request header the operation reads beyond authentication (e.g. Idempotency-Key); never required."""

    name: str
    description: str
    pattern: str | None = None
    required: bool = False  # a signed webhook's headers are required; API headers never are


IDEMPOTENCY_KEY = HeaderParam(
    "Idempotency-Key",
    "Makes the request safe to retry (Stripe's semantics): recorded before the work runs; the same key and body "
    "answer the first response again (status and body, with `Idempotent-Replayed: true`), kept 24 h per tenant and "
    "API key; the same key with another body is refused (422); a duplicate sent while the first is still running is "
    "refused (409). Secrets a response shows once are withheld from a replay. 1 to 255 letters, digits or ._:~-",
    r"^[A-Za-z0-9._:~-]{1,255}$",
)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    name: str
    summary: str
    roles: frozenset[Role]
    handler: Callable[..., Any]
    tag: str
    body_schema: str | None = None
    example: dict[str, Any] | str | None = None  # a body, or a file name under schemas/examples/
    status: int = 200
    query: tuple[QueryParam, ...] = ()
    headers: tuple[HeaderParam, ...] = ()
    paginated: bool = False
    # path param -> required id prefix ("a|b": either); refused 404 at the edge, its `pattern` in the OpenAPI document
    id_params: dict[str, str] = field(default_factory=dict)
    raw_body: bool = False
    description: str | None = None  # longer text for the OpenAPI operation (definitions, methods)
    produces: str = "application/json"  # the success response's media type (the portal page is text/html)
    response_schema: str | None = None  # a schema under schemas/ describing the success body
    response_example: dict[str, Any] | str | None = None  # a success body, or a file name under schemas/examples/
    # For a raw_body operation (checked by the handler itself): the schemas its body may match, for the OpenAPI.
    raw_body_schemas: tuple[str, ...] = ()
    # The request media types the route accepts (Chalice answers 415 to others); a raw_body handler checks its own.
    content_types: tuple[str, ...] = ("application/json",)
    # PA-9.6 / CPA-9.8: a suspended partner's key only reads; a partner write it may still send says why here (the
    # cure PA-2.7 / CPA-2.4 name, a question that changes nothing). Checked once, in http.build_call.
    open_when_suspended: str | None = None
    # Problems worth a documented example: (status, description, example body) each, in the OpenAPI document.
    problems: tuple[tuple[int, str, dict[str, Any]], ...] = ()

    @property
    def public(self) -> bool:
        return not self.roles

    @property
    def idempotent(self) -> bool:
        """Every authenticated POST honours Idempotency-Key (edge/idempotency.py); public POSTs (the signed ERP
        webhook) deduplicate by their own event ids."""
        return self.method == "POST" and not self.public


OPERATIONS: list[Operation] = []


def operation(
    method: str,
    path: str,
    *,
    summary: str,
    roles: frozenset[Role],
    tag: str,
    name: str | None = None,
    **options: Any,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare an HTTP operation. The function receives a `Call` and returns a JSON-able value.

    The operation id is the function's name, or `name` for a handler declared by a helper for several operations."""

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        op = Operation(method, path, name or func.__name__, summary, roles, func, tag, **options)
        if op.idempotent and IDEMPOTENCY_KEY not in op.headers:
            op = replace(op, headers=(*op.headers, IDEMPOTENCY_KEY))
        OPERATIONS.append(op)
        return func

    return register
