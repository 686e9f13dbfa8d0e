"""The tenth round: table rows asked by their label, place, name or money range (domain/copilot_units.py), the asked
act's own period and ground (domain/copilot_acts.py) and a sentence reader over the top three clauses
(domain/copilot_evidence.py `_sentence_carried`).

Every table question is written from the demo tenants' tables themselves (tenants/*/contracts/*.md, each row quoted
beside its questions) in several phrasings, and asked end to end through the embedded index and the local answerer:
the answer must cite the table's clause, quote the asked row with its header row, and quote no other row of that
table. Before this round "Storage band 2 — what's the rate per GB-month?" was refused with COP-3.3 retrieved first
(the clause never writes "band 2": its table writes a Band header and a cell 2), and "the second band" quoted the
first band's row beside it.
"""

import re
from pathlib import Path

import pytest

from copilot.evaluation import demo_index
from revgov.adapters.answerers import LocalAnswerer
from revgov.domain import copilot_acts as acts
from revgov.domain import copilot_binding as binding
from revgov.domain import copilot_evidence as evidence
from revgov.domain import copilot_reader as reader
from revgov.domain import copilot_statements as statements
from revgov.domain import copilot_units as units
from revgov.domain.copilot import Hit, Passage, Scope, best_quotes
from revgov.services.copilot import respond

TENANTS = Path(__file__).resolve().parents[2] / "tenants"


def _clause_text(tenant: str, document: str, clause_id: str) -> str:
    text = (TENANTS / tenant / "contracts" / document).read_text(encoding="utf-8")
    match = re.search(rf"^### {re.escape(clause_id)} .+\n((?:(?!### ).*\n?)*)", text, re.M)
    assert match, clause_id
    return match.group(1)


@pytest.fixture(scope="module")
def index():
    return demo_index()


def reader_scope(tenant: str) -> Scope:
    return Scope(tenant, all_partners=True)


