"""The partner-intake flow's own steps (n8n-workflows/partner-onboarding-intake.json), run in Node.

- "Limit per source": the form is public and every application it creates counts against the tenant's plan
  (`plan.max_partners`) until it lapses (PA-2.9: "Applications that remain incomplete for 60 days after submission
  lapse"). Per source at most REVGOV_INTAKE_PER_SOURCE_PER_HOUR in a rolling hour, from all at most
  REVGOV_INTAKE_PER_HOUR.
- "Certification claims": PA-4.2 "Certification records are updated in the Partner Portal within 2 business days of
  receipt of evidence from the certifying body": the form's claims go to channel ops to verify, never recorded.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from n8n_harness import check_node

from support import ROOT

INTAKE = ROOT / "n8n-workflows" / "partner-onboarding-intake.json"
FLOW = {n["name"]: n for n in json.loads(INTAKE.read_text())["nodes"]}
HOUR_MS = 3600 * 1000
RUNNER = """
const input = JSON.parse(process.argv[1]);
Date.now = () => input.now;
const store = input.store;
const $env = input.env;
const $input = { first: () => ({ json: input.json }) };
const $getWorkflowStaticData = () => store;
const $ = (name) => ({ first: () => ({ json: input.nodes[name] }) });
const step = new Function('$env', '$input', '$getWorkflowStaticData', '$', process.argv[2]);
process.stdout.write(JSON.stringify({ out: step($env, $input, $getWorkflowStaticData, $)[0].json, store }));
"""


@pytest.fixture(scope="module", autouse=True)
def _node() -> None:
    check_node()


def _run(node: str, **payload: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    base = {"now": 0, "store": {}, "env": {}, "json": {}, "nodes": {}}
    done = subprocess.run(["node", "-e", RUNNER, json.dumps({**base, **payload}), FLOW[node]["parameters"]["jsCode"]],
                          capture_output=True, text=True, check=True, timeout=60)  # fmt: skip
    result = json.loads(done.stdout)
    return result["out"], result["store"]


class Form:
    """Successive calls to the limit, its static data kept between them as n8n keeps it."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.store: dict[str, Any] = {}
        self.env = env or {}

    def call(self, at_ms: int, forwarded: str | None = None) -> dict[str, Any]:
        headers = {"x-forwarded-for": forwarded} if forwarded is not None else {}
        out, self.store = _run("Limit per source", now=at_ms, store=self.store, env=self.env, json={"headers": headers})
        return out


T0 = 1_790_000_000_000


def test_three_applications_an_hour_per_source_by_default_then_429_until_the_oldest_leaves_the_hour() -> None:
    form = Form()
    assert [form.call(T0 + i * 1000, "198.51.100.9")["allowed"] for i in range(3)] == [True, True, True]
    refused = form.call(T0 + 10_000, "198.51.100.9")
    assert (refused["allowed"], refused["scope"], refused["retry_after"]) == (False, "source", 3590)
    assert form.call(T0 + 10_000, "203.0.113.4")["allowed"] is True  # another source
    assert form.call(T0 + HOUR_MS - 1, "198.51.100.9")["allowed"] is False
    assert form.call(T0 + HOUR_MS, "198.51.100.9")["allowed"] is True  # the first call left the hour


def test_the_source_is_the_address_the_proxy_appended_not_what_the_client_wrote() -> None:
    """A client can send X-Forwarded-For itself; the proxy in front of n8n appends the address it saw last."""
    form = Form({"REVGOV_INTAKE_PER_SOURCE_PER_HOUR": "1"})
    assert form.call(T0, "10.9.9.9, 198.51.100.9")["source"] == "198.51.100.9"
    assert form.call(T0 + 1, "10.1.1.1, 198.51.100.9")["allowed"] is False
    assert form.call(T0 + 2)["source"] == "direct"


def test_all_sources_together_are_bounded_too() -> None:
    """Rotating the source (or a proxy that passes the client's header through) does not lift the bound."""
    form = Form({"REVGOV_INTAKE_PER_HOUR": "5"})
    assert all(form.call(T0 + i, f"192.0.2.{i}")["allowed"] for i in range(5))
    refused = form.call(T0 + 100, "192.0.2.200")
    assert (refused["allowed"], refused["scope"]) == (False, "all sources")
    assert form.call(T0 + HOUR_MS, "192.0.2.201")["allowed"] is True


@pytest.mark.parametrize("value", ["0", "-3", "lots", ""])
def test_a_setting_that_is_not_a_positive_number_keeps_the_default(value: str) -> None:
    form = Form({"REVGOV_INTAKE_PER_SOURCE_PER_HOUR": value})
    assert [form.call(T0 + i, "198.51.100.9")["allowed"] for i in range(4)] == [True, True, True, False]


def _claims(certifications: Any) -> dict[str, Any]:
    submitted = {"partner": {"partner_id": "ptr_1"}, "outcome": "pending_documents", "missing": []}
    out, _ = _run("Certification claims",
                  nodes={"Intake form": {"body": {"certifications": certifications}}, "Submit application": submitted})
    return out


def test_well_formed_claims_go_to_channel_ops_and_malformed_ones_are_named() -> None:
    good = {"certification_id": "cert-network-core", "earned_at": "2026-10-01", "reference": "dms://certs/nc.pdf",
            "checksum": "sha256:" + "a" * 64}
    out = _claims([good, {"certification_id": "cert-security-pro", "earned_at": "2026-09-30"},
                   {"certification_id": "CERT", "earned_at": "2026-10-01"},
                   {"certification_id": "cert-x", "earned_at": "2026-10-01", "reference": "a\u202eb"},
                   {"certification_id": "cert-x", "earned_at": "yesterday"}, "cert-x"])
    assert out["certifications_to_verify"] == [good, {"certification_id": "cert-security-pro",
                                                      "earned_at": "2026-09-30", "reference": None, "checksum": None}]
    assert out["certifications_not_taken"] == [{"index": 2, "problem": "certification_id"},
                                               {"index": 3, "problem": "reference"},
                                               {"index": 4, "problem": "earned_at"},
                                               {"index": 5, "problem": "not an object"}]
    assert out["partner"] == {"partner_id": "ptr_1"} and out["outcome"] == "pending_documents"


def test_at_most_twenty_claims_and_none_is_fine() -> None:
    many = [{"certification_id": f"cert-{i}", "earned_at": "2026-10-01"} for i in range(22)]
    out = _claims(many)
    assert len(out["certifications_to_verify"]) == 20
    assert [c["problem"] for c in out["certifications_not_taken"]] == ["more than 20 claims"] * 2
    assert _claims(None)["certifications_to_verify"] == [] and _claims("x")["certifications_not_taken"] == []
