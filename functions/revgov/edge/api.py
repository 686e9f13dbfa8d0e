"""The Chalice app: every operation of the route table, the API-key authorizer, problem+json for all errors."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import Any, cast

from chalice.app import AuthResponse, Chalice, Request, Response

from ..adapters.ratelimit import PARTNERS, Limits
from ..bootstrap import runtime
from ..domain.errors import MethodNotAllowed, RevgovError, UnsupportedMediaType
from ..logs import logger
from ..metrics import record, status_class
from ..services.keys import resolve_caller
from ..settings import settings
from . import cors, http
from .idempotency import run_operation
from .query import repeated_parameters
from .registry import OPERATIONS, Operation
from .routes import load_all

app = Chalice(app_name="revgov")
_CORRELATION = re.compile(r"^[A-Za-z0-9._-]{8,128}$")


@app.authorizer(ttl_seconds=0, name="api_key")
def api_key(auth_request: Any) -> AuthResponse:
    """Resolve the bearer key into a principal and count it against its tenant's and its own rate limits.

    The verdict travels in the context; the route enforces it (so every refusal is the same problem+json)."""
    rt = runtime()
    try:
        who, plan, read_only, since = resolve_caller(rt, auth_request.token)
    except RevgovError as error:
        verdict = "forbidden" if error.status == 403 else "unauthenticated"
        return AuthResponse(
            routes=["*"], principal_id="anonymous", context={"verdict": verdict, "reason": error.detail}
        )
    except Exception as exc:  # the key store is throttling or unreachable: the route answers 503, not a gateway 500
        failure = http.unexpected(exc)
        logger.warning("authorizer failed", extra={"error": str(exc), "status": failure.status})
        verdict = "unavailable" if failure.status == 503 else "error"
        context = {"verdict": verdict, "reason": failure.detail}
        return AuthResponse(routes=["*"], principal_id="anonymous", context=context)
    limited = _rate_limited(rt, who.tenant_id, who.key_id, plan, since, partner=who.partner_id is not None)
    if limited is not None:
        return AuthResponse(routes=["*"], principal_id=who.key_id, context=limited)
    context = {
        "verdict": "ok",
        "tenant_id": who.tenant_id,
        "role": who.role.value,
        "key_id": who.key_id,
        "partner_id": who.partner_id or "",
    }
    if read_only is not None:  # a suspended partner's key: the route refuses its writes (http.build_call)
        context["read_only_clause"], context["read_only"] = read_only
    return AuthResponse(routes=["*"], principal_id=who.key_id, context=context)


def _rate_limited(
    rt: Any, tenant_id: str, key_id: str, plan: dict[str, Any] | None, since: str, *, partner: bool = False
) -> dict[str, Any] | None:
    """The context of a refused request (429), or None when the tenant's plan lets it through (`since`: the tenant's
    provisioning, so a limiter's memory of a former tenant of the same id counts nothing against it; `partner`: a
    partner key, which also counts in the tenant's partner pool)."""
    limits = Limits.from_plan(plan)
    if limits is None or rt.rate_limiter is None:
        return None
    verdict = rt.rate_limiter.hit(tenant_id, key_id, limits, since=since, pool=PARTNERS if partner else None)
    if verdict.allowed:
        return None
    who = {"tenant": "tenant", PARTNERS: "tenant's partner keys together"}.get(verdict.scope, "API key")
    reason = f"the {who} made more than {verdict.limit} requests this minute (plan limit); retry after " \
             f"{verdict.retry_after} s"  # fmt: skip
    return {"verdict": "rate_limited", "reason": reason, "retry_after": verdict.retry_after, "limit": verdict.limit}


def _respond(result: http.Answer) -> Response:
    body = result.body if isinstance(result.body, str) else http.to_json(result.body)
    headers: dict[str, str | list[str]] = {"Content-Type": result.content_type, **result.headers}
    return Response(body=body, status_code=result.status, headers=headers)


