"""What a client asked a pipeline to run, decided from the CREATE_PIPELINE commands alone.

The simulator runs nothing but the shipped executor, reached one of three ways:
- PSRP proper (vipctl's own transport): the executor text as a script with `-RequestBase64`;
- Ansible's psrp connection given the bootstrap's `PowerShell ... -EncodedCommand` line: the
  plugin decodes the bootstrap and runs it in the runspace, stdin lines as pipeline input;
- Ansible's psrp connection given any other command line: it runs `<line>\\nexit $LASTEXITCODE`,
  so a `powershell.exe ... -EncodedCommand <bootstrap>` line starts a child process, which does
  not see the runspace's pipeline input.
The bootstrap is also recognised as Ansible's PowerShell shell plugin encodes scripts
(`_encode_script`: lines stripped, blank ones dropped, a `Set-StrictMode -Version Latest` line
before and an `If (-not $?) {...}` exit-code line after), so an adapter may build its command
with the play's own shell plugin. Whether the script text is byte-for-byte the shipped executor
is the backend's call.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass
from typing import Any

from psrpcore import Command, GetMetadata, PowerShell

from vipctl.executor import bootstrap

REQUEST_PARAMETER = "requestbase64"
_MAX_LINE = 200
_STRICT_MODE = "set-strictmode -version latest"
_PRESERVE_RC = "if (-not $?)"


@dataclass(frozen=True)
class ExecutorCall:
    script_text: str
    request_base64: str


@dataclass(frozen=True)
class BootstrapCall:
    """The bootstrap running in the runspace; its stdin frame is the pipeline input."""


@dataclass(frozen=True)
class ChildBootstrapCall:
    """`powershell.exe -EncodedCommand <bootstrap>` started from the runspace, stdin empty."""


@dataclass(frozen=True)
class Foreign:
    first_line: str


Invocation = ExecutorCall | BootstrapCall | ChildBootstrapCall | Foreign


def classify(pipeline: PowerShell | GetMetadata) -> Invocation:
    if isinstance(pipeline, GetMetadata):
        return Foreign(first_line("Get-Command " + ", ".join(str(name) for name in pipeline.name)))
    commands = pipeline.commands
    if len(commands) == 1 and commands[0].is_script:
        script = commands[0]
        request = _request_parameter(script)
        if request is not None:
            return ExecutorCall(script.command_text, request)
        if not script.parameters and _is_bootstrap(script.command_text):
            return BootstrapCall()
        if not script.parameters and _is_child_bootstrap(script.command_text):
            return ChildBootstrapCall()
    return Foreign(_first_line_of(commands))


def first_line(text: str) -> str:
    """The first non-blank line, shortened: what an error message names."""
    line = next((candidate.strip() for candidate in text.splitlines() if candidate.strip()), "")
    return line if len(line) <= _MAX_LINE else line[: _MAX_LINE - 3] + "..."


def _request_parameter(script: Command) -> str | None:
    if len(script.parameters) != 1:
        return None
    name, value = script.parameters[0]
    if name is None or name.lstrip("-").lower() != REQUEST_PARAMETER or not isinstance(value, str):
        return None
    return str(value)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _is_bootstrap(text: str) -> bool:
    lines = _lines(text)
    if lines and lines[0].lower() == _STRICT_MODE:
        lines = lines[1:]
    if lines and lines[-1].lower().startswith(_PRESERVE_RC):
        lines = lines[:-1]
    return lines == _lines(bootstrap.BOOTSTRAP_PS1)


def _is_child_bootstrap(text: str) -> bool:
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]
    if len(lines) != 2 or lines[1].lower() != "exit $lastexitcode":
        return False
    tokens = lines[0].split()
    if not tokens or tokens[0].strip("\"'").lower() not in ("powershell", "powershell.exe"):
        return False
    lowered = [token.lower() for token in tokens]
    if "-encodedcommand" not in lowered:
        return False
    position = lowered.index("-encodedcommand") + 1
    if position >= len(tokens):
        return False
    try:
        decoded = bootstrap.decode_powershell(tokens[position])
    except (binascii.Error, UnicodeDecodeError):
        return False
    return _is_bootstrap(decoded)


def _first_line_of(commands: list[Command]) -> str:
    if not commands:
        return ""
    first = commands[0]
    if first.is_script:
        return first_line(first.command_text)
    # pypsrp's Client.execute_ps wraps the script as `Invoke-Expression -Command <script>`.
    if first.command_text.lower() in ("invoke-expression", "iex"):
        text = _command_argument(first.parameters)
        if text is not None:
            return first_line(text)
    return first_line(first.command_text)


def _command_argument(parameters: list[tuple[str | None, Any]]) -> str | None:
    for name, value in parameters:
        if (name is None or name.lstrip("-").lower() == "command") and isinstance(value, str):
            return str(value)
    return None
