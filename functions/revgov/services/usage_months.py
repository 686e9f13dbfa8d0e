"""The month pointers of billing's usage records (`USAGEMONTH`): a month's records for the usage what-if, which would
otherwise read every usage record of the tenant (they are keyed by partner first). Apart from billing's repository so
that provisioning writes the tenant's mark without loading billing."""

from __future__ import annotations

from ..ports import Put

USAGE_MONTHS = "USAGEMONTH"  # period#<USAGE key> -> that key: a month's usage records
USAGE_MONTHS_COMPLETE = "#complete"  # no month starts with "#": every usage record of the tenant has its pointer


def usage_month_put(key: str, month: str) -> Put:
    """The month's pointer to the usage record `key`, written with the record (a record never changes its month)."""
    return Put(USAGE_MONTHS, f"{month}#{key}", {"usage_key": key, "period": month})


def usage_months_complete(tenant_id: str | None = None) -> Put:
    """The mark that every usage record of the tenant has its month pointer (`tenant_id`: written from the platform's
    partition, at provisioning; else by `usage_month_backfill`)."""
    return Put(USAGE_MONTHS, USAGE_MONTHS_COMPLETE, {"complete": True}, tenant_id=tenant_id)
