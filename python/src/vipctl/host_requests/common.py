"""What every module's executor request shares: op ids, the guards' messages, backup folders,
the registry-write description and the reads several modules make.

One file per module beside this one builds that module's single request (reads, host-side
guards, idempotent writes); `new_request` checks it through `codec.build_request`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from vipctl import registry_map
from vipctl.executor.codec import build_request
from vipctl.host_support import support_conditions

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
WRITE_ROLE: Final = "write_install_role"
WRITE_WINSOCK: Final = "write_winsock_fix"
WRITE_RDS_POLICY: Final = "write_rds_policy"
WRITE_TSVIP: Final = "write_tsvip"
WRITE_CITRIX: Final = "write_citrix_policy"
WRITE_PREFER: Final = "write_prefer_loopback"

UNSUPPORTED_MESSAGE: Final = "unsupported OS: vipctl changes only Windows Server 2016, 2019, 2022 and 2025"

RDS_ROLE: Final = "RDS-RD-Server"
WMI_TARGET: Final = r"WMI root\CIMv2\TerminalServices\Win32_TSVirtualIP"
FEATURE_TARGET: Final = "Windows feature"


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


def new_op(op: str, op_id: str, **args: Any) -> dict[str, Any]:
    return {"op": op, "id": op_id, **args}


def cond(ref: str, path: list[str], test: str, values: list[Any]) -> dict[str, Any]:
    return {"ref": ref, "path": ["data", *path], test: values}


def facts_and_support() -> list[dict[str, Any]]:
    return [
        new_op("host_facts", FACTS),
        new_op("require", SUPPORTED, conditions=support_conditions(FACTS), message=UNSUPPORTED_MESSAGE),
    ]


def registry_get(op_id: str, path: str, names: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    op = new_op("registry_get", op_id, path=path, **extra)
    if names is not None:
        op["names"] = names
    return op


def rds_policy_get() -> dict[str, Any]:
    return registry_get(
        RDS_POLICY, registry_map.RDS_POLICY_KEY, [v.name for v in registry_map.RDS_POLICY_VALUES]
    )


def prefer_get() -> dict[str, Any]:
    return registry_get(
        PREFER, registry_map.PREFER_LOOPBACK_KEY, [v.name for v in registry_map.PREFER_LOOPBACK_VALUES]
    )


def present_value(value: registry_map.RegistryValue, data: Any) -> RegistryWrite:
    return RegistryWrite(value.name, "present", value.type, data)
