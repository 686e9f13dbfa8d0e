"""A tenant's contract documents through the API: upload, replace, amend and remove, each a new revision, audited,
checked against the policy's clause citations, and re-indexed for the copilot when it lands.

Stored per tenant: `CONTRACT/<document>` (the current text and what it holds) and `CONTRACT_REV/<document>#<n>`
(every revision's text, kept when a document is replaced or removed). A `revgov.contract` `contract.changed` event
says which document moved, for an indexer that runs elsewhere (in AWS, the tenant's OpenSearch index).
"""

from __future__ import annotations

from typing import Any

from ..domain import contract_set
from ..domain.access import PLATFORM, Principal
from ..domain.audit import AuditEntry
from ..domain.errors import Conflict, FieldError, NotFound, RuleViolation
from ..domain.policy import rules_citing
from ..logs import logger
from ..ports import Changes, Delete, DomainEvent, Put
from ..runtime import Runtime
from . import partner_repository, tenant_repository
from .toolkit import pages

CURRENT = "CONTRACT"
REVISIONS = "CONTRACT_REV"
SOURCE = "revgov.contract"


def _policy(rt: Runtime, tenant_id: str) -> dict[str, Any]:
    stored = tenant_repository.stored_profile(rt.store, tenant_id)
    if stored is None:
        raise NotFound(f"no tenant {tenant_id}")
    return dict((stored.data.get("config") or {}).get("policy") or {})


def _stored(rt: Runtime, tenant_id: str) -> dict[str, dict[str, Any]]:
    return {item.key: {**item.data, "_version": item.version} for item in pages(rt.store, tenant_id, CURRENT)}


def _next_revision(rt: Runtime, tenant_id: str, document: str) -> int:
    """Revisions count on across a removal: a document uploaded again after it was withdrawn continues its history."""
    revisions = pages(rt.store, tenant_id, REVISIONS, prefix=f"{document}#")
    return max([0, *(int(item.data.get("revision") or 0) for item in revisions)]) + 1


def next_revision(rt: Runtime, tenant_id: str, document: str) -> int:
    """The revision number a new write of `document` takes (a policy draft's amendment, at its activation)."""
    return _next_revision(rt, tenant_id, document)


def _check_partner(rt: Runtime, tenant_id: str, text: contract_set.ContractText) -> None:
    """A `Partner: ptr_…` header must name a partner of this tenant: the contract becomes that partner's own."""
    if text.partner_id is not None and not partner_repository.exists(rt.store, tenant_id, text.partner_id):
        raise RuleViolation(f"the contract names partner {text.partner_id}, which this tenant does not have")


def _texts(stored: dict[str, dict[str, Any]]) -> list[contract_set.ContractText]:
    return [contract_set.parse(d["name"], d["markdown"]) for d in stored.values()]


def contract_texts(rt: Runtime, tenant_id: str) -> list[contract_set.ContractText]:
    """The tenant's stored contract documents, parsed (what a policy's clause citations are checked against)."""
    return _texts(_stored(rt, tenant_id))


def _view(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not k.startswith("_")}


def contract_puts(tenant_id: str | None, text: contract_set.ContractText, *, revision: int, at: str, by: str,
                  action: str, reason: str | None, version: int | None,
                  changes: dict[str, list[str]] | None = None) -> list[Put]:
    current = {**text.summary(), "markdown": text.markdown, "revision": revision, "updated_at": at,
               "updated_by": by}
    history = {**text.summary(), "markdown": text.markdown, "revision": revision, "action": action,
               "reason": reason, "at": at, "by": by,
               "changes": changes if changes is not None else contract_set.clause_changes(None, text)}
    return [
        Put(CURRENT, text.document, current, must_be_absent=version is None, expected_version=version,
            conflict_detail=f"contract {text.document} changed meanwhile; read it again", tenant_id=tenant_id),
        Put(REVISIONS, f"{text.document}#{revision:05d}", history, must_be_absent=True, tenant_id=tenant_id),
    ]


def _audit(who: Principal, action: str, document: str, revision: int, sha: str | None, reason: str | None,
           clauses: list[str], to_review: list[dict[str, str]] | None = None,
           changes: dict[str, list[str]] | None = None) -> AuditEntry:
    inputs: dict[str, Any] = {"document": document, "revision": revision, "sha256": sha, "reason": reason,
                              "clauses": len(clauses)}
    if to_review:  # records of writes that changed no cited clause keep their shape
        inputs["policy_rules_to_review"] = to_review
    touched: list[str] = []
    if changes is not None:  # the clause ids the revision added, changed or removed (also the record's `clauses`)
        inputs["changes"] = changes
        touched = [*changes["changed"], *changes["added"], *changes["removed"]]
    return AuditEntry(
        actor=who.actor, actor_role=who.role.value, action=f"contract.{action}", subject=document,
        outcome=action, inputs=inputs, clauses=tuple(touched),
    )


def changed_event(action: str, document: str, revision: int, sha: str | None) -> DomainEvent:
    return DomainEvent(SOURCE, "contract.changed",
                       {"document": document, "revision": revision, "action": action, "sha256": sha})


