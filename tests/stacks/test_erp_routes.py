"""Every event of the catalogue reaches, in the synthesized templates, the handlers that must take it.

API.md "Events on the bus": "`detail-type` names are listed in `events/` with one valid sample each". events/rules.json:
the `erp-billing` rule takes every `revgov.erp` event to `bill_erp_event`, whose use cases (revgov.services.billing
intake) must know each ERP type; `event-log` and `outbound-webhooks` take every domain event Revgov emits. The rules
are matched as EventBridge matches them (moto's pattern matcher) against the rules as deployed, through the queue
each feeds to the function it triggers, so a new sample, a changed pattern or a rewired queue is checked here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_stacks import ALL_STACKS, REPO, Synth, functions_by_handler, resources

pytestmark = pytest.mark.xdist_group("cdk-synth")  # the synthesis of tests/stacks/conftest.py, once per worker

SAMPLES = sorted((REPO / "events").glob("revgov.*/*.json"))


def routes(template: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """(event pattern, handler) of each bus rule: rule -> its queue -> the function that queue triggers."""
    handler_of = {key: handler for handler, (key, _) in functions_by_handler(template).items()}
    triggered = {m["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]: m["Properties"]["FunctionName"]["Ref"]
                 for m in resources(template, "AWS::Lambda::EventSourceMapping").values()}
    found = []
    for rule in resources(template, "AWS::Events::Rule").values():
        if "EventPattern" in rule["Properties"]:
            for target in rule["Properties"]["Targets"]:
                queue = target["Arn"]["Fn::GetAtt"][0]
                found.append((rule["Properties"]["EventPattern"], handler_of[triggered[queue]]))
    return found


def reached(template: dict[str, Any], sample: Path) -> set[str]:
    from moto.events.models import EventPattern

    event = json.loads(sample.read_text(encoding="utf-8"))
    return {handler for pattern, handler in routes(template)
            if EventPattern.load(json.dumps(pattern)).matches_event(event)}


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_every_erp_event_type_reaches_the_billing_handler_which_has_a_use_case_for_it(synth: Synth, stack: str) -> None:
    from revgov.services.billing.intake import USE_CASES

    erp = [s for s in SAMPLES if s.parent.name == "revgov.erp"]
    assert len(erp) >= 10
    for sample in erp:
        assert "app.bill_erp_event" in reached(synth.templates[stack], sample), sample.stem
        assert sample.stem in USE_CASES, f"{sample.stem}: the ERP router has no use case for it"
    assert set(USE_CASES) == {s.stem for s in erp}, "a use case for an ERP type the catalogue does not list"


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_every_domain_event_is_logged_and_offered_to_webhooks_and_never_billed(synth: Synth, stack: str) -> None:
    domain = [s for s in SAMPLES if s.parent.name != "revgov.erp"]
    assert len(domain) >= 50
    for sample in domain:
        handlers = reached(synth.templates[stack], sample)
        assert {"app.log_event", "app.deliver_webhooks"} <= handlers, sample.stem
        assert "app.bill_erp_event" not in handlers, sample.stem
