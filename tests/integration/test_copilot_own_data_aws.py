"""The copilot's own-data answers on the AWS engine (DynamoDB, EventBridge and SQS on moto): every test of
tests/stack/test_copilot_own_data.py, run unchanged against the stack on DynamoDB.

PA-14.1: the copilot "answers questions about this Agreement, the Partner's own tier, entitlements, rebates and
invoices" and "only accesses data of the Partner asking". The answers are read from the partner's stored records
through the store port (the partner record, its entitlements, the accruals of the quarter, its invoices through its
own partner#period pointers and one batch read of them), so the DynamoDB adapter must answer what the embedded engine
answers: the same figures, the same records read, nothing of a rival. DESIGN.md, "Two engines behind the same ports".
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import pytest
from _pytest.fixtures import FixtureFunctionDefinition

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "stack"))

import test_copilot_own_data as own_data

pytestmark = [pytest.mark.aws]


def _adopt() -> list[str]:
    """Each test and fixture of the stack module becomes one of this module, run on the AWS engine here."""
    adopted = []
    for name, value in vars(own_data).items():
        if isinstance(value, FixtureFunctionDefinition):
            globals()[name] = value
        elif name.startswith("test_") and inspect.isfunction(value) and value.__module__ == own_data.__name__:
            globals()[name] = value
            adopted.append(name)
    return adopted


ADOPTED = _adopt()


def test_the_whole_stack_module_is_adopted_and_runs_on_dynamodb(stack) -> None:
    """A test added to the stack module runs here too; and the stack these run on is the AWS engine."""
    assert len(ADOPTED) >= 10 and all(name in globals() for name in ADOPTED)
    assert stack.runtime.settings.backend == "dynamodb"
