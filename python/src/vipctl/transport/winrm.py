"""WinRS transport (pywinrm): one `cmd` shell per host, opened on first use and reused.

Each request starts the fixed bootstrap command line and feeds the executor and the request on
stdin (docs/executor-protocol.md, "Transport framing"). Retries cover only the steps before the
request is on the wire - opening the shell and starting the command, which waits for stdin - so
a write request is never sent twice.
"""

from __future__ import annotations

import contextlib
import threading
import time
from types import TracebackType
from typing import Any, Literal, cast

from winrm.exceptions import WinRMOperationTimeoutError
from winrm.protocol import Protocol

from vipctl.executor import bootstrap
from vipctl.executor.codec import Response, decode_response, stderr_text
from vipctl.executor.errors import ExecutorError
from vipctl.transport.connection import ConnectionSettings
from vipctl.transport.errors import (
    ConnectionLost,
    HostUnreachable,
    ProtocolError,
    TransportError,
    TransportTimeout,
    explain_refusal,
    map_exception,
)
from vipctl.transport.http_limits import guard_session
from vipctl.transport.http_session import freeze_environment

# Bytes of stdin per Send: 200,000 is what Ansible's winrm connection uses; base64 makes it about
# 267 KB inside an envelope capped at 500 KB.
STDIN_CHUNK = 200_000
# pywinrm's names for the auth methods ConnectionSettings allows with winrm.
WinrmAuth = Literal["basic", "ntlm", "kerberos", "credssp"]


