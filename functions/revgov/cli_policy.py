"""`revgov policy diff|propose|whatif|approve`: a policy kept in git (tenant.yaml) through the governed lifecycle.

Every command talks to the tenant API with a staff key (`--key` / REVGOV_KEY, or `--role` to pick a demo key from the
local stack's state file), so each step is the API's own: validated, four-eyes, audited. `diff` only reads.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from .cli_support import DEFAULT_STATE, FAILED, CliError
from .cli_tenants import OperatorApi
from .domain.policy_change import rule_diff


def _api(args: argparse.Namespace) -> Any:
    url, key = args.url or os.environ.get("REVGOV_URL"), args.key or os.environ.get("REVGOV_KEY")
    state = Path(args.state_file or DEFAULT_STATE)
    if (not url or not key) and state.exists():
        info = json.loads(state.read_text(encoding="utf-8"))
        url = url or info["base_url"]
        if not key and args.tenant and args.role:
            key = ((info.get("tenants") or {}).get(args.tenant) or {}).get("keys", {}).get(args.role)
    if not url or not key:
        raise CliError("give --url and --key (or REVGOV_URL / REVGOV_KEY), or --tenant and --role with a local stack")
    if not url.startswith(("http://", "https://")):
        raise CliError(f"--url must be an http(s) URL, not {url!r}")
    return OperatorApi(url, key)


def _call(api: Any, method: str, path: str, body: Any = None) -> Any:
    status, answer = api.call(method, path, body)
    if status >= 400:
        detail = answer.get("detail") if isinstance(answer, dict) else answer
        errors = answer.get("errors", []) if isinstance(answer, dict) else []
        fields = "; ".join(f"{e.get('path') or '/'}: {e.get('message')}" for e in errors[:20])
        raise CliError(f"{status} {detail}" + (f" ({fields})" if fields else ""), FAILED)
    return answer


def _policy_file(path: str) -> dict[str, Any]:
    """The `policy` of a tenant.yaml (or of a JSON file); the API validates it against schemas/ and the contracts."""
    import yaml

    try:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as bad:
        raise CliError(f"{path} is not YAML: {bad}") from bad
    policy = loaded.get("policy") if isinstance(loaded, dict) else None
    if not isinstance(policy, dict):
        raise CliError(f"{path} has no `policy` (a tenant.yaml)")
    return dict(json.loads(json.dumps(policy, default=str)))


def _print(answer: Any, as_json: bool) -> None:
    print(json.dumps(answer, indent=None if as_json else 1, default=str))


def _diff(args: argparse.Namespace) -> int:
    active = _call(_api(args), "GET", "/v1/policy")
    _print({"active_version": active["policy_version"], **rule_diff(active["policy"], _policy_file(args.file))},
           args.json)
    return 0


def _propose(args: argparse.Namespace) -> int:
    api = _api(args)
    draft = _call(api, "POST", "/v1/policy/drafts", {"reason": args.note or f"from {args.file}"})
    path = f"/v1/policy/drafts/{draft['draft_id']}"
    edited = _call(api, "PUT", f"{path}/policy", {"policy": _policy_file(args.file), "reason": f"from {args.file}"})
    body: dict[str, Any] = {"expected_revision": edited["revision"], "effective_at": args.effective_at}
    if args.note:
        body["note"] = args.note
    proposed = _call(api, "POST", f"{path}/propose", body)
    _print({k: proposed[k] for k in ("draft_id", "status", "policy_version", "required_roles", "proposal")}, args.json)
    return 0


def _whatif(args: argparse.Namespace) -> int:
    body = {"from": args.start, "to": args.end, "examples": args.examples}
    _print(_call(_api(args), "POST", f"/v1/policy/drafts/{args.draft_id}/whatif", body), args.json)
    return 0


def _approve(args: argparse.Namespace) -> int:
    body = {"note": args.note} if args.note else {}
    approved = _call(_api(args), "POST", f"/v1/policy/drafts/{args.draft_id}/approve", body)
    _print({k: approved[k] for k in ("draft_id", "status", "policy_version", "required_roles", "approvals")},
           args.json)
    return 0


def _connection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="the API's base URL (default: REVGOV_URL, or the local stack's)")
    parser.add_argument("--key", help="a staff API key of the tenant (default: REVGOV_KEY)")
    parser.add_argument("--tenant", help="with --role: take that demo key from the local stack's state file")
    parser.add_argument("--role", help="with --tenant: the role whose demo key to use (e.g. finance)")
    parser.add_argument("--state-file", help=f"the local stack's state file (default {DEFAULT_STATE})")
    parser.add_argument("--json", action="store_true", help="one line of JSON")


def register(commands: Any) -> None:
    policy = commands.add_parser("policy", help="change a tenant's policy: diff, propose, what-if, approve")
    sub = policy.add_subparsers(dest="policy_command", required=True)
    diff = sub.add_parser("diff", help="what a tenant.yaml changes against the policy in force, rule by rule")
    diff.add_argument("file", help="the tenant.yaml (its `policy`)")
    diff.set_defaults(run=_diff)
    propose = sub.add_parser("propose", help="propose a tenant.yaml's policy as a change (a draft, then proposed)")
    propose.add_argument("file", help="the tenant.yaml (its `policy`)")
    propose.add_argument("--effective-at", help="when it takes effect once approved (UTC, e.g. 2027-01-01T00:00:00Z);"
                                                " default: at once")
    propose.add_argument("--note", help="what the change is for")
    propose.set_defaults(run=_propose)
    whatif = sub.add_parser("whatif", help="replay stored quote decisions of a window under a draft")
    whatif.add_argument("draft_id")
    whatif.add_argument("--from", dest="start", required=True, help="first day (YYYY-MM-DD)")
    whatif.add_argument("--to", dest="end", required=True, help="last day (YYYY-MM-DD)")
    whatif.add_argument("--examples", type=int, default=5, help="example decision ids per change (default 5)")
    whatif.set_defaults(run=_whatif)
    approve = sub.add_parser("approve", help="approve a proposed change with your role's key")
    approve.add_argument("draft_id")
    approve.add_argument("--note")
    approve.set_defaults(run=_approve)
    for command in (diff, propose, whatif, approve):
        _connection(command)
