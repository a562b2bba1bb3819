"""Desired state of each feature, parsed from module parameters with clear errors."""

from vipctl.settings.backup_root import parse_backup_root
from vipctl.settings.citrix_prefer_loopback import PreferLoopback, parse_prefer_loopback
from vipctl.settings.citrix_virtual_loopback import (
    DEFAULT_POLICY_NAME,
    CitrixLoopbackPolicy,
    PolicyFilter,
    PolicyLocation,
    parse_citrix_loopback_policy,
)
from vipctl.settings.errors import SettingsError
from vipctl.settings.names import parse_exe_name, parse_exe_names
from vipctl.settings.network import parse_adapter_cidr, parse_mac
from vipctl.settings.rds_ip_virtualization import RdsIpVirtualization, parse_rds_ip_virtualization
from vipctl.settings.vip_status import StatusQuery, parse_status_query

__all__ = [
    "DEFAULT_POLICY_NAME",
    "CitrixLoopbackPolicy",
    "PolicyFilter",
    "PolicyLocation",
    "PreferLoopback",
    "RdsIpVirtualization",
    "SettingsError",
    "StatusQuery",
    "parse_adapter_cidr",
    "parse_backup_root",
    "parse_citrix_loopback_policy",
    "parse_exe_name",
    "parse_exe_names",
    "parse_mac",
    "parse_prefer_loopback",
    "parse_rds_ip_virtualization",
    "parse_status_query",
]
