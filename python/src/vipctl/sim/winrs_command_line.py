"""Recognise the executor bootstrap inside the command lines WinRS clients really send.

pywinrm and the vipctl WinRM transport send `powershell.exe <args> -EncodedCommand <bootstrap>`.
Ansible's winrm connection wraps whatever it is given in `PowerShell -NoProfile -NonInteractive
-ExecutionPolicy Unrestricted -EncodedCommand <script>` after stripping every line and dropping
blank ones (shell plugin `_encode_script`), optionally with `Set-StrictMode` before and an
`$LASTEXITCODE` propagation line after; the script it wraps may itself be our command line.
"""

from __future__ import annotations

import base64
import binascii
import re

from vipctl.executor.bootstrap import BOOTSTRAP_PS1

_POWERSHELL = re.compile(r"^(?:.*[\\/])?(?:powershell|pwsh)(?:\.exe)?$", re.I)

# Lines Ansible (or a console-encoding fix) may put around a script; none changes what it does.
_PREAMBLE = re.compile(
    r"^(?:Set-StrictMode -Version Latest|chcp(?:\.com)? \d+\s*(?:>\s*\$null|>\s*nul)?)$", re.IGNORECASE
)
_SUFFIX = re.compile(r"^If \(-not \$\?\) \{ If \(Get-Variable LASTEXITCODE .*\}$", re.I)


def _is_flag(token: str, full: str, aliases: tuple[str, ...] = ()) -> bool:
    # PowerShell accepts any prefix of a parameter name (-enc, -EncodedCommand) and a few aliases.
    if not token.startswith(("-", "/")):
        return False
    name = token[1:].lower()
    return bool(name) and (full.startswith(name) or name in aliases)


def _normalise(script: str) -> list[str]:
    return [line.strip() for line in script.splitlines() if line.strip()]


_BOOTSTRAP_LINES = _normalise(BOOTSTRAP_PS1)


def powershell_script(command_line: str) -> str | None:
    """The script a `powershell ... -EncodedCommand X` / `-Command X` line would run, else None."""
    tokens = command_line.split()
    if not tokens or not _POWERSHELL.match(tokens[0].strip('"')):
        return None
    for index, token in enumerate(tokens[1:], start=1):
        if _is_flag(token, "encodedcommand", ("ec",)) and index + 1 < len(tokens):
            try:
                return base64.b64decode(tokens[index + 1], validate=True).decode("utf-16-le")
            except (binascii.Error, ValueError, UnicodeDecodeError):
                return None
        if _is_flag(token, "command"):
            return " ".join(tokens[index + 1 :])
    return None


def is_bootstrap(script: str, depth: int = 0) -> bool:
    """True when `script`, minus harmless wrapping, is exactly the shipped bootstrap."""
    lines = _normalise(script)
    while lines and _PREAMBLE.match(lines[0]):
        lines.pop(0)
    while lines and _SUFFIX.match(lines[-1]):
        lines.pop()
    if lines == _BOOTSTRAP_LINES:
        return True
    # Ansible given our whole command line wraps it once more: a one-line script calling powershell.
    if len(lines) == 1 and depth < 2:
        inner = powershell_script(lines[0])
        return inner is not None and is_bootstrap(inner, depth + 1)
    return False


def first_line(text: str) -> str:
    """The first non-blank line of what was sent, for the error message."""
    lines = _normalise(text)
    return lines[0] if lines else ""
