"""The citrix_prefer_loopback request: both values or neither, after host-side guards that both
features are on (unless forced)."""

from __future__ import annotations

from typing import Final

from vipctl import registry_map
from vipctl.changes import FEATURE_LOOPBACK, FEATURE_PREFER, FEATURE_RDS
from vipctl.host_requests.common import (
    CITRIX_APPLIED,
    GUARD_LOOPBACK,
    GUARD_RDS_LOCAL,
    GUARD_RDS_POLICY,
    RDS_POLICY,
    TSVIP,
    WRITE_PREFER,
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
from vipctl.settings import PreferLoopback

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


def prefer_loopback_writes(prefer: PreferLoopback) -> list[RegistryWrite]:
    if not prefer.enabled:
        return [RegistryWrite(v.name, "absent", v.type) for v in registry_map.PREFER_LOOPBACK_VALUES]
    return [
        present_value(registry_map.PREFER_LOOPBACK, 1),
        present_value(registry_map.PREFER_LOOPBACK_PROCESSES, list(prefer.processes)),
    ]


def prefer_loopback_request(
    prefer: PreferLoopback, *, check: bool, backup_dir: str, assume_enabled: frozenset[str] = frozenset()
) -> BuiltRequest:
    """`assume_enabled` (check mode only): features an earlier task of the same run would enable,
    whose guards are left to the real run instead of refusing on the state before that task."""
    ops = [
        *facts_and_support(),
        rds_policy_get(),
        new_op("tsvip_get", TSVIP),
        registry_get(CITRIX_APPLIED, registry_map.CITRIX_APPLIED_VIP_KEY),
        prefer_get(),
    ]
    if prefer.enabled and not prefer.force and FEATURE_RDS not in assume_enabled:
        policy_enable = ["values", registry_map.ENABLE_VIRTUAL_IP.name, "value"]
        ops += [
            # Policy wins per value: if it sets EnableVirtualIP it must be 1; if absent, WMI must say active.
            new_op(
                "require",
                GUARD_RDS_POLICY,
                conditions=[cond(RDS_POLICY, policy_enable, "in", [1, None])],
                message=RDS_OFF_BY_POLICY_MESSAGE,
            ),
            new_op(
                "require",
                GUARD_RDS_LOCAL,
                when=[cond(RDS_POLICY, policy_enable, "in", [None])],
                conditions=[cond(TSVIP, ["properties", "VirtualIPActive"], "in", [1])],
                message=RDS_OFF_LOCALLY_MESSAGE,
            ),
        ]
    if prefer.enabled and not prefer.force and FEATURE_LOOPBACK not in assume_enabled:
        support = ["values", registry_map.CITRIX_APPLIED_LOOPBACK_SUPPORT.name, "value"]
        ops += [
            # The VDA cache value names are UNCONFIRMED: refuse only an explicit 0, warn when absent.
            new_op(
                "require",
                GUARD_LOOPBACK,
                conditions=[cond(CITRIX_APPLIED, support, "not_in", [0])],
                message=LOOPBACK_OFF_MESSAGE,
            ),
        ]
    ops.append(
        new_op(
            "registry_set",
            WRITE_PREFER,
            path=registry_map.PREFER_LOOPBACK_KEY,
            values=[w.to_protocol() for w in prefer_loopback_writes(prefer)],
        )
    )
    writes = (WriteSpec(WRITE_PREFER, FEATURE_PREFER, registry_map.PREFER_LOOPBACK_KEY),)
    return BuiltRequest(new_request(ops, check=check, backup_dir=backup_dir), writes)
