"""Policy drafts are edited with JSON Patch: RFC 6902's own examples (Appendix A), each quoted, on
revgov.domain.policy_change.apply_patch. RFC 6902 §5: "If a normative requirement is violated by a JSON Patch
document, or if an operation is not successful, evaluation of the JSON Patch document SHOULD terminate and
application of the entire patch document SHALL NOT be deemed successful." """

from __future__ import annotations

from typing import Any

import pytest

from revgov.domain.errors import RuleViolation
from revgov.domain.policy_change import apply_patch, apply_policy_patch

APPENDIX_A = [
    ("A.1 Adding an Object Member", {"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux"}],
     {"baz": "qux", "foo": "bar"}),
    ("A.2 Adding an Array Element", {"foo": ["bar", "baz"]}, [{"op": "add", "path": "/foo/1", "value": "qux"}],
     {"foo": ["bar", "qux", "baz"]}),
    ("A.3 Removing an Object Member", {"baz": "qux", "foo": "bar"}, [{"op": "remove", "path": "/baz"}],
     {"foo": "bar"}),
    ("A.4 Removing an Array Element", {"foo": ["bar", "qux", "baz"]}, [{"op": "remove", "path": "/foo/1"}],
     {"foo": ["bar", "baz"]}),
    ("A.5 Replacing a Value", {"baz": "qux", "foo": "bar"}, [{"op": "replace", "path": "/baz", "value": "boo"}],
     {"baz": "boo", "foo": "bar"}),
    ("A.6 Moving a Value", {"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
     [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
     {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}}),
    ("A.7 Moving an Array Element", {"foo": ["all", "grass", "cows", "eat"]},
     [{"op": "move", "from": "/foo/1", "path": "/foo/3"}], {"foo": ["all", "cows", "eat", "grass"]}),
    ("A.8 Testing a Value: Success", {"baz": "qux", "foo": ["a", 2, "c"]},
     [{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": 2}],
     {"baz": "qux", "foo": ["a", 2, "c"]}),
    ("A.10 Adding a Nested Member Object", {"foo": "bar"},
     [{"op": "add", "path": "/child", "value": {"grandchild": {}}}], {"foo": "bar", "child": {"grandchild": {}}}),
    ("A.14 ~ Escape Ordering", {"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": 10}],
     {"/": 9, "~1": 10}),
    ("A.16 Adding an Array Value", {"foo": ["bar"]}, [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}],
     {"foo": ["bar", ["abc", "def"]]}),
]
FAILING = [
    ("A.9 Testing a Value: Error", {"baz": "qux"}, [{"op": "test", "path": "/baz", "value": "bar"}]),
    ("A.12 Adding to a Nonexistent Target", {"foo": "bar"}, [{"op": "add", "path": "/baz/bat", "value": "qux"}]),
    ("A.15 Comparing Strings and Numbers", {"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": "10"}]),
    ("§4.2 remove: The target location MUST exist", {"foo": 1}, [{"op": "remove", "path": "/bar"}]),
    ("§4.3 replace: The target location MUST exist", {"foo": 1}, [{"op": "replace", "path": "/bar", "value": 2}]),
    ("§4.4 move: a location cannot be moved into one of its children", {"a": {"b": 1}},
     [{"op": "move", "from": "/a", "path": "/a/b/c"}]),
    ("§4.1 an index greater than the number of elements", {"foo": [1]}, [{"op": "add", "path": "/foo/3", "value": 2}]),
    ("§4 an unknown op", {"foo": 1}, [{"op": "merge", "path": "/foo", "value": 2}]),
]


@pytest.mark.parametrize(("name", "document", "patch", "expected"), APPENDIX_A, ids=[a[0] for a in APPENDIX_A])
def test_rfc6902_appendix_examples(name: str, document: dict[str, Any], patch: list[Any], expected: Any) -> None:
    before = repr(document)
    assert apply_patch(document, patch) == expected
    assert repr(document) == before  # the draft's document is never changed in place


@pytest.mark.parametrize(("name", "document", "patch"), FAILING, ids=[f[0] for f in FAILING])
def test_a_failing_operation_fails_the_whole_patch_naming_it(name: str, document: dict[str, Any],
                                                             patch: list[Any]) -> None:
    with pytest.raises(RuleViolation) as refused:
        apply_patch(document, [{"op": "add", "path": "/added", "value": 1}, *patch])
    assert refused.value.errors[0].path == "/operations/1"
    assert "added" not in document


def test_copies_cannot_blow_a_document_up():
    """A patch of 1,000 operations each copying the array into itself would double it 1,000 times."""
    document = {"tiers": [{"id": "T", "text": "x" * 1000}]}
    patch = [{"op": "copy", "from": "/tiers", "path": "/tiers/-"} for _ in range(1000)]
    with pytest.raises(RuleViolation, match="copies"):
        apply_patch(document, patch)


def test_a_policy_patch_written_with_the_diffs_policy_prefix_is_told_paths_are_relative_to_the_policy() -> None:
    # The draft's diff, validation and a contract write's policy_rules_to_review name rules by a pointer under
    # `/policy` ("path": "/policy/pricing/discount_caps"), while the patch applies to the policy document itself
    # (schemas/api/policy-draft-patch.schema.json: "paths relative to the policy, e.g. /pricing/margin_floor/percent").
    # Found as a new MSP: a path copied from the diff failed with "'policy' does not exist", saying nothing of why.
    # RFC 6902 §5 still holds: the operation fails and nothing changes; the message says which path was meant.
    policy = {"pricing": {"discount_caps": {"caps": {"gold": {"hardware": "12"}}}}}
    patch = [{"op": "replace", "path": "/policy/pricing/discount_caps/caps/gold/hardware", "value": "18"}]
    with pytest.raises(RuleViolation) as refused:
        apply_policy_patch(policy, patch)
    (error,) = refused.value.errors
    assert error.path == "/operations/0"
    assert "relative to the policy" in error.message
    assert "/pricing/discount_caps/caps/gold/hardware" in error.message.split("does not exist")[1]
    assert policy["pricing"]["discount_caps"]["caps"]["gold"]["hardware"] == "12"
    # written as the schema says, it applies
    fixed = [{**patch[0], "path": "/pricing/discount_caps/caps/gold/hardware"}]
    assert apply_policy_patch(policy, fixed)["pricing"]["discount_caps"]["caps"]["gold"]["hardware"] == "18"
