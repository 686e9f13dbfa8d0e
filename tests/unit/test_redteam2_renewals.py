"""Red team 2: notices of non-renewal (PA-13.1 / CPA-13.1) a hostile or careless caller can send, on a fixed clock.

PA-13.1: "This Agreement starts on the date the Partner is approved and continues until the end of the Program Year,
and then renews automatically for successive Program Years unless either party gives notice of non-renewal at least
60 days before the end of the current Program Year."
PA-1: "'Program Year' means a calendar year."
"""

from __future__ import annotations

import pytest
from test_partner_renewals import OPS, _active, _key

from revgov.domain.errors import RuleViolation
from revgov.services import partners, renewals


@pytest.mark.parametrize("year_end", ["9999-12-31", "2999-12-31", "2028-12-31"])
def test_pa_13_1_a_notice_names_the_current_program_year_end_or_the_next_never_a_distant_one(year_end):
    """A notice is about "the current Program Year" (or, too late for it, the next, which the refusal names): a notice
    for 9999 was a 500 (no date after it), and one for 2999 was recorded and kept the other party's notice out (409)."""
    rt, clock, partner = _active()
    clock.set("2026-05-01T09:00:00.000Z")
    before = partners.load_partner(rt, "northwind", partner["partner_id"])
    with pytest.raises(RuleViolation) as refused:
        renewals.give_notice(rt, _key(partner), partner["partner_id"], {"reason": "leaving", "effective_at": year_end})
    assert [e.path for e in refused.value.errors] == ["/effective_at"]
    assert partners.load_partner(rt, "northwind", partner["partner_id"]) == before


def test_pa_13_1_either_party_ends_the_current_year_even_with_a_notice_for_a_later_year_on_file():
    """"unless EITHER party gives notice [...] before the end of the current Program Year": the partner's notice for
    2027 must not stop the distributor, in time, ending the agreement at the end of 2026."""
    rt, clock, partner = _active()
    clock.set("2026-05-01T09:00:00.000Z")
    renewals.give_notice(rt, _key(partner), partner["partner_id"], {"reason": "leaving", "effective_at": "2027-12-31"})
    term = renewals.give_notice(rt, OPS, partner["partner_id"], {"reason": "the distributor ends it this year"})
    assert (term["non_renewal"]["party"], term["non_renewal"]["effective_at"]) == ("distributor", "2026-12-31")
    clock.set("2027-01-01T02:00:00.000Z")
    assert renewals.sweep_terms(rt, "northwind")["terminated"] == 1
    # a notice for the same or a later year end than the one on file is still a 409 (nothing to change)
    with pytest.raises(Exception) as again:
        renewals.give_notice(rt, OPS, partner["partner_id"], {"reason": "again"})
    assert getattr(again.value, "status", None) == 409


def test_pa_13_1_a_notice_given_before_the_sweep_recorded_the_renewal_is_for_the_current_program_year():
    """Approved 2025-03-10, read on 2026-05-01 before the daily sweep recorded the 2025 renewal: the agreement "renews
    automatically", so the current Program Year ends 2026-12-31 and a notice given now is in time for it (it was
    refused as too late for 2025-12-31)."""
    rt, clock, partner = _active("2025-03-10T09:00:00.000Z")
    clock.set("2026-05-01T09:00:00.000Z")  # no sweep ran
    term = renewals.give_notice(rt, _key(partner), partner["partner_id"], {"reason": "leaving the programme"})
    assert term["non_renewal"]["effective_at"] == "2026-12-31"
    assert (term["year_end"], term["last_notice_day"]) == ("2026-12-31", "2026-11-01")
    assert term == renewals.get_term(rt, _key(partner), partner["partner_id"])
    clock.set("2027-01-01T02:00:00.000Z")
    counts = renewals.sweep_terms(rt, "northwind")
    assert (counts["renewed"], counts["terminated"]) == (1, 1)  # 2025 renewed, 2026 ended
    assert partners.load_partner(rt, "northwind", partner["partner_id"])[0]["status"] == "terminated"


def test_pa_13_1_a_late_notice_names_a_program_year_end_it_is_still_in_time_for():
    """The 422 says "a notice now can be for <year end>": that year end must be one a notice given now is in time for
    (before the sweep recorded 2025's renewal it named 2026-12-31, which was also too late on 2026-11-05)."""
    rt, clock, partner = _active("2025-03-10T09:00:00.000Z")
    clock.set("2026-11-05T09:00:00.000Z")  # after 2026-11-01, the last day for 2026-12-31
    with pytest.raises(RuleViolation) as refused:
        renewals.give_notice(rt, OPS, partner["partner_id"], {"reason": "distributor ends it"})
    assert refused.value.extra["last_notice_day"] == "2026-11-01"
    assert refused.value.extra["earliest_effective_at"] == "2027-12-31"
    term = renewals.give_notice(rt, OPS, partner["partner_id"], {"reason": "distributor ends it",
                                                                 "effective_at": "2027-12-31"})
    assert term["non_renewal"]["effective_at"] == "2027-12-31"
