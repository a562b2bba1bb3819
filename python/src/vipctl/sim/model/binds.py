"""Where a bind really lands: docs/windows-facts.md#where-a-bind-lands, in one place.

`BindEnv` is the configuration *in effect when the process started*: RD IP Virtualization as of
the last boot, Citrix loopback and PreferLoopback as read from the registry at process start. A
process keeps its addresses until it ends, whatever changes later."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vipctl.loopback import citrix_loopback_address, microsoft_loopback_address
from vipctl.sim.model.processes import SERVER_IP, BindSpec, Process, exe_name
from vipctl.sim.model.sessions import Session

LOOPBACK = "127.0.0.1"
ANY = "0.0.0.0"
ADDRESS_IN_USE = "address in use (WSAEADDRINUSE)"
NO_LEASE = "no virtual IP lease and PromptOnIPLeaseFail is set"


@dataclass(frozen=True)
class BindEnv:
    server_ip: str
    ip_virt_active: bool = False
    ip_virt_per_program: bool = False
    ip_virt_programs: frozenset[str] = frozenset()
    ms_loopback: bool = False
    prompt_on_lease_fail: bool = False
    citrix_support: bool = False
    citrix_programs: frozenset[str] = frozenset()
    prefer_loopback: bool = False
    prefer_processes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Endpoint:
    protocol: str
    local_address: str
    local_port: int
    pid: int
    requested: str
    remote_address: str | None = None  # set for a connected TCP socket (state Established)
    remote_port: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "protocol": self.protocol,
            "local_address": self.local_address,
            "local_port": self.local_port,
            "pid": self.pid,
            "requested": self.requested,
        }
        if self.remote_address is not None:
            out.update(remote_address=self.remote_address, remote_port=self.remote_port)
        return out


@dataclass(frozen=True)
class FailedBind:
    pid: int
    process: str
    session: int
    protocol: str
    requested: str
    address: str | None
    port: int
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "process": self.process,
            "session": self.session,
            "protocol": self.protocol,
            "requested": self.requested,
            "address": self.address,
            "port": self.port,
            "reason": self.reason,
        }


def resolve(
    bind: BindSpec, process: Process, session: Session, env: BindEnv
) -> tuple[str | None, str | None]:
    """(address the socket gets, None) or (None, failure reason)."""
    requested = env.server_ip if bind.address == SERVER_IP else bind.address
    if not session.virtualizable:
        return requested, None
    exe = exe_name(process.name)
    citrix = env.citrix_support and exe in env.citrix_programs
    ip_virt = env.ip_virt_active and (not env.ip_virt_per_program or exe in env.ip_virt_programs)
    if requested == LOOPBACK:
        if citrix and ip_virt and session.virtual_ip is not None:
            # Both features apply: the VIP wins unless PreferLoopback lists the process (seed page).
            if env.prefer_loopback and exe in env.prefer_processes:
                return citrix_loopback_address(session.id), None
            return session.virtual_ip, None
        if citrix:
            return citrix_loopback_address(session.id), None
        if ip_virt and env.ms_loopback:
            return microsoft_loopback_address(session.id), None
        return requested, None
    if requested in (ANY, env.server_ip) and ip_virt:
        if session.virtual_ip is not None:
            return session.virtual_ip, None
        if env.prompt_on_lease_fail:
            return None, NO_LEASE
    return requested, None


@dataclass
class BindTable:
    """The host's socket table plus the binds that failed, in the order they happened."""

    endpoints: list[Endpoint] = field(default_factory=list)
    failed: list[FailedBind] = field(default_factory=list)

    def open(self, process: Process, session: Session, env: BindEnv) -> None:
        for bind in process.binds:
            requested = env.server_ip if bind.address == SERVER_IP else bind.address
            address, reason = resolve(bind, process, session, env)
            if address is not None and self._taken(bind, address):
                reason = ADDRESS_IN_USE
            if reason is not None:
                self.failed.append(
                    FailedBind(
                        process.pid,
                        process.name,
                        session.id,
                        bind.protocol,
                        requested,
                        address,
                        bind.port,
                        reason,
                    )
                )
                continue
            assert address is not None
            self.endpoints.append(
                Endpoint(
                    bind.protocol,
                    address,
                    bind.port,
                    process.pid,
                    requested,
                    bind.remote_address,
                    bind.remote_port,
                )
            )

    def _taken(self, bind: BindSpec, address: str) -> bool:
        # A connected socket shares its local address and port with the listener that accepted it;
        # only the same remote end as well makes it a duplicate.
        return any(
            e.protocol == bind.protocol
            and e.local_address == address
            and e.local_port == bind.port
            and e.remote_address == bind.remote_address
            and e.remote_port == bind.remote_port
            for e in self.endpoints
        )

    def close(self, pid: int) -> None:
        self.endpoints = [e for e in self.endpoints if e.pid != pid]

    def clear(self) -> None:
        self.endpoints.clear()
        self.failed.clear()