# (tenant, question, clause, the row that answers — verbatim from the table, the table's header row)
TABLE_QUESTIONS = [
    # COP-3.3 | Band | GB-month | Rate per GB-month (EUR) |  — "| 2 | next 9,000 (1,001 to 10,000) | 0.04 |"
    ("contoso", "Storage band 2 — what's the rate per GB-month?", "COP-3.3",
     "| 2 | next 9,000 (1,001 to 10,000) | 0.04 |"),
    ("contoso", "What does the second storage band cost per GB-month?", "COP-3.3",
     "| 2 | next 9,000 (1,001 to 10,000) | 0.04 |"),
    ("contoso", "What is the rate per GB-month in storage band 3?", "COP-3.3", "| 3 | above 10,000 | 0.03 |"),
    # COP-3.2 | Band | DPU in the month | Rate per DPU (EUR) |
    ("contoso", "What is the DPU rate in band 4?", "COP-3.2", "| 4 | above 25,000 | 0.18 |"),
    ("contoso", "What is the rate per DPU in the third band?", "COP-3.2",
     "| 3 | next 20,000 (5,001 to 25,000) | 0.25 |"),
    ("contoso", "Band 1 DPU rate?", "COP-3.2", "| 1 | first 500 | 0.40 |"),
    # SOP-3.2 | Band | Units in the month | Rate per CUH (USD) |
    ("northwind", "What is the rate per CUH in band 3?", "SOP-3.2", "| 3 | next 40,000 (10,001 to 50,000) | 0.08 |"),
    ("northwind", "What's the band 2 rate per CUH?", "SOP-3.2", "| 2 | next 9,000 (1,001 to 10,000) | 0.10 |"),
    ("northwind", "What does the second CUH band cost per unit?", "SOP-3.2",
     "| 2 | next 9,000 (1,001 to 10,000) | 0.10 |"),
    # SOP-3.3 | Band | Endpoints in the month | Rate per endpoint-month (USD) |
    ("northwind", "What is the endpoint-month rate in band 1?", "SOP-3.3", "| 1 | first 250 | 3.50 |"),
    # CPA-6.2 | Tier | collaboration | data-platform | security | devices |
    ("contoso", "What is the Elite discount cap for security?", "CPA-6.2", "| Elite | 16% | 12% | 14% | 16% |"),
    ("contoso", "What is the maximum discount for an Advanced partner on devices?", "CPA-6.2",
     "| Advanced | 9% | 7% | 8% | 10% |"),
    # PA-6.2 | Tier | networking | security | cloud-services | hardware |
    ("northwind", "What is the Gold discount cap on networking?", "PA-6.2", "| Gold | 15% | 12% | 10% | 12% |"),
    # CPA-7.2 | Quarterly Qualifying Revenue | Rebate rate |  — a sum of money picks the row whose range holds it
    ("contoso", "What rebate rate applies to quarterly qualifying revenue of EUR 250,000?", "CPA-7.2",
     "| EUR 200,000.00 to 499,999.99 | 2.5% |"),
    # PA-7.2 — a sum written in thousands ("600k", r8 held-out nw-07, burnt) picks the row whose range holds 600,000
    ("northwind", "If we book 600k of qualifying revenue in a quarter, what volume rebate rate applies?", "PA-7.2",
     "| USD 500,000.00 to 999,999.99 | 3.0% |"),
    # PA-7.2 | Quarterly Qualifying Revenue | Rebate rate |  — "the fourth band": the fourth row
    ("northwind", "What rebate rate does the fourth revenue band earn?", "PA-7.2",
     "| USD 500,000.00 to 999,999.99 | 3.0% |"),
    # PA-9.1 | Support level | Tier | Coverage | Initial response, severity 1 |  — a cell named in the question
    ("northwind", "How fast is the initial response for severity 1 at premium support level?", "PA-9.1",
     "| premium | Gold | 24 hours, Monday to Friday | 2 hours |"),
    ("northwind", "Which tier gets premium_24x7 support?", "PA-9.1",
     "| premium_24x7 | Platinum | 24 hours, 7 days | 1 hour |"),
    # PA-4.1 | Id | Name | Product Family | Validity |
    ("northwind", "What is the validity of the cert-cloud-ops certification?", "PA-4.1",
     "| cert-cloud-ops | Cloud Services Operations | cloud-services | 12 months |"),
    # CPA-4.1 | Id | Name | Product Family | Validity |
    ("contoso", "How long is the Data Platform Engineer certification valid?", "CPA-4.1",
     "| cert-data-engineer | Data Platform Engineer | data-platform | 18 months |"),
    # COP-4.1 / SOP-4.1 | Exception category | Queue | SLA hours |
    ("contoso", "Which queue handles vat_validation_failure exceptions?", "COP-4.1",
     "| vat_validation_failure | finance | 24 |"),
    ("northwind", "What is the SLA for a margin_below_floor exception?", "SOP-4.1",
     "| margin_below_floor | finance | 16 |"),
]


@pytest.mark.parametrize(("tenant", "question", "clause", "row"), TABLE_QUESTIONS,
                         ids=[q[1][:40] for q in TABLE_QUESTIONS])
def test_a_table_row_asked_by_its_label_place_or_name_is_answered_with_that_row_and_its_header(
        index, tenant, question, clause, row):
    reply = respond(index, LocalAnswerer(), reader_scope(tenant), question)
    assert not reply.draft.refused, question
    cited = [c for c in reply.draft.citations if c.clause == clause]
    assert cited, (question, [c.clause for c in reply.draft.citations])
    quotes = [c.quote for c in cited]
    assert row in quotes
    header = next(line for line in reply.retrieved[clause].text.split("\n") if line.startswith("|"))
    assert header in quotes  # the row is quoted with the table's header row
    other_rows = [q for q in quotes if q.startswith("|") and q not in (row, header)]
    assert other_rows == []  # no other row of the table is quoted beside it
    assert all(q in reply.retrieved[clause].text for q in quotes)  # verbatim


def test_a_row_label_the_asked_table_lacks_is_refused_not_read_from_another_table(index):
    # COP-3.3 (storage) has three bands: "| 3 | above 10,000 | 0.03 |" is its last row; band 4 is COP-3.2's DPU table
    reply = respond(index, LocalAnswerer(), reader_scope("contoso"),
                    "What does Contoso charge per GB-month in storage band 4?")
    assert reply.draft.refused


