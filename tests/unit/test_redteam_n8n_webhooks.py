"""Red team: n8n webhooks with no authentication that act with the tenant's credentials on what anyone sends.

The partner-intake webhook records the applicant's own certifications with a staff key.

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


# --- the ERP bridge signs whatever reaches its open webhook ---------------------------------------------------------
ERP_BRIDGE = ROOT / "n8n-workflows" / "erp-bridge.json"


@pytest.mark.xfail(strict=True, reason="redteam: the ERP bridge's push webhook takes events from anyone and signs them "
                                       "with the tenant's webhook secret")
def test_the_erp_bridge_signs_only_what_its_erp_sent() -> None:
    """API.md / SECURITY.md: `POST /v1/webhooks/erp` accepts an event only when signed with the tenant's webhook secret
    (Revgov-Signature, HMAC-SHA256): the signature is what says the ERP sent it. `erp-bridge.json` takes `POST
    /webhook/revgov/erp-export` with no authentication and its "Batch and sign" node signs every event that arrives
    with REVGOV_WEBHOOK_SECRET: anyone who reaches n8n gets any ERP event accepted as the ERP's — `invoice.paid` for
    every invoice (lifting credit holds, PA-10.8; releasing withheld rebates, PA-7.8), shipments that bill and accrue
    rebates, credit notes. The fix (flows): the push webhook authenticates the ERP (n8n webhook `authentication:
    headerAuth` with a credential only the ERP holds, or the ERP's own HMAC checked first, as quote-desk.json checks
    Revgov's), or the bridge only polls."""
    hooks = [n for n in json.loads(ERP_BRIDGE.read_text())["nodes"] if n["type"] == "n8n-nodes-base.webhook"]
    assert hooks, "the bridge has a push webhook"
    assert all(hook["parameters"].get("authentication", "none") != "none" for hook in hooks)
