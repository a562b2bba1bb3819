"""What each desired state writes, the order of the features, and the shape of a change.

The host computes what changes (each write op compares before it writes and reports `changes`,
in check mode too), so there is no planner on the controller: a preview is the same request in
check mode. The write descriptions (`rds_policy_writes`, `rds_wmi_properties`,
`citrix_policy_spec`, `prefer_loopback_writes`) feed the executor requests in
`vipctl.request_builders`.

Order: IP virtualization -> loopback policy -> PreferLoopback when enabling; the reverse when
disabling, so PreferLoopback is written last and removed first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from vipctl import registry_map
from vipctl.rds_in_effect import registry_value
from vipctl.settings import CitrixLoopbackPolicy, PreferLoopback, RdsIpVirtualization

FEATURE_RDS: Final = "rds_ip_virtualization"
FEATURE_LOOPBACK: Final = "citrix_virtual_loopback"
FEATURE_PREFER: Final = "citrix_prefer_loopback"
ENABLE_ORDER: Final = (FEATURE_RDS, FEATURE_LOOPBACK, FEATURE_PREFER)

RDS_ROLE: Final = "RDS-RD-Server"
WMI_TARGET: Final = r"WMI root\CIMv2\TerminalServices\Win32_TSVirtualIP"
FEATURE_TARGET: Final = "Windows feature"
# Features whose every setting is read when Windows starts, so any change to them takes effect only
# after a restart (docs/windows-facts.md#rd-ip-virtualization-changes-need-a-restart).
RESTART_FEATURES: Final = frozenset({FEATURE_RDS})


LOOPBACK_UNCONFIRMED_WARNING: Final = (
    "could not confirm that Citrix virtual loopback is enabled on this VDA (its policy cache value "
    "names are UNCONFIRMED); check the bindings with vip_bindings"
)


# A Citrix policy with no filter applies to every VDA of the site, the unsupported ones too.
UNSUPPORTED_POLICY_WARNING: Final = (
    "a Citrix virtual loopback policy reaches this unsupported host: the site-wide policy has no "
    "filter; add a filter (for example DesktopGroup) so it applies only to supported VDAs"
)


@dataclass(frozen=True)
class Change:
    feature: str
    target: str
    name: str
    before: Any
    after: Any
    reboot_required: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "target": self.target,
            "name": self.name,
            "before": self.before,
            "after": self.after,
            "reboot_required": self.reboot_required,
        }


@dataclass(frozen=True)
class RegistryWrite:
    name: str
    state: str
    type: str
    value: Any = None

    def to_protocol(self) -> dict[str, Any]:
        item: dict[str, Any] = {"name": self.name, "state": self.state, "type": self.type}
        if self.state == "present":
            item["value"] = self.value
        return item


def feature_order(enabling: bool) -> tuple[str, ...]:
    return ENABLE_ORDER if enabling else tuple(reversed(ENABLE_ORDER))


def citrix_policy_target(policy: CitrixLoopbackPolicy) -> str:
    where = policy.location.gpo if policy.location.scope == "ad_gpo" else "site"
    return f"Citrix policy {policy.location.policy_name!r} ({where})"


# ---- what each desired state writes ---------------------------------------------------------


def _present(value: registry_map.RegistryValue, data: Any) -> RegistryWrite:
    return RegistryWrite(value.name, "present", value.type, data)


def rds_policy_writes(rds: RdsIpVirtualization) -> list[RegistryWrite]:
    """Policy-key values for method `policy`; disabling writes only EnableVirtualIP = 0, as the ADMX does."""
    if rds.method != "policy":
        return []
    if not rds.enabled:
        return [_present(registry_map.ENABLE_VIRTUAL_IP, 0)]
    writes = [
        _present(registry_map.ENABLE_VIRTUAL_IP, 1),
        _present(registry_map.VIRTUAL_MODE, 1 if rds.mode == "per_program" else 0),
    ]
    if rds.mode == "per_program":
        writes.append(_present(registry_map.PER_APP, list(rds.programs)))
    if rds.adapter is not None:
        writes.append(_present(registry_map.VIP_ADAPTER, rds.adapter))
    if rds.fallback_to_server_ip is not None:
        writes.append(_present(registry_map.PROMPT_ON_IP_LEASE_FAIL, 0 if rds.fallback_to_server_ip else 1))
    return writes


def rds_wmi_properties(rds: RdsIpVirtualization) -> dict[str, Any]:
    """Win32_TSVirtualIP properties to set: all settings with method `wmi`, loopback virtualization always."""
    props: dict[str, Any] = {}
    if rds.method == "wmi":
        props["VirtualIPActive"] = 1 if rds.enabled else 0
        if rds.enabled:
            props["VirtualIPMode"] = 1 if rds.mode == "per_program" else 0
            if rds.mode == "per_program":
                props["ProgramList"] = list(rds.programs)
            if rds.adapter is not None:
                props["NetworkAdapterMacAddress"] = rds.adapter
    # Loopback virtualization has no policy value: WMI is the only supported way to set it.
    if rds.virtualize_loopback is not None:
        props["VirtualizeLoopbackAddressesEnabled"] = 1 if rds.virtualize_loopback else 0
    return props


def citrix_policy_spec(policy: CitrixLoopbackPolicy) -> dict[str, Any]:
    """The `policy` argument of citrix_policy_set; only listed fields are compared and written."""
    spec: dict[str, Any] = {
        "enabled": policy.enabled,
        "settings": {
            registry_map.CITRIX_SETTING_LOOPBACK_SUPPORT: {"State": "Enabled"},
            registry_map.CITRIX_SETTING_LOOPBACK_PROGRAMS: {
                "State": "Enabled",
                "Values": list(policy.programs),
            },
        },
    }
    if policy.priority is not None:
        spec["priority"] = policy.priority
    if policy.description is not None:
        spec["description"] = policy.description
    if policy.filters is not None:
        spec["filters"] = [f.to_protocol() for f in policy.filters]
    return spec


def prefer_loopback_writes(prefer: PreferLoopback) -> list[RegistryWrite]:
    if not prefer.enabled:
        return [RegistryWrite(v.name, "absent", v.type) for v in registry_map.PREFER_LOOPBACK_VALUES]
    return [
        _present(registry_map.PREFER_LOOPBACK, 1),
        _present(registry_map.PREFER_LOOPBACK_PROCESSES, list(prefer.processes)),
    ]


# ---- order ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Desired:
    rds: RdsIpVirtualization | None = None
    loopback: CitrixLoopbackPolicy | None = None
    prefer: PreferLoopback | None = None


def is_enabling(desired: Desired) -> bool:
    """Turning anything off reverses the order, so PreferLoopback goes first."""
    turning_off = (
        (desired.rds is not None and not desired.rds.enabled)
        or (desired.loopback is not None and desired.loopback.state == "absent")
        or (desired.prefer is not None and not desired.prefer.enabled)
    )
    return not turning_off


def observed_loopback_applied(values: Mapping[str, Any]) -> bool | None:
    """Read the VDA's cached Citrix loopback support (value names UNCONFIRMED); None when absent."""
    raw = registry_value(values, registry_map.CITRIX_APPLIED_LOOPBACK_SUPPORT.name)
    return None if raw is None else raw == 1
