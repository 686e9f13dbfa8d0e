"""The ninth round: a plain-statement question's top clause judged against the agreement's own clauses, not by one
fixed margin, and the typed slots the eighth round's held-out split showed missing (domain/copilot_evidence.py
`_stands_out`, domain/copilot_subject.py, domain/copilot_statements.py `signatory_missing`, domain/copilot_slots.py).

Expectations come from the clauses of the Bonterms Mutual NDA (tests/copilot/corpus/bonterms-nda.md, read here
verbatim) and the Common Paper Pilot Agreement, quoted in each test. The similarities and BM25 ranks in the hits are
the ones the embedded index gives for these questions. Each answerable question here was refused by the eighth round's
rules with its gold clause retrieved first (`EIGHTH`); each unanswerable one the ninth round refuses.
"""

import re
from pathlib import Path

from revgov.domain import copilot_binding as binding
from revgov.domain import copilot_evidence as evidence
from revgov.domain import copilot_reader as reader
from revgov.domain import copilot_slots as slots
from revgov.domain import copilot_statements as statements
from revgov.domain import copilot_subject as subject
from revgov.domain.copilot import Hit, Passage, best_quotes

NDA = Path(__file__).with_name("corpus") / "bonterms-nda.md"
# the eighth round's rules: only a top clause 0.10 above the next, at similarity 0.33 or more, stood out
EIGHTH = evidence.EvidencePolicy(agreed_dense=2.0)


def _clause(clause_id: str) -> tuple[str, str]:
    match = re.search(rf"^### {re.escape(clause_id)} (.+)\n(.+)$", NDA.read_text(encoding="utf-8"), re.M)
    assert match, clause_id
    return match.group(1), match.group(2)


def _hit(clause_id: str, dense: float, lexical_rank: int | None) -> Hit:
    title, text = _clause(clause_id)
    passage = Passage("bonterms-nda", "bonterms-nda.md", "Bonterms Mutual NDA", "1", clause_id, title, text, None,
                      "h", "d")
    return Hit(passage, 1.0, dense, lexical_rank)


def _ids(hits: list[Hit]) -> list[str]:
    return [h.passage.clause_id for h in hits]


def test_a_top_clause_both_retrievers_put_first_answers_though_it_is_not_010_above_the_next():
    # BNDA-8: "Nothing in this NDA prohibits Recipient from developing products … that are similar to or compete with
    # products … described in Confidential Information"
    question = "Is the recipient barred from building a product that competes with what it was shown?"
    hits = [_hit("BNDA-8", 0.43, 1), _hit("BNDA-7", 0.38, 3), _hit("BNDA-3", 0.36, 2)]
    backed = evidence.evidence(question, hits)
    assert _ids(backed) == ["BNDA-8"]
    assert evidence.evidence(question, hits, EIGHTH) == []  # 0.05 above the next: the eighth round refused it
    assert any("compete with" in q for q in best_quotes(question, backed[0].passage))


def test_the_same_clause_is_not_enough_when_the_retrievers_disagree():
    question = "Is the recipient barred from building a product that competes with what it was shown?"
    second_by_words = [_hit("BNDA-8", 0.43, 2), _hit("BNDA-7", 0.38, 1), _hit("BNDA-3", 0.36, 3)]
    assert evidence.evidence(question, second_by_words) == []
    second_by_similarity = [_hit("BNDA-8", 0.43, 1), _hit("BNDA-7", 0.38, 3), _hit("BNDA-3", 0.47, 2)]
    assert evidence.evidence(question, second_by_similarity) == []


def test_an_agreed_top_clause_answers_at_low_similarity_but_not_below_the_floor():
    # BNDA-7: "(c) if requested by Discloser, confirm its compliance with these obligations in writing"
    question = "Do we have to confirm in some form that we got rid of everything?"
    hits = [_hit("BNDA-7", 0.23, 1), _hit("BNDA-12", 0.13, 3), _hit("BNDA-2", 0.09, 2)]
    backed = evidence.evidence(question, hits)
    assert _ids(backed) == ["BNDA-7"]
    assert evidence.evidence(question, hits, EIGHTH) == []  # similarity 0.23 < 0.33
    assert any("in writing" in q for q in best_quotes(question, backed[0].passage))
    too_far = [_hit("BNDA-7", 0.18, 1), _hit("BNDA-12", 0.13, 3), _hit("BNDA-2", 0.09, 2)]
    assert evidence.evidence(question, too_far) == []


