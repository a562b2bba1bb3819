"""The WinRM service's security context for one connection: Negotiate (Kerberos or NTLM), raw
Kerberos, raw NTLM and CredSSP, accepted with pyspnego the way Windows accepts them.

Kerberos keys come from the keytab in `KRB5_KTNAME` (every simulated host's `HTTP/` and `host/`
principals). One keytab holds every host's keys, where Windows has one machine-account key per
host, so a ticket is also checked for naming *this* host: a ticket for another host's SPN fails,
as it fails on Windows, where it cannot even be decrypted
(docs/windows-facts.md#kerberos-failures-answer-http-401).
"""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass
from hashlib import md5
from typing import Any

import spnego
from spnego._spnego import NegTokenResp, unpack_token
from spnego.channel_bindings import GssChannelBindings
from spnego.exceptions import SpnegoError

SPNEGO_PROTOCOL = "application/HTTP-SPNEGO-session-encrypted"
KERBEROS_PROTOCOL = "application/HTTP-Kerberos-session-encrypted"
CREDSSP_PROTOCOL = "application/HTTP-CredSSP-session-encrypted"
# GSS_C_DELEG_FLAG and GSS_C_CHANNEL_BOUND_FLAG (RFC 2744; MIT krb5 1.19 and later).
_DELEG_FLAG = 0x1
_CHANNEL_BOUND_FLAG = 0x800
_NTLM_SIGNATURE = b"NTLMSSP\x00"
_NTLM_AUTHENTICATE = 3
_AV_CHANNEL_BINDINGS = 0x000A
_AV_EOL = 0x0000
# Where the AV pairs start in an NTLMv2 response: NTProofStr (16) + the fixed client-challenge part (28).
_NTLMV2_AV_OFFSET = 44


class AuthFailed(Exception):
    """Credentials were wrong or the handshake broke: answer 401."""


@dataclass(frozen=True)
class AcceptPolicy:
    """What one host's WinRM service accepts on one listener."""

    username: str
    kerberos: bool
    ntlm: bool
    credssp: bool
    spn_host: str
    cbt_level: str = "relaxed"  # none, relaxed, strict (WinRM CbtHardeningLevel)
    # `tls-server-end-point:` + the certificate hash (RFC 5929), on HTTPS only.
    tls_binding: bytes | None = None


@dataclass(frozen=True)
class Logon:
    """Who logged on and how: the shell the client opens runs in this logon."""

    user: str
    mechanism: str  # kerberos, ntlm, credssp, basic
    # Whether the logon holds credentials it can pass on (the second hop): CredSSP always, Kerberos
    # when the client forwarded a delegable ticket
    # (docs/windows-facts.md#a-second-hop-needs-delegated-credentials).
    delegated: bool


def _short_user(principal: str) -> str:
    """`vipadmin` from `vipadmin@REALM`, `DOMAIN\\vipadmin` or `vipadmin`."""
    return principal.rsplit("\\", 1)[-1].split("@", 1)[0].lower()


def _ntlm_authenticate(token: bytes) -> bytes | None:
    """The NTLM AUTHENTICATE message inside a raw or SPNEGO-wrapped token, else None."""
    if token.startswith(_NTLM_SIGNATURE):
        inner = token
    else:
        try:
            unpacked = unpack_token(token)
        except Exception:  # anything that is not SPNEGO is not NTLM either
            return None
        if not isinstance(unpacked, NegTokenResp) or not unpacked.response_token:
            return None
        inner = unpacked.response_token
    if (
        inner.startswith(_NTLM_SIGNATURE)
        and len(inner) >= 12
        and struct.unpack("<I", inner[8:12])[0] == _NTLM_AUTHENTICATE
    ):
        return inner
    return None


