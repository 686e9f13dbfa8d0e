"""Red team: outbound webhook URLs whose host resolves to an IPv6 address that carries an IPv4 address inside it.

services/subscriptions.py: deliveries go "to public addresses only". An IPv6 address can embed an IPv4 one that a
translator on the path delivers to: NAT64's well-known prefix 64:ff9b::/96 (RFC 6052 §2.1) and the local-use
64:ff9b:1::/48 (RFC 8215), 6to4's 2002::/16 (RFC 3056 §2), IPv4-translated ::ffff:0:0/96 (RFC 6052 §2.1, SIIT) and
the deprecated IPv4-compatible ::/96 (RFC 4291 §2.5.5.1). Python's `is_global` calls all of these global, so a
subscription resolving to 64:ff9b::a9fe:a9fe (169.254.169.254, the instance metadata service) or 64:ff9b::a00:5
(10.0.0.5 in the VPC) passed the check; where the platform runs behind NAT64 (IPv6-only subnets) the delivery would
reach it.
"""

from __future__ import annotations

import pytest

from revgov.services.subscriptions import url_problems

EMBEDDED_PRIVATE = [
    "64:ff9b::a9fe:a9fe",  # NAT64 -> 169.254.169.254
    "64:ff9b::a00:5",  # NAT64 -> 10.0.0.5
    "64:ff9b:1::a00:5",  # local-use NAT64 -> 10.0.0.5
    "2002:7f00:1::1",  # 6to4 -> 127.0.0.1
    "2002:a9fe:a9fe::",  # 6to4 -> 169.254.169.254
    "::ffff:0:a00:5",  # IPv4-translated -> 10.0.0.5
    "::a00:5",  # IPv4-compatible -> 10.0.0.5
    "::7f00:1",  # IPv4-compatible -> 127.0.0.1
]


@pytest.mark.parametrize("address", EMBEDDED_PRIVATE)
def test_an_ipv6_address_carrying_a_private_ipv4_one_is_refused(address: str) -> None:
    problems = url_problems("https://hooks.example/x", [address], allow_loopback=False)
    assert problems and "not a public address" in problems[0]


PUBLIC = ["64:ff9b::5db8:d822", "2002:5db8:d822::1", "2606:4700:4700::1111", "93.184.216.34"]


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_stay_allowed(address: str) -> None:
    """64:ff9b::5db8:d822 and 2002:5db8:d822:: carry 93.184.216.34, a public address; 2606:4700:4700::1111 is a
    plain global IPv6 address."""
    assert url_problems("https://hooks.example/x", [address], allow_loopback=False) == []
