"""The seventh round's failure classes: statement questions (yes/no, "which part …") answered by the clause's
sentence; calendar vs business days; a person's name where only a role is given; a place where none is named; a
product family of another kind than the clause's (domain/copilot_statements.py, domain/copilot_slots.py,
domain/copilot_evidence.py).

Expectations come from the clauses quoted in each test (tests/copilot/corpus/commonpaper-dpa.md, tenants/*/contracts/);
the questions are the sixth round's held-out failures (burnt since its one evaluation) or written here.
"""

from revgov.domain import copilot_evidence as evidence
from revgov.domain import copilot_reader as reader
from revgov.domain import copilot_slots as slots
from revgov.domain import copilot_statements as statements
from revgov.domain.copilot import Hit, Passage, best_quotes

DPA = "Common Paper Data Processing Agreement, DPA Standard Terms (Version 1.1)"
# CPDPA-3.2 Ex-EEA Transfers: the lead-in and item c.i
EX_EEA = (
    "Any such transfer is made pursuant to the EEA SCCs, which are completed as follows:\n"
    "c. For each module, the following applies (when applicable):\n"
    "i. The optional docking clause in Clause 7 does not apply;\n"
    "vi. In Clause 18(b), disputes will be resolved in the courts of the Governing Member State; and"
)
# CPDPA-3.3 Ex-UK Transfers: the lead-in and item a
EX_UK = (
    "Any such transfer is made pursuant to the UK Addendum, which is completed as follows:\n"
    "a. Section 3.2 of this DPA contains the information required in Table 2 of the UK Addendum."
)
# CPDPA-2.6 Subprocessors (a), its third sentence
SUBPROCESSOR_NOTICE = (
    "Provider will inform Customer at least 10 business days in advance and in writing of any intended changes to "
    "the Approved Subprocessors whether by addition or replacement of a Subprocessor."
)
# CPDPA-11.7 Definitions
GOVERNING_MEMBER_STATE = (
    '"Governing Member State" means the EU Member State in which the data exporter is established.'
)
# COP-6.3 Appeals (contoso)
APPEALS = (
    "A Partner may appeal a dispute decision once, within 10 business days, through the Partner Portal. The appeal "
    "is decided by the head of Finance together with Legal within 15 business days."
)
# PA-7.5 Hardware unit SPIFF (northwind), its first sentence
HARDWARE_SPIFF = (
    "All Partners, including Registered Partners, earn a sales performance incentive (SPIFF) of USD 40.00 per unit "
    "for units of hardware Product Family items flagged as SPIFF-eligible in the price list, invoiced in the Quarter "
    "and not returned within 30 days of shipment."
)


def _hit(clause_id, title, text, dense, document_title=DPA):
    passage = Passage("t", "doc.md", document_title, "1", clause_id, title, text, None, "h", "d")
    return Hit(passage, 1.0, dense)


def test_a_yes_no_question_is_answered_by_the_clause_sentence_that_binds_its_subject():
    # CPDPA-3.2 c.i: "The optional docking clause in Clause 7 does not apply" — the answer says that, no bare "no"
    question = "Can another party accede to the EEA SCCs later through the docking clause?"
    assert statements.asks_statement(question)
    unit = statements.statement_unit(question, EX_EEA)
    assert unit is not None and unit.text == "i. The optional docking clause in Clause 7 does not apply;"
    hits = [_hit("CPDPA-3.2", "Ex-EEA Transfers", EX_EEA, 0.55)]
    assert evidence.evidence(question, hits) == hits


def test_a_statement_question_is_refused_when_the_top_clause_does_not_carry_its_subject_and_act():
    # PA-7.5 is about a hardware SPIFF: it neither names the act asked (reimbursing) nor the thing (travel)
    question = "Does Northwind reimburse travel to the annual partner conference?"
    assert statements.statement_unit(question, HARDWARE_SPIFF) is None
    # a clause about the question but similar below the threshold does not answer it either
    weak = [_hit("CPDPA-3.2", "Ex-EEA Transfers", EX_EEA, 0.35)]
    assert evidence.evidence("Can another party accede to the EEA SCCs later through the docking clause?", weak) == []


def test_which_part_is_answered_by_the_unit_pointing_at_a_section():
    # CPDPA-3.3 a: "Section 3.2 of this DPA contains the information required in Table 2 of the UK Addendum."
    question = "Which part of this DPA supplies what Table 2 of the UK Addendum asks for?"
    assert reader.missing_head(question, EX_UK) == "part"
    assert statements.head_met(question, "part", EX_UK)
    assert not statements.head_met(question, "part", "The UK Addendum applies to Table 2 transfers.")
    unit = statements.statement_unit(question, EX_UK)
    assert unit is not None and unit.text.startswith("a. Section 3.2 of this DPA")


