"""ERP events in: verify the tenant's signature, validate, deduplicate, log as received and put on the bus; replay.

An accepted event is committed with its deduplication record, its event-log entry, the copy kept for replay and
(for billable events) its invoice-SLA watch, and goes onto the bus through the outbox, so it is never half-received.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .. import schemas
from ..domain import webhooks
from ..domain.access import PLATFORM, Principal
from ..domain.audit import AuditEntry
from ..domain.billing import SLA_TRACKED, sla_due
from ..domain.billing.sales_tax import location_errors
from ..domain.canonical import sha256_hex
from ..domain.errors import Conflict, FieldError, Forbidden, MalformedRequest, NotFound, RuleViolation, Unauthenticated
from ..domain.tenants import Tenant
from ..ports import Changes, DomainEvent, Put
from ..runtime import Runtime
from . import events, tenant_repository, tenants

SOURCE = "revgov.erp"
DEDUPE = "ERPEVENT"  # ERP event id -> the Revgov event id it was received as
INBOUND = "INBOUND"  # Revgov event id -> the bus event, for replay and for re-applying parked events
SLA_WATCH = "SLAWATCH"  # Revgov event id -> when its invoice line is due (billable events only)
KEEP_SECONDS = 36 * 24 * 3600  # an ERP event id is deduplicated (and kept for replay) 36 days
MAX_GRACE_SECONDS = 7 * 24 * 3600
_TENANT = re.compile(r"^[a-z][a-z0-9-]{2,39}$")
_ENVELOPE = ("tenant_id", "event_id", "occurred_at")


def authenticate(rt: Runtime, tenant_id: str | None, signature: str | None, raw_body: bytes) -> Tenant:
    """The tenant whose current webhook secret signed this body within the tolerance; otherwise 401.

    An unknown tenant fails exactly like a wrong secret, so the endpoint does not confirm which tenants exist.
    """
    if not tenant_id or not _TENANT.fullmatch(tenant_id):
        raise Unauthenticated("send Revgov-Tenant: <tenant id> and a Revgov-Signature made with its webhook secret")
    stored = tenant_repository.webhook_secrets(rt.store, tenant_id)
    secrets = webhooks.current_secrets(stored.data["secrets"], rt.clock.now_iso()) if stored else []
    webhooks.verify(signature, raw_body, secrets, now=rt.clock.now_ms() // 1000)
    try:
        tenant, _ = tenants.load_tenant(rt, tenant_id)
    except NotFound as exc:
        raise Unauthenticated("no v1 signature matches this body with a current webhook secret") from exc
    if tenant.status != "active":
        raise Forbidden(f"tenant {tenant_id} is {tenant.status}; its ERP events are not accepted")
    return tenant


def accept(rt: Runtime, tenant: Tenant, body: Any) -> dict[str, Any]:
    """One event, or `{"events": [...]}` of up to 100 answered one by one in the same order.

    A batch's new events are committed together, as many as one transaction holds (`_GROUP_ITEMS`), each with its own
    deduplication record: when any of a group's conditions fails (a concurrent delivery of one of them), the group is
    committed again event by event, so each event is still received, or found a duplicate, on its own."""
    if not (isinstance(body, dict) and "events" in body):
        prepared = _prepare(rt, tenant, body)
        return prepared if isinstance(prepared, dict) else _commit_one(rt, tenant.tenant_id, *prepared)
    schemas.validate("api/erp-event-batch.schema.json", body)
    results: list[dict[str, Any] | None] = [None] * len(body["events"])
    new: list[tuple[int, Changes, dict[str, Any]]] = []
    first_at: dict[str, int] = {}  # ERP event id -> the index that received it in this batch
    repeats: list[int] = []
    for index, event in enumerate(body["events"]):
        try:
            if isinstance(event, dict) and isinstance(event.get("id"), str) and event["id"] in first_at:
                schemas.validate("events/erp-event.schema.json", event, what="ERP event")
                first = body["events"][first_at[event["id"]]]
                if fingerprint(first) != fingerprint(event):
                    raise _reused(event["id"])
                repeats.append(index)  # the same ERP event twice in one batch: answered once the first is committed
                continue
            prepared = _prepare(rt, tenant, event)
        except (MalformedRequest, RuleViolation) as error:
            results[index] = _rejected(index, event, error)
            continue
        if isinstance(prepared, dict):
            results[index] = prepared
        else:
            first_at[event["id"]] = index
            new.append((index, *prepared))
    for group in _groups(new):
        try:
            _commit_together(rt, tenant.tenant_id, [changes for _, changes, _ in group])
            for index, _, received in group:
                results[index] = received
        except Conflict:
            for index, changes, received in group:
                try:
                    results[index] = _commit_one(rt, tenant.tenant_id, changes, received)
                except RuleViolation as error:  # a concurrent delivery of the same id with another body won
                    results[index] = _rejected(index, body["events"][index], error)
    for index in repeats:
        seen = rt.store.get(tenant.tenant_id, DEDUPE, body["events"][index]["id"])
        if seen is None:  # pragma: no cover - the first of them was committed or found a duplicate above
            raise Conflict(f"ERP event {body['events'][index]['id']} could not be received; send it again")
        try:
            results[index] = _duplicate(seen.data, fingerprint(body["events"][index]))
        except RuleViolation as error:  # a repeat of an event refused above: refused the same way
            results[index] = _rejected(index, body["events"][index], error)
    answered = [{"index": index, **result} for index, result in enumerate(results) if result is not None]
    counts = {s: sum(r["status"] == s for r in answered) for s in ("received", "duplicate", "rejected")}
    return {"results": answered, **counts}


_GROUP_ITEMS = 99  # items in one transaction: DynamoDB's 100, less the store's check of the tenant's tombstone
_GROUP_BYTES = 1_000_000  # well under DynamoDB's 4 MB per transaction


def _size(changes: Changes) -> tuple[int, int]:
    """Items (each event is one more: its outbox entry) and about how many bytes they hold (the event's data is
    stored twice: the copy kept for replay and the outbox entry)."""
    data = sum(len(json.dumps(e.detail, default=str)) for e in changes.events)
    return len(changes.puts) + len(changes.events), 2 * data + 2048 * len(changes.puts)


def _groups(
    new: list[tuple[int, Changes, dict[str, Any]]],
) -> list[list[tuple[int, Changes, dict[str, Any]]]]:
    groups: list[list[tuple[int, Changes, dict[str, Any]]]] = []
    items = size = 0
    for entry in new:
        more_items, more_bytes = _size(entry[1])
        if not groups or items + more_items > _GROUP_ITEMS or size + more_bytes > _GROUP_BYTES:
            groups.append([])
            items = size = 0
        groups[-1].append(entry)
        items, size = items + more_items, size + more_bytes
    return groups


def _commit_together(rt: Runtime, tenant_id: str, changes: list[Changes]) -> None:
    if len(changes) == 1:
        rt.commit(tenant_id, changes[0])
        return
    rt.commit(
        tenant_id,
        Changes(puts=[p for c in changes for p in c.puts], events=[e for c in changes for e in c.events]),
    )


def _prepare(rt: Runtime, tenant: Tenant, event: Any) -> dict[str, Any] | tuple[Changes, dict[str, Any]]:
    """A valid event's answer if it is a duplicate, otherwise the change that receives it and the answer it gets."""
    schemas.validate("events/erp-event.schema.json", event, what="ERP event")
    wrong_place = location_errors(event["data"].get("tax_location"), "/data/tax_location")
    if wrong_place:  # what the schema cannot say: the ISO 3166-2 region lies in the country (PA-10.1's location)
        raise MalformedRequest("ERP event: tax_location's region is not in its country", errors=wrong_place)
    erp_id, tenant_id = event["id"], tenant.tenant_id
    seen = rt.store.get(tenant_id, DEDUPE, erp_id)
    if seen is not None:
        return _duplicate(seen.data, fingerprint(event))
    event_id = rt.ids.new("evt")
    received_at = rt.clock.now_iso()  # when Revgov received it: the usage cut-off counts from here (SOP-3.1)
    detail = {"erp_event_id": erp_id, "replay": 0, "received_at": received_at, "data": event["data"]}
    bus_event = {
        "source": SOURCE,
        "detail-type": event["type"],
        "detail": {**detail, "tenant_id": tenant_id, "event_id": event_id, "occurred_at": event["occurred_at"]},
    }
    expires = rt.clock.now_ms() // 1000 + KEEP_SECONDS
    received = {
        "erp_event_id": erp_id,
        "event_id": event_id,
        "detail_type": event["type"],
        "received_at": received_at,
        "fingerprint": fingerprint(event),
    }
    changes = Changes(
        puts=[
            Put(
                DEDUPE,
                erp_id,
                received,
                must_be_absent=True,
                expires_at=expires,
                conflict_detail=f"ERP event {erp_id} was already received",
            ),
            Put(INBOUND, event_id, bus_event, expires_at=expires),
            events.entry_put(
                rt,
                event_id=event_id,
                source=SOURCE,
                detail_type=event["type"],
                occurred_at=event["occurred_at"],
                status="received",
            ),
            *_sla_watch(tenant, bus_event),
        ],
        events=[DomainEvent(SOURCE, event["type"], detail, event_id=event_id, occurred_at=event["occurred_at"])],
    )
    return changes, {"event_id": event_id, "erp_event_id": erp_id, "duplicate": False, "status": "received"}


