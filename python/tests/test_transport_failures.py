"""The real clients against loopback sockets that fail: refused, reset, silent.

No WS-Management server is needed to prove the failure paths: how many times a transport
connects shows whether it retried, and the error type shows how the failure was classified.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Literal

import pytest

from vipctl.transport import HostUnreachable, TransportTimeout, open_transport
from vipctl.transport.connection import ConnectionSettings

PASSWORD = "never-in-messages-42"
REQUEST = {"v": 1, "check": True, "backup_dir": None, "ops": [{"op": "host_facts"}]}


class Listener:
    """A loopback TCP listener that counts connections and either resets them or never answers."""

    def __init__(self, mode: Literal["close", "silent"]) -> None:
        self.mode = mode
        self.accepted = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.1)
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.getsockname()[1])

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            if self.mode == "close":
                conn.close()
            else:
                self._held.append(conn)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._server.close()
        for conn in self._held:
            conn.close()


@pytest.fixture
def closing_listener() -> Iterator[Listener]:
    listener = Listener("close")
    yield listener
    listener.stop()


@pytest.fixture
def silent_listener() -> Iterator[Listener]:
    listener = Listener("silent")
    yield listener
    listener.stop()


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


def settings(connection: Literal["psrp", "winrm"], port: int, **changes: object) -> ConnectionSettings:
    base: dict[str, object] = {
        "host": "127.0.0.1",
        "name": "rdsh-fail",
        "port": port,
        "scheme": "http",
        "connection": connection,
        "auth": "ntlm",
        "username": "farm\\admin",
        "password": PASSWORD,
        "retry_backoff": 0.0,
    }
    return ConnectionSettings(**{**base, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize("connection", ["psrp", "winrm"])
def test_refused_port_is_unreachable(connection: Literal["psrp", "winrm"]) -> None:
    transport = open_transport(settings(connection, free_port()))
    with pytest.raises(HostUnreachable) as caught:
        transport.run(REQUEST)
    assert str(caught.value).startswith("rdsh-fail: cannot connect")
    assert "refused" in str(caught.value).lower()
    assert PASSWORD not in str(caught.value)
    transport.close()


@pytest.mark.parametrize("connection", ["psrp", "winrm"])
def test_connection_resets_before_sending_are_retried_a_bounded_number_of_times(
    connection: Literal["psrp", "winrm"], closing_listener: Listener
) -> None:
    transport = open_transport(settings(connection, closing_listener.port, retries=2))
    with pytest.raises(HostUnreachable):
        transport.run(REQUEST)
    assert closing_listener.accepted == 3  # the first attempt and two retries
    # The transport stays usable: the next run starts afresh (and fails the same way here).
    with pytest.raises(HostUnreachable):
        transport.run(REQUEST)
    assert closing_listener.accepted == 6
    transport.close()


@pytest.mark.parametrize("connection", ["psrp", "winrm"])
def test_without_retries_a_reset_is_reported_at_once(
    connection: Literal["psrp", "winrm"], closing_listener: Listener
) -> None:
    transport = open_transport(settings(connection, closing_listener.port))
    with pytest.raises(HostUnreachable):
        transport.run(REQUEST)
    assert closing_listener.accepted == 1
    transport.close()


@pytest.mark.parametrize("connection", ["psrp", "winrm"])
def test_a_silent_host_times_out_and_is_not_retried(
    connection: Literal["psrp", "winrm"], silent_listener: Listener
) -> None:
    transport = open_transport(
        settings(connection, silent_listener.port, retries=3, read_timeout=2.0, operation_timeout=1)
    )
    started = time.monotonic()
    with pytest.raises(TransportTimeout) as caught:
        transport.run(REQUEST)
    assert time.monotonic() - started < 10
    assert str(caught.value).startswith("rdsh-fail: ")
    # A request that reached a host that then went quiet may have run: never send it again.
    assert silent_listener.accepted == 1
    transport.close()
