"""The WinRS / Ansible-connection way in: a fixed `-EncodedCommand` bootstrap plus a stdin frame.

The command line only ever carries the bootstrap below, constant whatever the request; the
executor script and the request travel on stdin as two base64 lines. The first line is the
shipped script (`script_bytes()`) gzip-compressed, which the bootstrap inflates with .NET's
`GZipStream` (docs/windows-facts.md#gzipstream-inflates-gzip-data-in-windows-powershell-51); the
second is the request as UTF-8 JSON. Base64 contains no line breaks, so the frame survives WinRS
stdin and the line-split pipeline input that Ansible's psrp connection produces alike.

Command-line length (docs/windows-facts.md#cmdexe-refuses-a-command-line-longer-than-8191-characters):
`command_line()` stays under `COMMAND_LINE_BUDGET`, and so does the same line wrapped once more by
Ansible's PowerShell shell plugin, which is what a winrm connection that encodes every command
again sends. tests/test_bootstrap_length.py asserts both, measured on the real shell plugin.
"""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from functools import lru_cache
from typing import Any, Final

from vipctl.executor import script_bytes
from vipctl.executor.codec import PROTOCOL_VERSION

# cmd.exe's limit on one command line
# (docs/windows-facts.md#cmdexe-refuses-a-command-line-longer-than-8191-characters).
CMD_LINE_LIMIT: Final = 8191
# What our command line may use of it: encoded once more (x 8/3) with Ansible's StrictMode and
# exit-code lines (about 150 characters) and its 86-character prefix, 2,800 still fits.
COMMAND_LINE_BUDGET: Final = 2800

# What the bootstrap (and the simulator, in its place) says when stdin is not the two lines.
FRAME_MESSAGE: Final = "expected two base64 lines on stdin"

# Output goes through the pipeline (Write-Output), never [Console]::Out: under PSRP only pipeline
# output reaches the client. The console encoding is set to UTF-8 for WinRS, where it exists.
# Why splatting: the same call written as `-RequestBase64 <value>` is valid PowerShell, but
# tree-sitter-powershell (our parse check) misreads a parameter name ending in a digit.
# Why `$input` and not [Console]::In: under PSRP (Ansible's psrp connection) stdin arrives as
# pipeline input, and `$input` is the one reader that works for both WinRS and PSRP.
# Why GZipStream: it is in System.dll, loaded in every Windows PowerShell 5.1 session, and inflates
# the 63 KB script from about 18 KB of base64
# (docs/windows-facts.md#gzipstream-inflates-gzip-data-in-windows-powershell-51). Type names go
# without `System.` (PowerShell adds it) and StreamReader reads UTF-8 by default: every character
# here costs about seven on a doubly encoded command line.
# Why the language check comes first: under Constrained Language Mode the .NET calls below
# ([ScriptBlock]::Create, [Convert]::FromBase64String) fail with a bare PowerShell error; the check
# answers with a typed reply instead (docs/windows-facts.md#constrained-language-mode-blocks-the-executor).
# Both refusals are JSON literals sharing one prefix, the shortest form on the command line; the
# protocol version is written in from codec.PROTOCOL_VERSION.
BOOTSTRAP_PS1 = """\
$ErrorActionPreference = 'Stop'
$fail = '{"v":PROTOCOL_VERSION,"ok":false,"results":[],"backups":[],"error":{"kind":'
if ($ExecutionContext.SessionState.LanguageMode -ne 'FullLanguage') {
    $fail + '"constrained_language","message":"PowerShell runs in ConstrainedLanguage mode"}}'
    exit 1
}
try { [Console]::OutputEncoding = New-Object Text.UTF8Encoding $false } catch { $null = $_ }
$frame = @($input | ForEach-Object { ([string]$_) -split "`r?`n" } | Where-Object { $_.Trim() -ne '' })
if ($frame.Count -lt 2) {
    $fail + '"bad_request","message":"vipctl bootstrap: $FRAME_MESSAGE"}}'
    exit 1
}
$packed = [IO.MemoryStream]::new([Convert]::FromBase64String($frame[0].Trim()))
$inflate = [IO.Compression.GZipStream]::new($packed, [IO.Compression.CompressionMode]::Decompress)
$executor = [ScriptBlock]::Create([IO.StreamReader]::new($inflate).ReadToEnd())
$parameters = @{ RequestBase64 = $frame[1].Trim() }
& $executor @parameters
exit $LASTEXITCODE
""".replace("$FRAME_MESSAGE", FRAME_MESSAGE).replace("PROTOCOL_VERSION", str(PROTOCOL_VERSION))

POWERSHELL_ARGS = ["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass"]


def encode_powershell(script: str) -> str:
    """PowerShell's -EncodedCommand form: base64 of the UTF-16LE text."""
    return base64.b64encode(script.encode("utf-16-le")).decode("ascii")


def decode_powershell(encoded: str) -> str:
    return base64.b64decode(encoded).decode("utf-16-le")


def command_line() -> str:
    """The full command line for a WinRS `cmd` shell. The script is encoded in the form Ansible's
    shell plugin gives it (lines stripped, blank lines dropped): shorter, and recognised alike."""
    encoded = encode_powershell(normalize_script(BOOTSTRAP_PS1))
    return " ".join(["powershell.exe", *POWERSHELL_ARGS, "-EncodedCommand", encoded])


def request_base64(request: dict[str, Any]) -> str:
    """The request as the executor's -RequestBase64 parameter (UTF-8 JSON, base64)."""
    text = json.dumps(request, ensure_ascii=False, separators=(",", ":"))
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


# gzip's header carries a modification time; a fixed one keeps the shipped bytes reproducible.
_GZIP_MTIME: Final = 0


@lru_cache(maxsize=1)
def shipped_script_line() -> str:
    """The first stdin line: the shipped script gzip-compressed, in base64. Built once per process."""
    packed = gzip.compress(script_bytes(), compresslevel=9, mtime=_GZIP_MTIME)
    return base64.b64encode(packed).decode("ascii")


def stdin_frame(request: dict[str, Any]) -> bytes:
    """Two CRLF-terminated base64 lines: the shipped script (gzip), then the request."""
    return f"{shipped_script_line()}\r\n{request_base64(request)}\r\n".encode("ascii")


def inflate_script(packed: bytes) -> bytes:
    """What the bootstrap's GZipStream makes of the first line; ValueError where it would throw."""
    try:
        return gzip.decompress(packed)
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"the executor script is not gzip data ({exc})") from None


def parse_stdin_frame(data: bytes) -> tuple[bytes, str]:
    """Inverse of `stdin_frame` (used by the simulator): (inflated script bytes, request JSON text).

    Raises ValueError when the frame is not two base64 lines or the script is not gzip data."""
    # Cut where the bootstrap's `-split "`r?`n"` cuts, and nowhere else.
    text = data.decode("ascii", errors="strict").replace("\r\n", "\n")
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if len(lines) < 2:
        raise ValueError(FRAME_MESSAGE)
    script = inflate_script(base64.b64decode(lines[0], validate=True))
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
