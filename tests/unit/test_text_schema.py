"""The one definition of caller text staff read (schemas/api/text.schema.json) and every field that uses it.

Unicode TR#36 §2 / UTS#39 §3.3 ("invisible characters") and CVE-2021-42574 (Trojan Source): LRM/RLM/ALM (U+200E,
U+200F, U+061C), zero-width characters (U+200B-U+200D, U+2060), the BOM U+FEFF and the separators U+2028/U+2029 hide
or reorder text a staff member approves on. Before: each schema carried its own copy of a pattern refusing controls,
overrides and isolates only, and accepted all of these. Now every such field names one definition (`$ref`), so a
character refused there is refused in every field; no schema under schemas/api spells the pattern itself.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from revgov import schemas

INVISIBLE = ["\u200e", "\u200f", "\u061c", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u2028", "\u2029"]
OLD = ["\u0000", "\u001b", "\u007f", "\u0085", "\u202a", "\u202e", "\u2066", "\u2069"]
TEXT = "api/text.schema.json"


def _fields(node: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    """(path of property names, definition name) of every property that references text.schema.json."""
    found: list[tuple[tuple[str, ...], str]] = []
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            ref = sub.get("$ref", "") if isinstance(sub, dict) else ""
            if ref.startswith("text.schema.json#/$defs/"):
                found.append(((*path, name), ref.rsplit("/", 1)[1]))
            found += _fields(sub, (*path, name))
        if isinstance(node.get("items"), dict):
            found += _fields(node["items"], (*path, "0"))
    return found


def _body(path: tuple[str, ...], value: str) -> Any:
    """The smallest document putting `value` at `path` (a list where the step is a digit)."""
    if not path:
        return value
    inner = _body(path[1:], value)
    return [inner] if path[0] == "0" else {path[0]: inner}


USES = [(name, path, kind) for name in schemas.names() if name.startswith("api/")
        for path, kind in _fields(schemas.schema(name))]


def test_no_schema_copies_the_pattern_and_the_staff_read_fields_all_use_the_definition() -> None:
    copies = [n for n in schemas.names() if n != TEXT and "202e" in json.dumps(schemas.schema(n)).lower()]
    assert copies == []
    used = {name for name, _, _ in USES}
    assert {"api/case-partner-reply.schema.json", "api/invoice-dispute.schema.json", "api/rebate-dispute.schema.json",
            "api/partner-non-renewal.schema.json", "api/case-question.schema.json",
            "api/partner-document.schema.json", "api/security-incident.schema.json"} <= used


@pytest.mark.parametrize("char", INVISIBLE + OLD, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize(("name", "path", "kind"), USES, ids=lambda v: v if isinstance(v, str) else "/".join(v))
def test_every_staff_read_field_refuses_invisible_characters_naming_the_field(name: str, path: tuple[str, ...],
                                                                             kind: str, char: str) -> None:
    pointer = "/" + "/".join(path)
    assert pointer in {e.path for e in schemas.problems(name, _body(path, f"DN-11{char}82"))}
    # the definition itself refuses it
    definition = schemas.schema(TEXT)["$defs"][kind]
    assert re.search(definition["pattern"], f"a{char}b") is None


@pytest.mark.parametrize("kind", ["text", "text_or_empty", "line", "line_or_empty"])
@pytest.mark.parametrize("value", ["Zürich Ärzte AG", "株式会社レイクサイド", "شركة الخليج", "O'Brien-Lee — 5 €",
                                   "🙂👍"])
def test_ordinary_text_in_any_script_is_kept(kind: str, value: str) -> None:
    assert re.search(schemas.schema(TEXT)["$defs"][kind]["pattern"], value)


@pytest.mark.parametrize(("kind", "kept"), [("text", True), ("text_or_empty", True), ("line", False),
                                            ("line_or_empty", False)])
def test_line_breaks_and_tabs_are_kept_only_in_multi_line_text(kind: str, kept: bool) -> None:
    assert bool(re.search(schemas.schema(TEXT)["$defs"][kind]["pattern"], "line one\n\tline two\r\n")) is kept
