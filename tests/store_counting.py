"""Store reads counted, for tests of per-request work: what a use case reads must grow with the records it is about,
not with the tenant (the team's standard: a test that counts store calls, not a timing test)."""

from __future__ import annotations

from collections import Counter
from typing import Any


class Counting:
    """The store with each read counted: calls per method, documents handed back, index partitions looked up."""

    def __init__(self, store: Any) -> None:
        self.store, self.calls, self.documents, self.partitions = store, Counter(), 0, []

    def __enter__(self) -> Counting:
        for name in ("get", "get_many", "query", "lookup"):
            setattr(self.store, name, self._counted(name, getattr(self.store, name)))
        return self

    def __exit__(self, *exc: object) -> None:
        for name in ("get", "get_many", "query", "lookup"):
            delattr(self.store, name)

    def _counted(self, name: str, read: Any) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            if name == "lookup":
                self.partitions.append(args[1])
            found = read(*args, **kwargs)
            self.documents += len(found.items) if name in ("query", "lookup") else len(found) if isinstance(
                found, dict) else int(found is not None)  # fmt: skip
            return found

        return counted