def _commit_one(rt: Runtime, tenant_id: str, changes: Changes, received: dict[str, Any]) -> dict[str, Any]:
    try:
        rt.commit(tenant_id, changes)
    except Conflict:
        seen = rt.store.get(tenant_id, DEDUPE, received["erp_event_id"])
        if seen is None:
            raise
        mine = next(put.data.get("fingerprint") for put in changes.puts if put.collection == DEDUPE)
        return _duplicate(seen.data, mine)  # a concurrent delivery of the same id won
    return received


def fingerprint(event: dict[str, Any]) -> str:
    """What makes two deliveries of an ERP id the same event: its type, when it occurred and its data."""
    return sha256_hex({"type": event["type"], "occurred_at": event["occurred_at"], "data": event["data"]})


def _reused(erp_id: str) -> RuleViolation:
    """The ERP id is the event's idempotency key (SOP-3.1 "deduplicated by event id"): API.md, Stripe's semantics,
    "the same key with another body is a 422" — a changed event sent under a received id is refused, never taken for
    a duplicate and dropped (its change would be lost unseen). A correction is a new event under a new id."""
    return RuleViolation(
        f"ERP event {erp_id} was already received with another type, occurred_at or data; nothing was changed. "
        "Send a correction as a new event with a new id",
        errors=[FieldError("/id", "already received with another body")],
    )