REINDEX_PASSES = 3


def reindex(rt: Runtime, tenant_id: str) -> list[dict[str, Any]]:
    """The copilot's index made to match the stored contracts exactly (documents no longer stored are dropped).

    The stored contracts are read again after the index is written: an indexer that read them just before the tenant
    was offboarded (or a document replaced) wrote what is no longer stored, after the offboarding deleted the index,
    so it indexes again what is stored now (nothing, for a tenant offboarded: its clauses are dropped). Each document
    reports its last change (`added`, not the `unchanged` of a later pass; `removed` when a later pass dropped it)."""
    if rt.clause_index is None:
        return []
    from .clause_indexing import index_documents  # the copilot's core, loaded by a re-index, not at cold start
    found: dict[str, dict[str, Any]] = {}
    stored = _stored(rt, tenant_id)
    for _ in range(REINDEX_PASSES):
        texts = [(d["name"], d["markdown"]) for d in stored.values()]
        for result in index_documents(rt.clause_index, tenant_id, texts, prune=True):
            if result.status != "unchanged" or result.document not in found:
                found[result.document] = result.as_dict()
        now = _stored(rt, tenant_id)
        if _hashes(now) == _hashes(stored):
            break
        stored = now
    return [r for document, r in found.items() if document in stored or r["status"] == "removed"]


