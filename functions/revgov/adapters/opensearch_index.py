"""The AWS clause index: OpenSearch, one index per tenant, ranked as the embedded index ranks: BM25 over whole clauses
and k-NN over clauses and their retrieval passages, asked in one `_msearch`, each clause scored on the meaning side by
`copilot.dense_score` (its cosine plus half its best passage's lead) and the two rankings fused here by reciprocal rank
(`copilot.reciprocal_rank_fusion`, the constant the embedded index uses), so a question ranks the same clauses in the
same order in either engine. The tenant and partner filters are inside both searches, so neither side can surface
another tenant's or partner's clause. opensearch-py loads on first use.

In AWS each tenant's requests are signed with an STS session of that tenant's search role
(`REVGOV_SEARCH_ROLE_ARN_TEMPLATE`), which the collection's data access policy lets onto that tenant's indexes only
(`resources.SEARCH`); the sessions come from the same cache as the DynamoDB ones (`tenant_sessions`). Without a
template (the CLI with the caller's own credentials, tests) requests are signed with the process's credentials.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..domain.copilot import (
    CANDIDATES,
    RRF_K,
    Hit,
    IndexedDocument,
    IngestResult,
    Passage,
    Scope,
    dense_score,
    keywords,
    reciprocal_rank_fusion,
)
from ..domain.copilot_units import retrieval_passages
from ..ports import Embedder
from ..resources import SEARCH

if TYPE_CHECKING:
    from .tenant_sessions import TenantSessions

PIPELINE = "revgov-hybrid"


def pipeline_name(tenant_id: str) -> str:
    """Each tenant's own search pipeline, created with that tenant's search role (never one tenant's for all), named
    after its index so the tenant's data access rule (`<tenant>_*`) covers it."""
    return f"{SEARCH.clause_index(tenant_id)}-{PIPELINE}"
# The meaning side's window of documents (clauses and passages together): a clause is ranked on that side when its
# best document is in it; with no more documents than this in a scope, its ranking is the embedded index's exactly.
DENSE_WINDOW = 4 * CANDIDATES
# Bumped when `copilot_units.retrieval_passages` splits differently: a document indexed under another split (or
# before retrieval passages) gets its passages again, though its hash is unchanged.
PASSAGE_SPLIT = "1"
_FENCE = ("tenant_id", "partner_id", "clause_id", "kind")  # what the scope check and the ranking read of a hit
_FIELDS = ("tenant_id", "document", "document_title", "document_version", "clause_id", "title", "text",
           "partner_id", "clause_hash", "document_hash")


# A long clause's retrieval passages are documents of kind "passage" beside the clause's own: the passage text in
# `passage` (kept to read, not searched by words), its vector in `vector` (searched by k-NN); the document record
# notes the `split`.
PASSAGE_FIELDS: dict[str, Any] = {"passage": {"type": "text"}, "split": {"type": "keyword"}}


def mapping(dimension: int) -> dict[str, Any]:
    keyword = {"type": "keyword"}
    return {
        "settings": {"index": {"knn": True}},
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "kind": keyword, "tenant_id": keyword, "partner_id": keyword, "visibility": keyword,
                "document": keyword, "document_title": {"type": "text"}, "document_version": keyword,
                "clause_id": keyword, "title": {"type": "text"}, "text": {"type": "text"},
                **PASSAGE_FIELDS,
                "clause_hash": keyword, "document_hash": keyword, "model": keyword,
                "vector": {
                    "type": "knn_vector",
                    "dimension": dimension,
                    "method": {"name": "hnsw", "space_type": "cosinesimil", "engine": "lucene"},
                },
            },
        },
    }


def pipeline_body() -> dict[str, Any]:
    """The tenant's own search pipeline: reciprocal rank fusion of a hybrid query's sub-queries with the embedded
    index's constant. The copilot's searches fuse their two rankings themselves (`OpenSearchClauseIndex.search`: the
    meaning side ranks clauses by their best passage, which a per-document fusion in the cluster cannot), so this
    pipeline serves a hybrid query sent to the tenant's index by anything else with the same fusion."""
    return {
        "description": "Revgov copilot: BM25 and k-NN fused by reciprocal rank, as the embedded index fuses them",
        "phase_results_processors": [
            {"score-ranker-processor": {"combination": {"technique": "rrf", "rank_constant": RRF_K}}}
        ],
    }


