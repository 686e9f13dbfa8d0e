"""`revgov tenants …`: provision, offboard and re-import tenants; what an MSP runs against local or deployed Revgov.

Provision and offboard go through the operator API (a local stack's or a deployed one's); import writes the export
back through the document store, so it needs the store itself (the operator's AWS credentials, or the local SQLite file
named by `revgov dev`'s state file).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from .cli_support import UNREACHABLE, CliError, print_secret, use_product, working
from .domain.access import PLATFORM, Principal, Role
from .domain.audit import verify_export as verify_chain_export
from .domain.errors import RevgovError
from .tenant_files import load_tenant_file

_DEFAULT_STATE = ".revgov/local.json"


class OperatorApi:
    """The operator endpoints over HTTP; errors come back as the API's problem+json."""

    def __init__(self, base_url: str, key: str) -> None:
        self.base_url, self.key = base_url.rstrip("/"), key

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
        request = urllib.request.Request(self.base_url + path, data=data, headers=headers, method=method)  # noqa: S310

        try:
            with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 - an operator-given URL
                return response.status, _json(response.read())
        except urllib.error.HTTPError as error:
            return error.code, _json(error.read())
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise CliError(f"cannot reach {self.base_url}: {reason}", UNREACHABLE) from error


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return {"detail": raw[:200].decode("utf-8", "replace")}


def _operator(args: argparse.Namespace) -> OperatorApi:
    url, key = args.url or os.environ.get("REVGOV_URL"), args.operator_key or os.environ.get("REVGOV_OPERATOR_KEY")
    state = Path(args.state_file)
    if (not url or not key) and state.exists():
        info = json.loads(state.read_text(encoding="utf-8"))
        url, key = url or info["base_url"], key or info["operator_key"]
    if not url or not key:
        raise CliError("give --url and --operator-key (or REVGOV_URL / REVGOV_OPERATOR_KEY, or a local state file)")
    if not url.startswith(("http://", "https://")):
        raise CliError(f"--url must be an http(s) URL, not {url!r}")
    return OperatorApi(url, key)


def _fail(console: Any, status: int, problem: Any) -> int:
    """The API's refusal as one line on stderr: the status, the detail and the fields it names."""
    detail = problem.get("detail") if isinstance(problem, dict) else problem
    errors = (problem or {}).get("errors", []) if isinstance(problem, dict) else []
    fields = "; ".join(f"{error.get('path') or '/'}: {error.get('message')}" for error in errors)
    print(f"revgov: error: {status} {detail}" + (f" ({fields})" if fields else ""), file=sys.stderr)
    return 1


def provision(args: argparse.Namespace) -> int:
    from rich.console import Console

    console = Console()
    try:
        config = load_tenant_file(Path(args.path))
    except (RevgovError, OSError) as refused:
        detail = refused.detail if isinstance(refused, RevgovError) else str(refused)
        errors = [e.as_dict() for e in refused.errors] if isinstance(refused, RevgovError) else []
        _fail(console, 400, {"detail": detail, "errors": errors})
        return 2
    api = _operator(args)
    with console.status(f"Provisioning {config['tenant_id']} at {api.base_url}…"):
        status, body = api.call("POST", "/v1/tenants", config)
    if status != 201:
        return _fail(console, status, body)
    tenant = body["tenant"]
    console.print(f"Tenant {tenant['tenant_id']} provisioned ({tenant['tier']}, policy {tenant['policy_version']})")
    print_secret("admin key", body["admin_key"]["key"])
    print_secret("webhook secret", body["webhook_secret"])
    if tenant["tier"] == "silo":
        console.print(
            f"Silo tenant: in AWS it is served by its own stack, deployed with\n  cd stacks && cdk deploy "
            f"Revgov-{args.stage}-Tenant-{tenant['tenant_id']} -c stage={args.stage}\nand provisioned through that "
            "stack's API (the control plane refuses a silo tenant; stacks/README.md, step 6)"
        )
    return 0


def offboard(args: argparse.Namespace) -> int:
    from rich.console import Console

    console = Console()
    api = _operator(args)
    out = Path(args.out or f"{args.tenant_id}-export.jsonl")
    with console.status(f"Exporting and deleting {args.tenant_id}…"):
        status, body = api.call("DELETE", f"/v1/tenants/{args.tenant_id}")
    if status != 200:
        return _fail(console, status, body)
    out.write_text("".join(json.dumps(item, sort_keys=True) + "\n" for item in body["export"]), encoding="utf-8")
    out.chmod(0o600)
    console.print(
        f"exported {body['exported_items']} items to [bold]{out}[/bold]; deleted {body['deleted_items']}; "
        f"remaining [bold]{body['remaining_items']}[/bold]"
    )
    return 0 if body["remaining_items"] == 0 else 1


