"""The served OpenAPI document matches the routes, and every example request works against the stack."""

from revgov.edge.registry import OPERATIONS


def test_openapi_lists_every_operation_with_its_roles(api):
    doc = api.get("/v1/openapi.json").json()
    assert doc["openapi"] == "3.1.0"
    served = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    assert served == {(op.path, op.method) for op in OPERATIONS}
    for op in OPERATIONS:
        documented = doc["paths"][op.path][op.method.lower()]
        assert documented["x-revgov-roles"] == sorted(r.value for r in op.roles)
        if op.body_schema:
            assert documented["requestBody"]["content"]["application/json"]["examples"]["default"]["value"]


def test_every_example_request_is_accepted_by_the_running_stack(api, operator, keys):
    doc = api.get("/v1/openapi.json").json()
    fresh = operator.post("/v1/tenants", {**_example(doc, "/v1/tenants", "post"), "tenant_id": "example-replay"})
    assert fresh.status_code == 201, fresh.text
    admin = api.as_key(fresh.json()["admin_key"]["key"])
    callers = {"operator": operator, "admin": admin}
    path_values = {"tenant_id": "example-replay"}
    order = ["post /v1/tenants/{tenant_id}/suspend", "post /v1/tenants/{tenant_id}/resume"]
    ops = sorted(
        (op for op in OPERATIONS if op.body_schema and op.path != "/v1/tenants"),
        key=lambda op: order.index(f"post {op.path}") if f"post {op.path}" in order else -1,
    )
    for op in ops:
        caller = callers["operator" if "operator" in {r.value for r in op.roles} else "admin"]
        path = op.path.format(**path_values)
        response = caller.request(op.method, path, _example(doc, op.path, op.method.lower()))
        assert 200 <= response.status_code < 300, (op.name, response.status_code, response.text)
    operator.delete("/v1/tenants/example-replay")


def _example(doc, path, method):
    return doc["paths"][path][method]["requestBody"]["content"]["application/json"]["examples"]["default"]["value"]
