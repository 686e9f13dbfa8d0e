"""What the reviewer round 6 stack tests (white-label tenants, bounded agents, the tamper-evident audit) share: a
tenant provisioned by the MSP operator through `POST /v1/tenants` in its own branding and tier (a demo tenant's
policy and contracts, made by `security_support.make_party`, offboarded after the test), a CORS preflight, a walk
over a cursor-paginated list, and the stack's SQLite file read and written behind the product's back."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from security_support import Party, make_party, offboard
from support import Api


@dataclass(frozen=True)
class Brand:
    """The white-label face an MSP gives one tenant (schemas/tenant.schema.json `branding`, `display_name`)."""

    display_name: str
    portal_title: str
    primary_color: str
    accent_color: str
    origin: str

    def apply(self, tier: str) -> Callable[[dict[str, Any]], None]:
        def edit(config: dict[str, Any]) -> None:
            config["tier"] = tier
            config["display_name"] = self.display_name
            config["branding"] = {**config["branding"], "portal_title": self.portal_title,
                                  "primary_color": self.primary_color, "accent_color": self.accent_color,
                                  "allowed_origins": [self.origin]}

        return edit


ALPHA = Brand("Alpha Parts Distribution", "Alpha Parts Partner Desk", "#0A3D62", "#E58E26",
              "https://partners.alpha-parts.example")
BETA = Brand("Beta Components GmbH", "Beta Channel Room", "#3B3B98", "#58B19F", "https://channel.beta-components.example")


def branded_fixture(source: str, brand: Brand, tier: str) -> Callable[..., Iterator[Party]]:
    """A module fixture: a tenant of `source`'s policy and contracts in `brand` and `tier`, with a key per role and two
    active partners with their own keys; offboarded after the test."""

    @pytest.fixture
    def tenant(api: Api, operator: Api, stack: Any) -> Iterator[Party]:
        made = make_party(api, operator, stack, source, edit=brand.apply(tier))
        yield made
        offboard(operator, made)

    return tenant


def preflight(api: Api, path: str, origin: str, method: str = "GET") -> requests.Response:
    return api.session.options(api.base_url + path, timeout=30, headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization,content-type,idempotency-key"})


def walk(client: Api, path: str, limit: int, **params: Any) -> tuple[list[dict[str, Any]], int]:
    """Every item of a cursor-paginated list (API.md: `?limit=` and `?cursor=`, `{"items", "next_cursor"}`) and the
    number of pages read."""
    items: list[dict[str, Any]] = []
    cursor, pages = None, 0
    while True:
        answer = client.get(path, limit=limit, **params, **({"cursor": cursor} if cursor else {}))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert len(body["items"]) <= limit
        items += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            return items, pages
        assert pages < 100, "the cursor never ends"


# --- the embedded engine's file, as an attacker with the file would touch it -----------------------------------
def data_file(stack: Any) -> Path:
    return Path(stack.runtime.settings.data_file)


def audit_rows(path: Path, tenant_id: str) -> dict[str, str]:
    """The tenant's audit records as stored: sort key (`R#<seq>`) -> stored text."""
    return {sk: row[2] for sk, row in full_rows(path, tenant_id).items()}


def full_rows(path: Path, tenant_id: str) -> dict[str, tuple[Any, ...]]:
    """The tenant's audit rows, every column, to put back as they were."""
    with closing(sqlite3.connect(path, timeout=30)) as db:
        rows = db.execute("SELECT pk, sk, data, version, gsi1pk, gsi1sk, expires_at FROM items WHERE pk = ? "
                          "AND sk LIKE 'R#%' ORDER BY sk", (f"T#{tenant_id}#AUDIT",)).fetchall()
    return {row[1]: tuple(row) for row in rows}


def set_text(path: Path, tenant_id: str, texts: dict[str, str]) -> None:
    """Overwrite stored audit texts in the file directly, in one transaction."""
    with closing(sqlite3.connect(path, timeout=30)) as db, db:
        for sk, text in texts.items():
            changed = db.execute("UPDATE items SET data = ? WHERE pk = ? AND sk = ?",
                                 (text, f"T#{tenant_id}#AUDIT", sk))
            assert changed.rowcount == 1, sk


def delete_row(path: Path, tenant_id: str, sk: str) -> None:
    with closing(sqlite3.connect(path, timeout=30)) as db, db:
        assert db.execute("DELETE FROM items WHERE pk = ? AND sk = ?", (f"T#{tenant_id}#AUDIT", sk)).rowcount == 1


def restore(path: Path, rows: dict[str, tuple[Any, ...]]) -> None:
    """Put rows read by `full_rows` back exactly as they were."""
    with closing(sqlite3.connect(path, timeout=30)) as db, db:
        db.executemany("INSERT OR REPLACE INTO items (pk, sk, data, version, gsi1pk, gsi1sk, expires_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)", list(rows.values()))


def seq_key(seq: int) -> str:
    return f"R#{seq:012d}"


def quote(party: Party, partner_id: str, discount: str, *, quantity: int = 2) -> dict[str, Any]:
    """The partner's own `POST /v1/pricing/check` of `quantity` of the first shipped product of the tenant's price list
    at `discount` percent (25.00 is above every Silver cap of both demo programs: it waits for approval)."""
    sku = next(p["sku"] for p in party.policy["billing"]["price_list"] if p.get("billing") == "shipment")
    answer = party.partner_keys[partner_id].post("/v1/pricing/check", {
        "partner_id": partner_id, "quote_ref": f"Q-RV6-{uuid.uuid4().hex[:8]}",
        "customer": {"id": f"CUST-{uuid.uuid4().hex[:8]}", "name": "Reviewer Six Customer"},
        "lines": [{"line_id": "1", "sku": sku, "quantity": quantity, "discount_percent": discount}],
        "promotions": [], "terms": {"payment_days": 30}})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def set_head(path: Path, tenant_id: str, seq: int, digest: str) -> None:
    """Move the chain's head pointer in the file directly (what a forger who re-sealed the tail does last)."""
    with closing(sqlite3.connect(path, timeout=30)) as db, db:
        moved = db.execute("UPDATE items SET data = ? WHERE pk = ? AND sk = 'HEAD'",
                           (json.dumps({"seq": seq, "hash": digest}), f"T#{tenant_id}#AUDIT"))
        assert moved.rowcount == 1
