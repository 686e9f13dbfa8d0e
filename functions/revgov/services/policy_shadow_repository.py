"""Shadow mode's records: which drafts are shadowed (and since when), and what live quote checks and posted invoice
lines came to under them. The one module that spells these collection names."""

from __future__ import annotations

from typing import Any

from ..domain.policy_change import APPROVED, PROPOSED
from ..runtime import Runtime
from . import policy_drafts

SHADOWING = "POLICY_SHADOWING"  # draft id -> since when it is evaluated on live quote checks and posted lines
RESULTS = "POLICY_SHADOW"  # <draft id>#<decision id> -> a quote check's comparison
LINE_RESULTS = "POLICY_SHADOW_LINE"  # <draft id>#<line id> -> a posted invoice line's comparison
LIVE = (PROPOSED, APPROVED)
PAGE = 200


def live_drafts(rt: Runtime, tenant_id: str) -> list[dict[str, Any]]:
    """The drafts in shadow mode that are still proposed or approved (one leaving that status is evaluated no
    more; its records stay)."""
    drafts = []
    for item in rt.store.query(tenant_id, SHADOWING, limit=PAGE).items:
        stored = rt.store.get(tenant_id, policy_drafts.DRAFTS, item.key)
        if stored is not None and stored.data["status"] in LIVE:
            drafts.append(stored.data)
    return drafts
