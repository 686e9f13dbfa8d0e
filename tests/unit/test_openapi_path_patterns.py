"""Every id path parameter carries its pattern in the OpenAPI document, the same one the edge enforces.

DESIGN.md: "Ids are ULIDs with a type prefix (`ptr_…`, `dec_…`, `inv_…`): sortable, not guessable." The ULID spec
(github.com/ulid/spec): 26 characters of Crockford's base32, "0123456789ABCDEFGHJKMNPQRSTVWXYZ" (no I, L, O, U).
The edge answers 404 for an id of another form (`Operation.id_params`, edge/http.py), so a client or a fuzzer reading
the document knows the form before it asks: `^ptr_[0-9A-HJKMNP-TV-Z]{26}$` for a partner. A tenant id has the tenant
file's own (schemas/tenant.schema.json: "lowercase letter first, then lowercase letters, digits or hyphens, 3 to 40
characters"), which the platform routes check (`_tenant_id`); a customer id the ERP event schema's
(`customer_id`, which services/vat_validation.py checks). The other path parameters are not Revgov's ids and have
none: an ERP subscription id, a contract document name, an entitlement name and a SKU (the ERP's and the policy's).
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from revgov import schemas
from revgov.domain.errors import NotFound
from revgov.domain.ids import PREFIXES, is_typed_id, typed_id, typed_id_pattern
from revgov.edge.openapi import document
from revgov.edge.registry import OPERATIONS
from revgov.edge.routes.platform import _tenant_id

NOT_TYPED = {"tenant_id", "customer_id", "erp_subscription_id", "document", "name", "sku"}
NO_PATTERN = NOT_TYPED - {"tenant_id", "customer_id"}


def _path_params() -> list[tuple[str, str, dict]]:
    found = []
    for path, item in document()["paths"].items():
        for method, op in item.items():
            found += [(f"{method.upper()} {path}", p["name"], p["schema"]) for p in op.get("parameters", [])
                      if p["in"] == "path"]  # fmt: skip
    return found


def test_every_typed_id_path_parameter_has_its_prefix_and_ulid_pattern() -> None:
    params = _path_params()
    assert params
    untyped = sorted({name for _, name, schema in params if "pattern" not in schema})
    assert set(untyped) == NO_PATTERN, untyped
    tenant_ids = {schema["pattern"] for _, name, schema in params if name == "tenant_id"}
    assert tenant_ids == {schemas.schema("tenant.schema.json")["properties"]["tenant_id"]["pattern"]}
    enforced = {(f"{op.method} {op.path}", name): prefix for op in OPERATIONS for name, prefix in op.id_params.items()}
    for where, name, schema in params:
        if name in NOT_TYPED:
            continue
        assert schema["pattern"] == typed_id_pattern(enforced[(where, name)]), (where, name)
    customers = {schema["pattern"] for _, name, schema in params if name == "customer_id"}
    assert customers == {schemas.schema("events/erp-event.schema.json")["$defs"]["customer_id"]["pattern"]}
    shown = {schema["pattern"] for where, name, schema in params if where.endswith("/v1/partners/{partner_id}")}
    assert shown == {"^ptr_[0-9A-HJKMNP-TV-Z]{26}$"}


@pytest.mark.parametrize("prefix", sorted(PREFIXES))
def test_the_pattern_accepts_exactly_what_the_edge_accepts(prefix: str) -> None:
    # ECMA-262 (OpenAPI's pattern dialect) `$` without the m flag is the end of the input; Python's `$` also matches
    # before a final newline, so the check is a full match (and the edge's own check is one too: a trailing newline
    # passed `is_typed_id` before, found by this test)
    pattern = re.compile(typed_id_pattern(prefix))
    minted = typed_id(prefix, 1_796_000_000_000, bytes(range(10)))
    other = "key" if prefix != "key" else "ptr"
    body = minted.split("_", 1)[1]
    for value in (minted, f"{prefix}_{'Z' * 26}", f"{prefix}_{'0' * 26}"):
        assert pattern.fullmatch(value) and is_typed_id(value, prefix), value
    refused = [f"{other}_{body}", f"{prefix}_{body[:-1]}", f"{prefix}_{body}0", f"{prefix}_{body.lower()}",
               f"{prefix}_{body[:-1]}I", f"{prefix}_{body[:-1]}U", f"{prefix}-{body}", f" {minted}", f"{minted}\n"]
    for value in refused:
        assert not pattern.fullmatch(value) and not is_typed_id(value, prefix), value


def test_a_tenant_id_of_another_form_is_not_found_before_any_read_a_trailing_newline_included() -> None:
    pattern = re.compile(schemas.schema("tenant.schema.json")["properties"]["tenant_id"]["pattern"])
    assert _tenant_id(SimpleNamespace(params={"tenant_id": "northwind"})) == "northwind"  # type: ignore[arg-type]
    for value in ("northwind\n", "_platform", "NorthWind", "nw", "n" * 41):
        assert not pattern.fullmatch(value)
        with pytest.raises(NotFound):
            _tenant_id(SimpleNamespace(params={"tenant_id": value}))  # type: ignore[arg-type]


def test_an_explanation_takes_a_decision_or_an_audit_record_and_nothing_else() -> None:
    pattern = re.compile(typed_id_pattern("dec|aud"))
    for prefix in ("dec", "aud"):
        value = typed_id(prefix, 1_796_000_000_000, bytes(10))
        assert pattern.fullmatch(value) and is_typed_id(value, "dec|aud")
    other = typed_id("inv", 1_796_000_000_000, bytes(10))
    assert not pattern.fullmatch(other) and not is_typed_id(other, "dec|aud")
    with pytest.raises(ValueError):
        typed_id_pattern("nope")
