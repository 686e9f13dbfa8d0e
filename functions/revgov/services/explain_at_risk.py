"""Which partners are at risk of missing their quarterly thresholds (staff): one call over every active partner's
forecast (`GET /v1/partners/{id}/forecast`, same projection and method), each at-risk level with its probability,
the gap, and the clause of the level (PA-7.2 / CPA-7.2, or the tier's annual commitment clause).

It reads the forecast of each active partner in turn: as many reads as `GET …/forecast` per partner.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from ..domain.access import Principal, Role
from ..domain.errors import FieldError, Forbidden, MalformedRequest
from ..domain.explain_at_risk import at_risk
from ..runtime import Runtime
from . import analytics, partner_repository

DEFAULT_MIN_P_MISS = Decimal("0.5")  # the threshold watcher's "likely to miss"


def _floor(text: str | None) -> Decimal:
    if text is None:
        return DEFAULT_MIN_P_MISS
    try:
        value = Decimal(text) if text.isascii() else Decimal("NaN")
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(1):
        raise MalformedRequest("min_p_miss must be a probability from 0 to 1",
                               errors=[FieldError("/query/min_p_miss", "a decimal from 0 to 1, e.g. 0.5")])
    return value


def at_risk_partners(rt: Runtime, who: Principal, period: str, min_p_miss: str | None = None) -> dict[str, Any]:
    """Every active partner's thresholds at risk in `period`, most likely to be missed first."""
    if who.role is Role.PARTNER:  # a tenant-wide list: staff only (a partner reads its own forecast)
        raise Forbidden("the at-risk list is for staff; a partner key reads GET /v1/partners/{id}/forecast")
    floor = _floor(min_p_miss)
    items: list[dict[str, Any]] = []
    looked_at, as_of, method = 0, None, None
    for partner in partner_repository.active(rt.store, who.tenant_id):
        outlook = analytics.forecast(rt, who, str(partner["partner_id"]), period)
        looked_at += 1
        as_of, method = outlook["as_of"], outlook["method"]
        figures = {k: outlook[k] for k in ("to_date", "projected", "history_months")}
        items.extend(
            {"partner_id": partner["partner_id"], "legal_name": partner.get("legal_name"), "tier": partner.get("tier"),
             **figures, **risk}
            for risk in at_risk(outlook, floor)
        )
    items.sort(key=lambda i: (-Decimal(str(i["p_miss"])), str(i["partner_id"]), str(i["program_id"])))
    return {"period": period, "as_of": as_of, "method": method, "min_p_miss": str(floor),
            "partners_looked_at": looked_at, "items": items}
