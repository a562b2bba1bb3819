"""Client-library exceptions map onto typed transport errors that name the host."""

from __future__ import annotations

import pypsrp.exceptions as psrp_errors
import pytest
import requests
import spnego.exceptions as spnego_errors
import winrm.exceptions as winrm_errors

from vipctl.executor.errors import ExecutorError
from vipctl.transport.errors import (
    REDACTED,
    AuthenticationFailed,
    HostUnreachable,
    ProtocolError,
    TlsHandshakeFailed,
    TransportError,
    TransportTimeout,
    map_exception,
    scrub,
)

HOST = "rdsh01"
REFUSED = (
    "HTTPConnectionPool(host='127.0.0.9', port=5985): Max retries exceeded with url: /wsman "
    "(Caused by NewConnectionError('<urllib3.connection.HTTPConnection object>: "
    "Failed to establish a new connection: [Errno 111] Connection refused'))"
)


def mapped(error: BaseException) -> TransportError:
    return map_exception(error, host=HOST, secrets=["s3cret!"])


def test_errors_are_executor_errors_carrying_the_host() -> None:
    error = mapped(requests.exceptions.ConnectionError(REFUSED))
    assert isinstance(error, ExecutorError)
    assert error.host == HOST
    assert str(error) == "rdsh01: cannot connect: [Errno 111] Connection refused"
    assert error.detail == "cannot connect: [Errno 111] Connection refused"


@pytest.mark.parametrize(
    ("error", "expected", "fragment"),
    [
        (requests.exceptions.ConnectionError(REFUSED), HostUnreachable, "Connection refused"),
        (requests.exceptions.ConnectTimeout("connect timed out"), HostUnreachable, "connection timed out"),
        (requests.exceptions.ReadTimeout("read timed out"), TransportTimeout, "timed out waiting"),
        (requests.exceptions.SSLError("CERTIFICATE_VERIFY_FAILED"), TlsHandshakeFailed, "ca_trust_path"),
        (
            winrm_errors.InvalidCredentialsError("the specified credentials were rejected"),
            AuthenticationFailed,
            "",
        ),
        (
            psrp_errors.AuthenticationError("Failed to authenticate the user x with ntlm"),
            AuthenticationFailed,
            "x",
        ),
        (
            spnego_errors.InvalidCredentialError(context_msg="no creds"),
            AuthenticationFailed,
            "authentication",
        ),
        (winrm_errors.WinRMOperationTimeoutError(), TransportTimeout, "operation timed out"),
        (winrm_errors.WinRMTransportError("http", 500, "<html>boom</html>"), ProtocolError, "HTTP 500"),
        (psrp_errors.WinRMTransportError("http", 401, ""), AuthenticationFailed, "HTTP 401"),
        (psrp_errors.WinRMTransportError("http", 503, "busy"), ProtocolError, "HTTP 503"),
        (psrp_errors.InvalidPSRPOperation("Cannot start"), ProtocolError, "Cannot start"),
        (KeyError("Receive"), ProtocolError, "KeyError"),
    ],
)
def test_mapping(error: BaseException, expected: type[TransportError], fragment: str) -> None:
    result = mapped(error)
    assert type(result) is expected
    assert fragment in str(result)
    assert str(result).startswith("rdsh01: ")


def test_wsman_faults_by_code() -> None:
    def winrm_fault(code: int | None) -> winrm_errors.WSManFaultError:
        return winrm_errors.WSManFaultError(
            500, "Bad HTTP response", "<xml/>", reason="The WS-Man reason", wsman_fault_code=code
        )

    assert type(mapped(winrm_fault(2150858793))) is TransportTimeout
    assert type(mapped(winrm_fault(5))) is AuthenticationFailed
    other = mapped(winrm_fault(2150858752))
    assert type(other) is ProtocolError
    assert "WS-Man fault 2150858752: The WS-Man reason" in str(other)

    psrp_fault = psrp_errors.WSManFaultError(5, "rdsh01", "Access is denied.", None, None, None)
    assert type(mapped(psrp_fault)) is AuthenticationFailed
    psrp_timeout = psrp_errors.WSManFaultError(2150858793, "rdsh01", "timed out", None, None, None)
    assert type(mapped(psrp_timeout)) is TransportTimeout


def test_only_plain_connection_failures_are_retryable() -> None:
    assert mapped(requests.exceptions.ConnectionError(REFUSED)).retryable
    assert not mapped(requests.exceptions.SSLError("bad cert")).retryable
    assert not mapped(requests.exceptions.ReadTimeout("slow")).retryable
    assert not mapped(winrm_errors.InvalidCredentialsError("no")).retryable


def test_password_is_scrubbed_from_library_messages() -> None:
    leaky = winrm_errors.WinRMError("request with password=s3cret! failed")
    result = mapped(leaky)
    assert "s3cret!" not in str(result)
    assert REDACTED in str(result)


def test_transport_errors_pass_through_unchanged() -> None:
    original = HostUnreachable("rdsh02", "gone")
    assert map_exception(original, host=HOST) is original


def test_scrub_replaces_longest_secret_first_and_ignores_empty() -> None:
    assert scrub("pw=abcdef", ["abc", "abcdef", "", None]) == f"pw={REDACTED}"
    assert scrub("nothing here", []) == "nothing here"


def test_long_messages_are_shortened() -> None:
    result = mapped(winrm_errors.WinRMError("x" * 2000))
    assert len(str(result)) < 400
