"""Deployment configuration: CDK context first (`-c key=value` or cdk.json), then the environment, then a default.

Nothing here is a secret and nothing account-specific is hard-coded: account and region come from context or from
the CDK CLI's CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION (the caller's profile).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STACKS_DIR = Path(__file__).resolve().parents[1]
REPO = STACKS_DIR.parent

_STAGE = re.compile(r"^[a-z][a-z0-9]{1,7}$")  # short: it prefixes IAM role and OpenSearch policy names
_MODEL_ID = re.compile(r"^[a-z0-9][a-z0-9.:_-]{2,127}$")
_CERT_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+$")
_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$")

# context key -> environment variable read when the context does not set it
_ENV = {
    "stage": "REVGOV_STAGE",
    "account": "CDK_DEFAULT_ACCOUNT",
    "region": "CDK_DEFAULT_REGION",
    "bedrock_model_ids": "REVGOV_BEDROCK_MODEL_IDS",
    "api_domain_name": "REVGOV_API_DOMAIN_NAME",
    "api_certificate_arn": "REVGOV_API_CERTIFICATE_ARN",
    "alarm_topic_arn": "REVGOV_ALARM_TOPIC_ARN",
    "log_retention_days": "REVGOV_LOG_RETENTION_DAYS",
    "search_standby_replicas": "REVGOV_SEARCH_STANDBY_REPLICAS",
    "throttle_rate": "REVGOV_THROTTLE_RATE",
    "throttle_burst": "REVGOV_THROTTLE_BURST",
    "max_body_bytes": "REVGOV_MAX_BODY_BYTES",
    "layer_dir": "REVGOV_LAYER_DIR",
    "build_dir": "REVGOV_BUILD_DIR",
    "tenants_dir": "REVGOV_STACKS_TENANTS_DIR",
}


_RETENTION = {
    1: "ONE_DAY", 3: "THREE_DAYS", 5: "FIVE_DAYS", 7: "ONE_WEEK", 14: "TWO_WEEKS", 30: "ONE_MONTH",
    60: "TWO_MONTHS", 90: "THREE_MONTHS", 120: "FOUR_MONTHS", 150: "FIVE_MONTHS", 180: "SIX_MONTHS",
    365: "ONE_YEAR", 400: "THIRTEEN_MONTHS", 545: "EIGHTEEN_MONTHS", 731: "TWO_YEARS", 1827: "FIVE_YEARS",
    3653: "TEN_YEARS",
}


class ConfigError(ValueError):
    """The deployment configuration is missing or wrong; the message says which key and how to set it."""


def _as_list(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        text = value.strip()
        items = json.loads(text) if text.startswith("[") else text.split(",")
    else:
        items = list(value)
    return tuple(str(item).strip() for item in items if str(item).strip())


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "on", "enabled"}


@dataclass(frozen=True)
class DeployConfig:
    stage: str
    account: str | None
    region: str | None
    bedrock_model_ids: tuple[str, ...]
    api_domain_name: str | None
    api_certificate_arn: str | None
    alarm_topic_arn: str | None
    log_retention_days: int
    search_standby_replicas: bool
    throttle_rate: int
    throttle_burst: int
    max_body_bytes: int
    layer_dir: Path
    build_dir: Path
    tenants_dir: Path
    repo: Path = REPO

    @property
    def log_retention(self) -> Any:
        """The aws_logs.RetentionDays member for log_retention_days (CloudWatch only accepts its fixed set)."""
        from aws_cdk import aws_logs as logs

        return logs.RetentionDays[_RETENTION[self.log_retention_days]]

    @property
    def prefix(self) -> str:
        return f"revgov-{self.stage}"

    @classmethod
    def load(cls, context: Mapping[str, Any], env: Mapping[str, str] | None = None) -> DeployConfig:
        environ = os.environ if env is None else env

        def get(key: str, default: Any = None) -> Any:
            value = context.get(key)
            if value is None or value == "":
                value = environ.get(_ENV[key]) or default
            return value

        stage = str(get("stage", "dev"))
        if not _STAGE.match(stage):
            raise ConfigError(f"stage {stage!r} must match {_STAGE.pattern} (set -c stage=... or REVGOV_STAGE)")
        account, region = get("account"), get("region")
        if account is not None and not re.fullmatch(r"\d{12}", str(account)):
            raise ConfigError(f"account {account!r} must be a 12-digit AWS account id")
        models = _as_list(get("bedrock_model_ids"))
        for model in models:
            if not _MODEL_ID.match(model):
                raise ConfigError(f"bedrock model id {model!r} does not look like a Bedrock model or profile id")
        domain, cert = get("api_domain_name"), get("api_certificate_arn")
        if bool(domain) != bool(cert):
            raise ConfigError("set api_domain_name and api_certificate_arn together (the ACM certificate's ARN)")
        if cert and not _CERT_ARN.match(str(cert)):
            raise ConfigError(f"api_certificate_arn {cert!r} is not an ACM certificate ARN")
        topic = get("alarm_topic_arn")
        if topic and not _TOPIC_ARN.match(str(topic)):
            raise ConfigError(f"alarm_topic_arn {topic!r} is not an SNS topic ARN")
        retention = int(get("log_retention_days", 30))
        if retention not in _RETENTION:
            raise ConfigError(f"log_retention_days {retention} must be one of {sorted(_RETENTION)}")
        build_dir = Path(get("build_dir", STACKS_DIR / "build")).resolve()
        return cls(
            stage=stage,
            account=str(account) if account else None,
            region=str(region) if region else None,
            bedrock_model_ids=models,
            api_domain_name=str(domain) if domain else None,
            api_certificate_arn=str(cert) if cert else None,
            alarm_topic_arn=str(topic) if topic else None,
            log_retention_days=retention,
            search_standby_replicas=_as_bool(get("search_standby_replicas", "false")),
            throttle_rate=int(get("throttle_rate", 100)),
            throttle_burst=int(get("throttle_burst", 200)),
            max_body_bytes=int(get("max_body_bytes", 256 * 1024)),
            layer_dir=Path(get("layer_dir", build_dir / "layer")).resolve(),
            build_dir=build_dir,
            tenants_dir=Path(get("tenants_dir", REPO / "tenants")).resolve(),
        )
