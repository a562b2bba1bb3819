"""Session ID <-> per-session loopback address.

Citrix virtual loopback: `127.0.0.1` becomes 127.X.X.X where X.X.X is (session ID + 1) as a 24-bit
number (session 7 -> 127.0.0.8, 255 -> 127.0.1.0). Microsoft's "virtualize loopback addresses"
(RD IP Virtualization, 2012+) maps session N to 127.0.0.(N+1); past 254 it is assumed (UNCONFIRMED)
to follow the same 24-bit rule, so both are the same arithmetic today, kept apart so that either
can change on its own.
"""

from __future__ import annotations

import ipaddress

MAX_SESSION_ID = 0xFFFFFF - 1  # 127.255.255.255 is session 16777214
_LOOPBACK_BASE = int(ipaddress.IPv4Address("127.0.0.0"))


class LoopbackError(ValueError):
    """A session ID or address outside the per-session loopback range."""


def _check_session_id(session_id: object) -> int:
    # bool is an int subclass; True as "session 1" is always a caller bug.
    if isinstance(session_id, bool) or not isinstance(session_id, int):
        raise LoopbackError(f"session_id must be an integer, got {type(session_id).__name__} {session_id!r}")
    if session_id < 0 or session_id > MAX_SESSION_ID:
        raise LoopbackError(f"session_id must be between 0 and {MAX_SESSION_ID}, got {session_id}")
    return session_id


def citrix_loopback_address(session_id: int) -> str:
    """The address Citrix virtual loopback gives `127.0.0.1` in `session_id`."""
    sid = _check_session_id(session_id)
    return str(ipaddress.IPv4Address(_LOOPBACK_BASE + sid + 1))


def microsoft_loopback_address(session_id: int) -> str:
    """The address RD IP Virtualization's loopback virtualization gives in `session_id`."""
    sid = _check_session_id(session_id)
    return str(ipaddress.IPv4Address(_LOOPBACK_BASE + sid + 1))


def session_for_loopback(address: str) -> int:
    """Inverse of `citrix_loopback_address`: which session owns this loopback address."""
    try:
        ip = ipaddress.IPv4Address(address)
    except ValueError as exc:
        raise LoopbackError(f"not an IPv4 address: {address!r}") from exc
    offset = int(ip) - _LOOPBACK_BASE
    if not 1 <= offset <= 0xFFFFFF:
        raise LoopbackError(f"{address} is not a per-session loopback address (127.0.0.1-127.255.255.255)")
    return offset - 1