def test_row_labels_are_read_from_the_header_and_the_cell():
    storage = _clause_text("contoso", "operations-sop.md", "COP-3.3")
    assert "band 2" not in storage.lower()  # the ninth round looked for these words and refused
    assert reader.name_in("band 2", storage) and not reader.name_in("band 4", storage)
    caps = _clause_text("contoso", "partner-agreement.md", "CPA-6.2")
    assert {"tier elite", "tier 3"} <= units.table_labels(caps)  # Authorized, Advanced, Elite: the third tier
    assert units.picked_rows("What is the tier 3 cap on security?", caps) == {"| Elite | 16% | 12% | 14% | 16% |"}
    # a count is not a sum of money: "the first 500 units" picks no range of a money table
    rebate = _clause_text("contoso", "partner-agreement.md", "CPA-7.2")
    assert units.picked_rows("Which rebate applies to the first 500 units?", rebate) == frozenset()
    assert units.picked_rows("Which rebate applies at 210,000 euros?", rebate) == {
        "| EUR 200,000.00 to 499,999.99 | 2.5% |"}
    # thousands as a suffix ("600k"), millions after a currency ("EUR 1.2m"); a bare "12m" (months, metres) is no sum
    assert units.picked_rows("Which rebate applies at 600k?", rebate) == {"| EUR 500,000.00 and above | 3.5% |"}
    assert units.picked_rows("Which rebate applies at EUR 0.3m?", rebate) == {"| EUR 200,000.00 to 499,999.99 | 2.5% |"}
    assert units.picked_rows("Which rebate applies over a 12m term?", rebate) == frozenset()


def test_business_days_are_not_answered_by_a_clause_giving_the_act_calendar_days(index):
    # SOP-6.1: "A Partner may dispute an invoice line within 30 days of the invoice date through the Partner Portal."
    # Its business days ("acknowledged within 1 business day", "Finance decides within 10 business days") are other
    # acts' periods. The ninth round quoted them for "how many business days".
    question = "How many business days does a Northwind partner have to dispute an invoice line?"
    sop = _clause_text("northwind", "billing-sop.md", "SOP-6.1")
    assert acts.act_period_elsewhere(question, sop)
    assert respond(index, LocalAnswerer(), reader_scope("northwind"), question).draft.refused
    # the same clause still answers in its own unit
    answered = respond(index, LocalAnswerer(), reader_scope("northwind"),
                       "How many days does a Northwind partner have to dispute an invoice line?")
    assert not answered.draft.refused and "30 days" in answered.draft.answer


BAA = Path(__file__).with_name("corpus") / "commonpaper-baa.md"


def _baa_hit(clause_id: str, dense: float, lexical_rank: int | None) -> Hit:
    match = re.search(rf"^### {re.escape(clause_id)} (.+)\n((?:(?!### ).*\n?)*)", BAA.read_text(encoding="utf-8"),
                      re.M)
    assert match, clause_id
    passage = Passage("commonpaper-baa", "commonpaper-baa.md", "Common Paper Business Associate Agreement", "1",
                      clause_id, match.group(1), match.group(2).strip(), None, "h", "d")
    return Hit(passage, 1.0, dense, lexical_rank)


def test_a_termination_for_convenience_is_not_answered_by_a_termination_for_breach():
    # CPBAA-5.2: "Either party may terminate this BAA if the other party fails to cure a material breach of the BAA
    # within 30 days after receiving notice of the breach." — the BAA has no termination for convenience
    hits = [_baa_hit("CPBAA-5.2", 0.66, 1), _baa_hit("CPBAA-5.3", 0.54, 4)]
    assert acts.asked_ground("How much notice is needed to terminate the BAA for convenience?") == "conveni"
    assert evidence.evidence("How much notice is needed to terminate the BAA for convenience?", hits) == []
    # asked for a breach, the same sentence answers
    backed = evidence.evidence("How many days does a party have to cure a breach before the BAA can be terminated "
                               "for breach?", hits)
    assert [h.passage.clause_id for h in backed][:1] == ["CPBAA-5.2"]


CONTOSO_SOP = "Contoso Channel Operations SOP"


def _contoso_hit(clause_id: str, document: str, dense: float, lexical_rank: int) -> Hit:
    text = _clause_text("contoso", document, clause_id).strip()
    title = re.search(rf"^### {re.escape(clause_id)} (.+)$",
                      (TENANTS / "contoso" / "contracts" / document).read_text(encoding="utf-8"), re.M)
    assert title
    passage = Passage("contoso", document, CONTOSO_SOP, "1", clause_id, title.group(1), text, None, "h", "d")
    return Hit(passage, 1.0, dense, lexical_rank)


