"""Shared fixtures: one local stack (the embedded SQLite engine + API + router, as `make run`) per test worker, and an
HTTP client for it."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "n8n"))
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("REVGOV_SCHEDULE_EVERY_SECONDS", "0")  # no scheduled runs mid-test: tests run handlers on demand

from revgov.adapters.system import clock_offset_ms  # noqa: E402

clock_offset_ms()  # REVGOV_CLOCK_START anchored once here, so xdist workers, the stack and n8n share one "now"

import clock_support  # noqa: E402
from support import Api  # noqa: E402


def pytest_sessionstart(session: pytest.Session) -> None:
    """The pinned n8n takes minutes to install on a fresh machine: start it now, in the background, so it overlaps
    the other tests (the controller only, not each xdist worker; only when the n8n tests are collected). With
    `--dist loadgroup` the n8n group starts at once on a worker anyway (xdist hands out the largest groups first),
    and waits there for the install while the other worker runs the rest."""
    from n8n_harness import start_background_install, wants_n8n

    if not hasattr(session.config, "workerinput") and wants_n8n(list(session.config.args)):
        start_background_install()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked `aws` get the stack on the AWS engine (DynamoDB, EventBridge, SQS on moto): the fault suites that
    inject errors at the botocore boundary and the tests of the AWS adapters. pytest groups tests by this session
    parameter, so a worker switches engines once per group, not per test."""
    if "engine" in metafunc.fixturenames and metafunc.definition.get_closest_marker("aws") is not None:
        metafunc.parametrize("engine", ["dynamodb"], indirect=True, scope="session")


@pytest.fixture(scope="session")
def engine(request: pytest.FixtureRequest) -> str:
    """The stack's engine: the embedded SQLite one, as `make run`, unless the test is marked `aws`."""
    return str(getattr(request, "param", "sqlite"))


def _unthrottle_demo_tenants(rt: Any) -> None:
    """Every stack test of a worker shares the demo tenants; on the embedded engine the suite sends them more than
    the 600 requests a minute of northwind's plan. The plan's limit is a product figure, not a test's: the rate-limit
    suite (tests/security/test_rate_limits.py) proves the limits on tenants of its own with small plans."""
    from revgov.ports import Changes, Put
    from security_support import UNTHROTTLED

    for tenant_id in ("northwind", "contoso"):
        profile = rt.store.get(tenant_id, "TENANT", "PROFILE")
        if profile is None:
            continue
        config = {**profile.data["config"], "plan": {**profile.data["config"].get("plan", {}), **UNTHROTTLED}}
        data = {**profile.data, "config": config}
        rt.store.commit(tenant_id, Changes(puts=[Put("TENANT", "PROFILE", data, expected_version=profile.version)]))


@pytest.fixture(scope="session")
def stack(engine: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from revgov.local.stack import start_stack

    where = tmp_path_factory.mktemp(f"revgov-{engine}")
    emulator = None
    if engine == "dynamodb":
        from aws_emulator import start_emulator

        emulator = start_emulator(0)
    running = start_stack(port=0, state_file=where / "local.json", backend=engine, data_file=where / "revgov.sqlite")
    _unthrottle_demo_tenants(running.runtime)
    clock_support.use(running.runtime.clock)  # every test's "now" is the stack's (tests/clock_support.py)
    yield running
    running.stop()
    if emulator is not None:
        emulator.stop()
        os.environ.pop("AWS_ENDPOINT_URL", None)


@pytest.fixture(scope="session")
def rt(stack: Any) -> Any:
    return stack.runtime


@pytest.fixture(scope="session")
def api(stack: Any) -> Api:
    return Api(stack.base_url)


@pytest.fixture(scope="session")
def keys(stack: Any) -> dict[str, Any]:
    return dict(stack.info)


@pytest.fixture(scope="session")
def operator(api: Api, keys: dict[str, Any]) -> Api:
    return api.as_key(keys["operator_key"])


@pytest.fixture(scope="session")
def northwind(api: Api, keys: dict[str, Any]) -> Api:
    return api.as_key(keys["tenants"]["northwind"]["admin_key"])


@pytest.fixture(scope="session")
def contoso(api: Api, keys: dict[str, Any]) -> Api:
    return api.as_key(keys["tenants"]["contoso"]["admin_key"])


@pytest.fixture
def fresh_tenant(operator: Api) -> Iterator[dict[str, Any]]:
    """A throwaway tenant (from the OpenAPI example config, with a unique id), offboarded afterwards."""
    from support import example_tenant

    config = example_tenant()
    created = operator.post("/v1/tenants", config)
    assert created.status_code == 201, created.text
    yield created.json()
    operator.delete(f"/v1/tenants/{config['tenant_id']}")
