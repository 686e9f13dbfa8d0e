"""Today's features over HTTP on the AWS engine (DynamoDB, EventBridge and SQS on moto): every test of their stack
modules, run unchanged against the stack on DynamoDB. DESIGN.md, "Two engines behind the same ports": the product
must behave the same on either; their service tests run on both in test_engine_parity.py, these add the HTTP edge
(authentication, idempotency records, problem+json) on the AWS engine's store.

- tests/stack/test_copilot_own_data.py — PA-14.1: the copilot "answers questions about this Agreement, the Partner's
  own tier, entitlements, rebates and invoices" and "only accesses data of the Partner asking". The answers are read
  from the partner's stored records through the store port (the partner record, its entitlements, the quarter's
  accruals, its invoices through its own partner#period pointers and one batch read of them).
- tests/stack/test_gaps6_routes.py — PA-14.2 review requests (`rvw`), PA-2.8 ownership changes and manual legal holds
  (`lgh`): who may call each, on whose objects (a rival's is a 404), and bad input.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from types import ModuleType

import pytest
from _pytest.fixtures import FixtureFunctionDefinition

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "stack"))

import test_copilot_own_data
import test_gaps6_routes

pytestmark = [pytest.mark.aws]

STACK_MODULES = (test_copilot_own_data, test_gaps6_routes)


def _adopt(module: ModuleType) -> list[str]:
    """Each test and fixture of the stack module becomes one of this module, run on the AWS engine here."""
    adopted = []
    for name, value in vars(module).items():
        if isinstance(value, FixtureFunctionDefinition):
            assert globals().setdefault(name, value) is value, f"two stack modules define the fixture {name}"
        elif name.startswith("test_") and inspect.isfunction(value) and value.__module__ == module.__name__:
            assert name not in globals(), f"two stack modules define {name}"
            globals()[name] = value
            adopted.append(name)
    return adopted


ADOPTED = {module.__name__: _adopt(module) for module in STACK_MODULES}


def test_every_stack_module_is_adopted_whole_and_runs_on_dynamodb(stack) -> None:
    """A test added to one of the stack modules runs here too; and the stack these run on is the AWS engine."""
    for module in STACK_MODULES:
        own = {n for n, v in vars(module).items()
               if n.startswith("test_") and inspect.isfunction(v) and v.__module__ == module.__name__}
        assert own and own == set(ADOPTED[module.__name__]), module.__name__
    assert stack.runtime.settings.backend == "dynamodb"
