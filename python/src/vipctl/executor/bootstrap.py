"""The WinRS / Ansible-connection way in: a fixed `-EncodedCommand` bootstrap plus a stdin frame.

The command line only ever carries the bootstrap below (constant, about 1.3 KB encoded), far
below cmd.exe's 8191-character limit; the executor script and the request travel on stdin as
two base64 lines. Base64 contains no line breaks, so the frame survives WinRS stdin and the
line-split pipeline input that Ansible's psrp connection produces alike.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from vipctl.executor import script_bytes
from vipctl.executor.codec import PROTOCOL_VERSION

# Output goes through the pipeline (Write-Output), never [Console]::Out: under PSRP only pipeline
# output reaches the client. The console encoding is set to UTF-8 for WinRS, where it exists.
# Why splatting: the same call written as `-RequestBase64 <value>` is valid PowerShell, but
# tree-sitter-powershell (our parse check) misreads a parameter name ending in a digit.
# Why `$input` and not [Console]::In: under PSRP (Ansible's psrp connection) stdin arrives as
# pipeline input, and `$input` is the one reader that works for both WinRS and PSRP.
# The refusal carries the protocol version, written in from codec.PROTOCOL_VERSION.
BOOTSTRAP_PS1 = """\
$ErrorActionPreference = 'Stop'
try { [Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false } catch { $null = $_ }
$frame = @($input | ForEach-Object { ([string]$_) -split "`r?`n" } | Where-Object { $_.Trim() -ne '' })
if ($frame.Count -lt 2) {
    $message = 'vipctl bootstrap: expected two base64 lines on stdin (executor script, request)'
    $failure = @{ kind = 'bad_request'; message = $message }
    $reply = @{ v = PROTOCOL_VERSION; ok = $false; error = $failure; results = @(); backups = @() }
    Write-Output ($reply | ConvertTo-Json -Depth 5 -Compress)
    exit 1
}
$scriptText = [System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String($frame[0].Trim()))
$executor = [System.Management.Automation.ScriptBlock]::Create($scriptText)
$parameters = @{ RequestBase64 = $frame[1].Trim() }
& $executor @parameters
exit $LASTEXITCODE
""".replace("PROTOCOL_VERSION", str(PROTOCOL_VERSION))

POWERSHELL_ARGS = ["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass"]


def encode_powershell(script: str) -> str:
    """PowerShell's -EncodedCommand form: base64 of the UTF-16LE text."""
    return base64.b64encode(script.encode("utf-16-le")).decode("ascii")


def decode_powershell(encoded: str) -> str:
    return base64.b64decode(encoded).decode("utf-16-le")


def command_line() -> str:
    """The full command line for a WinRS `cmd` shell."""
    return " ".join(["powershell.exe", *POWERSHELL_ARGS, "-EncodedCommand", encode_powershell(BOOTSTRAP_PS1)])


def request_base64(request: dict[str, Any]) -> str:
    """The request as the executor's -RequestBase64 parameter (UTF-8 JSON, base64)."""
    text = json.dumps(request, ensure_ascii=False, separators=(",", ":"))
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def stdin_frame(request: dict[str, Any]) -> bytes:
    """Two CRLF-terminated base64 lines: the shipped script, then the request."""
    script_line = base64.b64encode(script_bytes()).decode("ascii")
    return f"{script_line}\r\n{request_base64(request)}\r\n".encode("ascii")


def parse_stdin_frame(data: bytes) -> tuple[bytes, str]:
    """Inverse of `stdin_frame` (used by the simulator): (script bytes, request JSON text).

    Raises ValueError when the frame is not two base64 lines."""
    lines = [line.strip() for line in data.decode("ascii", errors="strict").splitlines() if line.strip()]
    if len(lines) < 2:
        raise ValueError("expected two base64 lines on stdin (executor script, request)")
    script = base64.b64decode(lines[0], validate=True)
    request = base64.b64decode(lines[1], validate=True).decode("utf-8")
    return script, request


def normalize_script(text: str) -> str:
    """The form Ansible's PowerShell shell plugin gives a script before encoding it: each line
    stripped, blank lines dropped, joined with LF. Comparing in this form lets the simulator accept
    the bootstrap whether it arrives from our own transports or through an Ansible connection."""
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def is_bootstrap(script: str) -> bool:
    """True when `script` is the bootstrap, as sent by vipctl's transports or Ansible's connections
    (Ansible may prepend `Set-StrictMode -Version Latest` and append its `$LASTEXITCODE` check)."""
    lines = normalize_script(script).split("\n")
    core = normalize_script(BOOTSTRAP_PS1).split("\n")
    if lines[:1] == ["Set-StrictMode -Version Latest"]:
        lines = lines[1:]
    if lines[: len(core)] != core:
        return False
    rest = lines[len(core) :]
    return all(line.startswith("If (-not $?)") for line in rest)
