"""The same program wanting the same port in several sessions: the seed's "second instance" test.

TCPView shows only the sockets that exist, so an instance whose bind failed ("address in use")
is invisible there. Here it is found by absence: a process of the program, running in a session,
that has no listener on a (protocol, port) its peers in other sessions listen on.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum

from vipctl.bindings.exposure import is_fixed_port_listener, is_system
from vipctl.bindings.model import EndpointTable, ProcessInfo, Protocol


class InstanceStatus(StrEnum):
    LISTENING = "listening"
    BIND_FAILED = "bind_failed"  # running, but not listening where its peers do


@dataclass(frozen=True)
class ClashInstance:
    pid: int
    session: int
    process: str
    status: InstanceStatus
    addresses: tuple[str, ...]  # local addresses on the clash's port, empty when the bind failed


@dataclass(frozen=True)
class Clash:
    program: str
    protocol: Protocol
    port: int
    instances: tuple[ClashInstance, ...]

    @property
    def sessions(self) -> tuple[int, ...]:
        return tuple(sorted({inst.session for inst in self.instances}))

    @property
    def failed(self) -> tuple[ClashInstance, ...]:
        return tuple(inst for inst in self.instances if inst.status is InstanceStatus.BIND_FAILED)

    @property
    def resolved(self) -> bool:
        """Every instance got the port, each on an address of its own (virtualization works)."""
        addresses = [addr for inst in self.instances for addr in inst.addresses]
        return not self.failed and len(addresses) == len(set(addresses))


def _instances_by_program(table: EndpointTable, include_system: bool) -> dict[str, dict[int, ProcessInfo]]:
    programs: dict[str, dict[int, ProcessInfo]] = defaultdict(dict)
    for proc in table.processes:
        if proc.session is None or (is_system(proc.session) and not include_system):
            continue
        programs[proc.key][proc.pid] = proc
    # A socket whose process is missing from the list (it started between the two reads) still
    # counts as an instance.
    for ep in table.endpoints:
        if ep.key is None or ep.process is None or ep.session is None or ep.pid in programs[ep.key]:
            continue
        if is_system(ep.session) and not include_system:
            continue
        programs[ep.key][ep.pid] = ProcessInfo(pid=ep.pid, name=ep.process, path=ep.path, session=ep.session)
    return programs


def find_clashes(table: EndpointTable, *, include_system: bool = False) -> list[Clash]:
    """Every (program, protocol, port) wanted in two or more sessions, sorted by program and port."""
    programs = _instances_by_program(table, include_system)
    # (program key, protocol, port) -> pid -> local addresses listening there
    listeners: dict[tuple[str, Protocol, int], dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for ep in table.endpoints:
        if ep.key is None or not ep.is_ipv4 or not is_fixed_port_listener(ep):
            continue
        if ep.pid not in programs.get(ep.key, {}):
            continue
        listeners[(ep.key, ep.protocol, ep.local_port)][ep.pid].append(ep.local_address)

    clashes: list[Clash] = []
    for (key, protocol, port), by_pid in listeners.items():
        instances: list[ClashInstance] = []
        for proc in sorted(programs[key].values(), key=lambda p: (p.session or 0, p.pid)):
            assert proc.session is not None  # filtered in _instances_by_program
            addresses = tuple(sorted(by_pid.get(proc.pid, ())))
            status = InstanceStatus.LISTENING if addresses else InstanceStatus.BIND_FAILED
            instances.append(ClashInstance(proc.pid, proc.session, proc.name, status, addresses))
        if len({inst.session for inst in instances}) < 2:
            continue
        clashes.append(
            Clash(program=instances[0].process, protocol=protocol, port=port, instances=tuple(instances))
        )
    return sorted(clashes, key=lambda c: (c.program.lower(), c.protocol, c.port))