class WinrmTransport:
    """Run executor requests on one host over WinRS. Cheap to create: nothing connects until `run`."""

    def __init__(self, settings: ConnectionSettings) -> None:
        if settings.connection != "winrm":
            raise ValueError(
                f"{settings.name}: WinrmTransport needs connection 'winrm', not {settings.connection!r}"
            )
        self.settings = settings
        self._protocol: Protocol | None = None
        self._shell_id: str | None = None
        # The last command, finished but not yet signalled: terminated before the next command
        # starts, or never, when the shell is deleted first (deleting a shell ends its commands,
        # docs/windows-facts.md#deleting-a-winrs-shell-ends-its-commands), which saves a request.
        self._finished_command: str | None = None
        # One command at a time per shell keeps stdin and output of two requests apart.
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"WinrmTransport({self.settings.name!r}, open={self._shell_id is not None})"

    def __enter__(self) -> WinrmTransport:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _mapped(self, error: BaseException) -> TransportError:
        s = self.settings
        mapped = map_exception(error, host=s.name, secrets=[s.password])
        return explain_refusal(mapped, auth=s.auth, scheme=s.scheme, message_encryption=s.message_encryption)

    def _new_protocol(self) -> Protocol:
        protocol = self._plain_protocol()
        transport = protocol.transport
        send_request = transport._send_message_request
        deadline = self.settings.exchange_deadline

        # pywinrm builds its session inside its first exchange (the NTLM sealing set-up sends one),
        # so the session is bounded where every exchange passes, before it is first used.
        def bounded(session: Any, prepared: Any) -> Any:
            guard_session(session, deadline=deadline)
            return send_request(session, prepared)

        transport._send_message_request = bounded  # type: ignore[method-assign,assignment]
        return protocol

    def _plain_protocol(self) -> Protocol:
        s = self.settings
        return Protocol(
            s.endpoint,
            transport=cast(WinrmAuth, s.auth),
            username=s.username,
            password=s.password,
            server_cert_validation="validate" if s.cert_validation else "ignore",
            # None (documented, though not in the annotation) instead of pywinrm's "legacy_requests":
            # trust comes from the settings, not from REQUESTS_CA_BUNDLE in the environment.
            ca_trust_path=cast(str, s.ca_trust_path),
            read_timeout_sec=int(s.read_timeout),
            operation_timeout_sec=s.operation_timeout,
            message_encryption=s.message_encryption,
            proxy=None if s.ignore_proxy else (s.proxy or "legacy_requests"),
            kerberos_hostname_override=s.spn_hostname,
            kerberos_delegation=s.delegate,
            send_cbt=s.send_cbt,
        )

    def _start_once(self) -> tuple[Protocol, str, str]:
        if self._protocol is None:
            self._protocol = self._new_protocol()
        if self._shell_id is None:
            freeze_environment(self._protocol.transport.build_session())
            self._shell_id = self._protocol.open_shell()
        self._signal_finished(self._protocol, self._shell_id)
        executable, _, arguments = bootstrap.command_line().partition(" ")
        # stdin as a pipe, as Ansible's winrm connection sends it: the bootstrap reads its frame
        # through `$input`, which a console-mode stdin leaves empty
        # (docs/windows-facts.md#powershell-feeds-input-from-stdin-only-when-stdin-is-a-pipe).
        command_id = self._protocol.run_command(
            self._shell_id, executable, [arguments], console_mode_stdin=False
        )
        return self._protocol, self._shell_id, command_id

    def _start(self) -> tuple[Protocol, str, str]:
        """Open the shell if needed and start the bootstrap, retrying connection failures.

        Safe to repeat: the bootstrap blocks on stdin, so nothing of the request has run yet."""
        attempt = 0
        while True:
            try:
                return self._start_once()
            except Exception as error:
                mapped = self._mapped(error)
                self._discard(polite=False)
                if (
                    not (isinstance(mapped, HostUnreachable) and mapped.retryable)
                    or attempt >= self.settings.retries
                ):
                    raise mapped from None
                attempt += 1
                time.sleep(self.settings.retry_backoff * (2 ** (attempt - 1)))

    def run(self, request: dict[str, Any]) -> Response:
        """Run one executor request; raise a TransportError or ExecutorError on failure."""
        frame = bootstrap.stdin_frame(request)
        with self._lock:
            protocol, shell_id, command_id = self._start()
            try:
                self._send_stdin(protocol, shell_id, command_id, frame)
                stdout, stderr, exit_code = self._collect(protocol, shell_id, command_id)
            except ExecutorError:
                self._discard(polite=True)
                raise
            except Exception as error:
                # From here on the request may have run: fail, never resend.
                mapped = self._mapped(error).after_send()
                self._discard(
                    polite=not isinstance(mapped, HostUnreachable | ConnectionLost | TransportTimeout)
                )
                raise mapped from None
            # The output is in hand; the command is signalled later, or ends with its shell.
            self._finished_command = command_id
        return self._decode(stdout, stderr, exit_code)

    def _signal_finished(self, protocol: Protocol, shell_id: str) -> None:
        command_id, self._finished_command = self._finished_command, None
        if command_id is not None:
            # A failed cleanup only leaves a finished command behind.
            with contextlib.suppress(Exception):
                protocol.cleanup_command(shell_id, command_id)

    @staticmethod
    def _send_stdin(protocol: Protocol, shell_id: str, command_id: str, frame: bytes) -> None:
        """The frame in Send messages of STDIN_CHUNK bytes, the last one closing stdin: each Send
        carries its chunk base64 encoded, and must stay below Windows' MaxEnvelopeSizekb (500 KB,
        docs/windows-facts.md#maxenvelopesizekb-500-kb-by-default), whatever the request's size."""
        for offset in range(0, len(frame), STDIN_CHUNK):
            chunk = frame[offset : offset + STDIN_CHUNK]
            protocol.send_command_input(shell_id, command_id, chunk, end=offset + STDIN_CHUNK >= len(frame))

    def _collect(self, protocol: Protocol, shell_id: str, command_id: str) -> tuple[bytes, bytes, int]:
        """Receive until the command is done; unlike pywinrm's own loop, give up at command_timeout."""
        deadline = time.monotonic() + self.settings.command_timeout
        stdout: list[bytes] = []
        stderr: list[bytes] = []
        timed_out = 0
        while True:
            try:
                out, err, exit_code, done = protocol.get_command_output_raw(shell_id, command_id)
            except WinRMOperationTimeoutError:
                out, err, exit_code, done = b"", b"", -1, False
                timed_out += 1
            stdout.append(out)
            stderr.append(err)
            if done:
                return b"".join(stdout), b"".join(stderr), int(exit_code)
            if time.monotonic() > deadline:
                raise TransportTimeout(self.settings.name, self._unfinished(timed_out, len(stdout)))

    def _unfinished(self, timed_out: int, receives: int) -> str:
        """Why the run was given up, and what it means for the host (the request was sent)."""
        limit = f"the executor did not finish within {self.settings.command_timeout:g} s"
        if timed_out == receives:
            limit += (
                f": all {receives} Receive(s) ended in the WS-Man operation timeout, so the host"
                " accepted the request and returned nothing (hung, or still working)"
            )
        return f"{limit}; {ConnectionLost.ADVICE}. Raise vipctl_command_timeout if the host is merely slow"

    def _decode(self, stdout: bytes, stderr: bytes, exit_code: int) -> Response:
        try:
            text = stdout.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ProtocolError(
                self.settings.name, f"executor output is not UTF-8 ({error.reason})"
            ) from None
        # powershell.exe may write progress records to stderr on success, so stderr alone is no error.
        if not text.strip():
            detail = stderr_text(stderr) or "no output"
            raise ProtocolError(
                self.settings.name, f"the executor printed nothing (exit code {exit_code}): {detail}"
            )
        return decode_response(text, exit_code, host=self.settings.name)

    def _discard(self, *, polite: bool) -> None:
        """Forget the shell. `polite` deletes it on the host; skipped when the host stopped answering,
        where it would only wait out another timeout (Windows reaps idle shells itself)."""
        protocol, shell_id = self._protocol, self._shell_id
        self._protocol, self._shell_id, self._finished_command = None, None, None
        if protocol is None:
            return
        with contextlib.suppress(Exception):
            if polite and shell_id is not None:
                protocol.close_shell(shell_id)
            else:
                protocol.transport.close_session()

    def close(self) -> None:
        """Delete the shell and drop the HTTP session (idempotent)."""
        with self._lock:
            self._discard(polite=True)
