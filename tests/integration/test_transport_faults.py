"""Each fault the simulator injects, through both transports, surfaces as its typed error.

Callers decide by type (retry, report unreachable, fail the host), so every assertion names the
exact class. Each test gets a fresh single-host SimServer (milliseconds to start), so a fault or
a broken shell never leaks into the next test.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import wire_hosts
from vector_support import build_host

from vipctl.executor.codec import build_request
from vipctl.executor.errors import OpFailed
from vipctl.sim.front_door import SimServer
from vipctl.sim.model.host import SimHost
from vipctl.transport import (
    AuthenticationFailed,
    ConnectionLost,
    HostUnreachable,
    ProtocolError,
    TlsHandshakeFailed,
    Transport,
    TransportError,
    TransportTimeout,
    open_transport,
)

NAME = "faulthost"
KEY = "HKLM\\SOFTWARE\\vipctl-faults\\Sample"
FACTS = build_request([{"op": "host_facts", "id": "facts"}], check=True, backup_dir=None)
READ_KEY = build_request([{"op": "registry_get", "id": "read", "path": KEY}], check=True, backup_dir=None)
# Listener addresses by index (wire_hosts.address); the vector run uses the low indexes.
_INDEX_BASE = 1000


@dataclass
class Served:
    server: SimServer
    host: SimHost
    connection: wire_hosts.Connection

    def transport(self, **changes: Any) -> Transport:
        return open_transport(wire_hosts.settings(self.server, NAME, self.connection, **changes))

    def requests(self) -> int:
        return int(self.server.counters(NAME)["requests"])

    def statuses(self) -> dict[str, int]:
        return dict(self.server.counters(NAME)["by_status"])


@pytest.fixture(params=wire_hosts.CONNECTIONS)
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Served]:
    connection: wire_hosts.Connection = request.param
    vector = {
        "host": {"name": NAME, "image": "server2022", "roles": ["RDS-RD-Server"]},
        "state_before": {"registry": {KEY: {"Mode": {"type": "REG_DWORD", "value": 1}}}},
    }
    index = _INDEX_BASE + wire_hosts.CONNECTIONS.index(connection)
    host = build_host(vector, wire_hosts.endpoint(index))
    with wire_hosts.serve(NAME, host, tmp_path) as server:
        yield Served(server, host, connection)


def raised(transport: Transport, request: dict[str, Any]) -> TransportError:
    with pytest.raises(TransportError) as caught:
        transport.run(request)
    return caught.value


def test_latency_slows_every_reply_but_the_call_succeeds(served: Served) -> None:
    latency_ms = 40
    with served.transport() as transport:
        served.server.set_faults(NAME, {"latency_ms": latency_ms})
        before = served.requests()
        started = time.monotonic()
        response = transport.run(FACTS)
        elapsed = time.monotonic() - started
        # Counted before closing: closing the shell or pool sends requests of its own.
        round_trips = served.requests() - before
    assert response.ok
    assert response.by_id("facts").data["computer_name"] == NAME.upper()
    # The delay is per request, and the client waits for each reply before the next one.
    assert round_trips >= 1
    assert elapsed >= round_trips * latency_ms / 1000


def test_reset_mid_conversation_is_a_lost_connection_and_the_transport_recovers(served: Served) -> None:
    with served.transport() as transport:
        assert transport.run(FACTS).ok  # shell / runspace pool open and reused from here on
        # The command starts, then the connection is dropped. WinRS first signals the previous,
        # finished command (docs/windows-facts.md#deleting-a-winrs-shell-ends-its-commands).
        answered = 2 if served.connection == "winrm" else 1
        served.server.set_faults(NAME, {"reset_after": answered})
        error = raised(transport, FACTS)
        # Not "cannot connect": the host was reached and may have run the request.
        assert error.__class__ is ConnectionLost, repr(error)
        assert str(error).startswith(f"{NAME}: ") and "cannot connect" not in str(error)
        assert "vipctl status" in str(error)
        # The command had started: resending could repeat a write, so the error says so.
        assert error.retryable is False
        served.server.clear_faults(NAME)
        # The broken shell was dropped; the next run opens a new one.
        assert transport.run(FACTS).ok


def test_http_500_is_a_protocol_error(served: Served) -> None:
    with served.transport() as transport:
        served.server.set_faults(NAME, {"http_500": True})
        error = raised(transport, FACTS)
    assert error.__class__ is ProtocolError, repr(error)
    assert "HTTP 500" in str(error)


def test_http_401_is_an_authentication_failure(served: Served) -> None:
    with served.transport() as transport:
        served.server.set_faults(NAME, {"http_401": True})
        error = raised(transport, FACTS)
    assert error.__class__ is AuthenticationFailed, repr(error)
    assert wire_hosts.PASSWORD not in str(error)


def test_operation_timeouts_are_polled_through_until_the_output_comes(served: Served) -> None:
    """Windows answers a Receive that waited OperationTimeout with a fault; clients poll again."""
    with served.transport() as transport:
        assert transport.run(FACTS).ok  # open first: opening a runspace pool also Receives
        faults_before = served.statuses().get("500", 0)
        served.server.set_faults(NAME, {"timeouts": True})

        def lift_after_two_timeouts() -> None:
            # Counted, not timed: on a busy machine the requests before the first Receive vary.
            deadline = time.monotonic() + 30
            while served.statuses().get("500", 0) - faults_before < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            served.server.set_faults(NAME, {"timeouts": False})

        lift = threading.Thread(target=lift_after_two_timeouts)
        lift.start()
        try:
            response = transport.run(FACTS)
        finally:
            lift.join()
    assert response.ok
    # Each timed-out Receive is answered with the WS-Man fault, which travels as HTTP 500.
    assert served.statuses().get("500", 0) - faults_before >= 2


def test_operation_timeouts_past_the_command_timeout_are_a_transport_timeout(served: Served) -> None:
    with served.transport(command_timeout=0.5) as transport:
        assert transport.run(FACTS).ok
        served.server.set_faults(NAME, {"timeouts": True})
        started = time.monotonic()
        error = raised(transport, FACTS)
        elapsed = time.monotonic() - started
    assert error.__class__ is TransportTimeout, repr(error)
    assert "did not finish within 0.5 s" in str(error)
    # Bounded by the command timeout plus one Receive wait (0.2 s on this server), not hung.
    assert 0.5 <= elapsed < 5


def test_a_down_host_is_unreachable(served: Served) -> None:
    served.server.set_faults(NAME, {"down": True})
    with served.transport() as transport:
        error = raised(transport, FACTS)
    assert error.__class__ is HostUnreachable, repr(error)
    assert "cannot connect" in str(error)


def test_registry_access_denied_fails_the_op_not_the_transport(served: Served) -> None:
    served.host.deny_registry_path(KEY)
    with served.transport() as transport:
        response = transport.run(READ_KEY)
    assert response.ok is False
    result = response.by_id("read")
    assert result.error is not None
    assert result.error.kind == "access_denied"
    with pytest.raises(OpFailed) as caught:
        response.raise_for_error()
    assert caught.value.kind == "access_denied"
    assert caught.value.op_id == "read"
    assert str(caught.value).startswith(f"{NAME}: ")


def test_wrong_password_is_an_authentication_failure_without_the_password(served: Served) -> None:
    wrong = "Wrong-Wire-Pa55!"
    with served.transport(password=wrong) as transport:
        error = raised(transport, FACTS)
    assert error.__class__ is AuthenticationFailed, repr(error)
    assert wrong not in str(error)
    assert wire_hosts.PASSWORD not in str(error)


def test_an_untrusted_ca_fails_the_tls_handshake(served: Served) -> None:
    # Validation stays on, but without the simulator's CA nothing vouches for its certificate.
    with served.transport(ca_trust_path=None, retries=2, retry_backoff=0.0) as transport:
        error = raised(transport, FACTS)
    assert error.__class__ is TlsHandshakeFailed, repr(error)
    assert not error.retryable  # a refused certificate stays refused, so retries are not spent on it
    assert "ca_trust_path" in str(error)
    assert served.requests() == 0  # no HTTP request got past the handshake
