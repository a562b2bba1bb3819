"""One host's open transport as a `vipctl.tasks` runner: request in, decoded `codec.Response` out."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

from vipctl.executor.codec import Response
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
