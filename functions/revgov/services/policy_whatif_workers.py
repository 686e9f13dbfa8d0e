"""What-if shares in worker processes: each worker reads its own shares of the stored decisions, evaluates them and
hands back only their tally.

A what-if over a long window is CPU work in the reading as much as in the evaluation (SQLite extracting a few
values of each stored decision, JSON decoding, Decimal arithmetic), so the window is cut in shares (one id prefix
each, services.policy_whatif) and, past the first `POOL_AFTER` evaluations, the remaining shares go to
`Settings.whatif_workers` processes. A worker is forked from the reading process with the what-if's state (the
draft, its compiled pricing, the store: the embedded engine's database opens connections of its own in a forked
child); it reads and evaluates a share and sends back its tally (domain.policy_whatif.Tally: a few counters and
sums, never the decisions). The tallies are merged in share order, so the figures and the example ids are those one
process makes. The embedded engine of the local product has the cores; a Lambda function keeps 1 (it has no
/dev/shm for a process pool). A short window never starts the workers.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import signal
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Protocol

from ..domain.policy_whatif import Tally

POOL_AFTER = 2_000  # evaluations made in the reading process before the workers start: starting them costs more below

_log = logging.getLogger(__name__)
Share = tuple[str, str, str]  # an id prefix and the window's first and last day


class Tallying(Protocol):
    """What the workers need of the what-if (services.policy_whatif._Replayer)."""

    workers: int
    examples: int
    evaluated: int

    def tally(self, prefix: str, start: str, end: str) -> Tally: ...


_WORKER: dict[str, Any] = {}  # a worker's what-if, set once when the worker starts


def _start_worker(replayer: Tallying) -> None:
    # A forked worker must not run the handlers `revgov dev` installed to stop the product (they touch its server and
    # database): Ctrl-C is the reading process's to handle, and SIGTERM just ends the worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _WORKER["replayer"] = replayer


def _tally_share(share: Share) -> Tally:
    replayer: Tallying = _WORKER["replayer"]
    return replayer.tally(*share)


def tallied(replayer: Tallying, shares: list[Share]) -> Tally:
    """Every share's tally merged in order: in this process until `POOL_AFTER` evaluations were made, then the rest
    in the worker processes (each reads its own shares)."""
    total = Tally(replayer.examples)
    remaining = list(shares)
    while remaining:
        if replayer.evaluated >= POOL_AFTER and replayer.workers > 1 and len(remaining) > 1:
            gc.freeze()  # the objects the workers inherit stay out of their collections: no copy-on-write of the heap
            try:
                pool = _started(replayer)
                if pool is not None:
                    try:
                        for share in pool.map(_tally_share, remaining):
                            total.merge(share)
                    finally:
                        pool.shutdown(wait=True, cancel_futures=True)
                    return total
            finally:
                gc.unfreeze()
        total.merge(replayer.tally(*remaining.pop(0)))
    return total


def _started(replayer: Tallying) -> ProcessPoolExecutor | None:
    # fork: the workers start at once with the what-if's state (the draft's pricing already compiled, the policies
    # read, the evaluations remembered so far); the worker is passed in memory, not pickled
    try:
        return ProcessPoolExecutor(replayer.workers, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_start_worker, initargs=(replayer,))
    except (OSError, ValueError, NotImplementedError) as cannot:  # no process pool here: evaluate in this process
        _log.warning("what-if workers not started (%s): evaluating in this process", cannot)
        replayer.workers = 1
        return None
