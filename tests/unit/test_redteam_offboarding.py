"""Red team: a half-offboarded tenant must not act (services/offboarding.py).

API.md: `DELETE /v1/tenants/{tenant_id}` "(offboard: export, then delete everything)"; the response schema
(tenant-offboarded): "every item exported, then deleted". The OpenAPI's `POST /v1/tenants/{id}/suspend`: "Suspend a
tenant: its keys get 403"; services/erp.py accepts ERP events only for an active tenant. An offboarding that failed
after its record was written answers a 503 saying the data "may be partly or wholly deleted already" and is finished
by a repeated DELETE — possibly much later. Before the fix the tenant stayed open in between: its API keys
authenticated, its ERP webhook accepted signed events, and what they wrote after the export was taken was then
deleted without ever being exported (or left behind as `remaining_items`), on a tenant whose data was partly gone
(its audit chain among it).

Fault injected: the store's bulk deletion raising DynamoDB's throttling error, before any row and after some rows.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from memory_store import memory_runtime
from revgov.domain import webhooks
from revgov.domain.access import PLATFORM, Principal, Role
from revgov.domain.errors import Conflict, Forbidden, RevgovError, Unauthenticated, Unavailable
from revgov.ports import Changes, Delete
from revgov.services import erp, keys, offboarding, tenant_repository, tenants
from revgov.tenant_files import load_tenant_file
from support import ROOT

NOW = "2026-11-10T10:00:00.000Z"
OPERATOR = Principal(PLATFORM, Role.OPERATOR, "key_01JX0000000000000000000009")


def _throttled() -> ClientError:
    return ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "injected"}},
                       "BatchWriteItem")


def _deletion_fails(rt: Any, rows_first: int) -> None:
    """The first bulk deletion deletes `rows_first` rows (in store order), then the table throttles."""
    delete, calls = rt.store.delete_tenant, [0]

    def failing(tenant_id: str) -> int:
        calls[0] += 1
        if calls[0] == 1:
            for row in rt.store.export_tenant(tenant_id)[:rows_first]:
                rt.store.commit(tenant_id, Changes(deletes=[Delete(row["collection"], row["key"])]))
            raise _throttled()
        return int(delete(tenant_id))

    rt.store.delete_tenant = failing


def _signed(rt: Any) -> tuple[str, bytes]:
    stored = tenant_repository.webhook_secrets(rt.store, "northwind")
    secret = webhooks.current_secrets(stored.data["secrets"], NOW)[0]
    body = json.dumps({"id": "ERP-1", "type": "shipment.confirmed"}).encode()
    return webhooks.signature_header(secret, rt.clock.now_ms() // 1000, body), body


@pytest.mark.parametrize("rows_first", [0, 3])
def test_a_tenant_whose_offboarding_failed_halfway_can_no_longer_act(rows_first: int) -> None:
    rt, _ = memory_runtime(NOW)
    admin = keys.create_key(rt, OPERATOR, "northwind", Role.ADMIN, None, "tenant admin")["key"]
    assert keys.authenticate(rt, f"Bearer {admin}").tenant_id == "northwind"  # open before
    signature, body = _signed(rt)
    assert erp.authenticate(rt, "northwind", signature, body).tenant_id == "northwind"
    _deletion_fails(rt, rows_first)
    with pytest.raises(Unavailable, match="repeat DELETE"):
        offboarding.offboard(rt, OPERATOR, "northwind")
    # the operator was told the data may be partly deleted and DELETE is to be repeated: until it is, the tenant's
    # keys and its ERP webhook are refused as for a tenant that is not active (never served on half its data)
    with pytest.raises((Unauthenticated, Forbidden)):
        keys.authenticate(rt, f"Bearer {admin}")
    with pytest.raises((Unauthenticated, Forbidden)):
        erp.authenticate(rt, "northwind", signature, body)
    finished = offboarding.offboard(rt, OPERATOR, "northwind")
    assert finished["remaining_items"] == 0 and finished["resumed"] is True
    assert any(i["collection"] == "KEY" for i in finished["export"])  # its keys were exported before they closed


def test_a_failure_before_the_record_still_leaves_the_tenant_whole_and_open() -> None:
    """The other side: nothing recorded, nothing deleted (the ordinary 503 is true), so nothing is closed either."""
    rt, _ = memory_runtime(NOW)
    admin = keys.create_key(rt, OPERATOR, "northwind", Role.ADMIN, None, "tenant admin")["key"]
    original = rt.store.commit

    def commit(tenant_id: str, changes: Changes) -> Any:
        if tenant_id == PLATFORM and any(p.collection == "OFFBOARDING" for p in changes.puts):
            raise _throttled()
        return original(tenant_id, changes)

    rt.store.commit = commit
    with pytest.raises(ClientError):
        offboarding.offboard(rt, OPERATOR, "northwind")
    try:
        assert keys.authenticate(rt, f"Bearer {admin}").tenant_id == "northwind"
    except RevgovError as refused:  # pragma: no cover - the assertion's message
        raise AssertionError(f"a tenant nothing was deleted of was closed: {refused}") from None


def test_no_tenant_is_provisioned_over_one_whose_offboarding_has_not_finished() -> None:
    """A tenant provisioned under the id of a half-deleted one would be mixed with what is left of it, and the resumed
    DELETE would take it for a tenant provisioned again (a new offboarding over the old record, whose export is then
    no longer named). API.md: DELETE "(offboard: export, then delete everything)" — the id is free once that is done."""
    rt, _ = memory_runtime(NOW)
    _deletion_fails(rt, 3)
    with pytest.raises(Unavailable, match="repeat DELETE"):
        offboarding.offboard(rt, OPERATOR, "northwind")
    config = load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml")
    with pytest.raises(Conflict) as refused:
        tenants.create_tenant(rt, OPERATOR, config)
    assert "DELETE /v1/tenants/northwind" in refused.value.detail
    export = rt.store.export_tenant("northwind")  # what is left, as an export would hold it: not restored over itself
    with pytest.raises(Conflict) as not_over_it:
        tenants.import_tenant(rt, OPERATOR, [*export, *_a_profile()])
    assert "being offboarded" in not_over_it.value.detail
    finished = offboarding.offboard(rt, OPERATOR, "northwind")
    assert finished["remaining_items"] == 0 and finished["resumed"] is True
    assert tenants.create_tenant(rt, OPERATOR, config)["tenant"]["tenant_id"] == "northwind"  # free once finished


def _a_profile() -> list[dict[str, Any]]:
    """A TENANT/PROFILE item as an export holds one (the closed tenant's own profile is gone)."""
    rt, _ = memory_runtime(NOW)
    return [i for i in rt.store.export_tenant("northwind") if tenant_repository.is_profile(i)]
