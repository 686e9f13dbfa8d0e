"""A 422 for an unknown deal family names the field and never echoes unbounded input.

RFC 9457 §3.1.4: "The "detail" member is a JSON string containing a human-readable explanation specific to this
occurrence of the problem." — for a human, so it quotes a caller's value safely and briefly: the longest family the
request schema accepts (`^[a-z][a-z0-9-]{0,63}$`, 64 characters) is shown whole; anything longer (a caller of the use
case other than the HTTP schema: a flow, the CLI) is cut and counted, and control or bidi characters are escaped.
"""

from __future__ import annotations

from typing import Any

import pytest

from revgov.domain import deals
from revgov.domain.errors import RuleViolation
from revgov.tenant_files import load_tenant_file
from support import ROOT

POLICY: dict[str, Any] = load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml")["policy"]
PARTNER: dict[str, Any] = {"partner_id": "ptr_x", "status": "active", "tier": "gold", "certifications": []}


def _refused(family: str) -> RuleViolation:
    with pytest.raises(RuleViolation) as refused:
        deals.registration_problems(POLICY, PARTNER, family, "2026-10-05T10:00:00Z")
    return refused.value


def test_an_unknown_family_is_refused_naming_the_field_and_quoting_it() -> None:
    refused = _refused("quantum-widgets")
    assert refused.detail == 'unknown product family "quantum-widgets"'
    assert [e.path for e in refused.errors] == ["/family"]


def test_a_5000_character_family_is_not_echoed_whole_and_control_characters_are_escaped() -> None:
    family = "\u202e\x1b[31m" + "x" * 5000
    refused = _refused(family)
    assert len(refused.detail) < 200 and "x" * 100 not in refused.detail
    assert "\u202e" not in refused.detail and "\x1b" not in refused.detail
    assert refused.detail.endswith(f"(and {len(family) - 64} more characters)")
