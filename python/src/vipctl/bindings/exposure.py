"""Which processes bind an address that per-session addressing is about (the TCPView step).

The seed's procedure flags processes that open `0.0.0.0`, `127.0.0.1` or the server's own IP on
a fixed port: those are the binds that collide when the same program runs in two sessions.
An audit run after the rollout sees the virtualized forms instead (a session loopback such as
`127.0.0.3`, or a session's virtual IP); they are flagged too, with their own kind, so that
rerunning the audit keeps recommending what is already deployed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from vipctl.bindings.model import Endpoint

# Windows' default dynamic port range. A socket bound to port 0 (a UDP socket that only sends,
# a helper listening on whatever port it is given) gets a port from here, which no other
# instance will ever ask for: not a fixed port, and no clash.
DYNAMIC_PORT_FIRST = 49152

# Session 0 holds services and the kernel's own sockets (System, svchost, lsass). RD IP
# Virtualization and virtual loopback never apply there
# (docs/windows-facts.md#sessions-that-are-never-virtualized), so they are noise for this audit
# unless asked for.
SYSTEM_SESSION = 0

_WILDCARD = "0.0.0.0"
_LOOPBACK = "127.0.0.1"
_LOOPBACK_NET = ipaddress.IPv4Network("127.0.0.0/8")


class BindKind(StrEnum):
    ANY = "any"  # 0.0.0.0
    LOOPBACK = "loopback"  # 127.0.0.1
    SERVER_IP = "server_ip"  # one of the host's own addresses
    SESSION_LOOPBACK = "session_loopback"  # 127.x.y.z other than .1: already a per-session loopback
    SESSION_IP = "session_ip"  # a session's virtual IP: already virtualized

    @property
    def wants_loopback(self) -> bool:
        """The program asked for 127.0.0.1 (virtual loopback is its fix)."""
        return self in (BindKind.LOOPBACK, BindKind.SESSION_LOOPBACK)

    @property
    def wants_wildcard(self) -> bool:
        """The program asked for 0.0.0.0 or the server IP (RD IP Virtualization is its fix)."""
        return self in (BindKind.ANY, BindKind.SERVER_IP, BindKind.SESSION_IP)


@dataclass(frozen=True)
class Exposure:
    endpoint: Endpoint
    kind: BindKind


def classify_address(
    address: str, *, server_ips: Iterable[str], session_ips: Iterable[str] = ()
) -> BindKind | None:
    """The kind of a local address, or None when per-session addressing does not concern it.

    Session VIPs are checked before server IPs because a host may report its leased VIPs among
    its own addresses. IPv6 is out of scope: neither feature virtualizes it.
    """
    try:
        ip = ipaddress.IPv4Address(address)
    except ValueError:
        return None
    if address == _WILDCARD:
        return BindKind.ANY
    if address == _LOOPBACK:
        return BindKind.LOOPBACK
    if ip in _LOOPBACK_NET:
        return BindKind.SESSION_LOOPBACK
    if address in set(session_ips):
        return BindKind.SESSION_IP
    if address in set(server_ips):
        return BindKind.SERVER_IP
    return None


def is_fixed_port_listener(endpoint: Endpoint) -> bool:
    """A listening TCP socket or a bound UDP socket, on a port below the dynamic range."""
    return endpoint.is_listener and 0 < endpoint.local_port < DYNAMIC_PORT_FIRST


def is_system(session: int | None) -> bool:
    return session == SYSTEM_SESSION


def find_exposures(
    endpoints: Iterable[Endpoint],
    *,
    server_ips: Iterable[str],
    session_ips: Iterable[str] = (),
    include_system: bool = False,
) -> list[Exposure]:
    """The endpoints whose program would clash across sessions, in table order."""
    servers = frozenset(server_ips)
    vips = frozenset(session_ips)
    found: list[Exposure] = []
    for endpoint in endpoints:
        if not is_fixed_port_listener(endpoint):
            continue
        if is_system(endpoint.session) and not include_system:
            continue
        kind = classify_address(endpoint.local_address, server_ips=servers, session_ips=vips)
        if kind is not None:
            found.append(Exposure(endpoint=endpoint, kind=kind))
    return found
