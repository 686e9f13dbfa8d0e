"""Backfill of the "held" mark (1.46.4) on the lines credited by credit notes still waiting for finance approval that
were held before the mark existed.

SOP-2.5: "Credit notes above USD 10,000.00 require approval by a member of the finance queue other than the preparer"
(COP-2.4: above EUR 5,000.00): until approved a credit note is not issued, so its line still stands charged. Since
1.46.4 the line's credit marker (`LINECREDIT` for the ERP's credit notes and returns, `INVOICEDISPUTELINE` for an upheld
dispute) keeps, of what it counts, what is only held (`held`, `holds`); a credit note held before then is counted on
its marker as if issued, so a shipment it takes back in full would bill its repeat as a corrected charge before the
approval. This marks each such pending hold on its marker (`credit_reservations.with_held`, as the hold would have
been marked when held), then the tenant (`credit_hold_marks.HELD_MARKS`), through the DocumentStore port, one commit
per marker (over the version read) with an audit record naming the holds. Idempotent: a hold already on its marker's
`holds` is skipped; decided holds are left (approval and rejection already settle a marker without the mark).
`revgov maintenance backfill-held-credits --tenant T` runs it; `revgov dev` runs it at start for an older database.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..domain.audit import AuditEntry
from ..domain.credit_reservations import with_held
from ..domain.errors import NotFound
from ..ports import Changes, Put
from ..runtime import Runtime
from .billing.repository import CREDIT_NOTE_HOLDS, DISPUTED_LINES, LINE_CREDITS
from .credit_hold_marks import HELD_MARKS, held_marks_complete
from .tenant_repository import stored_profile
from .toolkit import pages

ACTION = "credit_notes.held_marks_backfilled"
_MARKERS = frozenset({LINE_CREDITS, DISPUTED_LINES})  # the line markers 1.46.4 marks (a subscription's are its own)


def backfill_held_marks(rt: Runtime, tenant_id: str, *, actor: str) -> dict[str, Any]:
    """Mark every pending credit-note hold of the tenant on its credited line's marker where it is not yet, then the
    tenant; returns what was scanned and written."""
    if stored_profile(rt.store, tenant_id) is None:
        raise NotFound(f"no tenant {tenant_id}")
    pending = [h.data for h in pages(rt.store, tenant_id, CREDIT_NOTE_HOLDS)
               if h.data.get("status") == "pending_approval" and h.data["reserved"]["collection"] in _MARKERS]
    marked = 0
    for hold in pending:
        reserved = hold["reserved"]
        marker = rt.store.get(tenant_id, reserved["collection"], reserved["key"])
        if marker is None or hold["hold_id"] in (marker.data.get("holds") or []):
            continue
        data = with_held(marker.data, Decimal(hold["amount"]), hold["hold_id"])
        put = Put(reserved["collection"], marker.key, data, expected_version=marker.version,
                  conflict_detail="the credited line changed meanwhile; run the backfill again")
        rt.commit(tenant_id, Changes(puts=[put], audit=[_record(tenant_id, [hold], actor)]))
        marked += 1
    if rt.store.get(tenant_id, *HELD_MARKS) is None:
        rt.commit(tenant_id, Changes(puts=[held_marks_complete()], audit=[_record(tenant_id, [], actor)]))
    return {"tenant_id": tenant_id, "scanned": len(pending), "backfilled": marked}


def backfill_if_unfinished(rt: Runtime, tenant_ids: list[str], *, actor: str) -> list[dict[str, Any]]:
    """The backfill for each tenant without the mark (at `revgov dev` start): one read per tenant once all have it."""
    return [backfill_held_marks(rt, tenant_id, actor=actor) for tenant_id in tenant_ids
            if rt.store.get(tenant_id, *HELD_MARKS) is None]


def _record(tenant_id: str, holds: list[dict[str, Any]], actor: str) -> AuditEntry:
    return AuditEntry(
        actor=actor,
        action=ACTION,
        subject=f"{CREDIT_NOTE_HOLDS}#{tenant_id}",
        outcome=f"credit note hold {holds[0]['hold_id']} marked held on its line" if holds
        else "every credit note waiting for approval is marked held on its line",
        inputs={"holds": [{"hold_id": h["hold_id"], "line_id": h["line_id"], "amount": h["amount"],
                           "marker": h["reserved"]["collection"]} for h in holds], "fields_changed": ["held", "holds"]},
        partner_id=holds[0]["partner_id"] if holds else None,
    )  # fmt: skip
