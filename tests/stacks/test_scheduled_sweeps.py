"""Every scheduled sweep the product has runs in AWS, on the cadence the docs claim, with no more IAM than it needs.

The list is derived from the code, never written here, so a sweep added later cannot be forgotten:
- a tenant sweep is a service function named `sweep`, `sweep_*`, `watch`, `watch_*` or `*_due` that takes
  `(rt, tenant_id)` (services.renewals.sweep_terms, services.month_close.watch, policy_drafts.activate_due, ...);
  each must be called by a Lambda handler (`@app.lambda_function`) that events/schedules.json schedules;
- each bounded agent of services.agents.AGENTS has a scheduled handler of its own;
- each Lambda handler the Chalice app defines has a trigger in every template: a schedule or an SQS queue of a rule.
events/schedules.json says: "The CDK stacks create one EventBridge schedule per entry against the named
@app.lambda_function; the local stack runs the same handlers on the same cadence". The embedded engine's own
housekeeping (its TTL sweep, revgov.local.stack) has no AWS counterpart to check: DynamoDB expires items itself.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_stacks import (
    ALL_STACKS,
    REPO,
    SCHEDULES,
    Synth,
    _rate,
    as_list,
    functions_by_handler,
    operator_function,
    resources,
    role_of,
    statements_of_role,
)

pytestmark = pytest.mark.xdist_group("cdk-synth")  # the synthesis of tests/stacks/conftest.py, once per worker

CODE = REPO / "functions" / "revgov"
SWEEP_NAME = re.compile(r"(sweep|watch)(_\w+)?|\w+_due")
BY_HANDLER = {s["handler"]: s for s in SCHEDULES["schedules"]}


# --- what the code defines ----------------------------------------------------------------------------------------
def _module_name(path: Path) -> str:
    parts = path.relative_to(CODE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def tenant_sweeps() -> dict[str, Any]:
    """Every tenant sweep of the services: qualified name -> the function object."""
    found = {}
    for path in sorted((CODE / "services").rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if (isinstance(node, ast.FunctionDef) and SWEEP_NAME.fullmatch(node.name)
                    and [a.arg for a in node.args.args[:2]] == ["rt", "tenant_id"]):
                module = _module_name(path)
                found[f"{module}.{node.name}"] = getattr(importlib.import_module(module), node.name)
    return found


def _bindings(tree: ast.AST, package: str) -> dict[str, Any]:
    """The names the imports under `tree` bind (`from ..services import partners`, `... import overdue as x`)."""
    bound: dict[str, Any] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            relative = "." * node.level + (node.module or "")
            base = importlib.util.resolve_name(relative, package) if node.level else relative
            for alias in node.names:
                try:
                    value = importlib.import_module(f"{base}.{alias.name}")
                except ModuleNotFoundError:
                    value = getattr(importlib.import_module(base), alias.name, None)
                bound[alias.asname or alias.name] = value
    return bound


def _references(function: ast.FunctionDef, bound: dict[str, Any], package: str) -> Iterator[Any]:
    """The objects a handler's body names: `module.attribute`, an imported name, a string constant."""
    local = {**bound, **_bindings(function, package)}
    for node in ast.walk(function):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in local:
            yield getattr(local[node.value.id], node.attr, None)
        elif isinstance(node, ast.Name) and node.id in local:
            yield local[node.id]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value


