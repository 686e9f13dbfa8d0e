"""Red-team: a 503 must not claim something untrue.

RFC 9110 15.6.4: 503 Service Unavailable "indicates that the server is currently unable to handle the request due to
a temporary overload or scheduled maintenance, which will likely be alleviated after some delay"; the product's 503
reads "Temporarily unavailable, retry" with a Retry-After. A decision whose stored parts are gone or do not match the
hash its head holds is damaged for good: no retry will ever read it (the parts are written in the head's own commit,
`services/decision_repository.puts`, so nothing is still on its way). API.md: "A 5xx is a bug" — it is one here,
and saying "retry" sends every client into a loop of retries that cannot succeed.
"""

from __future__ import annotations

import hashlib

import pytest

from memory_store import FixedClock, NoBus
from revgov.adapters.memory_store import MemoryDocumentStore
from revgov.adapters.system import RandomIds
from revgov.domain.errors import RevgovError
from revgov.ports import Changes, Put
from revgov.runtime import Runtime
from revgov.services import decision_repository, decisions
from revgov.settings import settings


def _runtime() -> Runtime:
    clock = FixedClock("2026-11-09T09:00:00.000Z")
    ids = RandomIds(clock)
    return Runtime(settings(), MemoryDocumentStore(clock, ids), NoBus(), clock, ids)


def _head(text: str, parts: int) -> dict[str, object]:
    digest = hashlib.sha256(text.encode()).hexdigest()
    return {"decision_id": "dec_01JX0000000000000000000000", "body": {"parts": parts, "chars": len(text),
                                                                      "sha256": digest}}  # fmt: skip


@pytest.mark.parametrize("damage", ["missing part", "tampered part"])
def test_a_damaged_decision_is_not_reported_as_temporarily_unavailable(damage: str) -> None:
    rt = _runtime()
    text = '{"inputs": {}, "result": {}}'
    if damage == "tampered part":
        rt.store.commit("northwind", Changes(puts=[
            Put(decision_repository.PARTS, "dec_01JX0000000000000000000000#0000",
                {"decision_id": "dec_01JX0000000000000000000000", "text": text.replace("{}", "[]", 1)}),
        ]))  # fmt: skip
    with pytest.raises(RevgovError) as raised:
        decisions.whole(rt, "northwind", _head(text, 1))
    assert raised.value.status != 503, raised.value
