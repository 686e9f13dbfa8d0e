"""Reading and verifying a tenant's audit chain."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

from ..domain import audit_view
from ..domain.access import Principal, Role
from ..domain.audit import ChainWalk
from ..domain.errors import FieldError, Forbidden, MalformedRequest, NotFound
from ..runtime import Runtime
from . import audit_backfill, audit_pointers, copilot_transcripts, partner_repository

KNOWN_RECORDS_CAP = 200_000  # records whose verdict is kept per process (~40 MB at most)


def verify_chain(rt: Runtime, tenant_id: str) -> dict[str, Any]:
    """Verify a live chain: writers may append while it is walked. The head is read after the walk, so it covers
    every record walked (a record and the head move in one transaction); records appended after the walk passed
    the end are read up to that head. A record the head does not cover, or a head beyond the records, is invalid.

    Every call walks the whole chain from its first record and reads every record's stored text (an edit of an old
    record is found whenever it was made). A record whose text, at its place, is byte for byte one this process has
    already found to hold is not decoded and hashed again (`ChainWalk.known`: the verdict is the same, by the SHA-256
    of that text and place); any other is checked in full. Callers who ask about the same chain while a walk has not
    yet read its head share that walk: its head read follows each of their arrivals, so its answer covers every
    record appended before any of them asked.

    `pointers`: each partner's audit pointers checked against the records walked (services.audit_pointers): a
    missing pointer, one reaching another partner's record, or a stray one. `valid` stays the chain's own verdict."""
    return _WALKS.share((id(rt.store), tenant_id), lambda head_read: _walk(rt, tenant_id, head_read))


def _walk(rt: Runtime, tenant_id: str, head_read: Callable[[], None]) -> dict[str, Any]:
    walk = ChainWalk(known=_KNOWN.records)
    for text in rt.store.iter_audit_texts(tenant_id):
        walk.add_text(text)
    head_read()
    head = rt.store.audit_head(tenant_id)
    while walk.first_invalid is None and walk.last_seq < head[0]:
        before = walk.count
        for text in rt.store.iter_audit_texts(tenant_id, after_seq=walk.last_seq):
            if walk.first_invalid is not None or walk.last_seq >= head[0]:
                break
            walk.add_text(text)
        if walk.count == before:
            break
    _KNOWN.keep(walk.learned)
    return {**walk.result(head).as_dict(), "pointers": audit_pointers.check_pointers(rt, tenant_id, walk.named)}


class _KnownRecords:
    """The records this process found to hold (`ChainWalk.known`), at most `cap` of them (the oldest are forgotten
    first: they are then checked in full again). About 200 bytes each."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.records: dict[bytes, bytes] = {}
        self._lock = threading.Lock()

    def keep(self, learned: dict[bytes, bytes]) -> None:
        if not learned:
            return
        with self._lock:
            self.records.update(learned)
            excess = len(self.records) - self.cap
            if excess > 0:
                for place in list(itertools.islice(self.records, excess)):
                    del self.records[place]


_KNOWN = _KnownRecords(KNOWN_RECORDS_CAP)


class _Flight:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.joinable = True  # until the walk reads the head
        self.answer: dict[str, Any] | None = None
        self.error: BaseException | None = None


