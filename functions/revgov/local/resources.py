"""Create the table, the bus, its rules and their queues from the definitions the CDK stacks use."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..resources import TABLE, EventRule, load_rules
from ..settings import Settings


@dataclass(frozen=True)
class RuleQueues:
    rule: EventRule
    queue_url: str
    dlq_url: str
    queue_arn: str = ""


VISIBILITY_SECONDS = 2  # a failed event comes back this soon (in AWS: six times its function's timeout)


def create_resources(config: Settings, *, visibility_timeout: int = VISIBILITY_SECONDS) -> list[RuleQueues]:
    import boto3

    ddb = boto3.client("dynamodb", region_name=config.region, endpoint_url=config.endpoint_url)
    events = boto3.client("events", region_name=config.region, endpoint_url=config.endpoint_url)
    sqs = boto3.client("sqs", region_name=config.region, endpoint_url=config.endpoint_url)

    if config.table_name not in ddb.list_tables()["TableNames"]:
        ddb.create_table(**TABLE.create_table_args(config.table_name))
        ddb.update_time_to_live(
            TableName=config.table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": TABLE.ttl_attribute},
        )
    buses = {b["Name"] for b in events.list_event_buses()["EventBuses"]}
    if config.event_bus not in buses:
        events.create_event_bus(Name=config.event_bus)

    wired = []
    for rule in load_rules(config.events_dir):
        dlq_url = sqs.create_queue(QueueName=rule.dlq_name)["QueueUrl"]
        dlq_arn = _arn(sqs, dlq_url)
        redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(rule.max_receive_count)}
        queue_url = sqs.create_queue(
            QueueName=rule.queue_name,
            Attributes={"RedrivePolicy": json.dumps(redrive), "VisibilityTimeout": str(visibility_timeout)},
        )["QueueUrl"]
        events.put_rule(Name=rule.name, EventBusName=config.event_bus, EventPattern=json.dumps(rule.pattern))
        events.put_targets(
            Rule=rule.name,
            EventBusName=config.event_bus,
            Targets=[{"Id": rule.queue_name, "Arn": _arn(sqs, queue_url)}],
        )
        wired.append(RuleQueues(rule, queue_url, dlq_url, _arn(sqs, queue_url)))
    return wired


def create_embedded_queues(rt: Any, *, visibility_timeout: int = VISIBILITY_SECONDS) -> list[RuleQueues]:
    """The same queues on the embedded engine: one durable queue per rule, with its dead-letter queue after the
    rule's `max_receive_count` deliveries (the SQLite bus routes the runtime's events onto them)."""
    queues = rt.queues
    wired = []
    for rule in load_rules(rt.settings.events_dir):
        dlq_url = queues.create_queue(QueueName=rule.dlq_name)["QueueUrl"]
        redrive = {"deadLetterTargetArn": queues.arn(rule.dlq_name), "maxReceiveCount": str(rule.max_receive_count)}
        queue_url = queues.create_queue(
            QueueName=rule.queue_name,
            Attributes={"RedrivePolicy": json.dumps(redrive), "VisibilityTimeout": str(visibility_timeout)},
        )["QueueUrl"]
        wired.append(RuleQueues(rule, queue_url, dlq_url, queues.arn(rule.queue_name)))
    return wired


def _arn(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])
