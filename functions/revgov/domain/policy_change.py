"""Policy changes as governed requests: JSON Patch edits, a rule-by-rule diff, and four-eyes approval. Pure.

A draft copies the active policy; it is edited (whole document, or RFC 6902 JSON Patch), proposed with an effective
time, approved by each role the ACTIVE policy names under `policy_changes` (never by whoever created, last changed or
proposed it: SOP-4.3 / COP-4.3) and only then activated. The draft never names its own approvers.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from .errors import Conflict, FieldError, Forbidden, RuleViolation

DRAFT, PROPOSED, APPROVED, ACTIVE, REJECTED, WITHDRAWN, SUPERSEDED = (
    "draft", "proposed", "approved", "active", "rejected", "withdrawn", "superseded")
SELF_APPROVAL, WRONG_ROLE, ALREADY_APPROVED, NOT_PROPOSED = (
    "self_approval", "wrong_role", "already_approved", "not_proposed")
DEFAULT_APPROVERS = ("finance", "legal")
COPY_BUDGET_CHARS = 512 * 1024  # what `copy` operations may add in all: a patch cannot double a document 1,000 times


# --- RFC 6902 JSON Patch over RFC 6901 pointers ---------------------------------------------------------------------
class PatchError(ValueError):
    pass


def _tokens(pointer: Any) -> list[str]:
    if not isinstance(pointer, str) or (pointer and not pointer.startswith("/")):
        raise PatchError(f"{pointer!r} is not a JSON pointer (RFC 6901: empty, or starting with /)")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


def _index(container: list[Any], token: str, *, adding: bool) -> int:
    if token == "-" and adding:
        return len(container)
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise PatchError(f"{token!r} is not an array index")
    index = int(token)
    if index > len(container) or (index == len(container) and not adding):
        raise PatchError(f"index {index} is beyond the array's end ({len(container)} items)")
    return index


def _walk(doc: Any, tokens: list[str], pointer: str) -> Any:
    """The value `tokens` lead to from `doc`; a token that leads nowhere fails `pointer` (RFC 6901 §4)."""
    node = doc
    for token in tokens:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, adding=False)]
        else:
            raise PatchError(f"{pointer}: {token!r} does not exist")
    return node


def _parent(doc: Any, tokens: list[str], pointer: str) -> Any:
    return _walk(doc, tokens[:-1], pointer)


def _get(doc: Any, pointer: str) -> Any:
    return _walk(doc, _tokens(pointer), pointer)


def _remove(doc: Any, pointer: str) -> tuple[Any, Any]:
    tokens = _tokens(pointer)
    if not tokens:
        raise PatchError("the whole document cannot be removed")
    parent = _parent(doc, tokens, pointer)
    if isinstance(parent, dict):
        if tokens[-1] not in parent:
            raise PatchError(f"{pointer} does not exist")
        return doc, parent.pop(tokens[-1])
    if isinstance(parent, list):
        return doc, parent.pop(_index(parent, tokens[-1], adding=False))
    raise PatchError(f"{pointer}: the parent is not an object or array")


def _add(doc: Any, pointer: str, value: Any, *, replace: bool = False) -> Any:
    tokens = _tokens(pointer)
    if not tokens:
        return copy.deepcopy(value)
    parent = _parent(doc, tokens, pointer)
    if isinstance(parent, dict):
        if replace and tokens[-1] not in parent:
            raise PatchError(f"{pointer} does not exist (replace needs an existing value)")
        parent[tokens[-1]] = copy.deepcopy(value)
    elif isinstance(parent, list):
        index = _index(parent, tokens[-1], adding=not replace)
        if replace:
            parent[index] = copy.deepcopy(value)
        else:
            parent.insert(index, copy.deepcopy(value))
    else:
        raise PatchError(f"{pointer}: the parent is not an object or array")
    return doc


def apply_patch(document: dict[str, Any], operations: list[Any]) -> dict[str, Any]:
    """RFC 6902: the operations applied in order to a copy; any failing operation (a `test` included) fails the
    whole patch (§5), named by its index, and the document is left as it was."""
    doc: Any = copy.deepcopy(document)
    copied = 0
    for n, op in enumerate(operations):
        try:
            if not isinstance(op, dict) or "op" not in op or "path" not in op:
                raise PatchError("an operation is an object with `op` and `path`")
            kind, path = op["op"], op["path"]
            if kind in ("add", "replace", "test") and "value" not in op:
                raise PatchError(f"{kind} needs a `value`")
            if kind in ("move", "copy") and "from" not in op:
                raise PatchError(f"{kind} needs a `from`")
            if kind == "add":
                doc = _add(doc, path, op["value"])
            elif kind == "remove":
                doc, _ = _remove(doc, path)
            elif kind == "replace":
                doc = _add(doc, path, op["value"], replace=True)
            elif kind == "move":
                if path != op["from"] and path.startswith(op["from"] + "/"):
                    raise PatchError("a value cannot be moved into one of its own children")
                doc, value = _remove(doc, op["from"])
                doc = _add(doc, path, value)
            elif kind == "copy":
                value = _get(doc, op["from"])
                copied += len(json.dumps(value, default=str))
                if copied > COPY_BUDGET_CHARS:
                    raise PatchError(f"the copies of this patch add more than {COPY_BUDGET_CHARS} characters")
                doc = _add(doc, path, value)
            elif kind == "test":
                if not _same(_get(doc, path), op["value"]):
                    raise PatchError(f"test failed: {path} is not the value given")
            else:
                raise PatchError(f"op {kind!r} is not one of add, remove, replace, move, copy, test")
        except PatchError as why:
            raise RuleViolation(f"the patch cannot be applied: operation {n} ({why})",
                                errors=[FieldError(f"/operations/{n}", str(why))]) from why
    if not isinstance(doc, dict):
        raise RuleViolation("the patched policy is not an object", errors=[FieldError("/operations", "not an object")])
    return dict(doc)


def apply_policy_patch(policy: dict[str, Any], operations: list[Any]) -> dict[str, Any]:
    """`apply_patch` on a draft's policy document. The diff, the validation and a contract write's
    `policy_rules_to_review` name rules by pointers under `/policy`; an operation that fails on such a pointer (the
    policy has no `policy` member) is told the pointer it meant, relative to the policy."""
    try:
        return apply_patch(policy, operations)
    except RuleViolation as refused:
        n = int(refused.errors[0].path.rsplit("/", 1)[1]) if refused.errors else -1
        op = operations[n] if 0 <= n < len(operations) else None
        prefixed = [
            op[k] for k in ("path", "from")
            if isinstance(op, dict) and isinstance(op.get(k), str) and op[k].startswith("/policy/")
        ]
        if not prefixed or "policy" in policy:
            raise
        meant = ", ".join(p.removeprefix("/policy") for p in prefixed)
        hint = (f"{refused.errors[0].message}; paths are relative to the policy document, not under /policy as the "
                f"diff names rules: {meant}")
        raise RuleViolation(f"the patch cannot be applied: operation {n} ({hint})",
                            errors=[FieldError(f"/operations/{n}", hint)]) from refused


def _same(a: Any, b: Any) -> bool:
    """RFC 6902 §4.6 equality: same type and value, objects regardless of key order (1 and true are not equal)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if _number(a) and _number(b):
        return bool(a == b)
    return type(a) is type(b) and bool(a == b)


