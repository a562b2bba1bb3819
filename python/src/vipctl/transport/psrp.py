"""PSRP transport: one runspace pool per host, opened on first use and reused for every request.

Each request runs the bootstrap in the pool's runspace and feeds it the stdin frame (the
compressed executor, then the request) as pipeline input, as Ansible's psrp connection does
(docs/executor-protocol.md, "Transport framing"): about 18 KB per call instead of the 63 KB
script. Reusing the pool matters: opening one costs
several round trips and a PowerShell process on the host, a pipeline costs one.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any, cast

from pypsrp.complex_objects import PSInvocationState
from pypsrp.host import PSHost, PSHostUserInterface
from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.wsman import WSMan

from vipctl.executor import bootstrap
from vipctl.executor.codec import Response, decode_response
from vipctl.executor.errors import ExecutorError
from vipctl.transport.connection import ConnectionSettings
from vipctl.transport.errors import (
    HostUnreachable,
    ProtocolError,
    TransportTimeout,
    explain_refusal,
    map_exception,
)
from vipctl.transport.http_limits import guard_session
from vipctl.transport.http_session import freeze_environment


class PsrpTransport:
    """Run executor requests on one host over PSRP. Cheap to create: nothing connects until `run`."""

    def __init__(self, settings: ConnectionSettings) -> None:
        if settings.connection != "psrp":
            raise ValueError(
                f"{settings.name}: PsrpTransport needs connection 'psrp', not {settings.connection!r}"
            )
        self.settings = settings
        self._pool: RunspacePool | None = None
        self._host: PSHost | None = None
        # One pipeline at a time: the pool holds a single runspace.
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PsrpTransport({self.settings.name!r}, open={self._pool is not None})"

    def __enter__(self) -> PsrpTransport:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _wsman(self) -> WSMan:
        s = self.settings
        # pypsrp takes a CA bundle path where it takes the validation flag (as Ansible passes it).
        cert_validation: bool | str = (
            s.ca_trust_path if s.cert_validation and s.ca_trust_path else s.cert_validation
        )
        return WSMan(
            s.host,
            port=s.port,
            username=s.username,
            password=s.password,
            ssl=s.scheme == "https",
            path=s.path.lstrip("/"),
            auth=s.auth,
            # Typed bool/int upstream, but handed straight to requests, which takes a path / float.
            cert_validation=cast(bool, cert_validation),
            connection_timeout=cast(int, s.connect_timeout),
            read_timeout=cast(int, s.read_timeout),
            operation_timeout=s.operation_timeout,
            encryption=s.message_encryption,
            proxy=s.proxy,
            no_proxy=s.ignore_proxy,
            # Retries are ours (see `_open`): pypsrp's own would also repeat requests that may have run.
            reconnection_retries=0,
            negotiate_hostname_override=s.spn_hostname,
            negotiate_delegate=s.delegate,
            negotiate_send_cbt=s.send_cbt,
        )

    def _open_once(self) -> RunspacePool:
        host = PSHost(None, None, False, "vipctl", None, PSHostUserInterface(), "1.0")
        try:
            wsman = self._wsman()
            # Built now (pypsrp would on the first message) so that its send can be bounded.
            http = wsman.transport
            http.session = http._build_session()
            guard_session(http.session, deadline=self.settings.exchange_deadline)
            pool = RunspacePool(wsman, host=host, configuration_name=self.settings.configuration_name)
            pool.open()
        except Exception as error:
            s = self.settings
            mapped = map_exception(error, host=s.name, secrets=[s.password])
            raise explain_refusal(
                mapped, auth=s.auth, scheme=s.scheme, message_encryption=s.message_encryption
            ) from None
        session = pool.connection.transport.session
        if session is not None:
            freeze_environment(session)
        self._host = host
        return pool

    def _open(self) -> RunspacePool:
        """The open pool, opening it with bounded retries: opening runs nothing on the host."""
        if self._pool is not None:
            return self._pool
        attempt = 0
        while True:
            try:
                self._pool = self._open_once()
                return self._pool
            except HostUnreachable as error:
                if not error.retryable or attempt >= self.settings.retries:
                    raise
                attempt += 1
                time.sleep(self.settings.retry_backoff * (2 ** (attempt - 1)))

    def run(self, request: dict[str, Any]) -> Response:
        """Run one executor request; raise a TransportError or ExecutorError on failure."""
        with self._lock:
            pool = self._open()
            try:
                stdout, exit_code = self._invoke(pool, request)
            except ExecutorError:
                raise
            except Exception as error:
                # The pool's state is unknown after a transport failure: start afresh next time.
                self._discard()
                # The script may have started on the host: the failure is never safe to resend.
                raise map_exception(
                    error, host=self.settings.name, secrets=[self.settings.password]
                ).after_send() from None
        return decode_response(stdout, exit_code, host=self.settings.name)

    def _invoke(self, pool: RunspacePool, request: dict[str, Any]) -> tuple[str, int]:
        if self._host is not None:
            self._host.rc = None
        shell = PowerShell(pool)
        shell.add_script(bootstrap.BOOTSTRAP_PS1)
        # A list goes out as one PipelineInput message per line, then the end of input.
        lines = bootstrap.stdin_frame(request).decode("ascii").splitlines()
        shell.begin_invoke(input=cast(Iterator[bytes], lines))
        deadline = time.monotonic() + self.settings.command_timeout
        while shell.state == PSInvocationState.RUNNING:
            if time.monotonic() > deadline:
                self._stop_quietly(shell)
                self._discard()
                raise TransportTimeout(
                    self.settings.name,
                    f"the executor did not finish within {self.settings.command_timeout:g} s",
                )
            shell.poll_invoke()
        self._close_pipeline(shell)
        self._raise_for_errors(shell)
        stdout = "\n".join(str(item) for item in shell.output if item is not None)
        rc = self._host.rc if self._host is not None else None
        return stdout, 0 if rc is None else int(rc)

    def _raise_for_errors(self, shell: PowerShell) -> None:
        """The executor writes only its JSON; anything on the error stream means it did not run."""
        messages = [str(record) for record in shell.streams.error]
        if messages:
            raise ProtocolError(self.settings.name, "PowerShell error: " + "; ".join(messages))
        if shell.state == PSInvocationState.FAILED:
            raise ProtocolError(self.settings.name, "the PowerShell pipeline failed without an error record")

    @staticmethod
    def _close_pipeline(shell: PowerShell) -> None:
        # The result is in hand; a failed cleanup signal changes nothing.
        with contextlib.suppress(Exception):
            shell.close()

    @staticmethod
    def _stop_quietly(shell: PowerShell) -> None:
        # Best effort on a host that already stopped answering.
        with contextlib.suppress(Exception):
            shell.stop()

    def _discard(self) -> None:
        pool, self._pool, self._host = self._pool, None, None
        if pool is not None:
            # Closing a broken pool can fail the same way it broke.
            with contextlib.suppress(Exception):
                pool.close()

    def close(self) -> None:
        """Close the runspace pool (idempotent); the next `run` would open a new one."""
        with self._lock:
            self._discard()
