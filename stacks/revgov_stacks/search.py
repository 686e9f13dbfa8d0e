"""OpenSearch Serverless: one vector-search collection per stage for the pooled tenants, one of its own in each silo
tenant's stack (CPA-11.3: "dedicated infrastructure reserved for Contoso ... not shared with other programs"), each
tenant fenced to its own indexes.

Data access policies cannot read IAM session tags, so tenant fencing here uses one IAM role per tenant
(`revgov-<stage>-search-<tenant>`) that the API function assumes for that tenant's retrieval
(`REVGOV_SEARCH_ROLE_ARN_TEMPLATE`, read by revgov.adapters.opensearch_index), and a data access rule that lets that
role touch only `index/<collection>/<tenant>_*`. The app names its indexes with the same spec
(`revgov.resources.SEARCH`: `<tenant>_clauses`). Tenant ids never contain `_`, so one tenant's pattern cannot match
another's indexes (`north_*` does not match `north-wind_clauses`).
"""

from __future__ import annotations

import hashlib

from aws_cdk import Aws, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_opensearchserverless as aoss
from constructs import Construct

from revgov.adapters.tenant_sessions import TENANT_PLACEHOLDER
from revgov.resources import SEARCH

from .config import DeployConfig

_TENANTS_PER_POLICY = 40
INDEX_PERMISSIONS = [
    "aoss:CreateIndex",
    "aoss:DescribeIndex",
    "aoss:UpdateIndex",
    "aoss:DeleteIndex",
    "aoss:ReadDocument",
    "aoss:WriteDocument",
]


def policy_name(*parts: str) -> str:
    """AOSS policy names: 3-32 chars of [a-z0-9-]; long ones keep a readable head and a stable hash tail."""
    name = "-".join(parts)
    if len(name) <= 32:
        return name
    return f"{name[:23]}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def collection_name(config: DeployConfig, silo_tenant: str | None = None) -> str:
    """The stage's shared collection (`<prefix>`), or a silo tenant's own (`<prefix>-<tenant>`; AOSS names are 3-32
    characters of [a-z0-9-], so a long one keeps a readable head and a stable hash tail)."""
    return policy_name(config.prefix, silo_tenant) if silo_tenant else config.prefix


def search_role_name(config: DeployConfig, tenant_id: str) -> str:
    return f"{config.prefix}-search-{tenant_id}"


def search_role_arn_template(config: DeployConfig) -> str:
    """What the functions get: the role ARN for a tenant is this with `{tenant_id}` filled in."""
    return f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role/{search_role_name(config, TENANT_PLACEHOLDER)}"


def index_pattern(collection: str, tenant_id: str) -> str:
    return f"index/{collection}/{SEARCH.tenant_indexes(tenant_id)}"


class SearchCollection(Construct):
    """The stage's collection with its encryption and network policies (a collection cannot exist without them)."""

    def __init__(self, scope: Construct, construct_id: str, *, config: DeployConfig,
                 silo_tenant: str | None = None) -> None:
        super().__init__(scope, construct_id)
        self.name = collection_name(config, silo_tenant)
        resource = [f"collection/{self.name}"]
        stack = Stack.of(self)
        # OpenSearch Serverless shares compute (OCUs) among the collections encrypted with the same key: a silo
        # tenant's collection has a key of its own, so neither its storage nor its compute is shared (CPA-11.3).
        key = None
        if silo_tenant:
            key = kms.Key(self, "Key", enable_key_rotation=True, removal_policy=RemovalPolicy.RETAIN,
                          description=f"Revgov search collection {self.name} (silo tenant {silo_tenant})")
        at_rest: dict[str, object] = {"KmsARN": key.key_arn} if key else {"AWSOwnedKey": True}
        encryption = aoss.CfnSecurityPolicy(
            self, "Encryption", name=policy_name(self.name, "enc"), type="encryption",
            description="Revgov search: encrypted at rest with " + ("its own KMS key" if key else "an AWS owned key"),
            policy=stack.to_json_string({"Rules": [{"ResourceType": "collection", "Resource": resource}], **at_rest}),
        )
        network = aoss.CfnSecurityPolicy(
            self, "Network", name=policy_name(self.name, "net"), type="network",
            description="Revgov search: IAM-signed requests over the public endpoint (the functions run outside "
                        "a VPC); no dashboards",
            policy=stack.to_json_string([{"Rules": [{"ResourceType": "collection", "Resource": resource}],
                                          "AllowFromPublic": True}]),
        )
        self.collection = aoss.CfnCollection(
            self, "Collection", name=self.name, type="VECTORSEARCH",
            description="Revgov contracts and SOPs: per-tenant k-NN + BM25 indexes",
            standby_replicas="ENABLED" if config.search_standby_replicas else "DISABLED",
        )
        self.collection.add_resource_dependency(encryption)
        self.collection.add_resource_dependency(network)


class TenantSearchAccess(Construct):
    """Per-tenant search roles and the one data access policy that fences each to its own indexes."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        policy_label: str,
        tenant_ids: list[str],
        collection: str,
        collection_arn: str,
        trusted: list[iam.IRole],
    ) -> None:
        super().__init__(scope, construct_id)
        self.roles: dict[str, iam.Role] = {}
        entries = []
        for tenant_id in tenant_ids:
            role = iam.Role(
                self, f"Role-{tenant_id}",
                role_name=search_role_name(config, tenant_id),
                description=f"Revgov search for tenant {tenant_id}: only index/{collection}/{tenant_id}_* (data "
                            "access policy)",
                assumed_by=iam.CompositePrincipal(*(iam.ArnPrincipal(r.role_arn) for r in trusted)),
                inline_policies={"search": iam.PolicyDocument(statements=[iam.PolicyStatement(
                    actions=["aoss:APIAccessAll"], resources=[collection_arn],
                )])},
            )
            self.roles[tenant_id] = role
            entries.append({
                "Description": f"tenant {tenant_id}: its own indexes only",
                "Rules": [{"ResourceType": "index", "Resource": [index_pattern(collection, tenant_id)],
                           "Permission": INDEX_PERMISSIONS}],
                "Principal": [role.role_arn],
            })
        # A data access policy holds at most 20 KB: one policy per 40 tenants keeps well under it.
        self.policies: list[aoss.CfnAccessPolicy] = []
        for start in range(0, len(entries), _TENANTS_PER_POLICY):
            label = policy_label if start == 0 else f"{policy_label}-{start // _TENANTS_PER_POLICY}"
            self.policies.append(aoss.CfnAccessPolicy(
                self, "DataAccess" if start == 0 else f"DataAccess{start // _TENANTS_PER_POLICY}",
                name=policy_name(config.prefix, label), type="data",
                description=f"Revgov search, {policy_label}: each tenant role reaches only its tenant's indexes",
                policy=Stack.of(self).to_json_string(entries[start : start + _TENANTS_PER_POLICY]),
            ))
        if self.roles:
            for role in trusted:
                role.add_to_principal_policy(iam.PolicyStatement(
                    actions=["sts:AssumeRole"], resources=[r.role_arn for r in self.roles.values()],
                ))
