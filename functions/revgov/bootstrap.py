"""The bootstrap: builds the Runtime and the adapters the settings ask for, once per process (cold start).

The construction half of the composition root (in the manner of cosmicpython's `bootstrap.py`): `runtime.py` holds the
`Runtime` type, its ports and the `Registry` every service receives, and imports no adapter. The edge, the local stack
and the CLI, which start a process, take their Runtime from here; a service never imports this module (the import
contracts in pyproject.toml)."""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from .ports import Answerer, ClauseIndex, Clock, IdGenerator
from .runtime import Runtime
from .settings import Settings, settings

if TYPE_CHECKING:
    from .adapters.tenant_sessions import TenantSessions
    from .domain.copilot import Draft, Hit, IndexedDocument, IngestResult, Passage, Scope

# Each build_* imports the adapters of its own engine inside it: a process loads only the engine the settings name
# (cold start; boto3 and the copilot's models are optional dependencies).


def build_runtime(config: Settings) -> Runtime:
    if config.backend == "sqlite":
        return build_embedded_runtime(config)
    if config.backend == "memory":
        return build_memory_runtime(config)
    if config.backend != "dynamodb":
        raise ValueError(f"REVGOV_BACKEND must be dynamodb, sqlite or memory, not {config.backend!r}")
    from .adapters.dynamo import DynamoDocumentStore
    from .adapters.eventbridge import EventBridgePublisher
    from .adapters.ratelimit import DynamoRateLimiter
    from .adapters.system import RandomIds, SystemClock

    clock = SystemClock()
    ids = RandomIds(clock)
    sessions = None
    if config.tenant_role_arn:  # isolation by IAM: each tenant's partition through its own TenantAccessRole session
        from .adapters.tenant_sessions import tenant_sessions

        sessions = tenant_sessions(config.tenant_role_arn, config.region, config.endpoint_url)
    store = DynamoDocumentStore(
        config.table_name, config.region, clock, ids, host=config.endpoint_url, sessions=sessions
    )
    publisher = EventBridgePublisher(config.event_bus, config.region, config.endpoint_url)
    clause_index, answerer = deferred_copilot(config)
    limiter = DynamoRateLimiter(config.table_name, config.region, clock, endpoint_url=config.endpoint_url)
    return Runtime(
        config, store, publisher, clock, ids, clause_index=clause_index, answerer=answerer, rate_limiter=limiter
    )


def build_embedded_runtime(config: Settings) -> Runtime:
    """The embedded engine: every port on one SQLite file (document store and audit chain, outbox, the rules' durable
    queues, rate limits, idempotency records), no AWS service and no emulator."""
    from .adapters.ratelimit import SqliteRateLimiter
    from .adapters.sqlite_bus import SqliteEventBus, SqliteQueues
    from .adapters.sqlite_db import database
    from .adapters.sqlite_store import SqliteDocumentStore
    from .adapters.system import RandomIds, SystemClock
    from .resources import load_rules

    clock = SystemClock()
    ids = RandomIds(clock)
    db = database(config.data_file)
    queues = SqliteQueues(db)
    publisher = SqliteEventBus(queues, db, load_rules(config.events_dir), region=config.region, clock=clock)
    clause_index, answerer = deferred_copilot(config)
    return Runtime(
        config, SqliteDocumentStore(db, clock, ids, bus=publisher), publisher, clock, ids, clause_index=clause_index,
        answerer=answerer, rate_limiter=SqliteRateLimiter(db, clock), queues=queues,
    )


def build_memory_runtime(config: Settings, clock: Clock | None = None, ids: IdGenerator | None = None) -> Runtime:
    """Everything in memory, for service-level tests: the same commit protocol on dicts, a bus whose events a test
    delivers when it chooses (adapters.memory_bus), no rate limiter, no copilot, no file, no thread."""
    from .adapters.memory_bus import MemoryEventBus
    from .adapters.memory_store import MemoryDocumentStore
    from .adapters.system import RandomIds, SystemClock
    from .resources import load_rules

    clock = clock or SystemClock()
    ids = ids or RandomIds(clock)
    bus = MemoryEventBus(load_rules(config.events_dir))
    return Runtime(config, MemoryDocumentStore(clock, ids), bus, clock, ids)


def build_copilot(config: Settings) -> tuple[ClauseIndex, Answerer]:
    """The copilot's adapters. Each opens nothing heavy until first used (no model load at cold start)."""
    from .adapters.answerers import BedrockAnswerer, LocalAnswerer
    from .adapters.embeddings import CachedEmbedder, MiniLMEmbedder, TitanEmbedder

    c = config.copilot
    model: Any = TitanEmbedder(c.embedding_model, config.region) if c.embedder == "bedrock" else MiniLMEmbedder()
    embedder = CachedEmbedder(model, c.embedding_cache) if c.embedding_cache and c.embedder != "bedrock" else model
    index: ClauseIndex
    if c.index == "opensearch":
        from .adapters.opensearch_index import OpenSearchClauseIndex

        index = OpenSearchClauseIndex(
            embedder, endpoint=c.opensearch_endpoint, region=config.region, service=c.opensearch_service,
            sessions=search_sessions(config),
        )
    else:
        from .adapters.local_index import SqliteClauseIndex

        index = SqliteClauseIndex(c.index_path, embedder, query_embedder=model)
    answerer = BedrockAnswerer(c.answer_model, config.region) if c.answerer == "bedrock" else LocalAnswerer()
    return index, answerer


