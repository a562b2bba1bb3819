"""Inventory hosts -> connection settings, checked before any host is contacted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from vipctl.cli.credentials import Credentials, Redactor, secrets_in
from vipctl.inventory_file import Inventory
from vipctl.transport import ConnectionSettings, ConnectionSettingsError
from vipctl.transport.ansible_vars import settings_from_ansible_vars

CONTROLLERS: Final = "citrix_controllers"
RDSH: Final = "rdsh"
VDAS: Final = "citrix_vdas"


@dataclass(frozen=True)
class Target:
    name: str
    groups: tuple[str, ...]
    settings: ConnectionSettings

    @property
    def is_controller(self) -> bool:
        return CONTROLLERS in self.groups

    @property
    def is_session_host(self) -> bool:
        """What the playbooks target as `rdsh:citrix_vdas:!citrix_controllers`; ungrouped hosts count."""
        return not self.is_controller


TICKET_AUTHS = ("kerberos", "negotiate")


def build_targets(
    inventory: Inventory, hosts: list[str], credentials: Credentials, redactor: Redactor
) -> list[Target]:
    """Raises ConnectionSettingsError naming the host and the variable to fix."""
    targets = []
    for name in hosts:
        host_vars = credentials.apply(inventory.hosts[name])
        redactor.add(*secrets_in(host_vars))
        settings = settings_from_ansible_vars(name, host_vars, default_connection="winrm")
        # Kerberos and Negotiate may use the ticket from kinit instead of a password.
        ticket_ok = settings.auth in TICKET_AUTHS
        if settings.password is None and not ticket_ok:
            raise ConnectionSettingsError(
                name,
                "no user name or password; set ansible_user/ansible_password, VIPCTL_USER/VIPCTL_PASSWORD"
                " or use --ask-pass (or, for kerberos/negotiate, get a ticket with kinit)",
            )
        if settings.username is None and not ticket_ok:
            raise ConnectionSettingsError(name, "no user name; set ansible_user or VIPCTL_USER")
        targets.append(Target(name, tuple(inventory.groups_of(name)), settings))
    return targets