class _SharedWalks:
    """One walk per chain at a time for the callers that arrive before it reads its head (single flight)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flights: dict[tuple[int, str], _Flight] = {}

    def share(self, key: tuple[int, str], walk: Callable[[Callable[[], None]], dict[str, Any]]) -> dict[str, Any]:
        with self._lock:
            flight = self._flights.get(key)
            if flight is None or not flight.joinable:
                flight = self._flights[key] = _Flight()
                leading = True
            else:
                leading = False
        if leading:
            return self._lead(key, flight, walk)
        flight.done.wait()
        if flight.error is not None:
            raise flight.error
        return _copy(flight.answer or {})

    def _lead(self, key: tuple[int, str], flight: _Flight,
              walk: Callable[[Callable[[], None]], dict[str, Any]]) -> dict[str, Any]:
        def head_read() -> None:
            with self._lock:  # from here on a new caller starts a walk of its own
                flight.joinable = False

        try:
            flight.answer = walk(head_read)
            return _copy(flight.answer)
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._lock:
                flight.joinable = False
                if self._flights.get(key) is flight:
                    del self._flights[key]
            flight.done.set()


def _copy(answer: dict[str, Any]) -> dict[str, Any]:
    """Each caller its own answer (the response layer may change it)."""
    invalid, pointers = answer["first_invalid"], answer["pointers"]
    return {**answer, "first_invalid": dict(invalid) if invalid is not None else None,
            "pointers": {**pointers, "problems": [dict(p) for p in pointers["problems"]]}}


_WALKS = _SharedWalks()


def list_records(
    rt: Runtime, tenant_id: str, *, subject: str | None, limit: int, cursor: str | None, partner_id: str | None = None
) -> dict[str, Any]:
    """The chain oldest first, the records about `subject`, or the records concerning partner `partner_id` (PA-12.1,
    through its own index); cursors are the store's, fenced to the tenant and to the list they were minted for. A
    `copilot.asked` record shows its transcript (`transcript`: the text in full, masked or erased), outside the
    sealed record: `hash` covers the transcript's id and digests, never the text a retention sweep may erase."""
    if partner_id:
        page = rt.store.audit_by_partner(tenant_id, partner_id, limit=limit, cursor=cursor)
        known: dict[str, str | None] = {}  # a pointer is an ordinary item: only the records it concerns are listed
        items = [item.data for item in page.items
                 if audit_backfill.record_partner(rt, tenant_id, item.data, known) == partner_id]  # fmt: skip
    else:
        if subject:
            page = rt.store.audit_by_subject(tenant_id, subject, limit=limit, cursor=cursor)
        else:
            page = rt.store.audit_page(tenant_id, limit=limit, cursor=cursor)
        items = [item.data for item in page.items]
    # a copilot answer's question and answer are kept apart from its record (docs/retention.md): shown beside it
    return {"items": copilot_transcripts.attach(rt.store, tenant_id, items), "next_cursor": page.next_cursor}


def list_for(
    rt: Runtime, who: Principal, *, subject: str | None, partner_id: str | None, limit: int, cursor: str | None
) -> dict[str, Any]:
    """`GET /v1/audit` as `who` may read it. Staff: the chain, one subject's records, or one partner's (a partner the
    tenant does not have is a 404). A partner key (PA-12.1 / CPA-12.1 "provides the Partner, on request, with the
    records relating to the Partner"): its own partner's records only, whether or not it names itself; another
    partner's id is a 404 as if it did not exist; each record masked as `audit_view.partner_view` says, an agent's
    left out (`audit_view.shown_to_partner`)."""
    if subject and partner_id:
        raise MalformedRequest(
            "give subject or partner_id, not both",
            errors=[FieldError("/query/partner_id", "not together with subject")],
        )
    if who.role is Role.PARTNER:
        if subject or not who.partner_id:
            raise Forbidden("a partner key reads the records relating to its own partner only (partner_id)")
        if partner_id not in (None, who.partner_id):
            raise NotFound(f"no partner {partner_id}")
        page = list_records(rt, who.tenant_id, subject=None, partner_id=who.partner_id, limit=limit, cursor=cursor)
        shown = [audit_view.partner_view(r, who.partner_id) for r in page["items"] if audit_view.shown_to_partner(r)]
        return {**page, "items": shown}  # a page may hold fewer than `limit`: an agent's records are left out
    if partner_id and not partner_repository.exists(rt.store, who.tenant_id, partner_id):
        raise NotFound(f"no partner {partner_id}")
    return list_records(rt, who.tenant_id, subject=subject, partner_id=partner_id, limit=limit, cursor=cursor)
