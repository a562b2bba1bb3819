"""Typed transport failures, and the mapping from the client libraries' exceptions onto them.

Callers (the fleet runner, the CLI, the Ansible adapter) decide what to do by type: retry,
report "unreachable", or fail the host. Every message starts with the host's name and is
scrubbed of the password, because library messages sometimes echo request details.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import ClassVar

import pypsrp.exceptions as psrp_errors
import requests
import spnego.exceptions as spnego_errors
import winrm.exceptions as winrm_errors

from vipctl.executor.errors import ExecutorError
from vipctl.transport.http_limits import ReplyTooLarge, ReplyTooSlow

REDACTED = "********"
# WS-Man fault codes Windows sends: the Receive operation timeout and access denied.
WSMAN_OPERATION_TIMEOUT = 2150858793
WSMAN_ACCESS_DENIED = 5
_ERRNO = re.compile(r"\[Errno -?\d+\] [^'\")]+")
_MAX_DETAIL = 300


class TransportError(ExecutorError):
    """Base of every transport failure. `host` names the host; `detail` is the message without it."""

    kind: ClassVar[str] = "transport"
    # Whether nothing reached the host, so running the request again cannot repeat a write.
    retryable: ClassVar[bool] = False

    def __init__(self, host: str, detail: str) -> None:
        # The base prefixes the host and keeps `detail`.
        super().__init__(detail, host=host)

    def after_send(self) -> TransportError:
        """The same failure once the request may have reached the host: never safe to resend.

        A dropped connection is no longer "cannot connect": the host may have run the request."""
        host = self.host or ""
        if isinstance(self, HostUnreachable) and not isinstance(self, TlsHandshakeFailed):
            reason = self.detail.removeprefix("cannot connect: ")
            return ConnectionLost(host, f"the connection was lost after the request was sent ({reason})")
        if isinstance(self, TransportTimeout) and ConnectionLost.ADVICE not in self.detail:
            advice = ConnectionLost.ADVICE
            return TransportTimeout(host, f"{self.detail} after the request was sent; {advice}")
        self.retryable = False  # type: ignore[misc]  # per instance, overriding the class default
        return self


class AuthenticationFailed(TransportError):
    kind = "authentication_failed"


class UnencryptedRefused(AuthenticationFailed):
    """Unsealed messages over http refused by a host that requires encryption."""

    kind = "unencrypted_refused"


class HostUnreachable(TransportError):
    kind = "unreachable"
    retryable = True


class TlsHandshakeFailed(HostUnreachable):
    """The server's certificate was refused (or TLS failed): retrying will not help."""

    kind = "tls_failed"
    retryable = False


class ConnectionLost(TransportError):
    """The connection failed once the request was on its way: the host may have changed."""

    kind = "connection_lost"
    ADVICE: ClassVar[str] = (
        "the host may have applied it; check with `vipctl status` (and `vipctl rollback --check`"
        " lists the backup sets a write made) before running it again"
    )

    def __init__(self, host: str, detail: str) -> None:
        super().__init__(host, f"{detail}; {self.ADVICE}")


class TransportTimeout(TransportError):
    kind = "timeout"


class ProtocolError(TransportError):
    kind = "protocol_error"


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """`text` with every non-empty secret replaced, longest first (one may contain another)."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 3] + "..."


def _socket_reason(error: BaseException) -> str:
    """`[Errno 111] Connection refused` out of requests' nested 'Max retries exceeded' text."""
    found = _ERRNO.search(str(error))
    return found.group(0).strip() if found else _short(str(error)) or type(error).__name__


def _from_requests(host: str, error: requests.RequestException) -> TransportError:
    # Order matters: SSLError and ConnectTimeout are both ConnectionErrors.
    if isinstance(error, requests.exceptions.SSLError):
        return TlsHandshakeFailed(
            host, f"TLS handshake failed ({_short(str(error))}); check ca_trust_path or cert_validation"
        )
    if isinstance(error, ReplyTooSlow):
        return TransportTimeout(host, str(error))
    if isinstance(error, ReplyTooLarge):
        return ProtocolError(host, f"{error}; refused without reading it all")
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return HostUnreachable(host, "connection timed out")
    if isinstance(error, requests.exceptions.Timeout):
        return TransportTimeout(host, "timed out waiting for the server's reply")
    if isinstance(error, requests.exceptions.ConnectionError):
        return HostUnreachable(host, f"cannot connect: {_socket_reason(error)}")
    return ProtocolError(host, f"HTTP request failed: {_short(str(error))}")


