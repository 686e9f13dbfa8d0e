"""Numbers bound to the event, thing or party their sentence attaches them to (domain/copilot_binding.py).

Expectations come from the clauses quoted in each test (tenants/*/contracts/, tests/copilot/corpus/); the questions are
tuning questions or written here, never the held-out split's.
"""

import pytest

from copilot.evaluation import demo_index
from revgov.adapters.answerers import LocalAnswerer
from revgov.domain import copilot_binding as binding
from revgov.domain import copilot_reader as reader
from revgov.domain.copilot import Scope
from revgov.services.copilot import respond

# CPCSA-4.6 Payment Dispute (Common Paper Cloud Service Agreement)
PAYMENT_DISPUTE = ("If Customer has a good-faith disagreement about the Fees charged or invoiced, Customer must notify "
                   "Provider about the dispute before payment is due, or within 30 days of an automatic payment, and "
                   "must pay all undisputed amounts on time.")
# PA-4.1 Certification catalogue (northwind), its table and the sentence after it
CATALOGUE = """| Id | Name | Product Family | Validity |
|---|---|---|---|
| cert-security-pro | Security Solutions Professional | security | 24 months |
| cert-cloud-architect | Cloud Solutions Architect | cloud-services | 24 months |

The Distributor may add certifications to the catalogue with 60 days' notice."""
# CPA-9.2 Support hours (contoso)
SUPPORT_HOURS = "Each Quarter includes support hours: Authorized 8, Advanced 30 and Elite 120."
# CPCSA-5.4 Force Majeure
FORCE_MAJEURE = ("Either party may terminate an affected Order Form upon notice if a Force Majeure Event prevents the "
                 "Product from materially operating for 30 or more consecutive days. Provider will pay to Customer a "
                 "prorated refund of any prepaid Fees for the remainder of the Subscription Period. A Force Majeure "
                 "Event does not excuse Customer's obligation to pay Fees accrued prior to termination.")


def test_a_question_names_what_its_number_measures_and_the_event_it_counts_from():
    assert binding.asked("How many days' notice does the provider give before raising its fees?").measured == "notic"
    assert binding.asked("What interest rate applies to a late rebate?").measured == "interes"
    asked = binding.asked("Within how many days after an automatic payment must the customer dispute a fee?")
    assert asked.measured is None and asked.event[:2] == ("autom", "payme") and asked.head == "payme"
    # "the other party" names no event: parties are in every clause
    assert binding.asked("How long must proceedings continue before the other party may terminate?").head is None


def test_a_number_answers_only_for_the_event_its_segment_binds_it_to():
    unit = reader.Unit(PAYMENT_DISPUTE)
    # "or within 30 days of an automatic payment": the 30 days run from an automatic payment ...
    assert binding.answers("Within how many days after an automatic payment must a fee dispute be raised?", unit,
                           "duration")
    # ... not from the invoice date (the standard terms leave the payment period to the Order Form)
    assert not binding.answers("How many days after the invoice date does the customer have to pay?", unit,
                               "duration")


def test_notice_periods_are_bound_to_their_act():
    units = reader.structured_units(CATALOGUE)
    sentence = next(u for u in units if u.kind == "sentence")
    # "may add certifications to the catalogue with 60 days' notice"
    assert binding.answers("How many days' notice is given before adding a certification to the catalogue?",
                           sentence, "duration")
    assert not binding.answers("How many days' notice is given before raising the price of a certification?",
                               sentence, "duration")
    # the thing measured must be there: 60 days of notice are not 60 days of support
    assert not binding.answers("How many support hours come with a certification?", sentence, None)


def test_a_list_after_a_colon_keeps_what_its_numbers_count():
    # "Each Quarter includes support hours: … Advanced 30 …": the 30 are support hours though the colon cuts them off
    unit = reader.Unit(SUPPORT_HOURS)
    assert binding.answers("How many support hours per quarter does an Advanced partner get?", unit, None)
    assert not binding.answers("How many training vouchers does an Advanced partner get?", unit, None)


def test_a_table_row_answers_only_for_the_names_it_carries():
    rows = [u for u in reader.structured_units(CATALOGUE) if u.kind == "row"]
    question = "How long is Northwind's Cloud Solutions Architect certification valid?"
    title = "Northwind Partner Program Agreement"
    assert [binding.names_in_unit(question, r, "Certification catalogue", title) for r in rows] == [False, True]
    # no row is a "Security Solutions Architect": Security is on one row, Architect on another
    other = "How long is Northwind's Security Solutions Architect certification valid?"
    assert not any(binding.names_in_unit(other, r, "Certification catalogue", title) for r in rows)
    assert not binding.holds_asked_quantity(other, "Certification catalogue", CATALOGUE, title, [CATALOGUE], 0.15)
    assert binding.holds_asked_quantity(question, "Certification catalogue", CATALOGUE, title, [CATALOGUE], 0.15)


def test_the_sentence_in_which_the_asked_party_acts_is_the_one_quoted():
    assert binding.asked_actor("What does the provider owe the customer when an order form ends?") == "provid"
    assert binding.asked_actor("Can the customer get its fees refunded?") is None  # asks whether, not what
    assert binding.acting_parties("in no event will Provider incorporate any Open Source") == {"provid"}
    question = ("What does the provider owe the customer when an order form is terminated because of a force majeure "
                "event?")
    bound = binding.read(question, "Force Majeure", FORCE_MAJEURE)
    plain = reader.read(question, "Force Majeure", FORCE_MAJEURE)
    pays = [i for i, r in enumerate(bound) if "prorated refund" in r.unit.text]  # "Provider will pay to Customer …"
    assert pays and pays[0] < next(i for i, r in enumerate(plain) if "prorated refund" in r.unit.text)
    # it is read within 75% of the best unit, so the answer quotes it (copilot.best_quotes)
    assert pays[0] == 0 or bound[pays[0]].score >= 0.75 * bound[0].score


@pytest.fixture(scope="module")
def index():
    return demo_index()


def test_a_notice_period_of_another_act_is_refused_and_the_bound_one_answered(index):
    scope = Scope("contoso", all_partners=True)
    # CPA-13.1: "renews … unless either party gives notice at least 90 days before year end" and "Contoso may publish a
    # new version … with 90 days' notice"; no clause sets a notice for a change of partner category (CPA-2.1)
    refused = respond(index, LocalAnswerer(), scope,
                      "How many days' notice must a Contoso partner give to change its partner category?")
    assert refused.draft.refused
    # CPA-3.6: "is moved to the highest tier whose requirements it meets, after 45 days' written notice"
    answered = respond(index, LocalAnswerer(), scope, "How much notice does Contoso give before moving a partner "
                       "that missed its annual commitment down a tier?")
    assert not answered.draft.refused
    assert "CPA-3.6" in {c.clause for c in answered.draft.citations} and "45 days" in answered.draft.answer
