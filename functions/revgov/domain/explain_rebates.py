"""A rebate settlement statement in words: why each line is what it is, from the stored statement and its traces.

Input is the statement as `GET /v1/rebates/settlements/{id}?partner_id=` returns it (lines with programme, model,
basis, rate, tier, caps, accrual difference; trace pages with the invoice and credit-note lines counted or
excluded per programme; withholding under PA-7.8 / CPA-7.8). Every number in a sentence is a stored field or the
sum of stored trace rows, and names the record it comes from; clause texts are quoted, never paraphrased.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from .copilot import Passage
from .explain import assemble
from .money import format_money

LISTED = 10  # record ids spelled out in a sentence; the structured answer lists up to MAX_SOURCES
MAX_SOURCES = 200


def _rows(trace: Mapping[str, Any]) -> list[dict[str, Any]]:
    columns = list(trace.get("columns") or [])
    return [dict(zip(columns, row, strict=False)) for row in trace.get("lines") or []]


def _traces_for(line: Mapping[str, Any], traces: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    key = (line.get("program_id"), line.get("period"))
    return [t for t in traces if (t.get("program_id"), t.get("period")) == key]


def _ids(values: Sequence[str]) -> str:
    listed = ", ".join(values[:LISTED])
    return listed + (f" and {len(values) - LISTED} more" if len(values) > LISTED else "")


def _trace_sentence(trace: Mapping[str, Any], currency: str) -> str:
    rows = _rows(trace)
    total = format_money(sum((Decimal(str(r.get("amount") or "0")) for r in rows), Decimal("0")))
    invoices = list(dict.fromkeys(str(r.get("invoice_id")) for r in rows if r.get("invoice_id")))
    credits = [str(r.get("line_id")) for r in rows if Decimal(str(r.get("amount") or "0")) < 0]
    where = f"trace page {trace.get('page')}"
    if trace.get("section") == "excluded":
        return (f"Excluded from {trace.get('program_id')} under {trace.get('rule_id')} ({trace.get('clause')}), "
                f"{trace.get('reason')}: {len(rows)} sales line(s), {total} {currency}, on invoice(s) "
                f"{_ids(invoices)} ({where}).")
    credit_words = f"; credit-note line(s) {_ids(credits)} reduce it" if credits else ""
    return (f"Counted for {trace.get('program_id')} under {trace.get('rule_id')} ({trace.get('clause')}): "
            f"{len(rows)} sales line(s) totalling {total} {currency}, on invoice(s) {_ids(invoices)}{credit_words} "
            f"({where}).")


def _basis(line: Mapping[str, Any], currency: str) -> str:
    if line.get("basis_revenue") is not None:
        basis = f"qualifying revenue {line['basis_revenue']} {currency}"
    elif line.get("units") is not None:
        basis = f"{line['units']} qualifying unit(s)"
    else:
        basis = "no rated basis on the line"
    tier = line.get("tier_reached")
    tier_words = (f", tier {tier.get('rule_id')} reached (from {tier.get('from')} at {tier.get('percent')}%, "
                  f"{tier.get('clause')})" if isinstance(tier, Mapping) else "")
    return f"{basis}, rate {line.get('rate')}{tier_words}; {_caps(line)}"


def _caps(line: Mapping[str, Any]) -> str:
    """Every cap the statement line says was applied (PA-7.8 "the caps applied": a unit cap, PA-7.5; the caps across
    programmes, PA-7.6), else its cap reduction."""
    caps = [c for c in line.get("caps_applied") or [] if isinstance(c, Mapping)]
    if caps:
        return "; ".join(
            f"cap {c.get('rule_id')} ({c.get('clause')}) reduced it by {c.get('reduced_by')}"
            + (f" (limit {c['limit']})" if c.get("limit") is not None else "")
            + (f" ({c['units_not_paid']} unit(s) over the {c['units']}-unit cap not paid)"
               if c.get("units_not_paid") is not None else "")
            for c in caps
        )
    if Decimal(str(line.get("cap_reduction") or "0")):
        return f"before caps {line.get('amount_before_caps')}, capped by {line.get('cap_reduction')}"
    return "no cap reduced it"


def _line_sentences(line: Mapping[str, Any], traces: Sequence[Mapping[str, Any]], currency: str) -> list[str]:
    head = (f"Line {line.get('line_no')} ({line.get('kind')}, {line.get('program_id') or 'no programme'} "
            f"“{line.get('name')}”, period {line.get('period')}): {line.get('amount')} {currency}")
    kind = line.get("kind")
    if kind == "settlement":
        accrued = line.get("accrued")
        words = [f"{head} under {line.get('rule_id')} ({line.get('clause')}), model {line.get('model')}: "
                 f"{_basis(line, currency)}; accrued before {accrued if accrued is not None else 'nothing'}, "
                 f"difference {line.get('difference_from_accrual')}."]
    elif kind == "adjustment":
        credit_notes = list((line.get("references") or {}).get("credit_notes") or [])
        words = [f"{head}, an adjustment of a settled period under {line.get('rule_id')} ({line.get('clause')}): "
                 f"previously settled {line.get('previously_settled')}, recomputed {line.get('recomputed')}"
                 + (f", after credit-note line(s) {_ids(credit_notes)}" if credit_notes else "") + "."]
    else:
        refs = ", ".join(f"{k} {v}" for k, v in (line.get("references") or {}).items())
        words = [f"{head} under {line.get('rule_id')} ({line.get('clause')})" + (f", referring to {refs}" if refs
                                                                                 else "") + "."]
    return words + [_trace_sentence(t, currency) for t in _traces_for(line, traces)]


def _withholding(statement: Mapping[str, Any]) -> list[str]:
    held = statement.get("withholding")
    if statement.get("status") != "withheld" or not isinstance(held, Mapping):
        return [f"The statement is {statement.get('status')}: no withholding applies."]
    invoices = [f"{i.get('invoice_id')} (due {i.get('due_on')}, {i.get('days_overdue')} days overdue)"
                for i in held.get("overdue_invoices") or []]
    return [f"The statement total {statement.get('total')} is withheld under {held.get('rule_id')} "
            f"({held.get('clause')}): as of {held.get('as_of')}, {held.get('overdue_invoice_count')} invoice(s) "
            f"overdue beyond {held.get('overdue_days')} days: {_ids(invoices)}."]


def _message(line: Mapping[str, Any], rule: Mapping[str, Any], statement: Mapping[str, Any]) -> str:
    """The line's programme name; for the tier reached, its rate and threshold as the clause's table writes them
    (so the quote picked is that table row)."""
    tier = line.get("tier_reached")
    if isinstance(tier, Mapping) and tier.get("rule_id") == rule.get("rule_id") and tier.get("from") is not None:
        start = f"{Decimal(str(tier['from'])):,.2f}"
        return f"{line.get('name')}: {tier.get('percent')}% from {statement.get('currency')} {start}"
    return str(line.get("name") or "")


def _reasons(
    lines: Sequence[Mapping[str, Any]], statement: Mapping[str, Any], unlined: Sequence[Mapping[str, Any]] = ()
) -> list[Mapping[str, Any]]:
    pairs: dict[tuple[str, str], str] = {}
    for line in lines:
        for rule in line.get("rules") or [{"rule_id": line.get("rule_id"), "clause": line.get("clause")}]:
            pairs.setdefault((str(rule.get("rule_id")), str(rule.get("clause") or "")), _message(line, rule, statement))
        for cap in line.get("caps_applied") or []:
            pairs.setdefault((str(cap.get("rule_id")), str(cap.get("clause") or "")), f"{line.get('name')} cap")
    for trace in unlined:
        pairs.setdefault((str(trace.get("rule_id")), str(trace.get("clause") or "")), str(trace.get("reason") or ""))
    run = statement.get("settlement_rule")
    if isinstance(run, Mapping) and run.get("rule_id"):
        pairs.setdefault((str(run["rule_id"]), str(run.get("clause") or "")), "settlement statement")
    held = statement.get("withholding")
    if statement.get("status") == "withheld" and isinstance(held, Mapping):
        pairs.setdefault((str(held.get("rule_id")), str(held.get("clause") or "")), str(held.get("reason") or ""))
    return [{"rule_id": rule, "clause": clause, "message": message} for (rule, clause), message in pairs.items()]


def _sources(line: Mapping[str, Any], traces: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    rows = [(t, r) for t in _traces_for(line, traces) for r in _rows(t)]
    ids = list(dict.fromkeys(str(r.get("line_id")) for _, r in rows if r.get("line_id")))
    invoices = list(dict.fromkeys(str(r.get("invoice_id")) for _, r in rows if r.get("invoice_id")))
    return {
        "line_no": line.get("line_no"),
        "kind": line.get("kind"),
        "program_id": line.get("program_id"),
        "amount": line.get("amount"),
        "rule_id": line.get("rule_id"),
        "clause": line.get("clause"),
        "trace_pages": [t.get("page") for t in _traces_for(line, traces)],
        "sales_line_count": len(ids),
        "sales_lines": ids[:MAX_SOURCES],
        "invoices": invoices[:MAX_SOURCES],
        "references": line.get("references"),
    }


def explain_statement(
    statement: Mapping[str, Any], clauses: Mapping[str, Passage], *, line_no: int | None = None
) -> dict[str, Any]:
    """The explanation of one partner's statement, or of one of its lines (`line_no`); the caller checked that
    the line exists. `statement` carries its `traces` and the run's own `settlement_rule` ({rule_id, clause})."""
    currency = str(statement.get("currency") or "")
    lines = [ln for ln in statement.get("lines") or [] if line_no is None or ln.get("line_no") == line_no]
    traces = list(statement.get("traces") or [])
    summary = (f"Statement of settlement {statement.get('settlement_id')} run {statement.get('run')} for "
               f"{statement.get('partner_id')}, period {statement.get('period')}, dated "
               f"{statement.get('statement_date')}: total {statement.get('total')} {currency}, accrued "
               f"{statement.get('accrued')}, difference from accruals {statement.get('difference_from_accruals')}, "
               f"status {statement.get('status')}" + (f"; line {line_no} explained" if line_no is not None else "")
               + ".")
    unlined = [t for t in traces if line_no is None and not any(t in _traces_for(ln, traces) for ln in lines)]
    details = [s for line in lines for s in _line_sentences(line, traces, currency)]
    details += [f"No statement line for {t.get('program_id')}. " + _trace_sentence(t, currency) for t in unlined]
    explained = assemble(summary, details + _withholding(statement), _reasons(lines, statement, unlined), clauses)
    return {**explained, "lines": [_sources(line, traces) for line in lines]}


def statement_clauses(statement: Mapping[str, Any], line_no: int | None = None) -> list[str]:
    """The clause ids an explanation of the statement (or one line) cites: to fetch their texts."""
    lines = [ln for ln in statement.get("lines") or [] if line_no is None or ln.get("line_no") == line_no]
    traces = list(statement.get("traces") or [])
    unlined = [t for t in traces if line_no is None and not any(t in _traces_for(ln, traces) for ln in lines)]
    return list(dict.fromkeys(r["clause"] for r in _reasons(lines, statement, unlined) if r["clause"]))
