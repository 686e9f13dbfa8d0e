"""The offboarding's fence (services/offboarding._fence): the tenant's tombstone, put before its export is taken.

docs/tenants.md (from the README): offboarding is "export, then delete everything, then prove nothing is left"; the
export "names" what was
deleted and `revgov tenants import` restores it (API.md: "`DELETE /v1/tenants/{tenant_id}` (offboard: export, then
delete everything)"). So a write racing the offboarding must land either in the export or nowhere: once the fence
stands the store refuses it (`TenantOffboarded`, a 409 for an API caller), so the export is the tenant's last state.
An offboarding that fails before it stored or deleted anything lifts the fence: the tenant works on as before
(test_offboarding_resumable: "a failure before anything is deleted leaves the tenant whole"). Issue #16: the id
provisioned again after an offboarding writes as any tenant.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from test_offboarding_resumable import NOW, OPERATOR, _failing

from memory_store import memory_runtime
from revgov.domain.access import PLATFORM
from revgov.domain.errors import TenantOffboarded
from revgov.ports import TOMBSTONE, Changes, Delete, Put
from revgov.services import offboarding, tenants
from revgov.tenant_files import load_tenant_file
from support import ROOT

LATE = Put("THING", "late", {"written": "after the fence"})


def test_a_write_racing_the_export_is_refused_and_the_export_is_the_tenants_last_state() -> None:
    rt, _ = memory_runtime(NOW)
    export, refused = rt.store.export_tenant, []

    def exported_after_a_late_write(tenant_id: str) -> list[dict[str, Any]]:
        if tenant_id == "northwind" and not refused:
            with pytest.raises(TenantOffboarded) as late:
                rt.commit("northwind", Changes(puts=[LATE]))
            refused.append(late.value)
        return export(tenant_id)

    rt.store.export_tenant = exported_after_a_late_write
    answer = offboarding.offboard(rt, OPERATOR, "northwind")
    assert refused and refused[0].status == 409 and refused[0].extra == {"tenant_id": "northwind"}
    assert ("THING", "late") not in {(i["collection"], i["key"]) for i in answer["export"]}
    assert not [i for i in answer["export"] if (i["collection"], i["key"]) == TOMBSTONE]
    assert (answer["remaining_items"], answer["deleted_items"]) == (0, answer["exported_items"])
    with pytest.raises(TenantOffboarded):  # after the deletion too, until the tombstone expires with the export
        rt.commit("northwind", Changes(puts=[LATE]))
    assert export("northwind") == []


def test_an_offboarding_failing_before_it_stored_anything_lifts_the_fence() -> None:
    rt, _ = memory_runtime(NOW)
    _failing(rt, lambda tenant_id, changes: tenant_id == PLATFORM and any(
        p.collection == "OFFBOARDING" for p in changes.puts))
    with pytest.raises(ClientError):
        offboarding.offboard(rt, OPERATOR, "northwind")
    rt.commit("northwind", Changes(puts=[LATE]))  # the tenant writes as before
    rt.commit("northwind", Changes(deletes=[Delete("THING", "late")]))
    assert rt.store.get("northwind", *TOMBSTONE) is None


def test_the_export_imported_again_and_the_id_provisioned_again_write_as_any_tenant() -> None:
    rt, _ = memory_runtime(NOW)
    export = offboarding.offboard(rt, OPERATOR, "northwind")["export"]
    assert rt.store.get("northwind", *TOMBSTONE) is not None
    tenants.import_tenant(rt, OPERATOR, export)
    rt.commit("northwind", Changes(puts=[LATE]))
    assert rt.store.get("northwind", "THING", "late") is not None and rt.store.get("northwind", *TOMBSTONE) is None
    offboarding.offboard(rt, OPERATOR, "northwind")
    config = load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml")
    tenants.create_tenant(rt, OPERATOR, config)  # its provisioning deletes the tombstone in its own transaction
    rt.commit("northwind", Changes(puts=[LATE]))
    assert rt.store.get("northwind", "THING", "late").version == 1 and rt.store.get("northwind", *TOMBSTONE) is None
