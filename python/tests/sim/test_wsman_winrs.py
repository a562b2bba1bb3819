"""Reply shapes pywinrm depends on, checked by driving the real `winrm.protocol.Protocol`."""

from __future__ import annotations

import base64
import gzip
import json
import re
import uuid
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from winrm.exceptions import WinRMOperationTimeoutError, WSManFaultError

from vipctl.executor import bootstrap, script_bytes
from vipctl.sim.winrs_shell import WinrsShell
from vipctl.sim.wsman import WsmanEndpoint, ns
from vipctl.sim.wsman.request import parse_request
from vipctl.transport import ConnectionSettings
from vipctl.transport.winrm import WinrmTransport

GUID_UPPER = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")
BOOT_ARGS = [
    *bootstrap.POWERSHELL_ARGS,
    "-EncodedCommand",
    bootstrap.encode_powershell(bootstrap.BOOTSTRAP_PS1),
]
REQUEST = {"v": 1, "check": True, "ops": [{"op": "host_facts"}]}


def _header(reply: bytes, tag: str) -> str:
    node = ET.fromstring(reply).find(f"{{{ns.SOAP}}}Header/{{{ns.ADDRESSING}}}{tag}")
    assert node is not None and node.text
    return node.text


def test_shell_ids_are_upper_case_guids_and_replies_relate_to_the_request(protocol: Any) -> None:
    shell_id = protocol.open_shell()
    assert GUID_UPPER.match(shell_id)
    transport = protocol.transport
    reply = transport.endpoint.handle(transport.sent[-1])
    request_id = _header(transport.sent[-1], "MessageID")
    assert _header(reply.body, "RelatesTo") == request_id
    assert _header(reply.body, "To") == ns.ANONYMOUS
    assert _header(reply.body, "Action") == ns.ACTION_CREATE + "Response"
    assert uuid.UUID(_header(reply.body, "MessageID").removeprefix("uuid:")) != uuid.UUID(request_id[5:])
    protocol.close_shell(shell_id)  # asserts RelatesTo itself


def test_executor_runs_through_bootstrap_and_stdin_frame(protocol: Any, backend: Any) -> None:
    shell_id = protocol.open_shell()
    command_id = protocol.run_command(shell_id, "powershell.exe", BOOT_ARGS, console_mode_stdin=False)
    assert GUID_UPPER.match(command_id)
    protocol.send_command_input(shell_id, command_id, bootstrap.stdin_frame(REQUEST), end=True)
    stdout, stderr, code = protocol.get_command_output(shell_id, command_id)
    assert code == 0 and stderr == b""
    assert json.loads(stdout) == {"v": 1, "results": [{"op": "host_facts", "ok": True, "data": {}}]}
    assert json.loads(backend.calls[0][1]) == REQUEST
    protocol.cleanup_command(shell_id, command_id)
    protocol.close_shell(shell_id)


@pytest.mark.parametrize("console_mode_stdin", [True, None])
def test_a_console_stdin_leaves_the_bootstrap_without_its_frame(
    protocol: Any, backend: Any, console_mode_stdin: bool | None
) -> None:
    # pywinrm's default (TRUE), and a client that sends no option at all, give the command a
    # console: the bootstrap's `$input` stays empty, so it refuses the request and nothing runs.
    if console_mode_stdin is None:
        shell = WinrsShell(backend)  # pywinrm always sends the option, so drive the shell itself
        shell.command("C1", "powershell.exe", [arg.encode() for arg in BOOT_ARGS], {})
        shell.send("C1", "stdin", bootstrap.stdin_frame(REQUEST), True)
        result = shell.receive("C1")
        assert result is not None
        stdout, code = result.chunks[0].data, result.exit_code
    else:
        shell_id = protocol.open_shell()
        command_id = protocol.run_command(shell_id, "powershell.exe", BOOT_ARGS, console_mode_stdin=True)
        protocol.send_command_input(shell_id, command_id, bootstrap.stdin_frame(REQUEST), end=True)
        stdout, _, code = protocol.get_command_output(shell_id, command_id)
    assert code == 1
    reply = json.loads(stdout)
    assert reply["ok"] is False and reply["error"]["kind"] == "bad_request"
    assert "two base64 lines on stdin" in reply["error"]["message"]
    assert backend.calls == []


class ProtocolBackend:
    """Completes the recording backend's answer into a protocol response the transport accepts."""

    def __init__(self, recording: Any) -> None:
        self.recording = recording

    def run_executor(self, script_text_: str, request_json: str) -> tuple[str, int]:
        stdout, code = self.recording.run_executor(script_text_, request_json)
        reply = json.loads(stdout)
        for result in reply["results"]:
            result["changed"] = False
        return json.dumps({**reply, "ok": True, "backups": []}), code


def test_the_winrm_transport_sends_stdin_as_a_pipe(protocol: Any, backend: Any) -> None:
    full = ProtocolBackend(backend)
    protocol.transport.endpoint = WsmanEndpoint("VDA01", lambda uri: WinrsShell(full), max_wait_s=0.01)
    settings = ConnectionSettings(
        host="127.0.0.1",
        port=5985,
        scheme="http",
        connection="winrm",
        auth="ntlm",
        username="u",
        password="p",
    )
    transport = WinrmTransport(settings)
    transport._new_protocol = lambda: protocol  # type: ignore[method-assign]
    request = {"v": 1, "check": True, "backup_dir": None, "ops": [{"op": "host_facts", "id": "facts"}]}
    response = transport.run(request)
    assert response.ok and response.results[0].op == "host_facts"
    commands = [parse_request(sent) for sent in protocol.transport.sent]
    started = [sent for sent in commands if sent.action == ns.ACTION_COMMAND]
    assert [sent.options.get("WINRS_CONSOLEMODE_STDIN") for sent in started] == ["FALSE"]
    transport.close()


