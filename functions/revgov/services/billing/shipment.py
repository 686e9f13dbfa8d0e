"""shipment.confirmed: shipped goods at list price less discount, one line per SKU, in the month they shipped (or
were delivered, where the policy bills their family on delivery: CPA-10.2).

CPA-10.2 "devices are billed on delivery": a line of a family the policy bills on delivery, confirmed shipped without
its delivery day, is not billed on the ship day. It waits (`AWAITING_DELIVERY`, per partner and order) and no invoice
SLA runs for it (COP-2.1: "48 hours from the time a device delivery [...] occurred"). The ERP reports the delivery by
sending the shipment again under a new ERP id with `delivered_on`: its lines of those families are billed on the
delivery day, and lines of other families the first confirmation already billed on shipment are not billed twice.

PA-10.1 / CPA-10.1: a shipment is one billable event, billed once whatever ERP id it comes under (`SHIPMENTS`, by
`core.shipment_identity`): the ERP id deduplicates deliveries of one event only, so the same shipment sent again under
another id posts nothing and opens a `duplicate_shipment` exception (triage: SOP-4.1 / COP-4.1 name no category for it);
its delivery report is the one repeat that bills, and only what waited for the delivery."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ...domain import billing as core
from ...domain.time import parse_day, period_of
from ...ports import Delete, Put, Stored
from .exceptions import exception_note, fail, open_exception, resolve_own_exception
from .lines import post_lines
from .posting import Outcome, Posting
from .repository import AWAITING_DELIVERY, CREDIT_NOTE_HOLDS, SHIPMENTS, credited_against, put_over


def shipment_confirmed(posting: Posting, partner: dict[str, Any]) -> Outcome:
    data, book = posting.data, posting.book
    not_listed = _not_shipment_items(posting)
    if not_listed is not None:
        return not_listed
    delivered = bool(data.get("delivered_on"))
    shipment_key, known = _known(posting, partner["partner_id"], data)
    repeat = known is not None and not (delivered and not known.data.get("delivered_on"))
    if known is not None and repeat:
        taken_back, holds = _taken_back(posting, known.data)
        if not taken_back:
            return _billed_before(posting, partner["partner_id"], known.data, holds)
    # Its delivery report builds on what the shipment billed; its corrected charge (SOP-2.5) starts over.
    shipment: dict[str, Any] = known.data if known is not None and not repeat else {}
    key, awaited = _awaited(posting, partner["partner_id"], data)
    before = set(awaited.data["billed_skus"]) if awaited is not None else set()
    before |= set(shipment.get("billed_skus", []))
    waiting: list[core.LineDraft] = []
    billed: list[core.LineDraft] = []
    for draft in core.shipment_drafts(book, data):
        if draft.family in book.delivery_families:
            (billed if delivered else waiting).append(draft)
        elif not (delivered and draft.sku in before):  # billed on shipment by the first confirmation
            billed.append(draft)
    by_month: dict[str, list[core.LineDraft]] = {}
    for draft in billed:  # shipped lines in the month shipped, delivered ones (CPA-10.2) in the month delivered
        by_month.setdefault(period_of(draft.service_period.start), []).append(draft)
    for month, same_month in by_month.items():
        post_lines(posting, partner["partner_id"], month, same_month)
    posting.changes.puts.append(_shipment_put(posting, shipment_key, known, shipment, {d.sku for d in billed if d.sku}))
    posting.changes.puts += _content_alias(posting, partner["partner_id"], shipment_key)
    cited = f"{book.delivery_billing.clause} {book.delivery_billing.rule_id}" if book.delivery_billing else "policy"
    if delivered or not waiting:
        reason = None
        if awaited is not None and delivered:
            posting.changes.deletes.append(Delete(AWAITING_DELIVERY, key))
            reason = f"the delivery of order {data['order_ref']}, shipped {awaited.data['shipped_on']} ({cited})"
        elif shipment:
            reason = (f"the delivery of the shipment of order {data['order_ref']} of {data['shipped_on']}; its lines "
                      f"were billed on shipment (event {shipment['event_ids'][0]})")
        elif known is not None:
            reason = _corrected_charge(posting, data)
        return Outcome("processed", reason, posted=bool(billed), settles_sla=not billed)
    record = {
        "partner_id": partner["partner_id"],
        "order_ref": data["order_ref"],
        "shipped_on": data["shipped_on"],
        "event_id": posting.event_id,
        "erp_event_id": posting.erp_event_id,
        "skus": [d.sku for d in waiting],
        "billed_skus": sorted(before | {d.sku for d in billed if d.sku}),
    }
    posting.changes.puts.append(put_over(AWAITING_DELIVERY, key, record, awaited))
    reason = (f"{len(waiting)} line(s) billed on delivery ({cited}: devices are billed on delivery) wait for their "
              "delivery: not billed on the ship day; send the shipment again under a new ERP id with delivered_on")
    return Outcome("processed", reason, posted=bool(billed), settles_sla=not billed)


def _not_shipment_items(posting: Posting) -> Outcome | None:
    """The failure of a shipment naming a SKU that is not a shipment item of the price list of the day it is priced
    on: the ship day, or the quote's (PA-1.2 / PA-6.1 / CPA-6.1: `BillingPolicy.price_day`); None when all are."""
    data, book = posting.data, posting.book
    shipped = parse_day(data["shipped_on"])
    days = {x["sku"]: book.price_day(data, x["sku"], shipped)[0] for x in data["lines"]}
    unknown = [sku for sku, on in days.items() if getattr(book.price(sku, on), "billing", None) != "shipment"]
    if not unknown:
        return None
    listed = ", ".join(sorted({days[sku].isoformat() for sku in unknown}))
    problem = f"SKU {', '.join(unknown)} is not a shipment item of the price list on {listed}"
    return fail(posting, "unknown_partner_or_sku", problem, book.invoicing)


