"""The rebate documents in the store: the one module that names their collections, reads them and builds their writes.

Billing's sales facts, invoices and invoice lines are read through billing's collection names (services.billing);
partner records through services.keys'.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NotRequired, TypedDict, cast

from ...domain.canonical import sha256_hex
from ...domain.errors import NotFound
from ...ports import Changes, Delete, Put, Stored
from ...runtime import Runtime
from .. import partner_repository
from ..billing import INVOICES, SALES_FACTS
from ..billing import LINES as INVOICE_LINES
from ..billing import repository as billing_repository
from ..toolkit import lookup_pages, pages, put_over

PROJECTION = "RBTLINE"  # partner#month#line -> rebate line; lookup RBTLINE#month
ACCRUALS = "RBTACCRUAL"  # period#partner -> the partner's accrual for the period
RUNNING = "RBTRUNNING"  # period#partner -> the accrual as sums (domain.rebates.running), or stale
ACCRUAL_KEYS = "RBTACCRUALKEY"  # period#partner#digest -> a line the accrual counted with that repeat key
RETRO = "RBTRETRO"  # period -> lines that changed after the period was settled
SETTLEMENTS = "RBTSETTLEMENT"
SETTLEMENT_KEYS = "RBTSETTLEMENTKEY"  # period#run -> settlement id: one approved settlement per period and run
RUNS = "RBTRUN"  # period#run -> the settlement id of the run's latest preparation
SETTLED = "RBTSETTLED"  # program#period#run -> settlement id: once per program, period and run
PERIODS = "RBTPERIOD"  # period -> runs and the amounts settled so far per partner and program
STATEMENTS = "RBTSTATEMENT"  # settlement#partner#page -> the partner's statement (page 0) and line traces
CLAIMS = "RBTCLAIM"  # period#settlement#program#chunk -> line ids the program counted
DISPUTES = "RBTDISPUTE"
DISPUTE_LINES = "RBTDISPUTELINE"  # settlement#partner#program -> the dispute filed on that statement line
ADJUSTMENTS = "RBTADJUSTMENT"  # dispute id -> an accepted amount waiting for the next run; lookup by status
CREDIT_NOTES = "RBTCREDITNOTE"  # credit note id -> an upheld dispute paid by separate credit note (PA-7.9)
WITHHELD = "RBTWITHHELD"  # partner#settlement -> an amount withheld (PA-7.8); lookup by status (pending, released)
RUN_LATE = "RBTRUNLATE"  # period -> the exception a late rebate run opened (SOP-7.2 / COP-7.2 deadlines)
FINDING_CASES = "RBTFINDINGCASE"  # category#period -> the exception its findings opened (one, refreshed by later runs)
MAX_DISPUTE_ADJUSTMENTS = 25  # paid per run: the settlement's commit stays inside DynamoDB's 100 items
MAX_RELEASES = 25  # withheld amounts a run looks at for release (the rest wait for the next run), for the same reason


class Accrual(TypedDict):
    """A partner's accrual for a period (schemas/api/responses/accrual.schema.json)."""

    partner_id: str
    period: str
    as_of: str
    policy_version: str
    tier: str | None
    total: str
    programs: list[dict[str, Any]]
    line_count: int
    findings: int


class Dispute(TypedDict):
    """A dispute of a statement line (schemas/api/responses/rebate-dispute.schema.json)."""

    dispute_id: str
    settlement_id: str
    partner_id: str
    period: str
    program_id: str
    line_nos: list[int]
    settled_amount: str
    amount: str
    reason: str
    evidence: list[dict[str, Any]]
    status: str
    filed_at: str
    filed_by: str
    window_closes_on: str
    approval_id: str | None
    resolution: dict[str, Any] | None
    rule_id: str
    clause: str
    acknowledged: NotRequired[dict[str, Any] | None]  # by, at: finance acknowledged it (PA-7.9, SOP-6.2 step 2)
    deadlines: NotRequired[dict[str, Any] | None]  # acknowledge_by, decide_by in business days (PA-7.9 / CPA-7.9)
    appeal: NotRequired[dict[str, Any] | None]  # the partner's one appeal of the decision (SOP-6.3 / COP-6.3)


