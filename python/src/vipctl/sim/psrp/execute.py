"""Running one classified invocation against the host: decisions only, no protocol.

The result says what the pipeline shows the client: one output string and the exit code a
script's `exit` reports through the host (`SetShouldExit`), or a terminating error that
fails the pipeline (pypsrp's `had_errors`, Ansible's rc 1).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass

from psrpcore.types import ErrorRecord

from vipctl.executor import bootstrap
from vipctl.executor.codec import PROTOCOL_VERSION
from vipctl.sim.errors import ScriptRejected
from vipctl.sim.psrp import records
from vipctl.sim.psrp.classify import (
    BootstrapCall,
    ChildBootstrapCall,
    ExecutorCall,
    Foreign,
    Invocation,
    first_line,
)
from vipctl.sim.shell_api import ExecutorBackend

FRAME_MESSAGE = f"vipctl bootstrap: {bootstrap.FRAME_MESSAGE}"


@dataclass(frozen=True)
class Finished:
    output: str | None
    exit_code: int | None  # None: the script never called `exit`


@dataclass(frozen=True)
class Failed:
    error: ErrorRecord


Outcome = Finished | Failed


def execute(invocation: Invocation, backend: ExecutorBackend, pipeline_input: list[str]) -> Outcome:
    if isinstance(invocation, ExecutorCall):
        return _executor(backend, invocation.script_text, invocation.request_base64)
    if isinstance(invocation, BootstrapCall):
        return _bootstrap(backend, pipeline_input)
    if isinstance(invocation, ChildBootstrapCall):
        # The child powershell.exe reads an empty stdin: the bootstrap's own refusal, exit 1.
        return _bootstrap(backend, [])
    assert isinstance(invocation, Foreign)
    return Failed(records.command_not_found(invocation.first_line))


def bad_request_reply(message: str) -> str:
    reply = {
        "v": PROTOCOL_VERSION,
        "ok": False,
        "error": {"kind": "bad_request", "message": message},
        "results": [],
        "backups": [],
    }
    return json.dumps(reply, separators=(",", ":"))


def _executor(backend: ExecutorBackend, script_text: str, request_base64: str) -> Outcome:
    try:
        request_json = base64.b64decode(request_base64.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        return Finished(bad_request_reply(f"RequestBase64 is not base64 of UTF-8 JSON: {exc}"), 1)
    return _run(backend, script_text, request_json)


def _bootstrap(backend: ExecutorBackend, pipeline_input: list[str]) -> Outcome:
    # Mirrors BOOTSTRAP_PS1: split every input object into lines, drop blank ones.
    lines = [line for value in pipeline_input for line in re.split(r"\r?\n", value) if line.strip()]
    if len(lines) < 2:
        return Finished(bad_request_reply(FRAME_MESSAGE), 1)
    try:
        script, request_json = bootstrap.parse_stdin_frame("\n".join(lines).encode("utf-8"))
    except ValueError as exc:  # binascii.Error and UnicodeDecodeError are ValueErrors
        return Failed(records.bad_base64(str(exc)))
    return _run(backend, script.decode("utf-8", errors="replace"), request_json)


def _run(backend: ExecutorBackend, script_text: str, request_json: str) -> Outcome:
    try:
        stdout, exit_code = backend.run_executor(script_text, request_json)
    except ScriptRejected as exc:
        return Failed(records.command_not_found(exc.first_line or first_line(script_text)))
    return Finished(stdout.rstrip("\r\n") or None, exit_code)
