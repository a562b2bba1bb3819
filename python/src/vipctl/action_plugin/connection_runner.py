"""Run one executor request through the task's own Ansible connection (winrm or psrp)."""

from __future__ import annotations

from typing import Any

from vipctl.executor import bootstrap
from vipctl.executor.codec import Response, decode_response, stderr_text
from vipctl.executor.errors import MalformedResponse

SUPPORTED_CONNECTIONS = ("winrm", "psrp")


class UnsupportedConnection(Exception):
    """The task's connection is not one that reaches Windows over WinRM."""


class ExecutorTransportError(Exception):
    """The executor ran but its output was not a protocol response."""


def connection_name(connection: Any) -> str:
    """The short plugin name ('winrm', 'psrp', ...) however the play spelled it."""
    name = str(getattr(connection, "_load_name", "") or getattr(connection, "transport", ""))
    return name.rsplit(".", 1)[-1]


def check_connection(connection: Any) -> None:
    name = connection_name(connection)
    if name not in SUPPORTED_CONNECTIONS:
        raise UnsupportedConnection(
            f"vipctl modules reach Windows through the play's WinRM connection, but this task uses "
            f"connection '{name}'. Set ansible_connection to 'winrm' or 'psrp' for this host."
        )


class ConnectionRunner:
    """A `vipctl.tasks` runner: request in, `codec.Response` out, one exec per call.

    The output goes through the same decoder as the CLI's transports (`codec.decode_response`):
    protocol version, `ok` against the results, exit code, CLIXML progress lines."""

    def __init__(self, connection: Any, host_label: str) -> None:
        check_connection(connection)
        self._connection = connection
        self._host = host_label

    def __call__(self, request: dict[str, Any]) -> Response:
        # The shell plugin's own encoding: both connection plugins recognise it, and psrp runs the
        # decoded bootstrap in its open runspace instead of starting powershell.exe.
        command = self._connection._shell._encode_script(
            bootstrap.BOOTSTRAP_PS1, as_list=False, strict_mode=False, preserve_rc=False
        )
        rc, stdout, stderr = self._connection.exec_command(command, in_data=bootstrap.stdin_frame(request))
        try:
            return decode_output(self._host, rc, stdout, stderr)
        except ExecutorTransportError as exc:
            # The host's stderr is quoted back to the user; it must never carry the password.
            raise ExecutorTransportError(redact(str(exc), self._password())) from None

    def _password(self) -> str | None:
        try:
            value = self._connection.get_option("remote_password")
        except Exception:  # connection plugins without that option, or not loaded yet
            return None
        return str(value) if value else None


def redact(text: str, secret: str | None) -> str:
    return text.replace(secret, "********") if secret else text


def decode_output(host: str, rc: int, stdout: bytes, stderr: bytes) -> Response:
    """The connection's output decoded by the protocol codec; anything else names the host's stderr."""
    text = stdout.decode("utf-8", errors="replace")
    try:
        return decode_response(text, rc, host=host)
    except MalformedResponse as exc:
        detail = stderr_text(stderr)[:2000] or text.strip()[:2000]
        suffix = f": {detail}" if detail else ""
        raise ExecutorTransportError(
            f"{host}: the vipctl executor returned no valid response ({exc.detail}){suffix}"
        ) from None
