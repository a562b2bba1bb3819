"""Every registry location vipctl reads or writes, in one table (docs/windows-facts.md).

No other module spells a registry path: the planner, the simulator and the reports all import
from here. Entries marked UNCONFIRMED are assumptions without a primary source; they are kept
here so one edit changes them everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# RD IP Virtualization, group policy store (ADMX TerminalServer-Server.admx).
RDS_POLICY_KEY: Final = r"HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services\TSAppSrv\VirtualIP"
# RD IP Virtualization, local store behind WMI Win32_TSVirtualIP. Written only through WMI.
RDS_LOCAL_KEY: Final = r"HKLM\SYSTEM\CurrentControlSet\Control\Terminal Server\TSAppSrv\VirtualIP"
# Winsock LSP catalog entry that breaks RD IP Virtualization on Server 2019/2022 (KB 4501072).
WINSOCK_FIX_PARENT: Final = r"HKLM\SYSTEM\CurrentControlSet\Services\WinSock2\Parameters\AppId_Catalog"
WINSOCK_FIX_KEY_NAME: Final = "2C69D9F1"
WINSOCK_FIX_KEY: Final = WINSOCK_FIX_PARENT + "\\" + WINSOCK_FIX_KEY_NAME
# What identifies the entry KB 4501072 means; any other entry under that name is left alone.
WINSOCK_FIX_APP_FULL_PATHS: Final = (r"C:\Windows\System32\svchost.exe", r"C:\Windows\system32\svchost.exe")
WINSOCK_FIX_LSP_CATEGORIES: Final = 0x40000000
# The fix renames rather than deletes, as KB 4501072 itself prescribes (it renames the key in place
# and notes that deleting it has the same effect); the rename keeps the entry restorable
# (docs/windows-facts.md#kb-4501072-renames-the-winsock-catalog-entry-2c69d9f1).
WINSOCK_FIX_RENAMED_NAME: Final = WINSOCK_FIX_KEY_NAME + ".vipctl-disabled"
WINSOCK_FIX_RENAMED_KEY: Final = WINSOCK_FIX_PARENT + "\\" + WINSOCK_FIX_RENAMED_NAME
# Citrix preferred loopback (the Citrix "Virtual IP and virtual loopback" page).
PREFER_LOOPBACK_KEY: Final = r"HKLM\SOFTWARE\Wow6432Node\Citrix\VIP"
# Host detection.
OS_VERSION_KEY: Final = r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion"
CITRIX_VDA_KEY: Final = r"HKLM\SOFTWARE\Citrix\VirtualDesktopAgent"
# Where a VDA caches the Citrix policy it received. The value names below are UNCONFIRMED
# (docs/windows-facts.md#what-a-vda-caches-from-citrix-policy): the behavioural check in
# vip_bindings is the dependable one.
CITRIX_APPLIED_VIP_KEY: Final = r"HKLM\SOFTWARE\Policies\Citrix\VirtualIP"


@dataclass(frozen=True)
class RegistryValue:
    key: str
    name: str
    type: str
    meaning: str
    confirmed: bool = True


ENABLE_VIRTUAL_IP: Final = RegistryValue(RDS_POLICY_KEY, "EnableVirtualIP", "REG_DWORD", "1 on, 0 off")
VIRTUAL_MODE: Final = RegistryValue(
    RDS_POLICY_KEY, "VirtualMode", "REG_DWORD", "0 per session, 1 per program (absent -> 1)"
)
PER_APP: Final = RegistryValue(RDS_POLICY_KEY, "PerApp", "REG_MULTI_SZ", "exe names for per-program mode")
VIP_ADAPTER: Final = RegistryValue(RDS_POLICY_KEY, "VIPAdapter", "REG_SZ", "CIDR picking the adapter")
PROMPT_ON_IP_LEASE_FAIL: Final = RegistryValue(
    RDS_POLICY_KEY, "PromptOnIPLeaseFail", "REG_DWORD", "1 = no fallback to the server IP"
)
PREFER_LOOPBACK: Final = RegistryValue(
    PREFER_LOOPBACK_KEY, "PreferLoopback", "REG_DWORD", "1 = loopback wins"
)
PREFER_LOOPBACK_PROCESSES: Final = RegistryValue(
    PREFER_LOOPBACK_KEY, "PreferLoopbackProcesses", "REG_MULTI_SZ", "exe names loopback wins for"
)
# Microsoft loopback virtualization in the local store (spelled "Adresses" by Windows).
VIRTUALIZE_LOOPBACK_LOCAL: Final = RegistryValue(
    RDS_LOCAL_KEY, "VirtualizeLoopbackAdresses", "REG_DWORD", "1 = 127.0.0.1 -> 127.0.0.(N+1)"
)
CITRIX_APPLIED_LOOPBACK_SUPPORT: Final = RegistryValue(
    CITRIX_APPLIED_VIP_KEY, "VirtualLoopbackSupport", "REG_DWORD", "1 = virtual loopback enabled", False
)
CITRIX_APPLIED_LOOPBACK_PROGRAMS: Final = RegistryValue(
    CITRIX_APPLIED_VIP_KEY, "VirtualLoopbackPrograms", "REG_MULTI_SZ", "listed exe names", False
)

RDS_POLICY_VALUES: Final = (ENABLE_VIRTUAL_IP, VIRTUAL_MODE, PER_APP, VIP_ADAPTER, PROMPT_ON_IP_LEASE_FAIL)
PREFER_LOOPBACK_VALUES: Final = (PREFER_LOOPBACK, PREFER_LOOPBACK_PROCESSES)

# Citrix policy settings (Studio category "Virtual IP"); the category path is resolved at run time.
CITRIX_SETTING_LOOPBACK_SUPPORT: Final = "VirtualLoopbackSupport"
CITRIX_SETTING_LOOPBACK_PROGRAMS: Final = "VirtualLoopbackPrograms"


@dataclass(frozen=True)
class ManagedKey:
    """A key vipctl writes, and `floor`: the highest ancestor a restore may delete.

    Backing up a key that does not exist saves the deletion of its topmost missing ancestor (the
    write creates every missing level), so a restore may delete up to the first level below
    HKLM\\SOFTWARE that vipctl's write can have created, and nothing above it."""

    key: str
    floor: str

    def to_protocol(self) -> dict[str, str]:
        return {"key": self.key, "floor": self.floor}


# The only keys a registry_restore may write or delete: a `.reg` file naming any other key is
# refused on the host before `reg import` runs (executor op registry_restore, `managed_keys`).
MANAGED_KEYS: Final = (
    ManagedKey(RDS_POLICY_KEY, r"HKLM\SOFTWARE\Policies"),
    ManagedKey(PREFER_LOOPBACK_KEY, r"HKLM\SOFTWARE\Wow6432Node"),
    ManagedKey(WINSOCK_FIX_KEY, WINSOCK_FIX_KEY),
    ManagedKey(WINSOCK_FIX_RENAMED_KEY, WINSOCK_FIX_RENAMED_KEY),
)

# Where backups go on the host; each module call gets its own time-stamped folder below it.
# vipctl's own record of a restart its changes need (executor part 85_restart.ps1): values Reasons
# (REG_MULTI_SZ) and SetUtc (REG_SZ, round-trip format); pending while SetUtc is after the boot time.
RESTART_MARKER_KEY: Final = r"HKLM\SOFTWARE\vipctl\RestartPending"
DEFAULT_BACKUP_ROOT: Final = r"C:\ProgramData\vipctl\backups"
