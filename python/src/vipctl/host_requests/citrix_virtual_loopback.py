"""The citrix_virtual_loopback request: the policy as citrix_policy_set takes it, on a controller."""

from __future__ import annotations

from typing import Any, Final

from vipctl import registry_map
from vipctl.changes import FEATURE_LOOPBACK
from vipctl.host_requests.common import (
    CITRIX_POLICY,
    FACTS,
    IS_CONTROLLER,
    WRITE_CITRIX,
    BuiltRequest,
    WriteSpec,
    cond,
    new_op,
    new_request,
)
from vipctl.settings import CitrixLoopbackPolicy

NOT_CONTROLLER_MESSAGE: Final = (
    "not a Citrix Delivery Controller: the Citrix.Common.GroupPolicy snap-in is not registered; "
    "run this module on a controller (inventory group citrix_controllers)"
)


def citrix_policy_target(policy: CitrixLoopbackPolicy) -> str:
    where = policy.location.gpo if policy.location.scope == "ad_gpo" else "site"
    return f"Citrix policy {policy.location.policy_name!r} ({where})"


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


def citrix_loopback_request(policy: CitrixLoopbackPolicy, *, check: bool, backup_dir: str) -> BuiltRequest:
    address = policy.location.to_protocol()
    controller_condition = [cond(FACTS, ["citrix_controller", "installed"], "in", [True])]
    set_args: dict[str, Any] = {**address, "state": policy.state}
    if policy.state == "present":
        set_args["policy"] = citrix_policy_spec(policy)
    ops = [
        new_op("host_facts", FACTS),
        new_op("require", IS_CONTROLLER, conditions=controller_condition, message=NOT_CONTROLLER_MESSAGE),
        new_op("citrix_policy_get", CITRIX_POLICY, **address),
        new_op("citrix_policy_set", WRITE_CITRIX, **set_args),
    ]
    writes = (WriteSpec(WRITE_CITRIX, FEATURE_LOOPBACK, citrix_policy_target(policy)),)
    return BuiltRequest(new_request(ops, check=check, backup_dir=backup_dir), writes)
