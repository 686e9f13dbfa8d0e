"""An auditor's check of when an unposted billable event is flagged, from each tenant's SOP alone.

COP-2.1 (Contoso): "The internal target is 24 hours: at 24 hours an unposted event is flagged to the finance queue,
and at 48 hours an invoice_sla_breach exception is raised".
SOP-2.1 (Northwind): "At 36 hours an unposted event raises a warning to the finance queue; at 48 hours it raises an
invoice_sla_breach exception."
The billing reconciler agent is driven with a stand-in desk holding one unposted shipment of a given age.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from revgov.services.agents import billing_reconciler
from revgov.tenant_files import load_tenant_file
from support import ROOT


class _Desk:
    def __init__(self, tenant: str, age_hours: float) -> None:
        self.policy = load_tenant_file(ROOT / "tenants" / tenant / "tenant.yaml")["policy"]
        self.report = SimpleNamespace(looked_at=0)
        self.flagged: list[Any] = []
        self._watch = {"event_id": "evt_1", "erp_event_id": "ERP-1", "detail_type": "shipment.confirmed",
                       "occurred_at": "2026-11-02T08:00:00Z", "due_at": "2026-11-04T08:00:00Z",
                       "age_hours": age_hours, "breached": False, "log_status": "received",
                       "billed_marker": None, "partner_id": "ptr_1"}  # fmt: skip

    def unbilled_fulfilments(self) -> list[dict[str, Any]]:
        return [self._watch]

    def handle(self, finding: Any) -> None:
        self.flagged.append(finding)


@pytest.mark.parametrize(("age", "flagged"), [(35.5, 0), (36.0, 1)])
def test_sop_2_1_northwind_flags_an_unposted_event_at_36_hours(age, flagged):
    desk = _Desk("northwind", age)
    billing_reconciler.run(desk)  # type: ignore[arg-type]
    assert len(desk.flagged) == flagged


@pytest.mark.parametrize(("age", "flagged"), [(23.5, 0), (24.0, 1)])
def test_cop_2_1_contoso_flags_an_unposted_event_at_24_hours(age, flagged):
    desk = _Desk("contoso", age)
    billing_reconciler.run(desk)  # type: ignore[arg-type]
    assert len(desk.flagged) == flagged
