"""moto's threaded server on loopback, with the environment pointed at it (no AWS account needed)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@dataclass
class Emulator:
    server: Any
    endpoint_url: str

    def stop(self) -> None:
        self.server.stop()


_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
# Reads too: moto's get_item on a missing partition inserts an empty entry into the table's defaultdict, which
# breaks a concurrent transaction's deepcopy of the table ("dictionary changed size during iteration").
_READS = ("get_item", "query", "scan")  # (batch gets go through get_item)
_serialized = False


def _serialize_dynamodb_writes() -> None:
    """DynamoDB checks a condition and writes atomically, and transactions are serializable; moto's threaded
    server does neither across threads. One lock around its write operations restores what the code relies on."""
    global _serialized
    if _serialized:
        return
    import functools
    import threading

    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in (*_WRITES, *_READS):
        original = getattr(DynamoDBBackend, name)

        def locked(*args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return __original(*args, **kwargs)

        setattr(DynamoDBBackend, name, functools.wraps(original)(locked))
    _serialized = True


def start_emulator(port: int = 0) -> Emulator:
    """Start moto on 127.0.0.1 (a free port by default) and export AWS_ENDPOINT_URL and dummy credentials."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    _serialize_dynamodb_writes()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound = server.get_host_and_port()
    endpoint = f"http://{host}:{bound}"
    os.environ.update(LOCAL_CREDENTIALS)
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    return Emulator(server, endpoint)
