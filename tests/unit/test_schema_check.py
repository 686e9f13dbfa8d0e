"""The compiled yes/no schema check (revgov/schema_check.py) gives jsonschema's verdict, and bad bodies are still
named field by field by jsonschema.

Source of truth: JSON Schema 2020-12 as jsonschema's Draft202012Validator implements it (the validator the API has
always used: its `is_valid` is the oracle here), and the schemas under schemas/ (e.g. api/pricing-check: lines carry
"required": ["line_id", "sku", "quantity"], "quantity" is an "integer" with "minimum": 1, and "list_price" is refused
with "not": {} because "the List Price comes from the tenant's price list ... never from the caller").
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from revgov import schemas
from revgov.domain.errors import MalformedRequest
from support import for_this_thread

PARTNER = "ptr_01HZZZZZZZZZZZZZZZZZZZZZZZ"
REPLACEMENTS: list[Any] = [
    None, True, False, 0, 1, -1, 10**7, 2.0, 2.5, Decimal("1.5"), Decimal("2"), "", "x", "ptr_", "A" * 300,
    "2026-10-01", "2026-10-01T00:00:00Z", "not an email", [], ["x", "x"], [1], {}, {"x": 1},
]


def _quote(lines: int = 3) -> dict[str, Any]:
    return {
        "partner_id": PARTNER,
        "customer": {"id": "ACME-1", "name": "Acme"},
        "lines": [{"line_id": str(i), "sku": "NW-SW-24P", "quantity": i + 1, "discount_percent": "5.50"}
                  for i in range(lines)],
        "promotions": ["SPRING-26"],
        "terms": {"payment_days": 30, "non_standard": False},
    }


def _paths(value: Any, where: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield where
    if isinstance(value, dict):
        for key, sub in value.items():
            yield from _paths(sub, (*where, key))
    elif isinstance(value, list):
        for index, sub in enumerate(value[:3]):
            yield from _paths(sub, (*where, index))


def _mutants(example: Any) -> Iterator[Any]:
    """The example, and for every place in it: each replacement value, the place removed, an unknown field added."""
    yield example
    for path in list(_paths(example)):
        if not path:
            continue
        *head, last = path
        for replacement in [*REPLACEMENTS, "__delete__", "__extra__"]:
            mutant = copy.deepcopy(example)
            parent = mutant
            for step in head:
                parent = parent[step]
            if replacement == "__delete__":
                del parent[last]
            elif replacement == "__extra__":
                if not isinstance(parent[last], dict):
                    continue
                parent[last]["unexpected_field"] = "x"
            else:
                parent[last] = replacement
            yield mutant


def _examples(name: str) -> list[Any]:
    found = list(schemas.schema(name).get("examples") or [])
    return [*found, *([_quote()] if name == "api/pricing-check.schema.json" else [])]


@pytest.mark.parametrize("name", schemas.names())
def test_the_compiled_check_gives_jsonschemas_verdict(name: str) -> None:
    fast = schemas._fast(name)
    if fast is None:
        pytest.skip(f"{name} uses a keyword the compiler leaves to jsonschema")
    oracle = schemas._validator(name)
    payloads = [mutant for example in _examples(name) for mutant in _mutants(example)]
    payloads += [REPLACEMENTS[i] for i in range(len(REPLACEMENTS))]
    for payload in payloads:
        assert fast(payload) == oracle.is_valid(payload), (name, payload)


def test_the_quote_check_schema_is_compiled_and_a_valid_quote_skips_jsonschema(monkeypatch: pytest.MonkeyPatch) -> None:
    name = "api/pricing-check.schema.json"
    assert schemas._fast(name) is not None

    class Refuses:
        def iter_errors(self, payload: Any) -> Any:
            raise AssertionError("a valid body is not walked by jsonschema again")

    for_this_thread(monkeypatch, schemas, "_validator", lambda _name: Refuses())  # not the stack's validations
    schemas.validate(name, _quote(50))


@pytest.mark.parametrize(
    ("change", "pointers"),
    [
        (lambda q: q.pop("partner_id"), ["/partner_id"]),
        (lambda q: q["lines"][1].update(quantity=0), ["/lines/1/quantity"]),
        (lambda q: q["lines"][0].update(list_price="10.00"), ["/lines/0/list_price"]),
        (lambda q: q["lines"][2].pop("sku"), ["/lines/2/sku"]),
        (lambda q: q.update(colour="red"), ["/colour"]),
        (lambda q: q["customer"].update(id="-bad"), ["/customer/id"]),
        (lambda q: q.update(promotions=["SPRING-26", "SPRING-26"]), ["/promotions"]),
        (lambda q: q["lines"][0].update(discount_percent="101"), ["/lines/0/discount_percent"]),
    ],
)
def test_a_bad_quote_still_names_each_field(change: Any, pointers: list[str]) -> None:
    quote = _quote()
    change(quote)
    with pytest.raises(MalformedRequest) as raised:
        schemas.validate("api/pricing-check.schema.json", quote)
    assert [e.path for e in raised.value.errors] == pointers


def test_a_refused_field_keeps_the_schemas_reason() -> None:
    quote = _quote()
    quote["lines"][0]["list_price"] = "10.00"
    (error,) = schemas.problems("api/pricing-check.schema.json", quote)
    assert "list_price is not accepted" in error.message
    assert "never from the caller" in error.message
