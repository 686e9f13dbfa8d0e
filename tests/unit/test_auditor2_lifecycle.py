"""Auditor 2: partner lifecycle clauses the product cannot yet express (partners lifecycle: the fixes engineer's).

PA-4.4: "If the only certified individual for a certification leaves the Partner's employment, that certification
ceases to count for the Partner on the individual's last day of employment, with the same effect as expiry under
PA-4.3."
"""

from __future__ import annotations

import json

import pytest

from support import ROOT


@pytest.mark.xfail(strict=True, reason=(
    "auditor2: PA-4.4 — a certification record is only {certification_id, earned_at, expires_at} "
    "(schemas/api/partner-certification.schema.json; domain/partners/evidence.py): nothing records that the certified "
    "individual left, so the certification keeps counting (tier, PA-4.3(b) quoting and registering, PA-4.3(d) holds) "
    "until its printed expiry. Fix (fixes engineer): a departure (`holder_left_on`, a day) on the certification, "
    "recorded by channel ops, that ends its validity at 23:59:59 UTC that day and runs PA-4.3 from then; CPA has no "
    "such clause, so the field is per tenant policy."))
def test_a_certification_can_be_ended_by_its_holders_departure():
    schema = json.loads((ROOT / "schemas" / "api" / "partner-certification.schema.json").read_text())
    assert any("PA-4.4" in json.dumps(field) for field in schema["properties"].values())
