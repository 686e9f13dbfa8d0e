"""Shapes of the AWS resources, shared by the CDK stacks and the local stack so both build the same thing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class TableSpec:
    partition_key: str = "pk"
    sort_key: str = "sk"
    lookup_index: str = "gsi1"
    lookup_partition_key: str = "gsi1pk"
    lookup_sort_key: str = "gsi1sk"
    ttl_attribute: str = "expires_at"

    def create_table_args(self, table_name: str) -> dict[str, Any]:
        """boto3 `create_table` arguments; the CDK stack declares the same keys, index and TTL."""
        keys = [self.partition_key, self.sort_key, self.lookup_partition_key, self.lookup_sort_key]
        return {
            "TableName": table_name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": k, "AttributeType": "S"} for k in keys],
            "KeySchema": [
                {"AttributeName": self.partition_key, "KeyType": "HASH"},
                {"AttributeName": self.sort_key, "KeyType": "RANGE"},
            ],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": self.lookup_index,
                    "KeySchema": [
                        {"AttributeName": self.lookup_partition_key, "KeyType": "HASH"},
                        {"AttributeName": self.lookup_sort_key, "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        }


TABLE = TableSpec()


@dataclass(frozen=True)
class SearchSpec:
    """Index names in the copilot's OpenSearch collection, for the adapter and the stack's data access policy alike.

    Every index of a tenant starts with `<tenant>_`, and each tenant's search role may touch `<tenant>_*` only. Tenant
    ids are `[a-z][a-z0-9-]*` (schemas/tenant.schema.json): no `_`, so one tenant's pattern never matches another's
    index (`north_*` does not match `north-wind_clauses`), and no upper case, which OpenSearch refuses in index names.
    """

    clauses: str = "clauses"

    def clause_index(self, tenant_id: str) -> str:
        return f"{tenant_id}_{self.clauses}"

    def tenant_indexes(self, tenant_id: str) -> str:
        """The pattern a tenant's search role is allowed onto (after `index/<collection>/`)."""
        return f"{tenant_id}_*"


SEARCH = SearchSpec()


@dataclass(frozen=True)
class EventRule:
    """An EventBridge rule from `events/rules.json`: a pattern and the handler its SQS target feeds."""

    name: str
    description: str
    pattern: dict[str, Any]
    handler: str
    max_receive_count: int = 3  # deliveries before the rule's DLQ: the rule's own, or the file's default

    @property
    def queue_name(self) -> str:
        return f"revgov-{self.name}"

    @property
    def dlq_name(self) -> str:
        return f"revgov-{self.name}-dlq"


def load_rules(events_dir: Path) -> list[EventRule]:
    raw = json.loads((events_dir / "rules.json").read_text(encoding="utf-8"))
    default = int(raw["max_receive_count"])
    return [
        EventRule(r["name"], r["description"], r["pattern"], r["handler"], int(r.get("max_receive_count", default)))
        for r in raw["rules"]
    ]


@dataclass(frozen=True)
class Schedule:
    """A handler run on a fixed cadence (`events/schedules.json`), in AWS and in the local stack alike."""

    name: str
    handler: str
    every_minutes: int
    timeout_seconds: int
    description: str


def load_schedules(events_dir: Path) -> list[Schedule]:
    raw = json.loads((events_dir / "schedules.json").read_text(encoding="utf-8"))
    return [
        Schedule(s["name"], s["handler"], int(s["every_minutes"]), int(s.get("timeout_seconds", 60)), s["description"])
        for s in raw["schedules"]
    ]


# what ERP systems push: the outbound-webhooks rule (events/rules.json) takes every other source
ERP_SOURCE = "revgov.erp"


@lru_cache(maxsize=4)
def outbound_event_types(events_dir: Path) -> frozenset[str]:
    """The event types Revgov emits to outbound subscriptions (the OpenAPI `webhooks`): one sample per type under
    events/revgov.<area>/, the ERP's own events (inbound) aside."""
    return frozenset(p.stem for p in events_dir.glob("revgov.*/*.json") if p.parent.name != ERP_SOURCE)
