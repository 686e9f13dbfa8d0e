"""Red team: the public partner-intake webhook records the applicant's own certifications with a staff key.

PA-4.2 (northwind): "Certification records are updated in the Partner Portal within 2 business days of receipt of
evidence from the certifying body." A certification is the Distributor's record of the certifying body's evidence;
the previous round refused a partner key that recorded its own (tests/security/test_partner_probes.py). The n8n flow
`partner-onboarding-intake.json` takes `POST /webhook/revgov/partner-intake` from a public sign-up form, with no
authentication on the webhook, and files every `certifications` entry of the form through `POST
/v1/partners/{id}/certifications` with its `sales` credential: anyone who can reach the form records, as the
Distributor, whatever certification and earned date it claims. Once the partner is activated that record counts for
its tier (the certifications PA-3.3 to PA-3.5 require), its deal-registration eligibility by family (PA-5.1) and its
entitlements (PA-4.3(a)). Owned by the flows, not this session's red team: the expected fix is in the report (file
the form's certification claims as documents for channel ops to verify, never as certification records).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from support import ROOT

FLOW = ROOT / "n8n-workflows" / "partner-onboarding-intake.json"


def _nodes() -> list[dict[str, Any]]:
    return list(json.loads(FLOW.read_text())["nodes"])


def test_the_intake_webhook_is_public() -> None:
    """The premise: the form's webhook takes requests without any credential (a public sign-up form)."""
    (hook,) = [n for n in _nodes() if n["type"] == "n8n-nodes-base.webhook"]
    assert hook["parameters"].get("authentication", "none") == "none"


@pytest.mark.xfail(strict=True, reason="redteam: the public intake files the applicant's certification claims as "
                                       "certification records with its staff key (PA-4.2)")
def test_the_public_intake_records_no_certification_with_its_staff_key() -> None:
    code = "\n".join(str(n["parameters"].get("jsCode", "")) for n in _nodes() if n["type"] == "n8n-nodes-base.code")
    posted = [str(n["parameters"].get("url", "")) for n in _nodes() if n["type"] == "n8n-nodes-base.httpRequest"]
    files_certifications = "kind: 'certifications'" in code and any("{{ $json.kind }}" in url for url in posted)
    assert not files_certifications and not any(url.endswith("/certifications") for url in posted)
