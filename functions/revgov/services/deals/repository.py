"""Deal registrations as stored: the registrations (`DEAL`), each partner's pointers to its own (`DEALBYPARTNER`), the
lock that makes "first approved wins" atomic per customer and family (`DEALLOCK`), and the per-opportunity queue of
pending registrations in order of submission (`DEALQUEUE`, PA-5.5, read consistently). No other module spells these
collections."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ...domain import deals
from ...domain.errors import NotFound
from ...ports import Page, Put, Stored
from ...runtime import Runtime
from ..toolkit import lookup_pages, pages, put_over

DEALS = "DEAL"
LOCKS = "DEALLOCK"  # customer#family -> the live registration: makes "first approved wins" atomic
QUEUES = "DEALQUEUE"  # customer#family -> the pending registrations in order of submission (PA-5.5, read consistently)
# partner#deal id -> the registration's id: a partner's list pages through its own registrations only, so neither its
# pages nor its cursors ever stand on another partner's (PA-11.1)
BY_PARTNER = "DEALBYPARTNER"
QUEUE_RACE = "another registration for this customer and family was submitted or decided meanwhile; retry"

Queue = list[dict[str, Any]]


def customer_key(customer_id: str) -> str:
    """The customer as opportunities are keyed: its tax or company registration number (PA-5.2) read without regard
    to case, so `de123456789` is the customer `DE123456789` is (PA-5.4: one approved registration per Customer)."""
    return customer_id.upper()


def opportunity_key(customer_id: str, family: str) -> str:
    return f"{customer_key(customer_id)}#{family}"


def _opportunity(deal: dict[str, Any]) -> str:
    return opportunity_key(deals.registered_customer(deal["customer"]), deal["family"])


def deal_put(deal: dict[str, Any], *, version: int | None) -> Put:
    lookup = (f"{DEALS}#{_opportunity(deal)}", f"{deal['registered_at']}#{deal['deal_id']}")
    return Put(
        DEALS,
        deal["deal_id"],
        deal,
        lookup=lookup,
        must_be_absent=version is None,
        expected_version=version,
        conflict_detail=f"deal registration {deal['deal_id']} changed meanwhile",
    )


def deal_puts(deal: dict[str, Any], *, version: int | None) -> list[Put]:
    """The registration written (as `deal_put`) with its partner's pointer to it (written again with every change,
    so a registration stored before the pointers existed gets its own at its next change)."""
    return [deal_put(deal, version=version), pointer_put(deal)]


def find(rt: Runtime, tenant_id: str, deal_id: str) -> Stored | None:
    return rt.store.get(tenant_id, DEALS, deal_id)


def load(rt: Runtime, tenant_id: str, deal_id: str) -> Stored:
    stored = find(rt, tenant_id, deal_id)
    if stored is None:
        raise NotFound(f"no deal registration {deal_id}")
    return stored


def every(rt: Runtime, tenant_id: str) -> Iterator[Stored]:
    return pages(rt.store, tenant_id, DEALS)


def page(rt: Runtime, tenant_id: str, *, limit: int, cursor: str | None) -> Page:
    return rt.store.query(tenant_id, DEALS, limit=limit, cursor=cursor)


def partner_page(rt: Runtime, tenant_id: str, partner_id: str, *, limit: int, cursor: str | None) -> Page:
    """One partner's registrations in id order, through its pointers: no other partner's is read, and a cursor
    outside its own pointers is refused by the store."""
    pointers = rt.store.query(tenant_id, BY_PARTNER, limit=limit, cursor=cursor, prefix=f"{partner_id}#")
    refs = [(tenant_id, DEALS, str(p.data["deal_id"])) for p in pointers.items]
    found = rt.store.get_many(refs) if refs else {}
    return Page([found[ref] for ref in refs if ref in found], pointers.next_cursor)


# --- the lock: the registration that holds the opportunity --------------------------------------------------------
def customers(customer: dict[str, Any]) -> list[str]:
    """Every Customer a registration stands on, as keyed: the group it counts as (PA-5.4 / CPA-5.3,
    `deals.registered_customer`) first, then the company itself. Grouping affiliates widens who counts as the
    registered Customer; it never makes the company someone else, so a registration of a company conflicts with one
    of the same company under any group, claimed or not (PA-5.4: "Only one approved registration may exist for a
    given Customer and Product Family at any time")."""
    return list(dict.fromkeys(customer_key(c) for c in (deals.registered_customer(customer), str(customer["id"]))))


def lock_of(rt: Runtime, tenant_id: str, customer_id: str, family: str) -> Stored | None:
    return rt.store.get(tenant_id, LOCKS, opportunity_key(customer_id, family))


def locks_of(rt: Runtime, tenant_id: str, customer: dict[str, Any], family: str) -> dict[str, Stored | None]:
    """The lock of each opportunity the customer stands on (`customers`), by opportunity key, in one read."""
    refs = [(tenant_id, LOCKS, opportunity_key(c, family)) for c in customers(customer)]
    found = rt.store.get_many(refs)
    return {ref[2]: found.get(ref) for ref in refs}


def held_locks(rt: Runtime, tenant_id: str, deal: dict[str, Any]) -> list[Stored]:
    """The locks this registration holds (one per opportunity it stands on; one for a registration approved before
    registrations stood on more than one)."""
    found = locks_of(rt, tenant_id, deal["customer"], deal["family"]).values()
    return [lock for lock in found if lock is not None and lock.data["deal_id"] == deal["deal_id"]]


def lock_taken(deal: dict[str, Any], lock_versions: dict[str, int | None]) -> list[Put]:
    """The approved registration takes each opportunity it stands on, if each lock is as read (absent, or at its
    version in `lock_versions`, by opportunity key)."""
    return [
        Put(
            LOCKS,
            key,
            deal,
            must_be_absent=version is None,
            expected_version=version,
            conflict_detail="another registration for this customer and family was approved first; retry",
        )
        for key, version in lock_versions.items()
    ]


def lock_changed(lock: Stored, **fields: Any) -> Put:
    return Put(LOCKS, lock.key, {**lock.data, **fields}, expected_version=lock.version)


# --- the pending queues (PA-5.5 / CPA-5.4), one per opportunity a registration stands on -----------------------------
Queues = dict[str, Stored | None]  # opportunity key -> its queue as read (None: none stored)


def queues_of(rt: Runtime, tenant_id: str, deal: dict[str, Any]) -> Queues:
    refs = [(tenant_id, QUEUES, opportunity_key(c, deal["family"])) for c in customers(deal["customer"])]
    found = rt.store.get_many(refs)
    return {ref[2]: found.get(ref) for ref in refs}


def same_opportunity(rt: Runtime, tenant_id: str, deal: dict[str, Any], queues: Queues) -> Queue:
    """The pending registrations for the deal's customer and family, read consistently from the per-opportunity
    queue items (the lookup index is eventually consistent on DynamoDB: a registration submitted a moment earlier
    could be missing from it). An opportunity registered before its queue existed has none: its lookup is read."""
    found: dict[str, dict[str, Any]] = {}
    for key, queue in queues.items():
        for entry in list(queue.data["pending"]) if queue is not None else _indexed(rt, tenant_id, key):
            found.setdefault(entry["deal_id"], entry)
    return list(found.values())


def _indexed(rt: Runtime, tenant_id: str, key: str) -> Queue:
    """Every registration for an opportunity key by the lookup's submission order (not read-consistent)."""
    partition = f"{DEALS}#{key}"
    return [item.data for item in lookup_pages(rt.store, tenant_id, partition, page_size=100)]


_UNREAD: Any = object()


def queue_puts(
    rt: Runtime, tenant_id: str, deal: dict[str, Any], change: Callable[[Queue], Queue], stored: Any = _UNREAD
) -> list[Put]:
    """Each pending queue of the deal's opportunities after `change`, conditional on the version read (so two
    registrations, or a registration and a decision, for one customer and family serialize). Created from the
    lookup when missing."""
    queues: Queues = queues_of(rt, tenant_id, deal) if stored is _UNREAD else stored
    puts = []
    for key, queue in queues.items():
        if queue is None:
            current = [deals.queue_entry(d) for d in _indexed(rt, tenant_id, key)
                       if d["status"] == deals.PENDING and d["deal_id"] != deal["deal_id"]]  # fmt: skip
        else:
            current = list(queue.data["pending"])
        customer = key[: -len(deal["family"]) - 1]  # the key is customer#family
        record = {"customer_id": customer, "family": deal["family"], "pending": change(current)}
        puts.append(put_over(QUEUES, key, record, queue, conflict_detail=QUEUE_RACE))
    return puts


# --- the partner pointers of registrations stored before they existed ---------------------------------------------
def pointer_key(deal: dict[str, Any]) -> str:
    return f"{deal['partner_id']}#{deal['deal_id']}"


def pointer_put(deal: dict[str, Any]) -> Put:
    """The partner's pointer to its registration (unconditional: writing it twice is writing it once)."""
    return Put(BY_PARTNER, pointer_key(deal), {"deal_id": deal["deal_id"]})


def missing_pointers(rt: Runtime, tenant_id: str, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The registrations of `batch` whose partner pointer is not stored."""
    refs = [(tenant_id, BY_PARTNER, pointer_key(deal)) for deal in batch]
    found = rt.store.get_many(refs) if refs else {}
    return [deal for deal, ref in zip(batch, refs, strict=True) if ref not in found]


BACKFILLED = "DEALPOINTERS"  # "done" -> the pointer backfill ran to its end for this tenant (later starts skip it)


def pointers_backfilled(rt: Runtime, tenant_id: str) -> bool:
    return rt.store.get(tenant_id, BACKFILLED, "done") is not None


def backfilled_marker(at: str, scanned: int) -> Put:
    return Put(BACKFILLED, "done", {"at": at, "scanned": scanned})