def _known(posting: Posting, partner_id: str, data: dict[str, Any]) -> tuple[str, Stored | None]:
    """The key of this event's shipment record and the record, if the shipment was billed before (PA-10.1 "the
    billable event"). Its `shipment_ref` names it; with the same order, day, SKUs and quantities (`shipment_content`)
    it is also the shipment recorded without a ref (a confirmation at goods issue, its delivery report naming the
    delivery note), and a ref-less event is the shipment recorded under a ref with that content: only parts that each
    carry their own, different ref are told apart by it (shipment.confirmed.schema.json `shipment_ref`). The order is
    known as `core.shipment_order` spells it; a shipment recorded before under the order as sent is found by it."""
    key, known = _known_under(posting, f"{partner_id}#{core.shipment_order(data)}#", data)
    as_sent = core.shipment_order_as_sent(data)
    if known is None and as_sent is not None:  # recorded before orders were compared without regard to case
        old_key, old = _known_under(posting, f"{partner_id}#{as_sent}#", data)
        if old is not None:
            return old_key, old
    return key, known


def _awaited(posting: Posting, partner_id: str, data: dict[str, Any]) -> tuple[str, Stored | None]:
    """The key of the order's lines waiting for their delivery (CPA-10.2) and the record, if some wait: by the order
    as `core.shipment_order` spells it, or as sent by a shipment recorded before orders were compared so."""
    key = f"{partner_id}#{core.shipment_order(data)}"
    awaited = posting.get(AWAITING_DELIVERY, key)
    as_sent = core.shipment_order_as_sent(data)
    if awaited is None and as_sent is not None:
        old = posting.get(AWAITING_DELIVERY, f"{partner_id}#{as_sent}")
        if old is not None:
            return f"{partner_id}#{as_sent}", old
    return key, awaited


