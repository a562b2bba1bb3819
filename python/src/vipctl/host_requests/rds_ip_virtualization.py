"""The rds_ip_virtualization request: what each desired state writes (policy key values, WMI
properties, the Winsock fix, the role) and the one request that reads, guards and writes."""

from __future__ import annotations

from typing import Any

from vipctl import registry_map, restart
from vipctl.changes import FEATURE_RDS
from vipctl.host_requests.common import (
    FACTS,
    FEATURE_TARGET,
    RDS_ROLE,
    TSVIP,
    WINSOCK_KEY,
    WMI_TARGET,
    WRITE_RDS_POLICY,
    WRITE_ROLE,
    WRITE_TSVIP,
    WRITE_WINSOCK,
    BuiltRequest,
    RegistryWrite,
    WriteSpec,
    cond,
    facts_and_support,
    new_op,
    new_request,
    prefer_get,
    present_value,
    rds_policy_get,
    registry_get,
)
from vipctl.host_support import winsock_fix_conditions
from vipctl.settings import RdsIpVirtualization

ADAPTER_MATCH = "adapter_match"
GUARD_ADAPTER = "guard_adapter_matches_an_address"

# Why a write leaves a restart pending (restart.mark_ops): RD IP Virtualization, its Winsock fix and
# a role install take effect only after a restart
# (docs/windows-facts.md#rd-ip-virtualization-changes-need-a-restart).
RESTART_REASONS = {
    WRITE_ROLE: "the RD Session Host role was installed",
    WRITE_WINSOCK: "the Winsock catalog entry of KB 4501072 was renamed",
    WRITE_RDS_POLICY: "RD IP Virtualization policy values changed",
    WRITE_TSVIP: "RD IP Virtualization WMI settings changed",
}


def rds_policy_writes(rds: RdsIpVirtualization) -> list[RegistryWrite]:
    """Policy-key values for method `policy`; disabling writes only EnableVirtualIP = 0, as the ADMX does."""
    if rds.method != "policy":
        return []
    if not rds.enabled:
        return [present_value(registry_map.ENABLE_VIRTUAL_IP, 0)]
    writes = [
        present_value(registry_map.ENABLE_VIRTUAL_IP, 1),
        present_value(registry_map.VIRTUAL_MODE, 1 if rds.mode == "per_program" else 0),
    ]
    if rds.mode == "per_program":
        writes.append(present_value(registry_map.PER_APP, list(rds.programs)))
    if rds.adapter is not None:
        writes.append(present_value(registry_map.VIP_ADAPTER, rds.adapter))
    if rds.fallback_to_server_ip is not None:
        writes.append(
            present_value(registry_map.PROMPT_ON_IP_LEASE_FAIL, 0 if rds.fallback_to_server_ip else 1)
        )
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


def rds_request(rds: RdsIpVirtualization, *, check: bool, backup_dir: str) -> BuiltRequest:
    ops = [
        *facts_and_support(),
        rds_policy_get(),
        new_op("tsvip_get", TSVIP),
        registry_get(WINSOCK_KEY, registry_map.WINSOCK_FIX_KEY, ["AppFullPath", "PermittedLspCategories"]),
        # Read so that turning the feature off while PreferLoopback is still set can be called out.
        prefer_get(),
        restart.state_op(),
    ]
    writes: list[WriteSpec] = []
    if rds.enabled and rds.method == "policy" and rds.adapter is not None:
        # VIPAdapter picks the adapter whose address lies in the CIDR: one that matches none would
        # leave the feature on with no adapter, so refuse before the first write
        # (docs/windows-facts.md#vipadapter-selects-the-adapter-by-its-address).
        ops += [
            new_op("address_match", ADAPTER_MATCH, cidr=rds.adapter),
            new_op(
                "require",
                GUARD_ADAPTER,
                conditions=[cond(ADAPTER_MATCH, ["matched"], "in", [True])],
                message=(
                    f"adapter {rds.adapter} matches no IPv4 address of this host, so RD IP Virtualization "
                    "would select no adapter; give the CIDR of the network of the adapter the sessions' "
                    "addresses come from (vip_status shows the host's addresses)"
                ),
            ),
        ]
    if rds.install_role:
        ops.append(new_op("feature_install", WRITE_ROLE, name=RDS_ROLE))
        writes.append(WriteSpec(WRITE_ROLE, FEATURE_RDS, FEATURE_TARGET))
    if rds.enabled and rds.winsock_fix == "auto":
        # Renamed, not deleted, so rollback restores it; skipped when already renamed or never there.
        when = [
            *winsock_fix_conditions(FACTS),
            cond(WINSOCK_KEY, ["exists"], "in", [True]),
            cond(
                WINSOCK_KEY,
                ["values", "AppFullPath", "value"],
                "in",
                list(registry_map.WINSOCK_FIX_APP_FULL_PATHS),
            ),
            cond(
                WINSOCK_KEY,
                ["values", "PermittedLspCategories", "value"],
                "in",
                [registry_map.WINSOCK_FIX_LSP_CATEGORIES],
            ),
        ]
        ops.append(
            new_op(
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
            new_op(
                "registry_set",
                WRITE_RDS_POLICY,
                path=registry_map.RDS_POLICY_KEY,
                values=[v.to_protocol() for v in policy_values],
            )
        )
        writes.append(WriteSpec(WRITE_RDS_POLICY, FEATURE_RDS, registry_map.RDS_POLICY_KEY))
    wmi = rds_wmi_properties(rds)
    if wmi:
        op = new_op("tsvip_set", WRITE_TSVIP, properties=wmi)
        if rds.install_role:
            # WMI appears only once the role runs (after its restart); the task warns to rerun then.
            op["when"] = [cond(FACTS, ["rds_role_installed"], "in", [True])]
        ops.append(op)
        writes.append(WriteSpec(WRITE_TSVIP, FEATURE_RDS, WMI_TARGET))
    ops += restart.mark_ops([(w.op_id, RESTART_REASONS[w.op_id]) for w in writes])
    return BuiltRequest(new_request(ops, check=check, backup_dir=backup_dir), tuple(writes))
