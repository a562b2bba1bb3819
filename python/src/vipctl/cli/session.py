"""One host's open transport as a `vipctl.tasks` runner, and the pool that keeps them for a CLI run."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

from vipctl.executor.codec import Response
from vipctl.fleet import run_fleet
from vipctl.transport import ConnectionSettings, Transport, open_transport


def response_to_dict(response: Response) -> dict[str, Any]:
    """The decoded response back in the executor protocol's JSON shape, which the tasks read."""
    results: list[dict[str, Any]] = []
    for item in response.results:
        result: dict[str, Any] = {"op": item.op, "ok": item.ok, "changed": item.changed, "data": item.data}
        if item.id is not None:
            result["id"] = item.id
        if item.skipped:
            result["skipped"] = True
        if item.error is not None:
            result["error"] = {"kind": item.error.kind, "message": item.error.message}
        results.append(result)
    raw: dict[str, Any] = {"v": 1, "ok": response.ok, "results": results, "backups": list(response.backups)}
    if response.error is not None:
        raw["error"] = {"kind": response.error.kind, "message": response.error.message}
    return raw


class HostSession:
    """Opens lazily on the first request and is reused for every task run on the host."""

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings
        self.requests = 0
        self._transport: Transport = open_transport(settings)

    def __call__(self, request: dict[str, Any]) -> Mapping[str, Any]:
        self.requests += 1
        return response_to_dict(self._transport.run(request))

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
