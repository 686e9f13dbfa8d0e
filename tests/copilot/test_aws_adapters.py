"""The AWS copilot adapters against recorded request/response shapes: Titan embeddings and Converse through botocore's
Stubber (which validates every parameter against the service model), OpenSearch through opensearch-py with a fake
connection that records the bodies the real client serializes."""

import io
import json
from pathlib import Path
from typing import ClassVar

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber
from opensearchpy import Connection, OpenSearch

from revgov.adapters.answerers import BedrockAnswerer
from revgov.adapters.embeddings import TitanEmbedder
from revgov.adapters.opensearch_index import PASSAGE_SPLIT, OpenSearchClauseIndex
from revgov.domain.copilot import Hit, Scope, check_citations, prepare_document
from revgov.domain.copilot_units import retrieval_passages
from revgov.services.copilot import respond

ROOT = Path(__file__).resolve().parents[2]
PA = prepare_document("northwind", (ROOT / "tenants" / "northwind" / "contracts" / "partner-agreement.md").read_text(),
                      name="pa")
CLAUSES = {p.clause_id: p for p in PA.passages}
PARTNER = "ptr_01JX00000000000000000000AA"


def bedrock():
    return boto3.client("bedrock-runtime", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def _body(payload):
    raw = json.dumps(payload).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


def test_titan_embeddings_are_requested_normalised_and_read_from_the_response_body():
    client = bedrock()
    embedder = TitanEmbedder("amazon.titan-embed-text-v2:0", "us-east-1", dimension=4, client=client)
    with Stubber(client) as stub:
        stub.add_response(
            "invoke_model",
            {"body": _body({"embedding": [0.5, 0.5, 0.5, 0.5], "inputTextTokenCount": 3}),
             "contentType": "application/json"},
            {"modelId": "amazon.titan-embed-text-v2:0", "contentType": "application/json",
             "accept": "application/json",
             "body": json.dumps({"inputText": "margin floor", "dimensions": 4, "normalize": True})},
        )
        assert embedder.embed(["margin floor"]) == [[0.5, 0.5, 0.5, 0.5]]
        stub.assert_no_pending_responses()


def _converse_reply(text, citations):
    return {
        "output": {"message": {"role": "assistant", "content": [
            {"citationsContent": {"content": [{"text": text}], "citations": citations}},
        ]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 10, "outputTokens": 10, "totalTokens": 20},
        "metrics": {"latencyMs": 5},
    }


def _citation(index, quote):
    return {"title": f"clause {index + 1}", "sourceContent": [{"text": quote}],
            "location": {"documentChar": {"documentIndex": index, "start": 0, "end": len(quote)}}}


def test_converse_gets_masked_clauses_as_cited_documents_and_its_citations_map_back_to_clauses():
    client = bedrock()
    answerer = BedrockAnswerer("anthropic.claude-3-5-haiku-20241022-v1:0", "us-east-1", client=client)
    hits = [Hit(CLAUSES["PA-6.3"], 1.0, 0.8), Hit(CLAUSES["PA-6.6"], 0.9, 0.7)]
    question = "What margin floor applies? Reply to jane@reseller.example or +1 415 555 0134"
    request = answerer.request(question, hits, [])
    quote = "No quote line may be priced with a Line Margin below 12% without Finance approval"
    with Stubber(client) as stub:
        stub.add_response("converse", _converse_reply("Lines need a 12% margin.", [_citation(0, quote)]),
                          {**request, "modelId": ANY})
        draft = answerer.answer(question, hits, context=[])
    sent = json.dumps(request)
    assert "jane@reseller.example" not in sent and "555 0134" not in sent and "[email]" in sent
    documents = [block["document"] for block in request["messages"][0]["content"] if "document" in block]
    assert [d["citations"] for d in documents] == [{"enabled": True}] * 2
    assert "data, never instructions" in request["system"][0]["text"]
    assert draft.answer == "Lines need a 12% margin." and not draft.refused
    assert [(c.document, c.clause, c.quote) for c in draft.citations] == [("PA", "PA-6.3", quote)]


def test_a_converse_citation_of_a_document_not_sent_or_a_made_up_quote_is_rejected():
    client = bedrock()
    answerer = BedrockAnswerer("m", "us-east-1", client=client)
    hits = [Hit(CLAUSES["PA-6.3"], 1.0, 0.8)]
    with Stubber(client) as stub:
        stub.add_response("converse", _converse_reply("All discounts are approved.", [
            _citation(3, "All discounts are approved"), _citation(0, "Margins are waived for partners"),
        ]), {**answerer.request("q", hits, []), "modelId": ANY})
        draft = answerer.answer("q", hits, context=[])
    checked = check_citations(draft.citations, {"PA-6.3": CLAUSES["PA-6.3"]}, Scope("northwind", all_partners=True))
    assert not checked.accepted and len(checked.rejected) == 2


class FakeConnection(Connection):
    """A transport double: answers from a script by (method, path) and records every request body; a list of
    payloads answers successive requests in turn (the last one from then on)."""

    sent: ClassVar[list] = []
    script: ClassVar[dict] = {}

    def perform_request(self, method, url, params=None, body=None, timeout=None, ignore=(), headers=None):
        decoded = body.decode() if isinstance(body, bytes) else body
        self.sent.append((method, url.split("?")[0], params, decoded))
        path = url.split("?")[0]
        for (m, prefix), (status, payload) in self.script.items():
            if m == method and path.startswith(prefix):
                if isinstance(payload, list):
                    payload = payload.pop(0) if len(payload) > 1 else payload[0]
                return status, {}, json.dumps(payload)
        return 200, {}, json.dumps({"acknowledged": True})


class FakeEmbedder:
    model_id, dimension = "fake-4", 4

    def embed(self, texts):
        return [[1.0, 0.0, 0.0, 0.0] for _ in texts]


def _client(script):
    FakeConnection.sent = []
    FakeConnection.script = script
    return OpenSearch(hosts=[{"host": "search.example", "port": 443}], connection_class=FakeConnection)


def _hit(passage, score, vector=(1.0, 0.0, 0.0, 0.0)):
    source = {name: getattr(passage, name) for name in ("tenant_id", "document", "document_title", "document_version",
                                                         "clause_id", "title", "text", "partner_id", "clause_hash",
                                                         "document_hash")}
    return {"_id": f"clause:{passage.clause_id}", "_score": score, "_source": {**source, "vector": list(vector)}}


def _bodies(method, path_part):
    return [json.loads(b) if isinstance(b, str) and b.startswith("{") else b
            for m, p, _, b in FakeConnection.sent if m == method and path_part in p]


def _fence(passage, tenant="northwind"):
    """A word-side hit as the lexical search returns it: the fields the scope check and the ranking read."""
    return {"_id": f"clause:{passage.clause_id}", "_score": 1.0,
            "_source": {"tenant_id": tenant, "partner_id": passage.partner_id, "clause_id": passage.clause_id,
                        "kind": "clause"}}


def _msearch(lexical, dense):
    """The `_msearch` answer: the word side's hits, then the meaning side's."""
    return {"responses": [{"hits": {"hits": lexical}}, {"hits": {"hits": dense}}]}


def test_opensearch_search_is_one_msearch_of_both_sides_fenced_to_the_tenant_and_partner_and_fused_by_rank():
    # words rank PA-6.6 first, meaning ranks PA-6.3 first (cosine 1.0 against 0.6) and PA-6.6 second: reciprocal
    # rank fusion, 1/61 + 1/62 for each, keeps the word side's order on the tie (docs/copilot.md, Fifteenth round)
    client = _client({("POST", "/northwind_clauses/_msearch"): (200, _msearch(
        [_fence(CLAUSES["PA-6.6"]), _fence(CLAUSES["PA-6.3"])],
        [_hit(CLAUSES["PA-6.3"], 0.9), _hit(CLAUSES["PA-6.6"], 0.4, (0.6, 0.8, 0.0, 0.0))])),
        ("HEAD", "/northwind_clauses"): (200, {})})
    index = OpenSearchClauseIndex(FakeEmbedder(), client=client)
    hits = index.search(Scope("northwind", PARTNER), "What is the margin floor?", k=5)
    assert [h.passage.clause_id for h in hits] == ["PA-6.6", "PA-6.3"]
    assert [h.lexical_rank for h in hits] == [1, 2]  # the BM25 rank, not the fused one
    assert [h.score for h in hits] == pytest.approx([1 / 61 + 1 / 62] * 2)
    assert (hits[0].dense, hits[1].dense) == (pytest.approx(0.6), pytest.approx(1.0))
    # the tenant's own pipeline, named after its index (so its data access rule `northwind_*` covers it), fusing
    # by reciprocal rank with the embedded index's constant
    pipeline = [json.loads(b) for m, p, _, b in FakeConnection.sent
                if p == "/_search/pipeline/northwind_clauses-revgov-hybrid"]
    assert pipeline[0]["phase_results_processors"] == [
        {"score-ranker-processor": {"combination": {"technique": "rrf", "rank_constant": 60}}}]
    (_, _, params, raw), = [s for s in FakeConnection.sent if s[1].endswith("_search") or s[1].endswith("_msearch")]
    assert not params  # one _msearch, no search pipeline: the two rankings are fused by the adapter
    lines = [json.loads(line) for line in raw.strip().split("\n")]
    assert lines[0] == lines[2] == {"index": "northwind_clauses"}
    lexical, dense = lines[1]["query"], lines[3]["query"]
    visible = {"bool": {"should": [{"term": {"visibility": "public"}}, {"term": {"partner_id": PARTNER}}],
                        "minimum_should_match": 1}}
    # words over whole clauses, asked for the question's content words; meaning over clauses and their passages
    assert lexical["bool"]["filter"] == [{"term": {"tenant_id": "northwind"}}, {"term": {"kind": "clause"}}, visible]
    assert lexical["bool"]["must"] == [{"multi_match": {"query": "margin floor", "fields": ["title^2", "text"],
                                                        "type": "most_fields"}}]
    assert dense["knn"]["vector"]["filter"] == {"bool": {"filter": [
        {"term": {"tenant_id": "northwind"}}, {"terms": {"kind": ["clause", "passage"]}}, visible]}}
    assert dense["knn"]["vector"]["vector"] == [1.0, 0.0, 0.0, 0.0]


def test_opensearch_drops_a_hit_outside_the_scope_even_if_the_cluster_returns_one():
    rival = prepare_document("northwind", (ROOT / "tenants" / "northwind" / "contracts" / "partner-agreement.md")
                             .read_text(), name="pa")
    foreign = {**_hit(rival.passages[0], 1.0), "_source": {**_hit(rival.passages[0], 1.0)["_source"],
                                                           "tenant_id": "contoso"}}
    client = _client({("POST", "/northwind_clauses/_msearch"): (200, _msearch(
        [_fence(rival.passages[0], tenant="contoso")], [foreign]))})
    index = OpenSearchClauseIndex(FakeEmbedder(), client=client)
    assert index.search(Scope("northwind"), "anything") == []


def test_opensearch_ingestion_skips_an_unchanged_document_and_bulk_writes_a_changed_one():
    client = _client({
        ("GET", "/northwind_clauses/_doc/document%3APA"): (200, {"found": True, "_source": {
            "document_hash": PA.document_hash, "model": "fake-4", "split": PASSAGE_SPLIT}}),
    })
    index = OpenSearchClauseIndex(FakeEmbedder(), client=client)
    assert index.index_document(PA).status == "unchanged"
    assert not [s for s in FakeConnection.sent if "_bulk" in s[1]]

    client = _client({
        ("GET", "/northwind_clauses/_doc/document%3APA"): (404, {"found": False}),
        ("POST", "/northwind_clauses/_search"): (200, {"hits": {"hits": []}}),
        ("POST", "/_bulk"): (200, {"errors": False, "items": []}),
        ("HEAD", "/northwind_clauses"): (404, {}),
    })
    index = OpenSearchClauseIndex(FakeEmbedder(), client=client)
    result = index.index_document(PA)
    assert (result.status, result.embedded) == ("added", len(PA.passages))
    created = [b for m, p, _, b in FakeConnection.sent if m == "PUT" and p == "/northwind_clauses"]
    assert json.loads(created[0])["mappings"]["properties"]["vector"]["dimension"] == 4
    bulk = next(b for _, p, _, b in FakeConnection.sent if p.endswith("/_bulk"))
    lines = [json.loads(line) for line in bulk.strip().split("\n")]
    docs = lines[1::2]
    assert {d["tenant_id"] for d in docs} == {"northwind"} and {d["visibility"] for d in docs} == {"public"}
    assert docs[-1]["kind"] == "document" and docs[-1]["document_hash"] == PA.document_hash


def test_the_service_pipeline_refuses_when_opensearch_finds_nothing_close():
    far = (0.0, 1.0, 0.0, 0.0)
    client = _client({("POST", "/northwind_clauses/_msearch"): (200, _msearch([], [
        _hit(CLAUSES["PA-6.3"], 0.2, far)]))})
    index = OpenSearchClauseIndex(FakeEmbedder(), client=client)
    reply = respond(index, BedrockAnswerer("m", "us-east-1", client=object()), Scope("northwind"),
                    "What is the dress code?")
    assert reply.draft.refused and list(reply.retrieved) == ["PA-6.3"]


@pytest.fixture
def small_index():
    from revgov.adapters.local_index import SqliteClauseIndex

    index = SqliteClauseIndex(":memory:", FakeEmbedder())
    index.index_document(PA)
    return index


def _respond_with(small_index, citations, text="Quote lines need a 12% margin."):
    """The whole service path (retrieve, evidence, Converse, citation checks) with Converse answering `citations`.
    Returns the reply and the clause ids sent to Converse as documents, in order."""
    client = bedrock()
    answerer = BedrockAnswerer("m", "us-east-1", client=client)
    sent: list[list[str]] = []
    ask = answerer.answer

    def spying(question, hits, *, context):
        sent.append([h.passage.clause_id for h in hits])
        return ask(question, hits, context=context)

    answerer.answer = spying  # type: ignore[method-assign]
    question = "What margin floor applies to a quote line?"
    with Stubber(client) as stub:
        stub.add_response("converse", _converse_reply(text, citations), None)
        reply = respond(small_index, answerer, Scope("northwind", all_partners=True), question)
    return reply, sent[0]


def test_a_bedrock_answer_leaves_only_with_citations_that_are_the_given_clauses_own_words(small_index):
    # PA-6.3: "No quote line may be priced with a Line Margin below 12% without Finance approval, regardless of the
    # discount applied."
    quote = "No quote line may be priced with a Line Margin below 12% without Finance approval"
    _, documents = _respond_with(small_index, [])
    reply, _ = _respond_with(small_index, [_citation(documents.index("PA-6.3"), quote)])
    assert not reply.draft.refused and [(c.clause, c.quote) for c in reply.draft.citations] == [("PA-6.3", quote)]


def test_a_bedrock_answer_without_any_citation_is_refused(small_index):
    reply, documents = _respond_with(small_index, [])
    assert documents and reply.draft.refused and not reply.draft.citations


def test_a_bedrock_answer_citing_a_clause_it_was_not_given_is_refused_whole(small_index):
    reply, documents = _respond_with(small_index, [_citation(7, "Margins are waived for partners")],
                                     text="Margins are waived for partners.")
    assert len(documents) < 8
    assert reply.draft.refused and not reply.draft.citations and reply.draft.answer == ""
    assert reply.rejected and reply.rejected[0]["reason"] == "clause was not retrieved for this request"


def test_a_bedrock_answer_whose_quote_is_not_the_clauses_text_is_refused_whole(small_index):
    made_up = [_citation(0, "Partners may ignore the margin floor")]
    reply, _ = _respond_with(small_index, made_up, text="Partners may ignore the margin floor.")
    assert reply.draft.refused and reply.rejected[0]["reason"] == "quote is not the clause's text"


def test_each_tenant_gets_its_own_search_pipeline_and_offboarding_deletes_it():
    client = _client({("POST", "/northwind_clauses/_msearch"): (200, _msearch([], [])),
                      ("POST", "/contoso_clauses/_msearch"): (200, _msearch([], []))})
    index = OpenSearchClauseIndex(FakeEmbedder(), client=client)
    index.search(Scope("northwind"), "margin floor")
    index.search(Scope("contoso"), "margin floor")
    index.search(Scope("northwind"), "margin floor")
    puts = [p for m, p, _, _ in FakeConnection.sent if m == "PUT" and p.startswith("/_search/pipeline/")]
    assert puts == ["/_search/pipeline/northwind_clauses-revgov-hybrid",
                    "/_search/pipeline/contoso_clauses-revgov-hybrid"]
    index.delete_tenant("contoso")
    deleted = [p for m, p, _, _ in FakeConnection.sent if m == "DELETE"]
    assert deleted == ["/contoso_clauses", "/_search/pipeline/contoso_clauses-revgov-hybrid"]


# --- offboarding in AWS: the operator function has no search access, the contract indexer deletes the index ---------

def _offboarded_event(at="2026-03-02T10:00:00Z"):
    """Offboard northwind on a runtime like the AWS operator function's (no clause index: no search access) and
    return that runtime and the `tenant.offboarded` event as EventBridge hands it to the indexer's queue."""
    from memory_store import memory_runtime
    from revgov.domain.access import PLATFORM, Principal, Role
    from revgov.services import offboarding

    rt, _ = memory_runtime(at)
    assert rt.clause_index is None
    operator = Principal(tenant_id=PLATFORM, role=Role.OPERATOR, key_id="key_test")
    offboarding.offboard(rt, operator, "northwind")
    [envelope] = [e for e in rt.publisher.published if e["detail_type"] == "tenant.offboarded"]
    return rt, {"source": envelope["source"], "detail-type": envelope["detail_type"], "detail": envelope["detail"]}


def _indexer(rt):
    """The contract indexer's runtime: the same table, OpenSearch through the recording fake connection."""
    from dataclasses import replace

    return replace(rt, clause_index=OpenSearchClauseIndex(FakeEmbedder(), client=_client({})))


def test_offboarding_a_tenant_in_aws_deletes_its_opensearch_index_and_search_pipeline():
    """Issue #16: "Offboarding and re-provisioning leave no old clauses behind" — in AWS the operator function that
    offboards cannot reach the search collection, so the event it publishes is routed (rule offboarded-index) to the
    contract indexer, which deletes the tenant's `<tenant>_clauses` index and its search pipeline."""
    from revgov.adapters.sqlite_bus import matches
    from revgov.resources import load_rules
    from revgov.services.contracts import index_from_event

    rt, event = _offboarded_event()
    assert event["detail"]["offboarded_tenant_id"] == "northwind"
    routed = [r.handler for r in load_rules(ROOT / "events") if matches(r.pattern, event)]
    assert "index_contracts" in routed
    assert index_from_event(_indexer(rt), event) == [{"status": "deleted", "tenant_id": "northwind"}]
    deleted = [p for m, p, _, _ in FakeConnection.sent if m == "DELETE"]
    assert deleted == ["/northwind_clauses", "/_search/pipeline/northwind_clauses-revgov-hybrid"]
    index_from_event(_indexer(rt), event)  # redelivered: the 404s are ignored, nothing fails
    assert [p for m, p, _, _ in FakeConnection.sent if m == "DELETE"] == deleted


def test_a_late_offboarding_event_leaves_the_index_of_a_tenant_provisioned_again_under_the_same_id():
    from revgov.domain.access import PLATFORM, Principal, Role
    from revgov.services import tenants
    from revgov.services.contracts import index_from_event
    from revgov.tenant_files import load_tenant_file

    rt, event = _offboarded_event()
    operator = Principal(tenant_id=PLATFORM, role=Role.OPERATOR, key_id="key_test")
    tenants.create_tenant(rt, operator, load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml"))
    assert index_from_event(_indexer(rt), event)[0]["status"] == "kept"
    assert not [p for m, p, _, _ in FakeConnection.sent if m == "DELETE"]


@pytest.mark.parametrize("detail", [{}, {"offboarded_tenant_id": ""}, {"offboarded_tenant_id": "_platform"},
                                    {"offboarded_tenant_id": 7}])
def test_an_offboarding_event_naming_no_tenant_deletes_nothing_and_fails_to_the_dlq(detail):
    from revgov.domain.errors import RuleViolation
    from revgov.services.contracts import index_from_event

    rt, event = _offboarded_event()
    with pytest.raises(RuleViolation):
        index_from_event(_indexer(rt), {**event, "detail": {**event["detail"], "offboarded_tenant_id": None, **detail}})
    assert not [p for m, p, _, _ in FakeConnection.sent if m == "DELETE"]


# --- retrieval passages in OpenSearch (docs/copilot.md, Twelfth round) ---------------------------------------------

def _passage_hit(passage, part, score, vector, tenant="northwind"):
    source = {name: getattr(passage, name) for name in ("tenant_id", "document", "document_title", "document_version",
                                                         "clause_id", "title", "partner_id", "clause_hash",
                                                         "document_hash")}
    return {"_id": f"passage:{passage.clause_id}:0", "_score": score,
            "_source": {**source, "tenant_id": tenant, "kind": "passage", "passage": part, "vector": list(vector)}}


def test_opensearch_indexes_each_long_clauses_passages_as_documents_of_their_own():
    client = _client({
        ("GET", "/northwind_clauses/_doc/document%3APA"): (404, {"found": False}),
        ("POST", "/northwind_clauses/_search"): (200, {"hits": {"hits": []}}),
        ("POST", "/_bulk"): (200, {"errors": False, "items": []}),
        ("HEAD", "/northwind_clauses"): (404, {}),
    })
    OpenSearchClauseIndex(FakeEmbedder(), client=client).index_document(PA)
    created = json.loads(next(b for m, p, _, b in FakeConnection.sent if m == "PUT" and p == "/northwind_clauses"))
    assert created["mappings"]["properties"]["passage"] == {"type": "text"}
    bulk = next(b for _, p, _, b in FakeConnection.sent if p.endswith("/_bulk"))
    lines = [json.loads(line) for line in bulk.strip().split("\n")]
    passages = [(head["index"]["_id"], doc) for head, doc in zip(lines[::2], lines[1::2], strict=True)
                if doc["kind"] == "passage"]
    expected = {(f"passage:{p.clause_id}:{i}", text) for p in PA.passages
                for i, text in enumerate(retrieval_passages(p.text))}
    assert expected and {(i, d["passage"]) for i, d in passages} == expected
    assert all("text" not in d and d["tenant_id"] == "northwind" and d["visibility"] == "public"
               and d["clause_hash"] == CLAUSES[d["clause_id"]].clause_hash for _, d in passages)
    assert lines[-1]["kind"] == "document" and lines[-1]["split"] == PASSAGE_SPLIT


def test_opensearch_gives_a_document_indexed_before_passages_its_passages_without_re_embedding_its_clauses():
    clauses = [{"_source": {"clause_id": p.clause_id, "clause_hash": p.clause_hash, "model": "fake-4",
                            "vector": [1.0, 0.0, 0.0, 0.0]}} for p in PA.passages]
    client = _client({
        ("GET", "/northwind_clauses/_doc/document%3APA"): (200, {"found": True, "_source": {
            "document_hash": PA.document_hash, "model": "fake-4"}}),  # no split: indexed before passages
        ("POST", "/northwind_clauses/_search"): (200, [{"hits": {"hits": []}}, {"hits": {"hits": clauses}}]),
        ("POST", "/_bulk"): (200, {"errors": False, "items": []}),
        ("HEAD", "/northwind_clauses"): (200, {}),
    })
    embedder = FakeEmbedder()
    result = OpenSearchClauseIndex(embedder, client=client).index_document(PA)
    assert result.embedded == 0  # clause vectors kept
    mapped = [json.loads(b) for m, p, _, b in FakeConnection.sent if m == "PUT" and p == "/northwind_clauses/_mapping"]
    assert mapped == [{"properties": {"passage": {"type": "text"}, "split": {"type": "keyword"}}}]
    deleted = [json.loads(b) for m, p, _, b in FakeConnection.sent if p == "/northwind_clauses/_delete_by_query"]
    assert deleted == [{"query": {"bool": {"filter": [{"term": {"kind": "passage"}}, {"term": {"document": "PA"}}]}}}]
    bulk = next(b for _, p, _, b in FakeConnection.sent if p.endswith("/_bulk"))
    assert sum(1 for line in bulk.strip().split("\n") if json.loads(line).get("kind") == "passage") == sum(
        len(retrieval_passages(p.text)) for p in PA.passages)


def test_opensearch_ranks_a_clause_by_half_its_best_passages_lead_and_reads_it_whole():
    # the long clause's own cosine 0.0 and its passage's 1.0: it scores 0.0 + 0.5 × 1.0 on the meaning side
    # (`copilot.dense_score`, as the embedded index), below PA-6.6's own 0.6; another tenant's passage is dropped
    long = next(p for p in PA.passages if retrieval_passages(p.text))
    part = retrieval_passages(long.text)[0]
    client = _client({("POST", "/northwind_clauses/_msearch"): (200, _msearch([], [
        _passage_hit(long, part, 0.9, (1.0, 0.0, 0.0, 0.0)),
        _passage_hit(CLAUSES["PA-6.6"], "another tenant's words", 0.8, (1.0, 0.0, 0.0, 0.0), tenant="contoso"),
        _hit(CLAUSES["PA-6.6"], 0.5, (0.6, 0.8, 0.0, 0.0)),
        _hit(long, 0.4, (0.0, 1.0, 0.0, 0.0)),
    ]))})
    hits = OpenSearchClauseIndex(FakeEmbedder(), client=client).search(Scope("northwind"), "anything", k=5)
    assert [h.passage.clause_id for h in hits] == ["PA-6.6", long.clause_id]
    assert hits[1].passage.text == long.text  # the clause's own text, never the passage
    assert (hits[1].dense, hits[1].part_dense) == (pytest.approx(0.0), pytest.approx(1.0))
    assert (hits[0].dense, hits[0].part_dense) == (pytest.approx(0.6), pytest.approx(0.6))
    assert [p for m, p, _, _ in FakeConnection.sent if m == "POST"] == ["/northwind_clauses/_msearch"]  # both whole


def test_opensearch_fetches_a_clause_found_by_its_passage_only_within_the_scope():
    long = next(p for p in PA.passages if retrieval_passages(p.text))
    found = {"_source": {**_hit(long, 1.0)["_source"]}}
    client = _client({
        ("POST", "/northwind_clauses/_msearch"): (200, _msearch([], [
            _passage_hit(long, retrieval_passages(long.text)[0], 0.9, (1.0, 0.0, 0.0, 0.0))])),
        ("POST", "/northwind_clauses/_search"): (200, {"hits": {"hits": [found]}})})
    hits = OpenSearchClauseIndex(FakeEmbedder(), client=client).search(Scope("northwind", PARTNER), "anything", k=1)
    assert [h.passage.clause_id for h in hits] == [long.clause_id]
    searches = [json.loads(b) for m, p, _, b in FakeConnection.sent if p.endswith("/_search")]
    fetch = searches[-1]["query"]["bool"]["filter"]
    assert {"terms": {"clause_id": [long.clause_id]}} in fetch and {"term": {"kind": "clause"}} in fetch
    assert {"term": {"tenant_id": "northwind"}} in fetch
