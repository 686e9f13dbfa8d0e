"""Reads `tenants/<id>/tenant.yaml` files: parsed, validated against the tenant schema, or a clear error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import schemas
from .domain.contracts import parse_contract
from .domain.errors import MalformedRequest, RuleViolation
from .domain.policy import policy_problems


def load_tenant_file(path: Path) -> dict[str, Any]:
    import yaml

    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise MalformedRequest(f"{path} is not valid YAML: {exc}") from exc
    schemas.validate("tenant.schema.json", config, what=str(path))
    if path.parent.name != config["tenant_id"]:
        raise MalformedRequest(f"{path}: tenant_id {config['tenant_id']!r} must match its folder {path.parent.name!r}")
    files = sorted((path.parent / "contracts").glob("*.md"))
    texts = [(doc.name, doc.read_text(encoding="utf-8")) for doc in files]
    contracts = [parse_contract(markdown, name=str(doc)) for doc, (_, markdown) in zip(files, texts, strict=True)]
    wording = {c.clause_id: c.text for contract in contracts for c in contract.clauses}
    problems = policy_problems(config["policy"], set(wording), wording)
    if problems:
        raise RuleViolation(f"{path}: the policy is inconsistent", errors=problems)
    # provisioning through the API carries the contracts with the config (POST /v1/tenants `contracts`)
    return {**config, "contracts": [{"name": name, "markdown": markdown} for name, markdown in texts]} if texts \
        else dict(config)


def tenant_files(tenants_dir: Path) -> list[Path]:
    return sorted(tenants_dir.glob("*/tenant.yaml"))
