"""A settlement run's findings as exceptions (domain.rebates.findings says which): opened in the settlement's own
commit, refreshed by a later run that finds the same lines while one is open, skipped once finance closed it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...domain.rebates.findings import ExceptionRequest, exception_requests
from ...domain.rebates.settlement import Run
from ...domain.tenants import Tenant
from ...ports import Changes
from ...runtime import Runtime
from .. import cases
from . import repository
from .book import ACTOR

if TYPE_CHECKING:
    from ...domain.rebates.result import Finding


def open_exceptions(rt: Runtime, tenant: Tenant, run: Run, findings: list[Finding], changes: Changes) -> list[str]:
    """One exception per category the run found, added to `changes` (the settlement's commit): a settlement never
    exists without its exceptions, and one per category (not per partner) keeps that commit inside DynamoDB's 100
    items however many partners are affected. Returns the ids of those opened or refreshed."""
    requests = exception_requests(run.settlement_id, run.period.name, findings)
    opened = [_exception(rt, tenant, run, request, changes) for request in requests]
    return [case_id for case_id in opened if case_id is not None]


def _exception(rt: Runtime, tenant: Tenant, run: Run, request: ExceptionRequest, changes: Changes) -> str | None:
    """The category's exception: a later run of the period that finds the same lines again refreshes the open one
    (or, once finance closed it, opens nothing); different lines open a new one."""
    category, period, tid = request.category, run.period.name, tenant.tenant_id
    marker = repository.finding_case(rt, tid, category, period)
    known = cases.find(rt, tid, marker.data["case_id"]) if marker else None
    if marker and known and cases.undecided(known.data):  # open, or waiting on the partner (SOP-1.3)
        settlements = [*known.data["context"].get("settlement_ids", [known.data["subject"]["id"]])]
        context = {**request.context, "settlement_ids": [*settlements, run.settlement_id]}
        changes.puts.append(cases.refresh_case(known.data, known.version, context=context, at=rt.clock.now_iso()))
        case_id = str(known.data["case_id"])
    elif marker and known and marker.data["findings_hash"] == request.findings_hash:
        return None  # finance closed the exception for exactly these lines
    else:
        case, opened = cases.open_case(
            rt,
            tenant.policy,
            kind="exception",
            subject_kind="rebate_settlement",
            subject_id=run.settlement_id,
            requested_by=ACTOR,
            context={**request.context, "settlement_ids": [run.settlement_id]},
            policy_version=tenant.policy_version,
            **request.case,
        )
        changes.merge(opened)
        case_id = str(case["case_id"])
    changes.puts.append(repository.finding_case_put(category, period, case_id, request.findings_hash, marker))
    return case_id
