"""The one route table: every operation, who may call it, what body it takes. Chalice and OpenAPI both read it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..domain.access import STAFF_ROLES, TENANT_ROLES, Role

# Role sets used in the table below: deny by default, allow explicitly.
OPERATOR = frozenset({Role.OPERATOR})
ADMIN = frozenset({Role.ADMIN})
STAFF = frozenset(STAFF_ROLES)
TENANT = frozenset(TENANT_ROLES)
PUBLIC: frozenset[Role] = frozenset()


@dataclass(frozen=True)
class QueryParam:
    name: str
    description: str
    pattern: str | None = None
    enum: tuple[str, ...] | None = None


@dataclass(frozen=True)
class HeaderParam:
    """A request header the operation reads beyond authentication (e.g. Idempotency-Key); never required."""

    name: str
    description: str
    pattern: str | None = None
    required: bool = False  # a signed webhook's headers are required; API headers never are


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
    id_params: dict[str, str] = field(default_factory=dict)  # path param -> required id prefix
    raw_body: bool = False
    description: str | None = None  # longer text for the OpenAPI operation (definitions, methods)
    produces: str = "application/json"  # the success response's media type (the portal page is text/html)
    # The success response's schema, a file under schemas/ (e.g. api/responses/me.schema.json); None: an object.
    response_schema: str | None = None
    # For a raw_body operation (checked by the handler itself): the schemas its body may match, for the OpenAPI.
    raw_body_schemas: tuple[str, ...] = ()

    @property
    def public(self) -> bool:
        return not self.roles


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
        OPERATIONS.append(Operation(method, path, name or func.__name__, summary, roles, func, tag, **options))
        return func

    return register
