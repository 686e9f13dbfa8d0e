"""A policy compiled once per policy version: a small bounded cache keyed by the version (the policy's content hash).

Pure and process-local: a Lambda keeps it warm across invocations; the oldest version is dropped first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class ByVersion(Generic[T]):
    """What a policy compiles to, kept for at most `size` policy versions."""

    def __init__(self, size: int = 64) -> None:
        self._items: dict[str, T] = {}
        self._size = size

    def get(self, version: str, build: Callable[[], T]) -> T:
        """The compiled value of `version`, built (and kept) the first time it is asked for."""
        found = self._items.get(version)
        if found is None:
            if len(self._items) >= self._size:
                self._items.pop(next(iter(self._items)))
            found = self._items[version] = build()
        return found
