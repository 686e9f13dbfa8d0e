"""Auditor 2: partner lifecycle clauses the product cannot yet express (partners lifecycle: the fixes engineer's).

PA-4.4: "If the only certified individual for a certification leaves the Partner's employment, that certification
ceases to count for the Partner on the individual's last day of employment, with the same effect as expiry under
PA-4.3."

Fixed (tests/unit/test_certification_departures.py holds the behaviour): a certification carries `holders`, a
departure is recorded at POST /v1/partners/{partner_id}/certification-departures, and the last holder's last day ends
the certification through the expiry path (`domain.partners.counts_until`).
"""

from __future__ import annotations

import json

from support import ROOT


def test_a_certification_can_be_ended_by_its_holders_departure():
    schema = json.loads((ROOT / "schemas" / "api" / "partner-certification.schema.json").read_text())
    assert any("PA-4.4" in json.dumps(field) for field in schema["properties"].values())
