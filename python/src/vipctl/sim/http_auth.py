"""WinRM authentication as Windows answers it: the 401 challenge, Basic, and message encryption.

Negotiate, Kerberos, NTLM and CredSSP authenticate a connection, not a request
(`gss_acceptor.SecurityConnection` lives as long as the TCP connection). Once complete, HTTP
bodies may be sealed with it (`multipart/encrypted`, or `multipart/x-multi-encrypted` in 16 KiB
pieces for CredSSP; MS-WSMV 2.2.9.1), which is how pywinrm and pypsrp protect SOAP over HTTP.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Iterable
from pathlib import Path

from vipctl.sim.gss_acceptor import CREDSSP_PROTOCOL, AuthFailed, SecurityConnection

_BOUNDARY = b"--Encrypted Boundary"
_OCTET = b"\tContent-Type: application/octet-stream\r\n"
_LENGTH = re.compile(rb"Length=(\d+)")


_CREDSSP_CHUNK = 16384


def challenge_headers(
    basic: bool, ntlm: bool, kerberos: bool = False, credssp: bool = False
) -> list[tuple[str, str]]:
    """The WWW-Authenticate headers Windows sends with a 401, one per enabled scheme."""
    headers = [("WWW-Authenticate", "Negotiate")] if ntlm or kerberos else []
    if kerberos:
        headers.append(("WWW-Authenticate", "Kerberos"))
    if credssp:
        headers.append(("WWW-Authenticate", "CredSSP"))
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


def open_encrypted(security: SecurityConnection, body: bytes) -> bytes:
    """Open a `multipart/encrypted` (or `x-multi-encrypted`) request body."""
    parts = [part for part in body.split(_BOUNDARY + b"\r\n") if part]
    message = b""
    for index in range(0, len(parts) - 1, 2):
        match = _LENGTH.search(parts[index])
        payload = parts[index + 1]
        if payload.endswith(_BOUNDARY + b"--\r\n"):
            payload = payload[: -len(_BOUNDARY + b"--\r\n")]
        if match is None or not payload.startswith(_OCTET):
            raise AuthFailed("malformed multipart/encrypted body")
        plain = security.unwrap(payload[len(_OCTET) :])
        if len(plain) != int(match.group(1)):
            raise AuthFailed("the decrypted length does not match OriginalContent")
        message += plain
    return message


def seal(security: SecurityConnection, message: bytes) -> tuple[bytes, str]:
    """A reply body sealed the way Windows does, and its Content-Type."""
    protocol = security.protocol
    chunks = [message]
    kind = "multipart/encrypted"
    if protocol == CREDSSP_PROTOCOL and len(message) > _CREDSSP_CHUNK:
        # A TLS record holds at most 16 KiB, so CredSSP seals longer messages piece by piece.
        kind = "multipart/x-multi-encrypted"
        chunks = [message[i : i + _CREDSSP_CHUNK] for i in range(0, len(message), _CREDSSP_CHUNK)]
    body = b""
    for chunk in chunks:
        body += (
            _BOUNDARY + b"\r\n"
            b"\tContent-Type: " + protocol.encode() + b"\r\n"
            b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length="
            + str(len(chunk)).encode()
            + b"\r\n"
            + _BOUNDARY
            + b"\r\n"
            + _OCTET
            + security.wrap(chunk)
        )
    content_type = f'{kind};protocol="{protocol}";boundary="Encrypted Boundary"'
    return body + _BOUNDARY + b"--\r\n", content_type
