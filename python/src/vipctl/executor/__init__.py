"""The PowerShell executor shipped with vipctl and the Python side of its protocol.

The executor is authored as parts under `executor/ps/`, one file per area (mirroring the twin's
`sim/twin/*_ops.py`), and shipped as one script: the parts joined in the fixed order of `PARTS`,
without comments or blank lines (a part has whole-line comments, and trailing ones only where a
silenced error or an empty catch says why; tests/powershell/ps_static_check.py enforces that and
proves the stripping exact). The shipped form is what runs on hosts, what the simulator
byte-compares, and what the Pester suite runs through the bootstrap.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources

# The order matters: the header holds `param(...)`, which PowerShell only accepts first, and
# the dispatcher at the end runs the request once every function above it is defined.
PARTS = (
    "00_header.ps1",
    "10_common.ps1",
    "15_language.ps1",
    "15_backup_store.ps1",
    "20_registry.ps1",
    "30_tsvip.ps1",
    "40_citrix.ps1",
    "45_provider_paths.ps1",
    "50_features.ps1",
    "60_endpoints.ps1",
    "70_sessions.ps1",
    "80_facts.ps1",
    "85_restart.ps1",
    "87_addresses.ps1",
    "90_dispatch.ps1",
)


def part_text(name: str) -> str:
    """One authored part, comments and all."""
    return resources.files(__package__).joinpath("ps", name).read_text(encoding="utf-8")


def _without_trailing_comment(line: str) -> str:
    """The line without a trailing ` # reason` comment.

    Parts carry trailing comments only where a silenced error or an empty catch says why (the
    static checker forbids any other). The comment starts at the first ` # ` outside quotes. This
    runs on the controller, where no PowerShell parser is at hand, so it is a plain scan; the
    checker's tests prove that, for every part, it removes exactly the comments that
    tree-sitter-powershell finds (tests/powershell/test_ps_static_check.py)."""
    single = double = escaped = False
    for index, char in enumerate(line):
        if escaped:
            escaped = False
        elif char == "`" and not single:
            escaped = True  # the backtick escapes the next character, a quote included
        elif char == "'" and not double:
            single = not single
        elif char == '"' and not single:
            double = not double
        elif char == "#" and not single and not double and index > 0 and line[index - 1] in " \t":
            return line[:index].rstrip()
    return line


def strip_for_shipping(text: str) -> str:
    """Drop comments and blank lines, leaving here-string bodies exactly as written.

    A here-string opens with a line ending in `@'` or `@"` and closes with a line starting with
    `'@` or `"@`; inside it a `#` line is data, not a comment."""
    kept: list[str] = []
    closer: str | None = None
    for line in text.splitlines():
        if closer is not None:
            kept.append(line)
            if line.startswith(closer):
                closer = None
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        code = _without_trailing_comment(line).rstrip()
        stripped = code.strip()
        kept.append(code)
        if stripped.endswith(("@'", '@"')):
            closer = stripped[-1] + "@"
    return "\n".join(kept) + "\n"


def generated_lines() -> str:
    """What the Python side owns, written into the shipped script right after the header's
    `param(...)` so that the two sides cannot disagree about it."""
    from vipctl.executor.codec import PROTOCOL_VERSION  # codec needs this package first

    return f"$ProtocolVersion = {PROTOCOL_VERSION}\n"


@lru_cache(maxsize=1)
def script_bytes() -> bytes:
    """The executor exactly as shipped: what runs on hosts and what the simulator hash-checks."""
    shipped = [strip_for_shipping(part_text(name)) for name in PARTS]
    joined = shipped[0] + generated_lines() + "".join(shipped[1:])
    return joined.encode("utf-8")


def script_text() -> str:
    return script_bytes().decode("utf-8")


def script_sha256() -> str:
    return hashlib.sha256(script_bytes()).hexdigest()
