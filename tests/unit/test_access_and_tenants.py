"""Keys, principals and the tenant lifecycle."""

import pytest

from revgov.domain.access import Principal, Role, bearer_token, format_key, hash_key, parse_key
from revgov.domain.errors import Conflict
from revgov.domain.tenants import Tenant, policy_version

KEY_ID = "key_01JX0000000000000000000000"
SECRET = "A" * 43


def test_a_key_names_its_tenant_and_id_and_only_its_hash_is_kept():
    token = format_key("northwind", KEY_ID, SECRET)
    parts = parse_key(token)
    assert parts and parts.tenant_id == "northwind" and parts.key_id == KEY_ID
    assert hash_key(token) != token and len(hash_key(token)) == 64
    for bad in ("", "rgk.northwind", token + "x", token.replace("rgk.", "rgx."), "rgk.North.key_x.y"):
        assert parse_key(bad) is None


def test_bearer_scheme_is_required():
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer  abc ") == "abc"
    assert bearer_token("Basic abc") is None and bearer_token(None) is None and bearer_token("Bearer ") is None


def test_partner_principals_see_only_their_own_objects():
    partner = Principal("northwind", Role.PARTNER, KEY_ID, "ptr_A")
    staff = Principal("northwind", Role.FINANCE, KEY_ID)
    assert partner.sees_partner("ptr_A") and not partner.sees_partner("ptr_B")
    assert staff.sees_partner("ptr_B")


def config(**over):
    return {
        "tenant_id": "acme",
        "display_name": "Acme",
        "tier": "pool",
        "currency": "USD",
        "policy": {"partner_tiers": [{"id": "TIER-A", "rank": 1}]},
        **over,
    }


def test_policy_version_is_a_content_hash():
    a = Tenant.from_config(config(), created_at="t")
    b = Tenant.from_config(config(display_name="Other"), created_at="t")
    assert a.policy_version == b.policy_version == policy_version(config()["policy"])
    assert Tenant.from_config(config(policy={"partner_tiers": []}), created_at="t").policy_version != a.policy_version


def test_tenant_moves_between_active_and_suspended_only():
    tenant = Tenant.from_config(config(), created_at="t")
    suspended = tenant.moved_to("suspended")
    assert suspended.status == "suspended" and suspended.moved_to("active").status == "active"
    with pytest.raises(Conflict) as raised:
        tenant.moved_to("active")
    assert raised.value.extra["allowed_next"] == ["suspended"]
