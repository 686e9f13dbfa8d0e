"""A tenant for the fault suites (northwind's policy, keys for every role, two active partners) and the injector."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from fault_support import Faults, installed
from security_support import Party, make_party, offboard


@pytest.fixture(scope="module")
def faults() -> Iterator[Faults]:
    with installed() as active:
        yield active


@pytest.fixture(scope="module")
def party(api: Any, operator: Any, stack: Any, faults: Faults) -> Iterator[Party]:
    made = make_party(api, operator, stack, "northwind")
    yield made
    offboard(operator, made)
