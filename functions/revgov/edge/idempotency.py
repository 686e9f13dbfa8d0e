"""`Idempotency-Key` on every authenticated POST, with Stripe's documented semantics, once for every route.

- The key is recorded (claimed) BEFORE the use case runs, scoped to the tenant and the API key's principal.
- The same key and the same request (method, path, body) answer the first response again: its status, body and
  content type, with `Idempotent-Replayed: true`. An error the use case answered (4xx) is replayed like a success.
- The same key with another request is refused: 422 problem+json; nothing runs.
- A duplicate that arrives while the first request is still running is refused: 409 problem+json; nothing runs.
- A request that failed before the use case started (validation, auth) records nothing, and neither does one that
  failed for a cause the caller may retry (503: a dependency was busy; every change commits atomically, so nothing
  was done): the claim is released and the next retry runs.
- Records are kept 24 hours; a claim whose request died mid-flight (a crashed process) is taken over after a lease.
Secrets a response shows once (API keys, webhook secrets) are never stored: a replay shows them as withheld.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..domain.access import Principal
from ..domain.canonical import sha256_hex
from ..domain.errors import Conflict, FieldError, MalformedRequest, RevgovError, RuleViolation
from ..logs import logger
from ..ports import Changes, Delete, DocumentStore, Put, Stored
from .http import Answer, Call, problem, to_json
from .registry import IDEMPOTENCY_KEY, Operation

HEADER = IDEMPOTENCY_KEY.name

REPLAYED_HEADER = "Idempotent-Replayed"
RECORDS = "REQUESTKEY"
KEEP_SECONDS = 24 * 3600
LEASE_MS = 60_000  # longer than any request may run (the Lambda timeout is 30 s)
WITHHELD = "withheld: shown once, in the first response"
# Response fields that carry a credential shown once (API keys, webhook and signing secrets), wherever they appear:
# a stored answer never holds them, so a replay withholds them.
SECRET_FIELDS = ("key", "secret", "signing_secret", "webhook_secret")
_KEY = re.compile(IDEMPOTENCY_KEY.pattern or "")
_INLINE_LIMIT = 32 * 1024  # larger bodies are stored compressed (a DynamoDB item holds at most 400 KB)


def fingerprint(method: str, path: str, body: Any, raw_body: bytes) -> str:
    """What makes two requests 'the same': method, concrete path and the body (parsed, so key order is irrelevant)."""
    content = body if body is not None else raw_body.decode("utf-8", "replace")
    return sha256_hex({"method": method, "path": path, "body": content})


def _record_key(who: Principal, key: str) -> str:
    return f"{who.key_id}#{key}"


def _pack(text: str) -> dict[str, str]:
    if len(text) <= _INLINE_LIMIT:
        return {"body": text}
    return {"body_z": base64.b64encode(zlib.compress(text.encode("utf-8"), 6)).decode("ascii")}


def _unpack(data: dict[str, Any]) -> str:
    if "body_z" in data:
        return zlib.decompress(base64.b64decode(data["body_z"])).decode("utf-8")
    return str(data["body"])


def _withhold(value: Any, secret_fields: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        return {k: (WITHHELD if k in secret_fields else _withhold(v, secret_fields)) for k, v in value.items()}
    if isinstance(value, list):
        return [_withhold(v, secret_fields) for v in value]
    return value


class RequestKeys:
    """Claims, completes and replays request keys in the tenant's partition of a `DocumentStore`."""

    def __init__(self, store: DocumentStore, now_ms: Callable[[], int]) -> None:
        self.store, self.now_ms = store, now_ms

    def run(
        self,
        who: Principal,
        key: str | None,
        print_: str | Callable[[], str],
        execute: Callable[[], Answer],
        *,
        to_text: Callable[[Any], str],
        on_error: Callable[[RevgovError], Answer],
        secret_fields: tuple[str, ...] = (),
    ) -> Answer:
        """Run `execute` at most once per (tenant, principal, key); see the module docstring for the answers.
        `print_` may be given as a function: the request's fingerprint is then computed only when a key was sent."""
        if key is None:
            return execute()
        if not _KEY.match(key):
            raise MalformedRequest(
                f"{HEADER} must be 1 to 255 letters, digits or ._:~-",
                errors=[FieldError(f"/headers/{HEADER}", "1..255 of [A-Za-z0-9._:~-]")],
            )
        printed = print_ if isinstance(print_, str) else print_()
        name = _record_key(who, key)
        claimed = self._claim(who.tenant_id, name, key, printed)
        if isinstance(claimed, Answer):
            return claimed
        try:
            outcome = execute()
        except RevgovError as error:
            if error.status >= 500:
                self._release(who.tenant_id, name)
            else:
                self._complete(who.tenant_id, name, claimed, printed, on_error(error), to_text, secret_fields)
            raise
        except BaseException:
            self._release(who.tenant_id, name)
            raise
        if outcome.status >= 500:
            self._release(who.tenant_id, name)
        else:
            self._complete(who.tenant_id, name, claimed, printed, outcome, to_text, secret_fields)
        return outcome

    def _claim(self, tenant_id: str, name: str, key: str, print_: str) -> Answer | int:
        """The claim's version, or the answer to give instead of running (a replay); raises 409/422."""
        for _ in range(3):
            stored = self.store.get(tenant_id, RECORDS, name)
            now_ms = self.now_ms()
            if stored is not None and not self._expired(stored, now_ms):
                answer = self._existing(stored, key, print_, now_ms)
                if answer is not None:
                    return answer
            version = stored.version if stored is not None else None
            record = {"state": "in_flight", "fingerprint": print_, "locked_until_ms": now_ms + LEASE_MS}
            try:
                self._save(tenant_id, name, record, version, now_ms,
                           conflict_detail=f"a request with {HEADER} {key} is in progress")
            except Conflict:
                continue  # another request claimed it first: look again
            return (version or 0) + 1
        raise Conflict(f"a request with {HEADER} {key} is in progress; retry later", extra={"retry_after": 1})

    @staticmethod
    def _expired(stored: Stored, now_ms: int) -> bool:
        return int(stored.data.get("recorded_ms", now_ms)) + KEEP_SECONDS * 1000 <= now_ms

    @staticmethod
    def _existing(stored: Stored, key: str, print_: str, now_ms: int) -> Answer | None:
        data = stored.data
        if data["fingerprint"] != print_:
            raise RuleViolation(
                f"{HEADER} {key} was already used with another request (method, path or body); use a new key for a "
                "new request",
                errors=[FieldError(f"/headers/{HEADER}", "already used with another request")],
            )
        if data["state"] == "done":
            headers = {**data.get("headers", {}), REPLAYED_HEADER: "true"}
            content_type = data.get("content_type", "application/json")
            return Answer(int(data["status"]), _unpack(data), headers, content_type)
        if now_ms < int(data["locked_until_ms"]):
            raise Conflict(
                f"a request with {HEADER} {key} is still in progress; retry after it finished",
                extra={"retry_after": 1},
            )
        return None  # the first request died mid-flight: this one takes over

    def _complete(
        self,
        tenant_id: str,
        name: str,
        version: int,
        print_: str,
        answer: Answer,
        to_text: Callable[[Any], str],
        secret_fields: tuple[str, ...],
    ) -> None:
        body = answer.body
        if secret_fields and not isinstance(body, str):
            body = _withhold(json.loads(to_text(body)), secret_fields)
        text = body if isinstance(body, str) else to_text(body)
        record = {
            "state": "done",
            "fingerprint": print_,
            "status": answer.status,
            "content_type": answer.content_type,
            "headers": answer.headers,
            "recorded_ms": self.now_ms(),
            **_pack(text),
        }
        self._save(tenant_id, name, record, version, self.now_ms())

    def _save(
        self, tenant_id: str, name: str, record: dict[str, Any], version: int | None, now_ms: int,
        conflict_detail: str | None = None,
    ) -> None:
        """Write the key's record at the version read (absent: None), kept KEEP_SECONDS from `now_ms`."""
        put = Put(
            RECORDS,
            name,
            record,
            must_be_absent=version is None,
            expected_version=version,
            expires_at=now_ms // 1000 + KEEP_SECONDS,
        )
        self.store.commit(tenant_id, Changes(puts=[replace(put, conflict_detail=conflict_detail) if conflict_detail
                                                   else put]))

    def _release(self, tenant_id: str, name: str) -> None:
        try:
            self.store.commit(tenant_id, Changes(deletes=[Delete(RECORDS, name)]))
        except Exception as exc:  # the lease ends the claim anyway
            logger.warning("could not release an Idempotency-Key claim", extra={"error": str(exc)})


def run_operation(
    op: Operation, call: Call, instance: str, correlation_id: str, execute: Callable[[], Answer]
) -> Answer:
    """The edge's one entry: an idempotent operation runs through the caller's request key, any other runs as is.
    `instance` is what the edge puts in a problem's `instance`, so a replayed refusal is the first one, to the byte."""
    if not op.idempotent or call.principal is None:
        return execute()
    path = op.path.format(**call.params)
    keys = RequestKeys(call.runtime.store, call.runtime.clock.now_ms)
    return keys.run(
        call.principal,
        call.headers.get(HEADER.lower()),
        lambda: fingerprint(op.method, path, call.body, call.raw_body),  # hashed only when a key was sent
        execute,
        to_text=to_json,
        on_error=lambda error: problem(error, instance, correlation_id),
        secret_fields=SECRET_FIELDS,
    )
