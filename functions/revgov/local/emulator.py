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


def start_emulator(port: int = 0) -> Emulator:
    """Start moto on 127.0.0.1 (a free port by default) and export AWS_ENDPOINT_URL and dummy credentials."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound = server.get_host_and_port()
    endpoint = f"http://{host}:{bound}"
    os.environ.update(LOCAL_CREDENTIALS)
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    return Emulator(server, endpoint)
