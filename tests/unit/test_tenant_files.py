"""The demo tenants' files: schema-valid, internally consistent, and every cited clause exists."""

import copy
from pathlib import Path

import pytest
import yaml

from revgov.domain.contracts import parse_contract
from revgov.domain.errors import MalformedRequest, RuleViolation
from revgov.domain.policy import policy_problems
from revgov.tenant_files import load_tenant_file, tenant_files

TENANTS = Path(__file__).resolve().parents[2] / "tenants"


def test_both_demo_tenants_load_and_differ_in_tier():
    loaded = {p.parent.name: load_tenant_file(p) for p in tenant_files(TENANTS)}
    assert {"northwind", "contoso"} <= set(loaded)
    assert loaded["northwind"]["tier"] == "pool" and loaded["contoso"]["tier"] == "silo"


@pytest.mark.parametrize("tenant", ["northwind", "contoso"])
def test_every_contract_parses_into_unique_clauses_with_text(tenant):
    for doc in (TENANTS / tenant / "contracts").glob("*.md"):
        contract = parse_contract(doc.read_text(), name=doc.name)
        assert len(contract.clauses) >= 20
        assert all(c.text and c.clause_id.startswith(contract.document + "-") for c in contract.clauses)


def test_a_clause_the_contracts_do_not_have_is_refused(tmp_path):
    source = TENANTS / "northwind"
    target = tmp_path / "northwind"
    (target / "contracts").mkdir(parents=True)
    for doc in (source / "contracts").glob("*.md"):
        (target / "contracts" / doc.name).write_text(doc.read_text())
    config = yaml.safe_load((source / "tenant.yaml").read_text())
    config["policy"]["partner_tiers"][0]["clause"] = "PA-99.9"
    (target / "tenant.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(RuleViolation) as raised:
        load_tenant_file(target / "tenant.yaml")
    assert any("PA-99.9" in e.message for e in raised.value.errors)


def test_a_schema_breaking_file_is_refused_with_the_field_named(tmp_path):
    config = yaml.safe_load((TENANTS / "northwind" / "tenant.yaml").read_text())
    config["currency"] = 840
    (tmp_path / "northwind").mkdir()
    (tmp_path / "northwind" / "tenant.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(MalformedRequest) as raised:
        load_tenant_file(tmp_path / "northwind" / "tenant.yaml")
    assert raised.value.errors[0].path == "/currency"


def test_duplicate_rule_ids_ranks_and_unknown_certifications_are_named():
    policy = copy.deepcopy(yaml.safe_load((TENANTS / "northwind" / "tenant.yaml").read_text())["policy"])
    policy["partner_tiers"][1]["id"] = policy["partner_tiers"][0]["id"]
    policy["partner_tiers"][1]["rank"] = policy["partner_tiers"][0]["rank"]
    policy["partner_tiers"][2]["requirements"]["certifications"].append("cert-imaginary")
    messages = " | ".join(e.message for e in policy_problems(policy))
    assert "is also used at" in messages and "ranks must be unique" in messages and "cert-imaginary" in messages
