"""The user's narrowing of the socket table (vip_bindings' process/port/protocol/state options)."""

from __future__ import annotations

from dataclasses import dataclass

from vipctl.bindings.model import Endpoint, EndpointTable, program_key


@dataclass(frozen=True)
class EndpointFilter:
    processes: frozenset[str] = frozenset()  # program keys; empty = all
    port: int | None = None
    protocol: str | None = None
    state: str | None = None  # TCP state name, case-insensitive; UDP rows have none and never match

    def matches(self, endpoint: Endpoint) -> bool:
        if self.processes and endpoint.key not in self.processes:
            return False
        if self.port is not None and endpoint.local_port != self.port:
            return False
        if self.protocol is not None and endpoint.protocol != self.protocol.lower():
            return False
        return self.state is None or (endpoint.state or "").lower() == self.state.lower()

    def apply(self, table: EndpointTable) -> EndpointTable:
        """The table narrowed; processes only by name, so a failed bind (no socket) still shows."""
        processes = tuple(p for p in table.processes if not self.processes or p.key in self.processes)
        return EndpointTable(tuple(e for e in table.endpoints if self.matches(e)), processes)


def endpoint_filter(
    *,
    processes: list[str] | tuple[str, ...] = (),
    port: int | None = None,
    protocol: str | None = None,
    state: str | None = None,
) -> EndpointFilter:
    return EndpointFilter(frozenset(program_key(p) for p in processes), port, protocol, state)