def _hashes(stored: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {document: data.get("sha256") for document, data in stored.items()}


def index_from_event(rt: Runtime, bus_event: dict[str, Any]) -> list[dict[str, Any]]:
    """The indexer's use case (raises, so the queue retries): `contract.changed` re-indexes the event's tenant;
    `tenant.offboarded` (rule offboarded-index) deletes the offboarded tenant's index."""
    detail = bus_event.get("detail")
    kind = (bus_event.get("source"), bus_event.get("detail-type"))
    if kind == ("revgov.tenant", "tenant.offboarded") and isinstance(detail, dict):
        return forget_offboarded(rt, detail.get("offboarded_tenant_id"))
    if (kind != (SOURCE, "contract.changed")
            or not isinstance(detail, dict) or not isinstance(detail.get("tenant_id"), str)):
        raise RuleViolation("not a revgov.contract contract.changed event")
    return reindex(rt, detail["tenant_id"])


def forget_offboarded(rt: Runtime, tenant_id: Any) -> list[dict[str, Any]]:
    """Delete an offboarded tenant's clause index (in AWS its OpenSearch index and search pipeline, signed with that
    tenant's search role). Only while the id is still gone: a tenant provisioned again under the same id meanwhile
    keeps the index its own provisioning built."""
    if not isinstance(tenant_id, str) or not tenant_id or tenant_id == PLATFORM:
        raise RuleViolation("tenant.offboarded names no offboarded_tenant_id")
    if rt.clause_index is None:
        return []
    if tenant_repository.stored_profile(rt.store, tenant_id) is not None:
        return [{"status": "kept", "tenant_id": tenant_id, "reason": "provisioned again"}]
    rt.clause_index.delete_tenant(tenant_id)
    return [{"status": "deleted", "tenant_id": tenant_id}]


def inline_indexing(rt: Runtime) -> bool:
    """Index within the request where the index is embedded (local); OpenSearch is left to the event's indexer,
    so an API call never waits for a whole document's embeddings from Bedrock."""
    return rt.settings.copilot.index != "opensearch"


def _write(rt: Runtime, who: Principal, document: str, name: str, markdown: str, *, action: str,
           reason: str | None, expected_revision: int | None) -> dict[str, Any]:
    tenant_id = who.tenant_id
    text = contract_set.parse(name, markdown)
    if text.document != document:
        raise RuleViolation(f"the text says Document: {text.document}, the path says {document}", errors=[
            FieldError("/markdown", f"its Document: header is {text.document}, not {document} (the path)")])
    stored = _stored(rt, tenant_id)
    before = stored.get(document)
    if expected_revision is not None and (before or {}).get("revision", 0) != expected_revision:
        raise Conflict(f"contract {document} is at revision {(before or {}).get('revision', 0)}, not "
                       f"{expected_revision}", extra={"revision": (before or {}).get("revision", 0)})
    others = [t for t in _texts(stored) if t.document != document]
    policy = _policy(rt, tenant_id)
    contract_set.check_set([*others, text], policy, what=f"contract {document}")
    _check_partner(rt, tenant_id, text)
    if before is not None and before["sha256"] == text.sha256:
        return {"contract": _view(before), "status": "unchanged", "index": [], "policy_rules_to_review": [],
                "changes": contract_set.clause_changes(text, text)}
    previous = contract_set.parse(before["name"], before["markdown"]) if before is not None else None
    # a figure a rule in force sets must stay written in its clause: a contract that moves it comes with the policy
    # change, in a draft (docs/policy.md "Figures and their clauses")
    contract_set.check_figures_kept([*others, *([previous] if previous else [])], [*others, text], policy,
                                    what=f"contract {document}")
    # a rewording that keeps the figures stands, and each rule citing a clause whose words changed is named for review
    changes = contract_set.clause_changes(previous, text)
    to_review = rules_citing(policy, changes["changed"])
    revision = _next_revision(rt, tenant_id, document)
    action = action if before is not None or action == "amended" else "uploaded"
    at = rt.clock.now_iso()
    rt.commit(tenant_id, Changes(
        puts=contract_puts(None, text, revision=revision, at=at, by=who.actor, action=action, reason=reason,
                           version=(before or {}).get("_version"), changes=changes),
        audit=[_audit(who, action, document, revision, text.sha256, reason,
                      [c.clause_id for c in text.contract.clauses], to_review, changes)],
        events=[changed_event(action, document, revision, text.sha256)],
    ))
    indexed = reindex_after_write(rt, tenant_id)
    current = _view(_stored(rt, tenant_id)[document])
    return {"contract": current, "status": action, "index": indexed, "policy_rules_to_review": to_review,
            "changes": changes}


def reindex_after_write(rt: Runtime, tenant_id: str) -> list[dict[str, Any]]:
    if not inline_indexing(rt):
        return [{"status": "queued", "by": "contract.changed"}]
    try:
        return reindex(rt, tenant_id)
    except Exception as error:  # the write stands; the `contract.changed` event lets an indexer catch up
        logger.warning("contract re-index failed", extra={"tenant_id": tenant_id, "error": str(error)})
        return [{"status": "failed", "error": type(error).__name__}]


def put_contract(rt: Runtime, who: Principal, document: str, body: dict[str, Any]) -> dict[str, Any]:
    """Upload a new contract document or replace the current text of one."""
    return _write(rt, who, document, str(body.get("name") or f"{document.lower()}.md"), str(body["markdown"]),
                  action="replaced", reason=body.get("reason"), expected_revision=body.get("expected_revision"))


def amend_contract(rt: Runtime, who: Principal, document: str, body: dict[str, Any]) -> dict[str, Any]:
    """Replace the text of some clauses (or add clauses) of a stored contract: a new revision like any other."""
    before = rt.store.get(who.tenant_id, CURRENT, document)
    if before is None:
        raise NotFound(f"no contract {document}")
    markdown = contract_set.amended(before.data["markdown"], document, body["clauses"])
    return _write(rt, who, document, before.data["name"], markdown, action="amended", reason=body["reason"],
                  expected_revision=body.get("expected_revision"))


def remove_contract(rt: Runtime, who: Principal, document: str, reason: str | None) -> dict[str, Any]:
    """Withdraw a contract document; refused while the policy cites one of its clauses. Its revisions stay."""
    tenant_id = who.tenant_id
    stored = _stored(rt, tenant_id)
    before = stored.get(document)
    if before is None:
        raise NotFound(f"no contract {document}")
    others = [t for t in _texts(stored) if t.document != document]
    contract_set.check_set(others, _policy(rt, tenant_id), what=f"removing contract {document}")
    revision = _next_revision(rt, tenant_id, document)
    at = rt.clock.now_iso()
    changes = contract_set.clause_changes(contract_set.parse(before["name"], before["markdown"]), None)
    rt.commit(tenant_id, Changes(
        puts=[Put(REVISIONS, f"{document}#{revision:05d}",
                  {"document": document, "revision": revision, "action": "removed", "reason": reason, "at": at,
                   "by": who.actor, "markdown": None, "sha256": None, "changes": changes}, must_be_absent=True)],
        deletes=[Delete(CURRENT, document)],
        audit=[_audit(who, "removed", document, revision, None, reason, [], changes=changes)],
        events=[changed_event("removed", document, revision, None)],
    ))
    return {"document": document, "status": "removed", "revision": revision,
            "index": reindex_after_write(rt, tenant_id)}


def list_contracts(rt: Runtime, who: Principal) -> dict[str, Any]:
    items = [{k: v for k, v in _view(d).items() if k != "markdown"} for d in _stored(rt, who.tenant_id).values()]
    return {"items": sorted(items, key=lambda d: d["document"])}


def get_contract(rt: Runtime, who: Principal, document: str, revision: int | None = None) -> dict[str, Any]:
    """The current text and every revision's record (without its text), however long the history; with `revision`,
    also that revision's record with its text (`revision`), or NotFound when the document never had it."""
    stored = rt.store.get(who.tenant_id, CURRENT, document)
    history = list(pages(rt.store, who.tenant_id, REVISIONS, prefix=f"{document}#"))
    if stored is None and not history:
        raise NotFound(f"no contract {document}")
    answer = {
        "contract": stored.data if stored else None,
        "revisions": [{k: v for k, v in item.data.items() if k != "markdown"} for item in history],
    }
    if revision is not None:
        asked = next((item.data for item in history if item.data.get("revision") == revision), None)
        if asked is None:
            raise NotFound(f"contract {document} has no revision {revision}")
        answer["revision"] = asked
    return answer