def _number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


# --- rule-by-rule diff ----------------------------------------------------------------------------------------------
def _escape(token: Any) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def _leaves(node: Any, path: str, owner: tuple[str, str] | None) -> Iterator[tuple[tuple[str, str] | None, str, Any]]:
    """(owning rule (id, its path), path relative to that rule or absolute, value) for every leaf of the policy; a leaf
    belongs to the innermost object with an `id` and a `clause` around it."""
    if isinstance(node, dict):
        if isinstance(node.get("id"), str) and isinstance(node.get("clause"), str):
            owner, path = (node["id"], path), ""
        if not node:
            yield owner, path, {}
        for key, value in node.items():
            yield from _leaves(value, f"{path}/{_escape(key)}", owner)
    elif isinstance(node, list):
        if not node:
            yield owner, path, []
        for index, value in enumerate(node):  # a rule in an array is compared by its id, wherever it sits
            yield from _leaves(value, f"{path}/{index}", owner)
    else:
        yield owner, path, node


def _by_owner(policy: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], dict[str, str], dict[str, str]]:
    rules: dict[str, dict[str, Any]] = {}
    where: dict[str, str] = {}
    other: dict[str, Any] = {}
    for owner, path, value in _leaves(policy, "/policy", None):
        if owner is None:
            other[path] = value
        else:
            rules.setdefault(owner[0], {})[path] = value
            where[owner[0]] = owner[1]
    return rules, where, other