def _rejected(index: int, event: Any, error: MalformedRequest | RuleViolation) -> dict[str, Any]:
    return {
        "erp_event_id": event.get("id") if isinstance(event, dict) else None,
        "status": "rejected",
        "errors": [FieldError(f"/events/{index}{e.path}", e.message).as_dict() for e in error.errors],
    }


def _duplicate(seen: dict[str, Any], body_fingerprint: str | None) -> dict[str, Any]:
    """The first delivery's answer; a refusal when this delivery's body differs from it (a record kept before
    fingerprints were stored is taken as the same event)."""
    first = seen.get("fingerprint")
    if body_fingerprint is not None and first is not None and first != body_fingerprint:
        raise _reused(str(seen["erp_event_id"]))
    return {
        "event_id": seen["event_id"],
        "erp_event_id": seen["erp_event_id"],
        "duplicate": True,
        "status": "duplicate",
    }


def _sla_watch(tenant: Tenant, bus_event: dict[str, Any]) -> list[Put]:
    """A shipment, activation or milestone acceptance starts the invoice SLA clock at the time it occurred."""
    sla = tenant.policy.get("billing", {}).get("invoice_sla")
    if bus_event["detail-type"] not in SLA_TRACKED or not sla:
        return []
    detail = bus_event["detail"]
    due = sla_due(detail["occurred_at"], int(sla["hours"]), detail["data"], bus_event["detail-type"])
    watch = {
        "event_id": detail["event_id"],
        "erp_event_id": detail["erp_event_id"],
        "detail_type": bus_event["detail-type"],
        "partner_id": detail["data"]["partner_id"],
        "occurred_at": detail["occurred_at"],
        "due_at": due,
        "breached": False,
    }
    return [Put(SLA_WATCH, detail["event_id"], watch, lookup=(f"{SLA_WATCH}#open", f"{due}#{detail['event_id']}"))]


