"""Approvals and exceptions in the store: the one module that names the case collection (`CASE`, each case listed under
`CASE#<kind>#<status>` sorted by `<queue>#<due at>#<case id>`) and hands back the records as `Case` entities.

An item waiting on its partner also has a pointer in `CASEWAIT` under `<partner id>#<case id>`, so the partner's
waiting items are read without going through every waiting item of the tenant (`GET /v1/waiting`).

A case about a partner has a pointer in `CASEOPEN` under `<partner id>#<case id>` from its opening to its decision, so
the partner's undecided cases are read without going through every undecided case of the tenant (the performance
summary). `CASEOPEN/#complete` says every undecided case of the tenant has its pointer: written when the tenant is
provisioned, or by `revgov maintenance backfill-open-pointers` for a tenant whose cases came before the pointers;
until then the partner's undecided cases are read as before, the tenant's filtered (`undecided_of`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, cast

from ..domain import sla_pause
from ..domain.cases import Case
from ..domain.errors import NotFound
from ..ports import Delete, DocumentStore, Page, Put, Stored
from .toolkit import lookup_pages, pages

CASES = "CASE"
WAITING_POINTERS = "CASEWAIT"  # <partner id>#<case id> -> {partner_id, kind, case_id, since}
UNDECIDED_POINTERS = "CASEOPEN"  # <partner id>#<case id> -> {partner_id, kind, case_id}, while the case is undecided
POINTERS_COMPLETE = "#complete"  # in CASEOPEN (no partner id starts with "#"): every undecided case has its pointer


def _listed(kind: str, status: str) -> str:
    """The lookup partition of the cases of `kind` in `status`."""
    return f"{CASES}#{kind}#{status}"


def entity(data: Mapping[str, Any]) -> Case:
    """A case as read from the store (or handed to an effect) as the entity it was written as."""
    return cast(Case, dict(data))


def read(store: DocumentStore, tenant_id: str, case_id: str) -> Stored | None:
    """A case of any kind as stored (its data and version), for callers that read it field by field; None if this
    tenant has no such case."""
    return store.get(tenant_id, CASES, case_id)


def load(store: DocumentStore, tenant_id: str, kind: str, case_id: str) -> tuple[Case, int]:
    """The case of that kind and its version; NotFound if this tenant has no such case, or one of the other kind."""
    stored = read(store, tenant_id, case_id)
    if stored is None or stored.data["kind"] != kind:
        raise NotFound(f"no {kind} {case_id}")
    return cast(Case, stored.data), stored.version


def put(case: Case, *, version: int | None) -> Put:
    """Write `case` (new when `version` is None, else over that version), listed under its kind and status, in its
    queue by due time."""
    case_id = case["case_id"]
    return Put(
        CASES,
        case_id,
        cast(dict[str, Any], case),  # the case itself, as the use case built it
        lookup=(_listed(case["kind"], case["status"]), f"{case['queue']}#{case['due_at']}#{case_id}"),
        must_be_absent=version is None,
        expected_version=version,
        conflict_detail=f"{case['kind']} {case_id} changed meanwhile; read it again",
    )


def page_by_status(
    store: DocumentStore, tenant_id: str, kind: str, status: str, *, queue: str | None, limit: int, cursor: str | None
) -> Page:
    """One page of the cases of `kind` in `status` (in `queue`), by queue, due time and id."""
    prefix = f"{queue}#" if queue else ""
    return store.lookup(tenant_id, _listed(kind, status), limit=limit, cursor=cursor, prefix=prefix)


def by_status(store: DocumentStore, tenant_id: str, kind: str, status: str) -> Iterator[Case]:
    """Every case of `kind` in `status`, page by page, by queue, due time and id."""
    return (cast(Case, item.data) for item in lookup_pages(store, tenant_id, _listed(kind, status)))


def every(store: DocumentStore, tenant_id: str) -> Iterator[Case]:
    """Every case of the tenant, of both kinds, in id order, page by page."""
    return (cast(Case, item.data) for item in pages(store, tenant_id, CASES))


def _waiting_key(partner_id: str, case_id: str) -> str:
    return f"{partner_id}#{case_id}"


def waiting_pointer(case: Case) -> Put:
    """The pointer listing `case` (now waiting on its partner) under its partner."""
    partner_id = str(case["partner_id"])
    data = {"partner_id": partner_id, "kind": case["kind"], "case_id": case["case_id"],
            "since": case["waiting"]["since"]}  # fmt: skip
    return Put(WAITING_POINTERS, _waiting_key(partner_id, case["case_id"]), data)


def drop_waiting_pointer(case: Case) -> Delete:
    """Remove the pointer of `case`, which no longer waits on its partner."""
    return Delete(WAITING_POINTERS, _waiting_key(str(case["partner_id"]), case["case_id"]))


def waiting_on(store: DocumentStore, tenant_id: str, partner_id: str) -> Iterator[Case]:
    """Every item waiting on the partner, page by page through its pointers (`page_waiting`)."""
    cursor = None
    while True:
        found, cursor = page_waiting(store, tenant_id, partner_id, limit=100, cursor=cursor)
        yield from found
        if not cursor:
            return


def page_waiting(
    store: DocumentStore, tenant_id: str, partner_id: str, *, limit: int, cursor: str | None
) -> tuple[list[Case], str | None]:
    """One page of the partner's items waiting on it, by case id, and the next cursor. A pointer whose case was
    decided meanwhile (a decision ends the wait, `domain.cases`) is skipped, so a page may hold fewer than `limit`."""
    page = store.query(tenant_id, WAITING_POINTERS, limit=limit, cursor=cursor, prefix=f"{partner_id}#")
    refs = [(tenant_id, CASES, str(item.data["case_id"])) for item in page.items]
    found = store.get_many(refs)
    cases = [cast(Case, found[ref].data) for ref in refs if ref in found]
    return [c for c in cases if c["status"] == sla_pause.WAITING and c.get("partner_id") == partner_id], \
        page.next_cursor  # fmt: skip


def undecided_pointer(case: Case) -> Put:
    """The pointer listing `case` (just opened about its partner) among its partner's undecided cases."""
    partner_id = str(case["partner_id"])
    data = {"partner_id": partner_id, "kind": case["kind"], "case_id": case["case_id"]}
    return Put(UNDECIDED_POINTERS, _waiting_key(partner_id, case["case_id"]), data)


