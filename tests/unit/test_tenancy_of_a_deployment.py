"""A deployment serves the tenants its stack was made for: the pooled control plane never takes a silo tenant, a
silo's stack only its own.

README: "`pool` tenants share the table and functions, `silo` tenants get their own stack"; stacks/README.md: each
`tier: silo` tenant has "its own API, functions, table, bus, ... (CPA-11.3 "dedicated infrastructure ... not shared
with other programs")". The stacks tell each function which it is (`REVGOV_TENANCY`: pool or silo, and
`REVGOV_SILO_TENANT_ID`), but nothing read them. Found as a new AWS deployer (ninth round): stacks/README.md's step 6,
"A silo tenant is provisioned the same way" through the control plane's URL, put contoso's profile, keys and then all
its data in the pooled table, against CPA-11.3 ("stored and processed in the European Union and is not shared with
other programs"), while its own stack's table stayed empty. Locally (`revgov dev`, no REVGOV_TENANCY) both tiers run
in one process, as before. The refusal changes nothing.
"""

from __future__ import annotations

import dataclasses

import pytest

from memory_store import FixedClock, NoBus
from revgov.adapters.memory_store import MemoryDocumentStore
from revgov.adapters.system import RandomIds
from revgov.domain.access import Principal, Role
from revgov.domain.errors import RuleViolation
from revgov.runtime import Runtime
from revgov.services import tenants
from revgov.settings import Settings, settings
from revgov.tenant_files import load_tenant_file
from support import ROOT

OPERATOR = Principal("_platform", Role.OPERATOR, "key_OPERATOR000000000000000000")


def _runtime(**deployment: str | None) -> Runtime:
    clock = FixedClock("2026-11-09T09:00:00.000Z")
    ids = RandomIds(clock)
    configured = dataclasses.replace(settings(), **deployment)
    return Runtime(configured, MemoryDocumentStore(clock, ids), NoBus(), clock, ids)


def _config(tenant: str) -> dict:
    return load_tenant_file(ROOT / "tenants" / tenant / "tenant.yaml")


def test_the_settings_read_the_tenancy_the_stacks_set():
    read = Settings.from_env({"REVGOV_TENANCY": "silo", "REVGOV_SILO_TENANT_ID": "contoso"})
    assert (read.tenancy, read.silo_tenant_id) == ("silo", "contoso")
    assert (Settings.from_env({}).tenancy, Settings.from_env({}).silo_tenant_id) == (None, None)


def test_the_pooled_control_plane_refuses_a_silo_tenant_and_writes_nothing():
    rt = _runtime(tenancy="pool")
    contoso = _config("contoso")
    assert contoso["tier"] == "silo"
    with pytest.raises(RuleViolation) as refused:
        tenants.create_tenant(rt, OPERATOR, contoso)
    assert [e.path for e in refused.value.errors] == ["/tier"]
    assert "Revgov-" in refused.value.detail and "-Tenant-contoso" in refused.value.detail
    assert not tenants.exists(rt, "contoso")


def test_a_silos_stack_refuses_any_other_tenant():
    rt = _runtime(tenancy="silo", silo_tenant_id="contoso")
    with pytest.raises(RuleViolation) as refused:
        tenants.create_tenant(rt, OPERATOR, _config("northwind"))
    assert [e.path for e in refused.value.errors] == ["/tenant_id"]
    assert "contoso" in refused.value.detail
    assert not tenants.exists(rt, "northwind")
