"""Policies compiled for lookups, kept once per policy version (the version is the policy's content hash)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class PerVersion(Generic[T]):
    """A compiled form of a policy per version, computed on first use; past `size` versions the oldest is dropped."""

    def __init__(self, compile_policy: Callable[[Mapping[str, Any]], T], size: int = 64) -> None:
        self._compile = compile_policy
        self._size = size
        self._kept: dict[str, T] = {}

    def get(self, policy: Mapping[str, Any], version: str) -> T:
        found = self._kept.get(version)
        if found is None:
            if len(self._kept) >= self._size:
                self._kept.pop(next(iter(self._kept)))
            found = self._kept[version] = self._compile(policy)
        return found
