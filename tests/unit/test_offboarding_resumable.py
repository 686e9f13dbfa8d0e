"""Offboarding survives a failure halfway (red-team follow-up; services/offboarding.py).

The contract: API.md `DELETE /v1/tenants/{tenant_id}` "(offboard: export, then delete everything)"; the response
schema (tenant-offboarded): "every item exported, then deleted; ... `export`: Every item, for `revgov tenants
import`". Before the fix the export lived only in the response: when the platform's final commit failed after the
tenant's data was deleted, the caller got a 503 whose meaning is "nothing was half-done, retry" (edge/http.py
`unexpected`), the export was lost and a retry answered 404. Now the export is stored and an offboarding record
names it before anything is deleted; the 503 says what is true; a retry finishes and answers the same export.

Faults injected (the store's commit raising the botocore error DynamoDB throttling raises): the final platform
commit, the record's commit before any deletion, the deletion itself. Bad inputs tried: a repeated DELETE after
completion (the same answer, no second audit record), after the export expired (404 saying so), an unknown tenant
(404), a tenant provisioned again under the same id (a new offboarding, not the old answer).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from memory_store import memory_runtime
from revgov.domain.access import PLATFORM, Principal, Role
from revgov.domain.errors import NotFound, Unavailable
from revgov.edge import http
from revgov.ports import Changes, Delete
from revgov.services import offboarding, tenant_repository, tenants
from revgov.tenant_files import load_tenant_file
from support import ROOT

NOW = "2026-11-10T10:00:00.000Z"
OPERATOR = Principal(PLATFORM, Role.OPERATOR, "key_01JX0000000000000000000009")


def _throttled() -> ClientError:
    return ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "injected"}},
                       "TransactWriteItems")


def _failing(rt: Any, when: Callable[[str, Changes], bool], times: int = 1) -> list[int]:
    """The store's commit raises DynamoDB's throttling error for the first `times` commits `when` matches."""
    original, hits = rt.store.commit, [0]

    def commit(tenant_id: str, changes: Changes) -> Any:
        if hits[0] < times and when(tenant_id, changes):
            hits[0] += 1
            raise _throttled()
        return original(tenant_id, changes)

    rt.store.commit = commit
    return hits


def _finishing(tenant_id: str, changes: Changes) -> bool:
    return tenant_id == PLATFORM and any(d.collection == "TENANTS" for d in changes.deletes)


def _offboarded(rt: Any) -> list[dict[str, Any]]:
    return [r for r in rt.store.audit_records(PLATFORM) if r["action"] == "tenant.offboarded"]


def _what_the_tenant_holds(rt: Any) -> list[dict[str, Any]]:
    return sorted(({**i, "data": {"redacted": True}} if i["collection"] == "SECRET" else i
                   for i in rt.store.export_tenant("northwind")), key=lambda i: (i["collection"], i["key"]))


def test_a_failed_final_commit_answers_a_true_503_and_a_retry_finishes_with_the_same_export() -> None:
    rt, _ = memory_runtime(NOW)
    held = _what_the_tenant_holds(rt)
    hits = _failing(rt, _finishing)
    with pytest.raises(Unavailable) as failed:
        offboarding.offboard(rt, OPERATOR, "northwind")
    assert hits == [1] and failed.value.status == 503
    detail = failed.value.detail
    assert "export of" in detail and "kept until" in detail and "deleted" in detail and "repeat DELETE" in detail
    assert rt.store.export_tenant("northwind") == []  # the data is gone: the 503 does not pretend otherwise
    assert tenant_repository.listed(rt.store, "northwind") is not None and _offboarded(rt) == []
    finished = offboarding.offboard(rt, OPERATOR, "northwind")
    assert finished["export"] == held and finished["exported_items"] == len(held) > 0
    assert (finished["deleted_items"], finished["remaining_items"], finished["resumed"]) == (len(held), 0, True)
    assert finished["offboarding_id"] == failed.value.extra["offboarding_id"]
    assert tenant_repository.listed(rt.store, "northwind") is None and len(_offboarded(rt)) == 1
    again = offboarding.offboard(rt, OPERATOR, "northwind")  # the answer was lost too: the same one again
    assert again["export"] == held and again["offboarding_id"] == finished["offboarding_id"]
    assert len(_offboarded(rt)) == 1


def test_the_export_restores_the_tenant() -> None:
    rt, _ = memory_runtime(NOW)
    _failing(rt, _finishing)
    with pytest.raises(Unavailable):
        offboarding.offboard(rt, OPERATOR, "northwind")
    export = offboarding.offboard(rt, OPERATOR, "northwind")["export"]
    tenants.import_tenant(rt, OPERATOR, export)
    assert tenants.load_tenant(rt, "northwind")[0].tenant_id == "northwind"


def test_a_failure_before_anything_is_deleted_leaves_the_tenant_whole() -> None:
    rt, _ = memory_runtime(NOW)
    held = _what_the_tenant_holds(rt)
    _failing(rt, lambda tenant_id, changes: tenant_id == PLATFORM and any(
        p.collection == "OFFBOARDING" for p in changes.puts))
    with pytest.raises(ClientError) as failed:  # the edge's ordinary 503: nothing was deleted, which is true
        offboarding.offboard(rt, OPERATOR, "northwind")
    assert http.unexpected(failed.value).status == 503
    assert _what_the_tenant_holds(rt) == held
    assert offboarding.offboard(rt, OPERATOR, "northwind")["export"] == held


def test_a_failed_deletion_is_finished_by_the_retry() -> None:
    rt, _ = memory_runtime(NOW)
    held = _what_the_tenant_holds(rt)
    delete = rt.store.delete_tenant
    calls = [0]

    def half(tenant_id: str) -> int:
        calls[0] += 1
        if calls[0] == 1:
            rows = rt.store.export_tenant(tenant_id)[:5]  # some rows went, then the table throttled
            for row in rows:
                rt.store.commit(tenant_id, Changes(deletes=[_delete(row)]))
            raise _throttled()
        return delete(tenant_id)

    rt.store.delete_tenant = half
    with pytest.raises(Unavailable, match="repeat DELETE"):
        offboarding.offboard(rt, OPERATOR, "northwind")
    finished = offboarding.offboard(rt, OPERATOR, "northwind")
    assert finished["export"] == held and finished["remaining_items"] == 0 and finished["resumed"] is True


def _delete(row: dict[str, Any]) -> Delete:
    return Delete(row["collection"], row["key"])


def test_an_expired_export_and_an_unknown_tenant_are_404s_and_a_new_tenant_of_the_same_id_is_a_new_offboarding(
) -> None:
    rt, clock = memory_runtime(NOW)
    first = offboarding.offboard(rt, OPERATOR, "northwind")
    assert first["resumed"] is False
    with pytest.raises(NotFound):
        offboarding.offboard(rt, OPERATOR, "nobody")
    tenants.create_tenant(rt, OPERATOR, load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml"))
    second = offboarding.offboard(rt, OPERATOR, "northwind")
    assert second["offboarding_id"] != first["offboarding_id"] and second["resumed"] is False
    clock.advance(days=8)
    with pytest.raises(NotFound, match="expired"):
        offboarding.offboard(rt, OPERATOR, "northwind")
