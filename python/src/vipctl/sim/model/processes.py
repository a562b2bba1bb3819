"""Processes and the sockets they declare (what they ask for, before any virtualization)."""

from __future__ import annotations

import ntpath
from dataclasses import dataclass, field
from typing import Any

SERVER_IP = "server"  # a bind on the host's own address, whatever it is
PROTOCOLS = ("tcp", "udp")


@dataclass(frozen=True)
class BindSpec:
    protocol: str
    address: str  # "127.0.0.1", "0.0.0.0", "server", or a literal IPv4 or IPv6 address ("::", "::1")
    port: int
    # A TCP socket connected to a peer (an Established row) rather than listening.
    remote_address: str | None = None
    remote_port: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"protocol": self.protocol, "address": self.address, "port": self.port}
        if self.remote_address is not None:
            out.update(remote_address=self.remote_address, remote_port=self.remote_port)
        return out


@dataclass(frozen=True)
class AppSpec:
    """A program: its executable and the sockets it opens at start."""

    name: str
    path: str | None
    binds: tuple[BindSpec, ...] = ()

    @property
    def exe(self) -> str:
        return exe_name(self.name)


@dataclass
class Process:
    pid: int
    name: str
    path: str | None
    session: int
    user: str | None
    binds: tuple[BindSpec, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {"pid": self.pid, "name": self.name, "path": self.path, "session": self.session}


def exe_name(name_or_path: str) -> str:
    """Program lists hold exe names; match case-insensitively on the last path component."""
    return ntpath.basename(name_or_path).lower()
