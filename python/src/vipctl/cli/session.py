"""One host's open transport as a `vipctl.tasks` runner: request dict in, response dict out."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

from vipctl.executor.codec import Response
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
