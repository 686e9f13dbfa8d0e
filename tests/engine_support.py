"""What tests do behind the API's back, on whichever engine the stack runs (the embedded SQLite one by default, or
DynamoDB/EventBridge on the emulator): put an event straight on the bus, read or tamper with a stored row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[1]


def put_on_bus(rt: Any, tenant_id: str, source: str, detail_type: str, detail: dict[str, Any]) -> None:
    """An event on the bus without going through a use case (as `aws events put-events` would)."""
    rt.publisher.publish(tenant_id, [{"source": source, "detail_type": detail_type, "detail": detail}])


def raw_data(rt: Any, tenant_id: str, collection: str, key: str) -> str:
    """The stored JSON of one item, as the engine holds it."""
    row = rt.store._get(tenant_id, f"T#{tenant_id}#{collection}", key)
    assert row is not None, (collection, key)
    return str(row.data)


def overwrite(rt: Any, tenant_id: str, collection: str, key: str, data: str, *, version: int | None = None,
              lookup: tuple[str, str] | None = None) -> None:
    """Write an item's stored JSON directly (an attacker with table access), bypassing the commit protocol."""
    from revgov.adapters.store_base import Row

    current = rt.store._get(tenant_id, f"T#{tenant_id}#{collection}", key)
    row = Row(
        f"T#{tenant_id}#{collection}", key, data,
        version=version if version is not None else (current.version if current else 1),
        gsi1pk=f"T#{tenant_id}#{lookup[0]}" if lookup else (current.gsi1pk if current else None),
        gsi1sk=lookup[1] if lookup else (current.gsi1sk if current else None),
    )
    rt.store._write_rows(tenant_id, [row])


def idempotency_records(rt: Any, tenant_id: str) -> dict[str, str]:
    """The tenant's powertools idempotency records: key -> status."""
    db = getattr(rt.store, "db", None)
    if db is not None:
        with db.read() as c:
            return dict(c.execute("SELECT key, status FROM idempotency WHERE tenant = ?", (tenant_id,)).fetchall())
    import boto3

    settings = rt.settings
    ddb = boto3.client("dynamodb", region_name=settings.region, endpoint_url=settings.endpoint_url)
    items = ddb.query(
        TableName=settings.table_name,
        KeyConditionExpression="#pk = :pk",
        ExpressionAttributeNames={"#pk": "pk"},
        ExpressionAttributeValues={":pk": {"S": f"T#{tenant_id}#IDEMPOTENCY"}},
        ConsistentRead=True,
    )["Items"]
    return {item["sk"]["S"]: item["status"]["S"] for item in items}



def spawn_dev(where: Any, *extra: str) -> Any:
    """`revgov dev` (the command `make run` runs) in its own process, its database and state file under `where`
    (a Path), on a free port, schedules off; its log goes to `where/dev.log`."""
    import subprocess
    import sys

    return subprocess.Popen(
        [sys.executable, "-m", "revgov.cli", "dev", "--port", "0", "--data-file", str(where / "revgov.sqlite"),
         "--state-file", str(where / "local.json"), *extra],
        cwd=_ROOT, env=_dev_env(where), stdout=subprocess.DEVNULL, stderr=(where / "dev.log").open("ab"),
    )  # fmt: skip


def wait_dev(where: Any) -> dict[str, Any]:
    """`revgov wait`, as the README uses it, for the product `spawn_dev(where)` started; its state file."""
    import json
    import subprocess
    import sys

    waited = subprocess.run(
        [sys.executable, "-m", "revgov.cli", "wait", "--state-file", str(where / "local.json"), "--timeout", "180"],
        cwd=_ROOT, env=_dev_env(where), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert waited.returncode == 0, (waited.stderr, (where / "dev.log").read_text()[-3000:])
    return dict(json.loads((where / "local.json").read_text()))


def _dev_env(where: Any) -> dict[str, str]:
    import os

    env = {
        **os.environ,
        "REVGOV_SCHEDULE_EVERY_SECONDS": "0",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "REVGOV_COPILOT_INDEX_PATH": str(where / "copilot-index.sqlite"),
    }
    env.pop("REVGOV_BACKEND", None)
    env.pop("REVGOV_DATA_FILE", None)
    return env
