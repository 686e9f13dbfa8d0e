"""Unit vectors are embedded when a clause is indexed, not when a question first touches it.

The latency report behind this (copilot answering latency, after the learned answerability model): "answering embeds
each retrieved clause's units (sentences, list items, table rows) with MiniLM the first time a question touches that
clause (~10 ms per unit) … answer p95 ≈ 1.9 s". The fix: embed the units at index time, store them with the clause in
the SQLite index (a restart reuses them), and answer from the stored vectors. The embedder below counts every text it
is asked to embed, so each test can say exactly which texts were embedded when.
"""

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from copilot.hash_embedder import HashEmbedder
from revgov.adapters.answerers import LocalAnswerer
from revgov.adapters.local_index import SqliteClauseIndex
from revgov.domain import copilot_answerability as answerability
from revgov.domain.copilot import Passage, Scope, prepare_document
from revgov.domain.copilot_units import embedded_passages, embedded_units
from revgov.services.copilot import contract_files, index_tenant, respond, unit_similarities

ROOT = Path(__file__).resolve().parents[2]
# CPA-12.1 Audit (tenants/contoso/contracts/partner-agreement.md): "The Partner keeps records of quotes, orders,
# registrations, MDF activities and Services for 10 years, or longer where law requires. Contoso may audit them on 20
# business days' notice, …" — a clause of four sentences, so four units.
QUESTION = "How many years must the partner keep records for an audit?"
SCOPE = Scope("contoso", all_partners=True)
MODE = "lexical"  # the counting embedder's vectors carry no meaning: retrieve by words, so CPA-12.1 is retrieved




def _index(path: Path, clauses: HashEmbedder, questions: HashEmbedder) -> SqliteClauseIndex:
    return SqliteClauseIndex(path, clauses, query_embedder=questions)


def _contoso_clauses() -> list[Passage]:
    return [p for path in contract_files(ROOT / "tenants", "contoso")
            for p in prepare_document("contoso", path.read_text(encoding="utf-8"), name=str(path)).passages]


def _all_units() -> set[str]:
    return {t for p in _contoso_clauses() for t in embedded_units(p.title, p.text)}


@pytest.fixture()
def indexed(tmp_path):
    clauses, questions = HashEmbedder(), HashEmbedder()
    index = _index(tmp_path / "index.sqlite", clauses, questions)
    index_tenant(index, ROOT / "tenants", "contoso")
    return index, clauses, questions


def test_indexing_embeds_every_unit_of_every_clause_in_the_same_split_the_answerer_reads(indexed):
    _, clauses, _ = indexed
    assert _all_units() <= set(clauses.texts)
    assert len(_all_units()) > len(_contoso_clauses())  # long clauses: more units than clauses


def test_answering_a_question_over_a_clause_no_question_touched_yet_embeds_no_unit(indexed):
    index, clauses, questions = indexed
    clauses.texts.clear()
    reply = respond(index, LocalAnswerer(), SCOPE, QUESTION, mode=MODE)
    assert "CPA-12.1" in [h.passage.clause_id for h in reply.hits]
    assert clauses.texts == []  # neither a unit nor a clause was embedded to answer
    assert questions.texts == [QUESTION]  # only the question itself


def test_the_stored_unit_similarities_are_the_cosines_of_the_units_the_answerer_reads(indexed):
    index, _, _ = indexed
    hits = index.search(SCOPE, QUESTION, k=5, mode=MODE)
    cosines = unit_similarities(index, QUESTION, hits)
    assert cosines is not None
    q = np.asarray(HashEmbedder.vector(QUESTION))
    for hit, got in zip(hits, cosines, strict=True):
        expected = [float(np.asarray(HashEmbedder.vector(t)) @ q) for t in answerability.unit_texts(hit)]
        assert got == pytest.approx(expected, abs=1e-6)


def test_a_restart_reuses_the_stored_unit_vectors(indexed, tmp_path):
    """`make run` re-indexes the demo tenants at every start over the same file: nothing is embedded again."""
    first, _, _ = indexed
    before = unit_similarities(first, QUESTION, first.search(SCOPE, QUESTION, k=5, mode=MODE))
    clauses, questions = HashEmbedder(), HashEmbedder()
    restarted = _index(tmp_path / "index.sqlite", clauses, questions)
    results = index_tenant(restarted, ROOT / "tenants", "contoso")
    assert {r.status for r in results} == {"unchanged"}
    reply = respond(restarted, LocalAnswerer(), SCOPE, QUESTION, mode=MODE)
    assert unit_similarities(restarted, QUESTION, reply.hits) == before  # the same stored float32 vectors
    assert clauses.texts == []


def test_an_index_file_from_before_unit_vectors_gets_them_at_the_next_indexing(indexed, tmp_path):
    """A file written before the `units` column: the next start adds the column and embeds only the units."""
    first, _, _ = indexed
    first._db.close()
    with sqlite3.connect(tmp_path / "index.sqlite") as db:
        db.execute("ALTER TABLE passages DROP COLUMN units")
    clauses, questions = HashEmbedder(), HashEmbedder()
    upgraded = _index(tmp_path / "index.sqlite", clauses, questions)
    results = index_tenant(upgraded, ROOT / "tenants", "contoso")
    assert {r.status for r in results} == {"unchanged"}
    assert set(clauses.texts) == _all_units()  # the units, and no clause re-embedded
    clauses.texts.clear()
    respond(upgraded, LocalAnswerer(), SCOPE, QUESTION, mode=MODE)
    assert clauses.texts == []


def test_a_changed_clause_gets_its_new_units_and_the_others_keep_theirs(indexed, tmp_path):
    """CPA-12.1 rewritten: only its clause text and its units are embedded; the question reads the new units."""
    index, clauses, _ = indexed
    contract = (ROOT / "tenants" / "contoso" / "contracts" / "partner-agreement.md").read_text(encoding="utf-8")
    changed = contract.replace("for 10 years, or longer where law requires.", "for 12 years. Copies may be digital.")
    assert changed != contract
    folder = tmp_path / "tenants" / "contoso" / "contracts"
    folder.mkdir(parents=True)
    for source in (ROOT / "tenants" / "contoso" / "contracts").glob("*.md"):
        (folder / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "partner-agreement.md").write_text(changed, encoding="utf-8")
    clauses.texts.clear()
    index_tenant(index, tmp_path / "tenants", "contoso")
    audit = index.get(SCOPE, ["CPA-12.1"])[0]
    assert set(clauses.texts) == {audit.indexed_text, *embedded_units(audit.title, audit.text),
                                  *embedded_passages(audit.title, audit.text)}
    clauses.texts.clear()
    hits = index.search(SCOPE, QUESTION, k=5, mode=MODE)
    cosines = unit_similarities(index, QUESTION, hits)
    assert cosines is not None and clauses.texts == []
    rank = [h.passage.clause_id for h in hits].index("CPA-12.1")
    assert len(cosines[rank]) == len(embedded_units(audit.title, audit.text))
