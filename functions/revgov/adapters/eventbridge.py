"""EventBridge publisher: puts Revgov's domain events on the bus, at most 10 entries a call."""

from __future__ import annotations

import json
from typing import Any


class EventBridgePublisher:
    def __init__(self, bus_name: str, region: str, endpoint_url: str | None = None) -> None:
        self._bus = bus_name
        self._region = region
        self._endpoint = endpoint_url
        self._client: Any = None

    def _events(self) -> Any:
        if self._client is None:  # created on first use: keeps boto3 out of the cold-start import path
            import boto3

            self._client = boto3.client("events", region_name=self._region, endpoint_url=self._endpoint)
        return self._client

    def publish(self, tenant_id: str, events: list[dict[str, Any]]) -> list[str]:
        failed: list[str] = []
        for start in range(0, len(events), 10):
            batch = events[start : start + 10]
            entries = [
                {
                    "EventBusName": self._bus,
                    "Source": event["source"],
                    "DetailType": event["detail_type"],
                    "Detail": json.dumps(event["detail"], separators=(",", ":")),
                    "Resources": [f"tenant/{tenant_id}"],
                }
                for event in batch
            ]
            response = self._events().put_events(Entries=entries)
            for event, result in zip(batch, response.get("Entries", []), strict=False):
                if result.get("ErrorCode"):
                    failed.append(event["detail"]["event_id"])
        return failed
