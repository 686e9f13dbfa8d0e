"""Settings, read once from the environment at start-up into one typed object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]
# The copilot's refusal rate on its evaluation set (tests/copilot/questions.json; README, `make bench` copilot: all 24
# unanswerable and 4 of the 75 answerable questions refused = 28 / 99): what its live refusal rate drifts from.
COPILOT_REFUSAL_BASELINE = 0.28


@dataclass(frozen=True)
class CopilotSettings:
    """Which clause index, embedder and answerer the copilot uses, and where they live."""

    index: str  # local (SQLite FTS5 + vectors) | opensearch
    index_path: Path
    embedder: str  # minilm (offline ONNX) | bedrock (Titan)
    embedding_cache: Path | None
    answerer: str  # local (quotes) | bedrock (Converse)
    opensearch_endpoint: str | None
    opensearch_service: str
    embedding_model: str
    answer_model: str
    # One search role per tenant (`{tenant_id}` in the ARN): when set, each tenant's OpenSearch requests are signed with
    # an STS session of its own role. Unset: the process's own credentials (the local stage, the CLI).
    search_role_arn_template: str | None = None

    @classmethod
    def from_env(cls, e: Mapping[str, str]) -> CopilotSettings:
        cache = e.get("REVGOV_EMBEDDING_CACHE", str(_REPO / ".revgov" / "embeddings.sqlite"))
        return cls(
            index=e.get("REVGOV_COPILOT_INDEX", "local"),
            index_path=Path(e.get("REVGOV_COPILOT_INDEX_PATH", _REPO / ".revgov" / "copilot-index.sqlite")),
            embedder=e.get("REVGOV_EMBEDDER", "minilm"),
            embedding_cache=Path(cache) if cache else None,
            answerer=e.get("REVGOV_ANSWERER", "local"),
            opensearch_endpoint=e.get("REVGOV_OPENSEARCH_ENDPOINT") or None,
            opensearch_service=e.get("REVGOV_OPENSEARCH_SERVICE", "aoss"),
            embedding_model=e.get("REVGOV_EMBEDDING_MODEL", "amazon.titan-embed-text-v2:0"),
            answer_model=e.get("REVGOV_ANSWER_MODEL", "anthropic.claude-3-5-haiku-20241022-v1:0"),
            search_role_arn_template=e.get("REVGOV_SEARCH_ROLE_ARN_TEMPLATE") or None,
        )


class SettingError(ValueError):
    """An environment setting Revgov cannot read (REVGOV_CLOCK_START, REVGOV_WHATIF_WORKERS, ...): the person who set
    it fixes it, so the `revgov` command says so in one line (bad input, exit 2) rather than as an unexpected error."""


def _number(e: Mapping[str, str], name: str, default: str, form: str) -> str:
    """A numeric setting's text, refused with what it should be when it is not a number."""
    given = e.get(name, default)
    try:
        value = float(given)
    except ValueError:
        raise SettingError(f"{name} must be {form}, not {given!r}") from None
    if value < 0 or (form.startswith("a whole") and not given.isdigit()) or (form.startswith("a rate") and value > 1):
        raise SettingError(f"{name} must be {form}, not {given!r}")
    return given


def _whatif_workers(e: Mapping[str, str]) -> int:
    """REVGOV_WHATIF_WORKERS, else 2 processes on the embedded engine (`revgov dev`) and 1 elsewhere (Lambda)."""
    given = e.get("REVGOV_WHATIF_WORKERS") or ("2" if e.get("REVGOV_BACKEND") == "sqlite" else "1")
    if not given.isdigit():
        raise SettingError(f"REVGOV_WHATIF_WORKERS must be a whole number of processes, not {given!r}")
    return max(1, int(given))


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    table_name: str
    event_bus: str
    endpoint_url: str | None
    schemas_dir: Path
    events_dir: Path
    tenants_dir: Path
    max_body_bytes: int
    service_name: str = "revgov"
    copilot: CopilotSettings = field(default_factory=lambda: CopilotSettings.from_env({}))
    outbound_allow_loopback: bool = False  # outbound webhooks to loopback URLs; honoured on the local stage only
    # TenantAccessRole: when set, every DynamoDB request on a tenant's partition is signed with an STS session tagged
    # TenantId=<tenant> (adapters.tenant_sessions). Unset: the function's own credentials (local stack, operator API).
    tenant_role_arn: str | None = None
    # The engine behind the ports: "dynamodb" (DynamoDB, EventBridge, SQS: AWS, or AWS_ENDPOINT_URL) or "sqlite" (the
    # embedded engine of `revgov dev`: one SQLite file, `data_file`). Lambda sets nothing and gets DynamoDB.
    backend: str = "dynamodb"
    data_file: Path = _REPO / ".revgov" / "revgov.sqlite"
    # Metrics also written as CloudWatch embedded metric format on stdout (revgov.metrics): on in Lambda.
    metrics_emf: bool = False
    copilot_refusal_baseline: float = COPILOT_REFUSAL_BASELINE  # REVGOV_COPILOT_REFUSAL_BASELINE
    # Processes a long policy what-if evaluates in (REVGOV_WHATIF_WORKERS): 2 on the embedded engine of the local
    # product (services.policy_whatif_workers); 1 elsewhere (a Lambda function has no /dev/shm for a process pool).
    whatif_workers: int = 1
    # Which tenants this deployment serves (set by the CDK stacks): "pool" (the control plane: never a silo tenant) or
    # "silo" (a silo tenant's own stack: `silo_tenant_id` only). Unset (the local stack, the CLI): both tiers.
    tenancy: str | None = None
    silo_tenant_id: str | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env
        return cls(
            stage=e.get("REVGOV_STAGE", "local"),
            region=e.get("AWS_REGION") or e.get("AWS_DEFAULT_REGION") or "us-east-1",
            table_name=e.get("REVGOV_TABLE", "revgov"),
            event_bus=e.get("REVGOV_EVENT_BUS", "revgov"),
            endpoint_url=e.get("AWS_ENDPOINT_URL") or None,
            schemas_dir=Path(e.get("REVGOV_SCHEMAS_DIR", _REPO / "schemas")),
            events_dir=Path(e.get("REVGOV_EVENTS_DIR", _REPO / "events")),
            tenants_dir=Path(e.get("REVGOV_TENANTS_DIR", _REPO / "tenants")),
            max_body_bytes=int(_number(e, "REVGOV_MAX_BODY_BYTES", str(256 * 1024), "a whole number of bytes")),
            copilot=CopilotSettings.from_env(e),
            outbound_allow_loopback=e.get("REVGOV_OUTBOUND_ALLOW_LOOPBACK", "") in ("1", "true"),
            tenant_role_arn=e.get("REVGOV_TENANT_ROLE_ARN") or None,
            backend=e.get("REVGOV_BACKEND", "dynamodb"),
            data_file=Path(e.get("REVGOV_DATA_FILE", _REPO / ".revgov" / "revgov.sqlite")),
            metrics_emf=e.get("REVGOV_METRICS_EMF", "1" if e.get("AWS_LAMBDA_FUNCTION_NAME") else "") in ("1", "true"),
            copilot_refusal_baseline=float(
                _number(e, "REVGOV_COPILOT_REFUSAL_BASELINE", str(COPILOT_REFUSAL_BASELINE), "a rate from 0 to 1")
            ),
            whatif_workers=_whatif_workers(e),
            tenancy=e.get("REVGOV_TENANCY") or None,
            silo_tenant_id=e.get("REVGOV_SILO_TENANT_ID") or None,
        )


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_env()
