"""Indexing contract documents into a tenant's clause index (the copilot's retrieval): shared by the copilot's
ingestion and by the contract use cases that re-index after every write, so it depends on nothing but the domain."""

from __future__ import annotations

from collections.abc import Callable

from ..domain import copilot as core
from ..domain.errors import RuleViolation
from ..ports import ClauseIndex


def index_documents(
    index: ClauseIndex,
    tenant_id: str,
    texts: list[tuple[str, str]],
    *,
    prune: bool = True,
    on_document: Callable[[core.IngestResult], None] | None = None,
) -> list[core.IngestResult]:
    """Index (name, markdown) documents for a tenant; unchanged ones are no-ops. `prune` drops documents not given."""
    prepared = [core.prepare_document(tenant_id, markdown, name=name) for name, markdown in texts]
    clashes = core.clause_collisions(prepared)
    if clashes:
        raise RuleViolation("clause ids must be unique within a tenant: " + "; ".join(clashes))
    results = []
    for document in prepared:
        result = index.index_document(document)
        results.append(result)
        if on_document is not None:
            on_document(result)
    if prune:
        given = {d.document for d in prepared}
        for stale in sorted(set(index.documents(tenant_id)) - given):
            removed = index.remove_document(tenant_id, stale)
            results.append(core.IngestResult(stale, "removed", 0, 0, removed))
    return results