def _changes(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"path": p, "from": before.get(p), "to": after.get(p)}
            for p in sorted(before.keys() | after.keys()) if p not in before or p not in after or
            not _same(before[p], after[p])]


def rule_diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What a draft changes, rule by rule (by rule id, wherever the rule sits): rules added, removed and changed (each
    changed field with its old and new value, and the clause the rule cites before and after), and changes to
    settings that belong to no rule."""
    rules_a, where_a, other_a = _by_owner(before)
    rules_b, where_b, other_b = _by_owner(after)

    def clause(rules: dict[str, dict[str, Any]], rule_id: str) -> Any:
        return rules[rule_id].get("/clause")

    changed = []
    for rule_id in sorted(rules_a.keys() & rules_b.keys()):
        fields = _changes(rules_a[rule_id], rules_b[rule_id])
        moved = where_a[rule_id] != where_b[rule_id]
        if fields or moved:
            changed.append({"rule_id": rule_id, "clause": clause(rules_b, rule_id), "path": where_b[rule_id],
                            **({"moved_from": where_a[rule_id]} if moved else {}), "changes": fields})
    return {
        "added": [{"rule_id": r, "clause": clause(rules_b, r), "path": where_b[r]}
                  for r in sorted(rules_b.keys() - rules_a.keys())],
        "removed": [{"rule_id": r, "clause": clause(rules_a, r), "path": where_a[r]}
                    for r in sorted(rules_a.keys() - rules_b.keys())],
        "changed": changed,
        "other": _changes(other_a, other_b),
    }


# --- four eyes -----------------------------------------------------------------------------------------------------
def change_rule(policy: dict[str, Any]) -> dict[str, Any]:
    """Who approves a change to this policy: the policy's `policy_changes` rule, or else finance and legal under the
    segregation-of-duties rule (a policy governs money and contract terms: both owners sign)."""
    declared = policy.get("policy_changes")
    if declared:
        return dict(declared)
    segregation = (policy.get("exception_routing") or {}).get("segregation_of_duties") or {}
    return {"id": segregation.get("id", "POLICY-CHANGE-APPROVAL"), "clause": segregation.get("clause"),
            "approver_roles": list(DEFAULT_APPROVERS)}


def effective_problem(
    policy: dict[str, Any], effective_at: str | None, moment: datetime | None
) -> RuleViolation | None:
    """SOP-7.3: "Changes to the tenant policy ... take effect only on the first day of a Billing Month" (COP-7.2:
    "take effect on the first day of a Billing Month"); a day runs from 00:00:00 UTC (PA-1.3 / CPA-1.3), so a change
    given a time takes effect at 00:00:00 UTC on day 1 of a month. The policy's `policy_changes.takes_effect` names
    the rule; without it any time is accepted. None: `effective_at` is fine."""
    rule = (policy.get("policy_changes") or {}).get("takes_effect")
    if rule is None or effective_at is None or moment is None:
        return None
    if (moment.day, moment.hour, moment.minute, moment.second, moment.microsecond) == (1, 0, 0, 0, 0):
        return None
    return RuleViolation(
        f"a policy change takes effect only on the first day of a Billing Month ({rule['clause']}): "
        f"effective_at {effective_at} is not 00:00:00 UTC on day 1 of a month",
        errors=[FieldError("/effective_at", "00:00:00Z on the first day of a month")],
        extra={"rule_id": rule["id"], "clause": rule["clause"]},
    )


def notice_problem(in_force: dict[str, Any], draft: dict[str, Any], effective_at: datetime | None,
                   given_at: datetime, *, at: str = "proposed") -> RuleViolation | None:
    """PA-10.5: rate tables "may be changed with 30 days' notice"; CPA-10.4: "Rate changes take effect on the first
    day of a Billing Month after 30 days' notice"; PA-4.1: "The Distributor may add certifications to the catalogue
    with 60 days' notice". The policy in force's `policy_changes.notice` (one rule or a list) names what each notice
    covers (`paths`; `changes: additions`: only items added to the list there) and how long it is (`days`): a draft
    changing any of them takes effect no sooner than `days` after `given_at` (when proposed: now; when taking
    effect: the last approval, when the change was decided). A change at once (no `effective_at`) gives no notice.
    None: nothing covered changes, or every notice is long enough; else the refusal of the longest notice missed."""
    node = (in_force.get("policy_changes") or {}).get("notice")
    rules = node if isinstance(node, list) else [node] if node else []
    missed = [found for rule in rules if (found := _one_notice(rule, in_force, draft, effective_at, given_at, at))]
    return max(missed, key=lambda found: int(found.extra["notice_days"])) if missed else None


def _one_notice(rule: dict[str, Any], in_force: dict[str, Any], draft: dict[str, Any], effective_at: datetime | None,
                given_at: datetime, at: str) -> RuleViolation | None:
    additions = rule.get("changes") == "additions"
    changed = [path for path in rule["paths"]
               if (_added(_pointed(in_force, path), _pointed(draft, path)) if additions
                   else not _same(_pointed(in_force, path), _pointed(draft, path)))]  # fmt: skip
    if not changed:
        return None
    days = int(rule["days"])
    if effective_at is not None and (effective_at - given_at).total_seconds() >= days * 86400:
        return None
    earliest = (given_at + timedelta(days=days)).isoformat(timespec="seconds").replace("+00:00", "Z")
    when = "at once" if effective_at is None else effective_at.isoformat(timespec="seconds").replace("+00:00", "Z")
    return RuleViolation(
        f"a change to {', '.join(changed)} takes effect only after {days} days' notice ({rule['id']}, "
        f"{rule['clause']}): {at} at {given_at.isoformat(timespec='seconds').replace('+00:00', 'Z')}, it cannot "
        f"take effect {when}; the earliest is {earliest} (and then the first day of a Billing Month)",
        errors=[FieldError("/effective_at", f"less than {days} days' notice ({rule['clause']})")],
        extra={"rule_id": rule["id"], "clause": rule["clause"], "notice_days": days, "changed": changed},
    )


def _added(before: Any, after: Any) -> bool:
    """Whether the list `after` holds an item (by its `id`) the list `before` does not: an addition (PA-4.1)."""
    known = {item.get("id") for item in before or [] if isinstance(item, dict)}
    return any(isinstance(item, dict) and item.get("id") not in known for item in after or [])


def _pointed(document: dict[str, Any], pointer: str) -> Any:
    """The value at `pointer`, or None where there is none (a part added or removed is a change)."""
    try:
        return _get(document, pointer)
    except PatchError:
        return None


def _citing(rule: dict[str, Any]) -> str:
    """The rule's clause in brackets, to end a refusal (e.g. " (SOP-4.3)"); nothing where the policy names none."""
    return f" ({rule['clause']})" if rule.get("clause") else ""