def test_a_definition_the_question_asks_membership_of_answers_it():
    # BNDA-2: "Each party's Confidential Information also includes the existence and status of the parties'
    # discussions …"
    question = "Is the mere fact that we are in talks with them covered as confidential?"
    assert subject.asks_membership(question, "Confidential Information")
    hits = [_hit("BNDA-2", 0.54, 1), _hit("BNDA-3", 0.45, 3), _hit("BNDA-1", 0.40, 2)]
    backed = evidence.evidence(question, hits)
    assert _ids(backed) == ["BNDA-2"]
    assert any("existence and status" in q for q in best_quotes(question, backed[0].passage))
    assert not subject.asks_membership("Can we show their confidential documents to our lawyers?",
                                       "Confidential Information")


def test_for_how_long_is_answered_by_the_period_the_clause_names():
    # BNDA-6: "Recipient's obligations relating to Confidential Information will survive for the Confidentiality
    # Period, despite expiration or termination of this NDA."
    question = "After the NDA is terminated, for how long do the confidentiality duties continue?"
    hits = [_hit("BNDA-6", 0.79, 1), _hit("BNDA-7", 0.67, 2), _hit("BNDA-5", 0.54, 3)]
    backed = evidence.evidence(question, hits)
    assert _ids(backed) == ["BNDA-6"]
    assert any("Confidentiality Period" in q for q in best_quotes(question, backed[0].passage))
    # a question that counts still needs a number: "within how many days … return or destroy" (BNDA-7 says
    # "promptly after Discloser's request")
    assert not subject.named_quantity("How many days do the confidentiality duties continue after termination?",
                                      _clause("BNDA-6")[1])


def test_the_cap_is_the_named_amount_but_not_in_dollars():
    # Common Paper Pilot Agreement CPPLT-5.1: "Each party's total cumulative liability for all claims arising out of
    # or relating to this Agreement will not be more than the General Cap Amount."
    cap = ("Each party’s total cumulative liability for all claims arising out of or relating to this Agreement will "
           "not be more than the General Cap Amount.")
    assert subject.named_quantity("what's the cap on total liability", cap)
    assert not subject.named_quantity("In dollars, how high is the general cap on liability for the pilot?", cap)


def test_an_email_address_is_a_typed_slot_the_nda_leaves_to_the_cover_page():
    # BNDA-12: "Notices … must be sent in writing to the email or postal addresses on the Cover Page"
    question = "What email address do notices under the NDA go to?"
    assert slots.asked_slot(question) == "identifier"
    assert slots.asked_slot("To which e-mail do we send notices?") == "identifier"
    hits = [_hit("BNDA-12", 0.63, 1), _hit("BNDA-6", 0.51, 4), _hit("BNDA-1", 0.45, 2)]
    assert evidence.evidence(question, hits) == []


def test_who_signs_the_agreement_needs_a_signature_block_but_who_signs_a_waiver_does_not():
    # BNDA-1: "the parties complete and sign a Bonterms Cover Page" names no signatory
    hits = [_hit("BNDA-1", 0.53, 1), _hit("BNDA-12", 0.48, 2), _hit("BNDA-6", 0.40, 3)]
    assert evidence.evidence("Who signs the NDA for Bonterms?", hits) == []
    assert statements.signatory_missing("Who signs the pilot agreement on the customer's side?", _clause("BNDA-1")[1])
    assert not statements.signatory_missing("Who signs the NDA?", "Signature: ____\nName: Jane Doe\nTitle: CEO")
    # BNDA-12: "Waivers must be signed by the waiving party's authorized representative"
    question = "Who has to sign a waiver for it to count?"
    assert not statements.signatory_missing(question, _clause("BNDA-12")[1])
    waiver = [_hit("BNDA-12", 0.24, 1), _hit("BNDA-1", 0.19, 2), _hit("BNDA-5", 0.19, None)]
    backed = evidence.evidence(question, waiver)
    assert _ids(backed) == ["BNDA-12"]
    assert evidence.evidence(question, waiver, EIGHTH) == []
    assert any("waiving party" in q for q in best_quotes(question, backed[0].passage))


