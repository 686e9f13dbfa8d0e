"""One Revgov application: API Gateway + the Chalice functions, a DynamoDB table, an event bus with its rules,
queues and DLQs, the outbox schedule, tenant-scoped data access, Bedrock and search permissions.

The control-plane stack builds one for the pooled tenants; each silo tenant's stack builds its own.

Isolation by IAM. Only the operator function can read or write the table broadly:
- the API, event and schedule functions hold no DynamoDB permission at all. To touch data they assume
  `TenantAccessRole` with the session tag `TenantId=<tenant>` (`sts:AssumeRole` + `sts:TagSession`; the app does it
  per tenant when `REVGOV_TENANT_ROLE_ARN` is set, see revgov.adapters.tenant_sessions); that role's only DynamoDB
  statement is conditioned on `dynamodb:LeadingKeys` matching `T#${aws:PrincipalTag/TenantId}#*`, so a session
  opened for one tenant cannot reach another tenant's items, whatever the code asks for. The platform partition
  (`T#_platform#...`: tenant registry, operator keys, platform audit and outbox) is reached the same way, with a
  session tagged `TenantId=_platform`; a Deny keeps every tenant session from writing the registry and operator keys.
- the operator-only routes (roles exactly {operator}: provisioning, suspension, offboarding, operator key creation,
  webhook-secret rotation) run in `OperatorApi`, the same code without `REVGOV_TENANT_ROLE_ARN`: they write the
  platform registry and the new tenant in one transaction and offboarding scans, which no tenant session can do.
  Its role has item read/write and Scan on the table (not its indexes) and nothing of TenantAccessRole.
- the api_key authorizer is the other exception, because it runs before any tenant is known: the tenant is only
  claimed by the bearer token until the key's hash has been compared. It gets GetItem/BatchGetItem only, and only
  on the two partitions authentication reads (`T#<tenant>#KEY`, `T#<tenant>#TENANT`): no Query, no Scan; its one
  write is UpdateItem on `T#<tenant>#RATELIMIT`, the request counters of the tenant plan's rate limits.
- no role but the operator function's is granted Scan: a `ForAllValues` condition is vacuously true when a request
  carries no leading key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from revgov.domain.access import PLATFORM
from revgov.ports import TOMBSTONE
from revgov.resources import TABLE, EventRule, load_rules, load_schedules

from . import chalice_app
from .bedrock import wire_copilot_models
from .config import DeployConfig
from .nag import acknowledge
from .observability import Observability
from .packaging import PYTHON_VERSION
from .rest_api import ChaliceRestApi
from .search import TenantSearchAccess, search_role_arn_template

TENANT_TAG = "TenantId"
TASK_ROOT = "/var/task"
# What a tenant session may do to its own items. Everything the document store does, and nothing that can run
# without a leading key (Scan, PartiQL): those would slip through a ForAllValues condition.
TENANT_DATA_ACTIONS = [
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
]
TENANT_LEADING_KEYS = [f"T#${{aws:PrincipalTag/{TENANT_TAG}}}#*"]
AUTHORIZER_ACTIONS = ["dynamodb:GetItem", "dynamodb:BatchGetItem"]
AUTHORIZER_LEADING_KEYS = ["T#*#KEY", "T#*#TENANT"]  # revgov.services.keys.authenticate reads these two only
AUTHORIZER_COUNT_LEADING_KEYS = ["T#*#RATELIMIT"]  # revgov.adapters.ratelimit counts requests there (UpdateItem)
WRITE_ACTIONS = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"]
# Written by the operator function only (provisioning, suspension, offboarding, operator keys): tenant sessions are
# denied writes there even when tagged TenantId=_platform.
PLATFORM_PROTECTED = [f"T#{PLATFORM}#TENANTS", f"T#{PLATFORM}#KEY"]
# A tenant's tombstone (revgov.ports.TOMBSTONE), put when its offboarding begins: every transaction of a tenant session
# checks it (ConditionCheckItem, in TENANT_DATA_ACTIONS) so nothing is written into an offboarded tenant, but only the
# operator function (offboarding, provisioning, import) may put or delete it: a tenant session can never lift it.
TOMBSTONE_LEADING_KEYS = [f"T#*#{TOMBSTONE[0]}"]
# The operator function's own grant: every item operation on the table, and Scan (offboarding exports and deletes a
# tenant by scanning for its prefix). Not the indexes: no operator route queries them.
OPERATOR_TABLE_ACTIONS = [*TENANT_DATA_ACTIONS, "dynamodb:Scan"]
# The registry sync (rule tenant-registry, revgov.services.tenant_registry): reads tenant profiles, rewrites registry
# entries; nothing else. A tenant session cannot write the registry, so it runs with this role of its own.
# Event handlers given more than the default minute. The contract indexer (rule contract-index) makes a tenant's
# OpenSearch index match all its stored contracts in one event, embedding each changed clause and each of its retrieval
# passages (revgov.domain.copilot_units.retrieval_passages) with one Bedrock call apiece (adapters.embeddings
# .TitanEmbedder): a tenant indexed afresh, or after the passage split changes, is ~450 calls for northwind's two
# documents where whole clauses alone were ~100. tests/stacks/test_stacks.py derives the calls from the contracts.
EVENT_HANDLER_TIMEOUTS = {"index_contracts": 300}
DEFAULT_HANDLER_TIMEOUT = 60
REGISTRY_SYNC_FUNCTION = "sync_tenant_registry"
REGISTRY_SYNC_READ_KEYS = ["T#*#TENANT", f"T#{PLATFORM}#TENANTS"]
REGISTRY_SYNC_WRITE_KEYS = [f"T#{PLATFORM}#TENANTS"]


@dataclass(frozen=True)
class Tenancy:
    mode: str  # "pool" or "silo"
    tenant_ids: tuple[str, ...]  # pool: the pooled tenants in tenants/; silo: the one tenant

    @property
    def silo_tenant(self) -> str | None:
        return self.tenant_ids[0] if self.mode == "silo" else None


@dataclass(frozen=True)
class SearchTarget:
    collection_name: str
    collection_arn: str
    endpoint: str


def _bounded(name: str, limit: int) -> str:
    """A physical name within `limit` characters: kept whole when it fits, else a readable head and a hash."""
    if len(name) <= limit:
        return name
    return f"{name[: limit - 9]}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_"))


class RevgovApplication(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        name: str,
        tenancy: Tenancy,
        code: lambda_.Code,
        layer_code: lambda_.Code,
        search: SearchTarget | None,
        manage_api_cloudwatch_role: bool,
        domain_name: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.name = name
        self.tenancy = tenancy
        handlers = chalice_app.load()
        rules = load_rules(config.repo / "events")
        schedules = load_schedules(config.repo / "events")
        for rule in rules:
            if rule.handler not in handlers.functions:
                raise ValueError(f"events/rules.json rule {rule.name!r}: no @app.lambda_function {rule.handler!r}")
        missing = [sch.handler for sch in schedules if sch.handler not in handlers.functions]
        if missing:
            raise ValueError(f"events/schedules.json names handlers the Chalice app lacks: {', '.join(missing)}")

        self.table = self._table()
        self.bus = events.EventBus(self, "Bus", event_bus_name=name, description=f"Revgov events ({name})")
        self.layer = lambda_.LayerVersion(
            self, "Dependencies", code=layer_code,
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_11],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            description=f"Revgov runtime dependencies (pyproject.toml) for Python {PYTHON_VERSION}",
        )
        self._code = code
        self._environment = {
            "REVGOV_STAGE": config.stage,
            "REVGOV_TABLE": self.table.table_name,
            "REVGOV_EVENT_BUS": self.bus.event_bus_name,
            "REVGOV_SCHEMAS_DIR": f"{TASK_ROOT}/schemas",
            "REVGOV_EVENTS_DIR": f"{TASK_ROOT}/events",
            "REVGOV_TENANTS_DIR": f"{TASK_ROOT}/tenants",
            "REVGOV_MAX_BODY_BYTES": str(config.max_body_bytes),
            "REVGOV_TENANCY": tenancy.mode,
            "POWERTOOLS_SERVICE_NAME": "revgov",
            "POWERTOOLS_METRICS_NAMESPACE": "Revgov",
        }
        if tenancy.silo_tenant:
            self._environment["REVGOV_SILO_TENANT_ID"] = tenancy.silo_tenant

        # --- functions: one role each, least privilege per function ------------------------------------------
        self.functions: dict[str, lambda_.Function] = {}
        self.api_handler = self._function(
            "Api", chalice_app.API_HANDLER, "Revgov API (Chalice routes)", memory=1024, timeout=28
        )
        self.operator_handler = self._function(
            "OperatorApi", chalice_app.API_HANDLER, "Revgov operator API (operator-only Chalice routes)",
            memory=1024, timeout=28,
        )
        self.authorizers = {
            auth: self._function(
                f"Authorizer{_camel(auth)}", handler, f"Revgov {auth} authorizer: bearer key -> principal",
                memory=512, timeout=10,
            )
            for auth, handler in handlers.authorizers.items()
        }
        timeouts = {**EVENT_HANDLER_TIMEOUTS, **{sch.handler: sch.timeout_seconds for sch in schedules}}
        for fn_name, handler in handlers.functions.items():
            self._function(_camel(fn_name), handler, f"Revgov {fn_name}", memory=512,
                           timeout=timeouts.get(fn_name, DEFAULT_HANDLER_TIMEOUT), key=fn_name)

        self.tenant_role = self._tenant_access_role()
        self._grant_registry_sync(self.functions[REGISTRY_SYNC_FUNCTION])
        for authorizer in self.authorizers.values():
            self._grant_key_lookup(authorizer)
        self._grant_operator_table(self.operator_handler)
        for fn in [self.api_handler, self.operator_handler, *self.functions.values()]:
            self.bus.grant_put_events_to(fn)
        wire_copilot_models(self.api_handler, self.functions["index_contracts"], config.bedrock_model_ids)
        self.search_access = self._search(search) if search else None

        # --- alarms go to the configured topic, or to one of this application's own ------------------------------
        self.alarm_topic: sns.ITopic = (
            sns.Topic.from_topic_arn(self, "AlarmTopic", config.alarm_topic_arn) if config.alarm_topic_arn
            else sns.Topic(self, "AlarmTopic", display_name=f"Revgov {name} alarms", enforce_ssl=True,
                           master_key=kms.Alias.from_alias_name(self, "AlarmTopicKey", "alias/aws/sns"))
        )

        # --- events: rules.json -> queue (+DLQ, alarm) -> handler; schedules.json -> EventBridge schedules ----
        self.queues: dict[str, sqs.Queue] = {}
        self.dead_letter_queues: dict[str, sqs.Queue] = {}
        for rule in rules:
            self._event_rule(rule, rule.max_receive_count)
        for sch in schedules:
            events.Rule(
                self, f"{_camel(sch.handler)}Schedule",
                schedule=events.Schedule.rate(Duration.minutes(sch.every_minutes)),
                description=sch.description,
                targets=[targets.LambdaFunction(self.functions[sch.handler], retry_attempts=2)],
            )

        # --- the API -----------------------------------------------------------------------------------------
        self.rest_api = ChaliceRestApi(
            self, "RestApi", config=config, name=name, app=handlers.app, handler=self.api_handler,
            authorizers=self.authorizers, manage_cloudwatch_role=manage_api_cloudwatch_role,
            domain_name=domain_name, operator_handler=self.operator_handler, operator_routes=handlers.operator_routes,
        )
        # --- dashboards (executive, channel ops, platform) and the product's alarms over its own metrics ---------
        self.observability = Observability(
            self, "Observability", name=name, topic=self.alarm_topic, dead_letter_queues=self.dead_letter_queues,
            handlers=sorted({rule.handler for rule in rules}),
        )
        # The outputs keep the names stacks/README.md gives them (not construct-path hashes like PoolTableName09E96691).
        for name_, value in (
            ("AlarmTopicArn", self.alarm_topic.topic_arn),
            ("EventBusName", self.bus.event_bus_name),
            ("TableName", self.table.table_name),
            ("TenantAccessRoleArn", self.tenant_role.role_arn),
            ("ApiUrl", self.rest_api.api.url),
        ):
            CfnOutput(self, name_, value=value).override_logical_id(name_)

    # ---------------------------------------------------------------------------------------------------------
    def _table(self) -> dynamodb.Table:
        key = dynamodb.AttributeType.STRING
        table = dynamodb.Table(
            self, "Table",
            partition_key=dynamodb.Attribute(name=TABLE.partition_key, type=key),
            sort_key=dynamodb.Attribute(name=TABLE.sort_key, type=key),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=TABLE.ttl_attribute,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        table.add_global_secondary_index(
            index_name=TABLE.lookup_index,
            partition_key=dynamodb.Attribute(name=TABLE.lookup_partition_key, type=key),
            sort_key=dynamodb.Attribute(name=TABLE.lookup_sort_key, type=key),
            projection_type=dynamodb.ProjectionType.ALL,
        )
        return table

    def _function(
        self, construct_id: str, handler: str, description: str, *, memory: int, timeout: int,
        key: str | None = None,
    ) -> lambda_.Function:
        role = iam.Role(
            self, f"{construct_id}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{description} ({self.name})",
        )
        log_group = logs.LogGroup(self, f"{construct_id}Logs", retention=self.config.log_retention)
        environment = dict(self._environment)
        fn = lambda_.Function(
            self, construct_id,
            description=f"{description} ({self.name})",
            runtime=lambda_.Runtime.PYTHON_3_11,
            architecture=lambda_.Architecture.ARM_64,
            handler=handler,
            code=self._code,
            layers=[self.layer],
            role=role,
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            tracing=lambda_.Tracing.ACTIVE,
            memory_size=memory,
            timeout=Duration.seconds(timeout),
            environment=environment,
        )
        log_group.grant_write(role)
        acknowledge(role, "AwsSolutions-IAM5[Resource::*]",
                    "X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords do not support "
                    "resource-level permissions, so the tracing grant CDK adds is on '*'.")
        acknowledge(fn, "AwsSolutions-L1",
                    "Runtime pinned to python3.11 on purpose: pyproject.toml requires >=3.11,<3.12 and the "
                    "dependency layer is built for CPython 3.11; move both together.")
        if key:
            self.functions[key] = fn
        return fn

    def _tenant_access_role(self) -> iam.Role:
        callers = [self.api_handler, *(fn for key, fn in self.functions.items() if key != REGISTRY_SYNC_FUNCTION)]
        tag = f"aws:RequestTag/{TENANT_TAG}"
        trust_conditions: dict[str, dict[str, object]] = {
            "ForAllValues:StringEquals": {"aws:TagKeys": [TENANT_TAG]},
        }
        if self.tenancy.silo_tenant:  # its tenant, and its own table's platform partition (registry, outbox)
            trust_conditions["StringEquals"] = {tag: [self.tenancy.silo_tenant, PLATFORM]}
        else:
            trust_conditions["StringLike"] = {tag: "?*"}
        role = iam.Role(
            self, "TenantAccessRole",
            description=f"Tenant-scoped data access for {self.name}: a session tagged {TENANT_TAG}=<tenant> "
                        "reaches only items whose partition key starts with T#<tenant>#",
            assumed_by=iam.PrincipalWithConditions(
                iam.SessionTagsPrincipal(
                    iam.CompositePrincipal(*(iam.ArnPrincipal(fn.role.role_arn) for fn in callers))  # type: ignore[union-attr]
                ),
                trust_conditions,
            ),
            max_session_duration=Duration.hours(1),
            inline_policies={
                "tenant-items": iam.PolicyDocument(statements=[
                    iam.PolicyStatement(
                        sid="TenantItemsOnly",
                        actions=TENANT_DATA_ACTIONS,
                        resources=[self.table.table_arn, f"{self.table.table_arn}/index/*"],
                        conditions={
                            "ForAllValues:StringLike": {"dynamodb:LeadingKeys": TENANT_LEADING_KEYS},
                            "Null": {"dynamodb:LeadingKeys": "false"},
                        },
                    ),
                    # Every scoped function may open a _platform session (registry reads, the platform outbox and
                    # audit chain), but only the operator function may change who exists and who is an operator.
                    iam.PolicyStatement(
                        sid="NoPlatformRegistryOrKeyWrites",
                        effect=iam.Effect.DENY,
                        actions=WRITE_ACTIONS,
                        resources=[self.table.table_arn],
                        conditions={"ForAnyValue:StringEquals": {"dynamodb:LeadingKeys": PLATFORM_PROTECTED}},
                    ),
                    iam.PolicyStatement(
                        sid="NoTombstoneWrites",
                        effect=iam.Effect.DENY,
                        actions=WRITE_ACTIONS,
                        resources=[self.table.table_arn],
                        conditions={"ForAnyValue:StringLike": {"dynamodb:LeadingKeys": TOMBSTONE_LEADING_KEYS}},
                    ),
                ]),
            },
        )
        table_id = Stack.of(self).get_logical_id(self.table.node.default_child)  # type: ignore[arg-type]
        acknowledge(role, f"AwsSolutions-IAM5[Resource::<{table_id}.Arn>/index/*]",
                    "Queries on the table's indexes (gsi1); still fenced by the dynamodb:LeadingKeys condition on "
                    "the index partition key, which also starts with T#<tenant>#.")
        for fn in callers:
            fn.add_to_role_policy(iam.PolicyStatement(
                sid="AssumeTenantScopedSession", actions=["sts:AssumeRole", "sts:TagSession"],
                resources=[role.role_arn],
            ))
            fn.add_environment("REVGOV_TENANT_ROLE_ARN", role.role_arn)
        return role

    def _grant_operator_table(self, fn: lambda_.Function) -> None:
        fn.add_to_role_policy(iam.PolicyStatement(
            sid="OperatorTableAccess", actions=OPERATOR_TABLE_ACTIONS, resources=[self.table.table_arn],
        ))

    def _grant_registry_sync(self, fn: lambda_.Function) -> None:
        for sid, actions, keys in (("ReadProfilesAndRegistry", ["dynamodb:GetItem"], REGISTRY_SYNC_READ_KEYS),
                                   ("WriteRegistryOnly", ["dynamodb:PutItem"], REGISTRY_SYNC_WRITE_KEYS)):
            fn.add_to_role_policy(iam.PolicyStatement(
                sid=sid, actions=actions, resources=[self.table.table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": keys},
                            "Null": {"dynamodb:LeadingKeys": "false"}},
            ))

    def _grant_key_lookup(self, authorizer: lambda_.Function) -> None:
        authorizer.add_to_role_policy(iam.PolicyStatement(
            sid="ResolveApiKeysOnly",
            actions=AUTHORIZER_ACTIONS,
            resources=[self.table.table_arn],
            conditions={
                "ForAllValues:StringLike": {"dynamodb:LeadingKeys": AUTHORIZER_LEADING_KEYS},
                "Null": {"dynamodb:LeadingKeys": "false"},
            },
        ))
        authorizer.add_to_role_policy(iam.PolicyStatement(
            sid="CountRequestsOnly",
            actions=["dynamodb:UpdateItem"],
            resources=[self.table.table_arn],
            conditions={
                "ForAllValues:StringLike": {"dynamodb:LeadingKeys": AUTHORIZER_COUNT_LEADING_KEYS},
                "Null": {"dynamodb:LeadingKeys": "false"},
            },
        ))

    def _search(self, search: SearchTarget) -> TenantSearchAccess:
        access = TenantSearchAccess(
            self, "Search", config=self.config,
            policy_label=self.tenancy.silo_tenant or "pool",
            tenant_ids=list(self.tenancy.tenant_ids),
            collection=search.collection_name,
            collection_arn=search.collection_arn,
            # the API (questions, offboarding) and the contract indexer (contract.changed) act for a tenant
            trusted=[self.api_handler.role, self.functions["index_contracts"].role],  # type: ignore[list-item]
        )
        # revgov.settings.CopilotSettings: the collection is OpenSearch Serverless (SigV4 service `aoss`), and each
        # tenant's requests are signed with its own search role, never the function's (which has no data access).
        for fn in (self.api_handler, self.functions["index_contracts"]):
            fn.add_environment("REVGOV_COPILOT_INDEX", "opensearch")
            fn.add_environment("REVGOV_OPENSEARCH_ENDPOINT", search.endpoint)
            fn.add_environment("REVGOV_OPENSEARCH_SERVICE", "aoss")
            fn.add_environment("REVGOV_SEARCH_ROLE_ARN_TEMPLATE", search_role_arn_template(self.config))
        return access

    def _event_rule(self, rule: EventRule, max_receive_count: int) -> None:
        fn = self.functions[rule.handler]
        rid = _camel(rule.name)
        dlq = sqs.Queue(
            self, f"{rid}Dlq", retention_period=Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
        )
        queue = sqs.Queue(
            self, f"{rid}Queue",
            visibility_timeout=Duration.seconds(6 * int(fn.timeout.to_seconds())),  # type: ignore[union-attr]
            retention_period=Duration.days(4),
            encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=max_receive_count),
        )
        acknowledge(dlq, "AwsSolutions-SQS3", f"This is the dead-letter queue of {rule.name}; it is alarmed on depth "
                    "and replayed by an operator, it has no DLQ of its own.")
        cfn_rule = events.CfnRule(
            self, f"{rid}Rule", name=_bounded(f"{self.name}-{rule.name}", 64), description=rule.description[:512],
            event_bus_name=self.bus.event_bus_name, event_pattern=rule.pattern, state="ENABLED",
            targets=[events.CfnRule.TargetProperty(
                id="queue", arn=queue.queue_arn,
                dead_letter_config=events.CfnRule.DeadLetterConfigProperty(arn=dlq.queue_arn),
                retry_policy=events.CfnRule.RetryPolicyProperty(
                    maximum_event_age_in_seconds=24 * 3600, maximum_retry_attempts=185
                ),
            )],
        )
        for target in (queue, dlq):
            target.add_to_resource_policy(iam.PolicyStatement(
                principals=[iam.ServicePrincipal("events.amazonaws.com")], actions=["sqs:SendMessage"],
                resources=[target.queue_arn], conditions={"ArnEquals": {"aws:SourceArn": cfn_rule.attr_arn}},
            ))
        fn.add_event_source(sources.SqsEventSource(queue, batch_size=10, report_batch_item_failures=True))
        alarm = cloudwatch.Alarm(
            self, f"{rid}DlqAlarm",
            alarm_description=f"Revgov {self.name}: events of rule {rule.name} failed {max_receive_count} times "
                              "and wait in the DLQ for replay",
            metric=dlq.metric_approximate_number_of_messages_visible(period=Duration.minutes(1), statistic="Maximum"),
            threshold=0, evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self.alarm_topic))
        self.queues[rule.name] = queue
        self.dead_letter_queues[rule.name] = dlq
        CfnOutput(self, f"{rid}DlqUrl", value=dlq.queue_url, description=f"DLQ of rule {rule.name} (replay from here)")
