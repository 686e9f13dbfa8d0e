"""The tenant's catalog: the one place use cases ask "price, cost and family of SKU X on day D".

Until a tenant imports a price list, its catalog is the price list of its policy. An import stores one item per
SKU-version it adds, changes or removes (immutable; a removal is a tombstone), each tagged with the import's
sequence number and id; the catalog head names the imports that committed. Readers see an import only once the
head names it, so an import is all or nothing although its items are written in many transactions, and a
concurrent or abandoned import's items stay invisible. The price of a SKU on a day is one query (the SKU's items),
whatever the catalog's size; a diff between two catalog sequence numbers compares what each made visible.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ..domain.access import Principal
from ..domain.audit import AuditEntry
from ..domain.canonical import sha256_hex
from ..domain.catalog import (
    Catalog,
    CatalogItem,
    catalog_entries,
    diff,
    entry_key,
    item_from_entry,
    policy_catalog,
    product_families,
)
from ..domain.errors import FieldError, NotFound, RuleViolation
from ..domain.price_notice import notice_problems
from ..domain.time import parse_day
from ..ports import Changes, DomainEvent, Put
from ..runtime import Runtime
from .tenants import load_tenant
from .toolkit import pages

ITEMS = "CATALOG"  # one item per SKU-version per import that changed it
HEAD = ("CATALOG_HEAD", "current")
_BATCH = 90  # puts per transaction (DynamoDB takes 100 items)
_PAGE = 500


class StoredCatalog:
    """The imported catalog as of one committed import (`seq`)."""

    def __init__(self, rt: Runtime, tenant_id: str, head: dict[str, Any], seq: int | None = None) -> None:
        self._rt, self._tenant_id = rt, tenant_id
        self._imports: dict[str, str] = head["imports"]
        self.seq = int(head["seq"] if seq is None else seq)
        self.version = str(head["versions"][str(self.seq)]) if self.seq else "cat_none"

    def _visible(self, data: dict[str, Any]) -> bool:
        since = int(data["since"])
        return since <= self.seq and self._imports.get(str(since)) == data["import_id"]

    def _latest(self, prefix: str = "") -> dict[str, dict[str, Any]]:
        """SKU-version key -> its latest visible item (a tombstone included)."""
        latest: dict[str, dict[str, Any]] = {}
        for stored in pages(self._rt.store, self._tenant_id, ITEMS, prefix=prefix, page_size=_PAGE):
            data = stored.data
            key = entry_key(data["entry"])
            if self._visible(data) and int(data["since"]) >= int(latest.get(key, {"since": -1})["since"]):
                latest[key] = data
        return latest

    def entries(self) -> dict[str, dict[str, Any]]:
        return {k: d["entry"] for k, d in self._latest().items() if not d.get("removed")}

    def listed_after(self, seq: int) -> list[dict[str, Any]]:
        """Every SKU-version a committed import after `seq` (up to this catalog's) put on the list."""
        found = []
        for stored in pages(self._rt.store, self._tenant_id, ITEMS, page_size=_PAGE):
            data = stored.data
            if self._visible(data) and int(data["since"]) > seq and not data.get("removed"):
                found.append(data["entry"])
        return found

    def item(self, sku: str, on: str) -> CatalogItem | None:
        for data in self._latest(prefix=f"{sku}#").values():
            if data.get("removed"):
                continue
            item = item_from_entry(data["entry"])
            if item.in_force_on(on):
                return item
        return None


def _head(rt: Runtime, tenant_id: str) -> tuple[dict[str, Any] | None, int | None]:
    stored = rt.store.get(tenant_id, *HEAD)
    return (stored.data, stored.version) if stored else (None, None)


def tenant_catalog(rt: Runtime, tenant_id: str, policy: dict[str, Any]) -> Catalog:
    """The catalog in force for a tenant: its last import, or else the price list of its policy."""
    return imported_catalog(rt, tenant_id) or policy_catalog(policy)


def imported_catalog(rt: Runtime, tenant_id: str) -> Catalog | None:
    """The tenant's last catalog import, if it has one (else its policy's price list is the catalog)."""
    head, _ = _head(rt, tenant_id)
    return StoredCatalog(rt, tenant_id, head) if head else None


def price_lines(
    catalog: Catalog, lines: list[dict[str, Any]], on: str, rule: dict[str, Any] | None = None
) -> dict[str, CatalogItem]:
    """The catalog item of every line's SKU on day `on`, by SKU; every line whose SKU is not on the price list that
    day is named in one 422 (PA-6.1: products are quoted from the price list in force on the quote date).

    No clause of either demo contract routes an item off the price list to an approval: "Products" are the items
    listed in the price list (PA-1.1 / CPA-1.1) and are quoted from it (PA-6.1 / CPA-6.1), so such a line is refused,
    citing the policy's `pricing.price_list_only` rule when it has one."""
    found: dict[str, CatalogItem] = {}
    missing: list[FieldError] = []
    for number, line in enumerate(lines):
        sku = str(line["sku"])
        item = found.get(sku) or catalog.item(sku, on)
        if item is None:
            said = f"line {line['line_id']}: SKU {sku} is not on the price list on {on}"
            missing.append(FieldError(f"/lines/{number}/sku", said))
        else:
            found[sku] = item
    if missing:
        shown = ", ".join(e.message.split(":")[0].removeprefix("line ") for e in missing[:10])
        cited = {"rule_id": rule["id"], "clause": rule["clause"]} if rule else {}
        said = f" ({rule['clause']}: quoted only from the price list in force on the quote date)" if rule else ""
        raise RuleViolation(
            f"{len(missing)} quote line(s) name a SKU that is not on the price list on {on} (lines {shown}){said}",
            errors=missing[:50],
            extra={"catalog_version": catalog.version, **cited},
        )
    return found


def import_catalog(rt: Runtime, who: Principal, rows: list[dict[str, Any]], *, source: str) -> dict[str, Any]:
    """Replace the tenant's catalog with `rows` (every SKU-version in force or scheduled). Bad rows: one 422 naming
    each of them, and nothing is stored."""
    tenant, _ = load_tenant(rt, who.tenant_id)
    policy = tenant.policy
    listed = (policy.get("billing") or {}).get("price_list") or []
    clause = str(listed[0]["clause"]) if listed else str(policy["pricing"]["discount_caps"]["clause"])
    families = product_families(policy)
    entries, problems = catalog_entries(rows, currency=tenant.currency, families=families, clause=clause)
    if problems:
        rows_named = sorted({p.path.split("/")[2] for p in problems if p.path.count("/") >= 2})
        raise RuleViolation(f"{len(rows_named) or 1} row(s) of {source} cannot be imported", errors=problems)
    head, head_version = _head(rt, who.tenant_id)
    stored = StoredCatalog(rt, who.tenant_id, head).entries() if head else {}
    before = stored if head else _policy_entries(policy)  # the first import: against the policy's price list
    _refuse_short_notice(rt, who.tenant_id, policy, head, entries, source=source)
    seq = int(head["seq"]) + 1 if head else 1
    import_id = rt.ids.new("imp")
    after = {entry_key(e): e for e in entries}
    _write_items(rt, who.tenant_id, seq, import_id, stored, after)
    version = "cat_" + sha256_hex(sorted(after.values(), key=entry_key))[:16]
    changes = diff(before, after)
    summary = {
        "version": version,
        "seq": seq,
        "import_id": import_id,
        "source": source,
        "rows": len(entries),
        "added": len(changes["added"]),
        "removed": len(changes["removed"]),
        "changed": len(changes["changed"]),
    }
    new_head = _next_head(head, summary, imported_at=rt.clock.now_iso(), imported_by=who.actor)
    inputs = {**summary, "entries_sha256": sha256_hex(sorted(after.values(), key=entry_key))}
    rt.commit(
        who.tenant_id,
        Changes(
            puts=[
                Put(*HEAD, new_head, must_be_absent=head is None, expected_version=head_version,
                    conflict_detail="another catalog import committed first; import again")
            ],
            audit=[AuditEntry.by(who, "catalog.imported", version, "imported", inputs=inputs, clauses=(clause,))],
            events=[DomainEvent("revgov.catalog", "catalog.imported", {**summary, "clause": clause})],
        ),
    )
    return summary


def _refuse_short_notice(
    rt: Runtime,
    tenant_id: str,
    policy: dict[str, Any],
    head: dict[str, Any] | None,
    entries: list[dict[str, Any]],
    *,
    source: str,
) -> None:
    """PA-6.1 / CPA-6.1: a price change only after the notice the policy gives; every row that comes sooner is named."""
    notice = policy.get("pricing", {}).get("price_change_notice")
    if not notice:
        return
    today, days = parse_day(rt.clock.now_iso()[:10]), int(notice["days"])
    listed = _listed_during(rt, tenant_id, policy, head, (today - timedelta(days=days)).isoformat())
    late = notice_problems(listed, entries, today=today, days=days, clause=str(notice["clause"]))
    if late:
        raise RuleViolation(f"{len(late)} row(s) of {source} change a price with less than {notice['days']} "
                            f"days' notice ({notice['id']}, {notice['clause']})", errors=late,
                            extra={"rule_id": notice["id"], "clause": notice["clause"]})  # fmt: skip


def _listed_during(
    rt: Runtime, tenant_id: str, policy: dict[str, Any], head: dict[str, Any] | None, since: str
) -> list[Any]:
    """Every SKU-version the list held at some moment from `since` (YYYY-MM-DD) on: the catalog as it stood then
    and every version an import listed after. A price is judged against all of them, not only against the list just
    before this import: dropping a SKU (or ending its version early, at the same price) in one import and listing it
    again at another price in the next is a price change, and needs the notice as one."""
    if head is None:
        return list(_policy_entries(policy).values())
    log = head.get("log", {})
    before = [int(seq) for seq, done in log.items() if str(done.get("imported_at") or "")[:10] < since]
    start = max([0, *before])
    stood = _policy_entries(policy) if start == 0 else StoredCatalog(rt, tenant_id, head, seq=start).entries()
    return [*stood.values(), *StoredCatalog(rt, tenant_id, head).listed_after(start)]


def _write_items(
    rt: Runtime,
    tenant_id: str,
    seq: int,
    import_id: str,
    stored: dict[str, dict[str, Any]],
    after: dict[str, dict[str, Any]],
) -> None:
    """One item per SKU-version the import adds, changes or removes (a tombstone), in batches: invisible until the
    head names this import."""
    tag = {"since": seq, "import_id": import_id}
    puts = [
        Put(ITEMS, f"{key}#{seq:08d}#{import_id}", {"entry": entry, **tag})
        for key, entry in sorted(after.items())
        if stored.get(key) != entry
    ]
    puts += [
        Put(ITEMS, f"{key}#{seq:08d}#{import_id}", {"entry": e, **tag, "removed": True})
        for key, e in sorted(stored.items())
        if key not in after
    ]
    for start in range(0, len(puts), _BATCH):
        rt.commit(tenant_id, Changes(puts=puts[start : start + _BATCH]))


def _next_head(
    head: dict[str, Any] | None, summary: dict[str, Any], *, imported_at: str, imported_by: str
) -> dict[str, Any]:
    """The catalog head naming the import as committed, with what it was (for `catalog_versions`)."""
    seq = summary["seq"]
    return {
        "seq": seq,
        "imports": {**(head or {}).get("imports", {}), str(seq): summary["import_id"]},
        "versions": {**(head or {}).get("versions", {}), str(seq): summary["version"]},
        "imported_at": imported_at,
        "imported_by": imported_by,
        "log": {**(head or {}).get("log", {}), str(seq): {**summary, "imported_at": imported_at,
                                                          "imported_by": imported_by}},
    }


def _policy_entries(policy: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry_key(e): dict(e) for e in (policy.get("billing") or {}).get("price_list") or []}


def catalog_diff(rt: Runtime, tenant_id: str, policy: dict[str, Any], before: int, after: int) -> dict[str, Any]:
    """What changed from catalog sequence number `before` to `after` (0: the policy's own price list)."""
    head, _ = _head(rt, tenant_id)
    last = int(head["seq"]) if head else 0
    for seq in (before, after):
        if not 0 <= seq <= last:
            raise NotFound(f"no catalog import {seq} (imports run from 1 to {last}; 0 is the policy's price list)")

    def at(seq: int) -> dict[str, dict[str, Any]]:
        return StoredCatalog(rt, tenant_id, head, seq).entries() if seq and head else _policy_entries(policy)

    return {"from": before, "to": after, **diff(at(before), at(after))}


def catalog_versions(rt: Runtime, tenant_id: str) -> dict[str, Any]:
    """Every catalog version the tenant has had: 0 is its policy's price list, then one per committed import."""
    head, _ = _head(rt, tenant_id)
    items: list[dict[str, Any]] = [{"seq": 0, "source": "policy price list"}]
    if head is None:
        return {"current": 0, "items": items}
    log = head.get("log", {})
    for seq in range(1, int(head["seq"]) + 1):  # imports made before the log was kept: what the head still knows
        known = {"seq": seq, "version": head["versions"][str(seq)], "import_id": head["imports"][str(seq)]}
        items.append(dict(log.get(str(seq)) or known))
    return {"current": int(head["seq"]), "items": items}


def price_on(rt: Runtime, tenant_id: str, policy: dict[str, Any], sku: str, on: str) -> dict[str, Any]:
    """The version of `sku` in force on day `on`, as the quote check and billing would price it."""
    found = tenant_catalog(rt, tenant_id, policy)
    item = found.item(sku, on)
    if item is None:
        raise NotFound(f"SKU {sku} is not on the price list on {on}", extra={"catalog_version": found.version})
    return {"sku": sku, "on": on, "catalog_version": found.version, "name": item.name, "billing": item.billing,
            **item.facts(), "effective_from": item.effective_from, "effective_to": item.effective_to}