def _view(op: Operation) -> Callable[..., Response]:
    def view(**params: str) -> Response:
        started = time.perf_counter()
        request = _current_request()
        headers = {k.lower(): v for k, v in (request.headers or {}).items()}
        given = headers.get("x-correlation-id", "")
        correlation_id = given if _CORRELATION.match(given) else str(uuid.uuid4())
        context = (request.context or {}).get("authorizer") or {}
        logger.append_keys(correlation_id=correlation_id, tenant_id=context.get("tenant_id"))
        instance = _request_path(request)
        credentials_sent = bool(headers.get("authorization"))
        try:
            call = http.build_call(
                op,
                context=context,
                headers=headers,
                params=params,
                query=dict(request.query_params or {}),
                repeated=repeated_parameters(request.query_params),
                raw_body=cast(bytes, request.raw_body or b""),
                runtime=runtime(),
                max_body_bytes=settings().max_body_bytes,
                correlation_id=correlation_id,
            )
            result = run_operation(
                op, call, instance, correlation_id, lambda: http.answer(op, op.handler(call), call.principal)
            )
        except RevgovError as error:
            if error.status >= 500:
                logger.warning("request failed", extra={"operation": op.name, "status": error.status})
            result = http.problem(error, instance, correlation_id, credentials_sent=credentials_sent, signed=op.public)
        except Exception as exc:
            failure = http.unexpected(exc)
            if failure.status == 503:
                logger.warning("dependency unavailable", extra={"operation": op.name, "error": str(exc)})
            else:
                logger.exception("unhandled error", extra={"operation": op.name})
            result = http.problem(failure, instance, correlation_id, credentials_sent=credentials_sent)
        response = _respond(result)
        response.headers["X-Correlation-Id"] = correlation_id
        tenant_id = context.get("tenant_id") if context.get("verdict") == "ok" else None
        response.headers.update(_cors_headers(headers.get("origin"), tenant_id or None))
        _observe(op, context, result.status, started)
        return response

    view.__name__ = op.name
    return view


def _current_request() -> Request:
    """The request Chalice is serving (set for every view call; None only outside a request)."""
    request = app.current_request
    if request is None:
        raise RuntimeError("no current request: a view was called outside Chalice's dispatch")
    return request


def _request_path(request: Any) -> str:
    """The path the client asked for (`/v1/partners/ptr_…`), not the route template Chalice matched: a problem's
    `instance` identifies this occurrence (RFC 9457 §3.1.5)."""
    try:
        event = request.to_original_event()
    except Exception:
        event = {}
    if not isinstance(event, dict):
        return str(request.path)
    # API Gateway: `path` (without the stage); Chalice's local gateway: only `requestContext.path`.
    path = event.get("path") or (event.get("requestContext") or {}).get("path")
    return str(path) if isinstance(path, str) and path else str(request.path)


def _cors_headers(origin: str | None, tenant_id: str | None) -> dict[str, str]:
    return cors.response_headers(runtime(), origin, tenant_id)


def _preflight(path: str, methods: list[str]) -> Callable[..., Response]:
    """OPTIONS on a path: the methods it has (`Allow`) and, for an origin some tenant lists, the CORS grant."""

    def view(**params: str) -> Response:
        request = _current_request()
        headers = {k.lower(): v for k, v in (request.headers or {}).items()}
        granted: dict[str, str | list[str]] = dict(
            cors.preflight(
                runtime(),
                headers.get("origin"),
                headers.get("access-control-request-method"),
                headers.get("access-control-request-headers"),
                methods,
            )
        )
        return Response(body="", status_code=204, headers=granted)

    view.__name__ = "preflight_" + "_".join(p for p in path.replace("{", "").replace("}", "").split("/") if p)
    return view


def _observe(op: Operation, context: dict[str, Any], status: int, started: float) -> None:
    """Latency and status class per operation (and per tenant when the caller was authenticated)."""
    tenant = context.get("tenant_id") if context.get("verdict") == "ok" else None
    labels = {"operation": op.name, "tenant": tenant, "status_class": status_class(status)}
    record("RequestLatency", (time.perf_counter() - started) * 1000, **labels)
    record("Requests", 1, **labels)


@app.middleware("http")
def chalice_errors_as_problems(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Chalice's own 405/415 answers become problem+json like every other error."""
    response = get_response(event)
    if response.status_code in (405, 415) and response.headers.get("Content-Type") != http.PROBLEM:
        error_class = MethodNotAllowed if response.status_code == 405 else UnsupportedMediaType
        error = error_class(
            f"{_request_path(event)} does not accept that method; it accepts {response.headers.get('Allow')}"
            if response.status_code == 405
            else "send application/json"
        )
        answered = _respond(http.problem(error, _request_path(event), str(uuid.uuid4())))
        if response.status_code == 405:  # RFC 9110 §15.5.6: a 405 MUST list the methods the resource supports
            answered.headers["Allow"] = _allow(str(response.headers.get("Allow", "")))
        answered.headers.update(_cors_headers((event.headers or {}).get("origin"), None))
        return answered
    return response


def _allow(chalice_allow: str) -> str:
    return ", ".join(sorted({m.strip() for m in chalice_allow.split(",") if m.strip()}))


def _register() -> None:
    load_all()
    methods: dict[str, list[str]] = {}
    for op in OPERATIONS:
        app.route(
            op.path,
            methods=[op.method],
            name=op.name,
            authorizer=None if op.public else api_key,
            content_types=list(op.content_types),
        )(_view(op))
        methods.setdefault(op.path, []).append(op.method)
    for path, path_methods in methods.items():  # CORS preflights, answered by the app (locally and in AWS)
        view = _preflight(path, path_methods)
        app.route(path, methods=["OPTIONS"], name=view.__name__)(view)


_register()
