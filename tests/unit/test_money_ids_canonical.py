"""Money, ids and canonical JSON: the primitives every decision and audit hash rests on."""

from decimal import Decimal

import pytest

from revgov.domain.canonical import canonical_json, sha256_hex
from revgov.domain.ids import is_typed_id, typed_id, ulid
from revgov.domain.money import format_money, parse_money, round_money


def test_money_parses_decimal_strings_only():
    assert parse_money("1234.50") == Decimal("1234.50")
    assert parse_money("-0.01") == Decimal("-0.01")
    for bad in (12.5, 12, "12.345", "1e3", "NaN", "", " 1.00", None):
        with pytest.raises(ValueError):
            parse_money(bad)


def test_rounding_is_half_even_at_two_places():
    assert round_money(Decimal("0.125")) == Decimal("0.12")
    assert round_money(Decimal("0.135")) == Decimal("0.14")
    assert format_money(Decimal("7")) == "7.00"


def test_a_thousand_lines_reconcile_to_the_cent():
    lines = [round_money(Decimal("19.995") * (i % 7 + 1)) for i in range(1000)]
    assert sum(lines, Decimal("0")) == sum((Decimal(format_money(x)) for x in lines), Decimal("0"))


def test_ulids_sort_by_time_and_carry_their_type():
    early = typed_id("ptr", 1_700_000_000_000, bytes(10))
    late = typed_id("ptr", 1_700_000_000_001, bytes(10))
    assert early < late and is_typed_id(early, "ptr") and not is_typed_id(early, "inv")
    assert len(ulid(0, b"\xff" * 10)) == 26
    with pytest.raises(ValueError):
        typed_id("nope", 0, bytes(10))


def test_canonical_json_is_order_independent_and_refuses_floats():
    assert canonical_json({"b": 1, "a": [Decimal("1.50"), "é"]}) == '{"a":["1.50","é"],"b":1}'
    assert sha256_hex({"x": 1, "y": 2}) == sha256_hex({"y": 2, "x": 1})
    with pytest.raises(TypeError):
        canonical_json({"amount": 1.5})
