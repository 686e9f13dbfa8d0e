"""One audit record found by its id with keyed reads, and checked against its neighbours, for staff explanations
(`GET /v1/decisions/aud_…/explain`) without walking the chain.

Records are stored by their place (`AUDIT` / `R#<seq>`), not by id. A record's id is a ULID made when it was sealed
(`BaseDocumentStore._seal_all`), and a record is sealed only after the chain head was read, that is after the record
before it was committed: ids grow with the sequence, up to the difference between the writers' clocks (milliseconds
where clocks are synchronised). So the record is found by bisecting the chain on the time in the ids, one keyed read a
step (about 20 for a million records), then looking at the few records around that place whose ids are within
`SKEW_MS` of it. A record whose place holds nothing (a gap) counts as older. A record sealed by a writer whose clock
was more than `SKEW_MS` off is not found (404), as no record of that id is."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..domain.audit import GENESIS, link_problem
from ..domain.ids import typed_id_ms
from ..runtime import Runtime

AUDIT = "AUDIT"  # the chain's collection (adapters.store_base.AUDIT): a record is `R#<seq>`
SKEW_MS = 2_000


class _Reads:
    """Keyed reads of one tenant's records, each at most once."""

    def __init__(self, rt: Runtime, tenant_id: str) -> None:
        self.rt, self.tenant_id = rt, tenant_id
        self._seen: dict[int, dict[str, Any] | None] = {}

    def record(self, seq: int) -> dict[str, Any] | None:
        if seq not in self._seen:
            try:
                stored = self.rt.store.get(self.tenant_id, AUDIT, f"R#{seq:012d}")
            except ValueError:  # its stored text is not JSON (GET /v1/audit/verify names it)
                stored = None
            self._seen[seq] = stored.data if stored is not None and isinstance(stored.data, dict) else None
        return self._seen[seq]

    def made_at(self, seq: int) -> int:
        """The time in the record's id (-1 when the place holds no readable record)."""
        record = self.record(seq)
        made = typed_id_ms(str(record.get("record_id"))) if record else None
        return -1 if made is None else made


def find_record(rt: Runtime, tenant_id: str, record_id: str) -> dict[str, Any] | None:
    """The record with this id, or None; then checked with `chain_problem`."""
    target = typed_id_ms(record_id)
    if target is None:
        return None
    head = rt.store.audit_head(tenant_id)[0]
    reads = _Reads(rt, tenant_id)
    low, high = 1, head + 1
    while low < high:  # the first place whose record was made at or after the id's time
        middle = (low + high) // 2
        if reads.made_at(middle) < target:
            low = middle + 1
        else:
            high = middle
    for seq in _around(reads, low, head, target):
        record = reads.record(seq)
        if record is not None and record.get("record_id") == record_id:
            return record
    return None


def _around(reads: _Reads, start: int, head: int, target: int) -> Iterator[int]:
    """The places from `start` on whose ids are at most SKEW_MS later than `target`, then those before it at most
    SKEW_MS earlier."""
    seq = start
    while seq <= head and reads.made_at(seq) <= target + SKEW_MS:
        yield seq
        seq += 1
    seq = start - 1
    while seq >= 1 and reads.made_at(seq) >= target - SKEW_MS:
        yield seq
        seq -= 1


def chain_problem(rt: Runtime, tenant_id: str, record: dict[str, Any]) -> str | None:
    """Why the record does not hold between its neighbours (`domain.audit.link_problem`), or None."""
    seq = int(record["seq"])
    head_seq, head_hash = rt.store.audit_head(tenant_id)
    reads = _Reads(rt, tenant_id)
    before = GENESIS if seq == 1 else (reads.record(seq - 1) or {}).get("hash")
    after = head_hash if seq == head_seq else (reads.record(seq + 1) or {}).get("prev_hash")
    return link_problem(record, before, after)
