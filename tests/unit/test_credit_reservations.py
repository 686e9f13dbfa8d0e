"""A line's credit marker (domain/credit_reservations.py): what credit notes counted or reserved against the line.

SOP-2.5: a credit note above the limit is held for approval; until it is decided its amount is reserved on the line
it credits, so the line "is never credited twice while it waits" (services/credit_notes.py); rejected, the
reservation is released. Money is rounded half-even to 2 places (STYLE/DESIGN: Decimal, never float)."""

from decimal import Decimal

from revgov.domain.credit_reservations import counted


def test_a_held_credit_note_is_counted_against_its_line_and_released_when_rejected():
    marker = {"dispute_id": "ivd_1", "credited": "250.00"}
    held = counted(marker, Decimal("12000.00"))
    assert held == {"dispute_id": "ivd_1", "credited": "12250.00"}
    assert counted(held, Decimal("-12000.00")) == marker
    assert marker == {"dispute_id": "ivd_1", "credited": "250.00"}  # the stored marker is not changed in place


def test_a_return_marker_counts_units_too_and_one_without_units_gets_none():
    returned = {"credited": "0.00", "units": 3}
    assert counted(returned, Decimal("-120.50"), -2) == {"credited": "-120.50", "units": 1}
    assert "units" not in counted({"credited": "1.00"}, Decimal("1.005"), 4)
    assert counted({"credited": "1.00"}, Decimal("1.005"))["credited"] == "2.00"  # half-even: 2.005 -> 2.00


def test_a_held_credit_note_is_reserved_not_issued_until_decided():
    # SOP-2.5: "Credit notes above USD 10,000.00 require approval by a member of the finance queue other than the
    # preparer": 26,000.00 held counts against the line (never credited twice) but is no credit yet (`held`).
    from revgov.domain.billing import credited_of
    from revgov.domain.credit_reservations import held_of, with_held

    record = {"credited": "0.00", "units": 0, "refs": []}
    held = with_held(counted(record, Decimal("26000.00")), Decimal("26000.00"), "cnh_1")
    credited = credited_of(held, None)
    assert (credited.amount, credited.held, credited.issued, credited.holds) == (
        Decimal("26000.00"), Decimal("26000.00"), Decimal("0.00"), ("cnh_1",))  # fmt: skip
    approved = with_held(held, Decimal("-26000.00"), "cnh_1")
    assert credited_of(approved, None).issued == Decimal("26000.00") and approved["holds"] == []
    rejected = with_held(counted(held, Decimal("-26000.00")), Decimal("-26000.00"), "cnh_1")
    assert credited_of(rejected, None) == credited_of(record, None)
    # a hold reserved before markers counted holds: deciding it never makes `held` negative
    assert held_of(with_held(record, Decimal("-26000.00"), "cnh_old")) == Decimal("0.00")
