"""One host's open transport as a `vipctl.tasks` runner (request in, decoded `codec.Response` out),
and the pool that keeps them for a CLI run."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any, Self

from vipctl.executor.codec import Response
from vipctl.fleet import run_fleet
from vipctl.transport import ConnectionSettings, Transport, open_transport


class HostSession:
    """Opens lazily on the first request and is reused for every task run on the host."""

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings
        self.requests = 0
        self._transport: Transport = open_transport(settings)

    def __call__(self, request: dict[str, Any]) -> Response:
        self.requests += 1
        return self._transport.run(request)

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class SessionPool:
    """One open `HostSession` per host for a whole CLI run.

    A command that reaches a host in several phases (apply: plan, then apply) authenticates and
    opens the shell once, not once per phase. `close` deletes every shell, `forks` at a time."""

    def __init__(self, forks: int = 1) -> None:
        self.forks = max(forks, 1)
        self._sessions: dict[str, HostSession] = {}
        self._lock = threading.Lock()

    def session(self, settings: ConnectionSettings) -> HostSession:
        with self._lock:
            found = self._sessions.get(settings.name)
            if found is None or found.settings != settings:
                found = self._sessions[settings.name] = HostSession(settings)
            return found

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions = self._sessions, {}
        # A failed close only leaves a shell for Windows to reap; run_fleet records, never raises.
        run_fleet(list(sessions), lambda name: sessions[name].close(), forks=self.forks)
