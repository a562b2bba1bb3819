"""Typed rows for the executor's `net_endpoints` and `sessions` data (docs/executor-protocol.md).

Parsing is strict about what the analysis depends on (protocol, address, port, pid) and lenient
about what Windows itself may leave blank: a system process's path is hidden from a non-elevated
reader, and a process can exit between the socket table and the process list being read, leaving
its name and session unknown. Every error names the row and field, so a broken executor or a
hand-written fixture is fixed in one look.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

Protocol = Literal["tcp", "udp"]
PROTOCOLS: tuple[Protocol, ...] = ("tcp", "udp")

# MSFT_NetTCPConnection.State: Get-NetTCPConnection serialises the enum as an integer unless the
# executor converts it, so both forms are accepted and normalised to the names below.
_TCP_STATES: dict[int, str] = {
    1: "Closed",
    2: "Listen",
    3: "SynSent",
    4: "SynReceived",
    5: "Established",
    6: "FinWait1",
    7: "FinWait2",
    8: "CloseWait",
    9: "Closing",
    10: "LastAck",
    11: "TimeWait",
    12: "DeleteTCB",
    100: "Bound",
}
_STATE_BY_LOWER: dict[str, str] = {name.lower(): name for name in _TCP_STATES.values()}
LISTEN = "Listen"


class BindingsDataError(ValueError):
    """Executor data that does not have the shape docs/executor-protocol.md describes."""


def program_key(name: str) -> str:
    """The identity of a program: exe name without folder, case-insensitive, `.exe` optional.

    Win32_Process reports `crm.exe`, Get-Process `crm`, and policy lists are typed by hand, so
    all three spellings must meet on one key.
    """
    leaf = name.replace("/", "\\").rsplit("\\", 1)[-1].strip().lower()
    return leaf.removesuffix(".exe")


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    name: str
    path: str | None
    session: int | None

    @property
    def key(self) -> str:
        return program_key(self.name)


@dataclass(frozen=True)
class Endpoint:
    protocol: Protocol
    local_address: str
    local_port: int
    remote_address: str | None
    remote_port: int | None
    state: str | None
    pid: int
    process: str | None
    path: str | None
    session: int | None

    @property
    def is_listener(self) -> bool:
        """A socket waiting for others: a listening TCP socket, or any bound UDP socket."""
        return self.protocol == "udp" or self.state == LISTEN

    @property
    def is_ipv4(self) -> bool:
        return _is_ipv4(self.local_address)

    @property
    def key(self) -> str | None:
        return program_key(self.process) if self.process else None


@dataclass(frozen=True)
class Session:
    id: int
    user: str | None
    state: str | None
    station: str | None
    virtual_ip: str | None
    # `/admin` sessions are never virtualized
    # (docs/windows-facts.md#sessions-that-are-never-virtualized). The `sessions` op carries it,
    # but vipctl.ps1 cannot detect it on a real host and always says false (UNCONFIRMED, see
    # docs/executor-protocol.md); a row without the field, from an older executor, reads as false.
    admin: bool = False


@dataclass(frozen=True)
class EndpointTable:
    """One host's socket table and process list, as read in the same request."""

    endpoints: tuple[Endpoint, ...]
    processes: tuple[ProcessInfo, ...]


def _is_ipv4(address: str) -> bool:
    try:
        ipaddress.IPv4Address(address)
    except ValueError:
        return False
    return True


class _Row:
    """Field access on one row with errors that say where the row came from."""

    def __init__(self, where: str, row: object) -> None:
        if not isinstance(row, Mapping):
            raise BindingsDataError(f"{where}: expected an object, got {type(row).__name__}")
        self.where = where
        self.row = row

    def fail(self, field: str, wanted: str) -> BindingsDataError:
        got = self.row.get(field)
        return BindingsDataError(f"{self.where}.{field}: expected {wanted}, got {got!r}")

    def int_(
        self, field: str, *, optional: bool = False, low: int = 0, high: int | None = None
    ) -> int | None:
        value = self.row.get(field)
        if value is None and optional:
            return None
        wanted = f"an integer {low}..{high}" if high is not None else f"an integer >= {low}"
        if optional:
            wanted += " or null"
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(field, wanted)
        if value < low or (high is not None and value > high):
            raise self.fail(field, wanted)
        return value

    def req_int(self, field: str, *, high: int | None = None) -> int:
        value = self.int_(field, high=high)
        assert value is not None  # int_ without optional never returns None
        return value

    def str_(self, field: str, *, optional: bool = False) -> str | None:
        value = self.row.get(field)
        if value is None and optional:
            return None
        if not isinstance(value, str) or (not optional and not value.strip()):
            raise self.fail(field, "a string or null" if optional else "a non-empty string")
        # An empty string from PowerShell means "unknown", the same as null.
        return value if value.strip() else None

    def req_str(self, field: str) -> str:
        value = self.str_(field)
        assert value is not None
        return value


