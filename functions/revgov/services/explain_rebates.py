"""Why a partner's rebate is what it is: a settlement statement (or one of its lines) explained from the stored
statement, its trace pages and the text of the clauses it cites (PA-7.x / CPA-7.x), audited like
`copilot.explained`.

Access is the statement's own (`rebates.get_settlement`): a partner key reads only its own statement of an
approved run; staff name the partner. Nothing is recomputed: the explanation reads what the run stored.
"""

from __future__ import annotations

from typing import Any

from ..domain import copilot as core
from ..domain.access import Principal, Role
from ..domain.audit import AuditEntry
from ..domain.errors import FieldError, MalformedRequest, NotFound
from ..domain.explain_rebates import explain_statement, statement_clauses
from ..runtime import Runtime
from . import rebates


def _line_no(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 9999:
        raise MalformedRequest(
            "line must be a statement line number from 1", errors=[FieldError("/query/line", "1..9999")]
        )
    return int(text)


def _statement(rt: Runtime, who: Principal, settlement_id: str, partner_id: str | None) -> dict[str, Any]:
    if who.role is not Role.PARTNER and partner_id is None:
        rebates.get_settlement(rt, who, settlement_id, None)  # an unknown settlement is a 404 first
        raise MalformedRequest(
            "name the partner whose statement to explain",
            errors=[FieldError("/query/partner_id", "required for a staff key (a partner key reads its own)")],
        )
    view = rebates.get_settlement(rt, who, settlement_id, partner_id)
    rule = {"rule_id": view.get("rule_id"), "clause": view.get("clause")}
    return {**view["statement"], "settlement_rule": rule}


def explain_settlement(
    rt: Runtime, who: Principal, settlement_id: str, partner_id: str | None, line: str | None = None
) -> dict[str, Any]:
    """A partner's statement in a settlement run explained, whole or one line (`line`, its `line_no`)."""
    line_no = _line_no(line)
    statement = _statement(rt, who, settlement_id, partner_id)
    if line_no is not None and not any(ln.get("line_no") == line_no for ln in statement.get("lines") or []):
        raise NotFound(f"no line {line_no} in the statement of settlement {settlement_id}")
    scope = core.Scope(who.tenant_id, str(statement["partner_id"]))
    wanted = statement_clauses(statement, line_no)
    passages = rt.clause_index.get(scope, wanted) if rt.clause_index is not None and wanted else []
    explained = explain_statement(statement, {p.clause_id: p for p in passages}, line_no=line_no)
    subject = settlement_id if line_no is None else f"{settlement_id}#{statement['partner_id']}#{line_no}"
    rt.audit_only(
        who.tenant_id,
        AuditEntry.by(
            who,
            "copilot.explained",
            subject,
            "explained",
            inputs={"settlement_id": settlement_id, "partner_id": statement["partner_id"], "line": line_no,
                    "explanation": core.mask_sensitive(explained["explanation"])},
            rule_ids=tuple(dict.fromkeys(str(r["rule_id"]) for r in explained["reasons"] if r.get("rule_id"))),
            clauses=tuple(dict.fromkeys(c["clause"] for c in explained["citations"])),
            sources=tuple(wanted),
        ),
    )
    return {
        "settlement_id": settlement_id,
        "partner_id": statement["partner_id"],
        "period": statement.get("period"),
        "run": statement.get("run"),
        "line": line_no,
        "currency": statement.get("currency"),
        "total": statement.get("total"),
        "status": statement.get("status"),
        **explained,
    }
