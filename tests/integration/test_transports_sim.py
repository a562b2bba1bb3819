"""vipctl.transport and vipctl.fleet against the simulator's real WS-Management front door.

The hosts are the embedded default farm's, so the real pypsrp / pywinrm clients, the shells, auth,
TLS, faults and the executor's Python twin are all exercised end to end.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any, Literal

import pytest
from sim_farms import load_test_farm

from vipctl.executor import bootstrap, script_bytes
from vipctl.executor.codec import build_request
from vipctl.fleet import run_fleet
from vipctl.sim.front_door import SimServer
from vipctl.sim.inventory import build_inventory
from vipctl.transport import (
    AuthenticationFailed,
    ConnectionSettings,
    HostUnreachable,
    ProtocolError,
    TlsHandshakeFailed,
    open_transport,
)
from vipctl.transport.ansible_vars import settings_from_ansible_vars

Connection = Literal["psrp", "winrm"]
REQUEST = build_request([{"op": "host_facts", "id": "facts"}], check=True, backup_dir=None)


def _farm() -> Any:
    return load_test_farm()


@pytest.fixture(scope="module")
def farm_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    server = SimServer(max_receive_wait_s=0.2)
    server.start(_farm(), https=True, state_dir=tmp_path_factory.mktemp("transports-sim"))
    yield server
    server.stop()


def _settings(sim: SimServer, name: str, connection: Connection, **changes: Any) -> ConnectionSettings:
    host_vars = build_inventory(sim, connection)["all"]["hosts"][name]
    settings = settings_from_ansible_vars(name, host_vars)
    return dataclasses.replace(settings, **changes) if changes else settings


def _http_ntlm(sim: SimServer, name: str, connection: Connection) -> ConnectionSettings:
    http_port = next(port for _, port, scheme in sim.listeners(name) if scheme == "http")
    return _settings(
        sim, name, connection, scheme="http", port=http_port, auth="ntlm", message_encryption="auto"
    )


def _usable_host(sim: SimServer) -> str:
    for name in sim.host_names:
        cfg = sim.host(name).winrm
        if cfg.basic and cfg.ntlm:
            return name
    pytest.skip("the farm has no host accepting both Basic and NTLM")


@pytest.mark.parametrize("connection", ["psrp", "winrm"])
@pytest.mark.parametrize("variant", ["https-basic", "http-ntlm-encrypted"])
def test_runs_reuse_one_shell_per_host(farm_sim: SimServer, connection: Connection, variant: str) -> None:
    name = _usable_host(farm_sim)
    settings = (
        _settings(farm_sim, name, connection)
        if variant == "https-basic"
        else _http_ntlm(farm_sim, name, connection)
    )
    before = farm_sim.counters(name)["open_shells"]
    with open_transport(settings) as transport:
        for _ in range(3):
            response = transport.run(REQUEST)
            assert response.ok is True
            assert response.host == name
            assert response.by_id("facts").op == "host_facts"
            assert response.by_id("facts").data["computer_name"]
        assert farm_sim.counters(name)["open_shells"] == before + 1
    assert farm_sim.counters(name)["open_shells"] == before


@pytest.mark.parametrize("connection", ["psrp", "winrm"])
def test_wrong_password_is_an_authentication_failure_without_the_password(
    farm_sim: SimServer, connection: Connection
) -> None:
    name = _usable_host(farm_sim)
    wrong = "Wrong-Pa55word-zz"
    transport = open_transport(_settings(farm_sim, name, connection, password=wrong))
    with pytest.raises(AuthenticationFailed) as caught:
        transport.run(REQUEST)
    assert str(caught.value).startswith(f"{name}: ")
    assert wrong not in str(caught.value)
    transport.close()


@pytest.mark.parametrize("connection", ["psrp", "winrm"])
def test_untrusted_certificate_is_refused(farm_sim: SimServer, connection: Connection) -> None:
    name = _usable_host(farm_sim)
    transport = open_transport(_settings(farm_sim, name, connection, ca_trust_path=None, retries=2))
    with pytest.raises(TlsHandshakeFailed, match="ca_trust_path"):
        transport.run(REQUEST)
    transport.close()


@pytest.mark.parametrize("connection", ["psrp", "winrm"])
def test_faults_map_to_typed_errors_and_the_transport_recovers(
    farm_sim: SimServer, connection: Connection
) -> None:
    name = _usable_host(farm_sim)
    transport = open_transport(_settings(farm_sim, name, connection))
    try:
        assert transport.run(REQUEST).ok
        farm_sim.set_faults(name, {"http_500": True})
        with pytest.raises(ProtocolError, match="HTTP 500"):
            transport.run(REQUEST)
        farm_sim.clear_faults(name)
        # The broken shell was dropped; the next run opens a new one.
        assert transport.run(REQUEST).ok
        # `down` closes the listener (established keep-alive connections live on), so a new
        # transport is what meets the refusal.
        farm_sim.set_faults(name, {"down": True})
        with pytest.raises(HostUnreachable, match="cannot connect"):
            open_transport(_settings(farm_sim, name, connection)).run(REQUEST)
    finally:
        farm_sim.clear_faults(name)
        transport.close()


@pytest.mark.parametrize("connection", ["psrp", "winrm"])
def test_fleet_runs_every_host_and_isolates_a_down_one(farm_sim: SimServer, connection: Connection) -> None:
    names = [n for n in farm_sim.host_names if farm_sim.host(n).winrm.basic]
    down = names[0]
    farm_sim.set_faults(down, {"down": True})

    def work(name: str) -> str:
        with open_transport(_settings(farm_sim, name, connection)) as transport:
            return str(transport.run(REQUEST).by_id("facts").data["computer_name"])

    try:
        outcomes = run_fleet(names, work, forks=3)
    finally:
        farm_sim.clear_faults(down)
    assert [o.host for o in outcomes] == names
    assert isinstance(outcomes[0].error, HostUnreachable)
    assert all(o.ok and o.value for o in outcomes[1:]), [o.error for o in outcomes]
    assert [o.ok for o in outcomes].count(False) == 1


@pytest.mark.parametrize(("variant", "auth_requests"), [("https-basic", 0), ("http-ntlm-encrypted", 3)])
def test_winrs_requests_per_run_leave_the_last_command_to_the_shell_delete(
    farm_sim: SimServer, variant: str, auth_requests: int
) -> None:
    # Create, command, stdin, receive and delete: the finished command is not signalled separately
    # when its shell is deleted next (docs/windows-facts.md#deleting-a-winrs-shell-ends-its-commands).
    # A second run on the open shell signals the first command, then runs its own (four requests).
    name = _usable_host(farm_sim)
    settings = (
        _settings(farm_sim, name, "winrm")
        if variant == "https-basic"
        else _http_ntlm(farm_sim, name, "winrm")
    )
    for runs, shell_requests in ((1, 5), (2, 9)):
        before = farm_sim.counters(name)["requests"]
        with open_transport(settings) as transport:
            for _ in range(runs):
                assert transport.run(REQUEST).ok is True
        assert farm_sim.counters(name)["requests"] - before == auth_requests + shell_requests


def test_winrs_session_reads_the_proxy_environment_once(
    farm_sim: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Merged when the session is built (here: no proxy for loopback), then never walked again.
    name = _usable_host(farm_sim)
    monkeypatch.setenv("NO_PROXY", "127.0.0.0/8,localhost")
    with open_transport(_http_ntlm(farm_sim, name, "winrm")) as transport:
        assert transport.run(REQUEST).ok is True
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # would refuse every request if read
        monkeypatch.delenv("NO_PROXY")
        assert transport.run(REQUEST).ok is True
        session = transport._protocol.transport.session  # type: ignore[union-attr]
        assert session is not None and session.trust_env is False


@pytest.mark.parametrize("connection", ["psrp", "winrm"])
def test_an_executor_call_on_an_open_connection_sends_the_compressed_script(
    farm_sim: SimServer, connection: Connection
) -> None:
    # The script travels gzip-compressed in both transports' stdin frame, which the WS-Man envelope
    # base64-encodes once more. Uncompressed, that alone would be 16/9 of the script's size.
    name = _usable_host(farm_sim)
    with open_transport(_settings(farm_sim, name, connection)) as transport:
        assert transport.run(REQUEST).ok is True
        before = farm_sim.counters(name)["request_bytes"]
        assert transport.run(REQUEST).ok is True
        sent = farm_sim.counters(name)["request_bytes"] - before
    assert len(bootstrap.shipped_script_line()) < sent < len(script_bytes()), sent
