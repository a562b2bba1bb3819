"""The vip_status request: reads only."""

from __future__ import annotations

from vipctl import registry_map, restart
from vipctl.host_requests.common import (
    CITRIX_APPLIED,
    CITRIX_POLICY,
    FACTS,
    SESSIONS,
    TSVIP,
    WINSOCK_KEY,
    WINSOCK_RENAMED,
    BuiltRequest,
    cond,
    new_op,
    new_request,
    prefer_get,
    rds_policy_get,
    registry_get,
)
from vipctl.settings import StatusQuery


def status_request(query: StatusQuery) -> BuiltRequest:
    """Reads only; Citrix reads run only where the host has the VDA or the controller snap-in."""
    on_vda = [cond(FACTS, ["citrix_vda", "installed"], "in", [True])]
    on_controller = [cond(FACTS, ["citrix_controller", "installed"], "in", [True])]
    ops = [
        new_op("host_facts", FACTS),
        rds_policy_get(),
        new_op("tsvip_get", TSVIP),
        registry_get(WINSOCK_KEY, registry_map.WINSOCK_FIX_KEY, []),
        registry_get(WINSOCK_RENAMED, registry_map.WINSOCK_FIX_RENAMED_KEY, []),
        prefer_get(),
        registry_get(CITRIX_APPLIED, registry_map.CITRIX_APPLIED_VIP_KEY, when=on_vda),
        new_op("citrix_policy_get", CITRIX_POLICY, when=on_controller, **query.location.to_protocol()),
        new_op("sessions", SESSIONS),
        restart.state_op(),
    ]
    return BuiltRequest(new_request(ops, check=True, backup_dir=None))
