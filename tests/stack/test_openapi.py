"""The served OpenAPI document matches the routes, and every example request works against the stack."""

from collections.abc import Callable
from typing import Any

import pytest

import revgov.edge.api  # noqa: F401  (fills the route table)
from revgov.domain.access import Principal, Role
from revgov.edge.registry import OPERATIONS
from revgov.services import cases
from support import Api, example_tenant


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


class Replay:
    """A fresh tenant with a key per role, to replay examples in."""

    def __init__(self, api: Api, operator: Api, stack: Any) -> None:
        config = example_tenant()
        created = operator.post("/v1/tenants", config).json()
        self.tenant_id = config["tenant_id"]
        self.policy = config["policy"]
        self.rt = stack.runtime
        self.operator = operator
        self.admin = api.as_key(created["admin_key"]["key"])
        self.by_role = {"operator": operator, "admin": self.admin}
        for role in ("finance", "channel_ops", "legal", "customer_success", "sales", "viewer"):
            self.by_role[role] = api.as_key(self.admin.post("/v1/keys", {"role": role, "label": role}).json()["key"])

    def open_case(self, kind: str) -> str:
        requester = Principal(self.tenant_id, Role.SALES, "key_01JX0000000000000000000000")
        case, changes = cases.open_case(
            self.rt,
            self.policy,
            kind=kind,
            category="discount_above_tier_cap",
            subject_kind="test",
            subject_id="probe",
            requested_by=requester,
        )
        self.rt.commit(self.tenant_id, changes)
        return case["case_id"]


# What each example needs to exist first: path values and the role that replays it.
PREPARE: dict[str, Callable[[Replay], tuple[dict[str, str], str]]] = {
    "create_tenant": lambda r: ({}, "operator"),
    "suspend_tenant": lambda r: ({"tenant_id": r.tenant_id}, "operator"),
    "resume_tenant": lambda r: ({"tenant_id": r.tenant_id}, "operator"),
    "create_tenant_key": lambda r: ({"tenant_id": r.tenant_id}, "operator"),
    "create_key": lambda r: ({}, "admin"),
    "decide_approval": lambda r: ({"approval_id": r.open_case("approval")}, "channel_ops"),
    "resolve_exception": lambda r: ({"exception_id": r.open_case("exception")}, "channel_ops"),
}
ORDER = ["suspend_tenant", "resume_tenant"]


@pytest.fixture(scope="module")
def replay(api, operator, stack):
    replay = Replay(api, operator, stack)
    yield replay
    operator.delete(f"/v1/tenants/{replay.tenant_id}")


def test_every_body_operation_has_a_preparer():
    assert {op.name for op in OPERATIONS if op.body_schema} <= set(PREPARE)


@pytest.mark.parametrize(
    "op",
    sorted(
        (op for op in OPERATIONS if op.body_schema),
        key=lambda o: (o.name in ORDER, ORDER.index(o.name) if o.name in ORDER else 0),
    ),
    ids=lambda op: op.name,
)
def test_the_example_request_is_accepted_by_the_running_stack(op, replay, api):
    doc = api.get("/v1/openapi.json").json()
    example = doc["paths"][op.path][op.method.lower()]["requestBody"]["content"]["application/json"]["examples"][
        "default"
    ]["value"]
    values, role = PREPARE[op.name](replay)
    if op.name == "create_tenant":  # the example's id is taken by the time it is replayed twice
        example = {**example, "tenant_id": example_tenant()["tenant_id"]}
    response = replay.by_role[role].request(op.method, op.path.format(**values), example)
    assert 200 <= response.status_code < 300, (op.name, response.status_code, response.text)
    if op.name == "create_tenant":
        replay.operator.delete(f"/v1/tenants/{example['tenant_id']}")