def _known_under(posting: Posting, order: str, data: dict[str, Any]) -> tuple[str, Stored | None]:
    """`_known` under one spelling of the order (`order`: the key's `partner#order#` prefix)."""
    key = order + core.shipment_identity(data)
    known = posting.get(SHIPMENTS, key)
    as_sent = core.shipment_ref_as_sent(data)
    if known is None and as_sent is not None:  # recorded before refs were compared without regard to case
        old = posting.get(SHIPMENTS, order + as_sent)
        key, known = (order + as_sent, old) if old is not None else (key, None)
    if known is not None and known.data.get("alias_of"):  # a ref-less repeat of a shipment recorded under its ref
        key = str(known.data["alias_of"])
        known = posting.get(SHIPMENTS, key)
    ref = core.shipment_ref(data)
    if known is not None or ref is None:
        return key, known
    content_key = order + core.shipment_content(data)
    same = posting.get(SHIPMENTS, content_key)
    if same is None or core.shipment_ref(same.data) not in (None, ref):
        return key, None
    if same.data.get("alias_of"):  # recorded under this ref spelled otherwise (before refs ignored case)
        return str(same.data["alias_of"]), posting.get(SHIPMENTS, str(same.data["alias_of"]))
    return content_key, same  # recorded without a ref (this event names its delivery note), or since under this one


def _content_alias(posting: Posting, partner_id: str, key: str) -> list[Put]:
    """A shipment recorded under its ref is also found by its content (`_known`): a pointer at the content's key, once
    (the first of several refs with one content keeps it; a shipment recorded there without a ref is the record)."""
    data = posting.data
    if core.shipment_ref(data) is None:
        return []
    content_key = f"{partner_id}#{core.shipment_order(data)}#{core.shipment_content(data)}"
    if content_key == key or posting.get(SHIPMENTS, content_key) is not None:
        return []
    return [put_over(SHIPMENTS, content_key, {"alias_of": key, "shipment_ref": data["shipment_ref"]}, None,
                     conflict_detail="the shipment was billed meanwhile")]  # fmt: skip


def _shipment_put(posting: Posting, key: str, known: Stored | None, shipment: dict[str, Any], billed: set[str]) -> Put:
    """The shipment's record: the events that billed it (the latest charge first billed by `event_ids[0]`), the SKUs
    and the lines billed for it so far (`shipment`: what this event builds on, nothing for a new charge)."""
    data = posting.data
    lines = [{"invoice_id": x["invoice_id"], "number": int(x["number"]), "amount": x["amount"]} for x in posting.lines]
    record = {
        "partner_id": data["partner_id"],
        "order_ref": data["order_ref"],
        "shipment_ref": shipment.get("shipment_ref") or data.get("shipment_ref"),
        "shipped_on": data["shipped_on"],
        "delivered_on": data.get("delivered_on") or shipment.get("delivered_on"),
        "event_ids": [*shipment.get("event_ids", []), posting.event_id],
        "erp_event_ids": [*shipment.get("erp_event_ids", []), posting.erp_event_id],
        "billed_skus": sorted(set(shipment.get("billed_skus", [])) | billed),
        "lines": [*shipment.get("lines", []), *lines],
    }
    return put_over(SHIPMENTS, key, record, known, conflict_detail="the shipment was billed meanwhile")


def _taken_back(posting: Posting, shipment: dict[str, Any]) -> tuple[bool, tuple[str, ...]]:
    """Whether issued credit notes (the ERP's, returns, upheld disputes) took back in full every line the shipment
    billed: the repeat is its corrected charge, SOP-2.5 "followed where needed by a corrected charge on the next open
    invoice with the original service period" (COP-2.4), not a second charge. A credit note held for approval is no
    credit yet (SOP-2.5: approved "before it is issued"): with it, the holds that would take the shipment back once
    approved, for the exception to name."""
    lines = shipment.get("lines") or []
    rt, tenant_id = posting.rt, posting.tenant_id
    credited = [credited_against(rt, tenant_id, x["invoice_id"], int(x["number"])) for x in lines]
    charged = [Decimal(x["amount"]) for x in lines]
    issued = bool(lines) and all(c.issued >= amount for c, amount in zip(credited, charged, strict=True))
    reserved = bool(lines) and all(c.amount >= amount for c, amount in zip(credited, charged, strict=True))
    return issued, tuple(h for c in credited for h in c.holds) if reserved and not issued else ()


