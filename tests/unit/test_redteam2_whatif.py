"""Red team 2: a policy draft crafted so the billing what-if (and, once active, billing itself) cannot compute.

PA-1.3 / CPA-1.3 (docs/billing.md): money is exact decimal arithmetic, rounded once per line, half to even, to 2
places. schemas/tenant.schema.json `$defs/money` let a draft price any number of digits ("99999999999999999999999999.99"
was accepted by PATCH), and rounding a 29-digit line exceeds Decimal's 28-digit context: POST …/billing-whatif
answered 500 (probed on the running product: a 3 × NW-SW-24P shipment in the month). Every money field a caller or
the ERP sends is at most 15 integer digits (`domain.money.parse_money`); the tenant policy is held to the same.
"""

from __future__ import annotations

import pytest

from revgov.domain.errors import RuleViolation
from revgov.services import policy_drafts
from revgov.services.policy_whatif_billing import whatif_billing
from test_policy_whatif_billing import CHANNEL_OPS, FINANCE, _billed, _events, _op

PRICE = "/billing/price_list/0/list_price"


def test_a_draft_price_beyond_15_digits_is_refused_at_the_edit_naming_it_and_the_draft_is_unchanged():
    ledger = _billed(_events())
    draft = policy_drafts.create_draft(ledger.rt, CHANNEL_OPS, {"reason": "a crafted price"})
    with pytest.raises(RuleViolation) as refused:
        policy_drafts.patch_policy(ledger.rt, CHANNEL_OPS, draft["draft_id"],
                                   {"operations": [_op(PRICE, "99999999999999999999999999.99")]})
    assert f"/policy{PRICE}" in {e.path for e in refused.value.errors}
    report = whatif_billing(ledger.rt, FINANCE, draft["draft_id"], {"period": "2026-10"})
    assert report["amount"]["change"] == "0.00"


def test_the_largest_price_a_draft_may_hold_still_bills_in_the_whatif():
    ledger = _billed(_events())
    draft = policy_drafts.create_draft(ledger.rt, CHANNEL_OPS, {"reason": "the largest price"})
    policy_drafts.patch_policy(ledger.rt, CHANNEL_OPS, draft["draft_id"],
                               {"operations": [_op(PRICE, "999999999999999.99")]})
    report = whatif_billing(ledger.rt, FINANCE, draft["draft_id"], {"period": "2026-10"})
    shipment = report["by_kind"]["shipment"]
    assert shipment["changed"] == 1  # 2 x NW-SW-24P at the draft's price, less 5 %: 1,899,999,999,999,999.98
