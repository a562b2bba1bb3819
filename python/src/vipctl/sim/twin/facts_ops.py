"""host_facts and feature_install."""

from __future__ import annotations

from typing import Any

from vipctl import registry_map
from vipctl.sim.model.errors import NotAvailable, NotFound
from vipctl.sim.model.hostspec import RDSH_ROLE
from vipctl.sim.twin.args import require_str
from vipctl.sim.twin.context import OpContext, Outcome

# Features Install-WindowsFeature knows in the simulator; any other name fails as on Windows.
KNOWN_FEATURES = frozenset(
    {RDSH_ROLE, "RDS-Licensing", "RSAT-RDS-Tools", "Web-Server", "NET-Framework-45-Core"}
)


# Where Windows records a restart it waits for (docs/windows-facts.md#pending-restart-markers).
REBOOT_PENDING_KEYS = (
    r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending",
    r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired",
)
SESSION_MANAGER_KEY = r"HKLM\SYSTEM\CurrentControlSet\Control\Session Manager"
PENDING_FILE_RENAMES = "PendingFileRenameOperations"


def _pending_reboot(ctx: OpContext) -> bool:
    """As the executor's Test-PendingReboot reads it, plus a role install the model keeps itself."""
    registry = ctx.host.registry
    if ctx.host.pending_roles or any(registry.exists(key) for key in REBOOT_PENDING_KEYS):
        return True
    return registry.get_value(SESSION_MANAGER_KEY, PENDING_FILE_RENAMES) is not None


def _reg_str(ctx: OpContext, path: str, name: str) -> str | None:
    value = ctx.host.registry.get_value(path, name)
    return None if value is None else str(value.data)


def op_host_facts(ctx: OpContext, args: dict[str, Any]) -> Outcome:
    host = ctx.host
    cv = registry_map.OS_VERSION_KEY
    build = _reg_str(ctx, cv, "CurrentBuildNumber")
    ddcs = _reg_str(ctx, registry_map.CITRIX_VDA_KEY, "ListOfDDCs")
    vda = host.spec.citrix_vda
    data = {
        "computer_name": host.computer_name,
        "product_name": _reg_str(ctx, cv, "ProductName"),
        "edition_id": _reg_str(ctx, cv, "EditionID"),
        "installation_type": _reg_str(ctx, cv, "InstallationType"),
        "current_build": build,
        "build_number": host.image.build,
        "product_type": host.image.product_type,
        "sku": host.image.sku,
        "ip_addresses": [host.adapter.ip],
        "rds_role_installed": RDSH_ROLE in host.roles or RDSH_ROLE in host.pending_roles,
        # Windows records a pending restart for a role install, not for a changed TSVIP setting.
        "pending_reboot": _pending_reboot(ctx),
        "citrix_vda": {
            "installed": vda is not None,
            "version": None if vda is None else vda.version,
            "list_of_ddcs": [] if ddcs is None else ddcs.split(),
        },
        "citrix_controller": {"installed": host.citrix_store is not None},
    }
    return False, data


def op_feature_install(ctx: OpContext, args: dict[str, Any]) -> Outcome:
    name = require_str(args, "name")
    host = ctx.host
    if not host.image.server_roles:
        raise NotAvailable("Install-WindowsFeature is not available: this is a client operating system")
    known = {f.lower(): f for f in KNOWN_FEATURES}
    if name.lower() not in known:
        raise NotFound(f"Windows feature not found: {name}")
    feature = known[name.lower()]
    if feature in host.roles or feature in host.pending_roles:
        # Get-WindowsFeature says Installed as soon as the install ran, restart or not.
        return False, {"name": name, "state": "already", "reboot_required": False}
    if ctx.writing:
        host.pending_roles.add(feature)
    return True, {"name": name, "state": "installed", "reboot_required": True}
