"""The per-partner audit pointers checked by `GET /v1/audit/verify` (domain.audit_pointers): every pointer of every
partner the tenant has, or that a record names, read index by index through the DocumentStore port (SQLite and
DynamoDB alike: one query per page of one partner's index, the pointers small), judged against the partners the chain
walk noted. A pointer filed under a partner id that is neither a partner of the tenant nor named by any record cannot
be found without scanning the table; the partner's own trail never lists it (`GET /v1/audit?partner_id=` takes only
a partner the tenant has)."""

from __future__ import annotations

from typing import Any

from ..domain.audit import partner_index
from ..domain.audit_pointers import NamedRecords, PointerCheck
from ..runtime import Runtime
from . import audit_backfill
from .partner_repository import PARTNERS

AUDIT = "AUDIT"  # the chain's collection (adapters.store_base.AUDIT): a record is `R#<seq>`


def check_pointers(rt: Runtime, tenant_id: str, named: NamedRecords) -> dict[str, Any]:
    """`{checked, valid, problems, more_problems}` for the tenant's pointers against the records the walk named."""
    keys: dict[str, str | None] = {}

    def read_partner(seq: int) -> tuple[bool, str | None]:
        """Whether the chain holds a record at `seq` and the partner it concerns (as the backfill derives it for a
        record sealed before records named their partner)."""
        try:
            stored = rt.store.get(tenant_id, AUDIT, f"R#{seq:012d}")
        except ValueError:  # its text is not JSON: the walk names it; no partner can be read from it
            return True, None
        if stored is None or not isinstance(stored.data, dict):
            return stored is not None, None
        return True, audit_backfill.record_partner(rt, tenant_id, stored.data, keys)

    check = PointerCheck(named, read_partner)
    partners = {key for key, _ in rt.store.project(tenant_id, PARTNERS, ["$.partner_id"])}
    for partner_id in sorted(partners | set(named.partners[1:])):
        found = rt.store.project(tenant_id, partner_index(partner_id), ["$.seq"])
        check.index(partner_id, ((key, _seq(seq)) for key, (seq,) in found))
    return check.result()


def _seq(text: str) -> Any:
    """A pointer's `seq` as projected (its JSON text); what is not a number is kept as found, for the report."""
    try:
        return int(text)
    except ValueError:
        return text