def test_the_sentence_reader_answers_from_the_third_clause_whose_sentence_carries_the_question():
    # COP-2.1: "The internal target is 24 hours: at 24 hours an unposted event is flagged to the finance queue, …"
    # retrieved third under CPA-10.7 and CPA-10.6 (the similarities and ranks the embedded index gives)
    question = "At what point is an unposted billable event first flagged to finance at Contoso?"
    hits = [_contoso_hit("CPA-10.7", "partner-agreement.md", 0.40, 5),
            _contoso_hit("CPA-10.6", "partner-agreement.md", 0.38, 3),
            _contoso_hit("COP-2.1", "operations-sop.md", 0.36, 1)]
    backed = evidence.evidence(question, hits)
    assert [h.passage.clause_id for h in backed] == ["COP-2.1"]
    # the ninth round's rules (no reader step) refused it
    assert evidence.evidence(question, hits, evidence.EvidencePolicy(reader_top=0)) == []
    # CPA-10.6 alone ("Each billable event … must be invoiced within 48 hours") shares two words apart: refused
    assert evidence.evidence(question, hits[:2]) == []


def test_a_right_to_see_something_quotes_the_sentence_making_it_available():
    # CPBAA-1.5: "Provider will make available a summary of such assessments to Company upon Company's reasonable
    # request." — the ninth round quoted only the first sentence ("Provider agrees to conduct regular assessments …")
    question = "Do we get to see the results of the provider's HIPAA compliance assessments?"
    hit = _baa_hit("CPBAA-1.5", 0.52, 1)
    quotes = best_quotes(question, hit.passage)
    assert any("make available a summary of such assessments" in q for q in quotes)
    assert all(q in hit.passage.text for q in quotes)


def test_a_row_the_question_names_is_evidence_a_low_clause_similarity_does_not_see():
    # PA-9.1: "| Support level | Tier | Coverage | Initial response, severity 1 |" … "| priority | Silver | business
    # days 07:00-20:00 Partner local time | 4 business hours |" (similarity 0.31 in the embedded index, BM25 first)
    question = "On priority support, how fast is the first response to a severity 1 issue?"
    text = _clause_text("northwind", "partner-agreement.md", "PA-9.1").strip()
    passage = Passage("northwind", "partner-agreement.md", "Northwind Partner Program Agreement", "1", "PA-9.1",
                      "Support levels", text, None, "h", "d")
    hit = Hit(passage, 1.0, 0.31, 1)
    assert evidence.evidence(question, [hit]) == [hit]
    quotes = best_quotes(question, passage)
    assert "| priority | Silver | business days 07:00-20:00 Partner local time | 4 business hours |" in quotes
    assert "| premium | Gold | 24 hours, Monday to Friday | 2 hours |" not in quotes
    # the same similarity with no row named is not enough
    assert evidence.evidence("How fast is the first response to an issue?", [hit]) == []


def test_the_effect_of_a_thing_asks_about_the_thing():
    # "What is the effect of an assignment …?" asks about the assignment (CPDP-7.7 "Any attempted but non-permitted
    # assignment is void."), not about a clause that writes the word "effect" ("remain in full force and effect")
    assert reader.asked_head("What is the effect of an assignment the agreement does not permit?") == "assign"
    assert reader.asked_head("What is the consequence of a late payment?") == "payment"


def test_a_rate_per_period_said_as_an_adjective_meets_the_clause_per_period():
    # COP-5.3: "… a change order at a fixed fee or at EUR 130.00 per hour"; PA-3.2: the Registered tier's "annual
    # commitment". The ninth round read "hourly" and "yearly" as words no clause has.
    assert set(reader.content_terms("hourly rate")) >= set(reader.content_terms("per hour rate"))
    assert reader.content_terms("yearly spend")[0] == reader.content_terms("annual commitment")[0]
    cop = _clause_text("contoso", "operations-sop.md", "COP-5.3").strip()
    passage = Passage("contoso", "operations-sop.md", CONTOSO_SOP, "1", "COP-5.3", "Out-of-scope requests", cop, None,
                      "h", "d")
    question = "What hourly rate does Contoso quote for out-of-scope work?"
    # retrieved with CPA-6.1 and CPA-1.3 (the similarities and ranks the embedded index gives)
    hits = [Hit(passage, 1.0, 0.49, 2), _contoso_hit("CPA-6.1", "partner-agreement.md", 0.50, 4),
            _contoso_hit("CPA-1.3", "partner-agreement.md", 0.43, 10)]
    assert [h.passage.clause_id for h in evidence.evidence(question, hits)] == ["COP-5.3"]
    assert any("EUR 130.00 per hour" in q for q in best_quotes(question, passage))


