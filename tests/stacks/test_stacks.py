"""The CDK app, synthesized offline: what the templates say about data, events, the API and isolation by IAM."""

from __future__ import annotations

import ast
import fnmatch
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import ACCOUNT, MODELS, REPO, STAGE, Synth, make_context

pytestmark = pytest.mark.xdist_group("cdk-synth")  # one synthesis per worker; with --dist loadgroup, one in all

from aws_cdk.assertions import Match, Template  # noqa: E402

from revgov.resources import SEARCH, TABLE, load_rules  # noqa: E402

RULES = json.loads((REPO / "events" / "rules.json").read_text(encoding="utf-8"))
SCHEDULES = json.loads((REPO / "events" / "schedules.json").read_text(encoding="utf-8"))
CONTROL_PLANE = f"Revgov-{STAGE}-ControlPlane"


def tenants_by_tier() -> dict[str, list[str]]:
    tiers: dict[str, list[str]] = {"pool": [], "silo": []}
    for path in sorted((REPO / "tenants").glob("*/tenant.yaml")):
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        tiers[config["tier"]].append(config["tenant_id"])
    return tiers


TIERS = tenants_by_tier()
SILO_STACKS = {f"Revgov-{STAGE}-Tenant-{t}": t for t in TIERS["silo"]}
ALL_STACKS = [CONTROL_PLANE, *SILO_STACKS]


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def one(template: dict[str, Any], kind: str) -> tuple[str, dict[str, Any]]:
    found = resources(template, kind)
    assert len(found) == 1, f"expected one {kind}, found {sorted(found)}"
    return next(iter(found.items()))


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


OPERATOR_FUNCTION = "Revgov operator API"  # the description the operator function's starts with


def is_operator_function(function: dict[str, Any]) -> bool:
    return str(function["Properties"].get("Description", "")).startswith(OPERATOR_FUNCTION)


