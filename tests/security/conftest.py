"""Two tenants for the security suites: the victim (contoso's configuration) holds a real object of every kind;
the attacker (northwind's) holds its own and tries the victim's with every key it has."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from security_support import Party, make_party, offboard, populate


@pytest.fixture(scope="session")
def victim(api: Any, operator: Any, stack: Any) -> Iterator[Party]:
    party = make_party(api, operator, stack, "contoso")
    missing = populate(party, api)
    assert not missing, f"could not make every kind of object in the victim tenant: {missing}"
    yield party
    offboard(operator, party)


@pytest.fixture(scope="session")
def attacker(api: Any, operator: Any, stack: Any) -> Iterator[Party]:
    party = make_party(api, operator, stack, "northwind")
    populate(party, api)
    yield party
    offboard(operator, party)
