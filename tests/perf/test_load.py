"""A short run of the load test (the full one is `make bench` section `load`): mixed traffic, no error, no 5xx."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import run


def test_mixed_traffic_on_loopback_answers_without_errors(stack):
    figures = run(stack, requests=150, seconds=45, threads=4)
    assert figures["requests"] >= 50, figures
    assert figures["server_errors"] == 0, figures
    assert figures["errors"] == 0, [e for e in figures["endpoints"] if e["error_rate"]]