def functions_by_handler(template: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every function but the operator API (which runs the same `app.app` handler as the tenant-scoped API)."""
    return {r["Properties"]["Handler"]: (k, r) for k, r in resources(template, "AWS::Lambda::Function").items()
            if not is_operator_function(r)}


def operator_function(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    [(key, function)] = [(k, r) for k, r in resources(template, "AWS::Lambda::Function").items()
                         if is_operator_function(r)]
    return key, function


def operator_routes() -> set[tuple[str, str]]:
    """(path, METHOD) of every operation whose roles are exactly {operator}, from the route table."""
    from revgov.domain.access import Role
    from revgov.edge.api import app  # noqa: F401  (registers the routes)
    from revgov.edge.registry import OPERATIONS

    return {(op.path, op.method.upper()) for op in OPERATIONS if op.roles == frozenset({Role.OPERATOR})}


def role_of(function: dict[str, Any]) -> str:
    return str(function["Properties"]["Role"]["Fn::GetAtt"][0])


def statements_of_role(template: dict[str, Any], role: str) -> Iterator[dict[str, Any]]:
    """Every identity-policy statement that applies to `role`: inline policies and attached AWS::IAM::Policy."""
    for policy in template["Resources"][role]["Properties"].get("Policies", []):
        yield from policy["PolicyDocument"]["Statement"]
    for policy in resources(template, "AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"].get("Roles", []):
            yield from policy["Properties"]["PolicyDocument"]["Statement"]


def all_statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for key, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        for policy in props.get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                yield key, statement
        if resource["Type"] == "AWS::IAM::Policy":
            for statement in props["PolicyDocument"]["Statement"]:
                yield key, statement


# --- the app as a whole -------------------------------------------------------------------------------------------
def test_one_control_plane_and_one_stack_per_silo_tenant(synth: Synth) -> None:
    assert TIERS["silo"], "tenants/ should hold at least one silo tenant (contoso) so the tenant stack is exercised"
    assert sorted(synth.templates) == sorted(ALL_STACKS)
    for pool_tenant in TIERS["pool"]:
        assert not any(pool_tenant in name for name in synth.templates), f"pool tenant {pool_tenant} got a stack"


def test_every_lambda_handler_exists_in_functions_app_py(synth: Synth) -> None:
    """Lambda loads `app.<name>` from functions/app.py: each handler the templates name must be defined there."""
    tree = ast.parse((REPO / "functions" / "app.py").read_text(encoding="utf-8"))
    exported = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                for alias in node.names}
    exported |= {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    exported |= {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign) for t in node.targets
                 if isinstance(t, ast.Name)}
    for name in ALL_STACKS:
        for handler in functions_by_handler(synth.templates[name]):
            module, attribute = handler.split(".")
            assert module == "app" and attribute in exported, f"functions/app.py does not expose {attribute}"


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_functions_are_traced_logged_and_packaged_without_docker(synth: Synth, stack: str) -> None:
    template = synth.templates[stack]
    handlers = functions_by_handler(template)
    expected = {"app.app", "app.api_key", *(f"app.{r['handler']}" for r in RULES["rules"]),
                *(f"app.{s['handler']}" for s in SCHEDULES["schedules"])}
    assert set(handlers) == expected
    assert operator_function(template)[1]["Properties"]["Handler"] == "app.app"  # the same Chalice app
    layer_key, _ = one(template, "AWS::Lambda::LayerVersion")
    for handler, (_, function) in [*handlers.items(), ("app.app (operator)", operator_function(template))]:
        props = function["Properties"]
        assert props["Runtime"] == "python3.11" and props["Architectures"] == ["arm64"]
        assert props["TracingConfig"] == {"Mode": "Active"}, handler
        assert props["Layers"] == [{"Ref": layer_key}]
        assert "S3Key" in props["Code"], "code must be a file asset, not inline or an image"
        env = props["Environment"]["Variables"]
        assert env["REVGOV_STAGE"] == STAGE
        assert env["REVGOV_SCHEMAS_DIR"] == "/var/task/schemas" and env["REVGOV_TENANTS_DIR"] == "/var/task/tenants"
        assert {"REVGOV_TABLE", "REVGOV_EVENT_BUS", "REVGOV_EVENTS_DIR", "REVGOV_MAX_BODY_BYTES"} <= set(env)
        log_group = template["Resources"][props["LoggingConfig"]["LogGroup"]["Ref"]]
        assert log_group["Properties"]["RetentionInDays"] == synth.context["log_retention_days"]
    manifest = json.loads((synth.outdir / f"{stack}.assets.json").read_text(encoding="utf-8"))
    assert not manifest.get("dockerImages"), "no Docker image assets: synth and deploy must not need Docker"


def test_code_asset_holds_the_app_and_only_the_tenants_it_serves(synth: Synth) -> None:
    build = Path(synth.context["build_dir"])
    pool = build / "code-pool"
    assert (pool / "app.py").is_file() and (pool / "revgov" / "edge" / "api.py").is_file()
    assert (pool / "events" / "rules.json").is_file() and (pool / "schemas" / "tenant.schema.json").is_file()
    assert sorted(p.name for p in (pool / "tenants").iterdir()) == sorted(TIERS["pool"])
    for tenant in TIERS["silo"]:
        assert [p.name for p in (build / f"code-silo-{tenant}" / "tenants").iterdir()] == [tenant]
    assert not list(pool.rglob("__pycache__"))


# --- data ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("stack", ALL_STACKS)
def test_table_matches_the_shared_spec_and_is_kept_safe(synth: Synth, stack: str) -> None:
    template = Template.from_json(synth.templates[stack])
    template.resource_count_is("AWS::DynamoDB::Table", 1)
    template.has_resource("AWS::DynamoDB::Table", {
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": TABLE.partition_key, "KeyType": "HASH"},
                          {"AttributeName": TABLE.sort_key, "KeyType": "RANGE"}],
            "GlobalSecondaryIndexes": [{
                "IndexName": TABLE.lookup_index,
                "KeySchema": [{"AttributeName": TABLE.lookup_partition_key, "KeyType": "HASH"},
                              {"AttributeName": TABLE.lookup_sort_key, "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }],
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True},
            "TimeToLiveSpecification": {"AttributeName": TABLE.ttl_attribute, "Enabled": True},
            "DeletionProtectionEnabled": True,
        },
    })
    _, table = one(synth.templates[stack], "AWS::DynamoDB::Table")
    wanted = TABLE.create_table_args("x")["AttributeDefinitions"]
    assert sorted(table["Properties"]["AttributeDefinitions"], key=str) == sorted(wanted, key=str)


# --- events -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("stack", ALL_STACKS)
def test_every_catalog_rule_feeds_its_handler_through_a_queue_with_dlq_and_alarm(synth: Synth, stack: str) -> None:
    template = synth.templates[stack]
    bus_key, _ = one(template, "AWS::Events::EventBus")
    handlers = functions_by_handler(template)
    queues = resources(template, "AWS::SQS::Queue")
    mappings = resources(template, "AWS::Lambda::EventSourceMapping").values()
    alarms = resources(template, "AWS::CloudWatch::Alarm").values()
    bus_rules = [r for r in resources(template, "AWS::Events::Rule").values() if "EventPattern" in r["Properties"]]
    assert len(bus_rules) == len(RULES["rules"])
    for rule in load_rules(REPO / "events"):
        [cfn_rule] = [r for r in bus_rules if r["Properties"]["Description"] == rule.description[:512]]
        assert cfn_rule["Properties"]["EventPattern"] == rule.pattern
        assert cfn_rule["Properties"]["EventBusName"] == {"Ref": bus_key}
        [target] = cfn_rule["Properties"]["Targets"]
        queue_key = target["Arn"]["Fn::GetAtt"][0]
        queue = queues[queue_key]["Properties"]
        dlq_key = queue["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert queue["RedrivePolicy"]["maxReceiveCount"] == rule.max_receive_count
        assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": [dlq_key, "Arn"]}
        assert queue["SqsManagedSseEnabled"] and queues[dlq_key]["Properties"]["SqsManagedSseEnabled"]
        function_key, _ = handlers[f"app.{rule.handler}"]
        [mapping] = [m for m in mappings if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [queue_key, "Arn"]}]
        assert mapping["Properties"]["FunctionName"] == {"Ref": function_key}
        assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        dlq_name = {"Fn::GetAtt": [dlq_key, "QueueName"]}
        [alarm] = [a for a in alarms if a["Properties"].get("Dimensions", [{}])[0].get("Value") == dlq_name]
        assert alarm["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert alarm["Properties"]["Threshold"] == 0
        assert alarm["Properties"]["ComparisonOperator"] == "GreaterThanThreshold"


SECONDS_PER_EMBEDDING = 0.5  # an allowance per sequential Bedrock invoke_model (TitanEmbedder), not a measurement


def embedding_calls(tenant_id: str) -> tuple[int, int]:
    """Bedrock calls of the contract indexer indexing the tenant's contracts afresh (one event re-indexes them all,
    services.contracts.reindex): (one per clause, and one per clause and per retrieval passage together), as
    adapters.opensearch_index embeds them."""
    from revgov.domain.copilot import prepare_document
    from revgov.domain.copilot_units import retrieval_passages

    clauses = calls = 0
    for path in sorted((REPO / "tenants" / tenant_id / "contracts").glob("*.md")):
        document = prepare_document(tenant_id, path.read_text(encoding="utf-8"), name=path.name)
        clauses += len(document.passages)
        calls += sum(1 + len(retrieval_passages(p.text)) for p in document.passages)
    return clauses, calls


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_the_contract_indexer_has_time_to_embed_every_clause_and_passage_of_a_tenant(synth: Synth, stack: str) -> None:
    """The indexer embeds each clause and each of its retrieval passages one Bedrock call at a time: its timeout holds
    the calls of the largest tenant it serves indexed afresh (a new tenant, or a new passage split), and each queue
    feeding it keeps a message invisible for longer than one attempt."""
    served = [SILO_STACKS[stack]] if stack in SILO_STACKS else TIERS["pool"]
    clauses, calls = max(embedding_calls(tenant_id) for tenant_id in served)
    assert calls > 3 * clauses  # the passages are most of the calls (whole clauses alone fitted the default minute)
    function_key, function = functions_by_handler(synth.templates[stack])["app.index_contracts"]
    timeout = function["Properties"]["Timeout"]
    assert calls * SECONDS_PER_EMBEDDING <= timeout <= 900, (calls, timeout)  # 900 s: Lambda's maximum
    queues = resources(synth.templates[stack], "AWS::SQS::Queue")
    fed_by = [m["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]
              for m in resources(synth.templates[stack], "AWS::Lambda::EventSourceMapping").values()
              if m["Properties"]["FunctionName"] == {"Ref": function_key}]
    assert len(fed_by) == 2  # rules contract-index and offboarded-index
    assert all(queues[q]["Properties"]["VisibilityTimeout"] > timeout for q in fed_by)


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_the_webhook_handler_may_delay_its_own_queues_messages_only(synth: Synth, stack: str) -> None:
    """deliver_webhooks backs off by changing a failed message's visibility: on its own queue, no other."""
    template = synth.templates[stack]
    _, function = functions_by_handler(template)["app.deliver_webhooks"]
    [rule] = [r for r in load_rules(REPO / "events") if r.handler == "deliver_webhooks"]
    [cfn_rule] = [r for r in resources(template, "AWS::Events::Rule").values()
                  if r["Properties"].get("Description") == rule.description[:512]]
    queue_arn = {"Fn::GetAtt": [cfn_rule["Properties"]["Targets"][0]["Arn"]["Fn::GetAtt"][0], "Arn"]}
    allowing = [st for st in statements_of_role(template, role_of(function))
                if "sqs:ChangeMessageVisibility" in as_list(st["Action"])]
    assert allowing and all(as_list(st["Resource"]) == [queue_arn] for st in allowing)


