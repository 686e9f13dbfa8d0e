"""The REST API, generated from the Chalice app's own route table so routes have one source of truth.

Chalice's `SwaggerGenerator` (what `chalice package` uses) turns `app.routes` and the built-in authorizer into a
Swagger document; here its integration URIs point at the CDK functions instead of Chalice-deployed ones. No
`chalice package` run (it pip-installs and needs the network), no SAM transform, nothing slow at synth.

Two functions serve the routes, both running the same Chalice app: the operator-only routes go to the operator
function (broad table access), every other route to the tenant-scoped API function (no table access of its own).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aws_cdk import Aws, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from chalice import Chalice
from chalice.app import ChaliceAuthorizer
from chalice.deploy.swagger import SwaggerGenerator
from constructs import Construct

from .config import DeployConfig
from .nag import acknowledge

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://revgov.dev/problems/"
API_STAGE = "api"

_KINDS = {  # status -> (type slug, title), the same slugs and titles as revgov.domain.errors
    400: ("malformed-request", "Malformed request"),
    401: ("unauthenticated", "Missing or invalid credentials"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    429: ("rate-limited", "Too many requests"),
    500: ("internal", "Internal error"),
    504: ("gateway-timeout", "Upstream timeout"),
}


# CORS on answers API Gateway makes itself (401 from the authorizer, 403, 429 throttling, 4XX/5XX defaults). The
# app answers CORS per tenant from `branding.allowed_origins` (revgov.edge.cors), but these answers are made before
# the app runs or without it: the gateway knows neither the caller's tenant nor any tenant's origins, so it cannot
# tell a reseller's listed origin from any other. Reflecting `Origin` would let every site read them; a fixed list
# would be one tenant's. The safe choice: no `Access-Control-Allow-Origin` (and never
# `Access-Control-Allow-Credentials`), only `Vary: Origin`, so that no cache between browser and API serves one
# origin's answer to another. A browser app sees such an answer as a failed request (a network error, no status); it
# should retry with backoff and, when it keeps failing, check its key (docs: README "CORS").
GATEWAY_CORS_HEADERS = {"gatewayresponse.header.Vary": "'Origin'"}


@dataclass(frozen=True)
class GatewayProblem:
    response_type: str
    status: int
    detail: str | None = None  # None: API Gateway's own message, JSON-quoted by $context.error.messageString

    def swagger(self) -> dict[str, Any]:
        """The `x-amazon-apigateway-gateway-responses` entry for this response type."""
        parameters = {"gatewayresponse.header.Content-Type": f"'{PROBLEM_JSON}'", **GATEWAY_CORS_HEADERS}
        if self.status == 401:  # RFC 9110 §11.6.1 / RFC 6750 §3: a 401 names its scheme (the app's 401s do too)
            parameters["gatewayresponse.header.WWW-Authenticate"] = "'Bearer realm=\"revgov\"'"
        return {
            "statusCode": self.status,
            "responseParameters": parameters,
            "responseTemplates": {"application/json": self.template()},
        }

    def template(self) -> str:
        """problem+json with API.md's members: `instance` is the request's path. Gateway templates allow only simple
        variable substitution (no VTL), so it is `$context.path` as API Gateway received it: on the execute-api host
        that includes the stage (`/api/v1/...`), the path the caller actually asked for."""
        slug, title = _KINDS[self.status]
        detail = json.dumps(self.detail) if self.detail is not None else "$context.error.messageString"
        return (
            f'{{"type":"{PROBLEM_BASE}{slug}","title":"{title}","status":{self.status},'
            f'"detail":{detail},"instance":"$context.path","correlation_id":"$context.requestId"}}'
        )


# Every response type API Gateway can answer with, at its documented status (MISSING_AUTHENTICATION_TOKEN is what
# API Gateway says for an unknown route, so it becomes a 404), plus the two catch-alls for types added later.
GATEWAY_PROBLEMS = (
    GatewayProblem("UNAUTHORIZED", 401, "send Authorization: Bearer <api key>"),
    GatewayProblem("ACCESS_DENIED", 403),
    GatewayProblem("MISSING_AUTHENTICATION_TOKEN", 404, "no such route"),
    GatewayProblem("RESOURCE_NOT_FOUND", 404),
    GatewayProblem("BAD_REQUEST_BODY", 400),
    GatewayProblem("BAD_REQUEST_PARAMETERS", 400),
    GatewayProblem("EXPIRED_TOKEN", 403),
    GatewayProblem("INVALID_API_KEY", 403),
    GatewayProblem("INVALID_SIGNATURE", 403),
    GatewayProblem("WAF_FILTERED", 403),
    GatewayProblem("REQUEST_TOO_LARGE", 413),
    GatewayProblem("UNSUPPORTED_MEDIA_TYPE", 415),
    GatewayProblem("THROTTLED", 429),
    GatewayProblem("QUOTA_EXCEEDED", 429),
    GatewayProblem("AUTHORIZER_FAILURE", 500, "the request could not be authorized; retry"),
    GatewayProblem("AUTHORIZER_CONFIGURATION_ERROR", 500, "the request could not be authorized; retry"),
    GatewayProblem("API_CONFIGURATION_ERROR", 500, "an unexpected error occurred"),
    GatewayProblem("INTEGRATION_FAILURE", 504, "the service did not answer; retry"),
    GatewayProblem("INTEGRATION_TIMEOUT", 504, "the service did not answer in time; retry"),
    GatewayProblem("DEFAULT_4XX", 400),
    GatewayProblem("DEFAULT_5XX", 500, "an unexpected error occurred"),
)


def _invoke_uri(function: lambda_.IFunction) -> str:
    return (
        f"arn:{Aws.PARTITION}:apigateway:{Aws.REGION}:lambda:path/2015-03-31/functions/"
        f"{function.function_arn}/invocations"
    )


class _CdkSwagger(SwaggerGenerator):  # type: ignore[misc]
    """Chalice's Swagger generator with integration URIs pointing at CDK-defined functions."""

    def __init__(
        self,
        handler: lambda_.IFunction,
        authorizers: dict[str, lambda_.IFunction],
        operator_handler: lambda_.IFunction | None = None,
        operator_routes: frozenset[tuple[str, str]] = frozenset(),
    ) -> None:
        super().__init__(region="", deployed_resources={})
        self._handler = handler
        self._authorizers = authorizers
        self._operator_handler = operator_handler
        self._operator_routes = operator_routes

    def _uri(self, lambda_arn: str | None = None) -> str:
        return _invoke_uri(self._handler)

    def _generate_apig_integ(self, view: Any) -> dict[str, Any]:
        integration = dict(super()._generate_apig_integ(view))
        if self._operator_handler is not None and (view.uri_pattern, view.method.upper()) in self._operator_routes:
            integration["uri"] = _invoke_uri(self._operator_handler)
        return integration

    def _auth_uri(self, authorizer: ChaliceAuthorizer) -> str:
        return _invoke_uri(self._authorizers[authorizer.name])

    def _add_to_security_definition(self, security: Any, api_config: dict[str, Any], view: Any) -> None:
        """Chalice's version writes usage-plan API-key security under the fixed name `api_key`, which silently
        replaces an authorizer of that name (Revgov's) with "send x-api-key": every call would get 403. Revgov uses
        no usage-plan keys, so only the authorizer is written."""
        if view.api_key_required:
            raise ValueError(f"{view.path}: usage-plan API keys (api_key_required) are not part of Revgov's API")
        if view.authorizer is not None:
            self._generate_security_from_auth_obj(api_config, view.authorizer)


