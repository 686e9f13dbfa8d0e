"""Turns one HTTP request into one use-case call and its answer: auth, role check, body, errors as problem+json."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from .. import schemas
from ..domain import audience
from ..domain.access import Principal, Role
from ..domain.caller_text import shown
from ..domain.errors import (
    FieldError,
    Forbidden,
    MalformedRequest,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    RevgovError,
    Unauthenticated,
    Unavailable,
    UnsupportedMediaType,
)
from ..domain.ids import is_typed_id
from ..ports import Page
from .registry import Operation

PROBLEM = "application/problem+json"
PROBLEM_BASE = "https://revgov.dev/problems/"
MAX_LIMIT = 200
_LIMIT = re.compile(r"^[1-9][0-9]{0,2}$")
RETRY_UNAVAILABLE_SECONDS = 2
# Error codes of AWS services (DynamoDB, EventBridge, Bedrock…) that mean "not now": a 503 with Retry-After.
# The embedded engine's SQLite answers whose transaction was rolled back (Database.write): SQLITE_BUSY (the write lock
# not released within the busy timeout), SQLITE_IOERR (e.g. a write past the file size limit), SQLITE_FULL. The
# last two clear only when an operator frees space (RFC 9110 §10.2.3: Retry-After says "how long the user agent ought
# to wait"; no wait is honest there): a 503 without Retry-After whose `operator_action` says what must happen.
_SQLITE_CANNOT_WRITE = frozenset({5, 10, 13})
_SQLITE_NEEDS_OPERATOR = frozenset({10, 13})
_TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "TransactionConflictException",
        "TransactionInProgressException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalServerError",
        "InternalFailure",
        "ModelTimeoutException",
        "ModelNotReadyException",
    }
)


@dataclass
class Call:
    """What a route function gets: the caller, the parsed input, and the runtime to act with."""

    principal: Principal | None
    body: Any
    params: dict[str, str]
    query: dict[str, str]
    headers: Mapping[str, str]
    raw_body: bytes
    runtime: Any
    correlation_id: str
    limit: int = 50
    cursor: str | None = None

    @property
    def who(self) -> Principal:
        assert self.principal is not None, "public operations have no principal"
        return self.principal


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, Page):
        return {"items": [item.data for item in value.items], "next_cursor": value.next_cursor}
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def to_json(value: Any) -> str:
    return json.dumps(value, default=_json_default, separators=(",", ":"), ensure_ascii=False)


# The signed ERP webhook takes no key (docs/billing.md): its 401 challenges with the scheme it does take
SIGNATURE_CHALLENGE = 'Revgov-Signature realm="revgov"'


def problem(
    error: RevgovError, instance: str, correlation_id: str, *, credentials_sent: bool = False, signed: bool = False
) -> Answer:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + error.slug,
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "instance": instance,
        "correlation_id": correlation_id,
    }
    if error.errors:
        body["errors"] = [e.as_dict() for e in error.errors]
    body.update({k: v for k, v in error.extra.items() if k != "retry_after" or v is not None})  # None: no delay
    retry_after = error.extra.get("retry_after", RETRY_UNAVAILABLE_SECONDS if error.status == 503 else None)
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    if error.status == 401:
        headers["WWW-Authenticate"] = SIGNATURE_CHALLENGE if signed else www_authenticate(credentials_sent)
    return Answer(error.status, body, headers, PROBLEM)


def www_authenticate(credentials_sent: bool) -> str:
    """RFC 9110 §11.6.1: a 401 names its scheme. RFC 6750 §3: `Bearer`, with `error="invalid_token"` when a
    credential was sent and refused, and no error code when the request carried none (§3.1)."""
    challenge = 'Bearer realm="revgov"'
    return challenge + ', error="invalid_token"' if credentials_sent else challenge


def _causes(error: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain and len(chain) < 8:
        chain.append(current)
        current = getattr(current, "cause", None) or current.__cause__ or current.__context__
    return chain


def unexpected(error: Exception) -> RevgovError:
    """An exception no use case named: a dependency throttling, failing or timing out is a 503 with Retry-After
    (the caller may retry; nothing was half-done, since every change commits atomically); anything else is a bug."""
    for cause in _causes(error):
        response = getattr(cause, "response", None)
        code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
        code = code or getattr(cause, "cause_response_code", None)
        module = type(cause).__module__
        timed_out = isinstance(cause, TimeoutError | ConnectionError) or (
            module.startswith(("botocore", "urllib3", "opensearchpy"))
            and any(word in type(cause).__name__ for word in ("Timeout", "Connection", "Endpoint"))
        )
        if code in _TRANSIENT_CODES or timed_out:
            what = type(cause).__name__ if timed_out else code
            return Unavailable(f"a backing service is busy or unreachable ({what}); retry after the delay")
        sqlite_code = getattr(cause, "sqlite_errorcode", 0) & 0xFF if module == "sqlite3" else 0
        if sqlite_code in _SQLITE_NEEDS_OPERATOR:
            return Unavailable(
                f"the embedded database could not write ({cause}); nothing was changed. This does not clear by "
                "waiting: an operator must free disk space (or raise the file size limit); the same request, with the "
                "same Idempotency-Key, goes through once they have",
                extra={"retry_after": None, "operator_action": "free_storage"},
            )
        if sqlite_code in _SQLITE_CANNOT_WRITE:
            return Unavailable(f"the embedded database could not write ({cause}; its write lock was not released); "
                               "nothing was changed: retry after the delay")
    return RevgovError("an unexpected error occurred; it has been logged with the correlation id")


def principal_from_context(context: Mapping[str, Any]) -> Principal:
    """The authorizer resolved the key; here its verdict becomes a principal or a 401/403."""
    verdict = context.get("verdict")
    if verdict == "forbidden":
        raise Forbidden(str(context.get("reason", "not allowed")))
    if verdict == "rate_limited":
        raise RateLimited(
            str(context.get("reason") or "too many requests"),
            extra={"retry_after": int(context.get("retry_after") or 1), "limit": int(context.get("limit") or 0)},
        )
    if verdict == "unavailable":
        raise Unavailable(str(context.get("reason") or "the key store is unavailable; retry"))
    if verdict != "ok":
        raise Unauthenticated(str(context.get("reason") or "send Authorization: Bearer <api key>"))
    return Principal(
        tenant_id=str(context["tenant_id"]),
        role=Role(context["role"]),
        key_id=str(context["key_id"]),
        partner_id=context.get("partner_id") or None,
    )


def _strict_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"duplicate key {key!r}")
        seen[key] = value
    return seen


def parse_json(raw: bytes) -> Any:
    """Strict JSON: UTF-8, no NaN/Infinity, no duplicate keys, no lone surrogate, numbers with a fraction kept as
    Decimal."""
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, parse_float=Decimal, parse_constant=_strict_constant,
                           object_pairs_hook=_no_duplicate_keys)  # fmt: skip
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MalformedRequest(f"the body is not valid JSON: {exc}") from exc
    where = _lone_surrogate(value, "") if _SURROGATE_ESCAPE.search(text) else None
    if where is not None:  # only a `\uD800`-style escape makes one: UTF-8 bytes cannot
        raise MalformedRequest(
            "the body holds a lone UTF-16 surrogate (\\uD800-\\uDFFF without its pair), which is no character "
            "(RFC 8259 §8.2; RFC 7493 §2.1: strings MUST NOT include surrogates)",
            errors=[FieldError(where or "/", "a lone surrogate is not a character")],
        )
    return value


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _lone_surrogate(value: Any, path: str) -> str | None:
    """The JSON pointer of the first string (or member name) holding a lone surrogate, or None (a pair such as
    `\\ud83d\\ude00` was joined into one character by the parser)."""
    if isinstance(value, str):
        return None if value.isascii() or _encodes(value) else path
    if isinstance(value, dict):
        for key, item in value.items():
            if not _encodes(key):  # named escaped, as the caller wrote it
                return f"{path}/{json.dumps(key)[1:-1]}"
            found = _lone_surrogate(item, f"{path}/{key.replace('~', '~0').replace('/', '~1')}")
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _lone_surrogate(item, f"{path}/{index}")
            if found is not None:
                return found
    return None


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _page_options(query: Mapping[str, str]) -> tuple[int, str | None]:
    limit_text = query.get("limit")
    if limit_text is None:
        limit = 50
    elif not _LIMIT.match(limit_text) or int(limit_text) > MAX_LIMIT:
        raise MalformedRequest(
            "limit must be a whole number from 1 to 200", errors=[FieldError("/query/limit", "1..200")]
        )
    else:
        limit = int(limit_text)
    cursor = query.get("cursor")
    if cursor is not None and (not cursor or len(cursor) > 2048):
        raise MalformedRequest("cursor is not valid", errors=[FieldError("/query/cursor", "not a cursor")])
    return limit, cursor


def _check_query(op: Operation, query: Mapping[str, str], repeated: tuple[str, ...] = ()) -> None:
    allowed = {q.name: q for q in op.query} | ({"limit": None, "cursor": None} if op.paginated else {})
    unknown = sorted(set(query) - set(allowed))
    if unknown:
        raise MalformedRequest(
            f"unknown query parameter(s): {', '.join(shown(name) for name in unknown)}",
            errors=[FieldError(f"/query/{name}", "not a parameter of this operation") for name in unknown],
        )
    if repeated:  # every declared parameter takes one value: `?period=2026-Q2&period=2026-Q3` is not a choice to make
        names = sorted(set(repeated))
        raise MalformedRequest(
            f"query parameter(s) given more than once: {', '.join(names)}",
            errors=[FieldError(f"/query/{name}", "give this parameter once") for name in names],
        )
    for spec in op.query:
        value = query.get(spec.name)
        if value is None:
            continue
        if (spec.enum and value not in spec.enum) or (spec.pattern and not re.fullmatch(spec.pattern, value)):
            # the parameter's own words first (as the OpenAPI describes it: "a quarter (2026-Q4)"), then the rule
            expected = f"be one of {', '.join(spec.enum)}" if spec.enum else f"match {spec.pattern}"
            raise MalformedRequest(
                f"query parameter {spec.name} ({spec.description}) must {expected}",
                errors=[FieldError(f"/query/{spec.name}", f"{spec.description}: must {expected}")],
            )


def build_call(
    op: Operation,
    *,
    context: Mapping[str, Any],
    headers: Mapping[str, str],
    params: Mapping[str, str],
    query: Mapping[str, str],
    raw_body: bytes,
    runtime: Any,
    max_body_bytes: int,
    correlation_id: str,
    repeated: tuple[str, ...] = (),
) -> Call:
    principal = None
    if not op.public:
        principal = principal_from_context(context)
        if principal.role not in op.roles:
            raise Forbidden(f"role {principal.role.value} may not {op.method} {op.path}")
        _read_only_refused(op, context)
    for name, prefix in op.id_params.items():
        if not is_typed_id(params.get(name, ""), prefix):
            raise NotFound(f"no {name.removesuffix('_id')} {shown(params.get(name, ''))}")  # malformed: quoted
    _check_query(op, query, repeated)
    _foreign_partner_refused(op, principal, query)
    limit, cursor = _page_options(query) if op.paginated else (50, None)
    if len(raw_body) > max_body_bytes:
        raise PayloadTooLarge(f"the body is {len(raw_body)} bytes; the limit is {max_body_bytes}")
    body: Any = None
    if op.body_schema is not None:
        content_type = (headers.get("content-type") or "application/json").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise UnsupportedMediaType(f"send application/json, not {content_type}")
        if not raw_body.strip():
            raise MalformedRequest("this operation needs a JSON body")
        body = parse_json(raw_body)
        schemas.validate(op.body_schema, body)
    elif raw_body.strip() and not op.raw_body and not _empty_object(raw_body):
        raise MalformedRequest("this operation takes no body (an empty object {} is accepted)",
                               errors=_unexpected_body(raw_body))
    return Call(principal, body, dict(params), dict(query), headers, raw_body, runtime, correlation_id, limit, cursor)


def _foreign_partner_refused(op: Operation, principal: Principal | None, query: Mapping[str, str]) -> None:
    """The one partner-key rule for the `?partner_id=` filter, whatever the route (SECURITY.md "Partner keys and
    `?partner_id=`"; API.md: 404 "also for another tenant's or partner's object: never confirm it exists"): naming
    any partner but its own, a rival's, another tenant's or an id no one holds, is the same 404; its own id, or
    none, reads its own (the use case scopes it). Staff filters pass unchanged."""
    if principal is None or principal.role is not Role.PARTNER:
        return
    named = query.get("partner_id")
    if named is not None and named != principal.partner_id and any(q.name == "partner_id" for q in op.query):
        raise NotFound(f"no partner {named}")


def _read_only_refused(op: Operation, context: Mapping[str, Any]) -> None:
    """PA-9.6 "A suspended Partner keeps read-only access to its statements and documents", CPA-9.8 "Suspended
    Partners keep read-only access": a suspended partner's key (the authorizer's `read_only`) reads, and writes only
    what the route table declares `open_when_suspended` (403 naming the clause otherwise)."""
    if context.get("read_only") and op.method not in ("GET", "HEAD") and not op.open_when_suspended:
        clause = str(context.get("read_only_clause") or "")
        raise Forbidden(f"{context['read_only']}; {op.method} {op.path} is not open to it",
                        extra={"clause": clause})


def _unexpected_body(raw: bytes) -> list[FieldError]:
    """What was sent to an operation that takes no body: each member of an object (its JSON pointer), or the body."""
    try:
        sent = json.loads(raw)
    except ValueError:
        sent = None
    if isinstance(sent, dict):
        return [FieldError("/" + str(name).replace("~", "~0").replace("/", "~1"), "not accepted: this operation "
                           "takes no body") for name in sent]
    return [FieldError("", "this operation takes no body")]


def _empty_object(raw: bytes) -> bool:
    """`{}`, which n8n and many generated clients send to operations that take no body."""
    return re.fullmatch(rb"\s*\{\s*\}\s*", raw) is not None


def answer(op: Operation, result: Any, principal: Principal | None = None) -> Answer:
    """The operation's answer; a partner's with every staff actor read as its role (domain/audience.py)."""
    if principal is not None and principal.role is Role.PARTNER:
        result = _partner_view(result)
    if isinstance(result, Answer):
        return result
    return Answer(op.status, result)


def _partner_view(result: Any) -> Any:
    if isinstance(result, Answer):
        return replace(result, body=_partner_view(result.body))
    if isinstance(result, Page):
        result = {"items": [item.data for item in result.items], "next_cursor": result.next_cursor}
    return audience.actors_as_roles(result)