def _from_fault(host: str, code: int | None, reason: str) -> TransportError:
    if code == WSMAN_OPERATION_TIMEOUT:
        return TransportTimeout(host, "WS-Man operation timed out")
    if code == WSMAN_ACCESS_DENIED:
        return AuthenticationFailed(host, f"access denied: {_short(reason)}")
    return ProtocolError(host, f"WS-Man fault {code}: {_short(reason)}")


def _from_http_status(host: str, code: int, what: str) -> TransportError:
    if code == 401:
        return AuthenticationFailed(host, "the server rejected the credentials (HTTP 401)")
    return ProtocolError(host, f"HTTP {code} from the server{what}")


# What GSSAPI says when the ticket cache is empty, expired or lacks a ticket the KDC will honour.
_NO_TICKET = re.compile(
    r"No Kerberos credentials|credentials cache|expired|Ticket expired|No credentials were supplied", re.I
)


def _kerberos_failure(host: str, error: BaseException) -> AuthenticationFailed:
    detail = f"authentication failed: {_short(str(error))}"
    if _NO_TICKET.search(str(error)):
        detail += "; get a Kerberos ticket first: kinit <user>@<REALM> (docs/real-hosts.md)"
    return AuthenticationFailed(host, detail)


def _classify(host: str, error: BaseException) -> TransportError:
    # pywinrm's Kerberos handshake failures are RequestExceptions; they are about credentials.
    if type(error).__name__ == "KerberosExchangeError":
        return _kerberos_failure(host, error)
    # requests-credssp refuses before sending credentials when the host does not offer CredSSP.
    if (
        type(error).__module__.startswith("requests_credssp")
        and type(error).__name__ == "AuthenticationException"
    ):
        return AuthenticationFailed(host, f"authentication failed: {_short(str(error))}")
    if isinstance(error, requests.RequestException):
        return _from_requests(host, error)
    if isinstance(error, winrm_errors.WinRMOperationTimeoutError):
        return TransportTimeout(host, "WS-Man operation timed out")
    if isinstance(error, winrm_errors.AuthenticationError | psrp_errors.AuthenticationError):
        return AuthenticationFailed(host, f"authentication failed: {_short(str(error))}")
    if isinstance(error, spnego_errors.SpnegoError):
        return _kerberos_failure(host, error)
    if isinstance(error, winrm_errors.WSManFaultError):
        return _from_fault(host, error.wsman_fault_code, error.reason)
    if isinstance(error, psrp_errors.WSManFaultError):
        code = error.code if isinstance(error.code, int) else None
        return _from_fault(host, code, str(error.reason or error))
    if isinstance(error, winrm_errors.WinRMTransportError | psrp_errors.WinRMTransportError):
        return _from_http_status(host, int(error.code), "")
    if isinstance(error, winrm_errors.WinRMError | psrp_errors.WinRMError):
        return ProtocolError(host, _short(str(error)) or type(error).__name__)
    return ProtocolError(host, f"{type(error).__name__}: {_short(str(error))}")


def explain_refusal(
    error: TransportError, *, auth: str, scheme: str, message_encryption: str
) -> TransportError:
    """Name the likelier cause of a 401 for an unsealed NTLM/Kerberos message over http.

    With Windows' default AllowUnencrypted=false, http accepts only sealed messages, and the
    refusal is a 401 like a wrong password: "credentials were rejected" would send the user
    after the wrong fix."""
    unsealed = auth != "basic" and scheme == "http" and message_encryption == "never"
    if not unsealed or not isinstance(error, AuthenticationFailed):
        return error
    return UnencryptedRefused(
        error.host or "",
        f"the server refused an unencrypted {auth} message over http (Windows allows only encrypted"
        " messages over http unless AllowUnencrypted is set); set message_encryption to auto"
        " (ansible_winrm_message_encryption / ansible_psrp_message_encryption) or use https."
        f" Only if that is already so were the credentials wrong ({error.detail})",
    )


def map_exception(error: BaseException, *, host: str, secrets: Iterable[str | None] = ()) -> TransportError:
    """The typed transport error for a client-library exception, its message scrubbed of `secrets`."""
    if isinstance(error, TransportError):
        return error
    mapped = _classify(host, error)
    clean = scrub(mapped.detail, secrets)
    if clean != mapped.detail:
        mapped = type(mapped)(host, clean)
    return mapped