def search_sessions(config: Settings) -> TenantSessions | None:
    """The tenants' search-role sessions (one role per tenant, untagged), or None: the process's own credentials."""
    template = config.copilot.search_role_arn_template
    if not template:
        return None
    from .adapters.tenant_sessions import tenant_sessions

    _check_search_template(template)
    return tenant_sessions(template, config.region, config.endpoint_url, tag_sessions=False)


def _check_search_template(template: str) -> None:
    from .adapters.tenant_sessions import TENANT_PLACEHOLDER

    if TENANT_PLACEHOLDER not in template:  # one role for every tenant would fence no tenant from another
        raise ValueError(f"REVGOV_SEARCH_ROLE_ARN_TEMPLATE must contain {TENANT_PLACEHOLDER}: {template!r}")


# --- the copilot's adapters, built at their first use ----------------------------------------------------------------
# The index and the answerer import the copilot's core (~50-80 ms, more on a busy core) and, for the local index, its
# SQLite file: a Lambda whose requests never ask the copilot, explain a decision or re-index a contract never loads
# them (tests/unit/test_cold_start_imports.py). The settings are checked at once, as before: a misconfigured search
# role fails the cold start, not a later question.


def deferred_copilot(config: Settings) -> tuple[ClauseIndex, Answerer]:
    """The copilot's index and answerer as `build_copilot` makes them, built by the first call that needs one."""
    if config.copilot.index == "opensearch" and config.copilot.search_role_arn_template:
        _check_search_template(config.copilot.search_role_arn_template)
    adapters = _Deferred(config)
    return DeferredClauseIndex(adapters), DeferredAnswerer(adapters)


_Adapter = TypeVar("_Adapter")


class _Deferred:
    """`build_copilot(config)`, once per process and thread-safe, at the first call that needs it."""

    def __init__(self, config: Settings) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._built: tuple[ClauseIndex, Answerer] | None = None

    def built(self) -> tuple[ClauseIndex, Answerer]:
        if self._built is None:
            with self._lock:
                if self._built is None:
                    self._built = build_copilot(self._config)
        return self._built


class _Delegate(Generic[_Adapter]):
    """An adapter's other attributes (the local index's `tenants`) are read from the built adapter (`adapter()`);
    `_SLOT` is its place in what `build_copilot` returns."""

    _SLOT: int

    def __init__(self, adapters: _Deferred) -> None:
        self._adapters = adapters

    def adapter(self) -> _Adapter:
        """The adapter itself, built now if it was not yet."""
        return cast(_Adapter, self._adapters.built()[self._SLOT])

    def __getattr__(self, name: str) -> Any:
        if name == "_adapters":  # not yet set (a copy being made): no build
            raise AttributeError(name)
        return getattr(self.adapter(), name)


class DeferredClauseIndex(_Delegate[ClauseIndex]):
    """The ClauseIndex port over the index `build_copilot` makes, built at its first use."""

    _SLOT = 0

    def index_document(self, document: IndexedDocument) -> IngestResult:
        return self.adapter().index_document(document)

    def documents(self, tenant_id: str) -> dict[str, str | None]:
        return self.adapter().documents(tenant_id)

    def remove_document(self, tenant_id: str, document: str) -> int:
        return self.adapter().remove_document(tenant_id, document)

    def search(self, scope: Scope, query: str, *, k: int = 5, mode: str = "hybrid") -> list[Hit]:
        return self.adapter().search(scope, query, k=k, mode=mode)

    def get(self, scope: Scope, clause_ids: list[str]) -> list[Passage]:
        return self.adapter().get(scope, clause_ids)

    def unit_similarities(self, query: str, passages: list[Passage]) -> list[list[float]] | None:
        return self.adapter().unit_similarities(query, passages)

    def delete_tenant(self, tenant_id: str) -> int:
        return self.adapter().delete_tenant(tenant_id)


class DeferredAnswerer(_Delegate[Answerer]):
    """The Answerer port over the answerer `build_copilot` makes, built at its first use."""

    _SLOT = 1

    def answer(self, question: str, hits: list[Hit], *, context: list[str]) -> Draft:
        return self.adapter().answer(question, hits, context=context)


@lru_cache(maxsize=1)
def runtime() -> Runtime:
    return build_runtime(settings())