class Adjustment(TypedDict, total=False):
    """An accepted dispute's amount: pending until a settlement run pays it, then settled in that run."""

    dispute_id: str
    settlement_id: str
    partner_id: str
    program_id: str
    period: str
    amount: str
    status: str
    accepted_at: str
    settled_in: str
    settled_at: str
    payment: dict[str, Any]  # how it is paid (PA-7.9): next_settlement or credit_note, and the next settlement
    credit_note_id: str  # paid by separate credit note: status credit_note, then credited (or back to pending)
    credited_at: str


# --- generic reads and writes --------------------------------------------------------------------------------------
def get_many(rt: Runtime, tenant_id: str, collection: str, keys: list[str]) -> dict[str, dict[str, Any]]:
    """The documents found under `keys` (batches of 100), by key."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(keys), 100):
        refs = [(tenant_id, collection, k) for k in keys[start : start + 100]]
        found.update({ref[2]: stored.data for ref, stored in rt.store.get_many(refs).items()})
    return found


def looked_up(rt: Runtime, tenant_id: str, partition: str) -> Iterator[Stored]:
    """Every entry of a lookup partition, page by page."""
    return lookup_pages(rt.store, tenant_id, partition)


def commit_in_chunks(rt: Runtime, tenant_id: str, puts: list[Put], size: int = 25) -> None:
    """Documents nothing points at yet (projection lines, statement pages, claims), written in small commits."""
    for start in range(0, len(puts), size):
        rt.store.commit(tenant_id, Changes(puts=puts[start : start + size]))


def partners(rt: Runtime, tenant_id: str, partner_ids: list[str]) -> dict[str, dict[str, Any]]:
    return partner_repository.get_many(rt.store, tenant_id, partner_ids)


def partner(rt: Runtime, tenant_id: str, partner_id: str) -> dict[str, Any] | None:
    return partner_repository.record(rt.store, tenant_id, partner_id)



# --- billing's facts ---------------------------------------------------------------------------------------------
def sales_facts(rt: Runtime, tenant_id: str, line_ids: list[str]) -> list[dict[str, Any]]:
    return list(get_many(rt, tenant_id, SALES_FACTS, line_ids).values())


def invoice_sales_facts(rt: Runtime, tenant_id: str, invoice_id: str) -> list[dict[str, Any]]:
    return [item.data for item in pages(rt.store, tenant_id, SALES_FACTS, prefix=f"{invoice_id}.")]


def month_sales_facts(rt: Runtime, tenant_id: str, month: str) -> list[dict[str, Any]]:
    return [item.data for item in looked_up(rt, tenant_id, f"{SALES_FACTS}#{month}")]


def partner_month_sales_facts(rt: Runtime, tenant_id: str, partner_id: str, months: list[str]) -> list[dict[str, Any]]:
    """One partner's sales facts of each month (month order, then line id), as `month_sales_facts` lists the tenant's:
    a fact is listed by the month of its invoice, and a partner has one invoice a month, found by its month pointer
    (`INVOICE_KEYS`, partner#period); read through those pointers and that invoice's facts, not the tenant's month."""
    keys = [f"{partner_id}#{month}" for month in months]
    pointers = get_many(rt, tenant_id, billing_repository.INVOICE_KEYS, keys)
    return [fact for key in keys if key in pointers
            for fact in invoice_sales_facts(rt, tenant_id, str(pointers[key]["invoice_id"]))]  # fmt: skip


def invoices(rt: Runtime, tenant_id: str, invoice_ids: list[str]) -> dict[str, dict[str, Any]]:
    return get_many(rt, tenant_id, INVOICES, invoice_ids)


def unpaid_issued_invoices(rt: Runtime, tenant_id: str) -> list[dict[str, Any]]:
    """Billing's issued (finalized) invoices not yet paid, read fresh: the index may lag a payment."""
    return billing_repository.issued_invoices(rt, tenant_id, unpaid_only=True)


def partner_unpaid_invoices(rt: Runtime, tenant_id: str, partner_id: str) -> list[dict[str, Any]]:
    """Billing's issued invoices of one partner not yet paid, read fresh through the partner's own month pointers."""
    return billing_repository.partner_issued_invoices(rt, tenant_id, partner_id, unpaid_only=True)


def invoice_lines(rt: Runtime, tenant_id: str, keys: list[str]) -> dict[str, dict[str, Any]]:
    """Billing's invoice lines by their key (invoice#00001)."""
    return get_many(rt, tenant_id, INVOICE_LINES, keys)


# --- the projection and its retroactive markers --------------------------------------------------------------------
def line_key(line: dict[str, Any]) -> str:
    return f"{line['partner_id']}#{line['month']}#{line['line_id']}"


def projected(rt: Runtime, tenant_id: str, lines: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The stored rebate lines of these lines, by key."""
    return get_many(rt, tenant_id, PROJECTION, [line_key(ln) for ln in lines])


def projection_put(line: dict[str, Any], *, new: bool = False) -> Put:
    """`new`: the line is written with its accrual's sums, so it must not have been projected meanwhile."""
    return Put(
        PROJECTION,
        line_key(line),
        line,
        lookup=(f"{PROJECTION}#{line['month']}", f"{line['partner_id']}#{line['line_id']}"),
        must_be_absent=new,
    )


def partner_lines(rt: Runtime, tenant_id: str, partner_id: str, month: str) -> list[dict[str, Any]]:
    """A partner's rebate lines of a month (credit notes sit in the month of the line they credit)."""
    return [item.data for item in pages(rt.store, tenant_id, PROJECTION, prefix=f"{partner_id}#{month}#")]


def month_lines(rt: Runtime, tenant_id: str, month: str) -> list[dict[str, Any]]:
    return [item.data for item in looked_up(rt, tenant_id, f"{PROJECTION}#{month}")]


def retro_marker(rt: Runtime, tenant_id: str, period: str) -> Stored | None:
    return rt.store.get(tenant_id, RETRO, period)


def retro_markers(rt: Runtime, tenant_id: str) -> Iterator[Stored]:
    return pages(rt.store, tenant_id, RETRO)


def retro_put(marker: dict[str, Any], stored: Stored | None) -> Put:
    return put_over(RETRO, marker["period"], marker, stored)


def retro_delete(period: str) -> Delete:
    return Delete(RETRO, period)


# --- accruals ------------------------------------------------------------------------------------------------------
def accrual(rt: Runtime, tenant_id: str, period: str, partner_id: str) -> Stored | None:
    return rt.store.get(tenant_id, ACCRUALS, f"{period}#{partner_id}")


def accrual_put(accrual: Accrual, stored: Stored | None) -> Put:
    return put_over(ACCRUALS, f"{accrual['period']}#{accrual['partner_id']}", dict(accrual), stored)


# --- the running accrual (#17) --------------------------------------------------------------------------------------
def running_key(period: str, partner_id: str) -> str:
    return f"{period}#{partner_id}"


def running_states(rt: Runtime, tenant_id: str, keys: list[str]) -> dict[str, Stored]:
    """The running accruals stored under these keys (`running_key`), with their versions."""
    return {ref[2]: found for ref, found in rt.store.get_many([(tenant_id, RUNNING, k) for k in keys]).items()}


def running_put(record: dict[str, Any], stored: Stored | None) -> Put:
    key = running_key(record["period"], record["partner_id"])
    return put_over(RUNNING, key, record, stored, conflict_detail=f"the running accrual {key} changed meanwhile")


def stale_put(period: str, partner_id: str) -> Put:
    """Lines of the period written without its sums: the next refresh re-rates in full (a write that moves the
    version, so a rating that read before it cannot store its sums over it)."""
    return Put(RUNNING, running_key(period, partner_id), {"period": period, "partner_id": partner_id, "stale": True})


def accrual_key(period: str, partner_id: str, key: str) -> str:
    return f"{period}#{partner_id}#{sha256_hex(key)[:32]}"


def known_keys(rt: Runtime, tenant_id: str, keys: list[str]) -> set[str]:
    """Which of these accrual keys (`accrual_key`) a line of the accrual already holds."""
    return set(get_many(rt, tenant_id, ACCRUAL_KEYS, keys))


def accrual_key_put(key: str, line_id: str, *, new: bool) -> Put:
    """`new`: written with the lines it names, and a concurrent line with the same key makes that commit conflict."""
    return Put(ACCRUAL_KEYS, key, {"line_id": line_id}, must_be_absent=new, conflict_detail="a repeat line meanwhile")


def accrual_page(
    rt: Runtime, tenant_id: str, period: str, partner_id: str | None, limit: int, cursor: str | None
) -> tuple[list[Accrual], str | None]:
    prefix = f"{period}#{partner_id}" if partner_id else f"{period}#"
    page = rt.store.query(tenant_id, ACCRUALS, limit=limit, cursor=cursor, prefix=prefix)
    return [cast(Accrual, i.data) for i in page.items], page.next_cursor


def accrued(rt: Runtime, tenant_id: str, period: str) -> dict[str, dict[str, str]]:
    """Partner -> program -> payable, as accrued for the period."""
    return {
        item.data["partner_id"]: {p["program_id"]: p["payable"] for p in item.data["programs"]}
        for item in pages(rt.store, tenant_id, ACCRUALS, prefix=f"{period}#")
    }


# --- settlements ---------------------------------------------------------------------------------------------------
def find_settlement(rt: Runtime, tenant_id: str, settlement_id: str) -> dict[str, Any] | None:
    stored = rt.store.get(tenant_id, SETTLEMENTS, settlement_id)
    return stored.data if stored else None


def settlement(rt: Runtime, tenant_id: str, settlement_id: str) -> dict[str, Any]:
    header = find_settlement(rt, tenant_id, settlement_id)
    if header is None:
        raise NotFound(f"no settlement {settlement_id}")
    return header


def settlement_page(
    rt: Runtime, tenant_id: str, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Settlement headers in id order (oldest first), a page at a time."""
    page = rt.store.query(tenant_id, SETTLEMENTS, limit=limit, cursor=cursor)
    return [i.data for i in page.items], page.next_cursor


def statements(rt: Runtime, tenant_id: str, settlement_ids: list[str], partner_id: str) -> dict[str, dict[str, Any]]:
    """The partner's statement (page 0) in each of these settlements that has one, by settlement id."""
    found = get_many(rt, tenant_id, STATEMENTS, [f"{sid}#{partner_id}#000" for sid in settlement_ids])
    return {key.partition("#")[0]: data for key, data in found.items()}


def settlement_of_run(rt: Runtime, tenant_id: str, period: str, run: int) -> str | None:
    """The settlement made for this period and run, if any."""
    stored = rt.store.get(tenant_id, SETTLEMENT_KEYS, f"{period}#{run}")
    return str(stored.data["settlement_id"]) if stored else None


def settlement_puts(header: dict[str, Any], program_ids: list[str], prepared: Stored) -> list[Put]:
    """The approved header over the prepared one as read, and the markers that make it the one settlement of its
    period and run (and of each program's): a second approval of the run loses its commit."""
    sid, period, run = header["settlement_id"], header["period"], header["run"]
    return [
        Put(
            SETTLEMENT_KEYS,
            f"{period}#{run}",
            {"settlement_id": sid},
            must_be_absent=True,
            conflict_detail=f"{period} run {run} was settled meanwhile",
        ),
        header_put(header, prepared),
        *(Put(SETTLED, f"{p}#{period}#{run}", {"settlement_id": sid}, must_be_absent=True) for p in program_ids),
    ]


def stored_settlement(rt: Runtime, tenant_id: str, settlement_id: str) -> Stored:
    stored = rt.store.get(tenant_id, SETTLEMENTS, settlement_id)
    if stored is None:
        raise NotFound(f"no settlement {settlement_id}")
    return stored


def header_put(header: dict[str, Any], read: Stored | None) -> Put:
    detail = f"settlement {header['settlement_id']} changed meanwhile; read it again"
    return put_over(SETTLEMENTS, header["settlement_id"], header, read, conflict_detail=detail)


def preparation(rt: Runtime, tenant_id: str, period: str, run: int) -> Stored | None:
    """The pointer to the run's latest preparation: {settlement_id}."""
    return rt.store.get(tenant_id, RUNS, f"{period}#{run}")


def preparation_put(header: dict[str, Any], pointer: Stored | None) -> Put:
    key = f"{header['period']}#{header['run']}"
    detail = f"{key} was prepared again meanwhile"
    return put_over(RUNS, key, {"settlement_id": header["settlement_id"]}, pointer, conflict_detail=detail)


def period_state(rt: Runtime, tenant_id: str, period: str) -> Stored | None:
    return rt.store.get(tenant_id, PERIODS, period)


def period_put(state: dict[str, Any], stored: Stored | None) -> Put:
    return put_over(PERIODS, state["period"], state, stored, conflict_detail=f"{state['period']} was settled meanwhile")


def statement(rt: Runtime, tenant_id: str, settlement_id: str, partner_id: str) -> dict[str, Any] | None:
    stored = rt.store.get(tenant_id, STATEMENTS, f"{settlement_id}#{partner_id}#000")
    return stored.data if stored else None


def trace_pages(rt: Runtime, tenant_id: str, settlement_id: str, partner_id: str) -> list[dict[str, Any]]:
    items = pages(rt.store, tenant_id, STATEMENTS, prefix=f"{settlement_id}#{partner_id}#")
    return [i.data for i in items if i.data.get("page")]


def statement_puts(statement: dict[str, Any], trace_pages: list[dict[str, Any]]) -> list[Put]:
    """A partner's statement (page 0) and its trace pages (1, 2, ...)."""
    key = f"{statement['settlement_id']}#{statement['partner_id']}"
    return [
        Put(STATEMENTS, f"{key}#000", statement),
        *(
            Put(STATEMENTS, f"{key}#{n:03d}", {"partner_id": statement["partner_id"], "page": n, **page})
            for n, page in enumerate(trace_pages, start=1)
        ),
    ]


def claim_puts(claims: list[dict[str, Any]]) -> list[Put]:
    return [Put(CLAIMS, c["key"], {k: v for k, v in c.items() if k != "key"}) for c in claims]


def claimed_lines(rt: Runtime, tenant_id: str, period: str, settlement_id: str) -> Iterator[dict[str, Any]]:
    """What each program claimed in a settlement of a period: {program_id, line_ids} chunks."""
    return (item.data for item in pages(rt.store, tenant_id, CLAIMS, prefix=f"{period}#{settlement_id}#"))


def late_run_case(rt: Runtime, tenant_id: str, period: str) -> Stored | None:
    """The marker naming the exception the period's late rebate run opened."""
    return rt.store.get(tenant_id, RUN_LATE, period)


def late_run_case_put(period: str, case_id: str, at: str) -> Put:
    found = {"case_id": case_id, "period": period, "opened_at": at}
    return Put(RUN_LATE, period, found, must_be_absent=True, conflict_detail=f"the late run of {period} was reported")


def finding_case(rt: Runtime, tenant_id: str, category: str, period: str) -> Stored | None:
    """The marker naming the exception a category's findings of the period opened."""
    return rt.store.get(tenant_id, FINDING_CASES, f"{category}#{period}")


def finding_case_put(category: str, period: str, case_id: str, findings_hash: str, marker: Stored | None) -> Put:
    found = {"case_id": case_id, "category": category, "period": period, "findings_hash": findings_hash}
    detail = f"the {category} exception of {period} changed meanwhile"
    return put_over(FINDING_CASES, f"{category}#{period}", found, marker, conflict_detail=detail)


# --- disputes and their adjustments --------------------------------------------------------------------------------
def dispute(rt: Runtime, tenant_id: str, dispute_id: str) -> tuple[Dispute, int] | None:
    stored = rt.store.get(tenant_id, DISPUTES, dispute_id)
    return (cast(Dispute, stored.data), stored.version) if stored else None


def dispute_put(dispute: Dispute, version: int | None) -> Put:
    detail = f"dispute {dispute['dispute_id']} changed meanwhile; read it again"
    return put_over(DISPUTES, dispute["dispute_id"], dict(dispute), version, conflict_detail=detail)


def dispute_line(rt: Runtime, tenant_id: str, line_key: str) -> Stored | None:
    """The statement line's claim marker: the last dispute filed on it."""
    return rt.store.get(tenant_id, DISPUTE_LINES, line_key)


def dispute_line_put(dispute: Dispute, line_key: str, marker: Stored | None) -> Put:
    claim = {k: dispute[k] for k in ("dispute_id", "settlement_id", "partner_id", "program_id")}
    detail = "a dispute was filed on this statement line meanwhile"
    return put_over(DISPUTE_LINES, line_key, claim, marker, conflict_detail=detail)


UNPAID = ("pending", "credit_note")  # an adjustment a run pays: waiting for it, or for a credit note not issued yet


def pending_adjustments(rt: Runtime, tenant_id: str) -> list[tuple[Adjustment, int]]:
    """Accepted disputes waiting for a run (at most MAX_DISPUTE_ADJUSTMENTS), read fresh: the index may lag. One
    whose separate credit note (PA-7.9) is not issued yet is paid by the run that comes first."""
    keys: list[str] = []
    for status in UNPAID:
        page = rt.store.lookup(tenant_id, f"{ADJUSTMENTS}#{status}", limit=MAX_DISPUTE_ADJUSTMENTS - len(keys))
        keys += [item.key for item in page.items]
        if len(keys) >= MAX_DISPUTE_ADJUSTMENTS:
            break
    fresh = [rt.store.get(tenant_id, ADJUSTMENTS, key) for key in keys]
    return [(cast(Adjustment, s.data), s.version) for s in fresh if s is not None and s.data["status"] in UNPAID]


def adjustment_put(adjustment: Adjustment, version: int | None) -> Put:
    dispute_id = adjustment["dispute_id"]
    detail = f"the adjustment of {dispute_id} changed meanwhile"
    lookup = (f"{ADJUSTMENTS}#{adjustment['status']}", dispute_id)
    return put_over(ADJUSTMENTS, dispute_id, dict(adjustment), version, conflict_detail=detail, lookup=lookup)


# --- amounts withheld while a partner has an invoice overdue (PA-7.8 / CPA-7.8) ------------------------------------
def pending_withheld(rt: Runtime, tenant_id: str) -> list[tuple[dict[str, Any], int]]:
    """The withheld amounts not released yet (at most MAX_RELEASES), read fresh: the index may lag."""
    page = rt.store.lookup(tenant_id, f"{WITHHELD}#pending", limit=MAX_RELEASES)
    listed = [item.data["key"] for item in page.items]
    fresh = [rt.store.get(tenant_id, WITHHELD, key) for key in listed]
    return [(s.data, s.version) for s in fresh if s is not None and s.data["status"] == "pending"]


def withheld_put(held: dict[str, Any], version: int | None) -> Put:
    detail = f"the amount withheld in {held['settlement_id']} changed meanwhile"
    lookup = (f"{WITHHELD}#{held['status']}", held["key"])
    return put_over(WITHHELD, held["key"], held, version, conflict_detail=detail, lookup=lookup)


def adjustment(rt: Runtime, tenant_id: str, dispute_id: str) -> tuple[Adjustment, int]:
    """An accepted dispute's amount and its version (404 when there is none)."""
    stored = rt.store.get(tenant_id, ADJUSTMENTS, dispute_id)
    if stored is None:
        raise NotFound(f"no adjustment for dispute {dispute_id}")
    return cast(Adjustment, stored.data), stored.version


def credit_note(rt: Runtime, tenant_id: str, credit_note_id: str) -> Stored | None:
    return rt.store.get(tenant_id, CREDIT_NOTES, credit_note_id)


def credit_note_put(note: dict[str, Any], version: int | None) -> Put:
    detail = f"credit note {note['credit_note_id']} changed meanwhile; read it again"
    return put_over(CREDIT_NOTES, note["credit_note_id"], note, version, conflict_detail=detail)