def test_a_comparison_is_no_product_kind_and_the_asked_thing_chooses_the_sentence():
    # PA-10.2: "Recurring subscriptions are billed in advance …" and "Hardware and perpetual licences are billed on
    # shipment or delivery." The ninth round read "like subscriptions" as a kind of subscription PA-10.2 never names
    # and refused.
    question = "Is hardware billed in advance like subscriptions?"
    text = _clause_text("northwind", "partner-agreement.md", "PA-10.2").strip()
    passage = Passage("northwind", "partner-agreement.md", "Northwind Partner Program Agreement", "1", "PA-10.2",
                      "Service periods", text, None, "h", "d")
    assert statements.kind_missing(question, text) is None
    assert binding.yes_no_subject(question) == "hardwar"
    assert evidence.evidence(question, [Hit(passage, 1.0, 0.71, 1)])
    quotes = best_quotes(question, passage)
    assert "Hardware and perpetual licences are billed on shipment or delivery." in quotes
    assert statements.kind_missing("What is the SPIFF on networking products?", "Hardware SPIFF") == "networking"


DESIGN = Path(__file__).with_name("corpus") / "commonpaper-design-partner.md"


def test_a_period_for_one_means_of_delivery_does_not_answer_for_another():
    # CPDP-7.8: "Notices will be deemed given (a) upon confirmed delivery if by email, registered or certified mail, or
    # personal delivery; or (b) two days after mailing if by overnight commercial delivery."
    match = re.search(r"^### CPDP-7.8 (.+)\n(.+)$", DESIGN.read_text(encoding="utf-8"), re.M)
    assert match
    passage = Passage("commonpaper-design-partner", "commonpaper-design-partner.md", "Common Paper Design Partner "
                      "Agreement", "1", "CPDP-7.8", match.group(1), match.group(2), None, "h", "d")
    hits = [Hit(passage, 1.0, 0.63, 1)]
    refused = "How many days after mailing is a notice sent by ordinary first-class post deemed given?"
    assert acts.means_missing(refused, "or (b) two days after mailing if by overnight commercial delivery.")
    assert evidence.evidence(refused, hits) == []
    answered = "How many days after mailing is a notice sent by overnight courier deemed given?"
    assert evidence.evidence(answered, hits) == hits


def test_a_list_item_asked_by_its_letter_is_answered_by_the_clause_holding_it():
    # CPDP-7.5 Restrictions: "Partner will not (and will not allow anyone else to): (a) reverse engineer, … (c) remove
    # any proprietary notices or labels; …" — one sentence with inline items; the ninth round refused (retrieved first,
    # similarity 0.61, CPDP-1.1 next at 0.46)
    match = re.search(r"^### CPDP-7.5 (.+)\n(.+)$", DESIGN.read_text(encoding="utf-8"), re.M)
    other = re.search(r"^### CPDP-1.1 (.+)\n(.+)$", DESIGN.read_text(encoding="utf-8"), re.M)
    assert match and other
    hits = [Hit(Passage("commonpaper-design-partner", "commonpaper-design-partner.md", "Common Paper Design Partner "
                        "Agreement", "1", cid, m.group(1), m.group(2), None, "h", "d"), 1.0, dense, rank)
            for cid, m, dense, rank in (("CPDP-7.5", match, 0.61, 1), ("CPDP-1.1", other, 0.46, 3))]
    question = "What does item (c) of the restrictions forbid the partner to do?"
    assert units.asked_item(question) == "c"
    assert [h.passage.clause_id for h in evidence.evidence(question, hits)] == ["CPDP-7.5"]
    assert any("(c) remove any proprietary notices or labels" in q for q in best_quotes(question, hits[0].passage))
    assert evidence.evidence(question, hits, evidence.EvidencePolicy(reader_top=0)) == []  # the ninth round's rules
    assert units.asked_item("What does Section 5(b) say?") is None  # a reference, not an item asked