def _list_field(data: object, field: str, op: str) -> Sequence[object]:
    if not isinstance(data, Mapping):
        raise BindingsDataError(f"{op}: expected an object, got {type(data).__name__}")
    rows = data.get(field, [])
    # PowerShell 5.1 unwraps a one-element array into the element itself.
    if isinstance(rows, Mapping):
        rows = [rows]
    if rows is None:
        rows = []
    if not isinstance(rows, list):
        raise BindingsDataError(f"{op}.{field}: expected a list, got {type(rows).__name__}")
    return rows


def _state(row: _Row, protocol: Protocol) -> str | None:
    value = row.row.get("state")
    if protocol == "udp" or value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value in _TCP_STATES:
        return _TCP_STATES[value]
    if isinstance(value, str) and value.lower() in _STATE_BY_LOWER:
        return _STATE_BY_LOWER[value.lower()]
    raise row.fail("state", "a TCP state name (Listen, Established, ...) or its MSFT_NetTCPConnection number")


def parse_endpoint(where: str, raw: object) -> Endpoint:
    row = _Row(where, raw)
    protocol_raw = row.row.get("protocol")
    protocol = protocol_raw.lower() if isinstance(protocol_raw, str) else None
    if protocol not in PROTOCOLS:
        raise row.fail("protocol", "'tcp' or 'udp'")
    proto: Protocol = "tcp" if protocol == "tcp" else "udp"
    local_address = row.req_str("local_address")
    try:
        ipaddress.ip_address(local_address)
    except ValueError:
        raise row.fail("local_address", "an IPv4 or IPv6 address") from None
    return Endpoint(
        protocol=proto,
        local_address=local_address,
        local_port=row.req_int("local_port", high=65535),
        remote_address=row.str_("remote_address", optional=True),
        remote_port=row.int_("remote_port", optional=True, high=65535),
        state=_state(row, proto),
        pid=row.req_int("pid"),
        process=row.str_("process", optional=True),
        path=row.str_("path", optional=True),
        session=row.int_("session", optional=True),
    )


def parse_process(where: str, raw: object) -> ProcessInfo:
    row = _Row(where, raw)
    return ProcessInfo(
        pid=row.req_int("pid"),
        name=row.req_str("name"),
        path=row.str_("path", optional=True),
        session=row.int_("session", optional=True),
    )


def parse_net_endpoints(data: object) -> EndpointTable:
    """The `data` of a `net_endpoints` result as an `EndpointTable`."""
    endpoints = tuple(
        parse_endpoint(f"net_endpoints.endpoints[{i}]", raw)
        for i, raw in enumerate(_list_field(data, "endpoints", "net_endpoints"))
    )
    processes = tuple(
        parse_process(f"net_endpoints.processes[{i}]", raw)
        for i, raw in enumerate(_list_field(data, "processes", "net_endpoints"))
    )
    by_pid = {proc.pid: proc for proc in processes}
    return EndpointTable(endpoints=tuple(_backfill(ep, by_pid) for ep in endpoints), processes=processes)


def _backfill(endpoint: Endpoint, by_pid: Mapping[int, ProcessInfo]) -> Endpoint:
    # The executor joins each socket to its process, but a join that missed (a process listed
    # a moment later) can still be completed from the process list read in the same call.
    proc = by_pid.get(endpoint.pid)
    if proc is None:
        return endpoint
    return replace(
        endpoint,
        process=endpoint.process or proc.name,
        path=endpoint.path or proc.path,
        session=endpoint.session if endpoint.session is not None else proc.session,
    )


def parse_session(where: str, raw: object) -> Session:
    row = _Row(where, raw)
    virtual_ip = row.str_("virtual_ip", optional=True)
    if virtual_ip is not None and not _is_ipv4(virtual_ip):
        raise row.fail("virtual_ip", "an IPv4 address or null")
    admin = row.row.get("admin", False)
    if not isinstance(admin, bool):
        raise row.fail("admin", "true or false")
    return Session(
        id=row.req_int("id"),
        user=row.str_("user", optional=True),
        state=row.str_("state", optional=True),
        station=row.str_("station", optional=True),
        virtual_ip=virtual_ip,
        admin=admin,
    )


def parse_sessions(data: object) -> tuple[Session, ...]:
    """The `data` of a `sessions` result, one `Session` per row."""
    return tuple(
        parse_session(f"sessions.sessions[{i}]", raw)
        for i, raw in enumerate(_list_field(data, "sessions", "sessions"))
    )
