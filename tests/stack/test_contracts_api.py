"""Contracts through the API: a tenant provisioned with its contracts, then uploaded, replaced, amended and removed
by legal or an admin; every write checked against the policy's clause citations, versioned, audited and re-indexed
so the copilot answers from the new text at once. Offboarding and re-provisioning leave no clause behind."""

from __future__ import annotations

import copy

import pytest

from support import Api, assert_problem, example_tenant, settle

pytestmark = pytest.mark.stack

FRA = """# Fabrikam Reseller Agreement

Document: FRA
Version: 2026.1
Effective: 2026-01-01

## 1. Payment

### FRA-1.1 Payment terms
Invoices are payable within 30 days of the invoice date.

### FRA-1.2 Late payment
Overdue invoices bear interest of 1% per month.
"""


@pytest.fixture
def tenant(api: Api, operator: Api):
    config = example_tenant()
    created = operator.post("/v1/tenants", config)
    assert created.status_code == 201, created.text
    admin = api.as_key(created.json()["admin_key"]["key"])
    keys = {role: api.as_key(admin.post("/v1/keys", {"role": role, "label": role}).json()["key"])
            for role in ("legal", "sales")}
    yield {"id": config["tenant_id"], "config": config, "admin": admin, **keys}
    operator.delete(f"/v1/tenants/{config['tenant_id']}")


def ask(who: Api, question: str) -> dict:
    response = who.post("/v1/copilot/ask", {"question": question})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_policy_citing_a_clause_no_contract_has_is_refused_and_no_tenant_is_made(operator: Api):
    config = example_tenant()
    config["policy"]["exception_routing"]["triage"]["clause"] = "ZZ-99.9"
    assert_problem(operator.post("/v1/tenants", config), 422)
    assert operator.get(f"/v1/tenants/{config['tenant_id']}").status_code == 404
    without = {k: v for k, v in example_tenant().items() if k != "contracts"}  # cites FPA-… with no contract given
    problem = assert_problem(operator.post("/v1/tenants", without), 422)
    assert any("FPA-2.1" in e["message"] for e in problem["errors"])
    owned = example_tenant()  # a partner's own contract before the tenant has any partner
    owned["contracts"].append({"name": "side.md", "markdown": FRA.replace(
        "Effective: 2026-01-01", "Effective: 2026-01-01\nPartner: ptr_01JX00000000000000000000ZZ")})
    assert_problem(operator.post("/v1/tenants", owned), 422)
    broken = example_tenant()
    broken["contracts"][0]["markdown"] = "no header, no clauses"
    assert_problem(operator.post("/v1/tenants", broken), 400)
    for config in (owned, broken):
        assert operator.get(f"/v1/tenants/{config['tenant_id']}").status_code == 404


def test_a_tenant_provisioned_through_the_api_answers_from_the_contracts_it_was_given(tenant):
    listed = tenant["legal"].get("/v1/contracts").json()["items"]
    assert [(c["document"], c["revision"]) for c in listed] == [("FPA", 1)]
    # FPA-4.1: "Channel Operations triages every exception within 8 hours."
    reply = ask(tenant["legal"], "How quickly does Channel Operations triage an exception?")
    assert not reply["refused"] and reply["citations"][0]["clause"] == "FPA-4.1" and "8 hours" in reply["answer"]