def _export_items(path: str) -> list[dict[str, Any]]:
    """The items of an offboarding export (`revgov tenants offboard`: one JSON object per line)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CliError(f"{path} cannot be read: {exc.strerror}") from exc
    try:
        items = [json.loads(line) for line in lines if line.strip()]
    except ValueError as exc:
        raise CliError(f"{path} is not an offboarding export (JSON lines): {exc}") from exc
    if not items or not all(isinstance(item, dict) for item in items):
        raise CliError(f"{path} is not an offboarding export (JSON lines of items)")
    return items


def verify_export(args: argparse.Namespace) -> int:
    """Walk an export's audit chain offline (no product, no store): the verdict `GET /v1/audit/verify` gives."""
    from rich.console import Console

    receipt = None
    if args.receipt is not None:
        seq, _, digest = args.receipt.partition(":")
        if not seq.isdigit() or int(seq) < 1 or len(digest) != 64:
            raise CliError(f"--receipt takes SEQ:HASH (a record's seq and its 64-hex hash), not {args.receipt!r}")
        receipt = (int(seq), digest.lower())
    tenant_id, verdict = verify_chain_export(_export_items(args.path), receipt=receipt)
    answer = {"tenant_id": tenant_id, **verdict.as_dict()}
    if args.json:
        print(json.dumps(answer, sort_keys=True))
    else:
        first = verdict.first_invalid or {}
        state = "valid" if verdict.valid else f"BROKEN at seq {first.get('seq')}: {first.get('reason')}"
        Console().print(f"audit chain of [bold]{tenant_id or 'no tenant'}[/bold] in {args.path}: "
                        f"{verdict.records} records, {state}")
    return 0 if verdict.valid else 1


def restore(args: argparse.Namespace) -> int:
    from rich.console import Console

    console = Console()
    items = _export_items(args.path)
    rt = _direct_store(args)
    from .services.tenants import import_tenant

    actor = Principal(PLATFORM, Role.OPERATOR, "cli")
    with working(f"Importing {len(items)} items…"):  # a spinner on a terminal's stderr, never on stdout
        result = import_tenant(rt, actor, items)
    chain = result["audit_chain"]
    console.print(
        f"imported {result['imported_items']} items into [bold]{result['tenant_id']}[/bold]; audit chain "
        f"{'valid' if chain['valid'] else 'BROKEN at ' + str(chain['first_invalid'])} "
        f"({chain['records']} records)"
    )
    print_secret("new webhook secret", result["webhook_secret"])
    return 0 if chain["valid"] else 1


def _direct_store(args: argparse.Namespace) -> Any:
    """The runtime on the table itself: an explicit --state-file's local stack; else the table the environment names
    (REVGOV_TABLE / AWS_ENDPOINT_URL: never the local emulator behind the operator's back); else the local stack."""
    use_product(args.state_file)
    from .bootstrap import runtime

    return runtime()


def operator_key(args: argparse.Namespace) -> int:
    """Bootstrap: mint an operator key straight into the table (there is no operator yet to ask the API)."""
    from .services.keys import mint_operator_key

    key = mint_operator_key(_direct_store(args), args.label)
    print_secret("operator key", key)
    return 0


def register(commands: Any) -> None:
    tenants = commands.add_parser("tenants", help="MSP operations: provision, offboard, import, verify an export")
    sub = tenants.add_subparsers(dest="tenants_command", required=True)

    def operator_options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--url", help="the API's base URL (default: REVGOV_URL or the local stack's)")
        parser.add_argument("--operator-key", help="an operator key (default: REVGOV_OPERATOR_KEY or the local one)")
        parser.add_argument("--state-file", default=_DEFAULT_STATE, help="the local stack's state file")

    p = sub.add_parser("provision", help="validate tenants/<id>/tenant.yaml and register it; prints its keys once")
    p.add_argument("path", help="the tenant.yaml")
    p.add_argument("--stage", default="dev", help="the stage, for the silo deploy command (default dev)")
    operator_options(p)
    p.set_defaults(run=provision)
    o = sub.add_parser("offboard", help="export every item as JSON lines, delete them all, prove nothing is left")
    o.add_argument("tenant_id")
    o.add_argument("--out", help="the export file (default <tenant>-export.jsonl)")
    operator_options(o)
    o.set_defaults(run=offboard)
    i = sub.add_parser("import", help="restore an offboarding export (needs the table's credentials)")
    i.add_argument("path", help="the .jsonl export")
    i.add_argument("--state-file", help="reach the local stack (default .revgov/local.json unless REVGOV_TABLE is set)")
    i.set_defaults(run=restore)
    v = sub.add_parser("verify-export", help="verify an offboarding export's audit chain offline (exit 1: broken)")
    v.add_argument("path", help="the .jsonl export")
    v.add_argument("--json", action="store_true", help="one line of JSON: tenant_id, records, valid, first_invalid")
    v.add_argument("--receipt", metavar="SEQ:HASH",
                   help="a record's seq and hash kept outside (read from GET /v1/audit before): it must still hold")
    v.set_defaults(run=verify_export)
    k = sub.add_parser("operator-key", help="bootstrap: mint an operator key directly in the table (shown once)")
    k.add_argument("--label", default="operator", help="what the key is for")
    k.add_argument("--state-file", help="reach the local stack (default .revgov/local.json unless REVGOV_TABLE is set)")
    k.set_defaults(run=operator_key)
