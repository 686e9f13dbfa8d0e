"""Who holds a key: segregation of duties (SOP-4.3 / COP-4.3) across keys minted for the purpose.

An API key's secret is shown once, to whoever minted it (`POST /v1/keys`). A key minted after a request was made,
by a key of someone who made that request, is in that person's hands: an admin who drafts a policy change (or checks
a quote) and then mints a finance key holds the finance key too. Keys that existed before the request are other
people's; a key minted by a key minted after the request is followed back the same way.

SOP-4.3: "A requester can never approve their own request. The person who created or last changed a [...] request
[...] may not approve it, even if they are a member of the approving queue or hold an admin role. Where a request
needs two approvals [...] they must be given by two different people, neither of whom is the requester."
"""

from __future__ import annotations

from ..runtime import Runtime
from .keys import load_key

_MAX_DEPTH = 16  # a chain of keys minted by keys minted after one request; longer is not a real tenant's


def holders(rt: Runtime, tenant_id: str, key_id: str, *, since: str) -> frozenset[str]:
    """`key_id` and each key that minted it at or after `since` (an ISO instant), followed back through the keys
    that minted those: the keys whose holder also holds `key_id`."""
    held = {key_id}
    current = key_id
    for _ in range(_MAX_DEPTH):
        stored = load_key(rt, tenant_id, current)
        if stored is None:
            break
        created_at, created_by = str(stored.data.get("created_at") or ""), str(stored.data.get("created_by") or "")
        minter = created_by.partition(":")[2]
        if created_at < since or not minter.startswith("key_") or minter in held:
            break
        held.add(minter)
        current = minter
    return frozenset(held)


def same_person(rt: Runtime, tenant_id: str, first: tuple[str, str], second: tuple[str, str]) -> bool:
    """Whether two keys, each with the instant of the request it acted on (`(key_id, since)`), are one holder's."""
    return bool(holders(rt, tenant_id, first[0], since=first[1]) & holders(rt, tenant_id, second[0], since=second[1]))
