"""The ERP bridge's first step (n8n-workflows/erp-bridge.json, node "Verify ERP signature"), run in Node on signed,
unsigned, wrong-secret, stale and altered pushes. Each is signed by Revgov's own signer (revgov.domain.webhooks): the
ERP signs its pushes to n8n exactly as it would sign them to Revgov (docs/billing.md: "`Revgov-Signature: t=<unix
seconds>,v1=<hex>[,v1=<hex>]`, where `v1` is HMAC-SHA256 over `{t}.{raw body}`"), with a secret it shares with n8n.

The red team (tests/unit/test_redteam_n8n_webhooks.py): the push webhook took events from anyone and signed them with
the tenant's webhook secret. tests/n8n/test_workflows.py drives the same requests through a real n8n.
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
from typing import Any

import pytest
from n8n_harness import check_node

from revgov.domain.webhooks import signature_header
from support import ROOT

FLOW = json.loads((ROOT / "n8n-workflows" / "erp-bridge.json").read_text())
CODE = next(n for n in FLOW["nodes"] if n["name"] == "Verify ERP signature")["parameters"]["jsCode"]
RUNNER = """
const input = JSON.parse(process.argv[1]);
const raw = input.raw === null ? null : Buffer.from(input.raw, 'base64');
const $env = input.env;
const $input = { first: () => ({ json: { headers: input.headers }, binary: raw ? { data: {} } : undefined }) };
const helpers = { getBinaryDataBuffer: async (index, name) => raw };
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
const step = new AsyncFunction('$env', '$input', 'require', process.argv[2]);
step.call({ helpers }, $env, $input, require).then((items) => process.stdout.write(JSON.stringify(items[0].json)));
"""
SECRET = "erp-shared-with-n8n-only"
BODY = json.dumps({"events": [{"id": "ERP-1", "type": "invoice.paid", "occurred_at": "2026-11-02T10:00:00Z",
                               "data": {"invoice_id": "inv_01JX0000000000000000000001"}}]}).encode()  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def _node() -> None:
    check_node()


def _verify(headers: dict[str, str], raw: bytes | None = BODY, env: dict[str, str] | None = None) -> dict[str, Any]:
    payload = {"headers": headers, "raw": None if raw is None else base64.b64encode(raw).decode(),
               "env": {"REVGOV_ERP_SIGNING_SECRET": SECRET} if env is None else env}
    done = subprocess.run(["node", "-e", RUNNER, json.dumps(payload), CODE], capture_output=True, text=True,
                          check=True, timeout=60)  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _signed(secret: str = SECRET, age: int = 0, raw: bytes = BODY) -> dict[str, str]:
    return {"revgov-signature": signature_header(secret, int(time.time()) - age, raw)}


def test_a_push_the_erp_signed_passes_with_its_events() -> None:
    assert _verify(_signed()) == {"valid": True, "body": json.loads(BODY)}
    assert _verify(_signed(age=290))["valid"] is True  # within 300 s either way
    assert _verify(_signed(age=-290))["valid"] is True


def test_during_a_rotation_the_previous_secret_still_verifies() -> None:
    env = {"REVGOV_ERP_SIGNING_SECRET": "the-new-one", "REVGOV_ERP_SIGNING_SECRET_PREVIOUS": SECRET}
    assert _verify(_signed(), env=env)["valid"] is True
    assert _verify(_signed("the-new-one"), env=env)["valid"] is True
    header = f"{_signed('neither')['revgov-signature']},v1={'0' * 64}"
    assert _verify({"revgov-signature": header}, env=env)["valid"] is False


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "send Revgov-Signature"),  # unsigned
        ({"revgov-signature": "v1=" + "a" * 64}, "send Revgov-Signature"),  # no timestamp
        ({"revgov-signature": f"t={int(time.time())}"}, "send Revgov-Signature"),  # no signature
        ({"revgov-signature": f"t={int(time.time())},v1=xyz"}, "send Revgov-Signature"),  # not hex
        ({"revgov-signature": f"t=1,{_signed()['revgov-signature']}"}, "send Revgov-Signature"),  # two timestamps
        ({"revgov-signature": f"t=1e9,v1={'a' * 64}"}, "send Revgov-Signature"),
    ],
    ids=["unsigned", "no-t", "no-v1", "not-hex", "two-t", "t-not-digits"],
)
def test_a_push_without_a_well_formed_signature_is_a_401(headers: dict[str, str], reason: str) -> None:
    answer = _verify(headers)
    assert (answer["valid"], answer["status"]) == (False, 401) and reason in answer["reason"]


def test_a_push_signed_with_another_secret_is_a_401() -> None:
    answer = _verify(_signed("the-tenants-revgov-webhook-secret"))
    assert (answer["valid"], answer["status"], answer["reason"]) == (False, 401, "no v1 signature matches this body")


# 301 s old only grows older while the verifier starts; stamped ahead, the verifier's later clock eats into the lead
# (a node start of a second or more turned -301 into a valid -300 once on a busy machine): 310 s ahead
@pytest.mark.parametrize("age", [301, -310, 86400])
def test_a_replayed_or_stale_push_is_a_401(age: int) -> None:
    """A push the ERP really signed, sent again more than 300 s later (or stamped ahead): refused, as Revgov does."""
    answer = _verify(_signed(age=age))
    assert (answer["valid"], answer["status"]) == (False, 401) and "300 s" in answer["reason"]


def test_a_body_changed_after_signing_is_a_401() -> None:
    forged = BODY.replace(b"inv_01JX0000000000000000000001", b"inv_01JX0000000000000000000002")
    assert _verify(_signed(), raw=forged)["reason"] == "no v1 signature matches this body"
    assert _verify(_signed(), raw=None)["status"] == 401  # no raw body at all


def test_without_the_erp_secret_configured_nothing_is_taken() -> None:
    answer = _verify(_signed(), env={"REVGOV_WEBHOOK_SECRET": SECRET})  # the tenant's secret is not the ERP's
    assert (answer["valid"], answer["status"]) == (False, 503) and "REVGOV_ERP_SIGNING_SECRET" in answer["reason"]


def test_a_signed_body_that_is_not_json_is_a_400() -> None:
    raw = b"events=1"
    assert _verify(_signed(raw=raw), raw=raw) == {"valid": False, "status": 400, "reason": (
        'the body is not JSON: send {"events": [...]} or a JSON array of ERP events')}
