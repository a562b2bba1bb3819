"""The one executor request per module: all reads, the host-side guards and idempotent writes.

Writes are desired-state ops (registry_set, tsvip_set, citrix_policy_set, registry_rename_key,
feature_install): the host compares and changes only what differs, so rerunning converges and
`changed` comes from the host. Guards are `require` ops placed before the first write, so an
unsupported host refuses inside the same round trip.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from vipctl import registry_map, restart
from vipctl.executor.codec import build_request
from vipctl.host_support import support_conditions, winsock_fix_conditions
from vipctl.plan import (
    FEATURE_LOOPBACK,
    FEATURE_PREFER,
    FEATURE_RDS,
    FEATURE_TARGET,
    RDS_ROLE,
    WMI_TARGET,
    citrix_policy_spec,
    citrix_policy_target,
    prefer_loopback_writes,
    rds_policy_writes,
    rds_wmi_properties,
)
from vipctl.settings import CitrixLoopbackPolicy, PreferLoopback, RdsIpVirtualization, StatusQuery

# Op ids, shared with the tasks that read the response.
FACTS: Final = "facts"
SUPPORTED: Final = "supported"
IS_CONTROLLER: Final = "is_controller"
RDS_POLICY: Final = "rds_policy"
TSVIP: Final = "tsvip"
WINSOCK_KEY: Final = "winsock_key"
WINSOCK_RENAMED: Final = "winsock_renamed"
PREFER: Final = "prefer_loopback"
CITRIX_APPLIED: Final = "citrix_applied"
CITRIX_POLICY: Final = "citrix_policy"
SESSIONS: Final = "sessions"
GUARD_RDS_POLICY: Final = "guard_rds_not_off_by_policy"
GUARD_RDS_LOCAL: Final = "guard_rds_on_locally"
GUARD_LOOPBACK: Final = "guard_loopback_not_off"
ADAPTER_MATCH: Final = "adapter_match"
GUARD_ADAPTER: Final = "guard_adapter_matches_an_address"
WRITE_ROLE: Final = "write_install_role"
WRITE_WINSOCK: Final = "write_winsock_fix"
WRITE_RDS_POLICY: Final = "write_rds_policy"
WRITE_TSVIP: Final = "write_tsvip"
WRITE_CITRIX: Final = "write_citrix_policy"
WRITE_PREFER: Final = "write_prefer_loopback"

# Why a write leaves a restart pending (restart.mark_ops): RD IP Virtualization, its Winsock fix and
# a role install take effect only after a restart
# (docs/windows-facts.md#rd-ip-virtualization-changes-need-a-restart).
RESTART_REASONS: Final = {
    WRITE_ROLE: "the RD Session Host role was installed",
    WRITE_WINSOCK: "the Winsock catalog entry of KB 4501072 was renamed",
    WRITE_RDS_POLICY: "RD IP Virtualization policy values changed",
    WRITE_TSVIP: "RD IP Virtualization WMI settings changed",
}

UNSUPPORTED_MESSAGE: Final = "unsupported OS: vipctl changes only Windows Server 2016, 2019, 2022 and 2025"
NOT_CONTROLLER_MESSAGE: Final = (
    "not a Citrix Delivery Controller: the Citrix.Common.GroupPolicy snap-in is not registered; "
    "run this module on a controller (inventory group citrix_controllers)"
)
RDS_OFF_BY_POLICY_MESSAGE: Final = (
    "PreferLoopback needs RD IP Virtualization enabled, but group policy sets EnableVirtualIP = 0; "
    "enable it first (rds_ip_virtualization), or set force: true"
)
RDS_OFF_LOCALLY_MESSAGE: Final = (
    "PreferLoopback needs RD IP Virtualization enabled, but it is off on this host; "
    "enable it first (rds_ip_virtualization), or set force: true"
)
LOOPBACK_OFF_MESSAGE: Final = (
    "PreferLoopback needs Citrix virtual loopback enabled, but this VDA's policy has it disabled; "
    "enable the loopback policy first (citrix_virtual_loopback), or set force: true"
)


@dataclass(frozen=True)
class WriteSpec:
    """A write op in a request, with what it changes, for turning its result into Changes."""

    op_id: str
    feature: str
    target: str


@dataclass(frozen=True)
class BuiltRequest:
    request: dict[str, Any]
    writes: tuple[WriteSpec, ...] = ()


# Microseconds in the stamp: one site.yml run writes several sets on a host within a second, and
# rollback restores them newest first by this name, so the order must survive a same-second run.
BACKUP_STAMP_FORMAT: Final = "%Y%m%dT%H%M%S%fZ"


def backup_dir_for(module: str, now: datetime) -> str:
    stamp = now.astimezone(UTC).strftime(BACKUP_STAMP_FORMAT)
    return f"{registry_map.DEFAULT_BACKUP_ROOT}\\{stamp}-{module}"


def new_request(ops: list[dict[str, Any]], *, check: bool, backup_dir: str | None) -> dict[str, Any]:
    """A request checked against the protocol (`codec.build_request`): bad input is refused with
    a `RequestError` naming the field, before any host is contacted."""
    return build_request(ops, check=check, backup_dir=backup_dir)


def _op(op: str, op_id: str, **args: Any) -> dict[str, Any]:
    return {"op": op, "id": op_id, **args}


def _cond(ref: str, path: list[str], test: str, values: list[Any]) -> dict[str, Any]:
    return {"ref": ref, "path": ["data", *path], test: values}


def _facts_and_support() -> list[dict[str, Any]]:
    return [
        _op("host_facts", FACTS),
        _op("require", SUPPORTED, conditions=support_conditions(FACTS), message=UNSUPPORTED_MESSAGE),
    ]


def _registry_get(op_id: str, path: str, names: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    op = _op("registry_get", op_id, path=path, **extra)
    if names is not None:
        op["names"] = names
    return op


def _rds_policy_get() -> dict[str, Any]:
    return _registry_get(
        RDS_POLICY, registry_map.RDS_POLICY_KEY, [v.name for v in registry_map.RDS_POLICY_VALUES]
    )


def _prefer_get() -> dict[str, Any]:
    return _registry_get(
        PREFER, registry_map.PREFER_LOOPBACK_KEY, [v.name for v in registry_map.PREFER_LOOPBACK_VALUES]
    )


def rds_request(rds: RdsIpVirtualization, *, check: bool, backup_dir: str) -> BuiltRequest:
    ops = [
        *_facts_and_support(),
        _rds_policy_get(),
        _op("tsvip_get", TSVIP),
        _registry_get(WINSOCK_KEY, registry_map.WINSOCK_FIX_KEY, ["AppFullPath", "PermittedLspCategories"]),
        # Read so that turning the feature off while PreferLoopback is still set can be called out.
        _prefer_get(),
        restart.state_op(),
    ]
    writes: list[WriteSpec] = []
    if rds.enabled and rds.method == "policy" and rds.adapter is not None:
        # VIPAdapter picks the adapter whose address lies in the CIDR: one that matches none would
        # leave the feature on with no adapter, so refuse before the first write.
        ops += [
            _op("address_match", ADAPTER_MATCH, cidr=rds.adapter),
            _op(
                "require",
                GUARD_ADAPTER,
                conditions=[_cond(ADAPTER_MATCH, ["matched"], "in", [True])],
                message=(
                    f"adapter {rds.adapter} matches no IPv4 address of this host, so RD IP Virtualization "
                    "would select no adapter; give the CIDR of the network of the adapter the sessions' "
                    "addresses come from (vip_status shows the host's addresses)"
                ),
            ),
        ]
    if rds.install_role:
        ops.append(_op("feature_install", WRITE_ROLE, name=RDS_ROLE))
        writes.append(WriteSpec(WRITE_ROLE, FEATURE_RDS, FEATURE_TARGET))
    if rds.enabled and rds.winsock_fix == "auto":
        # Renamed, not deleted, so rollback restores it; skipped when already renamed or never there.
        when = [
            *winsock_fix_conditions(FACTS),
            _cond(WINSOCK_KEY, ["exists"], "in", [True]),
            _cond(
                WINSOCK_KEY,
                ["values", "AppFullPath", "value"],
                "in",
                list(registry_map.WINSOCK_FIX_APP_FULL_PATHS),
            ),
            _cond(
                WINSOCK_KEY,
                ["values", "PermittedLspCategories", "value"],
                "in",
                [registry_map.WINSOCK_FIX_LSP_CATEGORIES],
            ),
        ]
        ops.append(
            _op(
                "registry_rename_key",
                WRITE_WINSOCK,
                path=registry_map.WINSOCK_FIX_KEY,
                new_name=registry_map.WINSOCK_FIX_RENAMED_NAME,
                when=when,
            )
        )
        writes.append(WriteSpec(WRITE_WINSOCK, FEATURE_RDS, registry_map.WINSOCK_FIX_KEY))
    policy_values = rds_policy_writes(rds)
    if policy_values:
        ops.append(
            _op(
                "registry_set",
                WRITE_RDS_POLICY,
                path=registry_map.RDS_POLICY_KEY,
                values=[v.to_protocol() for v in policy_values],
            )
        )
        writes.append(WriteSpec(WRITE_RDS_POLICY, FEATURE_RDS, registry_map.RDS_POLICY_KEY))
    wmi = rds_wmi_properties(rds)
    if wmi:
        op = _op("tsvip_set", WRITE_TSVIP, properties=wmi)
        if rds.install_role:
            # WMI appears only once the role runs (after its restart); the task warns to rerun then.
            op["when"] = [_cond(FACTS, ["rds_role_installed"], "in", [True])]
        ops.append(op)
        writes.append(WriteSpec(WRITE_TSVIP, FEATURE_RDS, WMI_TARGET))
    ops += restart.mark_ops([(w.op_id, RESTART_REASONS[w.op_id]) for w in writes])
    return BuiltRequest(new_request(ops, check=check, backup_dir=backup_dir), tuple(writes))


def citrix_loopback_request(policy: CitrixLoopbackPolicy, *, check: bool, backup_dir: str) -> BuiltRequest:
    address = policy.location.to_protocol()
    controller_condition = [_cond(FACTS, ["citrix_controller", "installed"], "in", [True])]
    set_args: dict[str, Any] = {**address, "state": policy.state}
    if policy.state == "present":
        set_args["policy"] = citrix_policy_spec(policy)
    ops = [
        _op("host_facts", FACTS),
        _op("require", IS_CONTROLLER, conditions=controller_condition, message=NOT_CONTROLLER_MESSAGE),
        _op("citrix_policy_get", CITRIX_POLICY, **address),
        _op("citrix_policy_set", WRITE_CITRIX, **set_args),
    ]
    writes = (WriteSpec(WRITE_CITRIX, FEATURE_LOOPBACK, citrix_policy_target(policy)),)
    return BuiltRequest(new_request(ops, check=check, backup_dir=backup_dir), writes)


def prefer_loopback_request(
    prefer: PreferLoopback, *, check: bool, backup_dir: str, assume_enabled: frozenset[str] = frozenset()
) -> BuiltRequest:
    """`assume_enabled` (check mode only): features an earlier task of the same run would enable,
    whose guards are left to the real run instead of refusing on the state before that task."""
    ops = [
        *_facts_and_support(),
        _rds_policy_get(),
        _op("tsvip_get", TSVIP),
        _registry_get(CITRIX_APPLIED, registry_map.CITRIX_APPLIED_VIP_KEY),
        _prefer_get(),
    ]
    if prefer.enabled and not prefer.force and FEATURE_RDS not in assume_enabled:
        policy_enable = ["values", registry_map.ENABLE_VIRTUAL_IP.name, "value"]
        ops += [
            # Policy wins per value: if it sets EnableVirtualIP it must be 1; if absent, WMI must say active.
            _op(
                "require",
                GUARD_RDS_POLICY,
                conditions=[_cond(RDS_POLICY, policy_enable, "in", [1, None])],
                message=RDS_OFF_BY_POLICY_MESSAGE,
            ),
            _op(
                "require",
                GUARD_RDS_LOCAL,
                when=[_cond(RDS_POLICY, policy_enable, "in", [None])],
                conditions=[_cond(TSVIP, ["properties", "VirtualIPActive"], "in", [1])],
                message=RDS_OFF_LOCALLY_MESSAGE,
            ),
        ]
    if prefer.enabled and not prefer.force and FEATURE_LOOPBACK not in assume_enabled:
        support = ["values", registry_map.CITRIX_APPLIED_LOOPBACK_SUPPORT.name, "value"]
        ops += [
            # The VDA cache value names are UNCONFIRMED: refuse only an explicit 0, warn when absent.
            _op(
                "require",
                GUARD_LOOPBACK,
                conditions=[_cond(CITRIX_APPLIED, support, "not_in", [0])],
                message=LOOPBACK_OFF_MESSAGE,
            ),
        ]
    ops.append(
        _op(
            "registry_set",
            WRITE_PREFER,
            path=registry_map.PREFER_LOOPBACK_KEY,
            values=[w.to_protocol() for w in prefer_loopback_writes(prefer)],
        )
    )
    writes = (WriteSpec(WRITE_PREFER, FEATURE_PREFER, registry_map.PREFER_LOOPBACK_KEY),)
    return BuiltRequest(new_request(ops, check=check, backup_dir=backup_dir), writes)


def status_request(query: StatusQuery) -> BuiltRequest:
    """Reads only; Citrix reads run only where the host has the VDA or the controller snap-in."""
    on_vda = [_cond(FACTS, ["citrix_vda", "installed"], "in", [True])]
    on_controller = [_cond(FACTS, ["citrix_controller", "installed"], "in", [True])]
    ops = [
        _op("host_facts", FACTS),
        _rds_policy_get(),
        _op("tsvip_get", TSVIP),
        _registry_get(WINSOCK_KEY, registry_map.WINSOCK_FIX_KEY, []),
        _registry_get(WINSOCK_RENAMED, registry_map.WINSOCK_FIX_RENAMED_KEY, []),
        _prefer_get(),
        _registry_get(CITRIX_APPLIED, registry_map.CITRIX_APPLIED_VIP_KEY, when=on_vda),
        _op("citrix_policy_get", CITRIX_POLICY, when=on_controller, **query.location.to_protocol()),
        _op("sessions", SESSIONS),
        restart.state_op(),
    ]
    return BuiltRequest(new_request(ops, check=True, backup_dir=None))