def test_upload_amend_and_remove_are_versioned_audited_and_reindexed(tenant):
    legal = tenant["legal"]
    put = legal.request("PUT", "/v1/contracts/FRA", {"markdown": FRA, "reason": "signed"})
    assert put.status_code == 200, put.text
    assert put.json()["status"] == "uploaded" and put.json()["contract"]["revision"] == 1
    again = legal.request("PUT", "/v1/contracts/FRA", {"markdown": FRA})
    assert again.json()["status"] == "unchanged" and again.json()["contract"]["revision"] == 1
    reply = ask(legal, "Within how many days must an invoice be paid?")
    assert "FRA-1.1" in {c["clause"] for c in reply["citations"]} and "30 days" in reply["answer"]

    amended = legal.post("/v1/contracts/FRA/amendments", {
        "reason": "amendment no. 1",
        "clauses": [{"clause_id": "FRA-1.1", "title": "Payment terms",
                     "text": "Invoices are payable within 45 days of the invoice date."}],
    })
    assert amended.status_code == 200, amended.text
    assert amended.json()["status"] == "amended" and amended.json()["contract"]["revision"] == 2
    reply = ask(legal, "Within how many days must an invoice be paid?")
    assert "45 days" in reply["answer"] and "30 days" not in reply["answer"]

    history = legal.get("/v1/contracts/FRA").json()["revisions"]
    assert [(r["revision"], r["action"]) for r in history] == [(1, "uploaded"), (2, "amended")]
    trail = tenant["admin"].get("/v1/audit", limit=50).json()["items"]
    assert {"contract.uploaded", "contract.amended"} <= {r["action"] for r in trail}

    removed = legal.delete("/v1/contracts/FRA")
    assert removed.status_code == 200, removed.text
    reply = ask(legal, "Within how many days must an invoice be paid?")
    assert "FRA-1.1" not in {c["clause"] for c in reply["citations"]}
    assert legal.get("/v1/contracts/FRA").json()["revisions"][-1]["action"] == "removed"


def test_bad_contract_writes_change_nothing(tenant):
    legal, fpa = tenant["legal"], tenant["config"]["contracts"][0]["markdown"]
    # the path and the Document header disagree
    assert_problem(legal.request("PUT", "/v1/contracts/FRB", {"markdown": FRA}), 422)
    # no clause headings, no header, an unknown field, a lower-case code in the path
    assert_problem(legal.request("PUT", "/v1/contracts/FRA", {"markdown": "# FRA\n\nDocument: FRA\nVersion: 1\n"
                                                                         "Effective: 2026-01-01\n\nno clauses"}), 400)
    assert_problem(legal.request("PUT", "/v1/contracts/FRA", {"markdown": "just text"}), 400)
    assert_problem(legal.request("PUT", "/v1/contracts/FRA", {"markdown": FRA, "tenant_id": "other"}), 400)
    assert_problem(legal.request("PUT", "/v1/contracts/fra", {"markdown": FRA}), 404)
    # a replacement that drops a clause the policy cites (FPA-4.1), and removing a cited document
    dropped = fpa.split("## 4. Exceptions")[0]
    problem = assert_problem(legal.request("PUT", "/v1/contracts/FPA", {"markdown": dropped}), 422)
    assert any("FPA-4.1" in e["message"] for e in problem["errors"])
    assert_problem(legal.delete("/v1/contracts/FPA"), 422)
    # an amendment naming another document's clause, or smuggling a heading into a clause
    legal.request("PUT", "/v1/contracts/FRA", {"markdown": FRA})
    assert_problem(legal.post("/v1/contracts/FRA/amendments", {
        "reason": "x", "clauses": [{"clause_id": "FPA-4.1", "title": "t", "text": "nothing"}]}), 422)
    assert_problem(legal.post("/v1/contracts/FRA/amendments", {
        "reason": "x", "clauses": [{"clause_id": "FRA-1.2", "title": "t", "text": "a\n### FRA-9.9 Sneaky\nb"}]}), 400)
    assert_problem(legal.request("PUT", "/v1/contracts/FRA", {"markdown": FRA, "expected_revision": 7}), 409)
    assert [c["revision"] for c in legal.get("/v1/contracts").json()["items"]] == [1, 1]
    # only legal and admin write; a sales key reads nothing it may not
    assert_problem(tenant["sales"].request("PUT", "/v1/contracts/FRA", {"markdown": FRA}), 403)
    assert_problem(tenant["sales"].delete("/v1/contracts/FRA"), 403)


