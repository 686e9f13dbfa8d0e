"""Red team: a partner's free text that staff read to decide carries control characters and bidirectional overrides.

Last round's fix for invoice-dispute reasons (schemas/api/invoice-dispute.schema.json: "line breaks and tabs are
kept, other control characters and bidirectional overrides are refused (the finance queue reads what is stored)")
and this session's for deal registrations and extensions cover what channel ops and finance read of those. The same
partner-key bodies below still take any text: U+202E (right-to-left override) makes `inv_…1000` read as `0001…vni`
to the reviewer, U+2066..2069 isolate runs, NUL and ESC sequences reach terminals, CSV exports and n8n messages.

- SOP-6.2 / PA-7.9: a rebate dispute "identifies the Quarter and program, the amount disputed and the evidence relied
  on" — finance decides on the reason and the evidence's references and notes.
- PA-2.2: the documents "must be received and verified in the Partner Portal": channel ops verifies what a
  partner files (its `reference`).
- PA-6.6 / SOP-4.4: a quote above a threshold waits for approval, recorded against the specific quote; the approver
  reads its `quote_ref` and the customer's name.

Owned by others this session (rebates, partners/lifecycle, pricing): each is a strict xfail; the fix is the
invoice-dispute pattern on each field (a name or reference: not blank and no control characters; a reason or note:
line breaks and tabs kept).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from revgov import schemas

SPOOF = "inv_01JX0000000000000000000001\u202e"
_DISPUTE = {"settlement_id": "set_01JX0000000000000000000000", "partner_id": "ptr_01JX0000000000000000000000",
            "program_id": "RBT-VOLUME", "amount": "1250.00", "reason": "an invoice is missing from the quarter",
            "evidence": [{"kind": "invoice", "reference": "inv_01JX0000000000000000000001", "note": "ours"}]}
_DOCUMENT = {"document_type": "signed_agreement", "reference": "dms://partner-agreements/contour-networks-2026.pdf",
             "checksum": "sha256:" + "5" * 64, "issued_at": "2026-11-02"}
_QUOTE = {"partner_id": "ptr_01JX0000000000000000000000", "quote_ref": "Q-2026-1042",
          "customer": {"id": "US-EIN-12-3456789", "name": "Lakeside Clinics"},
          "lines": [{"line_id": "1", "sku": "NW-SW-24P", "quantity": 12, "discount_percent": "8.00"}]}  # fmt: skip

CASES = [
    ("api/rebate-dispute.schema.json", _DISPUTE, ("reason",)),
    ("api/rebate-dispute.schema.json", _DISPUTE, ("evidence", 0, "reference")),
    ("api/rebate-dispute.schema.json", _DISPUTE, ("evidence", 0, "note")),
    ("api/partner-document.schema.json", _DOCUMENT, ("reference",)),
    ("api/pricing-check.schema.json", _QUOTE, ("quote_ref",)),
    ("api/pricing-check.schema.json", _QUOTE, ("customer", "name")),
    ("api/rebate-dispute-appeal.schema.json", {"reason": "SO-DSP-2 shipped in September"}, ("reason",)),
]


def _with(body: dict[str, Any], path: tuple[Any, ...], value: str) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    node: Any = changed
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return changed


@pytest.mark.parametrize(("schema", "body", "path"), CASES, ids=lambda v: v if isinstance(v, str) else None)
def test_the_bodies_are_valid_as_written(schema: str, body: dict[str, Any], path: tuple[Any, ...]) -> None:
    assert schemas.problems(schema, body) == []


@pytest.mark.parametrize(("schema", "body", "path"), CASES, ids=lambda v: v if isinstance(v, str) else None)
def test_partner_text_that_staff_read_takes_no_bidi_override(schema: str, body: dict[str, Any],
                                                             path: tuple[Any, ...]) -> None:  # fmt: skip
    pointer = "/" + "/".join(str(step) for step in path)
    assert [e.path for e in schemas.problems(schema, _with(body, path, SPOOF))] == [pointer]


NAMES = [case for case in CASES if case[2][-1] != "note" and case[2] != ("reason",)]
TEXTS = [case for case in CASES if case not in NAMES]


@pytest.mark.parametrize("value", ["\u0000", "ref\u001b[31m", "  \t ", "", "Lake\u2066side", "a\nb"])
@pytest.mark.parametrize(("schema", "body", "path"), NAMES, ids=lambda v: v if isinstance(v, str) else None)
def test_a_name_or_reference_is_not_blank_and_has_no_control_character(schema: str, body: dict[str, Any],
                                                                        path: tuple[Any, ...], value: str) -> None:
    """The invoice-dispute pattern for a name or reference: "not blank, without control characters or bidirectional
    overrides" (schemas/api/deal-registration.schema.json, customer name): NUL, ESC sequences, a blank value, an
    isolate and a line break are each refused, naming the field."""
    pointer = "/" + "/".join(str(step) for step in path)
    assert {e.path for e in schemas.problems(schema, _with(body, path, value))} == {pointer}


@pytest.mark.parametrize("value", ["Lakeside Clinics GmbH & Co. KG", "Zürich Ärzte AG", "株式会社レイクサイド",
                                   "O'Brien-Lee"])
def test_ordinary_names_are_kept(value: str) -> None:
    assert schemas.problems("api/pricing-check.schema.json", _with(_QUOTE, ("customer", "name"), value)) == []


@pytest.mark.parametrize("value", ["\u0000", "see\u001b[2J", "a\u202eb", "\u2069", "\u0085"])
@pytest.mark.parametrize(("schema", "body", "path"), TEXTS, ids=lambda v: v if isinstance(v, str) else None)
def test_a_reason_or_note_refuses_control_characters_but_keeps_line_breaks(schema: str, body: dict[str, Any],
                                                                          path: tuple[Any, ...], value: str) -> None:
    """The invoice-dispute pattern for a reason or note (schemas/api/invoice-dispute.schema.json: "line breaks and
    tabs are kept, other control characters and bidirectional overrides are refused")."""
    pointer = "/" + "/".join(str(step) for step in path)
    assert {e.path for e in schemas.problems(schema, _with(body, path, value))} == {pointer}
    assert schemas.problems(schema, _with(body, path, "line one\n\tline two\r\n")) == []
