"""Red team 2: a policy draft crafted so the billing what-if (and, once active, billing itself) cannot compute.

PA-1.3 / CPA-1.3 (docs/billing.md): money is exact decimal arithmetic, rounded once per line, half to even, to 2
places. schemas/tenant.schema.json `$defs/money` let a draft price any number of digits ("99999999999999999999999999.99"
was accepted by PATCH), and rounding a 29-digit line exceeds Decimal's 28-digit context: POST …/billing-whatif
answered 500 (probed on the running product: a 3 × NW-SW-24P shipment in the month). Every money field a caller or
the ERP sends is at most 15 integer digits (`domain.money.parse_money`); the tenant policy is held to the same.
"""

from __future__ import annotations

import pytest
from test_policy_whatif_billing import CHANNEL_OPS, FINANCE, _billed, _events, _op

from revgov.domain.errors import RuleViolation
from revgov.services import policy_drafts
from revgov.services.policy_whatif_billing import whatif_billing

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


# SOP-3.2 / PA-10.x usage rate tables: "band bounds must increase" (domain.billing.rating.RateTable). A draft whose
# first band ends above the second passes the schema; found by setting each numeric leaf of the northwind policy to an
# extreme schema-valid value and running the billing, usage and rebate what-ifs (only this one crashed: 3 leaves).
UNORDERED_BANDS = [_op("/billing/usage_rates/0/bands/0/up_to", 10**15)]


def test_a_usage_whatif_under_a_draft_with_unordered_bands_is_a_422_naming_the_rate_tables_not_a_500():
    from revgov.services.policy_whatif_usage import whatif_usage

    ledger = _billed(_events())
    draft = policy_drafts.create_draft(ledger.rt, CHANNEL_OPS, {"reason": "unordered bands"})
    policy_drafts.patch_policy(ledger.rt, CHANNEL_OPS, draft["draft_id"], {"operations": UNORDERED_BANDS})
    with pytest.raises(RuleViolation) as refused:
        whatif_usage(ledger.rt, FINANCE, draft["draft_id"], {"period": "2026-10"})
    assert [e.path for e in refused.value.errors] == ["/policy/billing/usage_rates"]
    assert "band bounds must increase" in refused.value.detail


def test_a_draft_that_billing_cannot_use_is_not_valid():
    ledger = _billed(_events())
    draft = policy_drafts.create_draft(ledger.rt, CHANNEL_OPS, {"reason": "unordered bands"})
    policy_drafts.patch_policy(ledger.rt, CHANNEL_OPS, draft["draft_id"], {"operations": UNORDERED_BANDS})
    checked = policy_drafts.validate_draft(ledger.rt, FINANCE, draft["draft_id"])
    assert checked["valid"] is False
    assert any(p["path"].startswith("/policy/billing/usage_rates") for p in checked["problems"])


@pytest.mark.parametrize(("first", "last", "field"), [
    ("9999-12-31", "9999-12-31", "/to"),  # was a 500: OverflowError adding the id window's slack
    ("1960-01-01", "1960-01-02", "/from"),  # was a 500: "ULID time out of range" (ids count from 1970)
    ("0001-01-01", "0001-01-02", "/from"),
])
def test_a_quote_whatif_window_outside_the_ids_range_is_a_422_naming_the_day(first, last, field):
    """POST …/whatif {from, to}: "Bad input always gets a clear problem+json error and changes nothing" (COMMON.md);
    probed on the running product, from = to = 9999-12-31 answered 500."""
    from revgov.services.policy_whatif import whatif

    ledger = _billed(_events())
    draft = policy_drafts.create_draft(ledger.rt, CHANNEL_OPS, {"reason": "a far window"})
    with pytest.raises(RuleViolation) as refused:
        whatif(ledger.rt, FINANCE, draft["draft_id"], {"from": first, "to": last})
    assert field in [e.path for e in refused.value.errors]
