"""The simulator's front door driven by the real pywinrm client over HTTP, NTLM and HTTPS."""

from __future__ import annotations

import ipaddress
import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import winrm
from sim_farms import load_test_farm
from winrm.exceptions import InvalidCredentialsError, WinRMTransportError
from winrm.protocol import Protocol

from vipctl.executor import bootstrap
from vipctl.sim.front_door import SimServer

REQUEST = {"v": 1, "check": True, "ops": [{"op": "host_facts"}]}


def _pick(sim: SimServer, unencrypted: bool) -> str:
    for name in sim.host_names:
        winrm_cfg = sim.host(name).winrm
        if winrm_cfg.allow_unencrypted == unencrypted and winrm_cfg.basic and winrm_cfg.ntlm:
            return name
    pytest.skip(f"the farm has no host with allow_unencrypted={unencrypted}")


def _url(sim: SimServer, name: str, scheme: str) -> str:
    for address, port, listener_scheme in sim.listeners(name):
        if listener_scheme == scheme:
            return f"{scheme}://{address}:{port}/wsman"
    raise AssertionError(f"{name} has no {scheme} listener")


def _run_executor(protocol: Protocol) -> tuple[dict[str, Any], bytes, int]:
    shell_id = protocol.open_shell()
    try:
        command_id = protocol.run_command(shell_id, bootstrap.command_line(), console_mode_stdin=False)
        protocol.send_command_input(shell_id, command_id, bootstrap.stdin_frame(REQUEST), end=True)
        stdout, stderr, code = protocol.get_command_output(shell_id, command_id)
        protocol.cleanup_command(shell_id, command_id)
    finally:
        protocol.close_shell(shell_id)
    return json.loads(stdout), stderr, code


def _protocol(
    sim: SimServer, name: str, scheme: str, transport: str, password: str | None = None
) -> Protocol:
    cfg = sim.host(name).winrm
    return Protocol(
        _url(sim, name, scheme),
        transport=transport,  # type: ignore[arg-type]
        username=cfg.username,
        password=password if password is not None else cfg.password,
        ca_trust_path=str(sim.ca_file) if scheme == "https" else "legacy_requests",
        server_cert_validation="validate",
        operation_timeout_sec=2,
        read_timeout_sec=5,
    )


def test_run_ps_of_a_foreign_script_gets_a_powershell_error(sim: SimServer) -> None:
    name = _pick(sim, unencrypted=True)
    cfg = sim.host(name).winrm
    session = winrm.Session(_url(sim, name, "http"), auth=(cfg.username, cfg.password), transport="basic")
    result = session.run_ps("Get-ChildItem C:\\")
    assert result.status_code == 1
    assert result.std_out == b""
    assert b"Get-ChildItem C:\\" in result.std_err


def test_executor_over_http_basic(sim: SimServer) -> None:
    response, stderr, code = _run_executor(_protocol(sim, _pick(sim, True), "http", "basic"))
    assert code == 0, stderr
    assert response["v"] == 1 and response["results"][0]["op"] == "host_facts"


def test_executor_over_http_ntlm_with_message_encryption(sim: SimServer) -> None:
    # This host refuses unencrypted traffic: the only way in over HTTP is NTLM with sealing.
    protocol = _protocol(sim, _pick(sim, False), "http", "ntlm")
    response, _, code = _run_executor(protocol)
    assert code == 0 and response["results"][0]["op"] == "host_facts"
    assert protocol.transport.encryption is not None


def test_executor_over_https_basic_with_certificate_validation(sim: SimServer) -> None:
    assert sim.ca_file is not None and Path(sim.ca_file).is_file()
    response, _, code = _run_executor(_protocol(sim, _pick(sim, False), "https", "basic"))
    assert code == 0 and response["results"][0]["op"] == "host_facts"


def test_basic_over_plain_http_is_refused_without_allow_unencrypted(sim: SimServer) -> None:
    with pytest.raises(InvalidCredentialsError):
        _protocol(sim, _pick(sim, False), "http", "basic").open_shell()


@pytest.mark.parametrize("transport", ["basic", "ntlm"])
def test_wrong_password_is_401_with_windows_challenges(sim: SimServer, transport: str) -> None:
    name = _pick(sim, True)
    with pytest.raises(InvalidCredentialsError):
        _protocol(sim, name, "http", transport, password="wrong").open_shell()
    reply = requests.post(_url(sim, name, "http"), data=b"<x/>", timeout=5)
    assert reply.status_code == 401
    challenges = reply.raw.headers.getlist("WWW-Authenticate")
    assert "Negotiate" in challenges and 'Basic realm="WSMAN"' in challenges


def test_front_door_faults_are_surfaced_and_counted(sim: SimServer) -> None:
    name = _pick(sim, True)
    protocol = _protocol(sim, name, "http", "basic")
    before = sim.counters(name)["requests"]
    try:
        sim.set_faults(name, {"http_500": True})
        with pytest.raises(WinRMTransportError) as caught:
            protocol.open_shell()
        assert caught.value.code == 500
        sim.set_faults(name, {"http_500": False, "http_401": True})
        with pytest.raises(InvalidCredentialsError):
            protocol.open_shell()
        sim.set_faults(name, {"http_401": False, "latency_ms": 150})
        started = time.monotonic()
        protocol.close_shell(protocol.open_shell())
        assert time.monotonic() - started >= 0.3  # two requests, 150 ms each
        sim.set_faults(name, {"latency_ms": 0, "reset_after": 0})
        with pytest.raises(requests.exceptions.ConnectionError):
            _protocol(sim, name, "http", "basic").open_shell()
        sim.set_faults(name, {"reset_after": None, "down": True})
        with pytest.raises(requests.exceptions.ConnectionError):
            _protocol(sim, name, "http", "basic").open_shell()
    finally:
        sim.clear_faults(name)
    _run_executor(_protocol(sim, name, "http", "basic"))
    counters = sim.counters(name)
    assert counters["requests"] > before
    assert counters["by_status"]["500"] >= 1 and counters["by_status"]["401"] >= 1


