"""A policy is compiled once per policy version, and at most `size` versions are kept (oldest dropped first)."""

from __future__ import annotations

from revgov.domain.compiled import ByVersion


def test_a_version_is_built_once_and_the_oldest_is_dropped_beyond_the_size():
    built: list[str] = []
    cache: ByVersion[str] = ByVersion(2)

    def build(version: str) -> str:
        built.append(version)
        return version.upper()

    got = [cache.get(v, lambda v=v: build(v)) for v in ("a", "a", "b", "c", "b", "a")]
    assert got == ["A", "A", "B", "C", "B", "A"]
    assert built == ["a", "b", "c", "a"]  # "a" dropped when "c" came in; "b" kept
