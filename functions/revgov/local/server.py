"""Serves the Chalice app on loopback through Chalice's local API Gateway, with gateway errors as problem+json.

In AWS the same answers come from the API's gateway responses, which the stacks set to problem+json.
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

from chalice.config import Config
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    LocalChalice,
    LocalDevServer,
    LocalGatewayException,
)

from ..edge.http import PROBLEM, PROBLEM_BASE


def _gateway_problem(error: LocalGatewayException, instance: str) -> tuple[int, bytes]:
    """The problem+json of an answer the gateway makes itself; `instance` is the path asked for (API.md: "`instance`
    is the request's path"; RFC 9457 §3.1.5), as the stacks' gateway responses put it."""
    code = error.CODE
    unknown_route = (b"Missing Authentication Token", b"Authorization header requires")
    if code == 403 and any(marker in (error.body or b"") for marker in unknown_route):
        code, slug, title, detail = 404, "not-found", "Not found", "no such route"
    elif code == 401:
        slug, title, detail = (
            "unauthenticated",
            "Missing or invalid credentials",
            "send Authorization: Bearer <api key>",
        )
    else:
        slug, title, detail = "forbidden", "Not allowed", "the gateway refused the request"
    body = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": code,
        "detail": detail,
        "instance": instance,
        "correlation_id": str(uuid.uuid4()),
    }
    return code, json.dumps(body).encode()


class ProblemRequestHandler(ChaliceRequestHandler):
    # One buffered write per response and no Nagle delay: otherwise every keep-alive request waits ~40 ms
    # for a delayed ACK between the header and body writes.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True

    def _send_error_response(self, error: LocalGatewayException) -> None:
        code, body = _gateway_problem(error, self.path.partition("?")[0])
        headers = {"Content-Type": PROBLEM}
        if code == 401:  # as API Gateway's UNAUTHORIZED response in the stacks: RFC 6750 §3
            headers["WWW-Authenticate"] = 'Bearer realm="revgov"'
        self._send_http_response(code, headers, body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # requests are logged as JSON by the app; the stdlib's access log would only add noise


class DevServer:
    """The API on http://127.0.0.1:<port>, served from a background thread until `stop`."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 8000) -> None:
        if not isinstance(app, CustomLocalChalice):  # once per process: a second server (a restart) reuses it
            CustomLocalChalice.__bases__ = (LocalChalice, type(app))
            app.__class__ = CustomLocalChalice  # per-thread current_request, as `chalice local` does
        config = Config.create(chalice_stage="dev", app_name="revgov", lambda_timeout=30, lambda_memory_size=1024)
        self._server = LocalDevServer(app, config, host, port, handler_cls=ProblemRequestHandler)
        self.host, self.port = host, self._server.server.server_address[1]
        self._thread = threading.Thread(target=self._server.server.serve_forever, daemon=True, name="api")

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server.server_close()  # the listening socket: a new connection is refused, not left queued
        self._thread.join(timeout=5)
