"""Go-live history: past invoice lines and payments per partner imported as the invoices billing keeps."""

from __future__ import annotations

from typing import Any

from ...domain.access import Role
from ...services import history
from ..http import Call
from ..registry import operation

IMPORTERS = frozenset({Role.FINANCE, Role.ADMIN})


@operation(
    "POST",
    "/v1/history/imports",
    summary="Import a go-live file of past invoice lines and payments per partner (finance, admin): every row checked, "
    "any bad row refuses the file (422 naming each); the same rows again answer the first import",
    roles=IMPORTERS,
    tag="billing",
    status=201,
    body_schema="api/history-import.schema.json",
    response_schema="api/responses/history-import.schema.json",
    example={
        "source": "nw-history-2024-2026.csv",
        "lines": [
            {
                "partner_id": "ptr_01JBNWPARTNER0000000000001",
                "invoice_ref": "ERP-INV-2025-1001",
                "invoice_date": "2025-10-31",
                "line_ref": "ERP-INV-2025-1001-1",
                "sku": "NW-SW-24P",
                "quantity": "4",
                "amount": "5000.00",
                "service_date": "2025-10-14",
            }
        ],
        "payments": [
            {
                "partner_id": "ptr_01JBNWPARTNER0000000000001",
                "invoice_ref": "ERP-INV-2025-1001",
                "paid_on": "2025-11-28",
            }
        ],
    },
)
def import_history(call: Call) -> dict[str, Any]:
    return history.import_history(call.runtime, call.who, call.body)
