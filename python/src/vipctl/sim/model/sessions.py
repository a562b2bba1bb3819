"""Windows sessions: session 0 for services, user sessions, and `/admin` (console) sessions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vipctl.sim.model.processes import AppSpec


@dataclass
class Session:
    id: int
    user: str | None
    station: str
    state: str = "Active"
    admin: bool = False
    virtual_ip: str | None = None
    apps: list[AppSpec] = field(default_factory=list)  # what the user starts at logon (again after logoff)

    @property
    def virtualizable(self) -> bool:
        """Session 0 services and /admin sessions are never virtualized (MS AskPerf)."""
        return self.id != 0 and not self.admin

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user": self.user,
            "state": self.state,
            "station": self.station,
            "virtual_ip": self.virtual_ip,
        }

    def describe(self) -> dict[str, Any]:
        return {**self.to_json(), "admin": self.admin, "apps": [app.name for app in self.apps]}


def services_session() -> Session:
    # qwinsta shows session 0 as "services", disconnected, with no user.
    return Session(0, None, "Services", state="Disconnected")


LISTENER_SESSION_ID = 65536


def listener_session() -> Session:
    # qwinsta shows the RDP listener as "rdp-tcp", id 65536, state Listen, with no user.
    return Session(LISTENER_SESSION_ID, None, "RDP-Tcp", state="Listen")