def test_other_scripts_get_a_powershell_error_naming_their_first_line(protocol: Any) -> None:
    shell_id = protocol.open_shell()
    encoded = bootstrap.encode_powershell("Get-Process\r\nGet-Service")
    command_id = protocol.run_command(shell_id, f"powershell -encodedcommand {encoded}")
    stdout, stderr, code = protocol.get_command_output(shell_id, command_id)
    assert code == 1 and stdout == b""
    assert b"Get-Process" in stderr and b"FullyQualifiedErrorId" in stderr


def test_receive_before_stdin_ends_times_out_with_the_wsman_code(protocol: Any) -> None:
    shell_id = protocol.open_shell()
    command_id = protocol.run_command(shell_id, "powershell.exe", BOOT_ARGS, console_mode_stdin=False)
    with pytest.raises(WinRMOperationTimeoutError):
        protocol.get_command_output_raw(shell_id, command_id)
    body = protocol.transport.sent[-1]
    outcome = protocol.transport.endpoint.handle(body)
    fault = outcome.timed_out()
    assert fault.status == 500
    assert b"w:TimedOut" in fault.body and b'Code="2150858793"' in fault.body
    assert _header(fault.body, "RelatesTo") == _header(body, "MessageID")


def test_unknown_shell_is_a_fault_with_code_2150858843(protocol: Any) -> None:
    with pytest.raises(WSManFaultError) as caught:
        protocol.run_command("5A2C5F86-0000-4000-8000-000000000000", "ipconfig")
    assert caught.value.wsman_fault_code == 2150858843
    assert caught.value.fault_subcode == "w:InvalidSelectors"


@pytest.mark.parametrize(
    "body",
    [
        b"not xml at all",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
        b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>',
    ],
)
def test_malformed_and_dtd_requests_are_sender_faults(endpoint: WsmanEndpoint, body: bytes) -> None:
    outcome = endpoint.handle(body)
    assert outcome.status == 500  # type: ignore[union-attr]
    root = ET.fromstring(outcome.body)  # type: ignore[union-attr]
    value = root.find(f".//{{{ns.SOAP}}}Code/{{{ns.SOAP}}}Value")
    assert value is not None and value.text == "s:Sender"
    assert b"w:SchemaValidationError" in outcome.body  # type: ignore[union-attr]


def test_unsupported_resource_is_refused(protocol: Any) -> None:
    # PSRP is not served by this endpoint's factory: Create must fault, not crash.
    protocol.transport.endpoint._factory = lambda uri: None
    with pytest.raises(WSManFaultError) as caught:
        protocol.open_shell()
    assert caught.value.fault_subcode == "a:ActionNotSupported"


def test_command_line_longer_than_cmd_limit_is_refused_like_cmd(protocol: Any, backend: Any) -> None:
    shell_id = protocol.open_shell()
    padding = "A" * (8191 - len(bootstrap.command_line()))
    # The bootstrap's own line with one argument too many for cmd.exe: refused before PowerShell starts.
    command_id = protocol.run_command(shell_id, bootstrap.command_line(), [padding])
    stdout, stderr, code = protocol.get_command_output(shell_id, command_id)
    assert (code, stdout, stderr) == (1, b"", b"The command line is too long.\r\n")
    assert backend.calls == []


def _run_frame(protocol: Any, frame: bytes) -> tuple[bytes, bytes, int]:
    shell_id = protocol.open_shell()
    command_id = protocol.run_command(shell_id, "powershell.exe", BOOT_ARGS, console_mode_stdin=False)
    protocol.send_command_input(shell_id, command_id, frame, end=True)
    stdout, stderr, code = protocol.get_command_output(shell_id, command_id)
    return stdout, stderr, int(code)


def test_the_script_line_is_the_shipped_script_gzip_compressed(backend: Any) -> None:
    script, _ = bootstrap.parse_stdin_frame(bootstrap.stdin_frame(REQUEST))
    assert script == script_bytes()
    line = bootstrap.stdin_frame(REQUEST).split(b"\r\n")[0]
    assert gzip.decompress(base64.b64decode(line)) == script_bytes()
    # About a quarter of the stripped script: this is what crosses the wire on every call.
    assert len(line) < len(script_bytes()) // 3


def test_an_uncompressed_script_line_is_refused(protocol: Any, backend: Any) -> None:
    # What GZipStream makes of plain text: an error, so the executor never runs.
    plain = base64.b64encode(script_bytes()).decode("ascii")
    frame = f"{plain}\r\n{bootstrap.request_base64(REQUEST)}\r\n".encode("ascii")
    stdout, _, code = _run_frame(protocol, frame)
    assert code == 1 and b"not gzip data" in stdout
    assert backend.calls == []


def test_a_compressed_script_other_than_the_shipped_one_is_refused(protocol: Any, backend: Any) -> None:
    # The byte-identical check holds on the inflated script, whatever the compression.
    changed = gzip.compress(script_bytes() + b"Write-Output 'extra'\n")
    frame = base64.b64encode(changed) + b"\r\n" + bootstrap.request_base64(REQUEST).encode("ascii") + b"\r\n"
    _, stderr, code = _run_frame(protocol, frame)
    assert code == 1 and b"FullyQualifiedErrorId" in stderr
    assert backend.calls == []
