"""`Idempotency-Key` for POSTs that create or move money: the same key and body answer the first response (kept
48 h); the same key with another body is refused (422). Keys are per tenant and operation."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..domain.access import Principal
from ..domain.canonical import sha256_hex
from ..domain.errors import Conflict, FieldError, MalformedRequest, RuleViolation
from ..ports import Changes, Put
from ..runtime import Runtime

REQUEST_KEYS = "REQUESTKEY"
KEEP_SECONDS = 48 * 3600
KEY_PATTERN = r"^[A-Za-z0-9._:~-]{1,128}$"
KEY_HELP = (
    "Makes the request safe to retry: the same key and body answer the first response (kept 48 h); the same key "
    "with another body is refused (422). 1 to 128 letters, digits or ._:~-"
)
_KEY = re.compile(KEY_PATTERN)


def remember(
    rt: Runtime,
    who: Principal,
    operation: str,
    key: str | None,
    body: Any,
    run: Callable[[], tuple[int, Any]],
) -> tuple[int, Any]:
    """Run the use case once per key: a retry with the same key and body gets the stored status and body."""
    if key is None:
        return run()
    if not _KEY.match(key):
        raise MalformedRequest(
            "Idempotency-Key must be 1 to 128 letters, digits or ._:~-",
            errors=[FieldError("/headers/Idempotency-Key", "1..128 of [A-Za-z0-9._:~-]")],
        )
    name = f"{operation}#{key}"
    fingerprint = sha256_hex(body)
    stored = rt.store.get(who.tenant_id, REQUEST_KEYS, name)
    if stored is None:
        status, answer = run()
        record = {"operation": operation, "fingerprint": fingerprint, "status": status, "body": answer}
        expires = rt.clock.now_ms() // 1000 + KEEP_SECONDS
        try:
            rt.store.commit(
                who.tenant_id, Changes(puts=[Put(REQUEST_KEYS, name, record, must_be_absent=True, expires_at=expires)])
            )
            return status, answer
        except Conflict:  # a concurrent request with the same key stored its answer first
            stored = rt.store.get(who.tenant_id, REQUEST_KEYS, name)
            if stored is None:  # pragma: no cover - the winner's write is visible once it conflicted
                return status, answer
    if stored.data["fingerprint"] != fingerprint:
        raise RuleViolation(f"Idempotency-Key {key} was used with another body; use a new key for a new request")
    return int(stored.data["status"]), stored.data["body"]