def _ntlm_channel_binding(message: bytes) -> bytes | None:
    """The MsvAvChannelBindings hash of an NTLMv2 AUTHENTICATE message ([MS-NLMP] 2.2.2.1), or None."""
    length, _, offset = struct.unpack("<HHI", message[20:28])
    response = message[offset : offset + length]
    pos = _NTLMV2_AV_OFFSET
    while pos + 4 <= len(response):
        av_id, av_len = struct.unpack("<HH", response[pos : pos + 4])
        if av_id == _AV_EOL:
            break
        if av_id == _AV_CHANNEL_BINDINGS:
            return response[pos + 4 : pos + 4 + av_len]
        pos += 4 + av_len
    return None


class SecurityConnection:
    """One connection's security context and, once complete, its message sealing."""

    def __init__(self, policy: AcceptPolicy) -> None:
        self.policy = policy
        self._context: Any = None
        self.scheme = "Negotiate"
        self.logon: Logon | None = None

    @property
    def complete(self) -> bool:
        return self.logon is not None

    @property
    def protocol(self) -> str:
        """The `protocol=` of `multipart/encrypted` bodies sealed with this context."""
        if self.scheme.lower() == "credssp":
            return CREDSSP_PROTOCOL
        return KERBEROS_PROTOCOL if self.scheme.lower() == "kerberos" else SPNEGO_PROTOCOL

    def _bindings(self) -> GssChannelBindings | None:
        if self.policy.tls_binding is None or self.policy.cbt_level == "none":
            return None
        return GssChannelBindings(application_data=self.policy.tls_binding)

    def _new_context(self, scheme: str, token: bytes) -> Any:
        name = scheme.lower()
        if name == "credssp":
            if not self.policy.credssp:
                raise AuthFailed("CredSSP is not enabled on this host")
            return spnego.server(protocol="credssp")
        if token.startswith(_NTLM_SIGNATURE):
            return spnego.server(protocol="ntlm")
        return spnego.server(protocol="kerberos" if name == "kerberos" else "negotiate")

    def step(self, header_value: str) -> str | None:
        """Feed an `Authorization: <scheme> <token>` value. Returns the header value for the reply
        token (None when nothing is to be sent). Raises AuthFailed when the logon is refused."""
        scheme, _, token_text = header_value.partition(" ")
        try:
            token = base64.b64decode(token_text.strip(), validate=True)
        except binascii.Error as exc:
            raise AuthFailed("the token is not base64") from exc
        if self._context is None or self.logon is not None:
            self.logon = None
            self.scheme = scheme.strip() or "Negotiate"
            self._context = self._new_context(self.scheme, token)
        ntlm_final = _ntlm_authenticate(token)
        if ntlm_final is not None:
            self._check_ntlm_binding(ntlm_final)
        try:
            # NTLM's binding is checked above, so only Kerberos is handed the TLS channel binding.
            out = self._context.step(token, channel_bindings=None if ntlm_final else self._bindings())
        except (SpnegoError, ValueError, AttributeError, ArithmeticError, LookupError) as exc:
            # A token the acceptor cannot take - expired, for another channel, malformed - is a
            # refused logon (401), never a dropped connection; the library signals some of these
            # with plain Python errors rather than SpnegoError.
            self._context = None
            raise AuthFailed(f"{type(exc).__name__}: {exc}") from exc
        if self._context.complete:
            self.logon = self._logon()
        return f"{self.scheme} {base64.b64encode(out).decode('ascii')}" if out else None

    def _check_ntlm_binding(self, message: bytes) -> None:
        """Relaxed: a binding, if sent, must match; Strict: it must be sent (and match)."""
        if self.policy.tls_binding is None or self.policy.cbt_level == "none":
            return
        sent = _ntlm_channel_binding(message)
        if sent is None or sent == b"\x00" * 16:
            if self.policy.cbt_level == "strict":
                self._context = None
                raise AuthFailed("no channel binding token, and CbtHardeningLevel is Strict")
            return
        expected = GssChannelBindings(application_data=self.policy.tls_binding).pack()
        if sent != md5(expected).digest():
            self._context = None
            raise AuthFailed("the channel binding token does not match this TLS channel")

    def _mechanism(self) -> str:
        if self.scheme.lower() == "credssp":
            return "credssp"
        return str(self._context.negotiated_protocol or "ntlm").lower()

    def _logon(self) -> Logon:
        mechanism = self._mechanism()
        context = self._context
        if mechanism == "credssp":
            # The inner logon names the user; the TSCredentials it delegated are what the second
            # hop uses (pyspnego keeps them as `_ts_credential`).
            delegated = getattr(context, "_ts_credential", None) is not None
            return self._allowed(Logon(_short_user(context.client_principal or ""), "credssp", delegated))
        if mechanism == "kerberos":
            if not self.policy.kerberos:
                raise self._refuse("Kerberos is not enabled on this host")
            self._check_kerberos_target()
            flags = self._gss_flags()
            if (
                self.policy.cbt_level == "strict"
                and self.policy.tls_binding is not None
                and not flags & _CHANNEL_BOUND_FLAG
            ):
                raise self._refuse("no channel binding token, and CbtHardeningLevel is Strict")
            delegated = bool(flags & _DELEG_FLAG)
            return self._allowed(Logon(_short_user(context.client_principal or ""), "kerberos", delegated))
        if not self.policy.ntlm:
            raise self._refuse("NTLM is not accepted on this host")
        return self._allowed(Logon(_short_user(context.client_principal or ""), "ntlm", delegated=False))

    def _gss_context(self) -> Any:
        """The python-gssapi context under pyspnego's Negotiate or Kerberos proxy."""
        context = self._context
        inner = getattr(context, "_context", None)  # NegotiateProxy -> the chosen mech's proxy
        if inner is not None and not hasattr(inner, "target_name"):
            inner = getattr(inner, "_context", None)  # GSSAPIProxy -> gssapi.SecurityContext
        return inner

    def _gss_flags(self) -> int:
        """The GSS ret_flags as a bit mask (pyspnego's own view drops the channel-bound flag)."""
        flags = getattr(self._gss_context(), "actual_flags", None) or ()
        return sum(int(flag) for flag in flags)

    def _check_kerberos_target(self) -> None:
        """The ticket must be for one of this host's SPNs: HTTP/, host/ or WSMAN/<this host>
        (docs/windows-facts.md#winrm-accepts-tickets-for-the-computers-spns)."""
        gss = self._gss_context()
        target = str(getattr(gss, "target_name", "") or "").rstrip("\x00")
        service, _, rest = target.partition("/")
        host = rest.split("@", 1)[0].lower()
        if service.lower() not in ("http", "host", "wsman") or host != self.policy.spn_host:
            raise self._refuse(f"the ticket is for {target!r}, not for this host")

    def _refuse(self, reason: str) -> AuthFailed:
        self._context = None
        return AuthFailed(reason)

    def _allowed(self, logon: Logon) -> Logon:
        if logon.user != self.policy.username.lower():
            # Authenticated, but neither an administrator nor in Remote Management Users here.
            raise self._refuse(f"user {logon.user!r} may not log on to this host")
        return logon

    def unwrap(self, sealed: bytes) -> bytes:
        if self._context is None or self.logon is None:
            raise AuthFailed("an encrypted body arrived before authentication completed")
        (header_len,) = struct.unpack("<I", sealed[:4])
        try:
            return bytes(self._context.unwrap_winrm(sealed[4 : 4 + header_len], sealed[4 + header_len :]))
        except SpnegoError as exc:
            raise AuthFailed(f"the message signature did not verify: {exc}") from exc

    def wrap(self, message: bytes) -> bytes:
        if self._context is None:
            raise AuthFailed("no security context to seal with")
        result = self._context.wrap_winrm(message)
        return struct.pack("<I", len(result.header)) + bytes(result.header) + bytes(result.data)