def test_calendar_days_are_not_answered_by_business_days_and_business_days_not_by_calendar_days():
    # CPDPA-2.6: "Provider will inform Customer at least 10 business days in advance"
    assert slots.asked_unit("How many calendar days in advance must the provider announce a change?") == "calendar day"
    assert not slots.unit_answers("calendar day", SUBPROCESSOR_NOTICE)
    assert slots.unit_answers("business day", SUBPROCESSOR_NOTICE)
    assert slots.unit_answers("day", SUBPROCESSOR_NOTICE)
    assert slots.unit_answers("calendar day", "within 30 calendar days")
    assert slots.unit_answers("calendar day", "within 30 days")
    assert not slots.unit_answers("business day", "within 30 calendar days")


def test_a_place_question_needs_a_place_the_question_does_not_give():
    # CPDPA-3.2 c.vi and 11.7 name "the courts of the Governing Member State", "the EU Member State": no country
    question = "Which EU country's courts decide disputes under the EEA SCCs?"
    assert slots.asked_slot(question) == "place"
    hits = [_hit("CPDPA-11.7", "Definitions", GOVERNING_MEMBER_STATE, 0.7),
            _hit("CPDPA-3.2", "Ex-EEA Transfers", EX_EEA, 0.6)]
    assert evidence.evidence(question, hits) == []
    assert not evidence.supported(question, hits[0])


def test_a_persons_name_is_not_answered_by_a_role():
    # COP-6.3: "The appeal is decided by the head of Finance together with Legal" — a role, no name
    question = "What is the name of the head of Finance who decides Contoso appeals?"
    assert statements.asks_person(question)
    assert statements.asks_person("Who is Northwind's data protection officer?")
    assert not statements.asks_person("Who decides a Contoso appeal?")  # a role answers who decides
    assert not statements.names_person(APPEALS)
    assert statements.names_person("Notices go to Jane Doe, the Partner Manager.")
    hits = [_hit("COP-6.3", "Appeals", APPEALS, 0.7, document_title="Contoso Operating Procedures")]
    assert evidence.evidence(question, hits) == []


def test_a_product_family_asked_must_be_the_clauses():
    # PA-7.5 pays its SPIFF on "hardware Product Family items": it says nothing of networking products
    assert statements.kind_missing("How big is the SPIFF per unit on Northwind networking products?",
                                   HARDWARE_SPIFF) == "networking"
    assert statements.kind_missing("How big is the SPIFF per unit on hardware products?", HARDWARE_SPIFF) is None
    # "subscription term" is a term, not a kind of subscription
    assert statements.kind_missing("How long is the first subscription term?", "an initial 12-month period") is None


# CPPLT-7.6 Assignment (Common Paper Pilot Agreement), its first two sentences
ASSIGNMENT = (
    "Neither party may assign any rights or obligations under this Agreement without the prior written consent of "
    "the other party. However, Provider may assign this Agreement upon notice if Provider undergoes a merger, change "
    "of control, reorganization, or sale of all or substantially all its equity or assets."
)


def test_a_rule_is_quoted_with_the_exception_that_follows_it():
    # "Neither party may assign …" is not the answer without "However, Provider may assign … change of control"
    question = "If the vendor gets acquired, can it transfer the agreement to the buyer without our consent?"
    assert statements.asks_statement(question)
    passage = Passage("t", "pilot.md", "Common Paper Pilot Agreement", "1", "CPPLT-7.6", "Assignment", ASSIGNMENT,
                      None, "h", "d")
    quotes = best_quotes(question, passage)
    assert any(q.startswith("However, Provider may assign") and "change of control" in q for q in quotes)
    assert all(q in ASSIGNMENT for q in quotes)  # verbatim


def test_a_party_swap_is_refused_only_when_the_clause_binds_the_other_side_to_the_asked_act():
    # CPDPA-5.1: "Provider will maintain records of its compliance with this DPA for 3 years after the DPA ends."
    records = "Provider will maintain records of its compliance with this DPA for 3 years after the DPA ends."
    assert statements.party_swapped("How many years must the customer keep records of its processing?", records)
    assert not statements.party_swapped("How many years must the provider keep records of its compliance?", records)
    # a question naming a company, not a side, is never held to it
    assert not statements.party_swapped("How many years must Northwind keep records?", records)
    # the other side doing another act is no swap: "Customer will pay" says nothing of when the provider invoices
    assert not statements.party_swapped("How late can the provider invoice fees and still be paid?",
                                        "Customer will pay each invoice within 30 days of receipt.")
