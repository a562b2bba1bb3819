"""Controller-side transports: run one executor request on one Windows host, return its response.

`open_transport(settings)` picks PSRP (pypsrp, runspace pool reused) or WinRS (pywinrm, shell
reused) from `settings.connection`. Both raise `vipctl.transport.errors.TransportError`
subclasses for transport failures and `vipctl.executor.errors.ExecutorError` for bad output.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Protocol, Self

from vipctl.executor.codec import Response
from vipctl.transport.connection import ConnectionSettings, ConnectionSettingsError
from vipctl.transport.errors import (
    AuthenticationFailed,
    ConnectionLost,
    HostUnreachable,
    ProtocolError,
    TlsHandshakeFailed,
    TransportError,
    TransportTimeout,
)


class Transport(Protocol):
    """One host's connection: `run` may be called many times, `close` once at the end."""

    settings: ConnectionSettings

    def run(self, request: dict[str, Any]) -> Response: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


def open_transport(settings: ConnectionSettings) -> Transport:
    """The transport for `settings.connection`. Connects lazily, on the first `run`."""
    # Imported on demand so that a CLI using only one of them does not pay for both clients.
    if settings.connection == "psrp":
        from vipctl.transport.psrp import PsrpTransport

        return PsrpTransport(settings)
    if settings.connection == "winrm":
        from vipctl.transport.winrm import WinrmTransport

        return WinrmTransport(settings)
    raise ConnectionSettingsError(
        settings.name, f"connection {settings.connection!r} is not supported; use psrp or winrm"
    )


__all__ = [
    "AuthenticationFailed",
    "ConnectionLost",
    "ConnectionSettings",
    "ConnectionSettingsError",
    "HostUnreachable",
    "ProtocolError",
    "TlsHandshakeFailed",
    "Transport",
    "TransportError",
    "TransportTimeout",
    "open_transport",
]
