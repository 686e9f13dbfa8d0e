"""Ports: what the use cases need from the outside world. Adapters implement them; nothing else does."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from .domain.audit import AuditEntry

if TYPE_CHECKING:  # the copilot's types, for annotations only: importing the ports never loads the copilot (cold start)
    from .domain.copilot import Draft, Hit, IndexedDocument, IngestResult, Passage, Scope

T = TypeVar("T")


class Clock(Protocol):
    def now_iso(self) -> str: ...
    def now_ms(self) -> int: ...


class IdGenerator(Protocol):
    def new(self, prefix: str) -> str: ...
    def secret(self) -> str: ...


# A tenant's tombstone, in its own partition: put when its offboarding begins, deleted when the tenant is provisioned or
# imported again. While it stands every store refuses any change that puts into the tenant (`TenantOffboarded`), in
# the change's own transaction; it is not the tenant's data (never exported, left by the bulk deletion) and expires
# with the offboarding's export.
TOMBSTONE = ("OFFBOARDED", "TOMBSTONE")


@dataclass(frozen=True)
class Put:
    """Write one document. `must_exist`/`must_be_absent`/`expected_version` are checked atomically."""

    collection: str
    key: str
    data: dict[str, Any]
    must_be_absent: bool = False
    expected_version: int | None = None
    lookup: tuple[str, str] | None = None  # (index partition, sort) for a secondary lookup
    expires_at: int | None = None
    conflict_detail: str = "the object changed or already exists"
    tenant_id: str | None = None  # another tenant's partition (only the platform registry uses this)
    # `data`'s JSON text when the caller has already made it (it must decode to `data`): stored as it is instead of
    # being serialised again (a new decision: services/decision_repository.py)
    text: str | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Delete:
    collection: str
    key: str
    tenant_id: str | None = None


@dataclass(frozen=True)
class DomainEvent:
    """A fact Revgov publishes on the tenant's bus (`source` revgov.<area>)."""

    source: str
    detail_type: str
    detail: dict[str, Any]
    # Set only for an event that already has an identity and a time: an ERP event relayed, re-applied or replayed.
    event_id: str | None = None
    occurred_at: str | None = None


@dataclass
class Changes:
    """Everything one use case changes: documents, the audit records that explain them, the events they cause.

    A store commits it all or nothing, so no state change ever lands without its audit record.
    """

    puts: list[Put] = field(default_factory=list)
    deletes: list[Delete] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)

    def merge(self, other: Changes) -> Changes:
        """Add `other`'s documents, deletes, audit records and events to this change (in order); returns self."""
        self.puts.extend(other.puts)
        self.deletes.extend(other.deletes)
        self.audit.extend(other.audit)
        self.events.extend(other.events)
        return self


@dataclass(frozen=True)
class Stored:
    key: str
    data: dict[str, Any]
    version: int


@dataclass(frozen=True)
class Page:
    items: list[Stored]
    next_cursor: str | None


class DocumentStore(Protocol):
    """Tenant-fenced documents plus the tenant's audit chain. Every call names the tenant."""

    def get(self, tenant_id: str, collection: str, key: str) -> Stored | None: ...

    def get_parsed(self, tenant_id: str, collection: str, key: str, parse: Callable[[Any], T]) -> tuple[T, int] | None:
        """`parse(data)` and the version, parsed again only when the stored document changed (read-only values)."""
        ...

    def get_many(self, refs: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], Stored]: ...

    def query(
        self, tenant_id: str, collection: str, *, limit: int, cursor: str | None = None, prefix: str = ""
    ) -> Page: ...

    def lookup(
        self, tenant_id: str, index_partition: str, *, limit: int, cursor: str | None = None, prefix: str = ""
    ) -> Page:
        """Documents by their secondary lookup key (eventually consistent), optionally by sort-key prefix."""
        ...

    def project(
        self, tenant_id: str, collection: str, paths: Sequence[str], *, prefix: str = ""
    ) -> Iterator[tuple[str, list[str]]]:
        """Each document of the collection whose key starts with `prefix`, in key order: its key and, for each path
        (`$.name.name…`), the JSON text of the value there (`null` when absent). Reads only those values where the
        engine can: for scans that need a few fields of many documents (the policy what-if)."""
        ...

    def commit(self, tenant_id: str, changes: Changes) -> list[dict[str, Any]]:
        """Apply atomically; returns the sealed audit records."""
        ...

    def audit_records(self, tenant_id: str, *, after_seq: int = 0, limit: int = 1000) -> list[dict[str, Any]]: ...

    def audit_page(self, tenant_id: str, *, limit: int, cursor: str | None = None) -> Page:
        """The chain in order, a page at a time; the cursor is bound to the tenant's chain like any other."""
        ...

    def iter_audit_records(self, tenant_id: str) -> Iterator[dict[str, Any]]: ...

    def iter_audit_texts(self, tenant_id: str, *, after_seq: int = 0) -> Iterator[str | None]:
        """The records after `after_seq` in chain order, each as its stored JSON text (verification decodes it)."""
        ...

    def audit_head(self, tenant_id: str) -> tuple[int, str]: ...

    def audit_by_subject(self, tenant_id: str, subject: str, *, limit: int, cursor: str | None) -> Page: ...

    def audit_by_partner(self, tenant_id: str, partner_id: str, *, limit: int, cursor: str | None) -> Page:
        """The records concerning one partner (PA-12.1), in chain order, through that partner's own index."""
        ...

    def export_tenant(self, tenant_id: str) -> list[dict[str, Any]]: ...

    def import_tenant(self, tenant_id: str, items: list[dict[str, Any]]) -> int: ...

    def delete_tenant(self, tenant_id: str) -> int: ...


class EventPublisher(Protocol):
    def publish(self, tenant_id: str, events: list[dict[str, Any]]) -> list[str]:
        """Put events on the bus; returns the event ids that failed (to be retried)."""
        ...


class Embedder(Protocol):
    """Text to unit vectors. `model_id` names the vector space: vectors of two models are never compared."""

    model_id: str
    dimension: int

    def embed(self, texts: list[str]) -> list[list[float]]: ...


class ClauseIndex(Protocol):
    """Contract clauses, per tenant, searchable by words and by meaning; every read is fenced by a `Scope`."""

    def index_document(self, document: IndexedDocument) -> IngestResult:
        """Add or update one document; an unchanged document hash is a no-op, unchanged clauses are not re-embedded."""
        ...

    def documents(self, tenant_id: str) -> dict[str, str | None]:
        """Document code -> the partner it belongs to (None: tenant-wide), for every indexed document of the tenant."""
        ...

    def remove_document(self, tenant_id: str, document: str) -> int: ...

    def search(self, scope: Scope, query: str, *, k: int = 5, mode: str = "hybrid") -> list[Hit]:
        """Best clauses first. `mode`: hybrid (words + meaning, fused), lexical or dense."""
        ...

    def get(self, scope: Scope, clause_ids: list[str]) -> list[Passage]: ...

    def unit_similarities(self, query: str, passages: list[Passage]) -> list[list[float]] | None:
        """The question's cosine to each unit of each passage (`copilot_units.embedded_units` order), from the unit
        vectors stored when the clause was indexed; None when this index cannot say."""
        ...

    def delete_tenant(self, tenant_id: str) -> int: ...


class Answerer(Protocol):
    """Drafts an answer from retrieved clauses only; the service validates its citations before anyone sees it."""

    def answer(self, question: str, hits: list[Hit], *, context: list[str]) -> Draft: ...
