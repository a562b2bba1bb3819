"""How to reach one Windows host: a validated, immutable description both transports read.

`vipctl.transport.ansible_vars.settings_from_ansible_vars` reads the same host variables, with
the same precedence and defaults, as ansible-core's `winrm` and `psrp` connection plugins, so one
inventory drives both Ansible and the standalone CLI. This module imports nothing from that one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, cast, get_args

Connection = Literal["psrp", "winrm"]
Scheme = Literal["http", "https"]
Auth = Literal["basic", "ntlm", "negotiate", "kerberos", "credssp"]
MessageEncryption = Literal["auto", "always", "never"]

CONNECTIONS: tuple[str, ...] = get_args(Connection)
SCHEMES: tuple[str, ...] = get_args(Scheme)
AUTHS: tuple[str, ...] = get_args(Auth)
ENCRYPTIONS: tuple[str, ...] = get_args(MessageEncryption)

# pywinrm speaks no SPNEGO "negotiate"; it names Basic "plaintext"/"ssl" (Ansible's defaults).
WINRM_AUTHS: tuple[str, ...] = ("basic", "ntlm", "kerberos", "credssp")
_WINRM_TRANSPORT_ALIASES = {
    "plaintext": "basic",
    "ssl": "basic",
    "basic": "basic",
    "ntlm": "ntlm",
    "kerberos": "kerberos",
    "credssp": "credssp",
}
# Auth methods that can wrap WinRM messages (NTLM/Kerberos/CredSSP sealing); Basic cannot.
_SEALING_AUTHS = ("ntlm", "negotiate", "kerberos", "credssp")

HTTP_PORT = 5985
HTTPS_PORT = 5986


class ConnectionSettingsError(ValueError):
    """A host's connection settings are unusable; the message names the host, the field and the fix."""

    def __init__(self, host: str, message: str) -> None:
        self.host = host
        super().__init__(f"{host}: {message}")


