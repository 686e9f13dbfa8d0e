"""`revgov dev` starts only on a clock that reads no earlier than what its database already recorded.

A record sealed now is dated now and its id carries that time; the audit lookup (`services/audit_lookup.py`) finds a
record by bisecting its chain on the time in the ids, which grow with the sequence up to the writers' clock
difference (`SKEW_MS`). A clock set back (REVGOV_CLOCK_START earlier than the last run, or the same start again without
REVGOV_CLOCK_ANCHOR after a shifted run) would seal records dated before the ones under them: the lookup would not find
them, and SLA clocks and due times would run from a past instant. So the start compares the clock with the last record
of every chain and refuses, saying how to go on, before anything is written.
"""

from __future__ import annotations

from ..adapters.system import CLOCK_ANCHOR, CLOCK_START, iso_of_ms
from ..domain.access import PLATFORM
from ..domain.ids import typed_id_ms
from ..runtime import Runtime
from ..services import tenant_repository
from ..services.audit_lookup import AUDIT, SKEW_MS


class ClockBehindData(RuntimeError):
    """The clock reads earlier than the newest audit record of the database."""


def newest_record_ms(rt: Runtime) -> tuple[int, str] | None:
    """The time in the id of the newest last record over every chain (the platform's and each tenant's), and whose."""
    newest: tuple[int, str] | None = None
    for tenant_id in (PLATFORM, *tenant_repository.tenant_ids(rt.store)):
        seq, _ = rt.store.audit_head(tenant_id)
        stored = rt.store.get(tenant_id, AUDIT, f"R#{seq:012d}") if seq else None
        made = typed_id_ms(str(stored.data.get("record_id"))) if stored and isinstance(stored.data, dict) else None
        if made is not None and (newest is None or made > newest[0]):
            newest = (made, tenant_id)
    return newest


def check_clock(rt: Runtime) -> None:
    newest = newest_record_ms(rt)
    now = rt.clock.now_ms()
    if newest is None or newest[0] - now <= SKEW_MS:
        return
    made, tenant_id = newest
    raise ClockBehindData(
        f"the clock reads {iso_of_ms(now)}, earlier than the last audit record of {tenant_id} ({iso_of_ms(made)}): "
        "what this start recorded would be dated before what is already there. Start with a clock at or after it: "
        f"unset {CLOCK_START} (the real time) or set it later; to continue a shifted run, set {CLOCK_ANCHOR} as "
        "the first run had it (README, Configuration); or start over with `revgov dev --reset`, or on another "
        "--data-file"
    )
