"""The description of one simulated host: what a farm file or a contract vector builds it from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vipctl.sim.model.network import Adapter
from vipctl.sim.model.processes import AppSpec
from vipctl.sim.model.regvalue import RegValue

RDSH_ROLE = "RDS-RD-Server"


@dataclass
class WinRMEndpoint:
    address: str
    username: str
    password: str
    http_port: int = 5985
    https_port: int = 5986
    allow_unencrypted: bool = False
    basic: bool = True
    ntlm: bool = True
    # Kerberos (alone or inside Negotiate) needs the host's HTTP/<spn_host> key in the keytab the
    # simulator is given; CredSSP is off by default, as on Windows.
    kerberos: bool = True
    credssp: bool = False
    # The WinRM service's CbtHardeningLevel for HTTPS: none, relaxed (the Windows default) or strict.
    cbt_hardening_level: str = "relaxed"
    # The host name in the host's service principal names (HTTP/<spn_host>, host/<spn_host>);
    # empty means the inventory name.
    spn_host: str = ""


@dataclass
class UserSpec:
    name: str
    apps: list[AppSpec] = field(default_factory=list)
    admin: bool = False  # an `mstsc /admin` session: never virtualized


@dataclass
class VdaSpec:
    version: str
    controllers: list[str]
    delivery_group: str | None = None


@dataclass
class HostSpec:
    name: str
    image: str
    winrm: WinRMEndpoint
    adapter: Adapter
    groups: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    computer_name: str | None = None
    vip_pool_start: str | None = None
    vip_pool_size: int = 0
    services: list[AppSpec] = field(default_factory=list)
    users: list[UserSpec] = field(default_factory=list)
    citrix_vda: VdaSpec | None = None
    citrix_controller: bool = False
    registry: dict[str, dict[str, RegValue] | None] = field(default_factory=dict)
    tsvip: dict[str, Any] = field(default_factory=dict)
    citrix_policies: list[tuple[str, str | None, str, dict[str, Any]]] = field(default_factory=list)
    reboot_seconds: float = 0.2
    # Names of the domain's GPOs a controller can edit (scope ad_gpo); any other name is not found.
    domain_gpos: list[str] = field(default_factory=list)
    # Writing a domain GPO from a WinRM session is a second hop: without delegated credentials
    # (CredSSP or a forwardable Kerberos ticket) the domain cannot be reached.
    gpo_needs_delegation: bool = True
    language_mode: str = "FullLanguage"
