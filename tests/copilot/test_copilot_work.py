"""The work one copilot question does: each retrieved clause is read for the question once.

A clause the question retrieves is read for its evidence (`copilot_answerability.evidence`), its answer score
(`copilot_evidence.answer_score`) and its quotes (`copilot.best_quotes`); `copilot_binding.read` is pure (the
question, the clause's title and text), so the three share one reading. Counts, never timings: reading a clause again
per use fails here on any machine.
"""

from __future__ import annotations

from collections import Counter

import pytest

from copilot.evaluation import demo_index
from revgov.adapters.answerers import LocalAnswerer
from revgov.domain import copilot_binding as binding
from revgov.domain.copilot import Scope
from revgov.services.copilot import respond


@pytest.fixture(scope="module")
def index():
    return demo_index()


def test_a_question_reads_each_retrieved_clause_once(index, monkeypatch):
    question = "Who approves a discount above the tier cap?"  # the load section's question (tests/perf/load.py)
    binding._read.cache_clear()
    reads: Counter[tuple[str, str]] = Counter()
    read = binding.reader.read

    def counted(asked: str, title: str, text: str):
        reads[(title, text)] += 1
        return read(asked, title, text)

    monkeypatch.setattr(binding.reader, "read", counted)
    first = respond(index, LocalAnswerer(), Scope("northwind", all_partners=True), question)
    assert not first.draft.refused and first.draft.citations  # PA-6.6(a): Channel Operations approves
    assert reads and max(reads.values()) == 1, reads
    # the same answer when every reading is made afresh
    binding._read.cache_clear()
    again = respond(index, LocalAnswerer(), Scope("northwind", all_partners=True), question)
    assert (again.draft.answer, again.draft.citations) == (first.draft.answer, first.draft.citations)
