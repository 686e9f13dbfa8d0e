"""What the reviewer round 4 stack tests (test_reviewer4_contoso.py, test_reviewer4_northwind.py) share: a party
tenant of one demo tenant's configuration (make_party, offboarded after the test), the day on the stack's clock when
the test runs, a stamp read as an instant, a quote body and a partner document body."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

import pytest

from security_support import make_party, offboard


def party_fixture(tenant: str) -> Callable[..., Iterator[Any]]:
    """The module's `party` fixture: a party tenant of `tenant`'s configuration (its own partners and role keys, so
    the shared tenants' background activity changes none of its counts)."""

    @pytest.fixture
    def party(api: Any, operator: Any, stack: Any) -> Iterator[Any]:
        made = make_party(api, operator, stack, tenant)
        yield made
        offboard(operator, made)

    return party


def party_today(party: Any) -> date:
    """Today on the stack's clock, read when the test runs (other tests move the clock forward)."""
    return date.fromisoformat(party.rt.clock.now_iso()[:10])


def instant(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def quote_body(partner_id: str, sku: str, discount: str, *, quantity: int, customer: str) -> dict[str, Any]:
    """A one-line `POST /v1/pricing/check` body: `quantity` of `sku` at `discount` percent, a fresh quote ref and
    customer id, 30-day payment terms, no promotions."""
    return {"partner_id": partner_id, "quote_ref": f"Q-RV4-{uuid.uuid4().hex[:8]}",
            "customer": {"id": f"CUST-{uuid.uuid4().hex[:8]}", "name": customer},
            "lines": [{"line_id": "1", "sku": sku, "quantity": quantity, "discount_percent": discount}],
            "promotions": [], "terms": {"payment_days": 30}}


def partner_document(kind: str, issued: date, **extra: Any) -> dict[str, Any]:
    """A `POST /v1/partners/{partner_id}/documents` body of `kind` issued on `issued`."""
    return {"document_type": kind, "reference": f"dms://{kind}/{uuid.uuid4().hex[:8]}",
            "checksum": "sha256:" + hashlib.sha256(f"{kind}{issued}".encode()).hexdigest(),
            "issued_at": issued.isoformat(), **extra}
