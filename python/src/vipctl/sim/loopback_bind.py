"""The simulator's one network rule: listen on 127.0.0.0/8 and nowhere else."""

from __future__ import annotations

import ipaddress

LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


def require_loopback(address: str) -> str:
    """Return `address` if it is an IPv4 loopback address; raise ValueError otherwise."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError as exc:
        raise ValueError(f"bind address {address!r} is not an IP address; use 127.x.y.z") from exc
    if parsed.version != 4 or parsed not in LOOPBACK:
        raise ValueError(f"refusing to listen on {address}: the simulator only binds 127.0.0.0/8")
    return address
