"""The seam between the WS-Management front door and the shells behind it.

`vipctl.sim.wsman` parses WS-Man envelopes and owns shell ids, command ids and faults; a shell
implementation (the WinRS `cmd` shell in `vipctl.sim.winrs_shell`, the PSRP `Microsoft.PowerShell`
shell in `vipctl.sim.psrp`) only sees decoded payloads. Both are sans-I/O: they never touch a
socket, so they are tested with plain bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Protocol

# A Command without a wsman:OptionSet.
NO_OPTIONS: Final[Mapping[str, str]] = MappingProxyType({})


@dataclass
class StreamChunk:
    """One piece of output for a Receive response."""

    name: str  # "stdout" / "stderr" for WinRS, "stdout" for PSRP fragments
    data: bytes
    command_id: str | None = None
    end: bool = False


@dataclass
class ReceiveResult:
    """What a Receive returns. `done` with `exit_code` once the command has finished."""

    chunks: list[StreamChunk] = field(default_factory=list)
    done: bool = False
    exit_code: int | None = None


class ExecutorBackend(Protocol):
    """The host behind a shell: runs the shipped executor and nothing else."""

    def run_executor(self, script_text: str, request_json: str) -> tuple[str, int]:
        """Run `script_text` (must be the shipped executor) on `request_json`; return (stdout, exit code).

        Raises `vipctl.sim.errors.ScriptRejected` when the script is not the shipped executor."""
        ...


class Shell(Protocol):
    """One open shell (WinRS cmd or PSRP runspace pool).

    The front door calls a host's shells from worker threads but never two calls at once for the
    same host, so a shell needs no lock of its own. A method raising `ValueError` becomes a
    schema-validation fault for that request; the shell stays open."""

    def create(self, creation_payload: bytes | None) -> bytes | None:
        """Handle wsman Create. `creation_payload` is the decoded creationXml (PSRP) or None.
        Returns an optional payload to echo back (PSRP's creationXml response), else None."""
        ...

    def command(
        self, command_id: str, command: str, arguments: list[bytes], options: Mapping[str, str] = NO_OPTIONS
    ) -> None:
        """Start a command. WinRS: `command` is rsp:Command's text and each `arguments` item the UTF-8
        of one rsp:Arguments element; PSRP: arguments[0] = the base64-decoded fragments. `command_id`
        is upper-case: the client's CommandId attribute when it sent one (PSRP), else a new GUID.
        `options` are the request's wsman:OptionSet (name -> text), e.g. WINRS_CONSOLEMODE_STDIN."""
        ...

    def send(self, command_id: str | None, stream: str, data: bytes, end: bool) -> None:
        """Feed stdin (WinRS) or PSRP fragments (`pr` stream) to a command or to the pool.
        Called once per rsp:Stream element, `data` already base64-decoded; `end` is its End attribute."""
        ...

    def receive(self, command_id: str | None) -> ReceiveResult | None:
        """Return output that is ready, or None when nothing is ready yet (the front door then
        answers with the operation-timeout fault 2150858793 after the OperationTimeout).

        Must not block: the front door polls it (every few ms) until output is ready or the wait,
        capped well below the client's OperationTimeout, runs out. `command_id` is None for the
        PSRP pool's own Receive; then no CommandState is sent, whatever `done` says. A chunk's
        `command_id` of None means "the command this Receive asked for"."""
        ...

    def signal(self, command_id: str | None, code: str) -> None:
        """Handle Signal. `code` is the full signal URI as sent, e.g.
        `http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/terminate` (WinRS) or
        `http://schemas.microsoft.com/powershell/signal/crtl_c` (PSRP stop); `command_id` is the
        upper-cased CommandId attribute, or None when the Signal names no command."""
        ...

    def close(self) -> None:
        """Handle Delete of the shell."""
        ...
