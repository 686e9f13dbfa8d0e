"""What-if evaluations in worker processes: the draft's side of many stored decisions, evaluated on every core.

An evaluation is pure CPU (Decimal arithmetic over one decision's stored inputs), so a what-if over a long window
evaluates in `Settings.whatif_workers` processes: the embedded engine of the local product has the cores; a Lambda
function keeps 1 (it has no /dev/shm for a process pool). Decisions go out in batches of their stored inputs' JSON
text and come back in the order they were read, so the rows, and the example ids the summary keeps, are those one
process makes. A short window never starts the workers (`POOL_AFTER` evaluations are made in this process first).
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import signal
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from types import TracebackType
from typing import Any, Protocol

from ..domain import policy_whatif
from .pricing import evaluate

POOL_AFTER = 2_000  # evaluations made in this process before the workers start: starting them costs more below
_BATCH = 400  # decisions per message to a worker
_IN_FLIGHT = 8  # batches sent ahead of the rows handed back

_log = logging.getLogger(__name__)
Row = dict[str, Any]
Side = dict[str, Any]


def side_under(policy: dict[str, Any], version: str, queues: dict[str, str], inputs: dict[str, Any]) -> Side:
    """What the comparison keeps of stored inputs evaluated under `policy` (domain.policy_whatif.side)."""
    return policy_whatif.side(evaluate(policy, version, inputs), queues)


_DRAFT: dict[str, Any] = {}  # a worker's draft (policy, version, queues), set once when the worker starts


def _start_worker(policy: dict[str, Any], version: str, queues: dict[str, str]) -> None:
    # A forked worker must not run the handlers `revgov dev` installed to stop the product (they touch its server and
    # database): Ctrl-C is the reading process's to handle, and SIGTERM just ends the worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _DRAFT.update(policy=policy, version=version, queues=queues)


def _evaluate_batch(texts: list[str]) -> list[Side]:
    policy, version, queues = _DRAFT["policy"], _DRAFT["version"], _DRAFT["queues"]
    return [side_under(policy, version, queues, json.loads(text)) for text in texts]


class Replaying(Protocol):
    """What the evaluations need of the what-if that reads the decisions (services.policy_whatif._Replayer)."""

    draft_policy: dict[str, Any]
    draft_version: str
    draft_queues: dict[str, str]
    workers: int

    def remembered(self, inputs_text: str) -> Side | None: ...

    def remember(self, inputs_text: str, after: Side) -> None: ...

    def after_of(self, inputs_text: str) -> Side: ...


_Waiting = list[tuple[Row, str | None]]  # rows in read order, each with the inputs still to evaluate (None: ready)


class Evaluations:
    """The rows handed back in the order they were read, with their draft side: evaluated in this process (or
    remembered) up to `POOL_AFTER` evaluations, then in the worker processes, a batch at a time."""

    def __init__(self, replayer: Replaying) -> None:
        self.replayer = replayer
        self.made = 0
        self.pool: ProcessPoolExecutor | None = None
        self.waiting: _Waiting = []
        self.to_send = 0
        self.sent: deque[tuple[_Waiting, Future[list[Side]]]] = deque()

    def __enter__(self) -> Evaluations:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def ready(self, row: Row) -> Iterator[Row]:
        """A row whose draft side is known: handed back now, or after the rows read before it."""
        if self.pool is None:
            yield row
        else:
            self.waiting.append((row, None))

    def after(self, row: Row, inputs_text: str) -> Iterator[Row]:
        """A row whose draft side is the evaluation of `inputs_text` (a decision's stored inputs, as JSON text)."""
        known = self.replayer.remembered(inputs_text)
        if known is not None:
            row["after"] = known
            yield from self.ready(row)
            return
        if self.pool is None and self.made >= POOL_AFTER and self.replayer.workers > 1:
            self.pool = self._started()
        if self.pool is None:
            self.made += 1
            row["after"] = self.replayer.after_of(inputs_text)
            yield row
            return
        self.waiting.append((row, inputs_text))
        self.to_send += 1
        if self.to_send >= _BATCH:
            yield from self._send()

    def drained(self) -> Iterator[Row]:
        """The rows still waiting, in order, once every batch is back."""
        if self.waiting:
            yield from self._send(drain=True)
        while self.sent:
            yield from self._received()

    def _started(self) -> ProcessPoolExecutor | None:
        # fork: the workers start at once with the draft's pricing already compiled; they only evaluate (no store)
        replayer = self.replayer
        try:
            return ProcessPoolExecutor(replayer.workers, mp_context=multiprocessing.get_context("fork"),
                                       initializer=_start_worker,
                                       initargs=(replayer.draft_policy, replayer.draft_version, replayer.draft_queues))
        except (OSError, ValueError, NotImplementedError) as cannot:  # no process pool here: evaluate in this process
            _log.warning("what-if workers not started (%s): evaluating in this process", cannot)
            replayer.workers = 1
            return None

    def _send(self, *, drain: bool = False) -> Iterator[Row]:
        assert self.pool is not None  # only rows read once the pool started wait here
        texts = [text for _, text in self.waiting if text is not None]
        self.sent.append((self.waiting, self.pool.submit(_evaluate_batch, texts)))
        self.waiting, self.to_send = [], 0
        while len(self.sent) > (0 if drain else _IN_FLIGHT):
            yield from self._received()

    def _received(self) -> Iterator[Row]:
        rows, future = self.sent.popleft()
        sides = iter(future.result())
        for row, text in rows:
            if text is not None:
                row["after"] = next(sides)
                self.replayer.remember(text, row["after"])
            yield row