# --- replay and re-application -------------------------------------------------------------------------------------
def republish(rt: Runtime, tenant_id: str, event_id: str, reason: str) -> Changes:
    """Put a received ERP event on the bus again under its own id, with `replay` one higher (so the handler's
    idempotency record does not answer for it; the billing guards still bill it at most once)."""
    stored = rt.store.get(tenant_id, INBOUND, event_id)
    if stored is None:
        raise NotFound(f"no ERP event {event_id} is kept for replay (unknown, or older than 36 days)")
    bus_event = stored.data
    detail = {k: v for k, v in bus_event["detail"].items() if k not in _ENVELOPE}
    detail["replay"] = int(detail.get("replay", 0)) + 1
    occurred_at = bus_event["detail"]["occurred_at"]
    updated = {**bus_event, "detail": {**bus_event["detail"], "replay": detail["replay"]}}
    return Changes(
        puts=[
            Put(
                INBOUND,
                event_id,
                updated,
                expected_version=stored.version,
                expires_at=rt.clock.now_ms() // 1000 + KEEP_SECONDS,
                conflict_detail=f"event {event_id} was replayed meanwhile",
            ),
            events.entry_put(
                rt,
                event_id=event_id,
                source=SOURCE,
                detail_type=bus_event["detail-type"],
                occurred_at=occurred_at,
                status="received",
                reason=reason,
            ),
        ],
        events=[DomainEvent(SOURCE, bus_event["detail-type"], detail, event_id=event_id, occurred_at=occurred_at)],
    )


def replay(rt: Runtime, tenant_id: str, event_ids: list[str], actor: str) -> list[dict[str, Any]]:
    """Re-publish dead-lettered or failed ERP events (after the cause is fixed); each replay is audited."""
    results = []
    for event_id in event_ids:
        try:
            changes = republish(rt, tenant_id, event_id, f"replayed by {actor}")
            replayed = changes.events[0].detail["replay"]
            changes.audit.append(
                AuditEntry(
                    actor=actor,
                    action="erp_event.replayed",
                    subject=event_id,
                    outcome="republished",
                    inputs={"erp_event_id": changes.events[0].detail["erp_event_id"], "replay": replayed},
                )
            )
            rt.commit(tenant_id, changes)
            results.append({"event_id": event_id, "status": "replayed", "replay": replayed})
        except (NotFound, Conflict) as error:
            results.append({"event_id": event_id, "status": "skipped", "reason": error.detail})
    return results


def replayable(rt: Runtime, tenant_id: str, statuses: tuple[str, ...] = ("dead_lettered", "failed")) -> list[str]:
    """ERP events whose latest status is one of `statuses`."""
    found: list[str] = []
    for status in statuses:
        found += [item.key for item in events.all_by_status(rt, tenant_id, status) if item.data.get("source") == SOURCE]
    return found


# --- webhook secret rotation (operator) ------------------------------------------------------------------------------
def rotate_secret(rt: Runtime, actor: Principal, tenant_id: str, grace_seconds: int) -> dict[str, Any]:
    """A new webhook secret, shown once; the current ones keep working until the grace period ends."""
    tenant, _ = tenants.load_tenant(rt, tenant_id)
    stored = tenant_repository.webhook_secrets(rt.store, tenant_id)
    new_secret = rt.ids.secret()
    secrets, grace_ends = webhooks.rotate(
        stored.data["secrets"] if stored else [], new_secret, rt.clock.now_iso(), grace_seconds
    )
    rt.commit(
        PLATFORM,
        Changes(
            puts=[
                tenant_repository.secrets_put_over(
                    tenant_id,
                    secrets,
                    version=stored.version if stored else None,
                    conflict_detail="the webhook secret was rotated meanwhile; rotate again",
                )
            ],
            audit=[
                AuditEntry.by(
                    actor,
                    "tenant.webhook_secret_rotated",
                    tenant_id,
                    "rotated",
                    inputs={"grace_seconds": grace_seconds, "previous_valid_until": grace_ends},
                    policy_version=tenant.policy_version,
                )
            ],
        ),
    )
    return {
        "tenant_id": tenant_id,
        "webhook_secret": new_secret,
        "previous_secrets_valid_until": grace_ends,
        "secrets_in_use": len(secrets),
    }
