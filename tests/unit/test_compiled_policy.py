"""`domain.compiled.PerVersion`: a policy compiled once per policy version (the version is its content hash), so a
quote check costs lookups, not a compile (domain/pricing.py: "The policy is compiled once per version")."""

from __future__ import annotations

from revgov.domain.compiled import PerVersion


def test_a_version_is_compiled_once_and_the_oldest_is_dropped_past_the_size():
    compiled: list[str] = []

    def compile_policy(policy):
        compiled.append(policy["name"])
        return policy["name"].upper()

    cache = PerVersion(compile_policy, size=2)
    assert cache.get({"name": "a"}, "v1") == "A"
    assert cache.get({"name": "ignored: same version"}, "v1") == "A"
    assert cache.get({"name": "b"}, "v2") == "B"
    assert compiled == ["a", "b"]
    cache.get({"name": "c"}, "v3")  # a third version: v1, the oldest, is dropped
    assert cache.get({"name": "a again"}, "v1") == "A AGAIN"
    assert compiled == ["a", "b", "c", "a again"]
