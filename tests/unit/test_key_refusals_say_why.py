"""What a caller reads when its API key is refused (found as a new reseller integrating the API).

README: "API keys look like `rgk.<tenant>.<key id>.<secret>`". RFC 6750 §3.1: `invalid_token` is "The access token
provided is expired, revoked, malformed, or invalid for other reasons"; the edge already answers such a 401 with
`error="invalid_token"`. A key sent with one character too many (a copy-paste slip) read "send Authorization: Bearer
<api key>", as if no key had been sent at all. Each refusal now says which case it is, without telling whether a
tenant or key exists (a well-formed key of no tenant reads like a revoked one).
"""

from __future__ import annotations

import pytest

from memory_store import memory_runtime
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Unauthenticated
from revgov.services import keys

AT = "2026-12-07T10:00:00Z"


def _minted() -> tuple[object, str]:
    rt, _ = memory_runtime(AT)
    admin = Principal("northwind", Role.ADMIN, "key_admin")
    minted = keys.create_key(rt, admin, "northwind", Role.FINANCE, None, "month-end")
    return rt, minted["key"]


def test_a_valid_key_resolves():
    rt, key = _minted()
    assert keys.resolve_caller(rt, f"Bearer {key}").principal.role is Role.FINANCE


@pytest.mark.parametrize("header", [None, "", "Basic dXNlcjpwYXNz", "Bearer ", "rgk.northwind.key_x.y"])
def test_no_bearer_token_is_told_to_send_one(header):
    rt, _ = _minted()
    with pytest.raises(Unauthenticated) as refused:
        keys.resolve_caller(rt, header)
    assert refused.value.detail == "send Authorization: Bearer <api key>"


@pytest.mark.parametrize("mangle", [lambda k: k + "x", lambda k: k[:-1], lambda k: k.replace("rgk.", "rgk_"),
                                    lambda k: "not-a-key"])
def test_a_malformed_key_is_told_it_is_malformed_and_the_form_a_key_takes(mangle):
    rt, key = _minted()
    with pytest.raises(Unauthenticated) as refused:
        keys.resolve_caller(rt, f"Bearer {mangle(key)}")
    assert "malformed" in refused.value.detail
    assert "rgk.<tenant>.<key id>.<secret>" in refused.value.detail


def test_a_well_formed_key_of_no_tenant_reads_like_a_revoked_one():
    rt, key = _minted()
    _, tenant, key_id, secret = key.split(".")
    other_secret = ("A" if secret[0] != "A" else "B") + secret[1:]
    for forged in (f"rgk.nosuchtenant.{key_id}.{secret}", f"rgk.{tenant}.{key_id}.{other_secret}"):
        with pytest.raises(Unauthenticated) as refused:
            keys.resolve_caller(rt, f"Bearer {forged}")
        assert refused.value.detail == "the API key is unknown or revoked"