def scope_filter(scope: Scope, kind: str | tuple[str, ...] = "clause") -> list[dict[str, Any]]:
    """The fence every query carries: this tenant, and public clauses or this partner's own."""
    kinds: dict[str, Any] = {"term": {"kind": kind}} if isinstance(kind, str) else {"terms": {"kind": list(kind)}}
    fence: list[dict[str, Any]] = [{"term": {"tenant_id": scope.tenant_id}}, kinds]
    if not scope.all_partners:
        visible: list[dict[str, Any]] = [{"term": {"visibility": "public"}}]
        if scope.partner_id:
            visible.append({"term": {"partner_id": scope.partner_id}})
        fence.append({"bool": {"should": visible, "minimum_should_match": 1}})
    return fence


def lexical_body(scope: Scope, query: str) -> dict[str, Any]:
    """BM25 over whole clauses (title weighted twice, the field scores summed, as the embedded index's
    `bm25(<the tenant's word table>, 2.0, 1.0)`: statistics per tenant in both), asked for the question's content
    words (`copilot.keywords`, the words the embedded index matches), the first `CANDIDATES` clauses."""
    return {
        "size": CANDIDATES,
        "_source": list(_FENCE),
        "query": {"bool": {
            "must": [{"multi_match": {"query": " ".join(keywords(query)), "fields": ["title^2", "text"],
                                      "type": "most_fields"}}],
            "filter": scope_filter(scope),
        }},
    }


def dense_body(scope: Scope, vector: list[float]) -> dict[str, Any]:
    """k-NN over clauses and their retrieval passages, the first `DENSE_WINDOW` documents with their vectors (each
    clause's cosine and its best passage's are computed here, so the score's scale on the cluster does not matter)."""
    fence = scope_filter(scope, ("clause", "passage"))
    return {
        "size": DENSE_WINDOW,
        "_source": [*_FIELDS, "kind", "vector"],
        "query": {"knn": {"vector": {"vector": vector, "k": DENSE_WINDOW, "filter": {"bool": {"filter": fence}}}}},
    }


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def _passage(source: dict[str, Any]) -> Passage:
    fields: dict[str, Any] = {name: source.get(name) for name in _FIELDS}
    return Passage(**fields)


def _admitted(scope: Scope, source: dict[str, Any]) -> bool:
    """The scope's check on a clause or passage document as the cluster returned it."""
    return scope.admits(_passage({**source, "text": source.get("text") or ""}))


class TenantSearchCredentials:
    """What the SigV4 signer reads before every request: the tenant's current search-role session from the shared
    cache, which renews it; never the function's own credentials, never another tenant's."""

    def __init__(self, sessions: TenantSessions, tenant_id: str) -> None:
        self.sessions = sessions
        self.tenant_id = tenant_id

    def get_frozen_credentials(self) -> Any:
        from botocore.credentials import ReadOnlyCredentials

        granted = self.sessions.credentials(self.tenant_id)
        return ReadOnlyCredentials(granted.access_key_id, granted.secret_access_key, granted.session_token)


