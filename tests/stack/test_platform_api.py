"""The platform over HTTP on the running local stack: tenants, keys, suspension, isolation, audit."""

from engine_support import overwrite, raw_data
from support import assert_problem, example_tenant

POINTERS_OK = {"checked": 0, "valid": True, "problems": [], "more_problems": 0}  # no record names a partner


def test_health_answers_without_credentials(api):
    response = api.get("/v1/health")
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_local_json_lists_working_keys_for_every_tenant(api, keys):
    assert set(keys["tenants"]) >= {"northwind", "contoso"}
    for tenant_id, tenant in keys["tenants"].items():
        for role, key in tenant["keys"].items():
            assert api.as_key(key).get("/v1/events/evt_01JX0000000000000000000000").status_code in (403, 404), (
                tenant_id,
                role,
            )
        assert api.as_key(tenant["admin_key"]).get("/v1/keys").status_code == 200
        assert len(tenant["webhook_secret"]) >= 32


def test_operator_provisions_reads_lists_and_offboards_a_tenant(operator, api):
    config = example_tenant()
    tid = config["tenant_id"]
    created = operator.post("/v1/tenants", config)
    assert created.status_code == 201
    body = created.json()
    assert body["tenant"]["status"] == "active" and body["tenant"]["policy_version"].startswith("pv_")
    admin = api.as_key(body["admin_key"]["key"])
    assert admin.get("/v1/keys").json()["items"][0]["role"] == "admin"
    assert "hash" not in admin.get("/v1/keys").json()["items"][0]
    assert operator.get(f"/v1/tenants/{tid}").json()["config"]["display_name"] == config["display_name"]
    listed, cursor = [], None
    while True:
        page = operator.get("/v1/tenants", limit=1, **({"cursor": cursor} if cursor else {})).json()
        listed += [t["tenant_id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert tid in listed and "northwind" in listed
    assert_problem(operator.post("/v1/tenants", config), 409)

    offboarded = operator.delete(f"/v1/tenants/{tid}").json()
    assert offboarded["remaining_items"] == 0 and offboarded["deleted_items"] == offboarded["exported_items"] > 0
    assert {item["collection"] for item in offboarded["export"]} >= {"TENANT", "KEY", "SECRET"}
    assert all(item["data"] == {"redacted": True} for item in offboarded["export"] if item["collection"] == "SECRET")
    assert_problem(operator.get(f"/v1/tenants/{tid}"), 404)
    assert_problem(admin.get("/v1/keys"), 401)
    trail = operator.get("/v1/audit", subject=tid).json()["items"]
    assert [r["action"] for r in trail] == ["tenant.created", "tenant.offboarded"]


def test_a_suspended_tenant_keys_get_403_until_resumed(operator, api, fresh_tenant):
    tid = fresh_tenant["tenant"]["tenant_id"]
    admin = api.as_key(fresh_tenant["admin_key"]["key"])
    assert operator.post(f"/v1/tenants/{tid}/suspend", {"reason": "invoice unpaid"}).json()["status"] == "suspended"
    assert "suspended" in assert_problem(admin.get("/v1/keys"), 403)["detail"]
    problem = assert_problem(operator.post(f"/v1/tenants/{tid}/suspend", {"reason": "again"}), 409)
    assert problem["allowed_next"] == ["active"]
    assert operator.post(f"/v1/tenants/{tid}/resume", {"reason": "paid"}).json()["status"] == "active"
    assert admin.get("/v1/keys").status_code == 200
    actions = [r["action"] for r in operator.get("/v1/audit", subject=tid).json()["items"]]
    assert actions == ["tenant.created", "tenant.suspended", "tenant.resumed"]


def test_keys_are_shown_once_listed_without_secrets_and_revocable(api, fresh_tenant):
    admin = api.as_key(fresh_tenant["admin_key"]["key"])
    created = admin.post("/v1/keys", {"role": "finance", "label": "month-end close"})
    assert created.status_code == 201
    finance = api.as_key(created.json()["key"])
    assert_problem(finance.get("/v1/keys"), 403)  # finance is not admin
    assert finance.get("/v1/audit/verify").json()["valid"] is True
    listed = admin.get("/v1/keys").json()["items"]
    assert all("key" not in k and "hash" not in k for k in listed)
    key_id = created.json()["key_id"]
    assert admin.delete(f"/v1/keys/{key_id}").json()["revoked_at"]
    assert_problem(finance.get("/v1/audit/verify"), 401)
    assert_problem(admin.delete(f"/v1/keys/{key_id}"), 409)
    actions = [r["action"] for r in admin.get("/v1/audit").json()["items"]]
    assert actions[-2:] == ["key.created", "key.revoked"]


def test_another_tenants_objects_are_404_and_never_listed(northwind, contoso, keys):
    contoso_keys = contoso.get("/v1/keys").json()["items"]
    northwind_ids = {k["key_id"] for k in northwind.get("/v1/keys").json()["items"]}
    assert contoso_keys and not northwind_ids & {k["key_id"] for k in contoso_keys}
    for key in contoso_keys:
        assert_problem(northwind.delete(f"/v1/keys/{key['key_id']}"), 404)
    assert all(r["tenant_id"] == "northwind" for r in northwind.get("/v1/audit").json()["items"])
    assert northwind.get("/v1/audit", subject=contoso_keys[0]["key_id"]).json()["items"] == []


def test_tenant_keys_cannot_use_operator_endpoints_and_operators_cannot_use_tenant_ones(northwind, operator, keys, api):
    viewer = api.as_key(keys["tenants"]["northwind"]["keys"]["viewer"])
    for caller in (northwind, viewer):
        assert_problem(caller.get("/v1/tenants"), 403)
        assert_problem(caller.post("/v1/tenants", example_tenant()), 403)
        assert_problem(caller.post("/v1/tenants/contoso/suspend", {"reason": "hostile"}), 403)
    assert_problem(viewer.post("/v1/keys", {"role": "admin", "label": "escalate"}), 403)
    assert_problem(operator.get("/v1/keys"), 403)


def test_changing_a_stored_audit_record_is_reported_with_the_first_broken_one(api, fresh_tenant, stack):
    tid = fresh_tenant["tenant"]["tenant_id"]
    admin = api.as_key(fresh_tenant["admin_key"]["key"])
    for role in ("finance", "legal", "viewer"):
        admin.post("/v1/keys", {"role": role, "label": role})
    verified = admin.get("/v1/audit/verify").json()
    assert verified == {"records": 3, "valid": True, "first_invalid": None, "pointers": POINTERS_OK}
    data = raw_data(stack.runtime, tid, "AUDIT", "R#000000000002")
    overwrite(stack.runtime, tid, "AUDIT", "R#000000000002", data.replace('"legal"', '"admin"'))
    verdict = admin.get("/v1/audit/verify").json()
    assert verdict["valid"] is False and verdict["first_invalid"]["seq"] == 2


def test_the_operator_chain_holds_tenant_provisioning(operator):
    records = operator.get("/v1/audit", limit=200).json()["items"]
    assert {"tenant.created", "key.created"} <= {r["action"] for r in records}
    assert operator.get("/v1/audit/verify").json()["valid"] is True