def drop_undecided_pointer(case: Case) -> Delete:
    """Remove the pointer of `case`, decided now. (A case a watcher closes keeps it: `undecided_of` skips it.)"""
    return Delete(UNDECIDED_POINTERS, _waiting_key(str(case["partner_id"]), case["case_id"]))


def pointers_complete(tenant_id: str | None = None) -> Put:
    """The mark that every undecided case of the tenant has its `CASEOPEN` pointer (`tenant_id`: written from the
    platform's partition, at provisioning)."""
    return Put(UNDECIDED_POINTERS, POINTERS_COMPLETE, {"complete": True}, tenant_id=tenant_id)


def undecided_of(store: DocumentStore, tenant_id: str, partner_id: str) -> list[Case]:
    """Every undecided case about the partner: open (pending) in its queue or waiting on the partner. Read through the
    partner's own pointers, a page of up to 100 at a time and its cases in one batch, so the reads grow with the
    partner's cases, not the tenant's; a pointer whose case was decided meanwhile is skipped. In a tenant whose
    pointers are not yet complete (cases opened before them, not backfilled): the tenant's open and pending cases
    filtered, and those waiting on the partner through `CASEWAIT`, as before the pointers."""
    if store.get(tenant_id, UNDECIDED_POINTERS, POINTERS_COMPLETE) is None:
        opened = [case for kind in ("exception", "approval") for case in by_status(store, tenant_id, kind,
                                                                                   sla_pause.OPEN[kind])
                  if case.get("partner_id") == partner_id]  # fmt: skip
        return [*opened, *waiting_on(store, tenant_id, partner_id)]
    found: list[Case] = []
    cursor = None
    while True:
        page = store.query(tenant_id, UNDECIDED_POINTERS, limit=100, cursor=cursor, prefix=f"{partner_id}#")
        refs = [(tenant_id, CASES, str(item.data["case_id"])) for item in page.items]
        stored = store.get_many(refs) if refs else {}
        cases = [cast(Case, stored[ref].data) for ref in refs if ref in stored]
        found.extend(c for c in cases if c.get("partner_id") == partner_id
                     and c["status"] in (sla_pause.OPEN[c["kind"]], sla_pause.WAITING))  # fmt: skip
        cursor = page.next_cursor
        if not cursor:
            return found
