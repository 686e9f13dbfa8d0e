"""Offboardings in the platform's partition: the one module that names their collections.

- `OFFBOARDING/<tenant id>`: the durable record of a tenant's offboarding, written before anything of the tenant is
  deleted (`Offboarding`);
- `OFFBOARDEXPORT/<tenant id>#<offboarding id>#<n>`: the export, in chunks of gzip-compressed JSON (base64) that each
  stay under the store's 400 KB item limit, kept `EXPORT_KEPT_DAYS` (their TTL) so a lost answer can be given again.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from typing import Any, TypedDict, cast

from ..domain.access import PLATFORM
from ..ports import DocumentStore, Put

RECORDS = "OFFBOARDING"
CHUNKS = "OFFBOARDEXPORT"
EXPORT_KEPT_DAYS = 7
_CHUNK_CHARS = 300_000  # base64 text per chunk: under DynamoDB's 400 KB item limit with its keys and attributes
_RAW_BYTES = 1_000_000  # JSON gathered before compressing one chunk
_BATCH = 100


class Offboarding(TypedDict, total=False):
    """The record: which export (chunks), how far the offboarding got (`deleting`, `completed`, `incomplete`)."""

    tenant_id: str
    offboarding_id: str
    status: str
    started_at: str
    started_by: str
    tenant_created_at: str
    policy_version: str
    export_chunks: int
    exported_items: int
    export_kept_until: str
    deleted_items: int
    remaining_items: int
    completed_at: str | None


def find(store: DocumentStore, tenant_id: str) -> tuple[Offboarding, int] | None:
    stored = store.get(PLATFORM, RECORDS, tenant_id)
    return None if stored is None else (cast(Offboarding, stored.data), stored.version)


def record_put(record: Offboarding, *, version: int | None, expires_at: int | None = None) -> Put:
    return Put(RECORDS, record["tenant_id"], dict(record), tenant_id=PLATFORM, expected_version=version,
               must_be_absent=version is None, expires_at=expires_at,
               conflict_detail=f"tenant {record['tenant_id']} is being offboarded by another request; repeat "
                               "DELETE once it answered")


def encode(items: list[dict[str, Any]]) -> Iterator[str]:
    """The items as chunks of base64 gzip JSON, each at most `_CHUNK_CHARS` (a single larger item stays alone)."""
    group: list[dict[str, Any]] = []
    size = 0
    for item in items:
        length = len(json.dumps(item, separators=(",", ":")))
        if group and size + length > _RAW_BYTES:
            yield from _packed(group)
            group, size = [], 0
        group.append(item)
        size += length
    if group:
        yield from _packed(group)


def _packed(group: list[dict[str, Any]]) -> Iterator[str]:
    text = base64.b64encode(gzip.compress(json.dumps(group, separators=(",", ":")).encode(), mtime=0)).decode()
    if len(text) <= _CHUNK_CHARS or len(group) == 1:
        yield text
        return
    half = len(group) // 2
    yield from _packed(group[:half])
    yield from _packed(group[half:])


def chunk_put(tenant_id: str, offboarding_id: str, number: int, text: str, *, expires_at: int) -> Put:
    return Put(CHUNKS, f"{tenant_id}#{offboarding_id}#{number:05d}", {"items": text}, tenant_id=PLATFORM,
               expires_at=expires_at)


def export(store: DocumentStore, record: Offboarding) -> list[dict[str, Any]] | None:
    """The export the record names, every chunk decoded in order; a later chunk's item replaces an earlier one of the
    same collection and key (a resumed offboarding appends what it found left). None once a chunk has expired."""
    keys = [f"{record['tenant_id']}#{record['offboarding_id']}#{n:05d}" for n in range(record["export_chunks"])]
    texts: dict[str, str] = {}
    for start in range(0, len(keys), _BATCH):
        refs = [(PLATFORM, CHUNKS, key) for key in keys[start : start + _BATCH]]
        texts.update({ref[2]: str(item.data["items"]) for ref, item in store.get_many(refs).items()})
    if len(texts) != len(keys):
        return None
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for key in keys:
        for item in json.loads(gzip.decompress(base64.b64decode(texts[key]))):
            merged[(item["collection"], item["key"])] = item
    return [merged[k] for k in sorted(merged)]