def test_the_value_of_a_cover_page_term_is_not_in_a_clause_that_only_uses_it():
    # BNDA-3: "(a) use Confidential Information only for the Purpose" — the Purpose itself is on the Cover Page
    question = "What exactly is the Purpose the information may be used for?"
    assert subject.asked_variable(question) == "Purpose"
    assert subject.asked_variable("What is the Advanced tier's discount cap on data-platform lines?") is None
    assert subject.asked_variable("What is the SLA in hours for a rebate dispute exception?") is None
    hits = [_hit("BNDA-3", 0.48, 1), _hit("BNDA-5", 0.48, 2), _hit("BNDA-2", 0.40, 3)]
    assert evidence.evidence(question, hits) == []


def test_a_choice_between_numbers_is_no_statement_question():
    # BNDA-6: "This NDA starts on the Effective Date and expires at the end of the Term of NDA" — no number
    question = "Is the Term of the NDA one year or two?"
    assert not subject.asks_plain_statement(question)
    hits = [_hit("BNDA-6", 0.59, 1), _hit("BNDA-12", 0.52, 2), _hit("BNDA-7", 0.45, 3)]
    assert evidence.evidence(question, hits) == []


def test_the_name_of_a_partys_role_holder_asks_a_person():
    assert statements.asks_person("What is the name of the customer's escalation lead?")
    assert statements.asks_person("What is the name of Contoso's data protection officer?")
    assert not statements.asks_person("What must the customer's escalation lead do?")


def test_a_rate_asked_per_a_period_the_clause_never_counts_by_is_refused():
    # northwind PA-10.8: "Overdue amounts bear interest at 1.0% per month"; PA-9.2: "Each tier includes a number of
    # technical support hours per Quarter: Registered 10 hours, …"
    interest = "Overdue amounts bear interest at 1.0% per month or the maximum lawful rate, if lower."
    hours = "Each tier includes a number of technical support hours per Quarter: Registered 10 hours, Silver 40 hours."
    assert slots.period_missing("What daily interest rate is charged on overdue Northwind invoices?", interest)
    assert not slots.period_missing("What monthly interest rate is charged on overdue invoices?", interest)
    assert slots.period_missing("How many support hours a month does a Registered partner get?", hours)
    assert not slots.period_missing("How many support hours per quarter does a Registered partner get?", hours)
    # a window or a share is no rate: "in a quarter", "more than a quarter of the list price"
    assert slots.asked_period("What volume rebate applies to 600k of revenue in a quarter?") is None
    assert slots.asked_period("Which team approves a discount of more than a quarter of the list price?") is None
    # CPA-9.7 counts vouchers "per Program Year"; "annual" and "per year" are the same period
    assert not slots.period_missing("How many exam vouchers does an Elite partner get per year?",
                                    "certification exam vouchers per Program Year: 2 (Authorized), 6 (Advanced)")


def test_the_unit_whose_own_condition_carries_the_questions_condition_is_quoted():
    # Common Paper BAA CPBAA-5.3 b.: "However, if neither return nor destruction are feasible, Provider may retain PHI
    # as long as Provider continues to comply with all provisions of this BAA …"; a. "… or earlier if directed by
    # Company, Provider will either return or destroy … all PHI …"
    text = ("a. Upon any expiration or termination of this BAA, or earlier if directed by Company, Provider will "
            "either return or destroy, at Company's discretion and according to Company's instructions, all PHI "
            "maintained in any form by Provider, its agents, or its Subcontractors.\n"
            "b. Provider may not retain any copies of PHI unless directed to do so by Company. However, if neither "
            "return nor destruction are feasible, Provider may retain PHI as long as Provider continues to comply with "
            "all provisions of this BAA for the time it retains PHI and limits the use or disclosure of retained PHI "
            "to those purposes that made the return or destruction of PHI infeasible.")
    question = "What if it's impossible to return or destroy the PHI at the end — what must the provider do then?"
    condition = binding.asked_condition(question)
    assert binding.meets_condition(condition, "However, if neither return nor destruction are feasible, Provider")
    assert not binding.meets_condition(condition, "or earlier if directed by Company, Provider will either return")
    passage = Passage("commonpaper-baa", "baa.md", "BAA", "1", "CPBAA-5.3", "Effect of Termination", text, None, "h",
                      "d")
    quotes = best_quotes(question, passage)
    assert any("continues to comply with all provisions of this BAA" in q for q in quotes)
    assert all(q in text for q in quotes)  # verbatim


