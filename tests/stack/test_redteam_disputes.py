"""Red team: what a partner may write as the reason of an invoice-line dispute.

The reason is read by the finance queue that decides the dispute (SOP-6.1 step 2, "Finance checks the line") and is
kept in the dispute, its approval and the audit chain (SOP-4.4: each decision records "a reason"). API.md: "Bad input
always gets a clear problem+json error and changes nothing" (400 naming the field in `path`). Before the fix a reason
of blanks only, or one carrying NUL and other control characters or Unicode bidirectional overrides (which make the
text finance reads differ from the text stored: CVE-2021-42574, "Trojan Source"), was filed as is.
"""

from __future__ import annotations

import pytest
from test_redteam_billing import _issued_october

from billing_support import billing_tenant_in
from support import assert_problem

pytestmark = pytest.mark.stack


@pytest.fixture
def billing_tenant(api, operator, stack):
    yield from billing_tenant_in(api, operator, stack)


@pytest.mark.parametrize(
    "reason",
    [" ", "\t\n ", "short\u0000shipped", "see\u001b[2Jnote", "invoice \u202eDN-1182\u202c", "x\u2066y\u2069", "\u007f"],
)
def test_a_reason_that_states_nothing_or_hides_text_is_refused(billing_tenant, api, reason) -> None:
    october, own, _ = _issued_october(billing_tenant, api)
    invoice_id = october["invoice_id"]
    refused = assert_problem(own.post(f"/v1/invoices/{invoice_id}/disputes",
                                      {"line_no": 1, "amount": "1.00", "reason": reason}), 400)
    assert [e["path"] for e in refused["errors"]] == ["/reason"]
    assert billing_tenant.finance.get("/v1/approvals", status="pending", queue="finance").json()["items"] == []
    filed = own.post(f"/v1/invoices/{invoice_id}/disputes",
                     {"line_no": 1, "amount": "1.00", "reason": "Shipped 4, invoiced 5:\n\tdelivery note DN-1182 — ü"})
    assert filed.status_code == 201, filed.text
