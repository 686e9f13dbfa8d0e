"""The tenant's mark that every credit note waiting for approval is marked as held on its credited line (1.46.4): put
at provisioning (no credit note yet) and by `credit_hold_backfill` once an older tenant's holds are marked. Apart from
the backfill so that provisioning writes it without loading billing."""

from __future__ import annotations

from ..ports import Put

HELD_MARKS = ("CREDITHELDMARK", "complete")  # its own collection: nothing that lists the holds reads it


def held_marks_complete(tenant_id: str | None = None) -> Put:
    """The mark (`tenant_id`: written from the platform's partition, at provisioning)."""
    return Put(*HELD_MARKS, {"complete": True}, tenant_id=tenant_id)
