"""Bad input always gets the documented problem+json status and changes nothing; never a 5xx."""

import pytest

from support import assert_problem, example_tenant

KEY_BODY = {"role": "finance", "label": "ok"}


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"{", "truncated JSON"),
        (b'{"role": "finance", "label": "x",}', "trailing comma"),
        (b'{"role": "finance", "role": "admin", "label": "x"}', "duplicate key"),
        (b'{"role": NaN, "label": "x"}', "NaN"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[" * 5000 + b"]" * 5000, "deeply nested"),
        (b"", "empty body"),
    ],
)
def test_malformed_json_is_400(northwind, raw, why):
    assert_problem(northwind.post("/v1/keys", raw=raw), 400)


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"role": "finance"}, "/label"),  # a missing field is named by its own pointer, not the object's ""
        ({"role": "finance", "label": 5}, "/label"),
        ({"role": "owner", "label": "x"}, "/role"),
        ({"role": "finance", "label": "x", "tenant_id": "contoso"}, "/tenant_id"),  # so is an unknown one
        ({"role": "partner", "label": "x", "partner_id": "ptr_../../etc"}, "/partner_id"),
        ([KEY_BODY], ""),
        ("finance", ""),
    ],
)
def test_schema_violations_are_400_with_the_field_named(northwind, body, path):
    problem = assert_problem(northwind.post("/v1/keys", body), 400)
    assert any(e["path"] == path for e in problem["errors"]), problem["errors"]


def test_unknown_fields_are_rejected_not_ignored(northwind):
    problem = assert_problem(northwind.post("/v1/keys", {**KEY_BODY, "approved_by": "me"}), 400)
    assert "approved_by" in problem["errors"][0]["message"]


def test_rule_breaking_but_valid_json_is_422(northwind):
    assert_problem(northwind.post("/v1/keys", {"role": "partner", "label": "x"}), 422)
    assert_problem(
        northwind.post("/v1/keys", {"role": "partner", "label": "x", "partner_id": "ptr_01JX0000000000000000000000"}),
        422,
    )
    assert_problem(
        northwind.post("/v1/keys", {"role": "finance", "label": "x", "partner_id": "ptr_01JX0000000000000000000000"}),
        422,
    )


def test_oversize_bodies_are_413(northwind):
    assert_problem(northwind.post("/v1/keys", {**KEY_BODY, "label": "x" * 300_000}), 413)


def test_wrong_content_type_is_415(northwind):
    assert_problem(northwind.post("/v1/keys", KEY_BODY, headers={"Content-Type": "text/plain"}), 415)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer rgk.northwind.key_01JX0000000000000000000000." + "A" * 43,
        "Bearer rgk.nope.key.x",
        "Bearer " + "A" * 5000,
    ],
)
def test_missing_or_bad_credentials_are_401(api, header):
    headers = {"Authorization": header} if header is not None else {}
    assert_problem(api.get("/v1/keys", headers=headers), 401)


def test_a_key_with_a_tampered_secret_is_401(api, keys):
    key = keys["tenants"]["northwind"]["admin_key"]
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    assert_problem(api.as_key(tampered).get("/v1/keys"), 401)


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"limit": "0"}, 400),
        ({"limit": "201"}, 400),
        ({"limit": "ten"}, 400),
        ({"cursor": "garbage"}, 400),
        ({"bogus": "1"}, 400),
        ({"limit": "200"}, 200),
    ],
)
def test_pagination_parameters_are_checked(northwind, params, status):
    response = northwind.get("/v1/keys", **params)
    assert response.status_code == status, response.text
    if status >= 400:
        assert_problem(response, status)


def test_bad_ids_and_unknown_routes_are_404(northwind, operator):
    assert_problem(northwind.delete("/v1/keys/not-a-key"), 404)
    assert_problem(northwind.delete("/v1/keys/key_01JX0000000000000000000000"), 404)
    assert_problem(operator.get("/v1/tenants/NOT_A_TENANT"), 404)
    assert_problem(operator.get("/v1/tenants/no-such-tenant"), 404)
    assert_problem(northwind.get("/v1/no-such-route"), 404)


def test_wrong_method_is_a_problem_not_a_crash(northwind):
    response = northwind.request("PATCH", "/v1/keys", {"x": 1})
    assert response.status_code in (403, 404, 405)
    assert response.headers["Content-Type"].startswith("application/problem+json")


def test_an_invalid_tenant_config_is_400_and_creates_nothing(operator):
    for mutate in (
        lambda c: c.update(currency="dollars"),
        lambda c: c["branding"].update(primary_color="blue"),
        lambda c: c["policy"]["partner_tiers"][0]["requirements"].update(annual_commitment=1000.5),
        lambda c: c.update(tenant_id="_platform"),
        lambda c: c.update(unexpected=True),
    ):
        config = example_tenant()
        mutate(config)
        assert_problem(operator.post("/v1/tenants", config), 400)
        if config["tenant_id"] != "_platform":
            assert_problem(operator.get(f"/v1/tenants/{config['tenant_id']}"), 404)


def test_nothing_was_lost_or_changed_by_the_bad_requests(northwind):
    assert northwind.get("/v1/audit/verify").json()["valid"] is True