def _rate(minutes: int) -> str:
    """The schedule expression CDK writes for a rate of `minutes` (whole days or hours in those units)."""
    for unit, size in (("day", 1440), ("hour", 60), ("minute", 1)):
        if minutes % size == 0:
            count = minutes // size
            return f"rate({count} {unit}{'s' if count != 1 else ''})"
    raise AssertionError(minutes)


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_every_schedule_runs_its_handler_on_its_cadence(synth: Synth, stack: str) -> None:
    template = synth.templates[stack]
    for schedule in SCHEDULES["schedules"]:
        key, _ = functions_by_handler(template)[f"app.{schedule['handler']}"]
        Template.from_json(template).has_resource_properties("AWS::Events::Rule", {
            "ScheduleExpression": _rate(schedule["every_minutes"]),
            "State": "ENABLED",
            "Targets": [Match.object_like({"Arn": {"Fn::GetAtt": [key, "Arn"]}})],
        })


# --- the API ------------------------------------------------------------------------------------------------------
def _api(template: dict[str, Any]) -> dict[str, Any]:
    return dict(one(template, "AWS::ApiGateway::RestApi")[1]["Properties"]["Body"])


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_api_routes_come_from_the_chalice_app_and_are_authorized(synth: Synth, stack: str) -> None:
    from revgov.edge.api import app

    template = synth.templates[stack]
    body = _api(template)
    routes = {(path, method.upper()) for path, methods in body["paths"].items() for method in methods}
    assert routes == {(path, method) for path, methods in app.routes.items() for method in methods}
    api_key, _ = functions_by_handler(template)["app.api_key"]
    api_handler, _ = functions_by_handler(template)["app.app"]
    operator_handler, _ = operator_function(template)
    authorizer = body["securityDefinitions"]["api_key"]["x-amazon-apigateway-authorizer"]
    assert authorizer["type"] == "token" and authorizer["authorizerResultTtlInSeconds"] == 0
    assert {"Fn::GetAtt": [api_key, "Arn"]} in authorizer["authorizerUri"]["Fn::Join"][1]
    operator_only = operator_routes()
    for path, methods in app.routes.items():
        for method, view in methods.items():
            operation = body["paths"][path][method.lower()]
            uri = operation["x-amazon-apigateway-integration"]["uri"]
            served_by = operator_handler if (path, method) in operator_only else api_handler
            assert {"Fn::GetAtt": [served_by, "Arn"]} in uri["Fn::Join"][1], f"{method} {path}"
            if view.authorizer is not None:
                assert operation["security"] == [{"api_key": []}], f"{method} {path} is not behind the authorizer"
    public = {(p, m) for p, ms in app.routes.items() for m, v in ms.items() if v.authorizer is None}
    # Health, the spec and the HTML shells of the portal and the operations view are public (each page asks for a key
    # before it shows data); the ERP webhook authenticates by HMAC signature instead of a key.
    # CORS preflights (OPTIONS, no key: a browser sends none) are answered by the app itself (revgov.edge.cors).
    expected = {("/v1/health", "GET"), ("/v1/openapi.json", "GET"), ("/v1/webhooks/erp", "POST"), ("/portal", "GET"),
                ("/ops", "GET"), ("/favicon.ico", "GET")} | {(path, "OPTIONS") for path in app.routes}
    assert public <= expected, f"unexpected public routes {public}"