def test_offboarding_and_reprovisioning_leave_no_old_clause_behind(api: Api, operator: Api, stack):
    config = example_tenant()
    first = operator.post("/v1/tenants", config)
    legal = api.as_key(api.as_key(first.json()["admin_key"]["key"]).post(
        "/v1/keys", {"role": "legal", "label": "legal"}).json()["key"])
    assert legal.request("PUT", "/v1/contracts/FRA", {"markdown": FRA}).status_code == 200
    settle(stack)  # the PUT's contract.changed indexed before the offboarding, not racing it (see below)
    assert operator.delete(f"/v1/tenants/{config['tenant_id']}").status_code == 200
    again = operator.post("/v1/tenants", copy.deepcopy(config))
    assert again.status_code == 201, again.text
    admin = api.as_key(again.json()["admin_key"]["key"])
    try:
        assert [c["document"] for c in admin.get("/v1/contracts").json()["items"]] == ["FPA"]
        reply = ask(admin, "Within how many days must an invoice be paid?")
        assert not {c["clause"] for c in reply["citations"]} & {"FRA-1.1", "FRA-1.2"}
        assert "FRA" not in reply["searched"]["documents"]
    finally:
        operator.delete(f"/v1/tenants/{config['tenant_id']}")


def test_the_contract_changed_event_rebuilds_the_tenants_index_from_the_stored_contracts(tenant, rt):
    from revgov.domain.copilot import Scope
    from revgov.domain.errors import RuleViolation
    from revgov.services import contracts

    index = rt.clause_index
    index.delete_tenant(tenant["id"])  # an index that lost the tenant's clauses (or never had them: a new region)
    assert not index.get(Scope(tenant["id"]), ["FPA-4.1"])
    done = contracts.index_from_event(rt, {"source": "revgov.contract", "detail-type": "contract.changed",
                                           "detail": {"tenant_id": tenant["id"], "document": "FPA"}})
    assert [(r["document"], r["status"]) for r in done] == [("FPA", "added")]
    assert [p.clause_id for p in index.get(Scope(tenant["id"]), ["FPA-4.1"])] == ["FPA-4.1"]
    with pytest.raises(RuleViolation):
        contracts.index_from_event(rt, {"source": "revgov.partner", "detail-type": "contract.changed",
                                        "detail": {"tenant_id": tenant["id"]}})


def test_an_offboarding_export_imported_again_answers_from_its_contracts(api: Api, operator: Api, stack):
    from revgov.domain.access import PLATFORM, Principal, Role
    from revgov.services.tenants import import_tenant

    config = example_tenant()
    created = operator.post("/v1/tenants", config)
    admin = api.as_key(created.json()["admin_key"]["key"])
    assert admin.request("PUT", "/v1/contracts/FRA", {"markdown": FRA}).status_code == 200
    # the PUT's contract.changed indexed before the offboarding: an indexer still at work when the export is imported
    # again would index it first, and the import would find FPA and FRA `unchanged` (an order-dependent failure)
    settle(stack)
    offboarded = operator.delete(f"/v1/tenants/{config['tenant_id']}").json()
    try:
        restored = import_tenant(stack.runtime, Principal(PLATFORM, Role.OPERATOR, "test"), offboarded["export"])
        assert {(r["document"], r["status"]) for r in restored["index"]} == {("FPA", "added"), ("FRA", "added")}
        reply = ask(admin, "Within how many days must an invoice be paid?")
        assert "FRA-1.1" in {c["clause"] for c in reply["citations"]} and "30 days" in reply["answer"]
    finally:
        operator.delete(f"/v1/tenants/{config['tenant_id']}")