def swagger_from_chalice(
    app: Chalice,
    handler: lambda_.IFunction,
    authorizers: dict[str, lambda_.IFunction],
    operator_handler: lambda_.IFunction | None = None,
    operator_routes: frozenset[tuple[str, str]] = frozenset(),
) -> dict[str, Any]:
    """Chalice's Swagger for `app`, plus the problem+json gateway responses; `operator_routes` go to `operator_handler`.

    The gateway responses live in the definition rather than as separate AWS::ApiGateway::GatewayResponse
    resources: CloudFormation imports an inline Body in overwrite mode, which would drop responses defined beside it.
    """
    routes = {(path, method.upper()) for path, methods in app.routes.items() for method in methods}
    unknown = sorted(operator_routes - routes)
    if unknown:
        raise ValueError(f"operator routes the Chalice app does not have: {unknown}")
    swagger = dict(_CdkSwagger(handler, authorizers, operator_handler, operator_routes).generate_swagger(app))
    swagger["x-amazon-apigateway-gateway-responses"] = {p.response_type: p.swagger() for p in GATEWAY_PROBLEMS}
    return swagger


class ChaliceRestApi(Construct):
    """A regional REST API for a Chalice app: routes from the app, problem+json gateway responses, logs, X-Ray."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        name: str,
        app: Chalice,
        handler: lambda_.Function,
        authorizers: dict[str, lambda_.Function],
        manage_cloudwatch_role: bool,
        domain_name: str | None,
        operator_handler: lambda_.Function | None = None,
        operator_routes: frozenset[tuple[str, str]] = frozenset(),
    ) -> None:
        super().__init__(scope, construct_id)
        self.swagger = swagger_from_chalice(app, handler, dict(authorizers), operator_handler, operator_routes)
        access_logs = logs.LogGroup(
            self, "AccessLogs", retention=config.log_retention
        )
        self.api = apigw.SpecRestApi(
            self,
            "Api",
            rest_api_name=name,
            description=f"Revgov API ({name}); routes generated from the Chalice app",
            api_definition=apigw.ApiDefinition.from_inline(self.swagger),
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=manage_cloudwatch_role,
            deploy_options=apigw.StageOptions(
                stage_name=API_STAGE,
                tracing_enabled=True,
                metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # would log request bodies: partner and pricing data
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False, http_method=True, ip=True, protocol=True, request_time=True,
                    resource_path=True, response_length=True, status=True, user=False,
                ),
                throttling_rate_limit=config.throttle_rate,
                throttling_burst_limit=config.throttle_burst,
            ),
        )
        # Inline definitions do not change the deployment's logical id by themselves: without this, new routes or
        # gateway responses would never reach the stage.
        self.api.latest_deployment.add_to_logical_id({"swagger": self.swagger})  # type: ignore[union-attr]
        stack = Stack.of(self)
        for function in [handler, *([operator_handler] if operator_handler else [])]:
            function.add_permission(
                "InvokeFromApi",
                principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
                source_arn=self.api.arn_for_execute_api(),
            )
        for auth_name, function in authorizers.items():
            function.add_permission(
                f"InvokeAuthorizer{auth_name.title().replace('_', '')}",
                principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
                source_arn=stack.format_arn(
                    service="execute-api", resource=self.api.rest_api_id, resource_name="authorizers/*"
                ),
            )
        if domain_name and config.api_certificate_arn:
            self.api.add_domain_name(
                "Domain",
                domain_name=domain_name,
                certificate=acm.Certificate.from_certificate_arn(self, "Certificate", config.api_certificate_arn),
                endpoint_type=apigw.EndpointType.REGIONAL,
                security_policy=apigw.SecurityPolicy.TLS_1_2,
            )
        self._acknowledge()

    def _acknowledge(self) -> None:
        # AwsSolutions-APIG4/COG4 (authorization) cannot see methods inside an inline definition; the tests check
        # instead that every route but the public ones carries the api_key authorizer.
        acknowledge(self.api, "AwsSolutions-APIG2",
                    "Requests are validated in the function against schemas/ (JSON Schema 2020-12, strict JSON), "
                    "the same validation the local stack runs, with problem+json errors; an API Gateway model "
                    "would be a second, divergent copy of those schemas.")
        acknowledge(self.api, "AwsSolutions-APIG3",
                    "No WAF web ACL by default (about 6 USD/month at rest per ACL); abuse is bounded by stage "
                    "throttling and per-tenant plan limits in the app. Attach a web ACL per stage if required.")
        if self.api.node.try_find_child("CloudWatchRole"):
            acknowledge(self.api, "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                        "AmazonAPIGatewayPushToCloudWatchLogs]",
                        "The account-level role API Gateway uses to write execution logs; the AWS managed policy "
                        "is the documented one and is scoped to CloudWatch Logs.")