def _render(template: str) -> dict[str, Any]:
    """A gateway response template with API Gateway's variables filled in as API Gateway would."""
    text = template.replace("$context.error.messageString", json.dumps('a "quoted" message'))
    text = text.replace("$context.path", "/api/v1/partners/ptr_01ARZ3NDEKTSV4RRFFQ69G5FAV")
    return dict(json.loads(text.replace("$context.requestId", "6f1c2b1e-0000-4000-8000-000000000000")))


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_api_gateway_errors_are_problem_json(synth: Synth, stack: str) -> None:
    responses = _api(synth.templates[stack])["x-amazon-apigateway-gateway-responses"]
    required = {"UNAUTHORIZED": 401, "ACCESS_DENIED": 403, "MISSING_AUTHENTICATION_TOKEN": 404}
    assert set(required) | {"DEFAULT_4XX", "DEFAULT_5XX", "THROTTLED", "INTEGRATION_TIMEOUT"} <= set(responses)
    for response_type, response in responses.items():
        assert response["responseParameters"]["gatewayresponse.header.Content-Type"] == "'application/problem+json'"
        problem = _render(response["responseTemplates"]["application/json"])
        assert {"type", "title", "status", "detail"} <= set(problem), response_type
        # API.md: "`instance` is the request's path" — of every problem+json, the gateway's own answers included
        assert problem["instance"] == "/api/v1/partners/ptr_01ARZ3NDEKTSV4RRFFQ69G5FAV", response_type
        assert problem["type"].startswith("https://revgov.dev/problems/")
        assert problem["status"] == response["statusCode"], response_type
        if response_type in required:
            assert response["statusCode"] == required[response_type]
        elif response_type.startswith("DEFAULT_"):
            assert response["statusCode"] == (400 if response_type == "DEFAULT_4XX" else 500)
    assert _render(responses["MISSING_AUTHENTICATION_TOKEN"]["responseTemplates"]["application/json"])["detail"] == (
        "no such route"
    )
    assert not resources(synth.templates[stack], "AWS::ApiGateway::GatewayResponse"), (
        "gateway responses belong in the inline definition: CloudFormation overwrites the API from Body"
    )


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_gateway_made_answers_vary_by_origin_and_allow_no_origin(synth: Synth, stack: str) -> None:
    """#20: API Gateway's own answers (401, 403, 429, 4XX/5XX defaults) had no CORS headers at all. They come before
    the app knows the caller's tenant, so the gateway cannot tell a tenant's listed origin from any other: README
    ("In AWS, the answers API Gateway makes itself … carry `Vary: Origin` and no `Access-Control-Allow-Origin`").
    Fetch standard, CORS protocol: a response that depends on `Origin` must say `Vary: Origin`; credentials are
    never allowed (keys travel in `Authorization`)."""
    responses = _api(synth.templates[stack])["x-amazon-apigateway-gateway-responses"]
    assert {"UNAUTHORIZED", "ACCESS_DENIED", "THROTTLED", "QUOTA_EXCEEDED", "DEFAULT_4XX", "DEFAULT_5XX"} <= set(
        responses
    )
    for response_type, response in responses.items():
        headers = {
            name.removeprefix("gatewayresponse.header.").lower(): value
            for name, value in response["responseParameters"].items()
        }
        assert headers["vary"] == "'Origin'", response_type
        assert "access-control-allow-credentials" not in headers, response_type
        assert "access-control-allow-origin" not in headers, response_type  # neither `*` nor a reflected Origin


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_api_stage_is_traced_logged_and_throttled(synth: Synth, stack: str) -> None:
    Template.from_json(synth.templates[stack]).has_resource_properties("AWS::ApiGateway::Stage", {
        "TracingEnabled": True,
        "AccessLogSetting": Match.object_like({"DestinationArn": Match.any_value()}),
        "MethodSettings": [Match.object_like({
            "LoggingLevel": "ERROR", "DataTraceEnabled": False, "MetricsEnabled": True,
            "ThrottlingRateLimit": Match.any_value(), "ThrottlingBurstLimit": Match.any_value(),
        })],
    })


def test_only_the_control_plane_manages_the_account_api_gateway_logging_role(synth: Synth) -> None:
    assert len(resources(synth.templates[CONTROL_PLANE], "AWS::ApiGateway::Account")) == 1
    for stack in SILO_STACKS:
        assert not resources(synth.templates[stack], "AWS::ApiGateway::Account")