class OpenSearchClauseIndex:
    def __init__(
        self,
        embedder: Embedder,
        *,
        endpoint: str | None = None,
        region: str = "us-east-1",
        service: str = "aoss",
        sessions: TenantSessions | None = None,
        client: Any = None,
        connection_class: Any = None,
        refresh: bool = False,
    ) -> None:
        self._embedder = embedder
        self._endpoint = endpoint
        self._region = region
        self._service = service
        self._sessions = sessions  # one search role per tenant; None: the process's own credentials
        self._client = client  # one given client for every tenant (tests)
        self._connection_class = connection_class
        self._clients: dict[str, Any] = {}  # tenant id ("" without sessions) -> client signing as that tenant
        self._refresh = refresh
        self._ready: set[str] = set()
        self._pipelines: set[str] = set()  # tenants whose search pipeline this process has put

    def _os(self, tenant_id: str) -> Any:
        """The client for this tenant's requests: signed with the tenant's search role when there are sessions."""
        if self._client is not None:
            return self._client
        if self._sessions is not None:
            # Open (or check) the session here, so a bad tenant id or a refused AssumeRole fails as itself, not as a
            # retried ConnectionError from inside the transport's signer.
            self._sessions.credentials(tenant_id)
        key = tenant_id if self._sessions is not None else ""
        if key not in self._clients:
            self._clients[key] = self._connect(tenant_id)
        return self._clients[key]

    def _connect(self, tenant_id: str) -> Any:
        from opensearchpy import OpenSearch, Urllib3AWSV4SignerAuth, Urllib3HttpConnection

        if not self._endpoint:
            raise RuntimeError("REVGOV_OPENSEARCH_ENDPOINT is not set")
        if self._sessions is not None:
            credentials: Any = TenantSearchCredentials(self._sessions, tenant_id)
        else:
            import boto3

            credentials = boto3.Session().get_credentials()
        auth = Urllib3AWSV4SignerAuth(credentials, self._region, self._service)
        host = self._endpoint.removeprefix("https://").rstrip("/")
        return OpenSearch(
            hosts=[{"host": host, "port": 443}], http_auth=auth, use_ssl=True, verify_certs=True,
            connection_class=self._connection_class or Urllib3HttpConnection, timeout=10,
        )

    def index_name(self, tenant_id: str) -> str:
        return SEARCH.clause_index(tenant_id)

    def _ensure(self, tenant_id: str) -> str:
        index = self.index_name(tenant_id)
        client = self._os(tenant_id)
        if tenant_id not in self._pipelines:
            client.transport.perform_request("PUT", f"/_search/pipeline/{pipeline_name(tenant_id)}",
                                             body=pipeline_body())
            self._pipelines.add(tenant_id)
        if index not in self._ready:
            if not client.indices.exists(index=index):
                client.indices.create(index=index, body=mapping(self._embedder.dimension))
            else:  # an index made before retrieval passages: add their fields (a strict mapping refuses others)
                client.indices.put_mapping(index=index, body={"properties": PASSAGE_FIELDS})
            self._ready.add(index)
        return index

    # --- ingestion ----------------------------------------------------------------------------------------------
    def index_document(self, document: IndexedDocument) -> IngestResult:
        index = self._ensure(document.tenant_id)
        client = self._os(document.tenant_id)
        model = self._embedder.model_id
        known = client.get(index=index, id=f"document:{document.document}", ignore=[404])
        source = known.get("_source") if known.get("found") else None
        split_known = source is not None and source.get("split") == PASSAGE_SPLIT and source.get("model") == model
        if source and source.get("document_hash") == document.document_hash and split_known:
            return IngestResult(document.document, "unchanged", len(document.passages), 0)
        ids = [p.clause_id for p in document.passages]
        _refuse_clashes(client, index, document.document, ids)
        existing = _indexed_clauses(client, index, document.document)
        stale = [
            p for p in document.passages
            if existing.get(p.clause_id, {}).get("clause_hash") != p.clause_hash
            or existing.get(p.clause_id, {}).get("model") != model
        ]
        fresh = dict(zip((p.clause_id for p in stale), self._embedder.embed([p.indexed_text for p in stale]),
                         strict=True))
        actions: list[dict[str, Any]] = []
        visibility = "partner" if document.partner_id else "public"
        for p in document.passages:
            vector = fresh.get(p.clause_id) or existing[p.clause_id]["vector"]
            actions.append({"index": {"_index": index, "_id": f"clause:{p.clause_id}"}})
            actions.append({**{name: getattr(p, name) for name in _FIELDS}, "kind": "clause",
                            "visibility": visibility, "model": model, "vector": vector})
        removed = [c for c in existing if c not in set(ids)]
        for clause_id in removed:
            actions.append({"delete": {"_index": index, "_id": f"clause:{clause_id}"}})
        # retrieval passages: of every clause when the document was indexed under another split, else of the
        # changed clauses; the old passages of those clauses and of removed ones are deleted first
        segmenting = list(document.passages) if not split_known else stale
        _delete_passages(client, index, document.document,
                         None if not split_known else [p.clause_id for p in stale] + removed)
        actions.extend(self._passage_actions(index, segmenting, visibility, model))
        actions.append({"index": {"_index": index, "_id": f"document:{document.document}"}})
        actions.append({"kind": "document", "tenant_id": document.tenant_id, "partner_id": document.partner_id,
                        "visibility": visibility, "document": document.document, "document_title": document.title,
                        "document_version": document.version, "document_hash": document.document_hash,
                        "model": model, "split": PASSAGE_SPLIT})
        response = client.bulk(body=actions, params={"refresh": "true"} if self._refresh else None)
        if response.get("errors"):
            failed = [item for item in response.get("items", []) if any("error" in v for v in item.values())]
            raise RuntimeError(f"OpenSearch refused {len(failed)} of {len(actions) // 2} writes")
        return IngestResult(document.document, "updated" if source else "added", len(ids), len(fresh), len(removed))

    def _passage_actions(self, index: str, clauses: list[Passage], visibility: str, model: str
                         ) -> list[dict[str, Any]]:
        """Bulk actions indexing each clause's retrieval passages (`copilot_units.retrieval_passages`), embedded as
        the clause title and the passage, as the embedded index does."""
        parts = [(p, i, text) for p in clauses for i, text in enumerate(retrieval_passages(p.text))]
        if not parts:
            return []
        vectors = self._embedder.embed([f"{p.title}. {text}" for p, _, text in parts])
        actions: list[dict[str, Any]] = []
        for (p, i, text), vector in zip(parts, vectors, strict=True):
            actions.append({"index": {"_index": index, "_id": f"passage:{p.clause_id}:{i}"}})
            actions.append({**{name: getattr(p, name) for name in _FIELDS if name != "text"}, "kind": "passage",
                            "passage": text, "visibility": visibility, "model": model, "vector": vector})
        return actions

    def documents(self, tenant_id: str) -> dict[str, str | None]:
        index = self._ensure(tenant_id)
        hits = self._os(tenant_id).search(
            index=index,
            body={"size": 1000, "_source": ["document", "partner_id"],
                  "query": {"bool": {"filter": scope_filter(Scope(tenant_id, all_partners=True), "document")}}},
        )["hits"]["hits"]
        return {h["_source"]["document"]: h["_source"].get("partner_id") for h in sorted(
            hits, key=lambda h: h["_source"]["document"])}

    def remove_document(self, tenant_id: str, document: str) -> int:
        index = self._ensure(tenant_id)
        response = self._os(tenant_id).delete_by_query(
            index=index,
            body={"query": {"bool": {"filter": [{"term": {"tenant_id": tenant_id}},
                                                {"term": {"document": document}}]}}},
        )
        return max(0, int(response.get("deleted", 0)) - 1)

    def delete_tenant(self, tenant_id: str) -> int:
        client = self._os(tenant_id)
        client.indices.delete(index=self.index_name(tenant_id), ignore=[404])
        client.transport.perform_request("DELETE", f"/_search/pipeline/{pipeline_name(tenant_id)}", ignore=(404,))
        self._ready.discard(self.index_name(tenant_id))
        self._pipelines.discard(tenant_id)
        return 1

    # --- reads --------------------------------------------------------------------------------------------------
    def get(self, scope: Scope, clause_ids: list[str]) -> list[Passage]:
        return [_passage(source) for source in self._clause_sources(scope, clause_ids)]

    def _clause_sources(self, scope: Scope, clause_ids: list[str], *, vectors: bool = False) -> list[dict[str, Any]]:
        """The clauses' own documents, in the order asked, within the scope."""
        if not clause_ids:
            return []
        hits = self._os(scope.tenant_id).search(
            index=self._ensure(scope.tenant_id),
            body={"size": len(clause_ids), "_source": [*_FIELDS, "vector"] if vectors else list(_FIELDS),
                  "query": {"bool": {"filter": [*scope_filter(scope), {"terms": {"clause_id": clause_ids}}]}}},
        )["hits"]["hits"]
        found = {h["_source"]["clause_id"]: h["_source"] for h in hits}
        return [found[c] for c in dict.fromkeys(clause_ids) if c in found and _admitted(scope, found[c])]

    def unit_similarities(self, query: str, passages: list[Passage]) -> list[list[float]] | None:
        """None: unit vectors are not indexed here (the embedded index stores them at indexing; here that would be a
        Titan call per unit, about twice the clause calls, and a nested vector field per clause), and embedding them
        per question would be a Titan call per unit on each question. The answerability model then reads each unit as
        its whole clause (`copilot_answerability`): no question waits on unit embeddings, at some loss of accuracy."""
        return None

    def search(self, scope: Scope, query: str, *, k: int = 5, mode: str = "hybrid") -> list[Hit]:
        """Clauses ranked as the embedded index ranks them: by words (BM25 over whole clauses) and by meaning (each
        clause's `dense_score` from its own cosine and its best retrieval passage's), the two rankings fused by
        reciprocal rank. Both searches go in one `_msearch`; a clause ranked by its passages only has its own vector
        read with one more (fenced) request, and a chosen clause no search returned whole is read whole likewise.
        `dense` is the clause's own cosine, `part_dense` the larger of it and its best passage's, `lexical_rank` its
        BM25 rank."""
        index = self._ensure(scope.tenant_id)
        client = self._os(scope.tenant_id)
        vector = self._embedder.embed([query])[0]
        sides = (["lexical"] if mode in ("hybrid", "lexical") and keywords(query) else []) + ["dense"]
        bodies = {"lexical": lambda: lexical_body(scope, query), "dense": lambda: dense_body(scope, vector)}
        request: list[dict[str, Any]] = []
        for side in sides:
            request.extend([{"index": index}, bodies[side]()])
        responses = dict(zip(sides, client.msearch(body=request, index=index)["responses"], strict=True))
        for side, response in responses.items():
            if "error" in response:
                raise RuntimeError(f"OpenSearch refused the {side} search: {response['error']}")
        lexical = list(dict.fromkeys(
            raw["_source"]["clause_id"] for raw in responses.get("lexical", {}).get("hits", {}).get("hits", [])
            if _admitted(scope, raw["_source"])))  # the query is fenced; this is the second lock on the same door
        clauses: dict[str, dict[str, Any]] = {}  # clause id -> its own document, as returned
        cosines: dict[str, float] = {}  # clause id -> its own cosine
        best: dict[str, float] = {}  # clause id -> the larger of its cosine and its best passage's
        for raw in responses["dense"].get("hits", {}).get("hits", []):
            source = raw["_source"]
            if not _admitted(scope, source) or not source.get("vector"):
                continue
            clause_id, cosine = source["clause_id"], _cosine(vector, source["vector"])
            best[clause_id] = max(best.get(clause_id, -1.0), cosine)
            if source.get("kind", "clause") == "clause":
                clauses[clause_id], cosines[clause_id] = source, cosine
        unread = [c for c in best if c not in cosines]  # ranked by a passage only: its own cosine is read
        for source in self._clause_sources(scope, unread, vectors=True):
            clauses[source["clause_id"]] = source
            cosines[source["clause_id"]] = _cosine(vector, source["vector"]) if source.get("vector") else -1.0
        ranked = [c for c in best if c in cosines]
        scores = {c: dense_score(cosines[c], max(best[c], cosines[c])) for c in ranked}
        dense = sorted(ranked, key=lambda c: -scores[c])[:CANDIDATES]  # ties in the order the cluster returned
        rankings = {"hybrid": [lexical, dense], "lexical": [lexical], "dense": [dense]}[mode]
        fused = reciprocal_rank_fusion(rankings)[:k]
        missing = [c for c, _ in fused if c not in clauses]
        clauses.update({s["clause_id"]: s for s in self._clause_sources(scope, missing, vectors=True)})
        lexical_rank = {clause_id: rank for rank, clause_id in enumerate(lexical, start=1)}
        hits = []
        for clause_id, score in fused:
            if clause_id not in clauses:
                continue
            source = clauses[clause_id]
            own = cosines.get(clause_id)
            if own is None and source.get("vector"):
                own = _cosine(vector, source["vector"])
            part = max(best.get(clause_id, -1.0), own) if own is not None else None
            hits.append(Hit(_passage(source), score, own, lexical_rank.get(clause_id), part))
        return hits