# northwind PA-9.4 Managed support (tenants/northwind/contracts/partner-agreement.md)
MANAGED = (
    "Platinum Partners are entitled to managed support, under which the Distributor's operations centre monitors and "
    "handles incidents for Customer deployments registered by the Partner, including direct contact with the "
    "Customer's technical staff on the Partner's behalf. Managed support is subject to the managed support service "
    "description in the Partner Portal. Where a Partner ceases to be entitled to managed support, monitoring ends at "
    "the end of the Billing Month."
)


def test_a_question_set_in_a_story_needs_one_of_the_storys_names_and_asks_when_in_its_own_sentence():
    question = ("A Platinum partner drops to Gold mid-month. When does the operations centre stop monitoring its "
                "customers' deployments?")
    passage = Passage("northwind", "pa.md", "Northwind Partner Program Agreement", "1", "PA-9.4", "Managed support",
                      MANAGED, None, "h", "d")
    hits = [Hit(passage, 1.0, 0.50, 1), _hit("BNDA-12", 0.45, 2), _hit("BNDA-6", 0.49, 4)]
    backed = evidence.evidence(question, hits)
    assert _ids(backed) == ["PA-9.4"]  # "Gold" is the story's, "Platinum" is in the clause
    assert reader.asked_fact(question) == "duration"  # "When" opens the asked sentence
    assert any("at the end of the Billing Month" in q for q in best_quotes(question, passage))
    # the asked sentence's own names are still all needed: no clause about Gold partners answers for Silver ones
    assert evidence.evidence("A partner moves up a tier. When does a Silver partner's monitoring stop?", hits) == []


def test_a_phone_number_or_an_email_asked_in_other_words_is_the_identifier_slot():
    for question in ("Which phone number do partners call for support?", "What phone number should we call?",
                     "Where do we email a breach report?", "Which email should breach reports go to?"):
        assert slots.asked_slot(question) == "identifier", question
    # a question about a notice by email asks no address
    assert slots.asked_slot("Can notices be sent by email?") is None
    assert slots.asked_slot("What must an email notice contain?") is None


def test_a_number_the_other_side_holds_does_not_answer_for_the_asked_side():
    # Common Paper DPA CPDPA-2.6: "Provider will inform Customer at least 10 business days in advance … Customer has 30
    # days after notice of a change to the Approved Subprocessors to object … If Customer objects to the change within
    # 30 days of notice, …"
    question = "How many calendar days in advance must the provider announce a change of subprocessor?"
    assert statements.holder_swapped(question, "If Customer objects to the change within 30 days of notice")
    assert statements.holder_swapped(question, "Customer has 30 days after notice of a change to the Approved "
                                               "Subprocessors to object")
    assert not statements.holder_swapped("How many days does the customer have to object to a new subprocessor?",
                                         "Customer has 30 days after notice of a change to the Approved Subprocessors")
    # Bonterms PSA BPSA-10.4: "Customer will have no obligation to pay any fees or expenses that Provider invoices
    # more than 120 days after the fees or expenses were incurred." — the days are the provider's
    assert not statements.holder_swapped(
        "How late can the provider invoice fees and still be paid?",
        "Customer will have no obligation to pay any fees or expenses that Provider invoices more than 120 days after")
    text = ("Customer has 30 days after notice of a change to the Approved Subprocessors to object, otherwise Customer "
            "will be deemed to accept the changes. If Customer objects to the change within 30 days of notice, "
            "Customer and Provider will cooperate in good faith to resolve Customer’s objection or concern.")
    assert not binding.holds_asked_quantity(question, "Subprocessors", text, "DPA", [text], 0.15)


def test_a_notice_only_the_other_side_may_give_does_not_answer_for_the_asked_side():
    # Bonterms PSA BPSA-11.2 (b): "Unless otherwise specified in the SOW, Customer may terminate any SOW for any or no
    # reason at any time upon 30 days' notice to Provider …" — the provider has no such right
    question = "How many days' notice must the provider give to terminate a SOW for convenience?"
    segment = "Customer may terminate any SOW for any or no reason at any time upon 30 days’ notice to Provider"
    assert statements.holder_swapped(question, segment)
    assert not statements.holder_swapped("How many days' notice must the customer give to terminate a SOW?", segment)
