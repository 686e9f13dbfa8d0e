"""Counted entitlements (CPA-9.7): sandboxes held at a time and exam vouchers issued per Program Year.

CPA-9.7: "Partners receive non-production sandbox environments for demonstrations and testing, up to 1 (Authorized),
3 (Advanced) or 10 (Elite) at a time, and certification exam vouchers per Program Year: 2 (Authorized), 6 (Advanced)
or 20 (Elite). [...] Unused vouchers expire at the end of the Program Year." ("Program Year" means a calendar year.)

The partner record keeps `allowances`: `sandboxes` (those held now, each with its issue instant) and `vouchers`
(Program Year -> the vouchers issued in it, each expiring on 31 December of that year). The cap is the entitlement's
value as of the issue (the effective tier: a lapsed certification lowers it, PA-4.3(a) / CPA-4.3(a)); issuing beyond
it is a 409 naming the entitlement, and nothing changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import Conflict, NotFound

SANDBOXES = "sandbox_environments"
VOUCHERS = "training_vouchers_per_year"
COUNTED = (SANDBOXES, VOUCHERS)


def _held(partner: Mapping[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = dict(partner.get("allowances") or {})
    return {"sandboxes": list(found.get("sandboxes") or []), "vouchers": dict(found.get("vouchers") or {})}


def used(partner: Mapping[str, Any], name: str, at_iso: str) -> int:
    """Sandboxes held now, or vouchers issued in the Program Year of `at_iso` (earlier years' expired with it)."""
    held = _held(partner)
    if name == SANDBOXES:
        return len(held["sandboxes"])
    return len(held["vouchers"].get(at_iso[:4], []))


def remaining(partner: Mapping[str, Any], name: str, cap: Any, entitled: bool, at_iso: str) -> int:
    """What the partner may still receive: the cap (0 when not entitled) less what it uses, never below 0."""
    limit = int(cap) if entitled and isinstance(cap, int) else 0
    return max(limit - used(partner, name, at_iso), 0)


@dataclass(frozen=True)
class Issued:
    partner: dict[str, Any]
    item: dict[str, Any]
    remaining: int


def issue(partner: Mapping[str, Any], answer: Mapping[str, Any], item_id: str, at_iso: str) -> Issued:
    """One sandbox or voucher issued under the entitlement `answer` (as of `at_iso`), or a 409 at the cap."""
    name = answer["name"]
    left = remaining(partner, name, answer["value"], answer["entitled"], at_iso)
    if left <= 0:
        raise Conflict(f"{name}: none left ({answer['reason']}; {used(partner, name, at_iso)} in use) "
                       f"under {answer['clause']}", extra={"entitlement": name, "rule_id": answer["rule_id"],
                                                          "clause": answer["clause"]})
    held = _held(partner)
    if name == SANDBOXES:
        item = {"sandbox_id": item_id, "issued_at": at_iso}
        held["sandboxes"].append(item)
    else:
        year = at_iso[:4]
        item = {"voucher_id": item_id, "issued_at": at_iso, "program_year": year, "expires_on": f"{year}-12-31"}
        held["vouchers"] = {y: v for y, v in held["vouchers"].items() if y >= str(int(year) - 1)}  # older: expired
        held["vouchers"][year] = [*held["vouchers"].get(year, []), item]
    return Issued({**partner, "allowances": held}, item, left - 1)


def give_back(partner: Mapping[str, Any], sandbox_id: str) -> dict[str, Any]:
    """A sandbox returned: no longer held (the partner may be issued another up to the cap)."""
    held = _held(partner)
    kept = [s for s in held["sandboxes"] if s["sandbox_id"] != sandbox_id]
    if len(kept) == len(held["sandboxes"]):
        raise NotFound(f"no sandbox {sandbox_id} held by this partner")
    return {**partner, "allowances": {**held, "sandboxes": kept}}