def test_operation_timeout_fault_is_retried_by_pywinrm(sim: SimServer) -> None:
    name = _pick(sim, True)
    protocol = _protocol(sim, name, "http", "basic")
    shell_id = protocol.open_shell()
    command_id = protocol.run_command(shell_id, bootstrap.command_line(), console_mode_stdin=False)
    sim.set_faults(name, {"timeouts": True})
    try:
        from winrm.exceptions import WinRMOperationTimeoutError

        with pytest.raises(WinRMOperationTimeoutError):
            protocol.get_command_output_raw(shell_id, command_id)
    finally:
        sim.clear_faults(name)
    protocol.send_command_input(shell_id, command_id, bootstrap.stdin_frame(REQUEST), end=True)
    stdout, _, code = protocol.get_command_output(shell_id, command_id)
    assert code == 0 and json.loads(stdout)["v"] == 1


def test_nothing_listens_outside_loopback(sim: SimServer) -> None:
    import os

    inode_ports: list[tuple[str, int]] = []
    socket_inodes: set[str] = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink(f"/proc/self/fd/{fd}")
        except FileNotFoundError:  # an fd closed while we listed them
            continue
        if link.startswith("socket:["):
            socket_inodes.add(link[8:-1])
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as handle:
            for line in handle.readlines()[1:]:
                fields = line.split()
                if fields[3] != "0A" or fields[9] not in socket_inodes:  # 0A = LISTEN, ours only
                    continue
                hex_addr, hex_port = fields[1].split(":")
                if len(hex_addr) == 8:
                    address = str(ipaddress.IPv4Address(bytes.fromhex(hex_addr)[::-1]))
                else:
                    address = str(ipaddress.IPv6Address(bytes.fromhex(hex_addr)))
                inode_ports.append((address, int(hex_port, 16)))
    expected = {(a, p) for n in sim.host_names for a, p, _ in sim.listeners(n)}
    assert expected <= set(inode_ports)
    assert all(ipaddress.ip_address(a) in ipaddress.ip_network("127.0.0.0/8") for a, _ in inode_ports)


def test_non_loopback_bind_is_refused(state_dir: Path) -> None:
    farm = load_test_farm()
    next(iter(farm.hosts.values())).winrm.address = "0.0.0.0"
    with pytest.raises(ValueError, match=r"127\.0\.0\.0/8"):
        SimServer().start(farm, state_dir=state_dir)


def test_admin_api_and_inventory(sim: SimServer, tmp_path: Path) -> None:
    import yaml

    from vipctl.sim.admin import AdminApi
    from vipctl.sim.admin_client import AdminClient
    from vipctl.sim.inventory import write_inventory

    admin = AdminApi(sim)
    admin.start()
    try:
        client = AdminClient(admin.url, admin.token)
        name = _pick(sim, True)
        assert set(client.hosts()) == set(sim.host_names)
        assert isinstance(client.snapshot(name), dict)
        assert client.set_faults(name, latency_ms=5)["latency_ms"] == 5
        assert client.clear_faults(name)["latency_ms"] == 0
        before = client.counters(name)["requests"]
        address, port, scheme = sim.endpoint(name)
        requests.post(f"{scheme}://{address}:{port}/wsman", data=b"", timeout=5, verify=str(sim.ca_file))
        assert client.counters(name)["requests"] == before + 1
        with pytest.raises(RuntimeError, match="401"):
            AdminClient(admin.url, "wrong").hosts()
        with pytest.raises(RuntimeError, match="unknown front-door fault"):
            client.set_faults(name, explode=True)
    finally:
        admin.stop()
    inventory = yaml.safe_load(write_inventory(sim, tmp_path / "inventory.yml").read_text())
    host_vars = inventory["all"]["hosts"][name]
    address, port, scheme = sim.endpoint(name)
    assert (host_vars["ansible_host"], host_vars["ansible_port"]) == (address, port)
    assert host_vars["ansible_winrm_scheme"] == scheme == "https"
    assert host_vars["ansible_winrm_ca_trust_path"] == str(sim.ca_file)
    for group in sim.host(name).groups:
        assert name in inventory["all"]["children"][group]["hosts"]


def test_admin_api_puts_a_host_in_constrained_language_mode(sim: SimServer) -> None:
    """Through the real WinRS bootstrap: every request gets the typed refusal, exit code 1."""
    from vipctl.sim.admin import AdminApi
    from vipctl.sim.admin_client import AdminClient

    admin = AdminApi(sim)
    admin.start()
    name = _pick(sim, True)
    try:
        client = AdminClient(admin.url, admin.token)
        client.action(name, "language_mode", mode="ConstrainedLanguage")
        assert client.snapshot(name)["language_mode"] == "ConstrainedLanguage"
        response, _, code = _run_executor(_protocol(sim, name, "http", "basic"))
        assert code == 1
        assert response["error"]["kind"] == "constrained_language"
        assert (response["results"], response["backups"]) == ([], [])
        with pytest.raises(RuntimeError, match="unknown language mode"):
            client.action(name, "language_mode", mode="RestrictedLanguage")
        client.action(name, "language_mode", mode="FullLanguage")
        response, _, code = _run_executor(_protocol(sim, name, "http", "basic"))
        assert code == 0 and response["results"][0]["op"] == "host_facts"
    finally:
        sim.host(name).set_language_mode("FullLanguage")
        admin.stop()