def _delete_passages(client: Any, index: str, document: str, clause_ids: list[str] | None) -> None:
    """Delete the document's retrieval passages: of these clauses, or all of them (None)."""
    if clause_ids == []:
        return
    fence: list[dict[str, Any]] = [{"term": {"kind": "passage"}}, {"term": {"document": document}}]
    if clause_ids is not None:
        fence.append({"terms": {"clause_id": clause_ids}})
    client.delete_by_query(index=index, body={"query": {"bool": {"filter": fence}}}, params={"conflicts": "proceed"})


def _refuse_clashes(client: Any, index: str, document: str, clause_ids: list[str]) -> None:
    """A clause id is indexed in one document only: refuse a document whose clauses another document holds."""
    clash = client.search(
        index=index,
        body={
            "size": 1,
            "_source": ["clause_id", "document"],
            "query": {"bool": {
                "filter": [{"term": {"kind": "clause"}}, {"terms": {"clause_id": clause_ids}}],
                "must_not": [{"term": {"document": document}}],
            }},
        },
    )["hits"]["hits"]
    if clash:
        other = clash[0]["_source"]
        raise ValueError(f"clause {other['clause_id']} is already indexed in document {other['document']}")


def _indexed_clauses(client: Any, index: str, document: str) -> dict[str, dict[str, Any]]:
    """The document's clauses as indexed now (hash, vector, model), by clause id."""
    hits = client.search(
        index=index,
        body={
            "size": 1000,
            "_source": ["clause_id", "clause_hash", "vector", "model"],
            "query": {"bool": {"filter": [{"term": {"kind": "clause"}}, {"term": {"document": document}}]}},
        },
    )["hits"]["hits"]
    return {hit["_source"]["clause_id"]: hit["_source"] for hit in hits}