@dataclass(frozen=True)
class ConnectionSettings:
    """Everything needed to open a WinRS shell or a PSRP runspace pool on one host.

    `name` is the inventory name used in every message; `host` is the address dialled.
    """

    host: str
    port: int = HTTPS_PORT
    scheme: Scheme = "https"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    auth: Auth = "negotiate"
    connection: Connection = "psrp"
    cert_validation: bool = True
    ca_trust_path: str | None = None
    connect_timeout: float = 30.0
    read_timeout: float = 30.0
    # WS-Man OperationTimeout: how long the server holds a Receive open; must stay below read_timeout.
    operation_timeout: int = 20
    # Upper bound for one executor run, so a hung host cannot stall a fleet forever.
    command_timeout: float = 600.0
    # Upper bound for one HTTP exchange, headers and body: read_timeout alone never trips on a host
    # that trickles its reply. Must exceed read_timeout; None = the larger of 120 s and 2 x read_timeout.
    request_deadline: float | None = None
    retries: int = 0
    retry_backoff: float = 2.0
    message_encryption: MessageEncryption = "auto"
    path: str = "wsman"
    configuration_name: str = "Microsoft.PowerShell"
    proxy: str | None = None
    ignore_proxy: bool = False
    # Basic over plain HTTP puts the password on the wire in base64; only an explicit opt-in allows it.
    allow_basic_over_http: bool = False
    # The host name in the service principal name (HTTP/<spn_hostname>) when `host` is an address
    # or an alias: pywinrm's kerberos_hostname_override, pypsrp's negotiate_hostname_override.
    spn_hostname: str | None = None
    # Forward the Kerberos ticket so the remote session can reach AD (the second hop, `ad_gpo`).
    delegate: bool = False
    # Bind Negotiate/Kerberos to the TLS channel on HTTPS (needed where CbtHardeningLevel is Strict).
    send_cbt: bool = True
    name: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.host)
        self._validate()

    @property
    def endpoint(self) -> str:
        """The WS-Man URL (IPv6 literals bracketed as in a URL)."""
        address = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        return f"{self.scheme}://{address}:{self.port}/{self.path.lstrip('/')}"

    @property
    def exchange_deadline(self) -> float:
        """Seconds one HTTP request and its whole reply may take."""
        if self.request_deadline is not None:
            return self.request_deadline
        return max(120.0, 2 * self.read_timeout)

    def _fail(self, message: str) -> ConnectionSettingsError:
        return ConnectionSettingsError(self.name, message)

    def _validate(self) -> None:
        if not self.host:
            raise self._fail("host is empty; set ansible_host or the inventory name")
        if self.connection not in CONNECTIONS:
            raise self._fail(
                f"connection {self.connection!r} is not supported; use one of {', '.join(CONNECTIONS)}"
            )
        if self.scheme not in SCHEMES:
            raise self._fail(f"scheme {self.scheme!r} is not http or https")
        if self.auth not in AUTHS:
            raise self._fail(f"auth {self.auth!r} is not supported; use one of {', '.join(AUTHS)}")
        if self.message_encryption not in ENCRYPTIONS:
            raise self._fail(f"message_encryption {self.message_encryption!r} is not auto, always or never")
        if not 0 < self.port < 65536:
            raise self._fail(f"port {self.port} is out of range 1-65535")
        if self.connect_timeout <= 0 or self.read_timeout <= 0 or self.command_timeout <= 0:
            raise self._fail("timeouts must be positive")
        if not 0 < self.operation_timeout < self.read_timeout:
            raise self._fail(
                f"read_timeout ({self.read_timeout:g}) must exceed operation_timeout"
                f" ({self.operation_timeout}), or the client gives up while the server holds the Receive open"
            )
        if self.request_deadline is not None and self.request_deadline <= self.read_timeout:
            raise self._fail(
                f"vipctl_request_deadline ({self.request_deadline:g}) must exceed the read timeout"
                f" ({self.read_timeout:g})"
            )
        if self.retries < 0 or self.retry_backoff < 0:
            raise self._fail("retries and retry_backoff must not be negative")
        if self.connection == "winrm" and self.auth not in WINRM_AUTHS:
            raise self._fail(
                f"auth {self.auth!r} is not offered by pywinrm;"
                " set ansible_winrm_transport to ntlm, kerberos, credssp or basic"
            )
        self._validate_encryption()

    def _validate_encryption(self) -> None:
        """Refuse combinations the clients would reject later, or that would leak credentials."""
        if self.auth == "basic" and self.scheme == "http" and not self.allow_basic_over_http:
            raise self._fail(
                "basic auth over http sends the password in clear; use https, or ntlm with message"
                " encryption (ansible_winrm_transport: ntlm / ansible_psrp_auth: ntlm), or, on a test"
                " network only, set vipctl_allow_basic_over_http: true"
            )
        if self.message_encryption == "always" and self.auth not in _SEALING_AUTHS:
            raise self._fail(
                f"message_encryption 'always' needs ntlm, negotiate, kerberos or credssp, not {self.auth!r}"
            )
        # pypsrp would wrap every message but Basic has no keys; Windows also refuses Basic over
        # HTTP unless AllowUnencrypted is set, which then needs encryption explicitly off.
        basic_over_http = self.connection == "psrp" and self.scheme == "http" and self.auth == "basic"
        if basic_over_http and self.message_encryption != "never":
            raise self._fail(
                "basic auth over http cannot encrypt messages; use https, ntlm/negotiate,"
                " or set ansible_psrp_message_encryption: never (sends the password in clear)"
            )


def coerce_choice(name: str, field_name: str, value: object, choices: tuple[str, ...]) -> str:
    """A lower-cased choice, or a settings error naming the field and the allowed values."""
    text = str(value).strip().lower()
    if text not in choices:
        raise ConnectionSettingsError(name, f"{field_name} {value!r} is not one of {', '.join(choices)}")
    return text


def winrm_auth(name: str, transport: object) -> Auth:
    """Ansible's `ansible_winrm_transport` (a list or comma string; the first entry wins) as an Auth."""
    entries = transport if isinstance(transport, list | tuple) else str(transport).split(",")
    first = str(entries[0]).strip().lower() if entries else ""
    if first not in _WINRM_TRANSPORT_ALIASES:
        raise ConnectionSettingsError(
            name,
            f"ansible_winrm_transport {first!r} is not supported;"
            " use ntlm, kerberos, credssp, basic, ssl or plaintext",
        )
    return cast(Auth, _WINRM_TRANSPORT_ALIASES[first])
