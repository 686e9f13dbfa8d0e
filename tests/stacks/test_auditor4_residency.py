"""Auditor 4: CPA-11.3 data residency and isolation, read against the synthesized CDK app.

CPA-11.3: "Contoso operates the channel program on dedicated infrastructure reserved for Contoso, hosted in the
European Union. Partner and End Customer data is stored and processed in the European Union and is not shared with
other programs hosted by the same platform provider."
"""

from __future__ import annotations

import json

import pytest

from conftest import STAGE, Synth
from revgov_stacks.stacks import check_residency, read_tenants
from support import ROOT


def _resources(template: dict, kind: str) -> dict:
    return {name: r for name, r in template.get("Resources", {}).items() if r.get("Type") == kind}


def test_cpa_11_3_the_contoso_silo_has_its_own_table_and_key(synth: Synth) -> None:
    # Held: the silo stack owns its table (and so its data) apart from the pooled tenants' stack.
    (silo,) = [s for s in synth.silos if s.tenant_id == "contoso"]
    template = synth.templates[silo.stack_name]
    assert _resources(template, "AWS::DynamoDB::Table") or _resources(template, "AWS::DynamoDB::GlobalTable")


def test_cpa_11_3_the_contoso_silo_does_not_share_the_search_collection(synth: Synth) -> None:
    (silo,) = [s for s in synth.silos if s.tenant_id == "contoso"]
    template = synth.templates[silo.stack_name]
    assert _resources(template, "AWS::OpenSearchServerless::Collection"), "no search collection of its own"
    # and its own key: OpenSearch Serverless shares compute among the collections encrypted with the same key
    (key,) = _resources(template, "AWS::KMS::Key")
    encryption = [p for p in _resources(template, "AWS::OpenSearchServerless::SecurityPolicy").values()
                  if p["Properties"]["Type"] == "encryption"]
    assert len(encryption) == 1 and key in json.dumps(encryption[0]["Properties"]["Policy"])
    (own,) = _resources(template, "AWS::OpenSearchServerless::Collection").values()
    name = own["Properties"]["Name"]
    assert name != f"revgov-{STAGE}" and "contoso" in name
    # its search role reaches its own collection's indexes only, and the control plane's collection fences no contoso
    (access,) = _resources(template, "AWS::OpenSearchServerless::AccessPolicy").values()
    assert f"index/{name}/contoso_*" in json.dumps(access["Properties"]["Policy"])
    shared = synth.templates[synth.control_plane.stack_name]
    assert "contoso" not in json.dumps(_resources(shared, "AWS::OpenSearchServerless::AccessPolicy"))


def test_cpa_11_3_contoso_pins_eu_regions_and_a_deploy_elsewhere_is_refused() -> None:
    # "hosted in the European Union": London (eu-west-2) and Zurich (eu-central-2) are outside it.
    tenants = read_tenants(ROOT / "tenants")
    (contoso,) = [t for t in tenants if t.tenant_id == "contoso"]
    assert contoso.residency is not None and contoso.residency["clause"] == "CPA-11.3"
    assert {"eu-west-2", "eu-central-2", "us-east-1"}.isdisjoint(contoso.residency["regions"])
    check_residency(tenants, "eu-central-1")
    for region in ("us-east-1", "eu-west-2", None):
        with pytest.raises(ValueError, match=r"contoso .*CPA-11\.3"):
            check_residency(tenants, region)


def test_the_refusal_tells_the_deployer_the_ways_on() -> None:
    # Found as a new AWS deployer (ninth round): stacks/README.md's step 3 (`cdk deploy Revgov-dev-ControlPlane -c
    # stage=dev`) from a us-east-1 profile stops on contoso's residency although only the control plane was asked for
    # (the CDK app synthesizes every stack). The message named the rule but not what to do: deploy to a region of the
    # list, or leave that tenant's folder out of the stacks' tenants (`tenants_dir`, stacks/README.md "Configuration").
    tenants = read_tenants(ROOT / "tenants")
    with pytest.raises(ValueError) as refused:
        check_residency(tenants, "us-east-1")
    message = str(refused.value)
    assert "-c region=eu-central-1" in message
    assert "tenants_dir" in message and "REVGOV_STACKS_TENANTS_DIR" in message