def test_an_indexer_that_read_the_contracts_before_an_offboarding_leaves_none_of_them_behind(
        api: Api, operator: Api, stack, monkeypatch):
    """"Offboarding and re-provisioning leave no clause behind" (this module), also when the event-driven indexer
    (rule contract-index) read the tenant's stored contracts just before the offboarding and writes after it deleted
    the index: the write lands in the index of a tenant that no longer exists. That left FRA behind, and the export
    imported again was judged `unchanged` against it instead of `added` (the flaky
    test_an_offboarding_export_imported_again_answers_from_its_contracts, whenever a busy router delivered the PUT's
    contract.changed just as the test offboarded)."""
    from revgov.domain.access import PLATFORM, Principal, Role
    from revgov.edge import handlers
    from revgov.services import contracts
    from revgov.services.tenants import import_tenant

    config = example_tenant()
    tenant_id = config["tenant_id"]
    admin = api.as_key(operator.post("/v1/tenants", config).json()["admin_key"]["key"])
    assert admin.request("PUT", "/v1/contracts/FRA", {"markdown": FRA}).status_code == 200
    settle(stack)  # the PUT's own contract.changed handled: the only indexer of this tenant below is the test's
    # the router's indexer held (its messages come back after the visibility timeout), so the tenant.offboarded
    # event's clean-up (rule offboarded-index) cannot tidy up behind the indexer while this test looks
    monkeypatch.setitem(handlers.HANDLERS, "index_contracts", lambda event, _context: {"batchItemFailures": [
        {"itemIdentifier": r["messageId"]} for r in event.get("Records", [])]})
    index, offboarded = stack.runtime.clause_index, []
    write = index.index_document

    def offboarded_before_fra(document):  # FPA found unchanged, then the tenant offboarded, then FRA written
        if document.tenant_id == tenant_id and document.document == "FRA" and not offboarded:
            offboarded.append(operator.delete(f"/v1/tenants/{tenant_id}").json())
        return write(document)

    monkeypatch.setattr(index, "index_document", offboarded_before_fra)
    try:
        contracts.index_from_event(stack.runtime, {"source": "revgov.contract", "detail-type": "contract.changed",
                                                   "detail": {"tenant_id": tenant_id, "document": "FRA"}})
        assert offboarded and offboarded[0]["remaining_items"] == 0
        assert index.documents(tenant_id) == {}
        monkeypatch.setattr(index, "index_document", write)
        restored = import_tenant(stack.runtime, Principal(PLATFORM, Role.OPERATOR, "test"), offboarded[0]["export"])
        assert {(r["document"], r["status"]) for r in restored["index"]} == {("FPA", "added"), ("FRA", "added")}
    finally:
        monkeypatch.undo()
        operator.delete(f"/v1/tenants/{tenant_id}")


def test_revisions_count_on_after_a_document_is_withdrawn_and_uploaded_again(tenant):
    legal = tenant["legal"]
    assert legal.request("PUT", "/v1/contracts/FRA", {"markdown": FRA}).json()["contract"]["revision"] == 1
    assert legal.delete("/v1/contracts/FRA").json()["revision"] == 2
    again = legal.request("PUT", "/v1/contracts/FRA", {"markdown": FRA})
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "uploaded" and again.json()["contract"]["revision"] == 3
    history = legal.get("/v1/contracts/FRA").json()["revisions"]
    assert [(r["revision"], r["action"]) for r in history] == [(1, "uploaded"), (2, "removed"), (3, "uploaded")]


def test_a_partners_own_contract_is_seen_by_that_partner_only_and_must_name_a_partner_of_the_tenant(api: Api, keys):
    northwind = keys["tenants"]["northwind"]
    legal = api.as_key(northwind["keys"]["legal"])
    active = next(p["partner_id"] for p in northwind["partners"] if p["status"] == "active")
    other = next(p["partner_id"] for p in northwind["partners"] if p["partner_id"] != active)
    letter = """# Acme side letter

Document: ASL
Version: 2026.1
Effective: 2026-01-01
Partner: {partner}

## 1. Special terms

### ASL-1.1 Special rebate
Acme earns an extra special rebate of 7% on fiber optic transceivers, paid quarterly by credit note.
"""
    unknown = "ptr_01JX00000000000000000000ZZ"
    problem = assert_problem(legal.request("PUT", "/v1/contracts/ASL", {"markdown": letter.format(partner=unknown)}),
                             422)
    assert unknown in problem["detail"]
    put = legal.request("PUT", "/v1/contracts/ASL", {"markdown": letter.format(partner=active)})
    assert put.status_code == 200, put.text
    try:
        question = "What extra special rebate does Acme earn on fiber optic transceivers?"
        own = ask(api.as_key(northwind["keys"][active]), question)
        assert own["citations"] and own["citations"][0]["clause"] == "ASL-1.1" and "7%" in own["answer"]
        response = legal.post("/v1/copilot/ask", {"question": question, "partner_id": other})
        assert "ASL-1.1" not in {c["clause"] for c in response.json()["citations"]}
        assert "ASL" not in response.json()["searched"]["documents"]
    finally:
        assert legal.delete("/v1/contracts/ASL").status_code == 200


