"""The simulator's PSRP shell driven by the real pypsrp client over HTTP(S), Basic and NTLM."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from ansible.playbook.play_context import PlayContext
from ansible.plugins.loader import connection_loader
from ansible.plugins.shell.powershell import ShellModule, _common_args
from pypsrp.client import Client
from pypsrp.complex_objects import PSInvocationState
from pypsrp.host import PSHost, PSHostUserInterface
from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.wsman import WSMan

from vipctl.executor import bootstrap, script_text
from vipctl.sim.front_door import SimServer

REQUEST = {"v": 1, "check": True, "backup_dir": None, "ops": [{"op": "host_facts", "id": "facts"}]}


def _pick(sim: SimServer, unencrypted: bool) -> str:
    for name in sim.host_names:
        cfg = sim.host(name).winrm
        if cfg.allow_unencrypted == unencrypted and cfg.basic and cfg.ntlm:
            return name
    pytest.skip(f"the farm has no host with allow_unencrypted={unencrypted}")


def _listener(sim: SimServer, name: str, scheme: str) -> tuple[str, int]:
    for address, port, listener_scheme in sim.listeners(name):
        if listener_scheme == scheme:
            return address, port
    raise AssertionError(f"{name} has no {scheme} listener")


def _connection_kwargs(sim: SimServer, name: str, scheme: str, auth: str) -> dict[str, Any]:
    address, port = _listener(sim, name, scheme)
    cfg = sim.host(name).winrm
    return {
        "server": address,
        "port": port,
        "username": cfg.username,
        "password": cfg.password,
        "ssl": scheme == "https",
        "auth": auth,
        "cert_validation": str(sim.ca_file) if scheme == "https" else False,
        # Basic over plain HTTP cannot wrap messages; only hosts allowing unencrypted accept it.
        "encryption": "never" if (scheme, auth) == ("http", "basic") else "auto",
        "operation_timeout": 5,
        "read_timeout": 10,
    }


def _wsman(sim: SimServer, name: str, scheme: str, auth: str) -> WSMan:
    return WSMan(**_connection_kwargs(sim, name, scheme, auth))


def _run_executor(pool: RunspacePool, request: dict[str, Any]) -> tuple[dict[str, Any], PowerShell]:
    ps = PowerShell(pool)
    ps.add_script(script_text()).add_parameter("RequestBase64", bootstrap.request_base64(request))
    output = ps.invoke()
    assert len(output) == 1, output
    return json.loads(output[0]), ps


def test_execute_ps_of_a_foreign_script_has_errors(sim: SimServer) -> None:
    name = _pick(sim, unencrypted=False)
    client = Client(**_connection_kwargs(sim, name, "https", "basic"))
    output, streams, had_errors = client.execute_ps("Get-ChildItem C:\\Windows\nGet-Service")
    assert had_errors is True
    assert output == ""
    messages = [str(error) for error in streams.error]
    assert any("Get-ChildItem C:\\Windows" in message for message in messages), messages
    assert streams.error[0].fq_error == "CommandNotFoundException"


def test_executor_runs_in_a_reused_runspace_pool_over_ntlm_with_encryption(sim: SimServer) -> None:
    name = _pick(sim, unencrypted=False)
    with RunspacePool(_wsman(sim, name, "http", "ntlm")) as pool:
        for _ in range(3):
            response, ps = _run_executor(pool, REQUEST)
            assert ps.had_errors is False and ps.state == PSInvocationState.COMPLETED
            assert response["v"] == 1
            assert [result["op"] for result in response["results"]] == ["host_facts"]
        foreign = PowerShell(pool)
        foreign.add_script("$PSVersionTable")
        foreign.invoke()
        assert foreign.had_errors is True
        assert "$PSVersionTable" in str(foreign.streams.error[0])
        # The pool still serves the executor after a refused script.
        response, _ = _run_executor(pool, REQUEST)
        assert response["results"][0]["op"] == "host_facts"


def test_pool_messages_pypsrp_can_send_are_answered(sim: SimServer) -> None:
    name = _pick(sim, unencrypted=True)
    with RunspacePool(_wsman(sim, name, "http", "basic"), min_runspaces=1, max_runspaces=1) as pool:
        assert pool.get_available_runspaces() == 1
        pool.max_runspaces = 3
        pool.min_runspaces = 2
        assert (pool.min_runspaces, pool.max_runspaces) == (2, 3)
        pool.reset_runspace_state()
        response, _ = _run_executor(pool, REQUEST)
        assert response["v"] == 1


def test_bootstrap_the_way_ansible_psrp_runs_it_reports_rc_through_the_host(sim: SimServer) -> None:
    # Mirrors ansible.plugins.connection.psrp: a PSHost that records SetShouldExit, the decoded
    # bootstrap as a local-scope script, stdin lines as pipeline input, the last pipeline stopped
    # before the next one, rc = host.rc or (1 if had_errors else 0).
    name = _pick(sim, unencrypted=False)
    host = PSHost(None, None, False, "Ansible PSRP Host", None, PSHostUserInterface(), None)  # type: ignore[arg-type]
    pool = RunspacePool(_wsman(sim, name, "https", "ntlm"), host=host)
    pool.open()
    try:
        last: PowerShell | None = None
        frame = bootstrap.stdin_frame(REQUEST).decode("ascii").splitlines()
        for lines, want_rc in ((frame, 0), (["only-one-line"], 1), (frame, 0)):
            if last is not None:
                last.state = PSInvocationState.RUNNING
                last.stop()
            host.rc = 0
            ps = PowerShell(pool)
            ps.add_script(bootstrap.BOOTSTRAP_PS1, use_local_scope=True)
            output = ps.invoke(input=lines)  # type: ignore[arg-type]  # a list, exactly as Ansible passes it
            rc = host.rc or (1 if ps.had_errors else 0)
            assert rc == want_rc
            reply = json.loads(output[0])
            assert reply["v"] == 1 and (reply.get("ok") is False) == (want_rc == 1)
            last = ps
        foreign = PowerShell(pool)
        foreign.add_script("Remove-Item C:\\Temp -Recurse\nexit $LASTEXITCODE", use_local_scope=True)
        host.rc = 0
        foreign.invoke()
        assert (host.rc or (1 if foreign.had_errors else 0)) == 1
    finally:
        pool.close()


def test_ansible_psrp_connection_plugin_runs_the_bootstrap_and_reads_rc(sim: SimServer) -> None:
    name = _pick(sim, unencrypted=False)
    address, port = _listener(sim, name, "https")
    cfg = sim.host(name).winrm
    connection = connection_loader.get("psrp", PlayContext(), io.StringIO())
    connection.set_options(
        var_options={
            "ansible_host": address,
            "ansible_port": port,
            "ansible_user": cfg.username,
            "ansible_password": cfg.password,
            "ansible_psrp_protocol": "https",
            "ansible_psrp_auth": "ntlm",
            "ansible_psrp_ca_cert": str(sim.ca_file),
        }
    )
    connection._connect()
    try:
        stdin = bootstrap.stdin_frame(REQUEST)
        shell_built = ShellModule()._encode_script(bootstrap.BOOTSTRAP_PS1)
        encoded = bootstrap.encode_powershell(bootstrap.BOOTSTRAP_PS1)
        prefixed = " ".join([*_common_args, "-EncodedCommand", encoded])
        for command in (shell_built, prefixed, shell_built):  # one runspace, several pipelines
            rc, stdout, stderr = connection.exec_command(command, in_data=stdin)
            assert (rc, stderr) == (0, b"")
            assert json.loads(stdout)["results"][0]["op"] == "host_facts"
        # Any other command line runs as `<line>\nexit $LASTEXITCODE`: a child powershell.exe
        # that never sees the stdin lines, so the bootstrap refuses with exit code 1.
        rc, stdout, _ = connection.exec_command(bootstrap.command_line(), in_data=stdin)
        assert rc == 1 and json.loads(stdout)["error"]["kind"] == "bad_request"
        rc, stdout, stderr = connection.exec_command("Get-ChildItem C:\\")
        assert rc == 1 and stdout == b""
        assert b"'Get-ChildItem C:\\'" in stderr and b"CommandNotFoundException" in stderr
    finally:
        connection.close()
