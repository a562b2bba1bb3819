"""Observed + desired state -> the ordered list of changes, with the safety guards.

The same write descriptions (`rds_policy_writes`, `rds_wmi_properties`, `citrix_policy_spec`,
`prefer_loopback_writes`) feed both this planner and the executor requests in
`vipctl.request_builders`, so what is previewed is what is sent.

Order: IP virtualization -> loopback policy -> PreferLoopback when enabling; the reverse when
disabling, so PreferLoopback is written last and removed first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from vipctl import registry_map
from vipctl.effective import effective_rds, registry_value
from vipctl.hostinfo import classify
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


class PlanError(ValueError):
    """A guard refused the plan; the message is the human reason."""


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

    def typed(self) -> dict[str, Any] | None:
        return {"type": self.type, "value": self.value} if self.state == "present" else None


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


# ---- planning -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Observed:
    """What a host (and, for the policy, its controller) holds before any write."""

    facts: Mapping[str, Any]
    rds_policy_values: Mapping[str, Any] = field(default_factory=dict)
    tsvip: Mapping[str, Any] | None = None
    winsock_fix_key_present: bool = False
    citrix_policy: Mapping[str, Any] | None = None
    # The Citrix loopback setting a VDA received; None = unknown (cache value names UNCONFIRMED).
    citrix_loopback_applied: bool | None = None
    prefer_loopback_values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Desired:
    rds: RdsIpVirtualization | None = None
    loopback: CitrixLoopbackPolicy | None = None
    prefer: PreferLoopback | None = None


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    warnings: tuple[str, ...] = ()

    @property
    def reboot_required(self) -> bool:
        return any(c.reboot_required for c in self.changes)


def _registry_changes(
    feature: str, key: str, observed: Mapping[str, Any], writes: Sequence[RegistryWrite]
) -> list[Change]:
    changes = []
    for write in writes:
        before = observed.get(write.name)
        if before != write.typed():
            changes.append(
                Change(feature, key, write.name, before, write.typed(), feature in RESTART_FEATURES)
            )
    return changes


def _rds_changes(observed: Observed, rds: RdsIpVirtualization, needs_winsock_fix: bool) -> list[Change]:
    changes: list[Change] = []
    role_installed = bool(observed.facts.get("rds_role_installed"))
    if rds.install_role and not role_installed:
        changes.append(Change(FEATURE_RDS, FEATURE_TARGET, RDS_ROLE, "absent", "installed", True))
    if rds.enabled and rds.winsock_fix == "auto" and needs_winsock_fix and observed.winsock_fix_key_present:
        changes.append(
            Change(
                FEATURE_RDS,
                registry_map.WINSOCK_FIX_KEY,
                "(key)",
                registry_map.WINSOCK_FIX_KEY,
                registry_map.WINSOCK_FIX_RENAMED_KEY,
                True,
            )
        )
    changes += _registry_changes(
        FEATURE_RDS, registry_map.RDS_POLICY_KEY, observed.rds_policy_values, rds_policy_writes(rds)
    )
    current = observed.tsvip or {}
    for name, after in rds_wmi_properties(rds).items():
        if current.get(name) != after:
            changes.append(Change(FEATURE_RDS, WMI_TARGET, name, current.get(name), after, True))
    return changes


def _loopback_changes(observed: Observed, policy: CitrixLoopbackPolicy) -> list[Change]:
    target = citrix_policy_target(policy)
    current = observed.citrix_policy
    if policy.state == "absent":
        return [] if current is None else [Change(FEATURE_LOOPBACK, target, "policy", dict(current), None)]
    spec = citrix_policy_spec(policy)
    if current is None:
        return [Change(FEATURE_LOOPBACK, target, "policy", None, spec)]
    changes = []
    # The policy as citrix_policy_get reads it: settings, and up to two halves, each with its own
    # enabled, priority, description and filters
    # (docs/windows-facts.md#citrix-policies-have-two-independent-halves).
    raw_halves = current.get("halves")
    halves = {h: v for h, v in raw_halves.items() if v} if isinstance(raw_halves, Mapping) else {}
    for name in ("enabled", "priority", "description"):
        if name not in spec:
            continue
        for half, state in halves.items():
            # The host clamps a priority to the number of policies in the half, which is not known
            # here: a higher wanted priority is predicted as a change; the host's dry run decides.
            if state.get(name) != spec[name]:
                changes.append(
                    Change(FEATURE_LOOPBACK, target, f"{half}.{name}", state.get(name), spec[name])
                )
    settings = current.get("settings") or {}
    for setting, wanted in spec["settings"].items():
        if settings.get(setting) != wanted:
            changes.append(
                Change(FEATURE_LOOPBACK, target, f"settings.{setting}", settings.get(setting), wanted)
            )
    if "filters" in spec:
        for half, state in halves.items():
            if state.get("filters") != spec["filters"]:
                changes.append(
                    Change(FEATURE_LOOPBACK, target, f"{half}.filters", state.get("filters"), spec["filters"])
                )
    return changes


def prefer_loopback_guard(observed: Observed, desired: Desired) -> list[str]:
    """Refuse PreferLoopback unless both features are, or will be, enabled; returns warnings.

    The Citrix side on a VDA can only be read from its policy cache, whose value names are
    UNCONFIRMED: an explicit "disabled" refuses, an unknown state only warns.
    """
    rds_on = (
        desired.rds.enabled
        if desired.rds
        else effective_rds(observed.rds_policy_values, observed.tsvip)["enabled"].value
    )
    if not rds_on:
        raise PlanError(
            "PreferLoopback needs RD IP Virtualization enabled (Citrix: use it only when both features are "
            "enabled); enable rds_ip_virtualization first, or set force: true"
        )
    if desired.loopback is not None:
        loopback_on: bool | None = desired.loopback.state == "present" and desired.loopback.enabled
    else:
        loopback_on = observed.citrix_loopback_applied
    if loopback_on is False:
        raise PlanError(
            "PreferLoopback needs Citrix virtual loopback enabled (Citrix: use it only when both features "
            "are enabled); enable the loopback policy first, or set force: true"
        )
    if loopback_on is None:
        return [LOOPBACK_UNCONFIRMED_WARNING]
    return []


def plan(observed: Observed, desired: Desired) -> Plan:
    """Ordered changes to reach `desired`; PlanError when a guard refuses."""
    verdict = classify(observed.facts)
    on_session_host = desired.rds is not None or desired.prefer is not None
    if on_session_host and not verdict.supported:
        raise PlanError(verdict.reason)
    warnings = list(verdict.warnings) if on_session_host else []
    by_feature: dict[str, list[Change]] = {}
    if desired.rds is not None:
        if desired.rds.winsock_fix == "skip" and verdict.needs_winsock_fix and desired.rds.enabled:
            warnings.append(
                "winsock_fix is skip on a build that needs it (KB 4501072): virtual IPs may not work"
            )
        by_feature[FEATURE_RDS] = _rds_changes(observed, desired.rds, verdict.needs_winsock_fix)
    if desired.loopback is not None:
        by_feature[FEATURE_LOOPBACK] = _loopback_changes(observed, desired.loopback)
    if desired.prefer is not None:
        if desired.prefer.enabled and not desired.prefer.force:
            warnings += prefer_loopback_guard(observed, desired)
        by_feature[FEATURE_PREFER] = _registry_changes(
            FEATURE_PREFER,
            registry_map.PREFER_LOOPBACK_KEY,
            observed.prefer_loopback_values,
            prefer_loopback_writes(desired.prefer),
        )
    enabling = is_enabling(desired)
    ordered = [change for feature in feature_order(enabling) for change in by_feature.get(feature, [])]
    return Plan(tuple(ordered), tuple(warnings))


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