def test_with_opensearch_the_request_leaves_indexing_to_the_contract_changed_event(tenant, rt, monkeypatch):
    """In AWS (REVGOV_COPILOT_INDEX=opensearch) a contract write does not wait for embeddings: rule contract-index
    delivers contract.changed to the index_contracts handler, which indexes the tenant's stored contracts."""
    from billing_support import wait_until
    from revgov.domain.copilot import Scope
    from revgov.services import contracts

    monkeypatch.setattr(contracts, "inline_indexing", lambda _rt: False)
    put = tenant["legal"].request("PUT", "/v1/contracts/FRA", {"markdown": FRA})
    assert put.status_code == 200, put.text
    assert put.json()["index"] == [{"status": "queued", "by": "contract.changed"}]
    wait_until(lambda: bool(rt.clause_index.get(Scope(tenant["id"]), ["FRA-1.1"])), 60,
               what="the event-driven indexer to index FRA")


def test_a_contract_written_through_the_api_has_its_units_embedded_then_so_a_first_question_embeds_none(
        tenant, rt, stack, monkeypatch):
    """The copilot latency fix: a clause's units (sentences, list items, table rows) are embedded when the clause is
    indexed, for a contract written through the API too (the same `index_documents`), so the first question over
    FRA-1.1 ("Invoices are payable within 30 days of the invoice date.") embeds nothing but the question.

    The embedder is the stack's, shared with the router's indexer: the router settles first (the PUT's own
    contract.changed, earlier tests' contracts), so what it embeds below is the question's doing."""
    put = tenant["legal"].request("PUT", "/v1/contracts/FRA", {"markdown": FRA})
    assert put.status_code == 200, put.text
    settle(stack)
    index, embedded = rt.clause_index.adapter(), []  # the index itself (the runtime builds it at its first use)
    clause_embedder = index._embedder

    class Counting:
        model_id, dimension = clause_embedder.model_id, clause_embedder.dimension

        def embed(self, texts):
            embedded.extend(texts)
            return clause_embedder.embed(texts)

    monkeypatch.setattr(index, "_embedder", Counting())
    reply = ask(tenant["admin"], "Within how many days must an invoice be paid?")
    assert "FRA-1.1" in {c["clause"] for c in reply["citations"]}
    assert embedded == []


def test_an_amendment_moving_a_figure_rules_in_force_set_is_refused_over_http_naming_each(tenant):
    """The example tenant's FPA-4.1: "Channel Operations triages every exception within 8 hours"; its policy's
    ROUTE-TRIAGE and ROUTE-DISCOUNT-CAP cite it with `sla_hours: 8`. Amended alone to 12 hours, the rules would enforce
    8 against a clause saying 12: refused (422, docs/policy.md "Figures and their clauses"), each figure named by its
    pointer, and the contract stays at its revision; reworded keeping "8 hours", the amendment stands."""
    legal = tenant["legal"]
    before = legal.get("/v1/contracts/FPA").json()["contract"]
    clause = {"clause_id": "FPA-4.1", "title": "Exception handling",
              "text": "Channel Operations triages every exception within 12 hours. A discount above the tier cap needs "
                      "Channel Operations approval."}
    refused = assert_problem(legal.post("/v1/contracts/FPA/amendments", {"reason": "12 h", "clauses": [clause]}), 422)
    assert {e["path"] for e in refused["errors"]} == {
        "/policy/exception_routing/triage/sla_hours",
        "/policy/exception_routing/categories/discount_above_tier_cap/sla_hours"}, refused
    assert any("ROUTE-TRIAGE sets 8" in e["message"] for e in refused["errors"])
    assert legal.get("/v1/contracts/FPA").json()["contract"]["revision"] == before["revision"]
    kept = {**clause, "text": "Every exception is triaged by Channel Operations within 8 hours. A discount above the "
                              "tier cap needs Channel Operations approval."}
    amended = legal.post("/v1/contracts/FPA/amendments", {"reason": "reworded", "clauses": [kept]})
    assert amended.status_code == 200, amended.text
    assert {r["rule_id"] for r in amended.json()["policy_rules_to_review"]} == {"ROUTE-TRIAGE", "ROUTE-DISCOUNT-CAP"}