def refuse_approval(
    draft: dict[str, Any], role: str, key_id: str, *, approving: bool = True, holders: frozenset[str] = frozenset()
) -> None:
    """Raise if `key_id` acting as `role` may not approve (or reject) `draft`; `extra.refusal` names the refused
    action and the rule and clause refusing it, so the attempt can be recorded."""
    declared = draft.get("approval_rule") or {}  # set when proposed
    rule = {"rule_id": declared.get("id"), "clause": declared.get("clause")}
    if draft["status"] != PROPOSED:
        raise Conflict(f"policy draft {draft['draft_id']} is {draft['status']}; only a proposed draft is approved",
                       extra={"current_status": draft["status"], "refusal": NOT_PROPOSED, **rule})
    if role not in draft["required_roles"]:
        raise Forbidden(f"this policy change is approved by {', '.join(draft['required_roles'])}; not by {role}",
                        extra={"refusal": WRONG_ROLE, **rule})
    # `holders`: the keys whose holder also holds `key_id` (keys minted for the purpose: services/key_lineage.py)
    mine = {key_id, *holders}
    if mine & set(draft["hands"]):
        raise Forbidden(f"segregation of duties: whoever created, changed or proposed a policy change may not "
                        f"approve it{_citing(rule)}", extra={"refusal": SELF_APPROVAL, **rule})
    given = {a["role"]: a for a in draft["approvals"]}
    if not approving:
        return
    approved_by = {a["key_id"] for a in draft["approvals"]} | set(draft.get("approved_hands") or ())
    if role in given or mine & approved_by:
        raise Conflict(f"the {role} approval of policy draft {draft['draft_id']} is already given"
                       if role in given else "one person gives one approval: two approvals need two "
                       f"people{_citing(rule)}", extra={"refusal": ALREADY_APPROVED, **rule})
