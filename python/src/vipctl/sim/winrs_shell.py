"""The WinRS `cmd` shell of a simulated host: it runs the executor bootstrap and nothing else.

A command line carrying the bootstrap collects stdin until End, then hands the framed script and
request to the host (`ExecutorBackend.run_executor`). Anything else fails the way PowerShell
would on a host that refuses it: an error record on stderr naming what was sent, exit code 1.

The command's stdin is a pipe only when the client asks for one (`WINRS_CONSOLEMODE_STDIN` =
`FALSE`). With a console stdin, `powershell.exe` does not turn what is sent into `$input`, so the
bootstrap sees no frame and refuses the request, as it would on Windows
(docs/windows-facts.md#powershell-feeds-input-from-stdin-only-when-stdin-is-a-pipe).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from vipctl.executor import script_bytes
from vipctl.executor.bootstrap import FRAME_MESSAGE, parse_stdin_frame
from vipctl.executor.codec import PROTOCOL_VERSION
from vipctl.sim.errors import ScriptRejected
from vipctl.sim.shell_api import NO_OPTIONS, ExecutorBackend, ReceiveResult, StreamChunk
from vipctl.sim.winrs_command_line import first_line, is_bootstrap, powershell_script
from vipctl.sim.wsman.request import UnknownCommand

EXIT_FAILURE = 1
# cmd.exe's own message and limit
# (docs/windows-facts.md#cmdexe-refuses-a-command-line-longer-than-8191-characters).
CMD_LINE_LIMIT = 8191
TOO_LONG = b"The command line is too long.\r\n"
CONSOLE_MODE_STDIN_OPTION = "WINRS_CONSOLEMODE_STDIN"
# What the bootstrap says when `$input` holds fewer than two lines (executor/bootstrap.py).
NO_FRAME = FRAME_MESSAGE


def stdin_is_console(options: Mapping[str, str]) -> bool:
    """A console stdin unless the client asked for a pipe; an absent option counts as console
    (docs/windows-facts.md#winrs-stdin-is-a-console-or-a-pipe-as-the-client-asks)."""
    return options.get(CONSOLE_MODE_STDIN_OPTION, "TRUE").strip().upper() != "FALSE"


def powershell_error(first: str, reason: str) -> bytes:
    """A PowerShell-style error record (what `powershell.exe` prints on stderr for a failing script)."""
    marker = "~" * max(1, min(len(first), 80))
    text = (
        f"{reason}\r\n"
        f"At line:1 char:1\r\n"
        f"+ {first}\r\n"
        f"+ {marker}\r\n"
        f"    + CategoryInfo          : PermissionDenied: (:) [], ScriptRejected\r\n"
        f"    + FullyQualifiedErrorId : ScriptRejected\r\n"
    )
    return text.encode("utf-8")


def _rejection(first: str) -> bytes:
    return powershell_error(
        first, f"This host only runs the vipctl executor; the script starting with '{first}' was refused."
    )


def _bad_frame_reply(message: str) -> bytes:
    # Exactly what the bootstrap itself prints when its stdin is not two base64 lines.
    failure = {"kind": "bad_request", "message": f"vipctl bootstrap: {message}"}
    reply = {"v": PROTOCOL_VERSION, "ok": False, "results": [], "backups": [], "error": failure}
    return json.dumps(reply, separators=(",", ":")).encode("utf-8")


@dataclass
class _Command:
    console_stdin: bool = False
    stdin: bytearray = field(default_factory=bytearray)
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    exit_code: int | None = None
    delivered: bool = False


class WinrsShell:
    """`Shell` for the `cmd` resource URI."""

    def __init__(self, backend: ExecutorBackend) -> None:
        self._backend = backend
        self._commands: dict[str, _Command] = {}

    def create(self, creation_payload: bytes | None) -> bytes | None:
        return None

    def command(
        self, command_id: str, command: str, arguments: list[bytes], options: Mapping[str, str] = NO_OPTIONS
    ) -> None:
        line = " ".join([command, *(arg.decode("utf-8", errors="replace") for arg in arguments)]).strip()
        if len(line) > CMD_LINE_LIMIT:
            refused = _Command(exit_code=EXIT_FAILURE)
            refused.stderr += TOO_LONG
            self._commands[command_id] = refused
            return
        script = powershell_script(line)
        if script is not None and is_bootstrap(script):
            self._commands[command_id] = _Command(console_stdin=stdin_is_console(options))
            return
        finished = _Command(exit_code=EXIT_FAILURE)
        finished.stderr += _rejection(first_line(script if script is not None else line))
        self._commands[command_id] = finished

    def send(self, command_id: str | None, stream: str, data: bytes, end: bool) -> None:
        command = self._commands.get(command_id or "")
        if command is None:
            raise UnknownCommand(f"no command {command_id} in this shell")
        if command.exit_code is not None:
            return  # the process already exited; Windows drops late input too
        command.stdin += data
        if end:
            self._run(command)

    def _run(self, command: _Command) -> None:
        if command.console_stdin:
            # The data went to a console, not to the bootstrap's `$input`: it reads no frame.
            command.stdout += _bad_frame_reply(NO_FRAME)
            command.exit_code = EXIT_FAILURE
            return
        try:
            script, request_json = parse_stdin_frame(bytes(command.stdin))
        except ValueError as exc:
            command.stdout += _bad_frame_reply(str(exc))
            command.exit_code = EXIT_FAILURE
            return
        # Same hash check the host does; checked here too so a foreign script never reaches it.
        if script != script_bytes():
            command.stderr += _rejection(first_line(script.decode("utf-8", errors="replace")))
            command.exit_code = EXIT_FAILURE
            return
        try:
            stdout, exit_code = self._backend.run_executor(script.decode("utf-8"), request_json)
        except ScriptRejected as exc:
            command.stderr += _rejection(exc.first_line)
            command.exit_code = EXIT_FAILURE
            return
        except Exception as exc:  # the host failed: surface it as PowerShell would
            first = first_line(script.decode("utf-8", errors="replace"))
            command.stderr += powershell_error(first, f"{type(exc).__name__}: {exc}")
            command.exit_code = EXIT_FAILURE
            return
        command.stdout += stdout.encode("utf-8")
        command.exit_code = exit_code

    def receive(self, command_id: str | None) -> ReceiveResult | None:
        command = self._commands.get(command_id or "")
        if command is None:
            raise UnknownCommand(f"no command {command_id} in this shell")
        if command.exit_code is None:
            return None  # still waiting for stdin: the client gets the OperationTimeout fault
        if command.delivered:
            return ReceiveResult(done=True, exit_code=command.exit_code)
        command.delivered = True
        chunks = [
            StreamChunk("stdout", bytes(command.stdout), command_id, end=True),
            StreamChunk("stderr", bytes(command.stderr), command_id, end=True),
        ]
        return ReceiveResult(chunks=chunks, done=True, exit_code=command.exit_code)

    def signal(self, command_id: str | None, code: str) -> None:
        # terminate / ctrl_c end the command; its state is forgotten like a reaped process.
        self._commands.pop(command_id or "", None)

    def close(self) -> None:
        self._commands.clear()