def _billed_before(posting: Posting, partner_id: str, shipment: dict[str, Any], holds: tuple[str, ...]) -> Outcome:
    """The same shipment again under another ERP id: nothing posted, an exception naming the event that billed it.
    Replayable: a replay finds the same shipment and posts nothing either; a genuinely separate shipment of the same
    day and quantities is sent again under a new id with its own `shipment_ref`. `holds`: credit notes waiting for
    approval that would take the shipment back in full: the repeat is its corrected charge only once they are approved
    (SOP-2.5), so the exception names them and the event waits for them: approved, it is put back on the bus and
    billed; rejected, nothing re-applies it (a replay holds it again: the shipment is billed once)."""
    book, data = posting.book, posting.data
    rule = book.shipment_once
    first = shipment["erp_event_ids"][0]
    held = _held_credit_notes(posting, holds)
    problem = (f"held, not billed: shipment of order {data['order_ref']} shipped {data['shipped_on']}"
               f"{' (' + str(data['shipment_ref']) + ')' if data.get('shipment_ref') else ''} was billed before, "
               f"under ERP event {first} ({rule.rule_id}, {rule.clause}: a shipment is one billable event, billed "
               "once); a separate shipment of the same day and quantities is sent under a new id with its own "
               "shipment_ref")
    if held:
        cn = book.credit_notes
        named = ", ".join(f"{h['hold_id']} (approval {h['approval_id']})" for h in held)
        problem += (f"; its credit note(s) {named} wait for finance approval ({cn.rule_id}, {cn.clause}: not issued "
                    "before approval): this event is re-applied when they are approved, billing the corrected charge")
    case_id = open_exception(
        posting,
        book.duplicate_shipment_category,
        problem,
        partner_id=partner_id,
        rules=(rule,),
        context={"billed_by_event_id": shipment["event_ids"][0], "billed_by_erp_event_id": first,
                 "order_ref": data["order_ref"], "shipped_on": data["shipped_on"],
                 **({"held_credit_notes": held} if held else {})},
    )
    note = exception_note(posting, case_id, book.duplicate_shipment_category)
    return Outcome("failed", problem + note, done=False, settles_sla=True)


def _corrected_charge(posting: Posting, data: dict[str, Any]) -> str:
    """The corrected charge billed (its credit notes issued, SOP-2.5 / COP-2.4), and why. The `duplicate_shipment`
    exception this event opened while they waited for approval reported what no longer holds, so it is resolved in
    this commit citing the credit note rule rather than left to run out its triage SLA and escalate (SOP-4.2 /
    COP-4.2)."""

    def note(case: dict[str, Any]) -> str:
        held = [h["hold_id"] for h in (case.get("context") or {}).get("held_credit_notes", [])]
        named = f" ({', '.join(held)})" if held else ""
        return (f"billed as the corrected charge of the shipment of order {data['order_ref']} of "
                f"{data['shipped_on']}: its credit note(s){named} were approved and issued, taking back in full what "
                "it billed before")

    book = posting.book
    resolve_own_exception(posting, book.duplicate_shipment_category, book.credit_notes, note)
    return (f"the corrected charge of the shipment of order {data['order_ref']} of {data['shipped_on']}: credit notes "
            "took back in full what it billed before (SOP-2.5 / COP-2.4)")


def _held_credit_notes(posting: Posting, holds: tuple[str, ...]) -> list[dict[str, str]]:
    """The credit notes `holds` still waiting for their approval, with their approval ids; each learns that this
    event waits for it (`parked_events`), so its approval puts the event back on the bus (services/credit_notes)."""
    refs = [(posting.tenant_id, CREDIT_NOTE_HOLDS, h) for h in dict.fromkeys(holds)]
    found = posting.rt.store.get_many(refs) if refs else {}
    waiting = [found[ref] for ref in refs if ref in found and found[ref].data["status"] == "pending_approval"]
    for stored in waiting:
        parked = [e for e in stored.data.get("parked_events") or [] if e != posting.event_id]
        entry = {**stored.data, "parked_events": [*parked, posting.event_id][-100:]}
        posting.changes.puts.append(put_over(CREDIT_NOTE_HOLDS, stored.key, entry, stored,
                                             conflict_detail="the held credit note was decided meanwhile"))  # fmt: skip
    return [{"hold_id": s.data["hold_id"], "approval_id": s.data["approval_id"]} for s in waiting]
