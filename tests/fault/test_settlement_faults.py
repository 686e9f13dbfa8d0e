"""A period close under concurrency, retries and a throttled table: one settlement per period and run, never two."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from fault_support import Fault, mentions
from security_support import Party, _last_quarter
from support import assert_problem

# one tenant, three periods; botocore-level faults: the stack on the AWS engine
pytestmark = [pytest.mark.xdist_group("settlement-faults"), pytest.mark.aws]


def _race(party: Party, body: dict[str, Any], headers: dict[str, str] | None = None, n: int = 5) -> list[Any]:
    answers: list[Any] = []

    def settle() -> None:
        answers.append(party.by_role["finance"].post("/v1/rebates/settlements", body, headers=headers))

    threads = [threading.Thread(target=settle) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def _ended_quarter(back: int) -> str:
    """The quarter `back` quarters before the last ended one (each test closes its own period, run 1)."""
    year, quarter = (int(x) for x in _last_quarter().split("-Q"))
    index = year * 4 + quarter - 1 - back
    return f"{index // 4}-Q{index % 4 + 1}"


def _one_settlement(answers: list[Any]) -> str:
    assert all(a.status_code < 500 for a in answers), [a.text[:200] for a in answers]
    assert all(a.status_code in (200, 201, 409) for a in answers), [a.text[:200] for a in answers]
    made = {a.json()["settlement_id"] for a in answers if a.status_code in (200, 201)}
    assert len(made) == 1, [a.text[:200] for a in answers]
    return made.pop()


def test_concurrent_closes_of_one_period_make_one_settlement(party):
    body = {"period": _ended_quarter(0), "run": 1}
    settled = _one_settlement(_race(party, body))
    assert _one_settlement([party.by_role["finance"].post("/v1/rebates/settlements", body)]) == settled


def test_retries_with_one_idempotency_key_answer_the_same_settlement(party):
    body = {"period": _ended_quarter(1), "run": 1}
    _one_settlement(_race(party, body, headers={"Idempotency-Key": "close-q-minus-1"}))


def test_a_throttled_close_changes_nothing_and_the_retry_settles_once(party, faults):
    body = {"period": _ended_quarter(2), "run": 1}
    with faults.inject(Fault("TransactWriteItems", mentions(party.tenant_id), times=None)):
        refused = party.by_role["finance"].post("/v1/rebates/settlements", body)
    assert_problem(refused, 503)
    first = party.by_role["finance"].post("/v1/rebates/settlements", body)
    assert first.status_code == 201, first.text[:300]
    assert _one_settlement([first, party.by_role["finance"].post("/v1/rebates/settlements", body)])
