"""test_offboarding_race on the AWS engine (DynamoDB, EventBridge, SQS on moto): the tombstone is a ConditionCheck of
each TransactWriteItems there, and the handlers' idempotency records live in the tenant's DynamoDB partition."""

from __future__ import annotations

import pytest
from test_offboarding_race import (  # noqa: F401  (collected here, on the AWS engine)
    test_a_handler_offboarded_between_its_read_and_its_write_leaves_nothing_and_drops_the_event,
    test_a_scheduled_run_leaves_out_a_tenant_offboarded_during_it_and_runs_for_the_others,
)

pytestmark = [pytest.mark.stack, pytest.mark.aws, pytest.mark.xdist_group("offboarding_race_aws")]