def handler_references() -> dict[str, list[Any]]:
    """Each `@app.lambda_function(name=...)` of revgov.edge -> what its body refers to."""
    found: dict[str, list[Any]] = {}
    for path in sorted((CODE / "edge").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        package = _module_name(path).rsplit(".", 1)[0]
        module_level = _bindings(ast.Module(body=[n for n in tree.body if isinstance(n, ast.ImportFrom)],
                                            type_ignores=[]), package)
        for node in tree.body:
            for decorator in getattr(node, "decorator_list", []):
                if (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
                        and decorator.func.attr == "lambda_function"):
                    [name] = [k.value.value for k in decorator.keywords if k.arg == "name"]  # type: ignore[attr-defined]
                    found[name] = list(_references(node, module_level, package))  # type: ignore[arg-type]
    return found


def scheduled_in(template: dict[str, Any], handler: str) -> list[str]:
    """The schedule expressions of the enabled EventBridge rules that invoke `handler`'s function."""
    key, _ = functions_by_handler(template)[f"app.{handler}"]
    return [r["Properties"]["ScheduleExpression"] for r in resources(template, "AWS::Events::Rule").values()
            if "ScheduleExpression" in r["Properties"] and r["Properties"].get("State") == "ENABLED"
            and {"Fn::GetAtt": [key, "Arn"]} in [t["Arn"] for t in r["Properties"]["Targets"]]]


# --- the tests ----------------------------------------------------------------------------------------------------
def test_the_sweeps_are_found_in_the_code() -> None:
    """The derivation itself: the sweeps the docs name are among those found (a broken walk would find none)."""
    found = tenant_sweeps()
    assert {"revgov.services.renewals.sweep_terms", "revgov.services.mdf.sweep_expiry",
            "revgov.services.month_close.watch", "revgov.services.billing.overdue.sweep_credit_holds",
            "revgov.services.policy_drafts.activation.activate_due"} <= set(found)
    assert set(handler_references()) >= set(BY_HANDLER)


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_every_tenant_sweep_is_called_by_a_handler_scheduled_on_the_cadence_of_schedules_json(
    synth: Synth, stack: str
) -> None:
    template = synth.templates[stack]
    references = handler_references()
    for qualified, sweep in tenant_sweeps().items():
        callers = [h for h, refs in references.items() if any(r is sweep for r in refs)]
        scheduled = [h for h in callers if h in BY_HANDLER]
        assert scheduled, f"{qualified} is not called by any scheduled handler (callers: {callers}); add one to " \
                          "revgov.edge.handlers and events/schedules.json"
        for handler in scheduled:
            assert scheduled_in(template, handler) == [_rate(BY_HANDLER[handler]["every_minutes"])], handler


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_every_agent_runs_from_a_scheduled_handler_of_its_own(synth: Synth, stack: str) -> None:
    from revgov.services.agents import AGENTS

    template = synth.templates[stack]
    references = handler_references()
    for agent in AGENTS:
        [handler] = [h for h, refs in references.items() if agent in refs]
        assert handler in BY_HANDLER and scheduled_in(template, handler), agent


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_every_lambda_handler_of_the_app_has_a_trigger(synth: Synth, stack: str) -> None:
    """A handler with neither a schedule nor a rule's queue would be deployed and never run."""
    from revgov_stacks.chalice_app import load

    template = synth.templates[stack]
    mapped = {m["Properties"]["FunctionName"]["Ref"]
              for m in resources(template, "AWS::Lambda::EventSourceMapping").values()}
    for name in load().functions:
        key, _ = functions_by_handler(template)[f"app.{name}"]
        assert key in mapped or scheduled_in(template, name), f"{name}: no schedule and no queue feeds it"
        assert (name in BY_HANDLER) == bool(scheduled_in(template, name)), name


_CADENCE = re.compile(r"\b(daily|hourly|every (\d+) min(?:ute)?s?)\b")
_MINUTES = {"daily": 1440, "hourly": 60}


def _cadences_near(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(distance, minutes) of the cadence words within 40 characters of text[start:end], same table cell and
    sentence."""
    before = re.split(r"\||\. |\n\n", text[max(0, start - 40):start])[-1]
    after = re.split(r"\||\. |\n\n", text[end:end + 40])[0]
    found = [(len(before) - m.end(), m) for m in _CADENCE.finditer(before)]
    found += [(m.start(), m) for m in _CADENCE.finditer(after)]
    return [(d, int(m.group(2)) if m.group(2) else _MINUTES[m.group(1)]) for d, m in found]


def test_the_docs_state_each_schedules_cadence_as_schedules_json_does() -> None:
    """README, docs/ (but the changelog, a history) and stacks/README name schedules with their cadence ("the daily
    `mdf-expiry-sweep`", "`deal_certification_sweep`, hourly"); each must be the one the stacks deploy."""
    pages = [REPO / "README.md", REPO / "stacks" / "README.md",
             *(p for p in sorted((REPO / "docs").glob("*.md")) if p.name != "api-changelog.md")]
    checked = 0
    for schedule in SCHEDULES["schedules"]:
        names = {schedule["name"], schedule["handler"], schedule["handler"].removeprefix("agent_")}
        for page in pages:
            text = page.read_text(encoding="utf-8")
            for name in names:
                for m in re.finditer(rf"`{re.escape(name)}`", text):
                    near = sorted(_cadences_near(text, m.start(), m.end()))
                    if near:
                        checked += 1
                        assert near[0][1] == schedule["every_minutes"], (
                            f"{page.name}: `{name}` said to run every {near[0][1]} min; "
                            f"events/schedules.json: every {schedule['every_minutes']}")
    assert checked >= 8  # the docs do name cadences (the walk found them)


# --- IAM: each function may do what it calls, nothing more ---------------------------------------------------------
def _queues_of(template: dict[str, Any], function_key: str) -> list[dict[str, Any]]:
    return [m["Properties"]["EventSourceArn"] for m in resources(template, "AWS::Lambda::EventSourceMapping").values()
            if m["Properties"]["FunctionName"] == {"Ref": function_key}]


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_each_function_role_allows_only_what_that_function_calls(synth: Synth, stack: str) -> None:
    """Least privilege per function: traces, its own log group, the application's bus; the tenant-scoped session
    (and the search roles where it searches); its own rules' queues; Bedrock for the copilot's two functions; table
    access only where tests/stacks/test_stacks.py proves it fenced (authorizer, operator, registry sync)."""
    template = synth.templates[stack]
    bus_key = next(iter(resources(template, "AWS::Events::EventBus")))
    tenant_role = next(k for k in resources(template, "AWS::IAM::Role") if "TenantAccessRole" in k)
    search_roles = {k for k in resources(template, "AWS::IAM::Role") if "SearchRole" in k}
    functions = {**functions_by_handler(template), "operator": operator_function(template)}
    for handler, (key, function) in functions.items():
        own_log_group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        queues = _queues_of(template, key)
        for statement in statements_of_role(template, role_of(function)):
            actions, targets = as_list(statement["Action"]), as_list(statement["Resource"])
            services = {a.split(":")[0] for a in actions}
            assert len(services) == 1, statement
            service = services.pop()
            if service == "xray":
                continue
            if service == "logs":
                assert targets == [{"Fn::GetAtt": [own_log_group, "Arn"]}], handler
            elif service == "events":
                assert actions == ["events:PutEvents"] and targets == [{"Fn::GetAtt": [bus_key, "Arn"]}], handler
            elif service == "sts":
                roles = {t["Fn::GetAtt"][0] for t in targets}
                assert roles <= {tenant_role} or (roles <= search_roles and handler in {"app.app",
                                                                                       "app.index_contracts"}), handler
            elif service == "sqs":
                assert queues and all(t in queues for t in targets), f"{handler}: queues not its own: {targets}"
            elif service == "bedrock":
                assert handler in {"app.app", "app.index_contracts"}, handler
            else:
                assert service == "dynamodb" and handler in {"app.api_key", "operator", "app.sync_tenant_registry"}, (
                    f"{handler} is granted {actions}")


# --- the copilot's adapters, as the app builds them from each function's deployed environment -----------------------
def _resolved(value: Any) -> str:
    """A CloudFormation value with its references (Ref, Fn::GetAtt) as placeholders, its joins joined."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_resolved(part) for part in parts)
    return "resolved"


def _deployed_env(function: dict[str, Any]) -> dict[str, str]:
    return {k: _resolved(v) for k, v in function["Properties"]["Environment"]["Variables"].items()}


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_the_copilot_functions_build_bedrock_adapters_from_their_deployed_environment(synth: Synth, stack: str) -> None:
    """DESIGN.md: "Answers come from Bedrock (Converse) in AWS"; docs/copilot.md: "AWS: Titan Text Embeddings v2".
    The Lambda layer has no onnxruntime (the `local` extra): a function left on the MiniLM default could not embed."""
    from revgov.adapters.answerers import BedrockAnswerer
    from revgov.adapters.embeddings import TitanEmbedder
    from revgov.bootstrap import build_copilot
    from revgov.settings import Settings

    template = synth.templates[stack]
    for handler in ("app.app", "app.index_contracts"):
        settings = Settings.from_env(_deployed_env(functions_by_handler(template)[handler][1]))
        index, answerer = build_copilot(settings)
        embedder = index._embedder  # type: ignore[attr-defined]
        assert isinstance(embedder, TitanEmbedder), handler
        assert embedder.model_id == "amazon.titan-embed-text-v2:0"
        if handler == "app.app":
            assert isinstance(answerer, BedrockAnswerer)
            assert answerer._model_id == "anthropic.claude-3-5-haiku-20241022-v1:0"  # the first answer model
