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

from support import ROOT

FLOW = ROOT / "n8n-workflows" / "partner-onboarding-intake.json"


def _nodes() -> list[dict[str, Any]]:
    return list(json.loads(FLOW.read_text())["nodes"])


def _successors(flow: dict[str, Any], name: str, branch: int | None = None) -> set[str]:
    outputs = flow["connections"].get(name, {}).get("main", [])
    chosen = outputs if branch is None else outputs[branch : branch + 1]
    return {link["node"] for output in chosen for link in output or []}


def _reachable(flow: dict[str, Any], start: str, *, avoiding: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        for nxt in _successors(flow, name):
            if nxt not in seen and nxt != avoiding:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_the_intake_webhook_is_public() -> None:
    """The premise: the form's webhook takes requests without any credential (a public sign-up form)."""
    (hook,) = [n for n in _nodes() if n["type"] == "n8n-nodes-base.webhook"]
    assert hook["parameters"].get("authentication", "none") == "none"


def test_the_public_intake_records_no_certification_with_its_staff_key() -> None:
    code = "\n".join(str(n["parameters"].get("jsCode", "")) for n in _nodes() if n["type"] == "n8n-nodes-base.code")
    posted = [str(n["parameters"].get("url", "")) for n in _nodes() if n["type"] == "n8n-nodes-base.httpRequest"]
    files_certifications = "kind: 'certifications'" in code and any("{{ $json.kind }}" in url for url in posted)
    assert not files_certifications and not any(url.endswith("/certifications") for url in posted)
    # what the flow calls with its staff credential: the application, its documents, the submission, nothing else
    staff = sorted(str(n["parameters"]["url"]).split("/v1/", 1)[1] for n in _nodes() if n.get("credentials"))
    assert staff == ["partners", "partners/{{ $('Create application').first().json.partner_id }}/submit",
                     "partners/{{ $json.partner_id }}/documents"]


def test_the_public_intake_is_bounded_before_anything_reaches_revgov() -> None:
    """Each anonymous call created an application counting against `plan.max_partners` until it lapses (PA-2.9: 60
    days). The webhook's first step is the limit; over it, the form gets a 429 and no Revgov call is made. The step's
    code is run in Node in tests/n8n/test_intake_steps.py and through a real n8n in tests/n8n/test_workflows.py."""
    flow = json.loads(FLOW.read_text())
    nodes = {n["name"]: n for n in flow["nodes"]}
    (hook,) = [n for n in flow["nodes"] if n["type"] == "n8n-nodes-base.webhook"]
    (limit,) = _successors(flow, hook["name"])
    code = nodes[limit]["parameters"]["jsCode"]
    assert "$getWorkflowStaticData('global')" in code and "REVGOV_INTAKE_PER_SOURCE_PER_HOUR" in code
    (gate,) = _successors(flow, limit)
    (refused,) = _successors(flow, gate, branch=1)
    assert nodes[refused]["parameters"]["options"]["responseCode"] == 429 and not _successors(flow, refused)
    calls = {name for name, n in nodes.items() if n.get("credentials")}
    assert calls and calls.isdisjoint(_reachable(flow, hook["name"], avoiding=gate))


# --- the ERP bridge signs whatever reaches its open webhook ---------------------------------------------------------
ERP_BRIDGE = ROOT / "n8n-workflows" / "erp-bridge.json"


def test_the_erp_bridge_signs_only_what_its_erp_sent() -> None:
    """API.md / SECURITY.md: `POST /v1/webhooks/erp` accepts an event only when signed with the tenant's webhook secret
    (Revgov-Signature, HMAC-SHA256): the signature is what says the ERP sent it. `erp-bridge.json` took `POST
    /webhook/revgov/erp-export` with no authentication and its "Batch and sign" node signed every event that arrived
    with REVGOV_WEBHOOK_SECRET: anyone who reached n8n got any ERP event accepted as the ERP's — `invoice.paid` for
    every invoice (lifting credit holds, PA-10.8; releasing withheld rebates, PA-7.8), shipments that bill and accrue
    rebates, credit notes. The fix (flows): the push webhook authenticates the ERP (n8n webhook `authentication:
    headerAuth` with a credential only the ERP holds, or the ERP's own HMAC checked first, as quote-desk.json checks
    Revgov's), or the bridge only polls.

    Here: the ERP's own HMAC over `{t}.{raw body}` (Revgov's scheme, docs/billing.md) with a secret from the n8n
    environment, checked first; a failed check answers 401 and reaches neither the signing node nor Revgov. The
    check's code is run against signed, unsigned, wrong-secret and stale requests in tests/n8n/test_erp_signature.py
    and through a real n8n in tests/n8n/test_workflows.py."""
    flow = json.loads(ERP_BRIDGE.read_text())
    nodes = {n["name"]: n for n in flow["nodes"]}
    hooks = [n for n in flow["nodes"] if n["type"] == "n8n-nodes-base.webhook"]
    assert hooks, "the bridge has a push webhook"
    for hook in hooks:
        if hook["parameters"].get("authentication", "none") != "none":
            continue
        assert hook["parameters"]["options"].get("rawBody") is True, "the HMAC is over the raw body as sent"
        (check,) = _successors(flow, hook["name"])
        code = nodes[check]["parameters"]["jsCode"]
        assert "$env.REVGOV_ERP_SIGNING_SECRET" in code and "createHmac('sha256'" in code and "timingSafeEqual" in code
        assert "REVGOV_WEBHOOK_SECRET" not in code  # the ERP's secret is its own, never the tenant's
        (gate,) = _successors(flow, check)
        assert nodes[gate]["type"] == "n8n-nodes-base.if" and "$json.valid" in json.dumps(nodes[gate]["parameters"])
        (refused,) = _successors(flow, gate, branch=1)
        assert nodes[refused]["type"] == "n8n-nodes-base.respondToWebhook" and not _successors(flow, refused)
        signing = {name for name, n in nodes.items() if "REVGOV_WEBHOOK_SECRET" in n["parameters"].get("jsCode", "")}
        assert signing and signing.isdisjoint(_reachable(flow, hook["name"], avoiding=gate))
        assert signing <= _reachable(flow, next(iter(_successors(flow, gate, branch=0))), avoiding=gate)
