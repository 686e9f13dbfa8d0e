"""Redelivery of a failed SQS record: made visible again when its handler says (`retry_in`), not when the queue's
visibility timeout would (the embedded engine's queues answer the same calls)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..bootstrap import runtime
from ..logs import logger

_12H = 43200  # the longest an SQS message can be kept invisible


def come_back_in(record: dict[str, Any], seconds: int) -> None:
    """Make a failed message visible again in `seconds` (SQS ChangeMessageVisibility, at most 12 h); if that fails,
    the queue's own visibility timeout applies."""
    arn = record.get("eventSourceARN", "")
    try:
        queue_url, handle = _queue_url(arn.rsplit(":", 1)[1]), record["receiptHandle"]
        _sqs().change_message_visibility(QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=min(seconds, _12H))
    except Exception:
        logger.exception("could not delay the redelivery", extra={"message_id": record.get("messageId")})


@lru_cache(maxsize=1)
def _sqs() -> Any:
    if runtime().queues is not None:  # the embedded engine's queues answer the same calls
        return runtime().queues
    import boto3

    config = runtime().settings
    return boto3.client("sqs", region_name=config.region, endpoint_url=config.endpoint_url)


@lru_cache(maxsize=32)
def _queue_url(queue_name: str) -> str:
    return str(_sqs().get_queue_url(QueueName=queue_name)["QueueUrl"])
