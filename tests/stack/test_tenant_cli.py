"""`revgov tenants provision | offboard | import` against the running local stack: an export that re-imports."""

import json
import shutil
import uuid

import yaml

from revgov.cli import main
from support import ROOT, assert_problem, settle


def tenant_folder(tmp_path, tenant_id):
    folder = tmp_path / tenant_id
    shutil.copytree(ROOT / "tenants" / "northwind" / "contracts", folder / "contracts")
    config = yaml.safe_load((ROOT / "tenants" / "northwind" / "tenant.yaml").read_text())
    (folder / "tenant.yaml").write_text(yaml.safe_dump({**config, "tenant_id": tenant_id}))
    return folder / "tenant.yaml"


def test_provision_offboard_and_import_round_trip(tmp_path, stack, operator, api):
    tenant_id = f"cli-{uuid.uuid4().hex[:8]}"
    connect = ["--url", stack.base_url, "--operator-key", stack.info["operator_key"]]
    assert main(["tenants", "provision", str(tenant_folder(tmp_path, tenant_id)), *connect]) == 0
    admin = api.as_key(
        operator.post(f"/v1/tenants/{tenant_id}/keys", {"role": "admin", "label": "cli test"}).json()["key"]
    )
    finance = api.as_key(admin.post("/v1/keys", {"role": "finance", "label": "finance"}).json()["key"])
    application = {
        "legal_name": "Round Trip Reseller",
        "partner_type": "reseller",
        "requested_tier": "registered",
        "contact": {"name": "Desk", "email": "desk@roundtrip.example"},
    }
    partner = admin.post("/v1/partners", application).json()
    # the events of the writes above handled first: a handler still at work would add records to the tenant after
    # `before` is taken (the audit count then differs after the import), or write into it while it is offboarded
    settle(stack)
    before = {
        "keys": admin.get("/v1/keys").json()["items"],
        "audit": admin.get("/v1/audit/verify").json(),
        "partner": admin.get(f"/v1/partners/{partner['partner_id']}").json(),
    }
    assert before["audit"]["valid"] and before["audit"]["records"] >= 3

    out = tmp_path / "export.jsonl"
    assert main(["tenants", "offboard", tenant_id, "--out", str(out), *connect]) == 0
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    assert {item["collection"] for item in exported} >= {"TENANT", "KEY", "AUDIT", "PARTNER", "POLICY"}
    assert stack.runtime.store.export_tenant(tenant_id) == []
    assert_problem(operator.get(f"/v1/tenants/{tenant_id}"), 404)
    assert_problem(finance.get("/v1/audit/verify"), 401)

    assert main(["tenants", "import", str(out)]) == 0
    assert operator.get(f"/v1/tenants/{tenant_id}").status_code == 200
    assert admin.get("/v1/keys").json()["items"] == before["keys"]
    assert admin.get("/v1/audit/verify").json() == before["audit"]
    assert admin.get(f"/v1/partners/{partner['partner_id']}").json() == before["partner"]
    assert finance.get("/v1/audit/verify").json()["valid"] is True


def test_importing_over_an_existing_tenant_is_refused(tmp_path, stack):
    from revgov.domain.access import PLATFORM, Principal, Role
    from revgov.domain.errors import Conflict
    from revgov.services.tenants import import_tenant

    export = stack.runtime.store.export_tenant("contoso")
    try:
        import_tenant(stack.runtime, Principal(PLATFORM, Role.OPERATOR, "test"), export)
    except Conflict as refused:
        assert "exists" in refused.detail
    else:
        raise AssertionError("importing over a live tenant must be refused")


def test_provisioning_an_invalid_file_fails_before_calling_the_api(tmp_path, stack, capsys):
    path = tenant_folder(tmp_path, f"cli-{uuid.uuid4().hex[:8]}")
    config = yaml.safe_load(path.read_text())
    config["currency"] = "dollars"
    path.write_text(yaml.safe_dump(config))
    assert main(["tenants", "provision", str(path), "--url", "http://127.0.0.1:9", "--operator-key", "unused"]) == 2
    assert "/currency" in capsys.readouterr().err  # errors go to stderr, one line (issue #20)
