"""The two kinds of stack, and the app that holds one control plane plus one stack per silo tenant."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import App, CfnOutput, Environment, Stack, Tags
from constructs import Construct

from .application import RevgovApplication, SearchTarget, Tenancy
from .config import DeployConfig
from .nag import add_checks
from .packaging import layer_code, prepare_code
from .search import SearchCollection


@dataclass(frozen=True)
class TenantEntry:
    tenant_id: str
    tier: str
    residency: dict[str, Any] | None = None  # the tenant file's `data_residency`: {id, clause, regions}


def read_tenants(tenants_dir: Path) -> list[TenantEntry]:
    """tenants/<id>/tenant.yaml, parsed and validated by the same loader the app uses."""
    from revgov.tenant_files import load_tenant_file, tenant_files

    return [
        TenantEntry(str(config["tenant_id"]), str(config["tier"]), config.get("data_residency"))
        for config in (load_tenant_file(path) for path in tenant_files(tenants_dir))
    ]


def check_residency(tenants: list[TenantEntry], region: str | None) -> None:
    """A tenant whose file pins its data to regions (CPA-11.3: "hosted in the European Union") is deployed only to
    one of them: a deploy region outside the list, or none given (an environment-agnostic synth could land
    anywhere), fails the synth naming the tenant, the rule and its clause."""
    for tenant in tenants:
        if not tenant.residency:
            continue
        regions, rule = tenant.residency["regions"], f"{tenant.residency['id']}, {tenant.residency['clause']}"
        if region not in regions:
            # every stack of the app is synthesized, whichever one is deployed: say both ways on
            raise ValueError(f"tenant {tenant.tenant_id} keeps its data in {', '.join(regions)} ({rule}); the deploy "
                             f"region is {region or 'not set (give -c region=... or CDK_DEFAULT_REGION)'}: deploy to "
                             f"one of them (-c region={regions[0]}), or synthesize without this tenant's folder "
                             f"(-c tenants_dir=<a folder of the other tenants> or REVGOV_STACKS_TENANTS_DIR)")


def _env(config: DeployConfig) -> Environment | None:
    if config.account or config.region:
        return Environment(account=config.account, region=config.region)
    return None


class ControlPlaneStack(Stack):
    """Tenant registry (the pooled table, items T#_platform#TENANTS), the operator API and the pooled application,
    the shared search collection."""

    def __init__(self, scope: Construct, construct_id: str, *, config: DeployConfig, pool_tenants: list[str],
                 **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        layer, self.stub_layer = layer_code(config)
        self.search = SearchCollection(self, "Search", config=config)
        code = prepare_code(config, "pool", pool_tenants)
        self.app = RevgovApplication(
            self, "Pool", config=config, name=config.prefix, tenancy=Tenancy("pool", tuple(pool_tenants)),
            code=_asset(code), layer_code=layer,
            search=SearchTarget(self.search.name, self.search.collection.attr_arn,
                                self.search.collection.attr_collection_endpoint),
            manage_api_cloudwatch_role=True,  # the account-level API Gateway logging role lives here, once
            domain_name=config.api_domain_name,
        )
        CfnOutput(self, "SearchCollectionEndpoint", value=self.search.collection.attr_collection_endpoint)
        Tags.of(self).add("revgov:stage", config.stage)
        Tags.of(self).add("revgov:tier", "pool")


class TenantStack(Stack):
    """A silo tenant: its own API, functions, table, bus, keys and search collection (CPA-11.3: "dedicated
    infrastructure ... not shared with other programs"); nothing of its data in the control plane's collection."""

    def __init__(self, scope: Construct, construct_id: str, *, config: DeployConfig, tenant_id: str,
                 control_plane: ControlPlaneStack, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.tenant_id = tenant_id
        layer, _ = layer_code(config)
        code = prepare_code(config, f"silo-{tenant_id}", [tenant_id])
        self.search = SearchCollection(self, "Search", config=config, silo_tenant=tenant_id)
        collection = self.search.collection
        self.app = RevgovApplication(
            self, "Silo", config=config, name=f"{config.prefix}-{tenant_id}",
            tenancy=Tenancy("silo", (tenant_id,)), code=_asset(code), layer_code=layer,
            search=SearchTarget(self.search.name, collection.attr_arn, collection.attr_collection_endpoint),
            manage_api_cloudwatch_role=False,
            domain_name=f"{tenant_id}.{config.api_domain_name}" if config.api_domain_name else None,
        )
        self.add_stack_dependency(control_plane, "the account's API Gateway logging role")
        CfnOutput(self, "SearchCollectionEndpoint", value=collection.attr_collection_endpoint)
        Tags.of(self).add("revgov:stage", config.stage)
        Tags.of(self).add("revgov:tier", "silo")
        Tags.of(self).add("revgov:tenant", tenant_id)


def _asset(path: Path) -> Any:
    from aws_cdk import aws_lambda as lambda_

    return lambda_.Code.from_asset(str(path))


def control_plane_name(config: DeployConfig) -> str:
    return f"Revgov-{config.stage}-ControlPlane"


def tenant_stack_name(config: DeployConfig, tenant_id: str) -> str:
    return f"Revgov-{config.stage}-Tenant-{tenant_id}"


def build_app(context: Mapping[str, Any] | None = None, outdir: str | None = None,
              env: Mapping[str, str] | None = None) -> tuple[App, ControlPlaneStack, list[TenantStack]]:
    """The whole CDK app. `python stacks/app.py` and the tests both come through here."""
    app = App(context=dict(context) if context is not None else None, outdir=outdir)
    config = DeployConfig.load(_context(app), env)
    tenants = read_tenants(config.tenants_dir)
    check_residency(tenants, config.region)
    stack_env = _env(config)
    control_plane = ControlPlaneStack(
        app, control_plane_name(config), config=config,
        pool_tenants=[t.tenant_id for t in tenants if t.tier == "pool"], env=stack_env,
        description=f"Revgov {config.stage}: control plane, tenant registry, operator API, pooled tenants",
    )
    silos = [
        TenantStack(app, tenant_stack_name(config, t.tenant_id), config=config, tenant_id=t.tenant_id,
                    control_plane=control_plane, env=stack_env,
                    description=f"Revgov {config.stage}: silo tenant {t.tenant_id}")
        for t in tenants if t.tier == "silo"
    ]
    add_checks(app)
    return app, control_plane, silos


_KEYS = ("stage", "account", "region", "bedrock_model_ids", "api_domain_name", "api_certificate_arn",
         "alarm_topic_arn", "log_retention_days", "search_standby_replicas", "throttle_rate", "throttle_burst",
         "max_body_bytes", "layer_dir", "build_dir", "tenants_dir")


def _context(app: App) -> dict[str, Any]:
    """Context from cdk.json and `-c` (the CLI hands both to the App), or the dict the tests pass."""
    return {key: app.node.try_get_context(key) for key in _KEYS}
