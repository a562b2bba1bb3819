"""A change the host reports, which feature it belongs to, and the order of the features.

The host computes what changes (each write op compares before it writes and reports `changes`,
in check mode too), so there is no planner on the controller: a preview is the same request in
check mode. Order: IP virtualization -> loopback policy -> PreferLoopback when enabling; the
reverse when disabling, so PreferLoopback is written last and removed first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from vipctl.settings import CitrixLoopbackPolicy, PreferLoopback, RdsIpVirtualization

FEATURE_RDS: Final = "rds_ip_virtualization"
FEATURE_LOOPBACK: Final = "citrix_virtual_loopback"
FEATURE_PREFER: Final = "citrix_prefer_loopback"
ENABLE_ORDER: Final = (FEATURE_RDS, FEATURE_LOOPBACK, FEATURE_PREFER)
# Features whose every setting is read when Windows starts, so any change to them takes effect only
# after a restart (docs/windows-facts.md#rd-ip-virtualization-changes-need-a-restart).
RESTART_FEATURES: Final = frozenset({FEATURE_RDS})


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


def feature_order(enabling: bool) -> tuple[str, ...]:
    return ENABLE_ORDER if enabling else tuple(reversed(ENABLE_ORDER))


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