# --- isolation by IAM ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("stack", ALL_STACKS)
def test_tenant_access_role_is_fenced_by_leading_keys(synth: Synth, stack: str) -> None:
    template = synth.templates[stack]
    [(role_key, role)] = [(k, r) for k, r in resources(template, "AWS::IAM::Role").items() if "TenantAccessRole" in k]
    Template.from_json(template).has_resource_properties("AWS::IAM::Role", {
        "Policies": [{
            "PolicyName": "tenant-items",
            "PolicyDocument": Match.object_like({"Statement": Match.array_with([Match.object_like({
                "Effect": "Allow",
                "Condition": Match.object_like({
                    "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["T#${aws:PrincipalTag/TenantId}#*"]},
                }),
            })])}),
        }],
    })
    statements = list(statements_of_role(template, role_key))
    [statement] = [s for s in statements if s["Effect"] == "Allow"]
    assert "dynamodb:Scan" not in statement["Action"] and "dynamodb:*" not in statement["Action"]
    table_key, _ = one(template, "AWS::DynamoDB::Table")
    assert {"Fn::GetAtt": [table_key, "Arn"]} in statement["Resource"]
    # A _platform session (registry reads, platform outbox and audit) still cannot write the registry or operator keys
    # and no tenant session may put or delete a tenant's tombstone (revgov.ports.TOMBSTONE): it may only check it
    # (ConditionCheckItem, allowed above), so a handler of an offboarded tenant can never lift its own fence
    denies = {s["Sid"]: s for s in statements if s["Effect"] == "Deny"}
    assert denies["NoPlatformRegistryOrKeyWrites"]["Condition"] == {"ForAnyValue:StringEquals": {
        "dynamodb:LeadingKeys": ["T#_platform#TENANTS", "T#_platform#KEY"]}}
    assert denies["NoTombstoneWrites"]["Condition"] == {"ForAnyValue:StringLike": {
        "dynamodb:LeadingKeys": ["T#*#OFFBOARDED"]}}
    assert "dynamodb:ConditionCheckItem" in statement["Action"]
    assert set(denies) == {"NoPlatformRegistryOrKeyWrites", "NoTombstoneWrites"}
    for deny in denies.values():
        assert sorted(deny["Action"]) == ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:PutItem",
                                          "dynamodb:UpdateItem"]
        assert deny["Resource"] == {"Fn::GetAtt": [table_key, "Arn"]}
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    handlers = functions_by_handler(template)
    # the authorizer, and the registry sync (next test: it writes the registry, which no tenant session may)
    callers = {role_of(fn) for handler, (_, fn) in handlers.items()
               if handler not in ("app.api_key", "app.sync_tenant_registry")}
    assert {s["Principal"]["AWS"]["Fn::GetAtt"][0] for s in trust} == callers
    for s in trust:
        assert sorted(s["Action"]) == ["sts:AssumeRole", "sts:TagSession"]
        assert s["Condition"]["ForAllValues:StringEquals"] == {"aws:TagKeys": ["TenantId"]}
        if stack in SILO_STACKS:  # a silo's role opens sessions for its own tenant (and its table's platform items)
            assert s["Condition"]["StringEquals"] == {"aws:RequestTag/TenantId": [SILO_STACKS[stack], "_platform"]}
    for caller in callers:
        assume = [s for s in statements_of_role(template, caller) if "sts:TagSession" in as_list(s["Action"])]
        assert assume == [{"Action": ["sts:AssumeRole", "sts:TagSession"], "Effect": "Allow",
                           "Resource": {"Fn::GetAtt": [role_key, "Arn"]}, "Sid": "AssumeTenantScopedSession"}]
        fn = next(fn for _, fn in handlers.values() if role_of(fn) == caller)
        assert fn["Properties"]["Environment"]["Variables"]["REVGOV_TENANT_ROLE_ARN"] == {
            "Fn::GetAtt": [role_key, "Arn"]
        }


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_function_roles_have_no_broad_table_access(synth: Synth, stack: str) -> None:
    """Besides the operator function (next test), only the authorizer touches the table with its own role: reads of
    the KEY and TENANT partitions and the request counters of the rate limits, nothing else."""
    template = synth.templates[stack]
    for handler, (_, fn) in functions_by_handler(template).items():
        dynamo = [s for s in statements_of_role(template, role_of(fn))
                  if any(a.startswith("dynamodb:") for a in as_list(s["Action"]))]
        if handler == "app.sync_tenant_registry":
            # policy.activated -> the platform registry entry (a tenant session may not write it): profile and
            # registry reads, registry writes, nothing else
            assert "REVGOV_TENANT_ROLE_ARN" not in fn["Properties"]["Environment"]["Variables"]
            by_sid = {s["Sid"]: s for s in dynamo}
            assert set(by_sid) == {"ReadProfilesAndRegistry", "WriteRegistryOnly"}
            assert as_list(by_sid["ReadProfilesAndRegistry"]["Action"]) == ["dynamodb:GetItem"]
            assert by_sid["ReadProfilesAndRegistry"]["Condition"]["ForAllValues:StringLike"] == {
                "dynamodb:LeadingKeys": ["T#*#TENANT", "T#_platform#TENANTS"]}
            assert as_list(by_sid["WriteRegistryOnly"]["Action"]) == ["dynamodb:PutItem"]
            assert by_sid["WriteRegistryOnly"]["Condition"]["ForAllValues:StringLike"] == {
                "dynamodb:LeadingKeys": ["T#_platform#TENANTS"]}
            assert all(s["Condition"]["Null"] == {"dynamodb:LeadingKeys": "false"} for s in dynamo)
            continue
        if handler != "app.api_key":
            assert dynamo == [], f"{handler} must reach the table only through TenantAccessRole"
            assert "REVGOV_TENANT_ROLE_ARN" in fn["Properties"]["Environment"]["Variables"]
            continue
        assert "REVGOV_TENANT_ROLE_ARN" not in fn["Properties"]["Environment"]["Variables"]
        by_sid = {s["Sid"]: s for s in dynamo}
        assert set(by_sid) == {"ResolveApiKeysOnly", "CountRequestsOnly"}
        count = by_sid["CountRequestsOnly"]
        assert as_list(count["Action"]) == ["dynamodb:UpdateItem"]
        assert count["Condition"]["ForAllValues:StringLike"] == {"dynamodb:LeadingKeys": ["T#*#RATELIMIT"]}
        assert count["Condition"]["Null"] == {"dynamodb:LeadingKeys": "false"}
        statement = by_sid["ResolveApiKeysOnly"]
        assert sorted(statement["Action"]) == ["dynamodb:BatchGetItem", "dynamodb:GetItem"]
        assert statement["Condition"]["ForAllValues:StringLike"] == {"dynamodb:LeadingKeys": ["T#*#KEY", "T#*#TENANT"]}
        assert statement["Condition"]["Null"] == {"dynamodb:LeadingKeys": "false"}
        assert not isinstance(statement["Resource"], list), "the table only: no index queries"


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_operator_routes_run_in_their_own_function_with_table_access(synth: Synth, stack: str) -> None:
    """Operator-only operations (one transaction over the registry and a tenant; offboarding's Scan) run in the
    operator function: table access of its own, no TenantAccessRole. Every other route stays tenant-scoped."""
    template = synth.templates[stack]
    operator_key, operator = operator_function(template)
    api_key_fn, api = functions_by_handler(template)["app.app"]
    operator_only = operator_routes()
    assert {("/v1/tenants", "POST"), ("/v1/tenants/{tenant_id}", "DELETE"), ("/v1/tenants/{tenant_id}/suspend", "POST"),
            ("/v1/tenants/{tenant_id}/keys", "POST"),
            ("/v1/tenants/{tenant_id}/webhook-secret/rotate", "POST")} <= operator_only
    assert ("/v1/keys", "POST") not in operator_only and ("/v1/audit", "GET") not in operator_only
    body = _api(template)
    served = {(path, method.upper()): op["x-amazon-apigateway-integration"]["uri"]["Fn::Join"][1]
              for path, methods in body["paths"].items() for method, op in methods.items()}
    assert {route for route, uri in served.items() if {"Fn::GetAtt": [operator_key, "Arn"]} in uri} == operator_only
    assert {route for route, uri in served.items() if {"Fn::GetAtt": [api_key_fn, "Arn"]} in uri} == (
        set(served) - operator_only
    )
    # API Gateway may invoke it (as it may the tenant-scoped function)
    invokers = [r["Properties"] for r in resources(template, "AWS::Lambda::Permission").values()
                if r["Properties"]["FunctionName"] == {"Fn::GetAtt": [operator_key, "Arn"]}]
    assert [p["Principal"] for p in invokers] == ["apigateway.amazonaws.com"]

    operator_env = operator["Properties"]["Environment"]["Variables"]
    assert "REVGOV_TENANT_ROLE_ARN" not in operator_env
    assert "REVGOV_TENANT_ROLE_ARN" in api["Properties"]["Environment"]["Variables"]
    operator_role = role_of(operator)
    table_key, _ = one(template, "AWS::DynamoDB::Table")
    [table] = [s for s in statements_of_role(template, operator_role)
               if any(a.startswith("dynamodb:") for a in as_list(s["Action"]))]
    assert table["Sid"] == "OperatorTableAccess" and "Condition" not in table
    assert {"dynamodb:Scan", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
            "dynamodb:Query", "dynamodb:GetItem", "dynamodb:ConditionCheckItem"} <= set(table["Action"])
    assert table["Resource"] == {"Fn::GetAtt": [table_key, "Arn"]}, "the table only"
    assert not [s for s in statements_of_role(template, operator_role) if "sts:AssumeRole" in as_list(s["Action"])]
    [(_, tenant_role)] = [(k, r) for k, r in resources(template, "AWS::IAM::Role").items() if "TenantAccessRole" in k]
    trusted = {s["Principal"]["AWS"]["Fn::GetAtt"][0] for s in tenant_role["Properties"]["AssumeRolePolicyDocument"][
        "Statement"]}
    assert operator_role not in trusted and role_of(api) in trusted
    # the tenant-scoped API function: no table statement at all, only the way into TenantAccessRole
    assert not [s for s in statements_of_role(template, role_of(api))
                if any(a.startswith("dynamodb:") for a in as_list(s["Action"]))]


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_no_statement_allows_scans_or_wildcard_resources_beyond_xray(synth: Synth, stack: str) -> None:
    """Scan only for the operator function (offboarding), on the table and nothing else."""
    template = synth.templates[stack]
    operator_role = role_of(operator_function(template)[1])
    table_key, _ = one(template, "AWS::DynamoDB::Table")
    for key, statement in all_statements(template):
        actions = as_list(statement["Action"])
        assert not {"dynamodb:*", "dynamodb:PartiQLSelect", "*"} & set(actions), key
        if "dynamodb:Scan" in actions:
            assert template["Resources"][key]["Properties"].get("Roles") == [{"Ref": operator_role}], key
            assert statement["Resource"] == {"Fn::GetAtt": [table_key, "Arn"]}, key
        assert not any(a.endswith(":*") for a in actions), f"{key}: wildcard action {actions}"
        if "*" in as_list(statement.get("Resource")):
            assert set(actions) <= {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, f"{key}: {actions} on *"


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_bedrock_is_scoped_to_the_models_each_function_uses(synth: Synth, stack: str) -> None:
    """DESIGN.md: "Answers come from Bedrock (Converse) in AWS"; docs/copilot.md: "AWS: Titan Text Embeddings v2
    (`REVGOV_EMBEDDER=bedrock`)". The layer has no local embedder, so the API and the contract indexer both embed
    with the configured embedding model (a question's vector must match the index's); the API answers with the
    first answer model and may invoke every configured model (stacks/README.md), the indexer the embedding model
    only; no other function reaches Bedrock."""
    template = synth.templates[stack]
    granted = {key: s for key, s in all_statements(template)
               if any(a.startswith("bedrock:") for a in as_list(s["Action"]))}
    handlers = functions_by_handler(template)
    roles = {role_of(handlers[h][1]): h for h in ("app.app", "app.index_contracts")}
    by_function = {}
    for policy_key, statement in granted.items():
        [role] = [r["Ref"] for r in template["Resources"][policy_key]["Properties"]["Roles"]]
        by_function[roles[role]] = statement
    assert set(by_function) == {"app.app", "app.index_contracts"}
    for statement in by_function.values():
        assert sorted(statement["Action"]) == ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
    api_arns = json.dumps(by_function["app.app"]["Resource"])
    for model in MODELS:
        assert f"foundation-model/{model.removeprefix('eu.')}" in api_arns
    assert "inference-profile/eu.anthropic" in api_arns
    assert len(by_function["app.app"]["Resource"]) == 4  # two models, and a profile with its model
    assert as_list(by_function["app.index_contracts"]["Resource"]) == [{"Fn::Join": ["", [
        "arn:", {"Ref": "AWS::Partition"}, ":bedrock:", {"Ref": "AWS::Region"},
        "::foundation-model/amazon.titan-embed-text-v2:0"]]}]
    api_env, indexer_env = (handlers[h][1]["Properties"]["Environment"]["Variables"]
                            for h in ("app.app", "app.index_contracts"))
    for env in (api_env, indexer_env):
        assert env["REVGOV_EMBEDDER"] == "bedrock"
        assert env["REVGOV_EMBEDDING_MODEL"] == "amazon.titan-embed-text-v2:0"
    assert api_env["REVGOV_ANSWERER"] == "bedrock" and api_env["REVGOV_ANSWER_MODEL"] == MODELS[0]
    assert "REVGOV_ANSWERER" not in indexer_env


def test_a_model_list_without_an_embedding_model_is_refused_at_synthesis() -> None:
    """Without one the functions could neither index nor search contracts (the layer has no local embedder)."""
    from revgov_stacks.bedrock import split_bedrock_models, wire_copilot_models

    assert split_bedrock_models(tuple(MODELS)) == (tuple(MODELS[:2]), ("amazon.titan-embed-text-v2:0",))
    with pytest.raises(ValueError, match="no embedding model"):
        wire_copilot_models(None, None, tuple(MODELS[:2]))  # type: ignore[arg-type]


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_search_indexes_are_fenced_per_tenant(synth: Synth, stack: str) -> None:
    template = synth.templates[stack]
    tenants = TIERS["pool"] if stack == CONTROL_PLANE else [SILO_STACKS[stack]]
    policies = [json.loads(_joined(p["Properties"]["Policy"]))
                for p in resources(template, "AWS::OpenSearchServerless::AccessPolicy").values()]
    entries = [entry for policy in policies for entry in policy]
    assert len(entries) == len(tenants)
    roles = resources(template, "AWS::IAM::Role")
    # CPA-11.3: a silo tenant's indexes live in its own collection ("not shared with other programs")
    collection = f"revgov-{STAGE}" if stack == CONTROL_PLANE else f"revgov-{STAGE}-{SILO_STACKS[stack]}"
    for tenant, entry in zip(tenants, entries, strict=True):
        [rule] = entry["Rules"]
        assert rule["ResourceType"] == "index"
        assert rule["Resource"] == [f"index/{collection}/{tenant}_*"]  # `_` never occurs in a tenant id
        # the app's index for the tenant (revgov.resources.SEARCH) is inside the pattern, and no other tenant's is
        assert SEARCH.clause_index(tenant) == f"{tenant}_clauses"
        pattern = rule["Resource"][0].removeprefix(f"index/{collection}/")
        assert fnmatch.fnmatchcase(SEARCH.clause_index(tenant), pattern)
        others = [t for t in [*TIERS["pool"], *TIERS["silo"], f"{tenant}-2", tenant[:-1]] if t != tenant]
        assert not [t for t in others if fnmatch.fnmatchcase(SEARCH.clause_index(t), pattern)]
        assert "aoss:*" not in rule["Permission"] and "aoss:ReadDocument" in rule["Permission"]
        [principal] = entry["Principal"]
        role = roles[principal.removeprefix("<ref:").removesuffix(">")]
        assert role["Properties"]["RoleName"] == f"revgov-{STAGE}-search-{tenant}"
    Template.from_json(template).has_resource_properties("AWS::OpenSearchServerless::Collection", {
        "Name": collection, "Type": "VECTORSEARCH"})
    security = resources(template, "AWS::OpenSearchServerless::SecurityPolicy").values()  # each stack: its collection's
    assert {p["Properties"]["Type"] for p in security} == {"encryption", "network"}


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_the_api_function_reaches_search_only_as_each_tenant_search_role(synth: Synth, stack: str) -> None:
    """The API function and the contract indexer (rule contract-index) have no data access of their own: they assume
    `revgov-<stage>-search-<tenant>` (named by the template they are given), whose trust policy admits those two
    functions' roles and nothing else."""
    template = synth.templates[stack]
    tenants = TIERS["pool"] if stack == CONTROL_PLANE else [SILO_STACKS[stack]]
    handlers = functions_by_handler(template)
    _, api = handlers["app.app"]
    _, indexer = handlers["app.index_contracts"]
    searchers = [role_of(api), role_of(indexer)]
    for fn in (api, indexer):
        env = fn["Properties"]["Environment"]["Variables"]
        assert (env["REVGOV_COPILOT_INDEX"], env["REVGOV_OPENSEARCH_SERVICE"]) == ("opensearch", "aoss")
        assert "CollectionEndpoint" in json.dumps(env["REVGOV_OPENSEARCH_ENDPOINT"])
        arn_template = _flattened(env["REVGOV_SEARCH_ROLE_ARN_TEMPLATE"])
        assert arn_template == f"arn:<AWS::Partition>:iam::<AWS::AccountId>:role/revgov-{STAGE}-search-{{tenant_id}}"
    roles = {r["Properties"]["RoleName"]: k for k, r in resources(template, "AWS::IAM::Role").items()
             if "search" in str(r["Properties"].get("RoleName", ""))}
    assert sorted(roles) == sorted(arn_template.format(tenant_id=t).rsplit("/", 1)[1] for t in tenants)
    for key in roles.values():
        trust = template["Resources"][key]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert all(s["Action"] == "sts:AssumeRole" and s["Effect"] == "Allow" for s in trust)
        assert all(set(s["Principal"]) == {"AWS"} for s in trust)
        principals = [p for s in trust for p in as_list(s["Principal"]["AWS"])]
        assert sorted(principals, key=json.dumps) == sorted(({"Fn::GetAtt": [r, "Arn"]} for r in searchers),
                                                             key=json.dumps)
    search_arns = sorted(({"Fn::GetAtt": [key, "Arn"]} for key in roles.values()), key=json.dumps)
    for searcher in searchers:
        assumed = [s for s in statements_of_role(template, searcher)
                   if s["Action"] == "sts:AssumeRole" and s["Resource"] != {"Fn::GetAtt": [searcher, "Arn"]}]
        assert [sorted(as_list(s["Resource"]), key=json.dumps) for s in assumed] == [search_arns]
        own = list(statements_of_role(template, searcher))  # the function's own role: no search data access at all
        assert not [s for s in own if any(str(a).startswith("aoss:") for a in as_list(s["Action"]))]
    for _, fn in handlers.values():  # no other function may open a search session
        if role_of(fn) not in searchers:
            granted = json.dumps(list(statements_of_role(template, role_of(fn))))
            assert not [key for key in roles.values() if key in granted]


def _flattened(value: Any) -> str:
    """An Fn::Join of strings and pseudo-parameter Refs, written with <AWS::...> for each Ref."""
    if isinstance(value, str):
        return value
    return "".join(p if isinstance(p, str) else f"<{p['Ref']}>" for p in value["Fn::Join"][1])


def _joined(value: Any) -> str:
    """Flatten an Fn::Join of a JSON policy, writing references as <ref:LogicalId>."""
    if isinstance(value, str):
        return value
    parts = value["Fn::Join"][1]
    return "".join(p if isinstance(p, str) else f"<ref:{p['Fn::GetAtt'][0]}>" for p in parts)


# --- configuration, secrets, lint, nag ----------------------------------------------------------------------------
@pytest.mark.parametrize("stack", ALL_STACKS)
def test_no_secrets_or_parameters_in_templates(synth: Synth, stack: str) -> None:
    text = json.dumps(synth.templates[stack])
    assert not re.search(r"rgk\.[a-z_]", text), "an API key in a template"
    assert not re.search(r"AKIA[0-9A-Z]{16}|BEGIN [A-Z ]*PRIVATE KEY", text)
    assert not [p for p in synth.templates[stack].get("Parameters", {}).values() if p.get("NoEcho")]


def test_account_and_region_come_from_context(synth: Synth) -> None:
    for stack in [synth.control_plane, *synth.silos]:
        assert (stack.account, stack.region) == (ACCOUNT, synth.context["region"])


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_cfn_lint_finds_no_errors(synth: Synth, stack: str) -> None:
    from cfnlint.api import ManualArgs, lint

    text = (synth.outdir / f"{stack}.template.json").read_text(encoding="utf-8")
    matches = lint(text, config=ManualArgs(regions=[synth.context["region"]]))
    errors = [f"{m.rule.id} {m.message}" for m in matches if m.rule.id.startswith("E")]
    assert errors == []
    # W3005: CDK's DependsOn from each function to its role's default policy; harmless and standard.
    warnings = [f"{m.rule.id} {m.message}" for m in matches if m.rule.id.startswith("W") and m.rule.id != "W3005"]
    assert warnings == []


def test_cdk_nag_aws_solutions_passes_with_reasoned_acknowledgments(synth: Synth) -> None:
    nag = [p for p in synth.report["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    assert all(p["conclusion"] == "success" and not p["violations"] for p in nag)
    reasons = {}
    for stack, template in synth.templates.items():
        for key, resource in template["Resources"].items():
            for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
                reasons[(stack, key, rule["id"])] = rule["reason"]
    assert reasons, "cdk-nag wrote no acknowledgments: did the AwsSolutions plugin run?"
    assert all(len(reason) >= 20 for reason in reasons.values())
    other = [p for p in synth.report["pluginReports"] if p["pluginName"] != "AwsSolutions"]
    assert not [v for p in other for v in p["violations"]], "CDK's own template validation reported findings"


def test_cdk_nag_fails_synthesis_on_an_unacknowledged_finding(tmp_path: Path) -> None:
    from aws_cdk import App, Stack
    from aws_cdk import aws_sqs as sqs

    from revgov_stacks.nag import add_checks

    app = App(outdir=str(tmp_path))
    sqs.Queue(Stack(app, "Probe"), "Plain")
    add_checks(app)
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()


def test_synth_refuses_a_missing_or_stale_layer(tmp_path: Path) -> None:
    from revgov_stacks.packaging import LAYER_MANIFEST, LayerNotBuilt
    from revgov_stacks.stacks import build_app

    context = make_context(tmp_path)
    with pytest.raises(LayerNotBuilt, match=r"build_layer\.py"):
        build_app({**context, "layer_dir": str(tmp_path / "nowhere")}, outdir=str(tmp_path / "out1"), env={})
    manifest = Path(context["layer_dir"]) / LAYER_MANIFEST
    manifest.write_text(json.dumps({"requirements": ["chalice"], "architecture": "arm64"}), encoding="utf-8")
    with pytest.raises(LayerNotBuilt, match="rebuild"):
        build_app(context, outdir=str(tmp_path / "out2"), env={})


def test_config_reads_context_then_environment_and_rejects_bad_values() -> None:
    from revgov_stacks.config import ConfigError, DeployConfig

    config = DeployConfig.load({}, {"REVGOV_STAGE": "prod", "CDK_DEFAULT_ACCOUNT": ACCOUNT,
                                    "CDK_DEFAULT_REGION": "us-east-1", "REVGOV_BEDROCK_MODEL_IDS": "a.b-v1:0,c.d"})
    assert (config.stage, config.account, config.region) == ("prod", ACCOUNT, "us-east-1")
    assert config.bedrock_model_ids == ("a.b-v1:0", "c.d")
    assert DeployConfig.load({"stage": "qa"}, {"REVGOV_STAGE": "prod"}).stage == "qa"
    for bad in ({"stage": "Prod!"}, {"api_domain_name": "api.example.com"}, {"account": "12"},
                {"log_retention_days": 31}, {"alarm_topic_arn": "topic"}):
        with pytest.raises(ConfigError):
            DeployConfig.load(bad, {})


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_the_outputs_are_named_as_stacks_readme_says(synth: Synth, stack: str) -> None:
    """stacks/README.md: `REVGOV_TABLE=<TableName output>` and `--url <ApiUrl output>`."""
    readme = (Path(__file__).resolve().parents[2] / "stacks" / "README.md").read_text()
    named = set(re.findall(r"<(\w+) output>", readme))
    assert {"TableName", "ApiUrl"} <= named
    outputs = synth.templates[stack]["Outputs"]
    assert named <= set(outputs), sorted(outputs)
