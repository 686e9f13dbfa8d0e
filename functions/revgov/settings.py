"""Settings, read once from the environment at start-up into one typed object."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    table_name: str
    event_bus: str
    endpoint_url: str | None
    schemas_dir: Path
    events_dir: Path
    tenants_dir: Path
    max_body_bytes: int
    service_name: str = "revgov"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env
        return cls(
            stage=e.get("REVGOV_STAGE", "local"),
            region=e.get("AWS_REGION") or e.get("AWS_DEFAULT_REGION") or "us-east-1",
            table_name=e.get("REVGOV_TABLE", "revgov"),
            event_bus=e.get("REVGOV_EVENT_BUS", "revgov"),
            endpoint_url=e.get("AWS_ENDPOINT_URL") or None,
            schemas_dir=Path(e.get("REVGOV_SCHEMAS_DIR", _REPO / "schemas")),
            events_dir=Path(e.get("REVGOV_EVENTS_DIR", _REPO / "events")),
            tenants_dir=Path(e.get("REVGOV_TENANTS_DIR", _REPO / "tenants")),
            max_body_bytes=int(e.get("REVGOV_MAX_BODY_BYTES", str(256 * 1024))),
        )


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_env()
