"""The store contract, continued: lists of one partner's items inside a shared collection (a key prefix per partner,
as CASEWAIT's waiting pointers `<partner>#<case>` are read), run unchanged on every backend (SQLite, in memory,
DynamoDB on moto).

The team's standard: "A partner key may read only its own objects; a rival's id is a 404", so a cursor minted for one
partner's list must not page through another's. API.md: "Lists: `?limit=` (max 200) and `?cursor=`; responses
`{"items": [...], "next_cursor": ...}`", one contract whatever the engine (DESIGN.md, "Two engines behind the same
ports"): a list ends with the same page on every backend. DynamoDB returns a LastEvaluatedKey whenever a page is full,
even when nothing follows, where the embedded engine knows there is no next page; a client must not see, on one engine
only, a cursor that leads to an empty page.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from test_store_contract import BACKENDS, dynamodb_endpoint, make_store  # noqa: F401  (the DynamoDB fixture)

from revgov.adapters.store_base import BaseDocumentStore
from revgov.adapters.system import RandomIds, SystemClock
from revgov.domain.errors import MalformedRequest
from revgov.ports import Changes, Put

A = "ptr_01JBNWPARTNER0000000000001"
B = "ptr_01JBNWPARTNER0000000000002"


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BaseDocumentStore:
    return make_store(request.param, tmp_path, request, SystemClock(), RandomIds(SystemClock()))


def tenant() -> str:
    return f"cl-{uuid.uuid4().hex[:10]}"


def _pages(store: BaseDocumentStore, t: str, prefix: str, limit: int, *, index: bool = False) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        read = store.lookup if index else store.query
        page = read(t, "WAITLIST#open" if index else "WAITLIST", limit=limit, cursor=cursor, prefix=prefix)
        pages.append([item.key for item in page.items])
        cursor = page.next_cursor
        if not cursor:
            return pages


def _fill(store: BaseDocumentStore, t: str, per_partner: int) -> None:
    store.commit(t, Changes(puts=[
        Put("WAITLIST", f"{partner}#case{i:02d}", {"partner_id": partner, "i": i},
            lookup=("WAITLIST#open", f"{partner}#case{i:02d}"))
        for partner in (A, B) for i in range(per_partner)
    ]))


def test_a_partners_cursor_pages_its_own_items_only_and_is_refused_for_another_partner(store):
    t = tenant()
    _fill(store, t, 5)
    first = store.query(t, "WAITLIST", limit=2, prefix=f"{A}#")
    assert [item.key for item in first.items] == [f"{A}#case00", f"{A}#case01"] and first.next_cursor
    with pytest.raises(MalformedRequest):
        store.query(t, "WAITLIST", limit=2, cursor=first.next_cursor, prefix=f"{B}#")
    indexed = store.lookup(t, "WAITLIST#open", limit=2, prefix=f"{A}#")
    with pytest.raises(MalformedRequest):
        store.lookup(t, "WAITLIST#open", limit=2, cursor=indexed.next_cursor, prefix=f"{B}#")
    for index in (False, True):
        paged = [key for page in _pages(store, t, f"{B}#", 2, index=index) for key in page]
        assert paged == [f"{B}#case{i:02d}" for i in range(5)]


@pytest.mark.parametrize("index", [False, True], ids=["table", "index"])
def test_a_list_that_fills_its_last_page_exactly_ends_there_on_every_backend(store, index):
    """Four items of A's, pages of two: two pages, the second without a cursor; B's items after A's never count."""
    t = tenant()
    _fill(store, t, 4)
    assert _pages(store, t, f"{A}#", 2, index=index) == [[f"{A}#case00", f"{A}#case01"], [f"{A}#case02", f"{A}#case03"]]
    assert _pages(store, t, f"{A}#", 4, index=index) == [[f"{A}#case{i:02d}" for i in range(4)]]
    assert _pages(store, t, "", 8, index=index) == [[f"{p}#case{i:02d}" for p in (A, B) for i in range(4)]]
