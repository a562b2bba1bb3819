"""WinRM authentication as Windows answers it: Basic, NTLM (pyspnego acceptor), message encryption.

NTLM authenticates a connection, not a request, so `NtlmConnection` lives as long as the TCP
connection. Once it is complete, HTTP bodies may be sealed with it (`multipart/encrypted`,
MS-WSMV 2.2.9.1.1), which is how pywinrm and pypsrp protect SOAP over plain HTTP.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import struct
from collections.abc import Iterable
from pathlib import Path

import spnego
from spnego.exceptions import SpnegoError

ENCRYPTED_PROTOCOL = "application/HTTP-SPNEGO-session-encrypted"
ENCRYPTED_CONTENT_TYPE = f'multipart/encrypted;protocol="{ENCRYPTED_PROTOCOL}";boundary="Encrypted Boundary"'
_BOUNDARY = b"--Encrypted Boundary"
_OCTET = b"\tContent-Type: application/octet-stream\r\n"
_LENGTH = re.compile(rb"Length=(\d+)")


class AuthFailed(Exception):
    """Credentials were wrong or the handshake broke: answer 401."""


def challenge_headers(basic: bool, ntlm: bool) -> list[tuple[str, str]]:
    """The WWW-Authenticate headers Windows sends with a 401, one per enabled scheme."""
    headers = [("WWW-Authenticate", "Negotiate")] if ntlm else []
    if basic:
        headers.append(("WWW-Authenticate", 'Basic realm="WSMAN"'))
    return headers


def check_basic(header_value: str, username: str, password: str) -> bool:
    """True when an `Authorization: Basic ...` value carries exactly these credentials."""
    try:
        decoded = base64.b64decode(header_value.split(" ", 1)[1].strip(), validate=True).decode("utf-8")
    except (IndexError, binascii.Error, UnicodeDecodeError):
        return False
    user, sep, given = decoded.partition(":")
    # Windows accepts `.\user` and `HOST\user` for a local account; the password must match exactly.
    bare_user = user.rsplit("\\", 1)[-1]
    return bool(sep) and bare_user.lower() == username.lower() and given == password


def write_ntlm_user_file(path: Path, credentials: Iterable[tuple[str, str]]) -> None:
    """Write the credential store the pyspnego NTLM acceptor reads (`NTLM_USER_FILE`) and point the
    process at it. The acceptor has no other way to learn passwords; the file is private to us."""
    lines = sorted({f":{user}:{password}" for user, password in credentials})
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    os.environ["NTLM_USER_FILE"] = str(path)


class NtlmConnection:
    """One connection's NTLM/Negotiate acceptor and, once complete, its message sealing."""

    def __init__(self, expected_user: str) -> None:
        self._expected_user = expected_user.lower()
        self._context: spnego.ContextProxy | None = None
        self.scheme = "Negotiate"

    @property
    def complete(self) -> bool:
        return self._context is not None and self._context.complete

    def step(self, header_value: str) -> str | None:
        """Feed an `Authorization: Negotiate|NTLM <token>` value. Returns the header value for the
        reply token (None when nothing is to be sent). Raises AuthFailed on bad credentials."""
        scheme, _, token_text = header_value.partition(" ")
        try:
            token = base64.b64decode(token_text.strip(), validate=True)
        except binascii.Error as exc:
            raise AuthFailed("the token is not base64") from exc
        if self._context is None or self._context.complete:
            # Raw NTLMSSP (requests_ntlm) needs the NTLM acceptor; SPNEGO (pypsrp) the Negotiate one.
            protocol = "ntlm" if token.startswith(b"NTLMSSP\x00") else "negotiate"
            self._context = spnego.server(protocol=protocol)
            self.scheme = scheme.strip() or "Negotiate"
        try:
            out = self._context.step(token)
        except SpnegoError as exc:
            self._context = None
            raise AuthFailed(str(exc)) from exc
        if self._context.complete:
            principal = (self._context.client_principal or "").rsplit("\\", 1)[-1].lower()
            if principal != self._expected_user:
                # The shared credential store knows every host's user; only this host's may log on.
                self._context = None
                raise AuthFailed(f"user {principal!r} may not log on to this host")
        return f"{self.scheme} {base64.b64encode(out).decode('ascii')}" if out else None

    def unwrap(self, body: bytes) -> bytes:
        """Open a `multipart/encrypted` request body."""
        if self._context is None or not self._context.complete:
            raise AuthFailed("an encrypted body arrived before authentication completed")
        parts = [part for part in body.split(_BOUNDARY + b"\r\n") if part]
        message = b""
        for index in range(0, len(parts) - 1, 2):
            match = _LENGTH.search(parts[index])
            payload = parts[index + 1]
            if payload.endswith(_BOUNDARY + b"--\r\n"):
                payload = payload[: -len(_BOUNDARY + b"--\r\n")]
            if match is None or not payload.startswith(_OCTET):
                raise AuthFailed("malformed multipart/encrypted body")
            sealed = payload[len(_OCTET) :]
            (header_len,) = struct.unpack("<I", sealed[:4])
            try:
                plain = self._context.unwrap_winrm(sealed[4 : 4 + header_len], sealed[4 + header_len :])
            except SpnegoError as exc:
                raise AuthFailed(f"the message signature did not verify: {exc}") from exc
            if len(plain) != int(match.group(1)):
                raise AuthFailed("the decrypted length does not match OriginalContent")
            message += plain
        return message

    def wrap(self, message: bytes) -> bytes:
        """Seal a reply body the way Windows does."""
        if self._context is None:
            raise AuthFailed("no security context to seal with")
        result = self._context.wrap_winrm(message)
        return (
            _BOUNDARY + b"\r\n"
            b"\tContent-Type: " + ENCRYPTED_PROTOCOL.encode() + b"\r\n"
            b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length="
            + str(len(message)).encode()
            + b"\r\n"
            + _BOUNDARY
            + b"\r\n"
            + _OCTET
            + struct.pack("<I", len(result.header))
            + result.header
            + result.data
            + _BOUNDARY
            + b"--\r\n"
        )
